import pytest

from lstmkit.data.textfile import decode_text
from lstmkit.errors import LstmkitError


def test_utf8_bom_dropped_and_other_encodings_read():
    assert decode_text("\ufeffhé".encode("utf-8"), "f.txt") == "hé"
    assert decode_text("hé".encode("latin-1"), "f.txt", "latin-1") == "hé"


def test_bad_byte_names_the_line_and_the_fix():
    raw = "ok\nok\ncaf\xe9\n".encode("latin-1")
    with pytest.raises(LstmkitError, match=r"f.txt line 3 is not valid utf-8 \(byte 0xe9\).*--encoding"):
        decode_text(raw, "f.txt")


def test_a_binary_file_is_not_text():
    """A spreadsheet or archive named .csv: one error saying so (it was 'line 1 is not valid utf-8,
    pass --encoding latin-1', which would read it as garbage); UTF-16 without a mark, when named, reads."""
    with pytest.raises(LstmkitError, match=r"f.csv is not a text file \(it holds NUL bytes.*UTF-8 CSV"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "f.csv")   # a workbook's and others': named
    with pytest.raises(LstmkitError, match="not a text file"):
        decode_text("a,b\n".encode("utf-16-le"), "f.csv")
    assert decode_text("a,b\n".encode("utf-16-le"), "f.csv", "utf-16-le") == "a,b\n"


def test_unknown_encoding():
    with pytest.raises(LstmkitError, match="unknown encoding 'klingon'"):
        decode_text(b"x", "f.txt", "klingon")


def test_byte_order_marks_name_the_encoding():
    from lstmkit.data.textfile import bom_encoding
    text = "date\ty\n01.01.2020\t10,5\n"
    for codec in ("utf-16", "utf-16-be", "utf-32", "utf-8-sig"):
        raw = text.encode(codec) if codec != "utf-16-be" else b"\xfe\xff" + text.encode(codec)
        assert decode_text(raw, "f.csv") == text, codec
    assert bom_encoding("x".encode("utf-32")) == "utf-32" and bom_encoding(b"x,y") is None


def test_header_separator():
    from lstmkit.data.textfile import header_separator
    assert header_separator("date,y", ",") == ","
    assert header_separator("date;y", ",") == ";" and header_separator("date\ty", ",") == "\t"
    assert header_separator("y", ",") == ","                      # one column: nothing to sniff
    assert header_separator("a;b;c,d", None) == ";" and header_separator("a b", None) is None
    assert header_separator("date|y", ",") == "|"                 # a database export named .csv: was one column


def test_a_pipe_separated_csv_reads_in_every_task(tmp_path):
    """'target column 'y' not found — available columns: date|y' (a database's or SAP's export)."""
    from lstmkit.data.tables import read_frame
    from lstmkit.tasks.classify.data import read_texts
    (tmp_path / "sales.csv").write_text("date|y\n2024-01-01|1.5\n2024-01-02|2.5\n")
    assert read_frame(tmp_path / "sales.csv").to_dict("list") == {"date": ["2024-01-01", "2024-01-02"], "y": [1.5, 2.5]}
    (tmp_path / "reviews.csv").write_text("text|label\ngood, really|pos\nbad|neg\n")
    assert read_texts(tmp_path / "reviews.csv").texts == ["good, really", "bad"]


def test_comma_decimals_only_where_the_comma_is_the_decimal_mark():
    import pandas as pd
    from lstmkit.data.textfile import comma_decimals
    col = pd.Series(["10,5", "-3", ",25", "1,5e3", None, ""])
    assert comma_decimals(col, ";").tolist()[:4] == [10.5, -3.0, 0.25, 1500.0]
    assert comma_decimals(col, ";").isna().tolist()[4:] == [True, True]
    assert comma_decimals(col, ",") is None                       # a comma file: a quoted "10,5" is text
    assert comma_decimals(pd.Series(["10,5", "abc"]), ";") is None
    assert comma_decimals(pd.Series(["10.5", "3"]), ";") is None  # nothing to convert
    assert comma_decimals(pd.Series(["1,234", "5,678"]), ";").tolist() == [1.234, 5.678]
    assert comma_decimals(pd.Series(["1,234", "5,678"]), "\t") is None    # could be thousands in a tab file
    assert comma_decimals(pd.Series(["1,25", "5,678"]), "\t").tolist() == [1.25, 5.678]
    # thousands grouped by dots, as a German or French spreadsheet formats them ('not numeric: 10.006,29')
    assert comma_decimals(pd.Series(["1.234,5", "-12.345.678,25", "7,5", "1.500"]), ";").tolist() == [
        1234.5, -12345678.25, 7.5, 1500.0]
    assert comma_decimals(pd.Series(["1.5", "7,5"]), ";") is None          # a decimal point beside a comma
    # French spreadsheets group by a (no-break) space; Swedish ones write U+2212 for the minus
    assert comma_decimals(pd.Series(["1\u00a0234,5", "12\u202f345", "1 000 000,5", "\u22122,5"]), ";").tolist() == [
        1234.5, 12345.0, 1000000.5, -2.5]
    assert comma_decimals(pd.Series(["1.234 567,5", "1,5"]), ";") is None  # two groupings in one number
    # no comma, but groups that only thousands have: 'not numeric: found 1\xa0000' / '1.000.000'
    assert comma_decimals(pd.Series(["1\u00a0000", "976", "12 500"]), ";").tolist() == [1000.0, 976.0, 12500.0]
    assert comma_decimals(pd.Series(["1.000.000", "976.000", "5"]), ";").tolist() == [1e6, 976000.0, 5.0]
    assert comma_decimals(pd.Series(["1.000", "976"]), ";") is None    # one dot: thousands or a point (dot_groups)


