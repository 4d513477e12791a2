"""Forecasting data as people have it: a logger's separate Date and Time columns, a report's title
line above the header, a Series indexed by date texts, series numbered 1, 2, 3."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from cli_helpers import run_cli
from forecast_data import sine_frame
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.panel import read_panel

TINY = dict(lookback=6, horizon=3, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1, combine="none",
            progress="off", tensorboard=False, device="cpu", deseason=0, log=False, segment=0, highway=0)
FLAGS = ["--lookback", "6", "--horizon", "3", "--hidden-size", "4", "--layers", "1", "--epochs", "1",
         "--ensemble", "1", "--progress", "off", "--device", "cpu"]


def _logger_frame(n=72) -> pd.DataFrame:
    """Hourly readings as a sensor logger writes them: Date (day first) and Time columns."""
    stamps = pd.date_range("2024-03-01", periods=n, freq="h")
    return pd.DataFrame({"Date": stamps.strftime("%d/%m/%Y"), "Time": stamps.strftime("%H:%M"),
                         "Value": sine_frame(n=n)["y"].round(3)})


# -- 1. separate date and time columns --------------------------------------------------------
def test_date_and_time_columns_read_as_one_time_day_first():
    """--time Date,Time was 'a two-column time is a year and a month or quarter column'."""
    panel = read_panel(_logger_frame(), ForecastConfig(target=["Value"], time="Date,Time"))
    assert pd.Timestamp(panel.times[0]) == pd.Timestamp("2024-03-01 00:00")
    assert pd.Timestamp(panel.times[-1]) == pd.Timestamp("2024-03-03 23:00")      # 03/03 read day first
    assert panel.freq == "h" and panel.time_info.get("dates") == "day-first"
    stamps = pd.date_range("2024-03-01", periods=72, freq="h")          # a workbook's: dates, and time cells
    sheet = pd.DataFrame({"Date": stamps.normalize(), "Time": [t.time() for t in stamps], "Value": range(72)})
    times = read_panel(sheet, ForecastConfig(target=["Value"], time="Date,Time")).times
    assert pd.DatetimeIndex(times).equals(pd.DatetimeIndex(stamps.to_numpy()))


def test_date_and_time_columns_train_predict_and_evaluate_on_the_cli(tmp_path, capsys):
    path = tmp_path / "logger.csv"
    _logger_frame().to_csv(path, index=False)
    out = tmp_path / "runs"
    code, text, err = run_cli(["forecast", "train", "--data", path, "--time", "Date,Time", "--target", "Value",
                               *FLAGS, "--out", out], capsys)
    assert code == 0, err
    (run,) = out.iterdir()
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["config"]["time"] == "Date,Time"           # predict / evaluate read the same layout
    code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", path, "--out", tmp_path / "f.csv"],
                              capsys)
    assert code == 0, err
    got = pd.read_csv(tmp_path / "f.csv")
    assert list(got.columns) == ["Date Time", "step", "Value"]
    assert got["Date Time"].tolist() == ["2024-03-04 00:00:00", "2024-03-04 01:00:00", "2024-03-04 02:00:00"]
    code, text, err = run_cli(["forecast", "evaluate", "--run", run, "--data", path], capsys)
    assert code == 0 and "naive" in text, err


def test_date_and_time_columns_in_python_as_a_list():
    """time=['Date', 'Time'] was '`time` must be text, got ['Date', 'Time']'."""
    frame = _logger_frame()
    f = Forecaster(**TINY).fit(frame, time=["Date", "Time"], target="Value")
    assert f.config_.time == "Date,Time"
    got = f.predict(frame)
    assert list(got.columns) == ["Date Time", "step", "Value"]
    assert pd.DatetimeIndex(got["Date Time"]).equals(pd.date_range("2024-03-04", periods=3, freq="h"))
    with pytest.raises(LstmkitError, match=r"time= names one column, or two read as one time .* got 3"):
        Forecaster(**TINY).fit(frame.assign(S=0), time=["Date", "Time", "S"], target="Value")


def test_a_second_time_column_that_is_no_time_of_day_is_named():
    frame = _logger_frame()
    with pytest.raises(LstmkitError, match=r"'Value' \(of 'Date,Value'\) holds .*, not a time of day such as 13:05 — "
                       r"name them --time Date,Time"):
        read_panel(frame, ForecastConfig(target=["Value"], time="Date,Value"))
    stamped = frame.assign(Date=pd.to_datetime(frame["Date"] + " " + frame["Time"], dayfirst=True))
    with pytest.raises(LstmkitError, match=r"time column 'Date' \(of 'Date,Time'\) holds times of day already"):
        read_panel(stamped, ForecastConfig(target=["Value"], time="Date,Time"))


def test_year_and_month_columns_still_come_back_as_two_columns():
    frame = pd.DataFrame({"year": np.repeat([2020, 2021, 2022], 12), "month": np.tile(np.arange(1, 13), 3),
                          "y": sine_frame(n=36, period=12)["y"]})
    got = Forecaster(**TINY).fit(frame, time=["year", "month"], target="y").predict(frame)
    assert got[["year", "month"]].values.tolist() == [[2023, 1], [2023, 2], [2023, 3]]


# -- 2. a title line without separators ---------------------------------------------------------
def test_a_title_line_without_separators_is_left_out_with_a_warning(tmp_path, capsys):
    """'Monthly sales report 2024' over 'month,sales' was read as the header: 'column 'Monthly
    sales report 2024' is not numeric: found 'sales' in line 2'."""
    months = pd.date_range("2018-01-01", periods=60, freq="MS").strftime("%Y-%m")
    body = pd.DataFrame({"month": months, "sales": sine_frame(n=60, period=12)["y"].round(2)}).to_csv(index=False)
    path = tmp_path / "sales.csv"
    path.write_text("Monthly sales report 2024\n" + body)
    with pytest.warns(UserWarning, match=r"sales.csv begins with a title \('Monthly sales report 2024'\): its header "
                      r"is read from line 2"):
        panel = read_panel(path, ForecastConfig(target=["sales"], time="month"))
    assert len(panel.values) == 60 and panel.values[0, 0] == float(body.splitlines()[1].split(",")[1])
    code, text, err = run_cli(["forecast", "train", "--data", path, *FLAGS, "--out", tmp_path / "runs"], capsys)
    assert code == 0 and "begins with a title" in err, err


@pytest.mark.parametrize("text", [
    "text\ngood, really\nbad, sadly\n",             # one word above: a one-column table's header
    "review text\ngood, really\nbad, sadly\n",      # the 'header' is a text with a comma
    "two words\n3,4\n5,6\n",                        # the 'header' is numbers
    "two words\na,b\n1,2,3\n",                      # the rows have other counts of cells
    "two words\na,a\n1,2\n",                        # a name twice
    'Review text\n"good, really good"\n"bad, sadly"\n"ok, fine"\n',   # one column of quoted texts with commas
    'Daily sales\n"1,234"\n"2,345"\n"3,456"\n',       # one column of quoted thousands
    # texts of which only some hold a pipe, semicolon or tab (the first four did: a title over 'ls|wc')
    "Shell command\nls|wc\ncat|sort\nps|grep\nfind|xargs\necho hi\ntop\n",
    "Tag list\npython;numpy\nrust;tokio\ngo;gin\nc;make\nhaskell\n",
    "Song title\nA\tB\nC\tD\nE\tF\nH\tI\nG\n",
])
def test_a_first_line_that_is_no_title_is_read_as_before(text):
    from lstmkit.data.textfile import separator_line
    assert separator_line(text)[2] == 1, text


def test_a_one_column_table_of_quoted_texts_keeps_its_header_and_first_row(tmp_path):
    """Its header was taken for a title and dropped with a warning, its first text read as the header."""
    from lstmkit.data.tables import read_table
    (tmp_path / "r.csv").write_text('Review text\n"good, really good"\n"bad, sadly"\n"ok, fine"\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_table(tmp_path / "r.csv")
    assert got.to_dict("list") == {"Review text": ["good, really good", "bad, sadly", "ok, fine"]}


def test_a_one_column_table_of_texts_with_pipes_keeps_its_header_and_texts(tmp_path):
    """Its header was taken for a title and dropped with a warning, its first text split at the pipe
    into two column names and the texts below into two columns, the cells missing filled silently."""
    from lstmkit.data.tables import read_table
    texts = ["ls|wc", "cat|sort", "ps|grep", "find|xargs", "echo hi", "top"]
    (tmp_path / "c.csv").write_text("Shell command\n" + "\n".join(texts) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_table(tmp_path / "c.csv")
    assert got.to_dict("list") == {"Shell command": texts}


def test_a_title_line_without_separators_in_a_table_of_texts(tmp_path):
    from lstmkit.data.tables import read_table
    (tmp_path / "r.csv").write_text("Reviews March\ntext;label\nfine;pos\nbad;neg\n")
    with pytest.warns(UserWarning, match="begins with a title"):
        assert read_table(tmp_path / "r.csv").to_dict("list") == {"text": ["fine", "bad"], "label": ["pos", "neg"]}


# -- 3. a Series indexed by date texts ---------------------------------------------------------
def _text_dated(n=40) -> pd.Series:
    days = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.Series(sine_frame(n=n, period=7)["y"].to_numpy(), index=days.strftime("%Y-%m-%d"), name="y")


def test_a_series_indexed_by_date_texts_is_read_by_its_dates():
    """The index was ignored: no time record, forecasts without dates, a reversed series
    forecast from its first rows."""
    s = _text_dated()
    f = Forecaster(**TINY).fit(s)
    assert f.auto_["time"]["index"] is True and f.config_.time == "time"
    got = f.predict(s)
    assert pd.DatetimeIndex(got["time"]).equals(pd.date_range("2020-02-10", periods=3, freq="D"))
    pd.testing.assert_frame_equal(f.predict(s.iloc[::-1]), got)          # sorted by its dates, as a DatetimeIndex
    as_dates = s.set_axis(pd.to_datetime(s.index))
    pd.testing.assert_frame_equal(f.predict(as_dates), got)
    with pytest.raises(LstmkitError, match="this ndarray has no dates"):
        f.predict(s.to_numpy())


def test_a_date_text_index_is_read_in_the_order_of_day_and_month_training_found():
    """01/01/2020 ... 12/01/2020 read day first (daily) and month first (monthly): both regular, so
    alone they are ambiguous; the run trained on the whole January reads them day first."""
    s = _text_dated()
    s.index = pd.to_datetime(s.index).strftime("%d/%m/%Y")
    f = Forecaster(**TINY).fit(s)
    assert f.config_.dates == "day-first"
    got = f.predict(s.iloc[:12])
    assert pd.DatetimeIndex(got["time"]).equals(pd.date_range("2020-01-13", periods=3, freq="D"))


def test_a_date_text_index_is_refused_as_a_date_column_is():
    s = _text_dated()
    with pytest.raises(LstmkitError, match="appears more than once"):
        read_panel(pd.concat([s, s.iloc[-1:]]), ForecastConfig(target=["y"], time="time"))
    ambiguous = pd.Series([1.0, 2.0, 3.0, 4.0], index=["01/02/2020", "01/03/2020", "01/05/2020", "01/06/2020"], name="y")
    with pytest.raises(LstmkitError, match=r"time column 'time' is ambiguous: '01/02/2020' reads as 02 January 2020 "
                       r"\(month first\) or 01 February 2020 \(day first\)"):
        read_panel(ambiguous, ForecastConfig(target=["y"], time="time"))
    names = pd.Series([1.0, 2.0], index=["north", "south"], name="y")     # not dates: read as before
    assert read_panel(names, ForecastConfig(target=["y"])).times is None


# -- 4. integer series ids ---------------------------------------------------------------------
def _numbered(n=40) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    y = sine_frame(n=n, period=7)["y"].to_numpy()
    return pd.concat([pd.DataFrame({"id": k, "date": days, "y": y + k}) for k in (1, 2, 3)], ignore_index=True)


def test_integer_ids_come_back_as_integers_in_python():
    """Forecaster.predict gave the ids as texts ('1')."""
    frame = _numbered()
    f = Forecaster(**TINY).fit(frame, id="id", time="date", target="y")
    got = f.predict(frame)
    assert got["id"].dtype == np.int64 and got["id"].unique().tolist() == [1, 2, 3]
    assert f.predict(frame.astype({"id": float}))["id"].dtype == np.int64      # a column pandas made float
    for kind in ("category", pd.CategoricalDtype([1, 2, 3, 4]), "Int64", "int64[pyarrow]"):   # were texts ('1') as category
        assert f.predict(frame.astype({"id": kind}))["id"].tolist() == got["id"].tolist(), kind
    named = f.predict(frame.assign(id=frame["id"].map({1: "1", 2: "2", 3: "3"})))
    assert named["id"].tolist()[0] == "1"                                      # texts stay texts


def test_integer_ids_come_back_as_integers_in_cli_files(tmp_path, capsys):
    path = tmp_path / "shops.csv"
    _numbered().to_csv(path, index=False)
    out = tmp_path / "runs"
    code, text, err = run_cli(["forecast", "train", "--data", path, "--id", "id", "--time", "date", "--target", "y",
                               *FLAGS, "--out", out], capsys)
    assert code == 0, err
    (run,) = out.iterdir()
    code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", path, "--out", tmp_path / "f.json"],
                              capsys)
    assert code == 0, err
    rows = json.loads((tmp_path / "f.json").read_text())
    assert [r["id"] for r in rows[::3]] == [1, 2, 3]
    loaded = Forecaster.load(run)              # the run keys its series by text, as runs saved before did
    assert loaded.series_ids_ == ["1", "2", "3"] and loaded.predict(path)["id"].tolist()[::3] == [1, 2, 3]


# -- probes of the Date,Time layout (session 28) -----------------------------------------------
def _with_time(cells) -> pd.DataFrame:
    frame = _logger_frame(48)
    return frame.assign(Time=cells)


def test_times_of_day_with_a_zone_are_read_as_a_one_column_time_with_a_zone_is():
    """'13:00 +01:00' was 'not a time of day such as 13:05'; a one-column '01/03/2024 13:00 +01:00' reads."""
    frame = _logger_frame(48)
    zoned = read_panel(frame.assign(Time=frame["Time"] + " +01:00"), ForecastConfig(target=["Value"], time="Date,Time"))
    one = read_panel(pd.DataFrame({"Date": frame["Date"] + " " + frame["Time"] + " +01:00", "Value": frame["Value"]}),
                     ForecastConfig(target=["Value"], time="Date"))
    assert pd.DatetimeIndex(zoned.times).equals(pd.DatetimeIndex(one.times))
    assert pd.Timestamp(zoned.times[0]) == pd.Timestamp("2024-02-29 23:00")          # 01/03 00:00 +01:00 in UTC
    utc = read_panel(frame.assign(Time=frame["Time"] + "Z"), ForecastConfig(target=["Value"], time="Date,Time"))
    assert pd.Timestamp(utc.times[0]) == pd.Timestamp("2024-03-01 00:00")


def test_times_as_excel_fractions_of_a_day_are_read(tmp_path):
    """A sheet's Time cells not formatted as times hold fractions of a day (0.5 is 12:00): they were
    'holds 0.0, not a time of day such as 13:05 -- name them --time Date,Time' (as they were named)."""
    stamps = pd.date_range("2024-03-01", periods=48, freq="h")
    sheet = pd.DataFrame({"Date": stamps.normalize(), "Time": ((stamps - stamps.normalize()) / pd.Timedelta("1D")),
                          "Value": np.arange(48.0)})
    path = tmp_path / "log.xlsx"
    sheet.to_excel(path, index=False)
    times = read_panel(str(path), ForecastConfig(target=["Value"], time="Date,Time")).times
    assert pd.DatetimeIndex(times).equals(pd.DatetimeIndex(stamps.to_numpy()))
    with pytest.raises(LstmkitError, match=r"'Time' \(of 'Date,Time'\) holds '1.625', not a time of day"):
        read_panel(sheet.assign(Time=sheet["Time"] + 1.5 * (sheet.index == 3)),        # 1.625 is no time of day
                   ForecastConfig(target=["Value"], time="Date,Time"))


def test_a_blank_time_cell_is_named_as_an_empty_one():
    """A blank cell was 'holds '', not a time of day such as 13:05 -- name them --time Date,Time'."""
    cells = _logger_frame(48)["Time"].where(lambda t: t.index != 5, "  ")
    with pytest.raises(LstmkitError, match=r"has 1 empty cells \(the first in data row 6\)"):
        read_panel(_with_time(cells), ForecastConfig(target=["Value"], time="Date,Time"))


def test_time_columns_named_in_the_wrong_order_say_so():
    """--time Time,Date was told 'holds times of day already -- pass it alone as --time Time', which
    reads no dates at all."""
    with pytest.raises(LstmkitError, match=r"named in the wrong order: 'Time' holds times of day .* and 'Date' the "
                       r"dates — name the date column first: --time Date,Time"):
        read_panel(_logger_frame(48), ForecastConfig(target=["Value"], time="Time,Date"))


def test_24_00_is_named_with_its_fix():
    """'24:00' was 'could not be read as dates: found 01/03/2024 24:00 -- use ISO dates'."""
    cells = _logger_frame(48)["Time"].where(lambda t: t != "00:00", "24:00")
    with pytest.raises(LstmkitError, match=r"'Time' holds '24:00' \(data row 1\), the end of a day.* write it as "
                       r"00:00 of the next day"):
        read_panel(_with_time(cells), ForecastConfig(target=["Value"], time="Date,Time"))


# -- a wide table's total column ------------------------------------------------------------------
@pytest.mark.parametrize("name, of", [("Total", "total"), ("Average", "average")])
def test_a_wide_tables_total_or_average_column_is_refused(tmp_path, name, of):
    """A sheet's 'Total' column beside its series, a sum of rounded values (to a thousandth): was
    read as a series of its own, trained, forecast and scored (its scale in the mean), silently."""
    y = sine_frame(n=40)["y"]
    north, south = (1000 * y).round(1), (700 * y[::-1].to_numpy()).round(1)
    total = (north + south) * (1.0004 if of == "total" else 0.5)
    frame = pd.DataFrame({"month": pd.date_range("2020-01-01", periods=40, freq="MS").strftime("%Y-%m"),
                          "North": north, "South": south, name: total.round(0)})
    frame.to_csv(tmp_path / "sheet.csv", index=False)
    cfg = ForecastConfig(format="wide", time="month")
    with pytest.raises(LstmkitError, match=rf"column '{name}' of the wide table is the {of} of the other series \(North, "
                       rf"South\) in every row: a spreadsheet's {of} column, not a series; --format wide would train, "
                       r"forecast and score it as one — delete that column from the table"):
        read_panel(tmp_path / "sheet.csv", cfg)
    frame[name] = (300 * y + 5).round(1)             # a third series of its own: read
    assert read_panel(frame, cfg).ids == ["North", "South", name]


def test_a_wide_files_trailing_separators_are_no_series(tmp_path):
    """'date,north,south,' over rows ending in a comma: pandas' 'Unnamed: 3', empty in every row, was a
    third series, 'skipped (fewer than 10 points)'; a column without a name but with values stays one."""
    days = pd.date_range("2024-01-01", periods=20, freq="D").strftime("%Y-%m-%d")
    (tmp_path / "w.csv").write_text("date,north,south,\n" + "".join(f"{t},{k},{2 * k},\n" for k, t in enumerate(days)))
    panel = read_panel(tmp_path / "w.csv", ForecastConfig(format="wide", time="date"), need=10)
    assert panel.ids == ["north", "south"] and not panel.skipped
    (tmp_path / "v.csv").write_text("date,north,\n" + "".join(f"{t},{k},{3 * k}\n" for k, t in enumerate(days)))
    assert read_panel(tmp_path / "v.csv", ForecastConfig(format="wide", time="date")).ids == ["north", "Unnamed: 2"]
