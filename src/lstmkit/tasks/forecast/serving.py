"""A forecaster's service request and answer (``POST /predict``): histories in, forecasts out.

The request is ``{"instances": [{column: history}, ...]}``; each instance is one history of
the run's input columns (targets, then covariates), newest value last; a run trained on many
series needs ``"id"`` in each instance too, one of the series it was trained on (their scaling
and embedding are the run's; an unknown id is a 422). The answer is what ``Forecaster.predict``
gives on a table of those rows, computed by the served engine's network:

* every column needs at least ``min_history`` values: the lookback; with ``--deseason m`` at
  least two seasons too (``max(lookback, 2 m)``), and every column the same length, since the
  seasonal indices are estimated from the whole history sent, phase 0 at its first value;
* a run that blends its network with a baseline (``--combine``) answers the blend, the baseline
  fitted on the history sent (every column the same length; ETS on its newest
  :func:`~lstmkit.tasks.forecast.combine.ets_history` values): ETS needs two seasons
  (``max(lookback, 2 season)``), seasonal naive one;
* with ``--log`` every target value must be positive;
* a run with future covariates (``--future-covariates``) takes their history among the columns
  and their values over the horizon in ``"future": {covariate: [horizon values]}``; a run with
  calendar features (``--calendar``) takes the history's time stamps in ``"time": [...]`` (at
  least as many as the values it reads, newest last; the horizon's continue at their step);
* an instance that sends its history's time stamps is answered the forecast's too, in
  ``"times"`` (ISO 8601 in the run's zone, or the stamps' own: ``2024-03-31T13:00:00+02:00``;
  integer steps as integers; ``null`` for an instance that sent none), as ``predict`` stamps them;
* a probabilistic run answers its quantiles beside the point forecast:
  ``"quantiles": [{"0.1": {target: [h values]}, ...}]`` (one object per instance) and ``"levels"``;
* an instance whose last ``lookback`` values lie far outside its series' training range (the
  warning ``predict`` gives) is answered all the same, with ``"warnings": ["instances[i]: ..."]``.

Every bad request is a :class:`~lstmkit.deploy.adapter.BadRequest` naming its field (a 422).
Concurrent requests are answered together (``answer_many``, the service's request-batching queue):
one network call for the instances of every request, each request's answer or error its own.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch

from lstmkit.deploy.adapter import BadRequest
from lstmkit.errors import LstmkitError, warnings_caught
from lstmkit.tasks.forecast.calendar import calendar_names, future_times, parse_calendar
from lstmkit.tasks.forecast.combine import active_combination, baseline_history, combine_history
from lstmkit.tasks.forecast.times import (SERIAL_DATES, clock_zone, forecast_zone, in_zone, infer_freq, off_grid,
                                          reading_zone, time_values)
from lstmkit.tasks.forecast.scalers import covariates_far_outside_note, far_outside_note
from lstmkit.tasks.forecast.use_warnings import unknown_series

__all__ = ["min_history", "history_rule", "history_columns", "request_models", "answer", "answer_many"]


def min_history(est) -> int:
    """Values per column one request needs (see the module docstring)."""
    return history_rule(est)[0]


def history_rule(est) -> tuple[int, str]:
    """``(values, why)``: the history one request needs per column, and the reason in words."""
    cfg = est.config_
    need, why = cfg.lookback, "the lookback"
    if cfg.deseason and 2 * cfg.deseason > need:
        need, why = 2 * cfg.deseason, f"the lookback and two seasons of {cfg.deseason}"
    base = baseline_history(est)
    if base is not None and base[0] > need:
        need, why = base[0], f"the lookback and {base[1]}"
    return need, why


def history_columns(adapter) -> list[str]:
    """The columns an instance's history holds: the model's inputs less the calendar features
    (made from ``time``): targets, past covariates, then future covariates."""
    k = len(calendar_names(parse_calendar(adapter.cfg.calendar)))
    return adapter.columns[:len(adapter.columns) - k]


def _whole(est) -> bool:
    """True when a forecast reads the whole history sent (seasonal indices, a baseline), not the last window."""
    return bool(est.config_.deseason) or active_combination(est) is not None


def request_models(adapter, Finite, max_instances: int) -> tuple[type, type]:
    """The typed request and response (pydantic, imported here: the serve extra)."""
    from typing import Optional
    from typing import Annotated
    from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema, create_model, model_validator
    columns, need = history_columns(adapter), min_history(adapter.est)
    same = " (all the same length: the whole history)" if _whole(adapter.est) else ""
    what = f"{{column: history}} for columns {columns}, at least {need} values each{same}"

    pair = _time_pair(adapter)

    def history_schema(schema: dict[str, Any]) -> None:
        # every column is required, with at least `need` values: told in /docs as the service checks it
        # (the columns are read as extra keys, so the schema pydantic makes listed none of them)
        values = {**schema["additionalProperties"], "minItems": need}
        schema.setdefault("properties", {}).update({c: values for c in columns})
        schema["required"] = [*schema.get("required", []), *columns]
        schema["additionalProperties"] = False      # another column is refused ("unknown column")
        stamps = schema["properties"].get("time")
        if stamps is not None:                      # the time stamps by the training data's name for them too
            others = [*_time_names(adapter).choices[1:], *(pair or ())]
            schema["properties"].update({name: {"type": "array"} if name in (pair or ()) else stamps
                                         for name in others})
            if "time" in schema["required"]:        # calendar features: the stamps by one of their names
                # (a body that sent them by the training data's name was answered, yet refused by the schema;
                # one that sends them by two names is refused: the second is read as a value column)
                schema["required"].remove("time")
                schema["oneOf"] = [{"required": [name]} for name in _time_names(adapter).choices] + (
                    [{"required": list(pair)}] if pair else [])

    class Columns(BaseModel):                        # {column: history, ...} beside the named fields
        model_config = ConfigDict(extra="allow", json_schema_extra=history_schema)
        __pydantic_extra__: dict[str, list[Finite]]

        @model_validator(mode="before")
        @classmethod
        def _two_time_columns(cls, data: Any) -> Any:
            return _joined_time(data, pair, adapter.cfg.time)

    fields: dict[str, Any] = {}
    if _many(adapter):
        column = adapter.cfg.id or "id"
        fields["id"] = (str, Field(description=f"the series, as in the training data's {column} column"))
    if adapter.cfg.future_covariates:
        fields["future"] = (dict[str, list[Finite]], Field(
            description=f"the future covariates over the {adapter.cfg.horizon} forecast steps: "
                        f"{{covariate: [{adapter.cfg.horizon} values]}} for {list(adapter.cfg.future_covariates)}"))
    serial = adapter.cfg.dates in SERIAL_DATES   # a spreadsheet's serial days: sent as numbers too (45292.5)
    if adapter.cfg.calendar:
        fields["time"] = (list[str | int | float] if serial else list[str], Field(
            min_length=need, validation_alias=_time_names(adapter),
            description="the history's time stamps (e.g. 2024-01-31 12:00), newest last, for the "
                        f"calendar features {list(adapter.cfg.calendar)}"))
    elif adapter.cfg.time is not None:            # optional: checked to increase (a history sent newest first)
        # at least the history's stamps when sent: the schema allowed "time": [], which was answered a 422
        stamps = Annotated[list[str | int | float] if serial else list[str | int], Field(min_length=need)]
        fields["time"] = (Optional[stamps], Field(
            None, validation_alias=_time_names(adapter),
            description=f"the history's time stamps (the training data's {adapter.cfg.time!r} column), newest "
                        "last; optional, checked to increase"))
    if fields:
        Instance = create_model("ForecastInstance", __base__=Columns, **fields)
    else:
        plain = {"type": "object", "additionalProperties": TypeAdapter(list[Finite]).json_schema()}
        history_schema(plain)
        Instance = Annotated[dict[str, list[Finite]], WithJsonSchema(plain)]

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        instances: list[Instance] = Field(min_length=1, max_length=max_instances,
                                          description=("each: the series' id and " if _many(adapter) else "each: ") + what)

    class PredictResponse(BaseModel):
        predictions: list[dict[str, list[float]]] = Field(description="per instance: {target: point forecast}")
        quantiles: Optional[list[dict[str, dict[str, list[float]]]]] = Field(
            None, description="probabilistic runs, per instance: {level: {target: forecast}}")
        levels: Optional[list[float]] = None
        times: Optional[list[Optional[list[str | int]]]] = Field(
            None, description="per instance that sent its history's time stamps: the forecast's, ISO 8601 in the "
                              "run's zone (or the stamps' own), integer steps as integers; null for one that sent none")
        warnings: Optional[list[str]] = Field(
            None, description="what predict would warn about, per instance: e.g. a window far outside its series' "
                              "training range (the forecast is an extrapolation)")
        horizon: int
        engine: str

    return PredictRequest, PredictResponse


def answer(adapter, net, instances: list[dict[str, list[float]]]) -> dict[str, Any]:
    """The service's answer to validated ``instances`` (numbers already finite and within float32)."""
    prepared = _prepare(adapter, instances)
    return _finish(adapter, prepared, _network(adapter, net, [prepared])[0])