def test_dot_groups_names_a_dot_that_may_group_thousands():
    """In a semicolon file pandas read '1.032' as 1.032 beside '976' as 976: a European
    spreadsheet's 1032, silently a thousand times too small."""
    import pandas as pd
    from lstmkit.data.textfile import dot_groups
    assert dot_groups(pd.Series(["976", "1.032", None, "-2.500"]), ";", False) == (1, "1.032")
    assert dot_groups(pd.Series(["1.032", "2.500"]), ";", True) == (0, "1.032")    # decimal commas elsewhere
    assert dot_groups(pd.Series(["1.032", "2.500"]), ";", False) is None   # every cell dotted: a logger's %.3f
    assert dot_groups(pd.Series(["976", "1.032", "0.250"]), ";", False) is None    # 0.250 groups nothing
    assert dot_groups(pd.Series(["976", "1.5"]), ";", False) is None
    assert dot_groups(pd.Series(["976", "1.032"]), ",", False) is None     # a comma file's dot is its decimal point
    assert dot_groups(pd.Series(["976", "1.032"]), "\t", False) is None    # an English TSV's, too
    assert dot_groups(pd.Series(["976", "1.032"]), "\t", True) == (1, "1.032")   # decimal commas beside it


def test_read_table_sniffs_separators_and_encodings(tmp_path):
    from lstmkit.data.tables import read_table
    from lstmkit.data.textfile import table_column
    for name, raw in [("semi.csv", "text;label\nsehr gut;pos\nschlecht;neg\n".encode()),
                      ("tab.csv", "text\tlabel\nsehr gut\tpos\nschlecht\tneg\n".encode()),
                      ("excel.csv", "text\tlabel\r\nsehr gut\tpos\r\nschlecht\tneg\r\n".encode("utf-16")),
                      ("bom.csv", "text,label\nsehr gut,pos\nschlecht,neg\n".encode("utf-8-sig"))]:
        (tmp_path / name).write_bytes(raw)
        df = read_table(tmp_path / name)
        assert list(df.columns) == ["text", "label"] and df["text"].tolist() == ["sehr gut", "schlecht"], name
    with pytest.raises(LstmkitError, match=r"label column 'Label' not found in x \(did you mean 'label'\?\)"):
        table_column(df, "Label", "label", " in x")


def test_a_windows_1252_file_is_pointed_at_cp1252_not_latin_1():
    """Excel on Windows saves Windows-1252: latin-1 (the old hint) reads its ’ “ ” – as control characters."""
    raw = "text;label\nthe café’s “best” – really;pos\n".encode("cp1252")
    with pytest.raises(LstmkitError, match=r"line 2 is not valid utf-8 .*--encoding cp1252"):
        decode_text(raw, "f.csv")
    assert decode_text(raw, "f.csv", "cp1252").endswith("the café’s “best” – really;pos\n")
    with pytest.raises(LstmkitError, match="e.g. --encoding latin-1"):    # a byte Windows-1252 lacks (0x81)
        decode_text(b"ok\nx\x81y\n", "f.txt")


@pytest.mark.parametrize("ext, sep", [(".csv", ","), (".csv", ";")])
def test_a_quote_that_opens_a_field_and_runs_over_rows_is_an_error(tmp_path, ext, sep):
    """'"Best film ever' (the quote part of the text) opened a quoted field: pandas read the rows up
    to the next quote mark, or to the end of the file, as one cell without a word. (A tab-separated
    file's quote marks are text unless they are a writer's quoting: tests/data/test_quoting.py.)"""
    from lstmkit.data.tables import read_table
    rows = [f"review {k}{sep}{'pos' if k % 2 else 'neg'}" for k in range(8)]
    rows[2] = f'"Best film ever, said nobody{sep}pos'
    ran_on = tmp_path / f"ran_on{ext}"
    ran_on.write_text(f"text{sep}label\n" + "\n".join(rows[:6] + ['"Worst" ' + rows[6]] + rows[7:]) + "\n")
    with pytest.raises(LstmkitError, match=r"ran_on\.\w+ line 4: a quote mark opens a field that runs on to line 8.*"
                                           r"double each quote mark"):
        read_table(ran_on)
    unclosed = tmp_path / f"unclosed{ext}"
    unclosed.write_text(f"text{sep}label\n" + "\n".join(rows) + "\n")
    with pytest.raises(LstmkitError, match=r"unclosed\.\w+ line 4: a quote mark opens a field that runs on to the end "
                                           r"of the file"):
        read_table(unclosed)
    good = tmp_path / f"good{ext}"                   # a quoted field over two lines, its quotes doubled
    good.write_text(f'text{sep}label\n"he said ""fine""{sep}\nand left"{sep}pos\n' + "\n".join(rows[3:]) + "\n")
    df = read_table(good)
    assert len(df) == 6 and df["text"][0] == f'he said "fine"{sep}\nand left'
    # a quote closed on its own line above ('"Wow" said the critic') runs over nothing: the error named it,
    # "line 2: … runs on to line 2", not the quote that ran on
    quoted = tmp_path / f"quoted{ext}"
    quoted.write_text(f'text{sep}label\n"Wow" said the critic{sep}pos\n' + "\n".join(rows[:6] + ['"Worst" ' + rows[6]])
                      + "\n")
    with pytest.raises(LstmkitError, match=r"quoted\.\w+ line 5: a quote mark opens a field that runs on to line 9"):
        read_table(quoted)


