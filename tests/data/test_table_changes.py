"""data.table_changes: what changed in a table file since a run started on it, told from the
record of its parsed table (rows, columns, dtypes, fingerprint, the fingerprints of 16 blocks of
rows); check_same_data resumes a file whose table is the same and names the change otherwise."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.same_data import HASHES_KEY, check_same_data
from lstmkit.data.table_changes import (TABLES_KEY, is_rows_table, lines_table, rows_table, same_table, table_change,
                                        table_records, texts_table)
from table_data import labelled_series, write_series
from lstmkit.errors import LstmkitError


def _sales(n=60):
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                         "sales": np.round(10 + 5 * np.sin(np.arange(n) / 3), 2), "promo": np.arange(n) % 2})


def _change(before, after):
    """``(problem, fix)`` for ``after`` read where ``before`` was recorded."""
    return table_change(table_records({"source": before})["source"], after, "sales.csv", "runs/r1")


def test_the_record_is_small_and_names_the_table():
    record = table_records({"source": _sales(100_000)})["source"]
    assert record["rows"] == 100_000 and record["columns"] == ["date", "sales", "promo"]
    assert len(record["blocks"]) == 16 and record["block"] == 6250
    assert len(json.dumps(record)) < 600          # lstmkit.json stays small, however long the file


def test_rows_appended_are_told_with_the_rows_kept_and_the_fix():
    df = _sales()
    problem, fix = _change(df, pd.concat([df, _sales(65).iloc[60:]], ignore_index=True))
    assert problem == "sales.csv has 5 more rows than when runs/r1 started (its first 60 rows are as they were)"
    assert "restore the file as it was (its first 60 rows" in fix and "start a new run without --resume" in fix
    # an appended row with an empty cell reads the integer column as float: the first rows are still proved
    grown = pd.concat([df, pd.DataFrame({"date": ["2024-03-01"], "sales": [1.0], "promo": [np.nan]})],
                      ignore_index=True)
    assert grown["promo"].dtype == "float64"
    assert _change(df, grown)[0].startswith("sales.csv has 1 more row than when runs/r1 started (its first 60 rows")
    # appended, and a value changed in the rows it had: not 'as they were'; the rows that differ are named
    edited = pd.concat([df, _sales(65).iloc[60:]], ignore_index=True)
    edited.loc[30, "sales"] = 99.0
    assert _change(df, edited)[0] == ("sales.csv has 5 more rows and other values in data rows 29-32 (the first rows "
                                      "that differ) since runs/r1 started (their SHA-256 differ)")


def test_rows_removed_from_the_end_are_told_with_the_rows_the_blocks_prove_kept():
    df = _sales()                                     # blocks of 4 rows
    assert _change(df, df.head(48))[0] == ("sales.csv has 12 fewer rows than when runs/r1 started (60 then, 48 now; "
                                           "its first 48 rows are as they were)")
    assert "its first 48 rows are as they were" in _change(df, df.head(50))[0]      # 49-50: no whole block
    first_changed = df.head(50).assign(sales=lambda d: d.sales + 1)
    assert _change(df, first_changed)[0] == "sales.csv has 10 fewer rows than when runs/r1 started (60 then, 50 now)"


@pytest.mark.parametrize("edit, problem", [
    (lambda d: d[["sales", "date", "promo"]],
     "sales.csv has its columns in another order than when runs/r1 started (['date', 'sales', 'promo'] then, "
     "['sales', 'date', 'promo'] now) (its rows are as they were)"),
    (lambda d: d.rename(columns={"promo": "promotion"}),
     "sales.csv has a column renamed since runs/r1 started: 'promotion' was 'promo' (its values are as they were)"),
    (lambda d: d.assign(stores=3),
     "sales.csv has a new column 'stores' (the columns it had are as they were) since runs/r1 started"),
    (lambda d: d.assign(stores=3, region="n"),
     "sales.csv has 2 new columns ['stores', 'region'] (the columns it had are as they were) since runs/r1 started"),
    (lambda d: d.drop(columns="promo"), "sales.csv has no column 'promo' any more since runs/r1 started"),
    (lambda d: d.drop(columns="promo").assign(stores=3),
     "sales.csv has a new column 'stores' and no column 'promo' any more since runs/r1 started"),
    (lambda d: d.assign(sales=d.sales.where(d.index != 5, 0.0)),
     "sales.csv has other values in data rows 5-8 (the first rows that differ) since runs/r1 started "
     "(their SHA-256 differ)"),
    (lambda d: d.assign(promo=d.promo.astype(str)),
     "sales.csv has columns of other types: 'promo' is "),
])
def test_a_column_change_or_other_values_are_named(edit, problem):
    assert _change(_sales(), edit(_sales()))[0].startswith(problem)


def test_a_renamed_column_with_other_values_is_not_said_to_hold_the_same_values():
    df = _sales()
    problem, _ = _change(df, df.rename(columns={"promo": "promotion"}).assign(promotion=1))
    assert problem == "sales.csv has a new column 'promotion' and no column 'promo' any more since runs/r1 started"


def _summary(tmp_path, frame, text=None):
    path = tmp_path / "sales.csv"
    path.write_text(text if text is not None else frame.to_csv(index=False))
    from lstmkit.data.same_data import data_hashes
    summary = {"source": str(path)}
    return {**summary, HASHES_KEY: data_hashes(summary), TABLES_KEY: table_records({"source": frame})}, summary


def test_the_same_table_saved_again_resumes_and_a_run_without_the_record_gets_the_old_message(tmp_path):
    from lstmkit.data.same_data import data_hashes
    df = _sales()
    recorded, summary = _summary(tmp_path, df)
    (tmp_path / "sales.csv").write_text(df.to_csv(index=False, lineterminator="\r\n", quoting=1))   # CRLF, quoted
    assert data_hashes(summary) != recorded[HASHES_KEY]
    check_same_data(recorded, data_hashes(summary), tmp_path, summary, {"source": df})               # no complaint
    grown = pd.concat([df, _sales(61).iloc[60:]], ignore_index=True)
    with pytest.raises(LstmkitError, match=r"sales\.csv has 1 more row than when .* started"):
        check_same_data(recorded, data_hashes(summary), tmp_path, summary, {"source": grown})
    old = {k: v for k, v in recorded.items() if k != TABLES_KEY}          # a run from before the tables
    for table in (df, grown):
        with pytest.raises(LstmkitError, match=r"sales\.csv is not the file it trained on \(their SHA-256 differ\)"):
            check_same_data(old, data_hashes(summary), tmp_path, summary, {"source": table})


def _started(path, frame):
    """A run's data summary as it records a table file ``path`` holding ``frame`` when it starts."""
    from lstmkit.data.same_data import data_hashes
    summary = {"source": str(path.resolve())}
    return {**summary, HASHES_KEY: data_hashes(summary), TABLES_KEY: table_records({"source": frame})}


