import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data.windows import make_windows
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.checks import check_config
from lstmkit.tasks.forecast.data import formatted_numbers, load_table, numeric_column
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.grid import skipped_ahead
from lstmkit.tasks.forecast.panel import read_panel
from lstmkit.tasks.forecast.times import missing_steps
from lstmkit.tasks.forecast.windows import min_points, part_sizes, split_panel


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


def test_a_file_without_a_header_line_keeps_its_first_row(tmp_path, frame):
    """A CSV whose first line is data (a date and a number) is read without a header: the first
    row is kept (pandas would have made it the column names), the columns are named and a
    warning says so; a header of years stays a header."""
    frame[["date", "sales"]].to_csv(tmp_path / "d.csv", index=False, header=False)
    with pytest.warns(UserWarning, match=r"d.csv has no header line \(its first line, '2024-01-01,1.5', is data\): "
                                         r"its columns are named column_1, column_2"):
        df = load_table(tmp_path / "d.csv")
    assert list(df.columns) == ["column_1", "column_2"] and df["column_2"].tolist() == frame["sales"].tolist()
    (tmp_path / "years.csv").write_text("2019,2020\n1.5,2.5\n")
    assert list(load_table(tmp_path / "years.csv").columns) == ["2019", "2020"]


def test_excel_and_json_round_trip(tmp_path, frame):
    """A workbook's first sheet (dates as Excel dates, a formatted empty row dropped; a warning
    names the other sheets), JSON records, columns and lines (gzipped too) read as the CSV does."""
    book = tmp_path / "d.xlsx"
    with pd.ExcelWriter(book) as w:
        frame.assign(date=pd.to_datetime(frame["date"])).to_excel(w, sheet_name="Sales", index=False)
        frame.head(2).to_excel(w, sheet_name="Notes", index=False)
    with pytest.warns(UserWarning, match=r"d.xlsx has 2 sheets: read the first, 'Sales' \(not 'Notes'\)"):
        df = load_table(book)
    assert list(df.columns) == ["date", "sales", "temp", "city"] and df["sales"].tolist() == frame["sales"].tolist()
    assert read_panel(df, ForecastConfig(target=["sales"], time="date")).freq == "D"
    frame.to_json(tmp_path / "r.json", orient="records")
    frame.to_json(tmp_path / "c.json", orient="columns")
    frame.to_json(tmp_path / "l.jsonl", orient="records", lines=True)
    frame.to_json(tmp_path / "l.jsonl.gz", orient="records", lines=True, compression="gzip")
    for name in ("r.json", "c.json", "l.jsonl", "l.jsonl.gz"):
        df = load_table(tmp_path / name)
        assert list(df.columns) == ["date", "sales", "temp", "city"], name
        assert df["sales"].tolist() == frame["sales"].tolist(), name
        np.testing.assert_array_equal(read_panel(df, ForecastConfig(target=["sales"], time="date")).times,
                                      pd.to_datetime(frame["date"]).to_numpy(), err_msg=name)


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


def test_masked_cells_are_missing_values_and_a_tensor_is_its_array():
    """A masked array's masked cells were the values under the mask (a -999 placeholder trained
    and forecast as data); a torch tensor was 'unsupported data type Tensor'."""
    import torch

    y = np.ma.masked_array([1.0, -999.0, 3.0, 4.0], mask=[0, 1, 0, 0])
    np.testing.assert_array_equal(load_table(y)["y"], [1.0, np.nan, 3.0, 4.0])
    rows = np.ma.masked_array([[1, 2], [3, -1]], mask=[[0, 0], [0, 1]])
    assert load_table(rows).to_dict("list") == {"y0": [1.0, 3.0], "y1": [2.0, pytest.approx(np.nan, nan_ok=True)]}
    for tensor, want in ((torch.tensor([1.5, 2.5], requires_grad=True), np.array([1.5, 2.5])),
                         (torch.tensor([[1.0, 2.0], [3.0, 4.0]]).bfloat16(), np.array([[1.0, 2.0], [3.0, 4.0]]))):
        pd.testing.assert_frame_equal(load_table(tensor), load_table(want), check_dtype=False)


def test_a_structured_array_is_the_table_of_its_fields(frame):
    """np.genfromtxt(..., names=True) or df.to_records(index=False) gives a structured array: each
    record was read as one cell of a column 'y', "column 'y' is not numeric: found '(…, 1.5, …)'"."""
    records = frame.to_records(index=False)
    pd.testing.assert_frame_equal(load_table(records), load_table(frame))
    plain = read_panel(load_table(frame), ForecastConfig(target=["sales"], time="date"))
    got = read_panel(load_table(records.view(np.ndarray)), ForecastConfig(target=["sales"], time="date"))
    np.testing.assert_array_equal(got.times, plain.times)
    np.testing.assert_array_equal(got.values, plain.values)


def test_columns_of_several_levels_are_one_error_asking_to_flatten_them(frame):
    """groupby().agg(['mean', 'max']) gives columns of two levels: the error was "target column
    'sales' not found, available columns: ('x', 'date'), ...", whose fix names no way to name one."""
    stacked = frame.set_axis(pd.MultiIndex.from_product([["x"], frame.columns]), axis=1)
    with pytest.raises(LstmkitError, match=r"the columns of the DataFrame have 2 levels \(\('x', 'date'\), "
                                           r"\('x', 'sales'\), \('x', 'temp'\), …\): a column is named by one text "
                                           r"— flatten them first \(pandas: df.columns = "):
        Forecaster(horizon=1).check(stacked, target="sales", time="date")


