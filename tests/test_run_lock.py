"""lstmkit.run_lock: one trainer per run folder, by an advisory lock (flock: two descriptors of one
folder conflict, in one process too, so these cases run here without a second process)."""
import os

import pytest

from lstmkit.errors import EnvironmentProblem
from lstmkit.run_lock import check_not_training, folder_lock, process_gone, training_lock

pytestmark = pytest.mark.skipif(os.name == "nt", reason="no flock on Windows: nothing is guarded there")


def test_a_run_held_by_a_trainer_refuses_a_second_trainer_and_a_reader_until_it_is_let_go(tmp_path):
    run = tmp_path / "new-run"                              # fit(run_dir=...) names a folder that may not exist yet
    held = training_lock(run)
    assert run.is_dir() and isinstance(held, int)
    try:
        with pytest.raises(EnvironmentProblem, match=f"^{run} is being trained by another process right now; "
                                                     "--resume has to wait"):
            training_lock(run)
        busy = EnvironmentProblem("the study's run is busy", "wait")
        with pytest.raises(EnvironmentProblem) as e:
            training_lock(run, busy)
        assert e.value is busy
        with pytest.raises(EnvironmentProblem, match="; loading has to wait"):
            check_not_training(run, "loading")
        assert process_gone(run, {}) is False
    finally:
        os.close(held)
    check_not_training(run, "loading")                      # let go: free to read, to resume
    assert process_gone(run, {"process": {"pid": os.getpid(), "host": "elsewhere"}}) is True
    os.close(training_lock(run))
    check_not_training(tmp_path / "missing", "loading")     # no folder: nothing trains it


def test_a_folder_lock_is_held_for_the_block_and_let_go_after_it(tmp_path):
    with folder_lock(tmp_path):                             # held alone: no other holder, not even a reader
        with pytest.raises(EnvironmentProblem):
            training_lock(tmp_path)
        with pytest.raises(EnvironmentProblem):
            check_not_training(tmp_path, "loading")
    os.close(training_lock(tmp_path))
    with folder_lock(tmp_path / "missing"):                 # no folder: the block runs unguarded
        pass