def answer_many(adapter, net, requests: list[dict[str, Any]]) -> list[dict[str, Any] | LstmkitError]:
    """Several service requests at once (the service's request-batching queue): every instance of
    every request through the network in one call, then each request's answer, or its own error
    in its place (a request refused does not fail the others)."""
    results: list[dict[str, Any] | LstmkitError | None] = [None] * len(requests)
    taken, prepared = [], []
    for i, request in enumerate(requests):
        try:
            prepared.append(_prepare(adapter, request["instances"]))
            taken.append(i)
        except LstmkitError as e:
            results[i] = e
    for i, prep, y in zip(taken, prepared, _network(adapter, net, prepared) if prepared else []):
        try:
            results[i] = _finish(adapter, prep, y)
        except LstmkitError as e:
            results[i] = e
    return results


def _prepare(adapter, instances: list[dict[str, list[float]]]) -> dict[str, Any]:
    """The network's inputs of one request's instances, scaled as ``predict`` scales them."""
    est, cfg = adapter.est, adapter.cfg
    xs, locs, scales, series, histories, futures, notes, times, ids = [], [], [], [], [], [], [], [], []
    named = {"id", "future", "time"} & set(_named_fields(adapter))
    for i, inst in enumerate(instances):
        sid = _series(adapter, i, inst)
        ids.append(est.series_ids_[0] if sid is None else sid)
        rows = _rows(adapter, i, {k: v for k, v in inst.items() if k not in named})
        t, info = _times(adapter, i, inst, len(rows), notes)
        times.append(_forecast_times(adapter, t, info))
        given = _future(adapter, i, inst)
        w = est.history_window(rows, sid, given, t if cfg.calendar else None, zone=clock_zone(info, _run(adapter)))
        histories.append(rows[:, :len(cfg.target)])
        for where, part in ([], w["x"]), (["future"], w.get("future", np.zeros((0, 0)))):
            if not np.isfinite(part).all():                  # columns: the last of the model's inputs for future
                j = int(np.nonzero(~np.isfinite(part).all(axis=0))[0][0]) + adapter.input_size - part.shape[1]
                raise BadRequest(["instances", i, *where, adapter.columns[j]],
                                 "values too large for the model's scaling",
                                 "send values in the units and range of the training data")
        xs.append(w["x"]), locs.append(w["loc"]), scales.append(w["scale"]), series.append(w["series"])
        futures.append(w.get("future"))
        notes.extend(_far_outside(adapter, i, sid, w["x"], rows, given))
    return {"x": xs, "loc": locs, "scale": scales, "series": series, "histories": histories, "future": futures,
            "notes": notes, "times": times, "ids": ids}


