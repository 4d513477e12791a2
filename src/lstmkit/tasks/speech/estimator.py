"""``SpeechRecognizer``: the Python API for speech.

>>> asr = SpeechRecognizer(mode="ctc", max_epochs=20).fit("train.csv", out="runs")
>>> asr.transcribe(["clip.wav"])
>>> asr.evaluate("test.csv")["wer"]
>>> SpeechRecognizer.load("runs/speech-20250101-120000")
"""
from __future__ import annotations

import dataclasses
import time as _time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, Sequence, Unpack

import numpy as np
import torch

from lstmkit.config import python_values
from lstmkit.data.arrays import matrix_as_array
from lstmkit.data.batching import BucketBatches, Padded, decoder_targets
from lstmkit.data.columns import missing_value
from lstmkit.data.label_types import FROM_TEXT, check_scored_labels, label_dtype, label_type, typed_labels
from lstmkit.estimator_params import LogProba, WeightRequests, public_call
from lstmkit.errors import LstmkitError, callers_level, first_of, opt, worded
from lstmkit.data.sample_weight import WEIGHTS_KEY, check_parts, sample_weights, weights_record
from lstmkit.data.stratify import warn_missing_classes
from lstmkit.nn.classifier import ClassificationLoss, weighted_targets
from lstmkit.nn.seq2seq import BOS_ID, EOS_ID, check_beam_before, decode_batches, sequence_loss
from lstmkit.runs import META_FILE, RECORDINGS_KEY, read_meta
from lstmkit.run_resume import ResumeShown
from lstmkit.tasks._base import RunEstimator
from lstmkit.tasks.speech.arrays import (audio_sources, batch_rows, given_labels, is_audio_dict, is_clip,
                                         memory_utterances, recordings_column)
from lstmkit.tasks.speech.audio_files import soundfile
from lstmkit.tasks.speech.config import SpeechConfig, SpeechParams, check_given, check_hop
from lstmkit.tasks.speech.data import (Symbols, Utterances, audio_paths, check_no_shared_utterances,
                                       check_pattern_applies, common_rate, read_utterances, read_validation,
                                       report_notes, warn_long_clips, warn_shared_recordings, warn_untrained_labels,
                                       warn_untrained_symbols)
from lstmkit.tasks.speech.decode import LMFusion, decode_batch, lm_scorer
from lstmkit.tasks.speech.features import FeatureBatches, FeatureSpec, Normalizer, read_features
from lstmkit.tasks.speech.labels import class_indices, class_probabilities, fit_classes, label_metrics
from lstmkit.tasks.speech.metrics import (check_references, one_space, plot_ctc_posteriors, plot_decoder_attention,
                                          plot_spectrogram, recognition_metrics, word_scorer)
from lstmkit.tasks.speech.model import AcousticModel, CTCLoss, SpeechClassifier, SpeechSeq2Seq, receptive_field
from lstmkit.train.calibration import fit_temperature
from lstmkit.train.progress import track
from lstmkit.train.findings import prior_comparison
from lstmkit.train.metrics import never_predicted
from lstmkit.train.memory import batch_fix, built_within_memory, check_sequence_batch

if TYPE_CHECKING:
    from lstmkit.tasks.speech.stream import SpeechStream

__all__ = ["SpeechRecognizer", "TASK", "validation_split", "cut_warning", "DECODE_FACTOR", "check_packages"]

TASK = "speech"
VAL_SPLIT = "val_split"       # the data summary's record of a validation part drawn by label
_EVAL_BATCH = 32
_TRANSCRIBE_PART = 2 * _EVAL_BATCH      # files 'speech transcribe' decodes before it writes their lines
_S2S_SPECIALS = 4            # <pad> <unk> <bos> <eos>, the ids 0-3 nn.seq2seq reserves
# seq2seq: a transcript has at most this many times the longest training transcript's characters,
# plus 2, whatever the recording's length (decode_steps)
DECODE_FACTOR = 2


