"""Where a streamed WAV's data ends when chunks follow it (its size a pipe writer's placeholder)."""
import io
import struct

import numpy as np

from lstmkit.tasks.speech.riff import streamed_frames

_FMT = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 8000, 32000, 4, 16)          # stereo 16-bit: 4 bytes a frame
_LIST = b"LIST" + struct.pack("<I", 18) + b"INFOISFT" + struct.pack("<I", 5) + b"sox\0\0" + b"\0"


def _wav(samples: bytes, after: bytes = b"", size: int = 0xFFFFFFFF) -> io.BytesIO:
    return io.BytesIO(b"RIFF" + struct.pack("<I", size) + b"WAVE" + _FMT + b"data" + struct.pack("<I", size)
                      + samples + after)


def test_chunks_after_a_streamed_data_chunk_end_it():
    frames = np.arange(2 * 50, dtype="<i2").tobytes()
    assert streamed_frames(_wav(frames, _LIST)) == 50
    assert streamed_frames(_wav(frames, _LIST + b"junk" + struct.pack("<I", 3) + b"abc\0", size=0x7FFFF000)) == 50
    assert streamed_frames(_wav(frames, _LIST + b"junk" + struct.pack("<I", 3) + b"abc")) == 50  # pad byte left out


def test_files_read_to_the_end_as_before_give_none():
    frames = np.arange(2 * 50, dtype="<i2").tobytes()
    assert streamed_frames(_wav(frames)) is None                                    # nothing after the data
    assert streamed_frames(_wav(frames, _LIST, size=len(frames))) is None            # sizes filled in
    assert streamed_frames(io.BytesIO(b"fLaC" + bytes(40))) is None
    assert streamed_frames(io.BytesIO(b"RIFF\xff\xff\xff\xffWAVEfmt ")) is None      # cut in its header
    # 'LIST' inside the samples whose chunks do not reach the end of the file is audio
    inside = b"LIST" + struct.pack("<I", 8) + bytes(8) + np.arange(40, dtype="<i2").tobytes()
    assert streamed_frames(_wav(inside)) is None
