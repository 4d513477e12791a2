"""Environment failures (disk full, read-only, permission denied, out of memory): exit 1, one line that
names what failed, what is intact and how to continue; the intact checkpoint resumes."""
import errno
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import run_cli
from forecast_data import sine_frame

# one network (--ensemble 1): the default 15-seed median took 15x the time
FLAGS = ["--target", "y", "--time", "time", "--lookback", "12", "--hidden-size", "4", "--layers", "1",
         "--epochs", "3", "--ensemble", "1", "--progress", "off", "--device", "cpu"]


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "sine.csv"
    sine_frame(n=120).to_csv(path, index=False)
    return path


def _one_env_line(code, err, *words):
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def _fail_nth_replace(monkeypatch, name, n, err=errno.ENOSPC):
    """os.replace onto a file called ``name`` fails (disk full) from its n-th call on."""
    real, calls = os.replace, {"n": 0}

    def replace(src, dst, *a, **k):
        if os.path.basename(str(dst)) == name:
            calls["n"] += 1
            if calls["n"] >= n:
                raise OSError(err, os.strerror(err), str(dst))
        return real(src, dst, *a, **k)
    monkeypatch.setattr(os, "replace", replace)


def _run_folder(out):
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_disk_full_at_a_checkpoint_keeps_the_last_one_and_resume_finishes(tmp_path, capsys, csv, monkeypatch):
    out = tmp_path / "runs"
    _fail_nth_replace(monkeypatch, "last.safetensors", 2)
    code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", out], capsys)
    run = _run_folder(out)
    line = _one_env_line(code, err, "could not write checkpoint", "no space left on device",
                         "last good checkpoint", "(epoch 1, step", f"lstmkit forecast train --resume {run}")
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.endswith(".tmp")], line
    assert json.loads((run / "checkpoints" / "last.json").read_text())["epoch"] == 1
    monkeypatch.undo()
    code, out_text, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert code == 0, err
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["status"] == "finished"
    # ... exactly where an uninterrupted run gets to
    from safetensors.torch import load_file
    code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", tmp_path / "whole"], capsys)
    assert code == 0, err
    resumed, whole = load_file(str(run / "model.safetensors")), load_file(str(_run_folder(tmp_path / "whole")
                                                                               / "model.safetensors"))
    assert resumed.keys() == whole.keys() and all(resumed[k].equal(whole[k]) for k in whole)


@pytest.mark.parametrize("name, nth, note", [("loss.png", 1, " (its checkpoint holds every epoch)"),
                                              ("history.csv", 2, "")], ids=["plot", "history"])
def test_disk_full_writing_a_plot_or_the_history_resumes_from_the_checkpoint(name, nth, note, tmp_path, capsys, csv,
                                                                             monkeypatch):
    """A write that failed after the last epoch (a plot, the weights) or in the loop (history.csv,
    epoch 2's) said 'run the command again', which trains anew, and left the run 'training'; the
    checkpoint holds the epochs: the run is marked failed (it was marked interrupted, as Ctrl-C marks it),
    with the error, and the line names its --resume, which saves what a whole run saves."""
    out = tmp_path / "runs"
    _fail_nth_replace(monkeypatch, name, nth)
    code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", out], capsys)
    run = _run_folder(out)
    _one_env_line(code, err, "could not write", name, "no space left on device",
                  f"then continue with: lstmkit forecast train --resume {run}{note}")
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["status"] == "failed" and "no space left on device" in meta["failure"]["error"]
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.undo()
    code, _, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert code == 0 and json.loads((run / "lstmkit.json").read_text())["status"] == "finished", err
    code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", tmp_path / "whole"], capsys)
    whole = _run_folder(tmp_path / "whole")
    assert (run / "model.safetensors").read_bytes() == (whole / "model.safetensors").read_bytes()


