"""Reading one recording as people have them: every WAV encoding and layout a recorder or editor
writes reads as its 16-bit mono twin; a header that lies, a cut file or a file that is no audio
is one error naming it (and no decoder chatter on standard error)."""
import os
import struct
import warnings
import wave as stdlib_wave

import numpy as np
import pytest
import soundfile as sf

from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.audio_files import MemoryClip, read_audio, read_upload, report_notes

RATE = 8000


def _tone(rate: int = RATE, seconds: float = 0.25) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.4 * np.sin(2 * np.pi * 500 * t) + 0.2 * np.sin(2 * np.pi * 900 * t + 1)


def _chunk(tag: bytes, payload: bytes, size: int | None = None) -> bytes:
    head = tag + struct.pack("<I", len(payload) if size is None else size)
    return head + payload + b"\0" * (len(payload) % 2)          # an odd chunk is followed by its pad byte


def _riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _fmt(channels: int = 1, rate: int = RATE, bits: int = 16) -> bytes:
    align = channels * bits // 8
    return _chunk(b"fmt ", struct.pack("<HHIIHH", 1, channels, rate, rate * align, align, bits))


_PCM16 = np.round(_tone() * 32767).astype("<i2").tobytes()
_INFO = _chunk(b"LIST", b"INFO" + _chunk(b"INAM", b"take 1\0") + _chunk(b"ICMT", b"odd\0"))
_CUE = _chunk(b"cue ", struct.pack("<I", 1) + struct.pack("<II4sIII", 1, 0, b"data", 0, 0, 100))


def _write(path, kind: str) -> None:
    """``path`` holding ``_tone()`` the way ``kind`` says."""
    x = _tone()
    soundfile_kinds = {"u8": ("WAV", "PCM_U8"), "s24": ("WAV", "PCM_24"), "s32": ("WAV", "PCM_32"),
                       "float": ("WAV", "FLOAT"), "double": ("WAV", "DOUBLE"), "alaw": ("WAV", "ALAW"),
                       "ulaw": ("WAV", "ULAW"), "extensible_s24": ("WAVEX", "PCM_24"),
                       "extensible_float": ("WAVEX", "FLOAT"), "flac": ("FLAC", "PCM_16"), "rf64": ("RF64", "PCM_16")}
    if kind in soundfile_kinds:
        sf.write(path, x, RATE, format=soundfile_kinds[kind][0], subtype=soundfile_kinds[kind][1])
    elif kind in ("stereo", "six_channels"):
        sf.write(path, np.stack([x] * (2 if kind == "stereo" else 6), 1), RATE, subtype="PCM_16")
    elif kind.startswith("rate_"):
        rate = int(kind[5:])
        sf.write(path, _tone(rate), rate, subtype="PCM_16")
    elif kind in ("stdlib_u8", "stdlib_s24"):                     # written by hand, not by libsndfile
        with stdlib_wave.open(str(path), "wb") as w:
            w.setnchannels(1), w.setsampwidth(1 if kind == "stdlib_u8" else 3), w.setframerate(RATE)
            if kind == "stdlib_u8":                               # unsigned: silence is 128
                w.writeframes((np.round(x * 127) + 128).astype(np.uint8).tobytes())
            else:
                w.writeframes(b"".join(int(s).to_bytes(4, "little", signed=True)[:3]
                                       for s in np.round(x * (2 ** 23 - 1)).astype(int)))
    elif kind == "chunks_before_data":
        path.write_bytes(_riff(_fmt(), _INFO, _chunk(b"bext", bytes(602)), _CUE, _chunk(b"junk", b"abc"),
                               _chunk(b"data", _PCM16)))
    elif kind == "chunks_after_data":
        path.write_bytes(_riff(_fmt(), _chunk(b"data", _PCM16), _INFO, _chunk(b"junk", b"abc"), _CUE))
    elif kind == "streamed":                                      # a writer that could not seek back
        path.write_bytes(_riff(_fmt(), _chunk(b"data", _PCM16, size=0xFFFFFFFF)))
    elif kind.startswith("streamed_then_chunks"):                 # and chunks after its data: not samples
        size = 0x7FFFF000 if kind.endswith("7ffff000") else 0xFFFFFFFF
        path.write_bytes(b"RIFF" + struct.pack("<I", size) + b"WAVE" + _fmt() + _chunk(b"data", _PCM16, size=size)
                         + _INFO + _chunk(b"junk", b"abc") + _CUE)
    else:
        raise AssertionError(kind)


