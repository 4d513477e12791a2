"""The forecast commands on one tiny run trained once: what train prints of its times and quantiles,
what update and backtest do with their defaults, where they write and what they refuse."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_helpers import assert_user_error, run_cli
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread)

FLAGS = ["--target", "y", "--time", "time", "--lookback", "12", "--horizon", "4", "--hidden-size", "4",
         "--layers", "1", "--epochs", "2", "--ensemble", "1", "--progress", "off", "--device", "cpu"]


def _berlin_hours(n: int) -> pd.DataFrame:
    """Hourly readings across the spring clock change, written with their offsets (+01:00, then +02:00)."""
    times = pd.date_range("2024-03-28", periods=n, freq="h", tz="Europe/Berlin")
    t = np.arange(n)
    y = 10 + np.sin(2 * np.pi * t / 24) + 0.05 * np.random.default_rng(0).standard_normal(n)
    return pd.DataFrame({"time": [s.isoformat(sep=" ") for s in times], "y": y})


@pytest.fixture(scope="module")
def trained(tmp_path_factory, capsys_module):
    d = tmp_path_factory.mktemp("fc")
    df = _berlin_hours(300)
    df.iloc[:240].to_csv(d / "train.csv", index=False)
    df.iloc[240:].to_csv(d / "newer.csv", index=False)
    code, out, err = capsys_module(["forecast", "train", "--data", d / "train.csv", "--quantiles", "0.1,0.5,0.9",
                                    "--out", d / "runs", *FLAGS])
    assert code == 0, err
    (run,) = (d / "runs").iterdir()
    return d, run, out


@pytest.fixture(scope="module")
def capsys_module():
    """run_cli without a per-test capsys: stdout and stderr captured around one call."""
    import contextlib
    import io

    from lstmkit.cli import main

    def call(args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
                code = 0
            except SystemExit as e:
                code = e.code
        return code, out.getvalue(), err.getvalue()
    return call


def test_train_says_the_times_note_and_the_quantile_scores_of_the_model_alone(trained):
    d, run, out = trained
    lines = out.splitlines()
    note = [ln for ln in lines if "read as UTC" in ln]
    assert len(note) == 1 and "+01:00, +02:00" in note[0], out
    scores = json.loads((run / "metrics.json").read_text())["metrics"]["lstm"]
    wanted = [k for k in scores if k.startswith("coverage") or k in ("CRPS", "wQL")]
    assert {"CRPS", "wQL"} <= set(wanted) and any(k.startswith("coverage") for k in wanted)
    (prob,) = [ln for ln in lines if ln.startswith("probabilistic: ")]
    assert [item.split()[0] for item in prob[len("probabilistic: "):].split(", ")] == wanted


def test_update_with_its_defaults_writes_a_new_run_beside_the_old_one(trained, capsys):
    d, run, _ = trained
    before = sorted(p.name for p in run.parent.iterdir())
    code, out, err = run_cli(["forecast", "update", "--run", run, "--data", d / "newer.csv"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    new = lines[-1].split("run folder: ")[1]
    assert lines[-1].startswith("run folder: ") and str(run.parent) == str(Path(new).parent)
    assert sorted(p.name for p in run.parent.iterdir()) == sorted([*before, Path(new).name])
    report = json.loads((Path(new) / "update.json").read_text())
    assert report["epochs"] == 5 and report["parent"] == str(run.resolve())      # the promised default
    # 60 new rows, lookback 12, horizon 4: 45 windows, of which the newest 0.2 (9) judge the update
    assert report["train_windows"] + report["val_windows"] <= 45 and report["val_windows"] == 9
    verdict = "kept" if report["accepted"] else "rolled back (weights unchanged)"
    assert lines[0].startswith(f"update {verdict}: {report['loss']} on the newest 9 windows ")
    assert "series updated" not in out                     # one series: no line of which took part
    code, out, err = run_cli(["forecast", "update", "--run", run, "--data", d / "newer.csv", "--epochs", "1",
                              "--out", d / "elsewhere"], capsys)
    assert code == 0, err
    (made,) = (d / "elsewhere").iterdir()
    assert out.splitlines()[-1] == f"run folder: {made}"
    assert json.loads((made / "update.json").read_text())["epochs"] == 1


@pytest.mark.parametrize("which", [["--run", "{run}", "--config", "{d}/c.yaml"], []])
def test_backtest_takes_exactly_one_of_run_and_config(trained, capsys, which):
    d, run, _ = trained
    (d / "c.yaml").write_text("lookback: 12\n")
    code, out, err = run_cli(["forecast", "backtest", *[w.format(run=run, d=d) for w in which]], capsys)
    assert_user_error(code, err, "pass exactly one of --run and --config")
    assert out == ""


def test_backtest_of_a_config_without_data_names_the_flag(trained, capsys):
    d, _, _ = trained
    (d / "nodata.yaml").write_text("target: y\nlookback: 12\n")
    code, out, err = run_cli(["forecast", "backtest", "--config", d / "nodata.yaml", "--out", d / "bt-none"], capsys)
    assert_user_error(code, err, "no data given", "--data")
    assert not (d / "bt-none").exists()


def test_backtest_of_a_run_uses_three_fixed_folds_writes_into_the_run_and_prints_json_alone(trained, capsys):
    d, run, _ = trained
    code, out, err = run_cli(["forecast", "backtest", "--run", run, "--data", d / "train.csv", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)                      # standard output is the JSON alone
    assert sorted({r["fold"] for r in result["folds"]}) == [1, 2, 3]
    assert result["settings"]["refit"] is False
    assert (run / "backtest" / "backtest.json").is_file() and (run / "backtest" / "backtest.csv").is_file()
    assert json.loads((run / "backtest" / "backtest.json").read_text())["aggregate"] == result["aggregate"]
    # the keys every evaluate --json holds: the run, its task, the data, and the model's mean MASE over the folds
    assert (result["run"], result["task"], result["data"]) == (str(run), "forecast", str((d / "train.csv").resolve()))
    assert result["metric"] == {"name": "MASE", "value": result["aggregate"]["lstm"]["MASE"],
                                "higher_is_better": False}


def test_update_refuses_an_out_file_in_the_way_before_fine_tuning(trained, capsys, monkeypatch):
    """`--out FILE` was refused after the epochs of fine-tuning had run, the work thrown away."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    d, run, _ = trained
    (d / "taken").write_text("")
    monkeypatch.setattr(Forecaster, "update", lambda *a, **k: pytest.fail("fine-tuned before the refusal"))
    code, out, err = run_cli(["forecast", "update", "--run", run, "--data", d / "newer.csv", "--out", d / "taken"],
                             capsys)
    assert_user_error(code, err, "--out", "is a file, not a folder")
    assert out == ""