def _far_outside(adapter, i: int, sid, x: np.ndarray, rows: np.ndarray, future: np.ndarray | None) -> list[str]:
    """``predict``'s far-outside warnings of instance ``i`` (its window ``x [L, C']``, scaled, history
    ``rows [n, C]`` and future covariates ``future [H, U]``, original units) as an answer's words: the
    target's, the covariates'; ``[]`` when they lie within reach."""
    est, L, T = adapter.est, adapter.cfg.lookback, len(adapter.cfg.target)
    note = far_outside_note(est.panel_scaler_, est.series_ids_[0] if sid is None else sid, x[-L:, :T],
                            rows[-L:, :T], est._original_units, bool(adapter.cfg.deseason),
                            f"instances[{i}]: the last {L} values")
    covariates = rows[-L:, T:]                                   # past, then future covariates: as recorded
    if future is not None:
        covariates = np.concatenate([covariates, np.concatenate(
            [np.full((len(future), est.n_past_), np.nan), future], 1)])
    cov_note = covariates_far_outside_note(getattr(est, "covariate_range_", None), adapter.columns[T:rows.shape[1]],
                                           covariates, f"of instances[{i}]")
    return [n for n in (note, cov_note) if n is not None]


def _network(adapter, net, prepared: list[dict[str, Any]]) -> list[np.ndarray]:
    """The network's scaled outputs ``[B, H, T(, P)]`` of each prepared request, all in one call."""
    est = adapter.est
    x = torch.from_numpy(np.stack([x for p in prepared for x in p["x"]]))
    fut = torch.from_numpy(np.stack([f for p in prepared for f in p["future"]])) if est.n_future_ else None
    with torch.inference_mode():     # the series index (an embedding) and the horizon's inputs: (x, future, series)
        if adapter.embedding or fut is not None:
            y = net(x, fut, torch.tensor([s for p in prepared for s in p["series"]]))
        else:
            y = net(x)
        y = torch.as_tensor(y).numpy()
    return np.split(y, np.cumsum([len(p["x"]) for p in prepared])[:-1])


