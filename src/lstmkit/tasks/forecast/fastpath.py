"""Fast lanes of the public inference paths, each giving the numbers of the general path.

    engine_net_cached(est, engine)   the net ``predict`` answers with, kept while the run's files stay
    fold_forecasts(est, data, ...)   every fixed-model backtest fold in one pass (None: fold by fold)
    one_window(est, data, net)       ``predict`` of a clean single-series table (None: use the general path)
    frame_of(columns)                ``pd.DataFrame(columns)``, without building the column names each time
    one_thread(on)                   a context running this thread's torch calls on one thread

``predict`` resolves its engine once per run state instead of per call (the general lookup opens
the ONNX graph and hashes the weights to see whether the graph is current). The one-window lane
takes the model inputs straight from the table's numbers when the table is one plain numeric
block -- no time column, no id, every value finite -- and otherwise answers None so that the
general reader (:func:`~lstmkit.tasks.forecast.panel.read_panel`) checks and reads it, with its
errors. Both lanes scale, run and unscale with the same functions as the general path.

At batch 1 the network itself is most of a one-window forecast, and two things make it slow
that do not change its numbers: the Python of the modules' ``forward`` (the lane runs the torch
net as a TorchScript trace of itself, which holds the net's own parameter tensors) and intra-op
threads (a batch-1 step of a small LSTM is a few thousand multiply-adds, less than what waking a
second thread costs; on a busy machine the wait for it can take longer than the whole forecast).
:func:`one_thread` runs the calling thread's OpenMP regions on one thread: OpenMP keeps that
setting per thread, so other threads (a server's) keep theirs, which ``torch.set_num_threads``
would change for the whole process. An exported graph (``ForecastOnnxNet``) gets the window
as numpy and answers in numpy, in a one-thread session of its own (the torch round trip and the
second thread cost more than they save at batch 1).

Around the network every step runs cold: the LSTM kernel's 0.25 ms leaves the caches and branch
predictors to itself, and a numpy or pandas call right after it takes 3-5 times what it takes in
a loop of its own (reading a 60-row frame: 8 us alone, 33 us after a forward pass). So the lane
counts calls, not microseconds measured alone: the table's own float block is read as it is, no
covariate columns are joined when there are none, the answer frame is made from its two blocks,
and the run folder is stat'ed once (no graph, engine ``auto``) or not at all (``torch``). A window
within half the reach of its train range skips the far-outside check (:func:`_within_reach`), and one
point forecast is unscaled, checked and bounded in a few array calls, as the general path computes it
(callgrind, the tutorial forecaster through its ONNX graph: the instructions around the engine per call
fell from ~600k to ~430k, the whole call from 1.80M to 1.63M).
"""
from __future__ import annotations

import functools
import os
import warnings
import weakref

import numpy as np
import pandas as pd
import torch

from lstmkit.data.ranges import FAR_OUTSIDE
from lstmkit.errors import LstmkitError, warnings_caught
from lstmkit.nn.threads import one_thread
from lstmkit.run_tie import NetMarks
from lstmkit.runs import WEIGHTS_FILE
from lstmkit.tasks.forecast.combine import active_combination
from lstmkit.tasks.forecast.intervals import SWAP
from lstmkit.tasks.forecast.bounds import clip_values
from lstmkit.tasks.forecast.scalers import say_covariates_far_outside, say_far_outside

try:
    from pandas.api.internals import create_dataframe_from_blocks as _from_blocks
except ImportError:                      # pandas 2
    _from_blocks = None

__all__ = ["engine_net_cached", "one_window", "frame_of", "fold_forecasts", "one_thread"]

_ENGINES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # estimator -> (key, net_, net, marks)
_TRACES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()    # net -> (shape, slots, trace)
# Nets with at most this many weights (a 2-layer LSTM of about 90 units) step on one thread at batch 1.
ONE_THREAD_WEIGHTS = 1 << 17


def _stamp(run, engine: str) -> tuple | None:
    """What identifies the state of a run folder's graph and weight files as far as ``engine``
    depends on them: nothing for ``torch`` (the fitted net) or without a run; for ``auto`` without
    a graph, only that (torch, whatever the weights); else both (a graph is current for one
    fingerprint of the weights)."""
    if run is None or engine == "torch":
        return None
    run = str(run)
    onnx, weights = _stamped_paths(run)
    out = [run, _file_stamp(onnx)]
    if out[1] is not None or engine != "auto":
        out.append(_file_stamp(weights))
    return tuple(out)


