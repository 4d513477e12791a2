"""One reader of table files for every task: .csv / .tsv / .xlsx / .parquet read to the same
cells, and the same errors (missing file, damaged file, missing reader package) whichever task
reads them."""
import sys

import pandas as pd
import pytest

from lstmkit.data.tables import is_table, read_frame, read_table
from lstmkit.data.textfile import row_place
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.data import read_texts
from lstmkit.tasks.classify.series import read_series
from lstmkit.tasks.forecast.data import load_table
from lstmkit.tasks.lm.data import read_corpus
from lstmkit.tasks.translate.data import read_pairs

FRAME = pd.DataFrame({"text": ["a good film", "a bad film", "so good"], "label": ["pos", "neg", "pos"],
                      "stars": [5, 1, 4]})


def _write(df: pd.DataFrame, path):
    {".csv": lambda: df.to_csv(path, index=False), ".tsv": lambda: df.to_csv(path, sep="\t", index=False),
     ".xlsx": lambda: df.to_excel(path, index=False), ".parquet": lambda: df.to_parquet(path),
     ".feather": lambda: df.to_feather(path)}[path.suffix]()
    return path


@pytest.mark.parametrize("ext", [".xlsx", ".parquet", ".feather"])     # .feather was 'unknown file type'
def test_a_workbook_and_a_parquet_file_read_as_the_csv_reads(tmp_path, ext):
    """The same cells, as text; a whole-number column with an empty cell stays whole (``"3"``, not
    ``"3.0"``: a label column of numbers keeps its classes) and the empty cell is ``""``."""
    df = FRAME.assign(klass=pd.array([1, None, 3], dtype="Int64"))
    got = read_table(_write(df, tmp_path / f"t{ext}"))
    want = read_table(_write(df, tmp_path / "t.csv"))
    assert is_table(tmp_path / f"t{ext}")
    assert got.to_dict("list") == want.to_dict("list") == {**FRAME.astype(str).to_dict("list"), "klass": ["1", "", "3"]}
    assert read_frame(tmp_path / f"t{ext}")["stars"].tolist() == [5, 1, 4]      # typed, for forecasting


def test_a_workbooks_text_cells_none_and_na_are_texts_as_in_the_csv(tmp_path):
    """A class named None (or a text 'NA', 'null') in a workbook read as a missing cell: its rows
    were left out as having no label, the class gone, where the same CSV trained it."""
    df = pd.DataFrame({"text": ["NA", "null", "fine", "a film"], "label": ["None", "pos", "N/A", None]})
    book = read_table(_write(df, tmp_path / "t.xlsx"))
    assert book.to_dict("list") == read_table(_write(df, tmp_path / "t.csv")).to_dict("list") == {
        "text": ["NA", "null", "fine", "a film"], "label": ["None", "pos", "N/A", ""]}
    with pytest.warns(UserWarning, match="2 of 4 rows .* have no label"):          # N/A and the empty cell
        assert read_texts(str(tmp_path / "t.xlsx")).labels == ["None", "pos"]
    assert "None" not in read_frame(tmp_path / "t.xlsx")["label"].tolist()    # typed (forecast): pandas' missing values


def test_a_workbooks_date_system_is_recorded_and_its_date_cells_read_in_it(tmp_path):
    """A workbook saved with "Use 1904 date system" (Mac Excel's) stores 2024-01-01 as 43830, not
    45292: its date cells read as the dates Excel shows (openpyxl reads them in the workbook's
    epoch), and ``attrs["date1904"]`` says which system its plain numbers (serial days) count in."""
    import datetime
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    for mac in (True, False):
        book = openpyxl.Workbook()
        if mac:
            book.epoch = CALENDAR_MAC_1904
        book.active.append(["date", "serial"])
        book.active.append([datetime.datetime(2024, 1, 1, 12), 43830])
        book.save(tmp_path / "b.xlsx")
        df = read_frame(tmp_path / "b.xlsx")
        assert df["date"].tolist() == [pd.Timestamp("2024-01-01 12:00")] and df["serial"].tolist() == [43830]
        assert df.attrs["date1904"] is mac
        assert load_table(tmp_path / "b.xlsx")["serial"].attrs["date1904"] is mac        # as forecasting sees it
    _write(FRAME, tmp_path / "t.csv")
    assert "date1904" not in read_frame(tmp_path / "t.csv").attrs                      # a CSV cannot say


