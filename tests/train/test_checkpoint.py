"""Checkpoints: one self-contained file, never half-written, damage detected; SIGKILL + --resume
reaches bit-identical weights and metrics (of the real command: tests/train/test_checkpoint_sigkill.py)."""
import hashlib
import json
import os
import stat

import pytest
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.errors import LstmkitError
from lstmkit.train import Trainer, TrainingInterrupted
from lstmkit.train import checkpoint as ck

from forecast_data import sine_frame
from cli_helpers import run_cli as _cli
from interrupt_helpers import KillAt


def _model(hidden=8, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, hidden), nn.Dropout(0.2), nn.Linear(hidden, 1))


def _batches(n=96, bs=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = x.sum(1, keepdim=True)

    class B:
        def __len__(self):
            return (n + bs - 1) // bs

        def __iter__(self):
            order = torch.randperm(n)
            for i in range(0, n, bs):
                yield x[order[i:i + bs]], y[order[i:i + bs]]
    return B()


def _cfg(**kw):
    base = dict(max_epochs=4, batch_size=16, lr=1e-2, progress="off", device="cpu", tensorboard=False,
                patience=100, checkpoint_every=4)
    base.update(kw)
    return TrainConfig(**base)


def _weights(model):
    return [v.clone() for v in model.state_dict().values()]


@pytest.mark.parametrize("crash_step, rows", [(5, 96), (9, 96), (14, 96), (9, 90)])
def test_mid_epoch_resume_is_bit_identical(tmp_path, crash_step, rows):
    # 6 batches per epoch, a checkpoint every 4 steps: resumes start mid-epoch (steps 4, 8, 12); 90 rows end
    # each epoch with a batch of 10, which train_loss weighs by its rows across the resume as without one
    full = _model()
    ref = Trainer(_cfg()).fit(full, _batches(rows), _batches(48, seed=1))
    with pytest.raises(TrainingInterrupted):
        Trainer(_cfg(), run_dir=tmp_path, callbacks=[KillAt(crash_step)]).fit(_model(), _batches(rows),
                                                                             _batches(48, seed=1))
    state = json.loads((tmp_path / "checkpoints" / "last.json").read_text())
    assert state["global_step"] == crash_step // 4 * 4 and state["pos"] == state["global_step"] % 6
    resumed = _model(seed=123)                       # the checkpoint, not the init, decides
    res = Trainer(_cfg(), run_dir=tmp_path).fit(resumed, _batches(rows), _batches(48, seed=1), resume=True)
    assert all(torch.equal(a, b) for a, b in zip(_weights(full), _weights(resumed)))
    assert [(h["train_loss"], h["val_loss"], h["lr"]) for h in res.history] == \
        [(h["train_loss"], h["val_loss"], h["lr"]) for h in ref.history]


def test_checkpoint_round_trip_and_damage_is_detected(tmp_path):
    Trainer(_cfg(max_epochs=1), run_dir=tmp_path).fit(_model(), _batches())
    folder = tmp_path / "checkpoints"
    payload = (folder / "last.safetensors").read_bytes()
    model, best, optim, rng, state = ck.load_checkpoint(payload, folder / "last.safetensors")
    assert set(model) == {"0.weight", "0.bias", "2.weight", "2.bias"} and best is not None
    assert rng["rng.torch"].dtype == torch.uint8 and state["epoch"] == 1 and state["pos"] == 0
    assert optim["param_groups"][0]["lr"] == 1e-2
    flipped = bytearray(payload)
    flipped[-3] ^= 0xFF                             # one bit of Adam's moments
    for bad in (payload[: len(payload) // 2], bytes(flipped), b"\x00" * 7):
        with pytest.raises(LstmkitError, match="corrupt or truncated"):
            ck.parse_checkpoint(bytes(bad), folder / "last.safetensors")
    nested = b"[" * 200_000 + b"]" * 200_000    # a header nested past the parser: a RecursionError traceback
    bad = len(nested).to_bytes(8, "little") + nested
    with pytest.raises(LstmkitError, match="corrupt or truncated"):
        ck.parse_checkpoint(bad, folder / "last.safetensors")
    other = tmp_path / "other"
    other.mkdir()
    (other / ck.CHECKPOINT_FILE).write_bytes(bad)
    (folder / "last.json").write_bytes(nested)
    assert ck.checkpoint_epochs(other) == 0 and ck._previous_state(folder) == {}      # the line after Ctrl-C


def test_a_checkpoint_serialises_its_tensors_once_and_safetensors_reads_it(tmp_path):
    """The header that names the tensors' hash is put before the bytes already serialised: they were
    serialised twice per checkpoint (once to hash them), half of each epoch's checkpoint time."""
    from unittest import mock
    from safetensors import safe_open
    with mock.patch.object(ck, "st_save", wraps=ck.st_save) as saved:
        Trainer(_cfg(max_epochs=2, checkpoint_every=0), run_dir=tmp_path).fit(_model(), _batches())
    assert saved.call_count == 2                                    # one a checkpoint, one per epoch
    path = tmp_path / "checkpoints" / ck.CHECKPOINT_FILE
    payload = path.read_bytes()
    assert int.from_bytes(payload[:8], "little") % 8 == 0           # the header padded as safetensors pads it
    with safe_open(str(path), framework="pt") as f:                 # the library's own reader
        meta = f.metadata()
        assert meta["format"] == "pt" and json.loads(meta["lstmkit_state"])["epoch"] == 2
        assert meta["tensors_sha256"] == hashlib.sha256(payload[8 + int.from_bytes(payload[:8], "little"):]).hexdigest()
        assert torch.equal(f.get_tensor("model.0.weight"), ck.load_checkpoint(payload, path)[0]["0.weight"])


def test_a_crash_while_writing_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    Trainer(_cfg(max_epochs=1), run_dir=tmp_path).fit(_model(), _batches())
    folder = tmp_path / "checkpoints"
    before = (folder / "last.safetensors").read_bytes()

    def die(*a):
        raise KeyboardInterrupt                     # the process dies after writing, before the rename

    monkeypatch.setattr(ck.os, "fsync", die)
    with pytest.raises(TrainingInterrupted):
        Trainer(_cfg(max_epochs=2), run_dir=tmp_path).fit(_model(), _batches(), resume=True)
    assert (folder / "last.safetensors").read_bytes() == before
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    ck.parse_checkpoint(before, folder / "last.safetensors")


class _Threads:
    """torch on ``n`` threads inside the block (the process's setting: given back after)."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.before = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.before)


def test_a_resume_on_another_thread_count_warns_once_naming_the_count_that_gives_the_same_bits(tmp_path, recwarn):
    # torch's sums split over 2 threads round otherwise than over 1: such a resume went on silently,
    # where the run was promised to continue bit-identically
    with _Threads(1), pytest.raises(TrainingInterrupted):
        Trainer(_cfg(), run_dir=tmp_path, callbacks=[KillAt(9)]).fit(_model(), _batches())
    assert json.loads((tmp_path / "checkpoints" / "last.json").read_text())["trained_on"] == \
        {"device": "cpu", "threads": 1, "processes": 1}
    with _Threads(2), pytest.warns(UserWarning) as said, pytest.raises(TrainingInterrupted):
        Trainer(_cfg(), run_dir=tmp_path, callbacks=[KillAt(17)]).fit(_model(), _batches(), resume=True)
    [line] = [str(w.message) for w in said if "bit for bit" in str(w.message)]
    assert line == (f"{tmp_path} trained so far with threads 1 (here 2): the resumed run matches a run never "
                    "interrupted only to float rounding, not bit for bit — resume on 1 torch thread "
                    "(OMP_NUM_THREADS=1, or torch.set_num_threads(1) in Python) for the same bits")
    recwarn.clear()
    with _Threads(1):                    # the run's first part is what its next resume is compared with
        Trainer(_cfg(), run_dir=tmp_path).fit(_model(), _batches(), resume=True)
    assert not [w for w in recwarn if "bit for bit" in str(w.message)]
    with _Threads(1), pytest.raises(TrainingInterrupted):      # the same count: nothing to say
        Trainer(_cfg(), run_dir=tmp_path / "b", callbacks=[KillAt(9)]).fit(_model(), _batches())
    recwarn.clear()
    with _Threads(1):
        res = Trainer(_cfg(), run_dir=tmp_path / "b").fit(_model(), _batches(), resume=True)
    assert not [w for w in recwarn if "bit for bit" in str(w.message)] and res.threads == 1


def test_a_checkpoint_saved_before_trained_on_was_recorded_resumes_bit_identically_and_records_it_then(
        tmp_path, monkeypatch, recwarn):
    # a run interrupted under lstmkit 12f78864 (the last release) has no "trained_on" in its checkpoint:
    # its resume goes on as before (no KeyError, no warning: nothing to compare with, the same bits), and its
    # next checkpoint records where the resume trains
    import lstmkit.train.resume as rs
    real = rs.save_checkpoint

    def old_writer(folder, *, state, **kwargs):
        real(folder, state={k: v for k, v in state.items() if k != "trained_on"}, **kwargs)

    with _Threads(1):
        Trainer(_cfg(), run_dir=tmp_path / "ref").fit(m := _model(), _batches())    # never interrupted
        want = _weights(m)
        with monkeypatch.context() as p, pytest.raises(TrainingInterrupted):
            p.setattr(rs, "save_checkpoint", old_writer)
            Trainer(_cfg(), run_dir=tmp_path, callbacks=[KillAt(9)]).fit(_model(), _batches())
    assert "trained_on" not in json.loads((tmp_path / "checkpoints" / "last.json").read_text())
    recwarn.clear()
    with _Threads(1), pytest.raises(TrainingInterrupted):
        Trainer(_cfg(), run_dir=tmp_path, callbacks=[KillAt(17)]).fit(_model(), _batches(), resume=True)
    assert not [w for w in recwarn if "bit for bit" in str(w.message)]
    assert json.loads((tmp_path / "checkpoints" / "last.json").read_text())["trained_on"] == \
        {"device": "cpu", "threads": 1, "processes": 1}
    with _Threads(1):
        Trainer(_cfg(), run_dir=tmp_path).fit(resumed := _model(seed=123), _batches(), resume=True)
    assert all(torch.equal(a, b) for a, b in zip(_weights(resumed), want))


def test_resume_with_another_model_or_a_corrupt_checkpoint_is_a_clear_error(tmp_path):
    Trainer(_cfg(max_epochs=1), run_dir=tmp_path).fit(_model(hidden=8), _batches())
    with pytest.raises(LstmkitError, match=r"another model \(Sequential: 0.bias is \[8\] there, \[16\] here\)"):
        Trainer(_cfg(), run_dir=tmp_path).fit(_model(hidden=16), _batches(), resume=True)
    path = tmp_path / "checkpoints" / "last.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(LstmkitError, match="corrupt or truncated"):
        Trainer(_cfg(), run_dir=tmp_path).fit(_model(hidden=8), _batches(), resume=True)


def test_unknown_precision_and_negative_retries_are_clear_errors():
    with pytest.raises(LstmkitError, match="unknown precision 'fp8'.*fp32, bf16"):
        Trainer(_cfg(precision="fp8"))
    with pytest.raises(LstmkitError, match="`nan_retries` must be a whole number >= 0"):
        Trainer(_cfg(nan_retries=-1))


# -- bad --resume and options through the command line ----------------------------------------------


def test_bad_resume_and_precision_are_one_line_exit_2(tmp_path, capsys):
    data = tmp_path / "s.csv"
    sine_frame(n=300).to_csv(data, index=False)
    flags = ["--data", data, "--target", "y", "--time", "time", "--lookback", "12", "--hidden-size", "8",
             "--layers", "1", "--epochs", "1", "--ensemble", "1", "--progress", "off", "--device", "cpu"]
    code, out, err = _cli(["forecast", "train", *flags, "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["status"] = "interrupted"
    (run / "lstmkit.json").write_text(json.dumps(meta))

    def one_line_error(args, needle):
        code, _, err = _cli(args, capsys)
        assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and needle in err, err

    one_line_error(["forecast", "train", *flags, "--hidden-size", "16", "--resume", run],
                   "was trained with hidden_size=8, not 16")
    other = tmp_path / "other"
    other.mkdir()
    (other / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "classify", "status": "training"}))
    one_line_error(["forecast", "train", "--resume", other], "is a 'classify' run, not a 'forecast' run")
    ckpt = run / "checkpoints" / "last.safetensors"
    ckpt.write_bytes(ckpt.read_bytes()[:-50])
    one_line_error(["forecast", "train", "--resume", run], "corrupt or truncated")
    one_line_error(["forecast", "train", *flags, "--precision", "fp16", "--out", tmp_path / "new"],
                   "unknown precision 'fp16'")
    assert not (tmp_path / "new").exists()


def _repack(payload, edit_state=None, drop=()):
    """The checkpoint with its state JSON edited (hash entries kept as they were), as a tamperer would."""
    import struct
    from safetensors.torch import load as st_load, save as st_save
    (n,) = struct.unpack("<Q", payload[:8])
    meta = json.loads(payload[8:8 + n])["__metadata__"]
    state = json.loads(meta["lstmkit_state"])
    if edit_state:
        edit_state(state)
    meta = {k: v for k, v in meta.items() if k not in drop}
    return st_save(st_load(payload), metadata={**meta, "lstmkit_state": json.dumps(state)})


@pytest.mark.parametrize("edit", [
    lambda s: s.update(epoch="x"), lambda s: s.update(epoch=-3), lambda s: s.update(history=[]),
    lambda s: s.update(pos=10 ** 9), lambda s: s.pop("global_step"), lambda s: s["history"][0].update(val_loss="x"),
], ids=["epoch-text", "epoch-negative", "history-empty", "pos-huge", "no-global_step", "history-text"])
def test_a_tampered_state_json_is_detected(tmp_path, edit):
    Trainer(_cfg(max_epochs=1), run_dir=tmp_path).fit(_model(), _batches())
    path = tmp_path / "checkpoints" / "last.safetensors"
    tampered = _repack(path.read_bytes(), edit)
    with pytest.raises(LstmkitError, match="corrupt or truncated"):
        ck.parse_checkpoint(tampered, path)
    path.write_bytes(tampered)
    with pytest.raises(LstmkitError, match="corrupt or truncated"):
        Trainer(_cfg(max_epochs=2), run_dir=tmp_path).fit(_model(), _batches(), resume=True)


def test_a_checkpoint_of_format_0_is_refused(tmp_path):
    # formats count from 1 (CHECKPOINT_VERSION's first): 0 is no format lstmkit wrote
    Trainer(_cfg(max_epochs=1), run_dir=tmp_path).fit(_model(), _batches())
    path = tmp_path / "checkpoints" / "last.safetensors"
    zero = _repack(path.read_bytes(), lambda s: s.update(version=0), drop=("state_sha256",))
    with pytest.raises(LstmkitError, match="'version' is 0, not a format number"):
        ck.load_checkpoint(zero, path)


def test_a_checkpoint_without_the_state_hash_still_loads(tmp_path):
    Trainer(_cfg(max_epochs=1), run_dir=tmp_path).fit(_model(), _batches())
    path = tmp_path / "checkpoints" / "last.safetensors"
    old = _repack(path.read_bytes(), drop=("state_sha256",))          # as lstmkit wrote it before
    assert ck.parse_checkpoint(old, path)[1]["epoch"] == 1


def test_checkpoint_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        Trainer(_cfg(max_epochs=1), run_dir=tmp_path).fit(_model(), _batches())
    finally:
        os.umask(old)
    for name in ("last.safetensors", "last.json"):
        assert (tmp_path / "checkpoints" / name).stat().st_mode & 0o777 == 0o644, name


def test_the_epochs_a_checkpoint_holds_are_read_from_its_header(tmp_path):
    """What the line after Ctrl-C names before a resume loads the checkpoint; 0 for none or a damaged one."""
    folder = tmp_path / "checkpoints"
    assert ck.checkpoint_epochs(folder) == 0
    Trainer(_cfg(max_epochs=3), run_dir=tmp_path).fit(_model(), _batches(), _batches(48, seed=1))
    assert ck.checkpoint_epochs(folder) == 3
    payload = (folder / ck.CHECKPOINT_FILE).read_bytes()
    for epoch in (-3, "3", True):                   # a state no lstmkit wrote: no count of epochs
        (folder / ck.CHECKPOINT_FILE).write_bytes(_repack(payload, lambda s: s.update(epoch=epoch)))
        assert ck.checkpoint_epochs(folder) == 0, epoch
    (folder / ck.CHECKPOINT_FILE).write_bytes(payload[:40])
    assert ck.checkpoint_epochs(folder) == 0


def test_ctrl_c_before_the_readable_copy_counts_the_checkpoint_written_and_a_resume_rewrites_the_copy(
        tmp_path, monkeypatch):
    """last.json is written after the checkpoint: Ctrl-C between the two said one epoch fewer than
    the resume continues after, and left the copy an epoch behind for good."""
    real = ck.write_json

    def cut(path, obj):
        if obj["epoch"] == 2:
            raise KeyboardInterrupt
        real(path, obj)
    with monkeypatch.context() as m:
        m.setattr(ck, "write_json", cut)
        with pytest.raises(TrainingInterrupted) as e:
            Trainer(_cfg(max_epochs=2), run_dir=tmp_path).fit(_model(), _batches(), _batches(48, seed=1))
    assert e.value.epoch == 2
    assert json.loads((tmp_path / "checkpoints" / "last.json").read_text())["epoch"] == 1
    Trainer(_cfg(max_epochs=2), run_dir=tmp_path).fit(_model(), _batches(), _batches(48, seed=1), resume=True)
    assert json.loads((tmp_path / "checkpoints" / "last.json").read_text())["epoch"] == 2


def test_a_durable_write_is_whole_on_disk_before_its_rename_and_the_folder_synced_after(tmp_path, monkeypatch):
    """Temp file, fsync, rename, then the folder's fsync: at the file's fsync its every byte has left
    Python's buffer, and the old file is still there; the folder is synced once the new name is in it."""
    path = tmp_path / "a" / "b" / "last.safetensors"           # folders made as needed
    events = []
    real_fsync, real_replace = ck.os.fsync, ck.replace_file

    def fsync(fd):
        st = os.fstat(fd)
        events.append(("dir fsync",) if stat.S_ISDIR(st.st_mode) else ("file fsync", st.st_size, path.exists()))
        real_fsync(fd)

    def replace(tmp, dest):
        events.append(("rename",))
        real_replace(tmp, dest)

    monkeypatch.setattr(ck.os, "fsync", fsync)
    monkeypatch.setattr(ck, "replace_file", replace)
    folder_synced = [] if os.name == "nt" else [("dir fsync",)]     # Windows opens no folder to sync
    ck._durable_write(path, b"abc", memoryview(b"defg"))
    assert events == [("file fsync", 7, False), ("rename",), *folder_synced]
    events.clear()
    ck._durable_write(path, b"xy")                              # the folders already there
    assert events == [("file fsync", 2, True), ("rename",), *folder_synced]
    assert path.read_bytes() == b"xy" and sorted(p.name for p in path.parent.iterdir()) == ["last.safetensors"]


def test_a_durable_write_that_fails_at_its_rename_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "last.safetensors"
    path.write_bytes(b"old")

    def refuse(tmp, dest):
        raise PermissionError(13, "Permission denied", str(dest))

    monkeypatch.setattr(ck, "replace_file", refuse)
    with pytest.raises(PermissionError):
        ck._durable_write(path, b"new")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["last.safetensors"]
