"""A file's bytes as text, with errors that name the line and the fix.

    bom_encoding(head)                 the encoding a byte-order mark names (UTF-8, UTF-16, UTF-32)
    check_text(head, path)             a binary file (Parquet, a workbook, zip, gzip, bzip2, xz, zstandard) named as such
    decode_text(raw, path, encoding)   bytes -> str; a bad byte names its line and --encoding
    check_not_cut(raw, path)           UTF-8 that ends inside a character refused: a file cut short
    check_readable(path, fix)          a folder, a device or a socket refused; a file or a pipe passes
    read_text_file(path, encoding)     a whole file, decompressed (``.gz``, ``.bz2``, ``.xz``, ``.zst``, a ``.zip``
                                       of one file)
    read_stdin_text(encoding)          standard input, decoded as a file is
    text_lines(text)                   its lines as an editor counts them (a line feed, CR LF or a lone CR ends one)
    mac_line_ends(text)                an old Mac file's lone CR line ends (Excel's "CSV (Macintosh)") as line feeds
    file_ext(path)                     the type a name gives, past a compression suffix (a ``.zip``'s member's)
    whole_characters(texts, what)      texts with a lone UTF-16 surrogate (JSON's cut emoji) as U+FFFD, said once

What a spreadsheet writes just works: a byte-order mark names the encoding (Excel's "Unicode
text" is UTF-16), and a file that is not UTF-8 but reads as Windows-1252 is pointed at
``--encoding cp1252``. (:mod:`lstmkit.data.textfile` re-exports these names.)
"""
from __future__ import annotations

import codecs
import re
import warnings
from pathlib import Path

from lstmkit.data.compressed import data_name, read_data
from lstmkit.errors import LstmkitError, callers_level, missing_path_fix, opt
from lstmkit.data.vocab import holds_surrogate, whole_text
from lstmkit.runs import path_exists

__all__ = ["bom_encoding", "check_text", "check_not_cut", "magic_suffix", "decode_text", "check_readable", "folder_text_files", "read_text_file", "read_stdin_text",
           "text_lines", "mac_line_ends", "file_ext", "whole_characters"]