def test_a_read_that_failed_on_a_changed_table_file_is_told_what_changed(tmp_path):
    """A resume whose --text column was renamed in the file failed reading it ('text column
    'review' not found — pass --text with one of: …', a flag a resume does not take)."""
    from lstmkit.data.same_data import check_changed_tables
    data = tmp_path / "reviews.csv"
    frame = pd.DataFrame({"review": ["good", "bad", "fine"], "sentiment": ["pos", "neg", "pos"]})
    frame.to_csv(data, index=False)
    recorded = _started(data, frame)
    frame.rename(columns={"review": "body"}).to_csv(data, index=False)
    with pytest.raises(LstmkitError, match=r"reviews\.csv has a column renamed since runs/r1 started: 'body' was "
                                           r"'review' \(its values are as they were\)") as e:
        check_changed_tables(recorded, {"source": str(data), "val_source": None}, pd.read_csv, Path("runs/r1"))
    assert e.value.hint.startswith("a resumed run must train on the data it started on: rename them back")
    # nothing it can tell: the read's own error stands
    check_changed_tables({**recorded, TABLES_KEY: {}}, {"source": data}, pd.read_csv, Path("runs/r1"))   # no record
    check_changed_tables(recorded, {"source": data}, lambda path: None, Path("runs/r1"))       # no table now
    frame.to_csv(data, index=False, quoting=1, lineterminator="\r\n")                          # the same table
    check_changed_tables(recorded, {"source": data}, pd.read_csv, Path("runs/r1"))
    frame.to_csv(data, index=False)                                                            # the same file
    check_changed_tables(recorded, {"source": data}, lambda path: pytest.fail("read again"), Path("runs/r1"))


