"""lstmkit.table_out: a command's table, written in the type its file name asks for."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.table_out import check_table_out, echo_or_write_table


@pytest.fixture(scope="module")
def zoned():
    """Two hours of Paris time on 2024-03-01: 00:00+01:00 is 23:00 UTC the day before."""
    return pd.DataFrame({"time": pd.date_range("2024-03-01", periods=2, freq="h", tz="Europe/Paris"),
                         "y": [1.5, 2.0]})


@pytest.mark.parametrize("name", ["t.csv", "t.txt", "t.TSV", "t.json", "t.jsonl", "t.parquet", "t.pq", "t.xlsx", "t"])
def test_each_suffix_is_written_as_its_type_and_reads_back(tmp_path, capsys, name):
    df = pd.DataFrame({"id": ["a", "b"], "y": [1.5, 2.0]}, index=[5, 7])    # rows kept of a larger table
    echo_or_write_table(df, tmp_path / name)
    path, kind = tmp_path / name, name.rsplit(".", 1)[-1].lower() if "." in name else "csv"
    read_csv, read_parquet = (lambda: pd.read_csv(path)), (lambda: pd.read_parquet(path))
    back = {"csv": read_csv, "txt": read_csv, "tsv": lambda: pd.read_csv(path, sep="\t"),
            "json": lambda: pd.DataFrame(json.loads(path.read_text())),
            "jsonl": lambda: pd.read_json(path, lines=True), "parquet": read_parquet, "pq": read_parquet,
            "xlsx": lambda: pd.read_excel(path)}[kind]()
    pd.testing.assert_frame_equal(back, df.reset_index(drop=True))        # the columns alone, not the index
    assert capsys.readouterr().out == f"wrote 2 rows to {path}\n"


def test_no_out_is_csv_on_standard_output(capsys):
    echo_or_write_table(pd.DataFrame({"id": ["a"], "y": [1]}), None)
    assert capsys.readouterr().out == "id,y\na,1\n"


@pytest.mark.parametrize("out", ["t.xls", "t.csv.gz", "t.feather"])
def test_a_suffix_no_writer_has_is_refused_before_any_work(tmp_path, out):
    with pytest.raises(LstmkitError, match=r"cannot write a table as '\.\w+'"):
        check_table_out(tmp_path / out)
    check_table_out(None)
    check_table_out(tmp_path / "t.Parquet")


def test_zoned_times_are_written_on_their_own_clock(tmp_path, zoned, capsys):
    echo_or_write_table(zoned, tmp_path / "t.json")
    assert [r["time"] for r in json.loads((tmp_path / "t.json").read_text())] == \
        ["2024-03-01T00:00:00+01:00", "2024-03-01T01:00:00+01:00"]
    echo_or_write_table(zoned, tmp_path / "t.jsonl")
    assert json.loads((tmp_path / "t.jsonl").read_text().splitlines()[1])["time"] == "2024-03-01T01:00:00+01:00"
    echo_or_write_table(zoned, tmp_path / "t.xlsx")                  # a workbook's cells hold no zone: the local clock
    assert list(pd.read_excel(tmp_path / "t.xlsx")["time"]) == [pd.Timestamp("2024-03-01 00:00"),
                                                                 pd.Timestamp("2024-03-01 01:00")]


def test_a_cell_a_workbook_cannot_hold_is_named_by_row_and_column(tmp_path):
    df = pd.DataFrame({"id": ["a", "b"], "text": ["fine", "page\x0cbreak"]})
    with pytest.raises(LstmkitError, match=r"row 2 of column 'text' holds a control character \('\\x0c'\)"):
        echo_or_write_table(df, tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_table_larger_than_a_worksheet_is_refused_before_writing(tmp_path):
    # openpyxl's ValueError came as a traceback after it had written a million rows (12 s); refused at once
    echo_or_write_table(pd.DataFrame({"a": range(3)}), tmp_path / "fits.xlsx")
    assert pd.read_excel(tmp_path / "fits.xlsx")["a"].tolist() == [0, 1, 2]
    for frame, size in ((pd.DataFrame({"a": np.zeros(1_048_576, dtype=np.int8)}), "1,048,576 rows x 1 columns"),
                        (pd.DataFrame(np.zeros((1, 16_385), dtype=np.int8)), "1 rows x 16,385 columns")):
        with pytest.raises(LstmkitError, match=f"the table is {size}, more than an .xlsx worksheet holds") as e:
            echo_or_write_table(frame, tmp_path / "big.xlsx")
        assert e.value.hint == "write it as .parquet, .csv, .tsv or .jsonl"
        assert not (tmp_path / "big.xlsx").exists()


@pytest.mark.parametrize("name", ["t.json", "t.jsonl"])
def test_a_float_written_as_json_reads_back_as_the_same_float(tmp_path, capsys, name):
    # pandas' to_json kept 10 significant digits: 0.1 + 0.2 read back as 0.3, 1/3 as 0.3333333333
    floats = [0.1 + 0.2, 1 / 3, 2.5e-20, 123456789.12345679, -0.0, np.nan]
    df = pd.DataFrame({"step": range(6), "y": floats, "time": pd.date_range("2024-01-01", periods=6, freq="D")})
    echo_or_write_table(df, tmp_path / name)
    text = (tmp_path / name).read_text()
    records = [json.loads(line) for line in text.splitlines()] if name.endswith("l") else json.loads(text)
    back = [r["y"] for r in records]
    assert back[:5] == floats[:5] and back[5] is None                # NaN: null, never a NaN token
    echo_or_write_table(df, tmp_path / "t.parquet")
    assert back[:5] == pd.read_parquet(tmp_path / "t.parquet")["y"].tolist()[:5]
    assert [r["time"] for r in records][:2] == ["2024-01-01T00:00:00", "2024-01-02T00:00:00"]


@pytest.mark.parametrize("name", ["t.json", "t.jsonl"])
def test_a_float32_column_written_as_json_is_its_shortest_text(tmp_path, capsys, name):
    # widened to float64 first, float32's 0.1 read 0.10000000149011612; numpy prints 0.1
    narrow = np.array([0.1, 1 / 3, 3.4028235e38, 1e-45, -0.0, np.nan, np.inf, 123456789.0], dtype=np.float32)
    df = pd.DataFrame({"p": narrow, "wide": np.float64(narrow) + 0.1,
                       "half": np.float16([0.1, 1 / 3, 0, 0, 0, 0, 0, 0]),
                       "nullable": pd.array([0.1, None, 0.7, 1, 2, 3, 4, 5], dtype="Float32")})
    echo_or_write_table(df, tmp_path / name)
    text = (tmp_path / name).read_text()
    records = [json.loads(line) for line in text.splitlines()] if name.endswith("l") else json.loads(text)
    assert [r["p"] for r in records] == [0.1, 0.33333334, 3.4028235e38, 1e-45, -0.0, None, None, 123456790.0]
    assert '"p": 0.1,' in text and "0.10000000149011612" not in text.split('"wide"')[0]
    assert np.array_equal(np.float32([r["p"] for r in records[:5]]), narrow[:5])      # the same float32s back
    assert [r["wide"] for r in records][:2] == (np.float64(narrow) + 0.1).tolist()[:2]  # float64: exactly as before
    assert [r["half"] for r in records][:2] == [0.1, 0.3333]
    assert [r["nullable"] for r in records][:3] == [0.1, None, 0.7]


def _json_records(path: Path) -> list[str]:
    """The records of a .json or .jsonl table as the lines of text the writer wrote."""
    lines = path.read_text().splitlines()
    return lines if path.suffix == ".jsonl" else [line.lstrip(" ").rstrip(",") for line in lines[1:-1]]


def _float32_sample() -> np.ndarray:
    """Float32s of every kind: random bit patterns over all exponents (subnormals, NaNs of any payload, both
    infinities among them), the largest and smallest, powers of two (whose gaps below are half those above)
    and values whose two nearest shortest texts tie (2097152.25: 2097152.2 and 2097152.3 alike)."""
    bits = np.random.default_rng(54).integers(0, 2 ** 32, 20_000, dtype=np.uint64).astype(np.uint32)
    special = np.array([np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45, -0.0, 0.0, np.inf, -np.inf,
                        np.nan, 0.1, 1 / 3, 1e16, 9.999999e15, 1e-5, 1e-4, 123456789.0], dtype=np.float32)
    powers = np.ldexp(np.float32(1), np.arange(-149, 128)).astype(np.float32)
    ties = np.array([2097152.25, 2097152.75, 2097151.875, 4194304.5, 1048576.125], dtype=np.float32)
    assert (ties.astype(np.float64) == [2097152.25, 2097152.75, 2097151.875, 4194304.5, 1048576.125]).all()
    return np.concatenate([bits.view(np.float32), special, powers, -powers, ties])


@pytest.mark.parametrize("name", ["t.json", "t.jsonl"])
def test_a_float32_column_is_written_exactly_as_each_value_s_own_shortest_text_reads_back(tmp_path, capsys, name):
    # the column is converted whole (pyarrow's casts); each value must read back as float(str(v)) did, numpy's
    # shortest text of that float32, to the last byte of the file, the nullable Float32 and a float16 too
    narrow = _float32_sample()
    half = np.random.default_rng(5).integers(0, 2 ** 16, len(narrow), dtype=np.uint64).astype(np.uint16)
    df = pd.DataFrame({"p": narrow, "n": pd.array(narrow, dtype="Float32"), "h": half.view(np.float16)})
    df.loc[::7, "n"] = pd.NA
    echo_or_write_table(df, tmp_path / name)
    text = lambda v: "null" if not np.isfinite(v) else json.dumps(float(str(v)))    # noqa: E731  (as it was written)
    expected = ['{"p": %s, "n": %s, "h": %s}' % (text(p), "null" if k % 7 == 0 else text(p), text(h))
                for k, (p, h) in enumerate(zip(narrow, half.view(np.float16)))]
    assert _json_records(tmp_path / name) == expected
    written = (tmp_path / name).read_text()
    assert '{"p": 2097152.2, ' in written and '{"p": 1e-45, ' in written and '{"p": 3.4028235e+38, ' in written


def test_float64_integer_bool_and_text_columns_are_written_as_their_python_values(tmp_path, capsys):
    # converted a column at a time (floats, numpy integers and bools whole): the text each value's own
    # json.dumps gives, NaN and infinities null, a nullable integer's NA null
    rng = np.random.default_rng(0)
    wide = np.concatenate([rng.standard_normal(500) * 10.0 ** rng.integers(-300, 300, 500),
                           [np.nan, np.inf, -np.inf, -0.0, 5e-324, np.finfo(float).max, 0.1 + 0.2]])
    n = len(wide)
    df = pd.DataFrame({"f": wide, "F": pd.array(wide, dtype="Float64"),
                       "i": rng.integers(-2 ** 63, 2 ** 63 - 1, n, dtype=np.int64, endpoint=True),
                       "u": np.full(n, 2 ** 64 - 1, dtype=np.uint64), "s8": np.arange(n).astype(np.int8),
                       "b": np.arange(n) % 3 == 0, "I": pd.array([None if k % 5 == 0 else k for k in range(n)],
                                                                   dtype="Int64"),
                       "t": [f"é{k}\"" for k in range(n)]})
    echo_or_write_table(df, tmp_path / "t.jsonl")
    num = lambda v: json.dumps(float(v)) if np.isfinite(v) else "null"              # noqa: E731
    expected = [json.dumps({"f": None, "F": None, "i": int(i), "u": 2 ** 64 - 1, "s8": int(s8), "b": bool(b),
                            "I": None if k % 5 == 0 else k, "t": t}, ensure_ascii=False)
                .replace('"f": null, "F": null', f'"f": {num(f)}, "F": {num(f)}')
                for k, (f, i, s8, b, t) in enumerate(zip(wide, df["i"], df["s8"], df["b"], df["t"]))]
    assert _json_records(tmp_path / "t.jsonl") == expected
    assert expected[n - 1].startswith('{"f": 0.30000000000000004, ') and '"b": true, ' in expected[0]


def _records_as_json_dumped_them(df, lines: bool) -> str:
    """A JSON table as the writer wrote it before it put records together from column texts: ``json.dumps``
    of each row's dict (``ensure_ascii=False``), a record a line or inside ``[`` ``]``."""
    from lstmkit.table_out import _json_column
    names = [str(name) for name in df.columns]
    columns = [_json_column(df.iloc[:, k]) for k in range(df.shape[1])]
    records = [json.dumps(dict(zip(names, row)), ensure_ascii=False, allow_nan=False) for row in zip(*columns)]
    if lines:
        return "".join(record + "\n" for record in records)
    return "[" + "".join(("\n " if k == 0 else ",\n ") + r for k, r in enumerate(records)) + (
        "\n]\n" if records else "]\n")