def test_a_file_size_limit_names_the_limit_not_free_space(tmp_path, csv):
    """Under a file size limit (``ulimit -f``, a scheduler's job limit) a checkpoint larger than it
    fails with EFBIG: the fix said 'free space or fix permissions', which changes nothing."""
    import resource
    import subprocess
    import sys
    limit = 12 * 1024                          # lstmkit.json fits; the first checkpoint (about 30 kB) does not

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    proc = subprocess.run([sys.executable, "-m", "lstmkit", "forecast", "train", "--data", str(csv), *FLAGS,
                           "--out", str(tmp_path / "runs")], capture_output=True, text=True, timeout=300,
                          preexec_fn=limited)
    run = _run_folder(tmp_path / "runs")
    _one_env_line(proc.returncode, proc.stderr, "could not write checkpoint", "(file too large)",
                  f"raise the file size limit this command runs under ({limit} bytes; `ulimit -f`")
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "failed"


def test_a_study_storage_past_the_file_size_limit_is_the_environment(tmp_path, csv):
    """SQLite's 'disk I/O error' (a file size limit; 'database or disk is full' on a full disk) said
    'cannot open the study storage — pass an SQLAlchemy URL that can be opened', exit 2."""
    import resource
    import subprocess
    import sys

    def limited():                      # the new study's tables need more than this
        resource.setrlimit(resource.RLIMIT_FSIZE, (32 * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    out = tmp_path / "tune"
    proc = subprocess.run([sys.executable, "-m", "lstmkit", "tune", "forecast", "--data", str(csv), "--target", "y",
                           "--time", "time", "--trials", "1", "--epochs", "1", "--device", "cpu", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, preexec_fn=limited)
    _one_env_line(proc.returncode, proc.stderr, f"could not write the study storage 'sqlite:///{out}/study.db'",
                  "a file size limit (`ulimit -f`)", f"free space or fix permissions on {out}, then run the same "
                  "command again")


def test_read_only_before_the_first_checkpoint_says_nothing_was_saved(tmp_path, capsys, csv, monkeypatch):
    out = tmp_path / "runs"
    _fail_nth_replace(monkeypatch, "last.safetensors", 1, errno.EROFS)
    code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", out], capsys)
    _one_env_line(code, err, "read-only file system", "no checkpoint was saved yet")


def test_disk_full_writing_the_run_metadata(tmp_path, capsys, csv, monkeypatch):
    _fail_nth_replace(monkeypatch, "lstmkit.json", 1)
    code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", tmp_path / "runs"], capsys)
    _one_env_line(code, err, "could not write", "lstmkit.json", "no space left on device", "free space")


def test_a_real_read_only_out_folder(tmp_path, capsys, csv, monkeypatch):
    out = tmp_path / "ro"
    out.mkdir()
    os.chmod(out, 0o555)
    try:
        if os.access(out, os.W_OK):             # root: chmod does not stop writes, so mkdir is made to refuse
            real_mkdir = Path.mkdir

            def mkdir(self, *a, **k):
                if self.parent == out:
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
                return real_mkdir(self, *a, **k)
            monkeypatch.setattr(Path, "mkdir", mkdir)
        code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", out], capsys)
        _one_env_line(code, err, "could not create a run folder", "permission denied", "writable --out")
        assert not any(out.iterdir())
    finally:
        os.chmod(out, 0o755)


def test_out_of_memory_while_loading_is_exit_1(tmp_path, capsys, csv, monkeypatch):
    code, out_text, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--epochs", "1",
                                   "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = _run_folder(tmp_path / "runs")

    def no_memory(*a, **k):
        raise MemoryError
    monkeypatch.setattr("safetensors.torch.load_file", no_memory)
    monkeypatch.setattr("safetensors.torch.load", no_memory)          # runs.read_run loads the bytes it hashed
    code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", csv], capsys)
    _one_env_line(code, err, "out of memory while loading", "the run folder is intact")


def test_ctrl_c_in_the_first_epoch_says_so_and_that_nothing_was_saved(tmp_path, capsys, csv, monkeypatch):
    from lstmkit.train.trainer import Trainer

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(Trainer, "_train_epoch", interrupted)
    code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", tmp_path / "runs"], capsys)
    run = _run_folder(tmp_path / "runs")
    assert code == 130 and err.count("\n") == 1, err
    assert "interrupted during the first epoch; no checkpoint yet" in err and "after epoch 0" not in err
    assert f"lstmkit forecast train --resume {run}" in err
    monkeypatch.undo()
    code, _, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert code == 0, err


def test_a_reader_that_leaves_does_not_stop_training(tmp_path, capsys, csv, monkeypatch):
    """`train … | head -1`: the pipe broke at the second progress line, which ended training with
    exit 1, no word and the run unfinished; the rest of the output now goes nowhere (the progress
    lines are on standard error now: the report finds the reader gone)."""
    import io
    read_end, write_end = os.pipe()
    os.close(read_end)                                  # the reader has left: writing raises BrokenPipeError
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(open(write_end, "wb"), line_buffering=True))
    code, _, err = run_cli(["forecast", "train", "--data", csv, *FLAGS, "--progress", "log",
                            "--out", tmp_path / "runs"], capsys)
    assert code == 0 and "epoch 3/3" in err and "Traceback" not in err and "error" not in err, err
    assert json.loads((_run_folder(tmp_path / "runs") / "lstmkit.json").read_text())["status"] == "finished"


def _reader_gone(monkeypatch, *streams: str) -> None:
    """Standard output (and ``streams``) a pipe whose reader has left (`| head -1`, `2>&1 | head -1`):
    writing raises BrokenPipeError."""
    import io
    for name in ("stdout", *streams):
        read_end, write_end = os.pipe()
        os.close(read_end)
        monkeypatch.setattr(f"sys.{name}", io.TextIOWrapper(open(write_end, "wb"), line_buffering=True))


def test_a_reader_of_standard_error_too_that_leaves_does_not_stop_training(tmp_path, capsys, monkeypatch):
    """`train … 2>&1 | head -1`: a warning written after the reader left ended training with exit 1,
    no word and the run unfinished (status training)."""
    rows = [("good film", "pos"), ("bad film", "neg"), ("great plot", "pos"), ("awful acting", "neg")] * 10
    (tmp_path / "reviews.csv").write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in rows))
    _reader_gone(monkeypatch, "stderr")                 # its validation part repeats training texts: a warning
    code, _, _ = run_cli(["classify", "train", "--data", tmp_path / "reviews.csv", "--hidden-size", "4", "--embed-dim",
                          "4", "--min-freq", "1", "--epochs", "2", "--progress", "log", "--no-tensorboard", "--device",
                          "cpu", "--out", tmp_path / "runs"], capsys)
    assert code == 0
    assert json.loads((_run_folder(tmp_path / "runs") / "lstmkit.json").read_text())["status"] == "finished"