def _readers(path):
    """Every task's reader of a table file."""
    return {"forecast": lambda: load_table(path), "classify": lambda: read_texts(str(path)),
            "series": lambda: read_series(path), "translate": lambda: read_pairs(path),
            "lm": lambda: read_corpus(path)}


def _messages(path, hint: bool = True) -> dict[str, str]:
    """Each task's error on ``path``: the message and (``hint``) the fix."""
    out = {}
    for task, read in _readers(path).items():
        with pytest.raises(LstmkitError) as e:
            read()
        out[task] = str(e.value) if hint else e.value.message
    return out


@pytest.mark.parametrize("ext", [".xlsx", ".parquet"])
def test_every_task_reads_a_workbook_and_a_parquet_file(tmp_path, ext):
    path = _write(FRAME.rename(columns={"text": "src", "label": "tgt"}), tmp_path / f"pairs{ext}")
    assert read_pairs(path).src == FRAME["text"].tolist()
    path = _write(FRAME, tmp_path / f"reviews{ext}")
    texts = read_texts(str(path))
    assert texts.texts == FRAME["text"].tolist() and texts.labels == ["pos", "neg", "pos"]
    assert read_corpus(path).lines == FRAME["text"].tolist()
    long = pd.DataFrame({"sample": [1, 1, 1, 2, 2, 2], "t": [0, 1, 2] * 2, "x": [0.5, 1.5, 2.5, 3, 2, 1],
                         "label": ["up"] * 3 + ["down"] * 3})
    series = read_series(_write(long, tmp_path / f"long{ext}"))
    assert series.labels == ["up", "down"] and series.seqs[0][:, 0].tolist() == [0.5, 1.5, 2.5]


@pytest.mark.parametrize("name", ["gone.xlsx", "gone.parquet", "gone.csv"])
def test_a_missing_file_is_the_same_error_for_every_task(tmp_path, name):
    messages = _messages(tmp_path / name, hint=False)     # the fix: lm's names its --data flag
    assert set(messages.values()) == {f"file not found: {tmp_path / name}"}, messages


@pytest.mark.parametrize("ext, words", [(".xlsx", "as an Excel workbook"), (".parquet", "valid Parquet")])
def test_a_damaged_file_is_the_same_error_for_every_task(tmp_path, ext, words):
    (tmp_path / f"bad{ext}").write_bytes(b"not a table at all")
    messages = _messages(tmp_path / f"bad{ext}")
    assert len(set(messages.values())) == 1 and words in messages["classify"], messages


@pytest.mark.parametrize("ext, package", [(".xlsx", "openpyxl"), (".parquet", "pyarrow")])
def test_a_missing_reader_package_names_it_for_every_task(tmp_path, monkeypatch, ext, package):
    path = _write(FRAME, tmp_path / f"reviews{ext}")
    for name in (package, "fastparquet"):              # pandas' other Parquet engine, should it be installed
        monkeypatch.setitem(sys.modules, name, None)   # import fails as if not installed
    messages = _messages(path)
    assert set(messages.values()) == {f"reading reviews{ext} needs the {package} package, which is not installed "
                                      f"— pip install {package}, or save the table as CSV UTF-8"}, messages