class SpeechRecognizer(LogProba, WeightRequests, RunEstimator):
    """Speech recognition (CTC or attention seq2seq over characters) or spoken-word classification.

    Hyper-parameters: a :class:`~lstmkit.tasks.speech.config.SpeechConfig` and/or any of its fields
    and :class:`~lstmkit.config.TrainConfig`'s as keyword arguments (listed below).

    Data: a manifest CSV (``path,text``), a folder of class folders (Speech Commands: each
    recording's text is its folder's name; ``validation_list.txt`` / ``testing_list.txt`` give the
    split), LibriSpeech or MLS (its top, a subset or a chapter folder: ``test-*`` subsets never trained
    on) or LJSpeech (``metadata.csv`` + ``wavs/``), a folder of audio files with ``label_from_name``, an
    :class:`~lstmkit.tasks.speech.data.Utterances` or a list of ``(path, text)`` pairs.

    Fitted attributes: ``config_``, ``symbols_`` (ctc / seq2seq) or ``classes_`` (classify),
    ``normalizer_``, ``net_``, ``result_``, ``metrics_``, ``data_summary_``, ``run_dir_``.
    """

    @classmethod
    def _check_given(cls, given, settings) -> None:
        check_given(given, settings)        # a setting of another mode, or without its partner

    _ANSWERS = ("predict(files) or transcribe(files), their transcripts (a mode='classify' model's labels, with "
                "predict_proba(files))")
    TASK = TASK
    CONFIG = SpeechConfig

    if TYPE_CHECKING:   # for type checkers only: RunEstimator.stream runs, and gives this kind of stream here
        def stream(self, mode: str = "auto", engine: str = "auto", max_streams: int | None = None) -> SpeechStream: ...

    def __init__(self, config: SpeechConfig | None = None, **params: Unpack[SpeechParams]) -> None:
        super().__init__(config, **params)     # here to type the parameters (RunEstimator's docstring)

    if TYPE_CHECKING:   # set_params (EstimatorParams') takes the constructor's keywords, typed as it types them
        def set_params(self, **params: Unpack[SpeechParams]) -> Self: ...

    @classmethod
    def _build_config(cls, params: dict[str, Any]) -> SpeechConfig:
        if params.get("lm") is not None:
            params = {**params, "lm": str(params["lm"])}      # a run folder, recorded as text
        return SpeechConfig.from_dict(params)

    # -- fitting ---------------------------------------------------------------------------
    @property
    def _ESTIMATOR_TYPE(self) -> str | None:
        """scikit-learn's kind: a classify model is a classifier (``cross_val_score`` stratifies by
        label and scores accuracy with :meth:`score`); a recogniser is none."""
        return "classifier" if self.config.mode == "classify" else None

    def fit(self, data, y=None, *, sample_weight=None, val_data=None, out: str | Path | None = None,
            run_dir: str | Path | None = None, resume: bool = False, callbacks=(), **overrides: Unpack[SpeechParams]) -> SpeechRecognizer:
        """Train on ``data`` (see the class: a manifest, a folder, pairs, ...) or, as scikit-learn's
        ``fit(X, y)``, on audio files ``data`` with their labels or transcripts ``y``, one each.
        A validation part is split off unless ``val_data`` is given (a folder's list files
        give the parts: its ``testing_list.txt`` recordings are never trained on). With ``out`` a run
        folder is created after every input has passed its checks; ``resume`` continues the run in
        ``run_dir`` from its last checkpoint. ``callbacks`` (trainer
        :class:`~lstmkit.train.callbacks.Callback` objects) see every epoch.

        ``sample_weight`` (classify; one weight per recording of ``data``, in the order read: ``X``'s, a
        manifest's rows) weighs each training example's loss, as the text and sequence classifiers'
        ``fit`` does: the loss is their weighted mean, and so is the validation loss over a validation
        part split off ``data`` (``val_data`` given apart is scored unweighted). ``overrides`` are settings
        for this fit, checked as the constructor checks them.

        A classify run's labels given as numbers, booleans or times -- in ``y``, or in ``(clip, label)``
        pairs, a ``{path: label}`` dict or a DataFrame's text column -- come back from ``classes_`` and
        ``predict`` as such, in their dtype; strings (and labels read from files) as strings."""
        kind = label_type(y)                  # labels given as numbers: predict answers in numbers
        dtype = label_dtype(y, kind)          # ... of y's dtype (int8, a zone's times)
        if y is not None:
            data = _paired(data, y)
        elif isinstance(data, Iterator):      # read twice: the labels as typed, then the recordings
            data = list(data)
        with self._fit_or_unchanged():        # a failed fit leaves the estimator as it was
            cfg = self._resolve_config(self.config, dict(overrides))
            if resume and run_dir is not None and y is None:      # the run's classes keep their order
                pre = read_meta(run_dir, TASK).get("preprocessing") or {}
                kind, dtype = pre.get("label_type"), pre.get("label_dtype")
            elif y is None and cfg.mode == "classify":            # (clip, label) pairs, a {path: label} dict, a
                given = given_labels(data)[0]                      # DataFrame: their labels as typed, as fit(X, y)'s
                kind = label_type(given)
                dtype = label_dtype(given, kind)
            self.label_type_ = kind if cfg.mode == "classify" else None
            self.label_dtype_ = dtype if cfg.mode == "classify" else None
            _validate(cfg, data, val_data)
            check_packages(cfg)
            if sample_weight is not None and cfg.mode != "classify":
                raise LstmkitError(f"sample_weight weighs the recordings of a classify run, not of this {cfg.mode} "
                                   "run", "drop sample_weight, or pass mode='classify' to train a classifier")
            utts = read_utterances(data, cfg.label_from_name)
            split_rule: dict[str, str] = {}          # how the validation part was drawn from data, for a redraw
            if sample_weight is not None:     # a copy: an Utterances given keeps none
                utts = dataclasses.replace(utts, weights=sample_weights(sample_weight, len(utts)))
            if val_data is not None:
                train, val = utts.training_part(), read_validation(val_data, cfg.label_from_name)
            else:
                drawn = (read_meta(run_dir, TASK).get("data") or {}) if resume and run_dir is not None else None
                train, val = validation_split(utts, cfg, drawn)
                split_rule = {VAL_SPLIT: "stratified"} if stratified_draw(cfg, drawn) else {}
            val_weights = val.weights if val_data is None else None
            if train.weights is not None:
                check_parts(train.weights, val_weights, "pass val_data")
            read = {"data": utts, **({"val_data": val} if val_data is not None else {})}
            recordings = {role: u.record() for role, u in read.items()}
            if resume and run_dir is not None:
                self._check_same_recordings(read, recordings, {"data": data, "val_data": val_data}, Path(run_dir))
            if cfg.sample_rate is None:
                cfg.sample_rate = common_rate(train.paths)
                check_hop(cfg.sample_rate, cfg.hop_ms)
                self._chose_from_data(sample_rate=None)
            self.config_ = cfg
            _check_mel_bands(self.spec_)
            self._fit_targets(train.texts + val.texts)      # a rare symbol may fall in the validation part only
            check_no_shared_utterances(train, val)
            warn_shared_recordings(train, val)
            if cfg.mode == "classify":
                warn_untrained_labels(train, val)
                if val_data is not None:        # a draw of data keeps every label with two recordings in both parts
                    warn_missing_classes(val.texts, train.texts, "the validation data",
                                         f"add recordings of each label to it, or leave {worded('--val', 'val_data')} "
                                         f"out: {opt('val_frac', cfg.val_frac)} of the training data is then held out, "
                                         "stratified by label", unit="recording")
            else:
                warn_untrained_symbols(train, val)
            lm = self._lm_fusion(cfg.lm) if cfg.lm and cfg.mode == "ctc" else None   # fail before training
            self.normalizer_ = Normalizer(cfg.normalize, mfcc_bands=cfg.n_mels if cfg.features == "mfcc" else None)
            raw_tr, dur_tr, notes = self._features(train.paths, normalize=False, progress=cfg.train.progress,
                                                   training=True)
            self.normalizer_.fit(raw_tr)
            x_tr = [torch.from_numpy(self.normalizer_(f)) for f in raw_tr]
            raw_va, dur_va, notes_va = self._features(val.paths, normalize=False, progress=cfg.train.progress)
            x_va = [torch.from_numpy(self.normalizer_(f)) for f in raw_va]
            y_tr, y_va = self._targets(train), self._targets(val, fitted=True)
            classes_tr, classes_va = y_tr, y_va       # classify: class indices, before weights join them
            if cfg.mode == "classify":    # the baseline's constant answer: the class of the largest training weight
                self.majority_ = int(np.bincount(classes_tr, weights=train.weights,
                                                 minlength=len(self.class_names_)).argmax())
                counts = np.bincount(classes_tr, minlength=len(self.class_names_))
                self.class_weights_ = ((len(classes_tr) / (len(counts) * np.maximum(counts, 1))).tolist()
                                       if cfg.class_weight == "balanced" else None)
            if train.weights is not None:     # [N, 2]: each example's class and weight
                y_tr = weighted_targets(torch.tensor(y_tr), torch.from_numpy(train.weights))
                if val_weights is not None:
                    y_va = weighted_targets(torch.tensor(y_va), torch.from_numpy(val_weights))
            if cfg.mode == "ctc":            # validation too: zero_infinity made an impossible clip's loss 0
                self._check_ctc_lengths(train, x_tr, y_tr)
                self._check_ctc_lengths(val, x_va, y_va)
            if cfg.mode == "seq2seq" and cfg.max_len_ratio is None:
                frames = [self._out_frames(len(x)) for x in x_tr]
                cfg.max_len_ratio = round(1.5 * max(len(y) / f for y, f in zip(y_tr, frames)) + 0.05, 3)
                self._chose_from_data(max_len_ratio=None)
            report_notes(notes + notes_va)
            self.data_summary_ = {
                "utterances": len(utts), "split": {"train": len(train), "val": len(val),
                                                   **({"test": utts.parts.count("test")} if "test" in utts.parts else {})},
                **split_rule,
                "hours": {"train": round(sum(dur_tr) / 3600, 4), "val": round(sum(dur_va) / 3600, 4)},
                "sample_rate": cfg.sample_rate, "converted": sum(n.conversion for n in notes + notes_va),
                # the longest training transcript in characters: it bounds every seq2seq decode (decode_steps)
                **({} if cfg.mode == "classify" else {"longest_transcript": max((len(y) for y in y_tr), default=0)}),
                "source": None if isinstance(data, Utterances) else utts.source,
                RECORDINGS_KEY: recordings,
                "val_source": val.source if val_data is not None and not isinstance(val_data, Utterances) else None,
                # config.lm is the path as typed; where it was, absolute, finds it from any other folder
                **({"lm_run": str(Path(cfg.lm).resolve())} if lm is not None else {}),
                # the weights trained with (a resume with others is refused by name), and how validation weighs
                **({WEIGHTS_KEY: weights_record(utts.weights, "weighted" if val_weights is not None
                                                else "unweighted")} if cfg.mode == "classify" else {})}

            torch.manual_seed(cfg.train.seed)
            self.net_ = built_within_memory(self._build_net, cfg.train.device, cfg,
                                            ("hidden_size", "num_layers", "embed_dim"))
            if cfg.mode == "seq2seq":     # the beam metrics() searches the validation part with, refused now
                check_beam_before(self.net_, x_va, _EVAL_BATCH, cfg.beam, cfg.max_len_ratio, self.decode_steps())
            self._check_batch_frames(x_tr, y_tr)
            augment = ({"freq_masks": cfg.freq_masks, "freq_width": cfg.freq_width, "time_masks": cfg.time_masks,
                        "time_width": cfg.time_width, "fill_mean": cfg.normalize == "none"}   # 0 is no mean of raw log-mels
                       if cfg.spec_augment else None)
            self._lm = lm

            scored: dict[str, Any] = {}         # the trained model's greedy validation scores, decoded once
            read: dict[str, Any] = {}           # classify: its validation probabilities and the seconds they took

            def val_outputs() -> list[np.ndarray]:
                # the doctor's comparison with the class prior and the metrics read the same model on the same
                # recordings: one pass over the validation part (they made two, each as long as an epoch's validation)
                if "outs" not in read:              # classify alone reads them: softened before any is read
                    t0 = _time.perf_counter()
                    read["outs"] = self._soften(self._outputs(x_va, logits=True), classes_va, val_weights)
                    read["seconds"] = _time.perf_counter() - t0
                return read["outs"]

            def greedy() -> dict[str, Any]:
                if "val" not in scored:
                    outs = val_outputs() if cfg.mode == "classify" else None
                    scored["val"] = self._score(x_va, val.texts, sum(dur_va), beam=1, lm=None, weights=val_weights,
                                                outs=outs, t0=None if outs is None
                                                else _time.perf_counter() - read["seconds"])
                return scored["val"]

            def evidence(net) -> dict[str, Any]:
                if cfg.mode == "classify":       # the class prior, as a text classifier's doctor compares with
                    cmp = prior_comparison(np.stack(val_outputs()), np.asarray(classes_va), val_weights,
                                           np.asarray(classes_tr), train.weights, self.class_weights_, self.class_names_)
                    return {"baselines": cmp} if cmp else {}
                return {"baselines": silence_comparison(greedy()["wer"], val.texts, cfg.mode, cfg.train.max_epochs)}

            def metrics() -> dict[str, Any]:
                m = {"val": greedy()}
                if cfg.mode == "classify":      # a label the model never answers: a collapse to the common ones
                    counts = np.bincount(classes_tr, minlength=len(self.class_names_))
                    note = never_predicted(m["val"], dict(zip(self.class_names_, counts.tolist())),
                                           self.class_weights_ is not None, "the validation part")
                    if note is not None:
                        warnings.warn(note, UserWarning, stacklevel=callers_level())
                if cfg.mode != "classify" and (cfg.beam > 1 or lm is not None):
                    m["val_beam"] = self._score(x_va, val.texts, sum(dur_va), beam=cfg.beam, lm=lm)
                m["train_seconds"] = round(self.train_seconds_, 2)
                return m

            return self._train_and_save(
                cfg.train, FeatureBatches(x_tr, y_tr, cfg.mode, cfg.train.batch_size, True, augment,
                                          cfg.speed_perturb, self._stretch_floors(y_tr)),
                FeatureBatches(x_va, y_va, cfg.mode, _EVAL_BATCH, False), loss_fn=self._loss(), out=out,
                run_dir=run_dir, resume=resume, callbacks=callbacks, metrics=metrics,
                evidence=evidence,
                plots=lambda folder: self._plots(folder, x_va[0], raw_va[0], Path(val.paths[0]).name),
                data={"data": data, "val_data": val_data})

    def _check_batch_frames(self, feats: list[torch.Tensor], targets) -> None:
        """Refuse a training batch whose activations exceed memory: the batch the longest recording
        falls in, padded to its frames, measured on its first 32 and 64 frames (with the longest
        transcript, seq2seq); a 30-minute recording is 180,000 frames."""
        cfg = self.config_
        longest = max((len(f) for f in feats), default=0)
        if longest // 2 < self.min_frames_:          # clips too short to measure apart: nothing to fear
            return
        make = None
        if cfg.mode == "seq2seq":
            x, tgt_in = max(feats, key=len), decoder_targets([torch.tensor(max(targets, key=len))], BOS_ID, EOS_ID)[0]
            make = lambda n: Padded((x[None, :n], torch.tensor([n]), tgt_in))  # noqa: E731
        seconds = lambda frames: f"{frames * cfg.hop_ms / 1000:.3g} s"  # noqa: E731
        check_sequence_batch(self.net_, feats, cfg.train.batch_size, cfg.train.device,
                             lambda most, longest: batch_fix(most, longest, lambda m: (
                                 "split long recordings into clips of one utterance" if m is None else
                                 f"split recordings longer than {seconds(m)} into clips of one utterance (the "
                                 f"longest is {seconds(longest)})")), "frames", make=make)

    def _check_same_recordings(self, read: dict[str, Any], now: dict[str, dict], given: dict[str, Any],
                               run_dir: Path) -> None:
        """Refuse a resume whose recordings are not the ones the run started on: a manifest's SHA-256
        covers its lines, not the audio they name, and a folder had no check at all, so a clip added,
        removed, renamed, re-recorded or given another transcript went into the resumed training.
        ``read``: the recordings per role (``Utterances``), ``now`` their records; ``given``: the
        fit's data arguments (a path, or what was given in memory)."""
        before = (self._unfinished_meta(run_dir).get("data") or {}).get(RECORDINGS_KEY) or {}
        for role, record in now.items():
            was = before.get(role)
            if isinstance(was, dict) and "audio" not in was:    # a run from before the audio sample: as it was
                record = read[role].record(audio=False)
            if not isinstance(was, dict) or was == record:      # a run from before the record: unchecked
                continue
            count = (f"{was.get('count')} then, {record['count']} now" if was.get("count") != record["count"]
                     else f"{record['count']} then and now")
            why = f"a recording added, removed, renamed or re-recorded, or its transcript changed; {count}"
            data = given.get(role)
            what = ((f"the recordings in {data} are not the ones" if Path(data).is_dir() else
                     f"the recordings {data} lists are not the ones") if isinstance(data, (str, Path)) else
                    f"the {type(data).__name__ if not isinstance(data, (list, tuple)) else 'list'} given as {role} "
                    "is not the one")
            raise LstmkitError(f"the data changed since {run_dir} started: {what} it trained on ({why})",
                               "a resumed run must train on the data it started on: restore them, or start a new "
                               f"run without {opt('resume', True)}")

    def check(self, data, **overrides: Any) -> None:
        """Check the settings (``overrides``) and read the manifest ``data`` as :meth:`fit` would, without
        training (a
        search calls this once before its trials)."""
        with public_call():
            cfg = self._resolve_config(self.config, overrides)
            _validate(cfg, data)
            check_packages(cfg)
            read_utterances(data, cfg.label_from_name)

    @classmethod
    def resume(cls, run_dir: str | Path, data=None, val_data=None, *, y=None,
               sample_weight=None, **shown: Unpack[ResumeShown]) -> SpeechRecognizer:
        """Continue the interrupted run ``run_dir`` from its last checkpoint (same config, same recordings,
        ``data`` given again where the run was fitted on recordings in memory, ``val_data`` where its
        validation file moved; a run fitted on audio files with their labels or transcripts in ``y`` is
        given both again, and its ``sample_weight``, checked to be the same). ``progress``, ``tensorboard``,
        ``doctor`` and ``device`` (``**shown``) may change how the run shows and runs (None: as recorded)."""
        with public_call():
            est, source, d = cls._resume_start(run_dir, data, "recordings given in memory",
                                               worded("pass them again with --data (in Python: resume(RUN, data=files, "
                                                      "y=y))", "pass them again: resume(RUN, data=files, y=y)"))
            return est._shown(shown).fit(source, y, sample_weight=sample_weight,
                           val_data=cls._resume_file({"data": d}, run_dir, "val_source", val_data, "--val",
                                                     "val_data"),
                           run_dir=run_dir, resume=True)

    # -- using a fitted model --------------------------------------------------------------
    def transcribe(self, files: Sequence[str | Path] | str | Path, beam: int | None = None,
                   lm: str | Path | None | bool = None, *, sample_rate: int | None = None) -> list[str]:
        """The text (ctc, seq2seq) or label (classify) of each audio file (a folder: of every audio file
        in it and its sub-folders) or recording in memory: a 1-D numpy array or torch tensor of samples
        (float in [-1, 1], or int16 PCM), a list of them (an item 2-D: its channels mixed down), or a
        2-D array with one clip per row (scikit-learn's ``X``: one answer a row), at
        ``sample_rate`` Hz (resampled as a file is), read as the same audio written to a WAV file.
        ``lm`` overrides the run's language model (a run folder, or False for none); ``beam``: the decoding
        beam width (1: greedy; None: the run's ``beam``). ``files`` may be one path or recording, or a list."""
        with public_call():
            self._check_fitted()
            paths = audio_sources(files, sample_rate)
            return [text for part in self._transcribe_parts(paths, beam, lm, part=max(len(paths), 1)) for text in part]

    def _transcribe_parts(self, paths: Sequence[str], beam: int | None = None, lm: str | Path | None | bool = None,
                          part: int | None = None) -> Iterator[list[str]]:
        """:meth:`transcribe` of the audio files ``paths``, ``part`` files at a time: yields each part's answers
        as it is decoded, so that ``lstmkit speech transcribe`` writes a folder's lines as they come (Ctrl-C an
        hour into a long folder kept nothing: every line was printed at the end). Each recording is decoded
        apart from the others in its batch, so the answers are :meth:`transcribe`'s; the warnings (audio
        converted, clips over a minute, transcripts cut) are the whole's, once, after the last part, each
        naming the caller's line. ``part``: :data:`_TRANSCRIBE_PART` by default (:meth:`transcribe`: one
        part, every file)."""
        with public_call():
            self._check_fitted()
            fusion = self._pick_lm(lm, beam)
            self._beam_width(beam)              # a bad beam before any file is read
        notes, durations, frames, cut = [], [], [], []
        part = part or _TRANSCRIBE_PART
        for start in range(0, len(paths), part):
            chunk = list(paths[start:start + part])
            with public_call():
                raw, seconds, read_notes = read_features(chunk, self.spec_, self.min_frames_, self._progress)
                texts, cut_here = self._recognise([torch.from_numpy(self.normalizer_(f)) for f in raw], beam, fusion)
            notes += read_notes
            durations += seconds
            frames += [len(f) for f in raw]
            cut += [chunk[i] for i in cut_here]
            yield texts
        with public_call():
            warn_long_clips(list(paths), durations, frames)
            report_notes(notes)
            if cut:
                warnings.warn(cut_warning(cut, self.decode_steps()), UserWarning, stacklevel=callers_level())

    def predict(self, files: Sequence[str | Path] | str | Path, beam: int | None = None,
                lm: str | Path | None | bool = None, *, sample_rate: int | None = None) -> np.ndarray:
        """:meth:`transcribe` of ``files`` (with ``beam``, ``lm`` and ``sample_rate`` as it takes them) as
        scikit-learn's estimators answer: an array ``[N]`` (object dtype) of
        the texts (ctc, seq2seq) or labels (classify: items of ``classes_``, so ``predict(X) == y``
        and ``classes_[predict_proba(X).argmax(1)]`` compare element by element, as for the other
        classifiers; numbers when ``fit`` was given ``y`` as numbers); :meth:`transcribe` gives the
        answers as a list of text (samples in memory too)."""
        with public_call():
            texts = self.transcribe(files, beam, lm, sample_rate=sample_rate)
            if self.config_.mode != "classify" or getattr(self, "label_type_", None) is None:
                return np.asarray(texts, dtype=object)
            index = {c: k for k, c in enumerate(self.class_names_)}
            return self.classes_[[index[t] for t in texts]]

    def predict_proba(self, files, *, sample_rate: int | None = None) -> np.ndarray:
        """Class probabilities ``[N, C]`` of each audio file or recording in memory in ``files`` (classify; as
        :meth:`transcribe` reads them, at ``sample_rate`` Hz), columns in ``classes_``' order."""
        with public_call():
            self._check_fitted()
            if self.config_.mode != "classify":
                raise LstmkitError(f"predict_proba answers a classify run, not this {self.config_.mode} run",
                                   "call predict (transcribe) for its text")
            feats, _, notes = self._features(audio_sources(files, sample_rate))
            report_notes(notes)
            return np.stack(self._outputs(feats)).astype(np.float64)

    @property
    def classes_(self) -> np.ndarray:
        """The classes ``[C]`` (classify) as scikit-learn has them: the label strings in ``np.unique``'s order,
        ``predict_proba``'s columns, or the numbers (booleans) ``fit`` was given in ``y``, in their
        order (5 before 10); ``class_names_`` is the list of them as the text ``lstmkit.json`` records."""
        if "class_names_" not in vars(self):       # AttributeError: hasattr and scikit-learn read it as unfitted
            raise AttributeError(f"this {type(self).__name__} is not a fitted classify model, so it has no classes_")
        return typed_labels(self.class_names_, getattr(self, "label_type_", None), vars(self).get("label_dtype_"))

    def audio_inputs(self, path: str | Path) -> torch.Tensor:
        """The normalised features ``[T, F]`` the network reads of one audio file, ``path`` (its path, read as
        :meth:`transcribe` reads a file; not samples in memory): what ``inspect gates --audio`` runs the network on."""
        with public_call():
            self._check_fitted()       # one file: read_audio names a folder as one
            feats, _, notes = self._features([str(path)] if Path(path).is_dir() else audio_paths([path]))
            report_notes(notes)
            return feats[0]

    def attention(self, recording: str | Path | Any, beam: int | None = None, *,
                  sample_rate: int | None = None) -> tuple[list[str], np.ndarray]:
        """``(rows, weights [len(rows), T'])`` of one recording, ``recording`` (an audio file's path, or its
        samples in memory at ``sample_rate`` Hz, as :meth:`transcribe` reads them; ``sample_rate``: None
        for a file) over the encoder's frames (one every ``hop_ms * 2 ** subsample`` ms). A seq2seq run: where its
        decoder looked as it wrote each character (``beam``: 1 unless given), the last row ``</s>``'s
        when it ended; a model that has learned to listen reads the recording left to right, a diagonal
        band. A classify run with ``pooling='attention'``: one row, the label it answered, weighing the
        frames its answer came from. Training draws it for a validation clip (``plots/attention.png``),
        as ``inspect attention --audio`` does for any recording."""
        with public_call():
            self._check_fitted()
            why = self._no_attention()
            if why is not None:
                raise LstmkitError(*why)
            if beam is not None and self.config_.mode == "classify":
                raise LstmkitError(f"{opt('beam')} applies to a seq2seq run, not to this classify run",
                                   worded("drop --beam", "leave beam out"))
            feats = self._one_recording(recording, sample_rate, "attention() shows")
            return self._attention(feats[0], 1 if beam is None else self._beam_width(beam))

    def _one_recording(self, recording, sample_rate: int | None, does: str) -> list:
        """The features of ``recording``, one file or one clip's samples (``does``: the method's words for
        what it does with it, for the error naming more), its notes said."""
        paths = audio_sources(recording, sample_rate)
        if len(paths) != 1:
            raise LstmkitError(f"{does} one recording, got {len(paths)}", "pass one file's path, or one clip's samples")
        feats, _, notes = self._features(paths)
        report_notes(notes)
        return feats

    def output_chars(self, recording: str | Path | Any, beam: int = 1, *,
                     sample_rate: int | None = None) -> tuple[list[str], list[int]]:
        """seq2seq: ``(characters, ids)`` the decoder writes for one recording, ``recording`` (an audio file's
        path, or its samples in memory at ``sample_rate`` Hz, as :meth:`transcribe` reads them;
        ``sample_rate``: None for a file), ending at ``</s>`` when it ended: the steps ``inspect gates
        --audio`` records the decoder's gates over. ``beam``: the beam width (1, the default: greedy)."""
        with public_call():
            self._check_fitted()
            if self.config_.mode != "seq2seq":
                raise LstmkitError(f"output_chars() is a seq2seq run's decoder output; this is a {self.config_.mode} "
                                   "run", "call transcribe for its text")
            feats = self._one_recording(recording, sample_rate, "output_chars() reads")
            ids = list(self._hypotheses(feats, self.net_.eval(), self._beam_width(beam))[0].ids)
            return self._written(ids), ids

    def _no_attention(self) -> tuple[str, str] | None:
        """Why :meth:`attention` has nothing to show of this run (problem, fix), or None."""
        c = self.config_
        if c.mode == "ctc":
            return ("attention() shows a seq2seq run's decoder attention or a classify run's attention pooling; "
                    "this is a ctc run", "an lstm-attention or transformer encoder's self-attention: "
                    "lstmkit.inspect.attention(model, model.audio_inputs('clip.wav'))")
        if c.mode == "classify" and c.pooling != "attention":
            return (f"this classify model pools with {c.pooling!r}, so it has no attention-pooling weights",
                    f"train with {opt('pooling', 'attention')} to see the frames its label comes from")
        if c.mode == "seq2seq" and self.net_.attn is None:
            return f"this model was trained with {opt('attention', 'none')}", "it has no attention to show"
        return None

    @torch.no_grad()
    def _attention(self, feats: torch.Tensor, beam: int = 1) -> tuple[list[str], np.ndarray]:
        """:meth:`attention` of one recording's normalised features ``[T, F]``."""
        net = self.net_.eval()
        if self.config_.mode == "seq2seq":
            hyp = self._hypotheses([feats], net, beam)[0]
            return self._written(hyp.ids), hyp.attention.numpy()
        h, lengths = net.subsample(feats[None], torch.tensor([len(feats)]))       # [1, T', C]
        logits, weights = net.classifier.forward_with_weights(h[:, : int(lengths.max())], lengths)
        label = self.class_names_[int(class_probabilities(logits)[0].argmax())]
        return [label], weights.double().numpy()                                   # [1, T']

    def write_attention(self, recording: str | Path | Any, path: str | Path, beam: int | None = None, *,
                        sample_rate: int | None = None) -> Path:
        """Draw :meth:`attention` of one recording, ``recording`` (an audio file's path, or its samples in
        memory at ``sample_rate`` Hz; ``sample_rate``: None for a file), to ``path`` (``.png``, ``.svg``,
        ``.pdf``) and return ``path``. ``beam``: a seq2seq run's beam width (None: 1, greedy)."""
        with public_call():
            rows, weights = self.attention(recording, beam, sample_rate=sample_rate)
            name = Path(recording).name if isinstance(recording, (str, Path)) else "the recording"
            self._draw_attention(rows, weights, Path(path), name)
            return Path(path)

    def _draw_attention(self, rows: list[str], weights: np.ndarray, path: Path, name: str) -> None:
        c = self.config_
        title, axis = ((f"attention of {name}", "character written") if c.mode == "seq2seq"
                       else (f"attention pooling of {name}", "label answered"))
        plot_decoder_attention(weights, rows, path, title, c.hop_ms * 2 ** c.subsample, axis)

    def _written(self, ids: Sequence[int]) -> list[str]:
        """seq2seq: the character of each output id, ``</s>`` for the end."""
        return [self.symbols_.tokens[t - _S2S_SPECIALS + 1] if t >= _S2S_SPECIALS else "</s>" if t == EOS_ID
                else "<unk>" for t in ids]

    def evaluate(self, data, *, label_from_name: str | None = None, beam: int | None = None,
                 lm: str | Path | None | bool = None, sample_rate: int | None = None) -> dict[str, Any]:
        """WER / CER / RTF (ctc, seq2seq) against the transcripts as written (a character the model
        cannot write is one warning and counts as an error) or accuracy and confusion matrix (classify);
        of a folder with a ``testing_list.txt``, its recordings only (the official test part).
        ``(samples, text)`` pairs are recordings in memory at ``sample_rate`` Hz (see :meth:`transcribe`).
        ``data`` is read as :meth:`fit` reads it, a folder of audio files with ``label_from_name`` (None: the
        pattern the run was trained with); ``beam`` and ``lm`` as :meth:`transcribe` takes them.
        A classify run refuses labels of another type than predict answers (``'1'`` for the class ``1``),
        in pairs, a dict or a DataFrame, as the text and sequence classifiers do."""
        with public_call():
            self._check_fitted()
            data = list(data) if isinstance(data, Iterator) else data       # read twice: labels, then clips
            self._check_label_types(*given_labels(data))
            return self._evaluate(data, label_from_name, beam, lm, sample_rate)

    def _evaluate(self, data, label_from_name: str | None = None, beam: int | None = None,
                  lm: str | Path | None | bool = None, sample_rate: int | None = None,
                  sample_weight=None) -> dict[str, Any]:
        """:meth:`evaluate` after its labels' check; with ``sample_weight`` (classify), the accuracy,
        F1 and per-class scores weighed by it (``"weighted": true``), as scikit-learn's metrics do."""
        if self.config_.mode != "classify":
            word_scorer()                              # before the features: scored at the end
        data = memory_utterances(data, sample_rate)
        check_pattern_applies(label_from_name, data)          # the run's own pattern is for folders only
        utts = read_utterances(data, label_from_name, as_trained=self.config_.label_from_name).test_part()
        self._check_references(utts)                 # unknown labels fail before any work
        weights = None if sample_weight is None else sample_weights(sample_weight, len(utts))
        fusion = self._pick_lm(lm, beam)
        t0 = _time.perf_counter()
        feats, durations, notes = self._features(utts.paths)
        report_notes(notes)
        if self.config_.mode == "ctc":
            self._warn_unspellable(utts, feats)
        return self._score(feats, utts.texts, sum(durations), beam, fusion, t0=t0, names=utts.paths, weights=weights)

    def _warn_unspellable(self, utts: Utterances, feats) -> None:
        """One warning for the references longer than their recordings' output frames can spell, which
        training refuses (:meth:`_check_ctc_lengths`) and evaluate scored without a word: each an error no
        model avoids, most often a transcript that belongs to another recording."""
        short = [(p, self._out_frames(len(x)), _ctc_frames(list(one_space(t))))
                 for p, x, t in zip(utts.paths, feats, utts.texts)]
        short = [s for s in short if s[1] < s[2]]
        if short:
            path, have, need = short[0]
            warnings.warn(f"{len(short)} of {len(utts)} reference transcripts are longer than their recordings can "
                          f"spell (first: {path}, {have} output frames for {need} symbols): the model cannot write "
                          "them, and they are scored as errors — check that each transcript belongs to its recording",
                          UserWarning, stacklevel=callers_level())

    def score(self, data=None, y=None, *, sample_rate: int | None = None, sample_weight=None, X=None) -> float:
        """scikit-learn's ``score``, greater is better: the accuracy (classify) or minus the word
        error rate (ctc, seq2seq) of :meth:`evaluate` on ``data``: data as :meth:`evaluate` reads it (a
        manifest, a folder, ``(path, text)`` pairs), or audio files or recordings in memory (at
        ``sample_rate`` Hz) with their labels or transcripts ``y``, one each. ``sample_weight``
        (classify; one weight per recording scored, in the order read) weighs each recording's hit, as
        ``accuracy_score`` does and the text and sequence classifiers' ``score``. ``X=``, the first
        argument's older name, still works (``data=``, as every estimator's ``score`` and ``evaluate`` name it)."""
        with public_call():
            self._check_fitted()
            if X is not None and data is not None:
                raise LstmkitError("score() got both data and X, two names of the data to score",
                                   "pass it once, as data= (X= is its older name) or first")
            X = data if X is None else X
            if X is None:
                raise LstmkitError("score() needs the data to score", "pass it first: model.score(data) or "
                                   "model.score(files, y)")
            mode = self.config_.mode
            if sample_weight is not None and mode != "classify":
                raise LstmkitError(f"sample_weight weighs the recordings of a classify run's score, not of this {mode} "
                                   "run's word error rate", "drop sample_weight (a word error rate counts the words "
                                   "of every recording alike)")
            if y is None:
                X = list(X) if isinstance(X, Iterator) else X
                self._check_label_types(*given_labels(X))
            else:                                      # '1' scored as the class 1 (fit given y as numbers), or 1 as '1'
                self._check_label_types(y, "y")
            m = self._evaluate(X if y is None else _paired(X, y), sample_rate=sample_rate, sample_weight=sample_weight)
            if mode != "classify":
                return -float(m["wer"])
            return float(m["accuracy"])                # weighed by sample_weight when given

    def _check_label_types(self, labels, where: str) -> None:
        """A classify run: labels scored against predict's answers are of its type (check_scored_labels)."""
        if self.config_.mode == "classify":
            check_scored_labels(labels, getattr(self, "label_type_", None), self.class_names_, where or "the labels")

    # -- persistence -----------------------------------------------------------------------
    def _load_state(self, run_dir: Path, meta: dict[str, Any]) -> None:
        if self.config_.sample_rate is None:        # a fit records the rate it chose: null was a TypeError at predict
            raise ValueError("its config's sample_rate is null, where a trained model records the rate it reads at")
        pre = meta["preprocessing"]
        self.normalizer_ = Normalizer.from_dict(pre["normalizer"])
        if self.config_.mode == "classify":
            self.class_names_ = list(pre["classes"])      # sorted when saved: classes_' order
            self.label_type_ = pre.get("label_type")      # None: text labels (and runs saved before it)
            self.label_dtype_ = pre.get("label_dtype")    # None: numpy's choice (and runs saved before it)
            self.majority_ = pre.get("majority")          # None: no baseline (runs saved before it)
            self.class_weights_ = pre.get("class_weights")
        else:
            self.symbols_ = Symbols.from_dict(pre["symbols"])

    # -- internals: data -------------------------------------------------------------------
    @property
    def spec_(self) -> FeatureSpec:
        """The fitted model's audio features (rate, kind, mel bands, window and hop), as it reads every clip."""
        c = self.config_
        return FeatureSpec(c.sample_rate, c.features, c.n_mels, c.n_mfcc, c.win_ms, c.hop_ms)

    @property
    def min_frames_(self) -> int:
        """The fewest feature frames a clip must have for the fitted model's subsampling to leave one."""
        return receptive_field(self.config_.subsample) if self.config_.subsample else 1

    def _out_frames(self, frames: int) -> int:
        for _ in range(self.config_.subsample):
            frames = (frames - 3) // 2 + 1
        return frames

    def _features(self, paths: Sequence[str], normalize: bool = True, progress: str | None = None,
                  training: bool = False):
        """Features ``[T, F]`` per file (normalised unless told not to), durations (s), notes; ``progress``: fit's.
        Recordings over a minute are warned of (:func:`warn_long_clips`; ``training``: with their
        ratio to the median clip)."""
        feats, durations, notes = read_features(paths, self.spec_, self.min_frames_, progress or self._progress)
        warn_long_clips(paths, durations, [len(f) for f in feats],
                        float(np.median(durations)) if training and durations else None)
        return ([torch.from_numpy(self.normalizer_(f)) for f in feats] if normalize else feats), durations, notes

    def _stretch_floors(self, targets) -> int | list[int]:
        """The fewest frames ``--speed-perturb`` may shrink each training clip to: the receptive field, and
        in CTC as many as its transcript needs (``targets``: its symbol ids). Under the receptive field
        alone, a clip that fits its transcript was shrunk below it: an infinite CTC loss, which
        ``zero_infinity`` made 0 without a word (27 of 50 epochs of a clip with one frame to spare, at 0.3)."""
        if self.config_.mode != "ctc":
            return self.min_frames_
        floors = []
        for y in targets:
            frames = _ctc_frames(y)
            for _ in range(self.config_.subsample):       # the inverse of _out_frames: (n - 3) // 2 + 1
                frames = 2 * frames + 1
            floors.append(max(self.min_frames_, frames))
        return floors

    def _fit_targets(self, texts: Sequence[str]) -> None:
        if self.config_.mode == "classify":
            read = FROM_TEXT.get(self.label_type_)        # numbers in their order (5 before 10)
            self.class_names_ = sorted(fit_classes(texts), key=read) if read else fit_classes(texts)
        else:
            self.symbols_ = Symbols.fit(texts)

    def _targets(self, utts: Utterances, fitted: bool = False) -> list:
        mode = self.config_.mode
        if mode == "classify":
            return class_indices(self.class_names_, utts.paths, utts.texts)
        shift = _S2S_SPECIALS - 1 if mode == "seq2seq" else 0
        return [[i + shift for i in self.symbols_.encode(t, f" of {p}")] for p, t in zip(utts.paths, utts.texts)]

    def _check_references(self, utts: Utterances) -> None:
        """An unknown label is refused (classify); a transcript is scored as written (see check_references)."""
        if self.config_.mode == "classify":
            self._targets(utts, fitted=True)
        else:
            check_references(self.symbols_.chars, utts.paths, utts.texts)

    def _check_ctc_lengths(self, utts: Utterances, feats, targets) -> None:
        for p, x, y in zip(utts.paths, feats, targets):
            need = _ctc_frames(y)
            have = self._out_frames(len(x))
            if have < need:
                raise LstmkitError(f"{p} is too short for its transcript: {have} output frames for {need} symbols",
                                   f"lower {opt('subsample')}, or check the transcript")

    # -- internals: model ------------------------------------------------------------------
    def _build_net(self):
        c = self.config_
        dim = self.spec_.dim
        if c.mode == "ctc":
            return AcousticModel(dim, len(self.symbols_), c.subsample, c.channels, c.model, c.hidden_size,
                                 c.num_layers, c.dropout)
        if c.mode == "classify":
            return SpeechClassifier(dim, len(self.class_names_), c.subsample, c.channels, embed_dim=c.embed_dim,
                                    encoder=c.model, hidden_size=c.hidden_size, num_layers=c.num_layers,
                                    dropout=c.dropout, pooling=c.pooling)
        return SpeechSeq2Seq(dim, len(self.symbols_) - 1 + _S2S_SPECIALS, c.subsample, c.channels,
                             embed_dim=c.embed_dim, hidden_size=c.hidden_size, num_layers=c.num_layers,
                             encoder=c.model, attention=c.attention, dropout=c.dropout)

    def _loss(self):
        if self.config_.mode == "ctc":
            return CTCLoss()
        if self.config_.mode == "classify":
            weights = getattr(self, "class_weights_", None)      # balanced: each label's loss by its rarity
            return ClassificationLoss(len(self.class_names_), None if weights is None else
                                      torch.tensor(weights, dtype=torch.float32))
        return sequence_loss(self.config_.label_smoothing)

    # -- internals: decoding -----------------------------------------------------------------
    def _lm_fusion(self, run) -> LMFusion:
        scorer = lm_scorer(run, "torch")            # the lm room, found by name: no import of it
        chars = self.symbols_.chars if hasattr(self, "symbols_") else []
        return LMFusion(scorer, chars, self.config_.lm_weight, self.config_.length_bonus)

    def _pick_lm(self, lm, beam=None) -> LMFusion | None:
        """The language model to fuse (``lm``: a run folder, None for the run's own, False for none);
        a beam or a language model this mode cannot use is refused, as 'train' refuses them."""
        mode = self.config_.mode
        if beam is not None and mode == "classify":       # silently ignored before: one label needs no beam
            raise LstmkitError(f"{opt('beam')} applies to a ctc or seq2seq run, not to this classify run",
                               worded("drop --beam", "leave beam out"))
        if lm not in (None, False) and mode != "ctc":     # silently decoded without it before
            raise LstmkitError(f"{opt('lm')} fuses a language model into a ctc run, not into this {mode} run",
                               worded("drop --lm", "leave lm out"))
        if mode != "ctc" or lm is False:
            return None
        if lm is not None:
            return self._lm_fusion(lm)
        if getattr(self, "_lm", None) is None and self.config_.lm:
            try:
                self._lm = self._lm_fusion(self._own_lm())
            except LstmkitError as e:
                raise LstmkitError(f"the language model this run was trained with cannot be loaded ({e.message})",
                                   worded("pass --lm RUN (Python: lm=RUN) for another one, or --no-lm (lm=False)",
                                          "pass lm=RUN for another one, or lm=False")) from None
        return getattr(self, "_lm", None)

    def _own_lm(self) -> str:
        """The run's language model: where it was when the run trained, else ``config_.lm`` as it
        was typed, relative to the folder training ran in (``--lm runs/lm-…``: a transcribe or a
        service started in another folder found no such run, and every request was refused)."""
        recorded = (getattr(self, "data_summary_", None) or {}).get("lm_run")
        return next((p for p in (recorded, self.config_.lm) if isinstance(p, str) and (Path(p) / META_FILE).is_file()),
                    self.config_.lm)

    @torch.no_grad()
    def _outputs(self, feats: list[torch.Tensor], net=None, beam: int = 1, logits: bool = False):
        """Per utterance: CTC log-probs ``[T', V]`` (numpy), class probabilities (``logits``: the net's
        logits, ``[C]`` or one for two classes), or s2s token ids (``beam``). ``net`` stands in for
        ``net_`` (seq2seq: any module with its ``encode`` / ``step``, e.g. the ONNX graphs); None: the network this
        model answers with (:meth:`_answering_net`: an int8 run's graph(s) where its export chose them)."""
        net = (self._answering_net() if net is None else net).eval()
        if self.config_.mode == "seq2seq":
            return self._hypotheses(feats, net, beam)
        out: list[Any] = [None] * len(feats)
        batches = BucketBatches(feats, None, _EVAL_BATCH)
        for idx, x, lengths in track(batches.iter_indexed(), len(batches), "recognising", self._progress,
                                     work=batches.padded_steps()):
            idx = idx.tolist()
            if self.config_.mode == "ctc":
                lp, lens = net(x, lengths)
                for k, i in enumerate(idx):
                    out[i] = lp[k, : int(lens[k])].numpy()
            else:
                probs = net(x, lengths) if logits else class_probabilities(net(x, lengths))
                for k, i in enumerate(idx):
                    out[i] = probs[k].numpy()
        return out

    def _soften(self, logits: list[np.ndarray], classes: Sequence[int], weights: np.ndarray | None) -> list[np.ndarray]:
        """classify: the validation part's ``logits`` (:meth:`_outputs`) divided by the temperature (>= 1) of
        their lowest log loss (:func:`~lstmkit.train.calibration.fit_temperature`, weighted as early
        stopping's loss is), which is folded into the head's weights, so predict_proba, the saved weights and
        every export give the softened probabilities and the same answers; returns the part's probabilities
        (one pass over it). ``lstmkit.json`` records the temperature (``temperature``)."""
        z = torch.from_numpy(np.stack(logits))
        t = fit_temperature(z, torch.as_tensor(classes, dtype=torch.long),
                            None if self.class_weights_ is None else torch.tensor(self.class_weights_),
                            None if weights is None else torch.from_numpy(np.asarray(weights, dtype=np.float64)))
        head = self.net_.classifier.head
        with torch.no_grad():
            head.weight.div_(t)
            head.bias.div_(t)
        self.data_summary_["temperature"] = round(t, 4)
        return list(class_probabilities(z / t).numpy())

    def _hypotheses(self, feats: list[torch.Tensor], net, beam: int) -> list[Any]:
        """seq2seq: each utterance's beam search hypothesis, a batch at a time, or several batches
        side by side on the decoding pool's threads when ``net`` declares workers (the ONNX
        engine's: :func:`~lstmkit.nn.seq2seq.decode_batches`)."""
        out: list[Any] = [None] * len(feats)
        work, decoded = decode_batches(net, feats, _EVAL_BATCH, beam, 0.0, self.config_.max_len_ratio,
                                       self.decode_steps())
        for idx, hyps in track(decoded, len(work), "recognising", self._progress, work=work):
            for i, h in zip(idx.tolist(), hyps):
                out[i] = h
        return out

    def decode_steps(self) -> int | None:
        """seq2seq: the most characters any transcript may have, whatever the recording's length:
        :data:`DECODE_FACTOR` times the longest transcript the model was trained on, plus 2. A model
        that never writes ``<eos>`` stops there (with a warning naming the clips) instead of decoding
        ``max_len_ratio`` characters a frame of an hour-long recording. None (no bound but the ratio's,
        as before) for a run that recorded no longest transcript, and for ctc and classify runs."""
        self._check_fitted()
        longest = (getattr(self, "data_summary_", None) or {}).get("longest_transcript")
        if self.config_.mode != "seq2seq" or not longest:
            return None
        return DECODE_FACTOR * int(longest) + 2

    def _recognise(self, feats, beam, lm, net=None, outs=None) -> tuple[list[str], list[int]]:
        """The text or label of each utterance, and the indices of the seq2seq transcripts cut at
        :meth:`decode_steps` without ending; ``outs``: :meth:`_outputs` of ``feats``, already read."""
        beam = self._beam_width(beam)
        if outs is None:
            outs = self._outputs(feats, net, beam)     # beam passed on: a service decodes requests at once
        mode = self.config_.mode
        if mode == "classify":
            return [self.class_names_[int(np.argmax(p))] for p in outs], []
        if mode == "seq2seq":
            return ([self.symbols_.decode([t - _S2S_SPECIALS + 1 for t in h.ids if t >= _S2S_SPECIALS]) for h in outs],
                    [i for i, h in enumerate(outs) if h.cut])
        return [self.symbols_.decode(ids) for ids in decode_batch(outs, None, beam, lm, self._progress)], []  # greedy at beam 1, no LM

    def _beam_width(self, beam) -> int:
        """The beam a call decodes with: ``beam``, checked, or the run's (None). Never kept on the
        estimator: a transcribe changes nothing of it (one that failed left its beam behind, and
        threads transcribing at once read each other's into their metrics)."""
        beam = self.config_.beam if beam is None else python_values({"beam": beam})["beam"]     # np.int64: an int
        if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
            raise LstmkitError(f"`beam` must be a positive integer, got {beam!r}",
                               f"pass {opt('beam', 4)}, say (1 = greedy)")
        return beam

    def _decode(self, feats, beam, lm, net=None, names: Sequence[str] | None = None, outs=None) -> list[str]:
        """The text or label of each utterance; one warning naming those of ``names`` (the clips'
        names; None: no warning, as validation during training) whose transcript was cut."""
        texts, cut = self._recognise(feats, beam, lm, net, outs)
        if cut and names is not None:
            warnings.warn(cut_warning([names[i] for i in cut], self.decode_steps()),
                          UserWarning, stacklevel=callers_level())
        return texts

    def _score(self, feats, texts, audio_seconds: float, beam, lm, t0: float | None = None,
               names: Sequence[str] | None = None, weights: np.ndarray | None = None, outs=None) -> dict[str, Any]:
        """The metrics of ``feats`` against ``texts``; ``outs``: their :meth:`_outputs`, already read (``t0``
        then says when that began, for the real-time factor)."""
        t0 = _time.perf_counter() if t0 is None else t0
        if self.config_.mode == "classify" and outs is None:       # the probabilities, for the calibration too
            outs = self._outputs(feats)
        hyps = self._decode(feats, beam, lm, names=names, outs=outs)
        seconds = _time.perf_counter() - t0
        if self.config_.mode == "classify":      # a validation part split off weighted data: weighted
            m = label_metrics(self.class_names_, texts, hyps, weights, getattr(self, "majority_", None),
                              proba=np.stack(outs).astype(np.float64))
        else:
            m = recognition_metrics(texts, hyps)
            m.update({"beam": self._beam_width(beam), "lm": lm is not None})
        m["rtf"] = round(seconds / max(audio_seconds, 1e-9), 5)
        m["examples"] = [{"ref": r, "hyp": h} for r, h in list(zip(texts, hyps))[:10]]
        return m

    def _plots(self, run_dir: Path, feats: torch.Tensor, raw: np.ndarray, name: str) -> None:
        from lstmkit.inspect.plots import plot_history
        plot_history(self.result_.history, run_dir / "plots" / "loss.png", self.result_.best_epoch,
                     self.config_.loss_label(),
                     f"{run_dir.name}: {self.config_.model} speech model, {self.config_.mode}")
        plot_spectrogram(raw, run_dir / "plots" / "spectrogram.png", f"{self.config_.features} of {name}",
                         self.config_.hop_ms, self.config_.features)
        if self.config_.mode == "ctc":
            lp = self._outputs([feats])[0]
            frame_ms = self.config_.hop_ms * 2 ** self.config_.subsample
            plot_ctc_posteriors(lp, self.symbols_.tokens, run_dir / "plots" / "ctc_posteriors.png",
                                f"CTC posteriors of {name}", frame_ms)
        if self.config_.mode == "classify":
            from lstmkit.inspect.confusion import plot_confusion, plot_reliability
            m = self.metrics_["val"]
            plot_confusion(m["confusion"]["matrix"], m["confusion"]["labels"], run_dir / "plots" / "confusion.png",
                           f"validation: accuracy {m['accuracy']:.3f} ({m['n']} clips)")
            if "reliability" in m:
                plot_reliability(m["reliability"], run_dir / "plots" / "reliability.png",
                                 f"validation: accuracy {m['accuracy']:.3f}, ECE {m['ece']:.3f}")
        if self.config_.mode != "ctc" and self._no_attention() is None:
            self._draw_attention(*self._attention(feats), run_dir / "plots" / "attention.png", name)

    def _write_meta(self, run_dir: Path, status: str) -> None:
        pre: dict[str, Any] = {"normalizer": self.normalizer_.to_dict() if hasattr(self, "normalizer_") else None,
                               "feature_dim": self.spec_.dim, "sample_rate": self.config_.sample_rate,
                               "receptive_field_frames": self.min_frames_}
        if self.config_.mode == "classify":
            pre["classes"], pre["label_type"] = self.class_names_, self.label_type_
            pre["label_dtype"] = getattr(self, "label_dtype_", None)
            pre["majority"] = getattr(self, "majority_", None)
            pre["class_weights"] = getattr(self, "class_weights_", None)
        else:
            pre["symbols"] = self.symbols_.to_dict()
        self._write_run_meta(run_dir, status, model={"class": type(self.net_).__name__}, preprocessing=pre)


