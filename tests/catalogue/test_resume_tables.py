"""Bad-input catalogue, `classify train --resume RUN` (texts and numeric series), `lm train
--resume RUN` and `translate train --resume RUN` (a pair table and its --val table, two line-aligned
files) after a table file it trains on changed, as test_resume_data.py's forecasting cases:
rows appended were 'the data changed since RUN started: FILE is not the file it trained on (their
SHA-256 differ)', and a text or label column renamed was 'text column 'review' not found in FILE —
pass --text with one of: …' (a flag a resume does not take). Now each names what changed, from the
table the run recorded when it started."""
import json
import shutil

import pytest

from catalogue_helpers import check, train_once
from table_data import lines, pairs, reviews
from table_data import long_series as series

_SMALL = ["--hidden-size", "4", "--layers", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard",
          "--device", "cpu", "--out", "{out}"]


FILES = {"reviews.csv": reviews, "val.csv": lambda: reviews(12, start=100), "series.csv": series, "lines.csv": lines,
         "pairs.csv": pairs, "pairs_val.csv": lambda: pairs(10, start=200),
         "a.en": lambda: pairs()[["en"]], "a.de": lambda: pairs()[["de"]]}
_HEADERLESS = {"a.en": ",", "a.de": ","}       # written without a header: one column, plain lines
_TRANSLATE = ["--embed-dim", "4", "--min-freq", "1", "--beam", "1", *_SMALL]
RUNS = {
    "classify": ["classify", "train", "--data", "{d}/reviews.csv", "--val", "{d}/val.csv", "--text", "review",
                 "--label", "sentiment", "--embed-dim", "4", "--min-freq", "1", *_SMALL],
    "series": ["classify", "train", "--series", "--data", "{d}/series.csv", *_SMALL],
    "lm": ["lm", "train", "--data", "{d}/lines.csv", "--text-column", "text", "--level", "word", "--embed-dim", "4",
           *_SMALL],
    "translate": ["translate", "train", "--data", "{d}/pairs.csv", "--val", "{d}/pairs_val.csv", "--src", "en",
                  "--tgt", "de", *_TRANSLATE],
    "moses": ["translate", "train", "--src-file", "{d}/a.en", "--tgt-file", "{d}/a.de", *_TRANSLATE],
}


def _write(name, frame, d):
    if name in _HEADERLESS:
        frame.to_csv(d / name, index=False, header=False, sep=_HEADERLESS[name])
    else:
        frame.to_csv(d / name, index=False)


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume_tables")
    for name, make in FILES.items():
        _write(name, make(), d)
    for run, argv in RUNS.items():
        train_once(argv, d, d / run)
    return d


# run, the file changed, its table now, what the error names
CASES = [
    ("classify", "reviews.csv", lambda: reviews(45), "reviews.csv has 5 more rows than when"),
    ("classify", "reviews.csv", lambda: reviews().rename(columns={"review": "body"}), "'body' was 'review'"),
    ("classify", "reviews.csv", lambda: reviews().rename(columns={"sentiment": "mood"}), "'mood' was 'sentiment'"),
    ("classify", "val.csv", lambda: reviews(14, start=100), "val.csv has 2 more rows than when"),
    ("series", "series.csv", lambda: series(14), "series.csv has 12 more rows than when"),
    ("series", "series.csv", lambda: series().rename(columns={"label": "class"}), "'class' was 'label'"),
    ("lm", "lines.csv", lambda: lines(63), "lines.csv has 3 more rows than when"),
    ("lm", "lines.csv", lambda: lines().rename(columns={"text": "body"}), "'body' was 'text'"),
    ("translate", "pairs.csv", lambda: pairs(47), "pairs.csv has 7 more rows than when"),
    ("translate", "pairs.csv", lambda: pairs().rename(columns={"en": "english"}), "'english' was 'en'"),
    ("translate", "pairs.csv", lambda: pairs().rename(columns={"de": "german"}), "'german' was 'de'"),
    ("translate", "pairs_val.csv", lambda: pairs(13, start=200), "pairs_val.csv has 3 more rows than when"),
    ("moses", "a.en", lambda: pairs(41)[["en"]], "a.en has 1 more row than when"),       # was: 41 lines but 40
]


@pytest.mark.parametrize("run, name, table, needle", CASES, ids=[f"{r}-{needle}" for r, _, _, needle in CASES])
def test_resume_names_what_changed_in_the_table_file(run, name, table, needle, d, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(next((d / run).iterdir()), copy)
    meta = json.loads((copy / "lstmkit.json").read_text())
    meta["status"] = "interrupted"                  # as Ctrl-C after its last epoch leaves it
    (copy / "lstmkit.json").write_text(json.dumps(meta))
    before = (copy / "lstmkit.json").read_bytes()
    try:
        _write(name, table(), d)
        check([RUNS[run][0], "train", "--resume", copy], 2, needle, tmp_path, capsys, d)
    finally:
        _write(name, FILES[name](), d)
    assert (copy / "lstmkit.json").read_bytes() == before
