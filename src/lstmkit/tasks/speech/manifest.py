"""Manifests: the ``path,text`` tables that list recordings and their transcripts.

    read_manifest("train.csv")                 CSV / TSV / .xlsx / .parquet; relative paths against its folder
    name_pattern("{label}_{speaker}_{take}")    a file-name pattern as a regex (folders: :mod:`.folders`)
    manifest_utterances(rows, header, base, where)   the same checks over rows already read (a DataFrame's)

A recording listed twice is read once (with a warning); one listed with two transcripts, a row
with more cells than the header (an unquoted comma in a transcript) and a table without the
columns are each one :class:`~lstmkit.errors.LstmkitError`.
"""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from lstmkit.data.decoding import bom_encoding
from lstmkit.data.tables import PARQUET, SHEETS, read_table
from lstmkit.data.quoting import tsv_quoting, unquoted_names
from lstmkit.data.stratify import stratified_split
from lstmkit.data.textfile import file_ext, header_separator, separator_line, unique_names
from lstmkit.errors import BadValue, LstmkitError, callers_level, opt, worded

__all__ = ["Utterances", "read_manifest", "manifest_utterances", "TEXT_ALIASES", "AUDIO_SUFFIXES", "name_pattern",
           "drop_pattern", "pattern_option"]

TEXT_ALIASES = ("sentence", "transcript", "transcription")    # Common Voice writes "sentence"
# what libsndfile (soundfile) reads that corpora ship: AIFF (Apple), CAF, W64, RF64, AU (Sun), NIST SPHERE (LDC)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aif", ".aiff", ".aifc", ".caf", ".w64", ".rf64", ".au",
                  ".sph")


