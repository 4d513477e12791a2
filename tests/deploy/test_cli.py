"""``lstmkit export onnx|int8``, ``lstmkit forecast predict --engine`` and ``forecast update``."""
import json
import shutil

import pandas as pd
import pytest

from forecast_data import sine_frame
from cli_helpers import assert_user_error, run_cli

pytest.importorskip("onnxruntime")




@pytest.fixture
def run(abs_forecaster, tmp_path):
    """A private copy of the trained run, so commands here can write into it."""
    dst = tmp_path / "run"
    shutil.copytree(abs_forecaster.run_dir_, dst, ignore=shutil.ignore_patterns("model.onnx", "onnx.json"))
    return dst


def test_export_onnx_then_predict_with_each_engine(run, tmp_path, capsys):
    csv = tmp_path / "s.csv"
    sine_frame(n=100).to_csv(csv, index=False)
    code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", csv, "--engine", "onnx"], capsys)
    assert code == 2 and err.count("\n") == 1 and "lstmkit export onnx" in err
    code, out, _ = run_cli(["export", "onnx", "--run", run], capsys)
    assert code == 0 and (run / "model.onnx").is_file() and "h0, c0" in out
    outs = {}
    for engine in ("torch", "onnx"):
        code, out, _ = run_cli(["forecast", "predict", "--run", run, "--data", csv, "--engine", engine], capsys)
        assert code == 0
        outs[engine] = [float(line.split(",")[-1]) for line in out.strip().splitlines()[1:]]
    assert max(abs(a - b) for a, b in zip(outs["torch"], outs["onnx"])) < 1e-4


def test_export_int8_writes_a_new_run_with_a_report(run, capsys):
    code, out, _ = run_cli(["export", "int8", "--run", run, "--backend", "torch"], capsys)
    target = run.parent / "run-int8"
    assert code == 0 and "kept as engine" in out and str(target) in out
    report = json.loads((target / "export_report.json").read_text())
    assert report["engine"] == "torch" and "metric_change" in report["chosen"]
    code, _, err = run_cli(["export", "int8", "--run", run], capsys)
    assert code == 2 and "already exists" in err and "Traceback" not in err


def test_update_writes_a_new_version_and_leaves_the_old(run, tmp_path, capsys):
    csv = tmp_path / "new.csv"
    new = sine_frame(n=150, seed=5)
    new.assign(time=new["time"] + pd.Timedelta(hours=480)).to_csv(csv, index=False)     # after the training data
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    code, out, _ = run_cli(["forecast", "update", "--run", run, "--data", csv, "--out", tmp_path / "versions",
                            "--epochs", "2"], capsys)
    assert code == 0 and "run folder:" in out
    new = next((tmp_path / "versions").iterdir())
    assert json.loads((new / "update.json").read_text())["parent"] == str(run.resolve())
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
    code, _, err = run_cli(["forecast", "update", "--run", run, "--data", tmp_path / "missing.csv"], capsys)
    assert code == 2 and "file not found" in err


def test_serve_refuses_a_busy_port(run, capsys):
    pytest.importorskip("fastapi")
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        code, _, err = run_cli(["serve", "--run", run, "--port", s.getsockname()[1]], capsys)
    finally:
        s.close()
    assert code == 2 and "--port" in err


def test_predict_out_a_name_windows_refuses_is_one_line_before_any_work(run, tmp_path, capsys, monkeypatch):
    """``--out preds-10:30.csv`` on Windows: a time's ':' is in no file name there (on NTFS a hidden
    stream of a file 'preds-10')."""
    from lstmkit import files
    monkeypatch.setattr(files, "_WINDOWS", True, raising=False)
    csv = tmp_path / "s.csv"
    sine_frame(n=100).to_csv(csv, index=False)
    code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", csv, "--out", tmp_path / "preds-10:30.csv"],
                           capsys)
    assert_user_error(code, err, "the name 'preds-10:30.csv' holds ':', which Windows takes in no file or folder name")
    assert "e.g. preds-10-30.csv" in err and not (tmp_path / "preds-10:30.csv").exists()


class _ReaderGoneOnWindows:
    """Standard output piped to a reader that left, as Windows says it: EINVAL, not a broken pipe."""
    encoding, errors = "utf-8", "strict"

    def write(self, text):
        raise OSError(22, "Invalid argument")

    flush = write

    def isatty(self):
        return False


