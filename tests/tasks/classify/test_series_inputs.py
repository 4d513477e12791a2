"""Numeric-sequence inputs nobody prepared: labels given as ``y``, arrays of odd kinds, long
tables with odd sample ids and time steps, tables in .tsv / .txt files."""
import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.data import read_texts
from lstmkit.tasks.classify.series import read_series

X = np.arange(15.0).reshape(3, 5)


@pytest.mark.parametrize("y, match", [
    (1, r"y is a single int .* not one label per sequence"),
    ("abc", r"y is a single str \('abc'\)"),                       # was three labels 'a', 'b', 'c'
    ([None, np.nan, ""], r"no sequence has a label \(None, NaN, empty, NA or N/A in every label of y\)"),
    (np.zeros((3, 2)), r"y has shape \(3, 2\)"),
    ([0, 1], r"got 3 sequences but 2 labels"),
])
def test_y_that_is_not_one_label_per_sequence_is_an_error(y, match):
    with pytest.raises(LstmkitError, match=match):
        read_series(X, y=y)


def test_y_as_a_column_vector_or_indexed_series_gives_plain_labels():
    assert read_series(X, y=np.array([[0], [1], [0]])).labels == ["0", "1", "0"]          # was '[0]', '[1]'
    assert read_series(X, y=pd.Series(["a", "b", "a"], index=[7, 8, 9])).labels == ["a", "b", "a"]
    assert read_texts(["x", "y"], y=np.array([["p"], ["q"]])).labels == ["p", "q"]


@pytest.mark.parametrize("y", [
    [0, None, 1, np.nan, 1],                                   # was an error (before that: classes 'None', 'nan')
    pd.Series([0, np.nan, 1, np.nan, 1]),                      # pandas' ints with NaN: floats; read as '0', not '0.0'
    pd.Series([0, pd.NA, 1, None, 1], dtype="Int64"),
    ["0", "N/A", "1", "  ", "1"],                              # as a file's label cell: a missing-value mark, blank
])
def test_y_with_missing_labels_leaves_those_out_with_one_warning(y):
    X5 = np.arange(25.0).reshape(5, 5)
    with pytest.warns(UserWarning, match=r"^2 of 5 sequences have no label \(None, NaN, empty, NA or N/A; first: y\[1\]\)"
                                         r": left out") as caught:
        d = read_series(X5, y=y)
    assert len(caught) == 1 and d.labels == ["0", "1", "1"]
    assert [s[0, 0] for s in d.seqs] == [0.0, 10.0, 20.0]                 # the rows that kept their labels
    with pytest.warns(UserWarning, match=r"^1 of 2 texts has no label .*first: y\[0\]"):
        t = read_texts(["x", "y"], y=[float("nan"), "q"])
    assert t.texts == ["y"] and t.labels == ["q"]


@pytest.mark.parametrize("data, match", [
    ([["a", "b"], ["c", "d"]], r"sequence 0 holds values that are not numbers"),       # was a ValueError
    (np.array([["a", "b"], ["c", "d"]]), r"the array holds values that are not numbers"),
    (np.array([[1 + 1j, 2], [3, 4]]), r"the array holds complex numbers"),             # was a warning, imaginary part dropped
    ([[1, 2], [3, [4, 5]]], r"sequence 1 holds values that are not numbers"),
    (np.zeros((2, 0)), r"the sequences have no steps \(shape \(2, 0, 1\)\)"),          # was two empty sequences
    ([0.5, 1.5], r"^the sequences are a flat list of 2 numbers, not a list of sequences — one sequence: pass \[values\]"),
])
def test_arrays_of_text_complex_or_empty_sequences_are_an_error(data, match):
    with pytest.raises(LstmkitError, match=match):
        read_series(data, y=[0, 1])


def test_integers_beyond_float64_digits_are_an_error_not_one_constant():
    """int64 sequences near 2**62 that differ in their last digits all read as 2**62: every sequence the
    same, a warning of equal sequences with different labels and a model at chance."""
    big = (2 ** 62 + np.array([[0, 50, 99], [7, 60, 90]])).astype(np.int64)
    with pytest.raises(LstmkitError, match=r"^the array holds integers too large to tell apart as numbers: "
                                           r"4611686018427387954 reads as 4611686018427387904 .* — subtract a common "
                                           r"offset first \(e\.g\. X - 4611686018427387904\)"):
        read_series(big, y=[0, 1])
    with pytest.raises(LstmkitError, match=r"^sequence 0 holds integers too large"):
        read_series([big[0], big[1].astype(np.uint64)], y=[0, 1])
    wide = (2 ** 62 + np.array([[0, 2 ** 40], [2 ** 41, 2 ** 42]])).astype(np.int64)      # rounding within a millionth
    assert read_series(wide, y=[0, 1]).seqs[1][1, 0] == float(2 ** 62 + 2 ** 42)
    assert read_series(big - 2 ** 62, y=[0, 1]).seqs[0].ravel().tolist() == [0.0, 50.0, 99.0]


def test_y_labels_a_dataframe_or_a_file_without_labels(tmp_path):
    """``fit(df, y)`` as in scikit-learn: y was ignored and the error asked for a label column."""
    d = read_series(pd.DataFrame(X), y=["a", "b", "a"])
    assert d.labels == ["a", "b", "a"] and d.seqs[1].ravel().tolist() == [5, 6, 7, 8, 9]
    pd.DataFrame(X, columns=list("vwxyz")).to_csv(tmp_path / "wide.csv", index=False)
    assert read_series(tmp_path / "wide.csv", y=[1, 2, 1]).labels == ["1", "2", "1"]
    with pytest.raises(LstmkitError, match=r"labels given twice: in the data's 'label' column and as y"):
        read_series(pd.DataFrame({"label": ["a", "b"], "v1": [1, 2], "v2": [3, 4]}), y=["a", "b"])


LONG = "sample,t,x,label\n"


