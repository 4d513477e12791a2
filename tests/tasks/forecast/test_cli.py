"""The forecast CLI: bad input gets one line on stderr and exit code 2, and nothing on disk."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_helpers import run_cli
from forecast_data import sine_frame
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread)

# one network (--ensemble 1): the default 15-seed median made each command train 15
FAST_FLAGS = ["--lookback", "24", "--hidden-size", "8", "--layers", "1", "--epochs", "2", "--ensemble", "1",
              "--progress", "off", "--device", "cpu"]




@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "sine.csv"
    sine_frame().to_csv(path, index=False)
    return path


def _bad_frames(tmp_path):
    df = sine_frame()
    text = df.copy()
    text["y"] = text["y"].astype(object)
    text.loc[5, "y"] = "12,5kg"
    gaps = df.copy()
    gaps.loc[[3, 4, 10], "y"] = np.nan
    files = {
        "text.csv": text, "gaps.csv": gaps, "short.csv": df.iloc[:40],
    }
    for name, frame in files.items():
        frame.to_csv(tmp_path / name, index=False)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header_only.csv").write_text("time,y\n")
    (tmp_path / "garbage.parquet").write_bytes(b"not parquet at all")


BAD = [
    # (flags, text the one error line must contain)
    (["--data", "{d}/nope.csv", "--target", "y"], "file not found"),
    (["--data", "{d}/empty.csv", "--target", "y"], "empty"),
    (["--data", "{d}/header_only.csv", "--target", "y"], "header_only.csv has a header but no data rows"),
    (["--data", "{d}/garbage.parquet", "--target", "y"], "garbage.parquet"),
    (["--data", "{d}/sine.csv", "--target", "sales"], "time, y, temp"),
    (["--data", "{d}/text.csv", "--target", "y", "--time", "time"], "12,5kg"),
    (["--data", "{d}/gaps.csv", "--target", "y", "--time", "time"], "--fill"),
    (["--data", "{d}/short.csv", "--target", "y", "--time", "time", "--lookback", "60"], "need at least"),
    (["--data", "{d}/sine.csv", "--target", "y", "--lookback", "0"], "`lookback` must be a positive integer, got 0"),
    (["--data", "{d}/sine.csv", "--target", "y", "--horizon", "-2"], "`horizon` must be a positive integer, got -2"),
    (["--data", "{d}/sine.csv", "--target", "y", "--model", "lsmt"], "lstm, gru, bilstm"),
    (["--data", "{d}/sine.csv", "--target", "y", "--time", "date"], "time, y, temp"),
    (["--data", "{d}/sine.csv", "--target", "y", "--fill", "mean"], "ffill"),
    (["--data", "{d}/sine.csv", "--target", "y", "--quantiles", "0.1,0.10000001,0.9", "--epochs", "1",
      "--ensemble", "1"], "0.1 and 0.10000001 both read 0.1"),
    # a fraction the part sizes or the many series leave unused (it trained without a word)
    (["--data", "{d}/sine.csv", "--target", "y", "--val-size", "48", "--val-frac", "0.3", "--epochs", "1",
      "--ensemble", "1"], "--val-frac 0.3 does not apply beside --val-size 48"),
    (["--data", "{d}/sine.csv", "--target", "y", "--test-size", "48", "--val-frac", "0.3", "--epochs", "1",
      "--ensemble", "1"], "--val-frac 0.3 does not apply beside --test-size 48"),
    (["--data", "{d}/sine.csv", "--target", "y", "--id", "temp", "--test-frac", "0.1", "--epochs", "1",
      "--ensemble", "1"], "--test-frac 0.1 does not apply beside --id temp"),
]


@pytest.mark.parametrize("flags, needle", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input_is_one_line_exit_2_and_no_run_folder(tmp_path, capsys, flags, needle, csv):
    _bad_frames(csv.parent)
    out_dir = tmp_path / "runs"
    args = ["forecast", "train", *[f.format(d=csv.parent) for f in flags], "--out", out_dir, "--progress", "off"]
    code, out, err = run_cli(args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0]
    assert " — " in lines[0]                  # a hint on how to fix it follows the problem
    assert "Traceback" not in err
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_fill_repairs_the_gaps(tmp_path, capsys, csv):
    _bad_frames(csv.parent)
    code, out, err = run_cli(["forecast", "train", "--data", csv.parent / "gaps.csv", "--target", "y",
                              "--time", "time", "--fill", "interpolate", "--out", tmp_path / "runs", *FAST_FLAGS],
                             capsys)
    assert code == 0, err
    assert "seasonal_naive" in out and "run folder:" in out


def test_evaluate_json_holds_what_the_report_prints_each_target_and_the_points(tmp_path, capsys):
    """evaluate --json printed the pooled model rows alone: not each target's table nor the points the numbers
    rest on, which the printed report and metrics.json have. Evaluated on the data it trained on, its record is
    metrics.json's, with every task's run, task, data and metric beside it; the model rows stay under their names."""
    import json
    frame = sine_frame(n=150)
    frame["returns"] = frame["temp"] + 5
    frame.drop(columns="temp").to_csv(tmp_path / "two.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "two.csv", "--target", "y,returns", "--time",
                              "time", "--horizon", "3", "--no-ets", "--out", tmp_path / "runs", *FAST_FLAGS,
                              "--epochs", "1", "--lookback", "12", "--no-doctor", "--no-tensorboard"], capsys)
    assert code == 0, err
    run = Path(out.strip().splitlines()[-1].split("run folder: ")[1])
    code, out, err = run_cli(["forecast", "evaluate", "--run", run, "--data", tmp_path / "two.csv", "--json"], capsys)
    assert code == 0, err
    said, saved = json.loads(out), json.loads((run / "metrics.json").read_text())
    for key in ("metrics", "per_target", "target_points", "test_points", "horizon", "season", "series"):
        assert said[key] == saved[key], key
    assert set(said["per_target"]) == {"y", "returns"} and said["test_points"] == sum(said["target_points"].values())
    assert all(said[model] == row for model, row in saved["metrics"].items())        # as before: each model's row
    from cli_helpers import assert_evaluated_keys
    assert_evaluated_keys(said, run, "forecast", "MASE", saved["metrics"]["lstm"]["MASE"])
    assert said["data"] == str((tmp_path / "two.csv").resolve())


def test_train_predict_evaluate_round_trip(tmp_path, capsys, csv):
    code, out, err = run_cli(["forecast", "train", "--data", csv, "--target", "y", "--time", "time",
                              "--horizon", "4", "--out", tmp_path / "runs", *FAST_FLAGS], capsys)
    assert code == 0, err
    run = out.strip().splitlines()[-1].split("run folder: ")[1]
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", csv,
                              "--out", tmp_path / "f.csv"], capsys)
    assert code == 0, err
    pred = pd.read_csv(tmp_path / "f.csv")
    assert list(pred.columns) == ["time", "step", "y"] and len(pred) == 4
    readers = {"f.parquet": pd.read_parquet, "f.xlsx": pd.read_excel, "f.json": pd.read_json,
               "f.jsonl": lambda p: pd.read_json(p, lines=True), "f.tsv": lambda p: pd.read_csv(p, sep="\t")}
    for name, read in readers.items():                        # the type the name asks for
        code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", csv, "--out", tmp_path / name], capsys)
        assert code == 0 and f"wrote 4 rows to {tmp_path / name}" in out, err
        got = read(tmp_path / name)
        assert list(got.columns) == ["time", "step", "y"], name
        np.testing.assert_allclose(got["y"].to_numpy(), pred["y"].to_numpy(), err_msg=name)
        assert pd.to_datetime(got["time"]).tolist() == pd.to_datetime(pred["time"]).tolist(), name
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", csv, "--out", tmp_path / "f.xml"], capsys)
    assert code == 2 and "cannot write a table as '.xml'" in err and not (tmp_path / "f.xml").exists()
    code, out, err = run_cli(["forecast", "evaluate", "--run", run, "--data", csv, "--json"], capsys)
    import json
    metrics = json.loads(out)
    models = {"lstm", "naive", "seasonal_naive", "ets"}
    assert set(metrics["metrics"]) == models and {m: metrics[m] for m in models} == metrics["metrics"]
    # the table says what its numbers rest on, as train's does (it printed the rows alone: a short file's test
    # part of a point or two read as a measurement)
    code, out, err = run_cli(["forecast", "evaluate", "--run", run, "--data", csv], capsys)
    points = json.loads((Path(run) / "metrics.json").read_text())["test_points"]
    assert code == 0 and out.splitlines()[0] == (f"Test metrics, original units ({points} points, horizon 4, "
                                                 f"season 24):"), err
    # a folder that is not a run, through the CLI
    code, out, err = run_cli(["forecast", "predict", "--run", tmp_path, "--data", csv], capsys)
    assert code == 2 and "not an lstmkit run folder" in err


def test_predict_writes_times_with_the_training_files_offset(tmp_path, capsys):
    """Daily dates written with +01:00: the forecast's dates keep the offset in every table type
    (a workbook, which holds no zone, the local clock), never 23:00 of the evening before."""
    days = pd.date_range("2024-01-01", periods=60, freq="D", tz="+01:00")
    pd.DataFrame({"time": [t.isoformat(sep=" ") for t in days], "y": np.sin(np.arange(60) / 3.0)}).to_csv(
        tmp_path / "d.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--target", "y", "--time", "time",
                              "--horizon", "3", "--out", tmp_path / "runs", *FAST_FLAGS[2:], "--lookback", "8"], capsys)
    assert code == 0, err
    run = out.strip().splitlines()[-1].split("run folder: ")[1]
    future = pd.date_range(days[-1], periods=4, freq="D")[1:]
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", tmp_path / "d.csv"], capsys)
    assert code == 0 and out.splitlines()[1].startswith("2024-03-01 00:00:00+01:00,1,"), err
    for name, read in {"f.parquet": pd.read_parquet, "f.json": pd.read_json}.items():
        code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", tmp_path / "d.csv",
                                  "--out", tmp_path / name], capsys)
        assert code == 0 and pd.DatetimeIndex(pd.to_datetime(read(tmp_path / name)["time"])).equals(future), name
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", tmp_path / "d.csv",
                              "--out", tmp_path / "f.xlsx"], capsys)
    assert code == 0 and pd.read_excel(tmp_path / "f.xlsx")["time"].tolist() == future.tz_localize(None).tolist()


def test_settings_left_unset_are_chosen_from_the_data_printed_and_recorded(tmp_path, capsys, csv):
    code, out, err = run_cli(["forecast", "train", "--data", csv, "--target", "y", "--time", "time", "--horizon", "3",
                              "--deseason", "0", "--no-log", "--ensemble", "1", "--out", tmp_path / "runs",
                              *FAST_FLAGS], capsys)
    assert code == 0, err
    chosen = [line for line in out.splitlines() if line.startswith("chosen from the training data: ")]
    assert len(chosen) == 1
    items = chosen[0].split(": ", 1)[1].split("; ")
    assert [i.split(" (")[0] for i in items] == ["segment 0", "highway 24", "scaler standard",
                                                 "combine none"]   # the flags win; a sized network forecasts alone
    import json
    run = out.strip().splitlines()[-1].split("run folder: ")[1]
    meta = json.loads(open(os.path.join(run, "lstmkit.json")).read())
    assert (meta["config"]["lookback"], meta["config"]["deseason"], meta["config"]["log"]) == (24, 0, False)
    assert set(meta["auto"]) == {"segment", "highway", "scaler", "combine", "measured"} and meta["config"]["scaler"] == "standard"


def test_config_file_is_used_and_flags_win(tmp_path, capsys, csv):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"data: {csv}\ntarget: y\ntime: time\nlookback: 12\nhidden_size: 8\nnum_layers: 1\n"
                   "horizon: 2\nensemble: 1\ntrain:\n  max_epochs: 1\n  progress: 'off'\n")   # one net, not 15
    code, out, err = run_cli(["forecast", "train", "--config", cfg, "--horizon", "3", "--out", tmp_path / "r"],
                             capsys)
    assert code == 0, err
    import json
    run = out.strip().splitlines()[-1].split("run folder: ")[1]
    conf = json.loads(open(os.path.join(run, "lstmkit.json")).read())["config"]
    assert conf["lookback"] == 12 and conf["horizon"] == 3 and conf["train"]["max_epochs"] == 1
    assert conf["ensemble"] == 1
    cfg.write_text("lookbak: 3\n")
    code, out, err = run_cli(["forecast", "train", "--config", cfg, "--data", csv, "--target", "y"], capsys)
    assert code == 2 and f"{cfg}: unknown setting 'lookbak' — did you mean 'lookback'?" in err   # names the file
    cfg.write_text("train:\n  max_epoch: 3\n")
    code, out, err = run_cli(["forecast", "train", "--config", cfg, "--data", csv, "--target", "y"], capsys)
    assert code == 2 and f"{cfg}: unknown setting 'max_epoch' — did you mean 'max_epochs'?" in err


def test_console_script_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lstmkit", "forecast", "train", "--data",
                           str(tmp_path / "missing.csv"), "--target", "y"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: file not found")
    assert "Traceback" not in proc.stderr


def test_ctrl_c_checkpoints_and_resume_matches_an_uninterrupted_run(tmp_path, capsys):
    df = sine_frame(n=1200, period=48)             # 2,400 rows only doubled three runs' time
    data = tmp_path / "long.csv"
    df.to_csv(data, index=False)
    flags = ["--data", str(data), "--target", "y", "--time", "time", "--lookback", "48",
             "--hidden-size", "24", "--epochs", "6", "--progress", "log", "--device", "cpu", "--ensemble", "1"]
    cmd = [sys.executable, "-m", "lstmkit", "forecast", "train", *flags]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # A shell runs background jobs (`make test &`, nohup) with SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: give the child the terminal's default disposition.
    proc = subprocess.Popen([*cmd, "--out", str(tmp_path / "a")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stderr:                       # wait until two epochs are done (progress: standard error)
        if line.startswith("epoch 2/6"):
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    run = next((tmp_path / "a").iterdir())
    assert (run / "checkpoints" / "last.safetensors").is_file()
    # the resume and the uninterrupted run in this process, on one thread as the child (its imports paid once)
    code, _, err = run_cli(["forecast", "train", *flags, "--resume", run], capsys)
    assert code == 0, err
    code, _, err = run_cli(["forecast", "train", *flags, "--out", tmp_path / "b"], capsys)
    assert code == 0, err
    other = next((tmp_path / "b").iterdir())
    assert (run / "model.safetensors").read_bytes() == (other / "model.safetensors").read_bytes()


def test_evaluate_prints_the_probabilistic_scores_train_printed_and_they_are_the_written_quantiles(csv, tmp_path,
                                                                                                   capsys):
    """A quantile run's train printed "probabilistic: wQL …, CRPS …, coverage_80 …" under its table; evaluate of
    the same run on the same data left that line out, though its --json held the numbers. Both now print it,
    and the numbers are those of the test quantiles recomputed from their definitions."""
    import json

    from lstmkit import load
    code, trained, err = run_cli(["forecast", "train", "--data", csv, "--target", "y", "--time", "time",
                                  "--horizon", "3", "--quantiles", "0.1,0.5,0.9", *FAST_FLAGS,
                                  "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    code, evaluated, err = run_cli(["forecast", "evaluate", "--run", run, "--data", csv], capsys)
    assert code == 0, err
    line = lambda text: [s for s in text.splitlines() if s.startswith("probabilistic: ")]  # noqa: E731
    assert len(line(trained)) == 1 and line(evaluated) == line(trained)
    written = json.loads((run / "metrics.json").read_text())["metrics"]["lstm"]
    t = load(run).test_forecasts(pd.read_csv(csv))
    y, q, levels = t["actual"][..., 0].ravel(), t["quantiles"][..., 0, :].reshape(-1, 3), t["levels"]
    rho = [np.sum(np.where(y >= q[:, k], tau * (y - q[:, k]), (1 - tau) * (q[:, k] - y))) for k, tau in enumerate(levels)]
    assert written["coverage_80"] == pytest.approx(np.mean((y >= q[:, 0]) & (y <= q[:, 2])))
    assert written["wQL"] == pytest.approx(np.mean([2 * r / np.abs(y).sum() for r in rho]))
    assert written["CRPS"] == pytest.approx(2 * np.sum(rho) / (len(y) * len(levels)))
    assert line(evaluated) == [f"probabilistic: wQL {written['wQL']:.4g}, CRPS {written['CRPS']:.4g}, "
                               f"coverage_80 {written['coverage_80']:.4g}"]