def _agree(table, read):
    """The table a task's table reader gives is the one its data reader trained on (a resume
    compares the first with the record of the second)."""
    from lstmkit.data.fingerprint import fingerprint
    assert (table is None) == (read is None)
    assert table is None or fingerprint(table) == fingerprint(read)


@pytest.mark.filterwarnings("ignore:.*agnews.csv")
def test_each_task_reads_the_table_a_resume_compares(tmp_path):
    from lstmkit.tasks.classify.data import read_texts, text_table
    from lstmkit.tasks.classify.series import read_series, series_table
    from lstmkit.tasks.lm.data import corpus_table, read_corpus
    texts = pd.DataFrame({"text": [f"film {i} was {'good' if i % 2 else 'bad'}" for i in range(12)],
                          "label": ["pos", "neg"] * 6, "stars": np.arange(12) % 5})
    texts.to_csv(tmp_path / "t.csv", index=False)
    texts.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    texts.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    (tmp_path / "agnews.csv").write_text("".join(f'"{1 + i % 2}","title {i}","body {i}"\n' for i in range(6)))
    for name in ("t.csv", "t.jsonl", "t.tsv", "agnews.csv"):
        _agree(text_table(tmp_path / name), read_texts(str(tmp_path / name)).table)
        _agree(corpus_table(tmp_path / name, text_column=None if name == "agnews.csv" else "text"),
               read_corpus(str(tmp_path / name), text_column=None if name == "agnews.csv" else "text").table)
    (tmp_path / "ft.txt").write_text("".join(f"__label__{'ab'[i % 2]} film {i}\n" for i in range(6)))
    _agree(text_table(tmp_path / "ft.txt"), read_texts(str(tmp_path / "ft.txt")).table)
    _agree(corpus_table(tmp_path / "ft.txt"), read_corpus(str(tmp_path / "ft.txt")).table)
    # the files of texts that are no tables: their labelled texts as rows (a language model: the texts alone)
    assert all(is_rows_table(text_table(tmp_path / name)) for name in ("agnews.csv", "ft.txt"))
    assert all(list(corpus_table(tmp_path / name).columns) == ["text"] for name in ("agnews.csv", "ft.txt"))
    assert not is_rows_table(text_table(tmp_path / "t.csv"))
    (tmp_path / "plain.txt").write_text("one line\n\n  another \n")
    _agree(corpus_table(tmp_path / "plain.txt"), read_corpus(str(tmp_path / "plain.txt")).table)
    plain = corpus_table(tmp_path / "plain.txt")                   # plain text: its lines, the blank one too
    assert is_rows_table(plain) and list(plain.columns) == ["line"] and len(plain) == 3
    assert same_table(table_records({"source": plain})["source"], lines_table(["one line", "", "another"]))
    assert corpus_table(tmp_path / "plain.txt", text_column="text") is None     # refused by the read
    long = pd.DataFrame({"sample": np.repeat(np.arange(6), 4), "t": np.tile(np.arange(4), 6),
                         "x": np.round(np.sin(np.arange(24) / 3), 3), "label": np.repeat(["a", "b"] * 3, 4)})
    long.to_csv(tmp_path / "long.csv", index=False)
    (tmp_path / "ucr.tsv").write_text("".join(f"{k % 2}\t{k}.5\t{k + 1}\t{k + 2}\n" for k in range(6)))
    for name in ("s.ts", "s.arff"):
        write_series(tmp_path / name, labelled_series(6))
    for name in ("long.csv", "ucr.tsv", "s.ts", "s.arff"):
        _agree(series_table(tmp_path / name), read_series(str(tmp_path / name)).table)
    assert all(is_rows_table(series_table(tmp_path / name)) for name in ("ucr.tsv", "s.ts", "s.arff"))
    assert not is_rows_table(series_table(tmp_path / "long.csv"))
    assert series_table(tmp_path / "ucr.tsv")["label"].tolist() == ["0", "1"] * 3