def _write(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    return tmp_path / name


def test_long_sample_ids_written_as_2_and_2_0_are_one_sample_and_an_empty_id_is_an_error(tmp_path):
    p = _write(tmp_path, "ids.csv", LONG + "1.0,0,1,a\n1,1,2,a\n2.0,0,3,b\n2,1,4,b\n")
    d = read_series(p, unequal_length=True)       # was 4 samples: '1.0', '1', '2.0', '2'
    assert [s.ravel().tolist() for s in d.seqs] == [[1, 2], [3, 4]] and d.labels == ["a", "b"]
    p = _write(tmp_path, "empty_id.csv", LONG + "1,0,1,a\n,1,2,a\n2,0,3,b\n2,1,4,b\n")
    with pytest.raises(LstmkitError, match=r"1 row in .* has no 'sample' id \(first: line 3\)"):
        read_series(p, unequal_length=True)      # was a sample 'nan' of its own


def test_long_table_skips_empty_spreadsheet_rows(tmp_path):
    p = _write(tmp_path, "blank.csv", LONG + "1,0,1,a\n,,,\n1,1,2,a\n2,0,3,b\n2,1,4,b\n,,,\n")
    d = read_series(p)                  # was 'feature column x has 2 empty or non-numeric cells'
    assert [s.ravel().tolist() for s in d.seqs] == [[1, 2], [3, 4]]


def test_long_table_with_a_time_step_twice_in_one_sample_is_an_error(tmp_path):
    p = _write(tmp_path, "dup.csv", LONG + "1,0,1,a\n1,1,2,a\n2,0,3,b\n2,1,4,b\n2,1,5,b\n")
    with pytest.raises(LstmkitError, match=r"sample '2' .* two rows at the same time step '1' \(line 5 and line 6\)"):
        read_series(p, unequal_length=True)     # was a sample of 3 steps, one of them an extra
    p = _write(tmp_path, "stamps.csv", LONG + "1,2024-01-01 10:00,1,a\n1,2024-01-01T10:00:00,2,a\n2,2024-01-01,3,b\n2,2024-01-02,4,b\n")
    with pytest.raises(LstmkitError, match=r"sample '1' .* same time step '2024-01-01 10:00' \(line 2 and line 3\)"):
        read_series(p)


@pytest.mark.parametrize("name, text", [
    ("columns.csv", "label,0,1,2\na,10,11,12\nb,13,14,15\n"),       # DataFrame.to_csv of a wide table: its header
    ("columns.tsv", "label\t0\t1\t2\na\t10\t11\t12\nb\t13\t14\t15\n"),   # was a series [0, 1, 2] of class 'label'
    ("named.tsv", "label\tv1\tv2\tv3\na\t10\t11\t12\nb\t13\t14\t15\n"),  # was 'line 1: value 1 is not a number'
    ("named.txt", "label,v1,v2,v3\na,10,11,12\nb,13,14,15\n"),
    ("long.tsv", "sample\tt\tx\tlabel\n1\t0\t10\ta\n1\t1\t11\ta\n1\t2\t12\ta\n2\t0\t13\tb\n2\t1\t14\tb\n2\t2\t15\tb\n"),
])
def test_a_header_row_makes_any_file_a_table(tmp_path, name, text):
    d = read_series(_write(tmp_path, name, text))
    assert d.labels == ["a", "b"] and [s.ravel().tolist() for s in d.seqs] == [[10, 11, 12], [13, 14, 15]]


def test_ucr_lines_with_trailing_separators_or_text_labels_stay_ucr(tmp_path):
    for name, text in [("t.csv", "1,1,2,3,\n2,3,4,5,\n"),     # was 'neither long nor wide'
                       ("t.tsv", "abnormal\t1\t3\t2\nnormal\t3\t4\t5\n"), ("s.txt", "  1.0e+00  -1.2  0.3\n  2.0  1.0  2.0\n")]:
        d = read_series(_write(tmp_path, name, text))
        assert len(d) == 2 and d.seqs[0].shape == ((3, 1) if name != "s.txt" else (2, 1)), name


def test_the_index_to_csv_writes_is_no_feature_nor_step(tmp_path):
    long = pd.DataFrame({"sample": [1, 1, 2, 2], "t": [0, 1, 0, 1], "x": [1.0, 2, 3, 4], "label": list("aabb")})
    long.to_csv(tmp_path / "long.csv")                  # with its index, pandas' default
    d = read_series(tmp_path / "long.csv")
    assert d.feature_names == ["x"] and d.seqs[0].ravel().tolist() == [1, 2]     # was ['Unnamed: 0', 'x']
    wide = pd.DataFrame([[10.0, 11, 12], [13, 14, 15]]).assign(label=["a", "b"])
    wide.to_csv(tmp_path / "wide.csv")
    assert read_series(tmp_path / "wide.csv").seqs[1].ravel().tolist() == [13, 14, 15]   # was [1, 13, 14, 15]
    kept = pd.DataFrame({"": [5.0, 7.0], "v": [1.0, 2.0], "label": ["a", "b"]})     # not row numbers: a step
    assert read_series(kept).seqs[0].ravel().tolist() == [5, 1]


@pytest.mark.parametrize("index", [["sample", "t"], ["sample"], ["t"]])
def test_a_long_dataframe_indexed_by_its_sample_or_time_column_reads_as_the_long_table(index):
    """df.set_index(['sample', 't']) (a groupby's frame): its rows were read as a wide table's, one
    sample of one step each (a prediction per row, without a word), or its sample column was
    'not found'."""
    long = pd.DataFrame({"sample": [1, 1, 1, 2, 2, 2], "t": [2, 0, 1, 0, 1, 2], "x": [3.0, 1, 2, 4, 5, 6],
                         "label": list("aaabbb")})
    want = read_series(long)
    got = read_series(long.set_index(index))
    assert [s.ravel().tolist() for s in got.seqs] == [[1, 2, 3], [4, 5, 6]] == [s.ravel().tolist() for s in want.seqs]
    assert got.labels == want.labels == ["a", "b"] and got.feature_names == ["x"] and got.ids == want.ids
    unlabelled = read_series(long.drop(columns="label").set_index(index), require_label=False)
    assert len(unlabelled) == 2 and unlabelled.labels is None


def test_texts_as_a_bare_string_an_array_or_a_list_with_a_non_string():
    from lstmkit.errors import caller_wording
    python = r"'a wonderful film' is not a file, and a single string .*\['a wonderful film'\]"
    with pytest.raises(LstmkitError, match=python), caller_wording(python=True):
        read_texts("a wonderful film", require_label=False)      # was "unknown file type '(no extension)'"
    with pytest.raises(LstmkitError, match=r"^file not found: a wonderful film — check the path$"):   # after --data
        read_texts("a wonderful film", require_label=False)
    with pytest.raises(LstmkitError, match=r"file not found"):
        read_texts("missing.csv", require_label=False)
    assert read_texts(np.array(["good", "bad"]), require_label=False).texts == ["good", "bad"]   # was 'unsupported data type'
    assert read_texts(pd.Series(["good", "bad"], index=[4, 2]), require_label=False).texts == ["good", "bad"]
    with pytest.raises(LstmkitError, match=r"text 1 of the list is missing \(None\)"):
        read_texts(["good", None], require_label=False)            # was 'unsupported data type list'


def test_a_bad_time_cell_is_named_by_its_row(tmp_path):
    p = _write(tmp_path, "t.csv", LONG + "1,0,1,a\n1,,2,a\n2,0,3,b\n2,1,4,b\n")
    with pytest.raises(LstmkitError, match=r"time column 't' .* line 3 has ''"):     # was no row named
        read_series(p)
    p = _write(tmp_path, "d.csv", LONG + "1,2024-01-01,1,a\n1,2024-01-02,2,a\n2,2024-01-01,3,b\n2,soon,4,b\n")
    with pytest.raises(LstmkitError, match=r"line 5 has 'soon'"):
        read_series(p)


def test_day_first_dates_order_the_steps_and_dates_that_read_two_ways_are_refused(tmp_path):
    """pandas read 01/02/2024 month first and 28/01/2024 day first in one column: a series of
    27/01 ... 05/02 was trained with 1 February's step before 27 January's, without a word."""
    days = pd.date_range("2024-01-27", periods=10, freq="D").strftime("%d/%m/%Y")
    rows = "".join(f"{k},{day},{(1 if k else -1) * s},{'up' if k else 'down'}\n" for k in (0, 1) for s, day in enumerate(days))
    d = read_series(_write(tmp_path, "days.csv", LONG + rows))
    assert [s[:, 0].tolist() for s in d.seqs] == [[-s for s in range(10)], list(range(10))]
    # 11/01 12/01 01/02 02/02: day first, 11 January to 2 February; month first, 1 November to 2 February
    rows = "".join(f"{k},{day},{s},{k}\n" for k in (0, 1) for s, day in enumerate(["11/01/2024", "12/01/2024", "01/02/2024"]))
    with pytest.raises(LstmkitError, match=r"time column 't' in .*open.csv is ambiguous: '11/01/2024' \(line 2\) reads "
                       r"as 11 January 2024 \(day first\) or 01 November 2024 \(month first\).*write ISO dates"):
        read_series(_write(tmp_path, "open.csv", LONG + rows))
    rows = "".join(f"{k},{day},{s},{k}\n" for k in (0, 1) for s, day in enumerate(["28/01/2024", "01/29/2024"]))
    with pytest.raises(LstmkitError, match=r"mixes day-first dates \('28/01/2024'\) and month-first dates \('01/29/2024'\)"):
        read_series(_write(tmp_path, "mixed.csv", LONG + rows))
    # 13 is past any month and 14 too: day first the one, month first the other (each named, days of 13-24 too)
    rows = "".join(f"{k},{day},{s},{k}\n" for k in (0, 1) for s, day in enumerate(["13/01/2024", "01/14/2024"]))
    with pytest.raises(LstmkitError, match=r"mixes day-first dates \('13/01/2024'\) and month-first dates \('01/14/2024'\)"):
        read_series(_write(tmp_path, "teens.csv", LONG + rows))
    rows = "".join(f"{k},{day},{s},{k}\n" for k in (0, 1) for s, day in enumerate(["01/01/2024 10:00", "01/01/2024 11:00"]))
    assert read_series(_write(tmp_path, "hours.csv", LONG + rows)).seqs[0][:, 0].tolist() == [0, 1]   # one order: fine


def test_a_ucr_series_of_the_values_1_2_3_under_a_text_label_stays_a_series(tmp_path):
    d = read_series(_write(tmp_path, "u.tsv", "down\t1\t2\t3\nup\t3\t2\t1\ndown\t1\t2\t2\n"))
    assert d.labels == ["down", "up", "down"] and d.seqs[0].ravel().tolist() == [1, 2, 3]
    d = read_series(_write(tmp_path, "c.csv", "class,0,1,2\ndown,5,6,7\nup,7,6,5\n"), label="class")
    assert d.labels == ["down", "up"]
    with pytest.raises(LstmkitError, match=r"no label column 'label'"):     # was a series [0, 1, 2] of class 'class'
        read_series(tmp_path / "c.csv")


def test_a_long_dataframe_skips_rows_of_missing_values_under_a_repeated_index():
    df = pd.DataFrame({"sample": [1, 1, None, 2, 2], "t": [0, 1, None, 0, 1], "x": [1.0, 2, None, 3, 4],
                       "label": ["a", "a", None, "b", "b"]}, index=[0, 0, 0, 1, 1])
    d = read_series(df)
    assert [s.ravel().tolist() for s in d.seqs] == [[1, 2], [3, 4]] and d.labels == ["a", "b"]


def test_fit_and_evaluate_with_missing_labels_in_y_use_the_labelled_sequences(tiny_series, series):
    """``fit(X, y)`` with None / NaN in y trains on the rest (was an error); predict gives back the
    labels' type (ints, not '0'); evaluate leaves its unlabelled rows out with the same warning."""
    from lstmkit.tasks.classify.estimator import SequenceClassifier
    seqs, labels = series(24, unequal=False)
    y = [int(v == "up") for v in labels]
    holed = [None if i in (3, 8) else v for i, v in enumerate(y)]
    with pytest.warns(UserWarning, match=r"2 of 24 sequences have no label .*first: y\[3\]"):
        est = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0).fit(seqs, holed)
    assert est.data_summary_["rows"] == 22 and est.classes_.tolist() == [0, 1]
    assert est.predict(seqs[:4]).dtype.kind == "i"
    with pytest.warns(UserWarning, match=r"1 of 6 sequences has no label .*first: y\[5\]"):
        m = est.evaluate(seqs[:6], pd.Series([*y[:5], np.nan]))
    assert m == est.evaluate(seqs[:5], y[:5])
    with pytest.raises(LstmkitError, match=r"no sequence has a label"):
        est.evaluate(seqs[:2], [None, np.nan])


