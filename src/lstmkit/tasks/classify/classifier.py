"""The classifier base: what :class:`~lstmkit.tasks.classify.estimator.TextClassifier` and
:class:`~lstmkit.tasks.classify.estimator.SequenceClassifier` share (fit, predict, evaluate,
resume, load, the run folder); each kind supplies how its data is read and encoded."""
from __future__ import annotations

import copy
import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Self, Unpack

import numpy as np
import torch

from lstmkit.tasks.classify.config import SERIES_ONLY, TEXT_ONLY, ClassifyConfig, check_given
from lstmkit.data.batching import BucketBatches, Ragged
from lstmkit.data.columns import closest_name
from lstmkit.data.same_data import classes_records
from lstmkit.data.sample_weight import WEIGHTS_KEY, check_parts, sample_weights, weighted_part, weights_record
from lstmkit.data.label_types import check_scored_labels, typed_labels
from lstmkit.data.vocab import PAD_ID
from lstmkit.estimator_params import LogProba, WeightRequests, public_call
from lstmkit.errors import ColumnNotFound, LstmkitError, callers_level, opt, worded
from lstmkit.nn.classifier import ClassificationLoss, ClassifierNet, weighted_targets
from lstmkit.nn.fcn import FCN_MODELS
from lstmkit.run_resume import ResumeShown
from lstmkit.tasks._base import RunEstimator
from lstmkit.runs import META_FILE
from lstmkit.tasks.classify.labels import (check_classes, check_known_labels, given_y, stratified_split,
                                          warn_label_spellings, warn_lone_classes, warn_missing_classes)
from lstmkit.tasks.classify.fit_checks import (FROM_TEXT, check_kind, check_val_is_not_test, data_summary, given_labels,
                                              kept_part, label_dtype, label_type, warn_short_reach, warn_truncated,
                                              warn_unseen_class, cut_note)
from lstmkit.train.findings import prior_comparison
from lstmkit.train.metrics import classification_metrics
from lstmkit.train.progress import track
from lstmkit.train.memory import batch_fix, built_within_memory, check_sequence_batch

if TYPE_CHECKING:
    from lstmkit.deploy.streaming import Stream

__all__ = ["Classifier", "TASK"]

TASK = "classify"
EVAL_BATCH = 256
EVAL_STEPS = EVAL_BATCH * 400   # padded steps a batch of a fitted model reads: 256 texts of the default max_len
LONGER = 2           # sequences to predict over this many times the longest training one are warned of

_DEFAULTS = ClassifyConfig()          # a setting the other kind reads is left at its value here
_FCN_UNREAD = ("embed_dim", "pooling")   # settings of the zoo encoders that LSTM-FCN (lstm-fcn-ds) has no use for


def _other_kind_keys(kind: str) -> tuple[str, ...]:
    """The settings that only the other kind of classifier reads."""
    return {"text": SERIES_ONLY, "series": TEXT_ONLY}.get(kind, ())


