import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data.windows import make_windows
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.data import load_table, prepare_series, split_sizes, split_window_indices


@pytest.fixture
def frame():
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=6, freq="D").strftime("%Y-%m-%d"),
        "sales": [1.5, 2.0, 3.25, 4.0, 5.0, 6.5],
        "temp": [10, 11, 12, 13, 14, 15],
        "city": ["a", "b", "c", "d", "e", "f"],
    })


# -- load_table ------------------------------------------------------------------------------
def test_csv_round_trip(tmp_path, frame):
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    df = load_table(path)
    assert list(df.columns) == ["date", "sales", "temp", "city"]
    np.testing.assert_array_equal(df["sales"].to_numpy(), frame["sales"].to_numpy())
    assert load_table(str(path)).shape == (6, 4)


def test_parquet_round_trip(tmp_path, frame):
    path = tmp_path / "d.parquet"
    frame.to_parquet(path)
    df = load_table(path)
    pd.testing.assert_frame_equal(df.reset_index(drop=True), frame, check_dtype=False)


def test_tsv_txt_and_gzip(tmp_path, frame):
    frame.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    frame.to_csv(tmp_path / "d.txt", sep=";", index=False)
    frame.to_csv(tmp_path / "d.csv.gz", index=False)
    for name in ("d.tsv", "d.txt", "d.csv.gz"):
        df = load_table(tmp_path / name)
        assert list(df.columns) == ["date", "sales", "temp", "city"], name
        assert df["temp"].tolist() == [10, 11, 12, 13, 14, 15], name


def test_in_memory_inputs(frame):
    df = load_table(frame)
    df.loc[0, "sales"] = -1.0
    assert frame.loc[0, "sales"] == 1.5  # copied
    assert list(load_table(np.arange(4.0)).columns) == ["y"]
    two = load_table([[1, 2], [3, 4], [5, 6]])
    assert list(two.columns) == ["y0", "y1"] and two["y1"].tolist() == [2, 4, 6]
    with pytest.raises(LstmkitError, match="1-D or 2-D"):
        load_table(np.zeros((2, 2, 2)))
    with pytest.raises(LstmkitError, match="unsupported data type"):
        load_table(42)


