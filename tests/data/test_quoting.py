"""Tab-separated files of both kinds: sentence corpora that quote nothing (GLUE's SST-2, Common
Voice, Tatoeba) read line by line with their quote marks as text, and quoted exports (a
spreadsheet's, pandas') read by CSV rules, with no silent misreading of either."""
import csv
import warnings

import pandas as pd
import pytest

from lstmkit.data.quoting import tsv_quoting
from lstmkit.data.tables import read_table
from lstmkit.errors import LstmkitError

PLAIN = [f"review number {k} is {'good' if k % 2 else 'bad'}\t{k % 2}" for k in range(6)]
# sentences as SST-2 writes them: a quote mark first, closed inside, odd, alone, or around the whole sentence
SENTENCES = ['" the movie " is fine', "it 's a \"must see", '"must see', '"great"', 'not " at all', 'say "" twice']


def _tsv(path, lines, header="sentence\tlabel"):
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return path


def _read_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no warning: the reading is not in doubt
        return read_table(path)


def test_an_unquoted_corpus_reads_its_quote_marks_as_text(tmp_path):
    """' the movie  is fine' lost its quote marks, and '"must see' ran on to the end of the file (an
    error) or to the next quote mark (lines merged); each line is now one row, as written."""
    lines = [f"{s}\t{k % 2}" for k, s in enumerate(SENTENCES)]
    df = _read_quietly(_tsv(tmp_path / "train.tsv", PLAIN[:2] + lines + PLAIN[2:]))
    assert df["sentence"].tolist()[2:-4] == SENTENCES
    assert len(df) == len(PLAIN) + len(SENTENCES) and df["label"].tolist()[2:-4] == ["0", "1", "0", "1", "0", "1"]


def test_quote_marks_that_would_merge_lines_are_text_and_said_so(tmp_path):
    """'"must see' ... 'it was bad"<TAB>0' is well-formed CSV quoting: pandas read the three lines
    as one text labelled 0, and the answers of predict came one line off, without a word."""
    lines = ['"must see\t1', "ok then\t0", 'it was bad"\t0']
    path = _tsv(tmp_path / "merge.tsv", PLAIN[:3] + lines + PLAIN[3:])
    with pytest.warns(UserWarning, match=r"merge\.tsv line 5: its quote mark is read as text and each line as one row "
                                         r"\(read as a quoted cell it would run on to line 7, making lines 5-7 one "
                                         r"row\); if the file quotes that cell, quote every cell of column 1"):
        df = read_table(path)
    assert df["sentence"].tolist()[3:6] == ['"must see', "ok then", 'it was bad"']
    assert len(df) == len(PLAIN) + 3


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])
def test_a_quoted_export_reads_back_the_frame_it_was_written_from(tmp_path, quoting):
    """pandas' (and a spreadsheet's) TSV: cells holding quote marks, tabs and line breaks quoted,
    their quote marks doubled; with QUOTE_ALL every cell quoted, so a line break after a tab leaves
    each line a whole row read as text, and the quoting still decides."""
    frame = pd.DataFrame({"sentence": ['he said "fine"', "two\nlines", "a\ttab", '"great"', "plain", "end\t\nhere",
                                       *SENTENCES],
                          "label": ["1", "0", "1", "0", "1", "0", *["1"] * len(SENTENCES)]})
    path = tmp_path / "export.tsv"
    frame.to_csv(path, sep="\t", index=False, quoting=quoting)
    if quoting == csv.QUOTE_MINIMAL:        # 'end<TAB>' / 'here"<TAB>0' read as text are rows: the export is in doubt
        frame = frame.drop(index=5).reset_index(drop=True)
        frame.to_csv(path, sep="\t", index=False, quoting=quoting)
    df = _read_quietly(path)
    assert df["sentence"].tolist() == frame["sentence"].tolist() and df["label"].tolist() == frame["label"].tolist()


def test_a_spreadsheets_multi_line_cell_is_one_cell(tmp_path):
    """Excel quotes only the cell that needs it: its lines read as text are no rows of the table
    ('"line one' has one cell of two), so the quoting is the writer's."""
    path = _tsv(tmp_path / "excel.tsv", ['"line one\nline two"\t1', '"say ""hi"" now"\t0', *PLAIN])
    df = _read_quietly(path)
    assert df["sentence"].tolist()[:2] == ["line one\nline two", 'say "hi" now'] and len(df) == 2 + len(PLAIN)


def test_a_run_on_quote_neither_reading_explains_is_an_error(tmp_path):
    """A quoted cell running over tabs and line breaks ('"must see<TAB>1' to 'ok"<TAB>0') in a file
    with a line of one cell: merged rows, or a quoted cell in a broken table; either could be wrong."""
    path = _tsv(tmp_path / "broken.tsv", ['"must see\t1', "no label here", 'ok"\t0', *PLAIN])
    with pytest.raises(LstmkitError, match=r"broken\.tsv line 2: a quote mark opens a cell that runs on to line 4 over "
                                           r"tabs and line breaks \(rows merged into one cell\?\), and with its quote "
                                           r"marks read as text line 3 has 1 cells where the header has 2 — if the "
                                           r"quote marks are part of the text, give line 3 its 2 cells"):
        read_table(path)


