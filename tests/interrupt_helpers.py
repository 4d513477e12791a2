"""Ctrl-C in one phase of a fit, and the checks of what its resume leaves, for the tests of interrupted runs."""
import contextlib
import importlib
import json
import signal

import pytest

from lstmkit.train import TrainingInterrupted
from lstmkit.train.callbacks import Callback
from lstmkit.train.checkpoint import CHECKPOINT_FILE, parse_checkpoint

# what metrics.json measures of the clock, not of the model: two runs never agree on them
WALL_CLOCK = frozenset({"rtf", "sentences_per_second", "train_seconds"})


def ctrl_c_reaches_the_child() -> None:
    """``preexec_fn`` of a child a test sends Ctrl-C (SIGINT): the terminal's default disposition. A shell
    runs background jobs (`make test &`, nohup) with SIGINT ignored, which a child inherits, and Python then
    installs no KeyboardInterrupt handler: the child ran on as if no Ctrl-C came."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def ctrl_c_in(monkeypatch, owner, name: str):
    """Ctrl-C when ``owner.name`` is called in the block, which must end with TrainingInterrupted
    (yields pytest's ExceptionInfo of it)."""
    with monkeypatch.context() as m:
        def ctrl_c(*args, **kwargs):
            raise KeyboardInterrupt
        m.setattr(owner, name, ctrl_c)
        with pytest.raises(TrainingInterrupted) as e:
            yield e


def ctrl_c_on_call(monkeypatch, target: str, nth: int = 1, when=None, after: bool = False) -> list:
    """Ctrl-C at the ``nth`` call of ``target`` (``module:attr`` or ``module:Class.attr``) that
    ``when(*args, **kwargs)`` accepts (every call without it), before the call runs (``after``: once it
    has returned); returns the calls counted (fewer than ``nth``: Ctrl-C never landed)."""
    module, _, rest = target.partition(":")
    owner = importlib.import_module(module)
    *path, name = rest.split(".")
    for part in path:
        owner = getattr(owner, part)
    real, calls = getattr(owner, name), []

    def cut(*args, **kwargs):
        if when is None or when(*args, **kwargs):
            calls.append(1)
            if len(calls) == nth:
                if after:
                    real(*args, **kwargs)
                raise KeyboardInterrupt
        return real(*args, **kwargs)
    monkeypatch.setattr(owner, name, cut)
    return calls


def _renamed_onto(name: str):
    """``when`` of ``os.replace``: the rename that ends an atomic write of ``name``."""
    return lambda tmp, path, **kwargs: str(path).endswith(name)


def _saved(name: str):
    """``when`` of ``write_json``: the write of ``name`` (``finished``: lstmkit.json's last one)."""
    if name == "finished":
        return lambda path, obj: isinstance(obj, dict) and obj.get("status") == "finished"
    return lambda path, obj: path.name == name


def phases_after_the_first_epoch(net: str, picture: str = "loss.png") -> dict:
    """The phases every task's fit goes through after its first epoch (in the shared trainer, then
    in saving), as ``{phase: (where Ctrl-C lands, which call of it, which calls count, epochs the
    checkpoint then holds)}``; ``net`` (``module:Class``) is the network whose best weights the
    trainer restores, ``picture`` a plot whose atomic write is cut before its rename. Train 2 epochs
    with the doctor and TensorBoard on."""
    return {
        "epoch 2's training": ("lstmkit.train.trainer:Trainer._train_epoch", 2, None, 1),
        "epoch 2's validation": ("lstmkit.train.trainer:Trainer._evaluate", 2, None, 1),
        "epoch 2's checkpoint": ("lstmkit.train.resume:save_checkpoint", 1,
                                 lambda *args, state, **kwargs: state["epoch"] == 2, 1),
        "epoch 2's last.json": ("lstmkit.train.checkpoint:write_json", 1,     # the checkpoint's copy, written after it
                                lambda path, obj: path.name == "last.json" and obj["epoch"] == 2, 2),
        "epoch 2's history.csv": ("lstmkit.train.callbacks:HistoryCSV.on_epoch_end", 2, None, 2),
        "history.csv at the loop's end": ("lstmkit.train.callbacks:HistoryCSV.on_train_end", 1, None, 2),
        "closing TensorBoard": ("lstmkit.train.callbacks:TensorBoardLogger.on_train_end", 1, None, 2),
        "restoring the best weights": (f"{net}.load_state_dict", 1, None, 2),
        "the doctor's report": ("lstmkit.train.trainer:Trainer._write_doctor", 1, None, 2),
        "the loss plot": ("lstmkit.inspect.plots:plot_history", 1, None, 2),
        f"{picture}'s rename": ("os:replace", 1, _renamed_onto(picture), 2),
        "model.safetensors": ("lstmkit.tasks._base:save_tensors", 1, None, 2),
        "model.safetensors's rename": ("os:replace", 1, _renamed_onto("model.safetensors"), 2),
        "metrics.json": ("lstmkit.tasks._base:write_json", 1, _saved("metrics.json"), 2),
        "lstmkit.json finished": ("lstmkit.tasks._base:write_json", 1, _saved("finished"), 2),
    }


def phases_of_a_resume_set_up(epochs: int) -> dict:
    """Where Ctrl-C lands while a resume of a run whose checkpoint holds ``epochs`` sets up, before
    it has loaded the checkpoint, as :func:`phases_after_the_first_epoch` has them."""
    return {"the resume opening TensorBoard": ("lstmkit.train.callbacks:TensorBoardLogger.__init__", 1, None, epochs),
            "the resume reading the checkpoint": ("lstmkit.train.resume:read_checkpoint_bytes", 1, None, epochs),
            "the resume loading the checkpoint": ("lstmkit.train.resume:load_checkpoint", 1, None, epochs)}


def interrupt(monkeypatch, phase: str, where: tuple, fit, run) -> None:
    """``fit(run)`` with Ctrl-C in ``phase`` (``where``: its entry of :func:`phases_after_the_first_epoch`);
    checks what it leaves: ``run`` marked interrupted with a checkpoint of the epochs it says, the
    exception naming them, no half-written file."""
    target, nth, when, epochs = where
    with monkeypatch.context() as m:
        calls = ctrl_c_on_call(m, target, nth, when)
        with pytest.raises(TrainingInterrupted) as e:
            fit(run)
        assert len(calls) >= nth, f"Ctrl-C never landed in {phase}"
    assert status(run) == "interrupted" and e.value.run_dir == run and e.value.epoch == epochs
    assert checkpoint_state(run)["epoch"] == epochs
    assert not half_written(run)


class CtrlCAfterTheLastEpoch(Callback):
    """Ctrl-C once the loop has ended, before the best epoch's weights are restored."""

    def on_train_end(self, trainer):
        raise KeyboardInterrupt


def checkpoint_state(run) -> dict:
    """The trainer's state in ``run``'s checkpoint (what a resume continues from)."""
    where = run / "checkpoints" / CHECKPOINT_FILE
    return parse_checkpoint(where.read_bytes(), where)[1]


def status(run) -> str:
    return json.loads((run / "lstmkit.json").read_text())["status"]


def half_written(run) -> list:
    """The temp files an atomic write left in ``run`` (none when every write finished or was undone)."""
    return [p for p in run.rglob("*") if p.name.endswith(".tmp")]


def without_wall_clock(obj):
    """``obj`` (metrics) less its :data:`WALL_CLOCK` measures, at any depth."""
    if isinstance(obj, dict):
        return {k: without_wall_clock(v) for k, v in obj.items() if k not in WALL_CLOCK}
    if isinstance(obj, list):
        return [without_wall_clock(v) for v in obj]
    return obj


def assert_same_outputs(run, straight) -> None:
    """``run`` finished with the weights, metrics and training record of ``straight``, the run never
    interrupted (less what they measure of the clock)."""
    assert status(run) == "finished"
    assert (run / "model.safetensors").read_bytes() == (straight / "model.safetensors").read_bytes()
    got, want = (without_wall_clock(json.loads((r / "metrics.json").read_text())) for r in (run, straight))
    assert got == want
    got, want = ({k: v for k, v in json.loads((r / "lstmkit.json").read_text())["training"].items() if k != "seconds"}
                 for r in (run, straight))
    assert got == want          # epochs run, the best epoch and its loss, why it stopped
    readable, state = json.loads((run / "checkpoints" / "last.json").read_text()), checkpoint_state(run)
    assert (readable["epoch"], readable["global_step"]) == (state["epoch"], state["global_step"])   # the copy is up to date


class KillAt:
    """A callback that presses Ctrl-C (raises KeyboardInterrupt) at global step ``at``: a run
    interrupted mid-epoch."""

    def __init__(self, at):
        self.at = at

    def on_train_begin(self, t): ...
    def on_epoch_end(self, t, logs): ...
    def on_train_end(self, t): ...

    def on_batch_end(self, trainer, batch, n_batches, loss):
        if trainer.global_step == self.at:
            raise KeyboardInterrupt