def _finish(adapter, prepared: dict[str, Any], y: np.ndarray) -> dict[str, Any]:
    """One request's answer from its network outputs ``y``: unscaled, checked, blended as ``predict``."""
    est, cfg = adapter.est, adapter.cfg
    params = est.original_params(y, np.stack(prepared["loc"]), np.stack(prepared["scale"]))
    for i, p in enumerate(params):
        if not np.isfinite(p).all():
            raise BadRequest(["instances", i], "the model's output is not finite for this input "
                             "(values far outside the training data?)",
                             "send values in the units and range of the training data")
    if active_combination(est) is not None:                                  # as predict: around the network
        params = np.stack([combine_history(est, p, h) for p, h in zip(params, prepared["histories"])])
    # a target 0 throughout its history forecasts 0, as predict's does
    params = est._zero_histories(params, np.stack([(h == 0).all(0) & (len(h) > 0) for h in prepared["histories"]]))
    limits = est._limits(prepared["ids"])                                    # within the run's bounds
    params = est._bounded_params(params, limits, adapter.widths)     # calibrated by the served net's own widths
    out = est.output_
    point = est._point(params, limits)                                       # [B, H, T]
    answer = {"predictions": [adapter.to_json(v) for v in point], "horizon": int(cfg.horizon)}
    if out.kind != "point":
        q = est._quantiles(params, limits)                                   # [B, H, T, Q]
        answer["quantiles"] = [{f"{level:g}": adapter.to_json(qi[:, :, k]) for k, level in enumerate(out.levels)}
                               for qi in q]
        answer["levels"] = [float(level) for level in out.levels]
    if any(t is not None for t in prepared["times"]):
        answer["times"] = prepared["times"]
    if prepared["notes"]:
        answer["warnings"] = prepared["notes"]
    return answer


def _many(adapter) -> bool:
    return len(adapter.est.series_ids_) > 1


def _named_fields(adapter) -> list[str]:
    """The instance's fields that are not history columns."""
    cfg = adapter.cfg
    return [*(["id"] if _many(adapter) else []), *(["future"] if cfg.future_covariates else []),
            *(["time"] if cfg.calendar or cfg.time is not None else [])]


def _time_pair(adapter) -> tuple[str, str] | None:
    """The two columns of a run trained with a two-column time (``Date,Time`` or ``Year,Month``)."""
    spec = adapter.cfg.time
    if not isinstance(spec, str) or "," not in spec:
        return None
    first, second = (part.strip() for part in spec.split(",", 1))
    return first, second