@pytest.mark.parametrize("name", ["t.json", "t.jsonl"])
def test_a_json_table_is_written_byte_for_byte_as_json_dumps_of_each_row_s_dict(tmp_path, capsys, monkeypatch,
                                                                                 name):
    # records are put together from each column's texts, a few rows at a time: the bytes are those of a
    # json.dumps a row, whatever the texts hold (", " and "}, {" inside them, quotes, %, control characters,
    # non-ASCII), columns of one name (one key, the last's value), mixed and nested values (a column of lists
    # alone, one of dicts alone: each value's text holds ', '), an empty table
    import lstmkit.table_out as table_out
    monkeypatch.setattr(table_out, "_JSON_ROWS", 3)                # several batches, the last one short
    n = 8
    odd = ["a, b", "}, {", '"q"', "%s %d", "tab\tnew\nline\x01", "é中😀", "", "\\"]
    df = pd.DataFrame({"t": odd, "f": [0.1, np.nan, -0.0, 1e-300, np.inf, 2.5, 1e16, -3.0],
                       "h": np.linspace(0, 1, n, dtype=np.float32), "i": np.arange(n) * 2 ** 40,
                       "b": [k % 2 == 0 for k in range(n)], "I": pd.array([1, None] * 4, dtype="Int64"),
                       "o": [1, "x", None, [1, "a, b"], {"k": [0.5, None]}, 2.5, True, "ÿ, é"],
                       "l": [[k, 0.5] for k in range(n)], "m": [{"a": k, "b": [None, True]} for k in range(n)],
                       "s": [None, "p", "q", None, "r", "s", None, "t"],
                       "d": pd.date_range("2024-01-01", periods=n, freq="D"),
                       # whole seconds in the first batches, a half second in the last: the column's precision, ms,
                       # in every batch (its CSV's), not each batch's own
                       "ms": pd.date_range("2024-01-01", periods=n, freq="s") + pd.to_timedelta([0] * 7 + [500], "ms"),
                       'k "%" é': range(n)})
    df.insert(2, "t", list(range(100, 100 + n)), allow_duplicates=True)     # a second column named t
    for frame in (df, df.iloc[:0], df.iloc[:, :0], df.iloc[:4]):
        echo_or_write_table(frame, tmp_path / name)
        assert (tmp_path / name).read_text(encoding="utf-8") == _records_as_json_dumped_them(
            frame, name.endswith("l"))
    assert '{"t": 100, ' in _records_as_json_dumped_them(df, True)           # the first t's place, the last t's value


