"""``LanguageModel``: the scikit-learn-style Python API for next-token language models.

>>> lm = LanguageModel(level="char", max_epochs=10).fit("corpus.txt", out="runs")
>>> lm.perplexity(["a held-out sentence"])
>>> lm.predict(["the old dog sleeps"])      # per text: logprobs, tokens, perplexity (the service's "texts")
>>> lm.sample(200, prefix="the ", temperature=0.8, seed=0)
>>> sc = lm.scorer(); s = sc.advance(sc.initial(), "t"); sc.log_probs(s)
>>> LanguageModel.load("runs/lm-20261128-221500")
"""
from __future__ import annotations

import json
import math
import warnings
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Self, Sequence, Unpack

import numpy as np
import pandas as pd
import torch

from lstmkit.config import check_seed, python_values
from lstmkit.data.batching import CollatedBatches, Padded, pad_batch, sorted_batches
from lstmkit.data.tables import is_table
from lstmkit.data.arrays import arrow_as_frame, text_items
from lstmkit.data.columns import texts_column, one_text
from lstmkit.data.decoding import whole_characters
from lstmkit.data.same_data import piped, source_path, text_folders
from lstmkit.data.textfile import check_strings
from lstmkit.estimator_params import public_call
from lstmkit.errors import LstmkitError, callers_level, opt, worded
from lstmkit.run_resume import ResumeShown
from lstmkit.tasks._base import RunEstimator
from lstmkit.runs import atomic_write, read_state_file
from lstmkit.tasks.lm.config import LMConfig, LMParams
from lstmkit.tasks.lm.data import (EOS, PAD_ID, UNK_ID, LMTokenizer, cap_tokens, corpus_pieces, corpus_table,
                                  read_corpus, split_corpus, warn_shared_lines)
from lstmkit.tasks.lm.finetune import ARCHITECTURE, check_start, copy_start, extended_tokenizer, start_record, start_settings
from lstmkit.tasks.lm.model import RECURRENT, LanguageModelNet, check_causal, token_loss
from lstmkit.tasks.lm.scorer import MAX_SAMPLE_SEED, GraphScorer, LMScorer, last_line, sample_text
from lstmkit.train.progress import track
from lstmkit.train.memory import built_within_memory, check_sequence_batch

if TYPE_CHECKING:
    from lstmkit.tasks.lm.stream import LMStream

__all__ = ["LanguageModel", "TASK", "VOCAB_FILE", "MAX_SAMPLE"]

TASK = "lm"
VOCAB_FILE = "vocab.json"
_EVAL_BATCH = 64
_EVAL_CHUNK = 4096     # a longer line (a one-line corpus) is scored in pieces (see _line_nll)
LOGIT_CELLS = 1 << 24  # batch x steps x vocabulary per scoring call (64 MiB of logits)


