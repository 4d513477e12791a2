"""The run folder: the one file format lstmkit writes and reads.

::

    runs/<task>-<YYYYmmdd-HHMMSS>/
      lstmkit.json       format version, task, resolved config, preprocessing state, data summary
      model.safetensors  weights only: loading never unpickles
      history.csv        epoch, train_loss, val_loss, lr, grad_norm, seconds
      metrics.json       test metrics with baselines beside them
      plots/             loss.png and task plots
      tb/                TensorBoard events
      checkpoints/       last.safetensors + last.json, for --resume

Every file is written to a temporary name and renamed, so a crash never leaves half a file.
JSON files are standard JSON (a non-finite number is written as null). Whenever ``lstmkit.json``
is written, it records the SHA-256 of the weight file and of the vocabulary beside it
(``weights_sha256``), and :func:`read_run` checks them: a file changed, damaged or copied from
another run after training is refused, not used (another run's ``vocab.json`` of the same size
read every token as another word, and its predictions were silently wrong).
Run folders written before the hash existed load without the check. ``lstmkit.json`` also names
the run (``run_id``): saving a model into a folder tells its own run from another one by it
(:mod:`lstmkit.run_reuse`).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmkit.errors import EnvironmentProblem, LstmkitError, missing_path_fix, opt, os_reason, worded
from lstmkit.files import (atomic_write, check_name_length, check_out_path, file_in_the_way, json_safe, new_file_mode,
                           path_exists, read_json, to_json)
from lstmkit.run_status import STATUSES, not_finished
from lstmkit.version import __version__, newer_than_this, release_of

if TYPE_CHECKING:
    import torch

__all__ = ["FORMAT_VERSION", "META_FILE", "WEIGHTS_FILE", "new_run_dir", "check_out_folder", "check_out_file",
           "path_exists", "file_in_the_way", "atomic_write", "new_file_mode", "MEMORY_KEY", "RECORDINGS_KEY",
           "write_json",
           "build_checked", "to_json", "json_safe", "file_sha256", "weights_fingerprint",
           "weights_fingerprint_kept", "verify_weights",
           "WeightsMismatch", "not_the_model",
           "save_tensors", "tensor_bytes", "load_tensors", "load_weights", "read_metrics", "read_state_file",
           "read_meta", "read_run", "resume_call", "check_written_by", "declared_weights", "finished_meta",
           "read_weights", "export_source", "known_task"]

FORMAT_VERSION = 1
META_FILE = "lstmkit.json"
WEIGHTS_FILE = "model.safetensors"
HASHES_KEY = "weights_sha256"
MEMORY_KEY = "memory_sha256"          # in a run's data summary: {fit argument: fingerprint} of data given in memory
RECORDINGS_KEY = "recordings"         # in a speech run's data summary: {role: {"count", "sha256", ...}} of its audio
VOCAB_FILE = "vocab.json"             # the text tasks' vocabularies (classify, lm, translate)
HASHED_FILES = (WEIGHTS_FILE, VOCAB_FILE)     # recorded in lstmkit.json whenever it is written
# the files training, export and inspect keep in a run folder, and its sub-folders: a command's
# --out never replaces them
RUN_FILES = frozenset({META_FILE, WEIGHTS_FILE, "history.csv", "metrics.json", "metrics_per_series.csv",
                       "metrics_per_target.csv", "test_forecasts.csv", "doctor.json", "vocab.json",
                       "val_translations.tsv", "gates.json", "onnx.json", "model.onnx", "encoder.onnx", "decoder.onnx",
                       "export_report.json", "update.json"})
RUN_FOLDERS = ("checkpoints", "plots", "tb", "backtest")
ONNX_REPORT = "onnx.json"
SOURCE_KEY = "source_run"             # an ``export onnx --out`` report's: the run folder the graphs came from


def new_run_dir(out: str | Path, task: str) -> Path:
    """Create and return ``out/<task>-<timestamp>`` (with a suffix if that name is taken)."""
    out = Path(out)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    check_out_path(out)
    check_name_length(out / f"{task}-{stamp}-999", opt("out"))
    for k in range(1000):
        path = out / (f"{task}-{stamp}" + (f"-{k}" if k else ""))
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            if not path.parent.is_dir():
                raise _not_a_folder(out) from None
            continue
        except NotADirectoryError:
            raise _not_a_folder(out) from None
        except OSError as e:
            raise EnvironmentProblem(f"could not create a run folder under {out} ({os_reason(e)}); nothing was written",
                                     f"pass a writable {opt('out')} folder (or free space) and "
                                     + worded("run the command again", "fit again")) from None
    raise LstmkitError(f"could not create a run folder under {out}", "clean up old runs")


def check_out_folder(out: str | Path) -> None:
    """Refuse, before any work, an ``--out`` folder that a file keeps from being made, or whose name
    is longer than the file system allows or starts with a '~' the shell did not expand."""
    check_out_path(out)
    if file_in_the_way(out) is not None:
        raise _not_a_folder(Path(out))


def check_out_file(out: str | Path) -> None:
    """Refuse, before any work, an ``--out`` file that is one of a run folder's own files
    (:data:`RUN_FILES`, or a file in its :data:`RUN_FOLDERS`): ``predict --out RUN/lstmkit.json``
    wrote the forecast over the run's metadata, and the run was gone), or one whose name is longer
    than the file system allows or starts with a '~' the shell did not expand."""
    check_out_path(out)
    path = Path(out).resolve()
    run = next((folder for folder, own in ((path.parent, path.name in RUN_FILES),
                                           (path.parent.parent, path.parent.name in RUN_FOLDERS))
                if own and (folder / META_FILE).is_file()), None)
    if run is not None:
        raise LstmkitError(f"{opt('out', str(out))} is a file of the run folder {run}: writing it would replace "
                           f"the run's own {path.relative_to(run)}",
                           "write the output outside the run folder, or under another name")


def _not_a_folder(out: Path) -> LstmkitError:
    blocker = file_in_the_way(out) or out
    return LstmkitError(f"{opt('out', str(blocker))} is a file, not a folder",
                        f"pass a folder for {opt('out')} (it is created when missing)")


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as standard JSON (see :func:`to_json`), atomically. A run's ``lstmkit.json``
    gets the SHA-256 of the weight files beside it (``weights_sha256``): every task writes its
    metadata here, after its weights, so this one place covers them all."""
    path = Path(path)
    if path.name == META_FILE and isinstance(obj, dict):
        hashes = {name: file_sha256(path.parent / name) for name in HASHED_FILES if (path.parent / name).is_file()}
        obj = {**{k: v for k, v in obj.items() if k != HASHES_KEY}, **({HASHES_KEY: hashes} if hashes else {})}
    text = to_json(obj, indent=2) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def weights_fingerprint(run: str | Path) -> str:
    """sha256 (16 hex digits) of a run's weights file: ties exports, saved stream states and
    fine-tuned runs (their start) to it."""
    return file_sha256(Path(run) / WEIGHTS_FILE)[:16]


