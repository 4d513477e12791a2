"""Recordings and transcripts in, checked before any run folder exists.

    read_utterances("train.csv")                           manifest CSV with columns ``path,text``;
                                                           relative paths resolve against its folder
    read_utterances("recordings/", "{label}_{speaker}_{take}")
                                                           a folder of WAVs, the text from each name
    read_audio(path, rate) -> (wave [N], rate, notes)      mono, resampled to ``rate``; each change an AudioNote
    Symbols.fit(texts)                                     the symbol set: CTC blank 0, then characters

Every failure is one :class:`~lstmkit.errors.LstmkitError` that names the file and the fix.
"""
from __future__ import annotations

import math
import os
import re
import sys
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.tables import PARQUET, SHEETS
from lstmkit.data.textfile import column_strings, file_ext
from lstmkit.errors import LstmkitError, missing_path_fix
from lstmkit.runs import path_exists
from lstmkit.tasks.speech.config import MIN_RATE
from lstmkit.tasks.speech.manifest import Utterances, manifest_utterances, name_pattern, read_folder, read_manifest
from lstmkit.tasks.speech.resampling import BlockResampler, resample

__all__ = ["Utterances", "read_utterances", "check_pattern_applies", "check_files_exist", "audio_paths", "clip_length", "read_manifest",
           "read_folder", "name_pattern", "read_audio", "AudioNote", "loud_peak", "promised_seconds", "loud_warning", "resample",
           "common_rate", "report_notes", "warn_untrained_labels", "warn_untrained_symbols", "warn_shared_recordings",
           "warn_long_clips", "Symbols", "BLANK"]

BLANK = "<blank>"
_READ_FRAMES = 1 << 16    # frames read at once: 512 KiB of float32 stereo
_FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
_STREAMED_SIZE = 0x7FFFF000     # bytes: a writer that cannot seek back (a pipe) puts 0x7ffff000 / 0xffffffff here


def read_utterances(data: Any, label_from_name: str | None = None) -> Utterances:
    """A manifest CSV, a folder of audio files (``label_from_name`` required), an
    :class:`Utterances`, a list of ``(path, text)`` pairs, or a DataFrame with the manifest's
    columns (relative paths against the working folder); a ``{path: text}`` dict reads as its pairs."""
    if isinstance(data, Mapping):
        data = list(data.items())
    if isinstance(data, Utterances):
        out = data
    elif isinstance(data, (list, tuple)):
        if not data:
            raise LstmkitError("no utterances given (empty list)", "pass (path, text) pairs")
        for k, pair in enumerate(data):
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise LstmkitError(f"utterance {k} is {pair!r}, not a (path, text) pair",
                                   "pass a list of (path, text) pairs, e.g. [('a.wav', 'yes')], or a manifest CSV")
        missing = next((pair for pair in data if _is_missing(pair[1])), None)
        if missing is not None:         # str(nan) is 'nan': a transcript of three letters
            raise LstmkitError(f"the transcript of {missing[0]} is missing ({missing[1]!r})",
                               "give every recording its text")
        out = Utterances([str(p) for p, _ in data], [str(t) for _, t in data])
    elif isinstance(data, pd.DataFrame):
        cells = [column_strings(data[c]) for c in data.columns]
        rows = [dict(zip(map(str, data.columns), row)) for row in zip(*cells)]
        out = manifest_utterances(rows, [str(c) for c in data.columns], Path.cwd(), "the DataFrame given")
    elif not isinstance(data, (str, os.PathLike)):      # Path(array) was a bare TypeError
        raise LstmkitError(f"speech data must be a manifest, a folder or (path, text) pairs, got "
                           f"{type(data).__name__} {str(data)[:40]!r}",
                           "pass 'train.csv', a folder with label_from_name, or [('a.wav', 'yes'), ...]; "
                           "write samples to a WAV first (soundfile.write('a.wav', wave, rate))")
    else:
        path = Path(data)
        if not path_exists(path):
            raise LstmkitError(f"data not found: {path}",
                               missing_path_fix(path, "pass a manifest CSV (path,text) or a folder of WAVs"))
        if path.is_dir():
            if not label_from_name:
                raise LstmkitError(f"{path} is a folder but no --label-from-name pattern was given",
                                   "pass e.g. --label-from-name '{label}_{speaker}_{take}', or a manifest CSV")
            out = read_folder(path, label_from_name)
        else:
            out = read_manifest(path)
    for p, t in zip(out.paths, out.texts):
        if not t.strip():
            raise LstmkitError(f"the transcript of {p} is empty", "give every recording its text")
    check_files_exist(out.paths)
    # one spelling of each accented letter: 'é' typed (NFC) and 'é' from a macOS file name (NFD, e + U+0301)
    # were different symbols, so a model trained on one could write none of the other's accents
    return Utterances(out.paths, [unicodedata.normalize("NFC", t) for t in out.texts], out.fields, out.source)


