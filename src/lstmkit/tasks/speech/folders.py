"""Folders of recordings: each text from its file's name, or from the name of its class folder.

    read_folder("recordings/", "{label}_{speaker}_{take}")   audio files directly in the folder, texts from names
    read_folder("speech_commands/")                          class folders (yes/0a7c2a8d_nohash_0.wav, no/...):
                                                             each recording's text is its folder's name
    folder_recordings("clips/")                              every audio file in a folder and its sub-folders
                                                             (transcribe: no texts needed)

Speech Commands' conventions hold for class folders: a folder whose name starts with ``_``
(``_background_noise_``) is no class and is skipped with one warning (hidden ``.`` folders
silently), and ``validation_list.txt`` / ``testing_list.txt`` at the top (paths relative to it, one a
line) put their recordings in :attr:`Utterances.parts`, the split training and evaluation then
use instead of a random one. Audio files both at the top and in class folders are one error
naming both; folders without audio are named in a warning (all of them: in the error), and so are
audio files deeper down (``yes/deep/x.wav``), which are not read.
"""
from __future__ import annotations

import os
import posixpath
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lstmkit.errors import LstmkitError, callers_level, opt
from lstmkit.tasks.speech.manifest import AUDIO_SUFFIXES, Utterances, drop_pattern, name_pattern, pattern_option

__all__ = ["read_folder", "folder_recordings", "LIST_FILES"]

LIST_FILES = {"val": "validation_list.txt", "test": "testing_list.txt"}     # Speech Commands' official split
_CONVERT = "or convert them to WAV (e.g. 'ffmpeg -i IN -ac 1 -ar 16000 OUT.wav')"


@dataclass
class _Layout:
    """What a folder holds: audio files at its top, class folders with audio (name -> files, sorted),
    sub-folders without audio, ``_`` folders skipped, and the folders inside its sub-folders that
    hold audio, which is not read ('yes/deep/' -> its audio files at any depth)."""
    root: Path
    files: list[Path] = field(default_factory=list)
    classes: dict[str, list[Path]] = field(default_factory=dict)
    empty: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deeper: dict[str, int] = field(default_factory=dict)


def _entries(folder: str | Path) -> tuple[list[Path], list[str]]:
    """The audio files directly in ``folder`` and the names of its folders, both sorted
    (``os.scandir``: no extra system call per file, which counts in Speech Commands' 105,000);
    hidden ones are neither (macOS writes ``._name.wav`` beside each file it copies to a foreign
    disk: metadata, not audio)."""
    audio, folders = [], []
    with os.scandir(folder) as entries:
        for e in entries:
            if e.name.startswith("."):
                continue
            if e.is_dir():
                folders.append(e.name)
            elif e.is_file() and Path(e.name).suffix.lower() in AUDIO_SUFFIXES:
                audio.append(Path(e.path))
    return sorted(audio), sorted(folders)


def _audio_below(folder: Path) -> int:
    """How many audio files ``folder`` and its folders hold, at any depth (hidden ones aside)."""
    n = 0
    for _, folders, files in os.walk(folder):
        folders[:] = [d for d in folders if not d.startswith(".")]
        n += sum(not f.startswith(".") and Path(f).suffix.lower() in AUDIO_SUFFIXES for f in files)
    return n


def _layout(root: Path) -> _Layout:
    files, folders = _entries(root)
    out = _Layout(root, files)
    for name in folders:
        if name.startswith("_"):
            out.skipped.append(name)
            continue
        audio, inner = _entries(root / name)
        if audio:
            out.classes[name] = audio
        else:
            out.empty.append(name)
        for sub in inner:
            if n := _audio_below(root / name / sub):
                out.deeper[f"{name}/{sub}/"] = n
    return out


def _shown(names: list[str], n: int = 4) -> str:
    return ", ".join(names[:n]) + (", …" if len(names) > n else "")