def _ctc_frames(ids: Sequence[int]) -> int:
    """The output frames CTC needs to spell ``ids``: one a symbol, and a blank between repeats."""
    return len(ids) + sum(a == b for a, b in zip(ids, ids[1:]))


def silence_comparison(model_wer: float, texts: Sequence[str], mode: str, epochs: int) -> dict[str, Any]:
    """The doctor's baseline comparison of a recogniser (:meth:`~lstmkit.train.doctor.Doctor.report`):
    its greedy validation WER (``model_wer``) beside an empty transcript's for every clip (every word
    deleted: 1 where each reference has words), the answer of a CTC model that emits only blanks. A
    model no better than saying nothing has learned no word of its transcripts."""
    more = max(2 * epochs, 20)
    why = ("a CTC model emits only blanks for its first epochs, until it finds where the characters are"
           if mode == "ctc" else "a decoder first learns to end every transcript at once")
    return {"part": "validation", "metric": "WER", "points": int(sum(len(t.split()) for t in texts)), "unit": "words",
            "model": model_wer, "scores": {"empty_transcript": recognition_metrics(list(texts), [""] * len(texts))["wer"]},
            "remedies": [f"train longer: {worded(f'--epochs {more}', opt('max_epochs', more))} (now {epochs}; {why})",
                         "check that each transcript belongs to its recording"],
            "instead": {"empty_transcript": "until the model wins, its transcripts are worth no more than none"}}