def test_a_table_without_a_header_line_is_named_as_such(tmp_path):
    """Its first row was read as column names: 'pass --text with one of: the dog runs, pos'."""
    from lstmkit.data.tables import read_table
    from lstmkit.data.textfile import table_column
    (tmp_path / "nohead.csv").write_text("the dog runs,pos\nthe cat sleeps,neg\n")
    df = read_table(tmp_path / "nohead.csv")
    with pytest.raises(LstmkitError, match=r"text column 'text' not found in x: its first line reads as data, not as "
                                           r"column names — add a header line naming the columns \(this one 'text'\)"):
        table_column(df, "text", "text", " in x")
    df = read_table(tmp_path / "nohead.csv").rename(columns={"pos": "0.5"})
    with pytest.raises(LstmkitError, match="first line reads as data"):
        table_column(df, "label", "label", " in x")
    (tmp_path / "head.csv").write_text("review text,stars\nthe dog runs,5\n")       # names, not data
    with pytest.raises(LstmkitError, match=r"not found in x — pass --text with one of: review text, stars$"):
        table_column(read_table(tmp_path / "head.csv"), "text", "text", " in x")


def test_a_frame_with_numbered_columns_is_named_as_such():
    """pd.DataFrame(pairs) or pd.DataFrame(lines) numbers its columns 0, 1, ...: the fix was to add a
    header line as the file's first line, and there is no file."""
    import pandas as pd

    from lstmkit.data.textfile import table_column
    df = pd.DataFrame([["ein Hund", "a dog"], ["eine Katze", "a cat"]])
    with pytest.raises(LstmkitError, match=r"source column 'src' not found in the DataFrame: its columns are numbered "
                                           r"\(0, 1\), not named — pass --src with the number of the column "
                                           r"\(--src 0\), or name the columns \(pandas: df.columns = \['src', ...\]\)"):
        table_column(df, "src", "source", " in the DataFrame", "src")
    assert table_column(df, "1", "target", " in the DataFrame").tolist() == ["a dog", "a cat"]
    stacked = df.set_axis(pd.MultiIndex.from_tuples([("de", "text"), ("en", "text")]), axis=1)   # a groupby's
    with pytest.raises(LstmkitError, match=r"the columns in the DataFrame have 2 levels .*df.droplevel\(0, axis=1\)"):
        table_column(stacked, "src", "source", " in the DataFrame", "src")
    numbers = pd.DataFrame([[1.5, 2.5]], columns=pd.Index([10, 20]))         # a sheet's first row of data
    with pytest.raises(LstmkitError, match="first line reads as data"):
        table_column(numbers, "text", "text", " in x")


def test_excels_sep_line_names_the_separator(tmp_path):
    """'sep=;' above the header (Excel reads it, some exports write it) was read as the header:
    'text column not found — pass --text with one of: sep=, Unnamed: 1'."""
    from lstmkit.data.tables import read_table
    (tmp_path / "excel.csv").write_text("sep=;\ntext;label\nsehr gut, wirklich;pos\nschlecht;neg\n")
    df = read_table(tmp_path / "excel.csv")
    assert list(df.columns) == ["text", "label"] and df["text"].tolist() == ["sehr gut, wirklich", "schlecht"]


