"""Recordings and transcripts in, checked before any run folder exists.

    read_utterances("train.csv")                           manifest CSV with columns ``path,text``;
                                                           relative paths resolve against its folder
    read_utterances("recordings/", "{label}_{speaker}_{take}")
                                                           a folder of WAVs, the text from each name
    read_utterances("speech_commands/")                    class folders (yes/, no/): the text is the folder's name
    read_utterances("LibriSpeech/dev-clean/")              LibriSpeech's .trans.txt, LJSpeech's metadata.csv (:mod:`.corpora`)
    audio_paths(files)                                     transcribe's files, checked to exist
    Symbols.fit(texts)                                     the symbol set: CTC blank 0, then characters

Reading one audio file (``read_audio``, its notes, the sample rate) is :mod:`.audio_files`, re-exported
here. Every failure is one :class:`~lstmkit.errors.LstmkitError` that names the file and the fix.
"""
from __future__ import annotations

import glob
import math
import os
import unicodedata
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.textfile import column_strings
from lstmkit.errors import BadValue, LstmkitError, callers_level, missing_path_fix, opt, worded
from lstmkit.runs import path_exists
from lstmkit.tasks.speech.audio_files import (AudioNote, clip_length, common_rate, loud_peak, loud_warning,
                                              promised_seconds, read_audio, report_notes, resample, MemoryClip)
from lstmkit.tasks.speech.corpora import corpus_recordings, corpus_utterances
from lstmkit.tasks.speech.folders import folder_recordings, read_folder
from lstmkit.tasks.speech.metrics import one_space
from lstmkit.tasks.speech.manifest import Utterances, drop_pattern, manifest_utterances, name_pattern, read_manifest

__all__ = ["Utterances", "read_utterances", "read_validation", "check_pattern_applies", "check_files_exist", "audio_paths", "clip_length",
           "read_manifest", "read_folder", "folder_recordings", "name_pattern", "read_audio", "AudioNote", "loud_peak",
           "promised_seconds", "loud_warning", "resample", "common_rate", "report_notes", "warn_untrained_labels",
           "warn_untrained_symbols", "check_no_shared_utterances", "warn_shared_recordings", "warn_tested_on_training",
           "warn_long_clips", "Symbols", "BLANK"]

BLANK = "<blank>"


def read_utterances(data: Any, label_from_name: str | None = None, as_trained: str | None = None) -> Utterances:
    """A manifest CSV, a folder of class folders (each text its folder's name), a LibriSpeech or
    LJSpeech folder (or its transcript file), a folder of audio
    files (``label_from_name``, else ``as_trained``: a run's own pattern), an :class:`Utterances`,
    a list of ``(path, text)`` pairs, or a DataFrame with the manifest's columns (relative paths
    against the working folder); a ``{path: text}`` dict reads as its pairs."""
    if isinstance(data, Mapping):
        data = list(data.items())
    if isinstance(data, Utterances):
        out = data
    elif isinstance(data, (list, tuple)):
        if not data:
            raise BadValue("no utterances given (empty list)", "pass (path, text) pairs")
        for k, pair in enumerate(data):
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise LstmkitError(f"utterance {k} is {pair!r}, not a (path, text) pair",
                                   "pass a list of (path, text) pairs, e.g. [('a.wav', 'yes')], or a manifest CSV")
        held = next((k for k, pair in enumerate(data) if _in_memory(pair[0])), None)
        if held is not None:
            write = ("soundfile.write('a.wav', d['array'], d['sampling_rate']) of each audio dict d"
                     if isinstance(data[held][0], Mapping) else "soundfile.write('a.wav', samples, rate)")
            raise LstmkitError(f"utterance {held} holds samples in memory; training reads audio files",
                               f"write the samples to WAV files first ({write}) and pass (path, text) pairs; "
                               "predict and evaluate take samples with sample_rate=")
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
        corpus = corpus_utterances(path, label_from_name)
        if corpus is not None:
            out = corpus
        elif path.is_dir():
            out = read_folder(path, label_from_name, as_trained)
        else:
            out = read_manifest(path)
    for p, t in zip(out.paths, out.texts):
        if not t.strip():
            raise LstmkitError(f"the transcript of {p} is empty", "give every recording its text")
    check_files_exist(out.paths)
    # one spelling of each accented letter: 'é' typed (NFC) and 'é' from a macOS file name (NFD, e + U+0301)
    # were different symbols, so a model trained on one could write none of the other's accents
    return Utterances(out.paths, [unicodedata.normalize("NFC", t) for t in out.texts], out.fields, out.source, out.parts)