KINDS = ["u8", "stdlib_u8", "s24", "stdlib_s24", "s32", "float", "double", "extensible_s24", "extensible_float",
         "alaw", "ulaw", "stereo", "six_channels", "rate_44100", "rate_96000", "rate_11025", "flac", "rf64",
         "chunks_before_data", "chunks_after_data", "streamed", "streamed_then_chunks",
         "streamed_then_chunks_7ffff000"]
_TOLERANCE = {"u8": 0.01, "stdlib_u8": 0.01, "alaw": 0.02, "ulaw": 0.02}          # 8-bit codes' step


@pytest.mark.parametrize("kind", KINDS)
def test_every_common_encoding_reads_as_its_16_bit_mono_twin(tmp_path, kind):
    """Unsigned 8-bit centred, 24-bit as 24-bit, channels mixed (not interleaved into twice the
    length), other rates resampled, chunks around the data skipped: the same samples as the 16-bit file."""
    sf.write(tmp_path / "twin.wav", _tone(), RATE, subtype="PCM_16")
    twin = read_audio(tmp_path / "twin.wav", RATE)[0]
    _write(tmp_path / "x.WAV", kind)                              # an upper-case extension as well
    got, rate, notes = read_audio(tmp_path / "x.WAV", RATE)
    assert rate == RATE and got.shape == twin.shape
    inner = slice(100, -100)                                      # resampling's filter edges aside
    assert np.abs(got[inner] - twin[inner]).max() < _TOLERANCE.get(kind, 1e-3)
    assert abs(float(got.mean())) < 5e-3                          # centred (libsndfile writes u8 floored)
    assert all(n.conversion for n in notes)                       # channels / rate only, never "truncated"
    assert np.array_equal(read_upload((tmp_path / "x.WAV").read_bytes(), RATE)[0], got)     # the service's read


def test_a_header_rate_beyond_any_recorder_is_refused_not_a_zero_division(tmp_path):
    """A damaged header's rate (2,000,000,000 Hz) raised ZeroDivisionError in the resampler."""
    (tmp_path / "odd_rate.wav").write_bytes(_riff(_fmt(rate=2_000_000_000), _chunk(b"data", _PCM16)))
    with pytest.raises(LstmkitError, match=r"odd_rate.wav says its sample rate is 2,000,000,000 Hz, above the "
                                           r"768,000 Hz"):
        read_audio(tmp_path / "odd_rate.wav", RATE)
    sf.write(tmp_path / "dxd.wav", _tone(705_600, 0.05), 705_600, subtype="PCM_24")      # the highest rates in use
    assert read_audio(tmp_path / "dxd.wav", RATE)[0].size == 400


@pytest.mark.parametrize("name, content", [("fake.mp3", b"hello, this is not an mp3 file\n" * 40),
                                           ("zeros.mp3", bytes(2000)), ("text.flac", b"hello\n" * 100),
                                           ("text.ogg", b"hello\n" * 100)])
def test_a_file_named_as_audio_that_is_not_is_one_clear_error_and_nothing_else(tmp_path, capfd, name, content):
    """An .mp3 holding other bytes printed libmpg123's three 'Note: Illegal Audio-MPEG-Header ...'
    lines before the error, which said the file 'does not exist or is not a regular file'; a .flac
    holding text was 'not a WAV file'."""
    (tmp_path / name).write_bytes(content)
    with pytest.raises(LstmkitError) as err:
        read_audio(tmp_path / name, RATE)
    assert str(err.value).startswith(f"{tmp_path / name} is unreadable or corrupt (format not recognised)")
    assert "does not exist" not in str(err.value) and "Error opening" not in str(err.value)
    out, said = capfd.readouterr()
    assert out == "" and said == ""