def test_each_format_names_a_row_as_it_numbers_it(tmp_path):
    """'data row N' was said of every file without lines: a CSV keeps its lines, a sheet its rows
    as the spreadsheet shows them (header row 1, empty rows counted), Parquet its rows from 1,
    JSON lines its lines (blank ones counted), for both readers."""
    frame = FRAME.astype({"stars": float})
    frame.loc[1, "stars"] = None
    book = _write(frame, tmp_path / "t.xlsx")
    import openpyxl
    wb = openpyxl.load_workbook(book)
    wb.active.insert_rows(3)                                            # an empty sheet row 3
    wb.save(book)
    _write(frame, tmp_path / "t.parquet")
    _write(frame, tmp_path / "t.csv")
    (tmp_path / "t.csv").write_text((tmp_path / "t.csv").read_text().replace("\n", "\n\n", 1))   # a blank line 2
    (tmp_path / "t.jsonl").write_text("\n" + frame.to_json(orient="records", lines=True))
    want = {"t.xlsx": "sheet row 5", "t.parquet": "row 3", "t.csv": "line 5", "t.jsonl": "line 4"}
    for name, place in want.items():
        assert row_place(read_table(tmp_path / name), 2) == place, name
        if name != "t.jsonl":                                           # pandas' own JSON reader: no lines
            assert row_place(read_frame(tmp_path / name), 2) == place, name
    assert row_place(FRAME, 2) == "data row 3"


def test_the_typed_reader_reads_a_tsvs_quote_marks_as_the_text_reader_does(tmp_path):
    """Forecasting's typed reader read a TSV by CSV rules: an id '"Store A' ran on to the next
    quote mark and merged the lines between into one id (two rows instead of three), without a
    word. Quote marks of a TSV that quotes nothing are text; a quoted export still reads by CSV
    rules, gzipped too; a row's line counts past a quoted line break."""
    import gzip
    plain = 'date\tid\ty\n2020-01-01\t"Store A\t1\n2020-01-02\t"Store A\t2\n2020-01-03\tStore B"\t3\n'
    (tmp_path / "plain.tsv").write_text(plain)
    (tmp_path / "plain.tsv.gz").write_bytes(gzip.compress(plain.encode()))
    for name in ("plain.tsv", "plain.tsv.gz"):
        df = read_frame(tmp_path / name)
        assert df["id"].tolist() == ['"Store A', '"Store A', 'Store B"'] and df["y"].tolist() == [1, 2, 3], name
    frame = pd.DataFrame({"date": ["2020-01-01", "2020-01-02", "2020-01-03"], "id": ['say "A"', "two\nlines", "C"],
                          "y": [1, 2, 3]})
    frame.to_csv(tmp_path / "quoted.tsv", sep="\t", index=False)
    df = read_frame(tmp_path / "quoted.tsv")
    assert df["id"].tolist() == frame["id"].tolist() and row_place(df, 2) == "line 5"
    assert row_place(read_frame(tmp_path / "plain.tsv"), 2) == "line 4"


def test_a_csv_without_a_header_line_is_read_once(tmp_path, monkeypatch):
    """Its first line was told from data after a full read, and the file then read again: twice
    the time (0.36 s instead of 0.17 s for a million rows). The head's first line decides now; a
    first line longer than the head (64 KiB) is still judged after the read."""
    reads = []
    real = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda src, *a, **k: reads.append(src) or real(src, *a, **k))
    (tmp_path / "nohead.csv").write_text("1.5,2\n3.5,4\n")
    with pytest.warns(UserWarning, match=r"nohead.csv has no header line \(its first line, '1.5,2', is data\)"):
        df = read_frame(tmp_path / "nohead.csv")
    assert list(df.columns) == ["column_1", "column_2"] and df["column_1"].tolist() == [1.5, 3.5]
    assert [r for r in reads if not hasattr(r, "read")] == [tmp_path / "nohead.csv"]        # the file, once
    wide = ",".join(f"{k}.5" for k in range(20000))                                         # 130 KB: past the head
    (tmp_path / "wide.csv").write_text(f"{wide}\n{wide}\n")
    with pytest.warns(UserWarning, match="has no header line"):
        assert read_frame(tmp_path / "wide.csv").shape == (2, 20000)


