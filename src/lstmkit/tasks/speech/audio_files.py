"""Reading one audio file, checked: what training, transcription and evaluation read.

    read_audio(path, rate) -> (wave [N], rate, notes)      mono, resampled to ``rate``; each change an AudioNote
    read_upload(body, rate) -> (wave [N], rate, notes)     the same of a file's bytes (the service's uploads)
    read_audio(MemoryClip(...), rate)                      the same of samples in memory (:mod:`.arrays` makes them)
    report_notes(notes)                                    one warning per kind of conversion, loud or cut files
    common_rate(paths)                                     the training files' most common sample rate
    soundfile()                                            the package that reads the files, or the error naming the extra
    promised_seconds / loud_peak / loud_warning            what a truncated or too-loud file is told by

Every failure is one :class:`~lstmkit.errors.LstmkitError` that names the file (or "the upload") and the fix.
What reads but is not what it seems is a note, warned about: channels that cancel out when averaged
(a phase-inverted copy: the channel alone is read), a recording of zeros only, one nearly silent, one
with a DC offset or one clipped (:func:`level_notes`), a WAV holding more audio than its header counts.
"""
from __future__ import annotations

import io
import math
import re
import sys
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO, Callable, Iterator, Sequence

import numpy as np

from lstmkit.data.tables import PARQUET, SHEETS
from lstmkit.data.textfile import file_ext
from lstmkit.errors import LstmkitError, callers_level, optional_import, worded
from lstmkit.tasks.speech.config import MAX_RATE, MIN_RATE
from lstmkit.tasks.speech.manifest import AUDIO_SUFFIXES
from lstmkit.tasks.speech.ogg import ogg_cut
from lstmkit.tasks.speech.resampling import BlockResampler, resample
from lstmkit.tasks.speech.riff import STREAMED_SIZE, streamed_frames, unheaded_frames
from lstmkit.stderr_lines import c_stderr_lines

__all__ = ["soundfile", "read_audio", "read_upload", "MemoryClip", "audio_format", "AudioNote", "report_notes", "common_rate", "clip_length",
           "loud_peak", "loud_warning", "promised_seconds", "never_finished", "resample", "DAMAGED_MP3",
           "SILENT", "CLICK", "NEARLY_SILENT", "DC_OFFSET", "CLIPPED", "level_notes", "UNHEADED"]

_READ_FRAMES = 1 << 16    # frames read at once: 512 KiB of float32 stereo
_FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
DAMAGED_MP3 = ("the MP3 decoder skipped damaged frames (read as far as it decodes, gaps left out): "
               "download or export the file again")
SILENT = "holds only silence (every sample is 0): nothing in it to recognise; check the recording"
# A recording's level, told as SILENT is (features are log-mel with a floor, not the samples' own scale):
# FSDD's 3,000 clips peak at -40 dBFS or louder, carry a mean of 0.008 at most and hold no run of
# samples at full scale, so none of them is told any of these.
CLICK_SECONDS = 0.01        # of samples other than 0, at most: a click in silence (an analysis window is 25 ms)
CLICK = ("holds only silence but for a click (under 10 ms of samples other than 0): nothing in it to recognise; "
         "check the recording")
QUIET_PEAK = 1e-3           # -60 dBFS: the loudest frame's log-mel lies within ~15 dB of the log's floor
NEARLY_SILENT = ("is nearly silent (every sample under 1e-3 of full scale, -60 dBFS): its features hold little but "
                 "silence; raise its level (divide by its peak, or 'sox IN OUT.wav gain -n')")
DC_SHARE = 0.05             # the samples' mean, of full scale: 0.01 raises the lowest mel band by 4.5 nats
DC_OFFSET = ("holds a DC offset (the mean of its samples is 5 % of full scale or more away from 0), which its "
             "features read as sound in their lowest bands; remove it (subtract the mean, or "
             "'sox IN OUT.wav highpass 10')")