def test_sequences_as_a_torch_tensor_or_another_array_like_read_as_the_array():
    """A torch tensor (even one that needs gradients) and any object numpy converts were
    'unsupported data type Tensor'; a sparse matrix now says how to densify it."""
    import scipy.sparse
    import torch

    class ArrayLike:                  # what xarray, JAX, ... offer numpy
        def __init__(self, a):
            self.a = a

        def __array__(self, dtype=None, copy=None):
            return np.asarray(self.a, dtype=dtype)

    x = np.arange(24, dtype=float).reshape(2, 4, 3)
    want = read_series(x, y=[0, 1]).seqs
    for data in (torch.tensor(x), torch.tensor(x, requires_grad=True), ArrayLike(x)):
        got = read_series(data, y=[0, 1])
        assert len(got.seqs) == 2 and all(np.array_equal(a, b) for a, b in zip(got.seqs, want))
    assert read_series(torch.zeros(3, 5, dtype=torch.float32), y=[0, 1, 0]).seqs[0].shape == (5, 1)
    with pytest.raises(LstmkitError, match=r"sparse matrix \(csr_matrix\), which SequenceClassifier does not read "
                                           r"— pass a dense array: X.toarray\(\)"):
        read_series(scipy.sparse.csr_matrix(x[:, :, 0]), y=[0, 1])
    with pytest.raises(LstmkitError, match=r"Expected sequences as \[N, T\] or \[N, T, F\], got shape \(\)"):
        read_series(np.float64(3.0), y=[0])
    with pytest.raises(LstmkitError, match="unsupported data type dict"):
        read_series({"a": [1, 2]}, y=[0])


