"""The scikit-learn estimator protocol of the run-folder estimators (:class:`~lstmkit.tasks._base.RunEstimator`).

``get_params`` / ``set_params`` over the flat hyper-parameters the constructor takes, a clone for
``sklearn.base.clone`` (an unfitted estimator with the same settings), the tags scikit-learn ≥ 1.6
asks every estimator for (``cross_val_score``, ``GridSearchCV``, ``is_classifier``), and a
``repr`` that names the settings which differ from the defaults, as scikit-learn's does; and the
signature and ``Parameters`` docstring section a subclass gets from its config's fields
(:func:`estimator_signature`, :func:`parameters_doc`: the same help text as the CLI's flags).
scikit-learn itself is imported only when it asks for the tags: it takes about a second to load.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import os
import sys
import threading
import typing
from typing import TYPE_CHECKING, Any, Iterator, Self

import numpy as np

from lstmkit.config import TrainConfig, field_types, flatten_config
from lstmkit.errors import BadValue, TrainingInterrupted, caller_wording, parameter_check
from lstmkit.lazy import module_on_use

if TYPE_CHECKING:
    from sklearn.utils import metadata_routing
else:                      # scikit-learn loads when asked for (get_type_hints reading an annotation too)
    metadata_routing = module_on_use("sklearn.utils.metadata_routing")

__all__ = ["EstimatorParams", "WeightRequests", "LogProba", "params_dict", "estimator_signature", "parameters_doc",
           "cpu_float32", "public_call", "caller_warnings"]


class _Float32Default:
    """torch's default dtype float32 while any block of :func:`cpu_float32` runs, in any thread.

    The default dtype is the process's, not a thread's: two fits under a float64 default, each
    swapping it to float32 and back, raced (the first to finish set float64 back while the other still
    built its network, which came out float64, or the caller was left float32). One count of the
    blocks open, under a lock: the first sets float32 and records the caller's dtype, the last one
    out restores it; a block opened while the default is float32 already changes nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0                       # blocks open, in every thread
        self._caller = None                  # the dtype to restore when the last closes; None: untouched

    def __enter__(self) -> None:
        import torch
        with self._lock:
            self._open += 1
            if torch.get_default_dtype() != torch.float32:     # a caller's float64 (or set again meanwhile)
                if self._caller is None:
                    self._caller = torch.get_default_dtype()
                torch.set_default_dtype(torch.float32)

    def __exit__(self, *exc: object) -> None:
        import torch
        with self._lock:
            self._open -= 1
            if self._open == 0 and self._caller is not None:
                torch.set_default_dtype(self._caller)
                self._caller = None


_FLOAT32 = _Float32Default()