def test_a_damaged_mp3_is_read_with_one_warning_instead_of_its_decoders_lines(tmp_path, capfd):
    """A damaged MP3 (a stretch of zeros in it) printed libmpg123's 'Warning: ...', '[...layer3.c...]
    error: dequantization failed!' and 'Note: ...' lines, 8 of them, between transcribe's results."""
    sf.write(tmp_path / "ok.mp3", _tone(16000, 1.0), 16000, format="MP3")
    whole = (tmp_path / "ok.mp3").read_bytes()
    (tmp_path / "holed.mp3").write_bytes(whole[:len(whole) // 2] + bytes(500) + whole[len(whole) // 2 + 500:])
    wave, _, notes = read_audio(tmp_path / "holed.mp3", RATE)
    assert wave.size > 0.5 * RATE
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        report_notes(notes)
    assert [str(w.message) for w in said] == ["holed.mp3: the MP3 decoder skipped damaged frames (read as far as it "
                                              "decodes, gaps left out): download or export the file again",
                                              "holed.mp3: resampled from 16000 Hz to 8000 Hz"]
    assert capfd.readouterr() == ("", "")
    assert [n.what for n in read_audio(tmp_path / "ok.mp3", RATE)[2]] == ["resampled from 16000 Hz to 8000 Hz"]


def test_a_wav_cut_right_after_its_header_is_named_truncated_not_empty(tmp_path):
    """A copy cut off after its 44-byte header (no sample left) was 'holds no audio samples: remove
    it or re-record it'; its header says how much audio it should hold."""
    (tmp_path / "cut.wav").write_bytes(_riff(_fmt(), _chunk(b"data", b"", size=len(_PCM16))))
    with pytest.raises(LstmkitError, match=r"cut.wav is truncated: its header promises 0.25 s of audio, the file "
                                           r"holds none .* copy or download it again"):
        read_audio(tmp_path / "cut.wav", RATE)
    half_a_sample = b"data" + struct.pack("<I", len(_PCM16)) + b"\1"
    (tmp_path / "cut1.wav").write_bytes(_riff(_fmt(), half_a_sample))
    with pytest.raises(LstmkitError, match=r"cut1.wav is truncated: its header promises 0.25 s"):
        read_audio(tmp_path / "cut1.wav", RATE)
    (tmp_path / "empty.wav").write_bytes(_riff(_fmt(), _chunk(b"data", b"")))       # complete, and empty
    with pytest.raises(LstmkitError, match=r"empty.wav holds no audio samples"):
        read_audio(tmp_path / "empty.wav", RATE)


@pytest.mark.parametrize("kind", ["silent", "dc"])
def test_silence_and_a_dc_offset_read_as_they_are(tmp_path, kind):
    """Nothing to normalise away here: the reader keeps silence silent and a DC offset where it is
    (features normalise per utterance or with the training statistics later)."""
    level = 0.0 if kind == "silent" else 0.5
    sf.write(tmp_path / "x.wav", np.full(2000, level), RATE, subtype="PCM_16")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_audio(tmp_path / "x.wav", RATE)[0]
    assert np.allclose(got, level, atol=1e-4)


def test_a_flac_cut_short_is_named_damaged_with_the_fix_to_copy_it_again(tmp_path):
    """A FLAC copy cut off opens, then fails ('flac decoder lost sync'): it was 'unreadable or corrupt
    ... pass WAV, FLAC, OGG/Opus or MP3 files', which it is."""
    sf.write(tmp_path / "whole.flac", _tone(RATE, 2.0), RATE)
    whole = (tmp_path / "whole.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(whole[:len(whole) // 2])
    with pytest.raises(LstmkitError, match=r"cut.flac is damaged or cut short \(.*\) — copy or download it again"):
        read_audio(tmp_path / "cut.flac", RATE)


def test_what_the_rest_of_the_process_writes_to_standard_error_while_an_mp3_is_read_is_kept(tmp_path, capfd,
                                                                                           monkeypatch):
    """libmpg123's lines were caught by pointing file descriptor 2 at a file while an MP3 was read:
    whatever else the process wrote there meanwhile (another thread's log line in the service) was
    lost, and a sound MP3 was then noted as damaged. Only the C library's ``stderr`` stream, which
    libmpg123 prints to, is caught now."""
    sf.write(tmp_path / "ok.mp3", _tone(16000, 0.5), 16000, format="MP3")
    read = sf.SoundFile.read

    def read_and_log(self, *args, **kw):            # another thread's log line, in the middle of the decoding
        os.write(2, b"INFO: 127.0.0.1 - POST /predict 200\n")
        return read(self, *args, **kw)
    monkeypatch.setattr(sf.SoundFile, "read", read_and_log)
    wave, _, notes = read_audio(tmp_path / "ok.mp3", RATE)
    assert wave.size > 0.4 * RATE and all(n.conversion and "damaged" not in n.what for n in notes)
    assert "INFO: 127.0.0.1 - POST /predict 200" in capfd.readouterr().err


@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
def test_an_ogg_file_cut_short_is_named_cut_not_empty_or_read_as_whole(tmp_path, subtype):
    """libsndfile reads an Ogg file cut off before its end page without a word: a Vorbis one as no
    samples at all ('holds no audio samples: re-record it'), an Opus one as far as it goes (its
    transcript then fits part of its clip). Its last page not ending the stream says it is cut."""
    sf.write(tmp_path / "whole.ogg", _tone(16000, 3.0), 16000, format="OGG", subtype=subtype)
    whole = (tmp_path / "whole.ogg").read_bytes()
    assert read_audio(tmp_path / "whole.ogg", 16000)[2] == []
    (tmp_path / "cut.ogg").write_bytes(whole[:len(whole) * 3 // 4])
    if subtype == "VORBIS":
        with pytest.raises(LstmkitError, match=r"cut.ogg is damaged or cut short \(its Ogg stream stops before its "
                                               r"end page\) — copy or download it again"):
            read_audio(tmp_path / "cut.ogg", 16000)
        return
    wave, _, notes = read_audio(tmp_path / "cut.ogg", 16000)
    assert 0 < wave.size < 3 * 16000
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        report_notes(notes)
    assert [str(w.message) for w in said] == [f"cut.ogg: cut short: its Ogg stream stops before its end page (the "
                                              f"file holds {wave.size / 16000:.2f} s); read as far as it goes, so its "
                                              "transcript may not match it: copy or export it again"]


@pytest.mark.parametrize("catch", ["this platform's way", "descriptor 2"])
def test_another_c_librarys_line_while_an_mp3_is_read_is_printed_not_taken_for_the_decoders(tmp_path, capfd,
                                                                                          monkeypatch, catch):
    """Every line C code printed on stderr while an MP3 was read counted as libmpg123's: another
    library's log line (another thread's, in the service) was swallowed and made a sound file 'damaged'.
    Both ways of catching: the C library's ``stderr`` stream where it is a settable variable (glibc,
    macOS), and file descriptor 2 (elsewhere, and forced here)."""
    import ctypes
    import os
    from lstmkit import stderr_lines
    if catch == "descriptor 2":
        monkeypatch.setattr(stderr_lines, "_stdio", False)          # as where the stream is no variable
    line = b"2026-12-04 03:40:00 [I:onnxruntime:, inference_session.cc:1520] session ready\n"
    if stderr_lines._c_stderr() is not None:                          # printed as C code prints: to the stream
        libc, var = stderr_lines._c_stderr()
        libc.fputs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]

        def log():
            libc.fputs(line, var.value)
    else:                                                             # or straight to the descriptor
        def log():
            os.write(2, line)
    sf.write(tmp_path / "ok.mp3", _tone(16000, 0.5), 16000, format="MP3")
    read = sf.SoundFile.read

    def read_and_log(self, *args, **kw):
        log()
        return read(self, *args, **kw)
    monkeypatch.setattr(sf.SoundFile, "read", read_and_log)
    wave, _, notes = read_audio(tmp_path / "ok.mp3", RATE)
    assert all("damaged" not in n.what for n in notes)
    assert "[I:onnxruntime:, inference_session.cc:1520] session ready" in capfd.readouterr().err


def _what(notes) -> list[str]:
    return [n.what for n in notes]


_CANCEL = ("its 2 channels cancel out when mixed down to mono (one is another phase-inverted): read channel 1 alone; "
           "check the recording's wiring")


@pytest.mark.parametrize("given, subtype", [("file", "FLOAT"), ("file", "PCM_16"), ("upload", "FLOAT"),
                                            ("memory", "FLOAT")])
def test_channels_that_cancel_out_when_mixed_down_are_read_one_channel_alone_with_a_note(tmp_path, given, subtype):
    """A stereo file whose second channel is the first phase-inverted (a balanced cable's wires swapped)
    averaged to zeros: every clip transcribed as silence, told only '2 channels mixed down to mono'.
    The first channel is read (16-bit rounding made the second the louder by a hair)."""
    sf.write(tmp_path / "twin.wav", _tone(), RATE, subtype=subtype)
    twin = read_audio(tmp_path / "twin.wav", RATE)[0]
    block = np.stack([_tone(), -_tone()], 1).astype(np.float32)
    sf.write(tmp_path / "inverted.wav", block, RATE, subtype=subtype)
    source = {"file": lambda: read_audio(tmp_path / "inverted.wav", RATE),
              "upload": lambda: read_upload((tmp_path / "inverted.wav").read_bytes(), RATE),
              "memory": lambda: read_audio(MemoryClip("inverted", block, RATE), RATE)}[given]
    got, _, notes = source()
    assert np.array_equal(got, twin)
    assert _what(notes) == [_CANCEL] and notes[0].told


@pytest.mark.parametrize("channels", [2, 4])
def test_channels_that_do_not_cancel_out_are_mixed_down_as_before(tmp_path, channels):
    """A silent channel halves the mix, and an inverted pair beside other channels leaves them: no
    channel is picked out where the mean holds the recording."""
    x = _tone()
    block = np.stack([x, np.zeros_like(x)] if channels == 2 else [x, -x, 0.5 * x, np.zeros_like(x)], 1)
    sf.write(tmp_path / "x.wav", block, RATE, subtype="FLOAT")
    got, _, notes = read_audio(tmp_path / "x.wav", RATE)
    assert np.allclose(got, block.mean(1), atol=1e-6)
    assert _what(notes) == [f"{channels} channels mixed down to mono"]


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_U8", "FLOAT"])
def test_a_recording_of_zeros_only_is_read_with_a_warning(tmp_path, subtype):
    """A clip of digital silence was transcribed ('' or a run of spaces) or classified (the commonest
    class) without a word."""
    sf.write(tmp_path / "x.wav", np.zeros(4000), RATE, subtype=subtype)
    wave, _, notes = read_audio(tmp_path / "x.wav", RATE)
    assert wave.size == 4000 and not wave.any()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        report_notes(notes)
    assert [str(w.message) for w in said] == ["x.wav: holds only silence (every sample is 0): nothing in it to "
                                              "recognise; check the recording"]
    sf.write(tmp_path / "quiet.wav", np.full(4000, 0.01), RATE, subtype=subtype)       # -40 dBFS is no silence
    assert read_audio(tmp_path / "quiet.wav", RATE)[2] == []


_LEVELS = {"nearly_silent": (lambda x: 1e-6 * x, "FLOAT"),                    # -128 dBFS
           "dither": (lambda x: np.sign(x) / 32768, "PCM_16"),                 # one bit of 16: -90 dBFS
           "click": (lambda x: np.eye(1, x.size, 700)[0] * 0.5, "PCM_16"),      # one sample in silence
           "dc_offset": (lambda x: 0.3 * x + 0.2, "PCM_16"),
           "clipped": (lambda x: np.clip(4 * x, -1, 1), "PCM_16"),
           "square": (lambda x: np.sign(x), "PCM_U8")}                         # full-scale, 8-bit


@pytest.mark.parametrize("kind", sorted(_LEVELS))
def test_a_nearly_silent_clicking_off_centre_or_clipped_recording_is_read_with_a_warning(tmp_path, kind):
    """A recording at -128 dBFS or of one-bit dither (features at the log's floor: silence to the model),
    one sample in silence, a DC offset of 0.2 (a model's WER 0.02 -> 0.74) or a clipped recording was
    transcribed without a word; only zeros were told. A file, its bytes and its samples in memory alike."""
    from lstmkit.tasks.speech.audio_files import CLICK, CLIPPED, DC_OFFSET, NEARLY_SILENT
    told = {"nearly_silent": NEARLY_SILENT, "dither": NEARLY_SILENT, "click": CLICK, "dc_offset": DC_OFFSET,
            "clipped": CLIPPED, "square": CLIPPED}[kind]
    make, subtype = _LEVELS[kind]
    x = make(_tone(seconds=0.5))
    sf.write(tmp_path / "x.wav", x, RATE, subtype=subtype)
    notes = read_audio(tmp_path / "x.wav", RATE)[2]
    assert _what(notes) == [told] and notes[0].told
    assert _what(read_upload((tmp_path / "x.wav").read_bytes(), RATE)[2]) == [told]
    block = sf.read(tmp_path / "x.wav", dtype="float32", always_2d=True)[0]
    assert _what(read_audio(MemoryClip("clip", block, RATE), RATE)[2]) == [told]
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        report_notes(notes)
    assert [str(w.message) for w in said] == [f"x.wav: {told}"]


def test_a_recording_of_ordinary_level_is_told_nothing_of_its_level(tmp_path):
    """The level notes stay quiet for what speech corpora hold: -40 dBFS, a small offset, a click in
    speech, seconds of silence around it; a click in silence resampled is a click still (the filter
    spreads it over more samples than the click's 10 ms at the model's rate)."""
    from lstmkit.tasks.speech.audio_files import CLICK
    x = _tone(seconds=0.5)
    cases = {"quiet": 0.01 * x, "offset": x + 0.02, "padded": np.pad(x, 40_000),
             "a_click_in_it": np.where(np.arange(x.size) == 100, 1.0, 0.5 * x)}
    for name, wave in cases.items():
        sf.write(tmp_path / f"{name}.wav", wave, RATE, subtype="PCM_16")
        assert read_audio(tmp_path / f"{name}.wav", RATE)[2] == [], name
    sf.write(tmp_path / "click.wav", np.eye(1, 44100, 2000)[0], 44100, subtype="PCM_16")
    assert _what(read_audio(tmp_path / "click.wav", RATE)[2]) == [CLICK, "resampled from 44100 Hz to 8000 Hz"]


def test_an_unnormalised_float_file_past_float32_squares_reads_without_numpy_overflow_warnings(tmp_path):
    """Samples of 1e25 (a float file never normalised): numpy's 'overflow encountered in dot' was printed
    twice with its source line beside transcribe's results; its loud note alone is left, no DC offset
    (its mean is small beside its peak)."""
    sf.write(tmp_path / "huge.wav", 1e25 * _tone(), RATE, subtype="FLOAT")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        notes = read_audio(tmp_path / "huge.wav", RATE)[2]
    assert [n.peak is not None for n in notes] == [True]


def test_a_wav_holding_more_audio_than_its_header_counts_is_read_as_far_as_it_counts_with_a_note(tmp_path):
    """A recorder that rewrites the sizes as it goes and stopped before the last rewrite: libsndfile read
    the 0.12 s the header counts of a 0.25 s file without a word (half a recording transcribed as whole)."""
    half = len(_PCM16) // 2
    (tmp_path / "stale.wav").write_bytes(_riff(_fmt(), _chunk(b"data", _PCM16[:half])) + _PCM16[half:])
    wave, _, notes = read_audio(tmp_path / "stale.wav", RATE)
    assert wave.size == half // 2
    assert _what(notes) == ["holds more audio than its header counts (bytes after its data chunk, in no chunk: a "
                            "writer that stopped updating the sizes): read as far as the header counts; 'sox "
                            "--ignore-length IN OUT.wav' reads it all"]
    assert _what(read_upload((tmp_path / "stale.wav").read_bytes(), RATE)[2]) == _what(notes)
    for tail in (bytes(4000), _INFO + _CUE, b"\0"):      # padding, whole chunks, a stray byte: nothing left out
        (tmp_path / "ok.wav").write_bytes(_riff(_fmt(), _chunk(b"data", _PCM16)) + tail)
        assert read_audio(tmp_path / "ok.wav", RATE)[2] == []


def test_a_stereo_click_is_timed_by_each_channels_samples_not_all_of_them():
    """The sounding time of a stereo clip is its samples other than 0 of one channel (the channels'
    mean count): a 7.5 ms burst (60 samples at 8 kHz) in both channels of half a second of silence is
    a click, under the 10 ms of one (not 15 ms, the 120 samples of both channels); 12.5 ms (100
    samples) in both is not."""
    from lstmkit.tasks.speech.audio_files import CLICK
    mixed = "2 channels mixed down to mono"

    def notes(*bursts):
        block = np.zeros((4000, 2), dtype=np.float32)
        for channel, start, n in bursts:
            block[start:start + n, channel] = 0.5 * np.sin(np.arange(1, n + 1))
        return _what(read_audio(MemoryClip("clip", block, RATE), RATE)[2])

    assert notes((0, 1000, 60), (1, 1000, 60)) == [mixed, CLICK]
    assert notes((0, 1000, 100), (1, 1000, 100)) == [mixed]


def test_of_channels_that_cancel_out_the_first_at_least_half_as_loud_as_the_loudest_is_read():
    """Three channels summing to silence: 0.8x, -x, 0.2x (powers 0.64, 1, 0.04 of the loudest's): the
    first is at least half as loud, so channel 1 is read; of 0.6x, -x, 0.4x (0.36, 1, 0.16) only the
    second is, and channel 2 is read."""
    x = _tone()
    for gains, kept in (((0.8, -1.0, 0.2), 0), ((0.6, -1.0, 0.4), 1)):
        block = np.stack([g * x for g in gains], 1).astype(np.float32)
        got, _, notes = read_audio(MemoryClip("clip", block, RATE), RATE)
        np.testing.assert_array_equal(got, block[:, kept])
        assert f"read channel {kept + 1} alone" in _what(notes)[0]


def test_a_float_recording_cut_flat_at_exactly_full_scale_is_clipped():
    """Float samples of exactly ±1.0 sit at the rail (within [0.99, 1]): a float file clipped there is
    told clipped as a 16-bit one is (a tone cut flat, nearly all its samples at ±1.0); samples beyond 1
    are loud, not at the rail."""
    from lstmkit.tasks.speech.audio_files import CLIPPED
    block = np.clip(1000 * _tone(seconds=0.5), -1.0, 1.0).astype(np.float32)[:, None]
    assert (np.abs(block) == 1.0).mean() > 0.9
    assert _what(read_audio(MemoryClip("clip", block, RATE), RATE)[2]) == [CLIPPED]


def test_a_click_is_under_ten_ms_of_samples_as_its_note_says():
    """Half a second of zeros with 79 samples (9.9 ms at 8 kHz) other than 0 is a click; with 80
    (10 ms), not 'under 10 ms', it is not."""
    from lstmkit.tasks.speech.audio_files import CLICK
    for n, told in ((79, [CLICK]), (80, [])):
        wave = np.zeros(4000, dtype=np.float32)
        wave[1000:1000 + n] = 0.5
        assert _what(read_audio(MemoryClip("clip", wave[:, None], RATE), RATE)[2]) == told, n