def logit_batches(lengths: Sequence[int], vocab: int, most: int | None = None) -> list[list[int]]:
    """:func:`~lstmkit.data.batching.sorted_batches` of lines of ``lengths`` tokens, each batch within
    :data:`LOGIT_CELLS` batch x steps x ``vocab`` logits (and at most ``most`` lines): 64 lines of
    2,700 words were one batch of 2.8 GB of logits, twice over with their log-softmax (5.5 GB resident
    at a 3,688-word vocabulary, ~45 GB at 30,000)."""
    return sorted_batches(lengths, most or max(1, len(lengths)), max(1, LOGIT_CELLS // vocab))


def _line_batches(pieces: list[tuple[torch.Tensor, torch.Tensor]], batch_size: int, shuffle: bool) -> CollatedBatches:
    """``((input [B, T], lengths [B]), target [B, T])`` batches of line pieces, bucketed by length."""
    inp, tgt = [p[0] for p in pieces], [p[1] for p in pieces]

    def collate(idx: list[int]):
        x, lengths = pad_batch([inp[i] for i in idx], PAD_ID)
        return Padded((x, lengths)), pad_batch([tgt[i] for i in idx], PAD_ID)[0]
    return CollatedBatches(inp, collate, batch_size, shuffle)


def _check_batch_tokens(net, pieces: list[tuple[torch.Tensor, torch.Tensor]], cfg) -> None:
    """Refuse a batch whose tokens' activations exceed memory, measured on 32 and 64 tokens and counted on the
    batch of the longest pieces: a 5 MB line read with ``--level char --max-len 1000000000`` is one
    piece of 5,000,000 tokens, ~170 GB of activations at the default sizes."""
    batch = min(cfg.train.batch_size, len(pieces))
    check_sequence_batch(net, [p[0] for p in pieces], cfg.train.batch_size, cfg.train.device,
                         lambda most, _: f"pass {opt('max_len', max(1, most // batch))} or less, or a smaller "
                                         f"{opt('batch_size')} ({cfg.train.batch_size})", padded=False)


MAX_SAMPLE = 1_000_000         # tokens one sample() may draw


def unigram_comparison(model: float, train_ids: list[list[int]], val_ids: list[list[int]], vocab_size: int,
                       eos_id: int, level: str) -> dict[str, Any]:
    """The doctor's baseline comparison of a language model (:meth:`~lstmkit.train.doctor.Doctor.report`):
    its validation cross-entropy per token (``model``, nats, ``</s>`` included) beside the unigram's,
    every token predicted by its frequency among the training targets whatever came before it
    (add-one smoothed, so a token the training text lacks costs a finite amount). A model no better
    than the unigram has learned nothing of the order of the tokens."""
    def counts(lines: list[list[int]]) -> np.ndarray:
        ids = np.fromiter(chain.from_iterable(lines), np.int64, sum(map(len, lines)))
        c = np.bincount(ids, minlength=vocab_size).astype(float)
        c[eos_id] += len(lines)                         # each line's end is a target too
        return c
    seen, held = counts(train_ids), counts(val_ids)
    p = (seen + 1) / (seen.sum() + vocab_size)
    unigram = float(-(held * np.log(p)).sum() / held.sum())
    return {"part": "validation", "metric": "cross-entropy per token (nats)", "unit": "tokens", "points": int(held.sum()),
            "model": model, "scores": {"unigram": unigram},
            "remedies": [_finer_level(level, vocab_size)] if level != "char" else
            ["train on more text: the model has not learned which token follows which"],
            "instead": {"unigram": "until the model wins, its samples are no better than tokens drawn by their "
                                   "frequency: it has learned nothing of their order"}}


_LEVEL_WORDS = {"word": ("words", "word"), "bpe": ("BPE subwords", "subword")}


def _finer_level(level: str, vocab_size: int) -> str:
    """The doctor's remedy for a word or BPE model the unigram beats: model characters, saying what
    the run models now (its ``--level``) and why characters learn from less text. It read 'now bpe; a
    word-level model needs ...' of a BPE run."""
    units, unit = _LEVEL_WORDS.get(level, (f"{level} tokens", f"{level}"))
    return (f"model characters instead of {units}: {opt('level', 'char')} (now {opt('level', level)}); a "
            f"{unit}-level model picks each next token from {vocab_size:,}, and needs far more text than a "
            f"character-level one to learn which {unit} follows which")


class LanguageModel(RunEstimator):
    """An LSTM language model over lines of text: embedding → causal zoo encoder → next-token softmax.

    Hyper-parameters: an :class:`~lstmkit.tasks.lm.config.LMConfig` and/or any of its fields and
    :class:`~lstmkit.config.TrainConfig`'s as keyword arguments (listed below).

    Each line of the text is one sequence ``<bos> t1 … tn </s>`` (see :mod:`lstmkit.tasks.lm.data`
    for why), so the model gives ``P(</s> | prefix)`` too.

    ``init_from="runs/lm-…"`` fine-tunes that model on the new text instead of starting afresh
    (ULMFiT's second stage, :mod:`lstmkit.tasks.lm.finetune`): its weights, its vocabulary with
    the text's words it lacks appended, its architecture.

    Fitted attributes: ``config_``, ``tokenizer_``, ``net_``, ``result_`` (training history),
    ``metrics_`` (held-out perplexity), ``data_summary_``, ``run_dir_``, ``train_seconds_``.
    """

    _ANSWERS = ("predict(texts), each text's log-probability, perplexity(texts), sample() and scorer() "
                "(next-token log-probabilities)")
    TASK = TASK
    _INPUT_TAGS = {"one_d_array": True, "two_d_array": False, "string": True}     # texts, one per line
    CONFIG = LMConfig

    if TYPE_CHECKING:   # for type checkers only: RunEstimator.stream runs, and gives this kind of stream here
        def stream(self, mode: str = "auto", engine: str = "auto", max_streams: int | None = None) -> LMStream: ...

    def __init__(self, config: LMConfig | None = None, **params: Unpack[LMParams]) -> None:
        super().__init__(config, **params)     # here to type the parameters (RunEstimator's docstring)

    if TYPE_CHECKING:   # set_params (EstimatorParams') takes the constructor's keywords, typed as it types them
        def set_params(self, **params: Unpack[LMParams]) -> Self: ...

    @classmethod
    def _resolve_config(cls, config, overrides: dict[str, Any]):
        """With ``init_from`` given to the constructor, the architecture settings left out come
        from the run it names (:mod:`lstmkit.tasks.lm.finetune`); given ones that differ are an error."""
        if config is None and overrides.get("init_from") and not set(ARCHITECTURE) <= set(overrides):
            want = start_settings(overrides["init_from"])      # (a saved run gives every setting)
            check_start(overrides["init_from"], want, overrides)
            config = super()._resolve_config(None, want)
        return super()._resolve_config(config, overrides)

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, data, val=None, *, val_data=None, out: str | Path | None = None, run_dir: str | Path | None = None,
            resume: bool = False, callbacks=(), **overrides: Unpack[LMParams]) -> LanguageModel:
        """Train on ``data`` (a text file or a list of lines). Without ``val_data`` (file or lines; ``val``,
        its older name, still works) a seeded ``val_frac`` of the lines is held out. With ``out`` a run folder
        ``out/lm-<timestamp>`` is created, only after every input has passed its checks (``run_dir`` names
        the folder exactly instead; with ``resume=True`` the run there continues from its last checkpoint);
        ``overrides`` are settings for this fit, checked as the constructor checks them;
        ``callbacks`` (trainer :class:`~lstmkit.train.callbacks.Callback` objects) see every epoch."""
        val = _one_validation(val, val_data, "fit")
        with self._fit_or_unchanged():        # a failed fit leaves the estimator as it was
            cfg = self._resolve_config(self.config, dict(overrides))
            check_causal(cfg.model)         # before the corpus is read and tokenized
            with self._reading_resumed(run_dir if resume else None, {"source": data, "val_source": val},
                                       partial(corpus_table, encoding=cfg.encoding, text_column=cfg.text_column)):
                read = read_corpus(data, cfg.encoding, "--data", cfg.text_column)
                held = None if val is None else read_corpus(val, cfg.encoding, "--val", cfg.text_column)
            full = cap_tokens(read, cfg.max_tokens, cfg.train.seed)
            if held is not None:
                train = full
                warn_shared_lines(train.lines, held.lines, "validation",
                                  f", and early stopping trusts it; pass {worded('--val', 'val_data=')} with text kept out of "
                                  f"training (or leave it out to hold out a share of the lines)")
            else:
                train, held = split_corpus(full, cfg.val_frac, cfg.train.seed)

            self.config_ = cfg
            start = None
            if cfg.init_from:
                start = LanguageModel.load(cfg.init_from)
                check_start(cfg.init_from, {k: getattr(start.config_, k) for k in start_settings(cfg.init_from)},
                            cfg.to_dict())
                self.tokenizer_, added = extended_tokenizer(start.tokenizer_, train.lines, cfg.resolved_min_freq(),
                                                            cfg.resolved_max_size())
            else:
                self.tokenizer_ = LMTokenizer(cfg.level, cfg.resolved_min_freq(), cfg.resolved_max_size(),
                                              cfg.lowercase).fit(train.lines)
            train_ids, val_ids = self._encode_lines(train.lines), self._encode_lines(held.lines)
            if not val_ids:
                raise LstmkitError("the validation text holds no token the tokenizer keeps",
                                   "supply a validation file with words or characters in it")
            tok = self.tokenizer_
            pieces = corpus_pieces(train_ids, tok.bos_id, tok.eos_id, cfg.max_len)
            val_pieces = corpus_pieces(val_ids, tok.bos_id, tok.eos_id, cfg.max_len)
            n_tokens = sum(len(ids) + 1 for ids in train_ids)
            self.data_summary_ = {
                "lines": full.report["read"], "blank_lines": full.report["blank"],
                "text_files": read.report.get("files"),         # None: not a folder
                "lines_kept": full.report.get("kept"),          # None: every line (no --max-tokens cut)
                "split": {"train": len(train_ids), "val": len(val_ids)},
                "val_is_tail": bool(held.report.get("tail")),      # one line: its last val_frac is held out
                "lines_without_tokens": (len(train) - len(train_ids)) + (len(held) - len(val_ids)),
                "train_tokens": n_tokens, "val_tokens": sum(len(ids) + 1 for ids in val_ids),
                "train_sequences": len(pieces), "lines_cut": sum(len(ids) + 1 > cfg.max_len for ids in train_ids),
                "vocab": tok.vocab_size, "unk_rate_train": _unk_rate(train_ids),
                "source": source_path(data), "val_source": source_path(val), **piped(source=data, val_source=val),
                # a folder of .txt files: its resume compares the files' SHA-256 (data.same_data.folder_sha256)
                **text_folders(source=data, val_source=val),
                "init_from": None if start is None else start_record(cfg.init_from, start.tokenizer_, added)}

            _warn_unknown_share(self.data_summary_["unk_rate_train"], cfg, tok.vocab_size)
            torch.manual_seed(cfg.train.seed)
            self.net_ = built_within_memory(self._build_net, cfg.train.device, cfg,
                                            ("hidden_size", "num_layers", "embed_dim", "max_size"))
            if start is not None:
                copy_start(self.net_, start.net_, start.tokenizer_, self.tokenizer_)
            _check_batch_tokens(self.net_, pieces, cfg)
            scored: dict[str, Any] = {}         # the trained model's validation metrics, measured once

            def val_metrics() -> dict[str, Any]:
                if "val" not in scored:
                    scored["val"] = self._metrics(val_ids)
                return scored["val"]

            def evidence(net) -> dict[str, Any]:
                return {"baselines": unigram_comparison(val_metrics()["cross_entropy"], train_ids, val_ids,
                                                        tok.vocab_size, tok.eos_id, cfg.level)}
            return self._train_and_save(cfg.train, _line_batches(pieces, cfg.train.batch_size, True),
                                        _line_batches(val_pieces, _EVAL_BATCH, False), loss_fn=token_loss(PAD_ID),
                                        out=out, run_dir=run_dir, resume=resume, callbacks=callbacks,
                                        evidence=evidence, metrics=lambda: {"val": val_metrics()}, plots=self._plots,
                                        data={"data": data, "val": val},
                                        tables={role: part.table for role, part in (("source", read),
                                                                                    ("val_source", held))
                                                if part.table is not None})

    def check(self, data, **overrides: Any) -> None:
        """Check the settings (``overrides``) and read ``data`` as :meth:`fit` would, without training (a search
        calls this once before its trials)."""
        with public_call():
            cfg = self._resolve_config(self.config, overrides)
            read_corpus(data, cfg.encoding, "--data", cfg.text_column)

    @classmethod
    def resume(cls, run_dir: str | Path, data=None, val=None, init_from=None, *, val_data=None,
               **shown: Unpack[ResumeShown]) -> LanguageModel:
        """Continue the interrupted run ``run_dir`` from its last checkpoint (same config, same text files,
        ``data`` giving the training text's new place when it moved;
        ``val_data`` or its older name ``val``: the validation text's new place, when it moved).
        ``init_from``: where the run a fine-tuning started from is now, when it moved (checked to
        hold the same weights). ``progress``, ``tensorboard``, ``doctor`` and ``device`` (``**shown``) may change
        how the run shows and runs (None: as recorded)."""
        val = _one_validation(val, val_data, "resume")
        with public_call():
            est, source, d = cls._resume_start(run_dir, data, "lines given in memory",
                                               worded("pass the text again with --data",
                                                      "pass the text again: resume(RUN, data=TEXT)"),
                                               init_from)
            return est._shown(shown).fit(source, cls._resume_file({"data": d}, run_dir, "val_source", val, "--val",
                                                                  "val_data"),
                                         run_dir=run_dir, resume=True)

    # -- using a fitted model --------------------------------------------------------------
    def perplexity(self, texts: str | Sequence[str]) -> float:
        """Per-token perplexity of ``texts`` (a string, a list of lines or a DataFrame's ``text``
        column; each line is one sequence ending in ``</s>``). An item that is not a string is an
        error (it was skipped, so the number described less text than given)."""
        with public_call():
            self._check_fitted()
            texts = arrow_as_frame(texts)           # a pyarrow Table, a polars frame: their pandas DataFrame
            if isinstance(texts, pd.DataFrame):     # as predict reads one: its column of texts, or its one column
                texts = texts_column(texts, self.config_.text_column or "text", "text").to_frame("text")
            lines = texts.splitlines() if isinstance(texts, str) else read_corpus(texts, what="texts").lines
            ids = self._encode_lines([ln for ln in lines if ln.strip()])
            if not ids:
                raise LstmkitError("the text holds no token to score", "pass some words or characters")
            nats, n = self._nll(ids)
            return math.exp(nats / n)

    def predict(self, texts: str | Sequence[str]) -> dict[str, list]:
        """What the model says of each text, as the service answers ``{"texts": [...]}``: each text
        scored whole as one line (``<bos> tokens </s>``), in the order given::

            {"logprobs": [log P(text) in nats, </s> included], "tokens": [tokens scored per text],
             "perplexity": [per-token perplexity per text]}

        ``texts``: one string or a list (tuple, array, pandas Series) of them, or a DataFrame: its
        column of texts (``text_column``'s, else ``text``), or its one column (a warning names it). A text with no token
        the tokenizer keeps is an error naming it. :meth:`perplexity` is one number over all the
        texts; :meth:`sample` writes new text."""
        with public_call():
            self._check_fitted()
            texts = arrow_as_frame(texts)           # a pyarrow Table, a polars frame: their pandas DataFrame
            if isinstance(texts, str):
                texts = [texts]
            elif isinstance(texts, pd.DataFrame):   # its column of texts (the one trained on), or its one column
                texts = texts_column(texts, self.config_.text_column or "text", "text")
            elif isinstance(texts, (bytes, dict, set, frozenset)) or not isinstance(texts, Iterable):
                raise LstmkitError(f"texts must be a string or a list of strings, got {type(texts).__name__}",
                                   "pass e.g. ['the old dog sleeps']")
            texts = items if (items := text_items(texts)) is not None else list(texts)   # pyarrow arrays: their strings
            check_strings(texts, "text", "pass the texts as strings",
                          missing="drop them first (pandas: s.dropna()): each text given is scored")
            texts = whole_characters(texts)                     # a lone surrogate: U+FFFD, as BPE takes it
            id_lines = [self.tokenizer_.encode(t) if t.strip() else [] for t in texts]
            empty = next((i for i, ids in enumerate(id_lines) if not ids), None)
            if empty is not None:
                raise LstmkitError(f"text {empty} of the list holds no token to score ({texts[empty][:40]!r})",
                                   "drop it, or pass words or characters in the language the model was trained on")
            logprobs, counts = [-v for v in self._line_nll(id_lines)], [len(ids) + 1 for ids in id_lines]
            return {"logprobs": logprobs, "tokens": counts,
                    "perplexity": [math.exp(-lp / n) for lp, n in zip(logprobs, counts)]}

    def evaluate(self, data, encoding: str | None = None, text_column: str | None = None) -> dict[str, Any]:
        """Perplexity (per token) of ``data``: a text file, a list of lines or a DataFrame; bits per character
        at char level. A table's (or frame's) texts are its ``text_column`` (default: the one
        trained on, else ``text``); a DataFrame without that column and ``text_column`` not given:
        its one column, a warning naming it, as :meth:`predict` reads one. ``encoding``: the text's
        encoding (None: the run's ``encoding`` setting)."""
        with public_call():
            self._check_fitted()
            data = arrow_as_frame(data)
            if isinstance(data, pd.DataFrame) and text_column is None:   # it asked for text_column= of one column
                data, text_column = texts_column(data, self.config_.text_column or "text", "text").to_frame("text"), "text"
            table = isinstance(data, pd.DataFrame) or isinstance(data, (str, Path)) and is_table(Path(data))
            column = text_column if text_column is not None else self.config_.text_column if table else None
            corpus = read_corpus(data, encoding or self.config_.encoding, "--data", column)
            ids = self._encode_lines(corpus.lines)
            if not ids:
                raise LstmkitError(f"{corpus.source} holds no token the tokenizer keeps",
                                   "pass text in the language and script the model was trained on")
            m = self._metrics(ids)
            _warn_unknown_text(m["unk_rate"], (getattr(self, "data_summary_", None) or {}).get("unk_rate_train"),
                               self.config_.level)
            return m

    def score(self, data, y=None) -> float:
        """scikit-learn's ``score``, greater is better: the mean log-likelihood per token (nats, minus
        :meth:`evaluate`'s ``cross_entropy``; ``exp(-score)`` is the perplexity) of ``data``, as
        scikit-learn's density models score; ``y`` is ignored, as scikit-learn passes it."""
        return -float(self.evaluate(data)["cross_entropy"])

    def scorer(self) -> LMScorer:
        """A streaming scorer for shallow fusion (``vocab``, ``level``, ``initial``, ``log_probs``,
        ``advance``; see :mod:`lstmkit.tasks.lm.scorer`). Char and word level only."""
        with public_call():         # its hints name keywords (level='char'); the CLI's fusion keeps its flags
            self._check_fitted()
            if self.config_.level not in ("char", "word"):
                raise LstmkitError(f"a {self.config_.level}-level model has no streaming scorer for decoders",
                                   f"train the language model with {opt('level', 'char')} or {opt('level', 'word')}")
            return self._answering_scorer()

    def token_inputs(self, text: str) -> tuple[list[str], list[int]]:
        """``(tokens, ids)`` the network reads for one line ``text``: ``<s>`` then its tokens."""
        with public_call():
            self._check_fitted()
            text = one_text(text, worded("pass some words with --text", "pass some words"))
            tok, text = self.tokenizer_, whole_characters([text], "text")[0]
            return ["<s>", *tok.pieces(text)], [tok.bos_id, *tok.encode(text)]

    def sample(self, n_tokens: int | None = None, prefix: str = "", temperature: float = 1.0,
               top_k: int | None = None, seed: int | None = None, top_p: float | None = None) -> str:
        """Generate text after ``prefix``.

        ``n_tokens=None`` writes one line, until the model draws ``</s>`` (or 10,000 tokens).
        With ``n_tokens`` exactly that many tokens are drawn; each ``</s>`` becomes a line break
        and the next line starts afresh. ``temperature`` divides the logits (0: the likeliest token
        each step, the same text whatever the seed); ``top_k`` keeps the k most likely tokens (and
        any tied with the k-th); ``top_p`` (0 to 1, nucleus sampling) then keeps the likeliest tokens
        whose probabilities, after the temperature, sum to ``top_p`` (and any tied with the last of
        them), as Holtzman et al. (2020) and Hugging Face's ``generate`` do; ``<unk>`` is never
        drawn, nor ``</s>`` as a line's first token (training has no empty line). A ``prefix`` of
        several lines is continued on its last line, which the model reads alone (each line starts
        afresh; a prefix ending in a line break starts a new one); one ending in a space goes on
        with a new word (at BPE level, the first token drawn begins one). The same ``seed`` (0 to
        2**63 - 1, as the service takes) gives the same text. The ``n_tokens`` drawn show on
        standard error as ``progress`` says (``set_params(progress=...)``), as ``evaluate``'s batches do.
        """
        with public_call():
            self._check_fitted()
            n_tokens, temperature, top_k, seed, top_p = python_values(      # numpy's numbers, as the constructor reads
                {"n_tokens": n_tokens, "temperature": temperature, "top_k": top_k, "seed": seed,
                 "top_p": top_p}).values()
            if n_tokens is not None and (isinstance(n_tokens, bool) or not isinstance(n_tokens, int) or n_tokens < 1):
                raise LstmkitError(f"`n_tokens` must be a positive integer, got {n_tokens!r}",
                                   worded("pass --n 200, say", "pass n_tokens=200, say"))
            if n_tokens is not None and n_tokens > MAX_SAMPLE:     # drawn one by one and held in memory: hours
                raise LstmkitError(f"`n_tokens` must be at most {MAX_SAMPLE}, got {n_tokens}",
                                   worded("pass a smaller --n (run the command again for more text)",
                                          "pass a smaller n_tokens (call sample again for more text)"))
            if isinstance(temperature, bool) or not (isinstance(temperature, (int, float)) and 0 <= temperature < math.inf):
                raise LstmkitError(f"`temperature` must be a finite number, 0 or above, got {temperature!r}",
                                   f"pass {opt('temperature', 0.8)}, say (lower is more conservative; 0 draws the "
                                   "likeliest token each step)")
            if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
                raise LstmkitError(f"`top_k` must be a positive integer, got {top_k!r}", f"pass {opt('top_k', 10)}, say")
            if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float))
                                      or not 0 < top_p <= 1):        # NaN fails both comparisons
                raise LstmkitError(f"`top_p` must be a number above 0 and at most 1, got {top_p!r}",
                                   f"pass {opt('top_p', 0.9)}, say (the likeliest tokens holding 90 % of the "
                                   "probability; 1 keeps every token)")
            if seed is not None:
                check_seed(seed, most=MAX_SAMPLE_SEED)       # the service's seeds too
            if not isinstance(prefix, str):
                raise LstmkitError(f"`prefix` must be text, got {type(prefix).__name__}",
                                   'pass prefix="the ", say ("" for none)')
            prefix = whole_characters([prefix], "prefix")[0]
            self._warn_unknown(last_line(prefix)[1])        # the line the model reads
            text, _ = sample_text(self._answering_scorer(), n_tokens, prefix, temperature, top_k, seed,
                                  progress=self._progress, top_p=top_p)
            return text

    # -- internals -------------------------------------------------------------------------
    def _answering_scorer(self):
        """A token scorer of the network this model answers with (:meth:`_answering_net`): the torch network's, or
        an int8 run's step graph's where its export chose ONNX Runtime, as the service samples."""
        net = self._answering_net()
        if net is self.net_:
            return LMScorer(net, self.tokenizer_)
        return GraphScorer(net.runner, self.tokenizer_, net.runner.zero_state(1))

    def _warn_unknown(self, prefix: str) -> None:
        """One warning when the prefix holds tokens the vocabulary lacks: the model reads them as ``<unk>``."""
        tok = self.tokenizer_
        unknown = sorted({p for p, i in zip(tok.pieces(prefix), tok.encode(prefix)) if i == UNK_ID})
        if unknown:
            shown = ", ".join(repr(p) for p in unknown[:8]) + (", ..." if len(unknown) > 8 else "")
            warnings.warn(f"the prefix holds {len(unknown)} {self.config_.level} token(s) never seen in training "
                          f"({shown}); the model reads each as <unk>, so the sample continues from less than "
                          f"the prefix says", UserWarning, stacklevel=callers_level())

    def _build_net(self) -> LanguageModelNet:
        cfg, tok = self.config_, self.tokenizer_
        return LanguageModelNet(tok.vocab_size, cfg.embed_dim, cfg.hidden_size, cfg.num_layers, cfg.model,
                                cfg.dropout, cfg.tie_weights, never=(PAD_ID, tok.bos_id), pad_id=PAD_ID)

    def _encode_lines(self, lines: Sequence[str]) -> list[list[int]]:
        """Token ids of each line; lines without a token (e.g. only punctuation at word level) are skipped."""
        return [ids for ids in (self.tokenizer_.encode(ln) for ln in lines) if ids]

    def _nll(self, id_lines: list[list[int]]) -> tuple[float, int]:
        """Total negative log-likelihood (nats) of whole lines, ``</s>`` included, and the token count."""
        return sum(self._line_nll(id_lines)), sum(len(ids) + 1 for ids in id_lines)

    @torch.no_grad()
    def _line_nll(self, id_lines: list[list[int]]) -> list[float]:
        """Negative log-likelihood (nats) of each whole line, ``</s>`` included (``len(ids) + 1`` tokens)."""
        net, tok = self._answering_net().eval(), self.tokenizer_      # an int8 run's step graph, where chosen
        device = next(self.net_.parameters()).device
        nll, short = [0.0] * len(id_lines), list(range(len(id_lines)))
        # a line of _EVAL_CHUNK tokens or more (a one-line corpus' held-out end) in pieces: a 10-million-token
        # line would not fit whole. A recurrent model carries its state over (exact); the others read each
        # piece afresh after the max_len tokens before it, the context training gave them (an lstm-attention's
        # or a cnn-lstm's LSTM state is not all of theirs). Read whole, a transformer's line past its 10,000
        # positions was a ValueError at the end of training.
        context = 0 if self.config_.model in RECURRENT else min(self.config_.max_len, _EVAL_CHUNK)
        for i in (i for i in short if len(id_lines[i]) >= _EVAL_CHUNK):
            inp, tgt, state = torch.tensor([tok.bos_id, *id_lines[i]]), torch.tensor([*id_lines[i], tok.eos_id]), None
            for k in range(0, len(inp), _EVAL_CHUNK):
                start = max(0, k - context)
                logits, state = net.run(inp[None, start:k + _EVAL_CHUNK].to(device), None if context else state)
                lp = torch.log_softmax(logits[0, k - start:].float(), dim=-1)
                nll[i] -= float(lp.gather(1, tgt[k:k + _EVAL_CHUNK, None].to(device)).double().sum())
        short = [i for i in short if len(id_lines[i]) < _EVAL_CHUNK]
        batches = logit_batches([len(id_lines[i]) + 1 for i in short], tok.vocab_size, _EVAL_BATCH)
        work = [len(idx) * (max(len(id_lines[short[k]]) for k in idx) + 1) for idx in batches]   # padded steps
        for idx in track(batches, len(batches), "scoring", self._progress, work=work):
            x, lengths = pad_batch([torch.tensor([tok.bos_id, *id_lines[short[k]]]) for k in idx], PAD_ID)
            y = pad_batch([torch.tensor([*id_lines[short[k]], tok.eos_id]) for k in idx], PAD_ID)[0].to(device)
            logits = net(x.to(device), lengths).float()                      # [B, T, V]
            lp = torch.log_softmax(logits, dim=-1).gather(-1, y[..., None])[..., 0]
            for k, total in zip(idx, torch.where(y != PAD_ID, lp, 0.0).double().sum(dim=1).tolist()):
                nll[short[k]] = -total
        return nll

    def _metrics(self, id_lines: list[list[int]]) -> dict[str, Any]:
        nats, n = self._nll(id_lines)
        m = {"perplexity": math.exp(nats / n), "cross_entropy": nats / n, "bits_per_token": nats / n / math.log(2),
             "tokens": n, "lines": len(id_lines), "unk_rate": _unk_rate(id_lines), "level": self.config_.level}
        if self.config_.level == "char":
            m["bits_per_char"] = m["bits_per_token"]     # every character and each line end is one token
        return m

    def _plots(self, run_dir: Path) -> None:
        from lstmkit.inspect.plots import PERPLEXITY, plot_history
        plot_history(self.result_.history, run_dir / "plots" / "loss.png", self.result_.best_epoch,
                     self.config_.loss_label(),
                     f"{run_dir.name}: {self.config_.model} language model, {self.config_.level} level",
                     right=PERPLEXITY)

    def _load_state(self, run_dir: Path, meta: dict[str, Any]) -> None:
        self.tokenizer_ = LMTokenizer.from_dict(read_state_file(run_dir, VOCAB_FILE))

    def _write_state(self, run_dir: Path) -> None:
        state = self.tokenizer_.to_dict()
        atomic_write(run_dir / VOCAB_FILE,
                     lambda tmp: Path(tmp).write_text(json.dumps(state, ensure_ascii=False) + "\n", encoding="utf-8"))

    def _write_meta(self, run_dir: Path, status: str) -> None:
        tok = self.tokenizer_
        self._write_run_meta(run_dir, status, model={"class": "LanguageModelNet"},
                             preprocessing={"vocab_file": VOCAB_FILE, "level": tok.level, "vocab_size": tok.vocab_size,
                                            "bos_id": tok.bos_id, "eos_id": tok.eos_id, "end_token": EOS,
                                            "sequences": "one per line: <bos> tokens </s>"})