def test_masked_cells_are_missing_values_and_odd_tensors_read_as_their_values():
    """A masked array's masked cells were read as the values under the mask (a 1e6 placeholder
    decided the prediction without a word): they are missing values now, an error naming the
    sequence. A list of tensors needing gradients and a bfloat16 tensor were a raw RuntimeError /
    TypeError, a meta tensor a NotImplementedError."""
    import torch

    x = np.arange(24, dtype=float).reshape(2, 4, 3)
    want = read_series(x, y=[0, 1]).seqs
    mask = np.zeros(x.shape, bool)
    mask[1, 2, 0] = True
    for masked in (np.ma.masked_array(np.where(mask, 1e6, x), mask=mask), [x[0], np.ma.masked_array(x[1], mask=mask[1])]):
        with pytest.raises(LstmkitError, match=r"sequence 1 holds missing or infinite values — fill or drop them"):
            read_series(masked, y=[0, 1])
    unmasked = read_series(np.ma.masked_array(x), y=[0, 1]).seqs                  # nothing masked: the array
    tensors = read_series([torch.tensor(s, requires_grad=True) for s in x], y=[0, 1]).seqs
    halves = read_series(torch.tensor(x).bfloat16(), y=[0, 1]).seqs               # small integers: exact in bfloat16
    for got in (unmasked, tensors, halves):
        assert all(np.array_equal(a, b) for a, b in zip(got, want))
    with pytest.raises(LstmkitError, match=r"the meta tensor could not be copied to the CPU"):
        read_series(torch.zeros(2, 4, device="meta"), y=[0, 1])


def test_texts_as_one_column_array_read_as_the_texts():
    """A [N, 1] array of texts (scikit-learn's ColumnTransformer picking the text column) was
    'unsupported data type ndarray' (a 1-D one was read); a wider array names its shape."""
    col = np.array([["good film"], ["bad film"]], dtype=object)
    assert read_texts(col, y=["pos", "neg"]).texts == ["good film", "bad film"]
    with pytest.raises(LstmkitError, match=r"the texts are an array of shape \(2, 2\), not one text per row"):
        read_texts(np.array([["a", "b"], ["c", "d"]]), y=["x", "y"])


def test_a_text_classifier_in_a_pipeline_after_a_column_transformer(tiny):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from lstmkit import TextClassifier
    df = pd.DataFrame({"review": ["good great fine", "bad awful poor"] * 8, "stars": range(16)})
    y = np.array(["pos", "neg"] * 8)
    pipe = make_pipeline(ColumnTransformer([("text", "passthrough", ["review"])]), TextClassifier(max_epochs=1, **tiny))
    assert pipe.fit(df, y).predict(df).shape == (16,) and 0 <= pipe.score(df, y) <= 1


def test_a_wide_table_with_its_step_columns_in_another_order_is_read_in_the_training_order(tiny_series, tmp_path):
    """predict(df[df.columns[::-1]]) on a model fitted on the wide table df (one row per sample,
    its steps in the columns) read each row's steps in the new order: the sequences were
    classified reversed without a word. The steps are found by their column names now, in a
    saved run too; a table whose rows end early keeps its shorter rows, and a gap the new order
    opens is named."""
    from lstmkit.tasks.classify.estimator import SequenceClassifier

    rng = np.random.default_rng(0)
    steps = [f"t{j}" for j in range(6)]
    wide = pd.DataFrame(np.cumsum(rng.normal(size=(12, 6)), axis=1), columns=steps)
    est = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0, unequal_length=True).fit(wide, ["up", "down"] * 6,
                                                                                          out=tmp_path)
    want = est.predict_proba(wide)
    shuffled = wide[["t3", "t0", "t5", "t1", "t4", "t2"]]
    assert not np.allclose(want, est.predict_proba(wide[steps[::-1]].set_axis(steps, axis=1)))   # order matters
    loaded = SequenceClassifier.load(est.run_dir_)
    for model in (est, loaded):
        np.testing.assert_allclose(model.predict_proba(wide[steps[::-1]]), want, rtol=1e-6)
        np.testing.assert_allclose(model.predict_proba(shuffled), want, rtol=1e-6)
    short = wide.copy()
    short.loc[0, ["t4", "t5"]] = np.nan                                  # sample 0 is four steps long
    swapped = ["t1", "t0", "t2", "t3", "t4", "t5"]
    np.testing.assert_allclose(est.predict_proba(short[swapped]), est.predict_proba(short), rtol=1e-6)
    holed = wide[["t0", "t1", "t2", "t3", "t5", "t4"]].copy()
    holed.loc[0, "t4"] = np.nan                                          # its last cell: read as 5 steps
    with pytest.raises(LstmkitError, match=r"sequence 1 of the data has an empty cell in column 't4' before its last "
                                           r"value in the training's column order"):
        est.predict_proba(holed)


def test_a_series_of_texts_with_missing_cells_names_them_and_a_fix_that_works():
    """The fix was "an empty text is ''", and an empty text is then refused: it now says to drop them
    (with their labels when fitting)."""
    for given in (pd.Series(["good", None]), pd.Series(["good", pd.NA], dtype="string[pyarrow]"),
                  pd.Series(["good", None], dtype="category")):
        with pytest.raises(LstmkitError, match=r"text 1 of the list is missing \((NaN|pd.NA)\), not a string — "
                                               r"drop the rows without a text first \(pandas: keep = s.notna\(\)"):
            read_texts(given, require_label=False)
    with pytest.raises(LstmkitError, match=r"is an int \('3'\), not a string — pass texts as strings \(numbers as "
                                           r"text: .*s.astype\(str\)\)"):
        read_texts(["good", 3], require_label=False)


def test_texts_in_pandas_and_pyarrow_containers_are_read_as_a_series_is():
    """A pandas Index, Categorical or string array, a pyarrow Array, ChunkedArray or Table and a map
    object were 'unsupported data type'."""
    import pyarrow as pa
    texts = ["good", "bad"]
    for given in (pd.Index(texts), pd.Categorical(texts), pd.array(texts, dtype="string[pyarrow]"), pa.array(texts),
                  pa.chunked_array([texts[:1], texts[1:]]), map(str, texts)):
        assert read_texts(given, require_label=False).texts == texts, type(given).__name__
    read = read_texts(pa.table({"text": texts, "label": ["pos", "neg"]}))
    assert (read.texts, read.labels) == (texts, ["pos", "neg"])
    assert read_texts(pa.array(texts), y=pa.array(["pos", "neg"])).labels == ["pos", "neg"]
    with pytest.raises(LstmkitError, match=r"unsupported data type dict — .*\(a dict of columns: pd.DataFrame\(d\)\)"):
        read_texts({"text": texts}, require_label=False)


def test_an_empty_text_of_a_filtered_frame_is_placed_by_its_index_label():
    frame = pd.DataFrame({"text": ["good", None, "bad"]}, index=[10, 20, 30])
    with pytest.raises(LstmkitError, match=r"1 of 3 rows have empty or whitespace-only text \(first: data row 2 "
                                           r"\(index 20\)\)"):
        read_texts(frame, require_label=False)