RAIL = 0.99                 # of full scale: a sample this loud sits at the rail (8-bit PCM's largest is 0.992)
CLIPPED_SHARE = 0.01        # of the samples at the rail: the waveform is cut flat
CLIPPED = ("is clipped (1 % of its samples or more at full scale, the waveform cut flat): distortion its features "
           "keep; record it again at a lower input gain")
UNHEADED = ("holds more audio than its header counts (bytes after its data chunk, in no chunk: a writer that stopped "
            "updating the sizes): read as far as the header counts; 'sox --ignore-length IN OUT.wav' reads it all")
_CANCELLING = 1e-3      # channels' mix this far (30 dB) below their mean power: they cancel out


def clip_length(n_samples: int, rate: int) -> str:
    """A clip's length for a message: milliseconds, and its samples when under 10 ms (1 sample is not '0 ms')."""
    ms = 1000 * n_samples / rate
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.2g} ms ({n_samples} sample{'s' * (n_samples != 1)})"


@dataclass(frozen=True)
class AudioNote:
    """What reading one audio file noted: a conversion (``what``), float samples beyond [-1, 1]
    read as they are (``peak``: their largest magnitude), or a file cut short (``cut``: a WAV shorter
    than its header says, ``promised`` the seconds the header promises; an Ogg file without its end
    page); :func:`report_notes` warns about the last two."""
    file: str                     # the file's name
    what: str                     # e.g. "resampled from 44100 Hz to 16000 Hz"
    peak: float | None = None     # set for float samples beyond [-1, 1] only
    promised: float | None = None  # set for a truncated WAV only
    cut: bool = False             # a file cut short, read as far as it goes
    told: bool = False            # more than a conversion: a service tells its client too

    @property
    def conversion(self) -> bool:
        return self.peak is None and not self.cut


def soundfile(needed_for: str = "reading audio files") -> ModuleType:
    """The ``soundfile`` module (libsndfile), which every audio file is read through, or a
    :class:`~lstmkit.errors.MissingPackage` naming the ``speech`` extra: an install without it
    ended a speech command with ``ModuleNotFoundError``'s traceback. Samples in memory need none."""
    return optional_import("soundfile", needed_for, "speech")


@dataclass(frozen=True, eq=False)
class MemoryClip:
    """A recording given in memory, as a file reader hands its samples over: ``block [N, C]`` float32
    (what soundfile reads of the same samples written to a WAV), at ``rate`` Hz, called ``name`` in
    notes and errors; ``floats``: read of float samples (a peak beyond [-1, 1] is noted, as of a
    float WAV). :func:`read_audio` reads it as it reads a file."""
    name: str
    block: np.ndarray
    rate: int
    floats: bool = True

    def __str__(self) -> str:
        return self.name


def read_audio(path: str | Path | MemoryClip, rate: int | None) -> tuple[np.ndarray, int, list[AudioNote]]:
    """``(wave [N] float32, rate, notes)``: mono (channels averaged) and resampled to ``rate``
    (None keeps the file's rate); each conversion adds an :class:`AudioNote` naming the file.
    Samples lie in [-1, 1], except a float WAV's beyond it (unnormalised, or clipped in float):
    those are kept as they are, neither clipped nor scaled, with a note carrying the peak.

    The file is read in blocks, each mixed down and resampled as it comes (:class:`BlockResampler`,
    equal to resampling the whole): a 20-minute 44.1 kHz stereo file held whole took 1.2 GB, where
    the wave at 16 kHz is 73 MiB."""
    if isinstance(path, MemoryClip):
        return _read_clip(path, rate)
    path = Path(path)
    if path.is_dir():
        raise LstmkitError(f"{path} is a folder, not an audio file", f"pass the files in it, e.g. {path}/*.wav")
    if path.is_fifo():           # a pipe (piped /dev/stdin, <(sox …)): its bytes, read once as an upload's are
        return _read(path.read_bytes(), str(path), rate)     # (it was 'audio file not found' of a path that was there)
    if not path.is_file():
        raise LstmkitError(f"audio file not found: {path}", "check the path (manifest paths are relative to it)")
    return _read(path, str(path), rate)