def test_after_a_sep_line_messages_name_the_files_own_lines(tmp_path):
    """Excel's 'sep=;' line was dropped before the table was read, and every line number after it
    was one short (the quote that ran on, the first unlabelled row, translate's empty pair); the
    numeric-sequence and forecasting readers read 'sep=' as the header."""
    import warnings
    from lstmkit.data.tables import read_frame, read_table
    from lstmkit.tasks.classify.data import read_texts
    from lstmkit.tasks.classify.series import read_series
    from lstmkit.tasks.translate.data import read_pairs
    (tmp_path / "ran_on.csv").write_text('sep=;\ntext;label\nfine;pos\n"Best film ever;pos\nbad;neg\n')
    with pytest.raises(LstmkitError, match=r"ran_on\.csv line 4: a quote mark opens a field that runs on to the end"):
        read_table(tmp_path / "ran_on.csv")
    (tmp_path / "unlabelled.csv").write_text("sep=;\ntext;label\nfine;pos\nbad;neg\n\nnot yet;NA\nawful;neg\n")
    with pytest.warns(UserWarning, match=r"1 of 4 rows in .* has no label .*first: line 6\)"):   # a blank line before it
        read_texts(tmp_path / "unlabelled.csv")
    (tmp_path / "pairs.csv").write_text('sep=;\nsrc;tgt\nthe dog;der Hund\n"a cat,\nsits";\n')
    with pytest.raises(LstmkitError, match=r"1 pair\(s\) have an empty side \(first at line 4\)"):
        read_pairs(tmp_path / "pairs.csv")
    (tmp_path / "pairs.tsv").write_text("sep=\t\nthe dog runs\tder Hund läuft\nno tab here\n")
    with warnings.catch_warnings(), pytest.raises(LstmkitError, match=r"line 3 of .* has no tab"):
        warnings.simplefilter("ignore")
        read_pairs(tmp_path / "pairs.tsv")
    (tmp_path / "long.csv").write_text("sep=;\nsample;t;x;label\na;0;1,5;up\na;1;2,5;up\nb;0;1;down\nb;1;0,5;down\n")
    assert read_series(tmp_path / "long.csv").seqs[0][:, 0].tolist() == [1.5, 2.5]
    (tmp_path / "ucr.tsv").write_text("sep=\t\n1\t0.5\t0.7\n2\t0.1\tx\n")
    with pytest.raises(LstmkitError, match=r"ucr\.tsv line 3: value 2 is not a number"):
        read_series(tmp_path / "ucr.tsv")
    (tmp_path / "sales.csv").write_text("sep=;\ndate;units\n2020-01-01;1,5\n2020-01-02;2,5\n")
    assert read_frame(tmp_path / "sales.csv").to_dict("list") == {"date": ["2020-01-01", "2020-01-02"], "units": [1.5, 2.5]}


def test_comment_lines_above_the_header_are_left_out(tmp_path):
    """A logger's '# exported by …' lines above the header were read as the header ('could not read:
    Expected 1 fields in line 3, saw 3'; classify: 'its first line reads as data'); messages still
    name the file's lines, and a header that begins with '#' stays the header."""
    from lstmkit.data.tables import read_frame, read_table
    from lstmkit.tasks.classify.data import read_texts
    from lstmkit.tasks.speech.manifest import read_manifest
    from lstmkit.tasks.translate.data import read_pairs
    top = "# exported by logger v2, 2024-01-03\n# units: kg\n\n"
    (tmp_path / "sales.csv").write_text(top + "date,units\n2020-01-01,1.5\n2020-01-02,x\n")
    assert read_frame(tmp_path / "sales.csv").to_dict("list") == {"date": ["2020-01-01", "2020-01-02"], "units": ["1.5", "x"]}
    (tmp_path / "reviews.csv").write_text(top + "text,label\nfine,pos\nbad,neg\nnot yet,\n")
    with pytest.warns(UserWarning, match=r"1 of 3 rows in .* has no label .*first: line 7\)"):
        assert read_texts(tmp_path / "reviews.csv").texts == ["fine", "bad"]
    (tmp_path / "pairs.csv").write_text("sep=;\n# corpus v1\nsrc;tgt\nthe dog;der Hund\n")
    assert read_pairs(tmp_path / "pairs.csv").tgt == ["der Hund"]
    (tmp_path / "m.csv").write_text("# recorded 2024\npath,text\na.wav,yes\nb.wav,yes, please\n")
    with pytest.raises(LstmkitError, match=r"m\.csv line 4 holds 1 more cell"):
        read_manifest(tmp_path / "m.csv")
    (tmp_path / "numbered.csv").write_text("#,text,label\n1,fine,pos\n")
    assert list(read_table(tmp_path / "numbered.csv").columns) == ["#", "text", "label"]


def test_a_sheets_title_row_above_the_header_is_left_out(tmp_path):
    """A sheet with a title (merged over its columns) saved as CSV writes 'Sales 2024,,' and ',,'
    above the header: the title was read as the header ('target column 'sales' not found —
    available columns: Sales 2024, Unnamed: 1'; classify: 'its first line reads as data'). It is
    left out with a warning, as a workbook's is; messages still name the file's lines."""
    from lstmkit.data.tables import read_frame, read_table
    from lstmkit.data.textfile import row_place, separator_line
    (tmp_path / "sales.csv").write_text("Sales report 2024,,\r\n,,\r\ndate,sales,units\r\n2024-01-01,5,x\r\n")
    with pytest.warns(UserWarning, match=r"sales.csv begins with a title \('Sales report 2024'\): its header is read "
                      r"from line 3"):
        df = read_frame(tmp_path / "sales.csv")
    assert df.to_dict("list") == {"date": ["2024-01-01"], "sales": [5], "units": ["x"]} and row_place(df, 0) == "line 4"
    (tmp_path / "reviews.csv").write_text('"Reviews, March";\ntext;label\nfine;pos\n')
    with pytest.warns(UserWarning, match="begins with a title"):
        assert read_table(tmp_path / "reviews.csv").to_dict("list") == {"text": ["fine"], "label": ["pos"]}
    for text in ("total,\ndate,sales,units\n",          # not as many separators as the header under it
                 "total,\ndate,\n",                       # a header cell without a name
                 "text\ngood, really\n"):                  # no separator after it: a one-column table
        assert separator_line(text)[2] == 1, text
    assert separator_line("Sales,\n,\n,\ndate,y\n")[2] == 4


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_utf8_file_read_as_utf16_or_32_is_refused_not_turned_into_cjk(encoding):
    """--encoding utf-16 on a UTF-8 file decoded its byte pairs as CJK characters on one line, and
    training went on with them."""
    raw = "the cat sat\nthe dog ran\n".encode("utf-8")
    with pytest.raises(LstmkitError, match=f"a.txt is not {encoding} text: it has line breaks but no NUL byte.*"
                                           "pass --encoding utf-8"):
        decode_text(raw, "a.txt", encoding)
    assert decode_text("the cat\nsat\n".encode(encoding), "a.txt", encoding) == "the cat\nsat\n"
    assert decode_text("上海".encode("utf-16-le"), "a.txt", "utf-16-le") == "上海"      # wide text without a NUL


