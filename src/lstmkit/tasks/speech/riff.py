"""A WAV file's RIFF chunks, walked only as far as libsndfile needs help.

    streamed_frames(f) -> the frames of a streamed WAV's data chunk when chunks follow it, else None
    unheaded_frames(f) -> the frames that follow a WAV's data chunk in no chunk (its header counts less)

A writer that cannot seek back (a pipe: ``ffmpeg ... -f wav -``, ``sox ... -t wav -``) leaves the data
chunk's size at 0xFFFFFFFF (or 0x7FFFF000), and libsndfile then reads every byte to the end of the
file as samples: a LIST or cue chunk written after the data came out as a click of garbage samples.
Such trailing chunks are found from the end: a known chunk id from which whole chunks reach exactly
the end of the file (an accidental match inside audio would also have to chain to the last byte).

The opposite fault: a recorder that rewrites the sizes as it goes (every few seconds, or only once)
and stops before the last rewrite leaves a data size shorter than the audio after it. libsndfile
reads as far as the size says and takes the rest for an unknown chunk, without a word: half a
recording transcribed as if whole.
"""
from __future__ import annotations

import re
import struct
from typing import BinaryIO

__all__ = ["streamed_frames", "unheaded_frames", "STREAMED_SIZE"]

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
    found = _data_chunk(f)
    if found is None:
        return None
    start, size, align, end = found
    if size < STREAMED_SIZE or start + size <= end or not align:
        return None
    at = max(start, end - _TAIL)
    f.seek(at)
    tail = f.read()
    for m in _TRAILING.finditer(tail):
        if _chunks_reach_the_end(tail, m.start()):
            return (at + m.start() - start) // align
    return None


def unheaded_frames(f: BinaryIO) -> int:
    """The frames that follow the data chunk of the RIFF WAV in ``f`` outside any chunk: audio its
    header's data size leaves out. 0 for any other file: not a RIFF WAV, a streamed placeholder size,
    nothing after the data, whole chunks to the end of the file (after an odd data chunk's pad byte,
    or without it), or zero bytes only (padding)."""
    found = _data_chunk(f)
    if found is None:
        return 0
    start, size, align, end = found
    after = start + size + (size & 1)
    if size >= STREAMED_SIZE or after >= end or not align:
        return 0
    pad = size & 1
    f.seek(after - pad)
    tail = f.read(_TAIL + pad)
    # an odd data chunk's next chunk starts after its pad byte, or at once where the writer left the pad out
    # (Python's wave module writes none): a chunk that starts there was 'more audio than its header counts'
    firsts = (pad, 0) if pad else (0,)
    if end - after <= _TAIL and (any(_chunks_reach_the_end(tail, i) for i in firsts) or not tail[pad:].strip(b"\0")):
        return 0
    if end - after > _TAIL and any(_TAG.fullmatch(tail[i:i + 4]) for i in firsts):   # too long to walk: a chunk
        return 0
    return (end - after) // align


def _data_chunk(f: BinaryIO) -> tuple[int, int, int, int] | None:
    """``(start, size, block align, file length)`` of the data chunk of the RIFF WAV in ``f``: where its
    bytes start and the size its header gives; None for a file that is no RIFF WAV or has no data chunk."""
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
            return pos + 8, size, align, end
        pos += 8 + size + (size & 1)


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
