"""Files written whole or not at all, and JSON that is standard.

    atomic_write(path, write)   ``write(tmp)`` into a temporary file beside ``path``, then rename
                                (a stream's path, ``/dev/stdout``, a pipe: the bytes written into it)
    is_stream(path)             ``path`` names a stream, not a file: ``/dev/stdout``, ``/dev/fd/N``, a pipe, a device
    replace_file(tmp, path)     the rename: on Windows, retried while another program briefly holds ``path``
    to_json(obj) / json_safe    standard JSON: numpy/torch values plain (a float32's by its shortest text),
                                non-finite numbers null
    shortest_floats(a)          the float64s a float32 (float16) array's shortest texts read back as
    path_exists(path)           ``exists()``, False for a name longer than the file system allows
    file_in_the_way(path)       the file that keeps a folder from being made at ``path``
    check_name_length(path)     an error naming a part of ``path`` longer than the file system allows
    check_out_path(path, flag)  that, and an error for a '~' the shell did not expand (a folder named '~')
    check_writable(path, ...)   an error, before any work, when no file can be made where ``path`` would be
    write_fix(e, folder)        how to get past a failed write: free space, permissions, another file system, or the file size limit
    remove_left_temps(folder)   the temporary files of atomic writes a killed process left (kill -9, the OOM killer)
    read_json(path, fix)        a JSON file lstmkit wrote (a run's), refused in one line when it cannot be one: larger
                                than :data:`JSON_LIMIT`, not JSON, or nested past what the parser takes

A crash, Ctrl-C or a full disk never leaves half a file: the temporary file is removed and the
target is either the old file or the new one, with the mode a plain ``open()`` would give it.
:mod:`lstmkit.runs` builds the run folder on these.
"""
from __future__ import annotations

import contextlib
import datetime
import errno
import json
import math
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from lstmkit.errors import EnvironmentProblem, LstmkitError, opt, os_reason, worded

__all__ = ["atomic_write", "is_stream", "replace_file", "rename_when_let_go", "temp_prefix", "new_file_mode",
           "give_new_file_mode", "to_json", "json_safe", "shortest_floats", "path_exists", "file_in_the_way",
           "check_name_length",
           "check_out_path", "check_writable", "new_folder_mode", "write_fix", "remove_left_temps", "read_json",
           "JSON_LIMIT", "now_stamp"]

_WINDOWS = os.name == "nt"

# The largest JSON file lstmkit reads as one of its own (lstmkit.json, vocab.json, metrics.json, ...). A run's
# largest are tens of MB (a forecaster of 100,000 series' scalers, a BPE vocabulary); a stranger's 2 GB file
# (a zip of a few MB unpacks to it) was read whole and parsed, 4.4 GB of memory, before "not valid JSON".
JSON_LIMIT = 256 * 2**20


def path_exists(path: str | Path) -> bool:
    """``Path(path).exists()``, and False for a name no file can have (longer than the file system
    allows): a text passed where a file's path was expected is a missing file, not an OSError."""
    try:
        return Path(path).exists()
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            return False
        raise


def file_in_the_way(path: str | Path) -> Path | None:
    """The file at ``path`` or at one of its parents, which keeps a folder from being made there
    (None: every existing part is a folder)."""
    path = Path(path)
    return next((p for p in (path, *path.parents) if path_exists(p) and not p.is_dir()), None)


def check_name_length(path: str | Path, what: str | None = None) -> None:
    """One :class:`LstmkitError` when a part of ``path`` (a folder's or the file's name) is longer
    than the file system allows (``NAME_MAX``, 255 bytes on most: 128 letters such as é, 85 such as
    中), or the whole path longer than ``PATH_MAX``: the OSError that followed was a traceback.
    ``what`` names the option the path came from (``"--out"``), if one did."""
    path = Path(path)
    name_max, path_max = _name_limits(path)
    where, fix = (f"{what}: ", f" for {what}") if what else ("", "")
    unit = "characters" if _WINDOWS else "bytes"
    long = next((part for part in path.parts if _name_size(part) > name_max), None)
    if long is not None:
        shown = long if len(long) <= 40 else f"{long[:20]}…{long[-12:]}"
        raise LstmkitError(f"{where}the name {shown!r} is {_name_size(long)} {unit} long; a file or folder "
                           f"name may have at most {name_max} {unit} here", f"pass a shorter name{fix}")
    size = _name_size(str(path.absolute()))
    if size >= path_max:
        raise LstmkitError(f"{where}the path is {size} {unit} long; the file system takes at most {path_max - 1}",
                           f"pass a shorter path{fix}")


