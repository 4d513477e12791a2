"""``TextClassifier`` and ``SequenceClassifier``: the scikit-learn-style Python API.

>>> clf = TextClassifier(max_epochs=3).fit("reviews.csv", text="review", label="sentiment", out="runs")
>>> clf.predict(["a wonderful film", "dull and far too long"])      # array of the user's labels
>>> clf.predict_proba("new.csv")                                   # [N, C], columns as clf.classes_
>>> clf.evaluate("test.csv")["accuracy"]
>>> SequenceClassifier(unequal_length=True).fit("JapaneseVowels_TRAIN_long.csv")
>>> TextClassifier.load("runs/classify-20250101-120000")
"""
from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.config import flatten_config, train_block
from lstmkit.data.batching import BucketBatches, Ragged, truncate
from lstmkit.data.scaling import Scaler
from lstmkit.data.vocab import PAD_ID, UNK_ID, load_vectors, make_tokenizer, tokenizer_from_dict
from lstmkit.errors import LstmkitError
from lstmkit.nn.fcn import FCN_MODELS, LSTMFCNEnsemble, LSTMFCNNet, MemberLoss
from lstmkit.tasks.classify.augment import AUGMENTS, AugmentedBatches
from lstmkit.tasks.classify.classifier import EVAL_BATCH, TASK, Classifier
from lstmkit.tasks.classify.config import ClassifyConfig
from lstmkit.runs import atomic_write, read_meta
from lstmkit.tasks.classify.data import TextData, read_texts, warn_repeated_texts
from lstmkit.tasks.classify.series import SeriesData, read_series
from lstmkit.tasks.classify.wordscores import MIX_WEIGHTS, fit_biases, mix_losses, word_scores
from lstmkit.tasks.classify.transfer import (TRANSFER_DEFAULTS, GradualUnfreezing, check_settings, copy_weights,
                                             discriminative_groups, extended_tokenizer, lm_settings, read_lm)

__all__ = ["TextClassifier", "SequenceClassifier", "load_classifier", "TASK", "VOCAB_FILE", "SERIES_BUDGET",
           "ENCODER_DEFAULTS"]

VOCAB_FILE = "vocab.json"
SERIES_BUDGET = 8.0      # million series-steps per fit: <= ~3.5 min of one CPU thread (GunPoint 1067 epochs, OSULeaf 94)
# The --series defaults when a zoo encoder is chosen (--model lstm, ...) instead of LSTM-FCN.
ENCODER_DEFAULTS = {"max_len": None, "embed_dim": 64, "hidden_size": 64, "dropout": 0.1, "pooling": "mean",
                    "max_epochs": 200, "batch_size": 16, "patience": 40, "lr_patience": 15}

MIN_WINDOW = 8        # steps: the LSTM-FCN's first convolution kernel; a --crop window shorter is warned of