def test_a_sheet_reads_from_its_header_under_a_title_and_blank_rows(tmp_path):
    """A report sheet's title and blank rows above the header were read as the header ('Unnamed: 0',
    …: 'text column not found'); its rows keep the numbers the sheet shows."""
    import openpyxl
    book = openpyxl.Workbook()
    for row in [("Reviews, December",), (), ("text", "label", "stars"), *FRAME.itertuples(index=False), (), ("so bad", "neg", 1)]:
        book.active.append(row)
    book.save(tmp_path / "report.xlsx")
    for read in (read_table, read_frame):
        with pytest.warns(UserWarning, match=r"begins with a title \('Reviews, December'\): its header is read from sheet row 3"):
            df = read(tmp_path / "report.xlsx")
        assert list(df.columns) == ["text", "label", "stars"] and len(df) == 4
        assert [row_place(df, k) for k in (0, 3)] == ["sheet row 4", "sheet row 8"]
    with pytest.warns(UserWarning, match="begins with a title"):
        assert read_texts(str(tmp_path / "report.xlsx")).labels == ["pos", "neg", "pos", "neg"]


def test_an_empty_first_sheet_is_passed_over(tmp_path):
    """A workbook whose first sheet is empty (notes to come, a cover sheet) read as 'no columns'."""
    with pd.ExcelWriter(tmp_path / "b.xlsx") as book:
        pd.DataFrame().to_excel(book, sheet_name="Cover")
        FRAME.to_excel(book, sheet_name="Data", index=False)
        FRAME.head(1).to_excel(book, sheet_name="Old", index=False)
    with pytest.warns(UserWarning, match=r"b.xlsx has 3 sheets: read the first with cells, 'Data' \(not 'Old'\)"):
        assert read_frame(tmp_path / "b.xlsx").to_dict("list") == FRAME.to_dict("list")


def test_a_header_that_names_two_columns_alike_is_refused_by_every_task(tmp_path):
    """pandas read the second 'label' as 'label.1' and a dictionary reader kept the last: every task
    read one of the two without a word (classify trained on the first label, speech on the last text)."""
    from lstmkit.tasks.speech.manifest import read_manifest
    (tmp_path / "t.csv").write_text("text,label,label\na good film,pos,x\na bad film,neg,y\n")
    frame = FRAME.rename(columns={"stars": "label"})
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    (tmp_path / "m.csv").write_text("path,text,text\na.wav,yes,no\n")
    for path, where in [("t.csv", "t.csv"), ("t.xlsx", "t.xlsx (sheet 'Sheet1', row 1)")]:
        for task, message in _messages(tmp_path / path, hint=False).items():
            assert message == f"{tmp_path / where} names two columns 'label' (columns 2 and 3)", task
    with pytest.raises(LstmkitError, match=r"m.csv names two columns 'text' \(columns 2 and 3\) — give each column"):
        read_manifest(tmp_path / "m.csv")
    (tmp_path / "ok.csv").write_text("y,y.1\n1,2\n")                    # a name pandas would give is a name
    assert list(read_frame(tmp_path / "ok.csv").columns) == ["y", "y.1"]


@pytest.mark.parametrize("layout", ["columns", "index", "split", "table", "wrapped"])
def test_a_json_object_that_holds_a_table_reads_as_its_records(tmp_path, layout):
    """pandas' own layouts of a .json file (to_json's orient) and a web API's records under one key:
    read_frame read 'index' transposed (columns 0, 1, 2), 'split' and 'table' (its Table Schema) not at all,
    the wrapper as one column 'data'; read_table read each as one row whose cells were the whole columns."""
    import json
    doc = json.loads(FRAME.to_json(orient="records")) if layout == "wrapped" else json.loads(FRAME.to_json(orient=layout))
    (tmp_path / "t.json").write_text(json.dumps({"data": doc} if layout == "wrapped" else doc, indent=1))
    assert read_frame(tmp_path / "t.json").to_dict("list") == FRAME.to_dict("list")
    FRAME.to_json(tmp_path / "records.json", orient="records")
    assert read_table(tmp_path / "t.json").to_dict("list") == read_table(tmp_path / "records.json").to_dict("list")
    texts = read_texts(str(tmp_path / "t.json"))
    assert texts.texts == FRAME["text"].tolist() and texts.labels == FRAME["label"].tolist()