def test_the_rule_alone():
    """No cell begins with a quote mark: text (both readings agree); a cell that needs its quotes:
    quoted; line numbers counted from ``first_line`` (what sits above the header)."""
    assert tsv_quoting('a\tb\nit "is"\t1\n', "x") is False
    assert tsv_quoting('a\tb\n"it ""is"""\t1\nplain\t0\n', "x") is True
    assert tsv_quoting('a\tb\n"it is"\t1\nplain\t0\n', "x") is False          # needs no quotes, in a plain column
    assert tsv_quoting('a\tb\n"it is"\t1\n"so"\t0\n', "x") is True            # every cell quoted
    assert tsv_quoting('a\tb\r\n"two\r\nlines"\t1\r\nplain\t0\r\n', "x") is True
    with pytest.warns(UserWarning, match=r"^x line 11: .*run on to line 12"):
        assert tsv_quoting('a\tb\n"p\t1\nq"\t0\nr\t1\n', "x", first_line=10) is False


def test_a_quoted_header_over_literal_sentences_names_its_columns_without_quote_marks(tmp_path):
    """A program that quoted only the header line ('"sentence"<TAB>"label"') over SST-2's sentences
    (read literally) named the columns '"sentence"', and classify said 'did you mean '"sentence"'?'.
    A whole quoted header cell is unquoted (its doubled quote marks made one); the data keep their
    quote marks; a header cell that is not one whole quoted cell is kept as written."""
    from lstmkit.data.tables import read_frame
    lines = [f"{s}\t{k % 2}" for k, s in enumerate(SENTENCES)]
    path = _tsv(tmp_path / "q.tsv", lines + PLAIN, header='"sentence"\t"the ""gold"" label"')
    for df in (_read_quietly(path), read_frame(path)):
        assert list(df.columns) == ["sentence", 'the "gold" label']
        assert df["sentence"].tolist()[:len(SENTENCES)] == SENTENCES
    path = _tsv(tmp_path / "half.tsv", lines, header='"sentence" x\tlabel"')
    assert list(_read_quietly(path).columns) == ['"sentence" x', 'label"']
    with pytest.raises(LstmkitError, match=r"names two columns 'label' \(columns 2 and 3\)"):
        read_table(_tsv(tmp_path / "twice.tsv", [f"{s}\t1\t1" for s in SENTENCES], header='s\t"label"\tlabel'))


def test_csv_files_keep_csv_quoting(tmp_path):
    """The rule is a tab-separated file's: a CSV's quote marks quote, as a spreadsheet writes them."""
    (tmp_path / "q.csv").write_text('sentence,label\n"great",1\n"a, b",0\n')
    assert read_table(tmp_path / "q.csv")["sentence"].tolist() == ["great", "a, b"]


def test_a_large_tsv_whose_only_quote_mark_sits_inside_a_sentence_reads_as_text():
    """The rule's answer on the large file benchmarks/tsv_quoting.py times (its cost against pandas'
    read is measured there, not here): no cell begins with a quote mark, so the marks are text."""
    text = "sentence\tlabel\n" + "".join(f"review {k} is fine\t{k % 2}\n" for k in range(200_000)) + 'it "is"\t1\n'
    assert tsv_quoting(text, "x") is False


def test_a_quoted_cell_with_a_tab_is_read_cell_by_cell_to_the_end_of_its_line():
    """A cell that needs its quotes (it holds a tab) beside a plain one, and a column quoted in every
    data cell ("c" needs none, but all of column 1 is quoted): a writer's quoting. Ended by the file's
    end with no line break after the closing quote, too."""
    assert tsv_quoting('text\tlabel\n"a\tb"\tpos\n"c"\tneg\n', "f.tsv")
    assert tsv_quoting('label\ttext\npos\t"a\tb"', "f.tsv")


def test_a_quote_closed_on_its_own_line_runs_over_nothing():
    """'"Wow" said the critic': the quote opens and closes on line 2 (pandas reads the line as one
    cell), so no field runs on; a quote that opens on line 2 and never closes runs to the end."""
    from lstmkit.data.quoting import check_run_on_quotes
    check_run_on_quotes('text,label\n"Wow" said the critic,pos\ngood,neg\n', "f.csv", ",", 1)
    with pytest.raises(LstmkitError, match="f.csv line 2: a quote mark opens a field that runs on to the end of the file"):
        check_run_on_quotes('text,label\n"Wow said the critic,pos\ngood,neg\n', "f.csv", ",", 1)
