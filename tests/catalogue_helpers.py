"""The bad-input catalogue's one check: run ``lstmkit ARGV`` in-process and assert the promise.

Every case: the expected exit code, ONE ``error: ...`` line on stderr that names the problem
(a substring, compared case-insensitively) and then, after " — ", the fix; no traceback; and
nothing left behind: no run folder under the case's ``--out`` and no half-written ``*.tmp``
file anywhere under its folder.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
from pathlib import Path

from cli_helpers import run_cli
from lstmkit.cli import main

# options every task's `train` shares (the TrainConfig and the model's sizes): flag, value, needle
COMMON_TRAIN = [
    (["--epochs", "0"], "max_epochs"),
    (["--epochs", "-3"], "max_epochs"),
    (["--batch-size", "0"], "batch_size"),
    (["--lr", "-0.1"], "lr"),
    (["--lr", "0"], "lr"),
    (["--dropout", "1.5"], "dropout"),
    (["--dropout", "-0.1"], "dropout"),
    (["--hidden-size", "0"], "hidden_size"),
    (["--layers", "0"], "num_layers"),
    # 100 TB or more to train, refused from its shapes: torch refused it naming no flag, exit 1, and a size within the
    # RAM (--hidden-size 30000, 14 GB a matrix) was allocated and the process killed for lack of memory
    (["--hidden-size", "1000000"], "the model is too large to train here"),
    (["--val-frac", "1.5"], "val_frac"),
    (["--patience", "-1"], "patience"),
    (["--weight-decay", "-1"], "weight_decay"),
    (["--clip-norm", "-1"], "clip_norm"),
    (["--lr-factor", "2"], "lr_factor"),
    (["--max-minutes", "-1"], "max_minutes"),
    (["--device", "tpu"], "tpu"),
    (["--precision", "fp8"], "fp8"),
    (["--nan-retries", "-1"], "nan_retries"),
    (["--checkpoint-every", "-1"], "checkpoint_every"),
    (["--loss", "bogus"], "bogus"),
    (["--seed", "abc"], "--seed"),
    (["--seed", "-1"], "seed"),
    (["--seed", "99999999999999999999999"], "seed"),
    (["--lr-schedule", "linear"], "linear"),
    (["--progress", "loud"], "loud"),
    (["--bogus-flag"], "no such option"),
    (["--config", "{d}/missing.yaml"], "config file not found"),
    # a folder without lstmkit.json: 'config file not found' of a folder that is there
    (["--config", "{d}"], "is a folder, not a config file nor a run folder (it holds no lstmkit.json)"),
    (["--config", "~/lstmkit-missing.yaml"], "the shell expands '~' only outside quotes"),
    (["--config", "{d}/unknown_key.yaml"], "lookbak"),
    (["--config", "{d}/not_yaml.yaml"], "not_yaml.yaml"),
    (["--config", "{d}/train_not_a_block.yaml"], "`train` must be a mapping of trainer settings"),
    # a refused value of the file named as its key there, not as a flag never typed ('— pass --weight-decay …')
    (["--config", "{d}/negative_decay.yaml"], "— pass 'weight_decay: "),
    # PyYAML kept the last of two equal keys without a word
    (["--config", "{d}/twice.yaml"], "gives 'patience' twice (lines 2 and 3)"),
    # 'not valid YAML (ScannerError)', where and why unsaid
    (["--config", "{d}/tab.yaml"], "found character '\\t' that cannot start any token (line 2, column 1)"),
    (["--out", "{d}/a_file"], "is a file"),
    (["--resume", "{d}/no_such_run"], "not found"),
    (["--resume", "{d}"], "not an lstmkit run folder"),
]


def with_data(train: list[str], data: str, *flags: str) -> list[str]:
    """A task's ``train`` argv (its data file third) reading ``{d}/data`` instead, plus ``flags``."""
    return [*train[:3], "{d}/" + data, *train[4:], *flags]


