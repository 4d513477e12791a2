"""Array-likes an estimator is handed (lstmkit.data.arrays): masked arrays and torch tensors read as
what they stand for."""
import numpy as np
import pytest
import torch

from lstmkit.data.arrays import masked_as_missing, matrix_as_array, plain_array, tensor_as_array, text_items
from lstmkit.errors import LstmkitError


def test_masked_cells_are_missing_not_the_values_under_the_mask():
    a = np.ma.masked_array([1, -999, 3], mask=[False, True, False])            # an int placeholder under the mask
    got = masked_as_missing(a)
    assert not np.ma.isMaskedArray(got) and got.dtype == np.float64
    np.testing.assert_array_equal(got, [1.0, np.nan, 3.0])                     # np.asarray(a) gave -999
    text = masked_as_missing(np.ma.masked_array(["a", "b"], mask=[True, False]))
    assert text.tolist() == [None, "b"]
    two = masked_as_missing(np.ma.masked_array([[1.5, 2.5], [3.5, 4.5]], mask=[[0, 0], [0, 1]]))
    np.testing.assert_array_equal(two, [[1.5, 2.5], [3.5, np.nan]])


def test_a_masked_array_with_nothing_masked_or_another_value_is_itself():
    a = np.ma.masked_array(np.arange(3, dtype=np.int8))
    got = masked_as_missing(a)
    assert not np.ma.isMaskedArray(got) and got.dtype == np.int8 and got.tolist() == [0, 1, 2]
    plain, rows = np.arange(4.0), [[1, 2]]
    assert masked_as_missing(plain) is plain and masked_as_missing(rows) is rows and plain_array(rows) is rows


def test_tensors_with_gradients_or_in_bfloat16_read_as_their_values():
    x = torch.tensor([[0.5, 1.5], [2.0, -3.0]], requires_grad=True)
    np.testing.assert_array_equal(tensor_as_array(x), [[0.5, 1.5], [2.0, -3.0]])
    half = tensor_as_array(x.detach().bfloat16())                              # numpy has no bfloat16: was a TypeError
    assert half.dtype == np.float32 and half.tolist() == [[0.5, 1.5], [2.0, -3.0]]
    np.testing.assert_array_equal(plain_array(x), x.detach().numpy())


def test_a_tensor_without_data_is_an_error_naming_its_device():
    with pytest.raises(LstmkitError, match=r"the meta tensor could not be copied to the CPU .*— pass a tensor that "
                                           r"holds values"):
        tensor_as_array(torch.zeros(3, device="meta"))


def test_one_dimensional_texts_of_every_library_are_a_list_of_their_strings():
    """pyarrow's arrays iterate as Arrow scalars ('is a StringScalar, not a string'), and the classifier
    refused a pandas Index, Categorical or string array ('unsupported data type')."""
    import pandas as pd
    import pyarrow as pa
    from lstmkit.data.arrays import arrow_as_frame, text_items
    texts = ["a", "b"]
    for given in (texts, tuple(texts), np.array(texts), np.array(texts, dtype=object), np.array([texts]).T,
                  pd.Series(texts), pd.Index(texts), pd.Categorical(texts), pd.array(texts, dtype="string[pyarrow]"),
                  pa.array(texts), pa.array(texts, type=pa.large_string()), pa.chunked_array([texts[:1], texts[1:]]),
                  iter(texts), (t for t in texts), map(str, texts)):
        assert text_items(given) == texts, type(given).__name__
    assert text_items(pa.array(["a", None])) == ["a", None]            # missing stays missing, for the caller to name
    for other in ("a", b"a", {"a": 1}, {"a"}, np.array([texts, texts]), pd.DataFrame({"t": texts}),
                  pa.table({"t": texts}), 3):
        assert text_items(other) is None, type(other).__name__
    frame = arrow_as_frame(pa.table({"text": texts, "n": [1, 2]}))
    assert isinstance(frame, pd.DataFrame) and frame["text"].tolist() == texts
    assert arrow_as_frame(texts) is texts