def test_predict_piped_to_a_reader_that_left_on_windows_ends_without_a_traceback(run, tmp_path, capsys, monkeypatch):
    """``lstmkit forecast predict ... | head -1`` in Git Bash: the write after the reader left raised
    OSError EINVAL, a traceback (click ends a broken pipe quietly, exit 1, as on POSIX)."""
    from lstmkit import cli_train
    monkeypatch.setattr(cli_train, "_WINDOWS", True, raising=False)
    csv = tmp_path / "s.csv"
    sine_frame(n=100).to_csv(csv, index=False)
    monkeypatch.setattr("sys.stdout", _ReaderGoneOnWindows())
    code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", csv], capsys)
    assert code == 1 and err == ""


def test_serve_on_windows_binds_its_port_for_itself_alone(run, capsys, monkeypatch):
    """Windows' SO_REUSEADDR lets a second socket bind a port another listens on: a busy --port was
    taken without a word there, and requests went to either service. It asks for exclusive use."""
    pytest.importorskip("fastapi")
    import socket

    from lstmkit.deploy import server
    options, real = [], socket.socket.setsockopt
    monkeypatch.setattr(socket.socket, "setsockopt", lambda self, level, name, value: (options.append(name), real(self, level, name, value)))
    monkeypatch.setattr(server, "_WINDOWS", True, raising=False)
    monkeypatch.setattr(socket, "SO_EXCLUSIVEADDRUSE", socket.SO_KEEPALIVE, raising=False)   # Windows' own: a stand-in here
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    options.clear()
    try:
        code, _, err = run_cli(["serve", "--run", run, "--port", s.getsockname()[1]], capsys)
    finally:
        s.close()
    assert code == 2 and "--port" in err
    assert options == [socket.SO_KEEPALIVE]


@pytest.mark.parametrize("host", ["999.1.1.1", "192.0.2.1"])      # unresolvable; a documentation address, not ours
def test_serve_names_host_not_port_for_an_address_it_cannot_listen_on(run, host, capsys):
    """A host that does not resolve, or that no interface of this machine has, told the user to
    pass another --port; the fix is --host."""
    pytest.importorskip("fastapi")
    code, out, err = run_cli(["serve", "--run", run, "--host", host, "--port", "0"], capsys)
    assert_user_error(code, err, f"cannot listen on {host}:0")
    assert "pass --host 127.0.0.1" in err and "--port" not in err.split("—")[-1] and "serving" not in out


@pytest.mark.parametrize("flags, needle", [(["--port", "99999"], "--port"), (["--port", "-1"], "--port"),
                                           (["--max-body", "0"], "--max-body"), (["--max-body", "-5"], "--max-body"),
                                           (["--max-streams", "0"], "--max-streams"),
                                           (["--stream-idle", "-1"], "--stream-idle")])
def test_serve_refuses_impossible_limits_before_loading(flags, needle, tmp_path, capsys):
    """An impossible port or limit is one line naming the flag and its range, before any run is
    read (the run here does not even exist) and before anything listens."""
    pytest.importorskip("fastapi")
    code, out, err = run_cli(["serve", "--run", tmp_path / "no_run", *flags], capsys)
    assert_user_error(code, err, needle)
    assert "serving" not in out