def read_validation(data: Any, label_from_name: str | None = None) -> Utterances:
    """The utterances of data given to validate on (``--val``): a folder whose parts give a split
    (a top LibriSpeech folder's subsets, Speech Commands' lists) stands for its validation part
    (:meth:`Utterances.validation_part`), said in one warning in place of the folder's split."""
    # a plain catch_warnings, not errors.warnings_caught: reading may open audio under stderr_lines' lock, and
    # one lock is never taken inside the other; the filter is narrow, and a fit's (fits take turns)
    with warnings.catch_warnings():  # its 'to train on ... to test' would misdescribe --val
        warnings.filterwarnings("ignore", message=".*: its subsets give the split")
        utts = read_utterances(data, label_from_name)
    val = utts.validation_part()
    if len(val) < len(utts):
        warnings.warn(f"{utts.source}: validated on its {len(val)} recordings held out for validation (dev-* subsets, "
                      f"validation_list.txt); its {len(utts) - len(val)} others are left out",
                      UserWarning, stacklevel=callers_level())
    return val


def check_pattern_applies(pattern: str | None, *data: Any) -> None:
    """An error when a ``--label-from-name`` pattern is given but none of ``data`` is a folder: a
    manifest's (or pairs') texts are the transcripts, and the pattern was ignored without a word."""
    if pattern and not any(isinstance(d, (str, os.PathLike)) and Path(d).is_dir() for d in data):
        shown = next((str(d) for d in data if isinstance(d, (str, os.PathLike))), "the data given")
        raise LstmkitError(f"{opt('label_from_name')} applies to a folder of recordings; {shown} is not one, and its "
                           "transcripts are the ones it lists", drop_pattern())


def check_files_exist(paths: Sequence[str], listed: bool = True) -> None:
    """Every audio file (``listed`` in a manifest, else given one by one) is there before any is
    read: many missing ones are one error naming how many and the first few, not one error per
    attempt after minutes of reading."""
    gone = [p for p in paths if not isinstance(p, MemoryClip) and not path_exists(Path(p))]
    if len(gone) == 1 and not listed and any(c in Path(gone[0]).name for c in "*?["):
        raise LstmkitError(f"no file matches {gone[0]} (the shell passed the pattern on unexpanded)",
                           "check the pattern and the folder it is run from")
    twin = _case_twin(gone[0]) if gone else None
    case_fix = (f"names are case-sensitive here: write the name as it is on disk ({twin})" if twin else None)
    if len(gone) == 1:
        raise LstmkitError(f"audio file not found: {gone[0]}" + (f" ({twin} is there)" if twin else ""),
                           case_fix or "check the path" + (" (manifest paths are relative to it)" if listed else ""))
    if gone:
        shown = ", ".join(gone[:3]) + (", …" if len(gone) > 3 else "")
        raise LstmkitError(f"{len(gone)} of the {len(paths)} audio files {'listed' if listed else 'given'} are not "
                           f"found: {shown}" + (f" ({twin} is there)" if twin else ""), case_fix or (
                               "check the paths (a manifest's are relative to its folder), or remove the rows of "
                               "recordings you do not have" if listed else "check the paths"))


def _case_twin(path: str) -> str | None:
    """The name of the file beside ``path`` that differs from its name in case only ('a.WAV' for a
    manifest's 'a.wav', written where names are not case-sensitive: Windows, macOS), or None."""
    folder, name = Path(path).parent, Path(path).name.casefold()
    try:
        return next((e.name for e in os.scandir(folder) if e.name.casefold() == name and e.is_file()), None)
    except OSError:             # the folder is not there either
        return None


def _in_memory(x: Any) -> bool:
    """Whether ``x`` is samples in memory (a numpy array, a torch tensor, a pandas Series, an audio
    dict, a list of Python numbers), not a path."""
    return (isinstance(x, (np.ndarray, MemoryClip, Mapping)) or type(x).__module__.split(".")[0] in ("torch", "pandas")
            or isinstance(x, (list, tuple)) and bool(x) and all(isinstance(v, (int, float)) for v in x))


def _is_missing(text: Any) -> bool:
    return text is None or isinstance(text, float) and math.isnan(text)