def test_dash_is_csv_on_standard_output_and_no_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_table_out("-")
    echo_or_write_table(pd.DataFrame({"id": ["a"], "y": [1.5]}), "-")
    out, err = capsys.readouterr()
    assert out == "id,y\na,1.5\n" and err == "wrote 1 row to standard output\n"
    assert list(tmp_path.iterdir()) == []


def test_a_folder_or_a_path_under_a_file_is_refused_before_any_work(tmp_path):
    with pytest.raises(LstmkitError, match="it is a folder") as e:
        check_table_out(tmp_path, example="forecast.csv")
    assert e.value.hint == f"name a file, e.g. {tmp_path / 'forecast.csv'}, or move {tmp_path} aside"
    (tmp_path / "f").write_text("x")
    with pytest.raises(LstmkitError, match=r"f is a file, not a folder"):
        check_table_out(tmp_path / "f" / "t.csv")
    check_table_out(tmp_path / "new" / "t.csv")                     # a missing folder is made when written


def test_the_rows_written_are_counted_with_thousands_separators(tmp_path, capsys):
    """'wrote 12345 rows' where evaluate says '12,345 test forecasts': one style of count."""
    echo_or_write_table(pd.DataFrame({"y": range(12345)}), tmp_path / "t.csv")
    assert capsys.readouterr().out == f"wrote 12,345 rows to {tmp_path / 't.csv'}\n"


