"""Recordings in memory for the Python API: numpy arrays and torch tensors read as their WAV files are.

    is_samples(x)                          whether ``x`` is samples in memory (an array or a tensor)
    is_clip(x)                             ... or a Series of numbers, a list of Python numbers (one clip)
    memory_clip(x, sample_rate, name)      -> a :class:`~.audio_files.MemoryClip`, checked
    batch_rows(x)                          a 2-D array's rows as clips (scikit-learn's X), else None
    audio_sources(files, sample_rate)      predict's input: paths (a folder: its audio files) and clips
    recordings_column(x)                   X given as a pyarrow array, an [N, 1] array or a one-column DataFrame: its column
    memory_utterances(data, sample_rate)   evaluate's ``(samples, text)`` pairs as :class:`Utterances`

A clip is a numpy array (any byte order: ``>i2`` as ``<i2``), a torch tensor, a pandas Series of
numbers (or a DataFrame of one such column), a Hugging Face ``datasets`` audio dict
(``{"array": samples, "sampling_rate": 16000, "path": ...}``, at its own rate), or a list of numbers (``wave.tolist()``, ``list(wave)``;
Python ints alone are refused: they do not say their sample width, and no scale is guessed). It gives the samples soundfile reads of
the same audio written to a WAV file: float samples as they are (float32), integer PCM scaled as WAV's is (int16 by 1/32768, int32 by 2**-31, int8 by 1/128,
uint8 around 128), a 2-D clip's channels averaged (``(channels, samples)`` or ``(samples, channels)``,
told apart by the shorter side, at most :data:`MAX_CHANNELS`), then resampled to the model's rate, so
transcripts and probabilities equal the file's. A 2-D array given as ``X`` itself is a batch, one clip
per row, as scikit-learn's ``X`` is (one answer per row); a recording with channels goes in a list
(``[samples]``). Every problem is one
:class:`~lstmkit.errors.LstmkitError` naming the clip, what is wrong and the fix.
"""
from __future__ import annotations

import numbers
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from lstmkit.data.arrays import arrow_as_frame, matrix_as_array, tensor_as_array
from lstmkit.data.columns import missing_value
from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.audio_files import MemoryClip
from lstmkit.tasks.speech.manifest import TEXT_ALIASES, Utterances

__all__ = ["MAX_CHANNELS", "AUDIO_DICT_KEYS", "is_samples", "is_clip", "is_audio_dict", "memory_clip", "batch_rows",
           "audio_sources", "memory_utterances", "given_labels", "recordings_column", "MemoryClip"]

MAX_CHANNELS = 8            # a 2-D array's shorter side up to this is its channels (7.1 audio); more: ambiguous
# a Hugging Face datasets Audio feature's decoded value: {"array": samples, "sampling_rate": Hz, "path": str | None}
AUDIO_DICT_KEYS = ("array", "sampling_rate")
# integer PCM as WAV holds it: (offset, full scale) of each dtype soundfile reads as float
_PCM = {np.dtype(np.int8): (0, 128), np.dtype(np.int16): (0, 32768), np.dtype(np.int32): (0, 2 ** 31),
        np.dtype(np.uint8): (128, 128)}


def is_samples(x: Any, item: bool = False) -> bool:
    """Whether ``x`` is a recording in memory: a numpy array or a torch tensor (a numpy scalar: a
    wrong one, refused by shape; numpy's string scalars are paths). An array of paths (strings, as
    scikit-learn hands ``X`` over) is not, unless it is an ``item`` of a list, where it is a clip of
    the wrong type."""
    if isinstance(x, np.ndarray):
        return item or not (x.dtype.kind in "US" or x.dtype.kind == "O" and x.size
                            and all(isinstance(v, (str, os.PathLike)) for v in x.flat))
    if isinstance(x, np.generic) and not isinstance(x, (str, bytes)):
        return True
    if _series(x) is not None or _number_frame(x):
        return True
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _series(x: Any) -> Any:
    """``x`` as a pandas Series of numbers (a column of samples) when it is one, or a DataFrame with
    one column of numbers (``df[["samples"]]``, read as its column); else None."""
    pd = sys.modules.get("pandas")          # a Series exists only where pandas was imported
    if pd is None:
        return None
    if isinstance(x, pd.DataFrame) and x.shape[1] == 1:
        x = x.iloc[:, 0]
    if not isinstance(x, pd.Series):
        return None
    return x if pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype) else None