def _name_size(name: str) -> int:
    """``name``'s length as the file system counts it: bytes on POSIX (255 of them: 85 such as 中),
    UTF-16 units on Windows (NTFS takes 255 中; counted in bytes, 86 were refused there)."""
    if _WINDOWS:
        return len(name.encode("utf-16-le", "surrogatepass")) // 2
    return len(os.fsencode(name))


def _name_limits(path: Path) -> tuple[int, int]:
    """``(NAME_MAX, PATH_MAX)`` of the file system ``path`` is (or would be made) on."""
    folder = next((p for p in path.absolute().parents if path_exists(p)), Path("/"))
    try:
        return os.pathconf(folder, "PC_NAME_MAX"), os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):          # no such query (Windows): the usual limits
        return 255, 4096


def temp_prefix(path: str | Path) -> str:
    """``.NAME.``, the prefix of the temporary file or folder made beside ``path`` to be renamed onto
    it (``tempfile.mkstemp(prefix=..., suffix=".tmp")``: 8 random characters and the suffix follow),
    NAME cut short (at a character) so that the temporary name fits the file system's limit too: a
    name of 242 to 255 bytes passed :func:`check_name_length`, and its write failed after the work,
    'could not write … (file name too long) — free space or fix permissions'."""
    name = Path(path).name
    room = _name_limits(Path(path))[0] - len("..") - 8 - len(".tmp")
    while _name_size(name) > room:
        name = name[:-1]
    return f".{name}."


def check_out_path(path: str | Path, what: str | None = None) -> None:
    """:func:`check_name_length`, and one :class:`LstmkitError` for an output path that starts with a
    ``~`` the shell left as it is (quoted, or after ``=``) where no such folder exists: a folder
    named ``~`` was made in the working folder and 'wrote … to ~/x.csv' read as the home folder.
    ``what``: the option the path came from (default ``--out``, ``out=`` to a Python caller)."""
    what = what or opt("out")
    check_name_length(path, what)
    first = Path(path).parts[0] if Path(path).parts else ""
    if first.startswith("~") and os.path.expanduser(first) != first and not Path(first).is_dir():
        raise LstmkitError(f"{what} {path} would make a folder named {first!r} here: " +
                           worded("the shell expands '~' only outside quotes and not after '='",
                                  "lstmkit reads '~' as a folder's name, as pathlib does"),
                           f"pass {os.path.expanduser(str(path))}" + worded("", " (os.path.expanduser)"))
    if _WINDOWS:
        _check_windows_names(Path(path), what)


_WINDOWS_REFUSES = re.compile(r'[<>:"|?*\x00-\x1f]')       # in a file or folder name
# Microsoft's 'Naming Files, Paths, and Namespaces' lists COM0-COM9 and LPT0-LPT9, and the same with the
# Latin-1 superscripts ¹ ² ³ (read as digits); CONIN$ and CONOUT$ are the console's (os.path.isreserved, 3.13)
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                    *(f"{port}{k}" for port in ("COM", "LPT") for k in "0123456789\u00b9\u00b2\u00b3")}