# UTF-32's little-endian mark begins with UTF-16's: look for the longer ones first
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``head`` names (``"utf-16"``, ``"utf-32"``,
    ``"utf-8-sig"``), or None when there is none."""
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


# the first bytes of the binary files a table is most often saved as under a text file's name:
# what the file is, how to have it read, and the suffix that reads it (magic_suffix: a pipe's copy,
# which has no name to go by); PAR1 only with binary bytes after it ('PAR1,PAR2' is a header)
_MAGIC = ((re.compile(rb"PAR1"), "a Parquet file", "rename it {stem}.parquet", ".parquet"),
          (re.compile(rb"ARROW1\x00"), "a Feather (Arrow) file", "rename it {stem}.feather", ".feather"),
          (re.compile(rb"PK\x03\x04"), "a zip archive (as an .xlsx workbook is)",
           "rename it {stem}.xlsx if it is a workbook, else unzip it", ".zip"),
          (re.compile(rb"\x1f\x8b"), "gzip-compressed", "rename it {name}.gz", ".gz"),
          (re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)"), "bzip2-compressed", "rename it {name}.bz2", ".bz2"),
          (re.compile(rb"\xfd7zXZ\x00"), "xz-compressed", "rename it {name}.xz", ".xz"),
          (re.compile(rb"\x28\xb5\x2f\xfd"), "zstandard-compressed", "rename it {name}.zst", ".zst"),
          (re.compile(rb"\xd0\xcf\x11\xe0"), "an Excel 97-2003 workbook (.xls)",
           "save it as .xlsx (Excel Workbook) or as CSV UTF-8", None))
# the first member of an Office Open XML workbook or an OpenDocument spreadsheet (a .zip inside)
_WORKBOOK_PARTS = ("[Content_Types].xml", "_rels/", "docProps/", "xl/", "mimetype", "META-INF/")


def check_text(head: bytes, path: str | Path, fix: str = "") -> None:
    """An :class:`LstmkitError` when ``head`` (a file's first bytes) holds NUL bytes and no
    byte-order mark: a binary file (a spreadsheet, archive or model named .csv), not text; a
    Parquet file, a workbook, a .zip of a data file or a gzip, bzip2, xz or zstandard file is named,
    with the name that reads it (bzip2 and xz were 'it holds NUL bytes', with no word of what)."""
    found = next(((what, how) for magic, what, how, _ in _MAGIC if magic.match(head)), None)
    if found is not None and _binary(head):
        name = Path(path).name
        member = _zip_member_name(head)
        if member is not None and not member.startswith(_WORKBOOK_PARTS):
            found = (f"a zip archive (of {member})", "rename it {name}.zip (a .zip of one data file is read as it is)")
        how = found[1].format(stem=name.split(".")[0], name=name)
        if how.startswith(f"rename it {name}") and not how.startswith(f"rename it {name}."):   # named so already
            raise LstmkitError(f"{path} is {found[0]}, where a text file is read",    # was 'rename it t.parquet'
                               "pass a text file (UTF-8: a CSV/TSV, or one item a line), or pass this one where a "
                               f"table is read ({opt('data')})")
        raise LstmkitError(f"{path} is not a text file: it is {found[0]}", how)
    if b"\x00" in head and bom_encoding(head[:4]) is None:
        raise LstmkitError(f"{path} is not a text file (it holds NUL bytes: a binary file, e.g. a spreadsheet, "
                           f"archive or model, or UTF-16 text without a byte-order mark)",
                           "export the data as a UTF-8 CSV/TSV/text file" + (f" ({fix})" if fix else ""))


def magic_suffix(head: bytes) -> str | None:
    """The suffix that reads a file whose first bytes are ``head``, told by its magic number:
    ``.parquet``, ``.feather``, ``.zip``, ``.gz``, ``.bz2``, ``.xz`` or ``.zst``; None for text and
    for kinds no reader takes (an ``.xls`` workbook)."""
    return next((suffix for magic, _, _, suffix in _MAGIC if magic.match(head) and _binary(head)), None)


def _binary(head: bytes) -> bool:
    """Whether ``head``, which starts with one of :data:`_MAGIC`'s numbers, is that binary file: a
    text table's header may begin ``PAR1`` ('PAR1,PAR2'), a Parquet file's bytes after it are binary."""
    return b"\x00" in head or not head[:4].isascii() or not head.startswith(b"PAR1")


def _zip_member_name(head: bytes) -> str | None:
    """The name of the first member of the zip archive whose first bytes are ``head`` (its local
    file header: the name's length at byte 26, the name from byte 30), or None when not a zip."""
    if not head.startswith(b"PK\x03\x04") or len(head) < 30:
        return None
    size = int.from_bytes(head[26:28], "little")
    return head[30:30 + size].decode("utf-8", "replace") or None


def decode_text(raw: bytes, path: str | Path, encoding: str = "utf-8") -> str:
    """``raw`` decoded with ``encoding`` (a UTF-8 byte-order mark is dropped; with the default
    UTF-8, a UTF-16 or UTF-32 byte-order mark names the file's encoding).

    An unknown encoding or a byte the encoding cannot read is an :class:`LstmkitError` naming
    the file's line and the ``--encoding`` fix; NUL bytes with no byte-order mark (a binary file)
    are an error saying the file is not text.
    """
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    codec = (bom_encoding(raw[:4]) or "utf-8-sig") if utf8 else encoding
    if "16" not in encoding and "32" not in encoding:
        check_text(raw[:8192], path, f"pass {opt('encoding', 'utf-16')} if it is UTF-16 text")
    elif bom_encoding(raw[:4]) is None:                # (a UTF-16 / UTF-32 encoding: never utf8 here)
        _check_wide(raw, path, encoding)
    if not utf8:
        _warn_utf8_read_as_bytes(raw, path, codec)
    try:
        return raw.decode(codec)
    except LookupError:
        raise LstmkitError(f"unknown encoding {encoding!r}",
                           f"pass {opt('encoding', 'utf-8')}, latin-1, cp1252, …") from None
    except UnicodeDecodeError as e:
        if utf8:
            check_not_cut(raw, path)
        line = raw[:e.start].count(b"\n") + 1
        raise LstmkitError(f"{path} line {line} is not valid {encoding} (byte 0x{raw[e.start]:02x})",
                           _encoding_fix(raw) if utf8 else _real_encoding()) from None


def check_not_cut(raw: bytes, path: str | Path) -> None:
    """An :class:`LstmkitError` when ``raw``, UTF-8 text, ends inside a character: a file cut short
    (a download or a copy stopped mid-way). It was 'line N is not valid utf-8 — pass --encoding
    cp1252', which read the whole file as mojibake (and a table was read so with a warning). Said
    only when the cut is plain: the last character's bytes are more than its lead byte, or UTF-8's
    own characters come before it (one byte 0xE9 after plain ASCII is as likely Windows-1252's é
    ending a file without a line end)."""
    try:
        raw.decode("utf-8")
        return
    except UnicodeDecodeError as e:
        if e.reason != "unexpected end of data":
            return
        start = e.start
    if len(raw) - start < 2 and raw[:start].isascii():
        return
    line, n = raw[:start].count(b"\n") + 1, len(raw) - start
    raise LstmkitError(f"{path} ends in the middle of a character (line {line}: its last byte{'s' * (n > 1)} "
                       f"{raw[start:].hex(' ')} begin{'s' * (n == 1)} a UTF-8 character): the file is cut short",
                       "copy or download the file again whole, or delete its incomplete last line")


def _check_wide(raw: bytes, path: str | Path, encoding: str) -> None:
    """UTF-16 / UTF-32 asked of a file without NUL bytes, with line breaks, that reads as UTF-8:
    decoded anyway, its byte pairs became CJK characters on one line, and training went on. (A
    UTF-16 line end is 0A 00, so wide text of several lines holds a NUL; one 0A byte alone may be
    half of a character, 上 is 0A 4E.)"""
    if b"\0" in raw or raw.count(b"\n") < 2:
        return
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    raise LstmkitError(f"{path} is not {encoding} text: it has line breaks but no NUL byte (a {encoding} line end "
                       "holds one), and it reads as UTF-8", f"pass {opt('encoding', 'utf-8')} (the default), or the file's "
                       "real encoding")


def _warn_utf8_read_as_bytes(raw: bytes, path: str | Path, encoding: str) -> None:
    """One warning when a one-byte-per-character encoding (latin-1, cp1252, …) is asked of a file
    whose non-ASCII bytes are all valid UTF-8: each accented letter would read as two or three
    ('é' as 'Ã©'), silently. Text in a one-byte encoding is almost never valid UTF-8 by chance."""
    try:
        if codecs.lookup(encoding).name not in _ONE_BYTE or raw.isascii():
            return
        text = raw.decode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return
    sample = next(c for c in text if ord(c) > 127)
    garbled = sample.encode("utf-8").decode(encoding, "replace")
    warnings.warn(f"{path} reads as UTF-8 ({sample!r} and every other non-ASCII character), and "
                  f"{opt('encoding', encoding)} reads each of them as two or three characters ({garbled!r}); pass "
                  f"{opt('encoding', 'utf-8')} "
                  "(the default) unless the file really is in that encoding", UserWarning, stacklevel=callers_level())


_ONE_BYTE = {"iso8859-1", "cp1252", "iso8859-15", "cp1250", "iso8859-2", "mac-roman", "cp437", "cp850"}


def _real_encoding() -> str:
    """The fix for bytes the encoding asked for cannot read, in the caller's words."""
    return (f"pass {opt('encoding')} with the file's real encoding (e.g. {opt('encoding', 'latin-1')}) or convert "
            "it to UTF-8")


def _encoding_fix(raw: bytes) -> str:
    """The hint for a file that is not UTF-8: Windows-1252 (what a spreadsheet on Windows saves)
    when every byte reads in it, where latin-1 would turn its curly quotes into control characters."""
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return _real_encoding()
    return (f"pass {opt('encoding', 'cp1252')} (every byte reads as Windows-1252, what a spreadsheet on Windows saves), "
            "or the file's real encoding, or convert it to UTF-8")


def check_readable(path: Path, fix: str) -> None:
    """An :class:`LstmkitError` (fix: ``fix``) when the existing ``path`` is a folder, or a device
    or socket (``/dev/zero`` never ends); a file or a pipe (``/dev/stdin``, ``<(zcat …)``) passes."""
    if path.is_dir():
        raise LstmkitError(f"{path} is a folder, not a text file", fix)
    if not (path.is_file() or path.is_fifo()):
        raise LstmkitError(f"{path} is not a file but a device or socket", fix)


def folder_text_files(folder: Path) -> list[Path]:
    """The ``.txt`` (``.TXT``) and ``.txt.gz`` files under ``folder`` and its sub-folders, sorted by
    their path inside it; hidden files and folders (``.git``, ``.DS_Store``) left out: a folder of
    texts as a language model reads it."""
    def wanted(f: Path) -> bool:
        name = f.name.lower()
        return name.endswith((".txt", ".txt.gz")) and not any(part.startswith(".") for part in f.relative_to(folder).parts)
    return sorted((f for f in folder.rglob("*") if wanted(f) and f.is_file()),
                  key=lambda f: f.relative_to(folder).as_posix())


def read_text_file(path: Path, encoding: str = "utf-8") -> str:
    """The whole file decoded (decompressed: :mod:`lstmkit.data.compressed`); bytes outside ``encoding``
    name their line."""
    if not path_exists(path):
        raise LstmkitError(f"file not found: {path}", missing_path_fix(path, "check the path"))
    if path.is_dir():
        raise LstmkitError(f"{path} is a folder with no class sub-folders of .txt files",
                           "pass a CSV/TSV/JSONL file, or a folder with one sub-folder of .txt files per class")
    raw = read_data(path)
    text = mac_line_ends(decode_text(raw, path, encoding))
    if not text.strip():
        raise LstmkitError(f"file is empty: {path}", "supply a file with a header row and data rows")
    return text


def mac_line_ends(text: str) -> str:
    r"""``text`` with its line ends as ``\n`` when every one is a lone ``\r``: a file saved as Excel's
    "CSV (Macintosh)" (or by a classic Mac OS program). A table's reader split it at ``\n`` only: its
    whole text was one header line (a comma in a semicolon file's text made it comma-separated) and
    Python's csv module stopped at the first ``\r`` ('new-line character seen in unquoted field')."""
    return text.replace("\r", "\n") if "\r" in text and "\n" not in text else text


def read_stdin_text(encoding: str = "utf-8") -> str:
    """Standard input decoded with ``encoding`` as a file is (a bad byte names its line; Python's own
    reading used the locale's encoding and let a byte outside UTF-8 through as an escape)."""
    import sys
    if sys.stdin is None:                  # closed (``<&-``) before Python started: nothing to read
        return ""
    raw = getattr(sys.stdin, "buffer", None)
    return sys.stdin.read() if raw is None else decode_text(raw.read(), "standard input", encoding)


def text_lines(text: str) -> list[str]:
    r"""The lines of ``text`` without their ends, a line ended by ``\n``, ``\r\n`` or a lone ``\r``
    (an old Mac file's), as an editor and a piped standard input count them.
    ``str.splitlines`` also ends a line at a form feed, a vertical tab, U+0085 or U+2028, which sit
    inside sentences (pdftotext's page breaks, ``…`` read as latin-1): a file of line-aligned
    sentences then had more lines than its partner, and each answer after such a line was one off."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":                    # the end of the last line, as splitlines: no empty line after it
        lines.pop()
    return lines


def file_ext(path: Path) -> str:
    """The last suffix before any compression suffix, lower-cased (``"reviews.CSV.gz"`` -> ``".csv"``);
    a ``.zip`` file's member's (:func:`lstmkit.data.compressed.data_name`)."""
    return Path(data_name(path)).suffix.lower()


def whole_characters(texts: list[str], what: str = "texts") -> list[str]:
    """``texts`` as they are when every character is one UTF-8 can write; else those holding a UTF-16
    surrogate (half of a pair: JSON's ``"\\ud83d"`` escape of an emoji cut in two, a tweet truncated,
    or text decoded with ``surrogateescape``) with pairs joined and each lone half as U+FFFD, as a
    decoder with ``errors="replace"`` reads a bad byte, said in one warning naming how many and the
    first (its index in ``texts``). A lone half broke every writer of the run folder after training
    (its vocabulary, as UTF-8) and the BPE tokenizer, each with a bare UnicodeEncodeError or TypeError."""
    if not holds_surrogate("".join(texts)):
        return texts                                    # the common case: one pass in C
    bad = [i for i, t in enumerate(texts) if holds_surrogate(t)]
    out = list(texts)
    for i in bad:
        out[i] = whole_text(texts[i])
    which = (f"the {what} holds" if len(texts) == 1 else
             f"{len(bad)} of the {len(texts)} {what} hold{'s' if len(bad) == 1 else ''}")
    warnings.warn(f"{which} half of a UTF-16 surrogate pair (first: item {bad[0]}, {texts[bad[0]][:30]!r}; an emoji cut in two, as JSON's '\\ud83d' escapes one): a lone half is read "
                  "as U+FFFD, a pair as its character; clean the texts first to silence this (Python: "
                  "t.encode('utf-16', 'surrogatepass').decode('utf-16', 'replace'))",
                  UserWarning, stacklevel=callers_level())
    return out
