"""``SequenceClassifier``: numeric sequences (univariate or multivariate, equal or unequal length),
LSTM-FCN by default; :mod:`lstmkit.tasks.classify.estimator` re-exports it beside ``TextClassifier``.

>>> SequenceClassifier(unequal_length=True).fit("JapaneseVowels_TRAIN_long.csv")
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Self, Unpack

import numpy as np
import torch

from lstmkit.config import flatten_config, train_block
from lstmkit.data.batching import Ragged
from lstmkit.data.ranges import range_state, read_range
from lstmkit.data.scaling import Scaler, constant_columns
from lstmkit.errors import LstmkitError, callers_level, first_of, opt, worded
from lstmkit.estimator_params import public_call
from lstmkit.nn.fcn import FCN_MODELS, LSTMFCNEnsemble, LSTMFCNNet, MemberLoss
from lstmkit.tasks.classify.augment import AUGMENTS, AugmentedBatches
from lstmkit.tasks.classify.classifier import Classifier
from lstmkit.tasks.classify.config import (ENCODER_DEFAULTS, SERIES_BUDGET, SERIES_DEFAULTS, ClassifyConfig,
                                          SequenceClassifierParams)
from lstmkit.tasks.classify.data import warn_conflicting_labels, warn_repeated
from lstmkit.tasks.classify.outside import far_sequences, sequence_note
from lstmkit.tasks.classify.series import SeriesData, read_series, scaled_as_float32, series_table
from lstmkit.train.findings import scaling_evidence

__all__ = ["SequenceClassifier", "SERIES_BUDGET", "ENCODER_DEFAULTS", "MIN_WINDOW"]


MIN_WINDOW = 8        # steps: the LSTM-FCN's first convolution kernel; a --crop window shorter is warned of


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

    Data: UCR ``.tsv`` (label first, one series per line), sktime / aeon ``.ts`` (the files
    timeseriesclassification.com ships; :mod:`lstmkit.tasks.classify.tsfile`) or Weka ``.arff``
    (:mod:`lstmkit.tasks.classify.arfffile`), long-format ``.csv`` or DataFrame
    (``sample, t, features…, label``), or arrays ``[N, T]`` / ``[N, T, F]`` / a list of
    ``[T_i, F]`` with labels ``y``. Same hyper-parameters and attributes as
    :class:`TextClassifier`, with ``scaler_`` instead of ``tokenizer_`` and ``steps_`` (the
    longest training sequence: the LSTM-FCN's LSTM reads that many values per feature) and
    ``value_range_`` (each feature's training range: ``predict`` warns of a sequence far outside
    it, as a forecaster does of a window; runs saved before have none, and no warning), and
    scikit-learn's ``n_features_in_`` (features per step) and ``feature_names_in_`` (a table's
    named feature columns; absent for arrays and UCR files, whose features have no names).
    """

    kind = "series"
    _REPR_LEADS = ("model",)                # LSTM-FCN or a zoo encoder: each family has its own defaults
    _ANSWERS = "predict(X), the sequences' labels, and predict_proba(X), their probabilities"
    _INPUT_TAGS = {"three_d_array": True}   # X: [N, T] or [N, T, F]
    _defaults = SERIES_DEFAULTS         # LSTM-FCN's, as the docstring tells

    def __init__(self, config: ClassifyConfig | None = None, **params: Unpack[SequenceClassifierParams]) -> None:
        super().__init__(config, **params)     # here to type the parameters (RunEstimator's docstring)

    if TYPE_CHECKING:   # Classifier.fit runs; its settings for one fit are this kind's keywords, typed (narrower
        # than the base's Any: the override a checker refuses, meant)
        def fit(self, data, y=None, *, sample_weight=None, val_data=None, test_data=None,  # type: ignore[override]
                out: str | Path | None = None, run_dir: str | Path | None = None, resume: bool = False, callbacks=(),
                **overrides: Unpack[SequenceClassifierParams]) -> Self: ...

        def set_params(self, **params: Unpack[SequenceClassifierParams]) -> Self: ...

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
        long data trains in minutes; ``max_epochs`` alone when ``budget`` is None.

        ``cfg``: the estimator's config (:attr:`config`; its ``budget``, ``ensemble`` and
        ``train.max_epochs`` are read); ``n_series``: how many training series; ``steps``: the steps
        of each, the longest training series' length cut to ``max_len`` (``steps_``)."""
        if cfg.budget is None:
            return cfg.train.max_epochs
        return min(cfg.train.max_epochs, max(20, round(cfg.budget * 1e6 / (cfg.ensemble * n_series * steps))))

    def _read(self, data, cfg, y=None, require_label=True, droppable=True) -> SeriesData:
        steps = None if require_label or cfg.unequal_length else vars(self).get("steps_")   # a model's, to classify
        d = read_series(data, y, cfg.label, cfg.sample, cfg.time, cfg.features, cfg.unequal_length,
                        cfg.encoding, require_label=require_label, steps=steps)
        if d.columns is not None:       # a long table's layout named them: kept for the other parts and predict
            cfg.sample, cfg.time = d.columns
        if require_label and d.labels is None:
            raise LstmkitError("the data has no labels",
                               worded("use a file with labels (a --label column, or UCR's label first), or in Python "
                                      "pass the labels as y", "pass the labels as y, or use a file with labels (a "
                                      "label= column, or UCR's label first)"))
        return d

    @property
    def n_features_in_(self) -> int:
        """The features per step ``F`` the model reads: a ``[N, T, F]`` array's last axis (1 for
        ``[N, T]``), a long table's feature columns, a ``.ts`` file's dimensions (scikit-learn's name;
        the sequences' length is not fixed: the LSTM-FCN reads ``steps_``). Data with another count is
        an error naming both."""
        if "scaler_" not in vars(self):            # AttributeError: hasattr and scikit-learn read it as unfitted
            raise AttributeError(f"this {type(self).__name__} is not fitted yet, so it has no n_features_in_")
        return self.scaler_.n_columns_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The feature columns ``[n_features_in_]`` (object dtype) when the model was fitted on a table
        naming them (a long DataFrame or file): a table to classify has them found by name. Absent,
        as in scikit-learn, when the features had no names (arrays, UCR and ``.ts`` files)."""
        names = vars(self).get("feature_names_") or []
        if not _named(names):
            raise AttributeError(f"this {type(self).__name__} was not fitted on named feature columns, so it has "
                                 "no feature_names_in_")
        return np.asarray(names, dtype=object)

    def series_inputs(self, data) -> tuple[list[np.ndarray], SeriesData]:
        """``(the sequences [T_i, F] the network reads of data, scaled and cut as predict cuts them, the
        data as read: its sample ids and labels, when it has them)``: what ``lstmkit inspect gates | attention
        --data`` records of one of them (``--window K``, its K-th)."""
        with public_call():
            d = self._check_like_training(self.read(data), "the data")
            return [s.numpy() for s in self._encode(d)], d

    def _table_reader(self, cfg) -> Callable[[Path], Any]:
        return partial(series_table, encoding=cfg.encoding, label=cfg.label)

    def _check_like_training(self, d: SeriesData, what: str) -> SeriesData:
        """The features per step that training had (other lengths are read: the LSTM-FCN cuts or
        zero-pads them to ``steps_``, by design). Where both were named by a table's columns, they
        are found by name, in the training order: a table's other column order swapped them."""
        d = _training_features(d, self.feature_names_, what)
        d = _training_steps(d, vars(self).get("step_names_"), what)
        n = self.scaler_.n_columns_
        if d.seqs[0].shape[1] != n:
            raise LstmkitError(f"{what} has {d.seqs[0].shape[1]} features per step, the model was trained on {n}",
                               "pass data with the training features" + (f" ({', '.join(self.feature_names_[:8])})"
                                                                         if self.feature_names_ else ""))
        lengths = np.array([len(s) for s in d.seqs])
        cut = self.config_.max_len        # max_len's cut reads the training series so too (cut_note says it)
        off = (np.minimum(lengths, cut) if cut else lengths) != self.steps_
        if self.steps_ and not self.config_.unequal_length and self.config_.model in FCN_MODELS and off.any():
            warnings.warn(f"{what}: {int(off.sum())} of {len(lengths)} sequences are not {self.steps_} steps long as "
                          f"the training sequences were (lengths {lengths.min()}-{lengths.max()}): the model's LSTM "
                          f"reads their first {self.steps_} steps, zero-padded when shorter, so its answers on them "
                          "may be off; train with sequences of the lengths you will classify "
                          f"({opt('unequal_length', True)} when they differ)", UserWarning, stacklevel=callers_level())
        return d

    def _warn_overlap(self, train: SeriesData, part: SeriesData, what: str) -> None:
        """Warn when series of ``part`` repeat training series value for value (``--test`` the ``--data`` file)."""
        warn_repeated(_series_keys(train), _series_keys(part), what, "series")

    def _warn_conflicting(self, full: SeriesData) -> None:
        warn_conflicting_labels(_series_keys(full), full.labels, "series")

    def _say_far_outside(self, d: SeriesData) -> None:
        name = (lambda k: f"sample {d.ids[k]!r}") if d.ids else (lambda k: f"sequence {k + 1} of {len(d.seqs)}")
        for note in self._far_outside_notes(d.seqs, name):
            warnings.warn(note, UserWarning, stacklevel=callers_level())

    def _say_unknown(self, d: SeriesData, seqs) -> None:
        """Series far longer than any trained on (:meth:`_long_note`: another sampling rate?); an LSTM-FCN
        without ``unequal_length`` has said of every other length (:meth:`_check_like_training`)."""
        if not isinstance(seqs, Ragged) or self.config_.model in FCN_MODELS and not self.config_.unequal_length:
            return
        note = self._long_note(seqs, (lambda k: f"sample {d.ids[k]!r}") if d.ids else (lambda k: f"sequence {k + 1}"))
        if note is not None:
            warnings.warn(note, UserWarning, stacklevel=callers_level())

    def _far_outside_notes(self, seqs: list[np.ndarray], subject: Callable[[int], str], scaled: bool = False,
                          every: bool = False) -> list[str]:
        """What ``predict`` warns of sequences ``seqs`` (``[T_i, F]``; ``scaled``: as the network
        reads them) whose values lie far outside a feature's training range (the network
        extrapolates): the first, and how many more; with ``every`` one note per such sequence (the
        service's answer). ``[]`` when none does, or the run recorded no range (saved before ranges
        were). ``subject``: called with a sequence's place ``k`` in ``seqs`` (from 0), the words naming
        it in the note (``sample 'a7'``, ``sequence 3 of 10``, the service's ``series[2]``)."""
        r = read_range(getattr(self, "value_range_", None), self.scaler_.n_columns_)
        if r is None:
            return []
        lo, hi = self.scaler_.transform(np.stack(r)) if scaled else r
        found = far_sequences(seqs, lo, hi)
        back = self.scaler_.inverse_transform if scaled else None
        names = list(self.feature_names_ or [])
        if every:
            return [sequence_note(subject(f[0]), f, lo, hi, names, 0, back) for f in found]
        return [sequence_note(subject(found[0][0]), found[0], lo, hi, names, len(found) - 1, back)] if found else []

    def _fit_preprocessing(self, train: SeriesData, cfg) -> None:
        if train.unequal and not cfg.unequal_length:    # a .ts file's '@equalLength false': its lengths differ by design
            self._chose_from_data(unequal_length=cfg.unequal_length)
            cfg.unequal_length = True                   # recorded: predict reads other lengths without a warning
        values = np.concatenate(train.seqs, axis=0)                        # [sum T_i, F]
        self.scaler_ = Scaler(cfg.scaler).fit(values)
        self.value_range_ = range_state(values)                             # predict warns far outside it
        self.feature_names_ = list(train.feature_names)
        _warn_constant_features(values, self.feature_names_)
        self.step_names_ = train.step_names                                # a wide table's step columns
        longest = max(len(s) for s in train.seqs)
        self.steps_ = min(longest, cfg.max_len) if cfg.max_len else longest
        epochs = self.epochs_for(cfg, len(train.seqs), self.steps_)
        if epochs != cfg.train.max_epochs:       # the budget's cap: a loaded model's settings keep the call's
            self._chose_from_data(max_epochs=cfg.train.max_epochs, budget=cfg.budget)
        cfg.train.max_epochs = epochs                                      # recorded in lstmkit.json
        width = math.floor(cfg.crop * self.steps_ + 0.5)
        if cfg.crop < 1 and cfg.model in FCN_MODELS and width < MIN_WINDOW:
            warnings.warn(f"{opt('crop', f'{cfg.crop:g}', written=True)} reads windows of {max(width, 1)} "
                          f"step{'s' * (width > 1)} of the "
                          f"{self.steps_}-step series: too short to show a shape (the first convolution spans "
                          f"{MIN_WINDOW}); pass {opt('crop', 0.8)} to 0.9", UserWarning, stacklevel=callers_level())

    def _doctor_evidence(self) -> Callable[[Any], dict[str, Any]] | None:
        """Features read unscaled (``scaler`` none), with the largest of them, for the doctor."""
        if self.config_.scaler != "none":
            return None
        r = read_range(getattr(self, "value_range_", None), self.scaler_.n_columns_)
        largest = float(np.max(np.abs(np.concatenate(r)))) if r is not None else None
        return lambda net: scaling_evidence("features", largest)

    def _encode(self, d: SeriesData) -> Ragged | list:
        """The scaled series (truncated), end to end: batched without a tensor per series."""
        cfg = self.config_
        if not d.seqs:
            return []
        rows = np.concatenate(d.seqs, 0)
        scaled = self.scaler_.transform(rows)          # one call: row by row, as per sequence
        sizes = [len(s) for s in d.seqs]
        scaled = scaled_as_float32(scaled, rows, sizes)
        return Ragged(torch.from_numpy(scaled), torch.tensor(sizes, dtype=torch.long)).truncate(cfg.max_len,
                                                                                               cfg.truncate)

    def _net_shape(self) -> dict[str, int]:
        return {"n_features": self.scaler_.n_columns_}

    def _preprocessing_meta(self) -> dict[str, Any]:
        return {"scaler": self.scaler_.to_dict(), "features": self.feature_names_, "steps": self.steps_,
                **({"range": self.value_range_} if getattr(self, "value_range_", None) else {}),
                **({"step_columns": self.step_names_} if getattr(self, "step_names_", None) else {})}

    def _load_state(self, run_dir: Path, meta) -> None:
        self.scaler_ = Scaler.from_dict(meta["preprocessing"]["scaler"])
        self.feature_names_ = meta["preprocessing"].get("features", [])
        self.steps_ = meta["preprocessing"].get("steps")
        self.value_range_ = meta["preprocessing"].get("range")          # older runs: none, and no warning
        self.step_names_ = meta["preprocessing"].get("step_columns")    # older runs: none, read by position

    def _build_net(self):
        cfg = self.config_
        if cfg.model not in FCN_MODELS:
            return super()._build_net()
        if not self.steps_:
            raise LstmkitError("the run records no series length for its LSTM-FCN", "retrain the model")
        shape = dict(n_features=self.scaler_.n_columns_, steps=self.steps_, hidden_size=cfg.hidden_size,
                     num_layers=cfg.num_layers, dropout=cfg.dropout, crop=cfg.crop, crops=cfg.crops)
        if cfg.ensemble > 1:
            return LSTMFCNEnsemble(len(self.class_names_), members=cfg.ensemble, **shape)
        return LSTMFCNNet(len(self.class_names_), **shape)

    def _training_batches(self, batches):
        if self.config_.augment == "none":
            return batches
        return AugmentedBatches(batches, AUGMENTS[self.config_.augment])

    def _loss_fn(self, loss):
        members = getattr(self.net_, "members", 1)
        return MemberLoss(loss, members) if members > 1 else loss