def test_a_reader_that_leaves_does_not_stop_a_study(tmp_path, capsys, csv, monkeypatch):
    """`tune … | head -1` ended the study at its first trial's line: exit 1, no word, no best.yaml."""
    (tmp_path / "space.yaml").write_text("hidden_size: {type: int, low: 4, high: 8}\n")
    (tmp_path / "base.yaml").write_text("lookback: 12\nnum_layers: 1\nensemble: 1\ntrain:\n  device: cpu\n  doctor: false\n")
    _reader_gone(monkeypatch)
    code, _, err = run_cli(["tune", "forecast", "--data", csv, "--target", "y", "--time", "time", "--config",
                            tmp_path / "base.yaml", "--space", tmp_path / "space.yaml", "--trials", "2", "--epochs", "1",
                            "--seed", "0", "--out", tmp_path / "tune"], capsys)
    assert code == 0 and "Traceback" not in err, err
    assert (tmp_path / "tune" / "best.yaml").is_file()
    assert len((tmp_path / "tune" / "trials.csv").read_text().splitlines()) == 3          # a header, 2 trials


def test_a_reader_that_leaves_does_not_stop_a_comparison(tmp_path, capsys, csv, monkeypatch):
    """`compare … | head -1` ended it after the first model: exit 1, no word, nothing written."""
    _reader_gone(monkeypatch)
    code, _, err = run_cli(["compare", "--data", csv, "--target", "y", "--time", "time", "--lookback", "12",
                            "--models", "lstm,gru", "--seeds", "1", "--epochs", "1", "--ensemble", "1", "--hidden-size",
                            "4", "--layers", "1", "--device", "cpu", "--out", tmp_path / "cmp"], capsys)
    assert code == 0 and "Traceback" not in err, err
    (folder,) = (tmp_path / "cmp").iterdir()
    assert {"lstm", "gru"} <= set((folder / "compare.md").read_text().split())