_UNK_WARN = 0.3      # share of <unk> among the training tokens that makes the model mostly a <unk> predictor


def _warn_unknown_share(rate: float, cfg: LMConfig, vocab_size: int | None = None) -> None:
    """One warning when most training tokens fell below ``min_freq`` (a small corpus at word level,
    a column of numbers) or past the vocabulary cap ``max_size`` (full at ``vocab_size``): the model
    would learn to predict ``<unk>`` and its perplexity flatter it. The fix names only what would
    change it: at ``min_freq`` 1 it was 'lower --min-freq (1 keeps every token)' when a
    ``--max-size 20`` had made the <unk>."""
    if rate > _UNK_WARN:
        low, cap = cfg.resolved_min_freq(), cfg.resolved_max_size()
        capped = cap is not None and vocab_size is not None and vocab_size >= cap
        why = [f"rarer than {opt('min_freq', low)}"] if low > 1 or not capped else []
        why += [f"past the vocabulary cap, {opt('max_size', cap)}"] if capped else []
        fixes = [f"lower {opt('min_freq')} (1 keeps every token)"] if low > 1 else []
        fixes += [f"raise {opt('max_size')} (it is full)"] if capped else []
        fixes += [f"train with {opt('level', 'char')}"] if cfg.level != "char" else []
        fix = ", or ".join(fixes or ["supply more text"])
        warnings.warn(f"{rate:.0%} of the training tokens are <unk> ({'; '.join(why)}): "
                      f"the model learns mostly to predict <unk>, and its perplexity counts those as right; {fix}",
                      UserWarning, stacklevel=callers_level())