class TextClassifier(Classifier):
    """Classify texts: tokenizer + vocabulary → embedding → zoo encoder (bilstm) → pooling → head.

    Hyper-parameters: a :class:`~lstmkit.config.ClassifyConfig` and/or any of its fields and
    :class:`~lstmkit.config.TrainConfig`'s as keyword arguments (listed below).

    Data: a CSV / TSV / JSONL path (columns ``text`` and ``label``, or as configured), a folder
    with one sub-folder of ``.txt`` files per class, a DataFrame, or a list of texts with ``y``.

    ``init_from="runs/lm-…"`` (an ``lstmkit lm`` run, word level, LSTM) starts the embedding and
    encoder from the language model's weights (ULMFiT, :mod:`lstmkit.tasks.classify.transfer`):
    its vocabulary, its sizes and a one-directional LSTM, concat pooling, gradual unfreezing and
    per-layer learning rates; ``lstmkit.json`` records the LM's folder and weight fingerprint.

    Fitted attributes: ``config_``, ``classes_`` (sorted label strings), ``tokenizer_``, ``net_``,
    ``result_`` (training history), ``metrics_`` (validation, and test when given), ``data_summary_``.
    """

    kind = "text"
    # Chosen on MR's validation cut (benchmarks/mr.py; short texts, 10k sentences): a small network,
    # whole-token dropout and longer training with patience beat the generic settings by ~2 points;
    # naive-Bayes word and word-pair scores mixed in after training by ~4 more (see word_scores).
    _defaults = {"embed_dim": 64, "hidden_size": 64, "dropout": 0.4, "word_dropout": 0.4, "pooling": "max-mean",
                 "max_epochs": 30, "patience": 4, "lr": 2e-3, "word_scores": True}

    def attention(self, text: str) -> tuple[list[str], np.ndarray, str, float]:
        """``(tokens, weights [T], label, probability)`` for one text; needs attention pooling."""
        self._check_fitted()
        if self.config_.pooling != "attention":
            raise LstmkitError(f"this model pools with {self.config_.pooling!r}, so it has no attention weights",
                               "train with --pooling attention to get the token-weight view")
        if not text.strip():
            raise LstmkitError("the text is empty", "pass some words with --text")
        cfg = self.config_
        ids = truncate(self.tokenizer_.encode(text), cfg.max_len, cfg.truncate)
        tokens = truncate(self.tokenizer_.pieces(text), cfg.max_len, cfg.truncate)
        with torch.no_grad():
            logits, weights = self.net_.forward_with_weights(torch.tensor([ids]), torch.tensor([len(ids)]))
        p = self._proba([torch.tensor(ids)])[0]
        return list(tokens), weights[0].double().numpy(), self.classes_[int(p.argmax())], float(p.max())

    def write_attention(self, text: str, path: str | Path) -> Path:
        """Write the coloured-token view of ``text`` to ``path`` (``.html`` or ``.png``)."""
        from lstmkit.tasks.classify.view import write_attention
        tokens, weights, label, p = self.attention(text)
        return write_attention(tokens, weights, path, title=f"predicted {label!r} (p = {p:.3f})")

    def _read(self, data, cfg, y=None, require_label=True, droppable=True) -> TextData:
        d = read_texts(data, cfg.text, cfg.label, cfg.encoding, cfg.drop_empty, require_label=require_label, y=y,
                       droppable=droppable)
        if require_label and d.labels is None:
            raise LstmkitError("the data has no labels",
                               "use a table with a label column (--label NAME), or in Python pass the labels as y")
        return d

    @classmethod
    def _resolve_config(cls, config, overrides: dict[str, Any]):
        """With ``init_from`` given to the constructor, the settings left out come from the
        language model (sizes, tokenizer, ``lstm``) and :data:`TRANSFER_DEFAULTS`; given ones that
        differ from the LM's are an error."""
        if config is None and overrides.get("init_from"):
            given = {*overrides, *train_block(overrides.get("train"))}
            start = {k: v for k, v in TRANSFER_DEFAULTS.items() if k not in given}
            want = {"embed_dim", "hidden_size", "num_layers", "tokenizer", "model"}
            if not want <= given:               # a saved run gives every setting: no LM to read
                lm = lm_settings(overrides["init_from"])
                check_settings(overrides["init_from"], {k: lm[k] for k in want & given}, overrides,
                               "drop {flag} (a classifier started from a language model takes its {flag} {value})")
                start.update({k: v for k, v in lm.items() if k not in given})
            config = super()._resolve_config(None, start)
        return super()._resolve_config(config, overrides)

    def _fit_preprocessing(self, train: TextData, cfg) -> None:
        if cfg.init_from:
            self.lm_start_ = read_lm(cfg.init_from)
            check_settings(cfg.init_from, self.lm_start_.settings, cfg.to_dict(),
                           "pass init_from to TextClassifier(...) itself (it then takes the LM's settings), "
                           "or {flag} {value}")
            self.tokenizer_ = extended_tokenizer(self.lm_start_, train.texts, cfg.min_freq, cfg.max_size)
            self.init_from_ = {**self.lm_start_.record(), "vocab": self.lm_start_.tokenizer.vocab_size,
                               "words_added": self.tokenizer_.vocab_size - self.lm_start_.tokenizer.vocab_size}
        else:
            self.tokenizer_ = make_tokenizer(cfg.tokenizer, cfg.min_freq, cfg.max_size, cfg.lowercase)
            self.tokenizer_.fit(train.texts)
            self.init_from_ = None
        encoded = self._encode(train)                  # read once: the vocabulary check and the word scores
        self._check_vocabulary(train, encoded.values, cfg)
        if cfg.word_scores:
            index = {c: k for k, c in enumerate(self.classes_)}
            self.word_scores_ = word_scores(encoded, [index[v] for v in train.labels], len(self.classes_),
                                            self.tokenizer_.vocab_size, cfg.score_pairs)

    def _check_vocabulary(self, train: TextData, ids: torch.Tensor, cfg) -> None:
        """An error when the vocabulary kept no word of the training texts (``min_freq`` above
        every word's count: each text would read as unknown words), a warning when it misses
        nine tenths of their words."""
        if not hasattr(self.tokenizer_, "tokens"):                # BPE: every text splits into known pieces
            return
        vocab = self.tokenizer_.vocab
        unknown = float((ids == UNK_ID).float().mean()) if len(ids) else 0.0
        if unknown < 0.9:
            return
        counts = Counter(t for text in train.texts for t in self.tokenizer_.tokens(text))
        top = max(counts.values(), default=0)
        if len(vocab) <= 2:                                       # max_size >= 3 keeps a word: min_freq did it
            raise LstmkitError(f"--min-freq {cfg.min_freq} keeps no word of the training texts (the most frequent "
                               f"is seen {top} times): every text would read as unknown words",
                               f"pass --min-freq {min(2, max(top, 1))} (rarer words become unknown)")
        what = f"--min-freq {cfg.min_freq}" + (f", --max-size {cfg.max_size}" if cfg.max_size else "")
        warnings.warn(f"{unknown:.0%} of the training texts' words are unknown to the vocabulary ({what}; the most "
                      f"frequent word is seen {top} times): the model sees little of the texts; lower --min-freq",
                      UserWarning, stacklevel=4)

    def _after_training(self, seqs: list[torch.Tensor], y: torch.Tensor) -> None:
        """With ``word_scores``: the weights of the trained LSTM's logits and of the word-score sum,
        the pair of ``MIX_WEIGHTS`` with the lowest log loss on the validation part, each pair with
        the class bias that is best for it (:func:`fit_bias`; the word scores carry no class prior,
        so on skewed classes a mix without one would rather drop the words than lose the prior).
        The loss is weighted as training's was (``class_weight``). Fitted after training, on texts
        the table was not counted on, so the table's in-sample confidence does not leak into the
        LSTM's training. With nothing held out (``val_frac=0``) there is nothing honest to fit on:
        the mix stays (1, 0), the LSTM alone, and ``lstmkit.json`` says so. The bias goes into the
        head's bias (divided by the LSTM's weight), so the network's shape and graph stay as they are."""
        if not self.config_.word_scores:
            return
        if not seqs:
            self.data_summary_["word_score_mix"] = [1.0, 0.0]
            self.data_summary_["word_score_note"] = "nothing held out to fit the mix on: the LSTM alone"
            return
        net = self.net_
        net.eval()
        with torch.no_grad():
            net.mix.copy_(torch.tensor([1.0, 0.0]))
            logits, scores, order = [], [], []
            for idx, x, lengths in BucketBatches(seqs, None, EVAL_BATCH, pad_value=PAD_ID).iter_indexed():
                logits.append(net(x, lengths).reshape(len(idx), -1))
                scores.append(net.word_score_sum(x))
                order.append(idx)
            order = torch.cat(order)
            logits, scores, y = torch.cat(logits), torch.cat(scores), y[order]
        weights = None if self.class_weights_ is None else torch.tensor(self.class_weights_)
        grid = torch.tensor(MIX_WEIGHTS, dtype=torch.float64)
        biases, losses = [], []
        for part in grid.split(41):                                     # [G, N, K] at a time, G <= 41
            z = part[:, 0, None, None] * logits.double() + part[:, 1, None, None] * scores.double()
            b = fit_biases(z, y, weights)
            biases.append(b)
            losses.append(mix_losses(z + b[:, None, :], y, weights))
        k = int(torch.cat(losses).argmin())
        best, bias = MIX_WEIGHTS[k], torch.cat(biases)[k].float()
        with torch.no_grad():
            net.mix.copy_(torch.tensor(best))
            net.head.bias += bias / best[0]
        self.data_summary_["word_score_mix"] = list(best)
        self.data_summary_["word_score_bias"] = [round(float(v), 4) for v in bias]

    def _warn_overlap(self, train: TextData, part: TextData, what: str) -> None:
        warn_repeated_texts(train.texts, part.texts, what)

    def _encode(self, d: TextData) -> Ragged:
        return self.encode_texts(d.texts)

    def encode_texts(self, texts: list[str]) -> Ragged:
        """The token ids of every text (truncated), end to end: batched without a tensor per text
        (each text's ids are those of ``tokenizer_.encode``)."""
        ids, lengths = self.tokenizer_.encode_many(texts)
        return Ragged(torch.from_numpy(ids), torch.from_numpy(lengths)).truncate(self.config_.max_len,
                                                                                  self.config_.truncate)

    def _net_shape(self) -> dict[str, int]:
        return {"vocab_size": self.tokenizer_.vocab_size}

    def _start_weights(self, cfg) -> list:
        if cfg.word_scores:
            with torch.no_grad():
                self.net_.word_scores.copy_(self.word_scores_)
                self.net_.mix.copy_(torch.tensor([1.0, 0.0]))    # the LSTM trains alone; see _after_training
        if cfg.init_from:
            copy_weights(self.net_, self.lm_start_)
            net, decay = self.net_, cfg.lr_layer_decay
            net.param_groups = lambda lr: discriminative_groups(net, lr, decay)    # read by the trainer
            return [GradualUnfreezing(net, cfg.unfreeze_epochs)]
        if not cfg.vectors:
            return []
        vectors, n_found = load_vectors(cfg.vectors, self.tokenizer_.vocab, seed=cfg.train.seed)
        if vectors.shape[1] != cfg.embed_dim:
            # The file decides the embedding width; rebuild the net at that width.
            self.config_.embed_dim = int(vectors.shape[1])
            torch.manual_seed(cfg.train.seed)
            self.net_ = self._build_net()
        self.data_summary_["vectors_found"] = int(n_found)
        with torch.no_grad():
            self.net_.embedding.weight.copy_(vectors)
        self.net_.embedding.weight.requires_grad_(not cfg.freeze_vectors)
        return []

    def _preprocessing_meta(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer_.kind, "vocab_file": VOCAB_FILE, "vocab_size": self.tokenizer_.vocab_size,
                "init_from": getattr(self, "init_from_", None)}

    def _write_state(self, run_dir: Path) -> None:
        state = self.tokenizer_.to_dict()
        atomic_write(run_dir / VOCAB_FILE,
                     lambda tmp: Path(tmp).write_text(json.dumps(state, ensure_ascii=False) + "\n", encoding="utf-8"))

    def _load_state(self, run_dir: Path, meta) -> None:
        self.init_from_ = meta.get("preprocessing", {}).get("init_from")
        p = run_dir / VOCAB_FILE
        if not p.is_file():
            raise LstmkitError(f"{run_dir} has no {VOCAB_FILE}", "the run folder is incomplete; retrain the model")
        try:
            self.tokenizer_ = tokenizer_from_dict(json.loads(p.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, KeyError, TypeError):
            raise LstmkitError(f"{p} is corrupt", "retrain the model") from None


class SequenceClassifier(Classifier):
    """Classify numeric sequences (univariate or multivariate, equal or unequal length). Features
    are standardised on train only.

    By default the model is LSTM-FCN as published (``model="lstm-fcn-ds"``,
    :class:`~lstmkit.nn.fcn.LSTMFCNNet`: an 8-cell LSTM over the dimension-shuffled series beside
    three convolutional blocks) with its UCR protocol, except for the schedule: no holdout
    (``val_frac=0``: the lowest training loss picks the weights, as the paper does), Adam at 1e-3
    with no gradient clipping (clipping at 1.0 cost ArrowHead 0.76 vs 0.86), up to 2000 epochs,
    capped on long data by ``budget`` (million series-steps, a few CPU minutes; see
    :meth:`epochs_for`). The learning rate is cosine-annealed to 0 over those epochs rather than
    lowered on plateaus: capped runs are far shorter than the paper's 2000 epochs, and annealing
    converges within them (OSULeaf, 94 epochs, on a validation split of its TRAIN file: 0.983).
    Batches of 16, not the paper's 128, so that the capped epochs still make enough updates.
    ``ensemble=k`` trains k LSTM-FCNs side by side (each on its own loss, sharing the budget) and
    answers with their averaged probabilities; not the default: on ArrowHead, 4 nets of a quarter
    budget each scored below one net (docs/benchmarks.md, ``## UCR``).
    Each training series is scaled and smoothly time-warped at every batch
    (``augment="scale-warp"``, :mod:`lstmkit.tasks.classify.augment`; never at evaluation or
    prediction; ``augment="none"`` turns it off): on ArrowHead's TRAIN file it was right on 4 more
    of 72 held-out series (3 folds × 2 splits) with a lower log loss, and lost nothing on
    GunPoint's (docs/benchmarks.md, ``## UCR``). Options validated there and not adopted (no
    more held-out series right than these defaults): ``crop=0.9``, window slicing (Le Guennec et
    al. 2016; :class:`~lstmkit.nn.fcn.LSTMFCNNet`: training reads a random window of 90 % of each
    series, prediction averages the probabilities of ``crops`` evenly spaced windows), and
    ``augment="scale-warp-2x"`` (twice the augmentation's magnitudes). Any
    zoo encoder can be chosen instead (``model="lstm"``, ``pooling="last"``…: linear front-end →
    encoder → pooling → head), with the recurrent defaults of :data:`ENCODER_DEFAULTS`. Settings
    the caller gives always win; giving ``max_epochs`` alone turns the budget off; with
    ``lr_schedule="plateau"`` the paper's schedule applies (×1/cbrt(2) after 100 epochs without a
    lower loss).

    Data: UCR ``.tsv`` (label first, one series per line), long-format ``.csv`` or DataFrame
    (``sample, t, features…, label``), or arrays ``[N, T]`` / ``[N, T, F]`` / a list of
    ``[T_i, F]`` with labels ``y``. Same hyper-parameters and attributes as
    :class:`TextClassifier`, with ``scaler_`` instead of ``tokenizer_`` and ``steps_`` (the
    longest training sequence: the LSTM-FCN's LSTM reads that many values per feature).
    """

    kind = "series"
    _defaults = {"max_len": None, "model": "lstm-fcn-ds", "hidden_size": 8, "dropout": 0.8, "val_frac": 0.0,
                 "budget": SERIES_BUDGET, "max_epochs": 2000, "batch_size": 16, "lr": 1e-3,
                 "lr_schedule": "cosine", "lr_factor": round(2 ** (-1 / 3), 4), "lr_patience": 100, "patience": 300,
                 "clip_norm": None, "pooling": "mean",       # pooling, embed_dim: unused by lstm-fcn-ds (its FCN averages)
                 "augment": "scale-warp"}

    @classmethod
    def _resolve_config(cls, config, overrides: dict[str, Any]):
        given = {*overrides, *train_block(overrides.get("train"))}
        model = overrides.get("model", cls._defaults["model"] if config is None else getattr(config, "model", None))
        if config is None and model not in FCN_MODELS:
            config = cls._family_config(fcn=False)
        elif isinstance(config, ClassifyConfig) and config.series and (config.model in FCN_MODELS) != (model in FCN_MODELS):
            config = cls._moved_to_family(config, fcn=model in FCN_MODELS)
        cfg = super()._resolve_config(config, overrides)
        if "max_epochs" in given and "budget" not in given:
            cfg.budget = None                       # an epoch count the caller gave is the epoch count
        return cfg

    @classmethod
    def _family_config(cls, fcn: bool) -> ClassifyConfig:
        """The defaults of LSTM-FCN (``fcn``) or of a zoo encoder (:data:`ENCODER_DEFAULTS`)."""
        return super()._resolve_config(ClassifyConfig(), cls._defaults if fcn else ENCODER_DEFAULTS)

    @classmethod
    def _moved_to_family(cls, config: ClassifyConfig, fcn: bool) -> ClassifyConfig:
        """``config`` (of the other family of models) with each setting still at that family's
        default moved to this one's: ``set_params(model="lstm")`` on LSTM-FCN's defaults gives
        what ``SequenceClassifier(model="lstm")`` gives (not an 8-cell LSTM at dropout 0.8); a
        setting the caller changed is kept."""
        old, new = (flatten_config(cls._family_config(f).to_dict()) for f in (not fcn, fcn))
        now = flatten_config(config.to_dict())
        moved = {k: v for k, v in new.items() if k != "model" and old.get(k) != v and now.get(k) == old.get(k)}
        return super()._resolve_config(config, moved)

    @staticmethod
    def epochs_for(cfg, n_series: int, steps: int) -> int:
        """The epochs a fit runs: ``max_epochs``, capped at ``budget`` million series-steps shared
        by the ensemble's members (``budget·1e6 / (members × series × steps)``, at least 20) so
        long data trains in minutes."""
        if cfg.budget is None:
            return cfg.train.max_epochs
        return min(cfg.train.max_epochs, max(20, round(cfg.budget * 1e6 / (cfg.ensemble * n_series * steps))))

    def _read(self, data, cfg, y=None, require_label=True, droppable=True) -> SeriesData:
        d = read_series(data, y, cfg.label, cfg.sample, cfg.time, cfg.features, cfg.unequal_length,
                        cfg.encoding, require_label=require_label)
        if require_label and d.labels is None:
            raise LstmkitError("the data has no labels", "use a file with labels (a --label column, or UCR's label "
                                                         "first), or in Python pass the labels as y")
        return d

    def _check_like_training(self, d: SeriesData, what: str) -> None:
        """The features per step that training had (other lengths are read: the LSTM-FCN cuts or
        zero-pads them to ``steps_``, by design)."""
        n = self.scaler_.n_columns_
        if d.seqs[0].shape[1] != n:
            raise LstmkitError(f"{what} has {d.seqs[0].shape[1]} features per step, the model was trained on {n}",
                               "pass data with the training features" + (f" ({', '.join(self.feature_names_[:8])})"
                                                                         if self.feature_names_ else ""))
        lengths = np.array([len(s) for s in d.seqs])
        off = lengths != self.steps_
        if self.steps_ and not self.config_.unequal_length and self.config_.model in FCN_MODELS and off.any():
            warnings.warn(f"{what}: {int(off.sum())} of {len(lengths)} sequences are not {self.steps_} steps long as "
                          f"the training sequences were (lengths {lengths.min()}-{lengths.max()}): the model's LSTM "
                          f"reads their first {self.steps_} steps, zero-padded when shorter, so its answers on them "
                          "may be off; train with sequences of the lengths you will classify (--unequal-length "
                          "when they differ)", UserWarning, stacklevel=3)

    def _fit_preprocessing(self, train: SeriesData, cfg) -> None:
        self.scaler_ = Scaler(cfg.scaler).fit(np.concatenate(train.seqs, axis=0))
        self.feature_names_ = list(train.feature_names)
        longest = max(len(s) for s in train.seqs)
        self.steps_ = min(longest, cfg.max_len) if cfg.max_len else longest
        cfg.train.max_epochs = self.epochs_for(cfg, len(train.seqs), self.steps_)   # recorded in lstmkit.json
        width = math.floor(cfg.crop * self.steps_ + 0.5)
        if cfg.crop < 1 and cfg.model in FCN_MODELS and width < MIN_WINDOW:
            warnings.warn(f"--crop {cfg.crop:g} reads windows of {max(width, 1)} step{'s' * (width > 1)} of the "
                          f"{self.steps_}-step series: too short to show a shape (the first convolution spans "
                          f"{MIN_WINDOW}); pass --crop 0.8 to 0.9", UserWarning, stacklevel=4)

    def _encode(self, d: SeriesData) -> Ragged | list:
        """The scaled series (truncated), end to end: batched without a tensor per series."""
        cfg = self.config_
        if not d.seqs:
            return []
        scaled = self.scaler_.transform(np.concatenate(d.seqs, 0))          # one call: row by row, as per sequence
        lengths = torch.tensor([len(s) for s in d.seqs], dtype=torch.long)
        return Ragged(torch.from_numpy(scaled.astype(np.float32)), lengths).truncate(cfg.max_len, cfg.truncate)

    def _net_shape(self) -> dict[str, int]:
        return {"n_features": self.scaler_.n_columns_}

    def _preprocessing_meta(self) -> dict[str, Any]:
        return {"scaler": self.scaler_.to_dict(), "features": self.feature_names_, "steps": self.steps_}

    def _load_state(self, run_dir: Path, meta) -> None:
        self.scaler_ = Scaler.from_dict(meta["preprocessing"]["scaler"])
        self.feature_names_ = meta["preprocessing"].get("features", [])
        self.steps_ = meta["preprocessing"].get("steps")

    def _build_net(self):
        cfg = self.config_
        if cfg.model not in FCN_MODELS:
            return super()._build_net()
        if not self.steps_:
            raise LstmkitError("the run records no series length for its LSTM-FCN", "retrain the model")
        shape = dict(n_features=self.scaler_.n_columns_, steps=self.steps_, hidden_size=cfg.hidden_size,
                     num_layers=cfg.num_layers, dropout=cfg.dropout, crop=cfg.crop, crops=cfg.crops)
        if cfg.ensemble > 1:
            return LSTMFCNEnsemble(len(self.classes_), members=cfg.ensemble, **shape)
        return LSTMFCNNet(len(self.classes_), **shape)

    def _training_batches(self, batches):
        if self.config_.augment == "none":
            return batches
        return AugmentedBatches(batches, AUGMENTS[self.config_.augment])

    def _loss_fn(self, loss):
        members = getattr(self.net_, "members", 1)
        return MemberLoss(loss, members) if members > 1 else loss


def load_classifier(path: str | Path) -> TextClassifier | SequenceClassifier:
    """Load a classify run folder with the class that wrote it."""
    return Classifier.class_for(read_meta(path, TASK), path).load(path)