def test_a_matrix_is_its_array_and_one_row_or_column_its_vector():
    """np.matrix stays 2-D when indexed (m[0], m[:, 0], m.ravel() are 1×N matrices) and holds a vector as
    one row (np.asmatrix(y) is 1×N): readers got shapes they did not mean ('y has shape (1, 4)')."""
    y = np.array([3, 1, 4, 1])
    for m in (np.asmatrix(y), np.asmatrix(y).T):
        got = matrix_as_array(m)
        assert type(got) is np.ndarray and got.shape == (4,) and got.tolist() == y.tolist()
        assert type(plain_array(m)) is np.ndarray and plain_array(m).tolist() == y.tolist()
    grid = np.asmatrix(np.arange(6.0).reshape(2, 3))
    assert type(matrix_as_array(grid)) is np.ndarray and matrix_as_array(grid).shape == (2, 3)
    row = matrix_as_array(np.asmatrix(y), vector=False)              # where 2-D arrays are read: [1, N]
    assert type(row) is np.ndarray and row.shape == (1, 4)
    assert matrix_as_array(y) is y
    texts = np.asmatrix(np.array(["a b", "c"], dtype=object)).T      # a column of texts: was None ('matrix')
    assert text_items(texts) == ["a b", "c"]


def test_a_polars_frame_or_series_reads_as_its_pandas_one():
    """A polars DataFrame was 'unsupported data type DataFrame' (texts), or read as its array of cells
    (a long table of sequences: 'could not convert string to float'); a polars Series of texts
    'unsupported data type Series'."""
    import pandas as pd
    from lstmkit.data.arrays import arrow_as_frame, text_items
    from table_data import polars_like
    frame, series = polars_like(pd.DataFrame({"text": ["a", "b"], "n": [1, 2]}))
    got = arrow_as_frame(frame)
    assert isinstance(got, pd.DataFrame) and got["n"].tolist() == [1, 2]
    assert text_items(series) == ["a", "b"] and isinstance(arrow_as_frame(series), pd.Series)
    assert text_items(frame) is None                                  # a table: the caller reads its column


def test_a_structured_array_reads_as_the_frame_of_its_fields():
    """A structured or record array (np.genfromtxt(..., names=True), df.to_records()) was read as one
    column of its records: the forecaster's target 'not numeric: found (112.0,)', a sequence
    classifier's 'got shape (50,)'."""
    import pandas as pd
    from lstmkit.data.arrays import arrow_as_frame
    rec = np.zeros(3, dtype=[("date", "M8[D]"), ("sales", "f8")])
    rec["date"], rec["sales"] = np.arange("2024-01-01", "2024-01-04", dtype="M8[D]"), [1.5, 2.5, 3.5]
    for given in (rec, rec.view(np.recarray)):
        got = arrow_as_frame(given)
        assert isinstance(got, pd.DataFrame) and list(got.columns) == ["date", "sales"]
        assert got["sales"].tolist() == [1.5, 2.5, 3.5] and got["date"].dtype.kind == "M"
    masked = arrow_as_frame(np.ma.masked_array(rec, mask=[(0, 0), (0, 1), (0, 0)]))
    np.testing.assert_array_equal(masked["sales"], [1.5, np.nan, 3.5])      # not the 2.5 under the mask
    plain = np.arange(3.0)
    assert arrow_as_frame(plain) is plain


def test_a_structured_field_of_arrays_is_an_error_naming_the_array_to_pass():
    from lstmkit.data.arrays import arrow_as_frame
    rec = np.zeros(4, dtype=[("signal", "f8", (150,)), ("label", "i8")])
    with pytest.raises(LstmkitError, match=r"the structured array's field 'signal' holds an array of shape \(150,\) "
                                           r"per record, not one value — pass that field's own array, "
                                           r"x\['signal'\] \(shape \(4, 150\)\)"):
        arrow_as_frame(rec)
    with pytest.raises(LstmkitError, match=r"the structured array has shape \(2, 2\), not one record per row — "
                                           r"pass a 1-D structured array \(x.ravel\(\)\)"):
        arrow_as_frame(np.zeros((2, 2), dtype=[("a", "f8")]))