def test_a_utf8_file_read_as_latin1_is_said():
    """--encoding latin-1 on a UTF-8 file read 'café' as 'cafÃ©' without a word."""
    import warnings
    import pytest
    raw = "name\ncafé au lait\n".encode("utf-8")
    with pytest.warns(UserWarning, match=r"f.csv reads as UTF-8 \('é' .*--encoding latin-1 reads each of them as two "
                                         r"or three characters \('Ã©'\); pass --encoding utf-8"):
        assert decode_text(raw, "f.csv", "latin-1") == "name\ncafÃ© au lait\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert decode_text("café".encode("latin-1"), "f.csv", "latin-1") == "café"      # really latin-1
        assert decode_text(b"plain ascii", "f.csv", "cp1252") == "plain ascii"
        assert decode_text(raw, "f.csv") == "name\ncafé au lait\n"


def test_a_column_name_two_columns_share_is_refused_not_read_as_a_frame():
    import pandas as pd
    from lstmkit.data.textfile import check_unique_columns, table_column
    df = pd.DataFrame([["a", "x", "y"]], columns=["text", "label", "label"])
    assert table_column(df, "text", "text", "").tolist() == ["a"]          # another name may repeat
    with pytest.raises(LstmkitError, match=r"2 columns in t\.csv are named 'label'.*drop the copies"):
        table_column(df, "label", "label", " in t.csv")
    with pytest.raises(LstmkitError, match="2 columns are named 'label'"):
        check_unique_columns(df)
    check_unique_columns(df.set_axis(["text", "label", "label.1"], axis=1))


def test_a_cell_of_bytes_is_refused_not_read_as_its_repr():
    import pandas as pd
    from lstmkit.data.textfile import column_strings
    assert column_strings(pd.Series(["a", None, 3], name="text")) == ["a", "", "3"]
    with pytest.raises(LstmkitError, match=r"item 2 of column 'text' is bytes \(b'bad'\).*decode"):
        column_strings(pd.Series(["good", b"bad"], name="text"))
    with pytest.raises(LstmkitError, match="item 1 of the list is bytes"):
        column_strings([b"x"])



def test_a_missing_cell_of_a_nullable_column_is_empty_not_the_text_na():
    """pandas' nullable columns (dtype "string", convert_dtypes) hold pd.NA, which was read as the
    text '<NA>': trained on, or translated, as a sentence."""
    import numpy as np
    import pandas as pd
    from lstmkit.data.textfile import column_strings
    assert column_strings(pd.Series(["a", None], dtype="string")) == ["a", ""]
    assert column_strings(pd.Series(["a", pd.NA, pd.NaT, np.nan], dtype=object)) == ["a", "", "", ""]


def test_a_cell_of_several_values_is_refused_not_read_as_its_brackets(tmp_path):
    """A JSON list (or a Parquet list column) as the text was trained as "['good', 'film']"."""
    import pandas as pd
    from lstmkit.data.tables import read_table
    from lstmkit.data.textfile import column_strings
    with pytest.raises(LstmkitError, match=r"item 2 of column 'text' holds several values, not one text "
                                           r"\(list ..'bad'..\) — .*str\.join"):
        column_strings(pd.Series(["good", ["bad"]], name="text"))
    with pytest.raises(LstmkitError, match="item 1 of the list holds several values"):
        column_strings([{"a": 1}])
    pd.DataFrame({"text": [["good", "film"], ["bad"]], "tags": ["a", "b"]}).to_parquet(tmp_path / "lists.parquet")
    table = read_table(tmp_path / "lists.parquet")
    assert column_strings(table["tags"]) == ["a", "b"]              # a list column not asked for is no error
    with pytest.raises(LstmkitError, match=r"item 1 of column 'text' holds several values, not one text \(ndarray"):
        column_strings(table["text"])

def test_a_binary_table_under_a_text_name_is_named_with_the_name_that_reads_it(tmp_path):
    """'is not a text file (it holds NUL bytes: a binary file, e.g. a spreadsheet, …)': which one,
    and what to do, was left to the user."""
    import gzip
    import re
    import pandas as pd
    from lstmkit.data.tables import read_frame, read_table
    frame = pd.DataFrame({"text": ["good", "bad"], "label": ["pos", "neg"]})
    frame.to_parquet(tmp_path / "p.csv")
    frame.to_excel(tmp_path / "x.xlsx", index=False)
    (tmp_path / "x.csv").write_bytes((tmp_path / "x.xlsx").read_bytes())
    (tmp_path / "g.csv").write_bytes(gzip.compress(frame.to_csv(index=False).encode()))
    want = {"p.csv": "is not a text file: it is a Parquet file — rename it p.parquet",
            "x.csv": "is not a text file: it is a zip archive (as an .xlsx workbook is) — rename it x.xlsx if it is",
            "g.csv": "is not a text file: it is gzip-compressed — rename it g.csv.gz"}
    for name, words in want.items():
        for read in (read_frame, read_table):
            with pytest.raises(LstmkitError, match=re.escape(words)):
                read(tmp_path / name)
    (tmp_path / "params.csv").write_text("PAR1,PAR2\n1,2\n")                 # a header that begins so
    assert list(read_frame(tmp_path / "params.csv").columns) == ["PAR1", "PAR2"]


