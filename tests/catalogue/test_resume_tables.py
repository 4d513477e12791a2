"""Bad-input catalogue, `classify train --resume RUN` (texts and numeric series) and `lm train
--resume RUN` after a table file it trains on changed, as test_resume_data.py's forecasting cases:
rows appended were 'the data changed since RUN started: FILE is not the file it trained on (their
SHA-256 differ)', and a text or label column renamed was 'text column 'review' not found in FILE —
pass --text with one of: …' (a flag a resume does not take). Now each names what changed, from the
table the run recorded when it started."""
import json
import shutil

import pytest

from catalogue_helpers import check, train_once
from table_data import lines, reviews
from table_data import long_series as series

_SMALL = ["--hidden-size", "4", "--layers", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard",
          "--device", "cpu", "--out", "{out}"]


FILES = {"reviews.csv": reviews, "val.csv": lambda: reviews(12, start=100), "series.csv": series, "lines.csv": lines}
RUNS = {
    "classify": ["classify", "train", "--data", "{d}/reviews.csv", "--val", "{d}/val.csv", "--text", "review",
                 "--label", "sentiment", "--embed-dim", "4", "--min-freq", "1", *_SMALL],
    "series": ["classify", "train", "--series", "--data", "{d}/series.csv", *_SMALL],
    "lm": ["lm", "train", "--data", "{d}/lines.csv", "--text-column", "text", "--level", "word", "--embed-dim", "4",
           *_SMALL],
}


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume_tables")
    for name, make in FILES.items():
        make().to_csv(d / name, index=False)
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
        table().to_csv(d / name, index=False)
        check([RUNS[run][0], "train", "--resume", copy], 2, needle, tmp_path, capsys, d)
    finally:
        FILES[name]().to_csv(d / name, index=False)
    assert (copy / "lstmkit.json").read_bytes() == before