def _series_keys(d: SeriesData) -> list[tuple]:
    """A key per series, equal for series of equal values (and shape)."""
    return [(s.shape, np.ascontiguousarray(s, dtype=np.float64).tobytes()) for s in d.seqs]


def _named(names: list[str]) -> bool:
    """Whether feature ``names`` are a table's columns (arrays: ``x0, x1, …``; a UCR file or a wide
    table: ``value``)."""
    return bool(names) and names != ["value"] and names != [f"x{j}" for j in range(len(names))]


def _training_steps(d: SeriesData, trained: list[str] | None, what: str) -> SeriesData:
    """``d``'s wide-table steps in the ``trained`` column order, when its step columns are those
    of the wide table the model was fitted on in another order (``df[df.columns[::-1]]``, a
    pivot that sorted them): each row's steps were read in the table's order, and the sequences
    classified reversed or shuffled without a word. Columns besides every training step (the label
    under another name, a note) are left out with one warning naming them: they were read as more
    steps. Other columns are read by position, as before."""
    if not trained or not d.step_names or d.step_names == trained:
        return d
    extra = [n for n in d.step_names if n not in trained]
    if len(set(d.step_names)) != len(d.step_names) or not set(trained) < set(d.step_names) and extra:
        return d
    if extra:
        warnings.warn(f"{what}: {len(extra)} column{'s' if len(extra) > 1 else ''} besides the {len(trained)} step "
                      f"columns the model was trained on ({', '.join(map(repr, extra[:3]))}"
                      f"{', …' if len(extra) > 3 else ''}) left out, not read as more steps",
                      stacklevel=callers_level())
    order = [d.step_names.index(n) for n in trained]
    seqs = []
    for k, s in enumerate(d.seqs):
        row = np.full(len(d.step_names), np.nan)
        row[:len(s)] = s[:, 0]                         # its trailing empty cells were dropped: put them back
        row = row[order]
        row = row[: np.flatnonzero(~np.isnan(row))[-1] + 1]
        if np.isnan(row).any():
            gap = trained[int(np.flatnonzero(np.isnan(row))[0])]
            raise LstmkitError(f"sequence {k + 1} of {what} has an empty cell in column {gap!r} before its last value "
                               "in the training's column order", f"fill it, or order the columns as in training "
                                                                  f"({', '.join(trained[:8])})")
        seqs.append(row[:, None])
    return dataclasses.replace(d, seqs=seqs, step_names=list(trained))