@dataclass
class Utterances:
    """Audio files (or in-memory waves) and their transcripts; ``fields`` holds the parts of each
    file name matched by ``--label-from-name`` (e.g. the speaker), ``parts`` each recording's part,
    'train', 'val' or 'test', where a folder's list files give them (Speech Commands'
    ``validation_list.txt`` / ``testing_list.txt``); ``weights`` each recording's ``sample_weight``
    (``[N]``, where ``fit`` was given them), which every part taken keeps with its recordings."""
    paths: list[str]
    texts: list[str]
    fields: list[dict[str, str]] = field(default_factory=list)
    source: str | None = None
    parts: list[str] = field(default_factory=list)
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def record(self, audio: bool = True) -> dict[str, object]:
        """What a resume compares of the recordings read: their number and the SHA-256 of each one's
        path (inside its folder or manifest's folder: the corpus moved is the same), transcript,
        part, file size and, with ``audio``, a sample of its bytes (:func:`audio_sample`: a clip
        re-recorded at the same length has the same size; the whole file is not read twice to hash
        it). ``audio=False`` is the record runs kept before the sample (``"audio"`` absent)."""
        import hashlib
        base = Path(self.source) if self.source else None
        base = base if base is None or base.is_dir() else base.parent
        h = hashlib.sha256()
        for k, (path, text) in enumerate(zip(self.paths, self.texts)):
            where = os.path.relpath(path, base) if base is not None and not isinstance(path, (bytes, bytearray)) else path
            try:
                size = os.stat(path).st_size
            except (OSError, TypeError, ValueError):
                size = -1
            part = self.parts[k] if self.parts else ""
            sample = f"\0{audio_sample(path)}" if audio else ""
            h.update(f"{where}\0{text}\0{part}\0{size}{sample}\n".encode("utf-8", "surrogateescape"))
        return {"count": len(self.paths), "sha256": h.hexdigest(), **({"audio": SAMPLED} if audio else {})}

    def subset(self, idx: Sequence[int]) -> Utterances:
        return Utterances([self.paths[i] for i in idx], [self.texts[i] for i in idx],
                          [self.fields[i] for i in idx] if self.fields else [], self.source,
                          [self.parts[i] for i in idx] if self.parts else [],
                          None if self.weights is None else self.weights[np.asarray(idx, dtype=np.int64)])

    def part(self, name: str) -> Utterances:
        """The recordings the list files put in part ``name`` ('train': those no list names), without parts."""
        out = self.subset([k for k, p in enumerate(self.parts) if p == name])
        out.parts = []
        return out

    def training_part(self) -> Utterances:
        """The recordings no list file holds out for validation or testing: all of them without lists."""
        return self.part("train") if self.parts else self

    def test_part(self) -> Utterances:
        """The recordings a ``testing_list.txt`` holds out, which evaluation scores: all of them without one."""
        return self.part("test") if "test" in self.parts else self

    def validation_part(self) -> Utterances:
        """What data given to validate on (``--val``) stands for: its 'val' part where its parts give one
        (a LibriSpeech top folder's dev-* subsets, a ``validation_list.txt``), else all but its 'test'
        part; all of it without parts. Refused when every recording is held out for testing: tuning on
        them would tune on the test set."""
        if not self.parts:
            return self
        if "val" in self.parts:
            return self.part("val")
        kept = self.subset([k for k, p in enumerate(self.parts) if p != "test"])
        if not len(kept):
            raise LstmkitError(f"every recording of {self.source}, given to validate on, is held out for testing "
                               "(its test-* subsets, or testing_list.txt): validating on them tunes on the test set",
                               f"point {worded('--val', 'val_data=')} at a dev-* subset's folder (or a folder of "
                               "validation recordings)")
        kept.parts = []
        return kept

    def split(self, val_frac: float, seed: int, stratified: bool = False) -> tuple["Utterances", "Utterances"]:
        """``(train, val)``: the parts the list files give (a testing list's recordings in neither), else
        a ``val_frac`` share held out (at least one of each), drawn with ``seed``; ``stratified`` (labels,
        a classify run): about ``val_frac`` of each label's recordings, at least one of every label
        with two or more (:func:`~lstmkit.data.stratify.stratified_split`)."""
        if self.parts:
            train, val = self.part("train"), self.part("val")
            if not len(train):
                raise LstmkitError(f"every recording of {self.source} is held out for validation or testing (by "
                                   "validation_list.txt / testing_list.txt, or dev-* / test-* subsets): none is "
                                   "left to train on", "train on a folder that holds training recordings too, or "
                                   "shorten the lists")
            return (train, val) if len(val) else train.split(val_frac, seed, stratified)
        if len(self) < 2:
            raise LstmkitError(f"only {len(self)} recording given", "supply at least two (one for validation)")
        if stratified:      # a label per recording holds none out: fit_classes refuses such labels, naming them
            train_idx, val_idx = stratified_split(self.texts, val_frac, seed)
            return self.subset(train_idx.tolist()), self.subset(val_idx.tolist())
        perm = np.random.default_rng(seed).permutation(len(self))
        n_val = min(max(1, int(round(val_frac * len(self)))), len(self) - 1)
        return self.subset(sorted(perm[n_val:].tolist())), self.subset(sorted(perm[:n_val].tolist()))


def read_manifest(path: str | Path) -> Utterances:
    """``path,text`` rows (a header row is required); relative paths resolve against the manifest's folder.

    A ``.tsv`` manifest (or one whose header holds tabs) is tab-separated; ``.xlsx`` and
    ``.parquet`` manifests are read as every task reads those tables. Common Voice's
    ``path`` / ``sentence`` columns read as well (its clips in the ``clips/`` folder beside the
    manifest), and a Windows manifest's back-slashed relative paths (``wavs\\a.wav``) resolve.
    """
    path = Path(path)
    if path.suffix.lower() in AUDIO_SUFFIXES:
        raise LstmkitError(f"{path} is an audio file, not a manifest",
                           "pass a CSV with columns path,text, or a folder (of class folders, or with "
                           f"{opt('label_from_name')})")
    if file_ext(path) in SHEETS or file_ext(path) in PARQUET:      # read as every task reads a table
        sheet = read_table(path)
        rows, header = sheet.to_dict("records"), [str(c).strip() for c in sheet.columns]
    else:
        rows, header = _manifest_rows(path)
    return manifest_utterances(rows, header, path.parent, f"manifest {path}", str(path.resolve()))