def _no_audio(layout: _Layout) -> LstmkitError:
    """The error for a folder without audio files at its top or in its folders: what it holds instead."""
    folder = layout.root
    others = Counter(p.suffix.lower() for p in folder.iterdir()
                     if p.is_file() and p.suffix and not p.name.startswith("."))       # '._x.wav' is no .wav
    held = f" (it holds {', '.join(f'{n} {ext}' for ext, n in others.most_common(3))})" if others else ""
    subs = f" nor in its folders ({_shown([f'{d}/' for d in layout.empty])})" if layout.empty else ""
    deep = (f"; {sum(layout.deeper.values())} sit deeper, not read ({_shown(list(layout.deeper), 2)})"
            if layout.deeper else "")
    return LstmkitError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in {folder}{held}{subs}{deep}",
                        f"point {opt('data')} at the folder that holds the recordings (or their class folders, one per "
                        f"label; a LibriSpeech or LJSpeech folder as downloaded), {_CONVERT}")


_EXAMPLE = "'{label}_{speaker}_{take}'"       # a --label-from-name pattern, quoted for the shell and Python


def _check_one_layout(layout: _Layout) -> None:
    """Audio at the top and in class folders: which labels are meant (names or folders) is anyone's guess."""
    if layout.files and layout.classes:
        n = sum(map(len, layout.classes.values()))
        raise LstmkitError(f"{layout.root} holds audio files both itself ({_shown([p.name for p in layout.files], 2)}: "
                           f"{len(layout.files)}) and in class folders ({_shown([f'{d}/' for d in layout.classes])}: "
                           f"{n}): labels come either from the folders' names or from file names "
                           f"({opt('label_from_name')}), not both",
                           f"move the {len(layout.files)} file(s) at the top into their class folders, or list the "
                           f"recordings in a manifest CSV (path,text) and pass it as {opt('data')}")


def _say_left_out(layout: _Layout) -> None:
    """One warning for the ``_`` folders skipped, one for the folders without audio left out, one for
    the audio files in folders inside the folders, not read."""
    if layout.skipped:
        names = _shown([f"{d}/" for d in layout.skipped])
        warnings.warn(f"{layout.root}: {names} skipped: a folder whose name starts with '_' holds no class "
                      "(Speech Commands' _background_noise_/ holds noise clips)",
                      UserWarning, stacklevel=callers_level())
    if layout.empty and (layout.classes or layout.files):
        warnings.warn(f"{layout.root}: {len(layout.empty)} folder(s) hold no audio files and are left out "
                      f"({_shown([f'{d}/' for d in layout.empty])})", UserWarning, stacklevel=callers_level())
    if layout.deeper and (layout.classes or layout.files):
        where = _shown([f"{d}: {n}" for d, n in layout.deeper.items()], 3)
        warnings.warn(f"{layout.root}: {sum(layout.deeper.values())} audio file(s) in folders inside its folders "
                      f"were not read ({where}): only the files directly in {layout.root} or in one of its folders "
                      "are; move them up into their class folder, or list the recordings in a manifest CSV "
                      "(path,text) and pass that", UserWarning, stacklevel=callers_level())


def read_folder(folder: str | Path, pattern: str | None = None, as_trained: str | None = None) -> Utterances:
    """The recordings of ``folder`` and their texts: from its class folders' names when its
    sub-folders hold the audio (``pattern`` then refused), else from the names of the audio files
    directly in it by ``pattern`` (or ``as_trained``, a run's own pattern, which class folders overrule)."""
    folder = Path(folder)
    layout = _layout(folder)
    _check_one_layout(layout)
    if layout.classes:
        if pattern:
            raise LstmkitError(f"{folder}'s recordings are in class folders ({_shown([f'{d}/' for d in layout.classes])}): "
                               f"each one's label is its folder's name, and {pattern_option(pattern)} reads "
                               "labels from file names", drop_pattern())
        return _class_utterances(layout)
    if not layout.files:
        raise _no_audio(layout)
    pattern = pattern or as_trained
    if not pattern:
        raise LstmkitError(f"{folder} is a folder of audio files but no {opt('label_from_name')} pattern was given",
                           f"pass e.g. {opt('label_from_name', _EXAMPLE, written=True)}, put each label's recordings in "
                           "a folder of that name, or pass a manifest CSV (path,text)")
    rx = name_pattern(pattern)
    paths, texts, fields = [], [], []
    for f in layout.files:
        m = rx.match(f.stem)
        if m is None:
            raise LstmkitError(f"file name {f.name} does not match {pattern_option(pattern)}",
                               "rename the file or fix the pattern")
        paths.append(str(f))
        texts.append(m.group("label"))
        fields.append(m.groupdict())
    return Utterances(paths, texts, fields, str(folder.resolve()))