def _check_windows_names(path: Path, what: str) -> None:
    """One :class:`LstmkitError` for a part of the output ``path`` that Windows takes as no file's
    name: a character it refuses (a time's ``:`` in ``--out runs/10:30``: 'the filename, directory
    name, or volume label syntax is incorrect' after the work, or on NTFS ``a:b`` a hidden stream
    of the file ``a``), a name ending in a dot or a space (dropped), or a device's (``NUL.csv``)."""
    for part in path.parts:
        if part in (path.anchor, ".", ".."):
            continue
        bad = _WINDOWS_REFUSES.search(part)
        if bad is not None:
            raise LstmkitError(f"{what} {path}: the name {part!r} holds {bad.group()!r}, which Windows takes in no "
                               "file or folder name", f"pass another name, e.g. {_WINDOWS_REFUSES.sub('-', part)}")
        if part[-1] in ". ":
            raise LstmkitError(f"{what} {path}: the name {part!r} ends in {'a dot' if part[-1] == '.' else 'a space'}, "
                               "which Windows drops from a file or folder name",
                               f"pass {part.rstrip('. ')} or another name")
        if part.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
            raise LstmkitError(f"{what} {path}: {part.split('.')[0]!r} is a device's name on Windows, not a file's",
                               "pass another name")


def check_writable(path: str | Path, what: str, fix: str | None = None) -> None:
    """One :class:`EnvironmentProblem` when no file can be made in the folder ``path`` or, where it
    does not exist yet, in the nearest folder above it (where it would be made): a read-only file
    system or a folder without write permission, said before the work whose output it would hold
    (``what``, e.g. "the backtest") rather than after it, with ``fix``. A temporary file is made and
    removed to find out: permission bits say nothing to root, nor of a read-only mount. ``fix``
    defaults to a writable ``--out`` folder (``out=`` to a Python caller)."""
    path = Path(path)
    here = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if here is None:
        return
    try:
        fd, probe = tempfile.mkstemp(prefix=".lstmkit-", suffix=".tmp", dir=here)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        where = "" if here == path else f" (in {Path.cwd() if here == Path('.') else here})"
        raise EnvironmentProblem(f"cannot write {what} to {path}{where}: {os_reason(e)}; nothing was written",
                                 fix or f"pass a writable {opt('out')} folder and "
                                 + worded("run the command again", "call again"), reason=os_reason(e)) from None


def write_fix(e: BaseException, folder: str | Path) -> str:
    """The start of the fix for a write into ``folder`` that failed with ``e``: free space or fix
    permissions; for a read-only file system (EROFS) another folder; for a file too large (EFBIG, or an :class:`EnvironmentProblem` for one) what limits it, which no free space helps: the file
    size limit the process runs under (``ulimit -f``), or else the file system's own."""
    if getattr(e, "errno", None) == errno.EROFS or os_reason(e) == os.strerror(errno.EROFS).lower():
        # a read-only mount (a container's image, a shared models folder): no space freed nor chmod helps
        shown = Path.cwd() if Path(folder) == Path(".") else folder
        return f"write to a folder on a writable file system ({shown} is on a read-only one)"
    if getattr(e, "errno", None) != errno.EFBIG and os_reason(e) != os.strerror(errno.EFBIG).lower():   # an
        return f"free space or fix permissions on {folder}"      # EnvironmentProblem keeps the OS's reason only
    try:
        import resource
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        limited = limit != resource.RLIM_INFINITY
    except (ImportError, OSError, ValueError):              # Windows: no such limit
        limited = False
    if limited:
        return (f"raise the file size limit this command runs under ({limit} bytes; `ulimit -f` in the shell, "
                "the job's file size limit in a scheduler)")
    return f"write {folder} on another file system: this one takes no file this large"


# what atomic_write (and the checkpoint's own write) names its temporary file: ".NAME." + mkstemp's 8 random characters + ".tmp"
_TEMP_NAME = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")


def remove_left_temps(folder: str | Path) -> None:
    """Remove, anywhere under ``folder``, the temporary files atomic writes leave when their process
    is killed at once (``kill -9``, the OOM killer, a scheduler's hard stop): no Python code runs to
    remove them, and a checkpoint's is as large as the checkpoint. For a folder this process holds
    (a run it resumes, under its training lock): no other process is writing into it."""
    for path in Path(folder).rglob(".*.tmp"):
        if _TEMP_NAME.fullmatch(path.name) and path.is_file():
            with contextlib.suppress(OSError):
                path.unlink()


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:          # Linux: read it without changing it
            return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0o022)
        os.umask(umask)
        return umask