def _number_frame(x: Any) -> bool:
    """Whether ``x`` is a pandas DataFrame of numbers with other than one column: samples in memory,
    but not one clip (refused by :func:`memory_clip`, naming its columns)."""
    pd = sys.modules.get("pandas")
    return (pd is not None and isinstance(x, pd.DataFrame) and x.shape[1] != 1 and x.size > 0
            and all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in x.dtypes))


def _number_list(x: Any) -> bool:
    """Whether ``x`` is a list (or tuple) of numbers: one clip's samples, as ``wave.tolist()`` gives
    them (Python numbers) or ``list(wave)`` does (numpy scalars, all of one type, which keeps the
    samples' type: ``list(int16_wave)`` is 16-bit PCM). A list of clips holds arrays, tensors or
    paths, never bare numbers; numpy scalars of mixed types are refused, each a clip of shape ()."""
    if not isinstance(x, (list, tuple)) or len(x) == 0:
        return False
    if all(isinstance(v, np.generic) for v in x):
        return len({v.dtype for v in x}) == 1 and x[0].dtype.kind in "fiu"
    return all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.generic)) for v in x)


def is_audio_dict(x: Any, item: bool = True) -> bool:
    """Whether ``x`` is a Hugging Face ``datasets`` audio dict (``ds[0]["audio"]``): any mapping among
    clips (an ``item`` of a list, a pair's first), and as ``X`` itself one holding such a dict's keys
    (``array``, ``sampling_rate``, ``path``; ``bytes`` where the column was not decoded)."""
    return isinstance(x, Mapping) and (item or any(k in x for k in (*AUDIO_DICT_KEYS, "path", "bytes")))


def _audio_dict_clip(d: Mapping, sample_rate: Any, name: str) -> MemoryClip:
    """An audio dict's ``array`` at its own ``sampling_rate``; a ``sample_rate=`` given beside it must agree."""
    gone = next((k for k in AUDIO_DICT_KEYS if k not in d), None)
    if gone is not None:
        keys = ", ".join(map(repr, list(d)[:6])) or "none"
        raise LstmkitError(f"{name} is a dict without {gone!r} (its keys: {keys}): an audio dict holds its samples "
                           "in 'array' and their rate in 'sampling_rate', as a Hugging Face datasets Audio column "
                           "yields them", "decode the audio column first (ds.cast_column('audio', datasets.Audio()))"
                           if "bytes" in d else f"give each dict its {gone!r}, or pass the samples as an array "
                           "with sample_rate=")
    path = d.get("path")
    name = f"{name} ({os.path.basename(path)})" if isinstance(path, str) and path else name
    rate = _check_rate_given(d["sampling_rate"], f"the 'sampling_rate' of {name}")
    if sample_rate is not None and _check_rate_given(sample_rate) != rate:
        raise LstmkitError(f"sample_rate={sample_rate!r} was given with {name}, whose 'sampling_rate' is {rate}",
                           "drop sample_rate= (an audio dict carries its own rate)")
    return memory_clip(d["array"], rate, name)


def _python_ints(x: Any) -> bool:
    """Whether ``x`` is a list (or tuple) of Python ints only: samples with no sample width."""
    return isinstance(x, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in x)


def _torch():
    return sys.modules.get("torch")        # a tensor exists only where torch was imported


def _as_numpy(x: Any, name: str) -> np.ndarray:
    """``x`` as a numpy array: a tensor detached and on the CPU (bfloat16 as float32), in native byte order."""
    torch = _torch()
    if torch is not None and isinstance(x, torch.Tensor):
        if x.is_complex() or x.dtype == torch.bool:
            raise _bad_dtype(name, str(x.dtype).removeprefix("torch."))
        if x.is_meta:
            raise LstmkitError(f"{name} is a tensor on the meta device: it has a shape {tuple(x.shape)} but no samples",
                               "pass a tensor that holds the recording's samples (on the CPU or a GPU)")
        return tensor_as_array(x)           # half floats become float32 with the other floats
    if _series(x) is not None:
        x = _series(x).to_numpy()
    a = np.asarray(x)
    if a.dtype.byteorder not in "=|":            # big-endian samples ('>i2', '>f4'): the same values, native order
        a = a.astype(a.dtype.newbyteorder("="))
    return a


def _bad_dtype(name: str, dtype: str, why: str = "") -> LstmkitError:
    return LstmkitError(f"{name} holds {dtype} values{why}, not audio samples",
                        "pass float samples in [-1, 1] (np.float32) or 16-bit PCM (np.int16)")


