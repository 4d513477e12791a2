"""``TextClassifier`` and ``SequenceClassifier``: the scikit-learn-style Python API.

>>> clf = TextClassifier(max_epochs=3).fit("reviews.csv", text="review", label="sentiment", out="runs")
>>> clf.predict(["a wonderful film", "dull and far too long"])      # array of the user's labels
>>> clf.predict_proba("new.csv")                                   # [N, C], columns as clf.class_names_
>>> clf.evaluate("test.csv")["accuracy"]
>>> SequenceClassifier(unequal_length=True).fit("JapaneseVowels_TRAIN_long.csv")
>>> TextClassifier.load("runs/classify-20250101-120000")
"""
from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Self, Unpack

import numpy as np
import torch

from lstmkit.config import train_block
from lstmkit.data.batching import BucketBatches, Ragged, truncate
from lstmkit.data.columns import one_text
from lstmkit.data.decoding import whole_characters
from lstmkit.data.vectors import load_vectors
from lstmkit.data.vocab import PAD_ID, UNK_ID, make_tokenizer, tokenizer_from_dict
from lstmkit.estimator_params import public_call
from lstmkit.errors import LstmkitError, callers_level, opt, percent, worded
from lstmkit.tasks.classify.classifier import EVAL_BATCH, TASK, Classifier
from lstmkit.tasks.classify.config import TEXT_DEFAULTS, ClassifyConfig, TextClassifierParams
from lstmkit.runs import atomic_write, read_meta, read_state_file
from lstmkit.tasks.classify.data import TextData, read_texts, text_table, warn_conflicting_labels, warn_repeated_texts
from lstmkit.tasks.classify.series_estimator import ENCODER_DEFAULTS, SERIES_BUDGET, SequenceClassifier
from lstmkit.tasks.classify.wordscores import MIX_WEIGHTS, fit_biases, word_scores
from lstmkit.train.calibration import log_losses
from lstmkit.tasks.classify.transfer import (TRANSFER_DEFAULTS, GradualUnfreezing, check_settings, copy_weights,
                                             discriminative_groups, extended_tokenizer, lm_settings, read_lm)
from lstmkit.train.memory import built_within_memory

__all__ = ["TextClassifier", "SequenceClassifier", "load_classifier", "TASK", "VOCAB_FILE", "SERIES_BUDGET",
           "ENCODER_DEFAULTS"]

VOCAB_FILE = "vocab.json"


UNKNOWN_SHARE = 0.5      # texts to predict whose words are unknown at least this often are warned of
# texts holding no known word are warned of when they are this share of the texts or more (any of fewer than 100):
# the training file itself holds a few whose every word fell under min_freq (4 of MR's 2,999), not another language
NONE_KNOWN = 0.01


def _text_place(k: int) -> str:
    """How a note names the text at place ``k`` (from 0) when the caller names none: ``text k+1``."""
    return f"text {k + 1}"