def _joined_time(data: Any, pair: tuple[str, str] | None, spec: str) -> Any:
    """An instance that sends a two-column time run's columns by their names (``"Date": [...],
    "Time": [...]``, as its table holds them) with them read as the training reader reads them
    (:func:`~lstmkit.tasks.forecast.integer_times.period_time`) into ``"time"``; one of the two
    alone, lists of other lengths or cells the reader refuses are a 422 naming them (they were
    taken for value columns: "must be a number")."""
    if pair is None or not isinstance(data, dict) or not any(name in data for name in pair):
        return data
    import pandas as pd
    from pydantic_core import PydanticCustomError
    from lstmkit.tasks.forecast.integer_times import PERIOD_PARTS, period_time

    def refuse(message: str, hint: str):
        return PydanticCustomError("time_columns", message.replace("{", "(").replace("}", ")"), {"hint": hint})
    per_year = PERIOD_PARTS.get(pair[1].lower())
    if per_year is None:
        joined = f"the history's time stamps in 'time' ({pair[0]} and {pair[1]} joined, e.g. '2024-03-01 13:00')"
        fields = f"the dates in {pair[0]!r} (e.g. '2024-03-01') and the times of day in {pair[1]!r} (e.g. '13:05')"
    else:
        joined = f"the history's time stamps in 'time' (the first day of each {pair[1].lower()}, e.g. '2024-03-01')"
        fields = f"whole years in {pair[0]!r} (e.g. 2024) and {pair[1].lower()}s 1-{per_year} in {pair[1]!r}"
    missing = [name for name in pair if name not in data]
    if missing:
        raise refuse(f"{pair[1 - pair.index(missing[0])]!r} was sent without {missing[0]!r}: this run's time is the "
                     f"two columns {spec!r}", f"send both {pair[0]!r} and {pair[1]!r}, or {joined}")
    if "time" in data:
        raise refuse(f"the time is sent twice: in 'time' and as {pair[0]!r} and {pair[1]!r}", "send one of them")
    cells = [data[name] for name in pair]
    if not all(isinstance(c, list) for c in cells) or len(cells[0]) != len(cells[1]):
        raise refuse(f"{pair[0]!r} and {pair[1]!r} must be two lists of the same length, one cell per history value",
                     f"send them as JSON lists of equal length, or {joined}")
    try:
        sent = pd.DataFrame({pair[0]: cells[0], pair[1]: cells[1]})
        sent.attrs.update(first_line=0, row_unit="item")         # a cell is named by its index in the lists
        t = period_time(sent, spec)
    except LstmkitError as e:       # the reader's fix names CLI flags (--time Date,Time): the JSON fields instead
        hint = e.hint if e.hint and "--time" not in e.hint and "time=" not in e.hint else f"send {fields}, or {joined}"
        raise refuse(e.message, hint) from None
    stamps = [v.isoformat() if isinstance(v, pd.Timestamp) else ("" if pd.isna(v) else str(v)) for v in t]
    return {**{k: v for k, v in data.items() if k not in pair}, "time": stamps}


def _time_names(adapter):
    """The names an instance's time stamps go by: ``time``, or the training data's time column."""
    from pydantic import AliasChoices
    names = ["time", *([adapter.cfg.time] if adapter.cfg.time not in (None, "time") else [])]
    return AliasChoices(*names)


def _future(adapter, i: int, inst: dict) -> np.ndarray | None:
    """An instance's future covariates over the horizon ``[H, U]`` (float64), every one given,
    each with exactly ``horizon`` values; None for a run without them."""
    names, H = list(adapter.cfg.future_covariates), adapter.cfg.horizon
    if not names:
        return None
    given = inst.get("future")
    if given is None:
        raise BadRequest(["instances", i, "future"], f"field required: the future covariates {names}",
                         f"send \"future\": {{covariate: [{H} values]}} for each of them")
    for name in given:
        if name not in names:
            raise BadRequest(["instances", i, "future", name], "unknown future covariate",
                             f"send only the ones the model was trained with: {names}")
    for name in names:
        if name not in given:
            raise BadRequest(["instances", i, "future", name], "field required",
                             f"send its {H} values over the horizon")
        if len(given[name]) != H:
            raise BadRequest(["instances", i, "future", name],
                             f"need exactly {H} values (one per forecast step), got {len(given[name])}",
                             f"send {H} values, the covariate's over the horizon")
    return np.stack([np.asarray(given[name], dtype=np.float64) for name in names], 1)