def read_upload(body: bytes, rate: int | None, name: str = "the upload") -> tuple[np.ndarray, int, list[AudioNote]]:
    """:func:`read_audio` of a file's bytes (any format libsndfile reads, told by its first bytes, not
    by a name): the same samples, notes and errors, which call it ``name``."""
    return _read(body, name, rate)


def _read(source: Path | bytes, name: str, rate: int | None) -> tuple[np.ndarray, int, list[AudioNote]]:
    """:func:`read_audio` of a file or of a file's bytes, named ``name`` in notes and errors."""
    held = _looked_at(source, streamed_frames, None)     # a streamed WAV's data when chunks follow it; None: all
    power = _Power()
    with _decoder_lines(source) as chatter:
        wave, sr, channels, frames, peak = _decoded(source, name, rate, held, power=power)
        promised = promised_seconds(_opened(source), frames, sr)
        if frames == 0:
            _check_finished(source, name, promised)
        kept = power.cancelling()
        if kept is not None:            # the mix is silence: that channel alone, read again
            wave = _decoded(source, name, rate, held, channel=kept)[0]
    short = Path(name).name if isinstance(source, Path) else name
    notes = [] if promised is None else [AudioNote(short, f"truncated: its header promises {promised:.2f} s, "
                                                               f"the file holds {frames / sr:.2f} s", None, promised,
                                                   cut=True)]
    if _looked_at(source, ogg_cut, False):
        notes.append(AudioNote(short, f"cut short: its Ogg stream stops before its end page (the file holds "
                                      f"{frames / sr:.2f} s)", cut=True))
    if _looked_at(source, unheaded_frames, 0) >= 0.01 * sr:
        notes.append(AudioNote(short, UNHEADED, told=True))
    if peak > 1.0:                  # kept as they are: report_notes warns
        notes.append(AudioNote(short, "float samples beyond [-1, 1]", peak))
    if chatter:
        notes.append(AudioNote(short, DAMAGED_MP3, told=True))
    notes += _level_notes(short, wave, sr if rate is None else rate, channels, kept, power, sr)
    if rate is not None and sr != rate:
        notes.append(AudioNote(short, f"resampled from {sr} Hz to {rate} Hz"))
        sr = rate
    return wave, int(sr), notes


def _decoded(source: Path | bytes, name: str, rate: int | None, held: int | None, channel: int | None = None,
             power: _Power | None = None) -> tuple[np.ndarray, int, int, int, float]:
    """``(mono wave at rate, the file's rate, channels, frames read, float peak)`` of ``source``, read
    block by block (``held`` frames at most; None: all): its channels mixed, or ``channel`` alone."""
    sf = soundfile()
    sr = None
    try:
        with sf.SoundFile(_opened(source)) as f:
            sr, channels, floats = f.samplerate, f.channels, f.subtype in _FLOAT_SUBTYPES
            _check_rate(name, sr)
            pieces, frames, peak = [], 0, 0.0
            blocks = (f.read(_READ_FRAMES if held is None else min(_READ_FRAMES, held - frames), dtype="float32",
                             always_2d=True) for _ in iter(int, 1))     # until an empty block
            for piece, n, block_peak in _mixed_down(blocks, sr, rate, name, floats, channel, power):
                pieces.append(piece)
                frames, peak = frames + n, max(peak, block_peak)
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        raise _unreadable(source, name, e, opened=sr is not None) from None
    return np.concatenate(pieces), sr, channels, frames, peak