class TextClassifier(Classifier):
    """Classify texts: tokenizer + vocabulary → embedding → zoo encoder (bilstm) → pooling → head.

    Hyper-parameters: a :class:`~lstmkit.config.ClassifyConfig` and/or any of its fields and
    :class:`~lstmkit.config.TrainConfig`'s as keyword arguments (listed below).

    Data: a CSV / TSV / JSONL path (columns ``text`` and ``label``, or as configured), a folder
    with one sub-folder of ``.txt`` files per class, a fastText file (``__label__pos text`` lines:
    Amazon / Yelp polarity's ``train.ft.txt``), a headerless class-index CSV (Zhang et al. 2015: AG
    News, DBpedia, Yahoo Answers, Yelp, Amazon; ``classes.txt`` beside it names the classes), a
    DataFrame, or a list of texts with ``y``. ``predict`` reads the same files' texts, their labels
    ignored (:mod:`lstmkit.data.textsets`).

    ``init_from="runs/lm-…"`` (an ``lstmkit lm`` run, word level, LSTM) starts the embedding and
    encoder from the language model's weights (ULMFiT, :mod:`lstmkit.tasks.classify.transfer`):
    its vocabulary, its sizes and a one-directional LSTM, concat pooling, gradual unfreezing and
    per-layer learning rates; ``lstmkit.json`` records the LM's folder and weight fingerprint.

    Fitted attributes: ``config_``, ``classes_`` (the labels in ``predict_proba``'s column order;
    ``class_names_``: as strings), ``tokenizer_``, ``net_``, ``result_`` (training history),
    ``metrics_`` (validation, and test when given), ``data_summary_``.
    """

    kind = "text"
    _ANSWERS = "predict(texts), their labels, and predict_proba(texts), their probabilities"
    _INPUT_TAGS = {"one_d_array": True, "two_d_array": False, "string": True}     # X: texts, one per row
    _defaults = TEXT_DEFAULTS           # chosen on MR's validation cut (classify.config says how)

    def __init__(self, config: ClassifyConfig | None = None, **params: Unpack[TextClassifierParams]) -> None:
        super().__init__(config, **params)     # here to type the parameters (RunEstimator's docstring)

    if TYPE_CHECKING:   # Classifier.fit runs; its settings for one fit are this kind's keywords, typed (narrower
        # than the base's Any: the override a checker refuses, meant)
        def fit(self, data, y=None, *, sample_weight=None, val_data=None, test_data=None,  # type: ignore[override]
                out: str | Path | None = None, run_dir: str | Path | None = None, resume: bool = False, callbacks=(),
                **overrides: Unpack[TextClassifierParams]) -> Self: ...

        def set_params(self, **params: Unpack[TextClassifierParams]) -> Self: ...

    def _check_sample_weight(self, sample_weight, n: int, cfg, what: str = "sample_weight") -> np.ndarray:
        """Refused with ``word_scores`` (the default): its naive-Bayes tables count the texts of each
        class holding a word, which a weight cannot scale without changing what the table means.
        The weights of ``val_data=(X, y, w)`` are taken (the mix of the word scores is fitted on the
        validation part, weighted by them as its loss is)."""
        if cfg.word_scores and what == "sample_weight":
            raise LstmkitError("sample_weight weighs the network's loss, and this TextClassifier's naive-Bayes word "
                               "scores (word_scores=True, the default) count texts unweighted",
                               "pass word_scores=False to train with sample_weight, or class_weight='balanced' "
                               "to weigh the classes")
        return super()._check_sample_weight(sample_weight, n, cfg, what)

    def attention(self, text: str) -> tuple[list[str], np.ndarray, str, float]:
        """``(tokens, weights [T], label, probability)`` for one text ``text`` (a string): the tokens the
        network reads (:meth:`token_inputs`), the attention-pooling weight of each, the label it answers
        and that label's probability; needs attention pooling (``pooling="attention"``)."""
        with public_call():
            self._check_fitted()
            if self.config_.pooling != "attention":
                own = self.config_.model in ("lstm-attention", "transformer")     # its encoder's self-attention
                raise LstmkitError(f"this model pools with {self.config_.pooling!r}, so it has no attention-pooling "
                                   "weights", f"train with {opt('pooling', 'attention')} to get the token-weight view"
                                   + (f"; its {self.config_.model} encoder's self-attention: "
                                      + worded(f"lstmkit inspect attention --run {self.run_dir_} --text '…'",
                                               "lstmkit.inspect.attention(model, text)") if own else ""))
            tokens, ids = self.token_inputs(text)
            with torch.no_grad():
                logits, weights = self.net_.forward_with_weights(torch.tensor([ids]), torch.tensor([len(ids)]))
            p = self._proba([torch.tensor(ids)])[0]
            return list(tokens), weights[0].double().numpy(), self.class_names_[int(p.argmax())], float(p.max())

    def token_inputs(self, text: str) -> tuple[list[str], list[int]]:
        """``(tokens, ids)``: what the network reads of ``text`` (cut to ``max_len``), one token per id; a
        text longer than that is one warning saying which part is read (its gates' and attention's
        columns ran on from its first half to its last with nothing marking the cut)."""
        with public_call():
            self._check_fitted()
            text = one_text(text, worded("pass some words with --text", "pass some words"))
            text = whole_characters([text], "text")[0]
            cfg = self.config_
            whole = self.tokenizer_.encode(text)
            ids = truncate(whole, cfg.max_len, cfg.truncate)
            if len(ids) < len(whole):
                head = (cfg.max_len + 1) // 2
                part = {"head": f"its first {cfg.max_len}", "tail": f"its last {cfg.max_len}"}.get(
                    cfg.truncate, f"its first {head} and its last {cfg.max_len - head}, side by side")
                warnings.warn(f"the text has {len(whole):,} tokens, more than the run's max_len={cfg.max_len}: the "
                              f"network reads {part} (truncate={cfg.truncate!r}), and what is shown of it is of those",
                              UserWarning, stacklevel=callers_level())
            return list(truncate(self.tokenizer_.pieces(text), cfg.max_len, cfg.truncate)), list(ids)

    def write_attention(self, text: str, path: str | Path) -> Path:
        """Write the coloured-token view of ``text`` (:meth:`attention`) to ``path``, an ``.html`` page or a
        ``.png``, ``.svg`` or ``.pdf`` picture by its suffix; returns ``path``."""
        from lstmkit.tasks.classify.view import write_attention
        with public_call():
            tokens, weights, label, p = self.attention(text)
            return write_attention(tokens, weights, path, title=f"predicted {label!r} (p = {p:.3f})")

    def _read(self, data, cfg, y=None, require_label=True, droppable=True) -> TextData:
        d = read_texts(data, cfg.text, cfg.label, cfg.encoding, cfg.drop_empty, require_label=require_label, y=y,
                       droppable=droppable)
        if d.columns is not None:                   # read from a table's two columns: kept for the other parts and predict
            cfg.text, cfg.label = d.columns
        if require_label and d.labels is None:
            raise LstmkitError("the data has no labels",
                               worded("use a table with a label column (--label NAME), or in Python pass the labels as y",
                                      "pass the labels as y, or use a table with a label column (label='NAME')"))
        return d

    def _table_reader(self, cfg) -> Callable[[Path], Any]:
        return partial(text_table, encoding=cfg.encoding)

    @classmethod
    def _resolve_config(cls, config, overrides: dict[str, Any]):
        """With ``init_from`` given to the constructor, the settings left out come from the
        language model (sizes, tokenizer, ``lstm``) and :data:`TRANSFER_DEFAULTS`; given ones that
        differ from the LM's are an error."""
        # an init_from of another type (5, a list) is the config's type check's to refuse, naming the setting
        if config is None and isinstance(overrides.get("init_from"), (str, os.PathLike)) and overrides["init_from"]:
            given = {*overrides, *train_block(overrides.get("train"))}
            start = {k: v for k, v in TRANSFER_DEFAULTS.items() if k not in given}
            want = {"embed_dim", "hidden_size", "num_layers", "tokenizer", "model"}
            if not want <= given:               # a saved run gives every setting: no LM to read
                lm = lm_settings(overrides["init_from"])
                check_settings(overrides["init_from"], {k: lm[k] for k in want & given}, overrides,
                               "drop {flag} (a classifier started from a language model takes its {setting})")
                start.update({k: v for k, v in lm.items() if k not in given})
            config = super()._resolve_config(None, start)
        return super()._resolve_config(config, overrides)

    def _fit_preprocessing(self, train: TextData, cfg) -> Ragged:
        if cfg.init_from:
            self.lm_start_ = read_lm(cfg.init_from)
            check_settings(cfg.init_from, self.lm_start_.settings, cfg.to_dict(),
                           "pass init_from to TextClassifier(...) itself (it then takes the LM's settings), "
                           "or {setting}")
            self.tokenizer_ = extended_tokenizer(self.lm_start_, train.texts, cfg.min_freq, cfg.max_size)
            self.init_from_ = {**self.lm_start_.record(), "vocab": self.lm_start_.tokenizer.vocab_size,
                               "words_added": self.tokenizer_.vocab_size - self.lm_start_.tokenizer.vocab_size}
            encoded = self._encode(train)
        else:
            self.tokenizer_ = make_tokenizer(cfg.tokenizer, cfg.min_freq, cfg.max_size, cfg.lowercase)
            self.init_from_ = None
            encoded = self._fit_and_encode(train.texts)
        # the ids, encoded once, serve the vocabulary check, the word scores and training
        self._check_vocabulary(train, encoded.values, cfg)
        if cfg.word_scores:
            index = {c: k for k, c in enumerate(self.class_names_)}
            _warn_table_size(self.tokenizer_.vocab_size, cfg.score_pairs, len(self.class_names_))
            self.word_scores_ = word_scores(encoded, [index[v] for v in train.labels], len(self.class_names_),
                                            self.tokenizer_.vocab_size, cfg.score_pairs)
        return encoded

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
        if not top:                 # the fix was 'pass --min-freq 1', the value given: no text holds a word at all
            example = next((t for t in train.texts if t.strip()), "")
            raise LstmkitError(f"the training texts hold no word (letters, digits or emoji) for the word tokenizer: "
                               f"punctuation only (e.g. {example[:30]!r})",
                               f"pass {opt('tokenizer', 'char')} (each character a token), or check the "
                               f"{opt('text')} column")
        if len(vocab) <= 2:                                       # max_size >= 3 keeps a word: min_freq did it
            raise LstmkitError(f"{opt('min_freq', cfg.min_freq)} keeps no word of the training texts (the most "
                               f"frequent is seen {top} times): every text would read as unknown words",
                               f"pass {opt('min_freq', min(2, max(top, 1)))} (rarer words become unknown)")
        what = opt("min_freq", cfg.min_freq) + (f", {opt('max_size', cfg.max_size)}" if cfg.max_size else "")
        # at min_freq 1 the fix was 'lower --min-freq', the value given: a full max_size had left the words out
        fixes = [f"lower {opt('min_freq')}"] if cfg.min_freq > 1 else []
        if cfg.max_size and len(vocab) >= cfg.max_size:
            fixes.append(f"raise {opt('max_size')} (the vocabulary is full)")
        warnings.warn(f"{unknown:.0%} of the training texts' words are unknown to the vocabulary ({what}; the most "
                      f"frequent word is seen {top} times): the model sees little of the texts; "
                      f"{' or '.join(fixes or ['supply more text'])}",
                      UserWarning, stacklevel=callers_level())

    def _after_training(self, seqs: list[torch.Tensor], y: torch.Tensor, weights: np.ndarray | None = None) -> None:
        """With ``word_scores``: the weights of the trained LSTM's logits and of the word-score sum,
        the pair of ``MIX_WEIGHTS`` with the lowest log loss on the validation part, each pair with
        the class bias that is best for it (:func:`fit_bias`; the word scores carry no class prior,
        so on skewed classes a mix without one would rather drop the words than lose the prior).
        The loss is weighted as training's was (``class_weight``), and by the validation rows' own
        weights when they have them (``weights``: early stopping's loss weighs them). Fitted after training, on texts
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
        rows = None if weights is None else torch.from_numpy(np.asarray(weights, dtype=np.float64))[order]
        weights = None if self.class_weights_ is None else torch.tensor(self.class_weights_)
        grid = torch.tensor(MIX_WEIGHTS, dtype=torch.float64)
        biases, losses = [], []
        for part in grid.split(41):                                     # [G, N, K] at a time, G <= 41
            z = part[:, 0, None, None] * logits.double() + part[:, 1, None, None] * scores.double()
            b = fit_biases(z, y, weights, rows=rows)
            biases.append(b)
            losses.append(log_losses(z + b[:, None, :], y, weights, rows=rows))
        k = int(torch.cat(losses).argmin())
        best, bias = MIX_WEIGHTS[k], torch.cat(biases)[k].float()
        with torch.no_grad():
            net.mix.copy_(torch.tensor(best))
            net.head.bias += bias / best[0]
        self.data_summary_["word_score_mix"] = list(best)
        self.data_summary_["word_score_bias"] = [round(float(v), 4) for v in bias]

    def _say_unknown(self, d: TextData, seqs: Ragged) -> None:
        for note in self._reading_notes(d.texts, seqs):
            warnings.warn(note, UserWarning, stacklevel=callers_level())

    def _reading_notes(self, texts: list[str], seqs: Ragged, name: Callable[[int], str] | None = None) -> list[str]:
        """What ``predict``, ``evaluate`` and the service warn of ``texts`` (``seqs``: them encoded): words
        the vocabulary lacks (:meth:`_unknown_words_note`), texts far longer than training's
        (:meth:`~lstmkit.tasks.classify.classifier.Classifier._long_note`). ``name``: called with a text's
        place ``k`` (from 0), the words naming it in a note (the service's: ``texts[k]``); None:
        ``text k+1``."""
        name = name or _text_place
        return [n for n in (self._unknown_words_note(texts, seqs, name), self._long_note(seqs, name))
                if n is not None]

    def _unknown_words_note(self, texts: list[str], seqs: Ragged,
                           name: Callable[[int], str] | None = None) -> str | None:
        """What ``predict`` warns of ``texts`` (``seqs``: them encoded), or None: those holding no word
        the vocabulary knows (their labels come from nothing the model learned; the first named by
        ``name``, called with its place ``k`` from 0; None: ``text k+1``; :data:`NONE_KNOWN` of the
        texts at least), or half their words or more unknown (new vocabulary, another language or
        domain: the model reads little of them). BPE splits every text into known pieces: nothing to
        tell."""
        name = name or _text_place
        if not hasattr(self.tokenizer_, "tokens") or not len(seqs):
            return None
        unknown = seqs.values == UNK_ID
        if not bool(unknown.any()) and bool((seqs.lengths > 0).all()):
            return None              # every text holds a known word: nothing to tell (a service request's usual case)
        share = float(unknown.float().mean())
        counts = torch.zeros(len(seqs), dtype=torch.long).index_add_(
            0, torch.repeat_interleave(torch.arange(len(seqs)), seqs.lengths), unknown.long())
        none_known = [k for k in torch.nonzero(counts == seqs.lengths).flatten().tolist() if texts[k].strip()]
        if len(none_known) < NONE_KNOWN * len(seqs) and share < UNKNOWN_SHARE:    # a few texts of rare words only
            none_known = []
        if not none_known and share < UNKNOWN_SHARE:
            return None
        first = f"first: {name(none_known[0])}, {texts[none_known[0]].strip()[:40]!r}; " if none_known else ""
        what = (f"{len(none_known):,} of {len(seqs):,} texts hold no word the model knows ({first}{percent(share)} of all "
                "their words are unknown to its vocabulary): their labels are guesses" if none_known else
                f"{share:.0%} of the texts' words are unknown to the model's vocabulary: it reads little of them")
        return (f"{what}; pass texts in the language and domain the model was trained on, or retrain it on texts "
                "like these")

    def _warn_overlap(self, train: TextData, part: TextData, what: str) -> None:
        warn_repeated_texts(train.texts, part.texts, what)

    def _warn_conflicting(self, full: TextData) -> None:
        warn_conflicting_labels([t.strip() for t in full.texts], full.labels, "text(s)", full.texts)

    def _encode(self, d: TextData) -> Ragged:
        return self.encode_texts(d.texts)

    def encode_texts(self, texts: list[str]) -> Ragged:
        """The token ids of every text of ``texts`` (a list of strings), each cut to ``max_len`` as
        ``truncate`` says, end to end: batched without a tensor per text (each text's ids are those of
        ``tokenizer_.encode``; the lengths before the cut in ``cut_from``)."""
        return self._ragged(*self.tokenizer_.encode_many(texts))

    def _fit_and_encode(self, texts: list[str]) -> Ragged:
        """Fit ``tokenizer_`` on ``texts`` and return :meth:`encode_texts` of them; words and characters
        are cut once, the vocabulary counted on them and then looked up (BPE learns from the text)."""
        tok = self.tokenizer_
        if not hasattr(tok, "fit_tokens"):
            tok.fit(texts)
            return self.encode_texts(texts)
        tokens = tok.tokens_many(texts)
        return self._ragged(*tok.fit_tokens(tokens).encode_tokens(tokens))

    def _ragged(self, ids, lengths) -> Ragged:
        return Ragged(torch.from_numpy(ids), torch.from_numpy(lengths)).truncate(self.config_.max_len,
                                                                                  self.config_.truncate)

    def _net_shape(self) -> dict[str, int]:
        return {"vocab_size": self.tokenizer_.vocab_size}

    def _start_weights(self, cfg) -> list:
        """The network's starting weights: a language model's (``init_from``) or a vectors file's,
        then the word-score table, copied once the network has its final shape (a vectors file of
        another width rebuilds it: the table copied before was lost with the first network, and
        ``word_scores=True`` trained with an all-zero table, without a word). What was copied is not
        kept beside the network (``lm_start_``: the LM's every weight; ``word_scores_``: up to
        :data:`LARGE_TABLE`), nor pickled with the fitted model."""
        callbacks = []
        if cfg.init_from:
            copy_weights(self.net_, self.lm_start_)
            del self.lm_start_
            net, decay = self.net_, cfg.lr_layer_decay
            net.param_groups = lambda lr: discriminative_groups(net, lr, decay)    # read by the trainer
            callbacks = [GradualUnfreezing(net, cfg.unfreeze_epochs)]
        elif cfg.vectors:
            self._start_vectors(cfg)
        if cfg.word_scores:
            with torch.no_grad():
                self.net_.word_scores.copy_(self.word_scores_)
                self.net_.mix.copy_(torch.tensor([1.0, 0.0]))    # the LSTM trains alone; see _after_training
            del self.word_scores_
        return callbacks

    def _start_vectors(self, cfg) -> None:
        """The embedding from ``cfg.vectors``; the file decides its width (the net is rebuilt at it)."""
        vectors, n_found = load_vectors(cfg.vectors, self.tokenizer_.vocab, seed=cfg.train.seed)
        if vectors.shape[1] != cfg.embed_dim:
            # the call's width kept for a loaded model's settings (get_params, clone), as the fitted one's
            self._chose_from_data(embed_dim=cfg.embed_dim)
            self.config_.embed_dim = int(vectors.shape[1])
            torch.manual_seed(cfg.train.seed)
            self.net_ = built_within_memory(self._build_net, cfg.train.device, cfg, ("hidden_size", "num_layers"))
        self.data_summary_["vectors_found"] = int(n_found)
        with torch.no_grad():
            self.net_.embedding.weight.copy_(vectors)
        self.net_.embedding.weight.requires_grad_(not cfg.freeze_vectors)

    def _preprocessing_meta(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer_.kind, "vocab_file": VOCAB_FILE, "vocab_size": self.tokenizer_.vocab_size,
                "init_from": getattr(self, "init_from_", None)}

    def _write_state(self, run_dir: Path) -> None:
        state = self.tokenizer_.to_dict()
        atomic_write(run_dir / VOCAB_FILE,
                     lambda tmp: Path(tmp).write_text(json.dumps(state, ensure_ascii=False) + "\n", encoding="utf-8"))

    def _load_state(self, run_dir: Path, meta) -> None:
        self.init_from_ = meta.get("preprocessing", {}).get("init_from")
        state = read_state_file(run_dir, VOCAB_FILE)
        try:
            self.tokenizer_ = tokenizer_from_dict(state)
        except (KeyError, TypeError):
            raise LstmkitError(f"{run_dir / VOCAB_FILE} is corrupt", "restore the run folder or retrain the model") from None


def load_classifier(path: str | Path) -> TextClassifier | SequenceClassifier:
    """Load a classify run folder with the class that wrote it."""
    return Classifier.class_for(read_meta(path, TASK), path).load(path)


# A word-score table above this many bytes is said: it is kept in memory, in model.safetensors and in exports.
LARGE_TABLE = 100 * 2**20


def _warn_table_size(vocab_size: int, pairs: int, n_classes: int) -> None:
    """One warning when the word-score table (a float32 row per word and word-pair bucket, a column
    per class; one column for two classes) is large: 262,144 pair rows x 300 classes wrote a 316 MB
    model.safetensors for 900 short texts, without a word."""
    columns = 1 if n_classes == 2 else n_classes
    size = (vocab_size + pairs) * columns * 4
    if size > LARGE_TABLE:
        room = LARGE_TABLE // (4 * columns) - vocab_size          # the pair rows that would fit
        fits = 1 << (room.bit_length() - 1) if room > 0 else 0
        warnings.warn(f"the word-score table takes {size / 2**20:,.0f} MB ({vocab_size + pairs:,} word and word-pair "
                      f"rows x {columns} classes), in memory and in model.safetensors; pass {opt('score_pairs', fits)} "
                      f"(or 0: words only) for one within {LARGE_TABLE // 2**20} MB",
                      UserWarning, stacklevel=callers_level())
