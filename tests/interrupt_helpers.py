"""Ctrl-C in one phase of a fit, and the checks of what its resume leaves, for the tests of interrupted runs."""
import contextlib
import json

import pytest

from lstmkit.train import TrainingInterrupted


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


def status(run) -> str:
    return json.loads((run / "lstmkit.json").read_text())["status"]


def assert_same_outputs(run, straight) -> None:
    """``run`` finished with the weights and metrics of ``straight``, the run never interrupted."""
    assert status(run) == "finished"
    assert (run / "model.safetensors").read_bytes() == (straight / "model.safetensors").read_bytes()
    assert json.loads((run / "metrics.json").read_text()) == json.loads((straight / "metrics.json").read_text())