def test_a_json_file_that_holds_no_table_names_its_line_or_its_keys(tmp_path):
    lines = FRAME.to_json(orient="records", lines=True).splitlines()
    (tmp_path / "t.jsonl").write_text("\n".join([lines[0], "{oops", *lines[1:]]) + "\n")
    (tmp_path / "settings.json").write_text('{"lookback": 12, "horizon": 3}')
    with pytest.raises(LstmkitError, match=r"t.jsonl line 2 is not valid JSON — write one JSON object per line"):
        read_frame(tmp_path / "t.jsonl")         # was pandas' 'Expected object or value at position 43'
    with pytest.raises(LstmkitError, match=r"settings.json holds one JSON object \('lookback', 'horizon'\), "
                                           r"not a table — write its rows as records"):
        read_frame(tmp_path / "settings.json")   # was 'If using all scalar values, you must pass an index'
    (tmp_path / "nested.json").write_text('{"a": {"b": 1}, "c": [1, 2]}')
    with pytest.raises(LstmkitError, match=r"nested.json holds one JSON object \('a', 'c'\), not a table"):
        read_table(tmp_path / "nested.json")


@pytest.mark.parametrize("ext, kind", [(".parquet", "a Parquet file"), (".xlsx", "an Excel workbook"),
                                       (".feather", "a Feather file")])
def test_a_csv_under_a_binary_tables_name_is_named(tmp_path, ext, kind):
    """It was 'Parquet magic bytes not found in footer' / 'File is not a zip file'."""
    _write(FRAME, tmp_path / "t.csv").rename(tmp_path / f"t{ext}")
    FRAME.to_csv(tmp_path / f"s{ext}", sep="\t", index=False)
    for name, words in ((f"t{ext}", f"is CSV text, not {kind} — rename it t.csv"),
                        (f"s{ext}", f"is TSV text, not {kind} — rename it s.tsv")):
        for read in (read_frame, read_table):
            with pytest.raises(LstmkitError, match=words):
                read(tmp_path / name)


def test_a_table_under_an_unknown_name_is_named_by_what_it_holds(tmp_path):
    """A logger's .dat of CSV text, an export without an extension: 'unknown file type — use one of
    ... (or convert the file to CSV)', which it is; a Feather file under a .csv name: 'NUL bytes'."""
    _write(FRAME, tmp_path / "t.csv").rename(tmp_path / "log.dat")
    FRAME.to_csv(tmp_path / "export", sep="\t", index=False)
    for name, words in (("log.dat", "unknown file type '.dat': .*log.dat holds CSV text — rename it log.csv"),
                        ("export", "unknown file type '\\(no extension\\)': .*export holds TSV text — rename it "
                                   "export.tsv")):
        with pytest.raises(LstmkitError, match=words):
            read_frame(tmp_path / name)
    (tmp_path / "settings.dat").write_text('[{"a": 1, "b": 2}]')                  # not a table's text: as before
    with pytest.raises(LstmkitError, match=r"unknown file type '.dat'.*— use one of: .*\(or convert the file to CSV\)"):
        read_frame(tmp_path / "settings.dat")
    FRAME.to_feather(tmp_path / "f.csv")
    with pytest.raises(LstmkitError, match="f.csv is not a text file: it is a Feather \\(Arrow\\) file — rename it "
                                           "f.feather"):
        read_frame(tmp_path / "f.csv")