def check_pattern_applies(pattern: str | None, *data: Any) -> None:
    """An error when a ``--label-from-name`` pattern is given but none of ``data`` is a folder: a
    manifest's (or pairs') texts are the transcripts, and the pattern was ignored without a word."""
    if pattern and not any(isinstance(d, (str, os.PathLike)) and Path(d).is_dir() for d in data):
        shown = next((str(d) for d in data if isinstance(d, (str, os.PathLike))), "the data given")
        raise LstmkitError(f"--label-from-name applies to a folder of recordings; {shown} is not one, and its "
                           "transcripts are the ones it lists", "drop --label-from-name (label_from_name=None)")


def check_files_exist(paths: Sequence[str], listed: bool = True) -> None:
    """Every audio file (``listed`` in a manifest, else given one by one) is there before any is
    read: many missing ones are one error naming how many and the first few, not one error per
    attempt after minutes of reading."""
    gone = [p for p in paths if not path_exists(Path(p))]
    if len(gone) == 1 and not listed and any(c in Path(gone[0]).name for c in "*?["):
        raise LstmkitError(f"no file matches {gone[0]} (the shell passed the pattern on unexpanded)",
                           "check the pattern and the folder it is run from")
    if len(gone) == 1:
        raise LstmkitError(f"audio file not found: {gone[0]}",
                           "check the path" + (" (manifest paths are relative to it)" if listed else ""))
    if gone:
        shown = ", ".join(gone[:3]) + (", …" if len(gone) > 3 else "")
        raise LstmkitError(f"{len(gone)} of the {len(paths)} audio files {'listed' if listed else 'given'} are not "
                           f"found: {shown}", "check the paths (a manifest's are relative to its folder), or remove "
                           "the rows of recordings you do not have" if listed else "check the paths")


def _is_missing(text: Any) -> bool:
    return text is None or isinstance(text, float) and math.isnan(text)


def warn_untrained_labels(train: Utterances, val: Utterances) -> None:
    """One warning when a validation label has no training recording: the model can never answer it."""
    unseen = sorted(set(val.texts) - set(train.texts))
    if unseen:
        warnings.warn(f"{len(unseen)} label(s) of the validation part have no training recording "
                      f"({', '.join(map(repr, unseen[:5]))}): the model cannot learn them and scores 0 on them; "
                      "give each label several recordings (or pass --val with labels of the training data)",
                      UserWarning, stacklevel=3)


def warn_untrained_symbols(train: Utterances, val: Utterances) -> None:
    """One warning when validation transcripts hold characters no training transcript has (an
    upper-case validation set, say): the model cannot learn them, and each counts as an error."""
    seen = {c for t in train.texts for c in t}
    unseen = sorted({c for t in val.texts for c in t} - seen)
    if unseen:
        shown = ", ".join(map(repr, unseen[:8])) + (", ..." if len(unseen) > 8 else "")
        warnings.warn(f"{len(unseen)} character(s) of the validation transcripts occur in no training transcript "
                      f"({shown}): the model cannot learn them and each counts as an error; write both parts alike "
                      "(same case, same punctuation)", UserWarning, stacklevel=3)