# weights file's path -> (its stat key, its fingerprint): read again only when the file changed
_FILES: dict[str, tuple[tuple, str]] = {}
_FILES_LOCK = threading.Lock()
_FILES_MOST = 256           # files remembered at once (a long-lived process going over many runs forgets the oldest)


def weights_fingerprint_kept(run: str | Path) -> str:
    """:func:`weights_fingerprint` of ``run``, read again only when its weights file's stat changed:
    a save renames a new file over it (another inode, even within one tick of the clock, with the same size), a
    write in place moves its size or times. OSError when the file is not there."""
    path = os.path.join(os.fspath(run), WEIGHTS_FILE)
    key = _stat_key(path)
    hit = _FILES.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    fingerprint = weights_fingerprint(run)
    if _stat_key(path) == key:            # not written while it was read: its fingerprint is that stat's
        with _FILES_LOCK:
            _FILES.pop(path, None)
            while len(_FILES) >= _FILES_MOST:
                del _FILES[next(iter(_FILES))]
            _FILES[path] = (key, fingerprint)
    return fingerprint


def _stat_key(path: str) -> tuple:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class WeightsMismatch(LstmkitError):
    """A run's weights (or vocabulary) that do not match its ``lstmkit.json``: not the SHA-256 it recorded, or not
    the shapes of the model it describes. A file changed or damaged, or, in a folder being saved over, one of the
    two files new and the other not yet (a retrain with another hidden size: its weights are of other shapes; a
    served run waits for the rest of such a save: :mod:`lstmkit.deploy.reload`)."""


def not_the_model(run: str | Path, detail: str,
                  hint: str = "the two files come from different runs, or one was edited; retrain the model"
                  ) -> WeightsMismatch:
    """The error for the weights of the run ``run`` that do not fit the model its ``lstmkit.json`` describes
    (``detail``: what differs)."""
    return WeightsMismatch(f"{Path(run)}/{WEIGHTS_FILE} does not match the model in {META_FILE} ({detail})", hint)


def weights_refused(run: str | Path, e: Exception) -> WeightsMismatch:
    """:func:`not_the_model` for weights the network refused as they were put in (``e``: torch's strict
    ``load_state_dict``, or an int8 run's rebuild from its stored integers), its first line the detail."""
    return not_the_model(run, str(e).splitlines()[0], "the two files come from different runs; retrain the model")