def manifest_utterances(rows: list[dict[str, str]], header: list[str], base: Path, where: str,
                         source: str | None = None) -> Utterances:
    """The utterances of a manifest's rows (header names to cells); relative paths against ``base``."""
    if not rows:
        raise BadValue(f"{where} is empty (no rows)", "add one 'path,text' row per recording")
    text_col = next((c for c in ("text", *TEXT_ALIASES) if c in header), None)
    if "path" not in header or text_col is None:
        raise LstmkitError(f"{where} needs the columns path,text (found: {', '.join(header) or 'none'})",
                           "write a header line 'path,text'" if source else "rename its columns to path and text")
    paths, texts = [], []
    for row in rows:
        p = (row.get("path") or "").strip()
        if not p:
            continue
        if re.match(r"[a-z][a-z0-9+.-]+://", p, re.I):       # joined to the folder: 'not found: data/https:/...'
            raise LstmkitError(f"{where} lists a URL ({p[:80]}): recordings are read from local files only",
                               "download them first and list the local paths (relative to the manifest)")
        paths.append(str(_resolve(p, base)))
        texts.append((row.get(text_col) or "").strip())
    if not paths:
        raise BadValue(f"{where} is empty (no rows with a path)", "add one 'path,text' row per recording")
    keep = _each_recording_once(paths, texts, where)
    return Utterances([paths[k] for k in keep], [texts[k] for k in keep], [], source)


def _each_recording_once(paths: list[str], texts: list[str], where: str) -> list[int]:
    """The rows to keep: a recording listed again is read once, with a warning (twice it would weigh
    double in the scores and could land in both the training and the validation part); one recording
    with two different transcripts is an error."""
    seen: dict[str, int] = {}
    keep, repeated = [], []
    for k, p in enumerate(paths):
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen[key] = k
            keep.append(k)
        elif texts[seen[key]] != texts[k]:
            raise LstmkitError(f"{where} gives {p} two transcripts: {texts[seen[key]]!r} and {texts[k]!r}",
                               "keep the row with the right transcript and delete the other")
        else:
            repeated.append(p)
    if repeated:
        warnings.warn(f"{where} lists {len(repeated)} recording(s) more than once (first: "
                      f"{Path(repeated[0]).name}); each is read once", UserWarning, stacklevel=callers_level())
    return keep