def warn_untrained_labels(train: Utterances, val: Utterances) -> None:
    """One warning when a validation label has no training recording: the model can never answer it."""
    unseen = sorted(set(val.texts) - set(train.texts))
    if unseen:
        warnings.warn(f"{len(unseen)} label(s) of the validation part have no training recording "
                      f"({', '.join(map(repr, unseen[:5]))}): the model cannot learn them and scores 0 on them; "
                      f"give each label several recordings (or pass {worded('--val', 'val_data=')} with labels of the training "
                      "data)",
                      UserWarning, stacklevel=callers_level())


def warn_untrained_symbols(train: Utterances, val: Utterances) -> None:
    """One warning when validation transcripts hold characters no training transcript has (an
    upper-case validation set, say): the model cannot learn them, and each counts as an error."""
    seen = {c for t in train.texts for c in t}
    unseen = sorted({c for t in val.texts for c in t} - seen)
    if unseen:
        shown = ", ".join(map(repr, unseen[:8])) + (", ..." if len(unseen) > 8 else "")
        warnings.warn(f"{len(unseen)} character(s) of the validation transcripts occur in no training transcript "
                      f"({shown}): the model cannot learn them and each counts as an error; write both parts alike "
                      "(same case, same punctuation)", UserWarning, stacklevel=callers_level())


def check_no_shared_utterances(train: Utterances, val: Utterances) -> None:
    """An error when a corpus utterance id (LibriSpeech's, LJSpeech's) is in both the training and the
    validation data (``--val`` a subset of ``--data``, or a copy of it): the same utterance would be
    trained on and scored, and early stopping would trust the flattering score."""
    ids = {f["utterance"] for f in train.fields if "utterance" in f}
    shared = [f["utterance"] for f in val.fields if f.get("utterance") in ids]
    if shared:
        raise LstmkitError(f"{len(shared)} of the {len(val)} validation utterances are in the training data too "
                           f"(first: {shared[0]}): they would be trained on and scored",
                           worded("pass --val a folder or file the training data does not hold (LibriSpeech: --data "
                                  "train-clean-100/ --val dev-clean/, or the top folder alone: its subsets give the split)",
                                  "pass val_data= a folder or file the training data does not hold (LibriSpeech: "
                                  "data='train-clean-100/', val_data='dev-clean/', or the top folder alone: its "
                                  "subsets give the split)"))


def _shared_paths(train: Utterances, other: Utterances) -> list[str]:
    """The recordings of ``other`` that are training recordings too (the same file, however spelled)."""
    seen = {os.path.normcase(os.path.abspath(p)) for p in train.paths}
    return [p for p in other.paths if os.path.normcase(os.path.abspath(p)) in seen]


def warn_shared_recordings(train: Utterances, val: Utterances) -> None:
    """One warning when validation recordings are training recordings too (the same file, or a
    --val manifest that repeats --data): the validation scores, which early stopping trusts, flatter the model."""
    shared = _shared_paths(train, val)
    if shared:
        warnings.warn(f"{len(shared)} of the {len(val)} validation recordings are training recordings too (first: "
                      f"{Path(shared[0]).name}): the validation scores flatter the model, and early stopping trusts "
                      f"them; pass {worded('--val', 'val_data=')} with recordings kept out of training", UserWarning,
                      stacklevel=callers_level())


def warn_tested_on_training(train: Utterances, test: Utterances) -> None:
    """One warning when test recordings are training recordings too (``--test`` the ``--data`` manifest,
    or a copy of its rows): the test scores are on recordings the model learned, and flatter it."""
    shared = _shared_paths(train, test)
    if shared:
        warnings.warn(f"{len(shared)} of the {len(test)} test recordings are training recordings too (first: "
                      f"{Path(shared[0]).name}): the test scores flatter the model; pass --test recordings kept "
                      "out of --data", UserWarning, stacklevel=callers_level())


LONG_SECONDS = 60.0      # a recording longer is one unsegmented sequence: warned of (the service refuses it)