def common_files(d: Path) -> None:
    """The files COMMON_TRAIN's cases name (``{d}`` in their flags)."""
    (d / "unknown_key.yaml").write_text("lookbak: 3\n")
    (d / "not_yaml.yaml").write_text("a: [1, 2\n")
    (d / "train_not_a_block.yaml").write_text("train: 5\n")         # a traceback once
    (d / "negative_decay.yaml").write_text("train:\n  weight_decay: -1e-4\n")
    (d / "twice.yaml").write_text("train:\n  patience: 3\n  patience: 5\n")
    (d / "tab.yaml").write_text("train:\n\tpatience: 3\n")
    (d / "a_file").write_text("x\n")
    (d / "hf_saved").mkdir()                    # a Hugging Face DatasetDict as save_to_disk writes it
    (d / "hf_saved" / "dataset_dict.json").write_text('{"splits": ["train", "test"]}')
    for part in ("train", "test"):
        (d / "hf_saved" / part).mkdir()
        (d / "hf_saved" / part / "data-00000-of-00001.arrow").write_bytes(b"\xff\xff\xff\xff" + bytes(60))
        (d / "hf_saved" / part / "state.json").write_text('{"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}')
        (d / "hf_saved" / part / "dataset_info.json").write_text("{}")


def train_once(argv, d: Path, out: Path) -> Path:
    """Train one run for a module's cases (``{d}``/``{out}`` filled in); returns its folder."""
    try:
        main([str(a).format(d=d, out=out) for a in argv])
    except SystemExit as e:
        assert e.code in (0, None), e.code
    (run,) = Path(out).iterdir()
    return run


def interrupted(run: Path, to: Path) -> Path:
    """A copy of ``run`` at ``to`` as Ctrl-C after its last epoch leaves it (a run to resume)."""
    import shutil
    shutil.copytree(run, to)
    meta = json.loads((to / "lstmkit.json").read_text())
    meta["status"] = "interrupted"
    (to / "lstmkit.json").write_text(json.dumps(meta))
    return to


def forecast_run(d: Path, epochs: int = 1) -> Path:
    """A tiny trained forecast run on ``d/sine.csv`` (written here), under ``d/runs``."""
    from forecast_data import sine_frame
    sine_frame(n=120).to_csv(d / "sine.csv", index=False)
    return train_once(["forecast", "train", "--data", "{d}/sine.csv", "--target", "y", "--time", "time",
                       "--lookback", "12", "--hidden-size", "4", "--layers", "1", "--epochs", str(epochs),
                       "--ensemble", "1",        # one network: the default 15-seed median took 15x the time
                       "--progress", "off", "--no-tensorboard", "--device", "cpu", "--out", "{out}"], d, d / "runs")