class Classifier(LogProba, WeightRequests, RunEstimator, ABC):
    """What text and numeric-sequence classifiers share: fit, predict, evaluate, resume, load and
    the run folder. The subclasses (:mod:`lstmkit.tasks.classify.estimator`) say how data is read
    and turned into tensors."""

    TASK = TASK
    CONFIG = ClassifyConfig

    if TYPE_CHECKING:   # for type checkers only: RunEstimator.stream runs, and gives this kind of stream here
        def stream(self, mode: str = "auto", engine: str = "auto", max_streams: int | None = None) -> Stream: ...

    _NOT_PARAMETERS = frozenset({"series"})  # the kind is the class, not a parameter
    kind = ""                               # "text" | "series"
    _ESTIMATOR_TYPE = "classifier"          # for scikit-learn: cross_val_score stratifies, scores accuracy
    _defaults: dict[str, Any] = {}          # the kind's own defaults, for settings the caller leaves out

    @classmethod
    def _check_given(cls, given, settings) -> None:
        check_given(given, cls.kind == "series", settings)     # unfreeze_epochs without init_from, ...

    def _config_record(self) -> dict[str, Any]:
        """The settings ``lstmkit.json`` records: a numeric-series run's without the text settings
        (:data:`TEXT_ONLY`: word_dropout, tokenizer, ...), and an LSTM-FCN's without ``embed_dim`` and
        ``pooling`` too (its convolutions average; it has no front-end layer), which it never reads: they
        said the run had a 128-wide embedding. Loaded, a setting left out takes its default."""
        record = super()._config_record()
        if self.kind == "series":
            unread = (*TEXT_ONLY, *(_FCN_UNREAD if record.get("model") in FCN_MODELS else ()))
            record = {k: v for k, v in record.items() if k not in unread}
        return record

    @classmethod
    def _params_from_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """A saved run's settings, without the other kind's (a text run records every key; runs before
        :meth:`_config_record` of either kind too)."""
        return cls.own_settings(_flatten(config))

    @classmethod
    def parameter_names(cls) -> list[str]:
        """This kind's keyword parameters: the other kind's settings are refused, not listed."""
        return [name for name in super().parameter_names() if name not in _other_kind_keys(cls.kind)]

    @classmethod
    def own_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """``settings`` without the keys only the other kind reads: where one dict feeds either
        kind (a run's ``lstmkit.json``, a ``--config`` YAML shared by both kinds)."""
        return {k: v for k, v in settings.items() if k not in _other_kind_keys(cls.kind)}

    @classmethod
    def _resolve_config(cls, config, overrides: dict[str, Any]) -> ClassifyConfig:
        """As :meth:`RunEstimator._resolve_config`; a setting only the other kind reads, given here
        or changed in ``config``, is an error naming the class that reads it (it would be ignored)."""
        names = _other_kind_keys(cls.kind)
        given = next((k for k in names if k in overrides), None)
        changed = next((k for k in names if isinstance(config, ClassifyConfig)
                        and getattr(config, k) != getattr(_DEFAULTS, k)), None)
        if given or changed:
            owner = next(sub for sub in Classifier.__subclasses__() if sub.kind != cls.kind).__name__
            what = f"{given} is" if given else f"{changed}={getattr(config, changed)!r} in `config` is"
            fix = f"drop {given}" if given else f"leave {changed} at {getattr(_DEFAULTS, changed)!r}"
            raise LstmkitError(f"{what} a setting of {owner} ({'texts' if cls.kind == 'series' else 'numeric series'}"
                               f"); {cls.__name__} does not read it", f"{fix}, or use {owner}")
        return super()._resolve_config(config, overrides)

    @classmethod
    def default_config(cls) -> ClassifyConfig:
        """``ClassifyConfig``'s defaults with this kind's own on top (numeric sequences: smaller
        networks, batch 16, up to 200 epochs with patience 40)."""
        return cls._resolve_config(ClassifyConfig(), cls._defaults)

    @classmethod
    def _build_config(cls, params: dict[str, Any]) -> ClassifyConfig:
        if isinstance(params.get("features"), str):
            params = {**params, "features": [s.strip() for s in params["features"].split(",") if s.strip()]}
        return ClassifyConfig.from_dict({**params, "series": cls.kind == "series"})

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, data, y=None, *, sample_weight=None, val_data=None, test_data=None, out: str | Path | None = None,
            run_dir: str | Path | None = None, resume: bool = False, callbacks=(), **overrides: Any) -> Self:
        """Train on ``data`` (path, DataFrame, or sequences with labels ``y``).

        ``sample_weight`` (one weight per labelled row of ``data``, as scikit-learn's ``fit`` takes it)
        weighs each training example's loss: the loss is their weighted mean (times ``class_weight``'s
        when both are given). The validation loss that early stopping and the restored weights
        follow is weighted too, by the weights of the rows held out (as scikit-learn's and Keras'
        held-out scores are), and so are the validation metrics (accuracy, macro-F1, ROC-AUC).
        ``val_data`` given apart is scored unweighted, or weighted by the third item of
        ``val_data=(X, y, w)`` (one weight per labelled row, checked as ``sample_weight`` is; with or
        without ``sample_weight``); the run records which (``sample_weight`` in its data summary).

        ``overrides`` are config keys for this fit (``text=``, ``label=``, …). Without
        ``val_data`` a stratified, seeded ``val_frac`` of ``data`` is held out for early stopping;
        ``val_frac=0`` holds nothing out and early stopping, the learning-rate schedule and the
        restored weights follow the training loss (the UCR protocol of LSTM-FCN, for training
        sets too small to spare a validation part). ``test_data`` (optional) is scored once at the
        end. Each is a path, a table, or ``(X, y)``. With ``out`` a run folder
        ``out/classify-<timestamp>`` is created, only after every input has passed its checks
        (``run_dir`` names the folder exactly instead; with ``resume=True`` the run there continues
        from its last checkpoint).
        ``callbacks`` (trainer :class:`~lstmkit.train.callbacks.Callback` objects) see every epoch.
        """
        y = given_y(y)                        # read twice below: as the labels, and for their type
        with self._fit_or_unchanged():        # a failed fit leaves the estimator as it was
            cfg = self._resolve_config(self.config, overrides)
            check_kind(cfg, self.kind)
            check_val_is_not_test(val_data, test_data)
            files = {"source": data, "val_source": val_data, "test_source": test_data}
            val_part, val_given = weighted_part(val_data)       # val_data=(X, y, w): its weights apart
            with self._reading_resumed(run_dir if resume else None, files, self._table_reader(cfg)):
                named = {k: getattr(cfg, k) for k in ("text", "label", "sample", "time")}
                full = self._read(data, cfg, y=y)
                # the columns a table's layout named (a two-column table's text and label): the call's kept for a
                # loaded model's settings (get_params, clone), as the fitted one's, whose clone reads another table
                self._chose_from_data(**{k: v for k, v in named.items() if getattr(cfg, k) != v})
                weights = None if sample_weight is None else self._check_sample_weight(sample_weight, len(full), cfg)
                # val_weights: the held-out rows', split off, or those given with val_data
                given_weights, val_weights, given_val_weights = weights, None, None
                classes = check_classes(full.labels)
                warn_label_spellings(full.labels)
                if val_data is not None or cfg.val_frac == 0:       # a split says it of its own
                    warn_lone_classes(full.labels)
                if val_data is not None:
                    train, val = full, self._read_part(val_part, cfg, "val_data")
                    check_known_labels(val.labels, classes)
                    warn_missing_classes(val.labels, full.labels, "the validation data",
                                         f"add examples of each class to it, or leave {worded('--val', 'val_data')} "
                                         f"out: {opt('val_frac', cfg.val_frac or 0.1)} of the training data is "
                                         "then held out, stratified by class")
                    if val_given is not None:
                        val_weights = given_val_weights = self._check_sample_weight(
                            val_given, len(val), cfg, "val_data[2]")
                elif cfg.val_frac == 0:
                    train, val = full, None
                else:
                    if len(classes) == len(full):               # a split would leave nothing to validate on
                        raise LstmkitError(f"each of the {len(classes)} classes has one example ({len(full)} rows): "
                                           f"nothing to validate on", f"check the label column ({opt('label')}: does "
                                           f"it hold the texts?); or pass {worded('a --val file', 'val_data')}, or "
                                           f"{opt('val_frac', 0)} to hold nothing out")
                    train_idx, val_idx = stratified_split(full.labels, cfg.val_frac, cfg.train.seed)
                    train, val = full.subset(train_idx), full.subset(val_idx)
                    if weights is not None:
                        weights, val_weights = weights[train_idx], weights[val_idx]
                    check_classes(train.labels, "the training part after the validation split")
                    if len(val_idx) > len(train_idx):
                        warnings.warn(f"{opt('val_frac', f'{cfg.val_frac:g}', written=True)} holds out {len(val_idx)} of "
                                      f"{len(full)} rows "
                                      f"for validation and trains on {len(train_idx)}: the model learns from the "
                                      f"smaller part; pass {opt('val_frac', 0.1)} to 0.2",
                                      UserWarning, stacklevel=callers_level())
                test = None
                if test_data is not None:
                    test = self._read_part(test_data, cfg, "test_data")
                    check_known_labels(test.labels, classes)
                    warn_missing_classes(test.labels, full.labels, "the test data",
                                         "add examples of each class to it to test the model on every class")
            # the tables read (from a file, or given), labels and all (not with labels given apart, in y):
            # a run records its files', and a resume is told what changed in one
            parts = (("source", full, None if y is not None else data), ("val_source", val, val_data),
                     ("test_source", test, test_data))
            tables = {role: part.table for role, part, given in parts if given is not None
                      and not isinstance(given, tuple) and getattr(part, "table", None) is not None}

            given = given_labels(data, y, cfg.label)
            self.label_type_ = label_type(given)
            self.label_dtype_ = label_dtype(given, self.label_type_)
            if self.label_type_ in FROM_TEXT:       # numbers in their order (9 before 10), as np.unique sorts them
                classes = sorted(classes, key=FROM_TEXT[self.label_type_])
            self.config_, self.class_names_ = cfg, classes
            encoded = self._fit_preprocessing(train, cfg)
            if val_data is not None:                   # before training: a test file is read after it
                val = self._check_like_training(val, "the validation data")
            if test is not None:
                test = self._check_like_training(test, "the test data")
            index = {c: k for k, c in enumerate(classes)}
            y_train = torch.tensor([index[v] for v in train.labels], dtype=torch.long)
            counts = torch.bincount(y_train, minlength=len(classes))
            # the constant answer the baseline scores, as scikit-learn's DummyClassifier('most_frequent') fits it:
            # the class of the largest training weight (the commonest row's class scored 0.2 where it has 0.8)
            self.majority_ = int(counts.argmax() if weights is None else
                                 np.bincount(y_train.numpy(), weights=weights, minlength=len(classes)).argmax())
            if weights is not None:
                check_parts(weights, val_weights, "pass val_data or val_frac=0")
                targets = weighted_targets(y_train, torch.from_numpy(weights))
            class_weights = None
            if cfg.class_weight == "balanced":
                class_weights = (len(y_train) / (len(classes) * counts.clamp(min=1).double())).float()
            self.class_weights_ = None if class_weights is None else class_weights.tolist()
            x_train = self._encode(train) if encoded is None else encoded
            self.data_summary_ = data_summary(full, train, val, test, data, val_data, test_data, x_train)
            self.data_summary_.update(classes_records(files))      # a class-index CSV's classes.txt: resumes compare
            self.data_summary_[WEIGHTS_KEY] = weights_record(    # a resume with other weights is refused by name
                given_weights, None if val is None else "unweighted" if val_weights is None else "weighted",
                given_val_weights)
            warn_truncated(self.data_summary_["truncated"], cfg, self.kind)
            warn_short_reach(x_train.lengths, cfg, self.kind)
            self._warn_conflicting(full)

            torch.manual_seed(cfg.train.seed)
            self.net_ = built_within_memory(self._build_net, cfg.train.device, cfg,
                                            ("hidden_size", "num_layers", "embed_dim", "max_size", "ensemble"))
            callbacks = (*callbacks, *self._start_weights(cfg))
            check_sequence_batch(self.net_, x_train, cfg.train.batch_size, cfg.train.device,
                                 lambda most, longest: batch_fix(most, longest, lambda m: (
                                     f"a smaller {opt('max_len')} ({cfg.max_len or 'none'})" if m is None
                                     else f"pass {opt('max_len', m)} or less")),
                                 "tokens" if self.kind == "text" else "time steps")

            pad = PAD_ID if self.kind == "text" else 0.0
            train_batches = self._training_batches(BucketBatches(x_train, y_train if weights is None else targets,
                                                                 cfg.train.batch_size, shuffle=True,
                                                                 bucket=cfg.bucket, pad_value=pad))
            val_batches = None
            if val is not None:
                x_val = self._encode(val)
                y_val = torch.tensor([index[v] for v in val.labels], dtype=torch.long)
                val_batches = BucketBatches(x_val, y_val if val_weights is None else
                                            weighted_targets(y_val, torch.from_numpy(val_weights)), EVAL_BATCH,
                                            pad_value=pad)

            settled: list[bool] = []
            val_scored: list[np.ndarray] = []     # the settled model's validation probabilities, computed once

            def settle() -> None:
                # once, before whichever comes first: the doctor judged the LSTM before the word-score mix was
                # fitted (loss 0.697 beside the prior's 0.199: "predict the majority class") while the model
                # the run saved and scored had accuracy 1.0 on the same rows
                if not settled:
                    self._after_training(*((x_val, y_val, val_weights) if val is not None else ([], None)))
                    settled.append(True)

            def val_proba() -> np.ndarray:
                # the doctor's comparison with the class prior and the metrics read the same model on the same
                # rows: one pass over the validation part (they made two, each as long as an epoch's validation)
                settle()
                if not val_scored:
                    val_scored.append(self._proba(x_val))
                return val_scored[0]

            def metrics() -> dict[str, Any]:
                for part, what in ((val, f"the validation {'data' if val_data is not None else 'part'}"),
                                   (test, "the test data")):
                    if part is not None:                # said with the scores it flatters
                        self._warn_overlap(train, part, what)
                settle()
                m = ({"val": self._metrics(x_val, val.labels, val_weights, val_proba())} if val is not None
                     else {"train": self._metrics(x_train, train.labels)})
                warn_unseen_class(*((m["val"], self.data_summary_["classes"], cfg) if "val" in m else
                                    (m["train"], self.data_summary_["classes"], cfg, "the training data")))
                if test is not None:
                    m["test"] = self._metrics(self._encode(test), test.labels)
                return m

            loss_fn = self._loss_fn(ClassificationLoss(len(classes), class_weights))
            return self._train_and_save(cfg.train, train_batches, val_batches, loss_fn=loss_fn, out=out, run_dir=run_dir,
                                        resume=resume, callbacks=callbacks, metrics=metrics, plots=self._plots,
                                        evidence=self._with_prior(
                                            self._doctor_evidence(), None if val is None else (
                                                val_proba, y_val, val_weights, y_train, weights, class_weights)),
                                        # the weights as checked (float64): the same weights as a list resume
                                        data={"data": (data if y is None else (data, y)) if sample_weight is None
                                              else (data, y, given_weights),
                                              "val_data": val_data if given_val_weights is None
                                              else (*val_part, given_val_weights),
                                              "test_data": test_data}, tables=tables)

    def _doctor_evidence(self) -> Callable[[Any], dict[str, Any]] | None:
        """What the training doctor is told beside what it watches (``Trainer.fit``'s ``evidence``):
        nothing here; numeric sequences say when they are read unscaled."""
        return None

    def _with_prior(self, extra: Callable[[Any], dict[str, Any]] | None,
                    parts: tuple | None) -> Callable[[Any], dict[str, Any]] | None:
        """``extra`` (the kind's own evidence) and, with a validation part, the model's log loss on
        it beside the class prior's (:func:`prior_comparison`): a model no better than the class
        frequencies is the doctor's ``loses_to_baseline``. The model judged is the one the run
        keeps: ``parts``' first, ``val_proba()``, gives its validation probabilities once it has
        fitted what :meth:`_after_training` fits (a text classifier's word-score mix), the ones the
        metrics read."""
        if parts is None:
            return extra
        val_proba, y_val, val_weights, y_train, weights, class_weights = parts

        def evidence(net) -> dict[str, Any]:
            cmp = prior_comparison(val_proba(), y_val.numpy(), val_weights, y_train.numpy(), weights,
                                   None if class_weights is None else class_weights.numpy(), self.class_names_)
            return {**(extra(net) if extra is not None else {}), **({"baselines": cmp} if cmp else {})}
        return evidence

    def _check_sample_weight(self, sample_weight, n: int, cfg: ClassifyConfig, what: str = "sample_weight") -> np.ndarray:
        """``fit``'s ``sample_weight`` (or, ``what``, the weights of ``val_data=(X, y, w)``) checked
        (:func:`~lstmkit.data.sample_weight.sample_weights`) for ``n`` labelled rows."""
        return sample_weights(sample_weight, n, what)

    def check(self, data, y=None, **overrides: Any) -> None:
        """Check the settings (``overrides``) and read ``data`` (with labels ``y``, as :meth:`fit` takes them)
        as :meth:`fit` would, without training (a search calls this once before its trials)."""
        with public_call():
            cfg = self._resolve_config(self.config, overrides)
            check_kind(cfg, self.kind)
            check_classes(self._read(data, cfg, y=y).labels)

    @staticmethod
    def class_for(meta: dict[str, Any], path) -> type:
        """The classifier class that wrote the run at ``path``, by the ``kind`` in its ``lstmkit.json`` (``meta``,
        as read)."""
        kinds = {sub.kind: sub for sub in Classifier.__subclasses__()}
        if meta.get("kind") not in kinds:
            raise LstmkitError(f"{path}/{META_FILE} names no classifier kind", "the file was damaged; retrain")
        return kinds[meta["kind"]]

    @classmethod
    def resume(cls, run_dir: str | Path, data=None, val_data=None, test_data=None, init_from=None, *,
               y=None, sample_weight=None, **shown: Unpack[ResumeShown]) -> Classifier:
        """Continue the interrupted run ``run_dir`` from its last checkpoint (same config, same data files
        ``data``, ``val_data``, ``test_data``; a file given is checked to hold the data the run recorded:
        the run and its data moved; ``init_from``: where the language model it started from is now,
        checked to hold the same weights). A run
        fitted on sequences in memory is given them again as it was: ``data`` with its labels ``y``
        and its ``sample_weight``, checked to be the same. ``progress``, ``tensorboard``, ``doctor`` and
        ``device`` (``**shown``) may change how the run shows and runs (None: as recorded). Returns the fitted
        classifier of the class that wrote the run, as :func:`~lstmkit.tasks.classify.load_classifier` does."""
        with public_call():
            meta = cls._unfinished_meta(run_dir)
            est = cls.class_for(meta, run_dir)._from_config(cls._resume_init_from(meta, run_dir, init_from))._shown(shown)
            source = cls._resume_source(meta, run_dir, data, "in-memory data",
                                        worded("pass the data again with --data (in Python: resume(RUN, data=X, "
                                               "y=y))", "pass the data again: resume(RUN, data=X, y=y)"))
            return est.fit(source, y, sample_weight=sample_weight,
                           val_data=cls._resume_file(meta, run_dir, "val_source", val_data, "--val", "val_data"),
                           test_data=cls._resume_file(meta, run_dir, "test_source", test_data, "--test", "test_data"),
                           run_dir=run_dir, resume=True)

    # -- using a fitted model --------------------------------------------------------------
    def predict_proba(self, data) -> np.ndarray:
        """Class probabilities ``[N, C]`` of each sequence of ``data``, columns in the order of ``classes_``."""
        with public_call():
            self._check_fitted()
            with self._frame_columns(data, "the texts" if self.kind == "text" else None):
                d = self._read(data, self.config_, require_label=False)
            d = self._check_like_training(d, "the data")
            self._say_far_outside(d)
            seqs = self._encode(d)
            self._say_unknown(d, seqs)
            self._say_cut(seqs)
            proba, order = self._proba(seqs), self.class_order()
            return proba if order == sorted(order) else proba[:, order]

    def read(self, data, require_label: bool = False):
        """``data`` read as prediction reads it (numeric series: a ``SeriesData`` with a long
        table's sample ids in ``ids``); ``predict`` and ``evaluate`` accept what this returns. With
        ``require_label`` data without a label column is refused, as evaluation refuses it (without it:
        ``labels`` None)."""
        self._check_fitted()
        return self._read(data, self.config_, require_label=require_label)

    @property
    def classes_(self) -> np.ndarray:
        """The classes ``[C]`` in the order of ``predict_proba``'s columns, as scikit-learn has them:
        the user's labels, as numbers (or booleans) when ``fit`` was given them so, in ``y`` or a
        DataFrame's label column, in their order (9 before 10); else strings, sorted. scikit-learn's
        scorers find the positive class's column here (``roc_auc``, ``neg_log_loss``: with the
        label strings ``['3', '7']`` for labels ``[3, 7]``, or a list, they scored NaN).
        ``class_names_`` holds the same classes as the strings ``lstmkit.json`` records."""
        if "class_names_" not in vars(self):          # AttributeError: hasattr and scikit-learn read it as unfitted
            raise AttributeError(f"this {type(self).__name__} is not fitted yet, so it has no classes_")
        return typed_labels([self.class_names_[k] for k in self.class_order()], getattr(self, "label_type_", None),
                            vars(self).get("label_dtype_"))

    def class_order(self) -> list[int]:
        """The network's outputs (``class_names_``' order) in ``classes_``' order: as they are, but for
        a run saved before numeric labels were ordered as numbers (its classes ``['10', '9']``)."""
        read = FROM_TEXT.get(getattr(self, "label_type_", None))
        names = self.class_names_
        return sorted(range(len(names)), key=lambda k: read(names[k])) if read else list(range(len(names)))

    def predict(self, data) -> np.ndarray:
        """The most probable label of each sequence of ``data`` ``[N]``: an item of ``classes_`` (the user's
        labels, as strings, or as numbers or booleans when ``fit`` was given them so)."""
        self._check_fitted()
        return self.classes_[self.predict_proba(data).argmax(axis=1)]

    def evaluate(self, data, y=None) -> dict[str, Any]:
        """Accuracy, macro-F1, per-class precision/recall, ROC-AUC (two classes), confusion matrix.

        Labels come from ``data`` (a file or table) or from ``y`` (arrays or lists, as in
        :meth:`fit`). Labels that training never saw are an error.
        """
        with public_call():
            d = self._labelled(data, y)
            seqs = self._encode(d)
            self._say_unknown(d, seqs)
            self._say_cut(seqs)
            return self._metrics(seqs, d.labels)

    def score(self, data, y=None, sample_weight=None) -> float:
        """Accuracy on ``data`` (labels as in :meth:`evaluate`, or in ``y``): scikit-learn's ``score``, which
        ``cross_val_score`` and ``GridSearchCV`` call when given no scoring; ``sample_weight`` (one
        weight per labelled row) weighs each row's hit, as ``accuracy_score`` does."""
        with public_call():
            if sample_weight is None:
                return float(self.evaluate(data, y)["accuracy"])
            d = self._labelled(data, y)
            w = sample_weights(sample_weight, len(d))
            index = {c: k for k, c in enumerate(self.class_names_)}
            hit = self._proba(self._encode(d)).argmax(axis=1) == np.array([index[v] for v in d.labels])
            return float((w * hit).sum() / w.sum())

    def _labelled(self, data, y):
        """``data`` with its labels (a table's column, or ``y``) read as :meth:`evaluate` scores it."""
        self._check_fitted()
        y = given_y(y)                        # read twice: for the labels' type, and as the labels
        check_scored_labels(given_labels(data, y, self.config_.label), getattr(self, "label_type_", None),
                            self.class_names_, "y" if y is not None else f"the data's {self.config_.label!r} column")
        # a copy: the columns a two-column table implies are its own (they were kept as the model's: a later
        # predict on the training column's name failed, and a save wrote them)
        label = self.config_.label
        with self._frame_columns(data, labels=label if y is None else None):
            columns = [str(c) for c in getattr(data, "columns", ())]
            if y is None and self.kind == "series" and hasattr(data, "iloc") and label not in columns:
                # a wide frame of steps alone was 'neither long nor wide … pass label=', a setting scoring has not
                raise ColumnNotFound(f"label column {label!r} not found", None, columns, label, closest_name(label, columns))
            d = self._read(data, copy.copy(self.config_), y=y, droppable=False)
        d = self._check_like_training(d, "the data")
        check_known_labels(d.labels, self.class_names_)
        return d

    # -- persistence -----------------------------------------------------------------------

    @classmethod
    def _check_run(cls, meta: dict[str, Any], path: Path) -> None:
        if cls is not cls.class_for(meta, path):
            other = cls.class_for(meta, path).__name__
            raise LstmkitError(f"{path} holds a {meta.get('kind')} classifier, not a {cls.kind} one",
                               f"load it with {other}.load")

    @classmethod
    def _restored(cls, meta: dict[str, Any]) -> Self:
        est = super()._restored(meta)
        est.class_names_ = list(meta["classes"])
        est.majority_ = meta.get("majority")
        est.class_weights_ = meta.get("class_weights")
        est.label_type_ = meta.get("label_type")
        est.label_dtype_ = meta.get("label_dtype")
        return est

    # -- internals -------------------------------------------------------------------------

    def _after_training(self, seqs: list[torch.Tensor], y: torch.Tensor, weights: np.ndarray | None = None) -> None:
        """What a kind fits on the validation part once the net is trained (``[]`` when nothing is held
        out; ``weights``: its rows' weights, when it has them)."""

    @torch.inference_mode()
    def _proba(self, seqs: list[torch.Tensor]) -> np.ndarray:
        net = self._answering_net().eval()
        out = np.zeros((len(seqs), len(self.class_names_)))
        pad = PAD_ID if self.kind == "text" else 0.0
        batches = BucketBatches(seqs, None, EVAL_BATCH, pad_value=pad, max_steps=EVAL_STEPS)
        for idx, x, lengths in track(batches.iter_indexed(), len(batches), "classifying", self._progress,
                                     work=batches.padded_steps()):
            logits = torch.as_tensor(net(x, lengths))
            if len(self.class_names_) == 2:
                p1 = torch.sigmoid(logits).double().numpy()
                out[idx.numpy()] = np.stack([1.0 - p1, p1], axis=1)
            else:
                out[idx.numpy()] = torch.softmax(logits, dim=-1).double().numpy()
        return out

    def _metrics(self, seqs: list[torch.Tensor], labels: list[str], weights: np.ndarray | None = None,
                 proba: np.ndarray | None = None) -> dict[str, Any]:
        """The metrics of ``seqs`` against ``labels``; ``proba``: their probabilities, already computed."""
        index = {c: k for k, c in enumerate(self.class_names_)}
        return classification_metrics([index[v] for v in labels], self._proba(seqs) if proba is None else proba,
                                      self.class_names_, majority=self.majority_, sample_weight=weights)

    def _plots(self, run_dir: Path) -> None:
        from lstmkit.inspect.confusion import plot_confusion, plot_reliability
        from lstmkit.inspect.plots import plot_history
        plots = run_dir / "plots"
        plot_history(self.result_.history, plots / "loss.png", self.result_.best_epoch, self.config_.loss_label(),
                     f"{run_dir.name}: {self.config_.model} classifier")
        part = next(p for p in ("test", "val", "train") if p in self.metrics_)
        m = self.metrics_[part]
        name = {"test": "test", "val": "validation", "train": "training"}[part]
        plot_confusion(m["confusion"]["matrix"], self.class_names_, plots / "confusion.png",
                       title=f"{name} set: accuracy {m['accuracy']:.3f}")
        if "reliability" in m:                  # metrics of a run saved before it have none
            plot_reliability(m["reliability"], plots / "reliability.png",
                             title=f"{name} set: accuracy {m['accuracy']:.3f}, ECE {m['ece']:.3f}")

    def _write_meta(self, run_dir: Path, status: str) -> None:
        self._write_run_meta(run_dir, status, kind=self.kind, classes=self.class_names_, label_type=getattr(self, "label_type_", None),
                             label_dtype=getattr(self, "label_dtype_", None),
                             majority=self.majority_,
                             class_weights=self.class_weights_, preprocessing=self._preprocessing_meta(),
                             model={"class": type(self.net_).__name__, "n_classes": len(self.class_names_),
                                    **self._net_shape()})

    def _build_net(self) -> ClassifierNet:
        cfg = self.config_
        return ClassifierNet(len(self.class_names_), **self._net_shape(), embed_dim=cfg.embed_dim, encoder=cfg.model,
                             hidden_size=cfg.hidden_size, num_layers=cfg.num_layers, dropout=cfg.dropout,
                             pooling=cfg.pooling, pad_id=PAD_ID, word_dropout=cfg.word_dropout,
                             word_scores=cfg.word_scores, score_pairs=cfg.score_pairs)

    # -- what each kind of input (text, numeric) supplies -------------------------------
    @abstractmethod
    def _read(self, data, cfg: ClassifyConfig, y=None, require_label: bool = True, droppable: bool = True):
        """``data`` read as this kind of input; ``droppable``: whether an error may name ``--drop-empty``."""

    @abstractmethod
    def _table_reader(self, cfg: ClassifyConfig) -> Callable[[Path], Any]:
        """``read(path)``: the table :meth:`_read` reads from a file, as it reads it (None for a file
        read otherwise): what a resume compares with the table the run recorded."""

    @abstractmethod
    def _fit_preprocessing(self, train, cfg: ClassifyConfig) -> Ragged | None:
        """Fit what reads the data (tokenizer, scaler); the training part as :meth:`_encode` gives
        it when fitting encoded it already (a text classifier: 200,000 texts take 7-10 s), else None."""

    @abstractmethod
    def _encode(self, d) -> list[torch.Tensor]: ...

    @abstractmethod
    def _net_shape(self) -> dict[str, int]: ...

    @abstractmethod
    def _preprocessing_meta(self) -> dict[str, Any]: ...

    @abstractmethod
    def _load_state(self, run_dir: Path, meta: dict[str, Any]) -> None: ...

    def _read_part(self, data, cfg: ClassifyConfig, name: str):
        """A validation or test part: a path or table with labels, or ``(X, y)`` as for :meth:`fit`."""
        if isinstance(data, tuple) and len(data) == 2:
            return self._read(data[0], cfg, y=data[1])
        if isinstance(data, (list, np.ndarray)):
            raise LstmkitError(f"{name} holds no labels (it is a {type(data).__name__})",
                               f"pass {name}=(X, y), a file or a table with a label column")
        try:                # a copy: the columns a two-column part implies are its own, not the run's (they were
            return self._read(data, copy.copy(cfg))    # saved as its text column: predict on the training file failed)
        except ColumnNotFound as e:          # its fix was 'pass --text with one of: …', which training lacks
            raise LstmkitError(e.message, f"name the columns of the {'validation' if name == 'val_data' else 'test'} "
                               f"data as the training data's: the column settings ({opt('text')}, {opt('label')}, …) apply to every "
                               f"file (its columns: {', '.join(e.columns) or 'none'})") from None

    def _check_like_training(self, d, what: str):
        """``d`` checked against what training read, as the model reads it (numeric series: the
        features per step, a table's named columns in the training order); as it is by default."""
        return d

    def _say_far_outside(self, d) -> None:
        """Warn when data to predict lies far outside what training read (numeric series)."""

    def _say_unknown(self, d, seqs) -> None:
        """Warn when data to predict or evaluate is mostly made of what the model never read (texts:
        words its vocabulary lacks); ``seqs`` is ``d`` encoded."""

    def _say_cut(self, seqs: Ragged | list) -> None:
        """Warn when ``max_len`` cut sequences to predict or evaluate (``seqs``: them encoded)."""
        note = self._cut_note(seqs.cut_from) if isinstance(seqs, Ragged) else None
        if note is not None:
            warnings.warn(note, UserWarning, stacklevel=callers_level())

    def _cut_note(self, before: torch.Tensor, name: Callable[[int], str] | None = None) -> str | None:
        """What ``predict`` says of sequences longer than ``max_len``, or None when none is. (Beside
        :meth:`_long_note` where both hold: this says how to read more of them, that the model never
        read sequences this long.)

        ``before``: the sequences' lengths as read, before ``max_len`` cut them (a tensor ``[N]``);
        ``name``: called with the place ``k`` (from 0) of the first sequence cut, the words naming it
        in the note (the service's ``texts[k]``, ``series[k]``); None: ``text k+1`` (``sequence k+1``)."""
        what = "text" if self.kind == "text" else "sequence"
        return cut_note(before, self.config_, self.kind, name or (lambda k: f"{what} {k + 1}"))

    def _longest_trained(self) -> int | None:
        """The longest sequence training read (``lstmkit.json``'s ``data.train_length.max``), or None
        (a run without one)."""
        longest = ((getattr(self, "data_summary_", None) or {}).get("train_length") or {}).get("max")
        return longest if isinstance(longest, int) and not isinstance(longest, bool) and longest > 0 else None

    def _long_note(self, seqs: Ragged, name: Callable[[int], str]) -> str | None:
        """What is said of the sequences ``seqs`` (encoded; their lengths before ``max_len`` cut them) over
        :data:`LONGER` times as long as the longest the model was trained on (``lstmkit.json``'s
        ``data.train_length.max``; a run without one is not checked), or None. ``name``: called with the
        place ``k`` (from 0) of the first such sequence, the words naming it in the note (``sequence 3``,
        ``sample 'a7'``, the service's ``texts[2]``). A model trained on one-line sentences labelled whole
        reviews without a word (MR's 51 tokens at most, IMDB's 230 on average: most reviews called
        negative), one trained on sensor series of 150 steps series sampled ten times as often."""
        longest = self._longest_trained()
        if longest is None or not len(seqs):
            return None
        before = getattr(seqs, "cut_from", seqs.lengths)
        if int(before.max()) <= LONGER * longest:      # none is: one reduction, not a search (a service request's)
            return None
        far = torch.nonzero(before > LONGER * longest).flatten().tolist()
        if not far:
            return None
        k, n, cfg = far[0], self.config_.max_len, self.config_
        what, unit = ("texts", "tokens") if self.kind == "text" else ("series", "steps")
        read = f", of which the model reads its {kept_part(n, cfg.truncate)}" if n is not None and int(before[k]) > n else ""
        fix = (f"pass texts like the training ones (a long one in parts of up to {longest:,} tokens)" if self.kind == "text"
               else "pass series like the training ones (at the training data's sampling rate, resampled if need be)")
        return (f"{len(far):,} of {len(seqs):,} {what} are over {LONGER} times as long as the longest the model was "
                f"trained on (first: {name(k)}, {int(before[k]):,} {unit}{read}; the longest training "
                f"{'text' if self.kind == 'text' else 'series'}: {longest:,}): it never read {what} this long, so their "
                f"labels may be off; {fix}, or retrain it on {what} like these")

    def _warn_overlap(self, train, part, what: str) -> None:
        """Warn when ``part`` (validation or test) repeats examples of ``train`` (texts: the same text)."""

    def _warn_conflicting(self, full) -> None:
        """Warn when equal examples of the training data carry different labels."""

    def _start_weights(self, cfg: ClassifyConfig) -> list:
        """Set the fresh net's starting weights (text: word vectors or a language model); returns
        the trainer callbacks that schedule them (gradual unfreezing)."""
        return []

    def _write_state(self, run_dir: Path) -> None:
        pass

    def _training_batches(self, batches):
        """The batches the net trains on (numeric series: augmented when ``augment`` asks for it);
        evaluation and prediction read the data as it is."""
        return batches

    def _loss_fn(self, loss):
        """The training loss for this kind's net (an ensemble trains each member on ``loss``)."""
        return loss


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    config = dict(config)
    config.pop("series", None)
    return {**config.pop("train", {}), **config}