def warn_shared_recordings(train: Utterances, val: Utterances) -> None:
    """One warning when validation recordings are training recordings too (the same file, or a
    --val manifest that repeats --data): the validation scores, which early stopping trusts, flatter the model."""
    seen = {os.path.normcase(os.path.abspath(p)) for p in train.paths}
    shared = [p for p in val.paths if os.path.normcase(os.path.abspath(p)) in seen]
    if shared:
        warnings.warn(f"{len(shared)} of the {len(val)} validation recordings are training recordings too (first: "
                      f"{Path(shared[0]).name}): the validation scores flatter the model, and early stopping trusts "
                      "them; pass --val with recordings kept out of training", UserWarning, stacklevel=3)


def warn_long_clips(paths: Sequence[str], durations: Sequence[float]) -> None:
    """One warning when a training clip runs over a minute and 10x the median clip: an unsegmented
    recording. Each clip batched with it is padded to its length (a 60-minute one beside eight
    short ones took 4.6 GB at hidden size 4, a 3-hour one would take the machine), and one text
    over minutes of audio teaches little."""
    k = int(np.argmax(durations)) if len(durations) else 0
    median = float(np.median(durations)) if len(durations) else 0.0
    if len(durations) and durations[k] > 60 and durations[k] > 10 * median:
        warnings.warn(f"{Path(paths[k]).name} is {durations[k] / 60:.1f} min long, {durations[k] / median:.0f}x the "
                      f"median training clip ({median:.1f} s): training pads the clips batched with it to its "
                      "length, and memory grows with it; split long recordings into clips of one utterance "
                      "(under 30 s, as speech corpora hold them)", UserWarning, stacklevel=3)


# -- audio ---------------------------------------------------------------------------------------
def clip_length(n_samples: int, rate: int) -> str:
    """A clip's length for a message: milliseconds, and its samples when under 10 ms (1 sample is not '0 ms')."""
    ms = 1000 * n_samples / rate
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.2g} ms ({n_samples} sample{'s' * (n_samples != 1)})"


def audio_paths(files) -> list[str]:
    """``transcribe``'s files as a list of paths (any iterable of them); samples in memory are refused
    with the way to write them to a WAV."""
    try:                          # a bytes path was iterated into its byte values ("got int 97")
        files = [files] if isinstance(files, (str, bytes, os.PathLike)) else list(files)
    except TypeError:
        files = [files]
    files = [os.fsdecode(f) if isinstance(f, (bytes, os.PathLike)) else f for f in files]
    bad = [f for f in files if not isinstance(f, str)]
    if bad:
        raise LstmkitError(f"transcribe takes audio file paths, got {type(bad[0]).__name__} {str(bad[0])[:40]!r}",
                           "pass a list of paths, e.g. ['a.wav']; write samples to a WAV first "
                           "(soundfile.write('a.wav', wave, rate))")
    if not files:
        raise LstmkitError("no audio files given (empty list)", "pass at least one path, e.g. ['a.wav']")
    check_files_exist([str(f) for f in files], listed=False)
    return [str(f) for f in files]


@dataclass(frozen=True)
class AudioNote:
    """What reading one audio file noted: a conversion (``what``), float samples beyond [-1, 1]
    read as they are (``peak``: their largest magnitude), or a file shorter than its header says
    (``promised``: the seconds the header promises); :func:`report_notes` warns about the last two."""
    file: str                     # the file's name
    what: str                     # e.g. "resampled from 44100 Hz to 16000 Hz"
    peak: float | None = None     # set for float samples beyond [-1, 1] only
    promised: float | None = None  # set for a truncated file only

    @property
    def conversion(self) -> bool:
        return self.peak is None and self.promised is None