def test_load_errors(tmp_path):
    with pytest.raises(LstmkitError, match="file not found: .*nope.csv — check the path"):
        load_table(tmp_path / "nope.csv")
    with pytest.raises(LstmkitError, match="is a directory"):
        load_table(tmp_path)
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(LstmkitError, match=r"unknown file type '.xlsx'.*\.csv.*\.parquet"):
        load_table(tmp_path / "d.xlsx")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(LstmkitError, match="file is empty"):
        load_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(LstmkitError, match="no rows"):
        load_table(tmp_path / "header.csv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(LstmkitError, match="could not read .*bad.parquet.*valid Parquet"):
        load_table(tmp_path / "bad.parquet")
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\xff\xfe\x00,1\n")
    with pytest.raises(LstmkitError, match="could not read .*bin.csv"):
        load_table(tmp_path / "bin.csv")
    with pytest.raises(LstmkitError, match="no rows"):
        load_table(pd.DataFrame({"a": []}))


# -- prepare_series --------------------------------------------------------------------------
def test_prepare_basic(frame):
    shuffled = frame.iloc[[3, 0, 5, 1, 4, 2]]
    s = prepare_series(shuffled, target="sales", time="date", features="temp")
    np.testing.assert_array_equal(s.values[:, 0], frame["sales"].to_numpy())  # sorted by time
    np.testing.assert_array_equal(s.features[:, 0], frame["temp"].to_numpy())
    assert s.values.dtype == np.float64 and s.features.shape == (6, 1)
    assert s.freq == "D" and s.gaps == 0 and s.time_name == "date"
    summary = json.loads(json.dumps(s.summary()))
    assert summary["rows"] == 6 and summary["start"].startswith("2024-01-01") and summary["end"].startswith("2024-01-06")
    assert summary["freq"] == "D" and summary["n_filled"] == 0


def test_target_and_feature_forms(frame):
    s = prepare_series(frame, target="sales, temp")
    assert s.target_names == ["sales", "temp"] and s.values.shape == (6, 2) and s.features.shape == (6, 0)
    assert s.time is None and s.freq is None
    s = prepare_series(frame, target=["temp"], features=["sales", "temp"])
    assert s.feature_names == ["sales"]  # targets are inputs already
    np.testing.assert_array_equal(s.values[:, 0], [10, 11, 12, 13, 14, 15])


def test_datetime_index_used_when_no_time_column():
    df = pd.DataFrame({"y": [3.0, 1.0, 2.0]}, index=pd.to_datetime(["2024-03-03", "2024-03-01", "2024-03-02"]))
    s = prepare_series(df, "y")
    assert s.values[:, 0].tolist() == [1.0, 2.0, 3.0] and s.freq == "D"


def test_missing_column_lists_existing(frame):
    with pytest.raises(LstmkitError) as e:
        prepare_series(frame, target="revenue")
    assert "'revenue' not found" in str(e.value) and "date, sales, temp, city" in str(e.value)
    with pytest.raises(LstmkitError, match="features column 'rain' not found"):
        prepare_series(frame, target="sales", features="temp,rain")
    with pytest.raises(LstmkitError, match="time column 'when' not found"):
        prepare_series(frame, target="sales", time="when")
    with pytest.raises(LstmkitError, match="no target column given"):
        prepare_series(frame, target=" , ")


def test_non_numeric_names_column_and_value(frame):
    with pytest.raises(LstmkitError, match="column 'city' is not numeric: found 'a'"):
        prepare_series(frame, target="sales", features="city")
    df = pd.DataFrame({"y": ["1.5", "2", "n/a?", "4"]})
    with pytest.raises(LstmkitError, match="column 'y' is not numeric: found 'n/a\\?' in row 2"):
        prepare_series(df, target="y")
    ok = prepare_series(pd.DataFrame({"y": ["1.5", " 2 ", "3e1"]}), target="y")
    assert ok.values[:, 0].tolist() == [1.5, 2.0, 30.0]


def test_empty_cells_error_by_default():
    df = pd.DataFrame({"y": [1.0, np.nan, 3.0, np.nan], "x": [1.0, 2.0, np.inf, 4.0]})
    with pytest.raises(LstmkitError) as e:
        prepare_series(df, target="y", features="x")
    msg = str(e.value)
    assert "'y' (2 of 4 rows)" in msg and "'x' (1 of 4 rows)" in msg and "--fill ffill|interpolate" in msg
    with pytest.raises(LstmkitError, match="unknown fill mode 'zero'.*ffill, interpolate"):
        prepare_series(df, target="y", fill="zero")
    with pytest.raises(LstmkitError, match="'x' has no values"):
        prepare_series(pd.DataFrame({"y": [1.0, 2.0], "x": [np.nan, np.nan]}), "y", features="x", fill="ffill")


def test_fill_modes_values():
    df = pd.DataFrame({"y": [np.nan, 2.0, np.nan, np.nan, 8.0, np.nan]})
    s = prepare_series(df, target="y", fill="ffill")
    assert s.values[:, 0].tolist() == [2.0, 2.0, 2.0, 2.0, 8.0, 8.0] and s.n_filled == 4
    s = prepare_series(df, target="y", fill="interpolate")
    assert s.values[:, 0].tolist() == [2.0, 2.0, 4.0, 6.0, 8.0, 8.0] and s.summary()["n_filled"] == 4


def test_fill_runs_in_time_order():
    df = pd.DataFrame({"t": ["2024-01-03", "2024-01-01", "2024-01-02"], "y": [3.0, 1.0, np.nan]})
    s = prepare_series(df, target="y", time="t", fill="ffill")
    assert s.values[:, 0].tolist() == [1.0, 1.0, 3.0]


def test_time_errors():
    with pytest.raises(LstmkitError, match="time column 't' could not be read as dates: found 'soon'"):
        prepare_series(pd.DataFrame({"t": ["2024-01-01", "soon", "2024-01-03"], "y": [1, 2, 3]}), "y", time="t")
    with pytest.raises(LstmkitError, match="duplicate timestamp 2024-01-02T00:00:00 in time column 't'"):
        prepare_series(pd.DataFrame({"t": ["2024-01-02", "2024-01-01", "2024-01-02", "2024-01-03"],
                                     "y": [1, 2, 3, 4]}), "y", time="t")
    with pytest.raises(LstmkitError, match="time column 't' has 1 empty cells"):
        prepare_series(pd.DataFrame({"t": ["2024-01-01", None], "y": [1, 2]}), "y", time="t")


def test_irregular_gaps_warn_not_fail():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-06", "2024-01-07", "2024-01-09"])
    df = pd.DataFrame({"t": days, "y": np.arange(6.0)})
    with pytest.warns(UserWarning, match="2 irregular gaps"):
        s = prepare_series(df, "y", time="t")
    assert s.gaps == 2 and s.freq is None and s.summary()["gaps"] == 2
    months = pd.DataFrame({"t": pd.date_range("2024-01-31", periods=12, freq="ME"), "y": np.arange(12.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = prepare_series(months, "y", time="t")
    assert s.gaps == 0 and s.freq == "ME"


# -- splits ----------------------------------------------------------------------------------
def test_split_sizes_values():
    assert split_sizes(100, 10, 1) == (70, 15, 15)
    assert split_sizes(1000, 60, 12, val_frac=0.1, test_frac=0.2) == (700, 100, 200)
    assert split_sizes(50, 5, 1, val_frac=0.0, test_frac=0.2) == (40, 0, 10)


def test_split_sizes_too_short_gives_exact_minimum():
    with pytest.raises(LstmkitError) as e:
        split_sizes(10, 10, 2)
    assert "series too short: 10 rows, need at least 18 for lookback 10 + horizon 2 with 70/15/15 splits" in str(e.value)
    assert "--lookback" in str(e.value)
    split_sizes(18, 10, 2)
    with pytest.raises(LstmkitError, match="need at least 18"):
        split_sizes(17, 10, 2)
    # the minimum M is exact: every n >= M passes, M - 1 fails
    for lookback, horizon in [(1, 1), (7, 3), (30, 12), (60, 1)]:
        with pytest.raises(LstmkitError) as e:
            split_sizes(1, lookback, horizon)
        m = int(str(e.value).split("need at least ")[1].split()[0])
        with pytest.raises(LstmkitError):
            split_sizes(m - 1, lookback, horizon)
        for n in range(m, m + 200):
            train, val, test = split_sizes(n, lookback, horizon)
            assert train >= lookback + horizon and val >= horizon and test >= horizon


def test_split_sizes_validation():
    for kwargs, text in [(dict(lookback=0, horizon=1), "`lookback` must be a positive integer, got 0"),
                         (dict(lookback=5, horizon=-1), "`horizon` must be a positive integer, got -1"),
                         (dict(lookback=5, horizon=1, val_frac=-0.1), "`val_frac` must be a fraction"),
                         (dict(lookback=5, horizon=1, val_frac=0.5, test_frac=0.5), "must be below 1")]:
        with pytest.raises(LstmkitError, match=text):
            split_sizes(100, **kwargs)


@pytest.mark.parametrize("n,lookback,horizon", [(100, 10, 1), (200, 24, 6), (57, 5, 3), (40, 1, 1)])
def test_split_windows_targets_inside_their_part(n, lookback, horizon):
    n_train, n_val, n_test = split_sizes(n, lookback, horizon)
    parts = split_window_indices(n, lookback, horizon, n_train, n_val)
    bounds = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, n)]
    point = torch.arange(n, dtype=torch.float64).reshape(n, 1)
    x, y = make_windows(point, point, lookback, horizon)
    for idx, (lo, hi) in zip(parts, bounds):
        assert idx.dtype == torch.long and idx.numel() > 0
        targets = y[idx]  # point numbers of each window's targets
        assert targets.min() >= lo and targets.max() < hi
        assert idx.numel() == (hi - lo) - horizon + 1 - (lookback if lo == 0 else 0)  # every eligible window
        assert torch.equal(idx, torch.arange(int(idx[0]), int(idx[-1]) + 1))
    if horizon == 1:
        test_targets = y[parts[2]].flatten().tolist()
        assert test_targets == list(range(n_train + n_val, n))  # each test point exactly once