def warn_long_clips(paths: Sequence[str], durations: Sequence[float], frames: Sequence[int],
                    median: float | None = None) -> None:
    """One warning when recordings run over :data:`LONG_SECONDS`, naming the longest, its length and
    frames: each is read as one sequence (a 30-minute one: 180,000 frames, which training's CTC aligns
    its transcript over), and memory and time grow with it; training, evaluation and transcription
    alike. ``median`` (training: the median training clip, s): the longest's ratio to it when 10x or
    more, as each clip batched with it is padded to its length (a 60-minute one beside eight short ones
    took 4.6 GB at hidden size 4)."""
    long = [k for k, d in enumerate(durations) if d > LONG_SECONDS]
    if not long:
        return
    k = max(long, key=lambda i: durations[i])
    padded = median is not None and 0 < median and durations[k] > 10 * median
    more = f" (and {len(long) - 1} more recording(s) over a minute)" if len(long) > 1 else ""
    warnings.warn(f"{Path(paths[k]).name} is {durations[k] / 60:.1f} min long"
                  + (f", {durations[k] / median:.0f}x the median training clip ({median:.1f} s)" if padded else "")
                  + f"{more}: it is read as one sequence of {frames[k]:,} frames, and memory and time grow with its "
                  "length" + ("; training pads the clips batched with it to its length" if padded else "")
                  + "; split long recordings into clips of one utterance (under 30 s, as speech corpora hold them)",
                  UserWarning, stacklevel=callers_level())


def audio_paths(files) -> list[str]:
    """``transcribe``'s files as a list of paths (any iterable of them), a folder as every audio file
    in it and its sub-folders, a pattern (``clips/*.wav``) as the paths it matches; samples in memory are refused with the way to write them to a WAV."""
    try:                          # a bytes path was iterated into its byte values ("got int 97")
        files = [files] if isinstance(files, (str, bytes, os.PathLike)) else list(files)
    except TypeError:
        files = [files]
    files = [os.fsdecode(f) if isinstance(f, (bytes, os.PathLike)) else f for f in files]
    bad = [f for f in files if not isinstance(f, str)]
    if bad:
        raise LstmkitError(f"transcribe takes audio file paths or samples (arrays, tensors), got "
                           f"{type(bad[0]).__name__} {str(bad[0])[:40]!r}",
                           "pass a list of paths, e.g. ['a.wav'], or of 1-D sample arrays with sample_rate=")
    if not files:
        raise BadValue("no audio files given (empty list)", "pass at least one path, e.g. ['a.wav']")
    empty = [k for k, f in enumerate(files) if not f.strip()]
    if empty:                     # Path('') is the working folder: its recordings were transcribed, or none found there
        raise LstmkitError(f"path {empty[0]} of {len(files)} is empty text ({files[empty[0]]!r}), not a file's path",
                           "drop it, or pass the recording's path, e.g. 'a.wav'")
    files = [p for f in files for p in _matched(f)]
    check_files_exist([str(f) for f in files], listed=False)
    return [p for f in files for p in (_folder_audio(f) if Path(f).is_dir() else [str(f)])]


def _matched(path: str) -> list[str]:
    """``path``, or the paths its wildcards match (sorted) where no file has that name: a pattern the
    shell left as it was (quoted, given by a script, or typed in Windows' cmd.exe, which expands none)
    was "no file matches" while files did."""
    if not glob.has_magic(path) or path_exists(Path(path)):
        return [path]
    return sorted(glob.glob(path, recursive=True)) or [path]


def _folder_audio(folder: str) -> list[str]:
    """The audio files of a folder: a LibriSpeech one's chapter folders, or any other's files and sub-folders."""
    found = corpus_recordings(folder)
    return folder_recordings(folder) if found is None else found


# -- symbols -------------------------------------------------------------------------------------
class Symbols:
    """The output alphabet: ``<blank>`` (CTC) at index 0, then every character of the
    training transcripts in sorted order. Plain data: ``to_dict`` / ``from_dict``."""

    def __init__(self, chars: Sequence[str]):
        self.chars = list(chars)
        self.index = {c: i + 1 for i, c in enumerate(self.chars)}

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Symbols:
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
        """The text of ``ids`` (blanks left out), words one space apart, none at either end: a CTC model
        writes a space, a blank, a space ... through a pause, so a clip of silence came out as a run of
        spaces and a minute of it before a word as hundreds (jiwer's scores strip them; the transcript did not)."""
        return one_space("".join(self.chars[i - 1] for i in ids if i > 0))

    def to_dict(self) -> dict[str, Any]:
        return {"blank": 0, "chars": self.chars}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Symbols:
        return cls(d["chars"])
