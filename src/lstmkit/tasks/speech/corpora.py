"""Speech corpora in the layouts they are downloaded in: LibriSpeech's, Multilingual LibriSpeech's, LJSpeech's.

    corpus_utterances("LibriSpeech/")             LibriSpeech: <subset>/<speaker>/<chapter>/ folders, each with
                                                  <speaker>-<chapter>.trans.txt ('<utterance id> <TEXT>' a line)
                                                  beside <utterance id>.flac; the top, a subset or a chapter folder
                                                  (or the folder the archive was extracted in, holding LibriSpeech/)
    corpus_utterances("LJSpeech-1.1/")            LJSpeech: metadata.csv ('id|transcript|normalized transcript',
                                                  no header, quotes as text) and wavs/<id>.wav
    corpus_utterances("LJSpeech-1.1/metadata.csv")   the same metadata file given itself
    corpus_utterances("mls_german/")              Multilingual LibriSpeech: <split>/transcripts.txt ('<id><TAB><text>')
                                                  and <split>/audio/<speaker>/<book>/<id>.flac (or .opus); a split too
    corpus_recordings("LibriSpeech/dev-clean/")   transcribe: every audio file of a LibriSpeech or MLS folder

Each returns None for anything else, which the other readers then take. The transcripts are the
authority on what a corpus holds: a transcript line whose audio file is missing, a line without
text, a metadata line without its ``|`` fields and an utterance id given twice are each one
:class:`~lstmkit.errors.LstmkitError`; an audio file no line names is left out, counted in one
warning (derivatives split one ``wavs/`` folder over several metadata files, and LibriSpeech
chapters are cut down by hand: refusing them would have the user edit a downloaded corpus; MLS'
``audio/`` is not searched for them: English ``train/`` holds 10.8 million files).
Each utterance's id is in ``Utterances.fields`` (``{'utterance': id}``), which training checks
against the validation data's. The top LibriSpeech (or MLS) folder gives the split by its subsets:
``test-*`` ones are never trained on (what ``speech evaluate`` on the folder scores), ``dev-*``
ones are the validation part when a ``train-*`` subset is there to train on.
"""
from __future__ import annotations

import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lstmkit.errors import LstmkitError, callers_level, opt
from lstmkit.tasks.speech.manifest import AUDIO_SUFFIXES, Utterances, drop_pattern, pattern_option

__all__ = ["corpus_utterances", "corpus_recordings", "TRANS_SUFFIX", "LJ_METADATA", "MLS_TRANSCRIPTS"]

TRANS_SUFFIX = ".trans.txt"
LJ_METADATA = "metadata.csv"
MLS_TRANSCRIPTS = "transcripts.txt"
_DEPTH = 3                    # LibriSpeech/<subset>/<speaker>/<chapter>: chapters 3 folders below the top
_LJ_FIELDS = "id|transcript|normalized transcript"
_HEADER_IDS = {"id", "file", "filename", "file_name", "path", "audio", "wav", "name", "utterance", "utterance_id"}


def corpus_utterances(data: str | Path, pattern: str | None = None) -> Utterances | None:
    """The utterances of a LibriSpeech or MLS folder (or one of its transcript files), an LJSpeech
    folder or metadata file; None when ``data`` is none of these. ``pattern`` (``--label-from-name``)
    is refused: the corpus' own transcripts are the texts."""
    path = _inner_librispeech(Path(data))
    if path.is_file() and (path.name.endswith(TRANS_SUFFIX) or path.name == MLS_TRANSCRIPTS):
        path = path.parent
    if path.is_dir() and (depth := _librispeech_depth(path)) is not None:
        kind, read = "LibriSpeech", lambda: _librispeech(path, depth)
    elif path.is_dir() and (splits := _mls_splits(path)):
        kind, read = "Multilingual LibriSpeech", lambda: _mls(path, splits)
    elif path.is_dir() and (path / LJ_METADATA).is_file() and (path / "wavs").is_dir():
        kind, read = "LJSpeech", lambda: _ljspeech(path / LJ_METADATA, whole_folder=True)
    elif path.is_file() and _is_lj_metadata(path):
        kind, read = "LJSpeech", lambda: _ljspeech(path, whole_folder=False)
    else:
        return None
    if pattern:
        raise LstmkitError(f"{data} is a {kind} folder: its transcripts are the texts, and "
                           f"{pattern_option(pattern)} reads texts from file names", drop_pattern())
    return read()