def verify_weights(run: str | Path, meta: dict[str, Any], name: str = WEIGHTS_FILE,
                   data: bytes | None = None) -> None:
    """Check ``run/name`` (or its bytes ``data``, already read) against the SHA-256 its
    ``lstmkit.json`` recorded (none recorded: an older run folder, nothing to check)."""
    recorded = meta.get(HASHES_KEY)
    want = recorded.get(name) if isinstance(recorded, dict) else None
    path = Path(run) / name
    if want is None or (data is None and not path.is_file()):
        return
    try:
        got = hashlib.sha256(data).hexdigest() if data is not None else file_sha256(path)
    except OSError as e:
        raise _unreadable(path, e) from None
    if got != want:
        raise WeightsMismatch(f"{path} does not match the SHA-256 recorded in {META_FILE}: the file was changed, "
                           "damaged or copied from another run after training",
                           "restore the run's own file from a backup (or copy the whole run folder again); "
                           "else retrain the model")


def _unreadable(path: Path, e: OSError) -> EnvironmentProblem:
    """The error for a run's file this process cannot read: another user's run copied with its
    owner-only modes (a PermissionError traceback from ``lstmkit.json`` or ``vocab.json``)."""
    return EnvironmentProblem(f"cannot read {path} ({os_reason(e)})",
                              f"make the run folder readable to this user (its owner: chmod -R a+rX {path.parent}), "
                              "then run the command again", reason=os_reason(e))