def test_a_time_column_with_some_fractions_of_a_second_is_written_at_one_precision(tmp_path, capsys):
    """numpy's "auto" unit picked a precision a value: 00:00:00.5 as ``...T00:00:00.500`` but the next midnight as
    ``2024-01-02``, a date alone. Half a second needs milliseconds: every time of the column has three decimals,
    as the CSV writes them."""
    df = pd.DataFrame({"time": pd.to_datetime(["2024-01-01 00:00:00.5", "2024-01-02 00:00:00", None],
                                              format="ISO8601")})
    echo_or_write_table(df, tmp_path / "t.json")
    assert [r["time"] for r in json.loads((tmp_path / "t.json").read_text())] == [
        "2024-01-01T00:00:00.500", "2024-01-02T00:00:00.000", None]
    df = pd.DataFrame({"time": pd.to_datetime(["2024-01-01 00:00:00.000001", "2024-01-02"], format="ISO8601")})
    echo_or_write_table(df, tmp_path / "t.jsonl")                       # a microsecond: six decimals each
    assert [json.loads(line)["time"] for line in (tmp_path / "t.jsonl").read_text().splitlines()] == [
        "2024-01-01T00:00:00.000001", "2024-01-02T00:00:00.000000"]


def test_a_missing_value_of_a_nullable_column_is_null_and_text_is_written_as_itself(tmp_path, capsys):
    """pandas' NA (a nullable integer's or string's missing cell) is null, as NaN is; "München" is written in
    UTF-8 as it reads, not as ``\\u00fc``."""
    df = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "city": pd.array(["München", None], dtype="string")})
    echo_or_write_table(df, tmp_path / "t.json")
    text = (tmp_path / "t.json").read_text(encoding="utf-8")
    assert json.loads(text) == [{"n": 1, "city": "München"}, {"n": None, "city": None}] and "München" in text