def corpus_recordings(folder: str | Path) -> list[str] | None:
    """Every audio file of a LibriSpeech folder's chapter folders (an MLS folder's book folders),
    sorted, transcript line or not (transcribe needs no texts); None for any other folder."""
    folder = _inner_librispeech(Path(folder))
    if not folder.is_dir():
        return None
    if (depth := _librispeech_depth(folder)) is not None:
        chapters = _chapter_folders(folder, depth)
    elif splits := _mls_splits(folder):
        chapters = [book for split in splits for book in _chapter_folders(split / "audio", 2)]
    else:
        return None
    return [str(p) for chapter in chapters for p in _audio_in(chapter)]


# -- LibriSpeech ---------------------------------------------------------------------------------
def _inner_librispeech(path: Path) -> Path:
    """The ``LibriSpeech/`` folder inside ``path`` when ``path`` is the folder an archive was extracted
    in (``tar xzf dev-clean.tar.gz`` in a downloads folder leaves ``LibriSpeech/`` there), else ``path``."""
    inner = path / "LibriSpeech"
    return inner if inner.is_dir() and _librispeech_depth(inner) == _DEPTH else path


def _librispeech_depth(root: Path) -> int | None:
    """How many folders below ``root`` LibriSpeech's chapter folders (those with a ``.trans.txt``)
    sit: 0 for a chapter, 3 for the top; None when the first folder at each depth holds none.
    Only the first folder is looked into at each depth: a corpus' folders are all alike, and a
    Speech Commands folder of 105,000 recordings is not walked to find out it is not one."""
    folder = root
    for depth in range(_DEPTH + 1):
        folders = []
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.startswith("."):
                    continue
                if e.name.endswith(TRANS_SUFFIX) and e.is_file():
                    return depth
                if e.is_dir():
                    folders.append(e.name)
        if not folders:
            return None
        folder = folder / min(folders)
    return None


def _chapter_folders(root: Path, depth: int) -> list[Path]:
    """The folders ``depth`` levels below ``root`` (hidden ones aside), sorted by path."""
    level = [root]
    for _ in range(depth):
        level = [Path(e.path) for f in level for e in sorted(os.scandir(f), key=lambda e: e.name)
                 if e.is_dir() and not e.name.startswith(".")]
    return level