@pytest.mark.parametrize("y", [[b"up", b"down", b"up"], np.array(["up", "down", "up"], dtype="S")])
def test_labels_given_as_bytes_are_refused_not_read_as_their_repr(y):
    """bytes in y were labels "b'up'" (str() of them): predict answered "b'up'", neither the user's
    b'up' nor 'up'. A table's label column of bytes was refused already; y is now refused the same way."""
    with pytest.raises(LstmkitError, match=r"^label 1 of y is bytes \(b'up'\), not text") as e:
        read_series(X, y=y)
    assert "decode" in e.value.hint
    with pytest.raises(LstmkitError, match=r"label 1 of y is bytes"):
        read_texts(["a", "b", "c"], y=y)


@pytest.mark.parametrize("y, kind", [([{"up"}, {"down"}, {"up", "down"}], "set"), ([{"a": 1}, {"a": 2}, {"a": 1}], "dict"),
                                     (pd.Series([("up",), ("down",), ("up",)]), "tuple")])
def test_labels_of_several_values_each_are_refused_not_read_as_their_text(y, kind):
    """y of sets (a multi-label layout) trained the classes "{'up'}" and "{'down'}" (their str());
    a table's label column of such cells was refused already."""
    with pytest.raises(LstmkitError, match=rf"^label 1 of y is a {kind} \(.*\), not one label"):
        read_series(X, y=y)


def test_sequences_and_labels_given_as_generators_read_as_lists(tiny_series, series):
    """A generator of sequences was 'unsupported data type generator' (texts read one); a generator
    of labels was 'y is a single generator'. Both read as the lists they yield; the fit's answers
    (classes, their type, probabilities) are those of the lists."""
    d = read_series((row for row in X), y=iter([0, 1, 0]))
    assert [s.ravel().tolist() for s in d.seqs] == X.tolist() and d.labels == ["0", "1", "0"]
    from lstmkit.tasks.classify.estimator import SequenceClassifier
    seqs, labels = series(16, unequal=False)
    y = [int(v == "up") for v in labels]
    est = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0)
    ref = est.fit(seqs, y).predict_proba(seqs[:4])
    got = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0).fit(iter(seqs), (v for v in y))
    assert got.classes_.tolist() == [0, 1] and np.allclose(got.predict_proba(s for s in seqs[:4]), ref)


def test_an_array_padded_with_nan_at_the_end_reads_as_sequences_of_their_lengths():
    """NaN steps at the end of an array's rows (tslearn's padding, and what a wide table's empty
    trailing cells already meant) were 'holds missing or infinite values'. They are padding now:
    each sequence ends at its last value, as the ragged list and the wide DataFrame read; without
    unequal_length the error says what the padding made of them. A NaN before a sequence's last
    value, or in one feature of a step only, stays missing."""
    nan = np.nan
    padded = np.array([[1, 2, 3, nan], [4, 5, 6, 7], [8, 9, nan, nan]])
    want = [[1, 2, 3], [4, 5, 6, 7], [8, 9]]
    for data in (padded, padded.astype(np.float32), padded[:, :, None]):
        got = read_series(data, y=[0, 1, 0], unequal_length=True)
        assert [s.ravel().tolist() for s in got.seqs] == want
    wide = read_series(pd.DataFrame(padded).assign(label=[0, 1, 0]), unequal_length=True)
    assert [s.ravel().tolist() for s in wide.seqs] == want
    with pytest.raises(LstmkitError, match=r"sequences have different lengths \(sequence 2 has 4 steps, sequence 1 has "
                                           r"3.*NaN at the end .* read as padding") as e:
        read_series(padded, y=[0, 1, 0])
    assert "unequal_length" in e.value.hint or "--unequal-length" in e.value.hint
    with pytest.raises(LstmkitError, match=r"sequence 0 holds missing or infinite values"):
        read_series(np.array([[1, nan, 3], [4, 5, 6]]), y=[0, 1], unequal_length=True)
    half = np.stack([padded, padded], axis=-1)
    half[0, 3, 1] = 5.0                                   # step 4 of sequence 1: one feature given, one not
    with pytest.raises(LstmkitError, match=r"sequence 0 holds missing or infinite values"):
        read_series(half, y=[0, 1, 0], unequal_length=True)
    with pytest.raises(LstmkitError, match=r"sequence 0 has no values"):
        read_series(np.array([[nan, nan], [1, 2]]), y=[0, 1], unequal_length=True)


@pytest.mark.parametrize("frame", [False, True])
def test_labels_mixing_strings_and_numbers_are_refused(tiny, texts, frame, tmp_path):
    """y = [1, 'neg', ...] trained classes '1' and 'neg', and predict answered '1', not the user's 1
    (scikit-learn refuses such a y: 'Mix of label input types'). Refused, naming the two kinds,
    before any run folder; numbers with booleans stay as written (a test above)."""
    from lstmkit import TextClassifier
    x, y = texts(20)
    mixed = [1 if v == "pos" else v for v in y]
    data, given = (pd.DataFrame({"text": x, "label": mixed}), None) if frame else (x, mixed)
    with pytest.raises(LstmkitError, match=r"^the labels mix strings \('neg'\) and numbers \(1\)") as e:
        TextClassifier(max_epochs=1, **tiny).fit(data, given, out=tmp_path)
    assert "astype(str)" in e.value.hint and not list(tmp_path.iterdir())