class _Power:
    """The sums of squares of a recording's channels and of their mix, added up block by block, and
    how many of its samples (of every channel) sit at full scale and are other than 0."""

    def __init__(self):
        self.channels: np.ndarray | None = None      # [C] float64
        self.mix = 0.0
        self.samples = self.rails = self.sounding = 0

    def add(self, block: np.ndarray, mono: np.ndarray) -> None:
        # float32 BLAS dot products, a block's totals summed in float64 (a float64 cast made reading 3x slower);
        # an unnormalised float file's squares past float32's range (samples over 1.8e19) are summed in float64
        # (numpy's 'overflow encountered in dot' was printed with its source line under transcribe's results)
        with np.errstate(over="ignore"):
            sums = np.array([np.dot(block[:, c], block[:, c]) for c in range(block.shape[1])], dtype=np.float64)
            mix = float(np.dot(mono, mono))
        if not (np.isfinite(sums).all() and math.isfinite(mix)):
            wide, mono64 = block.astype(np.float64), mono.astype(np.float64)
            sums, mix = np.einsum("nc,nc->c", wide, wide), float(np.dot(mono64, mono64))
        self.channels = sums if self.channels is None else self.channels + sums
        self.mix += mix
        self.samples += block.size
        self.rails += _at_rails(block)
        self.sounding += int(np.count_nonzero(block))

    @property
    def railed(self) -> float:
        """The share of the samples read at full scale (0 of none)."""
        return self.rails / self.samples if self.samples else 0.0

    def sounding_seconds(self, rate: int) -> float:
        """The seconds of samples other than 0 (of the channels' mean count) read at ``rate`` Hz."""
        channels = 1 if self.channels is None else len(self.channels)
        return self.sounding / channels / rate

    def cancelling(self) -> int | None:
        """The channel to read alone when the channels cancel out in their mix (one is another phase-inverted,
        as from a balanced cable's swapped wires: the mean of the two is silence): the first at least half
        as loud as the loudest (of an inverted pair, the first, not the one rounding made louder); None
        when they do not cancel out."""
        c = self.channels
        if c is None or len(c) < 2 or not c.any() or self.mix >= _CANCELLING * c.mean():
            return None
        return int(np.argmax(c >= 0.5 * c.max()))


def level_notes(wave: np.ndarray, rate: int, railed: float | None = None, sounding: float | None = None) -> list[str]:
    """What a recording's level says, each a note's text: zeros only (:data:`SILENT`), zeros but a click
    (:data:`CLICK`), nearly silent (:data:`NEARLY_SILENT`), a DC offset (:data:`DC_OFFSET`), clipped
    (:data:`CLIPPED`). ``wave``: its mono samples at ``rate`` Hz; ``railed``: the share of its samples
    (every channel's, at the file's rate) at full scale, ``sounding`` the seconds of its samples other
    than 0 (resampling spreads a click over the filter's length), None to count them in ``wave``. Read
    without a word before: a recording at -120 dBFS, of one-bit dither or of one sample in silence was
    transcribed as silence is, a DC offset of 0.2 took a model's WER from 0.02 to 0.74, a full-scale
    square wave was transcribed as speech."""
    if wave.size == 0:
        return []
    peak = float(np.abs(wave).max())
    if peak == 0:
        return [SILENT]
    sounding = np.count_nonzero(wave) / rate if sounding is None else sounding
    if sounding < min(CLICK_SECONDS, 0.5 * wave.size / rate):      # mostly zeros: not a clip that short
        return [CLICK]
    notes = [NEARLY_SILENT] if peak < QUIET_PEAK else []
    if abs(float(wave.mean(dtype=np.float64))) >= DC_SHARE * max(peak, 1.0):    # of a loud float file: of its peak
        notes.append(DC_OFFSET)
    if railed is None:
        railed = _at_rails(wave) / wave.size
    if railed >= CLIPPED_SHARE:
        notes.append(CLIPPED)
    return notes


def _at_rails(samples: np.ndarray) -> int:
    """How many ``samples`` sit at full scale: within [RAIL, 1] of it (a float file's samples beyond 1
    are loud, told apart, not cut flat)."""
    size = np.abs(samples)
    return int(np.count_nonzero(size >= RAIL)) - int(np.count_nonzero(size > 1.0))