def read_audio(path: str | Path, rate: int | None) -> tuple[np.ndarray, int, list[AudioNote]]:
    """``(wave [N] float32, rate, notes)``: mono (channels averaged) and resampled to ``rate``
    (None keeps the file's rate); each conversion adds an :class:`AudioNote` naming the file.
    Samples lie in [-1, 1], except a float WAV's beyond it (unnormalised, or clipped in float):
    those are kept as they are, neither clipped nor scaled, with a note carrying the peak.

    The file is read in blocks, each mixed down and resampled as it comes (:class:`BlockResampler`,
    equal to resampling the whole): a 20-minute 44.1 kHz stereo file held whole took 1.2 GB, where
    the wave at 16 kHz is 73 MiB."""
    import soundfile as sf
    path = Path(path)
    if path.is_dir():
        raise LstmkitError(f"{path} is a folder, not an audio file", f"pass the files in it, e.g. {path}/*.wav")
    if not path.is_file():
        raise LstmkitError(f"audio file not found: {path}", "check the path (manifest paths are relative to it)")
    try:
        with sf.SoundFile(str(path)) as f:
            sr, channels, floats = f.samplerate, f.channels, f.subtype in _FLOAT_SUBTYPES
            if sr < MIN_RATE:     # a mislabelled header: 0.3 s at 7 Hz would "resample" to minutes of audio
                raise LstmkitError(f"{path} says its sample rate is {sr} Hz, under the {MIN_RATE} Hz that holds speech",
                                   "re-export the recording at its real rate (e.g. 'sox IN -r 16000 -c 1 OUT.wav')")
            resampler = BlockResampler(sr, sr if rate is None else rate)
            pieces, frames, peak = [], 0, 0.0
            while len(block := f.read(_READ_FRAMES, dtype="float32", always_2d=True)):
                _check_finite(block, frames, path)
                peak = max(peak, float(np.abs(block).max())) if floats else peak
                pieces.append(resampler(_mono(block)))
                frames += len(block)
            pieces.append(resampler.flush())
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        kind = "not a WAV file" if path.suffix.lower() != ".wav" else "unreadable or corrupt"
        table = file_ext(path) in (".csv", ".tsv", *SHEETS, *PARQUET)
        raise LstmkitError(f"{path} is {kind} ({str(e).splitlines()[0]})",
                           "a manifest is --data of 'speech evaluate' or 'speech train', not audio" if table else
                           "pass WAV (PCM or float), FLAC, OGG/Opus or MP3 files, or convert it "
                           "(e.g. 'ffmpeg -i IN -ac 1 -ar 16000 OUT.wav')") from None
    promised = promised_seconds(str(path), frames, sr)
    notes = [] if promised is None else [AudioNote(path.name, f"truncated: its header promises {promised:.2f} s, "
                                                               f"the file holds {frames / sr:.2f} s", None, promised)]
    if peak > 1.0:                  # kept as they are: report_notes warns
        notes.append(AudioNote(path.name, "float samples beyond [-1, 1]", peak))
    if channels > 1:
        notes.append(AudioNote(path.name, f"{channels} channels mixed down to mono"))
    if rate is not None and sr != rate:
        notes.append(AudioNote(path.name, f"resampled from {sr} Hz to {rate} Hz"))
        sr = rate
    if frames == 0:
        _check_finished(path)
        raise LstmkitError(f"{path} holds no audio samples", "remove it or re-record it")
    return np.concatenate(pieces), int(sr), notes


def _mono(block: np.ndarray) -> np.ndarray:
    """The channels' mean ``[N]`` of ``block [N, C]``: ``block.mean(axis=1)``'s values, summed a
    channel at a time (numpy's mean across a row of two took 3 s of a 20-minute stereo file's 8)."""
    mono = block[:, 0].copy()
    for c in range(1, block.shape[1]):
        mono += block[:, c]
    if block.shape[1] > 1:
        mono /= block.shape[1]
    return mono


def _check_finite(block: np.ndarray, offset: int, path: Path) -> None:
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
    import soundfile as sf
    m = re.search(r"^data\s*:\s*(\d+) \(should be (\d+)\)", sf.info(source).extra_info, re.M)
    if m is None or frames == 0:
        return None
    claimed, held = int(m[1]), int(m[2])
    if not held < claimed < _STREAMED_SIZE:
        return None
    promised = frames / rate * claimed / held
    return promised if promised - frames / rate >= 0.01 else None      # not a pad byte or a part-frame