def test_export_onnx_into_an_existing_folder_writes_model_onnx_there(run, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    folder = tmp_path / "exports"
    folder.mkdir()
    code, out, err = run_cli(["export", "onnx", "--run", run, "--out", folder], capsys)
    assert code == 0, err
    assert (folder / "model.onnx").is_file() and f"wrote {folder / 'model.onnx'}" in out


@pytest.mark.parametrize("target", [".", "model.onnx"])
def test_export_onnx_into_another_runs_folder_is_refused_and_leaves_its_graph(run, tmp_path, capsys, target):
    other = tmp_path / "other"
    shutil.copytree(run, other)
    (other / "model.onnx").write_bytes(b"the other run's own graph")
    code, _, err = run_cli(["export", "onnx", "--run", run, "--out", other / target], capsys)
    assert_user_error(code, err, "inside another run's folder", "pass a folder outside any run")
    assert (other / "model.onnx").read_bytes() == b"the other run's own graph"
    assert not (run / "model.onnx").exists()


@pytest.mark.parametrize("name, exists", [("sine.csv", True), ("notes.txt", False), ("exports", False)])
def test_export_onnx_out_that_is_not_an_onnx_file_is_refused_and_left_as_it_is(run, tmp_path, capsys, name, exists):
    """A data file named by mistake was overwritten with the graph (and a missing 'exports' became a file)."""
    target = tmp_path / name
    if exists:
        target.write_text("time,y\n1,2\n")
    code, _, err = run_cli(["export", "onnx", "--run", run, "--out", target], capsys)
    assert_user_error(code, err, "is not a .onnx file name", "model.onnx")
    assert ("it is left as it is" in err) == exists
    assert (target.read_text() == "time,y\n1,2\n") if exists else not target.exists()
    assert not list(tmp_path.glob("*.tmp")) and not (run / "model.onnx").exists()


def test_export_out_that_is_not_a_path_is_refused(run):
    from lstmkit import load
    from lstmkit.errors import LstmkitError
    with pytest.raises(LstmkitError, match="out must be a path, got int"):
        load(run).export("onnx", out=123)


def test_export_onnx_with_data_says_data_is_for_int8(run):
    from lstmkit import load
    from lstmkit.errors import LstmkitError
    with pytest.raises(LstmkitError, match=r"data applies to export\('int8'\) only"):
        load(run).export("onnx", data="test.csv")
    assert not (run / "model.onnx").exists()


def test_the_int8_summary_says_larger_when_the_file_grew():
    from lstmkit.deploy.cli import size_change
    assert (size_change(1.784), size_change(0.65), size_change(1.0)) == ("1.78x smaller", "1.54x larger", "1.00x smaller")


def test_an_int8_engine_slower_than_float_is_said_so():
    """The export listed "0.37x batch speed <- kept as engine" and nothing more: int8 is taken for speed,
    and on a CPU without fast int8 kernels (or a model too small for them) it is slower both ways."""
    from lstmkit.deploy.cli import slower_note
    report = {"engine": "torch", "chosen": {"speed_ratio_batch": 0.37, "speed_ratio_latency": 0.8, "size_ratio": 3.1}}
    assert slower_note(report) == ("note: the int8 engine (torch) is slower than the float run on this machine "
                                   "(0.37x batch speed, 0.80x batch-1 speed): serve the float run where speed "
                                   "matters; the int8 run is 3.10x smaller")
    for batch, one in ((1.2, 0.8), (0.9, 1.1), (1.5, 1.5)):              # faster one way at least: nothing to say
        assert slower_note({"engine": "onnx", "chosen": {"speed_ratio_batch": batch, "speed_ratio_latency": one,
                                                         "size_ratio": 2.0}}) is None


def test_an_int8_speed_ratio_is_said_with_digits_that_are_not_zero():
    """A tiny classifier's export printed "0.00x batch-1 speed" (a ratio of 0.0013, '.2f'), as if int8
    never answered; such a ratio, or one of thousands, is a timing that stalled, and a note says so."""
    from lstmkit.deploy.cli import stalled_note, times
    assert [times(r) for r in (1.075, 0.37, 0.0013, 0.04567, 15910.0, 123.4)] == \
        ["1.07x", "0.37x", "0.0013x", "0.046x", "15,910x", "123x"]
    report = {"candidates": {"torch": {"speed_ratio_batch": 1.3, "speed_ratio_latency": 0.0013},
                             "onnx": {"speed_ratio_batch": 35.96, "speed_ratio_latency": 15910.0}}}
    assert stalled_note(report) == ("note: torch batch-1 0.0013x, onnx batch-1 15,910x: a speed this far from the "
                                    "float run's is most likely a timing that stalled (a busy machine); export "
                                    "again on an idle one to measure it")
    assert stalled_note({"candidates": {"onnx": {"speed_ratio_batch": 35.96, "speed_ratio_latency": 0.5}}}) is None


def test_int8_speed_words_at_their_bounds():
    """A ratio of 100 or more is said whole, one under it with two decimals; from 0.1 up two decimals, under it two
    significant digits (0.067, not '0.07'); a stalled timing is one of 100x or more or 1/100 or less, bounds
    included, a ratio of 0 (nothing measured) none; the same speed (1.00x) one way is not 'slower', and a report
    without both ratios says nothing of speed."""
    from lstmkit.deploy.cli import slower_note, stalled_note, times
    assert [times(r) for r in (100.0, 99.5, 75.3, 0.1, 0.067, 0.0)] == \
        ["100x", "99.50x", "75.30x", "0.10x", "0.067x", "0.00x"]
    both = {"candidates": {"torch": {"speed_ratio_batch": 100.0, "speed_ratio_latency": 0.01},
                           "onnx": {"speed_ratio_batch": 99.9, "speed_ratio_latency": 0.0101}}}
    assert stalled_note(both).startswith("note: torch batch 100x, torch batch-1 0.01x: a speed this far")
    assert stalled_note({"candidates": {"torch": {"speed_ratio_batch": 0.0, "speed_ratio_latency": 1.0}}}) is None
    for chosen in ({"speed_ratio_batch": 1.0, "speed_ratio_latency": 0.5},
                   {"speed_ratio_batch": 0.5, "speed_ratio_latency": 1.0},
                   {"speed_ratio_batch": 0.5}, {"speed_ratio_latency": 0.5}):
        assert slower_note({"engine": "torch", "chosen": {**chosen, "size_ratio": 2.0}}) is None, chosen


# the child: SIGTERM to itself once int8 export has made its temporary folder and quantizes, then the CLI
_SIGTERM_IN_INT8 = """
import os, signal, sys
import lstmkit.deploy.quantize as quantize
real = quantize.quantize_torch
def quantize_torch(net):
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(10**7): pass
    return real(net)
quantize.quantize_torch = quantize_torch
sys.argv = ["lstmkit", "export", "int8", "--run", {run!r}, "--backend", "torch"]
from lstmkit.launch import main
main()
"""


def test_sigterm_in_an_export_is_ctrl_c_one_line_and_no_half_made_folder(run):
    """SIGTERM (kill, a scheduler's stop) was an interrupt only while a model trained: elsewhere the
    default action ended Python at once, status -15, no message, and int8's hidden temporary folder
    (.run-int8.XXXX) was left beside the run."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", _SIGTERM_IN_INT8.format(run=str(run))], capture_output=True,
                          text=True, timeout=300)
    assert (proc.returncode, proc.stderr) == (130, "interrupted\n"), proc.stderr[-2000:]
    assert sorted(p.name for p in run.parent.iterdir()) == ["run"]


def test_the_int8_summary_says_a_forecasts_mae_and_mase_change_as_a_share_too():
    """'MAE +123.4' of sales in the millions, or '+4.9e-11' of prices near 1e-4, said nothing of
    whether int8 mattered: the change is said as a share of the float run's MAE beside it."""
    from lstmkit.deploy.cli import metric_words
    assert metric_words({"MAE": 123.4}, {"MAE": 2.5e6}) == ", MAE +123.4 (+0.0049 % of 2.5e+06)"
    assert metric_words({"MAE": 4.9e-11}, {"MAE": 7e-6}) == ", MAE +4.9e-11 (+0.0007 % of 7e-06)"
    assert metric_words({"MAE": 0.0}, {"MAE": 0.0}) == ", MAE +0"                  # a perfect float run: no share
    assert metric_words({"accuracy": -0.01}, {"accuracy": 0.9}) == ", accuracy -1.00 points"   # a share: points
    # the MASE, which the forecaster's int8 gate judges as a share of the float run's, was left out
    assert metric_words({"MAE": 0.5, "MASE": 0.2}, {"MAE": 10.0, "MASE": 8.0}) == (
        ", MAE +0.5 (+5 % of 10), MASE +0.2 (+2.5 % of 8)")


def test_the_int8_summary_says_accuracy_and_wer_in_the_points_its_refusal_says():
    """One candidate's line read "accuracy -0.006667 (not the engine: accuracy fell 0.67 points (0.6700 ->
    0.6633; limit 0.5))": one change in two units. Accuracy and WER are said in points, as the gates say
    them; a perplexity's change, judged as a share (at most +1 %), as a share of the float run's too."""
    from lstmkit.deploy.cli import metric_words
    from lstmkit.tasks.classify.deploy import ClassifyAdapter
    from lstmkit.tasks.speech.deploy import SpeechAdapter
    before, after = {"accuracy": 0.67}, {"accuracy": 0.67 - 2 / 300}
    refusal = ClassifyAdapter.quality_refusal(None, before, after)
    assert "accuracy fell 0.67 points" in refusal
    assert metric_words({"accuracy": after["accuracy"] - before["accuracy"]}, before) == ", accuracy -0.67 points"
    wer_before, wer_after = {"wer": 0.25}, {"wer": 0.25 + 1 / 60}
    assert "WER rose 1.67 points" in SpeechAdapter.quality_refusal(None, wer_before, wer_after)
    assert metric_words({"wer": wer_after["wer"] - wer_before["wer"]}, wer_before) == ", wer +1.67 points"
    assert metric_words({"perplexity": 1.5}, {"perplexity": 100.0}) == ", perplexity +1.5 (+1.5 % of 100)"


def test_the_int8_summary_says_n_a_for_a_metric_change_with_no_value():
    """A forecast of a series that repeats itself has no MASE (null in metrics.json and export_report.json):
    'export int8' wrote its run, then its summary line was a TypeError traceback."""
    from lstmkit.deploy.cli import metric_words
    assert metric_words({"MAE": 0.0, "MASE": None}, {"MAE": 0.0, "MASE": None}) == ", MAE +0, MASE n/a"
    assert metric_words({"MASE": float("nan")}, None) == ", MASE n/a"