def test_a_reader_that_leaves_does_not_stop_a_backtest(tmp_path, capsys, csv, monkeypatch):
    """`backtest --refit … | head -1` ended at the first fold's second epoch line: exit 1, no word, no backtest.csv."""
    (tmp_path / "bt.yaml").write_text("target: y\ntime: time\nlookback: 12\nhidden_size: 4\nnum_layers: 1\nensemble: 1\n"
                                      "train:\n  max_epochs: 2\n  progress: log\n  device: cpu\n  doctor: false\n"
                                      "  tensorboard: false\n")
    _reader_gone(monkeypatch)
    code, _, err = run_cli(["forecast", "backtest", "--config", tmp_path / "bt.yaml", "--data", csv, "--folds", "2",
                            "--refit", "--out", tmp_path / "bt"], capsys)
    assert code == 0 and "Traceback" not in err, err
    assert (tmp_path / "bt" / "backtest.csv").is_file()


def test_a_reader_that_leaves_does_not_stop_the_demo(tmp_path, capsys, monkeypatch):
    """`lstmkit demo 2>&1 | head -1`: the demo trains and writes its run whether or not its reader
    stays. A network of 4 units and one epoch: the demo's own takes a minute or more."""
    import lstmkit.tasks.forecast.demo as demo
    monkeypatch.setattr(demo, "FIXED", {**demo.FIXED, "hidden_size": 4, "num_layers": 1, "device": "cpu",
                                        "tensorboard": False, "doctor": False})
    _reader_gone(monkeypatch, "stderr")
    code, _, err = run_cli(["demo", "--epochs", "1", "--out", tmp_path / "runs"], capsys)
    assert code == 0 and "Traceback" not in err, err
    run = _run_folder(tmp_path / "runs")
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished" and (run / "metrics.json").is_file()