def _file_stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


@functools.lru_cache(maxsize=64)
def _stamped_paths(run: str) -> tuple[str, str]:
    return os.path.join(run, "model.onnx"), os.path.join(run, WEIGHTS_FILE)


@functools.lru_cache(maxsize=64)
def _columns(names: tuple) -> pd.Index:
    return pd.Index(list(names))


def frame_of(columns: dict) -> pd.DataFrame:
    """``pd.DataFrame(columns)`` (the same frame): the column index, the slow part for a short
    frame of text names, is built once per layout (an Index is immutable, so frames may share it)."""
    out = pd.DataFrame(dict(enumerate(columns.values())), copy=False)   # the arrays are new; frames own them
    out.columns = _columns(tuple(columns))
    return out


def engine_net_cached(est, engine: str):
    """:func:`lstmkit.deploy.onnx_engine.engine_net` for ``est``, resolved again only when the engine, the
    fitted net or the run's files change (an ONNX session and a weights hash per call cost far more
    than the forecast of one window), or, where a graph answers, when the net's tensors were written in
    place since (:class:`~lstmkit.run_tie.NetMarks`: a net trained by hand answers with torch, as said)."""
    run = getattr(est, "run_dir_", None)
    key = (engine, getattr(est, "engine_", None), _stamp(run, engine))
    hit = _ENGINES.get(est)
    if hit is not None and hit[0] == key and hit[1] is est.net_ and (hit[3] is None or hit[3].holds(hit[1])):
        return hit[2]
    from lstmkit.deploy.onnx_engine import engine_net
    from lstmkit.deploy.registry import adapter_class
    own = est.net_
    marks = NetMarks(own)                     # before the check: a write after it is seen at the next call
    answering = run if engine == "torch" else est._answering_run()      # None: its run's weights moved
    net = engine_net(adapter_class(est.TASK)(est), engine, answering)
    _ENGINES[est] = (key, own, net, None if net is own or engine == "torch" else marks)
    return net


@functools.lru_cache(maxsize=64)
def _range(n: int) -> pd.RangeIndex:
    return pd.RangeIndex(n)                    # immutable: frames may share it


@functools.lru_cache(maxsize=64)
def _positions(columns: tuple, names: tuple) -> list[int] | None:
    """Where ``names`` are among a table's ``columns`` as read_panel finds them (None: ambiguous or missing)."""
    cols = [str(c) for c in columns]
    if len(set(cols)) != len(cols) or not set(names) <= set(cols):
        return None
    return [cols.index(n) for n in names]


def _frame_positions(columns: pd.Index, names: tuple) -> list[int] | None:
    """:func:`_positions` of a frame's column index. Text labels are found through the index's own
    hash table and uniqueness flag (both kept by the immutable index), without reading the labels
    out one by one (pyarrow-backed strings make that the slow part of a one-window predict)."""
    if columns.hasnans or not _text_dtype(columns.dtype):
        return _positions(tuple(columns), names)
    if not columns.is_unique:
        return None
    try:
        return [columns.get_loc(n) for n in names]
    except KeyError:
        return None


@functools.lru_cache(maxsize=64)
def _text_dtype(dtype) -> bool:
    """Whether labels of ``dtype`` are text of a string dtype (not object), asked once per dtype
    (``is_string_dtype`` is most of the lookup of a one-window table's columns)."""
    return dtype != object and pd.api.types.is_string_dtype(dtype)


@functools.lru_cache(maxsize=64)
def _time_index(kind: type) -> bool:
    """Whether an index of type ``kind`` is read as the time column (dates; periods: their first days,
    load_table), asked once per type (an ``isinstance`` of pandas' index classes is not a cheap one)."""
    return issubclass(kind, (pd.DatetimeIndex, pd.PeriodIndex))