def test_text_lines_end_at_line_breaks_only():
    """str.splitlines also ended a line at a form feed, U+0085 or U+2028 inside a sentence."""
    from lstmkit.data.textfile import text_lines
    assert text_lines("a\x0cb\u2028c\x85d\x0be\ncr lf\r\nold mac\rlast\n") == [
        "a\x0cb\u2028c\x85d\x0be", "cr lf", "old mac", "last"]
    assert text_lines("one") == ["one"] and text_lines("") == [] and text_lines("a\n\n") == ["a", ""]


def test_texts_given_in_python_name_a_missing_one_as_missing_and_bytes_as_to_decode():
    """pandas 3 keeps a None of a text column as NaN: it was "text 1 of the list is a float ('nan')",
    with the fix "an empty text is ''" (which the classifier then refused as empty); bytes were told
    to be 'texts only' without a word about decoding, and a number was "a int"."""
    import numpy as np
    import pandas as pd
    from lstmkit.data.columns import check_strings
    check_strings(["a", "b"], "text", "FIX", missing="DROP")
    # a text Series holds None as NaN from pandas 3 on (as None before): the message names what it holds
    for given, shown in ((pd.Series(["a", None]), "NaN" if pd.__version__ >= "3" else "None"),
                         (pd.Series(["a", None], dtype="string[pyarrow]"), "pd.NA"),
                         (["a", None], "None"), (np.array(["a", np.nan], dtype=object), "NaN")):
        with pytest.raises(LstmkitError, match=rf"^text 1 of the list is missing \({shown}\), not a string — DROP$"):
            check_strings(given.tolist() if hasattr(given, "tolist") else given, "text", "FIX", missing="DROP")
    with pytest.raises(LstmkitError, match=r"text 0 of the list is missing \(None\), not a string — FIX$"):
        check_strings([None], "text", "FIX")                        # no fix of its own: the caller's
    with pytest.raises(LstmkitError, match=r"is bytes \(b'caf\\xc3\\xa9'\), not a string — decode the bytes first"):
        check_strings(["a", "café".encode()], "text", "FIX")
    with pytest.raises(LstmkitError, match=r"is bytes .* decode"):
        check_strings([bytearray(b"x")], "text", "FIX")
    with pytest.raises(LstmkitError, match=r"^text 0 of the list is an int \('3'\), not a string — FIX$"):
        check_strings([3], "text", "FIX")
    with pytest.raises(LstmkitError, match=r"^text 0 of the list is a float \('1.5'\)"):
        check_strings([1.5], "text", "FIX")