def cut_warning(names: Sequence[str], steps: int | None) -> str:
    """What a seq2seq decode stopped at :meth:`SpeechRecognizer.decode_steps` without ending is told:
    the clips (the first five, and how many more), the bound, why and the fix."""
    shown = first_of(names)
    return (f"{len(names)} transcript(s) reached the longest this model writes ({steps} characters: "
            f"{DECODE_FACTOR} times its longest training transcript, plus 2) without ending and were cut there: "
            f"{shown}; the model may not have learned to end a transcript (train it longer), or the recordings are "
            "longer than those it was trained on (split them into clips of that length)")


def validation_split(utts: Utterances, cfg: SpeechConfig, summary: dict[str, Any] | None = None
                     ) -> tuple[Utterances, Utterances]:
    """``(train, val)``: the ``val_frac`` share of ``utts`` that :meth:`SpeechRecognizer.fit` holds
    out when no validation data is given (drawn with the run's seed, so it can be redrawn). A
    classify run's share is stratified by label (a random draw held out none of a rare label's
    recordings, or every one of them); ``summary``: the data summary of a run being redrawn, whose
    ``val_split`` says whether it was (a classify run saved before it drew at random)."""
    return utts.split(cfg.val_frac, cfg.train.seed, stratified_draw(cfg, summary))