def _run(adapter) -> dict:
    """The served run's data summary (its zone, step and clock)."""
    return getattr(adapter.est, "data_summary_", None) or {}


def _forecast_times(adapter, t: np.ndarray | None, info: dict) -> list[str | int] | None:
    """The forecast's time stamps after an instance's history stamps ``t`` (as the panel holds them,
    read with notes ``info``), as ``predict`` gives them: ISO 8601 in the run's zone (or the stamps'
    own), integer steps as integers; None without stamps."""
    if t is None:
        return None
    H = adapter.cfg.horizon
    if not np.issubdtype(t.dtype, np.datetime64):
        return [int(v) for v in future_times(t[-1], None, H, t)]
    import pandas as pd
    freq = _run(adapter).get("freq")
    if freq is None and len(t) >= 3:
        try:
            freq = infer_freq(pd.DatetimeIndex(t))
        except (TypeError, ValueError):
            freq = None
    ahead = in_zone(future_times(t[-1], freq, H, t), info, forecast_zone(info, _run(adapter)))
    return [stamp.isoformat() for stamp in pd.DatetimeIndex(ahead)]


# what to send when the stamps cannot be read: the CLI's fixes name --time and --dates, which a request has not
_TIME_FIX = ('send "time" as ISO stamps from 1678 to 2261 (e.g. "2024-01-31" or "2024-01-31 12:00", which read '
             'one way only), one per history value')
# a run trained with --dates excel (excel1904) reads the stamps as it read its column: a spreadsheet's serial days
_SERIAL_FIX = ('send "time" as spreadsheet serial days, as the run was trained on (e.g. {} for '
               '2024-01-01 12:00), one per history value')


def _time_problem(message: str) -> str:
    """A message of :func:`~lstmkit.tasks.forecast.times.time_values`, in a request's words: the
    field sent, not a table's time column, and the run's order of day and month, not its flag."""
    message = re.sub(r"\((--dates |dates=')excel(1904)?'?\)", "(the run reads spreadsheet serial days)", message)
    return (message.replace("time column 'time' ", "the \"time\" field ")
            .replace("the run's --dates", "the run's date order").replace("the run's dates=", "the run's date order"))