def fake_run(d: Path, task: str = "forecast") -> Path:
    """``d/<task>_run``: a finished run folder of ``task`` with nothing but its metadata."""
    run = d / f"{task}_run"
    run.mkdir()
    (run / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": task, "status": "finished"}))
    return run


def check(argv, code: int, needle: str, tmp_path: Path, capsys, d: Path | None = None,
          stdin: str | bytes | None = None, monkeypatch=None) -> str:
    """Run one case; returns the error line. ``{d}`` in argv is the shared data folder, ``{out}``
    the case's own run folder parent."""
    out = tmp_path / "runs"
    args = [str(a).format(d=d, out=out) for a in argv]
    got, _, err = run_cli(args, capsys, stdin=stdin, monkeypatch=monkeypatch)
    assert got == code, (got, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert needle.lower() in lines[0].lower(), (needle, lines[0])
    assert " — " in lines[0], f"no fix follows the problem: {lines[0]}"
    assert not out.exists() or not any(out.iterdir()), f"left a run folder: {list(out.iterdir())}"
    for base in {tmp_path, *([d] if d else [])}:
        assert not list(Path(base).rglob("*.tmp")), "left a half-written file"
    return lines[0]


def tiny_forecaster(d: Path, **params):
    """A one-epoch Forecaster (hidden size 4) fitted on ``d/series.csv`` (a sine ``y`` with a ``temp``
    feature, written here) for the service catalogues; ``params`` override the settings."""
    from forecast_data import FAST, sine_frame
    from lstmkit.tasks.forecast.estimator import Forecaster
    sine_frame(n=120).to_csv(d / "series.csv", index=False)
    return Forecaster(**{**FAST, "max_epochs": 1, "hidden_size": 4, **params}).fit(
        str(d / "series.csv"), target="y", time="time", features="temp", out=d)


CLI_FLAG = re.compile(r"(?<![\w-])--[a-z][\w-]*")


def assert_problem_and_fix(msg: str) -> None:
    """A service's refusal (a 422's ``msg``, a stream's ``error``): the problem, `` — ``, the fix;
    the fix in the service's words, never a command-line ``--flag`` (nothing to an HTTP client)."""
    problem, sep, fix = msg.partition(" — ")
    assert sep and problem.strip() and fix.strip(), f"no ' — fix' part: {msg!r}"
    assert fix.strip() not in ("fix the request", "fix the field named"), f"a fix that says nothing: {msg!r}"
    assert not CLI_FLAG.search(msg), f"a command-line flag in a service's answer: {msg!r}"


@contextlib.contextmanager
def read_only(folder: Path, monkeypatch):
    """``folder`` read-only while the block runs, as a read-only mount or another user's run folder
    is: its modes lose their write bits, which stop an ordinary user; for root, whom modes do not
    stop, the calls that make, rename or remove an entry under it fail as on a read-only mount."""
    folder = Path(folder).resolve()
    parts = [folder, *folder.rglob("*")]
    modes = {p: p.stat().st_mode for p in parts}
    for p in parts:
        os.chmod(p, modes[p] & ~0o222)
    try:
        with monkeypatch.context() as m:
            if os.access(folder, os.W_OK):          # root
                _refuse_writes_under(folder, m)
            yield folder
    finally:
        for p in parts:
            os.chmod(p, modes[p])


@contextlib.contextmanager
def read_only_mount(folder: Path, monkeypatch):
    """``folder`` on a read-only file system while the block runs, for any user, root too: every write
    under it fails with EROFS (:func:`read_only` is a permission error for an ordinary user)."""
    folder = Path(folder).resolve()
    with monkeypatch.context() as m:
        _refuse_writes_under(folder, m)
        yield folder


def _refuse_writes_under(folder: Path, m) -> None:
    """``os`` and ``open`` calls that would make, change, rename or remove an entry under ``folder``
    fail with EROFS (a read-only file system), as the kernel's would on a read-only mount."""
    import builtins
    import io

    def guard(real, writes=lambda *a, **k: True, paths=1):
        def call(*a, **k):
            inside = [x for x in a[:paths] if isinstance(x, (str, bytes, os.PathLike))
                      and Path(os.path.abspath(os.fsdecode(x))).is_relative_to(folder)]
            if inside and writes(*a, **k):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(inside[0]))
            return real(*a, **k)
        return call
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    m.setattr(os, "open", guard(os.open, lambda path, flags, *a, **k: flags & writing))
    for name in ("mkdir", "unlink", "rmdir", "remove"):
        m.setattr(os, name, guard(getattr(os, name)))
    for name in ("rename", "replace"):
        m.setattr(os, name, guard(getattr(os, name), paths=2))
    opening = guard(builtins.open, lambda file, mode="r", *a, **k: any(c in mode for c in "wax+"))
    m.setattr(builtins, "open", opening)
    m.setattr(io, "open", opening)


def without(monkeypatch, *packages):
    """``packages`` as if not installed (their import fails with ModuleNotFoundError), their submodules
    already imported by other tests too."""
    import sys
    for name in packages:
        for loaded in [m for m in sys.modules if m.startswith(name + ".")]:
            monkeypatch.setitem(sys.modules, loaded, None)
        monkeypatch.setitem(sys.modules, name, None)
