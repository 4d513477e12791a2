"""Bad-input catalogue, `--resume RUN` after a text file it trains on changed, as
test_resume_tables.py's cases for tables:

`lm train --resume RUN` on a plain text corpus (a .txt, a gzipped .txt.gz, a --val text) whose lines were
appended, removed or edited was told only 'the data changed since RUN started: FILE is not the file
it trained on (their SHA-256 differ)'. Now it names what changed, at the file's line numbers: lines
appended (the lines it had proved as they were), lines gone, other text in lines X-Y.

`classify train --resume RUN` on a class-index CSV whose classes.txt is empty or cannot be read
since the run started got the reader's error ('classes.txt is empty: … write the set's class names
into classes.txt, or delete it' — the second fix trains under other classes; 'line 1 is not valid
utf-8 — pass --encoding …', a flag a resume does not take). Now it is named as changed since the
run started, with the fix: restore it as it was, naming the classes it gave.

`translate train --resume RUN` with its validation data as two line-aligned files
(--val-src-file, --val-tgt-file), lines appended to either since the run started: named through
the shared reader ('has 3 more rows than when RUN started (its first 10 rows are as they were)');
this file keeps it so (without the record: 'v.en has 13 lines but v.de has 10', the resume's fix unsaid)."""
import gzip
import json
from pathlib import Path

import pytest

from catalogue_helpers import check, interrupted, train_once
from table_data import labelled_texts, pairs, write_texts

_SMALL = ["--hidden-size", "4", "--layers", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard",
          "--device", "cpu", "--out", "{out}"]


def _text(n=48, edit=()):
    """Lines ``0..n`` of the corpus; those numbered in ``edit`` with a word more."""
    return [f"the cat sat on mat {i % 5} line {i}" + (" again" if i in edit else "") for i in range(n)]


def _write_text(path, lines):
    raw = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def _write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines))


FILES = {"c.txt": (_write_text, _text), "c.txt.gz": (_write_text, _text),
         "val.txt": (_write_text, lambda n=12: _text(48 + n)[48:]),         # lines the training text has not
         "agnews.csv": (write_texts, labelled_texts), "classes.txt": (Path.write_bytes, lambda: b"neg\npos\n"),
         "a.en": (_write_lines, lambda: list(pairs()["en"])), "a.de": (_write_lines, lambda: list(pairs()["de"])),
         "v.en": (_write_lines, lambda n=10: list(pairs(n, start=200)["en"])),
         "v.de": (_write_lines, lambda n=10: list(pairs(n, start=200)["de"]))}
_LM = ["lm", "train", "--level", "word", "--embed-dim", "4", "--min-freq", "1", *_SMALL]
RUNS = {
    "lm": [*_LM[:2], "--data", "{d}/c.txt", *_LM[2:]],
    "lm-gz": [*_LM[:2], "--data", "{d}/c.txt.gz", *_LM[2:]],
    "lm-val": [*_LM[:2], "--data", "{d}/c.txt", "--val", "{d}/val.txt", *_LM[2:]],
    "agnews": ["classify", "train", "--data", "{d}/agnews.csv", "--embed-dim", "4", "--min-freq", "1", *_SMALL],
    "moses-val": ["translate", "train", "--src-file", "{d}/a.en", "--tgt-file", "{d}/a.de", "--val-src-file",
                  "{d}/v.en", "--val-tgt-file", "{d}/v.de", "--embed-dim", "4", "--min-freq", "1", "--beam", "1",
                  *_SMALL],
}


def _write(name, content, d):
    FILES[name][0](d / name, content)


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume_texts")
    for name, (write, make) in FILES.items():
        write(d / name, make())
    for run, argv in RUNS.items():
        train_once(argv, d, d / run)
    return d