def _times(adapter, i: int, inst: dict, n: int, notes: list[str]) -> tuple[np.ndarray | None, dict]:
    """The last ``n`` of an instance's time stamps (datetime64 as the panel holds them, or integer
    steps) and what :func:`~lstmkit.tasks.forecast.times.time_values` says of them; ``(None, {})``
    when it sends none (a 422 for a run with calendar features, which need them). A warning of
    how they were read (times without an offset read on a zoned run's clock) goes to ``notes``."""
    stamps = inst.get("time")
    if not adapter.cfg.calendar and stamps is None:
        return None, {}
    if stamps is None:
        raise BadRequest(["instances", i, "time"], "field required: the history's time stamps (calendar features)",
                         "send \"time\": one stamp per history value, e.g. \"2024-01-31 12:00\", newest last")
    if len(stamps) < n:
        raise BadRequest(["instances", i, "time"], f"need at least {n} time stamps (one per history value used), "
                         f"got {len(stamps)}", "send one stamp per history value, newest last")
    import warnings
    import pandas as pd
    try:
        with warnings_caught(record=True) as said:   # pandas' note on parsing stamps one by one: not said
            warnings.simplefilter("always")
            t, info = time_values(pd.Series(list(stamps[-n:])), "time", adapter.cfg.dates,
                                  *reading_zone(adapter.cfg, _run(adapter)))              # dates or integer steps
        notes.extend(f"instances[{i}]: {w.message}" for w in said if str(w.message).startswith("time column"))
    except LstmkitError as e:
        fix = (_SERIAL_FIX.format("43830.5" if adapter.cfg.dates == "excel1904" else "45292.5")
               if adapter.cfg.dates in SERIAL_DATES else _TIME_FIX)
        raise BadRequest.of(["instances", i, "time"], e, fix, _time_problem(e.message)) from None
    if np.issubdtype(t.dtype, np.datetime64) and np.isnat(t).any():    # "", "NaT", "nan": pandas reads no date
        k = int(np.flatnonzero(np.isnat(t))[0])                           # (all of them was a 500)
        raise BadRequest(["instances", i, "time", len(stamps) - n + k], f"{stamps[len(stamps) - n + k]!r} is not a "
                         "time stamp", "send every one the values need, e.g. 2024-01-31 12:00")
    steps = np.diff(t)
    if (steps <= steps.dtype.type(0)).any():
        raise BadRequest(["instances", i, "time"], "time stamps must increase, newest last",
                         "send each stamp once, oldest first")
    if adapter.cfg.calendar and not np.issubdtype(t.dtype, np.datetime64):
        raise BadRequest(["instances", i, "time"], "the calendar features need dates, not step numbers",
                         "send dates such as 2024-01-31 12:00")
    freq = (getattr(adapter.est, "data_summary_", None) or {}).get("freq")
    if freq and np.issubdtype(t.dtype, np.datetime64):       # the run's step (its training data's), with no gap
        k = off_grid(t, freq)                                 # the rule predict reads a history by (run_step)
        if k == 0:
            raise BadRequest(["instances", i, "time"], f"the history must step by the run's frequency {freq!r}; its "
                             f"first stamp {pd.Timestamp(t[0])} is no step of it", "send stamps of the run's steps")
        if k is not None:
            expected = pd.date_range(t[k - 1], periods=2, freq=freq)[1]
            raise BadRequest(["instances", i, "time"], f"the history must step by the run's frequency {freq!r} "
                             f"without gaps; after {pd.Timestamp(t[k - 1])} comes {pd.Timestamp(t[k])}, "
                             f"expected {expected}", "fill the missing steps")
    return t, info


def _series(adapter, i: int, inst: dict) -> str | None:
    """The series id an instance names (None for a one-series run, which takes none)."""
    if not _many(adapter):
        return None
    known = adapter.est.series_ids_
    sid = inst.get("id")
    if sid not in known:
        trained, alike = unknown_series(sid, known)
        raise BadRequest(["instances", i, "id"], f"unknown series {sid!r}; {trained}",
                         f"write the id as the training data did: {alike!r}" if alike
                         else "name one of the series the model was trained on")
    return sid


def _rows(adapter, i: int, inst: dict[str, list[float]]) -> np.ndarray:
    """One instance -> its history rows ``[n, C]`` (float64), every rule checked (see the module docstring)."""
    cfg, columns = adapter.cfg, history_columns(adapter)
    need, why = history_rule(adapter.est)
    for col in inst:
        if col not in columns:
            raise BadRequest(["instances", i, col], "unknown column", f"send only the model's columns: {columns}")
    for col in columns:
        if col not in inst:
            raise BadRequest(["instances", i, col], "field required", f"send the column's last {need} values "
                             f"or more ({why})")
        if len(inst[col]) < need:
            raise BadRequest(["instances", i, col], f"need at least {need} values ({why}), got {len(inst[col])}",
                             f"send the last {need} values or more")
    whole = _whole(adapter.est)
    n = len(inst[columns[0]]) if whole else cfg.lookback
    if whole:
        reason = "the seasonal indices are estimated" if cfg.deseason else "the baseline it blends with is fitted"
        for col in columns[1:]:
            if len(inst[col]) != n:
                raise BadRequest(["instances", i, col], f"has {len(inst[col])} values and {columns[0]} has {n}",
                                 f"send every column over the same history ({reason} on it)")
    rows = np.stack([np.asarray(inst[c][-n:], dtype=np.float64) for c in columns], axis=1)
    if cfg.log:
        for j, target in enumerate(cfg.target):
            bad = rows[:, j] <= 0
            if bad.any():
                raise BadRequest(["instances", i, target], f"needs positive values (the model reads their logs), "
                                 f"got {rows[int(np.argmax(bad)), j]:g}", "send values above 0, as the model "
                                 "was trained on")
    return rows