def _check_finished(path: Path) -> None:
    """An error for a WAV whose header says 0 bytes of audio while audio follows it: a recorder that
    stopped (crashed, unplugged) before writing the sizes; "holds no audio samples" told the user to re-record."""
    import soundfile as sf
    log = sf.info(str(path)).extra_info
    if re.search(r"^data\s*:\s*0\s*$", log, re.M) and "Unknown chunk marker" in log:
        raise LstmkitError(f"{path} was never finished: its header says it holds no audio, yet the file is "
                           f"{path.stat().st_size:,} bytes long (its writer stopped before filling in the sizes)",
                           "repair it with 'sox --ignore-length IN OUT.wav' and pass OUT.wav")


def loud_peak(wave: np.ndarray, source: Any) -> float | None:
    """The peak of ``wave`` (samples read from ``source``: a path or a file object) when it is a
    float file's and goes beyond [-1, 1]; None otherwise (lossy decoders overshoot a little)."""
    import soundfile as sf
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


# -- symbols -------------------------------------------------------------------------------------
class Symbols:
    """The output alphabet: ``<blank>`` (CTC) at index 0, then every character of the
    training transcripts in sorted order. Plain data: ``to_dict`` / ``from_dict``."""

    def __init__(self, chars: Sequence[str]):
        self.chars = list(chars)
        self.index = {c: i + 1 for i, c in enumerate(self.chars)}

    @classmethod
    def fit(cls, texts: Sequence[str]) -> "Symbols":
        counts = Counter(c for t in texts for c in t)
        return cls(sorted(counts))

    def __len__(self) -> int:
        return len(self.chars) + 1

    @property
    def tokens(self) -> list[str]:
        return [BLANK, *self.chars]

    def missing(self, text: str) -> list[str]:
        return sorted({c for c in text if c not in self.index})

    def encode(self, text: str, where: str = "") -> list[int]:
        bad = self.missing(text)
        if bad:
            shown = ", ".join(repr(c) for c in bad[:5])
            raise LstmkitError(f"transcript{where} has symbols the model does not know: {shown}",
                               f"the model's symbols are {''.join(self.chars)!r}; fix the text or retrain")
        return [self.index[c] for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.chars[i - 1] for i in ids if i > 0)

    def to_dict(self) -> dict[str, Any]:
        return {"blank": 0, "chars": self.chars}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Symbols":
        return cls(d["chars"])


def seconds(n_samples: int, rate: int) -> float:
    return n_samples / rate if rate else math.nan


def common_rate(paths: Sequence[str]) -> int:
    """The most common sample rate of (the first 200 of) ``paths``; 16 kHz when none can be read."""
    import soundfile as sf
    rates = Counter()
    for p in paths[:200]:
        try:
            rates[sf.info(p).samplerate] += 1
        except (sf.LibsndfileError, RuntimeError, OSError):
            continue        # read_audio names the file properly later
    return rates.most_common(1)[0][0] if rates else 16000


def report_notes(notes: Sequence[AudioNote]) -> None:
    """One stderr line per kind of conversion, with a count and the first file; float audio beyond
    [-1, 1] is one warning (:func:`loud_warning`: the files, the first and the loudest peak, the fix),
    and truncated files another."""
    loud = [(n.file, n.peak) for n in notes if n.peak is not None]
    if loud:
        warnings.warn(loud_warning(loud), UserWarning, stacklevel=2)
    cut = [n for n in notes if n.promised is not None]
    if cut:
        more = f" and {len(cut) - 1} more" if len(cut) > 1 else ""
        warnings.warn(f"{cut[0].file}{more}: {cut[0].what}; read as far as it goes, so its transcript may not "
                      f"match it: copy or export {'them' if more else 'it'} again", UserWarning, stacklevel=2)
    kinds: dict[str, list[str]] = {}
    for n in notes:
        if n.conversion:
            kinds.setdefault(n.what, []).append(n.file)
    for what, files in kinds.items():
        more = f" and {len(files) - 1} more" if len(files) > 1 else ""
        print(f"note: {files[0]}{more}: {what}", file=sys.stderr)
