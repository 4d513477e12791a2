"""A WAV file's RIFF chunks, walked only as far as libsndfile needs help.

    streamed_frames(f) -> the frames of a streamed WAV's data chunk when chunks follow it, else None

A writer that cannot seek back (a pipe: ``ffmpeg ... -f wav -``, ``sox ... -t wav -``) leaves the data
chunk's size at 0xFFFFFFFF (or 0x7FFFF000), and libsndfile then reads every byte to the end of the
file as samples: a LIST or cue chunk written after the data came out as a click of garbage samples.
Such trailing chunks are found from the end: a known chunk id from which whole chunks reach exactly
the end of the file (an accidental match inside audio would also have to chain to the last byte).
"""
from __future__ import annotations

import re
import struct
from typing import BinaryIO

__all__ = ["streamed_frames", "STREAMED_SIZE"]

STREAMED_SIZE = 0x7FFFF000      # bytes: a writer that cannot seek back puts 0x7ffff000 / 0xffffffff here
_TAIL = 1 << 20                 # bytes at the end searched for trailing chunks
# chunks writers put after the data (metadata, markers, padding), the first of the trailing ones
_TRAILING = re.compile(b"|".join(re.escape(t) for t in (
    b"LIST", b"id3 ", b"ID3 ", b"JUNK", b"junk", b"PAD ", b"FLLR", b"bext", b"cue ", b"smpl", b"inst", b"fact",
    b"PEAK", b"iXML", b"axml", b"_PMX", b"acid", b"cart", b"umid", b"DISP", b"plst", b"labl", b"note", b"ltxt")))
_TAG = re.compile(b"[\x20-\x7e]{4}")


def streamed_frames(f: BinaryIO) -> int | None:
    """The frames held by the data chunk of the RIFF WAV in ``f`` (seekable, read from its start) when
    its size is a streamed writer's placeholder and other chunks follow the data; None for any other
    file (not a RIFF WAV, sizes filled in, nothing after the data, or chunks not found)."""
    f.seek(0, 2)
    end = f.tell()
    f.seek(0)
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
        return None
    pos, align = 12, 0
    while True:
        f.seek(pos)
        chunk = f.read(24)
        if len(chunk) < 8:
            return None
        tag, size = struct.unpack("<4sI", chunk[:8])
        if tag == b"fmt " and len(chunk) >= 22:
            align = struct.unpack("<H", chunk[20:22])[0]
        if tag == b"data":
            break
        pos += 8 + size + (size & 1)
    start = pos + 8
    if size < STREAMED_SIZE or start + size <= end or not align:
        return None
    at = max(start, end - _TAIL)
    f.seek(at)
    tail = f.read()
    for m in _TRAILING.finditer(tail):
        if _chunks_reach_the_end(tail, m.start()):
            return (at + m.start() - start) // align
    return None


def _chunks_reach_the_end(tail: bytes, i: int) -> bool:
    """Whether whole chunks (a printable id, a size, the payload and its pad byte) from ``tail[i:]``
    end exactly at the end of ``tail`` (the last one's pad byte may be missing)."""
    while i + 8 <= len(tail):
        if not _TAG.fullmatch(tail[i:i + 4]):
            return False
        size = struct.unpack("<I", tail[i + 4:i + 8])[0]
        i += 8 + size
        if i == len(tail):
            return True
        i += size & 1
    return i == len(tail)
