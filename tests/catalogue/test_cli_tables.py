"""Bad-input catalogue, the table files every task reads (CSV, workbooks, JSON): one line, exit
code 2, nothing left behind, whichever command reads the file."""
import bz2
import gzip
import lzma
import sys
import zipfile

import pandas as pd
import pytest

from catalogue_helpers import check, forecast_run, train_once
from zstd_data import stored_zstd

_SMALL = ["--hidden-size", "4", "--layers", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard",
          "--device", "cpu", "--out", "{out}"]
FORECAST = ["forecast", "train", "--data", "{d}/%s", "--lookback", "4", "--ensemble", "1", *_SMALL]
CLASSIFY = ["classify", "train", "--data", "{d}/%s", "--embed-dim", "4", "--min-freq", "1", *_SMALL]
TRANSLATE = ["translate", "train", "--data", "{d}/%s", "--embed-dim", "4", "--min-freq", "1", *_SMALL]
LM = ["lm", "train", "--data", "{d}/%s", "--level", "char", "--embed-dim", "4", "--no-doctor", *_SMALL]
SPEECH = ["speech", "train", "--data", "{d}/%s", "--mode", "ctc", "--no-doctor", *_SMALL]


def _on(command: list[str], name: str) -> list[str]:
    return [a.replace("%s", name) for a in command]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("tables_data")
    days = "".join(f"2024-01-{k:02d},{k},{k % 3}\n" for k in range(1, 29))
    (d / "series_twice.csv").write_text("time,y,y\n" + days)
    (d / "days.csv").write_text("time,y,x\n" + days)
    reviews = "".join(f"{t},{c},x\n" for t, c in [("good film", "pos"), ("bad film", "neg")] * 10)
    (d / "label_twice.csv").write_text("text,label,label\n" + reviews)
    (d / "tgt_twice.csv").write_text("src,tgt,tgt\n" + "the cat,die katze,x\n" * 20)
    (d / "text_twice.csv").write_text("text,text\n" + "hello world,again\n" * 20)
    (d / "manifest_twice.csv").write_text("path,text,text\na.wav,yes,no\n")
    records = [f'{{"time": "2024-01-{k:02d}", "y": {k}}}' for k in range(1, 29)]
    (d / "bad_line.jsonl").write_text("\n".join([*records[:5], '{"time": "2024-01-06", "y": }', *records[5:]]))
    (d / "key_twice.jsonl").write_text('{"text": "good film", "label": "pos"}\n'
                                       '{"text": "bad film", "label": "neg", "label": "x"}\n' * 10)
    (d / "settings.json").write_text('{"lookback": 12, "horizon": 3}')
    counts = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=28, freq="D"),
                           "y": pd.array(range(1500, 1528), dtype="Int64")})          # pandas' nullable integers
    counts.loc[3, "y"] = pd.NA
    counts.to_parquet(d / "nullable.parquet")
    steps = pd.DataFrame({"t": pd.array(range(28), dtype="Int64"), "y": [k % 5 for k in range(28)]})
    steps.loc[6, "t"] = pd.NA
    steps.to_parquet(d / "nullable_steps.parquet")
    gap = "".join(f"2024-01-{k:02d},{k},{'' if 10 <= k <= 12 else k % 3}\n" for k in range(1, 29))   # 'b' has a gap
    (d / "wide_gap.csv").write_text("time,a,b\n" + gap)            # (a series that starts late is no gap: it is read)
    (d / "cut.csv.gz").write_bytes(gzip.compress(("time,y\n" + days).encode())[:60])      # a download cut short
    (d / "cut.txt.xz").write_bytes(lzma.compress(b"hello world\n" * 50)[:40])
    (d / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (d / "days.csv.zst").write_bytes(stored_zstd(("time,y,x\n" + days).encode()))
    (d / "reviews.csv.zst").write_bytes(stored_zstd(("text,label,x\n" + reviews).encode()))
    (d / "packed.csv").write_bytes(stored_zstd(("time,y,x\n" + days).encode()))      # zstandard under a .csv name
    (d / "bzipped.csv").write_bytes(bz2.compress(("time,y,x\n" + days).encode()))       # bzip2, xz, zip: the same
    (d / "xzed.txt").write_bytes(lzma.compress(b"hello world\n" * 50))
    (d / "reviews_xz.csv").write_bytes(lzma.compress(("text,label,x\n" + reviews).encode()))
    with zipfile.ZipFile(d / "zipped.csv", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("reviews.csv", "text,label,x\n" + reviews)
    with zipfile.ZipFile(d / "monash.zip", "w") as z:                # several data files: which one is meant?
        for name in ("a.tsf", "b.tsf", "__MACOSX/._a.tsf", ".DS_Store"):
            z.writestr(name, "@data\n")
    (d / "bad_line.jsonl.bz2").write_bytes(bz2.compress((d / "bad_line.jsonl").read_bytes()))
    with zipfile.ZipFile(d / "key_twice.zip", "w") as z:
        z.writestr("__MACOSX/._key_twice.jsonl", b"\0\0")
        z.write(d / "key_twice.jsonl", "data/key_twice.jsonl")
    # UTF-8 cut short inside its last character (a download stopped mid-way): 'not valid utf-8 — pass --encoding
    # cp1252' (a table was read so, warned), every é then read as Ã©
    for name, text in [("cut_days.csv", "time,y,note\n" + "".join(f"2024-01-{k:02d},{k},café\n" for k in range(1, 29))),
                       ("cut_reviews.csv", "text,label\n" + "très bon,pos\nmauvais café,neg\n" * 10),
                       ("cut_corpus.txt", "le café est très bon\n" * 20),
                       ("cut_pairs.tsv", "src\ttgt\n" + "the café\tdas Café\n" * 20)]:
        (d / name).write_bytes(text.encode()[:text.encode().rfind("é".encode()) + 1])
    (d / "plain").mkdir()
    (d / "classes" / "pos").mkdir(parents=True)                  # a class folder without its .txt files yet
    (d / "classes" / "pos" / "a.md").write_text("good film")
    return d


CASES = [
    (_on(FORECAST, "series_twice.csv"), "series_twice.csv names two columns 'y' (columns 2 and 3)"),
    (_on(CLASSIFY, "label_twice.csv"), "label_twice.csv names two columns 'label' (columns 2 and 3)"),
    (_on(TRANSLATE, "tgt_twice.csv"), "tgt_twice.csv names two columns 'tgt' (columns 2 and 3)"),
    (_on(LM, "text_twice.csv"), "text_twice.csv names two columns 'text' (columns 1 and 2)"),
    (_on(SPEECH, "manifest_twice.csv"), "manifest_twice.csv names two columns 'text' (columns 2 and 3)"),
    (_on(FORECAST, "bad_line.jsonl"), "bad_line.jsonl line 6 is not valid JSON"),      # was "at position 183"
    # a dict keeps the last: the second 'label' was read, 'only one class' or a class 'x' without a word
    (_on(CLASSIFY, "key_twice.jsonl"), "key_twice.jsonl line 2 names the key 'label' twice in one object"),
    # an Int64 column with <NA> (a count in 1000-2999, read as years?) was a ValueError from pandas, a traceback
    (_on(FORECAST, "nullable.parquet"), "empty or non-finite cells in column 'y'"),
    ([*_on(FORECAST, "nullable_steps.parquet"), "--time", "t"], "time column 't' has 1 empty cells"),
    # was "in column 'value' of series 'b'": the melted table's name, a column the file does not have
    ([*_on(FORECAST, "wide_gap.csv"), "--format", "wide"], "empty or non-finite cells in column 'b' (3 of 28 rows)"),
    (_on(FORECAST, "settings.json"), "settings.json holds one JSON object ('lookback', 'horizon'), not a table"),
    # compressed files (lstmkit.data.compressed): a damaged archive, a .zip of several files, and lines still named
    (_on(FORECAST, "cut.csv.gz"), "cut.csv.gz is not a valid gzip file, or it is cut short"),
    (_on(LM, "cut.txt.xz"), "cut.txt.xz is not a valid xz file, or it is cut short"),
    (_on(CLASSIFY, "broken.zip"), "broken.zip is not a valid zip file"),
    (_on(FORECAST, "packed.csv"), "packed.csv is not a text file: it is zstandard-compressed"),    # was "NUL bytes"
    # were "it holds NUL bytes: a binary file, e.g. a spreadsheet, archive or model" (zip: "rename it zipped.xlsx")
    (_on(FORECAST, "bzipped.csv"), "bzipped.csv is not a text file: it is bzip2-compressed — rename it bzipped.csv.bz2"),
    (_on(LM, "xzed.txt"), "xzed.txt is not a text file: it is xz-compressed — rename it xzed.txt.xz"),
    (_on(CLASSIFY, "reviews_xz.csv"), "reviews_xz.csv is not a text file: it is xz-compressed"),
    (_on(CLASSIFY, "zipped.csv"), "zipped.csv is not a text file: it is a zip archive (of reviews.csv) — rename it "
                                  "zipped.csv.zip"),
    (_on(FORECAST, "monash.zip"), "monash.zip holds 2 data files (a.tsf, b.tsf)"),
    (_on(FORECAST, "cut_days.csv"), "cut_days.csv ends in the middle of a character (line 29: its last byte c3 begins "
                                    "a UTF-8 character): the file is cut short"),
    (_on(CLASSIFY, "cut_reviews.csv"), "cut_reviews.csv ends in the middle of a character (line 21"),
    (_on(LM, "cut_corpus.txt"), "cut_corpus.txt ends in the middle of a character (line 20"),
    (_on(TRANSLATE, "cut_pairs.tsv"), "cut_pairs.tsv ends in the middle of a character (line 21"),
    (_on(FORECAST, "bad_line.jsonl.bz2"), "bad_line.jsonl.bz2 line 6 is not valid JSON"),
    (_on(CLASSIFY, "key_twice.zip"), "key_twice.zip line 2 names the key 'label' twice in one object"),
    (_on(CLASSIFY, "plain"), "plain is a folder with no class sub-folders of .txt files"),   # was 'unknown file type'
    (_on(CLASSIFY, "classes"), "classes is a folder whose sub-folders (pos) hold no .txt files"),
    (["classify", "train", "--series", "--data", "{d}/plain", *_SMALL], "plain is a folder, not a table of sequences"),
    # one column in two roles: 'not numeric: found 2024-01-01', or a series per value, each 'too short'
    ([*_on(FORECAST, "days.csv"), "--time", "time", "--target", "time"], "column 'time' is the time column and a target"),
    ([*_on(FORECAST, "days.csv"), "--time", "time", "--target", "y", "--features", "time"],
     "column 'time' is the time column and a feature"),
    ([*_on(FORECAST, "days.csv"), "--id", "y", "--target", "y"], "column 'y' is the id column and a target"),
    ([*_on(FORECAST, "days.csv"), "--id", "time", "--time", "time", "--target", "y"],
     "column 'time' is the id column and the time column"),
]


@pytest.mark.parametrize("argv, needle", CASES, ids=[f"{k}:{c[1]}" for k, c in enumerate(CASES)])
def test_table_bad_input(argv, needle, d, tmp_path, capsys):
    check(argv, 2, needle, tmp_path, capsys, d)


# was "unknown file type '.zst'"; read where the zstandard package (or Python >= 3.14) is there, hidden here
@pytest.mark.parametrize("argv", [_on(FORECAST, "days.csv.zst"), _on(CLASSIFY, "reviews.csv.zst")])
def test_a_zst_file_without_a_decoder(argv, d, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)
    monkeypatch.setitem(sys.modules, "compression.zstd", None)
    line = check(argv, 1, ".csv.zst is zstandard-compressed", tmp_path, capsys, d, monkeypatch=monkeypatch)
    assert "install the zstandard package (pip install zstandard) or decompress it (zstd -d " in line


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return forecast_run(tmp_path_factory.mktemp("tables_run"))


def test_a_short_file_to_evaluate_asks_for_rows_not_a_shorter_lookback(run, tmp_path, capsys):
    """The fix was 'shorten --lookback (or --horizon)', flags evaluate does not have: the run's
    lookback is fixed."""
    lines = (run.parent.parent / "sine.csv").read_text().splitlines(True)          # the run's training file
    (tmp_path / "short.csv").write_text("".join(lines[:9]))                          # its header and 8 rows
    line = check(["forecast", "evaluate", "--run", run, "--data", tmp_path / "short.csv"], 2,
                 "8 rows, need at least 19 for lookback 12", tmp_path, capsys)
    assert line.endswith("— supply at least 19 rows per series (the run's lookback 12 and horizon 1 are fixed when "
                         "it is trained)"), line


def test_empty_texts_to_evaluate_do_not_ask_for_a_flag_evaluate_lacks(d, tmp_path, capsys):
    """'remove them, or pass --drop-empty to skip them': classify evaluate has no --drop-empty (it
    reads the run's setting)."""
    reviews = "text,label\n" + "good film,pos\nbad film,neg\n" * 10
    (tmp_path / "reviews.csv").write_text(reviews)
    run = train_once(_on(CLASSIFY, "reviews.csv"), tmp_path, tmp_path / "trained")
    (tmp_path / "gaps.csv").write_text(reviews + " ,neg\n")
    capsys.readouterr()                                           # training's own warnings
    line = check(["classify", "evaluate", "--run", run, "--data", tmp_path / "gaps.csv"], 2,
                 "1 of 21 rows in", tmp_path, capsys, d)
    assert "pass --drop-empty" not in line and line.endswith("— remove or fill them: the run was trained without "
                                                       "--drop-empty, and scores every row"), line


def test_a_control_character_a_workbook_cannot_hold_is_named(d, tmp_path, capsys):
    """A sentence with a vertical tab or form feed (old text files have them) written with
    --out scores.xlsx was openpyxl's IllegalCharacterError, a traceback."""
    (tmp_path / "pairs.csv").write_text("src,tgt\n" + "the cat,die katze\na dog,ein hund\n" * 10)
    run = train_once(_on(TRANSLATE, "pairs.csv"), tmp_path, tmp_path / "trained")
    (tmp_path / "test.csv").write_text('src,tgt\n"the\x0bcat",die katze\n')
    capsys.readouterr()                                           # training's own output
    check(["translate", "evaluate", "--run", run, "--data", tmp_path / "test.csv", "--out", tmp_path / "scores.xlsx"],
          2, "row 1 of column 'source' holds a control character ('\\x0b'), which an .xlsx workbook cannot hold",
          tmp_path, capsys, d)
    assert not (tmp_path / "scores.xlsx").exists()


def test_lm_metrics_under_a_table_name_are_refused(d, tmp_path, capsys):
    """lm evaluate --out scores.xlsx wrote JSON into a file named .xlsx, without a word."""
    (tmp_path / "corpus.txt").write_text("the cat sat on the mat\n" * 20)
    run = train_once(_on(LM, "corpus.txt"), tmp_path, tmp_path / "trained")
    capsys.readouterr()                                           # training's own output
    check(["lm", "evaluate", "--run", run, "--data", tmp_path / "corpus.txt", "--out", tmp_path / "scores.xlsx"],
          2, "scores.xlsx names a .xlsx file, but lm evaluate writes its metrics as JSON — name it scores.json",
          tmp_path, capsys, d)
    assert not (tmp_path / "scores.xlsx").exists()