def _pcm_hint(a: np.ndarray) -> str:
    """The fix for integer samples of no PCM width: the narrowest PCM width their values fit, or floats."""
    floats = "pass float samples in [-1, 1] (np.float32)"
    for width, dtype in ((16, np.int16), (32, np.int32)):
        info = np.iinfo(dtype)
        if a.size and a.min() >= info.min and a.max() <= info.max:
            return f"if they are {width}-bit PCM samples pass np.asarray(x, dtype=np.int{width}); else {floats}"
    return floats


def _check_rate_given(sample_rate: Any, what: str = "sample_rate") -> int:
    if sample_rate is None and what == "sample_rate":
        raise LstmkitError("samples in memory need their sample rate: sample_rate= is missing",
                           "pass sample_rate=, e.g. predict(samples, sample_rate=16000)")
    whole_float = isinstance(sample_rate, (float, np.floating)) and float(sample_rate).is_integer()
    if isinstance(sample_rate, (bool, np.bool_)) or not (isinstance(sample_rate, (int, np.integer)) or whole_float):
        raise LstmkitError(f"{what} must be a whole number of Hz, got {sample_rate!r}", "pass sample_rate=16000, say"
                           if what == "sample_rate" else "set it to the samples' rate in Hz, e.g. 16000")
    return int(sample_rate)              # 16000.0 (librosa's, a frame's cell, 16e3) is 16000


def _check_no_rate(sample_rate: Any) -> None:
    """A ``sample_rate`` given with audio files only: refused (files carry their own rate)."""
    if sample_rate is not None:
        raise LstmkitError(f"sample_rate={sample_rate!r} was given with audio files, which carry their own rate",
                           "drop sample_rate= (it is for samples in memory)")


def memory_clip(x: Any, sample_rate: Any, name: str) -> MemoryClip:
    """One recording in memory (1-D, or 2-D with channels; an audio dict at its own rate) as the
    :class:`MemoryClip` its WAV file reads as."""
    if is_audio_dict(x):
        return _audio_dict_clip(x, sample_rate, name)
    rate = _check_rate_given(sample_rate)
    if _number_frame(x):
        cols = ", ".join(map(str, list(x.columns)[:4])) + (", ..." if x.shape[1] > 4 else "")
        raise LstmkitError(f"{name} is a DataFrame with {x.shape[1]} columns ({cols}): one clip is one column of "
                           "samples", f"pass one column (df[{str(x.columns[0])!r}]), several clips as a list of "
                           "columns ([df[c] for c in df]), or channels mixed down (df.mean(axis=1))")
    if _python_ints(x):                 # [0, 120, -3]: 16-bit PCM? 8-bit? 32-bit? nothing says, so no scale is guessed
        raise LstmkitError(f"{name} is a list of Python ints, which do not say their sample width (16-bit PCM "
                           "is scaled by 1/32768, 8-bit by 1/128, 32-bit by 2**-31)", _pcm_hint(np.asarray(x)))
    a = _as_numpy(x, name)
    if a.dtype.kind not in "fiu":
        raise _bad_dtype(name, str(a.dtype))
    if a.dtype.kind in "iu" and a.dtype not in _PCM:
        raise LstmkitError(f"{name} holds {a.dtype} values (no PCM format has that full scale), not audio samples",
                           _pcm_hint(a))
    if a.ndim == 0 or a.ndim > 2:
        raise LstmkitError(f"{name} has shape {a.shape}: a recording is 1-D (samples), or 2-D with its channels",
                           "pass one clip as a 1-D array, and several as a list of them")
    if a.size == 0:
        raise LstmkitError(f"{name} is empty (shape {a.shape}): it holds no samples", "leave it out, or pass its samples")
    if a.ndim == 1:
        block = a[:, None]
    else:
        rows, cols = a.shape
        if min(rows, cols) > MAX_CHANNELS or rows == cols:
            raise LstmkitError(f"{name} has shape {a.shape}: which side is its channels is ambiguous (at most "
                               f"{MAX_CHANNELS} channels, the shorter side)",
                               "pass a mono clip as a 1-D array (samples.mean(axis=...) mixes channels down), and "
                               "several clips as a list of 1-D arrays (list(batch)), not one 2-D array")
        block = a.T if rows < cols else a             # [samples, channels], as a file is read
    if a.dtype.kind == "f":
        block = block.astype(np.float32, copy=False)
        if not np.isfinite(block).all():
            sample, channel = (int(i) for i in np.argwhere(~np.isfinite(block))[0])
            raise LstmkitError(f"{name} holds a non-finite sample ({block[sample, channel]}) at sample {sample}",
                               "replace NaN and infinite samples (np.nan_to_num) or leave the clip out")
        return MemoryClip(name, block, rate, floats=True)
    offset, scale = _PCM[a.dtype]
    floats = block.astype(np.float32)
    if offset:
        floats -= np.float32(offset)
    return MemoryClip(name, floats * np.float32(1 / scale), rate, floats=False)


