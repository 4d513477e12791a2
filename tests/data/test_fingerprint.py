"""data.fingerprint: the content hash of data given in memory, by which a resume tells other data apart."""
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from lstmkit.data.fingerprint import fingerprint


def test_equal_content_gives_one_fingerprint_and_any_change_another():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": ["a", "b", "c"]})
    same = pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": ["a", "b", "c"]})
    assert fingerprint(df) == fingerprint(same) and len(fingerprint(df)) == 64
    changed = [df.assign(y=[1.0, 2.0, 3.0000001]), df[["x", "y"]], df.rename(columns={"x": "z"}),
               df.astype({"y": "float32"}), df.iloc[:2], df.iloc[::-1].reset_index(drop=True)]
    prints = {fingerprint(d) for d in changed}
    assert len(prints) == len(changed) and fingerprint(df) not in prints
    # texts are one string and their lengths: a line break moved is other data
    assert fingerprint(["ab", "c"]) != fingerprint(["a", "bc"]) != fingerprint(("a", "bc"))
    a = np.arange(6.0)
    assert fingerprint(a) == fingerprint(a.copy()) != fingerprint(a.reshape(2, 3)) != fingerprint(a.astype(np.float32))
    assert fingerprint((a, ["u", "d"])) != fingerprint((a, ["d", "u"]))
    ragged = [np.arange(3.0), np.arange(4.0)]
    assert fingerprint(ragged) == fingerprint([r.copy() for r in ragged]) != fingerprint(ragged[::-1])


def test_dataclasses_are_read_field_by_field_and_unknown_objects_have_none():
    @dataclass
    class Utts:
        paths: list
        texts: list

    assert fingerprint(Utts(["a.wav"], ["yes"])) != fingerprint(Utts(["a.wav"], ["no"]))
    assert fingerprint(object()) is None
    assert fingerprint(pd.DataFrame({"cells": [[object()], [2]]})) is None   # an object of no known kind in a cell


