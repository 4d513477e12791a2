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
               df.set_axis([0, 1, 5]), df.astype({"y": "float32"}), df.iloc[:2]]
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
    assert fingerprint(frame) != fingerprint(frame.set_axis([1, 0]))
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