def batch_rows(x: Any) -> list | None:
    """The clips of ``x`` given as ``X`` itself: a 2-D array's (or tensor's) rows, one clip each, as
    scikit-learn's ``X`` holds one sample per row; None for anything else (a 1-D clip, or a shape
    :func:`memory_clip` refuses). A tall array with a few columns is one recording's
    ``(samples, channels)`` passed bare, refused rather than read as thousands of tiny clips."""
    if not is_samples(x) or len(getattr(x, "shape", ())) != 2 or _series(x) is not None or _number_frame(x):
        return None                      # a DataFrame of samples is one clip (one column), or refused
    rows, cols = (int(n) for n in x.shape)
    if cols <= MAX_CHANNELS and rows > cols:
        raise LstmkitError(f"the in-memory samples have shape {(rows, cols)}: read as a batch (one clip per row, as "
                           f"scikit-learn's X is) that is {rows} clips of {cols} samples each",
                           "pass one recording with its channels inside a list ([samples]), or mix it down to a "
                           "1-D array (samples.mean(axis=1)); a batch of clips has one row per clip")
    return [x[i] for i in range(rows)]


def recordings_column(x: Any) -> Any:
    """``X`` as the column of recordings it holds, as scikit-learn's tools hand one over: a pyarrow
    Array or ChunkedArray (of paths or of clips: their list; of numbers: one clip, as its array), a
    ``[N, 1]`` array of paths or clips (a ColumnTransformer's output), a one-column DataFrame of them
    (``df[["path"]]``). These were 'got StringScalar', a batch of N one-sample clips, and the column's
    name read as a file ('audio file not found: path'); a pyarrow Table's or a polars frame's or
    Series' pandas one alike. Anything else as it is (a one-column DataFrame of numbers is one clip)."""
    x = arrow_as_frame(x)
    if hasattr(x, "to_pylist") and hasattr(x, "null_count"):         # pyarrow Array, ChunkedArray
        kind = str(x.type)
        return x.to_numpy() if kind.startswith(("int", "uint", "float", "double", "halffloat")) else x.to_pylist()
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(x, pd.DataFrame) and x.shape[1] == 1 and _series(x) is None:
        column = x.iloc[:, 0]
        if _clips_column(column) or (len(column) and all(isinstance(v, (str, os.PathLike)) for v in column)):
            return column
    if isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == 1 and (x.dtype == object or x.dtype.kind in "US"):
        return x[:, 0]
    return x


def _folder_audio_paths(files: list[str]) -> list[str]:
    from lstmkit.tasks.speech.data import audio_paths
    return audio_paths(files)


def audio_sources(files: Any, sample_rate: Any = None) -> list[str | MemoryClip]:
    """``files`` as the recordings to read, in order: paths (a folder: its audio files, as
    :func:`~.data.audio_paths` finds them) and samples in memory (one array or tensor, or items of a
    list), which need ``sample_rate``; a ``sample_rate`` with files only is refused (files carry theirs).
    A generator (or other iterator) and a column of clips are read as the list of what they hold."""
    files = recordings_column(files)
    if isinstance(files, Iterator) or _clips_column(files):     # were read as files ('sample_rate= … with audio files')
        files = list(files)
    files = matrix_as_array(files)          # np.matrix: its rows 1×N matrices; one row or column: one clip
    rows = batch_rows(files)
    if rows is not None:
        return [memory_clip(r, sample_rate, f"in-memory clip {i}") for i, r in enumerate(rows)]
    if is_samples(files) or _number_list(files) or is_audio_dict(files, item=False):
        return [memory_clip(files, sample_rate, "the in-memory clip")]
    if isinstance(files, (str, bytes, os.PathLike)) or not isinstance(files, (list, tuple)) \
            or not any(is_clip(f) for f in files):
        _check_no_rate(sample_rate)
        return list(_folder_audio_paths(files))
    _check_rate_for(files, sample_rate)
    out: list[str | MemoryClip] = []
    for i, f in enumerate(files):
        out.extend([memory_clip(f, sample_rate, f"in-memory clip {i}")] if is_clip(f)
                   else _folder_audio_paths([f]))
    return out