def test_the_same_in_every_process():
    """Python's own hash() of a text changes with each process; a run resumed later must match."""
    code = ("import pandas as pd; from lstmkit.data.fingerprint import fingerprint; "
            "print(fingerprint(pd.DataFrame({'id': ['a', 'b'], 'y': [1, 2]})), fingerprint(['x', 'y']))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1
    assert runs.pop().split() == [fingerprint(pd.DataFrame({"id": ["a", "b"], "y": [1, 2]})), fingerprint(["x", "y"])]


def test_equal_floats_written_with_another_nan_or_a_negative_zero_are_the_same_data():
    x = np.array([[1.0, np.nan], [0.0, -2.5]])
    y = x.copy()
    y[0, 1], y[1, 0] = -np.nan, -0.0                   # x86's 0/0 is a NaN with its sign bit set
    assert x.tobytes() != y.tobytes()
    assert fingerprint(x) == fingerprint(y) == fingerprint(torch.from_numpy(y))
    assert fingerprint(x.astype(np.float32)) == fingerprint(y.astype(np.float32))
    assert fingerprint([0.0, 1.0]) == fingerprint([-0.0, 1.0])
    assert fingerprint(x) == fingerprint(x.copy()) and fingerprint(x) != fingerprint(np.flip(x, 0))
    z = x.copy()
    z[0, 1], z[0, 0] = 1.0, np.nan                      # the NaN elsewhere: other data
    assert fingerprint(z) != fingerprint(x)
    assert x[0, 1] != x[0, 1]                           # the caller's array left as it was


def test_a_frame_whose_cells_hold_lists_or_arrays_is_fingerprinted_cell_by_cell():
    frame = pd.DataFrame({"series": [[1.0, 2.0], [3.0]], "label": ["a", "b"]})
    again = pd.DataFrame({"series": [np.array([1.0, 2.0]).tolist(), [3.0]], "label": ["a", "b"]})
    assert fingerprint(frame) is not None and fingerprint(frame) == fingerprint(again)
    assert fingerprint(frame) != fingerprint(frame.assign(series=[[1.0, 2.5], [3.0]]))
    assert fingerprint(frame) != fingerprint(frame.assign(label=["b", "a"]))
    assert fingerprint(frame) != fingerprint(frame.set_axis(pd.date_range("2024-01-01", periods=2)))   # read as times
    arrays = pd.Series([np.arange(3.0), np.arange(2.0)], name="x")
    assert fingerprint(arrays) == fingerprint(pd.Series([np.arange(3.0), np.arange(2.0)], name="x"))
    assert fingerprint(arrays) != fingerprint(pd.Series([np.arange(3.0), np.arange(1.0, 3.0)], name="x"))
    long = np.arange(5000.0)                            # printed with '...': pandas' text of it hides the middle
    other = long.copy()
    other[2500] = -1.0
    assert fingerprint(pd.DataFrame({"x": [long]})) != fingerprint(pd.DataFrame({"x": [other]}))
    assert fingerprint(pd.DataFrame({"x": [torch.from_numpy(long)]})) != fingerprint(
        pd.DataFrame({"x": [torch.from_numpy(other)]}))               # it raised: a tensor has no truth value


def test_a_frame_of_objects_known_by_their_address_has_no_fingerprint_rather_than_a_new_one_each_process():
    class Reading:
        pass

    assert fingerprint(pd.DataFrame({"o": [Reading(), Reading()]})) is None
    mixed = pd.DataFrame({"o": [1, "a"]})                             # 1 and '1' are not the same cell
    assert fingerprint(mixed) is not None and fingerprint(mixed) != fingerprint(pd.DataFrame({"o": ["1", "a"]}))


def test_row_labels_no_reader_reads_are_left_out_and_a_date_index_is_data():
    """A frame whose index alone changed (``reset_index(drop=True)`` after a filter, other row labels)
    is the data the model read: a resume was refused as "other data". A date index is a forecast's
    time, and an index of several levels is reset into columns: those are data."""
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": ["a", "b", "c", "d"]})
    kept = df[df["y"] > 1.5]                                  # index 1, 2, 3
    same = [kept.reset_index(drop=True), kept.set_axis(["r1", "r2", "r3"]), kept.set_axis([7.5, 8.5, 9.5])]
    assert {fingerprint(d) for d in same} == {fingerprint(kept)}
    assert fingerprint(kept["y"]) == fingerprint(kept["y"].reset_index(drop=True))
    cells = pd.DataFrame({"cells": [[1, 2], [3]]})           # read cell by cell: the index left out there too
    assert fingerprint(cells) == fingerprint(cells.set_axis([5, 9]))
    # what the model reads differs: values, their order, the dates a forecast reads from the index
    days = df.set_axis(pd.date_range("2024-01-01", periods=4, name="day"))
    other = [kept.assign(y=[2.0, 3.0, 4.5]), kept.iloc[::-1], days, days.set_axis(days.index + pd.Timedelta("1D")),
             days.rename_axis("date"), df.set_axis(pd.period_range("2024-01", periods=4, freq="M")),
             df.set_axis(pd.MultiIndex.from_arrays([["s"] * 4, days.index], names=["store", "day"])),
             cells.set_axis(pd.date_range("2024-01-01", periods=2))]
    prints = [fingerprint(d) for d in other]
    assert len(set(prints)) == len(other) and not {fingerprint(kept), fingerprint(df), fingerprint(cells)} & set(prints)


class _ArrayLike:
    """An object that is no ndarray but hands numpy its buffer (as a PIL image or an Arrow buffer does)."""
    def __init__(self, a):
        self.a = a

    @property
    def __array_interface__(self):
        return self.a.__array_interface__


def test_an_object_numpy_reads_through_its_array_interface_is_fingerprinted_as_its_array():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert fingerprint(_ArrayLike(a)) == fingerprint(a) is not None
    b = a.copy()
    b[2, 3] = 11.5
    assert fingerprint(_ArrayLike(b)) != fingerprint(_ArrayLike(a))


def test_tiny_floats_and_zero_hash_apart_while_minus_zero_is_zero():
    """A changed byte changes the fingerprint: 1e-30 is no 0 (whatever makes -0.0 into 0.0 must not round it away)."""
    for dtype in (np.float32, np.float64):
        zero, tiny = np.zeros(3, dtype=dtype), np.array([0.0, 1e-30, 0.0], dtype=dtype)
        assert fingerprint(tiny) != fingerprint(zero) == fingerprint(-zero)


def test_a_frame_with_a_column_read_cell_by_cell_leaves_its_row_labels_out_too():
    """Row labels no reader reads are left out of every frame's fingerprint, a frame with a column of
    lists (hashed cell by cell) as well: the same rows under other labels resume; another value does not."""
    frame = pd.DataFrame({"tokens": [[1, 2], [3], [4, 5, 6]], "label": [0, 1, 0]})
    relabelled = frame.set_axis([10, 20, 30])
    assert fingerprint(relabelled) == fingerprint(frame)
    other = frame.copy()
    other.loc[2, "label"] = 1
    assert fingerprint(other) != fingerprint(frame)