def _warn_unknown_text(rate: float, trained: Any, level: str) -> None:
    """One warning when far more of an evaluated text's tokens are ``<unk>`` than of the training text's
    (``trained``, ``lstmkit.json``'s ``data.unk_rate_train``; a run without it compares with
    :data:`_UNK_WARN` alone): every unknown word is the one token ``<unk>``, easy to predict, so German
    text scored perplexity 25 under an English word model whose own held-out English scored 163, 91% of
    its tokens <unk>, and nothing said the number meant nothing."""
    if unknown_text(rate, trained):
        warnings.warn(f"{rate:.0%} of the text's {level} tokens are <unk> (of the training text's "
                      f"{trained_unk_rate(trained):.0%}): {unknown_text_why(level)}; pass text like the training text",
                      UserWarning, stacklevel=callers_level())


def trained_unk_rate(trained: Any) -> float:
    return float(trained) if isinstance(trained, (int, float)) and not isinstance(trained, bool) else 0.0


def unknown_text(rate: float, trained: Any) -> bool:
    """Whether a text with ``rate`` of its tokens ``<unk>`` is far from the training text (``trained``:
    its rate, or None): above :data:`_UNK_WARN` and twice the training text's rate."""
    return rate > max(_UNK_WARN, 2 * trained_unk_rate(trained))


def unknown_text_why(level: str) -> str:
    """Why a text mostly of unknown tokens has a perplexity that means nothing (warnings' middle part)."""
    return (f"text in another language, script or domain? The perplexity counts each unknown {level} as the one "
            "token <unk>, so it flatters the model and compares with no other text's")


def _unk_rate(id_lines: list[list[int]]) -> float:
    """The share of ``<unk>`` among the tokens the perplexity is over: each line's tokens and its ``</s>``
    (:meth:`LanguageModel._nll`'s count, the ``tokens`` a report prints beside the share)."""
    n = sum(len(ids) + 1 for ids in id_lines)
    return sum(i == UNK_ID for ids in id_lines for i in ids) / n if n else 0.0


def _one_validation(val, val_data, method: str):
    """The validation text given to ``fit`` or ``resume``: ``val_data=``, as every task's estimator names it,
    or ``val=``, its older name here (the command line's ``--val``); both at once are refused."""
    if val is not None and val_data is not None:
        raise LstmkitError(f"{method}() got both val and val_data, two names of the same validation text",
                           "pass it once, as val_data= (val= is its older name)")
    return val if val_data is None else val_data