def _plain_block(est, data) -> np.ndarray | None:
    """The model input columns ``[n, C]`` (float64) of ``data`` when it is one plain numeric
    block that read_panel would read as it is (else None); the table's own float64 array when
    it is just that (so never written to)."""
    cfg = est.config_
    if cfg.id is not None or cfg.time is not None or cfg.format != "long":
        return None
    names = tuple(est.input_names_)
    if isinstance(data, pd.DataFrame):
        if _time_index(type(data.index)):                              # read as the time column
            return None
        pos, block = _frame_positions(data.columns, names), data.values   # one dtype for the whole frame, or object
    elif isinstance(data, np.ndarray) and not np.ma.isMaskedArray(data) and data.ndim in (1, 2):
        columns = ("y",) if data.ndim == 1 else tuple(f"y{j}" for j in range(data.shape[1]))
        pos, block = _positions(columns, names), (data[:, None] if data.ndim == 1 else data)
    else:
        return None
    if pos is None or block.dtype.kind not in "fiub" or block.ndim != 2 or not len(block):
        return None
    if pos == list(range(block.shape[1])):      # every column in order (a table of the inputs alone)
        a = block if block.dtype == np.float64 else block.astype(np.float64)   # read only, never written
    else:
        a = block[:, pos].astype(np.float64)
    return a if np.isfinite(a).all() else None


def _lane_applies(est) -> bool:
    """Whether a run's forecast is the plain affine inverse of one network call: one series, point
    forecasts, direct, no logs, seasons, seeds, embeddings, inputs over the horizon or blend (--combine)."""
    cfg = est.config_
    return (len(est.series_ids_) == 1 and est.output_.kind == "point" and cfg.strategy == "direct" and not cfg.log
            and active_combination(est) is None
            and not cfg.deseason and (cfg.ensemble or 1) == 1 and not est.n_future_ and not cfg.id_embedding)


def one_window(est, data, net) -> pd.DataFrame | None:
    """``predict`` of a run the lane applies to (one series, point forecasts, direct, no logs,
    seasons or inputs over the horizon) on a plain table: the same scaling, network call,
    unscaling, finiteness check and frame as the general path, without the general reader. None
    when ``data`` needs the general path (dates, gaps, text, short, ...)."""
    cfg = est.config_
    if not _lane_applies(est):
        return None
    L, T = cfg.lookback, len(cfg.target)
    a = _plain_block(est, data)
    if a is None or len(a) < L:
        return None
    sid = "series"
    if sid not in est.panel_scaler_.params:
        return None
    whole, a = a, a[-L:]                                      # every step below is row by row
    loc, scale = _arrays(*map(tuple, est.panel_scaler_.params[sid]))    # PanelScaler.get's, kept per value
    y = (a[:, :T] - loc) / scale
    if not _within_reach(est.panel_scaler_, sid, y):          # the check itself decides (no seasons here)
        say_far_outside(est.panel_scaler_, [sid], y[None], a[None, :, :T], est._original_units, False)
    if a.shape[1] > T:                                        # past covariates (none over the horizon here)
        say_covariates_far_outside(getattr(est, "covariate_range_", None), list(est.input_names_[T:]), [sid], [a[:, T:]])
        past, fut = est._scale_covariates(a[:, T:], np.zeros((L, 0)))
        y = np.concatenate([y, past, fut], 1)
    x = y[None].astype(np.float32)
    one = getattr(type(net), "one", None)                     # an exported graph (ForecastOnnxNet): numpy in, numpy
    if one is not None:                                        # out, on one thread (not imported here: deploy/ is big)
        params = one(net, x)
    else:
        x = torch.from_numpy(x)
        with torch.inference_mode():
            if net is est.net_:
                run, small = _batch1(net, x)
                with one_thread(small):
                    params = run(x)
            else:
                params = est._engine_run(net)(x, None, None)
        params = params.numpy()
    # _ahead_params, _zero_histories and _bounded of one point forecast, as the general path runs them:
    # unscale's product and sum ('+ 0.0': its loc came as loc + a zero season), then the checks of what came out
    with np.errstate(over="ignore", invalid="ignore"):
        point = params.astype(np.float64) * scale + (loc + 0.0)              # [1, H, T]
    if not np.isfinite(point).all():
        est._check_finite(point, [sid])
    if not whole[:, :T].any(0).all():                           # a target whose history is all zeros (finite here)
        point = est._zero_histories(point, (whole[:, :T] == 0).all(0)[None], [sid])
    point = clip_values(point, est._limits([sid]))[0]           # a point run's calibration changes nothing: [H, T]
    return _point_frame(cfg.target, point)


