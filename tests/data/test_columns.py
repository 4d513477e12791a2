"""What a table carries besides its data (lstmkit.data.columns): a spreadsheet's empty rows, the row
numbers pandas' to_csv and R's write.csv write first, a trailing separator's unnamed empty column
and a summary row -- each told apart from a user's own data by a small frame built by hand."""
import numpy as np
import pandas as pd

from lstmkit.data.columns import blank_rows, summary_cell, trailing_blank_rows, unnamed_and_empty, without_row_numbers


def test_a_blank_row_is_empty_in_every_cell_of_text_or_numbers():
    df = pd.DataFrame({"text": ["good", "", " ", None, ""], "label": ["pos", "", None, "", "neg"]})
    assert blank_rows(df).tolist() == [False, True, True, True, False]     # row 4: its first cell empty only
    nums = pd.DataFrame({"y": [1.0, np.nan, np.nan], "x": [2.0, np.nan, 3.0]})
    assert blank_rows(nums).tolist() == [False, True, False]
    assert blank_rows(pd.DataFrame({"text": ["a", "", "b"]})).tolist() == [False, True, False]    # one column


def test_trailing_blank_rows_count_only_those_after_the_last_row_with_data():
    df = pd.DataFrame({"a": ["1", "", "2", "", ""], "b": ["x", "", "y", "", ""]})
    assert trailing_blank_rows(df) == 2                                    # the blank row 1 sits inside
    assert trailing_blank_rows(pd.DataFrame({"a": ["", ""], "b": ["", ""]})) == 2
    assert trailing_blank_rows(pd.DataFrame(index=range(3))) == 0          # no columns: no cells to be empty


def test_row_numbers_go_only_from_an_unnamed_first_column_counting_the_rows():
    y = [5.0, 6.0, 7.0]
    for name, counts in (("Unnamed: 0", [0, 1, 2]), ("", [1, 2, 3]), ("Unnamed: 0", [1, 2, 3])):
        assert list(without_row_numbers(pd.DataFrame({name: counts, "y": y})).columns) == ["y"], (name, counts)
    for name, counts in (("id", [0, 1, 2]), ("id", [1, 2, 3]),            # a named column is the user's data
                         ("Unnamed: 0", [2, 3, 4]), ("Unnamed: 0", [0, 2, 1])):
        assert list(without_row_numbers(pd.DataFrame({name: counts, "y": y})).columns) == [name, "y"], (name, counts)
    assert list(without_row_numbers(pd.DataFrame({"Unnamed: 0": [0, 1, 2]})).columns) == ["Unnamed: 0"]


def test_an_unnamed_column_is_a_trailing_separators_only_when_it_holds_nothing():
    assert unnamed_and_empty(pd.Series(["", " ", None], name="Unnamed: 3"))
    assert not unnamed_and_empty(pd.Series(["", "5", ""], name="Unnamed: 3"))     # a value: a column of data
    assert not unnamed_and_empty(pd.Series(["", "", ""], name="notes"))          # named: the user's, empty or not


def test_a_summary_row_is_a_total_word_found_once_in_its_column():
    df = pd.DataFrame({"store": ["A", "B", "Total"], "sales": [1, 2, 3]})
    assert summary_cell(df, 2) == "Total" and summary_cell(df, 0) is None
    kinds = pd.DataFrame({"kind": ["Total", "Total", "part"], "n": [1, 2, 3]})  # a category named Total
    assert summary_cell(kinds, 0) is None