def new_file_mode() -> int:
    """The mode a new file gets from ``open()`` under the current umask (``0o666 & ~umask``);
    ``tempfile.mkstemp`` makes 0600 files, which atomic writes then set to this."""
    return 0o666 & ~_umask()


_HELD_OPEN = (5, 32)          # Windows' ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION: a file another program has open
_REPLACE_WAITS = (0.05, 0.1, 0.2, 0.4)      # seconds between tries: a virus scanner's or indexer's look is brief


def replace_file(tmp: str | Path, path: str | Path) -> None:
    """``os.replace(tmp, path)``. On Windows a file another program has open cannot be replaced: a
    virus scanner or the search indexer opens a file just written for a moment, so the rename is tried
    again for up to ~1 s before it fails (POSIX replaces an open file at once)."""
    rename_when_let_go(os.replace, tmp, path)


def rename_when_let_go(rename: Callable[[str | Path, str | Path], None], tmp: str | Path, path: str | Path) -> None:
    """``rename(tmp, path)`` (``os.replace``, or ``os.rename`` for a folder made whole beside its place),
    tried again on Windows for up to ~1 s while another program holds ``tmp`` or a file in it open."""
    for wait in (*_REPLACE_WAITS, None) if _WINDOWS else (None,):
        try:
            rename(tmp, path)
            return
        except PermissionError:
            if wait is None:
                raise
            time.sleep(wait)


def _held_open_fix(e: BaseException, path: str | Path) -> str | None:
    """The fix for a write that failed because another program has ``path`` open (Windows refuses
    to replace such a file: a spreadsheet keeps the file it shows open), else None."""
    if isinstance(e, PermissionError) and getattr(e, "winerror", None) in _HELD_OPEN and Path(path).is_file():
        return (f"close {path} in the program that has it open (on Windows a file open elsewhere, say in a "
                "spreadsheet, cannot be replaced)")
    return None


