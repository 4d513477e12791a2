"""``lstmkit forecast train | predict | evaluate``."""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Optional

import typer

from lstmkit.cli_config import config_file_path, progress_option
from lstmkit.cli_train import (add_train_command, check_config_keys, echo_run_end, file_settings, reader_may_leave,
                               task_app)
from lstmkit.table_out import check_table_out, echo_or_write_table, off_standard_output, out_file, write_table
from lstmkit.config import flatten_config, load_yaml
from lstmkit.errors import LstmkitError, first_of
from lstmkit.tasks.forecast.config import ForecastConfig, check_given

app = task_app("Time-series forecasting: train, predict, evaluate.")


def report(est) -> None:
    """Print a trained forecaster's test metrics, epochs and run folder (rank 0 only)."""
    from lstmkit.train import distributed
    if not distributed.is_main():        # under torchrun, rank 0 speaks for all
        return
    from lstmkit.tasks.forecast.auto import summary_line
    chosen = summary_line(getattr(est, "auto_", {}))
    if chosen:
        typer.echo(chosen)
    if (getattr(est, "data_summary_", None) or {}).get("time_note"):
        typer.echo(est.data_summary_["time_note"])
    inputs = covariates_line(est)
    if inputs:
        typer.echo(inputs)
    from lstmkit.tasks.forecast.bounds import report_note
    floor = report_note(getattr(est, "bounds_", None), len(est.series_ids_))
    if floor:
        typer.echo(floor)
    from lstmkit.tasks.forecast.intervals import report_note as intervals_note, turned_off
    calibrated = intervals_note(getattr(est, "intervals_", None))
    chosen = (getattr(est, "auto_", None) or {}).get("calibrate_intervals") or {}
    if calibrated:
        typer.echo(calibrated)
    elif chosen.get("value") is False and not turned_off(chosen):           # meant, not fitted: why
        typer.echo(f"intervals not calibrated: {chosen['why']}; they are as the network answers")
    m = est.metrics_
    typer.echo("")
    say_test_metrics(est, m, "each series' metrics in metrics_per_series.csv")
    if m.get("skipped"):
        s = m["skipped"]
        typer.echo(f"skipped {len(s)} series too short to train on (e.g. {s[0]['id']!r}, {s[0]['length']} points); "
                   "see metrics.json")
    echo_run_end(est, lead="\n")


train = add_train_command(
    app, ForecastConfig, "lstmkit.tasks.forecast.estimator:Forecaster", report,
    doc="Train a forecaster; print test metrics beside naive, seasonal-naive and ETS baselines.",
    files={"data": "CSV, TSV, JSON(L), Excel, Parquet, Feather or .tsf (Monash archive) file with the series "
                   "(or 'data:' in --config)."},
    required=("data", "no data given", "pass --data FILE.csv (or 'data:' in the --config file)"),
    resume=lambda cls, run, files, flags: cls.resume(run, data=files["data"], **flatten_config(flags)),
    check=check_given)