def _level_notes(name: str, wave: np.ndarray, rate: int, channels: int, kept: int | None, power: _Power,
                 file_rate: int) -> list[AudioNote]:
    """The notes on how a recording of ``channels`` became the mono ``wave`` (at ``rate``): mixed down, or
    channel ``kept`` read alone as the mix cancelled out; and what its level says (:func:`level_notes`,
    of what ``power`` counted in the samples read at ``file_rate``)."""
    notes = []
    if kept is not None:
        notes.append(AudioNote(name, f"its {channels} channels cancel out when mixed down to mono (one is another "
                                     f"phase-inverted): read channel {kept + 1} alone; check the recording's wiring",
                               told=True))
    elif channels > 1:
        notes.append(AudioNote(name, f"{channels} channels mixed down to mono"))
    notes += [AudioNote(name, what, told=True)
              for what in level_notes(wave, rate, power.railed, power.sounding_seconds(file_rate))]
    return notes


def _mixed_down(blocks: Iterator[np.ndarray], sr: int, rate: int | None, name: str, floats: bool,
                channel: int | None = None, power: _Power | None = None) -> Iterator[tuple[np.ndarray, int, float]]:
    """``(mono samples at rate, frames read, peak)`` of each block ``[n, C]`` (float32, ``sr`` Hz) until
    an empty one, checked finite, then what the resampler held: a file's and a clip's in memory alike.
    The block's channels are averaged (``channel``: that one alone), their power added to ``power``."""
    resampler = BlockResampler(sr, sr if rate is None else rate)
    frames = 0
    for block in blocks:
        if not len(block):
            break
        _check_finite(block, frames, name)
        frames += len(block)
        mono = _mono(block) if channel is None else np.ascontiguousarray(block[:, channel])
        if power is not None:
            power.add(block, mono)
        yield resampler(mono), len(block), float(np.abs(block).max()) if floats else 0.0
    yield resampler.flush(), 0, 0.0


def _read_clip(clip: MemoryClip, rate: int | None) -> tuple[np.ndarray, int, list[AudioNote]]:
    """:func:`read_audio` of samples in memory: read in the blocks a file is read in, so a clip gives
    the samples its WAV file would."""
    _check_rate(clip.name, clip.rate)
    power = _Power()
    wave, peak = _clip_wave(clip, rate, power=power)
    kept = power.cancelling()
    if kept is not None:            # the mix is silence: that channel alone
        wave = _clip_wave(clip, rate, channel=kept)[0]
    notes = [AudioNote(clip.name, "float samples beyond [-1, 1]", peak)] if peak > 1.0 else []
    notes += _level_notes(clip.name, wave, clip.rate if rate is None else rate, clip.block.shape[1], kept, power,
                          clip.rate)
    if rate is not None and clip.rate != rate:
        notes.append(AudioNote(clip.name, f"resampled from {clip.rate} Hz to {rate} Hz"))
    return wave, int(clip.rate if rate is None else rate), notes


def _clip_wave(clip: MemoryClip, rate: int | None, channel: int | None = None,
               power: _Power | None = None) -> tuple[np.ndarray, float]:
    """``(mono wave at rate, float peak)`` of a clip in memory, read in a file's blocks (:func:`_mixed_down`)."""
    blocks = (clip.block[k: k + _READ_FRAMES] for k in range(0, len(clip.block), _READ_FRAMES))
    pieces, peak = [], 0.0
    for piece, _, block_peak in _mixed_down(blocks, clip.rate, rate, clip.name, clip.floats, channel, power):
        pieces.append(piece)
        peak = max(peak, block_peak)
    return np.concatenate(pieces), peak


def _opened(source: Path | bytes) -> Any:
    """What soundfile opens for ``source``: a path's name, or a fresh file object over the bytes."""
    return io.BytesIO(source) if isinstance(source, bytes) else str(source)


def _looked_at(source: Path | bytes, look: Callable[[BinaryIO], Any], default: Any) -> Any:
    """``look(f)`` of ``source``'s bytes as a file object; ``default`` when the file cannot be opened
    (libsndfile names the problem)."""
    if isinstance(source, bytes):
        return look(io.BytesIO(source))
    try:
        with open(source, "rb") as raw:
            return look(raw)
    except OSError:
        return default