def give_new_file_mode(fd: int, path: str | Path) -> None:
    """Give the temporary file ``path``, open as ``fd``, :func:`new_file_mode`. By its descriptor where
    the system can (``os.fchmod``), by its name elsewhere: Windows has no ``fchmod`` before Python 3.13
    (every atomic write there raised AttributeError), and its ``chmod`` sets the read-only flag alone."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, new_file_mode())
    else:
        os.chmod(path, new_file_mode())


def new_folder_mode() -> int:
    """The mode a new folder gets from ``mkdir`` under the current umask (``0o777 & ~umask``);
    ``tempfile.mkdtemp`` makes 0700 folders, which a folder renamed into place is then set to."""
    return 0o777 & ~_umask()


def is_stream(path: str | Path) -> bool:
    """Whether the output ``path`` names a stream rather than a file to replace: an existing pipe,
    socket or device (``/dev/null``, a named pipe), or a link to a process's open stream however it
    resolves (``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/1``: a regular file when the shell
    redirected it to one). A file in ``/dev/shm`` is a file."""
    if _WINDOWS:
        return False
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    if not stat.S_ISREG(info.st_mode):
        return not stat.S_ISDIR(info.st_mode)
    hop = os.path.abspath(path)
    for _ in range(40):                   # the links from the path on, as the kernel follows them
        parts = Path(hop).parts
        if parts[1:2] == ("proc",) or parts[1:3] in (("dev", "fd"), ("dev", "stdout"), ("dev", "stderr")):
            return True
        if not os.path.islink(hop):
            return False
        hop = os.path.normpath(os.path.join(os.path.dirname(hop), os.readlink(hop)))
    return False


def _write_stream(path: Path, write) -> None:
    """``write(tmp)`` into a temporary file, then its bytes appended to the stream ``path`` (opened
    to append: a standard output redirected with ``>>`` keeps what it held, one redirected with
    ``>`` was emptied by the shell). Renaming a file onto ``/dev/stdout`` replaced the link itself
    (as root, a CI container's usual user: every later ``/dev/stdout`` of the machine was that file),
    and wrote nothing on the pipe."""
    import shutil
    import sys
    fd, tmp = tempfile.mkstemp(prefix="lstmkit-", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        for stream in (sys.stdout, sys.stderr):       # what was printed before comes before the bytes
            with contextlib.suppress(Exception):
                stream.flush()
        with open(tmp, "rb") as src, open(path, "ab") as dst:
            shutil.copyfileobj(src, dst)
    except OSError as e:
        if isinstance(e, BrokenPipeError):
            raise
        raise EnvironmentProblem(f"could not write {path} ({os_reason(e)})",
                                 f"{write_fix(e, Path(tmp).parent)}, then run the command again",
                                 reason=os_reason(e)) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def atomic_write(path: str | Path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path`` (same folder, so the rename is atomic).
    The file gets the mode a plain ``open()`` would give it (the umask decides). A ``path`` that
    :func:`is_stream` (``--out /dev/stdout``) gets the bytes written into it instead."""
    path = Path(path)
    tmp = None
    if is_stream(path):
        _write_stream(path, write)
        return
    check_name_length(path)
    if path.is_dir():
        raise LstmkitError(f"cannot write {path}: it is a folder", f"name a file inside it, e.g. {path / 'out.csv'}"
                           if not path.suffix else f"name a file that is not a folder, or move {path} aside")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = file_in_the_way(path.parent) or path.parent
        raise LstmkitError(f"cannot write {path}: {blocker} is a file, not a folder",
                           "pass a path inside a folder (missing folders are created)") from None
    except OSError:
        pass                      # named below, with what failed and what is intact
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
        try:
            give_new_file_mode(fd, tmp)
        finally:
            os.close(fd)
        write(tmp)
        replace_file(tmp, path)
    except BaseException as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and not isinstance(e, (FileExistsError, NotADirectoryError, IsADirectoryError)):
            kept = f"{path} is unchanged" if path.exists() else f"{path} was not created"
            raise EnvironmentProblem(f"could not write {path} ({os_reason(e)}); {kept}",
                                     f"{_held_open_fix(e, path) or write_fix(e, path.parent)}, then run the command "
                                     "again",
                                     reason=os_reason(e)) from None
        raise


def read_json(path: str | Path, fix: str) -> Any:
    """The JSON value in the file ``path``, one of lstmkit's own (a run folder's ``lstmkit.json``,
    ``vocab.json``, ``metrics.json``). A file larger than :data:`JSON_LIMIT` is refused before it is
    read, one that is not UTF-8 JSON or is nested deeper than the parser goes (``[[[[...`` 200,000
    deep: a RecursionError traceback) is "corrupt"; each an :class:`LstmkitError` with ``fix``. An
    OSError (a missing or unreadable file) is the caller's to word."""
    path = Path(path)
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):          # a pipe would wait for a writer, a device never end
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, a pipe or a socket"
        raise LstmkitError(f"{path} is {kind}, not a file", fix)
    size = info.st_size
    if size > JSON_LIMIT:
        raise LstmkitError(f"{path} is {size / 2**20:,.0f} MiB, larger than any JSON file lstmkit writes "
                           f"({JSON_LIMIT // 2**20} MiB at most): it was not written by lstmkit, or was edited", fix)
    try:
        with open(path, "rb") as f:
            data = f.read(size + 1)             # a buffer of the file's size, not of the limit (256 MiB a read)
            if len(data) > size:                # grown since its size was read: the rest, up to the limit
                data += f.read(JSON_LIMIT + 1 - len(data))
        if len(data) > JSON_LIMIT:
            raise LstmkitError(f"{path} is larger than any JSON file lstmkit writes ({JSON_LIMIT // 2**20} MiB at "
                               "most): it was not written by lstmkit, or was edited", fix)
        return json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LstmkitError(f"{path} is corrupt (not valid JSON)", fix) from None
    except RecursionError:
        raise LstmkitError(f"{path} is corrupt (JSON nested deeper than any file lstmkit writes)",
                           fix) from None