def test_backtest_of_a_run_on_other_data_backtests_that_data(trained, capsys):
    """--data beside --run is the series to backtest, not the run's recorded file: 60 rows more move each
    fold's cutoff 60 hours later."""
    d, run, _ = trained
    pd.concat([pd.read_csv(d / "train.csv"), pd.read_csv(d / "newer.csv")]).to_csv(d / "all.csv", index=False)
    cutoffs = []
    for data in (["--data", d / "train.csv"], ["--data", d / "all.csv"], []):     # none: the run's own file
        code, out, err = run_cli(["forecast", "backtest", "--run", run, *data, "--json",
                                  "--out", d / f"bt-{data[-1].name if data else 'own'}"], capsys)
        assert code == 0, err
        folds = json.loads(out)["folds"]
        cutoffs.append([pd.Timestamp(f["cutoff"]) for f in folds if f["model"] == "lstm"])
    assert len(cutoffs[1]) == 3 and [b - a for a, b in zip(*cutoffs[:2])] == [pd.Timedelta(hours=60)] * 3
    assert cutoffs[2] == cutoffs[0]
    assert (d / "bt-all.csv" / "backtest.json").is_file()                # --out: where the files go


def test_backtest_of_settings_trains_on_the_data_flag_and_logs_on_stderr(trained, capsys):
    """--config C --data F: F is backtested (C names none); the fold model's training lines go to standard
    error, standard output carries the JSON alone."""
    d, _, _ = trained
    (d / "tiny.yaml").write_text("target: y\ntime: time\nlookback: 12\nhorizon: 4\nhidden_size: 4\nnum_layers: 1\n"
                                 "ensemble: 1\ntrain:\n  max_epochs: 1\n  progress: 'off'\n")
    code, out, err = run_cli(["forecast", "backtest", "--config", d / "tiny.yaml", "--data", d / "train.csv",
                              "--folds", "2", "--json", "--out", d / "bt-cfg"], capsys)
    assert code == 0, err
    said = json.loads(out)
    assert sorted({f["fold"] for f in said["folds"]}) == [1, 2]
    # no run: null, and the settings file the folds trained with named instead
    assert (said["run"], said["config"], said["task"]) == (None, str(d / "tiny.yaml"), "forecast")
    # the model's mean MASE over the folds (the settings name no model: the default, lstm), lower better
    assert said["metric"] == {"name": "MASE", "value": said["aggregate"]["lstm"]["MASE"], "higher_is_better": False}
    assert said["data"] == str((d / "train.csv").resolve())
    assert "training one model" in err
    assert (d / "bt-cfg" / "backtest.json").is_file()


def test_evaluate_prints_one_heading_and_the_table_of_the_model_and_its_baselines(trained, capsys):
    """As train prints them: the heading, the four rows, and this probabilistic run's line (nothing more)."""
    d, run, _ = trained
    code, out, err = run_cli(["forecast", "evaluate", "--run", run, "--data", d / "train.csv"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Test metrics, original units (") and lines[0].endswith("horizon 4, season 24):")
    assert lines[1].split() == ["model", "MAE", "RMSE", "MAPE", "sMAPE", "MASE"]
    assert [line.split()[0] for line in lines[2:]] == ["lstm", "naive", "seasonal_naive", "ets", "probabilistic:"]


def test_backtest_prints_its_tables_unless_json_is_asked(trained, capsys):
    d, run, _ = trained
    code, out, err = run_cli(["forecast", "backtest", "--run", run, "--out", d / "bt-table"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split(" (")[0] for line in lines if line.startswith("fold ")] == ["fold 1", "fold 2", "fold 3"]
    assert "mean over 3 folds:" in lines and lines[-1] == f"written to {d / 'bt-table'}"


@pytest.mark.parametrize("lookback, horizon", [(1, 1), (10, 1), (60, 12), (24, 48)])
def test_an_update_needs_the_rows_its_help_names(lookback, horizon):
    """'forecast update --help': at least lookback + 2 x horizon rows (it said lookback + horizon, which
    is refused: one window to hold out and, horizon - 1 points before it, one to train on)."""
    from lstmkit.tasks.forecast.deploy import _update_split
    least = lookback + 2 * horizon
    assert _update_split(least, lookback, horizon, 0.01)[1] == 1
    assert _update_split(least - 1, lookback, horizon, 0.01)[1] < 1
    assert _update_split(least - 1, lookback, horizon, 0.5)[1] < 1
