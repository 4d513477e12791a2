"""Where a streamed WAV's data ends when chunks follow it (its size a pipe writer's placeholder)."""
import io
import struct

import numpy as np

from lstmkit.tasks.speech.riff import streamed_frames, unheaded_frames

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
    assert streamed_frames(_wav(frames, _LIST + b"JUNK" + struct.pack("<I", 0))) == 50  # an empty chunk last


def test_files_read_to_the_end_as_before_give_none():
    frames = np.arange(2 * 50, dtype="<i2").tobytes()
    assert streamed_frames(_wav(frames)) is None                                    # nothing after the data
    assert streamed_frames(_wav(frames, _LIST, size=len(frames))) is None            # sizes filled in
    assert streamed_frames(_wav(frames, _LIST, size=4 * len(frames))) is None        # a size past the end: no placeholder
    assert streamed_frames(io.BytesIO(b"fLaC" + bytes(40))) is None
    rf64 = _wav(frames, _LIST).getvalue()
    assert streamed_frames(io.BytesIO(b"RF64" + rf64[4:])) is None       # its data size is -1 by design (ds64 holds it)
    assert streamed_frames(io.BytesIO(rf64[:8] + b"AVI " + rf64[12:])) is None
    assert streamed_frames(io.BytesIO(b"RIFF\xff\xff\xff\xffWAVEfmt ")) is None      # cut in its header
    # 'LIST' inside the samples whose chunks do not reach the end of the file is audio
    inside = b"LIST" + struct.pack("<I", 8) + bytes(8) + np.arange(40, dtype="<i2").tobytes()
    assert streamed_frames(_wav(inside)) is None


def _stale(data: bytes, counted: int, before: bytes = b"", fmt: bytes = _FMT) -> io.BytesIO:
    """A RIFF WAV whose data chunk's size counts only the first ``counted`` bytes of ``data`` (a writer
    that stopped rewriting the sizes): the rest follows in no chunk."""
    return io.BytesIO(b"RIFF" + struct.pack("<I", min(0xFFFFFFFF, 4 + len(fmt) + len(before) + 8 + counted)) + b"WAVE" + fmt + before
                      + b"data" + struct.pack("<I", counted) + data)


def test_audio_after_the_counted_data_is_counted_in_frames_of_the_fmt_block_align():
    """The fmt chunk's nBlockAlign (bytes 12-13 of its payload: 4 for 16-bit stereo) sizes a frame;
    chunks before the data are stepped over by their size plus the pad byte of an odd one (RIFF spec)."""
    frames = np.arange(2 * 300, dtype="<i2").tobytes()                             # 300 stereo frames
    assert unheaded_frames(_stale(frames, 400)) == 200                              # 800 bytes left out: 200 frames
    odd = b"junk" + struct.pack("<I", 3) + b"abc\0"                                 # 3 bytes and the pad byte
    assert unheaded_frames(_stale(frames, 400, before=odd)) == 200
    assert streamed_frames(_wav_before(odd, frames, _LIST)) == 300
    extensible = b"fmt " + struct.pack("<IHHIIHHHHIH14s", 40, 0xFFFE, 3, 8000, 48000, 6, 16, 22, 16, 0x7, 1, bytes(14))
    assert unheaded_frames(_stale(frames, 600, fmt=extensible)) == 100             # 3 channels: 6 bytes a frame


