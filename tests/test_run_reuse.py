"""A folder's run, told apart from the model being saved, and deleted file by file when asked."""
import json
from pathlib import Path

import pytest

from lstmkit.errors import EnvironmentProblem
from lstmkit.run_reuse import clear_files, clear_run, is_own_run, new_run_id, other_run_named, run_here
from lstmkit.runs import META_FILE

# every file training, export, inspect and backtest write, in one folder
LSTMKIT_FILES = [META_FILE, "model.safetensors", "history.csv", "metrics.json", "doctor.json", "vocab.json",
                 "model.onnx", "onnx.json", "gates.json", "checkpoints/last.safetensors", "checkpoints/last.json",
                 "plots/loss.png", "plots/confusion.png", "plots/reliability.png", "tb/events.out.tfevents.1700000000.host.1.0",
                 "backtest/backtest.csv", "backtest/backtest.json", "backtest/plots/backtest.png"]
USER_FILES = ["notes.txt", "plots/mine.png", "tb/README", "backtest/draft.csv"]


def _folder(root: Path, names) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}" if name == META_FILE else "x")
    return root


def test_clear_run_deletes_what_lstmkit_wrote_and_keeps_the_rest(tmp_path):
    run = _folder(tmp_path / "run", LSTMKIT_FILES + USER_FILES)
    clear_run(run)
    left = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
    assert left == sorted(USER_FILES)
    assert not (run / "checkpoints").exists() and not (run / "backtest" / "plots").exists()
    only = _folder(tmp_path / "only", LSTMKIT_FILES)
    clear_run(only)
    assert list(only.iterdir()) == []


def test_clear_run_deletes_lstmkit_json_first(tmp_path, monkeypatch):
    """Stopped half-way, the folder is no run (read as none) rather than one run's metadata beside
    another's files."""
    run = _folder(tmp_path / "run", LSTMKIT_FILES)
    real = Path.unlink

    def unlink(self, *a, **k):
        if self.name == "history.csv":
            raise PermissionError(13, "Permission denied")
        return real(self, *a, **k)
    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(EnvironmentProblem, match=r"could not delete .*history\.csv \(permission denied\)"):
        clear_run(run)
    assert run_here(run) is None and (run / "history.csv").exists()


def test_a_folders_run_is_the_models_by_its_name_or_else_by_its_folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    assert run_here(run) is None
    (run / META_FILE).write_text("not json")
    assert run_here(run) == {} and not is_own_run({}, "lm", "a", run, run)     # unreadable: not the model's
    mine, theirs = new_run_id(), new_run_id()
    assert mine != theirs and len(mine) == 32
    meta = {"task": "lm", "run_id": theirs, "written": "2026-01-01T00:00:00+0000"}
    (run / META_FILE).write_text(json.dumps(meta))
    assert run_here(run) == meta and is_own_run(meta, "lm", theirs, None, tmp_path)
    assert not is_own_run(meta, "lm", mine, run, run)                         # named: the name decides
    old = {"task": "lm"}                                                      # written before runs had a name
    assert is_own_run(old, "lm", mine, run, run) and not is_own_run(old, "lm", mine, tmp_path, run)
    assert not is_own_run(old, "classify", None, run, run)
    assert other_run_named(meta) == "another 'lm' run (written 2026-01-01T00:00:00+0000)"
    assert other_run_named({}) == "another run"


def test_a_run_without_a_name_is_not_the_models_when_the_folder_it_came_from_is_gone(tmp_path):
    """Written before runs had a name, the folder decides: one the model came from that no longer exists
    (moved, deleted) is no folder the same as this one."""
    run = tmp_path / "run"
    run.mkdir()
    assert not is_own_run({"task": "lm"}, "lm", None, tmp_path / "gone", run)


def test_clear_files_deletes_the_names_given_and_a_folder_once_empty(tmp_path):
    run = _folder(tmp_path / "run", ["metrics.json", "plots/forecast.png", "backtest/backtest.csv", "backtest/mine.csv"])
    clear_files(run, ("metrics.json", "plots/forecast.png", "plots", "backtest/backtest.csv", "backtest", "gone.json"))
    left = sorted(str(p.relative_to(run)) for p in run.rglob("*"))
    assert left == ["backtest", "backtest/mine.csv"]                 # a folder holding another file is kept