def _class_utterances(layout: _Layout) -> Utterances:
    """Each class folder's recordings labelled by its name, in the parts its list files give."""
    paths, texts, names = [], [], []
    for label, files in layout.classes.items():
        for f in files:
            paths.append(str(f))
            texts.append(label)
            names.append(f"{label}/{f.name}")
    parts, said = _listed_parts(layout.root, names)       # its errors come before any warning
    _say_left_out(layout)
    if said:
        warnings.warn(said, UserWarning, stacklevel=callers_level())
    return Utterances(paths, texts, [], str(layout.root.resolve()), parts)


def _list_names(path: Path) -> list[str]:
    """A list file's recordings: one path a line, relative to its folder (Windows back-slashes, ``./``
    and ``//`` read; NFC, as :func:`_listed_parts` compares names)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise LstmkitError(f"{path} is not a UTF-8 text file", "write one recording's path a line, e.g. yes/a.wav") from None
    names = (ln.strip().replace("\\", "/") for ln in lines)
    return [unicodedata.normalize("NFC", posixpath.normpath(n)) for n in names if n]


def _listed_parts(root: Path, names: list[str]) -> tuple[list[str], str | None]:
    """Per recording ('label/file.wav', relative to ``root``) its part, 'train', 'val' or 'test', from
    ``root``'s list files, and the line that says so; ``([], None)`` without list files. A list
    naming none of the recordings, or a recording in both, is an error."""
    lists = {part: root / name for part, name in LIST_FILES.items() if (root / name).is_file()}
    index = {unicodedata.normalize("NFC", n): k for k, n in enumerate(names)}   # macOS names folders in NFD
    parts, absent = ["train"] * len(names), 0
    for part, path in lists.items():
        listed = _list_names(path)
        found = [index[n] for n in dict.fromkeys(listed) if n in index]
        if listed and not found:
            raise LstmkitError(f"{path} lists {len(listed)} recording(s), none of them in {root}'s class folders "
                               f"(first: {listed[0]})", f"write each path relative to {root}, e.g. {names[0]}, "
                               f"or delete {path.name} for a random split")
        for k in found:
            if parts[k] != "train":
                raise LstmkitError(f"{names[k]} is listed in both {LIST_FILES['val']} and {LIST_FILES['test']}",
                                   "keep it in one of them")
            parts[k] = part
        absent += len(set(listed)) - len(found)
    if all(p == "train" for p in parts):
        return [], None
    count = Counter(parts)
    given = " and ".join(LIST_FILES[p] for p in ("val", "test") if count[p])
    said = [f"{count['train']} recordings to train on" + ("" if count["val"] else " (validation drawn from them)")]
    if count["val"]:
        said.append(f"{count['val']} to validate")
    if count["test"]:
        said.append(f"{count['test']} to test (kept out of training; 'speech evaluate' on this folder scores them)")
    if absent:
        said.append(f"{absent} listed recording(s) not in its class folders (left out)")
    return parts, f"{root}: {given} give{'s' * (len(given.split()) == 1)} the split, not a random draw: {', '.join(said)}"


def folder_recordings(folder: str | Path) -> list[str]:
    """Every audio file directly in ``folder`` and in its sub-folders (``_`` ones skipped, with the
    warning training gives), sorted by path: what ``transcribe`` reads of a folder, labels unneeded."""
    layout = _layout(Path(folder))
    if not layout.files and not layout.classes:
        raise _no_audio(layout)
    _say_left_out(layout)
    return [str(p) for p in sorted([*layout.files, *(f for files in layout.classes.values() for f in files)])]
