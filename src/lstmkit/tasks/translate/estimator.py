"""``Translator``: the scikit-learn-style Python API for translation.

>>> tr = Translator(max_epochs=10).fit(src_file="train.en", tgt_file="train.de", out="runs")
>>> tr.translate(["A man is riding a bike."], beam=5)       # or tr.predict(...): the same
>>> tr.evaluate(src_file="test.en", ref_file="test.de")["bleu"]
>>> Translator(max_epochs=10).fit(X, y).score(X_test, y_test)          # scikit-learn style: sources, targets
>>> Translator.load("runs/translate-20250101-120000")
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time as _time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Self, Sequence, Sized, Unpack

import numpy as np
import torch

from lstmkit.config import python_values
from lstmkit.tasks.translate.config import TranslateConfig, TranslateParams, check_given
from lstmkit.data.batching import CollatedBatches, Padded, decoder_targets, pad_batch
from lstmkit.data.arrays import arrow_as_frame, text_items
from lstmkit.data.decoding import whole_characters
from lstmkit.data.table_changes import aligned_lines_table
from lstmkit.data.columns import texts_column, one_text
from lstmkit.data.same_data import piped, source_path
from lstmkit.data.textfile import check_strings
from lstmkit.estimator_params import public_call
from lstmkit.errors import BadValue, ColumnNotFound, LstmkitError, callers_level, first_of, opt, worded
from lstmkit.nn.seq2seq import Hypothesis, Seq2Seq, beam_search, check_beam_before, decode_batches, sequence_loss
from lstmkit.run_resume import PIPED_KEY, ResumeShown
from lstmkit.tasks._base import RunEstimator
from lstmkit.train.progress import track
from lstmkit.runs import atomic_write, path_exists, read_state_file
from lstmkit.tasks.translate.data import (BOS_ID, EOS_ID, PAD_ID, UNK_ID, Pairs, SideTokenizer, clean_pairs,
                                          pair_table, read_lines, read_pairs, split_pairs, warn_repeated_pairs,
                                          written_without_spaces)
from lstmkit.tasks.translate.metrics import checked_tokenize, corpus_scores, plot_attention, write_sentences
from lstmkit.train.memory import built_within_memory, check_batch_fits

__all__ = ["Translator", "TASK", "VOCAB_FILE"]

TASK = "translate"
VOCAB_FILE = "vocab.json"
# fit's file keywords, and the flags that name them
RESUME_FILES = {"data": "--data", "src_file": "--src-file", "tgt_file": "--tgt-file", "val_data": "--val",
                "val_src_file": "--val-src-file", "val_tgt_file": "--val-tgt-file"}
EVAL_BATCH = 64
# The absolute decoding bound of a run that recorded no longest target (trained before it was
# recorded, with --max-len none): a model that never writes <eos> stops here.
DECODE_CEILING = 1024


def _pair_batches(src: list[torch.Tensor], tgt: list[torch.Tensor], batch_size: int, shuffle: bool) -> CollatedBatches:
    """``((src [B, S], src_len [B], tgt_in [B, T]), tgt_out [B, T])`` batches, bucketed by source length."""
    def collate(idx: list[int]):
        x, src_len = pad_batch([src[i] for i in idx], PAD_ID)
        tgt_in, tgt_out = decoder_targets([tgt[i] for i in idx], BOS_ID, EOS_ID, PAD_ID)
        return Padded((x, src_len, tgt_in)), tgt_out
    return CollatedBatches(src, collate, batch_size, shuffle)


def _check_batch_pairs(net: Seq2Seq, src: list[torch.Tensor], tgt: list[torch.Tensor], cfg: TranslateConfig) -> None:
    """Refuse a training batch whose activations exceed memory, measured on 2 and 4 copies of the
    longest source beside the longest target (the batch they fall in is padded to them)."""
    if not src:
        return
    longest_src, longest_tgt = max(src, key=len), max(tgt, key=len)

    def make(n: int) -> Padded:
        x, src_len = pad_batch([longest_src] * n, PAD_ID)
        return Padded((x, src_len, decoder_targets([longest_tgt] * n, BOS_ID, EOS_ID, PAD_ID)[0]))
    check_batch_fits(net, make, 2, min(cfg.train.batch_size, len(src)), cfg.train.device,
                     lambda most: f"pass {opt('batch_size', most)} or less, or a smaller {opt('max_len')} "
                                  f"({cfg.max_len or 'none'})", unit="pairs")


def copy_comparison(model_bleu: float, sources: Sequence[str], refs: Sequence[str], epochs: int,
                    lowercase: bool = False) -> dict[str, Any]:
    """The doctor's baseline comparison of a translator (:meth:`~lstmkit.train.doctor.Doctor.report`):
    its greedy validation BLEU (``model_bleu``) beside the BLEU of each source sentence copied as its
    translation (names, numbers and punctuation a pair of languages share). A model no better than
    the copy has learned no word of the target language's. ``lowercase``: scored as the model is
    (:meth:`Translator.scored_lowercase`)."""
    return {"part": "validation", "metric": "BLEU", "points": len(refs), "unit": "sentences", "higher_is_better": True,
            "model": model_bleu, "scores": {"copy_source": corpus_scores(list(sources), list(refs), lowercase)["bleu"]},
            "remedies": [f"train longer: {worded(f'--epochs {max(2 * epochs, 20)}', opt('max_epochs', max(2 * epochs, 20)))} "
                         f"(now {epochs}; a translator writes the target's commonest words before it learns which "
                         "word translates which)",
                         "check that each target line translates its source line (files of pairs out of step "
                         "teach nothing)"],
            "instead": {"copy_source": "until the model wins, its translations are worth no more than the "
                                       "untranslated source"}}


class Translator(RunEstimator):
    """LSTM encoder-decoder with attention and beam search.

    Hyper-parameters: a :class:`~lstmkit.config.TranslateConfig` and/or any of its fields and
    :class:`~lstmkit.config.TrainConfig`'s as keyword arguments (listed below).

    Data: a CSV/TSV/XLSX/Parquet table with columns ``src`` and ``tgt`` (as configured), a DataFrame, a list of
    (source, target) pairs, ``(sources, targets)`` (two Series, arrays or lists of one length), or two
    line-aligned files ``src_file`` / ``tgt_file``.

    Fitted attributes: ``config_``, ``src_tokenizer_``, ``tgt_tokenizer_``, ``net_``, ``result_``,
    ``metrics_`` (validation BLEU/chrF, greedy and beam), ``data_summary_``, ``run_dir_``.
    """

    _ANSWERS = "predict(sentences) or translate(sentences), their translations, scored by evaluate(data)"
    TASK = TASK
    _INPUT_TAGS = {"one_d_array": True, "two_d_array": False, "string": True}     # sentences (or their pairs)
    CONFIG = TranslateConfig

    @classmethod
    def _check_given(cls, given, settings) -> None:
        check_given(given, settings)        # input_feed beside an attention whose feed is fixed

    # -- fitting ---------------------------------------------------------------------------
    def __init__(self, config: TranslateConfig | None = None, **params: Unpack[TranslateParams]) -> None:
        super().__init__(config, **params)     # here to type the parameters (RunEstimator's docstring)

    if TYPE_CHECKING:   # set_params (EstimatorParams') takes the constructor's keywords, typed as it types them
        def set_params(self, **params: Unpack[TranslateParams]) -> Self: ...

    def fit(self, data=None, y=None, *, src_file=None, tgt_file=None, val_data=None, val_src_file=None,
            val_tgt_file=None, out: str | Path | None = None, run_dir: str | Path | None = None, resume: bool = False,
            callbacks=(), **overrides: Unpack[TranslateParams]) -> Translator:
        """Train on ``data`` (see the class) or, as scikit-learn's ``fit(X, y)``, on source sentences
        ``data`` with their target sentences ``y``, one each, or on two line-aligned files ``src_file`` and
        ``tgt_file``; ``overrides`` are settings for this fit (checked as the constructor checks them).
        A validation part is split off unless ``val_data`` or ``val_src_file``/``val_tgt_file``
        is given. With ``out`` a run folder is created after every input has passed its checks.
        Ctrl-C raises :class:`~lstmkit.train.TrainingInterrupted` after a checkpoint is written;
        ``Translator.resume(run_dir)`` (or ``fit`` with ``resume=True`` and that ``run_dir``, which names the
        run folder exactly) continues from there. ``callbacks`` (trainer
        :class:`~lstmkit.train.callbacks.Callback` objects) see every epoch."""
        data = _with_targets(data, y)
        with self._fit_or_unchanged():        # a failed fit leaves the estimator as it was
            cfg = self._resolve_config(self.config, dict(overrides))
            given_val = val_data is not None or val_src_file is not None or val_tgt_file is not None
            # a resume whose read fails on a file changed since (a column renamed, lines appended to one
            # of two files) is told what changed in it
            with self._reading_resumed(run_dir if resume else None,
                                       {"source": data if data is not None else src_file, "target": tgt_file},
                                       _table_reader(cfg, (src_file, tgt_file))):
                full = read_pairs(data, cfg.src, cfg.tgt, src_file, tgt_file, cfg.encoding, cfg.drop_empty)
            if given_val:
                train = full
                # the validation files under the summary's files.*: one changed since is told what changed, as above
                val_files = {"files.val_data": val_data, "files.val_src_file": val_src_file,
                             "files.val_tgt_file": val_tgt_file}
                with self._reading_resumed(run_dir if resume else None, val_files,
                                           _table_reader(cfg, (val_src_file, val_tgt_file))):
                    try:
                        val = read_pairs(val_data, cfg.src, cfg.tgt, val_src_file, val_tgt_file, cfg.encoding,
                                         cfg.drop_empty, flags=("--val", "--val-src-file", "--val-tgt-file"))
                    except ColumnNotFound as e:      # its fix was 'pass --src with one of: …', which training lacks
                        raise LstmkitError(e.message, "name the columns of the validation table as the training "
                                           f"table's: {opt('src')} and {opt('tgt')} apply to both (its columns: "
                                           f"{', '.join(e.columns)})") from None
            else:
                tr_idx, va_idx = split_pairs(len(full), cfg.val_frac, cfg.train.seed)
                train, val = full.subset(tr_idx), full.subset(va_idx)
                if len(va_idx) > len(tr_idx):
                    warnings.warn(f"{opt('val_frac', f'{cfg.val_frac:g}', written=True)} holds out {len(va_idx)} of "
                                  f"{len(full)} pairs for "
                                  f"validation and trains on {len(tr_idx)}: the model learns from the smaller part; "
                                  f"pass {opt('val_frac', 0.05)} to 0.1", UserWarning, stacklevel=callers_level())

            self.config_ = cfg
            vocab_said: str | None = None     # the training words' share of <unk>, when said (validation's is not said again)
            if resume:      # the vocabularies the interrupted run wrote, so token ids stay the same
                self._read_vocab(Path(run_dir))
                src_ids, tgt_ids = self._token_ids(train, cfg.train.progress)
            else:
                src_ids, tgt_ids = self._fit_tokenizers(train, cfg.train.progress)
                _warn(vocab_said := mostly_unknown(src_ids, tgt_ids, cfg))
            # the pairs' ids, encoded once, serve the length filter and training
            train, kept = clean_pairs(train, list(map(len, src_ids)), list(map(len, tgt_ids)), cfg.max_len, cfg.dedup)
            x_tr, y_tr = self._pair_tensors([src_ids[i] for i in kept], [tgt_ids[i] for i in kept])
            x_va, y_va = self._pair_tensors(*self._token_ids(val, cfg.train.progress))
            files = (("data", data), ("src_file", src_file), ("tgt_file", tgt_file), ("val_data", val_data),
                     ("val_src_file", val_src_file), ("val_tgt_file", val_tgt_file))
            self.data_summary_ = {
                "pairs": full.report.get("read", len(full)), "dropped_empty": full.report.get("empty", 0),
                "dropped_too_long": train.report.get("too_long", 0), "duplicates": train.report.get("duplicates", 0),
                "split": {"train": len(train), "val": len(val)},
                "vocab": {"src": self.src_tokenizer_.vocab_size, "tgt": self.tgt_tokenizer_.vocab_size},
                # the longest training target in tokens: it bounds every decode (decode_steps)
                "longest_target": max((len(t) for t in y_tr), default=0),
                "longest_source": max((len(t) for t in x_tr), default=0),
                # the sides in a script without spaces (Chinese, Thai, ...), read one character a token
                "characters": {side: tok.kind == "word" and tok.char_split and written_without_spaces(texts)
                               for side, tok, texts in (("src", self.src_tokenizer_, train.src),
                                                        ("tgt", self.tgt_tokenizer_, train.tgt))},
                "source": source_path(data if data is not None else src_file), "target": source_path(tgt_file),
                "files": {k: source_path(v) for k, v in files},
                **piped(source=data if data is not None else src_file, target=tgt_file,
                        **{f"files.{k}": v for k, v in files})}

            torch.manual_seed(cfg.train.seed)
            self.net_ = built_within_memory(self._build_net, cfg.train.device, cfg,
                                            ("hidden_size", "num_layers", "embed_dim", "max_size"))
            # the beam metrics() searches the validation part with, refused now rather than after training
            check_beam_before(self.net_, x_va, EVAL_BATCH, cfg.beam, cfg.max_len_ratio, self.decode_steps())
            _check_batch_pairs(self.net_, x_tr, y_tr, cfg)

            scored: dict[str, Any] = {}         # the trained model's greedy validation scores, translated once

            def greedy() -> dict[str, Any]:
                if "val" not in scored:
                    scored["val"] = self._score(val, beam=1, said=vocab_said is not None)
                return scored["val"]

            def evidence(net) -> dict[str, Any]:
                return {"baselines": copy_comparison(greedy()["bleu"], val.src, self.references(val.tgt)[0],
                                                     cfg.train.max_epochs, self.scored_lowercase())}

            def metrics() -> dict[str, Any]:
                # said with the scores it flatters; the pairs trained on (after the length filter)
                warn_repeated_pairs(train, val, f"the validation {'data' if given_val else 'part'}")
                m = {"val": greedy()}
                if cfg.beam > 1:
                    m["val_beam"] = self._score(val, beam=cfg.beam, said=vocab_said is not None)
                return m

            return self._train_and_save(cfg.train, _pair_batches(x_tr, y_tr, cfg.train.batch_size, True),
                                        _pair_batches(x_va, y_va, EVAL_BATCH, False),
                                        loss_fn=sequence_loss(cfg.label_smoothing), out=out, run_dir=run_dir,
                                        resume=resume, callbacks=callbacks, metrics=metrics, evidence=evidence,
                                        plots=lambda folder: self._plots(folder, val),
                                        data={"data": data, "val_data": val_data},
                                        tables=_summary_tables(full, val if given_val else None))

    def check(self, data=None, *, src_file=None, tgt_file=None, **overrides: Any) -> None:
        """Check the settings (``overrides``) and read the pairs (``data``, or ``src_file`` and ``tgt_file``)
        as :meth:`fit` would, without training (a search
        calls this once before its trials)."""
        with public_call():
            cfg = self._resolve_config(self.config, overrides)
            read_pairs(data, cfg.src, cfg.tgt, src_file, tgt_file, cfg.encoding, cfg.drop_empty)

    @classmethod
    def resume(cls, run_dir: str | Path, data=None, val_data=None, *, y=None,
               src_file: str | Path | None = None, tgt_file: str | Path | None = None,
               val_src_file: str | Path | None = None, val_tgt_file: str | Path | None = None,
               **shown: Unpack[ResumeShown]) -> Translator:
        """Continue the interrupted run ``run_dir`` from its last checkpoint: same settings, same files, same
        vocabularies; the result equals an uninterrupted run's. A file given (``data``, ``src_file``,
        ``tgt_file``, ``val_data``, ``val_src_file``, ``val_tgt_file``) names its new place (the
        run and its data moved): it must hold the data the run recorded (their SHA-256 are compared).
        ``progress``, ``tensorboard``, ``doctor`` and ``device`` (``**shown``) may change how the run shows and runs
        (None: as recorded). ``data`` and ``val_data`` may be given first, as every task's ``resume`` takes them.
        A run fitted on pairs in memory is given them again as it was (``data``, with ``y`` where the targets
        came apart), checked to be the same; it refused them, 'cannot be resumed from the command line',
        though every other task's ``resume`` takes its in-memory data."""
        with public_call():
            meta = cls._unfinished_meta(run_dir)
            files = meta.get("data", {}).get("files")
            piped_in = meta.get("data", {}).get(PIPED_KEY)       # piped data: the file it needs is named below
            in_memory = not piped_in and (not files or (files.get("data") is None and files.get("src_file") is None))
            if in_memory and data is None:
                raise LstmkitError(f"{run_dir} was trained on in-memory data",
                                   worded("pass the pairs again with --data (in Python: resume(RUN, data=PAIRS))",
                                          "pass the pairs again: resume(RUN, data=PAIRS), or data=SOURCES, y=TARGETS"))
            est = cls._from_config(meta["config"])._shown(shown)
            if in_memory:            # fit checks them against the fingerprint the run recorded
                return est.fit(data, y, val_data=val_data, run_dir=run_dir, resume=True)
            given = {"data": data, "src_file": src_file, "tgt_file": tgt_file, "val_data": val_data,
                     "val_src_file": val_src_file, "val_tgt_file": val_tgt_file}
            paths = {k: cls._resume_file(meta, run_dir, f"files.{k}", given.get(k), flag, k)
                     for k, flag in RESUME_FILES.items()}
            return est.fit(paths.pop("data"), **paths, run_dir=run_dir, resume=True)

    # -- using a fitted model --------------------------------------------------------------
    def translate(self, sentences: Sequence[str] | str, beam: int | None = None, alpha: float | None = None,
                  batch_size: int = EVAL_BATCH) -> list[str]:
        """Detokenised translations of ``sentences`` (one string each; empty input -> empty output).

        ``beam``: the beam width (1: greedy; None: the run's ``beam``); ``alpha``: the length penalty
        (None: the run's ``length_penalty``); ``batch_size``: sentences searched at once."""
        with public_call():
            return [h for h, _ in self._translate(sentences, beam, alpha, batch_size)]

    def predict(self, sentences: Sequence[str] | str, beam: int | None = None, alpha: float | None = None,
                batch_size: int = EVAL_BATCH) -> np.ndarray:
        """:meth:`translate` of ``sentences`` under the name every estimator answers to (``fit / predict /
        evaluate``), as scikit-learn's estimators answer: an array ``[N]`` (object dtype) of the same translations
        for the same ``beam``, ``alpha`` and ``batch_size``; :meth:`translate` gives them as a list."""
        with public_call():
            # _translate itself (not translate): a warning's stacklevel reaches the caller from either
            return np.asarray([h for h, _ in self._translate(sentences, beam, alpha, batch_size)], dtype=object)

    def evaluate(self, data=None, y=None, *, src_file=None, ref_file=None, beam: int | None = None,
                 out_file: str | Path | None = None, lowercase: bool | None = None,
                 tokenize: str | None = None) -> dict[str, Any]:
        """BLEU and chrF (sacrebleu, signatures included) of the translations against references:
        ``data`` (pairs, a table) or the files (``src_file``, ``ref_file``), or source sentences ``data``
        with references ``y``, translated with ``beam`` (None: the run's).
        ``lowercase``: scored case-insensitively (None: when the model lower-cases,
        :meth:`scored_lowercase`); ``tokenize``: sacrebleu's BLEU tokenizer (``13a``, ``intl``, ``zh``,
        ``char``, ``ja-mecab``, ``ko-mecab``, ``flores200``, …; None: ``13a``, or ``zh`` / ``char`` for
        references written without spaces), both said in the signature. ``ref_file`` may be a list of
        files, each line-aligned with ``src_file``: several acceptable translations of each sentence,
        scored as sacrebleu scores several references (``nrefs`` in the signature). ``out_file``: the
        per-sentence table (:func:`~lstmkit.tasks.translate.metrics.write_sentences`; ``"-"``: CSV on
        standard output; a suffix no table writer has, ``.weird``, is refused before any translation)."""
        with public_call():
            self._check_fitted()
            more_files: list = []
            if isinstance(ref_file, (list, tuple)):
                ref_file, more_files = (ref_file[0], list(ref_file[1:])) if ref_file else (None, [])
            if lowercase is not None and not isinstance(lowercase, bool):
                raise BadValue(f"lowercase must be True, False or None, got {lowercase!r}",
                               "pass lowercase=True to score case-insensitively")
            checked_tokenize(tokenize)          # before the translations, which take the time
            from lstmkit.table_out import check_table_out
            check_table_out(out_file, example="sentences.tsv",   # a folder, a suffix no writer has: before translating
                            inputs={"data": data, "src_file": src_file, "ref_file": [ref_file, *more_files]})
            beam = self._search(beam, None)[0]   # the metrics' beam a Python int, as JSON writes it
            data = _with_targets(data, y, "references")
            if data is None and (src_file is None or ref_file is None):
                raise LstmkitError("nothing to evaluate on: " + ("no ref_file with src_file" if src_file is not None else
                                   "no src_file with ref_file" if ref_file is not None else "no data given"),
                                   "pass src_file= and ref_file= (line-aligned files), or data= (a table or pairs)")
            with self._frame_columns(data):
                pairs = read_pairs(data, self.config_.src, self.config_.tgt, src_file, ref_file, self.config_.encoding,
                                   drop_empty=False, droppable=False, flags=("--data", "--src-file", "--ref-file"))
            more = [self._more_references(f, src_file, len(pairs)) for f in more_files]
            return self._score(pairs, beam, out_file=out_file,
                               lowercase=lowercase, tokenize=tokenize, more_refs=more)

    def _more_references(self, path, src_file, n: int) -> list[str]:
        """The lines of a further reference file ``path``, one for each of the ``n`` lines of
        ``src_file``, each holding a reference (as :func:`read_pairs` reads the first)."""
        lines = read_lines(path, self.config_.encoding)
        while lines and not lines[-1].strip() and len(lines) > n:        # the last line's newline, as the first's
            lines.pop()
        if len(lines) != n:
            raise LstmkitError(f"{path} has {len(lines)} lines but {src_file} has {n}",
                               "each reference file must be line-aligned with the sources: one reference per line")
        empty = next((k for k, ln in enumerate(lines, 1) if not ln.strip()), None)
        if empty is not None:
            raise LstmkitError(f"{path} line {empty} is empty", "give every sentence a reference in each "
                               "reference file (sacrebleu scores each sentence against all of them)")
        return [ln.strip() for ln in lines]

    def score(self, data=None, y=None, *, beam: int | None = None) -> float:
        """scikit-learn's ``score``, greater is better: the corpus BLEU of :meth:`evaluate` (0 to
        100) on ``data``, or on source sentences ``data`` with their references ``y``, with ``beam`` as
        :meth:`evaluate` takes it."""
        with public_call():
            return float(self.evaluate(data, y, beam=beam)["bleu"])

    # -- persistence -----------------------------------------------------------------------

    def _load_state(self, run_dir: Path, meta: dict[str, Any]) -> None:
        self._read_vocab(run_dir)

    def attention(self, sentence: str, beam: int = 1) -> tuple[list[str], list[str], Any]:
        """``(source pieces, output pieces, weights [T_out, T_src])`` for one source sentence ``sentence`` (a
        string), translated with the beam width ``beam`` (1, the default: greedy); a source word
        outside the vocabulary (a ``word`` tokenizer's) is named as written, marked ``' (<unk>)'``: the
        model read ``<unk>`` there (``plots/attention.png`` labelled every such word ``<unk>``). The weights are
        those of the network ``translate`` answers with: an int8 run's quantized graphs where its export chose them."""
        with public_call():
            self._check_fitted()
            if self.net_.attn is None:
                raise LstmkitError(f"this model was trained with {opt('attention', 'none')}", "it has no attention to show")
            sentence = _one_sentence(sentence)
            out, hyp = self._hypothesis(sentence, beam)
            ids = self._src_ids(sentence, warn=False)
            src = [f"{p} (<unk>)" if i == UNK_ID and p != "<unk>" else p
                   for p, i in zip(self._written_pieces(sentence, ids), ids)]
            return src, out, hyp.attention.numpy()

    def token_inputs(self, text: str) -> tuple[list[str], list[int]]:
        """``(pieces, ids)``: what the encoder reads of the source sentence ``text`` (cut to ``max_len``),
        one piece per id; a ``word`` tokenizer's pieces as written, a word outside the vocabulary too (its
        id ``<unk>``: ``inspect gates`` named every such word '<unk>' and so could not say which it was)."""
        with public_call():
            self._check_fitted()
            text = _one_sentence(text)
            ids = self._src_ids(text)
            return self._written_pieces(text, ids), ids

    def _written_pieces(self, text: str, ids: list[int]) -> list[str]:
        """The source pieces of ``text`` read as ``ids``: a ``word`` tokenizer's as written (a word
        outside the vocabulary too), else the tokenizer's pieces of the ids."""
        tok = self.src_tokenizer_
        written = tok.pieces(text)[:len(ids)] if tok.kind == "word" else []
        return written if len(written) == len(ids) else tok.id_to_piece(ids)

    def output_tokens(self, text: str, beam: int = 1) -> tuple[list[str], list[int]]:
        """``(pieces, ids)`` the decoder writes for the source sentence ``text`` (greedy at ``beam`` 1),
        ending at ``<eos>`` when the search produced one."""
        with public_call():
            pieces, hyp = self._hypothesis(_one_sentence(text), beam)
            return pieces, list(hyp.ids)

    def decode_steps(self) -> int:
        """The most tokens any translation may have, whatever the source length: ``ceil(max_len_ratio
        * T) + 2`` for ``T`` the longest target the model was trained on (else ``--max-len``, else
        :data:`DECODE_CEILING`). A model that never writes ``<eos>`` stops there (with a warning)
        instead of decoding ``ratio`` times a 5,000-word source."""
        self._check_fitted()
        longest = (getattr(self, "data_summary_", None) or {}).get("longest_target") or self.config_.max_len
        if longest is None:
            return DECODE_CEILING
        return math.ceil(self.config_.max_len_ratio * longest) + 2

    def source_limit(self) -> int:
        """The most source tokens one sentence may have: ``--max-len`` (longer input is truncated),
        or with ``--max-len none`` twice the longest training source (else :data:`DECODE_CEILING`);
        the service refuses a longer sentence rather than encode and attend over it."""
        self._check_fitted()
        if self.config_.max_len is not None:
            return self.config_.max_len
        longest = (getattr(self, "data_summary_", None) or {}).get("longest_source")
        return 2 * longest if longest else DECODE_CEILING

    # -- internals -------------------------------------------------------------------------
    def _search(self, beam, alpha) -> tuple[int, float]:
        """``(beam, alpha)`` checked, the run's where None, numpy's numbers as Python's (a grid's
        ``np.int64(2)`` was 'must be a positive integer'; a beam of 0 in :meth:`attention` an IndexError)."""
        beam, alpha = python_values({"beam": beam, "alpha": alpha}).values()
        beam = self.config_.beam if beam is None else beam
        alpha = self.config_.length_penalty if alpha is None else alpha
        if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
            raise LstmkitError(f"`beam` must be a positive integer, got {beam!r}",
                               f"pass {opt('beam', 5)}, say (1 = greedy)")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha < math.inf:
            raise LstmkitError(f"the length penalty ({opt('alpha')}) must be a number >= 0, got {alpha!r}",
                               f"pass {opt('alpha', '1.0', written=True)}, say (0 ranks by the sum of log-probabilities)")
        return beam, alpha

    def _hypothesis(self, sentence: str, beam: int):
        """The search's best hypothesis for one sentence, and its pieces (``<eos>`` named)."""
        beam, alpha = self._search(beam, None)
        ids = self._src_ids(sentence)
        steps = self.decode_steps()
        # the network translate answers with: an int8 run's ONNX graphs drew the float weights' attention and
        # pieces, which need not be its translation's
        hyp = beam_search(self._answering_net().eval(), torch.tensor([ids]), torch.tensor([len(ids)]), beam,
                          alpha, self.config_.max_len_ratio, steps)[0]
        _warn(cut_short([hyp], steps))
        return [p if i != EOS_ID else "<eos>" for p, i in zip(self.tgt_tokenizer_.id_to_piece(hyp.ids), hyp.ids)], hyp

    def _fit_tokenizers(self, pairs: Pairs, progress: str) -> tuple[list[list[int]], list[list[int]]]:
        """Fit both sides' tokenizers on the training pairs and return :meth:`_token_ids` of them; a
        ``word`` side is cut once, its vocabulary counted on the pieces and the same pieces looked up
        (BPE learns its merges from the text)."""
        cfg = self.config_
        make = lambda: SideTokenizer(cfg.tokenizer, cfg.min_freq, cfg.max_size, cfg.lowercase)  # noqa: E731
        if cfg.tokenizer == "bpe":
            fit, src, tgt = SideTokenizer.fit, pairs.src, pairs.tgt
        else:
            cut = make().pieces
            fit, (src, tgt) = SideTokenizer.fit_pieces, self._per_pair(pairs, progress, cut, cut)
        if cfg.shared_vocab:
            self.src_tokenizer_ = self.tgt_tokenizer_ = fit(make(), list(src) + list(tgt))
        else:
            self.src_tokenizer_, self.tgt_tokenizer_ = fit(make(), src), fit(make(), tgt)
        if cfg.tokenizer == "bpe":
            return self._token_ids(pairs, progress)
        return [self.src_tokenizer_.vocab.encode(p) for p in src], [self.tgt_tokenizer_.vocab.encode(p) for p in tgt]

    def _src_ids(self, sentence: str, warn: bool = True) -> list[int]:
        ids = self.src_tokenizer_.encode(sentence) or [EOS_ID]
        if warn and (note := cut_sources([ids], self.config_.max_len)):
            warnings.warn(note, UserWarning, stacklevel=callers_level())
        return ids[:self.config_.max_len]

    def _token_ids(self, pairs: Pairs, progress: str = "off") -> tuple[list[list[int]], list[list[int]]]:
        """Each pair's source and target token ids as the tokenizers give them, shown as ``progress``
        says (encoding 190,000 pairs took 26 s)."""
        return self._per_pair(pairs, progress, self.src_tokenizer_.encode, self.tgt_tokenizer_.encode)

    @staticmethod
    def _per_pair(pairs: Pairs, progress: str, src_of, tgt_of) -> tuple[list, list]:
        src, tgt = [], []
        for s, t in track(zip(pairs.src, pairs.tgt), len(pairs), "encoding", progress, unit="pairs"):
            src.append(src_of(s))
            tgt.append(tgt_of(t))
        return src, tgt

    def _pair_tensors(self, src: list[list[int]],
                      tgt: list[list[int]]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The model's inputs from :meth:`_token_ids`: both sides cut to ``max_len``, an empty
        source read as ``[<eos>]`` (:meth:`_src_ids`)."""
        limit = self.config_.max_len
        return ([torch.tensor((ids or [EOS_ID])[:limit], dtype=torch.long) for ids in src],
                [torch.tensor(ids[:limit], dtype=torch.long) for ids in tgt])

    def _translate(self, sentences, beam, alpha, batch_size, net=None, ids=None) -> Iterator[tuple[str, Any]]:
        """``(translation, hypothesis)`` per sentence; ``net`` answers instead of ``net_`` when given
        (the deploy adapter's ONNX or int8 model: anything with Seq2Seq's encode / step / reorder),
        ``ids`` are the sentences' source ids when the caller has them (checked within ``max_len``)."""
        self._check_fitted()
        sentences = _sentence_list(sentences, self.config_.src)
        if not sentences:
            return []
        cfg = self.config_
        beam, alpha = self._search(beam, alpha)
        net = (self._answering_net() if net is None else net).eval()
        read = [self.src_tokenizer_.encode(s) for s in sentences] if ids is None else [list(x) for x in ids]
        given = [x or [EOS_ID] for x in read]
        _warn(cut_sources(given, cfg.max_len))          # one warning for them all, each named by its place
        seqs = [torch.tensor(x[:cfg.max_len]) for x in given]
        # a sentence of no token (blank, or only what the tokenizer drops: a byte-order mark, a soft hyphen,
        # a word joiner) is the empty translation, not decoded: '\ufeff' came back as 'groß groß.' where ''
        # was '', and the graphs run by hand need not learn what the network writes from <eos> alone
        results: list[tuple[str, Any] | None] = [("", Hypothesis([], 0.0)) if not x else None for x in read]
        said = [i for i, x in enumerate(read) if x]
        steps = self.decode_steps()
        _warn(longer_than_trained(given, (getattr(self, "data_summary_", None) or {}).get("longest_source"), steps))
        _warn(all_unknown(sentences, seqs))
        work, decoded = decode_batches(net, [seqs[i] for i in said], batch_size, beam, alpha, cfg.max_len_ratio,
                                       steps) if said else ([], iter(()))
        for idx, hyps in track(decoded, len(work), "translating", self._progress, work=work):
            for k, h in zip(idx.tolist(), hyps):
                results[said[k]] = (self._written(sentences[said[k]], h), h)
        _warn(cut_short([h for _, h in results], steps))
        return results

    def _written(self, sentence: str, hyp) -> str:
        """The text of ``hyp``, the translation of ``sentence``: each ``<unk>`` the decoder wrote is
        the source word it attended to most at that step among those the source vocabulary lacks
        too (among all, when it knows every one): a name or number neither vocabulary holds, copied
        as Luong et al. 2015 do, where the model attends and both sides are cut in words. ``<unk>``
        was shown to users, and scored as three tokens ('<', 'unk', '>') no reference holds."""
        tok, ids = self.tgt_tokenizer_, list(hyp.ids)
        if UNK_ID not in ids or hyp.attention is None or tok.kind != "word" or self.src_tokenizer_.kind != "word":
            return tok.decode(ids)
        words = self.src_tokenizer_.pieces(sentence)[:self.config_.max_len]
        if not words:
            return tok.decode(ids)
        weights = hyp.attention[:, :len(words)].clone()
        known = torch.tensor([i != UNK_ID for i in self.src_tokenizer_.vocab.encode(words)])
        if not bool(known.all()):           # the decoder's <unk> stands for a word the source lacks too
            weights[:, known] = -1.0
        return tok.decode(ids, {t: words[int(weights[t].argmax())] for t, i in enumerate(ids) if i == UNK_ID})

    def _score(self, pairs: Pairs, beam: int, out_file=None, lowercase: bool | None = None,
               tokenize: str | None = None, more_refs: Sequence[Sequence[str]] = (), said: bool = False) -> dict[str, Any]:
        """BLEU and chrF of ``pairs`` translated with ``beam``; ``said``: ``fit`` scoring its validation part
        has warned that most training words are <unk> (:func:`mostly_unknown`), so the validation's share
        of unknown source words (:func:`all_unknown`) is not said again (sentences of no known word are)."""
        t0 = _time.perf_counter()
        with _notes_kept() as notes:        # said as the caller's: sources cut, ...
            hyps = self.translate(pairs.src, beam=beam)
        for note in notes:
            if not (said and MOSTLY_UNKNOWN in note):
                warnings.warn(note, UserWarning, stacklevel=callers_level())
        seconds = _time.perf_counter() - t0
        refs, unescaped, normalised = self.references(pairs.tgt)
        lowercase = self.scored_lowercase() if lowercase is None else lowercase
        if not lowercase:
            _warn(lower_cased_references(hyps, refs))
        more = [self.references(r)[0] for r in more_refs]
        scores = corpus_scores(hyps, refs, lowercase, tokenize, more)
        scores.update({"beam": beam, "sentences_per_second": round(len(hyps) / max(seconds, 1e-9), 2)})
        if unescaped:
            scores["references_unescaped"] = unescaped
        if normalised:
            scores["references_normalised"] = normalised
        if out_file is not None:
            write_sentences(out_file, pairs.src, hyps, refs, lowercase, tokenize, more)
            scores["sentences_file"] = str(out_file)
        return scores

    def references(self, refs: Sequence[str]) -> tuple[list[str], int, int]:
        """``(refs as scored, how many were unescaped, how many more were normalised)`` of the reference
        translations ``refs`` (one string each, in the target language): in the form the
        target tokenizer's translations take (:meth:`~lstmkit.tasks.translate.data.SideTokenizer.written`),
        so BLEU compares like with like. With a tokenizer that decodes HTML character references
        (``html``) the translations hold '&' where an escaped reference holds '&amp;' (a run saved before,
        no ``html``, scores them as written); and every tokenizer reads text NFKC-normalised, so a
        reference's '…', full-width '，' or decomposed 'é' was a miss in the translation that wrote
        '...', ',' or 'é' (an exact translation of 'Ein Mann… läuft' scored BLEU 9.7). Case is kept."""
        tok = self.tgt_tokenizer_
        unescaped = [tok.unescape(r) for r in refs]
        out = [tok.written(r) for r in refs]
        return out, sum(a != b for a, b in zip(unescaped, refs)), sum(a != b for a, b in zip(out, unescaped))

    def scored_lowercase(self) -> bool:
        """Whether BLEU and chrF compare case-insensitively: the target tokenizer lower-cases
        (``lowercase``), so the model writes no capital, and against cased references every capital
        was a miss (the tests' toy model: BLEU 35.2 cased, 55.1 case-insensitive)."""
        return bool(self.tgt_tokenizer_.lowercase)

    def _plots(self, run_dir: Path, val: Pairs) -> None:
        from lstmkit.inspect.plots import plot_history
        plot_history(self.result_.history, run_dir / "plots" / "loss.png", self.result_.best_epoch,
                     self.config_.loss_label(),
                     f"{run_dir.name}: {self.config_.model} translation model")
        write_sentences(run_dir / "val_translations.tsv", val.src, self.translate(val.src, beam=1),
                        self.references(val.tgt)[0], self.scored_lowercase())
        if self.net_.attn is not None:
            sentence = val.src[0]
            src, out, w = self.attention(sentence)
            plot_attention(src, out, w, run_dir / "plots" / "attention.png",
                           title=sentence if len(sentence) <= 80 else sentence[:79].rstrip() + "…")

    def _build_net(self) -> Seq2Seq:
        cfg = self.config_
        return Seq2Seq(self.src_tokenizer_.vocab_size, self.tgt_tokenizer_.vocab_size, cfg.embed_dim,
                       cfg.hidden_size, cfg.num_layers, cfg.model, cfg.attention, cfg.dropout, cfg.input_feed,
                       cfg.tie_embeddings, cfg.teacher_forcing)

    def _read_vocab(self, run_dir: Path) -> None:
        state = read_state_file(run_dir, VOCAB_FILE)
        self.src_tokenizer_ = SideTokenizer.from_dict(state["src"])
        self.tgt_tokenizer_ = SideTokenizer.from_dict(state["tgt"])

    def _write_state(self, run_dir: Path) -> None:
        state = {"src": self.src_tokenizer_.to_dict(), "tgt": self.tgt_tokenizer_.to_dict()}
        atomic_write(run_dir / VOCAB_FILE,
                     lambda tmp: Path(tmp).write_text(json.dumps(state, ensure_ascii=False) + "\n", encoding="utf-8"))

    def _write_meta(self, run_dir: Path, status: str) -> None:
        self._write_run_meta(run_dir, status, model={"class": "Seq2Seq"},
                             preprocessing={"vocab_file": VOCAB_FILE, "tokenizer": self.config_.tokenizer,
                                            "src_vocab": self.src_tokenizer_.vocab_size,
                                            "tgt_vocab": self.tgt_tokenizer_.vocab_size})


_KEPT = threading.local()        # this thread's list of notes kept instead of said (_notes_kept), if any


@contextlib.contextmanager
def _notes_kept() -> Iterator[list[str]]:
    """What :func:`_warn` says in the block, kept in a list instead (the caller says them as its own,
    or not). The calling thread's: ``warnings.catch_warnings(record=True)`` swaps the process's
    filters and ``showwarning``, and two threads' ``evaluate`` overlapping left its ``'always'``
    filter behind for good (or every later warning of the process in a finished call's list)."""
    outer, kept = getattr(_KEPT, "notes", None), []
    _KEPT.notes = kept
    try:
        yield kept
    finally:
        _KEPT.notes = outer


def _warn(said: str | None) -> None:
    """One warning of what a check (:func:`cut_short`, :func:`longer_than_trained`,
    :func:`all_unknown`; the service puts the same lines in its answers' ``warnings``) said, if it did;
    kept instead inside :func:`_notes_kept`."""
    if said:
        kept = getattr(_KEPT, "notes", None)
        if kept is not None:
            kept.append(said)
        else:
            warnings.warn(said, UserWarning, stacklevel=callers_level())


def lower_cased_references(hyps: Sequence[str], refs: Sequence[str]) -> str | None:
    """What to say when no reference holds a capital letter but translations do (references
    lower-cased for another toolkit, as Multi30k's ``tok/*.lc.*`` files), scored case-sensitively:
    each capital is a miss (a perfect German translation of test2016 scored BLEU 23.3 against them,
    99.9 case-insensitively); None otherwise."""
    if any(r != r.lower() for r in refs) or not any(r != r.upper() for r in refs):     # cased, or no cased script
        return None
    capitals = sum(h != h.lower() for h in hyps)
    if not capitals:
        return None
    return (f"no reference holds a capital letter, while {capitals} of the {len(hyps)} translations do: the "
            f"references are lower-cased, and cased BLEU and chrF count each capital a miss; score with "
            f"{opt('lowercase', True)} (case-insensitive), or against cased references")


UNKNOWN_SHARE = 0.3     # <unk> this share of a side's training tokens: by far its commonest token (lm warns at the same)
UNKNOWN_WORDS = 0.5     # sentences to translate whose words are unknown more often than this are warned of
MOSTLY_UNKNOWN = " of the source sentences' words are unknown to the model's vocabulary"   # all_unknown's share


def mostly_unknown(src_ids: Sequence[Sequence[int]], tgt_ids: Sequence[Sequence[int]], cfg) -> str | None:
    """What to say when a word vocabulary left more than :data:`UNKNOWN_SHARE` of a side's training
    tokens unknown (``min_freq`` 2 over 40 Multi30k pairs: 36% of the German words): a
    decoder trained on such targets writes ``<unk>`` for everything; None otherwise. BPE splits
    every word into known pieces."""
    if cfg.tokenizer == "bpe":
        return None
    share = {side: sum(i == UNK_ID for s in ids for i in s) / max(1, sum(map(len, ids)))
             for side, ids in (("target", tgt_ids), ("source", src_ids))}
    high = [f"{v:.0%} of the {side}s'" for side, v in share.items() if v > UNKNOWN_SHARE]
    if not high:
        return None
    cause = (f"{opt('min_freq', cfg.min_freq)} keeps the words seen {cfg.min_freq} times or more in "
             f"{len(tgt_ids)} training pairs" if cfg.min_freq > 1 else f"{opt('max_size', cfg.max_size)}")
    fix = (f"pass {opt('min_freq', 1)}, or train on more pairs" if cfg.min_freq > 1
           else "raise it, or train on more pairs")
    return (f"{' and '.join(high)} training words are <unk> ({cause}): the model learns to write <unk> "
            f"for the words it does not know; {fix}")


def cut_short(hyps, steps: int, names: Sequence[str] | None = None) -> str | None:
    """What the translations stopped at the absolute bound ``steps`` without ``<eos>`` (``hyps``:
    the search's hypotheses, marked ``cut``) are told, or None; ``names`` (the service's
    ``sentences[i]``) names them."""
    cut = [k for k, h in enumerate(hyps) if getattr(h, "cut", False)]
    if not cut:
        return None
    which = f" ({first_of([names[k] for k in cut])})" if names is not None else ""
    return (f"{len(cut)} translation(s){which} reached the longest output this model writes ({steps} tokens: "
            f"{opt('max_len_ratio')} times its longest training target, plus 2) without ending and were cut "
            "there; the model may not have learned to end a sentence (train it longer), or raise "
            f"{opt('max_len_ratio')} for longer outputs")


def cut_sources(ids: Sequence[Sequence[int]], limit: int | None) -> str | None:
    """What the source sentences (``ids``: their token ids, whole) longer than ``max_len`` (``limit``)
    are told, or None: only their first ``limit`` tokens are translated. One warning for them all,
    naming the first (one a sentence, each "a source sentence has 84 tokens … it was truncated",
    neither saying which nor that its translation leaves the rest out)."""
    cut = [k for k, x in enumerate(ids) if limit is not None and len(x) > limit]
    if not cut:
        return None
    fix = f"split it into sentences, or retrain with a larger {opt('max_len')}"
    if len(ids) == 1:                  # translate run: one line at a time, each said with its line number
        return (f"the source sentence has {len(ids[0]):,} tokens, more than the model's max_len={limit}: only its first "
                f"{limit} are translated, the rest is left out of the translation; {fix}")
    return (f"{len(cut)} source sentence(s) longer than the model's max_len={limit} tokens (first: sentence "
            f"{cut[0] + 1}, {len(ids[cut[0]]):,} tokens; the longest {max(len(ids[k]) for k in cut):,}): only their first "
            f"{limit} tokens are translated, the rest is left out of the translation; split them into sentences, or "
            f"retrain with a larger {opt('max_len')}")


def longer_than_trained(seqs: Sequence[Sized], longest: int | None, steps: int,
                        names: Sequence[str] | None = None) -> str | None:
    """What the source sentences longer than every one the model was trained on (``longest``
    tokens; a run that recorded none is not checked) are told, or None: trained on sentences of at
    most 7 words, a 40-word one came back as 13 characters, without a word. ``names``: what each
    sentence is called (the service's ``sentences[i]``), named in the message when given."""
    longer = [k for k, s in enumerate(seqs) if longest and len(s) > longest]
    if not longer:
        return None
    which = f"{first_of([names[k] for k in longer])}; " if names is not None else ""
    return (f"{len(longer)} source sentence(s) longer than any the model was trained on ({which}"
            f"{max(len(seqs[k]) for k in longer)} tokens; the longest training source {longest}): it never learned "
            f"to translate sentences that long, and writes at most {steps} tokens, so expect them cut short or "
            "garbled; split such sentences, or train on longer pairs")


def all_unknown(sentences: list[str], seqs: list[torch.Tensor], names: Sequence[str] | None = None) -> str | None:
    """What the sentences whose every token the source vocabulary lacks ('xyzzy plugh', a script
    the model never read) are told, or None: the decoder writes from ``<unk>`` alone, a guess
    ('鬼龍院' came back as 'we'), without a word. Else, when more than half the words of the sentences
    are unknown (:data:`UNKNOWN_WORDS`), what is said of them: sentences in another language share a
    full stop, names and a few short words with the training side ('Un homme en chemise bleue joue de la
    guitare.' to an English model reads '<unk> x6 de la <unk> .'), so the rule above was silent on a
    whole French file (9 of Multi30k's 1,014 French validation sentences named, 78% of its words
    unknown). ``names`` as in :func:`longer_than_trained`."""
    said = [k for k, s in enumerate(sentences) if s.strip()]
    unk = [(seqs[k] == UNK_ID) for k in said]
    share = float(sum(int(u.sum()) for u in unk)) / max(1, sum(len(u) for u in unk))
    unknown = [k for k, u in zip(said, unk) if bool(u.all())]
    many = f"; {share:.0%} of all their words are unknown to its vocabulary" if share > UNKNOWN_WORDS else ""
    fix = "pass sentences in the language and script the model was trained on"
    if unknown:
        first = repr(sentences[unknown[0]].strip()[:40])
        which = (f"first: sentence {unknown[0] + 1}, {first}" if names is None
                 else f"{first_of([names[k] for k in unknown])}; first {first}")
        return f"{len(unknown)} source sentence(s) hold no word the model knows ({which}{many}): their translations are guesses; {fix}"
    if not many:
        return None
    mostly = [k for k, u in zip(said, unk) if float(u.float().mean()) > UNKNOWN_WORDS]
    k = mostly[0]
    first = f"{sentences[k].strip()[:40]!r}, {int((seqs[k] == UNK_ID).sum())} of its {len(seqs[k])} words"
    which = f"first: sentence {k + 1}, {first}" if names is None else f"{first_of([names[j] for j in mostly])}; first {first}"
    return (f"{share:.0%}{MOSTLY_UNKNOWN} ({len(mostly)} sentence(s) "
            f"mostly so, {which}): another language or domain? it reads little of them, so their translations are "
            f"guesses; {fix}")




def _one_sentence(text) -> str:
    """One source sentence of ``attention``, ``token_inputs`` or ``output_tokens`` (``inspect --text``), a
    lone surrogate as U+FFFD, said (:func:`whole_characters`), as ``translate`` reads its sentences: the
    command line holds bytes that are not UTF-8 so, and a BPE model's tokenizer refused it with a TypeError."""
    text = one_text(text, worded("pass a source sentence with --text", "pass a source sentence"))
    return whole_characters([text], "sentence")[0]


def _sentence_list(sentences, column: str = "src") -> list[str]:
    """One sentence, or a list, tuple, array (numpy, pandas, pyarrow; a [N, 1] column), pandas Series
    (read in order, whatever its index) or other iterable of them, as a list; anything else, or an item that is not a string, is an error.
    A DataFrame (a pyarrow or polars table too) is its source ``column``, or its one column
    (``df[["en"]]``: they were refused, iterated they gave the column names); a dict (iterated, its
    keys: translated without a word) and a set (no order to answer in) are refused."""
    if isinstance(sentences, str):
        return [sentences]
    sentences = arrow_as_frame(sentences)    # a pyarrow Table, a polars frame: their pandas DataFrame
    if hasattr(sentences, "columns") and hasattr(sentences, "iloc"):        # a pandas DataFrame
        # its caller's caller's caller: _translate's, whose callers translate and predict are the user's
        sentences = texts_column(sentences, column, "source")
    if (sentences is None or isinstance(sentences, (bytes, int, float, dict, set, frozenset))
            or not hasattr(sentences, "__iter__") or hasattr(sentences, "columns")):
        raise LstmkitError(f"sentences must be a string or a list of strings, got {type(sentences).__name__}",
                           "pass e.g. ['A man is riding a bike.']")
    items = text_items(sentences)
    if items is None and not isinstance(sentences, np.ndarray):
        items = list(sentences)             # any other iterable (a range of texts, a dict's values)
    if items is None:                       # a 2-D array
        raise LstmkitError(f"sentences must be a string or a list of strings, got {type(sentences).__name__}"
                           + (f" of shape {sentences.shape}" if hasattr(sentences, "shape") else ""),
                           "pass a list or 1-D array of sentences (or a [N, 1] column of them)")
    check_strings(items, "sentence", "pass sentences as strings (an empty one is '')",
                  missing="drop them first (pandas: s.dropna()), or fill them with '' (translated as '')")
    return whole_characters(items, "sentences")          # a lone surrogate: U+FFFD, as BPE takes it


def _with_targets(data, y, what: str = "target sentences"):
    """``data`` as the readers take it: with ``y`` (scikit-learn's ``X, y``) the pair of columns
    ``(sources, targets)``; ``y`` with a table or a path, or a ``y`` that is no list of sentences,
    is an error naming what to pass."""
    if y is None:
        return data
    if isinstance(data, str) and not path_exists(data):          # one sentence, not a file of pairs
        shown = lambda v: repr(v[:20] + ("…" if len(v) > 20 else ""))          # noqa: E731
        raise LstmkitError(f"X is a single string ({shown(data)}), not a list of source sentences",
                           f"pass lists, one sentence each: ([{shown(data)}], "
                           f"[{shown(y) if isinstance(y, str) else '…'}])")
    if data is None or isinstance(data, (str, os.PathLike)) or hasattr(data, "columns") or hasattr(data, "column_names"):
        raise LstmkitError(f"y (the {what}) given with {'no' if data is None else 'a table or a path as'} data",
                           "pass the source sentences as X with y (one each), or a table of pairs alone")
    sources, targets = text_items(data), text_items(y)
    if sources is None or targets is None:
        bad, name = (data, "X") if sources is None else (y, "y")
        raise LstmkitError(f"{name} is a {type(bad).__name__}, not a list of sentences",
                           f"pass X (the source sentences) and y (the {what}) as lists, arrays or Series, one each")
    return sources, targets


def _table_reader(cfg: TranslateConfig, plain: tuple[Any, Any]):
    """``read(path)``: the table :func:`read_pairs` reads from the file ``path``, as it reads it: a
    line-aligned file's lines (``plain``: the --src-file and --tgt-file given), else a pair table."""
    lines = {Path(f).resolve() for f in plain if isinstance(f, (str, os.PathLike))}   # else read_pairs says so
    def read(path: Path):
        if path.resolve() in lines:
            return aligned_lines_table(read_lines(path, cfg.encoding))
        return pair_table(path, cfg.src, cfg.tgt, cfg.encoding)
    return read


def _summary_tables(train: Pairs, val: Pairs | None) -> dict[str, Any]:
    """The tables read, by the data summary's roles: the training table (or --src-file) is both
    ``source`` and ``files.data`` (``files.src_file``), --tgt-file ``target`` and ``files.tgt_file``,
    a validation file ``files.val_…``; each role whose file changed is compared on resume."""
    out = {f"files.{k}": t for k, t in train.tables.items()}
    out.update({f"files.val_{k}": t for k, t in (val.tables if val is not None else {}).items()})
    for role, key in (("source", "data"), ("source", "src_file"), ("target", "tgt_file")):
        if key in train.tables:
            out[role] = train.tables[key]
    return out