def _rows_change(before, after, unit="series"):
    """``(problem, fix)`` for the rows ``after`` (``(label, item)``) read where ``before`` was recorded."""
    def table(rows):
        return rows_table([label for label, _ in rows], [item for _, item in rows], unit)
    return table_change(table_records({"source": table(before)})["source"], table(after), "s.ts", "runs/r1")


def test_series_and_texts_that_are_no_table_are_told_what_changed_by_rows():
    """A UCR / .ts / .arff file's series, a fastText or class-index file's texts: a label and the
    series' digest (or the text) a row, each column's blocks recorded beside (where a change lies)."""
    record = table_records({"source": rows_table(["a", "b"] * 50, [np.arange(5.0)] * 100, "series")})["source"]
    assert record["unit"] == "series" and set(record["column_blocks"]) == {"label", "series"}
    assert len(json.dumps(record)) < 1400                                         # lstmkit.json stays small
    assert rows_table(None, [np.arange(3.0)], "series") is None                   # unlabelled: nothing to train on
    series = labelled_series(48)                                                  # blocks of 3 series
    problem, fix = _rows_change(series, labelled_series(50))
    assert problem == "s.ts has 2 more series appended since runs/r1 started (its first 48 series are as they were)"
    assert fix.startswith("a resumed run must train on the data it started on: to resume, restore the file as it "
                          "was (its first 48 series; keep the longer one apart)")
    assert _rows_change(series, labelled_series(49))[0].startswith("s.ts has 1 more series appended")
    assert _rows_change(series, labelled_series(40))[0] == (
        "s.ts has 8 fewer series than when runs/r1 started (48 then, 40 now; its first 39 series are as they were)")
    assert _rows_change(series, labelled_series(flip=(12,), n=48))[0] == (
        "s.ts has other labels in rows 13-15 (the first rows that differ; their values are as they were) since "
        "runs/r1 started")
    # two blocks of values changed in a row, then a label further on: the first run of blocks alike
    assert _rows_change(series, labelled_series(48, bump=(3, 7, 20), flip=(30,)))[0] == (
        "s.ts has other values in the series in rows 4-9 (the first rows that differ; their labels are as they "
        "were) since runs/r1 started")
    assert _rows_change(series, labelled_series(50, bump=(5,), flip=(5,)))[0] == (
        "s.ts has 2 more series and other labels and values in the series in rows 4-6 (the first rows that differ) "
        "since runs/r1 started")
    assert _rows_change(series, series) is None                                   # the same rows: nothing to name
    texts = [("pos", "good film"), ("neg", "bad film"), ("pos", "fine film")]
    assert _rows_change(texts, [texts[0], ("neg", "bad films"), texts[2]], "text")[0] == (
        "s.ts has other texts in row 2 (the first rows that differ; their labels are as they were) since runs/r1 "
        "started")
    assert _rows_change(texts, [texts[0], ("pos", "bad film"), texts[2]], "text")[0].startswith(
        "s.ts has other labels in row 2 (the first rows that differ; their texts are as they were)")