def _training_features(d: SeriesData, trained: list[str], what: str) -> SeriesData:
    """``d`` with the ``trained`` features in their order, when both are named columns."""
    if not (_named(d.feature_names) and _named(trained)) or d.feature_names == trained:
        return d
    missing = [n for n in trained if n not in d.feature_names]
    if missing:
        raise LstmkitError(f"{what} has no feature column {missing[0]!r} (the model was trained on "
                           f"{', '.join(trained[:8])}; the data has {', '.join(d.feature_names[:8])})",
                           f"pass data with the training features, or name them with {opt('features')}")
    order = [d.feature_names.index(n) for n in trained]
    return dataclasses.replace(d, seqs=[s[:, order] for s in d.seqs], feature_names=list(trained))


def _warn_constant_features(values: np.ndarray, names: list[str]) -> None:
    """One warning naming the features that hold one value throughout the training sequences, or values
    within 1e-12 of their size (``1e30 + 1e15 * x``: float64 keeps their differences in its last digits
    only, and scaling reads them as constant): the model can learn nothing from them."""
    flat = np.flatnonzero(constant_columns(values))
    if not len(flat):
        return
    named = first_of(flat, 3, lambda j: f"{names[j] if j < len(names) else j!r} ({values[0, j]:g})")
    one = len(flat) == 1
    whole = len(flat) == values.shape[1]
    subject = (("the sequences' one feature" if one else "every feature of the sequences") if whole
               else f"feature{'' if one else 's'}")
    fix = ("check the data, or if its values differ only in their last digits (1e30 + 1e15 * x) subtract their "
           "common offset first" if whole else "leave it out of the features, or if its values differ only in their "
           "last digits (1e30 + 1e15 * x) subtract their common offset first")
    warnings.warn(f"{subject} {named} {'is' if one else 'are'} constant throughout the training data (one value, or "
                  f"values within 1e-12 of {'its' if one else 'their'} size): the model learns nothing from "
                  f"{'it' if one else 'them'} — {fix}", UserWarning, stacklevel=callers_level())