def _check_rate(path: str, rate: int) -> None:
    """A header's sample rate outside what recordings use is a mislabelled (damaged) header: 0.3 s at
    7 Hz would "resample" to minutes of audio, 2,000,000,000 Hz to nothing (a ZeroDivisionError)."""
    if rate < MIN_RATE:
        raise LstmkitError(f"{path} says its sample rate is {rate} Hz, under the {MIN_RATE} Hz that holds speech",
                           "re-export the recording at its real rate (e.g. 'sox IN -r 16000 -c 1 OUT.wav')")
    if rate > MAX_RATE:
        raise LstmkitError(f"{path} says its sample rate is {rate:,} Hz, above the {MAX_RATE:,} Hz of any recorder: "
                           "its header is damaged", "re-export the recording at its real rate "
                                                    "(e.g. 'sox -r 16000 IN OUT.wav' when it was recorded at 16 kHz)")


def _unreadable(source: Path | bytes, path: str, e: Exception, opened: bool) -> LstmkitError:
    """The error for a file libsndfile cannot open or read: one that opened and failed on the way is
    damaged or cut short (a FLAC copy cut off: 'flac decoder lost sync'); of the others, a file named as
    audio (or an upload starting as audio does) is unreadable or corrupt, any other not audio (a
    manifest is named as one)."""
    reason = str(e).splitlines()[0].removeprefix(f"Error opening {path!r}: ")
    reason = re.sub(r"^Error opening <.*?>: ", "", reason)[:150]       # a file object's repr
    if "does not exist or is not a regular file" in reason:     # what libmpg123 finding no frame comes out as
        reason = "format not recognised"
    reason = reason[:1].lower() + reason[1:].rstrip(".")
    if opened:
        return LstmkitError(f"{path} is damaged or cut short ({reason})",
                            "copy or download it again, or re-encode what decodes "
                            "(e.g. 'ffmpeg -i IN -ac 1 -ar 16000 OUT.wav')")
    if isinstance(source, bytes):
        kind = "unreadable or corrupt" if audio_format(source) else "not an audio file"
    else:
        kind = "unreadable or corrupt" if source.suffix.lower() in AUDIO_SUFFIXES else "not a WAV file"
    table = not isinstance(source, bytes) and file_ext(source) in (".csv", ".tsv", *SHEETS, *PARQUET)
    return LstmkitError(f"{path} is {kind} ({reason})",
                        worded("a manifest is --data of 'speech evaluate' or 'speech train', not audio",
                               "a manifest is the data of fit or evaluate, not audio") if table else
                        "pass WAV (PCM or float), FLAC, OGG/Opus, MP3 or AIFF files, or convert it "
                        "(e.g. 'ffmpeg -i IN -ac 1 -ar 16000 OUT.wav')")


def _mpeg_like(source: Path | bytes) -> bool:
    """Whether libsndfile may hand ``source`` to libmpg123: an .mp3 name, or an ID3 tag or an MPEG
    frame's sync bits first (an MP3 under another name, which it reads too)."""
    if isinstance(source, bytes):
        return audio_format(source) == "MP3"
    if source.suffix.lower() == ".mp3":
        return True
    try:
        with open(source, "rb") as f:
            head = f.read(12)
    except OSError:
        return False            # libsndfile names the problem
    return audio_format(head) == "MP3"


# the first bytes of each container libsndfile reads (MP3: an ID3 tag or an MPEG frame's sync bits)
_MAGIC = [("WAV", rb"(RIFF|RIFX|RF64|BW64)....WAVE"), ("AIFF", rb"FORM....AIF[FC]"), ("FLAC", rb"fLaC"),
          ("OGG", rb"OggS"), ("CAF", rb"caff"), ("W64", rb"riff\x2e\x91\xcf\x11"), ("AU", rb"\.snd"),
          ("NIST", rb"NIST_1A"), ("MP3", rb"ID3|\xff[\xe0-\xff]")]