def test_texts_read_without_their_labels_are_told_what_changed_in_the_texts():
    """A language model's fastText file or class-index CSV: its texts alone, their labels not read
    (another label is the same data to it)."""
    record = table_records({"source": texts_table(["good film", "bad film", "fine film"])})["source"]
    assert record["unit"] == "text" and record["columns"] == ["text"]
    assert "column_blocks" not in record                  # one column: its blocks are the table's
    assert same_table(record, texts_table(["good film", "bad film", "fine film"]))
    assert table_change(record, texts_table(["good film", "bad films", "fine film"]), "ft.txt", "runs/r1")[0] == (
        "ft.txt has other texts in row 2 (the first rows that differ) since runs/r1 started")
    assert table_change(record, texts_table(["good film", "bad film"]), "ft.txt", "runs/r1")[0] == (
        "ft.txt has 1 fewer text than when runs/r1 started (3 then, 2 now; its first 2 texts are as they were)")


def _lines_change(before, after):
    """``(problem, fix)`` for a plain text's lines ``after`` read where ``before`` was recorded."""
    return table_change(table_records({"source": lines_table(before)})["source"], lines_table(after), "c.txt",
                        "runs/r1")


def test_a_plain_texts_lines_are_told_what_changed_at_the_files_line_numbers():
    """A language model's plain text file was told only that the SHA-256 differ: now lines
    appended, lines gone, other text in lines X-Y (blank lines counted: the file's own numbers).
    Blank lines added or removed leave the text that trains as it was: the same table."""
    text = [f"line {i} of the text" for i in range(48)]                       # blocks of 3 lines
    assert _lines_change(text, [*text, "one more", "and another"])[0] == (
        "c.txt has 2 more lines appended since runs/r1 started (its first 48 lines are as they were)")
    assert _lines_change(text, text[:40])[0] == (
        "c.txt has 8 fewer lines than when runs/r1 started (48 then, 40 now; its first 39 lines are as they were)")
    assert _lines_change(text, [*text[:10], "edited", *text[11:]])[0] == (
        "c.txt has other text in lines 10-12 (the first lines that differ) since runs/r1 started")
    assert _lines_change(text, [*text[:46], "edited", text[47]])[0] == (
        "c.txt has other text in lines 46-48 (the first lines that differ) since runs/r1 started")
    assert _lines_change(["just one"], ["just two"])[0] == (
        "c.txt has other text in line 1 (the first lines that differ) since runs/r1 started")
    record = table_records({"source": lines_table(text)})["source"]
    assert "text_print" not in record                                          # no blank line: the same print
    assert same_table(record, lines_table(["", *text[:5], "", "", *text[5:], ""]))
    assert not same_table(record, lines_table(text[::-1]))
    gaps = table_records({"source": lines_table(["", *text, ""])})["source"]
    assert gaps["text_print"] != gaps["print"] and same_table(gaps, lines_table(text))
    big = table_records({"source": lines_table([f"line {i}" for i in range(200_000)])})["source"]
    assert big["rows"] == 200_000 and len(json.dumps(big)) < 600                # lstmkit.json stays small


def test_a_validation_file_under_the_summarys_files_is_told_what_changed(tmp_path):
    """translate names its --val table only under files.val_data: a renamed column there kept
    'source column 'en' not found … --src and --tgt apply to both'."""
    from lstmkit.data.same_data import check_changed_tables, data_hashes
    val = tmp_path / "val.csv"
    frame = pd.DataFrame({"en": ["a cat", "a dog"], "de": ["eine Katze", "ein Hund"]})
    frame.to_csv(val, index=False)
    summary = {"source": None, "files": {"val_data": str(val.resolve())}}
    recorded = {**summary, HASHES_KEY: data_hashes(summary), TABLES_KEY: table_records({"files.val_data": frame})}
    assert set(recorded[HASHES_KEY]) == {"files.val_data"}
    frame.rename(columns={"en": "english"}).to_csv(val, index=False)
    with pytest.raises(LstmkitError, match=r"val\.csv has a column renamed since runs/r1 started: 'english' was 'en'"):
        check_changed_tables(recorded, {"files.val_data": str(val), "files.val_src_file": None}, pd.read_csv,
                             Path("runs/r1"))