# run, the file changed, its content now, what the error names
CASES = [
    # plain text: each was 'FILE is not the file it trained on (their SHA-256 differ)'
    *[(run, name, change, needle) for run, name in (("lm", "c.txt"), ("lm-gz", "c.txt.gz")) for change, needle in (
        (lambda: _text(51), f"{name} has 3 more lines appended since"),
        (lambda: [*_text(), "", "one more line"], f"{name} has 2 more lines appended since"),
        (lambda: _text(44), f"{name} has 4 fewer lines than when"),
        (lambda: _text(edit=(9, 10)), f"{name} has other text in lines 10-12 (the first lines that differ) since"),
        (lambda: _text(edit=(47,)), f"{name} has other text in lines 46-48"),
        (lambda: [*_text(20), "inserted", *_text()[20:]], f"{name} has 1 more line and other text in lines 19-"))],
    ("lm-val", "val.txt", lambda: FILES["val.txt"][1](14), "val.txt has 2 more lines appended since"),   # --val
    ("lm", "c.txt", lambda: [], "c.txt has 48 fewer lines than when"),        # was 'c.txt is empty — supply text'
    ("lm", "c.txt", lambda: _text(24), "(48 then, 24 now; its first 24 lines are as they were)"),
    # classes.txt empty or unreadable: was the reader's 'is empty' or 'not valid utf-8 — pass --encoding'
    ("agnews", "classes.txt", lambda: b"", "classes.txt is empty since"),
    ("agnews", "classes.txt", lambda: b"\n\n", "started: it named the classes ['neg', 'pos']"),
    ("agnews", "classes.txt", lambda: b"neg\n\xffpos\n", "classes.txt cannot be read since"),
    ("agnews", "classes.txt", lambda: b"\xef\xbb\xbf\xff\n", "line 1 is not valid utf-8"),
    # --val-src-file / --val-tgt-file: lines appended since the run started
    ("moses-val", "v.en", lambda: FILES["v.en"][1](13), "v.en has 3 more lines appended since"),
    ("moses-val", "v.de", lambda: FILES["v.de"][1](11), "v.de has 1 more line appended since"),
    ("moses-val", "v.en", lambda: FILES["v.en"][1](8), "v.en has 2 fewer lines than when"),
]


@pytest.mark.parametrize("run, name, content, needle", CASES, ids=[f"{r}-{needle}" for r, _, _, needle in CASES])
def test_resume_names_what_changed_in_the_text_file(run, name, content, needle, d, tmp_path, capsys):
    copy = interrupted(next((d / run).iterdir()), tmp_path / "run")
    before = (copy / "lstmkit.json").read_bytes()
    try:
        _write(name, content(), d)
        check([RUNS[run][0], "train", "--resume", copy], 2, needle, tmp_path, capsys, d)
    finally:
        _write(name, FILES[name][1](), d)
    assert (copy / "lstmkit.json").read_bytes() == before


def test_a_classes_txt_broken_fix_names_the_classes_to_restore(d, tmp_path, capsys):
    """The fix names what to write back (the reader's said 'delete it', which trains on the indices)."""
    copy = interrupted(next((d / "agnews").iterdir()), tmp_path / "run")
    try:
        _write("classes.txt", b"", d)
        line = check(["classify", "train", "--resume", copy], 2, "is empty since", tmp_path, capsys, d)
    finally:
        _write("classes.txt", FILES["classes.txt"][1](), d)
    assert line.endswith(f"restore {d / 'classes.txt'} as it was (['neg', 'pos'], one a line), or start a new run "
                         "without --resume")


@pytest.mark.parametrize("run, name", [("lm", "c.txt"), ("lm-gz", "c.txt.gz")])
def test_a_run_from_before_the_lines_were_recorded_keeps_the_old_message(run, name, d, tmp_path, capsys):
    copy = interrupted(next((d / run).iterdir()), tmp_path / "run")
    meta = json.loads((copy / "lstmkit.json").read_text())
    del meta["data"]["tables"]
    (copy / "lstmkit.json").write_text(json.dumps(meta))
    try:
        _write(name, _text(50), d)
        check(["lm", "train", "--resume", copy], 2, f"{name} is not the file it trained on (their SHA-256 differ)",
              tmp_path, capsys, d)
    finally:
        _write(name, _text(), d)
