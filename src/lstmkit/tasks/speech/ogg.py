"""Whether an Ogg file (Vorbis, Opus) holds its whole stream, told by its last page.

    ogg_cut(f) -> True when the file in ``f`` is an Ogg stream cut off before its end page

libsndfile reads an Ogg file cut short without a word: Vorbis as no samples at all, Opus as far as
it goes. An Ogg stream's last page carries the end-of-stream flag; a copy or download cut off ends
inside a page, or after one that does not end the stream.
"""
from __future__ import annotations

from typing import BinaryIO

__all__ = ["ogg_cut"]

_MAX_PAGE = 27 + 255 + 255 * 255    # bytes: a page's header, its segment table and its largest payload
_END_OF_STREAM = 0x04               # the header-type flag of a stream's last page


def ogg_cut(f: BinaryIO) -> bool:
    """Whether ``f`` (seekable, binary) is an Ogg file whose end page is missing: the last whole page
    in its last 64 KiB (bytes after it, a page cut off or stray ones, aside) does not end the stream.
    False for a file that is no Ogg file."""
    f.seek(0)
    if f.read(4) != b"OggS":
        return False
    f.seek(0, 2)
    end = f.tell()
    at = max(0, end - _MAX_PAGE)
    f.seek(at)
    tail = f.read()
    i = len(tail)
    while (i := tail.rfind(b"OggS", 0, i)) >= 0:          # from the last page back (a match in data is passed)
        head = tail[i:i + 27]
        if len(head) == 27 and head[4] == 0:
            table = tail[i + 27:i + 27 + head[26]]
            if len(table) == head[26] and i + 27 + head[26] + sum(table) <= len(tail):     # the last whole page
                return not head[5] & _END_OF_STREAM
    return True