def test_a_run_another_process_is_training_is_neither_loaded_nor_resumed(tmp_path, capsys, csv, monkeypatch):
    """`predict` while `train` still writes the run said "continue it with --resume", and that
    resume trained the same run twice at once; both wait now (exit 1), and the resume goes on later."""
    import fcntl

    from lstmkit.train.trainer import Trainer
    with monkeypatch.context() as m:
        m.setattr(Trainer, "_train_epoch", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
        run_cli(["forecast", "train", "--data", csv, *FLAGS, "--out", tmp_path / "runs"], capsys)
    run = _run_folder(tmp_path / "runs")
    other = os.open(run, os.O_RDONLY)                 # another trainer's hold on the folder
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", csv], capsys)
        _one_env_line(code, err, "is being trained by another process right now", "loading it has to wait")
        code, _, err = run_cli(["forecast", "train", "--resume", run], capsys)
        _one_env_line(code, err, "is being trained by another process right now", "--resume has to wait")
    finally:
        os.close(other)
    code, _, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert code == 0 and json.loads((run / "lstmkit.json").read_text())["status"] == "finished", err


# A run folder on a read-only disk (a container's image, a shared models mount) or another user's:
# commands that only read it work, and those that write into it by default say so before any work,
# with the --out that writes elsewhere. backtest and export int8 were an OSError traceback, after the
# folds or the measurements; export onnx said it after tracing and checking the graph, fixing permissions only;
# inspect gates said it after recording the gates, and had no --out to name.
READ_ONLY_RUN = [
    (["forecast", "backtest", "--run", "{run}", "--data", "{d}/sine.csv", "--folds", "2"],
     "cannot write the backtest to {run}/backtest (in {run}): ",
     "pass a writable --out folder"),
    (["forecast", "backtest", "--run", "{run}", "--data", "{d}/sine.csv", "--folds", "2", "--out", "{ro}/bt"],
     "cannot write the backtest to {ro}/bt (in {ro})", "pass a writable --out folder"),
    (["export", "int8", "--run", "{run}"], "cannot write the int8 run run-int8 to {ro}: ",
     "pass --out NEW_FOLDER"),
    (["export", "int8", "--run", "{run}", "--out", "{ro}/new/int8"], "cannot write the int8 run int8 to {ro}/new (in {ro})",
     "pass --out NEW_FOLDER"),
    (["export", "onnx", "--run", "{run}"], "cannot write the ONNX graph to {run}: ",
     "pass --out a file or folder you can write to, and run the command again"),
    (["inspect", "gates", "--run", "{run}", "--data", "{d}/sine.csv"], "cannot write the gates files to {run}/plots",
     "pass --out FOLDER you can write to"),
    (["inspect", "gates", "--run", "{run}", "--data", "{d}/sine.csv", "--out", "{ro}/gates"],
     "cannot write the gates files to {ro}/gates (in {ro})", "pass a writable --out folder"),
    # the same --out on a read-only disk: tune's was a traceback, compare's came after every model had trained
    (["tune", "forecast", "--data", "{d}/sine.csv", "--target", "y", "--trials", "1", "--epochs", "1",
      "--out", "{ro}/tune"], "cannot write the study to {ro}/tune (in {ro})", "pass a writable --out folder"),
    (["compare", "--task", "forecast", "--data", "{d}/sine.csv", "--target", "y", "--models", "lstm", "--seeds", "1",
      "--epochs", "1", "--out", "{ro}/cmp"], "cannot write the comparison to {ro}/cmp (in {ro})",
     "pass a writable --out folder"),
]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from catalogue_helpers import forecast_run
    d = tmp_path_factory.mktemp("read_only_run")
    return d, forecast_run(d)


@pytest.mark.parametrize("argv, problem, fix", READ_ONLY_RUN,
                         ids=["backtest", "backtest-out", "int8", "int8-out", "onnx", "gates", "gates-out", "tune", "compare"])
def test_a_read_only_run_folder_written_into(argv, problem, fix, trained_run, tmp_path, capsys, monkeypatch):
    import shutil

    from catalogue_helpers import check, read_only
    d, good = trained_run
    ro = tmp_path / "ro"
    shutil.copytree(good, ro / "run", ignore=shutil.ignore_patterns("tb"))
    run = ro / "run"
    before = {p: p.read_bytes() for p in ro.rglob("*") if p.is_file()}
    with read_only(ro, monkeypatch):
        line = check([a.format(run=run, d=d, ro=ro) for a in argv], 1, problem.format(run=run, ro=ro), tmp_path, capsys, d)
    problem_said, _, fix_said = line.partition(" — ")
    assert "read-only file system" in problem_said or "permission denied" in problem_said, line   # root / a user
    assert fix.format(run=run) in fix_said, line
    assert {p: p.read_bytes() for p in ro.rglob("*") if p.is_file()} == before


def test_a_read_only_run_folder_is_read_by_every_command_that_only_reads(trained_run, tmp_path, capsys, monkeypatch):
    """predict, evaluate, doctor, a stream, and exports, a backtest and the gates written elsewhere (--out)."""
    import shutil

    import lstmkit
    d, good = trained_run
    ro = tmp_path / "ro"
    shutil.copytree(good, ro / "run", ignore=shutil.ignore_patterns("tb"))
    run, out = ro / "run", tmp_path / "out"
    from catalogue_helpers import read_only
    with read_only(ro, monkeypatch):
        for argv in (["forecast", "predict", "--run", run, "--data", d / "sine.csv"],
                     ["forecast", "evaluate", "--run", run, "--data", d / "sine.csv", "--json"],
                     ["doctor", run],
                     ["forecast", "backtest", "--run", run, "--data", d / "sine.csv", "--folds", "2", "--out", out / "bt"],
                     ["export", "onnx", "--run", run, "--out", out / "model.onnx"],
                     ["inspect", "gates", "--run", run, "--data", d / "sine.csv", "--out", out / "new" / "gates"]):
            code, _, err = run_cli(argv, capsys)
            assert code == 0, (argv, err)
        stream = lstmkit.load(run).stream()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")        # windows outside the training range: not this test's matter
            answers = [stream.step(v) for v in sine_frame(n=120)["y"][:20]]
        assert np.isfinite(np.asarray(answers[-1], dtype=float)).all()
    assert (out / "bt" / "backtest.csv").is_file() and (out / "model.onnx").is_file()
    assert (out / "new" / "gates" / "gates.png").is_file()
    assert json.loads((out / "new" / "gates" / "gates.json").read_text())["layers"] >= 1


def test_writing_into_a_read_only_mount_names_another_folder_not_free_space(trained_run, tmp_path, capsys,
                                                                            monkeypatch):
    """A table written into a read-only working folder (a container's), and a model saved back into its
    read-only run: the fix was 'free space or fix permissions', neither of which a read-only mount takes."""
    import shutil

    from catalogue_helpers import check, read_only_mount
    from lstmkit import Forecaster
    from lstmkit.errors import EnvironmentProblem
    d, good = trained_run
    ro = tmp_path / "ro"
    shutil.copytree(good, ro / "run", ignore=shutil.ignore_patterns("tb"))
    monkeypatch.chdir(ro)
    with read_only_mount(ro, monkeypatch):
        line = check(["forecast", "predict", "--run", ro / "run", "--data", d / "sine.csv", "--out", "f.csv"], 1,
                     "could not write f.csv (read-only file system)", tmp_path, capsys, d)
        assert line.endswith(f"— write to a folder on a writable file system ({ro} is on a read-only one), then run "
                             "the command again"), line
        model = Forecaster.load(ro / "run")
        with pytest.raises(EnvironmentProblem, match=r"write to a folder on a writable file system \(.*/ro/run is on "
                                                     r"a read-only one\)") as e:
            model.save(ro / "run")
    assert "free space" not in str(e.value)


@pytest.mark.parametrize("how", ["cli", "python"])
def test_resuming_a_read_only_run_folder(how, trained_run, tmp_path, capsys, monkeypatch):
    """A run interrupted on another machine and shipped read-only: --resume writes into it, so it is
    refused before any work, naming the copy to resume (TensorBoard's writer thread failed first: an
    OSError traceback, after the training data had been read)."""
    from catalogue_helpers import check, interrupted, read_only
    from lstmkit import Forecaster
    from lstmkit.errors import EnvironmentProblem
    _, good = trained_run
    run = interrupted(good, tmp_path / "ro" / "run")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with read_only(run, monkeypatch):
        if how == "cli":
            line = check(["forecast", "train", "--resume", run, "--tensorboard"], 1,
                         f"cannot write the resumed run's checkpoints and history to {run}: ", tmp_path, capsys)
        else:
            with pytest.raises(EnvironmentProblem) as e:
                Forecaster.resume(run, tensorboard=True)
            line = str(e.value)
    assert f"copy the run folder where you can write (cp -r {run} COPY) and resume the copy" in line, line
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("argv, problem", [
    (["tune", "forecast", "--data", "{d}/sine.csv", "--target", "y", "--trials", "1", "--epochs", "1"],
     "cannot write the study to runs/tune-forecast (in {ro})"),
    (["compare", "--task", "forecast", "--data", "{d}/sine.csv", "--target", "y", "--models", "lstm", "--seeds", "1",
      "--epochs", "1"], "cannot write the comparison to runs (in {ro})"),
    (["forecast", "train", "--data", "{d}/sine.csv", *FLAGS], "could not create a run folder under runs"),
], ids=["tune", "compare", "train"])
def test_a_read_only_working_folder_and_the_default_out(argv, problem, trained_run, tmp_path, capsys, monkeypatch):
    """A service's or a container's working folder is often not writable: the default --out (runs/…)
    is refused before any work (tune's was a traceback; compare's came after every model trained)."""
    from catalogue_helpers import check, read_only
    d, _ = trained_run
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.chdir(ro)
    with read_only(ro, monkeypatch):
        line = check([a.format(d=d) for a in argv], 1, problem.format(ro=ro), tmp_path, capsys, d)
    assert "pass a writable --out folder" in line.partition(" — ")[2], line
    assert not any(ro.iterdir())


# The ONNX exporter writing its graph into a full disk (or past a file size limit): export onnx said the
# model 'does not export to ONNX (the exporter cannot trace it: OSError)', exit 2; export int8 dropped
# its onnx backend as refused and wrote a run without it. Both are exit 1 naming the disk, nothing written.
@pytest.mark.parametrize("argv, problem", [
    (["export", "onnx", "--run", "{run}", "--out", "{tmp}/g.onnx"], "could not write {tmp}/g.onnx (no space left on device)"),
    (["export", "int8", "--run", "{run}", "--out", "{tmp}/int8"],
     "could not write the int8 run {tmp}/int8 (no space left on device); nothing was written"),
], ids=["onnx", "int8"])
def test_a_full_disk_under_the_onnx_exporter_is_the_environment(argv, problem, trained_run, tmp_path, capsys,
                                                                monkeypatch):
    pytest.importorskip("onnxruntime")
    import torch

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(torch.onnx, "export", full)
    run = trained_run[1]
    code, _, err = run_cli([str(a).format(run=run, tmp=tmp_path) for a in argv], capsys)
    _one_env_line(code, err, problem.format(tmp=tmp_path), f"free space or fix permissions on {tmp_path}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["model.safetensors", "update.json"])
def test_an_update_the_disk_cannot_hold_leaves_no_run_folder(name, trained_run, tmp_path, capsys, monkeypatch):
    """A full disk (or a file size limit) while 'forecast update' wrote its new run left that run folder behind,
    empty or holding the weights without update.json: a run that did not load, or one that hid its update."""
    newer = sine_frame(n=120, seed=3)
    newer["time"] += np.timedelta64(120, "h")                # the five days after the run's data
    newer.to_csv(tmp_path / "newer.csv", index=False)
    _fail_nth_replace(monkeypatch, name, 1)
    code, _, err = run_cli(["forecast", "update", "--run", trained_run[1], "--data", tmp_path / "newer.csv",
                            "--epochs", "1", "--out", tmp_path / "updates"], capsys)
    _one_env_line(code, err, f"could not write {tmp_path / 'updates'}", name, "no space left on device")
    assert list((tmp_path / "updates").iterdir()) == []


def test_ctrl_c_during_an_update_says_interrupted_not_to_resume_a_run(trained_run, tmp_path, capsys, monkeypatch):
    """Ctrl-C while 'forecast update' fine-tuned said 'interrupted after epoch 1; no checkpoint yet ... Continue
    with: lstmkit forecast train', a run an update has not: it is a command interrupted, run again."""
    from interrupt_helpers import ctrl_c_on_call
    newer = sine_frame(n=120, seed=3)
    newer["time"] += np.timedelta64(120, "h")
    newer.to_csv(tmp_path / "newer.csv", index=False)
    ctrl_c_on_call(monkeypatch, "lstmkit.train.trainer:Trainer._train_epoch", nth=2)
    code, _, err = run_cli(["forecast", "update", "--run", trained_run[1], "--data", tmp_path / "newer.csv",
                            "--epochs", "3", "--out", tmp_path / "updates"], capsys)
    assert (code, err.strip()) == (130, "interrupted")
    assert not (tmp_path / "updates").exists() or list((tmp_path / "updates").iterdir()) == []


def test_an_int8_run_whose_onnx_backend_was_refused_keeps_no_float_graph_folder(trained_run, tmp_path, capsys,
                                                                               monkeypatch):
    """A graph the exporter refused left the int8 run's hidden '.float' folder (its float graphs) in it."""
    pytest.importorskip("onnxruntime")
    import torch

    def untraceable(*a, **k):
        raise RuntimeError("an op ONNX lacks")
    monkeypatch.setattr(torch.onnx, "export", untraceable)
    code, _, err = run_cli(["export", "int8", "--run", trained_run[1], "--out", tmp_path / "int8"], capsys)
    assert code == 0, err
    assert "onnx" in json.loads((tmp_path / "int8" / "export_report.json").read_text())["refused"]
    assert sorted(p.name for p in (tmp_path / "int8").iterdir()) == [          # the float run's history beside them
        "export_report.json", "history.csv", "lstmkit.json", "model.safetensors"]