def test_a_big_semicolon_file_is_read_as_text_again_only_where_its_dots_may_group_thousands(tmp_path, monkeypatch):
    """Its float columns were all read a second time as text, whole, to look for thousands dots
    (1.032 beside 976): 200k rows of 5 float columns took 10-20 times one read. The text of the
    first rows rules out a column whose dots are decimal points (12.5, 0.250); a thousands dot past
    them (row 2000) is still found."""
    n = 3000
    price = ["976"] * n
    price[2000] = "1.032"
    lines = ["reading;price;ratio"] + [f"{12 + k % 7}.5;{p};0.{k % 900 + 100}" for k, p in enumerate(price)]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    texts = []
    real = pd.read_csv

    def spy(*args, **kw):
        if kw.get("dtype") is str and kw.get("nrows") is None:
            texts.append(kw.get("usecols"))
        return real(*args, **kw)
    monkeypatch.setattr(pd, "read_csv", spy)
    df = read_frame(path)
    assert df.attrs["dot_groups"] == {"price": (2000, "1.032")}
    assert df["reading"].iloc[0] == 12.5 and df["ratio"].iloc[1] == 0.101
    assert texts == [[1]]                          # the price column alone, not reading and ratio


def test_a_comma_at_every_line_end_leaves_the_columns_where_they_are(tmp_path):
    """pandas took each row's first cell for its name (its implicit index): the times were read
    as the values and the values as nothing ('time 0 appears more than once')."""
    (tmp_path / "ended.csv").write_text("time,y\n2024-01-01,1,\n2024-01-02,2,\n")
    df = read_frame(tmp_path / "ended.csv")
    assert list(df["time"]) == ["2024-01-01", "2024-01-02"] and list(df["y"]) == [1, 2]
    (tmp_path / "r.csv").write_text('"time","y"\n"1","2024-01-01",1\n"2","2024-01-02",2\n')     # R's write.table
    assert list(read_frame(tmp_path / "r.csv")["time"]) == ["2024-01-01", "2024-01-02"]
    assert list(read_frame(tmp_path / "r.csv").index) == [0, 1]
    (tmp_path / "wide.csv").write_text("time,y\n2024-01-01,1,5\n2024-01-02,2,6\n")
    with pytest.raises(LstmkitError, match=r"wide.csv line 2 has 3 cells, its header 2 \(time, y\)"):
        read_frame(tmp_path / "wide.csv")