def test_labels_of_y_with_spaces_around_them_are_read_stripped_with_one_warning():
    """y = [' pos', 'neg ', ...] trained the classes 'pos' and 'neg' (as a table's cells are read)
    without a word, and predict's answers then never equalled y (accuracy_score(y, predict) was 0)."""
    with pytest.warns(UserWarning, match=r"^2 of 3 labels of y have spaces around them \(first: y\[0\] ' up'\): "
                                         r"read as 'up'") as caught:
        d = read_series(X, y=[" up", "down", "up\t"])
    assert len(caught) == 1 and d.labels == ["up", "down", "up"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_series(X, y=["up", "down", "up"]).labels == ["up", "down", "up"]


def test_y_indexed_by_a_long_tables_sample_ids_labels_those_samples():
    """A long table's samples are read in the order they first appear (3, 1, 2 here); y given as a
    Series indexed by the sample ids (sktime's layout, or labels.set_index('sample')['label']) in
    another order labelled them by position: sample 3 got sample 1's label, silently. It labels each
    sample by its id now; a y of pandas' default index (0, 1, …) or a list stays positional."""
    rows = [{"sample": i, "t": t, "v": i * 10 + t} for i in (3, 1, 2) for t in range(3)]
    df = pd.DataFrame(rows)
    by_id = pd.Series({1: "one", 2: "two", 3: "three"})
    d = read_series(df, y=by_id)
    assert d.ids == ["3", "1", "2"] and d.labels == ["three", "one", "two"]
    assert [s[0, 0] for s in d.seqs] == [30.0, 10.0, 20.0]
    assert read_series(df.set_index(["sample", "t"]), y=by_id).labels == ["three", "one", "two"]
    assert read_series(df, y=["one", "two", "three"]).labels == ["one", "two", "three"]          # positional
    assert read_series(df, y=pd.Series(["one", "two", "three"])).labels == ["one", "two", "three"]
    named = pd.Series(["a", "b", "c"], index=[7, 8, 9])                  # not the sample ids: positional
    assert read_series(df, y=named).labels == ["a", "b", "c"]
    zero_based = df.assign(sample=df["sample"] - 1)                       # ids 2, 0, 1: y's default index is no id
    assert read_series(zero_based, y=pd.Series(["a", "b", "c"])).labels == ["a", "b", "c"]


def test_a_numpy_matrix_reads_as_its_array_and_one_row_or_column_of_labels_as_labels(tiny_series, series):
    """np.asmatrix(y) (1×N) was 'y has shape (1, 3)'; list(np.asmatrix(X)) (rows of 1×T matrices) was
    read as sequences of one step of T features each, silently (predict on X then refused it);
    a column of texts as a matrix was 'unsupported data type matrix'."""
    for y in (np.asmatrix([0, 1, 0]), np.asmatrix([0, 1, 0]).T):
        assert read_series(np.asmatrix(X), y=y).labels == ["0", "1", "0"]
    d = read_series(list(np.asmatrix(X)), y=[0, 1, 0])
    assert [s.shape for s in d.seqs] == [(5, 1)] * 3 and [s.ravel().tolist() for s in d.seqs] == X.tolist()
    got = read_texts(np.asmatrix(np.array(["good film", "bad film"], dtype=object)).T, y=np.asmatrix(["pos", "neg"]))
    assert got.texts == ["good film", "bad film"] and got.labels == ["pos", "neg"]
    from lstmkit.tasks.classify.estimator import SequenceClassifier
    seqs, labels = series(16, unequal=False)
    grid = np.stack([s[:, 0] for s in seqs])                          # [16, 12]
    y = np.array([int(v == "up") for v in labels])
    ref = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0).fit(grid, y)
    got = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0).fit(list(np.asmatrix(grid)), np.asmatrix(y))
    assert got.classes_.tolist() == [0, 1] and got.classes_.dtype == y.dtype
    np.testing.assert_array_equal(got.predict_proba(grid), ref.predict_proba(grid))
    np.testing.assert_array_equal(ref.predict_proba(np.asmatrix(grid)), ref.predict_proba(grid))
    assert ref.score(grid, np.asmatrix(y)) == ref.score(grid, y)


def test_a_column_of_sequences_in_a_series_or_a_pyarrow_array_reads_as_their_list():
    """``df["signal"]`` holding one array per sample, and a pyarrow list array (``pa.array(rows)``),
    were a raw ValueError ('The truth value of an array with more than one element is ambiguous')."""
    import pyarrow as pa
    rows = [np.arange(3.0), np.arange(5.0)]
    want = [r[:, None] for r in rows]
    for data in (pd.Series(rows), pd.Series([r.tolist() for r in rows]), pa.array([r.tolist() for r in rows]),
                 pa.chunked_array([[rows[0].tolist()], [rows[1].tolist()]]), np.array(rows, dtype=object)):
        got = read_series(data, y=[0, 1], unequal_length=True).seqs
        assert len(got) == 2 and all(np.array_equal(a, b) for a, b in zip(got, want))


def test_a_dataframe_of_sequences_in_its_cells_is_sktimes_nested_layout(tiny_series):
    """sktime's ``nested_univ`` DataFrame (one row per sample, one column per feature, a Series in each
    cell) was 'neither long nor wide (column 'dim_0' holds text: ...)'. Its columns are the features,
    named (found by name at predict), a label column beside them the labels."""
    from lstmkit.tasks.classify.estimator import SequenceClassifier
    rng = np.random.default_rng(0)
    y = np.array(["up", "down"] * 6)
    X = np.stack([np.stack([np.linspace(0, 1 if c == "up" else -1, 10), rng.normal(0, 1, 10)], 1) for c in y])
    nested = pd.DataFrame({"wave": [pd.Series(r[:, 0]) for r in X], "noise": [pd.Series(r[:, 1]) for r in X]})
    d = read_series(nested, y=y)
    assert d.feature_names == ["wave", "noise"] and all(np.array_equal(a, b) for a, b in zip(d.seqs, X))
    assert read_series(nested.assign(label=y)).labels == y.tolist()
    est = SequenceClassifier(model="lstm", **tiny_series, max_epochs=1, val_frac=0)
    clf = est.fit(nested, y)
    assert clf.feature_names_in_.tolist() == ["wave", "noise"]
    assert np.allclose(clf.predict_proba(nested[["noise", "wave"]]), clf.predict_proba(X))
    with pytest.raises(LstmkitError, match=r"data row 1 holds sequences of different lengths in its columns "
                                           r"\('wave': 3, 'noise': 4\)"):
        read_series(pd.DataFrame({"wave": [np.arange(3.0)], "noise": [np.arange(4.0)]}), y=[0])


def test_a_long_table_from_pyarrow_or_polars_reads_as_its_dataframe(tiny, texts):
    """A long pyarrow Table (``pq.read_table``) was read as its array of cells (a raw ValueError), a polars
    one too ('could not convert string to float'); a polars DataFrame or Series of texts was
    'unsupported data type'."""
    import pyarrow as pa
    from table_data import polars_like
    long = pd.DataFrame([{"sample": i, "t": t, "v": float(i + t), "label": "ab"[i % 2]} for i in range(4) for t in range(5)])
    want = read_series(long)
    for given in (pa.Table.from_pandas(long), polars_like(long)[0]):
        got = read_series(given)
        assert got.labels == want.labels and all(np.array_equal(a, b) for a, b in zip(got.seqs, want.seqs))
    x, y = texts(8)
    frame, column = polars_like(pd.DataFrame({"text": x, "label": y}))
    assert read_texts(frame).texts == x and read_texts(frame).labels == y
    assert read_texts(column, require_label=False).texts == x


def _long_frame():
    """Three samples of 3-5 steps, two features, labelled: the long layout under other names."""
    lengths, rows = (4, 3, 5), []
    for k, n in enumerate(lengths):
        rows += [(k, t, float(10 * k + t), float(-t), "ab"[k % 2]) for t in range(n)]
    return pd.DataFrame(rows, columns=["case", "step", "x", "y", "label"])