def stratified_draw(cfg: SpeechConfig, summary: dict[str, Any] | None = None) -> bool:
    """Whether :func:`validation_split` draws by label: a classify run, fitted now (``summary``
    None) or recorded so (its data summary's ``val_split``)."""
    return cfg.mode == "classify" and (summary is None or summary.get(VAL_SPLIT) == "stratified")


def _paired(files, y) -> list[tuple[str, str]]:
    """Audio ``files`` with their labels or transcripts ``y`` (scikit-learn's ``X, y``) as the
    ``(path, text)`` pairs the readers take."""
    files, y = matrix_as_array(files), matrix_as_array(y)     # np.matrix: rows of 1×N matrices, list(y) one row
    files = recordings_column(files)             # pyarrow's, an [N, 1] column, df[["path"]]: the column
    rows = batch_rows(files)                     # a 2-D array: one clip per row, as scikit-learn's X
    one = rows is None and is_clip(files, item=False)
    files = rows if rows is not None else [files] if isinstance(files, (str, Path)) or one else list(files)
    texts = [y] if isinstance(y, str) else list(y)
    gap = next((i for i, t in enumerate(texts) if missing_value(t)), None)
    if gap is not None:               # str(None) is a transcript 'None', str(NaN) a class 'nan'
        raise LstmkitError(f"label or transcript {gap + 1} of y is missing ({missing_value(texts[gap])})",
                           "drop the clips without one (pandas: keep = y.notna(); X[keep], y[keep]), or give "
                           "each clip its label or transcript")
    if one and len(texts) > 1:
        what = "an audio dict" if is_audio_dict(files[0]) else f"an array of shape {tuple(np.shape(files[0]))}"
        raise LstmkitError(f"X is one recording ({what}) "
                           f"and y holds {len(texts)} labels or transcripts",
                           "pass several clips as a list of 1-D arrays, or a 2-D array with one clip per row, "
                           "one label or transcript each")
    if len(files) != len(texts):
        raise LstmkitError(f"{len(files)} audio files and {len(texts)} labels or transcripts in y",
                           "pass one label or transcript per file")
    return [(f if is_clip(f) else str(f), str(t)) for f, t in zip(files, texts)]