def _manifest_rows(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """A CSV / TSV manifest's rows (header names to cells) and its header."""
    raw = path.read_bytes()
    try:                     # a byte-order mark names UTF-16 (a spreadsheet's 'Unicode Text') or UTF-32
        text = raw.decode(bom_encoding(raw[:4]) or "utf-8-sig")
    except UnicodeDecodeError as e:      # was 'not a UTF-8 text manifest — pass a CSV with columns path,text'
        line = raw[:e.start].count(b"\n") + 1
        raise LstmkitError(f"{path} line {line} is not valid UTF-8 (byte 0x{raw[e.start]:02x}): a manifest is read "
                           "as UTF-8", "save it as UTF-8 (a spreadsheet's 'CSV UTF-8'; or iconv -f cp1252 -t utf-8 "
                           f"{path.name})") from None
    text, named, first_line = separator_line(text)         # a sep=; line, comment lines above the header
    first = text.splitlines()[0] if text.strip() else ""
    sep = named or header_separator(first, "\t" if path.suffix.lower() == ".tsv" else ",")
    # Common Voice's TSV quotes nothing: a transcript's quote marks are text (tsv_quoting's rule)
    quoting = csv.QUOTE_NONE if sep == "\t" and not tsv_quoting(text, path, first_line) else csv.QUOTE_MINIMAL
    header = next(csv.reader(io.StringIO(first), delimiter=sep, quoting=quoting), [])
    if quoting == csv.QUOTE_NONE:               # a program that quoted the header line only: "path"\t"sentence"
        header = unquoted_names(header)
    header = [h.strip() for h in header]
    unique_names(header, path)          # a dictionary reader keeps a repeated column's last cell
    reader = csv.DictReader(io.StringIO(text, newline=""), fieldnames=header or None, delimiter=sep, quoting=quoting)
    if header:
        next(reader, None)              # the header line, its names read above
    rows = []
    for row in reader:
        row = {k.strip() if isinstance(k, str) else k: v for k, v in row.items()}    # 'path, text': the header's spaces
        _check_no_extra_cells(row, header, f"{path} line {reader.line_num + first_line - 1}", sep)
        rows.append(row)
    return rows, header


def _check_no_extra_cells(row: dict, header: list[str], where: str, sep: str) -> None:
    """A row with more (non-empty) cells than the header holds an unquoted separator, most often in
    its transcript (``a.wav,yes, please``): read as it is, the text would silently end at it."""
    extra = [c for c in row.pop(None, None) or [] if c.strip()]
    if extra:
        last = header[-1] if header else "text"
        raise LstmkitError(f"{where} holds {len(extra)} more cell(s) than the header ({', '.join(header)}): its "
                           f"{last} {row.get(last)!r} would lose {sep.join(extra)!r} after an unquoted "
                           f"{'tab' if sep == chr(9) else repr(sep)}",
                           'put a cell that holds the separator in double quotes, e.g. a.wav,"yes, please"')


def _resolve(p: str, base: Path) -> Path:
    """A manifest's path: absolute, or relative to ``base``; back-slashes of a manifest written on
    Windows, Common Voice's ``clips/`` folder, and the name's other Unicode form (files copied from
    macOS keep é as e + U+0301) tried when the path as written is not there."""
    full = Path(p) if Path(p).is_absolute() else base / p
    if full.exists():
        return full
    other = unicodedata.normalize("NFD" if unicodedata.is_normalized("NFC", p) else "NFC", p)
    if other != p and (Path(other) if Path(other).is_absolute() else base / other).exists():
        return Path(other) if Path(other).is_absolute() else base / other
    for alt in (base / p.replace("\\", "/"), base / "clips" / p):
        if not Path(p).is_absolute() and alt.exists():
            return alt
    return full


def drop_pattern() -> str:
    """The fix for a ``label_from_name`` pattern given where it cannot apply, in the caller's words."""
    return worded("drop --label-from-name (label_from_name=None)", "pass label_from_name=None")


def pattern_option(pattern: str) -> str:
    """A ``label_from_name`` pattern as the caller gave it: ``--label-from-name '{label}_{take}'``
    on the command line, ``label_from_name='{label}_{take}'`` in Python."""
    return worded(f"--label-from-name {pattern!r}", opt("label_from_name", pattern))


def name_pattern(pattern: str) -> re.Pattern:
    """``'{label}_{speaker}_{take}'`` -> a regex over file stems with one named group per field."""
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", pattern)
    names = [p[1:-1] for p in parts if p.startswith("{")]
    if "label" not in names:
        raise LstmkitError(f"{pattern_option(pattern)} has no {{label}} field",
                           "use e.g. '{label}_{speaker}_{take}'")
    if len(set(names)) != len(names):
        raise LstmkitError(f"{pattern_option(pattern)} repeats a field", "name each field once")
    if re.search(r"\}\{", pattern):         # '{label}{take}' read 'yes01' as label 'y', take 'es01'
        raise LstmkitError(f"{pattern_option(pattern)} puts two fields side by side: where one ends is anyone's guess",
                           "put the separator of the file names between them, e.g. '{label}_{take}'")
    if Path(pattern).suffix.lower() in AUDIO_SUFFIXES:      # matched against stems: no name would match
        raise LstmkitError(f"{pattern_option(pattern)} ends in {Path(pattern).suffix!r}, but it is matched "
                           "against file names without their extension", f"drop it: {pattern[:-len(Path(pattern).suffix)]!r}")
    rx = "".join(f"(?P<{p[1:-1]}>.+?)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(rx + r"\Z")


SAMPLED = "first, middle and last 4 KiB"     # what a recordings record's "audio" sample reads of each file
_SAMPLE = 4096


def audio_sample(path) -> str:
    """A recording's first, middle and last 4 KiB hashed (SHA-256, 16 hex digits): what tells a clip
    re-recorded at the same length from the one a run started on, at 12 KiB read per file (its
    features are read from the whole file anyway; hashing every byte of a large corpus again on each
    start is what the sample saves). Empty for what is not a readable file."""
    import hashlib
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            blocks = []
            for at in (0, max(0, size // 2 - _SAMPLE // 2), max(0, size - _SAMPLE)):
                f.seek(at)
                blocks.append(f.read(_SAMPLE))
    except (OSError, TypeError, ValueError):
        return ""
    return hashlib.sha256(b"".join(blocks)).hexdigest()[:16]
