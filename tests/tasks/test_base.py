"""tasks._base: loading another task's run by name."""
import json

import pytest

from lstmkit.errors import LstmkitError
from lstmkit.runs import FORMAT_VERSION, META_FILE
from lstmkit.tasks._base import load_run


def _fake_run(folder, task):
    folder.mkdir()
    (folder / META_FILE).write_text(json.dumps({"format_version": FORMAT_VERSION, "task": task}))
    return folder


def test_load_run_refuses_a_run_of_another_task(tmp_path):
    run = _fake_run(tmp_path / "run", "classify")
    with pytest.raises(LstmkitError, match="is a 'classify' run, not a 'lm' run"):
        load_run(run, "lm")


def test_load_run_names_a_task_this_lstmkit_lacks(tmp_path):
    run = _fake_run(tmp_path / "run", "juggling")
    with pytest.raises(LstmkitError, match="no 'juggling' task"):
        load_run(run, "juggling")
