"""A data file's content past its compression: ``.gz``, ``.bz2``, ``.xz``, ``.zst`` or a ``.zip`` of one file.

    COMPRESSIONS                 the suffixes read through (``.gz``, ``.bz2``, ``.xz``, ``.zst``, ``.zip``)
    compression(path)            the one of them ``path`` ends with, or ``""``
    data_name(path)              the name whose suffix says the type: a ``.zip``'s member, else ``path``'s less its compression
    open_data(path)              a binary stream of the content (a context manager)
    read_data(path)              the whole content as bytes
    ARCHIVE_ERRORS / archive_error(path, e)   what a damaged archive raises while read, and its LstmkitError

Public data ships compressed: the Monash forecasting archive's ``.tsf`` files as ``.zip`` files,
Kaggle's fastText reviews as ``train.ft.txt.bz2``, corpora as ``.xz``. Every reader reaches a
file's bytes through here, so each of them reads each of these. The suffix before the compression
suffix names the type (``reviews.csv.bz2`` is a CSV); a ``.zip`` file's member's name does. A
``.zip`` of several data files, a damaged archive, or a ``.zip`` Python's zipfile cannot read
(encrypted, a method or version it lacks) is one :class:`LstmkitError` naming the fix.

Zstandard (``.zst``) is read by Python's own ``compression.zstd`` (3.14 on) or the ``zstandard``
package (pandas' choice too), when installed; neither is required: without them a ``.zst`` file is
one error saying to install it or decompress the file. Read frame by frame (:class:`_ZstdFrames`),
so a file cut short is an error as a cut-short ``.gz`` is (``zstandard``'s own stream reader
returns what it had).
"""
from __future__ import annotations

import bz2
import gzip
import io
import sys
import lzma
import zipfile
import zlib
from contextlib import ExitStack, contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from lstmkit.errors import LstmkitError, MissingPackage

__all__ = ["COMPRESSIONS", "compression", "data_name", "open_data", "read_data", "ARCHIVE_ERRORS", "archive_error"]

_STREAMS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zst": lambda path, mode: _zstd_open(path)}
COMPRESSIONS = (*_STREAMS, ".zip")
_KIND = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstandard", ".zip": "zip"}
# a truncated or damaged stream: gzip's BadGzipFile and bz2's "Invalid data stream" are OSErrors
ARCHIVE_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
# a zip that opens but that zipfile will not read: strong encryption, a version or method it lacks, a password
_ZIP_UNREADABLE = (NotImplementedError, RuntimeError)


def compression(path: str | Path) -> str:
    """The compression suffix ``path`` ends with (lower-cased; one of :data:`COMPRESSIONS`), or ``""``."""
    suffix = Path(path).suffix.lower()
    return suffix if suffix in COMPRESSIONS else ""


def data_name(path: str | Path) -> str:
    """The name that gives ``path``'s type: a ``.zip`` file's one data member's name (the name less
    ``.zip`` when the file is not there yet), else the name less any compression suffix."""
    path = Path(path)
    kind = compression(path)
    if kind == ".zip" and path.is_file():
        return PurePosixPath(_zip_member(path)).name
    return path.name[:-len(kind)] if kind else path.name


@contextmanager
def open_data(path: str | Path) -> Iterator[BinaryIO]:
    """A binary stream of ``path``'s content, decompressed; a damaged archive is an
    :class:`LstmkitError` (:func:`archive_error`) when opened or read."""
    path = Path(path)
    kind = compression(path)
    try:
        with ExitStack() as stack:
            opener = _STREAMS.get(kind, open)
            yield _zip_opened(path, stack) if kind == ".zip" else stack.enter_context(opener(path, "rb"))
    except (*ARCHIVE_ERRORS, *_zstd_errors()) as e:
        if not kind or isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise archive_error(path, e) from None


def read_data(path: str | Path) -> bytes:
    """The whole content of ``path``, decompressed (:func:`open_data`)."""
    with open_data(path) as f:
        return f.read()


def archive_error(path: str | Path, e: BaseException) -> LstmkitError:
    """The error for ``path``, a ``.gz`` / ``.bz2`` / ``.xz`` / ``.zst`` / ``.zip`` file that would not decompress."""
    kind = _KIND.get(compression(path), "compressed")
    reason = str(e).strip() or type(e).__name__
    return LstmkitError(f"{path} is not a valid {kind} file, or it is cut short ({reason})",
                        "download it again (it may be incomplete), or decompress it yourself and pass the "
                        "decompressed file")