def _in_thread(fn, *args):
    """``fn(*args)`` run in a daemon thread, joined for at most 30 s: (finished, result or error)."""
    import threading
    box = {}

    def run():
        try:
            box["out"] = fn(*args)
        except Exception as e:          # noqa: BLE001 -- handed back to the test
            box["out"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(30)
    return not t.is_alive(), box.get("out")


def test_a_named_pipe_is_read_once_by_every_table_reader(tmp_path):
    """A named pipe ``series.csv``: the reader opened it for its head, then again for the whole, and
    the second open waited for a writer for ever (`forecast predict --data fifo.csv` hung)."""
    import os
    import threading
    csv = "time,y\n" + "".join(f"2024-01-{k:02d},{k}\n" for k in range(1, 21))
    for reader in (load_table, read_frame, read_table):
        pipe = tmp_path / f"{reader.__name__}.csv"
        os.mkfifo(pipe)
        threading.Thread(target=lambda p=pipe: p.write_text(csv), daemon=True).start()
        finished, df = _in_thread(reader, pipe)
        assert finished, f"{reader.__name__} waited on the pipe for ever"
        assert list(df["y"].astype(int)) == list(range(1, 21)), df


@pytest.mark.parametrize("reader", [load_table, read_texts, read_series])
def test_a_pipe_without_a_name_is_read_by_its_content(reader):
    """``--data <(zcat f.csv.gz)`` is ``/dev/fd/63``: 'unknown file type (no extension)' for every table task."""
    import os
    import threading
    tables = {load_table: "time,y\n2024-01-01,1\n2024-01-02,2\n",
              read_texts: "text,label\ngood film,pos\nbad film,neg\n",
              read_series: "sample,t,x,label\n" + "".join(f"{s},{t},{t * s}.5,{'ab'[s % 2]}\n"
                                                        for s in range(4) for t in range(3))}
    r, w = os.pipe()
    threading.Thread(target=lambda: (os.write(w, tables[reader].encode()), os.close(w)), daemon=True).start()
    try:
        finished, out = _in_thread(reader, f"/dev/fd/{r}")
    finally:
        os.close(r)
    assert finished and not isinstance(out, Exception), out
    assert len(out) in (2, 4)


def test_a_row_read_from_a_pipe_is_placed_on_its_line():
    """A message naming a row's line reads the file again: the pipe's copy was gone by then ('file not
    found: /tmp/lstmkit-pipe-…/63.csv' for `forecast predict --data <(…)` with a bad cell)."""
    import os
    import threading
    r, w = os.pipe()
    threading.Thread(target=lambda: (os.write(w, b"time,y\n2024-01-01,1\n2024-01-02,abc\n"), os.close(w)),
                     daemon=True).start()
    try:
        finished, df = _in_thread(read_frame, f"/dev/fd/{r}")
    finally:
        os.close(r)
    assert finished and row_place(df, 1) == "line 3"


def _stdin_of(monkeypatch, data: bytes, tty: bool = False):
    """Standard input holding ``data`` (a terminal when ``tty``), as ``cat f | lstmkit ... --data -`` gives it."""
    import io
    import sys

    class Stdin(io.TextIOWrapper):
        def isatty(self):
            return tty
    monkeypatch.setattr(sys, "stdin", Stdin(io.BytesIO(data)))


@pytest.mark.parametrize("pack", ["plain", "gzip", "bz2", "xz", "zip", "parquet", "jsonl"])
def test_a_table_on_standard_input_is_read_by_its_content(pack, tmp_path, monkeypatch):
    """``--data -`` was 'file not found: -' for forecasting (classify, translate and lm read it), and a
    compressed stream through a pipe (``gzip -c f.csv | ... --data /dev/stdin``) was 'unknown file type'."""
    import bz2
    import gzip
    import lzma
    import zipfile
    df = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=5, freq="D").astype(str), "y": [1, 2, 3, 4, 5]})
    text = df.to_csv(index=False).encode()
    if pack == "zip":
        with zipfile.ZipFile(tmp_path / "t.zip", "w") as z:
            z.writestr("series.csv", text)
    data = {"plain": lambda: text, "gzip": lambda: gzip.compress(text), "bz2": lambda: bz2.compress(text),
            "xz": lambda: lzma.compress(text), "zip": lambda: (tmp_path / "t.zip").read_bytes(),
            "parquet": lambda: df.to_parquet(), "jsonl": lambda: df.to_json(orient="records", lines=True).encode()}[pack]()
    _stdin_of(monkeypatch, data)
    out = read_frame("-")
    assert list(out["y"].astype(int)) == [1, 2, 3, 4, 5]
    assert str(out["time"].iloc[-1]).startswith("2024-01-05")


@pytest.mark.parametrize("data, tty, needle", [
    (b"", True, "nothing is piped into it"),
    (b"", False, "standard input is empty"),
    (b"\x1f\x8b\x08\x00\x00\x00", False, "standard input is not a valid gzip file"),
    (b"hello\n", False, "standard input holds no table lstmkit can read"),
])
def test_standard_input_without_a_table_is_one_error_naming_it(data, tty, needle, monkeypatch):
    """A terminal (nothing piped in) is refused rather than waited on; an empty, cut-short or foreign
    stream is named as standard input, not as the temporary copy it was read into."""
    _stdin_of(monkeypatch, data, tty)
    with pytest.raises(LstmkitError, match=needle) as e:
        read_frame("-")
    assert "lstmkit-pipe-" not in str(e.value) + str(e.value.hint)