def _check_finite(tensors: dict[str, torch.Tensor], path: Path) -> None:
    import torch                                  # local: runs.py is imported without torch on main

    for key, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise LstmkitError(f"{path} holds NaN or infinite weights (first: {key!r})",
                               "the training diverged or the file was damaged; retrain the model")


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor],
                 metadata: dict[str, str] | None = None) -> None:
    """Save a flat dict of tensors as safetensors, atomically.

    The same tensors and metadata always give the same bytes: safetensors writes the metadata
    from a hash map in an order that varies between calls, so it is re-written sorted.
    """
    data = tensor_bytes(tensors, metadata)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def tensor_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The bytes :func:`save_tensors` writes for ``tensors`` and ``metadata``."""
    from safetensors.torch import save           # imports torch: only when weights are written

    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    return _sorted_metadata(save(flat, metadata=metadata))


def safetensors_header(data: bytes) -> tuple[dict[str, Any], int]:
    """The JSON header at the start of the safetensors bytes ``data`` and its length in bytes (the
    tensors' bytes start at ``8 + length``); ValueError when ``data`` is shorter than it says."""
    if len(data) < 8:
        raise ValueError("shorter than a safetensors header's length")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise ValueError("header longer than the file")
    return json.loads(data[8:8 + n]), n


def _sorted_metadata(data: bytes) -> bytes:
    """The safetensors bytes ``data`` with the ``__metadata__`` entries in sorted order (the
    header keeps its length: same entries, same compact JSON, same space padding)."""
    header, n = safetensors_header(data)
    if "__metadata__" not in header:
        return data
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(text) > n:          # never expected; keep what safetensors wrote rather than risk the format
        return data
    return data[:8] + text + b" " * (n - len(text)) + data[8 + n:]


def load_weights(net: torch.nn.Module, weights: dict[str, torch.Tensor], run: str | Path) -> None:
    """Put a run's ``weights`` into ``net`` (strict) and switch it to eval mode; weights that do
    not fit the model its metadata describes are one clear error."""
    try:
        net.load_state_dict(weights, strict=True)
    except RuntimeError as e:
        raise weights_refused(run, e) from None
    net.eval()


def build_checked(build, weights: dict[str, torch.Tensor], run: str | Path, exact: bool = True):
    """``build()`` the model a run's metadata describes, first on PyTorch's meta device (no memory):
    its parameter names, shapes and dtypes must be those of the weights the run ships, so a damaged
    ``lstmkit.json`` (``hidden_size: 1000000``) is refused before anything is allocated. Weights
    stored differently (``exact=False``: int8) must hold at least half as many numbers as it has.
    The network is built without drawing from the random generators (its weights are the run's)."""
    from lstmkit.memory import built_on_meta, built_without_draws

    probe = built_on_meta(build)
    expected = {k: tuple(v.shape) for k, v in probe.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in weights.items()}
    if not exact:
        n_expected, n_got = sum(math.prod(v) for v in expected.values()), sum(math.prod(v) for v in got.values())
        if n_expected > 2 * n_got + 4096:
            raise not_the_model(run, f"the metadata asks for {n_expected:,} numbers, the weights hold {n_got:,}")
        _check_fits_with(probe, run)
        return built_without_draws(build)
    if expected != got:
        key = next((k for k in sorted(expected.keys() | got.keys()) if expected.get(k) != got.get(k)))
        raise not_the_model(run, f"{key}: the metadata asks for {_shape(expected.get(key))}, the weights hold "
                                 f"{_shape(got.get(key))}")
    kinds = {k: v.dtype for k, v in probe.state_dict().items()}
    odd = next((k for k in sorted(kinds) if weights[k].dtype != kinds[k]), None)
    if odd is not None:          # bool or int8 numbers were cast to floats (silently wrong answers), 1e300 to inf
        raise LstmkitError(f"{Path(run)}/{WEIGHTS_FILE} holds {odd} as {_dtype(weights[odd].dtype)} values; the model "
                           f"in {META_FILE} keeps it as {_dtype(kinds[odd])} (the file was edited or not written by "
                           "lstmkit)", "restore the run folder or retrain the model")
    _check_fits_with(probe, run)
    return built_without_draws(build)


def _check_fits_with(probe: torch.nn.Module, run: str | Path) -> None:
    """:func:`_check_fits` for the run's weights file and the network ``probe`` (built on the meta device)
    that is about to be made for them: a 13 GiB run of the size its metadata declares had its network
    made (13 GiB) before its weights were found too large to read."""
    path = Path(run) / WEIGHTS_FILE
    if path.is_file():
        model = sum(t.numel() * t.element_size() for t in probe.state_dict().values())
        _check_fits(path, path.stat().st_size, model)


def _dtype(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _shape(shape: tuple[int, ...] | None) -> str:
    return "nothing" if shape is None else "x".join(map(str, shape)) or "a scalar"


def read_metrics(run: str | Path) -> dict[str, Any] | None:
    """``metrics.json`` of a run folder, or None when the run has none."""
    path = Path(run) / "metrics.json"
    if not path.is_file():
        return None
    try:
        return read_json(path, "restore the run folder, or delete metrics.json (the model loads without it)")
    except OSError as e:
        raise _unreadable(path, e) from None


def read_state_file(run: str | Path, name: str) -> Any:
    """The JSON state file ``name`` (a vocabulary) of the run folder ``run``. A missing one (a file
    deleted, a folder copied in part) or one that is not JSON is an :class:`LstmkitError` naming it;
    it was 'a missing or malformed lstmkit.json or state file ([Errno 2] …)'."""
    path = Path(run) / name
    _check_not_special(path)
    if not path.is_file():
        raise LstmkitError(f"{run} has no {name}: the run folder is incomplete (a file deleted, or the folder "
                           "copied in part)", "copy the whole run folder again, or retrain the model")
    try:
        return read_json(path, "restore the run folder or retrain the model")
    except OSError as e:
        raise _unreadable(path, e) from None


def _check_links(run: Path) -> None:
    """An error for a symbolic link among the files and folders lstmkit reads in the run folder ``run``
    (:data:`RUN_FILES`, :data:`RUN_FOLDERS` and what they hold) that leads out of it: a stranger's run
    linking ``model.safetensors`` or ``vocab.json`` to a file of this machine had it read, hashed and
    used without a word. A link that stays inside (``checkpoints`` to a folder beside them) is read as
    the file it names; the run folder's own path may hold links (``runs/latest``)."""
    try:
        home = run.resolve()
        links = [p for p in _read_paths(run) if p.is_symlink()]
    except OSError:                   # a folder this user cannot list: the readers name it
        return
    import shlex
    fix = ("copy the run with the files its links name in their place ("
           + worded(f"cp -rL {shlex.quote(str(run))} NEWRUN", f"shutil.copytree({str(run)!r}, NEWRUN)")
           + ") and pass the copy, or retrain the model")
    for link in links:
        try:
            inside = link.resolve(strict=False).is_relative_to(home)
        except (OSError, RuntimeError):         # a loop of links
            raise LstmkitError(f"{link} is a symbolic link that leads to no file (a loop of links): the run folder is "
                               "damaged", "restore the run folder or retrain the model") from None
        if not inside:
            raise LstmkitError(f"{link} is a symbolic link to {os.readlink(link)}, outside the run folder: lstmkit "
                               "reads a run's files from inside its folder only, so a run cannot make it read other "
                               "files", fix)


def _read_paths(run: Path) -> list[Path]:
    """The files and folders of the run folder ``run`` that lstmkit reads or writes, there or not:
    :data:`RUN_FILES`, :data:`RUN_FOLDERS` and each folder's entries (listed where the folder is a
    link too: its link comes first)."""
    paths = [run / name for name in (*sorted(RUN_FILES), *RUN_FOLDERS)]
    for name in RUN_FOLDERS:
        if (run / name).is_dir():
            paths += sorted((run / name).iterdir())
    return paths


def _check_not_special(path: Path) -> None:
    """An error for a run's file that is there but no regular file: a folder, a device or a pipe (a
    stranger's run linking ``model.safetensors`` to /dev/zero) - never opened (a pipe would wait, a
    device never end). It was 'weights file missing: the run did not finish; retrain or use --resume'."""
    if path_exists(path) and not path.is_file():
        kind = "a folder" if path.is_dir() else "a device, a pipe or a socket"
        raise LstmkitError(f"{path} is {kind}, not a file: the run folder is damaged, or not a run lstmkit wrote",
                           "copy the whole run folder again from where it was trained, or retrain the model")


def _weights_missing(path: Path) -> LstmkitError:
    source = export_source(path.parent)
    if source is not None:         # the copied lstmkit.json made it read as a run that did not finish
        return LstmkitError(f"{path.parent} is an ONNX export of the run {source} (export onnx with an out folder), "
                            "not a run: it holds the graphs and the files they read, not the weights",
                            "pass the run folder it was exported from, or run its graphs with onnxruntime "
                            "(examples/onnx_by_hand.py)")
    return LstmkitError(f"weights file missing: {path}", "the run did not finish; retrain or "
                        + worded("use --resume", "resume it with resume(RUN)"))


def export_source(folder: str | Path) -> str | None:
    """The run folder an ``export onnx --out FOLDER`` came from (its ``onnx.json``'s ``source_run``), where
    ``folder`` holds such an export and no weights: the run's ``lstmkit.json`` is copied there beside the
    graphs, so the folder reads as a run. None for any other folder."""
    folder = Path(folder)
    if (folder / WEIGHTS_FILE).exists():
        return None
    try:
        report = json.loads((folder / ONNX_REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    source = report.get(SOURCE_KEY) if isinstance(report, dict) else None
    return source if isinstance(source, str) else None


# safetensors' names of the dtypes lstmkit's weights can be read as, with their sizes (another is refused by name)
_DTYPES = {"F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2), "BF16": ("bfloat16", 2),
           "I64": ("int64", 8), "I32": ("int32", 4), "I16": ("int16", 2), "I8": ("int8", 1), "U8": ("uint8", 1),
           "BOOL": ("bool", 1)}
_HEADER_LIMIT = 100_000_000             # safetensors' own limit on a header's length


def declared_weights(run: str | Path) -> dict[str, torch.Tensor]:
    """The tensors the run's ``model.safetensors`` declares, read from its header alone: each name with
    its shape and dtype, as a tensor on PyTorch's meta device (no memory). A header whose tensors do not
    fill the file exactly, or that declares a type lstmkit never writes, is one error. :func:`build_checked`
    compares them with the model the metadata describes before a byte of the weights is read: a
    stranger's 6 GB file was read whole (and copied: 12 GB at the peak) before its shapes were looked at.
    (safetensors' ``safe_open`` maps the whole file: a 1 TB one could not be mapped.) What safetensors
    checks besides, it checks as the file is loaded."""
    import torch

    path = Path(run) / WEIGHTS_FILE
    _check_not_special(path)
    if not path.is_file():
        raise _weights_missing(path)

    def corrupt(why: str) -> LstmkitError:
        return LstmkitError(f"{path.name} in {path.parent} is corrupt or truncated ({why})",
                            "retrain the model or restore the file from a backup")
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            first = f.read(8)
            n = int.from_bytes(first, "little")
            if size < 8 or n > min(_HEADER_LIMIT, size - 8):
                if first.startswith((b"PK\x03\x04", b"\x80")):    # torch.save's zip, or a plain pickle
                    raise LstmkitError(f"{path} is a PyTorch pickle (torch.save), not safetensors: lstmkit never "
                                       "unpickles a file, since loading a pickle runs whatever code it holds",
                                       "use the run folder lstmkit wrote (its weights are safetensors), or retrain "
                                       "the model")
                raise corrupt(f"a header of {n:,} bytes in a file of {size:,}")
            header = json.loads(f.read(n))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise corrupt("its header is not JSON") from None
    except OSError as e:
        raise _unreadable(path, e) from None
    declared, end = {}, 0
    for key, entry in (header.items() if isinstance(header, dict) else [("", None)]):
        if key == "__metadata__":
            continue
        try:
            dtype, shape, (begin, stop) = entry["dtype"], list(entry["shape"]), entry["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise corrupt(f"its header's entry {key!r} is not a tensor's") from None
        # whole numbers in int64's range only: '"shape": ["3"]', '[2.5]' and '"data_offsets": ["0", 8]' were read as
        # numbers or ended in TypeError, a shape of no elements with huge sides ('[0, 1e30]', '[0, 2**62, 2**62]')
        # in torch's overflow, '"dtype": {}' in 'unhashable type'
        if (not isinstance(dtype, str) or not all(_whole(v) for v in (*shape, begin, stop))
                or not _whole(math.prod(d for d in shape if d))):
            raise corrupt(f"its header's entry {key!r} is not a tensor's (a dtype name, whole-number shape and "
                          "offsets)")
        if dtype not in _DTYPES:
            raise LstmkitError(f"{path} holds {key} as {dtype} values, a type lstmkit never writes (the file was "
                               "edited or not written by lstmkit)", "restore the run folder or retrain the model")
        if min(shape, default=0) < 0 or begin < 0 or stop - begin != math.prod(shape) * _DTYPES[dtype][1]:
            raise corrupt(f"{key} is declared {shape} but given {stop - begin:,} bytes")
        declared[key], end = (shape, getattr(torch, _DTYPES[dtype][0])), max(end, stop)
    if 8 + n + end != size:
        raise corrupt(f"its tensors take {end:,} bytes, the file holds {size - 8 - n:,} after the header")
    return {k: torch.empty(shape, dtype=dtype, device="meta") for k, (shape, dtype) in declared.items()}


def _whole(value: Any) -> bool:
    """Whether a safetensors header's number (a dimension, an offset) is a whole number torch can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < 1 << 63


def _check_fits(path: Path, size: int, model: int = 0) -> None:
    """An error, before ``path`` (``size`` bytes of weights) is read, when loading it would take more
    memory than is free: its bytes, then the tensors made from them (twice its size), and ``model``
    bytes of the network they go into when it is yet to be made."""
    import torch

    from lstmkit.memory import memory_limit, size_text
    total, free, where = memory_limit(torch.device("cpu"))
    room, need = (total if free is None else min(total, free)), 2 * size + model
    if need > room:
        raise EnvironmentProblem(f"{path} is {size_text(size)}: loading it takes about {size_text(need)} of memory, "
                                 f"more than the {size_text(room)} free in {where}",
                                 "free memory, or load the run on a machine with more", reason="out of memory")


def read_weight_bytes(path: str | Path) -> bytes:
    """The bytes of a weights file; a missing or unreadable one, or one larger than the memory free to
    load it, is one clear error."""
    path = Path(path)
    _check_not_special(path)
    if not path.is_file():
        raise _weights_missing(path)
    try:
        _check_fits(path, path.stat().st_size)
        return path.read_bytes()
    except MemoryError:
        raise _out_of_memory(path) from None
    except OSError as e:
        raise _unreadable(path, e) from None


def load_tensors(path: str | Path, data: bytes | None = None) -> dict[str, torch.Tensor]:
    """Load a safetensors file (or its bytes ``data``, already read from ``path``); a missing,
    truncated or foreign file is a clear LstmkitError."""
    from safetensors import SafetensorError
    from safetensors.torch import load  # imports torch: only when weights are read

    path = Path(path)
    data = read_weight_bytes(path) if data is None else data
    try:
        return load(data)
    except MemoryError:
        raise _out_of_memory(path) from None
    except (SafetensorError, OSError, ValueError) as e:
        raise LstmkitError(f"{path.name} in {path.parent} is corrupt or truncated ({e})",
                           "retrain the model or restore the file from a backup") from None


def _out_of_memory(path: Path) -> EnvironmentProblem:
    return EnvironmentProblem(f"out of memory while loading {path}; the run folder is intact",
                              "free memory and run the command again", reason="out of memory")


def _the_run_folder() -> str:
    """The fix for a path that is no run folder, in the caller's words: a Python caller has no
    'train' command's printout, its fit's ``run_dir_`` (``fit(out=...)`` makes the folder)."""
    return worded("pass the folder printed by 'train'", "pass the run folder a fit wrote (its run_dir_)")


def read_meta(run: str | Path, task: str | None = None) -> dict[str, Any]:
    """Read and validate ``lstmkit.json`` of a run folder."""
    if not isinstance(run, (str, os.PathLike)) or not str(run).strip():       # Path("") is the working folder
        raise LstmkitError(f"loading needs a run folder's path, got {repr(run) if isinstance(run, str) else type(run).__name__}",
                           "pass the folder a fit wrote, e.g. 'runs/classify-20250101-120000'")
    run = Path(run)
    if not path_exists(run):
        blocker = file_in_the_way(run)                  # a path into an archive: run.zip/forecast-2025...
        if blocker is not None and _archive_kind(blocker):
            raise _an_archive(blocker)
        raise LstmkitError(f"run folder not found: {run}", missing_path_fix(run, _the_run_folder()))
    if not run.is_dir():
        if run.name in RUN_FILES and (run.parent / META_FILE).is_file():      # a path copied from a file browser
            raise LstmkitError(f"{run} is a file of a run folder, not the folder", f"pass its folder: {run.parent}")
        if _archive_kind(run):                    # a run shipped as a zip or tar file: 'a file, not a run folder'
            raise _an_archive(run)
        raise LstmkitError(f"{run} is a file, not a run folder", _the_run_folder())
    _check_links(run)
    meta_path = run / META_FILE
    if not meta_path.is_file():
        inside = _runs_inside(run)
        own = [p for p in inside if task and p.name.startswith(f"{task}-")]
        inside, kind = (own, f"{task} ") if own else (inside, "")
        if not inside and ((run / "trials.csv").is_file() or (run / "study.db").is_file()):
            raise _a_study(run)
        raise LstmkitError(f"{run} is not an lstmkit run folder (no {META_FILE})" + (
            f"; it holds {len(inside)} {kind}run folder(s)" if inside else ""),
            f"pass one of them, e.g. {inside[-1]}" if inside else _the_run_folder())
    try:
        meta = read_json(meta_path, "retrain the model")
    except OSError as e:
        raise _unreadable(meta_path, e) from None
    if not isinstance(meta, dict) or "format_version" not in meta or "task" not in meta:
        raise LstmkitError(f"{meta_path} is not an lstmkit metadata file", "retrain the model")
    check_written_by(meta, meta_path)
    for section in ("config", "preprocessing", "model", "data"):      # null too: every writer writes an object
        if section in meta and not isinstance(meta[section], dict):
            kind = "null" if meta[section] is None else type(meta[section]).__name__
            raise LstmkitError(f"{meta_path}: \"{section}\" is {kind}, not an object "
                               "(the file was edited or damaged)", "restore the run folder or retrain the model")
    if not isinstance(meta["task"], str):
        raise LstmkitError(f"{meta_path}: \"task\" is {meta['task']!r}, not a task name (the file was edited or "
                           "damaged)", "restore the run folder or retrain the model")
    if task is not None and meta["task"] != task and not known_task(meta["task"]):
        # a stranger's run: "use 'lstmkit weather ...'" named a command that does not exist, and a name
        # with a line break or a terminal escape in it was printed as it was
        raise LstmkitError(f"{run} is a {meta['task']!r} run, a task this version of lstmkit does not know "
                           "(a newer lstmkit or another program wrote it, or the file was edited)",
                           f"upgrade lstmkit (pip install -U lstmkit), or pass a {task} run")
    if task is not None and meta["task"] != task:
        raise LstmkitError(f"{run} is a '{meta['task']}' run, not a '{task}' run",
                           worded(f"use 'lstmkit {meta['task']} ...' with this run (in Python, lstmkit.load(run) opens "
                                  "a run of any task)", _other_tasks_estimator(meta)))
    return meta


def _a_study(folder: Path) -> LstmkitError:
    """The error for a ``tune`` study's folder given where a run goes (``lstmkit doctor --run runs/tune``):
    it said only 'not an lstmkit run folder'; its ``best.yaml`` says how to train the best settings."""
    best = folder / "best.yaml"
    try:
        said = next((ln.split(":", 1)[1].strip() for ln in best.read_text(encoding="utf-8").splitlines()[:3]
                     if ln.startswith("# train with:")), None) if best.is_file() else None
    except (OSError, UnicodeDecodeError):
        said = None
    what = (f"{folder} is a tune study's folder, not a run folder (no {META_FILE}): a study keeps its trials' scores, "
            "not their models")
    if not best.is_file():                  # a search still running, or stopped before it wrote its outputs
        return LstmkitError(what, f"let its search finish (it writes {best}), train those settings, then pass that "
                                  "run's folder")
    command = said or f"lstmkit <task> train --config {best}"
    return LstmkitError(what, worded(f"train its best settings first ({command}), then pass that run's folder",
                                     f"train its best settings first (the keys of {best} as the estimator's "
                                     "parameters), then pass that run's folder"))


def check_written_by(meta: dict[str, Any], meta_path: Path) -> None:
    """An error for the run ``meta`` (read from ``meta_path``) when this lstmkit must not read it: its
    ``format_version`` damaged or newer than :data:`FORMAT_VERSION`, or its ``lstmkit_version`` damaged
    or a later release than this one's (a run written before versions were recorded has none). A newer
    lstmkit's run was read without a word where its format number had not changed: a setting this one
    does not know was 'a config that does not load (the file was edited or damaged)', and one it knows
    but means otherwise was used as this version means it. Older versions' runs load."""
    version, written = meta["format_version"], meta.get("lstmkit_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LstmkitError(f"{meta_path} has format_version {version!r}, not a positive integer (damaged)",
                           f"restore the file or set \"format_version\": {FORMAT_VERSION}; else retrain the model")
    if written is not None and release_of(written) is None:
        raise LstmkitError(f"{meta_path} has lstmkit_version {written!r}, not a version number (damaged)",
                           f"restore the file or set \"lstmkit_version\": \"{__version__}\"; else retrain the model")
    if version > FORMAT_VERSION or (written is not None and newer_than_this(written)):
        by = f"lstmkit {written}" if written is not None else "a newer lstmkit"
        at_least = f"'lstmkit>={written}'" if written is not None and newer_than_this(written) else "lstmkit"
        raise LstmkitError(f"{meta_path.parent} was written by {by} (run format {version}); this is lstmkit "
                           f"{__version__}, which reads runs of its own version or older (run format {FORMAT_VERSION} "
                           "at most)", f"upgrade lstmkit (pip install -U {at_least}) to use this run")


def _archive_kind(path: Path) -> str | None:
    """"zip" for a zip file holding an ``lstmkit.json`` (not a spreadsheet's), "tar" for a tar file
    (compressed or not, whatever its name), else None."""
    import tarfile
    try:
        return "zip" if _zipped_meta(path) is not None else "tar" if tarfile.is_tarfile(path) else None
    except (OSError, EOFError, ValueError):
        return None


def _zipped_meta(path: Path) -> str | None:
    """The name of the first ``lstmkit.json`` in the zip file ``path`` (its files are named in the
    zip's directory: nothing is unpacked), None for no zip file or none in it."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as z:
            return min((n for n in z.namelist() if n == META_FILE or n.endswith("/" + META_FILE)), default=None)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return None


def _an_archive(path: Path) -> LstmkitError:
    """The error for a run folder packed in the archive ``path``: how to unpack it, and the folder
    inside to pass (a zip's: a tar is not read to the end to find it)."""
    import shlex
    kind, meta = _archive_kind(path), _zipped_meta(path)
    inside = f"/{meta[:-len(META_FILE)].rstrip('/')}" if meta and meta != META_FILE else ""
    quoted = shlex.quote(str(path))
    unpack = f"unzip {quoted} -d DIR" if kind == "zip" else f"mkdir DIR && tar -xf {quoted} -C DIR"
    return LstmkitError(f"{path} is a {kind} archive, not a run folder: lstmkit reads a run folder unpacked",
                        f"unpack it ({worded(unpack, f'shutil.unpack_archive({str(path)!r}, DIR)')}), then pass "
                        f"DIR{inside}, the folder that holds {META_FILE}")


def known_task(name: str) -> bool:
    """Whether this lstmkit has the task ``name``: a room ``lstmkit/tasks/<name>/`` (looked up on
    disk; nothing is imported)."""
    return bool(re.fullmatch(r"[a-z][a-z0-9_]*", name)) and (Path(__file__).parent / "tasks" / name).is_dir()


def _runs_inside(folder: Path, limit: int = 10_000) -> list[Path]:
    """The run folders directly inside ``folder`` (the ``--out`` folder given where a run was
    meant), the newest last by name (``<task>-<timestamp>``); at most ``limit`` entries looked at."""
    try:
        entries = [p for _, p in zip(range(limit), folder.iterdir())]
    except OSError:
        return []
    return sorted(p for p in entries if (p / META_FILE).is_file())


# a task's estimator, for the Python words of a resume (a classifier's by its run's "kind")
_ESTIMATORS = {"forecast": "Forecaster", "lm": "LanguageModel", "translate": "Translator", "speech": "SpeechRecognizer",
               "classify": "TextClassifier", "classify/series": "SequenceClassifier"}


def _other_tasks_estimator(meta: dict[str, Any]) -> str:
    """A Python caller's fix for another task's run: its task's estimator (it was told the command to type)."""
    name = _ESTIMATORS.get(f"{meta['task']}/{meta.get('kind')}", _ESTIMATORS.get(meta["task"]))
    anyone = "lstmkit.load(run) opens a run of any task"
    return f"use {name} with it ({name}.load(run), {name}.resume(run)); {anyone}" if name else anyone


def resume_call(run: str | Path, task: str, kind: str | None = None) -> str:
    """How to continue the unfinished run ``run`` of ``task`` in the caller's words (:func:`worded`):
    ``lstmkit forecast train --resume RUN`` on the command line, ``Forecaster.resume('RUN')`` in Python
    (``kind``: a classifier run's, "text" or "series"). From Python the hints named the command's flag."""
    name = _ESTIMATORS.get(f"{task}/{kind}", _ESTIMATORS.get(task))
    python = f"{name}.resume({str(run)!r})" if name else f"the estimator's resume({str(run)!r})"
    return worded(f"lstmkit {task} train --resume {run}", python)


def read_run(run: str | Path, task: str | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Metadata and weights of a finished run (nothing is unpickled)."""
    meta = finished_meta(run, task)
    return meta, read_weights(run, meta)


def finished_meta(run: str | Path, task: str | None = None) -> dict[str, Any]:
    """The metadata of a finished run (:func:`read_meta`), its state files (a vocabulary) checked against
    the SHA-256 it recorded; an unfinished run is refused, naming its resume."""
    meta = read_meta(run, task)
    status = meta.get("status")
    if status not in STATUSES:       # 'unfinished' sent a damaged file to --resume
        raise LstmkitError(f"{Path(run) / META_FILE}: \"status\" is {status!r}, not {', '.join(STATUSES[:-1])} or "
                           f"{STATUSES[-1]} (the file was edited or damaged)",
                           "restore the run folder or retrain the model")
    if status != "finished":         # failed, interrupted, or left 'training' by a process that is gone
        raise not_finished(run, meta, resume_call(run, meta['task'], meta.get('kind')))
    for name in HASHED_FILES[1:]:                 # the state files the task reads beside the weights (a vocabulary)
        verify_weights(run, meta, name)
    return meta


def read_weights(run: str | Path, meta: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The weights of the finished run ``run`` (``meta``: :func:`finished_meta`), checked against the
    SHA-256 it recorded, and finite."""
    path = Path(run) / WEIGHTS_FILE
    data = read_weight_bytes(path)                # read once: the bytes hashed are the bytes loaded
    verify_weights(run, meta, data=data)
    weights = load_tensors(path, data)
    _check_finite(weights, path)
    return weights
