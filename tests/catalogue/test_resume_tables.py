"""Bad-input catalogue, `classify train --resume RUN` (texts and numeric series), `lm train
--resume RUN` and `translate train --resume RUN` (a pair table and its --val table, two line-aligned
files) after a table file it trains on changed, as test_resume_data.py's forecasting cases:
rows appended were 'the data changed since RUN started: FILE is not the file it trained on (their
SHA-256 differ)', and a text or label column renamed was 'text column 'review' not found in FILE —
pass --text with one of: …' (a flag a resume does not take). Now each names what changed, from the
table the run recorded when it started.

Files of series or texts that are no tables (`classify train --series` on a .ts, .arff or UCR .tsv;
`classify train` on a fastText file or a class-index CSV) were told only 'their SHA-256 differ';
a --val pair table whose source or target column was renamed 'source column 'en' not found in
FILE — name the columns of the validation table as the training table's …'. Now each names what
changed too: series or texts appended, other labels, other values.

`lm train` on a fastText file or a class-index CSV (their texts alone) was told only 'their SHA-256
differ' too; now texts appended, texts gone, other texts in rows X-Y. A class-index CSV's
classes.txt renamed since the run started was not noticed at all (the CSV's SHA-256 is the same):
the resume trained on the renamed classes. Now it is refused, naming the classes that differ."""
import json
import shutil

import pytest

from catalogue_helpers import check, train_once
from table_data import labelled_series, labelled_texts, lines, pairs, reviews, write_series, write_texts
from table_data import long_series as series

_SMALL = ["--hidden-size", "4", "--layers", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard",
          "--device", "cpu", "--out", "{out}"]


FILES = {"reviews.csv": reviews, "val.csv": lambda: reviews(12, start=100), "series.csv": series, "lines.csv": lines,
         "pairs.csv": pairs, "pairs_val.csv": lambda: pairs(10, start=200),
         "a.en": lambda: pairs()[["en"]], "a.de": lambda: pairs()[["de"]],
         "s.ts": labelled_series, "s.arff": labelled_series, "s.tsv": labelled_series,
         "ft.txt": labelled_texts, "agnews.csv": labelled_texts, "classes.txt": lambda: ["neg", "pos"]}
_HEADERLESS = {"a.en": ",", "a.de": ","}       # written without a header: one column, plain lines
def _write_names(path, names):
    """A classes.txt giving ``names``, one a line; None: no classes.txt."""
    if names is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text("".join(f"{n}\n" for n in names))


_NO_TABLES = {"s.ts": write_series, "s.arff": write_series, "s.tsv": write_series, "ft.txt": write_texts,
              "agnews.csv": write_texts, "classes.txt": _write_names}
_TEXTS = ["--embed-dim", "4", "--min-freq", "1", *_SMALL]
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
    **{ext: ["classify", "train", "--series", "--data", f"{{d}}/s.{ext}", *_SMALL] for ext in ("ts", "arff", "tsv")},
    "fasttext": ["classify", "train", "--data", "{d}/ft.txt", *_TEXTS],
    "agnews": ["classify", "train", "--data", "{d}/agnews.csv", *_TEXTS],
    **{f"lm-{run}": ["lm", "train", "--data", f"{{d}}/{name}", "--level", "word", *_TEXTS]
       for run, name in (("fasttext", "ft.txt"), ("agnews", "agnews.csv"))},
}


def _write(name, frame, d):
    if name in _NO_TABLES:
        _NO_TABLES[name](d / name, frame)
    elif name in _HEADERLESS:
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
    ("moses", "a.en", lambda: pairs(41)[["en"]], "a.en has 1 more line appended since"),       # was: 41 lines but 40
    # was 'source column 'en' not found in pairs_val.csv — name the columns of the validation table as …'
    ("translate", "pairs_val.csv", lambda: pairs(10, start=200).rename(columns={"en": "english"}),
     "pairs_val.csv has a column renamed since"),
    ("translate", "pairs_val.csv", lambda: pairs(10, start=200).rename(columns={"de": "german"}), "'german' was 'de'"),
    # files of series or texts, no tables: each was 'FILE is not the file it trained on (their SHA-256 differ)'
    *[(ext, f"s.{ext}", change, needle) for ext in ("ts", "arff", "tsv") for change, needle in (
        (lambda: labelled_series(15), f"s.{ext} has 3 more series appended since"),
        (lambda: labelled_series(flip=(3, 4, 5)), "has other labels in rows 4-6 (the first rows that differ; their "
                                                  "values are as they were)"),
        (lambda: labelled_series(bump=(9, 10, 11)), "has other values in the series in rows 10-12 (the first rows "
                                                    "that differ; their labels are as they were)"))],
    ("tsv", "s.tsv", lambda: labelled_series(10), "s.tsv has 2 fewer series than when"),
    *[(run, name, change, needle) for run, name in (("fasttext", "ft.txt"), ("agnews", "agnews.csv"))
      for change, needle in (
        (lambda: labelled_texts(27), f"{name} has 3 more texts appended since"),
        (lambda: labelled_texts(flip=(3, 4, 5)), "has other labels in rows 3-6 (the first rows that differ; their "
                                                 "texts are as they were)"),      # blocks of 2 of its 24 rows
        (lambda: labelled_texts(edit=(9, 10, 11)), "has other texts in rows 9-12 (the first rows that differ; their "
                                                    "labels are as they were)"))],
    # lm reads their texts alone: each was 'FILE is not the file it trained on (their SHA-256 differ)'
    *[(f"lm-{run}", name, change, needle) for run, name in (("fasttext", "ft.txt"), ("agnews", "agnews.csv"))
      for change, needle in (
        (lambda: labelled_texts(27), f"{name} has 3 more texts appended since"),
        (lambda: labelled_texts(20), f"{name} has 4 fewer texts than when"),
        (lambda: labelled_texts(edit=(9, 10, 11)), f"{name} has other texts in rows 9-12 (the first rows that "
                                                    "differ) since"))],
    # a class-index CSV's classes.txt changed since the run started: was resumed, training on the classes renamed
    ("agnews", "classes.txt", lambda: ["neg", "positive"], "classes.txt names class 2 'positive' where"),
    ("agnews", "classes.txt", lambda: ["pos", "neg"], "classes.txt names class 1 'pos', class 2 'neg' where"),
    ("agnews", "classes.txt", lambda: ["neg", "pos", "mixed"], "classes.txt names 3 classes where"),
    ("agnews", "classes.txt", lambda: None, "classes.txt is gone since"),
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