@app.command()
def predict(run: Path = typer.Option(..., help="Run folder from 'train'."),
            data: Path = typer.Option(..., help="Series to forecast from (its last rows are the history; "
                                                "any file train reads)."),
            out: Optional[Path] = typer.Option(None, help="Write the forecast here instead of stdout (.csv, "
                                                               ".tsv, .parquet, .json, .jsonl or .xlsx; - for CSV on "
                                                               "stdout).",
                                            parser=out_file("forecast.csv"), metavar="<path>"),
            engine: str = typer.Option("auto", help="torch, onnx (RUN/model.onnx via onnxruntime), or auto.")):
    """Forecast the next `horizon` steps after the data's end."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    check_table_out(out, example="forecast.csv", inputs={"data": data})
    est = Forecaster.load(run)
    df = est.predict(str(data), engine=engine)
    echo_or_write_table(df, out)


def covariates_line(est) -> str | None:
    """What the model reads besides its targets, and how (None when nothing): past-only covariates,
    future-known ones (which ``predict`` needs over the horizon), the calendar features of the time
    column, and the covariates' scaling -- a run trained on a covariate it should not read (or
    without one it should) is seen before anyone forecasts with it."""
    from lstmkit.tasks.forecast.calendar import parse_calendar
    cfg = est.config_
    T, names = len(cfg.target), list(est.input_names_)
    past, future = names[T:T + est.n_past_], list(cfg.future_covariates)
    calendar = [name if arg is None else f"{name}:{arg}" for name, arg in parse_calendar(cfg.calendar)]
    if not (past or future or calendar):
        return None
    parts = ([f"past only (known up to each forecast origin): {', '.join(past)}"] if past else []) + (
        [f"known ahead (predict needs them for the {cfg.horizon} steps after each series' end): {', '.join(future)}"]
        if future else []) + ([f"calendar features of the times: {', '.join(calendar)}"] if calendar else [])
    scaler = est.covariate_scaler_
    how = (f"; covariates scaled {scaler.kind} on the training part, one scaling for every series"
           if scaler is not None and scaler.kind != "none" else "")
    return "inputs besides the target: " + "; ".join(parts) + how


def say_test_metrics(est, m: dict, worst_more: str | None = None) -> None:
    """The test metrics as ``train`` and ``evaluate`` print them, from one record (``metrics.json``'s, or
    ``evaluate``'s): what they were scored on, the table, the blend, each target's table, the model's
    probabilistic scores and the worst series. ``evaluate`` of a quantile run left out the
    "probabilistic: wQL ..., CRPS ..., coverage_80 ..." line that ``train`` printed and ``--json`` holds.
    Of several targets the pooled scores' line is under the pooled table: printed after the last target's
    table, it read as a second line of that target's own scores."""
    from lstmkit.tasks.forecast.metrics import format_probabilistic, format_table
    typer.echo(_scored_on(m))     # how many points the numbers rest on (a short file's test part: 1 point)
    typer.echo(format_table(m["metrics"]))
    _say_blend(est, m["metrics"])
    extra = {k: v for k, v in m["metrics"].get(est.config_.model, {}).items()
             if k.startswith("coverage") or k in ("CRPS", "wQL")}
    if extra:
        typer.echo(format_probabilistic(extra))
    _say_per_target(m)
    _say_worst(m, worst_more)


def _say_per_target(m: dict) -> None:
    """Under the table of several targets: a line on what its rows pool, then each target's own table
    (``metrics.json``'s ``per_target``): sales in thousands beside returns in thousandths made the MAE
    and RMSE above the sales' alone, halved."""
    per_target = m.get("per_target")
    if not per_target:
        return
    import math

    from lstmkit.tasks.forecast.metrics import format_probabilistic, format_table
    unscaled = [t for t, rows in per_target.items()
                if not any(math.isfinite(r.get("MASE", math.nan)) for r in rows.values())]
    among = (f" that have one ({', '.join(unscaled)}: none, its training part repeating itself exactly)"
             if unscaled and len(unscaled) < len(per_target) else "")
    typer.echo("the rows above pool the targets: MAE and RMSE in each one's own units (the largest outweighs "
               f"the others), MASE the mean of each one's{among}; each target's own metrics:")
    points = m.get("target_points") or {}        # each target's own observed points: said where they differ (--fill)
    points = points if len(set(points.values())) > 1 else {}
    for target, rows in per_target.items():
        typer.echo(f"\n{target}" + (f" ({points[target]:,} points)" if target in points else "") + ":")
        typer.echo(format_table(rows))
        extra = {k: v for r in rows.values() for k, v in r.items() if k.startswith("coverage") or k in ("CRPS", "wQL")}
        if extra:
            typer.echo(format_probabilistic(extra))


def _say_worst(m: dict, more: str | None = None) -> None:
    """Under a many-series table of means: the series the model scores worst (``metrics.json``'s ``worst``),
    which a mean over thousands of series hides."""
    worst = m.get("worst")
    if worst:
        named = ", ".join(f"{w['id']!r} {w['value']:.4g}" for w in worst["series"])
        typer.echo(f"worst series by {worst['metric']}: {named}" + (f" ({more})" if more else ""))


def _scored_on(m: dict) -> str:
    """The line above a metrics table: what its numbers were scored on (``metrics.json``'s record)."""
    many = f", {m['series']} series, mean over series" if m.get("series", 1) > 1 else ""
    n = m["test_points"]
    return (f"Test metrics, original units ({n} point{'s' if n != 1 else ''}, horizon {m['horizon']}, "
            f"season {m['season']}{many}):")


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'train'."),
             data: Path = typer.Option(..., help="Series to evaluate on (its test part; any file train reads)."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
             out: Optional[Path] = typer.Option(None, help="Write every test forecast here, the columns of a run's "
                                                           "test_forecasts.csv (.csv, .tsv, .parquet, .json, .jsonl "
                                                           "or .xlsx); - (CSV) or /dev/stdout: the metrics go to "
                                                           "standard error.",
                                         parser=out_file("test_forecasts.csv"), metavar="<path>"),
             progress: str = progress_option()):
    """Metrics on the test part of the data, beside the baselines."""
    from lstmkit.estimator_params import public_call
    from lstmkit.tasks.forecast.estimator import Forecaster
    from lstmkit.tasks.forecast.forecast_table import TEST_FORECASTS
    check_table_out(out, example=TEST_FORECASTS, inputs={"data": data})
    est = Forecaster.load(run).set_params(progress=progress)
    kept = {TEST_FORECASTS: None} if out is not None else None
    with public_call():
        scored = est._evaluated(str(data), kept)     # a warning names this line (callers_level): printed as one
    if out is not None:
        _write_forecasts(kept[TEST_FORECASTS], out)
    # --out - or /dev/stdout (| duckdb, > file): the table alone there, the metrics on standard error
    with off_standard_output(out):
        if as_json:
            from lstmkit.runs import to_json
            typer.echo(to_json(evaluated_json(run, data, scored), indent=2))
        else:
            say_test_metrics(est, scored)


def evaluated_json(run: Path, data: Path, scored: dict) -> dict:
    """``evaluate --json``: each model's row under its name, as before, then the record ``metrics.json`` holds
    (the same rows under ``metrics``, ``test_points``, ``horizon``, ``season``, ``series``, of several targets
    ``per_target`` and ``target_points``, of many series ``worst``: what the printed report says, which the rows
    alone left out), then every task's ``run``, ``task``, ``data`` and ``metric`` (the model's MASE)."""
    from lstmkit.run_metric import evaluated_keys
    said = {**scored["metrics"], **{k: v for k, v in scored.items() if k not in scored["metrics"]}}
    keys = evaluated_keys(run, str(Path(data).resolve()), scored)
    return {**said, **{k: v for k, v in keys.items() if k not in said}}


def _write_forecasts(table, out: Path) -> None:
    """``evaluate --out``: the test forecasts' table written atomically (temp file, then rename), said on
    standard error (standard output holds the metrics, JSON with --json)."""
    if table is None:
        typer.echo(f"no test windows (test_size 0): nothing written to "
                   f"{'standard output' if str(out) == '-' else out}", err=True)
        return
    from lstmkit.tasks.forecast.forecast_table import write_csv
    where = write_table(table, out, write_csv if out.suffix.lower() == ".csv" else None)   # as train's file
    typer.echo(f"wrote {len(table):,} test forecasts to {where}", err=True)


def _say_blend(est, metrics: dict) -> None:
    """Under a metrics table whose model row is a blend with a baseline: say so, and its shares."""
    from lstmkit.tasks.forecast.combine import blend_note
    note = blend_note(est)
    if note and est.config_.model in metrics:
        typer.echo(note)


@app.command()
def backtest(run: Optional[Path] = typer.Option(None, help="Run folder whose model is backtested."),
             config: Optional[Path] = typer.Option(None, help="YAML settings to train with (instead of --run)."),
             data: Optional[Path] = typer.Option(None, help="Series to backtest on.  [default: the run's data, or "
                                                 "'data:' in --config]"),
             folds: int = typer.Option(3, help="Number of rolling origins."),
             step: Optional[int] = typer.Option(None, help="Points between origins.  [default: the horizon]"),
             refit: bool = typer.Option(False, "--refit/--fixed", help="Retrain per fold, or keep one fixed model."),
             out: Optional[Path] = typer.Option(None, help="Output folder.  [default: RUN/backtest or runs/backtest-<time>]"),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Rolling-origin evaluation: per-fold and mean metrics, backtest.csv/json and plots/backtest.png."""
    from lstmkit.run_resume import recorded_file
    from lstmkit.tasks.forecast.estimator import Forecaster
    if (run is None) == (config is None):
        raise LstmkitError("pass exactly one of --run and --config", "--run RUN backtests a trained model; "
                           "--config C trains with those settings")
    if out is not None:
        from lstmkit.runs import check_out_folder
        check_out_folder(out)                  # a file in the way, a name too long: before the folds train
    named = contextlib.nullcontext()      # with --config: its settings' refusals name the file and key
    if run is not None:
        est = Forecaster.load(run)
        # the run's own data file, which must still be there (a run copied to another machine said
        # 'file not found: OLD PATH — check the path', and not that --data gives its new place)
        source = data if data is not None else recorded_file(est.data_summary_ or {}, "source", run, "--data")
    else:
        check_config_keys(config, ForecastConfig, Forecaster, {"data": ""})
        params = load_yaml(config)
        yaml_data = params.pop("data", None)
        source = data if data is not None else None if yaml_data is None else config_file_path(yaml_data, config)
        named = file_settings(config, {}, ("data",))
        with named:
            est = Forecaster(**params)
    if source is None:
        raise LstmkitError("no data given", "pass --data FILE.csv")
    if out is None:
        from lstmkit.runs import new_run_dir
        out = run / "backtest" if run is not None else new_run_dir(Path("runs"), "backtest")
    # the fold models' epoch lines are on standard error, as training's; the files are the work, so a
    # reader that leaves (`| head -1`) stops neither the folds nor the command, before or after them
    with reader_may_leave(), named:
        try:
            result = est.backtest(str(source), folds=folds, step=step, refit=refit, out=out,
                                  log=lambda message: typer.echo(message, err=True))
        except KeyboardInterrupt as e:        # one line saying what was cut (typer would drop the message)
            print("interrupted" + (f" {e}" if str(e) else ""), file=sys.stderr, flush=True)
            sys.exit(130)
        _echo_backtest(backtest_json(result, run, config, Path(source), est) if as_json else result, folds, out,
                       as_json)


def backtest_json(result: dict, run: Path | None, config: Path | None, data: Path, est) -> dict:
    """``backtest --json``: the result (``backtest.json``'s), then the keys every ``evaluate --json`` holds
    (:func:`~lstmkit.run_metric.evaluated_keys`): ``run``, ``task``, ``data`` and ``metric``, the model's
    MASE (its mean over the folds). From ``--config`` there is no run: ``run`` is null and ``config`` names
    the settings file the folds trained with."""
    data_said = str(data.resolve())
    if run is not None:
        from lstmkit.run_metric import evaluated_keys
        keys = evaluated_keys(run, data_said, {"metrics": result["aggregate"]})
    else:
        from lstmkit.tasks.forecast.config import headline_metric
        model = est.get_params().get("model")
        headline = headline_metric({"metrics": result["aggregate"]}, {"model": model})
        keys = {"run": None, "config": str(config), "task": "forecast", "data": data_said,
                "metric": None if headline is None else {"name": headline.name, "value": headline.value,
                                                         "higher_is_better": headline.higher_is_better}}
    return {**result, **{k: v for k, v in keys.items() if k not in result}}


def _echo_backtest(result: dict, folds: int, out: Path, as_json: bool) -> None:
    """``backtest``'s results on standard output: its JSON (with --json, :func:`backtest_json`'s), or each
    fold's table and their mean."""
    from lstmkit.tasks.forecast.metrics import format_probabilistic, format_table
    if as_json:
        from lstmkit.runs import to_json
        typer.echo(to_json(result, indent=2))
        return
    for fold in sorted({r["fold"] for r in result["folds"]}):
        rows = {r["model"]: r for r in result["folds"] if r["fold"] == fold}
        first = next(iter(rows.values()))
        when = f", cutoff {first['cutoff']}" if first.get("cutoff") else ""
        typer.echo(f"fold {fold} ({first['series']} series{when}):")
        typer.echo(format_table(rows))
    typer.echo(f"\nmean over {folds} folds:")
    typer.echo(format_table(result["aggregate"]))
    if "metrics.json" in (result["settings"].get("mase_scale") or ""):     # a run's fixed model: its test MASE differs
        typer.echo(f"({result['settings']['mase_scale']})")
    extra = {k: v for r in result["aggregate"].values() for k, v in r.items()
             if k.startswith("coverage") or k in ("CRPS", "wQL")}
    if extra:                                     # a probabilistic run's, in every fold row of backtest.csv too
        typer.echo(format_probabilistic(extra))
    _say_per_target(result)
    typer.echo(f"written to {out}")


@app.command()
def update(run: Path = typer.Option(..., help="Run folder to start from (left untouched)."),
           data: Path = typer.Option(..., help="Recent data: same columns, at least lookback + 2 x horizon rows "
                                               "(more with a larger --holdout: the newest windows it holds out)."),
           out: Optional[Path] = typer.Option(None, help="Folder that receives the new run.  [default: beside RUN]"),
           epochs: int = typer.Option(5, help="Fine-tuning epochs over the new windows."),
           lr: Optional[float] = typer.Option(None, help="Learning rate.  [default: a tenth of the training one]"),
           holdout: float = typer.Option(0.2, help="Fraction of the newest windows that judges the update.")):
    """Fine-tune on recent data into a NEW run folder; rolled back if the newest points get worse."""
    import shutil

    from lstmkit.runs import check_out_folder, new_run_dir, write_json
    from lstmkit.tasks.forecast.estimator import Forecaster
    if out is not None:
        check_out_folder(out)                  # a file in the way: before the fine-tuning, not after it
    est = Forecaster.load(run).update(str(data), epochs=epochs, lr=lr, holdout=holdout)
    new = new_run_dir(out if out is not None else run.parent, "forecast")
    try:
        est.save(new)
        write_json(new / "update.json", {**est.last_update_, "parent": str(run.resolve())})
    except BaseException:           # a full disk, a file size limit, Ctrl-C: no run folder half written
        shutil.rmtree(new, ignore_errors=True)
        raise
    r = est.last_update_
    verdict = "kept" if r["accepted"] else "rolled back (weights unchanged)"
    typer.echo(f"update {verdict}: {r['loss']} on the newest {r['val_windows']} windows "
               f"{r['val_loss_before']:.4g} -> {r['val_loss_after']:.4g}")
    if "series" in r:                                    # many series: which took part
        typer.echo(_series_line(r))
    if r.get("intervals"):                               # kept: the calibration refitted on the held-out windows
        typer.echo(f"intervals {r['intervals']['why']}" + ("" if r["intervals"]["value"] else
                                                          " (the forecast's intervals are the network's own)"))
    typer.echo(f"run folder: {new}")


def _series_line(r: dict) -> str:
    """``2 of the model's 3 series updated; left out: 1 new to the model ('s9'), 1 with too few rows
    ('s1'), 1 without rows in the data`` -- an update's series, from its report."""
    left = r.get("left_out", {})
    parts = [f"{len(left[k])} {why} ({first_of(left[k], 3, repr)})" for k, why in
             (("new", "new to the model"), ("too_short", "with too few rows")) if left.get(k)]
    absent = r["model_series"] - r["series"] - len(left.get("too_short", []))
    parts += [f"{absent} without rows in the data"] if absent else []
    return f"{r['series']} of the model's {r['model_series']} series updated" + (
        "; left out: " + ", ".join(parts) if parts else "")


__all__ = ["app", "report", "covariates_line"]