@functools.lru_cache(maxsize=256)
def _arrays(loc: tuple, scale: tuple) -> tuple[np.ndarray, np.ndarray]:
    """A series' scaling as :meth:`~lstmkit.tasks.forecast.scalers.PanelScaler.get` gives it (float64
    arrays of its lists), made once per value and read only."""
    out = np.asarray(loc, np.float64), np.asarray(scale, np.float64)
    for v in out:
        v.flags.writeable = False
    return out


def _within_reach(scaler, sid: str, z: np.ndarray) -> bool:
    """Whether the scaled window ``z [L, T]`` lies so well within :func:`~lstmkit.data.ranges.reach` of
    series ``sid``'s train range that :meth:`~lstmkit.tasks.forecast.scalers.PanelScaler.far_outside`
    finds nothing (True), without its arrays and division; False: the check decides (a missing or
    infinite value, a value beyond half the reach, no range: it answers None there itself)."""
    r = scaler.ranges.get(sid)
    if r is None:
        return False
    low, high = _half_reach(tuple(r[0]), tuple(r[1]))
    return len(low) == z.shape[1] and bool((z.min(0) >= low).all() and (z.max(0) <= high).all())


@functools.lru_cache(maxsize=256)
def _half_reach(lo: tuple, hi: tuple) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` per target: half of :data:`~lstmkit.data.ranges.FAR_OUTSIDE` train-range widths
    beyond the range (no width: every value, as the rule never finds one beyond such a range). Rounded
    to the nearest float, a bound moves by at most its distance from the range's end (itself a float), so
    a value within lies at most FAR_OUTSIDE (1) widths beyond the range, exactly as the rule computes it,
    which it calls far only when more: the screen never hides a finding."""
    lo_, hi_ = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    width = hi_ - lo_
    fits = width > 0
    half = np.where(fits, 0.5 * FAR_OUTSIDE * width, np.inf)
    low, high = lo_ - half, hi_ + half
    low.flags.writeable = high.flags.writeable = False
    return low, high


def _batch1(net: torch.nn.Module, x: torch.Tensor) -> tuple:
    """``(run, small)``: ``net`` as a TorchScript trace at the shape of ``x`` (its ``forward``;
    ``net`` itself in training mode or when it cannot be traced), and whether it has at most
    :data:`ONE_THREAD_WEIGHTS` weights.

    The trace holds the net's own parameter objects, so weights changed in place (an update, a
    ``load_state_dict``) are what it computes with; it is traced again when a parameter or buffer
    object is replaced (looked up in each module's own table, which lives as long as the module),
    or for another net or shape."""
    hit = _TRACES.get(net)
    if hit is not None and hit[0] == x.shape and all(d.get(n) is t for d, n, t in hit[1]):
        return (net if net.training else hit[2]), hit[3]
    slots = [(d, n, t) for m in net.modules() for d in (m._parameters, m._buffers) for n, t in d.items()]
    small = sum(t.numel() for _, _, t in slots if isinstance(t, torch.nn.Parameter)) <= ONE_THREAD_WEIGHTS
    if net.training:
        return net, small
    try:
        with warnings_caught():
            # the tracer's notes on checks fixed at this shape, and torch 2.13's deprecation of torch.jit.trace
            # (it still works): for no caller to act on, nor to send -W error down the slow path; others are said
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace(_method)?` is deprecated",
                                    category=DeprecationWarning)
            trace = torch.jit.trace(net, (x,), check_trace=False)
    except Exception:                                         # a net tracing cannot follow: run it as it is
        trace = net
    if isinstance(trace, torch.jit.ScriptModule):            # its method itself: no module call (hooks, Python)
        trace = trace.forward
    _TRACES[net] = (x.shape, slots, trace, small)
    return trace, small