def test_an_old_mac_files_lone_cr_line_ends_read_as_lines(tmp_path):
    """Excel's "CSV (Macintosh)" ends its lines with a lone CR: the whole file was one header line, so
    a comma in a semicolon file's text made it comma-separated and Python's csv module raised
    'new-line character seen in unquoted field' (a traceback for classify, 'could not read' for
    forecast)."""
    (tmp_path / "texts.csv").write_bytes(b"text;label\rgood film;pos\rbad, sadly;neg\rgreat plot;pos\r")
    assert read_table(tmp_path / "texts.csv").to_dict("list") == {"text": ["good film", "bad, sadly", "great plot"],
                                                                  "label": ["pos", "neg", "pos"]}
    assert read_texts(tmp_path / "texts.csv").labels == ["pos", "neg", "pos"]
    (tmp_path / "sales.csv").write_bytes(b"Monat;Umsatz\r01.01.2024;266,5\r01.02.2024;145,9\r01.03.2024;183,1\r")
    frame = read_frame(tmp_path / "sales.csv")
    assert list(frame.columns) == ["Monat", "Umsatz"] and frame["Umsatz"].tolist() == [266.5, 145.9, 183.1]
    assert row_place(frame, 2) == "line 4"



def test_a_mac_file_whose_quoted_cell_holds_a_line_feed_names_its_rows_and_faults_by_line(tmp_path):
    """Rows ended by a lone CR (classic Mac) beside a line feed inside a quoted cell (a cell's line break): the line
    ends stay as they are, and are counted as pandas reads them, each ending a line. A quote mark never closed was
    pandas' own 'EOF inside string starting at row 4' (the check split the file at line feeds alone), and a row
    below a blank line was placed a line early (the blank line was not found)."""
    rows = ["text,label", "good film,pos", '"two\nlines",neg', "", "ok film,pos", "x,neg"]
    (tmp_path / "ok.csv").write_bytes("\r".join(rows).encode() + b"\r")
    frame = read_table(tmp_path / "ok.csv")
    assert frame["text"].tolist() == ["good film", "two\nlines", "ok film", "x"]
    assert [row_place(frame, i) for i in range(4)] == ["line 2", "line 3", "line 6", "line 7"]
    (tmp_path / "bad.csv").write_bytes("\r".join(rows[:5] + ['"never closed,pos', "x,neg"]).encode() + b"\r")
    with pytest.raises(LstmkitError, match=r"bad\.csv line 7: a quote mark opens a field that runs on to the end of "
                                           r"the file"):
        read_table(tmp_path / "bad.csv")


@pytest.mark.parametrize("read", [read_frame, read_table])
@pytest.mark.parametrize("body, said", [
    (b"time,y\n1,2\r3\n4,5,6\n", "line 4 has 3 cells, its header 2"),
    (b"time,y,z\nx\ry,1,2,3\n", "line 3 has 4 cells, its header 3"),
    (b"sales by day\ntime,y\n1,2\r3\n4,5\n", r"line 2 has 2 cells, its header 1 \(sales by day\)"),   # a title?
])
def test_a_lone_carriage_return_before_a_wide_row_is_a_line_end_in_its_error(tmp_path, read, body, said):
    """Found by coverage-guided fuzzing: a '\\r' alone (a classic Mac line end) above a row with more cells
    than the header ended in _csv.Error's traceback ('new-line character seen in unquoted field') where
    the row's error was due; the line is counted as pandas reads it, the '\\r' ending one."""
    (tmp_path / "f.csv").write_bytes(body)
    with pytest.raises(LstmkitError, match=said):
        read(tmp_path / "f.csv")


def test_a_row_of_a_file_with_one_lone_carriage_return_is_placed_on_its_line(tmp_path):
    # lines ended by '\n' but one by a lone '\r' (mac_line_ends leaves such a mix as it is): the line a message
    # names is counted as pandas reads the file, the '\r' ending one (a mutant counting without newline=""
    # ended in _csv.Error's traceback, 'new-line character seen in unquoted field', and survived)
    (tmp_path / "f.csv").write_bytes(b"t,y\n1,2\r3,4\n5,6\n7,8\n")
    frame = read_frame(tmp_path / "f.csv")
    assert frame["y"].tolist() == [2, 4, 6, 8]
    assert [row_place(frame, i) for i in range(4)] == ["line 2", "line 3", "line 4", "line 5"]
