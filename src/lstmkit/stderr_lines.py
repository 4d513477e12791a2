"""What a C library prints on standard error while it works, caught instead of printed.

    with c_stderr_lines() as lines: ...      the lines C code printed to ``stderr`` in the block (filled at its end)
    with c_stderr_lines(descriptor=True) ...  the lines anything wrote on file descriptor 2 (C++'s ``std::cerr``)

libmpg123 (libsndfile's MP3 decoder) prints notes on damaged frames with ``fprintf(stderr, ...)``, and
libsndfile gives no way to make it quiet. Catching them by pointing file descriptor 2 at a file took
the whole process's standard error for the time: in the service, another thread's log line written
meanwhile was lost, and counted as the decoder's. Where the C library's ``stderr`` stream is a
variable that can be set (glibc, macOS), that stream alone is pointed at the file: Python's own
standard error (``sys.stderr``, logging, warnings), which writes to the descriptor, goes on as it was.
Elsewhere (musl's ``stderr`` is a constant, Windows) descriptor 2 is redirected as before.

C++'s ``std::cerr`` (torch's C++ warnings: the ONNX exporter's) writes to the stream it was given at
start-up, not to the variable: ``descriptor=True`` catches file descriptor 2 as a whole, what Python
and other threads write there in the block too (the caller prints again the lines it does not know).
"""
from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["c_stderr_lines"]

_ONE_AT_A_TIME = threading.Lock()       # the stream (or descriptor) is the process's: one catch at a time
_stdio: Any = None                      # (libc, its stderr variable), False where not reachable; found once


def _c_stderr() -> Any:
    """``(libc, stderr)``: the C library and its ``stderr`` stream variable (a ``c_void_p`` in it),
    or None where it is not a settable variable."""
    global _stdio
    if _stdio is None:
        _stdio = False
        glibc = sys.platform.startswith("linux") and _libc_name() == "glibc"
        name = "stderr" if glibc else "__stderrp" if sys.platform == "darwin" else None
        if name is not None:
            try:
                libc = ctypes.CDLL(None)
                var = ctypes.c_void_p.in_dll(libc, name)
                libc.fdopen.restype, libc.fdopen.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_char_p]
                libc.fflush.argtypes = libc.fclose.argtypes = [ctypes.c_void_p]
                _stdio = (libc, var)
            except (OSError, ValueError, AttributeError):
                pass
    return _stdio or None


def _libc_name() -> str:
    """'glibc' under the GNU C library (whose ``stderr`` is a variable; musl's is a constant)."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").split(" ")[0]
    except (ValueError, OSError, AttributeError):
        return ""


@contextmanager
def c_stderr_lines(descriptor: bool = False) -> Iterator[list[str]]:
    """The non-blank lines C code prints to ``stderr`` inside the block (``descriptor``: anything
    writes on file descriptor 2), in the list yielded (filled when the block ends), none of them printed."""
    lines: list[str] = []
    with _ONE_AT_A_TIME, tempfile.TemporaryFile() as caught:
        try:
            with _stream_to(caught) if _c_stderr() and not descriptor else _descriptor_to(caught):
                yield lines
        finally:
            caught.seek(0)
            lines += [line for line in caught.read().decode(errors="replace").splitlines() if line.strip()]


@contextmanager
def _stream_to(caught) -> Iterator[None]:
    """The C library's ``stderr`` stream pointed at ``caught`` for the block."""
    libc, var = _c_stderr()
    fd = os.dup(caught.fileno())
    stream = libc.fdopen(fd, b"w")
    if not stream:
        os.close(fd)
        with _descriptor_to(caught):
            yield
        return
    was = var.value
    libc.fflush(was)                    # what it held goes out where it was meant to
    var.value = stream
    try:
        yield
    finally:
        var.value = was
        libc.fclose(stream)             # written out to ``caught``, its descriptor closed


@contextmanager
def _descriptor_to(caught) -> Iterator[None]:
    """File descriptor 2 pointed at ``caught`` for the block (nothing done when it is closed)."""
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):       # no standard error to keep clean (closed)
        saved = None
    if saved is not None:
        os.dup2(caught.fileno(), 2)
    try:
        yield
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