def test_what_follows_the_counted_data_as_chunks_padding_or_its_pad_byte_is_no_audio_left_out():
    frames = np.arange(2 * 300, dtype="<i2").tobytes()
    assert unheaded_frames(_stale(frames, len(frames))) == 0                        # sizes right, nothing after
    assert unheaded_frames(_stale(frames + _LIST, len(frames))) == 0                # a whole chunk after the data
    assert unheaded_frames(_stale(frames + bytes(64), len(frames))) == 0            # zero padding
    mono8 = bytes(range(1, 100))                                                    # 99 bytes: a pad byte follows
    fmt8 = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    assert unheaded_frames(_stale(mono8 + b"\0", 99, fmt=fmt8)) == 0               # only the pad byte after
    assert unheaded_frames(_stale(mono8 + b"\0" + bytes(range(1, 41)), 99, fmt=fmt8)) == 40
    assert unheaded_frames(io.BytesIO(b"fLaC" + bytes(40))) == 0
    assert unheaded_frames(_stale(frames, 0xFFFFFFFF)) == 0                         # a streamed placeholder
    assert unheaded_frames(_stale(frames, 0x7FFFF000)) == 0                         # and the other one


def test_more_than_a_mebibyte_after_the_data_is_audio_unless_it_starts_as_a_chunk():
    """Beyond 1 MiB the bytes after the data are not walked: a printable chunk id first means chunks."""
    audio = np.full(2 * 300_000, 0x0101, dtype="<i2").tobytes()                    # 1.2 MB, no printable id
    assert unheaded_frames(_stale(audio, 400)) == (len(audio) - 400) // 4
    chunky = np.arange(2 * 300, dtype="<i2").tobytes() + b"LIST" + struct.pack("<I", 1 << 21) + bytes(1 << 21)
    assert unheaded_frames(_stale(chunky, 1200)) == 0
    long = np.full(2 * 150_000, 0x0101, dtype="<i2").tobytes()                     # 600 kB counted, a chunk after
    assert unheaded_frames(_stale(long + _LIST, len(long))) == 0
    assert unheaded_frames(_stale(long + bytes(1 << 20), len(long))) == 0          # 1 MiB of zeros: still walked


def _wav_before(before: bytes, samples: bytes, after: bytes) -> io.BytesIO:
    return io.BytesIO(b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + _FMT + before + b"data"
                      + struct.pack("<I", 0xFFFFFFFF) + samples + after)


def test_chunks_after_an_odd_data_chunk_without_its_pad_byte_are_no_audio_left_out(tmp_path):
    """RIFF pads an odd chunk with one byte; Python's wave module writes none, and libsndfile and scipy
    read a chunk that follows at once as a chunk: it is no audio past the header's count."""
    import wave

    from lstmkit.tasks.speech.audio_files import UNHEADED, read_audio
    fmt8 = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)           # 8-bit mono: 1 byte a frame
    mono8 = bytes(range(1, 100))                                                    # 99 bytes
    info = b"INFOISFT" + struct.pack("<I", 100) + bytes(range(30, 130))            # a 108-byte LIST chunk
    listed = b"LIST" + struct.pack("<I", len(info)) + info
    assert unheaded_frames(_stale(mono8 + listed, 99, fmt=fmt8)) == 0              # the pad byte left out
    assert unheaded_frames(_stale(mono8 + b"\0" + listed, 99, fmt=fmt8)) == 0      # and written
    assert unheaded_frames(_stale(mono8 + b"\x80" + listed, 99, fmt=fmt8)) == 0    # a pad byte that is not zero
    # bytes in no chunk are still audio left out (the first, in the pad byte's place, taken for it)
    assert unheaded_frames(_stale(mono8 + bytes(range(1, 121)), 99, fmt=fmt8)) == 119
    path = tmp_path / "odd.wav"
    samples = np.random.default_rng(0).integers(96, 160, 8001, dtype=np.uint8)   # 8001 frames at 8 kHz
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(1), w.setframerate(8000)
        w.writeframes(samples.tobytes())
    data = path.read_bytes() + listed                                              # a LIST chunk appended
    path.write_bytes(data[:4] + struct.pack("<I", len(data) - 8) + data[8:])
    wave_, rate, notes = read_audio(path, None)
    assert rate == 8000 and np.allclose(wave_, (samples.astype(np.float32) - 128) / 128)
    assert UNHEADED not in [n.what for n in notes]