def test_an_out_that_is_a_file_the_command_reads_is_refused_however_it_is_spelt(tmp_path, monkeypatch):
    """``predict --data sales.csv --out ./sales.csv`` would replace the data by its forecast; ``-`` among the inputs
    (standard input) and a missing file are no file the table would replace."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sales.csv").write_text("t,y\n1,2\n")
    (tmp_path / "holidays.csv").write_text("t\n1\n")
    with pytest.raises(LstmkitError, match=r"it is the file read as --data, which the table would replace") as e:
        check_table_out("./sales.csv", inputs={"data": tmp_path / "sales.csv"}, example="forecast.csv")
    assert e.value.hint == "write the table under another name, e.g. forecast.csv"
    with pytest.raises(LstmkitError, match=r"read as --holidays"):
        check_table_out(tmp_path / "holidays.csv", inputs={"data": "-", "holidays": ["sales.csv", "holidays.csv"]})
    check_table_out("forecast.csv", inputs={"data": "sales.csv", "holidays": None})
    check_table_out("sales.csv", inputs={"data": "-"})


def test_standard_output_is_a_dash_or_a_path_to_this_process_s_own_and_only_it_takes_the_report_off_it(tmp_path):
    """/dev/stdout is descriptor 1's file, /dev/stderr (where it is another file) not; a file, a missing path and no --out are not standard output, and a report beside them stays on it."""
    import os
    import sys
    from lstmkit.table_out import is_standard_output, off_standard_output
    (tmp_path / "t.csv").write_text("x\n")
    assert is_standard_output("-") and is_standard_output("/dev/stdout")
    assert not any(is_standard_output(out) for out in (None, tmp_path / "t.csv", tmp_path / "new.csv"))
    if not os.path.samestat(os.fstat(1), os.fstat(2)):                  # two files (not pytest -s at a terminal)
        assert not is_standard_output("/dev/stderr")
    with off_standard_output(tmp_path / "new.csv"):
        assert sys.stdout is not sys.stderr
    with off_standard_output("-"):
        assert sys.stdout is sys.stderr


def test_an_out_beside_an_input_option_left_unset_is_checked_like_any_other(tmp_path, monkeypatch):
    """``predict --data sales.csv --out forecast.csv`` again, over last time's forecast.csv, with --holidays not
    given (None) or a count among the inputs: only paths are compared with the out file, and the run goes on."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sales.csv").write_text("t,y\n1,2\n")
    (tmp_path / "forecast.csv").write_text("t,y\n2,3\n")
    check_table_out("forecast.csv", inputs={"data": "sales.csv", "holidays": None, "lookback": 24})
    check_table_out(tmp_path / "forecast.csv", inputs={"holidays": [None, "sales.csv"]})


def test_an_out_ending_in_a_slash_is_refused_as_typed_and_dash_is_standard_output(tmp_path):
    """``--out preds/`` names a folder (a Path drops the slash and a FILE named preds was written); ``-`` and a
    file name pass, and the parser typer is given returns the name as a Path."""
    from lstmkit.table_out import check_file_name, out_file
    for text in (f"{tmp_path / 'preds'}/", "preds/"):
        with pytest.raises(LstmkitError, match="ends in a slash, naming a folder, where a file name is wanted") as e:
            out_file("forecast.csv")(text)
        assert e.value.hint == f"name the file, e.g. {Path(text) / 'forecast.csv'}"
        with pytest.raises(LstmkitError, match="ends in a slash"):
            check_table_out(text)
    for text in ("-", "preds", "preds.csv"):
        check_file_name(text)
    assert out_file()("preds.csv") == Path("preds.csv") and out_file()("-") == Path("-")