def _zstd_open(path: Path) -> BinaryIO:
    """A binary stream of the zstandard file ``path``'s content (every frame), through Python's
    ``compression.zstd`` or the ``zstandard`` package; neither: an :class:`LstmkitError` saying what to do."""
    try:
        from compression.zstd import ZstdDecompressor as new_frame        # Python >= 3.14
    except ImportError:
        try:
            import zstandard
        except ImportError:
            raise MissingPackage(f"{path} is zstandard-compressed, and this Python (before 3.14) reads that only "
                                 "through the zstandard package, which is not installed",
                                 f"install the zstandard package (pip install zstandard) or decompress it "
                                 f"(zstd -d {path}) and pass the decompressed file", "zstandard") from None
        new_frame = zstandard.ZstdDecompressor().decompressobj
    return io.BufferedReader(_ZstdFrames(path, new_frame), _CHUNK)


def _zstd_errors() -> tuple[type[BaseException], ...]:
    """What a damaged zstandard stream raises, from the decompressor loaded (none loaded: none)."""
    modules = (sys.modules.get("compression.zstd"), sys.modules.get("zstandard"))
    return tuple(m.ZstdError for m in modules if m is not None and hasattr(m, "ZstdError"))


_CHUNK = 1 << 16        # compressed bytes read at a time


class _ZstdFrames(io.RawIOBase):
    """The content of a zstandard file, one frame after another (``zstd`` writes several when
    files are joined or compressed in parallel); input that ends inside a frame is an EOFError, as gzip's."""

    def __init__(self, path: Path, new_frame) -> None:
        super().__init__()
        self._file = open(path, "rb")
        self._new_frame = new_frame
        self._frame, self._in_frame = new_frame(), False       # a frame begun and not yet ended
        self._out, self._at = b"", 0                           # decompressed bytes not yet read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._at == len(self._out):
            chunk = self._file.read(_CHUNK)
            if not chunk:
                if self._in_frame:
                    raise EOFError("compressed file ended before the end-of-frame marker was reached")
                return 0
            out = []
            while chunk:
                out.append(self._frame.decompress(chunk))
                self._in_frame, chunk = True, b""
                if self._frame.eof:
                    chunk, self._frame, self._in_frame = self._frame.unused_data, self._new_frame(), False
            self._out, self._at = b"".join(out), 0
        n = min(len(buffer), len(self._out) - self._at)
        buffer[:n] = memoryview(self._out)[self._at:self._at + n]
        self._at += n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def _zip_opened(path: Path, stack: ExitStack) -> BinaryIO:
    """The one data member of the ``.zip`` file ``path``, opened (closed with ``stack``); a zip that
    Python's zipfile cannot read (encrypted, a newer version, an unknown method) is an :class:`LstmkitError`."""
    try:
        z = stack.enter_context(zipfile.ZipFile(path))
        return stack.enter_context(z.open(_zip_member(path, z)))
    except _ZIP_UNREADABLE as e:
        raise _zip_unreadable(path, e) from None


def _zip_unreadable(path: Path, e: BaseException) -> LstmkitError:
    reason = str(e).strip() or type(e).__name__
    return LstmkitError(f"{path} is a zip file that Python's zipfile cannot read ({reason})",
                        "decompress it with another tool (unzip, 7-Zip; with its password if it has one) and pass "
                        "the decompressed file")


def _zip_member(path: Path, z: zipfile.ZipFile | None = None) -> str:
    """The one data file in the ``.zip`` file ``path`` (folders, ``__MACOSX/`` and dot files left out)."""
    if z is None:
        try:
            with zipfile.ZipFile(path) as opened:
                return _zip_member(path, opened)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise archive_error(path, e) from None
        except _ZIP_UNREADABLE as e:
            raise _zip_unreadable(path, e) from None
    names = [n for n in z.namelist() if not n.endswith("/") and not n.startswith("__MACOSX/")
             and not PurePosixPath(n).name.startswith(".")]
    if len(names) == 1:
        return names[0]
    if not names:
        raise LstmkitError(f"{path} holds no data file", "pass the data file itself, or a .zip holding it")
    shown = ", ".join(names[:5]) + (f", … ({len(names)} in all)" if len(names) > 5 else "")
    raise LstmkitError(f"{path} holds {len(names)} data files ({shown}); one .zip is read as one file",
                       "unzip it and pass the one file to read")