def test_load_errors(tmp_path):
    with pytest.raises(LstmkitError, match="file not found: .*nope.csv — check the path"):
        load_table(tmp_path / "nope.csv")
    with pytest.raises(LstmkitError, match="is a directory"):
        load_table(tmp_path)
    (tmp_path / "d.ods").write_text("x")
    with pytest.raises(LstmkitError, match=r"unknown file type '.ods'.*\.csv.*\.parquet.*\.xlsx.*\.jsonl"):
        load_table(tmp_path / "d.ods")
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(LstmkitError, match=r"could not read .*d.xlsx as an Excel workbook: .*save the sheet as CSV"):
        load_table(tmp_path / "d.xlsx")
    (tmp_path / "d.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(LstmkitError, match=r"d.xls is an Excel 97-2003 workbook \(.xls\) — save it as .xlsx"):
        load_table(tmp_path / "d.xls")
    (tmp_path / "d.json").write_text("{not json")
    with pytest.raises(LstmkitError, match=r"could not read .*d.json: .* valid JSON file \(records"):
        load_table(tmp_path / "d.json")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(LstmkitError, match="file is empty"):
        load_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(LstmkitError, match="header.csv has a header but no data rows"):
        load_table(tmp_path / "header.csv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(LstmkitError, match="could not read .*bad.parquet.*valid Parquet"):
        load_table(tmp_path / "bad.parquet")
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\xff\xfe\x00,1\n")
    with pytest.raises(LstmkitError, match="bin.csv is not a text file"):
        load_table(tmp_path / "bin.csv")
    with pytest.raises(LstmkitError, match="no rows"):
        load_table(pd.DataFrame({"a": []}))


# -- reading one series (read_panel: a single series is a panel of one) ------------------------
def prepare(df, target, time=None, features=None, fill=None, need=None, fitting=True, **cfg):
    """The one reader on a table without an id column, as ``fit`` calls it (``fitting`` False: as predict does)."""
    c = Forecaster(target=target, time=time, features=features or [], fill=fill, **cfg).config   # "a, b" -> list
    check_config(c)
    return read_panel(df, c, need=need, fitting=fitting)


def test_prepare_basic(frame):
    shuffled = frame.iloc[[3, 0, 5, 1, 4, 2]]
    s = prepare(shuffled, target="sales", time="date", features="temp")
    np.testing.assert_array_equal(s.values[:, 0], frame["sales"].to_numpy())  # sorted by time
    np.testing.assert_array_equal(s.past[:, 0], frame["temp"].to_numpy())     # features: past covariates
    assert s.values.dtype == np.float64 and s.past.shape == (6, 1)
    assert s.freq == "D" and s.ids == ["series"] and s.series_time(0)[0] == pd.Timestamp("2024-01-01")
    summary = json.loads(json.dumps(s.summary()))
    assert summary["rows"] == 6 and summary["series"] == 1 and summary["freq"] == "D" and summary["n_filled"] == 0


def test_target_and_feature_forms(frame):
    s = prepare(frame, target="sales, temp")
    assert s.target_names == ["sales", "temp"] and s.values.shape == (6, 2) and s.past.shape == (6, 0)
    assert s.times is None and s.freq is None
    s = prepare(frame, target=["temp"], features=["sales", "temp"])
    assert s.past_names == ["sales"]  # targets are inputs already
    np.testing.assert_array_equal(s.values[:, 0], [10, 11, 12, 13, 14, 15])
    with pytest.raises(LstmkitError, match="target= names 'sales' twice"):   # was a torch shape traceback
        Forecaster(max_epochs=1).fit(frame, target="sales,sales")


def test_datetime_index_used_when_no_time_column():
    df = pd.DataFrame({"y": [3.0, 1.0, 2.0]}, index=pd.to_datetime(["2024-03-03", "2024-03-01", "2024-03-02"]))
    s = prepare(df, ["y"])
    assert s.values[:, 0].tolist() == [1.0, 2.0, 3.0] and s.freq == "D"


def test_pandas_periods_and_an_id_date_index_read_as_times():
    """A monthly PeriodIndex (statsmodels' datasets, resample), a period column and an (id, date)
    index from a groupby were read as no time at all: season 1, forecasts without dates."""
    y = 10 + np.sin(2 * np.pi * np.arange(60) / 12)
    months = pd.period_range("2000-01", periods=60, freq="M")
    for data in (pd.Series(y, index=months, name="y"), pd.DataFrame({"month": months, "y": y})):
        est = Forecaster(horizon=2, max_epochs=1, hidden_size=4, ensemble=1).fit(data)
        assert est.season_ == 12 and est.data_summary_["freq"] == "MS"
        assert est.predict(data).iloc[0, 0] == pd.Timestamp("2005-01-01")
    stacked = pd.DataFrame({"y": np.r_[y, y + 1]}, index=pd.MultiIndex.from_arrays(
        [["a"] * 60 + ["b"] * 60, [*months.to_timestamp()] * 2], names=["shop", "date"]))
    est = Forecaster(horizon=2, max_epochs=1, hidden_size=4, ensemble=1).fit(stacked, id="shop")
    assert est.config_.time == "date" and est.series_ids_ == ["a", "b"] and est.season_ == 12
    # the many-series lookback, 60, fits neither 60-month series: the one-series rule for the median one
    assert est.config_.lookback == 24 and "most too short for 60" in est.auto_["lookback"]["why"]


def test_year_and_month_columns_are_the_time(tmp_path):
    """A statistics office's 'Year, Month, Sales' (statsmodels' macrodata: year, quarter, ...) had
    no time column: the year and month were two more numeric columns ('3 numeric columns')."""
    t = np.arange(72)
    df = pd.DataFrame({"Year": 2010 + t // 12, "Month": t % 12 + 1, "Sales": 100 + 10 * np.sin(2 * np.pi * t / 12) + t})
    df.to_csv(tmp_path / "ym.csv", index=False)
    est = Forecaster(horizon=2, max_epochs=1, hidden_size=4, ensemble=1).fit(tmp_path / "ym.csv")
    assert est.config_.time == "Year,Month" and est.config_.target == ["Sales"] and est.season_ == 12
    ahead = est.predict(tmp_path / "ym.csv")               # written as it was read: a year and a month column
    assert list(ahead.columns[:3]) == ["Year", "Month", "step"] and ahead[["Year", "Month"]].values.tolist() == [
        [2016, 1], [2016, 2]]
    quarters = pd.DataFrame({"year": 2000 + t // 4, "quarter": t % 4 + 1, "gdp": 1.0 + t})
    assert read_panel(quarters, ForecastConfig(target=["gdp"], time="year,quarter")).freq.startswith("QS")
    with pytest.raises(LstmkitError, match=r"time column 'Month' holds 13, not a month \(1-12\)"):
        read_panel(df.assign(Month=t % 12 + 2), ForecastConfig(target=["Sales"], time="Year,Month"))


def test_a_year_by_month_grid_is_named_as_one_monthly_series_and_its_melt_trains(tmp_path):
    """statsmodels' elnino (YEAR, JAN … DEC) was '12 numeric columns … --target JAN; for many series
    side by side … df.melt(…, var_name='series'), then --id series': twelve series, not one monthly
    one. The melt the error names keeps the months as names, which the year,month time reads."""
    import calendar
    years = np.arange(1950.0, 1957.0)                 # floats, as statsmodels keeps them
    t = np.arange(12 * len(years))
    values = (20 + 3 * np.sin(2 * np.pi * t / 12) + 0.01 * t).reshape(len(years), 12)
    months = [calendar.month_abbr[k].upper() for k in range(1, 13)]
    grid = pd.DataFrame(values, columns=months).assign(YEAR=years)[["YEAR", *months]]
    with pytest.raises(LstmkitError, match=r"a row per 'YEAR' and its 12 months in columns \('JAN' … 'DEC'\): one "
                       r"monthly series laid out as a grid, not 12 series — make it one column of values, a row per "
                       r"month: df.melt\(id_vars=\['YEAR'\], var_name='month'\) \(the months may stay names\), then "
                       r"time=\['YEAR', 'month'\], target='value'"):
        Forecaster(horizon=2, max_epochs=1).check(grid)
    quarters = pd.DataFrame({"year": [2000, 2001, 2002], "Q1": [1.0, 2, 3], "Q2": [1.0, 2, 3], "Q3": [1.0, 2, 3],
                             "Q4": [1.0, 2, 3]})
    with pytest.raises(LstmkitError, match=r"its 4 quarters in columns \('Q1' … 'Q4'\): one quarterly series"):
        Forecaster(horizon=2, max_epochs=1).check(quarters)
    grid.melt(id_vars=["YEAR"], var_name="month").to_csv(tmp_path / "long.csv", index=False)
    est = Forecaster(horizon=2, max_epochs=1, hidden_size=4, ensemble=1).fit(tmp_path / "long.csv",
                                                                           time="YEAR,month", target="value")
    assert est.season_ == 12 and est.data_summary_["rows"] == 84
    cfg = ForecastConfig(target=["v"], time="year,quarter")
    named = read_panel(pd.DataFrame({"year": [2000] * 4 + [2001] * 4, "quarter": ["Q1", "q2", "Q3", "Q4"] * 2,
                                     "v": np.arange(8.0)}), cfg)
    assert named.freq.startswith("QS")
    with pytest.raises(LstmkitError, match=r"time column 'month' holds 'Smarch', not a month \(1-12\)"):
        read_panel(pd.DataFrame({"year": [2000, 2000], "month": ["JAN", "Smarch"], "v": [1.0, 2.0]}),
                   ForecastConfig(target=["v"], time="year,month"))


def test_missing_column_lists_existing(frame):
    with pytest.raises(LstmkitError) as e:
        prepare(frame, target="revenue")
    assert "'revenue' not found" in str(e.value) and "date, sales, temp, city" in str(e.value)
    with pytest.raises(LstmkitError, match="features column 'rain' not found"):
        prepare(frame, target="sales", features="temp,rain")
    with pytest.raises(LstmkitError, match="time column 'when' not found"):
        prepare(frame, target="sales", time="when")
    with pytest.raises(LstmkitError, match="no target column given"):
        prepare(frame, target=" , ")


def test_non_numeric_names_column_and_value(frame):
    with pytest.raises(LstmkitError, match="column 'city' is not numeric: found 'a'"):
        prepare(frame, target="sales", features="city")
    df = pd.DataFrame({"y": ["1.5", "2", "n/a?", "4"]})
    with pytest.raises(LstmkitError, match="column 'y' is not numeric: found 'n/a\\?' in data row 3"):
        prepare(df, target="y")
    with pytest.raises(LstmkitError, match="found '°C' in data row 1 .* looks like a second header \\(units\\?\\): delete it"):
        prepare(pd.DataFrame({"y": ["°C", "2", "3"]}), target="y")
    ok = prepare(pd.DataFrame({"y": ["1.5", " 2 ", "3e1"]}), target="y")
    assert ok.values[:, 0].tolist() == [1.5, 2.0, 30.0]


def test_yes_no_columns_read_as_one_and_zero():
    df = pd.DataFrame({"y": np.arange(6.0), "promo": ["yes", "No", "YES", "", "no", "yes"]})
    with pytest.warns(UserWarning, match="column 'promo' holds yes/no: read as 1 and 0"):
        p = prepare(df, target="y", features="promo", fill="ffill")
    assert p.past[:, 0].tolist() == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    with pytest.raises(LstmkitError, match="covariate column 'promo' holds categories, not numbers: 'yes', 'maybe', "
                                           "'no'"):       # a third label: not yes/no, but categories
        prepare(df.assign(promo=["yes", "maybe", "no", "no", "no", "no"]), target="y", features="promo")


def test_true_false_columns_warn_as_yes_no_text_does():
    """A column of True/False (as a CSV's True/False cells, a workbook's or a Parquet file's booleans
    read) is read as 1 and 0 with the warning yes/no text gets, and is no candidate for the implied target."""
    df = pd.DataFrame({"y": np.arange(6.0), "promo": [True, False, True, True, False, True]})
    with pytest.warns(UserWarning, match="column 'promo' holds True/False: read as 1 and 0"):
        p = prepare(df, target="y", features="promo")
    assert p.past[:, 0].tolist() == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    with pytest.warns(UserWarning, match="column 'y' holds True/False: read as 1 and 0"):
        p = prepare(df.assign(y=df["promo"].astype("boolean")), target="y")
    assert p.values[:, 0].tolist() == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    from lstmkit.tasks.forecast.estimator import implied_target
    assert implied_target(df, Forecaster().config)[0] == ["y"]          # as with promo="yes"/"no"


def test_spreadsheet_formatted_numbers_read_with_a_warning(tmp_path):
    """Currency signs, thousands separators, % signs and accountants' parentheses, as a
    spreadsheet exports them, are numbers; a cell that is not one keeps the error."""
    path = tmp_path / "money.csv"
    path.write_text('week,revenue,rate\n2024-01-01,"$1,010.37",10.5%\n2024-01-08,"(2,000)",-3%\n'
                    '2024-01-15,,+0.5 %\n2024-01-22,€12,7%\n')
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        p = prepare(load_table(path), target="revenue", features="rate", fill="ffill")
    assert [str(w.message).split(", without")[0] for w in said] == [
        "column 'revenue' holds formatted numbers ('$1,010.37'): read as 1010.37",
        "column 'rate' holds formatted numbers ('10.5%'): read as 10.5"]
    assert p.values[:, 0].tolist() == [1010.37, -2000.0, -2000.0, 12.0]
    assert p.past[:, 0].tolist() == [10.5, -3.0, 0.5, 7.0]
    with pytest.warns(UserWarning, match=r"column 'y' holds formatted numbers \('1,234'\): read as 1234"):
        assert prepare(pd.DataFrame({"y": ["1,234", "1,000,000"]}), target="y").values[:, 0].tolist() == [1234.0, 1e6]
    for cell in ("1 234", "1,23", "$"):
        with pytest.raises(LstmkitError, match=re.escape(f"column 'y' is not numeric: found '{cell}' in data row 2")):
            prepare(pd.DataFrame({"y": ["$1,000", cell]}), target="y")
    with pytest.raises(LstmkitError, match=re.escape("column 'y' mixes numbers with a unit ('5 apples' in data row 2) "
                                                     "and without ('$1,000' in data row 1)")):
        prepare(pd.DataFrame({"y": ["$1,000", "5 apples"]}), target="y")
    # a typographic minus (U+2212), as Swedish spreadsheets and web tables write it: was 'not numeric'
    with pytest.warns(UserWarning, match="column 'y' holds formatted numbers \\('\u22120.5'\\): read as -0.5"):
        assert prepare(pd.DataFrame({"y": ["\u22120.5", "2", "\u2212$1,000"]}), target="y").values[:, 0].tolist() == [
            -0.5, 2.0, -1000.0]


def test_empty_cells_error_by_default():
    df = pd.DataFrame({"y": [1.0, np.nan, 3.0, np.nan], "x": [1.0, 2.0, np.nan, 4.0]})
    with pytest.raises(LstmkitError) as e:
        prepare(df.iloc[:3], target="y", features="x")
    msg = str(e.value)
    assert "column 'y' of series 'series' (1 of 3 rows)" in msg and "train with --fill ffill|interpolate" in msg
    with pytest.raises(LstmkitError, match="column 'x' of series 'series' \\(1 of 4 rows\\)"):
        prepare(df.assign(y=1.0), target="y", features="x")
    with pytest.raises(LstmkitError, match="unknown fill mode 'mean'.*ffill, interpolate, zero"):
        prepare(df, target="y", fill="mean")
    assert prepare(df.iloc[:3], target="y", features="x", fill="zero").values[:, 0].tolist() == [1.0, 0.0, 3.0]
    for need in (None, 10):
        with pytest.raises(LstmkitError, match="the target column 'y' has no values — choose --target columns"):
            prepare(pd.DataFrame({"y": [np.nan] * 20, "x": 1.0}), "y", need=need)
    with pytest.raises(LstmkitError, match="covariate column 'x' is empty in all 2 rows"):     # --fill cannot fill it
        prepare(pd.DataFrame({"y": [1.0, 2.0], "x": [np.nan, np.nan]}), "y", features="x", fill="ffill")


def test_trailing_empty_targets_are_future_rows_not_gaps():
    df = pd.DataFrame({"y": [1.0, 2.0, np.nan], "x": [1.0, 2.0, 3.0]})
    s = prepare(df, target="y", features="x")
    assert s.values[:, 0].tolist() == [1.0, 2.0] and len(s.ahead_future[0]) == 1


def test_fill_modes_values():
    df = pd.DataFrame({"y": [np.nan, 2.0, np.nan, np.nan, 8.0, 9.0]})
    s = prepare(df, target="y", fill="ffill")
    assert s.values[:, 0].tolist() == [2.0, 2.0, 2.0, 2.0, 8.0, 9.0] and s.n_filled == 3
    s = prepare(df, target="y", fill="interpolate", fitting=False)
    assert s.values[:, 0].tolist() == [2.0, 2.0, 4.0, 6.0, 8.0, 9.0] and s.summary()["n_filled"] == 3
    s = prepare(df, target="y", fill="interpolate")      # a fit's training part is the first 4 rows: carried forward
    assert s.values[:, 0].tolist() == [2.0, 2.0, 2.0, 2.0, 8.0, 9.0] and s.summary()["n_filled"] == 3


def test_fill_runs_in_time_order():
    df = pd.DataFrame({"t": ["2024-01-03", "2024-01-01", "2024-01-02", "2024-01-04"], "y": [3.0, 1.0, np.nan, 4.0]})
    s = prepare(df, target="y", time="t", fill="ffill")
    assert s.values[:, 0].tolist() == [1.0, 1.0, 3.0, 4.0]


def test_time_errors():
    with pytest.raises(LstmkitError, match="time column 't' could not be read as dates: found 'soon'"):
        prepare(pd.DataFrame({"t": ["2024-01-01", "soon", "2024-01-03"], "y": [1, 2, 3]}), "y", time="t")
    with pytest.raises(LstmkitError, match="time 2024-01-02T00:00:00 appears more than once in column 't'"):
        prepare(pd.DataFrame({"t": ["2024-01-02", "2024-01-01", "2024-01-02", "2024-01-03"],
                              "y": [1, 2, 3, 4]}), "y", time="t")
    hours = pd.date_range("2024-10-26 20:00", periods=12, freq="h", tz="Europe/Berlin").tz_localize(None)
    local = pd.DataFrame({"t": hours.strftime("%Y-%m-%d %H:%M"), "y": np.arange(12.0)})
    with pytest.raises(LstmkitError, match=r"time 2024-10-27T02:00:00 appears more than once in column 't' \(1 "
                                           r"duplicated rows\): local time shows that hour twice when clocks go back "
                                           r"\(as in Europe/Berlin\) — name the zone they were written in, --time-zone "
                                           r"Europe/Berlin \(Python: time_zone='Europe/Berlin'\), say"):
        prepare(local, "y", time="t")
    # the fix it names reads every row, the repeated hour in file order: 12 instants an hour apart
    p = prepare(local, "y", time="t", time_zone="Europe/Berlin")
    assert len(p.times) == 12 and p.values[:, 0].tolist() == list(range(12))
    with pytest.raises(LstmkitError, match="time column 't' has 1 empty cells"):
        prepare(pd.DataFrame({"t": ["2024-01-01", None], "y": [1, 2]}), "y", time="t")


def test_irregular_gaps_warn_not_fail():
    stamps = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00", "2024-01-01 04:30",
                             "2024-01-01 05:30", "2024-01-01 07:15"])         # steps fit no grid
    df = pd.DataFrame({"t": stamps, "y": np.arange(6.0)})
    with pytest.warns(UserWarning, match="2 irregular gaps"):
        s = prepare(df, "y", time="t")
    assert s.freq is None and s.summary()["freq"] is None
    months = pd.DataFrame({"t": pd.date_range("2024-01-31", periods=12, freq="ME"), "y": np.arange(12.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = prepare(months, "y", time="t")
    assert s.freq == "ME"


def test_steps_that_vary_without_a_gap_warn_for_dates_and_integer_times():
    steps = np.random.default_rng(0).integers(1, 4, 59)                   # 1-3 at random: median 2, no gap
    ticks = np.r_[0, np.cumsum(steps)]
    y = np.sin(np.arange(60) / 5)
    with pytest.warns(UserWarning, match=r"time column 't' steps vary from 1 to 3 \(median 2; \d+ of 59 steps differ "
                                         r"from it\): the model treats rows as equal steps and dates its forecasts 2 "
                                         r"apart from the last time — resample to a regular grid \(pandas: "
                                         rf"df.set_index\('t'\).reindex\(range\(0, {ticks[-1] + 1}, 1\)\)"):
        prepare(pd.DataFrame({"t": ticks, "y": y}), "y", time="t")
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(ticks, unit="D")
    with pytest.warns(UserWarning, match=r"steps vary from 1 day to 3 days \(median 2 days; .*resample\('1D'\)"):
        s = prepare(pd.DataFrame({"t": days, "y": y}), "y", time="t")
    assert s.freq is None
    with pytest.warns(UserWarning, match=r"time column 't' has 1 irregular gaps \(steps longer than the typical 2\)"):
        prepare(pd.DataFrame({"t": [0, 2, 4, 6, 8, 18, 20, 23, 25], "y": np.arange(9.0)}), "y", time="t")
    with warnings.catch_warnings():                                       # equal steps, and months: no warning
        warnings.simplefilter("error")
        prepare(pd.DataFrame({"t": np.arange(60) * 7, "y": y}), "y", time="t")
        prepare(pd.DataFrame({"t": pd.date_range("2001-01-01", periods=60, freq="MS"), "y": y}), "y", time="t")


def _uneven_table(n_series=6, uneven=4, dated=False):
    """A long table of ``n_series`` series whose first ``uneven`` step 1-3 at random (median 2), the
    others by 2."""
    parts = []
    for k in range(n_series):
        steps = np.random.default_rng(k).integers(1, 4, 59) if k < uneven else np.full(59, 2)
        ticks = np.r_[0, np.cumsum(steps)]
        t = pd.Timestamp("2024-01-01") + pd.to_timedelta(ticks, unit="D") if dated else ticks
        parts.append(pd.DataFrame({"id": f"s{k}", "t": t, "y": np.sin(np.arange(60) / 5 + k)}))
    return pd.concat(parts, ignore_index=True)


def _said(df, **cfg):
    """The messages of the warnings reading ``df`` gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_panel(df, ForecastConfig(target=["y"], time="t", horizon=1, **cfg))
    return [str(w.message) for w in caught]


def test_many_series_whose_steps_vary_warn_once_naming_a_few():
    # integer times: four of six series step 1-3 at random; one warning for the table, three named, one counted
    (line,) = _said(_uneven_table(), id="id")
    assert re.match(r"time column 't' steps unevenly in 4 of 6 series \('s0': 1 to 3, median 2; 's1': 1 to 3, "
                    r"median 2; 's2': 1 to 3, median 2; and 1 more\): the model treats rows as equal steps", line), line
    assert "'s3'" not in line and "'s4'" not in line
    assert ("df.set_index('t').groupby('id').apply(lambda g: g.reindex(range(g.index[0], g.index[-1] + 1, 1)))"
            ".reset_index()") in line and "--time none" in line
    (line,) = _said(_uneven_table(dated=True), id="id")                  # dates: named as days, resampled daily
    assert line.startswith("time column 't' steps unevenly in 4 of 6 series ('s0': 1 day to 3 days, median 2 days;")
    assert "df.set_index('t').groupby('id').resample('1D').mean().reset_index()" in line
    (line,) = _said(_uneven_table(n_series=2, uneven=2), id="id")
    assert "in each of the 2 series ('s0': 1 to 3, median 2; 's1': 1 to 3, median 2)" in line
    gaps = _uneven_table(n_series=3, uneven=0)
    gaps.loc[gaps["id"] == "s1", "t"] += np.r_[np.zeros(30, int), np.full(30, 5)]    # one jump of 7 in 2s: no grid
    (line,) = _said(gaps, id="id")
    assert "in 1 of 3 series ('s1': 1 gap over 1.5x its median 2)" in line
    assert _said(_uneven_table(uneven=0), id="id") == []                 # even steps: nothing said


def test_a_wide_table_whose_steps_vary_warns_once_and_resamples_its_time_column():
    ticks = _uneven_table(n_series=1, uneven=1)["t"].to_numpy()
    wide = pd.DataFrame({"t": ticks, "a": np.arange(60.0), "b": np.arange(60.0) ** 0.5})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_panel(wide, ForecastConfig(time="t", format="wide", horizon=1))
    (line,) = [str(w.message) for w in caught]
    assert "steps unevenly in each of the 2 series ('a': 1 to 3, median 2; 'b': 1 to 3, median 2)" in line
    assert f"df.set_index('t').reindex(range(0, {ticks[-1] + 1}, 1)).rename_axis('t')" in line


def test_a_trading_calendar_is_even_steps_for_one_series_and_many():
    # weekdays with 11 holidays a year: Friday to Monday is no gap (one series said '58 irregular gaps')
    days = pd.bdate_range("2024-01-01", "2024-12-31").delete(np.arange(5, 262, 24))
    y = np.arange(len(days), dtype=float)
    assert _said(pd.DataFrame({"t": days, "y": y})) == []
    assert _said(pd.DataFrame({"t": np.r_[days, days], "id": np.repeat(["a", "b"], len(days)), "y": np.r_[y, y]}),
                 id="id") == []


def test_missing_steps_finds_the_grid():
    days = pd.date_range("2024-01-01", periods=20, freq="D").to_numpy()
    assert missing_steps(days) is None                                       # nothing missing
    np.testing.assert_array_equal(missing_steps(np.delete(days, [3, 4, 9])), days)
    weekdays = pd.bdate_range("2024-01-01", periods=30).to_numpy()
    assert missing_steps(weekdays) is None                                   # Friday -> Monday is no gap
    np.testing.assert_array_equal(missing_steps(np.delete(weekdays, [7, 8])), weekdays)
    # one holiday of any span: three weeks of an exchange's days across Thanksgiving (1 of 16, over 4.5 %)
    fall = pd.bdate_range("2016-11-15", "2016-12-06")
    assert missing_steps(fall.drop(pd.Timestamp("2016-11-24")).to_numpy()) is None
    np.testing.assert_array_equal(missing_steps(fall.delete([3, 7]).to_numpy()), fall)   # two of 16: gaps
    week = pd.bdate_range("2016-11-14", periods=5).as_unit("ns")             # no weekend crossed: a gap
    np.testing.assert_array_equal(missing_steps(week.delete(2).to_numpy()), week.to_numpy())
    year = pd.bdate_range("2024-01-01", "2024-12-31")                        # 262 weekdays
    assert missing_steps(year.delete(np.arange(5, 262, 24)).to_numpy()) is None   # 11 holidays: a trading calendar
    assert len(missing_steps(year.delete(np.arange(5, 262, 12)).to_numpy())) == 262   # 22 missing: gaps
    days = pd.bdate_range("2024-01-01", periods=200)                         # up to 4.5 % of them: 9 of 200
    assert missing_steps(days.delete(np.arange(10, 190, 20)).to_numpy()) is None          # 9 holidays
    assert len(missing_steps(days.delete(np.arange(10, 200, 19)).to_numpy())) == 200      # 10 missing: gaps
    for freq in ("MS", "ME", "QS", "YE"):                                    # steps of unequal length
        grid = pd.date_range("2001-01-01", periods=24, freq=freq).as_unit("ns").to_numpy()
        assert missing_steps(grid) is None
        np.testing.assert_array_equal(missing_steps(np.delete(grid, [5, 6])), grid)
    np.testing.assert_array_equal(missing_steps(np.array([0, 2, 4, 8, 10])), [0, 2, 4, 6, 8, 10])
    assert missing_steps(np.array([1, 2, 3, 50])) is None                    # sparse: not a series with holes
    assert missing_steps(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:30"]).to_numpy()) is None
    # a shop open Monday to Saturday: the Wednesday it has no row for is missing, whatever its Sundays are
    shop = pd.date_range("2024-03-04", periods=21, freq="D")
    shop = shop[shop.day_of_week < 6]
    assert pd.Timestamp("2024-03-13") in pd.DatetimeIndex(missing_steps(shop.delete(8).as_unit("ns").to_numpy()))
    # month starts but for 20 March: no calendar grid holds every time, so none is offered
    assert missing_steps(pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-03-20", "2024-05-01", "2024-06-01"])
                         .as_unit("ns").to_numpy()) is None


def test_missing_dates_filled_with_fill_and_named_without():
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    y = 10 + np.sin(2 * np.pi * np.arange(40) / 7)
    keep = np.setdiff1d(np.arange(40), [5, 6, 20])
    df = pd.DataFrame({"date": days[keep].strftime("%Y-%m-%d"), "y": y[keep]})
    with pytest.warns(UserWarning, match=r"skips 3 steps of its regular grid, the first 2024-01-06.*--fill interpolate"):
        as_is = prepare(df, "y", time="date")
    assert as_is.lengths.tolist() == [37] and as_is.freq is None
    for fill, inserted in (("interpolate", (y[4] + 2 * (y[7] - y[4]) / 3)), ("zero", 0.0), ("ffill", y[4])):
        with pytest.warns(UserWarning, match=rf"rows were inserted for them and filled \({fill}\)"):
            p = prepare(df, "y", time="date", fill=fill)
        assert p.lengths.tolist() == [40] and p.freq == "D" and p.n_inserted == 3 and p.summary()["n_inserted"] == 3
        np.testing.assert_array_equal(p.times, days.as_unit("ns").to_numpy())
        np.testing.assert_allclose(p.values[keep, 0], y[keep])
        assert p.values[6, 0] == pytest.approx(inserted)


def test_the_hour_local_clocks_skip_in_spring_is_named_as_such():
    """A logger's local times skip 02:00 on 31 March: the warning said only 'skips 1 step', and
    its fix (--fill) invents an hour that never was."""
    local = pd.date_range("2024-03-30", periods=60, freq="h", tz="Europe/Berlin").tz_localize(None)
    df = pd.DataFrame({"time": local.strftime("%Y-%m-%d %H:%M"), "y": np.arange(60.0)})
    with pytest.warns(UserWarning, match=r"the first 2024-03-31T02:00:00 \(local time skips that hour when clocks go "
                                         r"forward, as in Europe/Berlin: times in UTC or with their UTC offset skip none, "
                                         r"and so do local times read with the zone they were written in, --time-zone "
                                         r"Europe/Berlin \(Python: time_zone='Europe/Berlin'\), say\)"):
        prepare(df, "y", time="time")
    with warnings.catch_warnings():                  # the zone it names: no step skipped, no warning
        warnings.simplefilter("error")
        assert len(prepare(df, "y", time="time", time_zone="Europe/Berlin").times) == 60
    hours = pd.date_range("2024-03-30", periods=60, freq="h").delete(30)            # 06:00 on the 31st: missing
    with pytest.warns(UserWarning, match=r"the first 2024-03-31T06:00:00: windows span the gaps") as got:
        prepare(pd.DataFrame({"time": hours.strftime("%Y-%m-%d %H:%M"), "y": np.arange(59.0)}), "y", time="time")
    assert not any("clocks" in str(w.message) for w in got)


def test_missing_dates_of_many_series_warn_once():
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    df = pd.concat([pd.DataFrame({"id": k, "date": days[keep], "y": np.arange(30.0)[keep]})
                    for k, keep in (("a", np.r_[0:10, 12:30]), ("b", np.arange(30)), ("c", np.r_[0:25, 26:30]))])
    cfg = ForecastConfig(target=["y"], id="id", time="date")
    with pytest.warns(UserWarning, match=r"skips 3 steps of its regular grid in 2 series \(e.g. 'a': 2\)") as got:
        read_panel(df, cfg)
    assert sum("regular grid" in str(w.message) for w in got) == 1
    with pytest.warns(UserWarning, match="filled"):
        p = read_panel(df, ForecastConfig(target=["y"], id="id", time="date", fill="interpolate"))
    assert p.lengths.tolist() == [30, 30, 30]
    np.testing.assert_allclose(p.values[:, 0], np.tile(np.arange(30.0), 3))    # a line interpolates to itself



def test_a_fit_fills_the_gaps_of_each_part_from_that_part_and_those_before_it():
    # 20 points split 14/3/3; the last two training points and the last validation point are empty, and
    # the parts after them are 1,000 times larger: a fit's filled values (what the scaler is fitted on, the
    # validation windows read) must not move with them, as predict's fill of the whole history may
    y = np.arange(20.0)
    y[[12, 13, 16, 18]] = np.nan
    big = y.copy()
    big[14:] *= 1000
    cfg = ForecastConfig(target=["y"], fill="interpolate", val_frac=0.15, test_frac=0.15, horizon=1)
    assert part_sizes(20, cfg) == (14, 3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = [read_panel(pd.DataFrame({"y": v}), cfg).values[:, 0] for v in (y, big)]
        used = read_panel(pd.DataFrame({"y": y}), cfg, fitting=False).values[:, 0]
    np.testing.assert_array_equal(fitted[0][:14], fitted[1][:14])
    assert fitted[0][12] == fitted[0][13] == 11.0               # carried forward from the training part
    assert fitted[0][16] == 15.0 and fitted[1][16] == 15000.0   # the validation part reads no test value
    assert fitted[0][18] == 17.0                                # the scored parts carry values forward
    assert used[12] == 12.0 and used[16] == 16.0 and used[18] == 18.0    # predict's history: interpolated


# -- the split rule (lstmkit.tasks.forecast.windows) -------------------------------------------
def _cfg(lookback, horizon, **kw):
    c = ForecastConfig(target=["y"], lookback=lookback, horizon=horizon, **kw)
    check_config(c)
    return c


def test_split_sizes_values():
    assert part_sizes(100, _cfg(10, 1)) == (70, 15, 15)
    assert part_sizes(1000, _cfg(60, 12, val_frac=0.1, test_frac=0.2)) == (700, 100, 200)
    assert part_sizes(50, _cfg(5, 1, val_frac=0.0, test_frac=0.2)) == (40, 0, 10)
    assert part_sizes(100, _cfg(10, 4, test_size=10)) == (86, 4, 10)              # sizes: points
    assert part_sizes(100, _cfg(10, 4, id="store")) == (92, 4, 4)                  # many series: a horizon each


def test_split_too_short_names_the_part_under_a_horizon_not_the_lookback():
    # sktime's half-hourly solar series (289 points, --horizon 48): 15 % is 43 validation points, and the
    # error told the user to shorten the lookback that the defaults had chosen
    y = lambda n: pd.DataFrame({"y": np.sin(np.arange(float(n)))})
    with pytest.raises(LstmkitError) as e:
        prepare(y(60), "y", lookback=4, horizon=10, test_frac=0.2, need=min_points(_cfg(4, 10, test_frac=0.2)))
    assert "its validation part (15 % = 9 points) holds less than one horizon" in str(e.value)
    assert e.value.hint.startswith("pass --val-frac 0.16 (at least 10 points each)")
    assert "--lookback" not in e.value.hint
    prepare(y(60), "y", lookback=4, horizon=10, test_frac=0.2, val_frac=0.16,
            need=min_points(_cfg(4, 10, test_frac=0.2, val_frac=0.16)))         # the fix it names splits
    with pytest.raises(LstmkitError) as e:                                     # both parts short: both named
        prepare(y(40), "y", lookback=4, horizon=7, need=min_points(_cfg(4, 7)))
    assert ("validation part (15 % = 6 points) and test part (15 % = 6 points) hold less than one horizon"
            in str(e.value))
    assert e.value.hint.startswith("pass --val-frac 0.17 --test-frac 0.17")
    prepare(y(40), "y", lookback=4, horizon=7, val_frac=0.17, test_frac=0.17,
            need=min_points(_cfg(4, 7, val_frac=0.17, test_frac=0.17)))


def test_a_part_is_named_under_a_horizon_only_where_the_training_part_holds_a_window_beside_it():
    """``_parts_below_horizon``: a validation or test part its fraction makes shorter than one horizon, named when
    the training part holds lookback + horizon with each such part grown to a horizon (exactly: 60 points, test
    part 12, validation 9 grown to 10, lookback 28 + horizon 10 = 38); none where it does not (then more data is
    the fix), none for a part of 0 %, none at exactly a horizon, sizes rounded as the split rounds them."""
    from lstmkit.tasks.forecast.panel import _parts_below_horizon
    assert _parts_below_horizon(60, _cfg(28, 10, test_frac=0.2)) == [("validation", 9, "val_frac")]
    assert _parts_below_horizon(60, _cfg(29, 10, test_frac=0.2)) == []          # 60 - 10 - 12 < 39
    assert _parts_below_horizon(60, _cfg(40, 10, val_frac=0.0, test_frac=0.1)) == [("test", 6, "test_frac")]
    assert _parts_below_horizon(60, _cfg(4, 9, test_frac=0.1)) == [("test", 6, "test_frac")]    # 9: a horizon
    assert _parts_below_horizon(65, _cfg(4, 10)) == []                          # 15 %: 9.75 points, split as 10
    assert _parts_below_horizon(40, _cfg(30, 7)) == []                          # 40 - 7 - 7 < 37
    y = pd.DataFrame({"y": np.sin(np.arange(60.0))})
    c = Forecaster(target="y", lookback=4, horizon=10, test_frac=0.2).config
    with pytest.raises(LstmkitError) as e:                   # predict's data: its fix is the caller's
        read_panel(y, c, need=min_points(c), short_fix="supply more rows")
    assert e.value.hint == "supply more rows" and "less than one horizon" not in str(e.value)
    c = Forecaster(target="y", lookback=4, horizon=10, val_size=20, test_size=20).config
    with pytest.raises(LstmkitError) as e:                   # parts given in points: no fraction to name
        read_panel(y.head(40), c, need=min_points(c))
    assert "its val/test parts" in str(e.value) and "less than one horizon" not in str(e.value)


def test_the_fraction_a_short_part_is_told_to_take_is_the_smallest_that_holds_a_horizon():
    """The fix names the smallest fraction in hundredths whose part, split as ``part_sizes`` splits it, holds
    the horizon: 60 points, horizon 10 take 16 % (9.6 rounds to 10), where 17 % was said."""
    from dataclasses import replace

    from lstmkit.tasks.forecast.panel import frac_for
    assert frac_for(10, 60) == "0.16" and frac_for(7, 40) == "0.17" and frac_for(48, 289) == "0.17"
    cfg = _cfg(1, 1)
    for n in range(8, 400, 7):
        for horizon in range(1, n // 3):
            f = frac_for(horizon, n)
            assert re.fullmatch(r"0\.\d\d?", f), (n, horizon, f)
            assert part_sizes(n, replace(cfg, val_frac=float(f)))[1] >= horizon, (n, horizon, f)
            below = (round(100 * float(f)) - 1) / 100                  # the hundredth below it
            assert part_sizes(n, replace(cfg, val_frac=below))[1] < horizon, (n, horizon, f)


def test_split_sizes_too_short_gives_exact_minimum():
    y = lambda n: pd.DataFrame({"y": np.arange(float(n))})
    with pytest.raises(LstmkitError) as e:
        prepare(y(10), "y", lookback=10, horizon=2, need=min_points(_cfg(10, 2)))
    assert "series too short: 10 rows, need at least 18 for lookback 10 + horizon 2 with 70/15/15 splits" in str(e.value)
    assert "--lookback" in e.value.hint
    prepare(y(18), "y", lookback=10, horizon=2, need=min_points(_cfg(10, 2)))
    with pytest.raises(LstmkitError, match="need at least 18"):
        prepare(y(17), "y", lookback=10, horizon=2, need=min_points(_cfg(10, 2)))
    # the minimum M is exact: every n >= M splits, M - 1 does not
    for lookback, horizon in [(1, 1), (7, 3), (30, 12), (60, 1)]:
        cfg = _cfg(lookback, horizon)
        m = min_points(cfg)
        train, val, test = part_sizes(m - 1, cfg)
        assert train < lookback + horizon or val < horizon or test < horizon
        for n in range(m, m + 200):
            train, val, test = part_sizes(n, cfg)
            assert train >= lookback + horizon and val >= horizon and test >= horizon


def test_split_sizes_validation():
    for kwargs, text in [(dict(lookback=0, horizon=1), "`lookback` must be a positive integer, got 0"),
                         (dict(lookback=5, horizon=-1), "`horizon` must be a positive integer, got -1"),
                         (dict(lookback=5, horizon=1, val_frac=-0.1), "`val_frac` must be a fraction"),
                         (dict(lookback=5, horizon=1, val_frac=0.5, test_frac=0.5), "must be below 1")]:
        with pytest.raises(LstmkitError, match=text):
            _cfg(**kwargs)


@pytest.mark.parametrize("n,lookback,horizon", [(100, 10, 1), (200, 24, 6), (57, 5, 3), (40, 1, 1)])
def test_split_windows_targets_inside_their_part(n, lookback, horizon):
    cfg = _cfg(lookback, horizon)
    panel = read_panel(pd.DataFrame({"y": np.arange(float(n))}), cfg, need=min_points(cfg))
    n_train, n_val, n_test = part_sizes(n, cfg)
    parts = split_panel(panel, cfg)
    bounds = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, n)]
    point = torch.arange(n, dtype=torch.float64).reshape(n, 1)
    x, y = make_windows(point, point, lookback, horizon)
    for (idx, series), (lo, hi) in zip(parts.values(), bounds):
        assert idx.dtype == torch.long and idx.numel() > 0 and (series == 0).all()
        targets = y[idx]  # point numbers of each window's targets
        assert targets.min() >= lo and targets.max() < hi
        assert idx.numel() == (hi - lo) - horizon + 1 - (lookback if lo == 0 else 0)  # every eligible window
        assert torch.equal(idx, torch.arange(int(idx[0]), int(idx[-1]) + 1))
    if horizon == 1:
        test_targets = y[parts["test"][0]].flatten().tolist()
        assert test_targets == list(range(n_train + n_val, n))  # each test point exactly once


# -- what spreadsheets and loggers export --------------------------------------------------------
def _exports(tmp_path, frame):
    """``frame`` (date, sales) as a user's tools write it: name -> path."""
    comma = frame.assign(sales=frame["sales"].map(lambda v: f"{v:g}".replace(".", ",")))
    files = {"semicolon": ("semi.csv", comma.to_csv(sep=";", index=False).encode()),
             "semicolon, decimal points": ("points.csv", frame.to_csv(sep=";", index=False).encode()),
             "tab-separated .csv": ("tab.csv", frame.to_csv(sep="\t", index=False).encode()),
             "Excel Unicode text": ("excel.csv", comma.to_csv(sep="\t", index=False, lineterminator="\r\n")
                                    .encode("utf-16")),
             "UTF-32": ("u32.csv", frame.to_csv(index=False).encode("utf-32")),
             "UTF-8 with BOM": ("bom.csv", frame.to_csv(index=False).encode("utf-8-sig"))}
    for name, raw in files.values():
        (tmp_path / name).write_bytes(raw)
    import gzip
    (tmp_path / "semi.csv.gz").write_bytes(gzip.compress(files["semicolon"][1]))
    return {k: tmp_path / v[0] for k, v in files.items()} | {"semicolon, gzip": tmp_path / "semi.csv.gz"}


def test_spreadsheet_and_logger_exports_read_as_written(tmp_path, frame):
    frame = frame[["date", "sales"]]
    for name, path in _exports(tmp_path, frame).items():
        df = load_table(path)
        assert list(df.columns) == ["date", "sales"], name
        assert df["sales"].tolist() == frame["sales"].tolist(), name
        assert df["date"].tolist() == frame["date"].tolist(), name


def test_empty_spreadsheet_rows_are_skipped(tmp_path, frame):
    """Excel saves rows it once touched as ``,,`` lines: after the data they were 'time column has
    2 empty cells'; they are skipped (a warning only when they sit between data rows)."""
    text = "date,sales,\n" + "".join(f"{d},{v},\n" for d, v in zip(frame["date"], frame["sales"])) + ",,\n,,\n"
    (tmp_path / "trailing.csv").write_text(text)
    cfg = ForecastConfig(target=["sales"], time="date")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = read_panel(tmp_path / "trailing.csv", cfg)
    assert panel.values[:, 0].tolist() == frame["sales"].tolist() and len(panel.times) == 6
    lines = text.splitlines(keepends=True)
    (tmp_path / "inside.csv").write_text("".join(lines[:4] + [",,\n"] + lines[4:]))
    with pytest.warns(UserWarning, match="1 empty row between the data rows skipped"):
        inside = read_panel(tmp_path / "inside.csv", cfg)
    assert inside.values[:, 0].tolist() == frame["sales"].tolist()


def test_a_windows_1252_export_reads_with_a_warning_and_a_binary_one_is_refused(tmp_path, frame):
    """Excel's plain "CSV" on a Western European Windows: Windows-1252 names, semicolons, decimal
    commas. It was 'could not read: utf-8 codec can't decode'."""
    fr = frame[["date", "sales"]].rename(columns={"sales": "Température"})
    text = fr.assign(Température=fr["Température"].map(lambda v: f"{v:g}".replace(".", ","))).to_csv(sep=";", index=False)
    (tmp_path / "fr.csv").write_bytes(text.encode("cp1252"))
    with pytest.warns(UserWarning, match=r"fr.csv is not UTF-8 \(byte 0xe9\): read as Windows-1252"):
        df = load_table(tmp_path / "fr.csv")
    assert list(df.columns) == ["date", "Température"] and df["Température"].tolist() == fr["Température"].tolist()
    (tmp_path / "book.csv").write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")   # an .xlsx renamed
    with pytest.raises(LstmkitError, match=r"book.csv is not a text file"):
        load_table(tmp_path / "book.csv")
    (tmp_path / "odd.csv").write_bytes("a,b\n1,2\n".encode() + b"\x81\x8d,3\n")     # undefined in both
    with pytest.raises(LstmkitError, match=r"neither UTF-8 nor Windows-1252.*save it as UTF-8"):
        load_table(tmp_path / "odd.csv")


def test_ambiguous_decimal_commas_are_named_with_the_fix(tmp_path):
    # a tab file whose every comma could group thousands (1,234) is not guessed at
    (tmp_path / "t.csv").write_text("y\tx\n1,234\t1\n5,678\t2\n1,500\t3\n")
    df = load_table(tmp_path / "t.csv")
    with pytest.raises(LstmkitError, match=r"'1,234' in line 2 \(3 such cells\) is 1234 with a thousands separator, "
                       r"or 1.234 with a decimal comma — .*decimal point \(1.234\)"):
        read_panel(df, ForecastConfig(target=["y"]))


def test_thousands_dots_of_a_semicolon_file_are_named_or_read(tmp_path):
    """A European spreadsheet's semicolon file groups thousands by dots: '1.032' beside '976' was
    read as 1.032 (silently); it is an error naming both readings. Groups that only thousands have
    (1.000.000, a space) read as the numbers they are."""
    days = pd.date_range("2024-01-01", periods=30, freq="D").strftime("%Y-%m-%d")
    sales = [960 + 4 * k for k in range(30)]                                  # 960 ... 1076
    (tmp_path / "de.csv").write_text("date;sales;temp\n" + "".join(
        f"{t};{v:,};{k},5\n".replace(",", ".", v >= 1000) for k, (t, v) in enumerate(zip(days, sales))))
    cfg = ForecastConfig(target=["sales"], time="date")
    with pytest.raises(LstmkitError, match=r"'1.000' in line 12 is 1000 with a thousands separator .*, or 1.000 "
                       r"with a decimal point — write the numbers without thousands separators \(1000\)"):
        read_panel(tmp_path / "de.csv", cfg)
    assert read_panel(tmp_path / "de.csv", ForecastConfig(target=["temp"], time="date")).values[:2, 0].tolist() == [
        0.5, 1.5]                                                             # the other columns read as before
    (tmp_path / "millions.csv").write_text("date;sales\n" + "".join(
        f"{t};{v * 1000:,}\n".replace(",", ".") for t, v in zip(days, sales)))
    assert read_panel(tmp_path / "millions.csv", cfg).values[:, 0].tolist() == [v * 1000.0 for v in sales]
    (tmp_path / "decimals.csv").write_text("date;sales\n" + "".join(f"{t};{v / 8:.3f}\n" for t, v in zip(days, sales)))
    assert read_panel(tmp_path / "decimals.csv", cfg).values[:, 0].tolist() == [v / 8 for v in sales]  # 120.000 ...
    # Excel's "Unicode text" (UTF-16, tabs) in a German locale: decimal commas beside the thousands dots
    unicode_text = (tmp_path / "de.csv").read_text().replace(";", "\t")
    (tmp_path / "de.txt").write_bytes(unicode_text.encode("utf-16"))
    with pytest.raises(LstmkitError, match=r"'1.000' in line 12 is 1000 with a thousands separator"):
        read_panel(tmp_path / "de.txt", cfg)
    (tmp_path / "en.tsv").write_text("date\tsales\n" + "".join(f"{t}\t{v / 1000:g}\n" for t, v in zip(days, sales)))
    assert read_panel(tmp_path / "en.tsv", cfg).values[:, 0].tolist() == [v / 1000 for v in sales]   # 0.96 ... 1.076


def test_a_spreadsheets_totals_row_is_not_trained_as_a_step(tmp_path):
    """A sheet kept in row order (no time column) with its totals row: the total was read as the
    series' last value. Named by its label, or by being the sum of the rows above; a sparse count
    whose last value is the sum of the few non-zero ones above is data."""
    y = [round(100 + 10 * np.sin(k / 3), 1) for k in range(30)]
    cfg = ForecastConfig(target=["sales"])
    frame = pd.DataFrame({"month": [f"m{k}" for k in range(30)], "sales": y})
    labelled = pd.concat([frame, pd.DataFrame({"month": ["Grand Total"], "sales": [1.0]})])
    with pytest.raises(LstmkitError, match=r"the last row \(data row 31\) looks like a summary \(Grand Total\).*"
                       r" — delete that row"):
        read_panel(labelled, cfg)
    two = pd.concat([frame, pd.DataFrame({"month": ["Total", "Average:"], "sales": [1.0, 2.0]})])
    with pytest.raises(LstmkitError, match=r"a row near the end \(data row 31\) looks like a summary \(Total\)"):
        read_panel(two, cfg)
    modes = frame.assign(month=["min", "max", "mean"] * 10)          # a category's values, not a label at the end
    assert read_panel(modes, cfg).values[:, 0].tolist() == y
    (tmp_path / "sum.csv").write_text("sales,note\n" + "".join(f"{v},\n" for v in y) + f"{sum(y):.1f},\n,\n")
    with pytest.raises(LstmkitError, match=rf"the last row \(line 32\) looks like a total \(sales {sum(y):g}: the sum"):
        read_panel(tmp_path / "sum.csv", cfg)                       # the empty line after it is no row
    assert read_panel(frame, cfg).values[:, 0].tolist() == y
    sparse = [0] * 20 + [1, 0, 0, 2, 0, 0, 3]                       # 3 = 1 + 2: an intermittent count
    assert read_panel(pd.DataFrame({"sales": sparse}), cfg).values[:, 0].tolist() == sparse
    days = pd.date_range("2024-01-01", periods=30, freq="D").strftime("%Y-%m-%d").tolist()
    (tmp_path / "dated.csv").write_text("date,sales\n" + "".join(f"{t},{v}\n" for t, v in zip(days, y))
                                        + f",{sum(y):.1f}\n")    # its label in another column, or none
    with pytest.raises(LstmkitError, match=r"time column 'date' is empty in the last row \(line 32\), every other "
                       r"row has a time — delete that row \(a total or a note\?\)"):
        read_panel(tmp_path / "dated.csv", ForecastConfig(target=["sales"], time="date"))


def test_a_european_spreadsheets_currency_and_percent_cells_read(tmp_path):
    """'€ 1.234,50', '900,00 €', '12,5 %' in a semicolon file were 'not numeric'; English formats
    there still read; '€ 1.032' beside '€ 976' (a thousands dot, or a decimal point?) was read as
    1.032, silently, and is the error naming both readings."""
    days = pd.date_range("2024-01-01", periods=4, freq="D").strftime("%Y-%m-%d")
    cells = {"eu": ["€ 1.234,50", "900,00 €", "-€ 3,40", "−2 €"], "pct": ["12,5 %", "0,25%", "100 %", "7 %"],
             "us": ["$1,234.50", "$900.00", "($3.40)", "$2"], "dots": ["€ 976", "€ 1.032", "€ 1.500", "€ 12"]}
    pd.DataFrame({"date": days, **cells}).to_csv(tmp_path / "eu.csv", sep=";", index=False)
    values = {"eu": [1234.5, 900.0, -3.4, -2.0], "pct": [12.5, 0.25, 100.0, 7.0], "us": [1234.5, 900.0, -3.4, 2.0]}
    for c, want in values.items():
        with pytest.warns(UserWarning, match=f"column '{c}' holds formatted numbers"):
            assert read_panel(tmp_path / "eu.csv", ForecastConfig(target=[c], time="date")).values[:, 0].tolist() \
                == want, c
    with pytest.raises(LstmkitError, match=r"'€ 1.032' in line 3 is 1032 with a thousands separator .*, or 1.032 "
                       r"with a decimal point"):
        read_panel(tmp_path / "eu.csv", ForecastConfig(target=["dots"], time="date"))
    assert formatted_numbers(pd.Series(["€ 1.032"])).tolist() == [1.032]     # a comma file: a decimal point
    with pytest.raises(LstmkitError, match=r"found '€ 3,40' .* — write numbers with a decimal point \(10.5\), or save "
                       r"the file separated by semicolons"):                 # was '... or clean those cells'
        numeric_column(pd.Series(["1", "€ 3,40"]), "y")


def test_dates_and_times_of_day_in_two_columns_are_named():
    """A logger's Date and Time columns: --time Date was 'time 2024-01-01T00:00:00 appears more than
    once ... name the column that tells them apart with --id; else aggregate the duplicates'."""
    stamps = pd.date_range("2024-01-01", periods=48, freq="30min")
    frame = pd.DataFrame({"Date": stamps.strftime("%d.%m.%Y"), "Time": stamps.strftime("%I:%M %p"), "y": range(48)})
    with pytest.raises(LstmkitError, match=r"appears more than once in column 'Date' \(47 duplicated rows\): it holds the "
                       r"dates, column 'Time' the times of day — pass both as the time, --time Date,Time \(Python: "
                       r"time=\['Date', 'Time'\]\)"):
        read_panel(frame, ForecastConfig(target=["y"], time="Date"))
    with pytest.raises(LstmkitError, match=r"name the column that tells them apart with --id"):
        read_panel(frame.assign(Time="x"), ForecastConfig(target=["y"], time="Date"))


def test_a_fitted_runs_refusals_of_its_data_name_what_predict_can_do_not_its_training_flags():
    """Two stores' rows given to a one-series run's predict were told to 'name the column that tells them apart
    with --id', a flag predict does not take (the run models one series); Date and Time columns to 'pass both as
    the time, --time Date,Time'; an empty target column to 'choose --target columns'. A fitted run reading the data
    says to pass one series (with its values) or train another run."""
    days = pd.date_range("2024-01-01", periods=6, freq="D")
    two = pd.DataFrame({"date": list(days) * 2, "store": ["a"] * 6 + ["b"] * 6, "y": np.arange(12.0)})
    cfg = ForecastConfig(target=["y"], time="date")
    with pytest.raises(LstmkitError) as e:
        read_panel(two, cfg, fitting=False, run={"freq": "D"})
    assert e.value.hint == ("the run was trained on one series: if the table holds several, pass the rows of the one "
                            "to forecast, or train a run with --id naming the column that tells them apart; else "
                            "aggregate the duplicates first (e.g. groupby(time).mean())")
    with pytest.raises(LstmkitError, match=r"name the column that tells them apart with --id; else"):
        read_panel(two, cfg)                                                     # a fit takes --id
    stamps = pd.date_range("2024-01-01", periods=48, freq="30min")
    frame = pd.DataFrame({"Date": stamps.strftime("%d.%m.%Y"), "Time": stamps.strftime("%I:%M %p"), "y": range(48)})
    with pytest.raises(LstmkitError, match=r"— retrain the run with both as the time, --time Date,Time"):
        read_panel(frame, ForecastConfig(target=["y"], time="Date"), fitting=False, run={})
    empty = two.assign(y=np.nan).iloc[:6]                # predict takes no --target: the run's column is named
    with pytest.raises(LstmkitError, match=r"'y' has no values — pass the history with its values in 'y', the column "
                                           r"the run forecasts$"):
        read_panel(empty, cfg, fitting=False, run={"freq": "D"})
    with pytest.raises(LstmkitError, match=r"'y' has no values — choose --target columns that hold numbers"):
        read_panel(empty, cfg)


def test_swiss_thousands_and_a_minus_after_the_number_read():
    """1'234.50 (Swiss) and 120- / 1.234,50- (SAP's negative amounts) were 'not numeric'."""
    assert formatted_numbers(pd.Series(["1'234.50", "12’345", "120-", "(5)", "7"])).tolist() == [
        1234.5, 12345.0, -120.0, -5.0, 7.0]
    assert formatted_numbers(pd.Series(["1.234,50-", "900,25", "3 €-"]), ";").tolist() == [-1234.5, 900.25, -3.0]
    assert formatted_numbers(pd.Series(["1-2", "1'23", "-"])).isna().all()


def test_percentages_beside_plain_numbers_are_named(tmp_path):
    """'10%' beside '0.11' (one column, cells formatted two ways) read as 10 and 0.11, silently."""
    with pytest.raises(LstmkitError, match=r"column 'y' mixes percentages \('10%' in data row 2\) with plain numbers "
                       r"\('0.11' in data row 1\): is 10% 0.1 or 10\? — format the column one way"):
        numeric_column(pd.Series(["0.11", "10%", "0.12"]), "y")
    days = pd.date_range("2024-01-01", periods=3, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"date": days, "y": ["0,11", "12,5 %", "0,12"]}).to_csv(tmp_path / "eu.csv", sep=";", index=False)
    with pytest.raises(LstmkitError, match=r"mixes percentages \('12,5 %' in line 3\) with plain numbers \('0,11' in "
                       r"line 2\)"):
        read_panel(tmp_path / "eu.csv", ForecastConfig(target=["y"], time="date"))
    with pytest.warns(UserWarning, match="formatted numbers"):
        assert numeric_column(pd.Series(["11%", "10%"]), "y").tolist() == [11.0, 10.0]


def test_numbers_with_a_unit_read_as_the_numbers_and_mixed_units_are_named(tmp_path):
    """A meter's export ('12.5 kWh', '21 °C') was 'not numeric — choose numeric columns'."""
    with pytest.warns(UserWarning, match=r"column 'y' holds numbers with a unit \('10.5 kWh'\): read as 10.5, in kWh"):
        values = numeric_column(pd.Series(["10.5 kWh", "1,200 kWh", None, "-3kWh"]), "y")
    assert values.fillna(0).tolist() == [10.5, 1200, 0, -3]
    # the warning shows the number read, not 6 digits of it: '420,000.5' said 'read as 420000' (read right)
    with pytest.warns(UserWarning, match=r"\('420,000\.5'\): read as 420000\.5, without"):
        assert numeric_column(pd.Series(["420,000.5", "1,234,567.25"]), "y").tolist() == [420000.5, 1234567.25]
    with pytest.warns(UserWarning, match=r"\('1,234,567\.25 kWh'\): read as 1234567\.25, in kWh"):
        assert numeric_column(pd.Series(["1,234,567.25 kWh", "2 kWh"]), "y").tolist() == [1234567.25, 2.0]
    for cells, read in ((["21 °C", "-4°C"], [21.0, -4.0]), (["80 km/h", "5 km/h"], [80.0, 5.0]),
                        (["1e3 m³", "2 m³"], [1000.0, 2.0])):
        with pytest.warns(UserWarning, match="with a unit"):
            assert numeric_column(pd.Series(cells), "y").tolist() == read
    days = pd.date_range("2024-01-01", periods=3, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"date": days, "y": ["0,5 kWh", "12,25 kWh", "1.001,5 kWh"]}).to_csv(tmp_path / "eu.csv", sep=";",
                                                                                     index=False)
    with pytest.warns(UserWarning, match="with a unit"):
        assert read_panel(tmp_path / "eu.csv", ForecastConfig(target=["y"], time="date")).values[:, 0].tolist() == [
            0.5, 12.25, 1001.5]
    with pytest.raises(LstmkitError, match=r"column 'y' mixes units: '12 Wh' in data row 1, '3 kWh' in data row 2 — "
                       "convert the column to one unit"):
        numeric_column(pd.Series(["12 Wh", "3 kWh"]), "y")
    with pytest.raises(LstmkitError, match=r"mixes short numbers \('9.4k' in data row 2: 9400\?\) with numbers "
                       r"written in full \('9350' in data row 1\) — write every number in full \(9400\)"):
        numeric_column(pd.Series(["9350", "9.4k"]), "y")
    with pytest.raises(LstmkitError, match=r"mixes numbers with a unit \('3 kWh' in data row 2\) and without "
                       r"\('12' in data row 1\): is 12 in kWh\?"):
        numeric_column(pd.Series(["12", "3 kWh"]), "y")
    for cells in (["5 Jan", "6 Jan"], ["12,5kg", "3"], ["kWh", "12"]):       # a date, a comma file's decimal, a header
        with pytest.raises(LstmkitError, match="is not numeric"):
            numeric_column(pd.Series(cells), "y")


def test_a_date_column_of_spreadsheet_serial_numbers_is_warned_about():
    """A sheet's dates saved unformatted (45000, 45001, …) were read as step numbers without a
    word, and forecasts came back numbered 45040, …; still steps (they may be), now with a warning."""
    frame = pd.DataFrame({"Date": range(45000, 45030), "y": np.sin(np.arange(30.0))})
    with pytest.warns(UserWarning, match=r"time column 'Date' holds whole numbers \(45000 … 45029\): read as step "
                      r"numbers, not dates; if they are a spreadsheet's serial dates \(45000 is 2023-03-15\)"):
        assert read_panel(frame, ForecastConfig(target=["y"], time="Date")).times[0] == 45000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_panel(frame.rename(columns={"Date": "stage"}), ForecastConfig(target=["y"], time="stage"))
        read_panel(frame.assign(Date=range(30)), ForecastConfig(target=["y"], time="Date"))


def test_subtotal_rows_among_dated_rows_are_named(tmp_path):
    """A sheet's 'Subtotal' row after each month: 'could not be read as dates: found 'Subtotal' —
    use ISO dates such as 2024-01-31'."""
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    lines = [f"{t:%Y-%m-%d},{k}\n" + ("Subtotal,465\n" if t.day == 31 else "") for k, t in enumerate(days)]
    (tmp_path / "months.csv").write_text("date,sales\n" + "".join(lines) + "Grand total,1770\n")
    with pytest.raises(LstmkitError, match=r"time column 'date' holds 'Subtotal' in line 33 \(2 such rows\): a summary "
                       r"row, not a step of the series — delete the summary rows"):
        read_panel(tmp_path / "months.csv", ForecastConfig(target=["sales"], time="date"))


def test_a_pivot_tables_subtotal_rows_are_named(tmp_path):
    """A pivot table's '1991 Total' after each year's months, its 'Grand Total' at the end: was
    'could not be read as dates: found '1991 Total' — use ISO dates', naming no line."""
    months = pd.date_range("1991-01-01", periods=36, freq="MS")
    lines = [f"{t:%Y-%m},{k}\n" + (f"{t.year} Total,{k}\n" if t.month == 12 else "") for k, t in enumerate(months)]
    (tmp_path / "pivot.csv").write_text("Month,Sales\n" + "".join(lines) + "Grand Total,630\n")
    with pytest.raises(LstmkitError, match=r"time column 'Month' holds '1991 Total' in line 14 \(4 such rows\): a "
                       r"summary row, not a step of the series — delete the summary rows"):
        read_panel(tmp_path / "pivot.csv", ForecastConfig(target=["Sales"], time="Month"))


def test_a_summary_label_is_found_in_a_time_column_exactly_as_python_s_regex_finds_it():
    """The labels are looked for only in rows with a character besides a written date's (one whole-column
    match finds those): each row found as Python's case-insensitive regex finds it, Unicode's case folding
    too (a long s is an s), and a summary row among ISO dates still named by its line."""
    from lstmkit.data.columns import SUBTOTAL_LABEL, SUMMARY_WORDS
    from lstmkit.tasks.forecast.times import _summary_labels
    texts = ["2024-01-31", "2024-01-31T13:05:00+01:00", "2024-01-31 13:05Z", "1/2/2024", "20240131", "",
             "Total", "TOTALS", "1991 Total", "Grand total", "Gesamtergebnis", "1991 Ergebnis", "avg.", "Max:",
             "\u017fum", "mean", "Median", "T", "TZ", "Z", "2024 Total", "Jan 2024", "Total 1991", "sum of 2024",
             "totalt", "Store A  Total", "2024-01-31 total", "\u212aelvin", "2024-01-31\tTotal", " "]
    col = pd.Series(texts * 3, dtype="str")
    regex = re.compile(f"{SUMMARY_WORDS}|{SUBTOTAL_LABEL}", re.IGNORECASE)
    assert _summary_labels(col).tolist() == [regex.fullmatch(t) is not None for t in col]
    assert _summary_labels(col)[[6, 7, 8, 14, 20, 26, 28]].all() and not _summary_labels(col)[:6].any()
    times = pd.date_range("2024-01-01", periods=40, freq="D").strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
    frame = pd.DataFrame({"date": times[:20] + ["Sum"] + times[20:], "sales": np.arange(41.0)})
    said = r"time column 'date' holds 'Sum' in data row 21 \(1 such row\): a summary row"
    with pytest.raises(LstmkitError, match=said):
        read_panel(frame, ForecastConfig(target=["sales"], time="date"))


def test_notes_under_the_data_are_named_with_their_lines(tmp_path):
    """A source line and a footnote under the data: was 'could not be read as dates: found
    'Source: …' — use ISO dates such as 2024-01-31 …, or fix that cell', naming no line."""
    days = pd.date_range("2024-01-01", periods=20, freq="D")
    (tmp_path / "noted.csv").write_text("date,sales\n" + "".join(f"{t:%Y-%m-%d},{k}\n" for k, t in enumerate(days))
                                        + "\nSource: shop tills\n* provisional\n")
    with pytest.raises(LstmkitError, match=r"time column 'date' could not be read as dates: its last 2 rows \(from line "
                       r"23\) hold 'Source: shop tills', '\* provisional', every row above them a date — delete those "
                       r"rows \(notes or totals under the data\?\)"):
        read_panel(tmp_path / "noted.csv", ForecastConfig(target=["sales"], time="date"))
    (tmp_path / "typo.csv").write_text("date,sales\n" + "".join(f"{t:%Y-%m-%d},{k}\n" for k, t in enumerate(days))
                                       .replace("2024-01-05", "2024-01-?5"))
    with pytest.raises(LstmkitError, match=r"found '2024-01-\?5' in line 6 — use ISO dates"):
        read_panel(tmp_path / "typo.csv", ForecastConfig(target=["sales"], time="date"))


def test_a_header_line_repeated_in_the_data_is_named(tmp_path):
    """Two exports joined with their headers: 'could not be read as dates: found 'date' — use ISO
    dates' and 'not numeric: found 'sales' ... choose numeric columns'."""
    rows = [f"2024-01-{k:02d},{k}\n" for k in range(1, 21)]
    (tmp_path / "joined.csv").write_text("date,sales\n" + "".join(rows[:10]) + "date,sales\n" + "".join(rows[10:]))
    with pytest.raises(LstmkitError, match=r"time column 'date' holds its own name 'date' in line 12 \(1 such row\): "
                       r"the header line repeated .* — delete the repeated header lines"):
        read_panel(tmp_path / "joined.csv", ForecastConfig(target=["sales"], time="date"))
    with pytest.raises(LstmkitError, match=r"column 'sales' holds its own name 'sales' in line 12 \(1 such cell\)"):
        read_panel(tmp_path / "joined.csv", ForecastConfig(target=["sales"], time=None))


def test_a_spreadsheets_dash_and_formula_errors_are_named():
    """'-' (an accountant's none or zero) and '#DIV/0!' were 'choose numeric columns for the
    target/features, or clean those cells': the column is numeric; the cells say what they are."""
    col = pd.Series(["1", "#DIV/0!", "3", "#value!"], name="y")
    with pytest.raises(LstmkitError, match=r"found '#DIV/0!' in data row 2 \(a formula's error; 2 non-numeric cells\) "
                       r"— fix the formula, or leave the cell empty and train with --fill"):
        numeric_column(col, "y")
    with pytest.raises(LstmkitError, match=r"found '–' in data row 1 \(a dash, for none or for zero; 1 non-numeric "
                       r"cell\) — write 0 where it means zero, or leave the cell empty"):
        numeric_column(pd.Series(["–", "2"]), "y")
    with pytest.raises(LstmkitError, match=r"found 'n\.a\.' .* — choose numeric columns"):
        numeric_column(pd.Series(["1", "n.a."]), "y")
    for cell in ("#NV", "#WERT!", "#VALEUR!", "#¡VALOR!", "#N/D"):     # a German, French, Spanish sheet's: were
        with pytest.raises(LstmkitError, match=rf"found '{re.escape(cell)}' in data row 2 \(a formula's error"):
            numeric_column(pd.Series(["1", cell, "3"]), "y")          # '... — choose numeric columns'


def test_a_header_of_two_rows_is_named(tmp_path):
    """'Sales' merged over 'North' and 'South': the names under it were 'target column 'North' not
    found — available columns: date, Sales, Unnamed: 2', or 'time column 'date' has 1 empty cells'."""
    days = pd.date_range("2024-01-01", periods=20, freq="D").strftime("%Y-%m-%d")
    (tmp_path / "two.csv").write_text("date,Sales,\n,North,South\n" + "".join(f"{t},{k},{2 * k}\n"
                                                                               for k, t in enumerate(days)))
    with pytest.raises(LstmkitError, match=r"target column 'North' not found: it is a cell of the first row under the "
                       r"header \(line 2\), a second header row .* — make the header one row of names"):
        read_panel(tmp_path / "two.csv", ForecastConfig(target=["North"], time="date"))
    with pytest.raises(LstmkitError, match=r"time column 'date' is empty in the first row under the header \(line 2\)"
                       r", every other row has a time: a second header row"):
        read_panel(tmp_path / "two.csv", ForecastConfig(target=["Sales"], time="date"))
    with pytest.raises(LstmkitError, match=r"target column 'Nort' not found \(did you mean 'North'\?\)"):
        read_panel(pd.DataFrame({"date": days, "North": range(20)}), ForecastConfig(target=["Nort"], time="date"))


def test_day_first_and_daylight_saving_files_read_like_iso(tmp_path):
    days = pd.date_range("2020-01-01", periods=60, freq="D")
    y = np.sin(np.arange(60.0))
    cfg = ForecastConfig(target=["y"], time="date")
    iso = read_panel(pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "y": y}), cfg)
    for fmt, sep in [("%d/%m/%Y", ","), ("%d.%m.%Y", ";"), ("%m/%d/%Y", ",")]:
        pd.DataFrame({"date": days.strftime(fmt), "y": y}).to_csv(tmp_path / "d.csv", sep=sep, index=False)
        panel = read_panel(tmp_path / "d.csv", cfg)
        np.testing.assert_array_equal(panel.times, iso.times)
        assert panel.freq == "D" and "time_note" not in panel.summary()
    local = pd.date_range("2020-10-24", periods=72, freq="h", tz="Europe/Berlin")   # DST ends 25 October
    pd.DataFrame({"date": [t.isoformat(sep=" ") for t in local], "y": np.arange(72.0)}).to_csv(tmp_path / "l.csv",
                                                                                             index=False)
    panel = read_panel(tmp_path / "l.csv", cfg)
    assert panel.freq == "h" and panel.times[0] == np.datetime64("2020-10-23T22:00")
    assert "read as UTC (its offsets: +01:00, +02:00)" in panel.summary()["time_note"]


def test_a_column_name_off_by_spaces_or_case_is_suggested(tmp_path):
    pd.DataFrame({"date": ["2020-01-01"], " Y": [1.0]}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(LstmkitError, match=r"target column 'y' not found \(did you mean ' Y'\?\) — available "
                                           r"columns: date,  Y"):
        read_panel(tmp_path / "d.csv", ForecastConfig(target=["y"]))


def test_a_column_named_with_spaces_around_is_found_by_its_name_and_chosen_as_the_target(tmp_path):
    """A sheet's ' Sales' header: names given are stripped, so --target ' Sales' could never find it,
    and left unset the target chosen was 'Sales', then 'not found (did you mean ' Sales'?)'."""
    days = pd.date_range("2020-01-01", periods=30, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"date": days, " Sales": np.arange(30.0)}).to_csv(tmp_path / "d.csv", index=False)
    for target in ("Sales", " Sales"):
        panel = read_panel(tmp_path / "d.csv", ForecastConfig(target=[target], time="date"))
        np.testing.assert_array_equal(panel.values[:, 0], np.arange(30.0))
    Forecaster(lookback=4, horizon=2).check(tmp_path / "d.csv", time="date")     # was 'target column 'Sales' not found'


def test_a_frame_with_two_columns_of_one_name_is_refused(frame):
    dup = frame.assign(x=frame["sales"]).rename(columns={"x": "sales"})
    with pytest.raises(LstmkitError, match="2 columns of the DataFrame are named 'sales'"):
        load_table(dup)
    with pytest.raises(LstmkitError, match="named 'sales'.*drop the copies"):
        Forecaster(lookback=4, horizon=2).check(dup, target="sales", time="date")


def test_the_index_to_csv_writes_is_no_series(tmp_path, frame):
    """df.to_csv(path) without index=False writes the row numbers first, read back as 'Unnamed: 0':
    the one-series file asked for --target ('--target Unnamed: 0' its first suggestion) and a wide
    file gained a series of row numbers; R's write.csv numbers from 1. A column that is no
    count of the rows stays."""
    frame[["date", "sales"]].to_csv(tmp_path / "pandas.csv")
    frame[["date", "sales"]].to_excel(tmp_path / "pandas.xlsx")
    (tmp_path / "r.csv").write_text('"","date","sales"\n' + "".join(f'"{k + 1}","{d}",{s}\n' for k, (d, s) in
                                                                      enumerate(zip(frame.date, frame.sales))))
    for name in ("pandas.csv", "pandas.xlsx", "r.csv"):
        assert list(load_table(tmp_path / name).columns) == ["date", "sales"], name
    panel = read_panel(tmp_path / "pandas.csv", ForecastConfig(format="wide", time="date"))
    assert panel.ids == ["sales"]
    frame[["date", "sales"]].set_axis([3, 1, 2, 4, 5, 6]).to_csv(tmp_path / "ids.csv")
    assert list(load_table(tmp_path / "ids.csv").columns) == ["Unnamed: 0", "date", "sales"]


def test_missing_steps_finds_a_missing_month_on_one_day_of_the_month():
    # figures on the 15th of each month: pandas names no frequency, yet one month left out is a gap
    months = pd.DatetimeIndex([f"2023-{m:02d}-15" for m in range(1, 13)]).as_unit("ns").to_numpy()
    assert missing_steps(months) is None                                     # 28-31 days apart: none missing
    np.testing.assert_array_equal(missing_steps(np.delete(months, [4])), months)   # May left out
    np.testing.assert_array_equal(missing_steps(np.delete(months, [1, 2])), months)   # February and March
    quarters = pd.DatetimeIndex([f"{y}-{m:02d}-10 09:30" for y in (2022, 2023) for m in (1, 4, 7, 10)]).as_unit("ns")
    assert missing_steps(quarters.to_numpy()) is None
    np.testing.assert_array_equal(missing_steps(quarters.delete(3).to_numpy()), quarters.to_numpy())
    over_new_year = pd.DatetimeIndex(["2022-12-15"] + [f"2023-{m:02d}-15" for m in range(1, 7)]).as_unit("ns").to_numpy()
    np.testing.assert_array_equal(missing_steps(np.delete(over_new_year, [3])), over_new_year)   # March left out
    years = pd.DatetimeIndex([f"{y}-06-15" for y in range(2020, 2025)]).as_unit("ns").to_numpy()   # no YS or YE
    np.testing.assert_array_equal(missing_steps(np.delete(years, [2])), years)   # 2022 left out
    # days of the month that differ (the 15th, then the 20th) keep no monthly grid
    assert missing_steps(pd.DatetimeIndex(["2023-01-15", "2023-02-15", "2023-04-20", "2023-05-15"]).as_unit("ns")
                         .to_numpy()) is None
    # read as a table: the month is named, and with --fill interpolate its row is inserted halfway
    df = pd.DataFrame({"t": np.delete(months, [4]), "y": np.delete(np.arange(12.0), [4])})
    with pytest.warns(UserWarning, match="skips 1 step of its regular grid, the first 2023-05-15"):
        panel = read_panel(df, ForecastConfig(target="y", time="t", fill="interpolate"))
    np.testing.assert_array_equal(panel.times, months)
    np.testing.assert_allclose(panel.values.ravel(), np.arange(12.0))


def test_missing_steps_of_short_series_unit_steps_and_repeated_times():
    assert missing_steps(np.array([5])) is None and missing_steps(np.array([], dtype=np.int64)) is None   # no steps
    np.testing.assert_array_equal(missing_steps(np.array([0, 1, 3])), [0, 1, 2, 3])     # three times: 2 is missing
    np.testing.assert_array_equal(missing_steps(np.array([0, 1, 2, 4, 5])), np.arange(6))   # steps of one
    assert missing_steps(np.array([0, 0, 0, 1])) is None                    # repeated times step by nothing
    # the docstring's bound: a grid up to twice as long as the series has holes, a longer one is sparse data
    np.testing.assert_array_equal(missing_steps(np.array([0, 1, 2, 7])), np.arange(8))     # 8 steps for 4 times
    assert missing_steps(np.array([0, 1, 2, 8])) is None                    # 9 steps for 4 times


def test_skipped_ahead_names_the_steps_the_future_rows_leave_out():
    days = pd.date_range("2024-01-01", periods=14, freq="D").as_unit("ns").to_numpy()
    history = days[:10]
    assert skipped_ahead(history, days[10:13]) is None                       # the next three days
    np.testing.assert_array_equal(skipped_ahead(history, days[[10, 11, 13]]), days[[12]])   # the 13th left out
    np.testing.assert_array_equal(skipped_ahead(history, days[11:14]), days[[10]])         # starting a day late
    assert skipped_ahead(history[:0], days[[9, 10, 11, 13]]) is None and skipped_ahead(history, days[:0]) is None
    np.testing.assert_array_equal(skipped_ahead(history, days[[11]]), days[[10]])        # one row, a day late
    # weekly rows, then daily ones: the future rows keep the grid of the last rows, the days
    weekly = pd.date_range("2023-09-04", periods=17, freq="7D").as_unit("ns").to_numpy()
    np.testing.assert_array_equal(skipped_ahead(np.r_[weekly, history], days[[10, 11, 13]]), days[[12]])
    months = pd.DatetimeIndex([f"2023-{m:02d}-15" for m in range(1, 13)]).as_unit("ns").to_numpy()
    np.testing.assert_array_equal(skipped_ahead(months[:8], months[[8, 10, 11]]), months[[9]])   # 15 October