def check_packages(cfg: SpeechConfig) -> None:
    """The ``speech`` extra's packages a fit needs, before any work: soundfile, which training's audio
    files are read through, and jiwer for a recogniser's validation WER, scored after the last epoch
    (a training without it ran every epoch, then ended in ``ModuleNotFoundError``, its run left ``training``)."""
    soundfile("training on audio files")
    if cfg.mode != "classify":
        word_scorer()


def _check_mel_bands(spec: FeatureSpec) -> None:
    """An error when ``spec`` asks for more mel bands than its window's frequency bins: the bands past
    them are empty (each band needs a bin), and a mistyped ``--n-mels 1000000000`` built a filter bank
    of a billion rows (the process killed for memory; under a memory limit 'out of memory — use a
    smaller model (--hidden-size ...)'). Checked when the sample rate is known, before any clip is read;
    a run saved before loads as it was trained."""
    bins = spec.n_fft // 2 + 1
    if spec.n_mels > bins:
        raise LstmkitError(f"`n_mels` is {spec.n_mels:,}, more mel bands than the {bins} frequency bins of a "
                           f"{spec.win_ms:g} ms window at {spec.rate:,} Hz (each band needs a bin)",
                           f"pass {opt('n_mels', min(40, bins))}, say, or a longer {opt('win_ms')} for more bins")


def _validate(cfg: SpeechConfig, *data) -> None:
    """What the config cannot check alone (its fields are checked in ``SpeechConfig``), and its
    pattern against the ``data`` it is to read."""
    check_pattern_applies(cfg.label_from_name, *data)
    if cfg.features == "mfcc" and cfg.n_mfcc > cfg.n_mels:
        raise LstmkitError(f"n_mfcc ({cfg.n_mfcc}) exceeds n_mels ({cfg.n_mels})",
                           f"lower {opt('n_mfcc')} or raise {opt('n_mels')}")
    if cfg.lm is not None and cfg.mode != "ctc":
        raise LstmkitError(f"{opt('lm')} works with {opt('mode', 'ctc')}, not {cfg.mode}",
                           worded("drop --lm", "leave lm out") + f" or use {opt('mode', 'ctc')}")