@pytest.mark.parametrize("names, how", [
    (["case", "step"], "file"),                    # a user's own long table, not named sample / t
    (["id", "time"], "file"),
    (["level_0", "level_1"], "file"),              # pandas' reset_index of a frame indexed by (sample, step)
    ([None, None], "index file"),                  # its to_csv with the index: 'Unnamed: 0', 'Unnamed: 1'
    ([None, None], "multiindex"),                  # sktime's pd-multiindex frame given to fit
    (["instances", "timepoints"], "multiindex"),
])
def test_a_long_table_under_other_column_names_reads_as_long_not_as_one_sample_per_row(tmp_path, names, how):
    """Such tables were read as wide ones without a word: each row a sample whose 'steps' were the
    sample id, the step number and the features (4,000 one-row 'samples' of BasicMotions scored
    0.97 on a test file so written, the ids giving the classes away)."""
    df = _long_frame()
    df.columns = [*names, "x", "y", "label"] if names[0] else ["a", "b", "x", "y", "label"]
    if how == "file":
        df.to_csv(tmp_path / "long.csv", index=False)
        data = tmp_path / "long.csv"
    elif how == "index file":
        df.set_index(["a", "b"]).rename_axis([None, None]).to_csv(tmp_path / "long.csv")
        data = tmp_path / "long.csv"
    else:
        data = df.set_index(list(df.columns[:2])).rename_axis(names)
    with pytest.warns(UserWarning, match=r"read as a long table, one row per step, column '.+' naming the samples "
                      r"and '.+' numbering their steps \(3 samples of 3-5 steps"):
        d = read_series(data, unequal_length=True)
    assert [s[:, 0].tolist() for s in d.seqs] == [[0, 1, 2, 3], [10, 11, 12], [20, 21, 22, 23, 24]]
    assert d.feature_names == ["x", "y"] and d.labels == ["a", "b", "a"]
    if how == "multiindex":                        # y by position, as sktime gives it
        assert read_series(data.drop(columns="label"), y=["p", "q", "p"], unequal_length=True).labels == ["p", "q", "p"]


