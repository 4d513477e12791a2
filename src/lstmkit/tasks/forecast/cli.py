"""``lstmkit forecast train | predict | evaluate``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from lstmkit.config import load_yaml, merge
from lstmkit.runs import write_json
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.metrics import format_table

app = typer.Typer(help="Time-series forecasting: train, predict, evaluate.", no_args_is_help=True,
                  add_completion=False)


@app.command()
def train(
    data: Optional[Path] = typer.Option(None, help="CSV or Parquet file with the series."),
    target: Optional[str] = typer.Option(None, help="Target column(s), comma-separated."),
    time: Optional[str] = typer.Option(None, help="Time column (parsed, sorted; duplicates are an error)."),
    features: Optional[str] = typer.Option(None, help="Extra input columns, comma-separated."),
    lookback: Optional[int] = typer.Option(None, help="Past steps the model sees [60]."),
    horizon: Optional[int] = typer.Option(None, help="Future steps predicted at once [1]."),
    model: Optional[str] = typer.Option(None, help="Encoder: lstm, gru, bilstm, bigru, lstm-attention, "
                                                   "cnn-lstm, transformer, tcn [lstm]."),
    head: Optional[str] = typer.Option(None, help="Output head: linear, or mlp (Dense 25 -> Dense out) [linear]."),
    epochs: Optional[int] = typer.Option(None, help="Maximum epochs (early stopping ends sooner) [100]."),
    hidden_size: Optional[int] = typer.Option(None, help="Hidden units per layer [50]."),
    layers: Optional[int] = typer.Option(None, help="Recurrent layers [2]."),
    dropout: Optional[float] = typer.Option(None, help="Dropout between layers and before the head [0.2]."),
    batch_size: Optional[int] = typer.Option(None, help="Mini-batch size [32]."),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate [1e-3]."),
    lr_schedule: Optional[str] = typer.Option(None, help="plateau (halve on a val plateau) or cosine (anneal to 0 over --epochs) [plateau]."),
    loss: Optional[str] = typer.Option(None, help="mse, mae or huber [mse]."),
    scaler: Optional[str] = typer.Option(None, help="minmax, standard or none [minmax]."),
    season: Optional[int] = typer.Option(None, help="Seasonal period for baselines and MASE [inferred]."),
    fill: Optional[str] = typer.Option(None, help="Repair NaN cells: ffill or interpolate [error]."),
    relative: Optional[bool] = typer.Option(None, "--relative/--absolute",
                                            help="Model changes from each window's last value [relative]."),
    seed: Optional[int] = typer.Option(None, help="Random seed [42]."),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda [auto]."),
    progress: Optional[str] = typer.Option(None, help="auto, bar, log, off [auto]."),
    precision: Optional[str] = typer.Option(None, help="fp32 or bf16 (autocast mixed precision) [fp32]."),
    nan_retries: Optional[int] = typer.Option(None, help="Non-finite loss: skip, restore, halve lr; stop after N [3]."),
    checkpoint_every: Optional[int] = typer.Option(None, help="Steps between checkpoints; 0: epoch ends only [200]."),
    doctor: Optional[bool] = typer.Option(None, "--doctor/--no-doctor", help="Training diagnostics [on]."),
    id: Optional[str] = typer.Option(None, "--id", help="Series id column: one global model over many series."),
    format: Optional[str] = typer.Option(None, "--format", help="long (default), or m4 (wide: id, then ragged values)."),
    past_covariates: Optional[str] = typer.Option(None, help="Columns known only up to the forecast origin."),
    future_covariates: Optional[str] = typer.Option(None, help="Columns known through the horizon (predict "
                                                               "data must hold them for the next horizon rows)."),
    calendar: Optional[str] = typer.Option(None, help="Generated future covariates: hour,weekday,month,holidays[:CC]."),
    id_embedding: Optional[int] = typer.Option(None, help="Width of a learned per-series embedding (default 0: off)."),
    strategy: Optional[str] = typer.Option(None, help="direct (default), recursive or seq2seq."),
    quantiles: Optional[str] = typer.Option(None, help="Quantile levels, e.g. 0.1,0.5,0.9 (pinball loss)."),
    likelihood: Optional[str] = typer.Option(None, help="gaussian or studentt (negative log-likelihood)."),
    strict: Optional[bool] = typer.Option(None, "--strict/--no-strict",
                                          help="A series too short for lookback + horizon is an error (default: skipped, reported)."),
    val_size: Optional[int] = typer.Option(None, help="Validation points per series (default with --id: the horizon)."),
    test_size: Optional[int] = typer.Option(None, help="Test points per series (default with --id: the horizon)."),
    samples_per_epoch: Optional[int] = typer.Option(None, help="Many series: windows drawn per epoch, series uniformly (default: all windows)."),
    log: Optional[bool] = typer.Option(None, "--log/--no-log", help="Many series: model log(y) -- multiplicative seasonality, errors relative to the level (targets must be > 0)."),
    highway: Optional[int] = typer.Option(None, help="Autoregressive highway: a linear map from the last N values to the horizon, added to the LSTM's forecast (strong seasonality: N = lookback; default 0: off)."),
    highway_hidden: Optional[int] = typer.Option(None, help="With --highway: an MLP of this many ReLU units instead of the linear map (a nonlinear autoregression; default 0)."),
    segment: Optional[int] = typer.Option(None, help="Many series: the encoder reads the window this many steps at a time, e.g. 24 for hourly data (SegRNN; must divide --lookback; default 0)."),
    deseason: Optional[int] = typer.Option(None, help="Many series: remove each series' seasonal indices of this period (classical decomposition of its training part; after --log: multiplicative) before the network, and add them back to the forecast (default 0: off)."),
    ets: Optional[bool] = typer.Option(None, "--ets/--no-ets", help="ETS baseline per series (default: only up to 20 series)."),
    config: Optional[Path] = typer.Option(None, help="YAML file with any of these settings; flags win."),
    out: Path = typer.Option(Path("runs"), help="Folder that receives the run folder."),
    resume: Optional[Path] = typer.Option(None, help="Continue an interrupted run folder."),
):
    """Train a forecaster; print test metrics beside naive, seasonal-naive and ETS baselines."""
    flags = {"target": target, "time": time, "features": features, "lookback": lookback,
             "horizon": horizon, "model": model, "head": head, "hidden_size": hidden_size, "num_layers": layers,
             "dropout": dropout, "scaler": scaler, "season": season, "fill": fill, "relative": relative,
             "id": id, "format": format, "past_covariates": _split(past_covariates),
             "future_covariates": _split(future_covariates), "calendar": _split(calendar),
             "id_embedding": id_embedding, "strategy": strategy, "quantiles": quantiles, "likelihood": likelihood,
             "strict": strict, "val_size": val_size, "test_size": test_size, "samples_per_epoch": samples_per_epoch,
             "log": log, "highway": highway, "highway_hidden": highway_hidden, "segment": segment,
             "deseason": deseason,
             "ets": ets,
             "train": {"max_epochs": epochs, "batch_size": batch_size, "lr": lr, "lr_schedule": lr_schedule, "loss": loss,
                       "seed": seed, "device": device, "progress": progress, "precision": precision,
                       "nan_retries": nan_retries, "checkpoint_every": checkpoint_every, "doctor": doctor}}
    if resume is not None:
        overrides = {**{k: v for k, v in flags.items() if k != "train"}, **flags["train"]}
        est = Forecaster.resume(resume, data=str(data) if data else None, **overrides)
    else:
        params = merge(load_yaml(config) if config else {}, flags)
        if data is None:
            data = params.pop("data", None)
            if data is None:
                from lstmkit.errors import LstmkitError
                raise LstmkitError("no data given", "pass --data FILE.csv (or 'data:' in the --config file)")
        params.pop("data", None)
        est = Forecaster(**params).fit(str(data), out=out)
    _report(est)


def _split(v: Optional[str]):
    return None if v is None else [s.strip() for s in v.split(",") if s.strip()]


def _report(est: Forecaster) -> None:
    from lstmkit.train import distributed
    if not distributed.is_main():        # under torchrun, rank 0 speaks for all
        return
    m = est.metrics_
    many = f", {m['series']} series, mean over series" if "series" in m else ""
    typer.echo(f"\nTest metrics, original units ({m['test_points']} points, horizon {m['horizon']}, "
               f"season {m['season']}{many}):")
    typer.echo(format_table(m["metrics"]))
    extra = {k: v for k, v in m["metrics"].get(est.config_.model, {}).items()
             if k.startswith("coverage") or k in ("CRPS", "wQL")}
    if extra:
        typer.echo("probabilistic: " + ", ".join(f"{k} {v:.4g}" for k, v in extra.items()))
    if m.get("skipped"):
        s = m["skipped"]
        typer.echo(f"skipped {len(s)} series too short to train on (e.g. {s[0]['id']!r}, {s[0]['length']} points); "
                   "see metrics.json")
    r = est.result_
    typer.echo(f"\nepochs {r.epochs_run}, best epoch {r.best_epoch}"
               f"{' (early stop)' if r.stopped_early else ''}")
    typer.echo(f"run folder: {est.run_dir_}")


@app.command()
def predict(run: Path = typer.Option(..., help="Run folder from 'train'."),
            data: Path = typer.Option(..., help="Series to forecast from (its last rows are the history)."),
            out: Optional[Path] = typer.Option(None, help="Write the forecast to this CSV instead of stdout."),
            engine: str = typer.Option("auto", help="torch, onnx (RUN/model.onnx via onnxruntime), or auto.")):
    """Forecast the next `horizon` steps after the data's end."""
    est = Forecaster.load(run)
    df = est.predict(str(data), engine=engine)
    if out is None:
        typer.echo(df.to_csv(index=False), nl=False)
    else:
        from lstmkit.runs import atomic_write
        atomic_write(out, lambda tmp: df.to_csv(tmp, index=False))
        typer.echo(f"wrote {len(df)} rows to {out}")


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'train'."),
             data: Path = typer.Option(..., help="Series to evaluate on (its test part)."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Metrics on the test part of the data, beside the baselines."""
    est = Forecaster.load(run)
    metrics = est.evaluate(str(data))
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
    else:
        typer.echo(format_table(metrics))


@app.command()
def backtest(run: Optional[Path] = typer.Option(None, help="Run folder whose model is backtested."),
             config: Optional[Path] = typer.Option(None, help="YAML settings to train with (instead of --run)."),
             data: Optional[Path] = typer.Option(None, help="Series to backtest on (default: the run's data)."),
             folds: int = typer.Option(3, help="Number of rolling origins."),
             step: Optional[int] = typer.Option(None, help="Points between origins (default: the horizon)."),
             refit: bool = typer.Option(False, "--refit/--fixed", help="Retrain per fold, or keep one fixed model."),
             out: Optional[Path] = typer.Option(None, help="Output folder (default: RUN/backtest or runs/backtest-<time>)."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Rolling-origin evaluation: per-fold and mean metrics, backtest.csv/json and plots/backtest.png."""
    from lstmkit.errors import LstmkitError
    if (run is None) == (config is None):
        raise LstmkitError("pass exactly one of --run and --config", "--run RUN backtests a trained model; "
                           "--config C trains with those settings")
    if run is not None:
        est = Forecaster.load(run)
        source = data if data is not None else est.data_summary_.get("source")
    else:
        params = load_yaml(config)
        source = data if data is not None else params.pop("data", None)
        params.pop("data", None)
        est = Forecaster(**params)
    if source is None:
        raise LstmkitError("no data given", "pass --data FILE.csv")
    if out is None:
        from lstmkit.runs import new_run_dir
        out = run / "backtest" if run is not None else new_run_dir(Path("runs"), "backtest")
    result = est.backtest(str(source), folds=folds, step=step, refit=refit, out=out)
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    for fold in sorted({r["fold"] for r in result["folds"]}):
        rows = {r["model"]: r for r in result["folds"] if r["fold"] == fold}
        first = next(iter(rows.values()))
        when = f", cutoff {first['cutoff']}" if first.get("cutoff") else ""
        typer.echo(f"fold {fold} ({first['series']} series{when}):")
        typer.echo(format_table(rows))
    typer.echo(f"\nmean over {folds} folds:")
    typer.echo(format_table(result["aggregate"]))
    typer.echo(f"written to {out}")


@app.command()
def update(run: Path = typer.Option(..., help="Run folder to start from (left untouched)."),
           data: Path = typer.Option(..., help="Recent data: same columns, at least lookback + horizon rows."),
           out: Optional[Path] = typer.Option(None, help="Folder that receives the new run [beside RUN]."),
           epochs: int = typer.Option(5, help="Fine-tuning epochs over the new windows."),
           lr: Optional[float] = typer.Option(None, help="Learning rate [a tenth of the training one]."),
           holdout: float = typer.Option(0.2, help="Fraction of the newest windows that judges the update.")):
    """Fine-tune on recent data into a NEW run folder; rolled back if the newest points get worse."""
    from lstmkit.runs import new_run_dir
    est = Forecaster.load(run).update(str(data), epochs=epochs, lr=lr, holdout=holdout)
    new = est.save(new_run_dir(out if out is not None else run.parent, "forecast"))
    write_json(new / "update.json", {**est.last_update_, "parent": str(run.resolve())})
    r = est.last_update_
    verdict = "kept" if r["accepted"] else "rolled back (weights unchanged)"
    typer.echo(f"update {verdict}: {r['loss']} on the newest {r['val_windows']} windows "
               f"{r['val_loss_before']:.4g} -> {r['val_loss_after']:.4g}")
    typer.echo(f"run folder: {new}")


__all__ = ["app", "write_json"]