def _audio_in(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        return sorted(Path(e.path) for e in entries
                      if not e.name.startswith(".") and Path(e.name).suffix.lower() in AUDIO_SUFFIXES and e.is_file())


def _audio_named(folder: Path, uid: str) -> Path | None:
    """``folder/<uid>.wav`` (or .flac, ...: any audio suffix, in lower or upper case: a corpus copied
    through a tool that writes 'LJ001-0001.WAV' was all 'not found')."""
    return next((p for s in AUDIO_SUFFIXES for p in (folder / f"{uid}{s}", folder / f"{uid}{s.upper()}")
                 if p.is_file()), None)


def _trans_lines(path: Path) -> list[tuple[int, str, str]]:
    """``(line number, utterance id, text)`` of a ``.trans.txt`` file; a line without text is an error."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise LstmkitError(f"{path} is not a UTF-8 text file",
                           "write one '<utterance id> <transcript>' line per recording") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        uid, *text = line.split(maxsplit=1)
        if not text:
            raise LstmkitError(f"{path} line {n} has no transcript after its utterance id {uid!r}",
                               "write the utterance's text after its id ('<id> <TEXT>'), or delete the line "
                               "and its audio file")
        out.append((n, uid, text[0].strip()))
    return out


def _librispeech(root: Path, depth: int) -> Utterances:
    got, unnamed = _Collected(), []
    for chapter in _chapter_folders(root, depth):
        audio = {p.stem: p for p in _audio_in(chapter)}
        subset = chapter.relative_to(root).parts[0] if depth == _DEPTH else ""
        for trans in sorted(chapter.glob("*" + TRANS_SUFFIX)):
            for n, uid, text in _trans_lines(trans):
                got.add(f"{trans} line {n}", uid, text, audio.get(uid), subset)
        unnamed += [p for stem, p in audio.items() if stem not in got.seen]
    got.check(root, lambda uid: f"{uid}.flac", "extract the subset's archive again", ".trans.txt files hold")
    _say_unnamed(unnamed, root, "a line in its chapter's .trans.txt")
    return got.utterances(root)


def _subset_parts(root: Path, subsets: list[str]) -> list[str]:
    """Each utterance's part by its subset's name (LibriSpeech's train-*, dev-*, test-*; MLS' train,
    dev, test): 'test' held out, 'val' too when a training subset is there, else trained on (a
    download of dev-clean alone is data to train on); ``[]`` when all are 'train'. One warning says
    the split when there is one (test subsets alone are for evaluation, and training says so)."""
    kind = ["test" if s.startswith("test") else "val" if s.startswith(("dev", "val")) else "train" for s in subsets]
    if "train" not in kind:
        kind = ["test" if k == "test" else "train" for k in kind]
    if all(k == "train" for k in kind):
        return []
    if "train" not in kind:         # test subsets alone: evaluate scores them all, training is refused
        return kind
    count = Counter(zip(kind, subsets))
    said = {part: ", ".join(f"{s} ({n})" for (k, s), n in sorted(count.items()) if k == part)
            for part in ("train", "val", "test")}
    line = [f"{said['train']} to train on" + ("" if said["val"] else " (validation drawn from them)")]
    if said["val"]:
        line.append(f"{said['val']} to validate")
    if said["test"]:
        line.append(f"{said['test']} to test (kept out of training; 'speech evaluate' on this folder scores them)")
    else:                           # evaluate would score every subset, the trained-on ones too
        line.append("no test-* subset: to score recordings never trained on, evaluate a dev-* subset's folder")
    warnings.warn(f"{root}: its subsets give the split, not a random draw: {', '.join(line)}",
                  UserWarning, stacklevel=callers_level())
    return kind


# -- Multilingual LibriSpeech --------------------------------------------------------------------
def _mls_splits(root: Path) -> list[Path]:
    """``[root]`` when it is an MLS split (``transcripts.txt`` beside ``audio/``), its split folders
    when it is the top (``mls_german/``: train, dev, test), else ``[]``."""
    def is_split(f: Path) -> bool:
        return (f / MLS_TRANSCRIPTS).is_file() and (f / "audio").is_dir()
    if is_split(root):
        return [root]
    with os.scandir(root) as entries:
        return sorted(Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".") and is_split(Path(e.path)))


def _mls_audio(audio: Path, uid: str) -> Path | None:
    """``audio/<speaker>/<book>/<id>`` + .flac (or .opus, ...) of an id ``<speaker>_<book>_<utterance>``."""
    return _audio_named(audio.joinpath(*uid.split("_")[:2]) if uid.count("_") >= 2 else audio, uid)


def _mls(root: Path, splits: list[Path]) -> Utterances:
    got = _Collected()
    for split in splits:
        trans = split / MLS_TRANSCRIPTS
        for n, uid, text in _trans_lines(trans):
            got.add(f"{trans} line {n}", uid, text, _mls_audio(split / "audio", uid), "" if split == root else split.name)
    got.check(root, lambda uid: f"audio/{'/'.join(uid.split('_')[:2])}/{uid}.flac", "extract the split's archive again",
              f"{MLS_TRANSCRIPTS} files hold")
    return got.utterances(root)


# -- LJSpeech ------------------------------------------------------------------------------------
def _is_lj_metadata(path: Path) -> bool:
    """A ``.csv`` file beside a ``wavs/`` folder whose first line has a ``|`` (an LJSpeech-like
    corpus' metadata file, train/val ones included); a manifest's header has none."""
    if path.suffix.lower() != ".csv" or not (path.parent / "wavs").is_dir():
        return False
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = next((line for line in f if line.strip()), "")
    return "|" in first


def _lj_wavs(base: Path) -> Path:
    """``base/wavs``, or the one folder inside it that holds the audio when it holds none itself
    (``wavs/wavs/``: an archive extracted into a folder of its own name)."""
    wavs = base / "wavs"
    with os.scandir(wavs) as entries:
        inner = []
        for e in entries:
            if e.name.startswith("."):
                continue
            if Path(e.name).suffix.lower() in AUDIO_SUFFIXES:
                return wavs
            if e.is_dir():
                inner.append(Path(e.path))
    return inner[0] if len(inner) == 1 else wavs


def _lj_audio(base: Path, wavs: Path, uid: str) -> Path | None:
    """``wavs/<id>.wav`` (or another audio suffix); an id that carries its suffix (``wavs/a.wav``) as written."""
    if Path(uid).suffix.lower() in AUDIO_SUFFIXES:
        return next((p for p in (base / uid, wavs / uid) if p.is_file()), None)
    return _audio_named(wavs, uid)


def _is_lj_header(line: str, audio: Path | None) -> bool:
    """Whether a metadata file's first line names its columns (``id|text|normalized_text``, as some
    copies and derivatives add) rather than a recording: its id is a column name with no audio."""
    return audio is None and line.split("|")[0].strip().lower() in _HEADER_IDS


def _lj_line(path: Path, n: int, line: str) -> tuple[str, str]:
    """``(id, text)`` of one metadata line: the normalized transcript (third field) where it is
    given, else the transcript. Quote marks are text (LJSpeech writes ``"Mr. Smith"`` unquoted)."""
    cells = line.split("|")
    if len(cells) < 2:
        raise LstmkitError(f"{path} line {n} has no '|': LJSpeech's metadata lines are {_LJ_FIELDS}",
                           f"separate the id from its transcript with '|', e.g. LJ001-0001|Printing, in the only sense")
    if len(cells) > 3:
        raise LstmkitError(f"{path} line {n} has {len(cells)} '|'-separated fields, not 2 or 3 ({_LJ_FIELDS}): "
                           "which one is the transcript is anyone's guess",
                           "keep id|transcript|normalized transcript, and no '|' inside a transcript")
    uid = cells[0].strip()
    text = (cells[2].strip() if len(cells) == 3 else "") or cells[1].strip()
    if not uid or not text:
        raise LstmkitError(f"{path} line {n} has no {'utterance id' if not uid else 'transcript'} ({line.strip()!r})",
                           f"write each line as {_LJ_FIELDS}, or delete it")
    return uid, text


def _ljspeech(meta: Path, whole_folder: bool) -> Utterances:
    """The utterances of an LJSpeech metadata file; ``whole_folder``: it is the folder's metadata.csv,
    so its ``wavs/`` audio without a line is counted in a warning (a train/val file lists a part only)."""
    try:
        lines = meta.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise LstmkitError(f"{meta} is not a UTF-8 text file", f"write one '{_LJ_FIELDS}' line per recording") from None
    got, wavs = _Collected(), _lj_wavs(meta.parent)
    first = next((n for n, line in enumerate(lines, 1) if line.strip()), None)
    for n, line in enumerate(lines, 1):
        if line.strip():
            uid, text = _lj_line(meta, n, line)
            audio = _lj_audio(meta.parent, wavs, uid)
            if n != first or not _is_lj_header(line, audio):
                got.add(f"{meta} line {n}", uid, text, audio)
    if not got.seen:
        raise LstmkitError(f"{meta} is empty (no lines)", f"write one '{_LJ_FIELDS}' line per recording in wavs/")
    got.check(meta, lambda uid: uid if Path(uid).suffix.lower() in AUDIO_SUFFIXES else f"wavs/{uid}.wav",
              "extract the corpus' archive again", "lines hold")
    if whole_folder:
        listed = set(got.paths)
        _say_unnamed([p for p in _audio_in(wavs) if str(p) not in listed], meta.parent,
                     f"a line in {meta.name}")
    return got.utterances(meta)


# -- every corpus --------------------------------------------------------------------------------
@dataclass
class _Collected:
    """The utterances of a corpus' transcript lines as they are read, each id once; the lines whose
    audio is not there (``missing``: where, id), each kept apart for one error."""
    paths: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    subsets: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)       # id -> where it was read

    def add(self, where: str, uid: str, text: str, audio: Path | None, subset: str = "") -> None:
        if uid in self.seen:
            raise _twice(uid, self.seen[uid], where)
        self.seen[uid] = where
        if audio is None:
            self.missing.append((where, uid))
            return
        self.paths.append(str(audio))
        self.texts.append(text)
        self.ids.append(uid)
        self.subsets.append(subset)

    def check(self, source: Path, audio_name, extract: str, lines_are: str) -> None:
        """One error for the lines whose audio is missing (the first named, the rest counted), or for no lines."""
        if self.missing:
            where, uid = self.missing[0]
            n, of = len(self.missing), len(self.seen)
            more = f" ({n} of the {of} lines name audio that is not there)" if n > 1 else ""
            raise LstmkitError(f"{where}: utterance audio file {audio_name(uid)} not found{more}",
                               f"the download or extraction is incomplete: {extract}, or delete the line"
                               f"{'s' if n > 1 else ''} of the missing recording{'s' if n > 1 else ''}")
        if not self.paths:
            raise LstmkitError(f"{source}'s {lines_are} no transcript lines",
                               f"point {opt('data')} at a corpus folder whose transcripts hold '<id> <text>' lines")

    def utterances(self, source: Path) -> Utterances:
        parts = _subset_parts(source, self.subsets) if any(self.subsets) else []
        return Utterances(self.paths, self.texts, [{"utterance": u} for u in self.ids], str(source.resolve()), parts)


def _twice(uid: str, first: str, again: str) -> LstmkitError:
    """An utterance id given twice: read twice it would weigh double, and could be trained on and scored."""
    return LstmkitError(f"utterance {uid} is given twice ({first}, and {again}): read twice, the same recording "
                        "could be both trained on and validated or tested on",
                        "keep one line per utterance id (a subset copied into another? delete the copy)")


def _say_unnamed(files: list[Path], root: Path, named_by: str) -> None:
    """One warning counting the audio files no transcript line names, which are left out."""
    if files:
        warnings.warn(f"{root}: {len(files)} audio file(s) have no transcript line and are left out "
                      f"(first: {files[0].relative_to(root)}); each needs {named_by} to be trained on or scored",
                      UserWarning, stacklevel=callers_level())