def test_a_wide_table_or_a_long_one_that_breaks_the_layout_is_not_read_as_long(tmp_path):
    """No pair of columns laying out samples and their steps: read as it was."""
    wide = pd.DataFrame({"s1": [0.0, 0, 1, 1], "s2": [1.0, 2, 3, 4], "s3": [5.0, 6, 7, 8], "label": list("aabb")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [len(s) for s in read_series(wide).seqs] == [3] * 4          # s2 never starts again: no step column
        mixed = _long_frame().assign(label=list("ab") * 6)                  # a label that changes within a sample
        assert len(read_series(mixed.drop(columns=["case"]).astype({"step": float})).seqs) == 12


def test_the_columns_a_long_layout_implies_are_kept_for_predict(tmp_path, tiny_series):
    from lstmkit import SequenceClassifier
    df = pd.concat([_long_frame().assign(case=lambda d, k=k: d.case + 3 * k) for k in range(4)], ignore_index=True)
    df["x"], df["label"] = df.x + 100 * (df.case // 3), np.where(df.case % 2, "b", "a")
    df.to_csv(tmp_path / "long.csv", index=False)
    with pytest.warns(UserWarning, match="read as a long table"):
        clf = SequenceClassifier(max_epochs=1, unequal_length=True, val_frac=0, **tiny_series).fit(tmp_path / "long.csv")
    assert (clf.config_.sample, clf.config_.time) == ("case", "step")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(clf.predict(tmp_path / "long.csv")) == 12


@pytest.mark.parametrize("shape, warned", [((5, 2, 30), True), ((5, 1, 24), True), ((5, 30, 2), False),
                                           ((5, 4, 4), False)])
def test_a_3d_array_with_fewer_steps_than_features_is_said_to_be_read_as_n_t_f(shape, warned):
    """aeon's and sktime's numpy3D is [N, channels, T]: BasicMotions' (40, 6, 100) was read as 6
    steps of 100 features, ItalyPowerDemand's (67, 1, 24) as one step of 24, without a word."""
    X3 = np.random.default_rng(0).standard_normal(shape)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        d = read_series(X3, y=["a", "b", "a", "b", "a"])
    assert [len(s) for s in d.seqs] == [shape[1]] * 5
    assert [m for w in said for m in [str(w.message)] if "X.transpose(0, 2, 1)" in m] == (
        [f"the array of shape {shape} is read as [N, T, F]: 5 sequences of {shape[1]} step{'s' * (shape[1] > 1)} with "
         f"{shape[2]} features each, fewer steps than features; aeon's and sktime's 3-D arrays (numpy3D) are "
         f"[N, channels, T], {shape[2]} steps of {shape[1]} channel{'s' * (shape[1] > 1)}: if yours is, pass "
         "X.transpose(0, 2, 1)"] if warned else [])


def test_a_wide_table_whose_labels_are_named_target_is_told_the_label_flag_to_pass(tmp_path):
    """scikit-learn's load_digits(as_frame=True).frame (pixel_0_0 … pixel_7_7, target): the error
    listed eight pixel columns and asked for 'its label column' without naming the one it has."""
    df = pd.DataFrame(np.arange(12.0).reshape(3, 4), columns=[f"pixel_{k}" for k in range(4)]).assign(target=[0, 1, 0])
    df.to_csv(tmp_path / "digits.csv", index=False)
    with pytest.raises(LstmkitError, match=r"nor wide \(no label column 'label'\) .* pass --label with its label column "
                       r"\(--label target: its column 'target', as scikit-learn's as_frame and UCR's CSVs name it\)$"):
        read_series(tmp_path / "digits.csv")
    assert read_series(tmp_path / "digits.csv", label="target").labels == ["0", "1", "0"]
    with pytest.raises(LstmkitError, match=r"pass --label with its label column$"):
        read_series(df.drop(columns="target").assign(tag=["a", "b", "a"]))


def test_a_header_of_step_numbers_alone_is_a_header_not_a_series_of_label_0(tmp_path):
    """pd.DataFrame(X).to_csv(index=False) writes the header 0,1,2,…: it was read as one more
    series (1, 2, …, of class '0') above the data, in training and prediction alike."""
    X = np.arange(12.0).reshape(3, 4) / 10
    pd.DataFrame(X).assign(label=["a", "b", "a"]).to_csv(tmp_path / "w.csv", index=False)
    d = read_series(tmp_path / "w.csv")
    assert d.labels == ["a", "b", "a"] and [s.ravel().tolist() for s in d.seqs] == X.tolist()
    pd.DataFrame(X).to_csv(tmp_path / "x.csv", index=False)
    assert len(read_series(tmp_path / "x.csv", require_label=False)) == 3
    _write(tmp_path, "u.csv", "0,1.5,3,4.5\n1,0.5,0.6,0.7\n")    # a UCR line rising by 1.5 stays a series
    assert read_series(tmp_path / "u.csv").labels == ["0", "1"]


def test_a_headerless_file_of_the_models_length_is_classified_whole_not_label_first(tiny_series, tmp_path):
    """df.to_csv(header=False, index=False) of the series a wide-table model was fitted on was read
    as UCR's layout: each row's first value taken for a label, the model given 19 of 20 steps
    (other probabilities than predict_proba(X)). Rows of the model's length now read whole, with
    one warning naming the guess; rows one longer still read label first."""
    from lstmkit.tasks.classify.estimator import SequenceClassifier

    rng = np.random.default_rng(0)
    X = np.cumsum(rng.normal(size=(10, 6)), axis=1)
    est = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0).fit(X, ["up", "down"] * 5, out=tmp_path)
    want = est.predict_proba(X)
    pd.DataFrame(X).to_csv(tmp_path / "bare.csv", header=False, index=False)
    with pytest.warns(UserWarning, match=r"bare.csv has no header and each of its 10 lines holds 6 numbers, the "
                                         r"model's 6 steps: read as series without a label"):
        np.testing.assert_allclose(est.predict_proba(tmp_path / "bare.csv"), want, rtol=1e-6)
    pd.DataFrame(X).assign(label=0).iloc[:, [6, 0, 1, 2, 3, 4, 5]].to_csv(tmp_path / "ucr.csv", header=False,
                                                                          index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(est.predict_proba(tmp_path / "ucr.csv"), want, rtol=1e-6)


def test_a_wide_tables_first_column_of_distinct_whole_numbers_named_unlike_the_steps_is_warned_of(tmp_path):
    """'patient, t0, t1, …, label': the patient numbers were read as every series' first step without
    a word (6 steps of 5); a warning names the column and --sample, which reads it as the ids."""
    steps = [f"t{j}" for j in range(5)]
    wide = pd.DataFrame(np.arange(30.0).reshape(6, 5) / 7, columns=steps).assign(label=list("ababab"))
    wide.insert(0, "patient", [7, 3, 9, 1, 4, 2])
    wide.to_csv(tmp_path / "w.csv", index=False)
    with pytest.warns(UserWarning, match=r"column 'patient' in .*w.csv is read as the first step of every series, "
                                         r"before 't0': its 6 values are distinct whole numbers .* pass --sample patient"):
        assert read_series(tmp_path / "w.csv").seqs[0].shape == (6, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = read_series(tmp_path / "w.csv", sample="patient")
        assert d.ids == ["7", "3", "9", "1", "4", "2"] and d.seqs[0].shape == (5, 1)
        read_series(wide.assign(patient=np.linspace(0.5, 3, 6)))           # a step of fractions: no id
        read_series(wide.rename(columns={"patient": "t9"}))                # named as a step
        read_series(wide.iloc[:1])                                         # one row: no ids to tell apart
    with pytest.warns(UserWarning, match=r"column 'patient' is read as the first step .*: its 2 values are distinct"):
        read_series(wide.iloc[:2])                                         # two samples, two patients


def test_a_column_besides_the_training_step_columns_is_left_out_with_a_warning(tiny_series, tmp_path):
    """predict on the training table with its label column renamed ('y'): the column was read as a
    21st step of every series (other probabilities, one warning of lengths that named no column)."""
    from lstmkit.tasks.classify.estimator import SequenceClassifier

    rng = np.random.default_rng(0)
    wide = pd.DataFrame(np.cumsum(rng.normal(size=(10, 6)), axis=1), columns=[f"t{j}" for j in range(6)])
    est = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0).fit(wide, ["up", "down"] * 5, out=tmp_path)
    want = est.predict_proba(wide)
    with pytest.warns(UserWarning, match=r"the data: 1 column besides the 6 step columns the model was trained on "
                                         r"\('y'\) left out, not read as more steps"):
        np.testing.assert_allclose(est.predict_proba(wide.assign(y=[0, 1] * 5)), want, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(est.predict_proba(wide.assign(label=[0, 1] * 5)), want, rtol=1e-6)


def test_a_headerless_file_whose_first_values_are_fractions_holds_no_labels(tmp_path):
    """pd.DataFrame(X).to_csv(header=False, index=False) trained on: each row's first value was its
    class (40 classes of one series each, a warning of 'ids?'); to classify, its first step was lost
    to a label nobody reads. The fractions are named now: an error to train, read whole to classify."""
    X = np.arange(1.0, 13.0).reshape(3, 4) / 7
    pd.DataFrame(X).to_csv(tmp_path / "bare.csv", header=False, index=False)
    with pytest.raises(LstmkitError, match=r"bare.csv has no header, so its lines read as UCR's, each series' class "
                                           r"first, but '0.14\d*' is no class: the file holds no labels — give it a "
                                           r"header line"):
        read_series(tmp_path / "bare.csv")
    with pytest.warns(UserWarning, match=r"is no class: its lines are read as series without a label"):
        d = read_series(tmp_path / "bare.csv", require_label=False)
    assert [s.ravel().tolist() for s in d.seqs] == X.tolist() and d.labels is None
    assert read_series(tmp_path / "bare.csv", y=["a", "b", "a"]).seqs[0].shape == (4, 1)
    _write(tmp_path, "ucr.csv", "1.0e+00,0.5,0.25\n-1,0.5,0.75\n")       # UCR's classes, however written
    assert read_series(tmp_path / "ucr.csv").labels == ["1.0e+00", "-1"]


def test_a_long_files_trailing_separators_are_no_feature(tmp_path):
    """'sample,t,x,label,' over rows ending in a comma: pandas' empty 'Unnamed: 4' was a feature,
    'has 20 empty or non-numeric cells'; a column without a name but with values stays one."""
    rows = "".join(f"{k // 5},{k % 5},{k / 3},{'ab'[k // 10]},\n" for k in range(20))
    d = read_series(_write(tmp_path, "l.csv", "sample,t,x,label,\n" + rows))
    assert d.feature_names == ["x"] and len(d) == 4
    assert read_series(pd.read_csv(tmp_path / "l.csv")).feature_names == ["x"]
    kept = pd.read_csv(tmp_path / "l.csv").fillna(1.0)
    assert read_series(kept).feature_names == ["x", "Unnamed: 4"]


def test_a_value_scaled_beyond_float32_is_named_by_its_sequence_and_cell():
    """``scaled_as_float32`` names the first sequence holding such a value, and the value itself: in a step of
    several columns the one scaled out of range (its sign kept), also as a sequence's first step; numpy's overflow
    warning is not shown beside the error. In range, the rows come back as float32."""
    from lstmkit.tasks.classify.series import scaled_as_float32
    lengths = [3, 2, 4]
    raw = np.arange(18.0).reshape(9, 2) * 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # numpy's "overflow encountered in cast" too
        ok = scaled_as_float32(raw * 1e3, raw, lengths)
        assert ok.dtype == np.float32 and np.array_equal(ok, (raw * 1e3).astype(np.float32))
        raw[3] = [0.5, -3e38]                           # the first step of sequence 2
        raw[7, 1] = 3e38                                # and one in sequence 3
        for length, said in ((lengths, "sequence 2 holds -3e+38"), (None, "the step holds -3e+38")):
            with pytest.raises(LstmkitError) as e:
                scaled_as_float32(raw * 1e3, raw, length)
            assert str(e.value).startswith(said) and "beyond float32" in str(e.value), str(e.value)