def to_json(obj: Any, **kwargs) -> str:
    """``obj`` as standard JSON text: numpy / torch values and paths made plain, and a number
    that is not finite (NaN, +-inf: "no value") written as ``null`` - never a NaN token."""
    return json.dumps(json_safe(obj), allow_nan=False, **kwargs)


def now_stamp() -> str:
    """The time now on this machine's clock, as a run's files record it: ``2026-12-06T09:42:57+01:00``,
    ISO 8601 / RFC 3339 with the offset's colon (``time.strftime``'s ``%z``, ``+0100``, put the basic
    form's offset in an extended-form stamp, outside the form JavaScript's ``Date.parse`` is specified
    to read; ``datetime.fromisoformat`` before Python 3.11 refuses it)."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def json_safe(obj: Any) -> Any:
    """``obj`` with plain Python values only and non-finite floats replaced by None. A float32 (or float16)
    value, a numpy or torch scalar or array or a pandas Series, is written by its own shortest text (``0.1``;
    widened to a float64 first it read ``0.10000000149011612``), as a table's float32 column is
    (:func:`shortest_floats`): read back and narrowed again, it is the same float32; float64 values are
    written as they are."""
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):                    # np.float64 is one
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "tolist"):                    # numpy / torch arrays and scalars, pandas Series and Index
        obj = _pandas_floats(obj)
        narrow = _narrow_floats(obj)
        if narrow is None:
            return json_safe(obj.tolist())
        return json_safe(float(str(narrow[()])) if narrow.ndim == 0 else shortest_floats(narrow).tolist())
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "isoformat"):                 # datetime, date, pandas Timestamp
        return obj.isoformat()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _pandas_floats(obj: Any) -> Any:
    """A pandas Series or Index of floats as its numpy array (NA, of a nullable ``Float32``, as NaN), which
    :func:`_narrow_floats` then tells: its ``tolist`` widened a float32 column (``0.10000000149011612``)
    and left NA, which no JSON writes; anything else as it is."""
    module = type(obj).__module__
    dtype = getattr(obj, "dtype", None)
    if not (module == "pandas" or module.startswith("pandas.")) or getattr(dtype, "kind", None) != "f":
        return obj
    import numpy as np
    return obj.to_numpy(dtype=getattr(dtype, "numpy_dtype", dtype), na_value=np.nan)


def _narrow_floats(obj: Any) -> Any:
    """``obj`` as numpy holds it when it is a numpy or torch float32 or float16 scalar or array (None for
    anything else: float64, integers, bfloat16, which numpy has no type for)."""
    module = type(obj).__module__
    if module == "numpy" or module.startswith("numpy."):
        dtype = getattr(obj, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
            return obj
    elif module.startswith("torch") and str(getattr(obj, "dtype", "")) in ("torch.float32", "torch.float16"):
        return obj.detach().cpu().numpy()
    return None


def shortest_floats(narrow: Any) -> Any:
    """The float64s that a float32 (or float16) array's shortest texts read back as, in its shape:
    ``float(str(v))`` of each value (``0.1``, not ``0.10000000149011612``), the same float64 bit for bit.
    A float32 array is written and read by pyarrow's casts, its shortest text of a float32 and its correctly
    rounded reading, at five times the speed of numpy's text a value (pyarrow writes a float16 widened, so
    it keeps numpy's; a few values, a scalar, are quicker by numpy's). Not finite values stay as they are."""
    import numpy as np
    flat = narrow.ravel()
    if flat.dtype != np.float32 or len(flat) < 16:
        wide = np.array([float(str(v)) for v in flat], dtype=np.float64)
    else:
        import pyarrow as pa
        import pyarrow.compute as pc
        text = pc.cast(pa.array(flat), pa.string())
        wide = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    return wide.reshape(narrow.shape)
