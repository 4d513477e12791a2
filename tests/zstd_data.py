"""Zstandard files made without a zstandard library (none is a dependency): a frame of raw
(stored) blocks, as RFC 8878 defines it, which every zstd decoder reads."""
import struct

MAGIC = b"\x28\xb5\x2f\xfd"


def stored_zstd(data: bytes) -> bytes:
    """``data`` as one zstandard frame of uncompressed blocks (single segment, 4-byte content size)."""
    pieces = [data[k:k + 65536] for k in range(0, len(data), 65536)] or [b""]
    blocks = b"".join(struct.pack("<I", (len(p) << 3) | (k == len(pieces) - 1))[:3] + p   # raw block type 0
                      for k, p in enumerate(pieces))
    return MAGIC + bytes([0xA0]) + struct.pack("<I", len(data)) + blocks