def audio_format(head: bytes) -> str | None:
    """The container whose magic bytes ``head`` (a file's first 12 bytes or more) starts with: WAV,
    AIFF, FLAC, OGG, CAF, W64, AU, NIST or MP3; None for anything else (a text, a JSON body, an M4A)."""
    return next((kind for kind, magic in _MAGIC if re.match(magic, head, re.S)), None)


# libmpg123's lines: 'Note: ...', 'Warning: ...', '[src/libmpg123/layer3.c:1234] error: ...'
_MPG123_LINE = re.compile(r"(?:Note|Warning|Error|Big trouble)\b|\[[^\]]*\.c:[^\]]*\] (?:note|warning|error):")


@contextmanager
def _decoder_lines(source: Path | bytes) -> Iterator[list[str]]:
    """The lines libmpg123 prints on standard error while ``source`` is opened and read, caught into
    the list yielded (filled when the block ends) instead of printed (:func:`lstmkit.stderr_lines.c_stderr_lines`):
    a file named .mp3 that is none printed three 'Note: Illegal Audio-MPEG-Header ...' lines before its
    one error, a damaged MP3 up to eight between transcribe's results. Other files are read as they are."""
    lines: list[str] = []
    if not _mpeg_like(source):
        yield lines
        return
    with c_stderr_lines() as caught:
        yield lines
    lines += [line for line in caught if _MPG123_LINE.match(line)]
    others = [line for line in caught if not _MPG123_LINE.match(line)]
    if others and sys.stderr is not None:       # another library's, printed in the meantime: as it would have been
        print("\n".join(others), file=sys.stderr, flush=True)


def _mono(block: np.ndarray) -> np.ndarray:
    """The channels' mean ``[N]`` of ``block [N, C]``: ``block.mean(axis=1)``'s values, summed a
    channel at a time (numpy's mean across a row of two took 3 s of a 20-minute stereo file's 8)."""
    mono = block[:, 0].copy()
    for c in range(1, block.shape[1]):
        mono += block[:, c]
    if block.shape[1] > 1:
        mono /= block.shape[1]
    return mono


def _check_finite(block: np.ndarray, offset: int, path: str) -> None:
    """An error naming the first non-finite sample of ``block`` (frames ``offset`` on) and its channel."""
    finite = np.isfinite(block)
    if not finite.all():
        sample, channel = (int(i) for i in np.argwhere(~finite)[0])
        raise LstmkitError(f"{path} holds a non-finite sample ({block[sample, channel]}) at sample {offset + sample}",
                           "re-export the recording (float WAVs must hold finite values) or leave it out")


def promised_seconds(source: Any, frames: int, rate: int) -> float | None:
    """The seconds a WAV's header promises when ``source`` (a path or a file object; ``frames`` read
    at ``rate``) holds less: a copy or download cut short, which libsndfile reads without a word,
    a transcript then fitting half its clip. None for a complete file or a streamed one."""
    sf = soundfile()
    log = sf.info(source).extra_info
    m = re.search(r"^data\s*:\s*(\d+) \(should be (\d+)\)", log, re.M)
    if m is None:
        return None
    claimed, held = int(m[1]), int(m[2])
    if not held < claimed < STREAMED_SIZE:
        return None
    if frames == 0:             # cut off at (or within a sample of) the header: its byte rate tells the time
        per_second = re.search(r"^\s*Bytes/sec\s*:\s*(\d+)", log, re.M)
        return claimed / int(per_second[1]) if per_second and int(per_second[1]) else None
    promised = frames / rate * claimed / held
    return promised if promised - frames / rate >= 0.01 else None      # not a pad byte or a part-frame


def never_finished(source: Any) -> bool:
    """Whether a WAV's header says 0 bytes of audio while audio follows it: a recorder that stopped
    (crashed, unplugged) before writing the sizes."""
    sf = soundfile()
    log = sf.info(source).extra_info
    return bool(re.search(r"^data\s*:\s*0\s*$", log, re.M)) and "Unknown chunk marker" in log


