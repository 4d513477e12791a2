"""Decoding text files with errors that name the line and the fix."""
from __future__ import annotations

from pathlib import Path

from lstmkit.errors import LstmkitError

__all__ = ["decode_text"]


def decode_text(raw: bytes, path: str | Path, encoding: str = "utf-8") -> str:
    """``raw`` decoded with ``encoding`` (a UTF-8 byte-order mark is dropped).

    An unknown encoding or a byte the encoding cannot read is an :class:`LstmkitError` naming
    the file's line and the ``--encoding`` fix.
    """
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    try:
        return raw.decode("utf-8-sig" if utf8 else encoding)
    except LookupError:
        raise LstmkitError(f"unknown encoding {encoding!r}", "pass --encoding utf-8, latin-1, cp1252, …") from None
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise LstmkitError(f"{path} line {line} is not valid {encoding} (byte 0x{raw[e.start]:02x})",
                           "pass --encoding with the file's real encoding (e.g. --encoding latin-1) "
                           "or convert it to UTF-8") from None