def test_a_lone_surrogate_is_read_as_the_replacement_character_and_said_once():
    """JSON's '\\ud83d' (an emoji cut in two) gives Python a lone surrogate, which UTF-8 cannot write:
    the run's vocabulary failed to save after training, and BPE refused the text, each with a bare error."""
    import warnings
    from lstmkit.data.decoding import whole_characters
    clean = ["ab", "café 😀"]
    assert whole_characters(clean) is clean
    with pytest.warns(UserWarning, match=r"^2 of the 3 texts hold half of a UTF-16 surrogate pair \(first: item 1, "
                                         r"'x\\ud83d'.*a lone half is read as U\+FFFD, a pair as its character"):
        out = whole_characters(["ab", "x\ud83d", "pair \ud83d\ude00"])
    assert out == ["ab", "x\ufffd", "pair 😀"]
    assert all(t.encode("utf-8") for t in out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert whole_characters(["ok"], "prefix") == ["ok"]
    with pytest.warns(UserWarning, match="^the prefix holds half"):
        whole_characters(["\udc80"], "prefix")


def test_a_row_of_a_frame_in_memory_is_placed_by_its_index_label_too():
    """'data row 2' of a frame indexed 10, 20 (a filtered or sampled frame) sent the user to df.loc[2]."""
    import pandas as pd
    from lstmkit.data.textfile import row_place
    assert row_place(pd.DataFrame({"t": ["x", "y"]}), 1) == "data row 2"
    assert row_place(pd.DataFrame({"t": ["x", "y"]}, index=pd.Index([10, 20], dtype="int64")), 1) == "data row 2 (index 20)"
    assert row_place(pd.DataFrame({"t": ["x", "y"]}, index=["a", "b"]), 0) == "data row 1 (index 'a')"
    assert row_place(pd.DataFrame({"t": ["x", "y"]}, index=[0, 0]), 1) == "data row 2"     # pd.concat's repeated labels


def test_a_cell_more_than_the_header_on_every_line_is_no_row_name():
    """pandas took the first cells for row names (its implicit index) when the first data row had
    one cell more than the header: an unquoted comma read 'good film, really' as the text ' really'."""
    from lstmkit.data.textfile import parse_table
    with pytest.raises(LstmkitError, match=r"t.csv line 2 has 3 cells, its header 2 \(text, label\): an unquoted ','"):
        parse_table("text,label\ngood film, really,pos\nbad film, sadly,neg\n", "t.csv", ",")
    ended = parse_table("text,label\ngood film,pos,\nbad film,neg,\n", "t.csv", ",")      # a comma at every line's end
    assert ended.to_dict("list") == {"text": ["good film", "bad film"], "label": ["pos", "neg"]}
    named = parse_table('"text","label"\n"1","good film","pos"\n"2","bad film","neg"\n', "t.csv", ",")   # R's write.table
    assert named.to_dict("list") == {"text": ["good film", "bad film"], "label": ["pos", "neg"]}
    assert list(named.index) == [0, 1]


def test_decimal_commas_in_a_comma_separated_file_are_named(tmp_path):
    """A spreadsheet's numbers with decimal commas saved comma-separated ('2024-01,266,0'): was 'an
    unquoted ',' in a text? — put a cell that holds the ',' in double quotes ("good film, really")'."""
    from lstmkit.data.tables import read_frame
    (tmp_path / "s.csv").write_text("month,sales,units\n2024-01,266,0,266\n2024-02,145,9,145\n")
    with pytest.raises(LstmkitError, match=r"s.csv line 2 has 4 cells, its header 3 \(month, sales, units\): numbers "
                       r"with decimal commas, such as '266,0', in a file separated by commas\? \(the row: "
                       r"'2024-01,266,0,266'\) — save it separated by semicolons \(.*\), or write the numbers with a "
                       r"decimal point \(266.0\)$"):
        read_frame(tmp_path / "s.csv")
    (tmp_path / "k.csv").write_text("month,sales\n2024-01,1,266\n2024-02,145\n")        # 1,266: a thousand?
    with pytest.raises(LstmkitError, match=r"numbers with commas \(thousands separators or decimal commas\), such as "
                       r"'1,266', in a file separated by commas\? .* — save it separated by semicolons \(.*\), or write "
                       r"the numbers with a decimal point and no thousands separators$"):
        read_frame(tmp_path / "k.csv")
    (tmp_path / "t.csv").write_text("text,label\ngood film, 10,pos\nbad film, 2,neg\n")     # a text's comma: as it was
    with pytest.raises(LstmkitError, match=r"an unquoted ',' in a text\?"):
        read_frame(tmp_path / "t.csv")


def test_utf8_cut_inside_its_last_character_is_told_as_cut_short(tmp_path):
    """It was 'not valid utf-8 — pass --encoding cp1252', which read every é as Ã©; one byte 0xE9 after
    plain ASCII (Windows-1252's é ending a file without a line end) keeps the encoding's advice."""
    from lstmkit.data.decoding import decode_text
    cut = "très bon\ncafé\n".encode()[:-2]                     # é's second byte lost
    with pytest.raises(LstmkitError, match=r"^x.txt ends in the middle of a character \(line 2: its last byte c3 "
                                           r"begins a UTF-8 character\): the file is cut short"):
        decode_text(cut, "x.txt")
    with pytest.raises(LstmkitError, match=r"line 2: its last bytes e2 80 begin"):
        decode_text("ok\nquote”".encode()[:-1], "x.txt")          # two of ”'s three bytes, after plain ASCII
    with pytest.raises(LstmkitError, match=r"x.txt line 2 is not valid utf-8 \(byte 0xe9\) — pass --encoding cp1252"):
        decode_text("bon\ncafé".encode("cp1252"), "x.txt")


def test_the_utf8_read_as_bytes_warning_names_the_first_non_ascii_character():
    """DEL (U+007F) is ASCII (below 128): the warning shows the first character the encoding garbles, 'é'."""
    assert "\x7f".isascii() and not "é".isascii()
    with pytest.warns(UserWarning) as caught:
        assert decode_text("a\x7fé".encode("utf-8"), "f.txt", "latin-1") == "a\x7fÃ©"
    assert "('é' and every other non-ASCII character)" in str(caught[0].message)


@pytest.mark.parametrize("text, want", [("a\rb\r", "a\nb\n"), ("a\r\nb", "a\r\nb"), ("a\nb\r", "a\nb\r"), ("ab", "ab")])
def test_mac_line_ends_become_line_feeds_only_when_every_line_end_is_a_lone_cr(text, want):
    from lstmkit.data.decoding import mac_line_ends
    assert mac_line_ends(text) == want


def test_standard_input_is_decoded_as_a_file_is(monkeypatch):
    import io
    import sys
    from lstmkit.data.decoding import read_stdin_text
    monkeypatch.setattr(sys, "stdin", None)                 # closed before Python started
    assert read_stdin_text() == ""
    monkeypatch.setattr(sys, "stdin", io.StringIO("as text"))          # no byte buffer: read as it is
    assert read_stdin_text() == "as text"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("caf\u00e9\n".encode("utf-8")), encoding="ascii"))
    assert read_stdin_text() == "caf\u00e9\n"                # the bytes in UTF-8, not the wrapper's encoding
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a\n\xff"), encoding="latin-1"))
    with pytest.raises(LstmkitError, match="standard input line 2"):
        read_stdin_text()