class _CallerWarningFilters:
    """The caller's warning filters, as they were before the first of the blocks open in any thread.

    ``warnings.catch_warnings`` (lstmkit's blocks that hush a library's notes) saves the process's
    filters on entry and puts them back on exit, so two threads' blocks that overlap undo each other:
    threads predicting side by side (a service's, a pool's) left lstmkit's ``ignore`` filters in place
    for good (4 threads, 40 forecasts each: 3 filters more, one of them ``ignore`` for every warning of
    the process); a recording block (``record=True``) left its list as where every later warning of the
    process went, unseen. One count of the blocks open, under a lock: the first records the filters and
    where warnings are shown, the last one out restores them where they differ."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._caller: tuple | None = None    # (the filters list, its entries, the two show functions) at the first

    def __enter__(self) -> None:
        import warnings
        with self._lock:
            if self._open == 0:
                self._caller = (warnings.filters, list(warnings.filters), warnings.showwarning,
                                getattr(warnings, "_showwarnmsg_impl", None))
            self._open += 1

    def __exit__(self, *exc: object) -> None:
        import warnings
        with self._lock:
            self._open -= 1
            if self._open or self._caller is None:
                return
            filters, entries, show, show_msg = self._caller
            self._caller = None
            warnings.showwarning = show
            if show_msg is not None:
                warnings._showwarnmsg_impl = show_msg
            if warnings.filters is not filters or filters != entries:
                filters[:] = entries
                warnings.filters = filters
                mutated = getattr(warnings, "_filters_mutated", None)     # the registries' cache of what was said
                if mutated is not None:
                    mutated()


_WARNING_FILTERS = _CallerWarningFilters()


def caller_warnings() -> _CallerWarningFilters:
    """A block that leaves the caller's warning filters as they were however other threads' blocks
    overlap it (:class:`_CallerWarningFilters`): every public call has it (:class:`cpu_float32`), and
    the service's request threads, which run a task's code outside them."""
    return _WARNING_FILTERS


class cpu_float32:
    """Run the block with torch's defaults pinned to what lstmkit builds and runs on: float32 tensors
    on the CPU, the caller's defaults restored afterwards (untouched where they are those already,
    so threads predicting side by side never see them set).

    Under ``torch.set_default_dtype(torch.float64)`` (a notebook's, for its own numerics) a network
    built in a fit or a load took float64 parameters while the data came as float32 arrays:
    ``SequenceClassifier`` and ``Forecaster`` failed with torch's 'LSTM: Expected input dtype
    torch.float64, got torch.float32', and the other tasks trained and saved a float64 network. The
    dtype is the process's: concurrent blocks share one float32 spell (:class:`_Float32Default`).

    Under ``torch.set_default_device('meta')`` (or ``'cuda'``) every tensor made without a device
    went there: a fit failed inside torch ('Cannot copy out of meta tensor', 'Tensor.item() cannot
    be called on meta tensors'), a load built its network there. The default device is the thread's
    (torch keeps it per thread), so the block pins it with ``torch.device('cpu')``, only where it is
    not the CPU already (that mode makes every torch call slower). A fit still trains on its
    ``device`` setting, moving the network there itself.

    Every fit (:meth:`EstimatorParams._fit_or_unchanged`), ``RunEstimator.load``, and the public
    methods that run a fitted network (``predict``, ``predict_proba``, ``score``, ...) run in it."""

    __slots__ = ("_device",)

    def __enter__(self) -> None:
        _FLOAT32.__enter__()
        _WARNING_FILTERS.__enter__()
        try:
            self._device = _cpu_pin()
            if self._device is not None:
                self._device.__enter__()
        except BaseException:
            _WARNING_FILTERS.__exit__(None, None, None)
            _FLOAT32.__exit__(None, None, None)
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._device is not None:
                self._device.__exit__(None, None, None)
        finally:
            try:
                _WARNING_FILTERS.__exit__(None, None, None)
            finally:
                _FLOAT32.__exit__(None, None, None)


def _cpu_pin():
    """``torch.device("cpu")`` where the thread's default device is another, else None. The default
    device is a torch function mode, so without one (the usual case) it is the CPU: asked first for
    0.04 us, where ``torch.get_default_device()`` takes 3.6 us."""
    import torch                                       # only once something builds a network
    mode_on = getattr(torch._C, "_is_torch_function_mode_enabled", lambda: True)()
    if mode_on and torch.get_default_device().type != "cpu":
        return torch.device("cpu")
    return None


_PUBLIC = threading.local()          # public_call blocks open in this thread
_FORK_HOOK: list[bool] = []         # [True] once a forked child's one-thread setting is registered


def _one_torch_thread_after_fork() -> None:
    """In a process forked after a model ran in its parent: torch on one thread (see :class:`public_call`)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() > 1:
        torch.set_num_threads(1)


class public_call:
    """The body of an estimator's public method (``fit``, ``load``, ``predict``, ...): hints name
    options as a Python caller passes them (``lookback=24``, not ``--lookback 24``; the CLI's own
    calls keep its flags: :func:`~lstmkit.errors.caller_wording`), and torch's defaults are pinned
    (:func:`cpu_float32`). A ``with`` block at the top of each, not a wrapper, so a warning's
    ``stacklevel`` still reaches the caller.

    A process forked after a model ran here (``multiprocessing``'s ``fork``, Linux's default before
    Python 3.14, ``os.fork``) runs torch on one thread: GNU OpenMP's worker threads do not survive a
    fork, and the child's first torch call on more threads waited for them forever (a ``Pool``'s
    ``predict`` hung). The setting is the child's (``torch.set_num_threads(1)``, as torch's own
    DataLoader workers run); the parent keeps its own.

    A class, not a generator, and a block inside another in the same thread (``predict`` calling a
    public method) changes nothing, the outer one having set both: ``Forecaster.predict`` of one
    window takes ~0.5 ms, of which two nested generator blocks asking ``get_default_device`` took
    ~20 us; this one takes ~2 us."""

    __slots__ = ("_opened",)

    def __enter__(self) -> None:
        depth = getattr(_PUBLIC, "depth", 0)
        self._opened = None
        if not depth:
            if not _FORK_HOOK:
                _FORK_HOOK.append(True)
                # Windows has no fork (every public method raised AttributeError there)
                if hasattr(os, "register_at_fork"):
                    os.register_at_fork(after_in_child=_one_torch_thread_after_fork)
            wording, pin = caller_wording(python=True), cpu_float32()
            wording.__enter__()
            try:
                pin.__enter__()
            except BaseException:
                wording.__exit__(None, None, None)
                raise
            self._opened = (wording, pin)
        _PUBLIC.depth = depth + 1

    def __exit__(self, *exc: object) -> None:
        _PUBLIC.depth -= 1
        if self._opened is not None:
            wording, pin = self._opened
            try:
                pin.__exit__(None, None, None)
            finally:
                wording.__exit__(None, None, None)


class EstimatorParams:
    """``get_params``, ``set_params``, ``__sklearn_clone__`` and ``__repr__`` for an estimator with
    a ``config`` object, ``parameter_names()``, ``default_config()`` and ``_resolve_config``."""

    _ESTIMATOR_TYPE: str | None = None      # scikit-learn's kind of estimator: "classifier" or none
    _REPR_LEADS: tuple[str, ...] = ()        # settings that choose other settings' defaults (``__repr__``)
    _INPUT_TAGS: dict[str, bool] = {}        # scikit-learn's InputTags where they differ (X: texts, [N, T, F], ...)

    def __sklearn_tags__(self):
        """scikit-learn's tags: the kind of estimator, whether ``fit`` needs ``y`` (a classifier
        takes it as ``y`` or in its table), the kinds of ``X`` it reads (``_INPUT_TAGS``: texts are
        1-D strings, not a 2-D array, so ``check_estimator`` skips its numeric-matrix checks instead
        of failing each). Inputs are checked here, not by scikit-learn."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags
        classifier = self._ESTIMATOR_TYPE == "classifier"
        return Tags(estimator_type=self._ESTIMATOR_TYPE, target_tags=TargetTags(required=classifier),
                    classifier_tags=ClassifierTags() if classifier else None, no_validation=True,
                    input_tags=InputTags(**self._INPUT_TAGS))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every hyper-parameter with its value, flat (``lr`` beside ``hidden_size``), as the
        constructor takes them. ``deep`` changes nothing: no parameter is itself an estimator."""
        flat = flatten_config(self.config.to_dict())
        return {name: flat[name] for name in self.parameter_names()}

    if TYPE_CHECKING:
        # any arguments, to a type checker (``*args`` with ``**params``): each estimator narrows them to its
        # constructor's keywords (``**params: Unpack[ForecastParams]``), which a base typed ``**params: Any``
        # alone refuses as an incompatible override
        def set_params(self, *args: Any, **params: Any) -> Self: ...
    else:
        def set_params(self, **params: Any) -> Self:
            """Change the hyper-parameters named in ``**params``, checked as the constructor checks them
            (an unknown name is an error suggesting the near one); returns ``self``. A fitted model keeps
            what it learned, and the settings it learned with in ``config_``, until the next ``fit``."""
            with parameter_check():
                self.config = self._resolve_config(self.config, params)
            return self

    @contextlib.contextmanager
    def _fit_or_unchanged(self) -> Iterator[None]:
        """The body of ``fit``, all or nothing, as scikit-learn's estimators are: a fit that raises
        (data refused after the classes were read, a network built but refused by the trainer, an
        error while training) leaves the estimator as it was: the model fitted before, or
        unfitted. Without it ``predict`` answered from an untrained network, or from new classes
        over old weights. The network is built in float32 on the CPU whatever torch's default
        dtype and device (:func:`cpu_float32`), with gradients on inside a caller's
        ``torch.no_grad()`` or ``torch.inference_mode()`` (a fit trains wherever it is called). Ctrl-C (:class:`~lstmkit.errors.TrainingInterrupted`) keeps the model
        trained so far, its best epoch's weights, and drops what an earlier fit found once trained
        (:meth:`_forget_earlier_results`): its run folder is marked interrupted, and ``resume`` continues it.
        Ctrl-C before the first training step (``untrained`` on the error) keeps nothing: the network
        is as built, untrained, and a refit kept it beside the new scalers, predict answering from random weights.
        The process's random generators are the fit's (:func:`~lstmkit.random_state.held_random`):
        fits in two threads take turns, and the caller's generator states come back afterwards.
        A ``with`` block rather than a wrapper, so a warning's ``stacklevel`` still reaches the caller."""
        import torch                                       # only once something trains
        from lstmkit.random_state import held_random
        before = dict(vars(self))          # a fit rebinds what it learns; it never edits these in place
        vars(self).pop("_call_settings", None)     # what this fit chooses from its data, noted afresh
        vars(self).pop("_history_so_far", None)    # an interrupted fit's epochs: history_ until a fit ends
        try:
            # a float32 CPU network under torch.set_default_dtype(torch.float64) or set_default_device('meta') too;
            # gradients inside the caller's torch.no_grad() or torch.inference_mode() too (torch's 'element 0 of
            # tensors does not require grad')
            with held_random(), public_call(), torch.inference_mode(False), torch.enable_grad():
                yield
        except TrainingInterrupted as e:
            if e.untrained:                          # no step taken: nothing of this fit to keep
                vars(self).clear()
                vars(self).update(before)
            else:
                self._forget_earlier_results(before)
            raise
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    def _forget_earlier_results(self, before: dict[str, Any]) -> None:
        """After Ctrl-C stopped a fit: drop what an earlier fit or load found once its model was trained
        (:data:`_FOUND_ONCE_TRAINED`) where this fit did not get as far as finding its own. A notebook's
        re-run cell, interrupted, kept the earlier fit's ``history_`` and ``metrics_`` beside the new
        network, and ``save()`` wrote them, its training record and test tables as the new model's."""
        for name in _FOUND_ONCE_TRAINED:
            if name in before and vars(self).get(name) is before[name]:
                del vars(self)[name]

    def __sklearn_clone__(self):
        """``sklearn.base.clone``: a new, unfitted estimator with a copy of these settings (and of the
        ``sample_weight`` requests for scikit-learn's metadata routing, as its clone copies them)."""
        twin = type(self)(copy.deepcopy(self.config))
        if "_weight_requests" in vars(self):
            twin._weight_requests = dict(self._weight_requests)
        return twin

    def _defaults_beside(self, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The settings among ``params`` that choose other settings' defaults (``_REPR_LEADS``) where
        they differ from the plain defaults, and the defaults of an estimator given those alone: a
        setting of ``params`` that differs from its default there is one the caller changed."""
        plain = flatten_config(self.default_config().to_dict())
        leads = {k: params[k] for k in self._REPR_LEADS if params[k] != plain[k]}
        return leads, (type(self)(**leads).get_params() if leads else plain)

    def __repr__(self) -> str:
        """The settings that differ from the defaults, enough to rebuild the estimator: a setting
        that chooses other settings' defaults (``_REPR_LEADS``: a SequenceClassifier's ``model``)
        is compared with, and the rest with that choice's defaults; a setting at the plain default
        that the choice moves is named too (``SequenceClassifier(model='gru', hidden_size=8)``
        printed without ``hidden_size``, which ``model='gru'`` makes 64)."""
        params = self.get_params()
        leads, base = self._defaults_beside(params)
        shown = {**leads, **{k: v for k, v in params.items() if v != base[k]}}
        for _ in range(len(params)):             # until the shown settings rebuild these (each round adds one or more)
            try:
                rebuilt = type(self)(**shown).get_params()
            except Exception:                    # noqa: BLE001 (a repr never raises; e.g. init_from's LM gone)
                break
            missing = {k: v for k, v in params.items() if rebuilt[k] != v}
            if not missing:
                break
            shown.update(missing)
        changed = [f"{k}={v!r}" for k, v in params.items() if k in shown]
        return f"{type(self).__name__}({', '.join(changed)})"


# an estimator's attributes found once its model is trained (a fit's result, test metrics and tables, time) or
# read with a loaded run (its folder, which history_ and save() read, and its training record)
_FOUND_ONCE_TRAINED = ("result_", "metrics_", "train_seconds_", "_metric_tables", "_loaded_from", "_training_record")
_UNCHANGED = "$UNCHANGED$"                   # scikit-learn's own value for "leave this request as it is"


class WeightRequests:
    """scikit-learn's metadata routing (``sklearn.set_config(enable_metadata_routing=True)``) for an
    estimator whose ``fit`` and ``score`` take ``sample_weight``: ``get_metadata_routing`` and the
    ``set_fit_request`` / ``set_score_request`` a meta-estimator's user calls to have the weights
    routed. Without them, under routing, a Pipeline's ``score`` was 'unexpected argument(s)
    {'sample_weight'}' though given none, and ``GridSearchCV.fit(X, y, sample_weight=w)`` could not
    pass the weights on. As scikit-learn's estimators: a weight given to a meta-estimator but not
    requested (``None``, the default) is its error naming ``set_fit_request``."""

    def get_metadata_routing(self) -> metadata_routing.MetadataRequest:
        """The ``sample_weight`` requests of ``fit`` and ``score`` (scikit-learn's ``MetadataRequest``)."""
        routing = metadata_routing.MetadataRequest(owner=type(self).__name__)
        asked = vars(self).get("_weight_requests", {})
        for method in ("fit", "score"):
            getattr(routing, method).add_request(param="sample_weight", alias=asked.get(method))
        return routing

    def set_fit_request(self, *, sample_weight: bool | str | None = _UNCHANGED) -> Self:
        """Whether a meta-estimator passes its ``sample_weight`` on to ``fit``: True, False, None (an
        error if one is given: the default) or the name it goes by there; returns ``self``."""
        return self._request_weight("fit", sample_weight)

    def set_score_request(self, *, sample_weight: bool | str | None = _UNCHANGED) -> Self:
        """As :meth:`set_fit_request`, for ``score``'s ``sample_weight``."""
        return self._request_weight("score", sample_weight)

    def _request_weight(self, method: str, value: Any) -> Self:
        if isinstance(value, str) and value == _UNCHANGED:
            return self
        if not (value is None or isinstance(value, bool) or (isinstance(value, str) and value.isidentifier())):
            raise BadValue(f"set_{method}_request's sample_weight must be True, False, None or the name the weights go "
                           f"by, got {value!r}", f"pass set_{method}_request(sample_weight=True)")
        vars(self).setdefault("_weight_requests", {})[method] = value
        return self


class LogProba:
    """``predict_log_proba`` for a classifier with ``predict_proba``, as scikit-learn's classifiers have it:
    ``cross_val_predict(method="predict_log_proba")`` raised AttributeError."""

    def predict_log_proba(self, *args: Any, **kwargs: Any) -> np.ndarray:
        """The log of :meth:`predict_proba` (``*args`` and ``**kwargs`` passed on to it), ``[N, C]``: a probability of 0
        is ``-inf``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(*args, **kwargs))


def params_dict(cls) -> type | None:
    """The TypedDict of the keyword parameters ``cls.__init__`` takes as ``**params: Unpack[...]``
    (PEP 692: what type checkers and IDEs check and complete, ``ForecastParams``), else None."""
    init = cls.__init__
    var_kw = [p.name for p in inspect.signature(init).parameters.values() if p.kind is p.VAR_KEYWORD]
    try:
        hint = typing.get_type_hints(init).get(var_kw[0]) if var_kw else None
    except Exception:                       # noqa: BLE001 (a subclass's annotation that does not resolve)
        return None
    if typing.get_origin(hint) is not typing.Unpack:
        return None
    return typing.get_args(hint)[0]


def _written(annotation: Any) -> str:
    """An annotation as its source text (a TypedDict holds each as a ForwardRef under ``from __future__ import annotations``)."""
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def estimator_signature(cls) -> inspect.Signature:
    """``cls(config=None, *, every parameter=its default)``: what ``inspect.signature`` and IDEs show,
    each annotated with what it takes: as its ``**params`` TypedDict (:func:`params_dict`) writes it,
    else the config field's type (a list of names takes comma-separated text too: ``target="a,b"``)."""
    config = cls.default_config()
    train = config.train
    types = {f.name: f.type for f in (*dataclasses.fields(cls.CONFIG), *dataclasses.fields(TrainConfig))}
    hints = {**field_types(TrainConfig), **field_types(cls.CONFIG)}
    for name, hint in hints.items():
        if typing.get_origin(hint) is list and typing.get_args(hint) == (str,):
            types[name] = f"{types[name]} | str"          # config.check_types splits the text at its commas
    typed = params_dict(cls)
    if typed is not None:
        types.update({name: _written(a) for name, a in typed.__annotations__.items()})
    train_names = {f.name for f in dataclasses.fields(TrainConfig)}
    params = [inspect.Parameter("config", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                annotation=f"{cls.CONFIG.__name__} | None")]
    for name in cls.parameter_names():
        default = getattr(train, name) if name in train_names else getattr(config, name)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=types[name]))
    return inspect.Signature(params)


def parameters_doc(cls) -> str:
    """The ``Parameters`` section of the class's docstring: each parameter, its default and its help."""
    from lstmkit.cli_config import field_help          # the same help text as the CLI's flags
    try:
        comments = {**field_help(TrainConfig), **field_help(cls.CONFIG)}
    except (OSError, TypeError):                        # no source to read (frozen, -OO)
        comments = {}
    lines = [f"Parameters (fields of :class:`{cls.CONFIG.__name__}` and :class:`TrainConfig`; "
             f"pass ``config=`` to start from a config object):", ""]
    for p in list(cls.__signature__.parameters.values())[1:]:     # set just before, by __init_subclass__
        note = comments.get(p.name, "")
        lines.append(f"    {p.name} = {p.default!r}" + (f"  -- {note}" if note else ""))
    return "\n".join(lines)
