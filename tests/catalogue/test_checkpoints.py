"""Bad-input catalogue, checkpoints: `train --resume` on a run whose checkpoint is damaged, foreign
or tampered with: exit 2, one line naming the checkpoint, no traceback, nothing half-written."""
import hashlib
import json
import shutil
import struct

import pytest

from catalogue_helpers import check, forecast_run
from cli_helpers import run_cli

CKPT = "checkpoints/last.safetensors"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("checkpoints")
    return d, forecast_run(d, epochs=2)


def _unfinished(run):
    """The run as an interrupted one: status `training`, so that --resume takes it."""
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["status"] = "training"
    (run / "lstmkit.json").write_text(json.dumps(meta))


def _rewrite(payload: bytes, edit_state=None, edit_meta=None) -> bytes:
    """The checkpoint with its header rewritten (state JSON edited, metadata keys changed)."""
    (n,) = struct.unpack("<Q", payload[:8])
    header = json.loads(payload[8:8 + n])
    meta = header["__metadata__"]
    if edit_state is not None:
        state = json.loads(meta["lstmkit_state"])
        edit_state(state)
        meta["lstmkit_state"] = json.dumps(state)
    if edit_meta is not None:
        edit_meta(meta)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload[8 + n:]


def _rehash(meta):
    meta["state_sha256"] = hashlib.sha256(meta["lstmkit_state"].encode()).hexdigest()


def _drop_state_hash(meta):
    meta.pop("state_sha256", None)


def state_edit(fn, meta_fn=None):
    return lambda b: _rewrite(b, fn, meta_fn)


def _set(key, value):
    def edit(state):
        state[key] = value
    return edit


def _flip(b: bytes) -> bytes:
    a = bytearray(b)
    a[-3] ^= 0xFF
    return bytes(a)


CASES = [
    (lambda b: b[: len(b) // 2], "corrupt or truncated"),
    (lambda b: b[:4], "corrupt or truncated"),
    (lambda b: b"", "corrupt or truncated"),
    (_flip, "corrupt or truncated"),
    (lambda b: b"\x00" * len(b), "corrupt or truncated"),
    (lambda b: b"PK\x03\x04 a zip, or a pickle" * 10, "corrupt or truncated"),
    (lambda b: _rewrite(b, None, lambda m: m.pop("lstmkit_state")), "not an lstmkit checkpoint"),
    (lambda b: _rewrite(b, None, lambda m: m.pop("tensors_sha256")), "not an lstmkit checkpoint"),
    (lambda b: _rewrite(b, None, lambda m: m.update(tensors_sha256="0" * 64)), "corrupt or truncated"),
    # the state JSON edited: its hash no longer matches
    (state_edit(_set("epoch", "x")), "corrupt or truncated"),
    (state_edit(_set("pos", -1)), "corrupt or truncated"),
    (state_edit(_set("history", None)), "corrupt or truncated"),
    # ... and edited with the hash recomputed (or dropped, as in checkpoints older than it): still one line
    (state_edit(_set("epoch", "x"), _rehash), "epoch"),
    (state_edit(_set("epoch", -4), _rehash), "epoch"),
    (state_edit(_set("pos", -1), _drop_state_hash), "pos"),
    (state_edit(_set("pos", "x"), _rehash), "pos"),
    (state_edit(_set("global_step", 1.5), _rehash), "global_step"),
    (state_edit(_set("history", None), _rehash), "history"),
    (state_edit(_set("history", [1, 2]), _drop_state_hash), "history"),
    (state_edit(lambda s: s.pop("optimizer"), _rehash), "optimizer"),
    (state_edit(lambda s: s.pop("epoch"), _rehash), "epoch"),
    (state_edit(lambda s: s.clear(), _rehash), "damaged state"),
    (state_edit(_set("stopped", "no"), _rehash), "stopped"),
    (state_edit(_set("acc", []), _rehash), "acc"),
    # a checkpoint of a newer format (its state read as this one's would be mixed), or none named
    (state_edit(_set("version", 2), _rehash), "newer lstmkit (checkpoint format 2, this one reads up to 1)"),
    (state_edit(_set("version", "1"), _rehash), "version"),
    (state_edit(lambda s: s.pop("version"), _rehash), "version"),
]


@pytest.mark.parametrize("damage, needle", CASES, ids=[f"{k}:{c[1]}" for k, c in enumerate(CASES)])
def test_damaged_checkpoint(damage, needle, trained, tmp_path, capsys):
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots"))
    _unfinished(run)
    path = run / CKPT
    path.write_bytes(damage(path.read_bytes()))
    line = check(["forecast", "train", "--resume", run], 2, needle, tmp_path, capsys)
    assert "checkpoint" in line or "last.safetensors" in line


def test_checkpoint_that_is_a_folder(trained, tmp_path, capsys):
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots"))
    _unfinished(run)
    (run / CKPT).unlink()
    (run / CKPT).mkdir()
    check(["forecast", "train", "--resume", run], 2, "is not a file", tmp_path, capsys)


def test_finished_run_is_not_resumed(trained, tmp_path, capsys):
    d, good = trained
    check(["forecast", "train", "--resume", good], 2, "already finished", tmp_path, capsys)


def test_the_intact_copy_resumes(trained, tmp_path, capsys):
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots"))
    _unfinished(run)
    code, out, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert code == 0, err


def test_a_resume_removes_the_temporary_files_a_killed_process_left(trained, tmp_path, capsys):
    """kill -9 (the OOM killer, a scheduler's hard stop) while a checkpoint or plot was written left
    its temporary file, as large as the checkpoint, in the run for good: the resume, holding the run,
    removes them (and nothing else)."""
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run)
    _unfinished(run)
    left = [run / "checkpoints" / ".last.safetensors.k2_9xq1a.tmp", run / "plots" / ".loss.png.Ab3dE5g7.tmp",
            run / ".lstmkit.json.zz8y7x6w.tmp"]
    kept = [run / "notes.tmp", run / "plots" / ".mine.tmp"]                 # not an atomic write's name
    for path in left + kept:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"\0" * 1000)
    code, out, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert code == 0, err
    assert [p for p in left if p.exists()] == [] and all(p.exists() for p in kept)