def _point_frame(targets: list[str], point: np.ndarray) -> pd.DataFrame:
    """What ``_forecast_frame`` makes of one series' point forecast ``[H, T]`` with no id or time
    column: ``step`` 1..H and one column per target, built from its two blocks (an int64 ``step``
    and a float64 block of the targets) without a dict or the constructor's checks."""
    H, T = point.shape
    names = _columns(("step", *targets))
    steps, values = np.arange(1, H + 1)[None], np.ascontiguousarray(point.T, dtype=np.float64)
    if _from_blocks is not None:        # pandas >= 3: the frame's blocks as they are (half the constructor's time)
        return _from_blocks([(steps, _placement(0, 1)), (values, _placement(1, T + 1))], index=_range(H), columns=names)
    arrays = [np.arange(1, H + 1), *(np.ascontiguousarray(point[:, j]) for j in range(T))]
    try:        # pandas' own constructor from aligned arrays (no dict, no checks of what is made here)
        return pd.DataFrame._from_arrays(arrays, columns=names, index=_range(H), verify_integrity=False)
    except (AttributeError, TypeError):                       # a pandas without it
        return frame_of(dict(zip(names, arrays)))


@functools.lru_cache(maxsize=64)
def _placement(start: int, stop: int) -> np.ndarray:
    out = np.arange(start, stop)
    out.flags.writeable = False         # shared by every frame made here
    return out


def fold_forecasts(est, data, sids: list[str], lengths: np.ndarray, cuts: np.ndarray) -> np.ndarray | None:
    """Every backtest fold's forecast by a fixed model in one pass over the network: ``[K, S, H, C]``
    of each fold and series (``sids``), what ``est.predict`` of that fold's history gives: each target's
    point forecast, then, of a probabilistic run, its quantiles (target by target, level by level).

    Taken when each fold's input window is a window of the whole table as the model scales it:
    known series (their saved scaling), no seasonal indices, inputs over the horizon or blend, every value
    finite (no gap ``interpolate`` filled) and every cut at least one lookback into its series
    (``cuts [K, S]``: per fold and series the points before the cut); otherwise None and the caller
    predicts fold by fold."""
    cfg = est.config_
    L = cfg.lookback
    if active_combination(est) is not None:    # predict fits the baseline on each fold's own history
        return None
    if cfg.deseason or est.n_future_ or cfg.format != "long" or any(s not in est.panel_scaler_.params for s in sids):
        return None
    c = np.asarray(cuts, dtype=np.int64)                                 # [K, S] points before each cut
    if (c < L).any():
        return None
    try:
        panel = est._read_for_use(data)
        if list(panel.ids) != list(sids) or not np.array_equal(panel.lengths, lengths) or not (
                np.isfinite(panel.values).all() and np.isfinite(panel.past).all()):
            return None
        if cfg.fill == "interpolate" and panel.unobserved is not None and panel.unobserved.any():
            return None       # the whole table's gaps were drawn toward values after a cut: predict fills each history
        arrays = est._panel_arrays(panel)
    except LstmkitError:                      # the fold-by-fold path says which fold's data is wrong
        return None
    with SWAP:                          # the net and its interval widths, as one (a kept update swaps both)
        net = engine_net_cached(est, "auto")
        widths = getattr(est, "intervals_", None)
    K, S = c.shape
    rows = torch.from_numpy((panel.starts[None] + c - L).reshape(-1))   # first input row, fold-major
    params = est._forecast_windows(arrays, rows, torch.arange(S).repeat(K), est._series_index(panel), net=net,
                                   widths=widths)
    params = params.reshape(K, S, *params.shape[1:])
    bad = ~np.isfinite(params.reshape(K, S, -1)).all(2).all(1)
    if bad.any():                                                        # the first such fold's error
        est._check_finite(params[int(np.flatnonzero(bad)[0])], sids)
    flat, limits = params.reshape(K * S, *params.shape[2:]), est._window_limits(panel, np.tile(np.arange(S), K))
    out = est._point(flat, limits)                                       # [K * S, H, T]
    if est.output_.kind != "point":
        q = est._quantiles(flat, limits)                                 # [K * S, H, T, Q]
        out = np.concatenate([out, q.reshape(*q.shape[:2], -1)], -1)
    return out.reshape(K, S, cfg.horizon, -1)                            # [K, S, H, C]