def _check_finished(source: Path | bytes, path: str, promised: float | None) -> None:
    """The error for a file that gave no sample: cut off right after its header (copy it again), never
    finished ("holds no audio samples" told the user to re-record it), or empty indeed."""
    if promised is not None:
        raise LstmkitError(f"{path} is truncated: its header promises {promised:.2f} s of audio, the file holds none "
                           "(a copy or download cut short)", "copy or download it again")
    if _looked_at(source, ogg_cut, False):        # a Vorbis file cut anywhere reads as no samples
        raise LstmkitError(f"{path} is damaged or cut short (its Ogg stream stops before its end page)",
                           "copy or download it again")
    if never_finished(_opened(source)):
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        raise LstmkitError(f"{path} was never finished: its header says it holds no audio, yet the file is "
                           f"{size:,} bytes long (its writer stopped before filling in the sizes)",
                           "repair it with 'sox --ignore-length IN OUT.wav' and pass OUT.wav")
    raise LstmkitError(f"{path} holds no audio samples", "remove it or re-record it")


def loud_peak(wave: np.ndarray, source: Any) -> float | None:
    """The peak of ``wave`` (samples read from ``source``: a path or a file object) when it is a
    float file's and goes beyond [-1, 1]; None otherwise (lossy decoders overshoot a little)."""
    sf = soundfile()
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    return peak if peak > 1.0 and sf.info(source).subtype in _FLOAT_SUBTYPES else None


def loud_warning(peaks: Sequence[tuple[str, float]]) -> str:
    """The one warning for recordings ``(name, peak)`` whose float samples go beyond [-1, 1]: the
    first, how many more and the loudest peak, the fix. Read as they are, a model that learned on
    audio in range sees them louder than anything it was trained on."""
    name, peak = peaks[0]
    top = max(p for _, p in peaks)
    n = len(peaks)
    more = f" and {n - 1} more (loudest peak {top:.3g})" if n > 1 else ""
    return (f"{name}{more}: float samples reach {peak:.3g}, beyond the [-1, 1] of audio: read as they are (not "
            f"clipped), {20 * math.log10(top):.0f} dB above a full-scale recording; normalise "
            f"{'them' if n > 1 else 'it'} to peak 1 (divide by the peak, or 'sox IN OUT.wav gain -n')")


def common_rate(paths: Sequence[str]) -> int:
    """The most common sample rate of (the first 200 of) ``paths``; 16 kHz when none can be read."""
    sf = soundfile()
    rates = Counter()
    for p in paths[:200]:
        try:
            with _decoder_lines(Path(p)):
                rates[sf.info(p).samplerate] += 1
        except (sf.LibsndfileError, RuntimeError, OSError):
            continue        # read_audio names the file properly later
    return rates.most_common(1)[0][0] if rates else 16000


def report_notes(notes: Sequence[AudioNote]) -> None:
    """One warning per kind of conversion, with a count and the first file (a ``UserWarning``, as
    every task's notes about its input: the CLI prints each as one ``warning:`` line); float audio
    beyond [-1, 1] is one warning (:func:`loud_warning`: the files, the first and the loudest peak,
    the fix), and truncated files another."""
    level = callers_level()
    loud = [(n.file, n.peak) for n in notes if n.peak is not None]
    if loud:
        warnings.warn(loud_warning(loud), UserWarning, stacklevel=level)
    cut = [n for n in notes if n.cut]
    if cut:
        more = f" and {len(cut) - 1} more" if len(cut) > 1 else ""
        warnings.warn(f"{cut[0].file}{more}: {cut[0].what}; read as far as it goes, so its transcript may not "
                      f"match it: copy or export {'them' if more else 'it'} again", UserWarning, stacklevel=level)
    kinds: dict[str, list[str]] = {}
    for n in notes:
        if n.conversion:
            kinds.setdefault(n.what, []).append(n.file)
    for what, files in kinds.items():
        more = f" and {len(files) - 1} more" if len(files) > 1 else ""
        warnings.warn(f"{files[0]}{more}: {what}", UserWarning, stacklevel=level)