def _check_rate_for(clips: list, sample_rate: Any) -> None:
    """``sample_rate`` checked before any clip is read where a clip needs it: audio dicts carry their own."""
    if any(is_clip(c) and not is_audio_dict(c) for c in clips):
        _check_rate_given(sample_rate)


def _clips_column(x: Any) -> bool:
    """Whether ``x`` is a pandas Series (``df["audio"]``) or a 1-D numpy object array holding clips
    (arrays of different lengths), which is a list of them, not one clip or a list of paths."""
    pd = sys.modules.get("pandas")
    column = (pd is not None and isinstance(x, pd.Series) and _series(x) is None) or (     # a Series of numbers: one clip
        isinstance(x, np.ndarray) and x.dtype == object and x.ndim == 1)
    return bool(column) and len(x) > 0 and any(is_clip(v) and getattr(v, "ndim", 1) != 0 for v in x)


def _frame_pairs(data: Any) -> Any:
    """A DataFrame whose one column holds clips (``audio``, or ``path`` holding arrays) as the pairs
    of them and its text column (a manifest's: ``text``, ``sentence``, ...); anything else as it is."""
    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(data, pd.DataFrame):
        return data
    clips = [c for c in data.columns if _clips_column(data[c])]
    if len(clips) != 1:
        return data
    names = [str(c) for c in data.columns]
    text = next((c for c in ("text", *TEXT_ALIASES) if c in names), None)
    if text is None:
        raise LstmkitError(f"column {clips[0]!r} of the DataFrame holds clips and no column holds their text "
                           f"(found: {', '.join(names)})", "name the transcripts' (or labels') column 'text'")
    return list(zip(data[clips[0]], data[data.columns[names.index(text)]]))


def given_labels(data: Any) -> tuple[Any, str]:
    """The labels (or transcripts) evaluate's ``data`` holds as the caller typed them, and what holds
    them, for :func:`~lstmkit.data.label_types.check_scored_labels`: a DataFrame's text column, the
    second items of ``(clip, label)`` pairs, a ``{path: label}`` dict's values; ``(None, "")`` for
    anything else (files and folders, whose cells are text). An iterator is listed first by the caller."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(data, pd.DataFrame):
        names = [str(c) for c in data.columns]
        text = next((c for c in ("text", *TEXT_ALIASES) if c in names), None)
        return (None, "") if text is None else (data[data.columns[names.index(text)]], f"the DataFrame's {text!r} column")
    if isinstance(data, Mapping):
        return list(data.values()), "data (a {path: label} dict)"
    if isinstance(data, (list, tuple)) and data and all(_pair(p) for p in data):
        return [p[1] for p in data], "data (its (clip, label) pairs)"
    return None, ""


def is_clip(x: Any, item: bool = True) -> bool:
    """Whether ``x``, one clip of a list (the first of an evaluate pair, a score ``X``), is samples
    in memory: an array, a tensor, a Series, an audio dict, or a list of Python numbers (``item=False``:
    ``X`` itself, where an array of paths is paths, as :func:`is_samples` says)."""
    return is_samples(x, item=item) or _number_list(x) or is_audio_dict(x, item)


def _pair(p: Any) -> bool:
    return isinstance(p, (list, tuple)) and len(p) == 2


def memory_utterances(data: Any, sample_rate: Any = None) -> Any:
    """evaluate's data with ``(samples, text)`` pairs as :class:`Utterances` of clips (a pair's path
    kept as a path); other data as it is, a ``sample_rate`` given with it refused. A generator of
    pairs is read as their list, a DataFrame with a column of clips as its (clip, text) pairs."""
    if isinstance(data, Iterator):
        data = list(data)
    data = _frame_pairs(data)
    if not (isinstance(data, (list, tuple)) and any(_pair(p) and is_clip(p[0]) for p in data)):
        _check_no_rate(sample_rate)
        return data
    _check_rate_for([p[0] for p in data if _pair(p)], sample_rate)
    paths: list[str | MemoryClip] = []
    for i, p in enumerate(data):
        if not _pair(p):
            raise LstmkitError(f"utterance {i} is {type(p).__name__} {str(p)[:40]!r}, not a (samples, text) pair",
                               "pass a list of (samples, text) pairs, e.g. [(wave, 'yes')]")
        paths.append(memory_clip(p[0], sample_rate, f"in-memory clip {i}") if is_clip(p[0]) else str(p[0]))
        if missing_value(p[1]):                              # str(pd.NA) was scored as the text '<NA>'
            raise LstmkitError(f"the transcript of {paths[-1]} is missing ({p[1]!r})", "give every recording its text")
    return Utterances(paths, [str(t) for _, t in data])