def test_a_sheets_empty_first_rows_above_the_header_are_left_out(tmp_path):
    """A sheet whose header sits on row 2 (row 1 empty) saved as CSV begins with ',,': that line was
    read as the header ('target column 'y' not found — available columns: Unnamed: 0, Unnamed: 1,
    Unnamed: 2'), as a workbook's empty rows are not. Messages still name the file's lines."""
    from lstmkit.data.tables import read_frame, read_table
    from lstmkit.data.textfile import row_place, separator_line
    (tmp_path / "s.csv").write_text(",,\n,,\ndate,y,z\n2024-01-01,1,2\n2024-01-02,3,4\n")
    for read in (read_frame, read_table):
        df = read(tmp_path / "s.csv")
        assert list(df.columns) == ["date", "y", "z"] and len(df) == 2, read
        assert row_place(df, 1) == "line 5", read                # header on line 3, data on 4 and 5
    assert separator_line(";;\ndate;y\n1;2\n") == ("date;y\n1;2\n", None, 2)
    assert separator_line("\t\ndate\ty\n1\t2\n") == ("date\ty\n1\t2\n", None, 2)
    assert separator_line("date,y\n,\n1,2\n")[2] == 1                  # an empty row under the header: data's


def test_dot_groups_of_a_column_without_dots_or_with_a_late_decimal_point_is_none():
    """A semicolon file's column of whole numbers with an empty cell is read as floats without a
    dot in it: no dot to read two ways (either mark), whatever the other columns hold."""
    import pandas as pd
    from lstmkit.data.textfile import dot_groups
    for commas in (False, True):
        assert dot_groups(pd.Series(["976", "", "12"]), ";", commas) is None
    # past the first 200 dotted cells (which may_group_thousands looks at), 12.5 is a decimal point: so are all
    assert dot_groups(pd.Series(["976"] + ["1.032"] * 200 + ["12.5"]), ";", False) is None
    assert dot_groups(pd.Series(["976"] + ["1.032"] * 201), ";", False) == (1, "1.032")


def test_a_title_warning_names_the_callers_line(tmp_path):
    """The title skipped above a header is warned about at the line that read the file (as pandas'
    own warnings are), not inside lstmkit."""
    from lstmkit.data.tables import read_frame, read_table
    (tmp_path / "s.csv").write_text("Sales report 2024,\ndate,sales\n2024-01-01,5\n")
    for read in (read_table, read_frame):
        with pytest.warns(UserWarning, match="begins with a title") as caught:
            read(tmp_path / "s.csv")
        assert [w.filename for w in caught if "title" in str(w.message)] == [__file__], read


def test_a_bare_title_line_over_a_header_of_names():
    """'Monthly sales report' over 'month,sales' and one row: the title is above the header (a
    one-row table is a table), which is read from line 2, indented or not. Over lines without a
    separator, or a header with a cell unnamed, the first line is the header."""
    from lstmkit.data.textfile import separator_line
    assert separator_line("Monthly sales report\nmonth,sales\n2024-01,5\n") == ("month,sales\n2024-01,5\n", None, 2)
    assert separator_line("Monthly sales report\n month,sales\n2024-01,5\n")[2] == 2
    assert separator_line("review text\ngood film\nbad one\n")[2] == 1
    assert separator_line("Monthly sales report\nmonth,,sales\n2024-01,5,6\n")[2] == 1


def test_a_hash_line_with_other_than_the_headers_separators_is_a_comment():
    """'#exported by tool, v2' (no space after the '#') over 'date,y,z': one comma where the header
    has two, so a comment; '#,name' over rows with the header's count of commas is the header."""
    from lstmkit.data.textfile import separator_line
    assert separator_line("#exported by tool, v2\ndate,y,z\n2024-01-01,2,3\n") == ("date,y,z\n2024-01-01,2,3\n", None, 2)
    assert separator_line("#,name\n1,a\n")[2] == 1


def test_header_cells_read_a_quoted_name_whole_by_default():
    from lstmkit.data.textfile import header_cells
    assert header_cells('"price, eur",units\n1,2\n', ",") == ["price, eur", "units"]
    assert header_cells('"price, eur",units\n', ",", quoting=False) == ['"price', ' eur"', "units"]


def test_a_wide_row_is_named_by_its_own_line_not_the_first_data_line():
    from lstmkit.data.textfile import check_row_widths
    with pytest.raises(LstmkitError, match=r"f.csv line 3 has 3 cells, its header 2"):
        check_row_widths("text,label\ngood,pos\nbad, really,neg\n", "f.csv", ",", True)


def test_a_quoted_line_break_pushes_the_rows_below_it_down():
    """Row 0 runs over lines 2 and 3 (a quoted cell with a line break): row 1 is on line 4."""
    from lstmkit.data.textfile import parse_table, row_place
    df = parse_table('text,label\n"one\ntwo",pos\nthree,neg\n', "f.csv", ",")
    assert df["text"].tolist() == ["one\ntwo", "three"] and row_place(df, 1) == "line 4"
