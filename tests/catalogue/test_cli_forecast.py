"""Bad-input catalogue, `lstmkit forecast`: one line, the right exit code, nothing left behind."""
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from catalogue_helpers import COMMON_TRAIN, check, common_files, train_once, with_data
from cli_helpers import run_cli
from forecast_data import sine_frame

# one network (--ensemble 1): the default 15-seed median made each training case train 15
TRAIN = ["forecast", "train", "--data", "{d}/sine.csv", "--target", "y", "--time", "time", "--lookback", "12",
         "--hidden-size", "4", "--layers", "1", "--epochs", "1", "--ensemble", "1", "--progress", "off",
         "--device", "cpu", "--out", "{out}"]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("forecast_data")
    common_files(d)
    (d / "bt_lookback_0.yaml").write_text("target: y\ntime: time\nlookback: 0\n")
    (d / "bt_lookbak.yaml").write_text("target: y\ntime: time\nlookbak: 12\n")
    df = sine_frame(n=120)
    df.to_csv(d / "sine.csv", index=False)
    ymd = df.copy()
    ymd["time"] = pd.date_range("2024-01-01", periods=len(df), freq="D").strftime("%Y%m%d").astype(int)
    ymd.to_csv(d / "ymd.csv", index=False)
    ints = df.copy()
    ints["time"] = np.arange(len(df)) * 7
    ints.to_csv(d / "int_time.csv", index=False)
    big = df.copy()
    big.loc[50, "y"] = 1e300
    big.to_csv(d / "big.csv", index=False)
    huge_ints = df.copy()
    huge_ints["y"] = 9223372036854775000 + np.arange(len(df))         # differ beyond float64's digits
    huge_ints.to_csv(d / "huge_ints.csv", index=False)
    inf = df.copy()
    inf.loc[7, "y"] = np.inf
    inf.to_csv(d / "inf.csv", index=False)
    text = df.copy().astype({"y": object})
    text.loc[5, "y"] = "12,5kg"
    text.to_csv(d / "text.csv", index=False)
    text.to_excel(d / "text.xlsx", index=False)                 # each format names the row as it numbers it
    text.astype({"time": str, "y": str}).to_parquet(d / "text.parquet")
    text.astype({"time": str}).to_json(d / "text.jsonl", orient="records", lines=True)
    grouped = df.copy().astype({"y": object})
    grouped["y"] = [f"{v:,.0f}" for v in 1000 + 500 * df["y"]]       # a spreadsheet's thousands: 1,234
    grouped.to_csv(d / "thousands.csv", index=False)
    steps = df[["y"]].round(2)                                 # a sheet in row order, its totals row kept
    steps.to_csv(d / "steps.csv", index=False)
    pd.concat([steps, steps.sum().to_frame().T]).to_csv(d / "totals_row.csv", index=False)
    (d / "summary_rows.csv").write_text(steps.assign(week=[f"w{k}" for k in range(len(steps))]).to_csv(index=False)
                                        + "9999,Total\n83.3,Average\n")
    shares = df.copy().astype({"y": object})
    shares["y"] = [f"{v:.0f}%" if k % 10 == 3 else f"{v / 100:.3f}" for k, v in enumerate(5 * df["y"])]
    shares.to_csv(d / "percent_mix.csv", index=False)           # some cells formatted as %, the others not
    (d / "joined.csv").write_text(df.iloc[:60].to_csv(index=False) + df.iloc[60:].to_csv(index=False))   # 2 exports
    subtotals = df.copy().astype({"time": object})
    subtotals.loc[[30, 70], "time"] = "Subtotal"                # a sheet's summary rows among the dated ones
    subtotals.to_csv(d / "subtotals.csv", index=False)
    subtotals.loc[[30, 70], "time"] = ["2024-01-02 Total", "2024-01-03 Total"]     # a pivot table's, by day
    subtotals.to_csv(d / "pivot_subtotals.csv", index=False)
    (d / "decimal_commas.csv").write_text("time,y\n" + "".join(f"{t},{v:.2f}\n".replace(".", ",")
                                                                for t, v in zip(df["time"], df["y"])))
    (d / "noted.csv").write_text(df.to_csv(index=False) + "\nSource: sine generator\n* provisional\n")
    wide = df[["time"]].assign(North=(100 * df["y"]).round(1), South=(70 * df["temp"] + 500).round(1))
    wide.assign(Total=wide["North"] + wide["South"]).to_csv(d / "wide_total.csv", index=False)
    marks = df.copy().astype({"y": object})
    marks.loc[[4, 9], "y"] = ["#DIV/0!", "-"]                  # a sheet's formula error and accountant's dash
    marks.to_csv(d / "formula_error.csv", index=False)
    marks.loc[4, "y"] = 1.0
    marks.to_csv(d / "dash.csv", index=False)
    clock = df.assign(date=df["time"].dt.strftime("%Y-%m-%d"), hour=df["time"].dt.strftime("%H:%M"))
    clock[["date", "hour", "y"]].to_csv(d / "date_and_clock.csv", index=False)     # a logger's two columns
    clock.assign(date=df["time"].astype(str))[["date", "hour", "y"]].to_csv(d / "stamp_and_clock.csv", index=False)
    clock.assign(hour=clock["hour"].where(clock["hour"] != "00:00", "24:00"))[["date", "hour", "y"]].to_csv(
        d / "clock_24.csv", index=False)                       # a logger that ends its days at 24:00
    (d / "clock_24_excel.csv").write_text("sep=,\n" + (d / "clock_24.csv").read_text())   # Excel's separator line
    merged = df[["time", "y"]].assign(South=df["y"]).to_csv(index=False, header=False)
    (d / "two_row_header.csv").write_text("time,Sales,\n,North,South\n" + merged)   # 'Sales' merged over 2 names
    dots = df.copy().astype({"y": object})
    dots["y"] = [f"{v:,.0f}".replace(",", ".") for v in 100 * df["y"]]     # a European file's 976 and 1.032
    dots.to_csv(d / "thousand_dots.csv", sep=";", index=False)
    dots["y"] = "€ " + dots["y"]                               # in euros: read as 1.032 by the '$1,234' rule
    dots.to_csv(d / "euro_dots.csv", sep=";", index=False)
    metered = df.copy().astype({"y": object})
    metered["y"] = [f"{v:.2f} kWh" if k % 2 else f"{1000 * v:.0f} Wh" for k, v in enumerate(df["y"])]
    metered.to_csv(d / "two_units.csv", index=False)               # a meter's export, switched between units
    metered["y"] = [f"{v / 1000:.2f}k" if k > 100 else f"{v:.0f}" for k, v in enumerate(1000 * df["y"])]
    metered.to_csv(d / "short_numbers.csv", index=False)           # a dashboard's 9.4k beside 9400
    df.assign(weekday=df["time"].dt.strftime("%a"), kind=[("bogo", "discount", "none")[k % 3] for k in range(len(df))],
              empty=np.nan).to_csv(d / "labelled.csv", index=False)     # covariates as a planner's sheet holds them
    gaps = df.copy()
    gaps.loc[[3, 4], "y"] = np.nan
    gaps.to_csv(d / "gaps.csv", index=False)
    df.assign(y=np.nan).to_csv(d / "no_values.csv", index=False)   # every target cell empty
    at_zero = df.copy()
    at_zero.loc[40, "y"] = 0.0                                 # a meter's zero: no log
    at_zero.to_csv(d / "zero.csv", index=False)
    newer = df.assign(time=df["time"] + pd.Timedelta(days=5))       # the next days, one value far above
    newer.loc[30, "y"] = 80.0
    newer.to_csv(d / "newer_above.csv", index=False)
    at_zero.loc[[90, 100], "y"] = [-2.5, -1.0]
    at_zero.to_csv(d / "negative.csv", index=False)
    df.assign(y=np.where(np.arange(len(df)) % 3 == 0, 2.0, 0.0)).to_csv(d / "sales.csv", index=False)  # 0s are data
    df.iloc[:8].to_csv(d / "short.csv", index=False)
    days = df.assign(time=pd.date_range("2024-01-01", periods=len(df), freq="D"))
    pd.concat([days.assign(id="daily"), df.assign(id="hourly")]).to_csv(d / "two_steps.csv", index=False)
    pd.concat([df.assign(time=np.arange(len(df)), id="a"), df.assign(time=7 * np.arange(len(df)), id="b")]).to_csv(
        d / "two_int_steps.csv", index=False)                  # integer times stepping 1 and 7
    df.iloc[:3].to_csv(d / "three.csv", index=False)
    badtime = df.copy().astype({"time": object})
    badtime.loc[9, "time"] = "not a date"
    badtime.to_csv(d / "badtime.csv", index=False)
    df.assign(time=np.arange(len(df)) * 0.1).to_csv(d / "elapsed.csv", index=False)   # a logger's elapsed seconds
    df.assign(time=np.arange(len(df)) * 0.1 + 2.5).to_csv(d / "elapsed_from.csv", index=False)
    notime = df.copy().astype({"time": object})
    notime.loc[2, "time"] = None
    notime.to_csv(d / "notime.csv", index=False)
    (d / "empty.csv").write_text("")
    (d / "header_only.csv").write_text("time,y\n")
    (d / "garbage.parquet").write_bytes(b"not parquet at all")
    (d / "logger.dat").write_text((d / "sine.csv").read_text())       # a logger's CSV text under its own name
    (d / "undecodable.csv").write_bytes(b"time,y\n2024-01-01,1\n2024-01-02,\x81\x8d\n")   # neither UTF-8 nor Windows-1252
    (d / "folder.csv").mkdir()
    (d / "loop_a.csv").symlink_to(d / "loop_b.csv")        # links that loop, or lead nowhere: 'check the path'
    (d / "loop_b.csv").symlink_to(d / "loop_a.csv")
    (d / "run_gone").symlink_to(d / "trained_elsewhere")
    _spreadsheet_files(d, df)
    _tsf_files(d, df["y"].to_numpy())
    with zipfile.ZipFile(d / "monash_text.zip", "w") as z:           # as the Monash archive ships a .tsf
        z.write(d / "text.tsf", "text.tsf")
        z.writestr("__MACOSX/._text.tsf", b"\0\0")
    for start, freq in (("1500-01-01", "YS"), ("2500-06-01", "MS")):   # beyond pandas' nanoseconds (1678-2261)
        times = pd.date_range(start, periods=len(df), freq=freq, unit="s").strftime("%Y-%m-%d")
        df.assign(time=times).to_csv(d / f"from{start[:4]}.csv", index=False)
    (d / "run").symlink_to(train_once(TRAIN, d, d / "trained"))
    (d / "run_serial").symlink_to(train_once(_train("--dates", "excel", data="serial_hours.csv"), d,
                                             d / "trained_serial"))
    (d / "run_no_time").symlink_to(train_once(_train("--time", "none", data="steps.csv"), d, d / "trained_no_time"))
    (d / "run_log").symlink_to(train_once(_train("--log"), d, d / "trained_log"))
    (d / "run_updatable").symlink_to(train_once(_train("--deseason", "0", "--combine", "none", "--no-log"), d,
                                                d / "trained_updatable"))
    (d / "run_bounded").symlink_to(train_once(_train("--deseason", "0", "--combine", "none", "--no-log", "--bounds",
                                                     "-50,50"), d, d / "trained_bounded"))
    return d


def _spreadsheet_files(d, df):
    """The sine series as users' tools write it: dates day first, local times across a daylight-saving
    change, a European spreadsheet's semicolons and decimal commas, Excel's UTF-16 "Unicode text";
    and the cases that cannot be read one way only."""
    days = pd.date_range("2024-01-01", periods=len(df), freq="D")
    local = pd.date_range("2024-03-30", periods=len(df), freq="h", tz="Europe/Berlin")     # DST: 31 March
    comma = df[["y"]].assign(time=days.strftime("%d.%m.%Y"), y=df["y"].map(lambda v: f"{v:.6f}".replace(".", ",")))
    df.assign(time=days.strftime("%d/%m/%Y")).to_csv(d / "dayfirst.csv", index=False)
    df.assign(time=[t.isoformat(sep=" ") for t in local]).to_csv(d / "dst.csv", index=False)
    comma.to_csv(d / "semicolon.csv", sep=";", index=False)
    def sap(v):                                                # 1.234,56- : SAP's negative amount
        return f"{abs(v) * 100:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") + "-" * (v < 10)
    comma.assign(y=df["y"].map(sap)).to_csv(d / "sap.csv", sep=";", index=False)
    (d / "title.csv").write_text("Sine report,,\n,,\n" + df.assign(time=days).to_csv(index=False))   # a sheet's title
    (d / "excel.csv").write_bytes(comma.to_csv(sep="\t", index=False, lineterminator="\r\n").encode("utf-16"))
    months = pd.date_range("2014-01-01", periods=len(df), freq="MS").delete(7)   # the 1st of each month, one missing
    df.iloc[:-1].assign(time=months.strftime("%d/%m/%Y")).to_csv(d / "ambiguous_dates.csv", index=False)
    both = df.copy().astype({"time": object})
    both.loc[:1, "time"] = ["31/01/2024", "01/31/2024"]
    both.to_csv(d / "both_orders.csv", index=False)
    both.assign(time=days.strftime("%d/%m/%Y")).astype({"time": object}).assign(
        time=lambda f: f["time"].where(f.index != 3, "32/13/2024")).to_csv(d / "no_month.csv", index=False)
    half = df.assign(time=[t.isoformat(sep=" ") for t in local]).astype({"time": object})
    half.loc[5, "time"] = "2024-03-30 05:00:00"
    half.to_csv(d / "half_offsets.csv", index=False)
    df.rename(columns={"y": " Y"}).to_csv(d / "spaces.csv", index=False)
    df.assign(time=pd.date_range("2024-03-30", periods=len(df), freq="h")).to_csv(d / "naive_hours.csv", index=False)
    hours = pd.date_range("2024-01-28", periods=len(df), freq="h")          # to 01/02/2024 23:00
    df.assign(time=hours.strftime("%d/%m/%Y %H:%M")).to_csv(d / "hourly_dayfirst.csv", index=False)
    df.assign(time=hours.strftime("%d/%m/%Y %H:%M")).iloc[-24:].to_csv(d / "last_day.csv", index=False)
    # two series, rows by time then id, of naive Berlin hours across 27 October 2024 (02:00 twice): series b
    # shows 02:00 once, which names no one instant (series a, which shows it twice in order, reads as it runs)
    fall = pd.date_range("2024-10-26", periods=len(df) // 2, freq="h", tz="Europe/Berlin").tz_localize(None)
    two = pd.DataFrame({"time": np.repeat(fall.strftime("%Y-%m-%d %H:%M"), 2), "id": ["a", "b"] * len(fall),
                        "y": df["y"].to_numpy()[: 2 * len(fall)]})
    once = ~((two["id"] == "b") & two.duplicated(["id", "time"], keep="last"))
    two[once].to_csv(d / "fold_once.csv", index=False)
    # the time column of a sheet saved with it formatted "General": spreadsheet serial days (45292.5: 1 January 2024
    # at noon), each file with one cell that is no such day
    serial = df.assign(time=np.round(45292 + np.arange(len(df)) / 24, 10)).astype({"time": object})
    serial.to_csv(d / "serial_hours.csv", index=False)
    for name, cell in (("serial_word", "later"), ("serial_negative", -3), ("serial_10000", 2958466)):
        serial.assign(time=serial["time"].where(serial.index != 5, cell)).to_csv(d / f"{name}.csv", index=False)
    df.assign(time=1 + np.arange(len(df))).to_csv(d / "serial_1900.csv", index=False)    # across Excel's 1900-02-29
    df.assign(time=np.round(np.arange(len(df)) / len(df), 10)).to_csv(d / "serial_clock.csv", index=False)  # no days
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    for name, first in (("serial_mac.xlsx", 43830), ("serial_win.xlsx", 45292)):     # 2024-01-01 in each system
        book = openpyxl.Workbook()
        if first == 43830:                                                          # "Use 1904 date system"
            book.epoch = CALENDAR_MAC_1904
        book.active.append(["time", "y"])
        for k, y in enumerate(df["y"]):
            book.active.append([first + k, float(y)])
        book.save(d / name)


def _tsf_files(d, y):
    """The sine series as the Monash archive's .tsf files, each with one thing its header or a line gets wrong."""
    head = ("@relation sine\n@attribute series_name string\n@attribute start_timestamp date\n@frequency hourly\n"
            "@horizon 6\n@missing {missing}\n@equallength {equal}\n@data\n")
    values = [f"{v:.4f}" for v in y]
    line = lambda name, cells: f"{name}:2024-01-01 00-00-00:{','.join(cells)}\n"     # noqa: E731
    files = {
        "fields.tsf": head.format(missing="false", equal="false") + line("a", values).replace("a:", "a:x:"),
        "missing_false.tsf": head.format(missing="false", equal="false") + line("a", values[:9] + ["?"] + values[10:]),
        "unequal.tsf": head.format(missing="false", equal="true") + line("a", values) + line("b", values[:-1]),
        "fortnightly.tsf": head.format(missing="false", equal="false").replace("hourly", "fortnightly")
        + line("a", values),
        "colon_times.tsf": head.format(missing="false", equal="false") + line("a", values).replace("00-00-00", "00:00:00"),
        "bad_date.tsf": head.format(missing="false", equal="false") + line("a", values).replace("2024-01-01", "01/01/24"),
        "text.tsf": head.format(missing="false", equal="false") + line("a", values[:4] + ["12kg"] + values[5:]),
        "no_data.tsf": head.format(missing="false", equal="false").replace("@data\n", ""),
        "gaps.tsf": head.format(missing="true", equal="false") + line("a", values[:9] + ["?"] + values[10:]),
    }
    for name, text in files.items():
        (d / name).write_text(text)
    (d / "empty.tsf").write_text("")
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    pd.DataFrame(20 + np.arange(96.0).reshape(8, 12) % 7, columns=months).assign(YEAR=np.arange(1950.0, 1958.0))[
        ["YEAR", *months]].to_csv(d / "grid.csv", index=False)          # statsmodels' elnino: a year per row
    (d / "series.ts").write_text("@problemName x\n@data\n1,2,3:a\n")      # sktime's classification format


def _train(*flags, data="sine.csv"):
    return with_data(TRAIN, data, *flags)


def _tsf_train(*flags, data):
    """``train`` naming no target (a .tsf file names its own target and time columns; a table may imply them)."""
    argv = with_data(TRAIN, data, *flags)
    k = argv.index("--target")
    return argv[:k] + argv[k + 4:]


CASES = [(_train(*flags), 2, needle) for flags, needle in COMMON_TRAIN] + [
    (_train("--lr-schedule", "cosine", "--lr-patience", "3"), 2, "--lr-patience applies to --lr-schedule plateau, not "
     "to --lr-schedule cosine"),          # ignored: the cosine schedule has no patience
    # the forecast was the blend with ETS, scored without the ETS row to read it against
    # a calendar feature the data's step holds still was a constant input, added without a word
    (_train("--calendar", "weekday,hour", data="ymd.csv"), 2, "--calendar hour adds a constant input: the data steps by "
     "'D' (1 day), so the hour of the day is the same at every time — drop hour from --calendar: it is for data that "
     "steps by less than a day"),
    # an embedding of the only series was a constant input too
    (_train("--id-embedding", "4"), 2, "--id-embedding 4 learns a vector per series to tell them apart, and the data "
     "has one series: it would be a constant input — drop --id-embedding: it is for a table of several series (--id "
     "COLUMN)"),
    (_train("--combine", "ets", "--no-ets"), 2, "--combine ets blends the forecast with the ETS baseline, which --no-ets "
     "leaves out of the test metrics the blend is read against — pass --ets instead"),
    # a named baseline beside quantiles was chosen and recorded, and every forecast was the network's alone
    (_train("--combine", "ets", "--quantiles", "0.1,0.9"), 2, "--combine ets blends point forecasts with a baseline, "
     "and --quantiles 0.1,0.9 forecasts a distribution, which the blend would leave as the network's alone — drop "
     "--combine"),
    # --loss beside quantiles or a likelihood was accepted and ignored (recorded in the run all the same)
    (_train("--quantiles", "0.1,0.9", "--loss", "huber"), 2, "--loss huber does not apply with --quantiles 0.1,0.9: "
     "the forecaster trains on the pinball loss of its quantiles — drop --loss, or drop --quantiles 0.1,0.9"),
    (_train("--likelihood", "gaussian", "--loss", "mae"), 2, "--loss mae does not apply with --likelihood gaussian: "
     "the forecaster trains on the gaussian negative log-likelihood"),
    (_train(data="nope.csv"), 2, "file not found"),
    (["forecast", "predict", "--run", "{d}/run", "--data="], 2, "--data is empty"),     # was '. is a directory'
    (_train(data="folder.csv"), 2, "directory"),
    (_train(data="loop_a.csv"), 2, "loop_a.csv — it is a symbolic link to '"),
    (_train(data="loop_a.csv"), 2, "loop_b.csv', a loop of links: point it at the file or folder meant"),
    (["forecast", "predict", "--run", "{d}/run_gone", "--data", "{d}/nope.csv"], 2, "run folder not found: "),
    (["forecast", "predict", "--run", "{d}/run_gone", "--data", "{d}/nope.csv"], 2, "trained_elsewhere', a path "
     "that does not exist"),
    (_train(data="empty.csv"), 2, "empty"),
    (_train(data="header_only.csv"), 2, "header_only.csv has a header but no data rows"),
    (_train(data="garbage.parquet"), 2, "garbage.parquet"),
    (_train(data="text.csv"), 2, "found '12,5kg' in line 7 "),             # data row 6: the header is line 1
    (_train(data="text.xlsx"), 2, "found '12,5kg' in sheet row 7 "),       # as the spreadsheet shows it
    (_train(data="text.parquet"), 2, "found '12,5kg' in row 6 "),           # was 'row 5' (counted from 0)
    (_train(data="text.jsonl"), 2, "found '12,5kg' in line 6 "),
    (_train(data="gaps.csv"), 2, "--fill"),
    # were "column 'weekday' is not numeric: found 'Mon' in line 2 (120 non-numeric cells) — choose numeric columns for
    # the target/features, or clean those cells", and for an empty column '... (120 of 120 rows) — ... train with --fill',
    # which then said the column 'has no values'
    (_train("--future-covariates", "weekday", data="labelled.csv"), 2, "covariate column 'weekday' holds categories, "
     "not numbers: 'Mon', 'Tue', 'Wed', 'Thu' and 1 more (5 distinct values); the network reads numbers — use "
     "--calendar weekday, made from the time column (known ahead too), and drop 'weekday' from --future-covariates"),
    (_train("--past-covariates", "kind", data="labelled.csv"), 2, "covariate column 'kind' holds categories, not "
     "numbers: 'bogo', 'discount', 'none' (3 distinct values); the network reads numbers — give each category a column "
     "of 0/1 (pd.get_dummies(df, columns=['kind'], dtype=float)) and pass those columns as --past-covariates"),
    (_train("--features", "temp,empty", "--fill", "ffill", data="labelled.csv"), 2, "covariate column 'empty' is empty "
     "in all 120 rows — drop it from --features, or fill it with its values"),
    # was 'write numbers with a decimal point, or save the file separated by semicolons so that decimal commas read'
    (_train(data="thousands.csv"), 2, "column 'y' holds numbers that read two ways: '6,003' in line 2 (120 such cells) "
     "is 6003 with a thousands separator, or 6.003 with a decimal comma — write the numbers without thousands "
     "separators (6003) or with a decimal point (6.003)"),
    # the sum of 120 rows was trained (and forecast from) as the series' last value, silently
    (_train("--time", "none", data="totals_row.csv"), 2, "the last row (line 122) looks like a total (y 1200.53: "
     "the sum of the rows above), not a step of the series: it would be trained as the series' last value — delete "
     "that row (and any other summary rows) from the data"),
    (["forecast", "predict", "--run", "{d}/run_no_time", "--data", "{d}/totals_row.csv"], 2, "looks like a total"),
    (_train("--time", "none", "--target", "y", data="summary_rows.csv"), 2, "a row near the end (line 122) looks like "
     "a summary (Total), not a step of the series: it would be trained as one — delete that row"),
    # were '... (2 non-numeric cells) — choose numeric columns for the target/features, or clean those cells'
    (_train(data="formula_error.csv"), 2, "column 'y' is not numeric: found '#DIV/0!' in line 6 (a formula's error; 2 "
     "non-numeric cells) — fix the formula, or leave the cell empty and train with --fill ffill|interpolate|zero"),
    (_train(data="dash.csv"), 2, "found '-' in line 11 (a dash, for none or for zero; 1 non-numeric cell) — write 0 "
     "where it means zero, or leave the cell empty and train with --fill"),
    # was '... if the table holds several series, name the column that tells them apart with --id; else aggregate'
    (_train("--time", "date", data="date_and_clock.csv"), 2, "appears more than once in column 'date' (115 duplicated "
     "rows): it holds the dates, column 'hour' the times of day — pass both as the time, --time date,hour (Python: "
     "time=['date', 'hour']): they are read as one time stamp"),
    # a date and a time-of-day column are one time (--time date,hour); another second column is named
    (_train("--time", "date,y", data="date_and_clock.csv"), 2, "a two-column time is a date and a time-of-day column "
     "(or a year and a month or quarter column), and 'y' (of 'date,y') holds '10.00628651105467', not a time of day "
     "such as 13:05 — name them --time Date,Time (or year,month), or pass one date column"),
    (_train("--time", "date,hour", data="stamp_and_clock.csv"), 2, "time column 'date' (of 'date,hour') holds times "
     "of day already (e.g. '2024-01-01 00:00:00') — pass it alone as --time date"),
    # was "'hour' (of 'hour,date') holds times of day already — pass it alone as --time hour", which reads no dates
    (_train("--time", "hour,date", data="date_and_clock.csv"), 2, "the two time columns are named in the wrong order: "
     "'hour' holds times of day (e.g. '00:00') and 'date' the dates — name the date column first: --time date,hour"),
    # was "could not be read as dates: found '2024-01-01 24:00' — use ISO dates such as 2024-01-31 ..."
    (_train("--time", "date,hour", data="clock_24.csv"), 2, "time-of-day column 'hour' holds '24:00' (line 2), "
     "the end of a day, which is ambiguous beside its date — write it as 00:00 of the next day's date"),
    # the file's line, as a one-column time's errors name it (was 'data row 1', the sep= line and header uncounted)
    (_train("--time", "date,hour", data="clock_24_excel.csv"), 2, "time-of-day column 'hour' holds '24:00' (line 3)"),
    # 54% read as 54 beside 0.542, silently
    (_train(data="percent_mix.csv"), 2, "column 'y' mixes percentages ('54%' in line 5) with plain numbers ('0.500' in "
     "line 2): is 54% 0.54 or 54? — format the column one way: every cell as a percentage, or every cell as a plain "
     "number"),
    # were 'column 'y' is not numeric: found '10006 Wh' in line 2 — choose numeric columns ..., or clean those cells'
    (_train(data="two_units.csv"), 2, "column 'y' mixes units: '10006 Wh' in line 2, '10.25 kWh' in line 3 — convert "
     "the column to one unit"),
    (_train(data="short_numbers.csv"), 2, "column 'y' mixes short numbers ('11.02k' in line 103: 11020?) with numbers "
     "written in full ('10006' in line 2) — write every number in full (11020), without 'k'"),
    (_train(data="subtotals.csv"), 2, "time column 'time' holds 'Subtotal' in line 32 (2 such rows): a summary row, "
     "not a step of the series — delete the summary rows (totals, subtotals, averages) from the data"),  # was 'use ISO'
    # was "could not be read as dates: found '2024-01-02 Total' — use ISO dates such as ...", naming no line
    (_train(data="pivot_subtotals.csv"), 2, "time column 'time' holds '2024-01-02 Total' in line 32 (2 such rows): a "
     "summary row, not a step of the series — delete the summary rows"),
    # was "could not be read as dates: found 'Source: sine generator' — use ISO dates ..., or fix that cell"
    (_train(data="noted.csv"), 2, "time column 'time' could not be read as dates: its last 2 rows (from line 123) "
     "hold 'Source: sine generator', '* provisional', every row above them a date — delete those rows"),
    # was "... an unquoted ',' in a text? — put a cell that holds the ',' in double quotes ("good film, really")"
    (_train(data="decimal_commas.csv"), 2, "decimal_commas.csv line 2 has 3 cells, its header 2 (time, y): numbers with "
     "decimal commas, such as '10,01', in a file separated by commas?"),
    # the sum of North and South was trained, forecast and scored as a third series, silently
    (_train("--format", "wide", "--target", "value", data="wide_total.csv"), 2, "column 'Total' of the wide table is "
     "the total of the other series (North, South) in every row: a spreadsheet's total column, not a series; --format "
     "wide would train, forecast and score it as one — delete that column from the table"),
    # was 'could not be read as dates: found 'time' — use ISO dates such as 2024-01-31 ..., or fix that cell'
    (_train(data="joined.csv"), 2, "time column 'time' holds its own name 'time' in line 62 (1 such row): the header "
     "line repeated (files joined with their headers?) — delete the repeated header lines"),
    # were 'target column 'North' not found — available columns: time, Sales, Unnamed: 2' and '... has 1 empty cells'
    (_train("--target", "North", data="two_row_header.csv"), 2, "target column 'North' not found: it is a cell of "
     "the first row under the header (line 2), a second header row (names under merged cells?) — make the header one "
     "row of names (e.g. Sales North, Sales South) and delete the row under it"),
    (_train("--target", "Sales", data="two_row_header.csv"), 2, "time column 'time' is empty in the first row under "
     "the header (line 2), every other row has a time: a second header row"),
    # was read as 1.032 beside 976, silently
    (_train(data="thousand_dots.csv"), 2, "column 'y' holds numbers that read two ways: '1.001' in line 2 is 1001 "
     "with a thousands separator (as a European spreadsheet writes it), or 1.001 with a decimal "
     "point — write the numbers without thousands separators (1001) or with a decimal comma (1,001)"),
    (["forecast", "predict", "--run", "{d}/run", "--data", "{d}/thousand_dots.csv"], 2, "'1.001' in line 2 is 1001"),
    (_train(data="euro_dots.csv"), 2, "column 'y' holds numbers that read two ways: '€ 1.001' in line 2 is 1001 with "
     "a thousands separator"),
    # one frequency for all: the hourly series was read with daily seasons and forecast a day ahead, silently
    (_train("--id", "id", data="two_steps.csv"), 2, "series 'hourly' by 1 hour, series 'daily' by 1 day"),
    (_train("--id", "id", data="two_int_steps.csv"), 2, "the series step by different steps in time column 'time': "
     "series 'b' by 7, series 'a' by 1 (1 of 2 series differ from 'a')"),
    (_train(data="short.csv"), 2, "need at least"),
    # the command line's words for the hints a Python caller reads as keywords (lookback=, horizon=)
    (_train(data="short.csv"), 2, "— shorten --lookback (or --horizon) or supply more data"),
    (_train("--lookback", "0"), 2, "`lookback` must be a positive integer, got 0 — pass --lookback 1 or more"),
    (_train("--dropout", "1.5"), 2, "— pass --dropout 0.2, say"),
    (_train("--lookback", "1", "--horizon", "1", data="three.csv"), 2, "need at least 4 for lookback 1 + horizon 1 with "
     "70/15/15 splits — supply at least 4 rows"),                    # not 'shorten --lookback': it is 1 already
    (_train(data="big.csv"), 2, "holds 1e+300 in line 52, beyond the float32 range"),
    (_train(data="inf.csv"), 2, "column 'y'"),
    (_train(data="huge_ints.csv"), 2, "9223372036854775000 in line 2 reads as 9223372036854774784"),
    (_train(data="badtime.csv"), 2, "not a date"),
    (_train(data="notime.csv"), 2, "empty cells"),
    (_train(data="undecodable.csv"), 2, "neither UTF-8 nor Windows-1252"),
    (_train(data="ambiguous_dates.csv"), 2, "ambiguous: '01/02/2014'"),
    (_train(data="both_orders.csv"), 2, "mixes day-first dates ('31/01/2024')"),
    # was "mixes day-first dates ('32/13/2024') and month-first dates ('32/13/2024')": the one cell twice
    (_train(data="no_month.csv"), 2, "time column 'time' holds '32/13/2024', which is no date: neither 32 nor 13 is a "
     "month (1-12) — fix that cell"),
    (_train(data="half_offsets.csv"), 2, "times without one ('2024-03-30 05:00:00')"),
    (_train("--time-zone", "Europe/Berln"), 2, "unknown time zone 'Europe/Berln'"),
    # 1 hour after 01:00 on 31 March is 03:00 in Berlin: naive hours that show 02:00 read as no instant there
    (_train("--time-zone", "Europe/Berlin", data="naive_hours.csv"), 2,
     "holds 2024-03-31 02:00:00, which Europe/Berlin's clock skips"),
    (_train("--time-zone", "Europe/Berlin", "--id", "id", data="fold_once.csv"), 2,
     "holds 2024-10-27 02:00:00 in series 'b', which Europe/Berlin's clock shows twice"),
    (_train(data="spaces.csv"), 2, "did you mean ' Y'?"),
    (_train("--dates", "dmy"), 2, "dmy"),
    (_train("--dates", "month-first", data="dayfirst.csv"), 2, "does not read month-first"),
    # was 'holds numbers (e.g. 45292.0416667), not dates — write dates such as 2024-01-31, or leave out --time'
    (_train(data="serial_hours.csv"), 2, "(45292.0416667 is 2024-01-01 01:00), pass --dates excel"),
    # was 'holds numbers (e.g. 0.1), not dates — write dates such as 2024-01-31, or leave out --time'
    (_train(data="elapsed.csv"), 2, "time column 'time' holds numbers (e.g. 0.1), not dates: elapsed time in steps of "
     "0.1? — number the steps with whole numbers, which read as time steps (pandas: df['time'] = (df['time'] / "
     "0.1).round().astype(int))"),
    (_train(data="elapsed_from.csv"), 2, "(pandas: df['time'] = ((df['time'] - 2.5) / 0.1).round().astype(int))"),
    (_train("--dates", "excel"), 2, "holds dates already (e.g. '2024-01-01 00:00:00'), not spreadsheet serial day "
     "numbers — leave out --dates excel"),
    (_train("--dates", "excel", data="ymd.csv"), 2, "holds dates already (e.g. '20240101')"),
    (_train("--dates", "excel", data="serial_word.csv"), 2, "holds 'later' in line 7, not a spreadsheet serial day "
     "number (--dates excel) — fix that cell"),
    (_train("--dates", "excel", data="serial_negative.csv"), 2, "holds -3 in line 7: serial days count from 1 "
     "(1900-01-01)"),
    (_train("--dates", "excel1904", data="serial_negative.csv"), 2, "holds -3 in line 7: serial days count from 0 "
     "(1904-01-01) — fix that cell, or leave out --dates excel1904"),
    # Excel's serial day 60 is 1900-02-29, a day that never was; day 0 its 1900-01-00 (a time of day alone)
    (_train("--dates", "excel", data="serial_1900.csv"), 2, "holds 60 in line 61: serial day 60 is 1900-02-29 in "
     "Excel, a day that never was (its 1900 leap-year bug) — fix that cell (59 is 1900-02-28, 61 is 1900-03-01)"),
    (_train("--dates", "excel", data="serial_clock.csv"), 2, "holds 0 in line 2: serial day 0 is no date (Excel shows "
     "1900-01-00): a time of day alone — give each time its date"),
    # a workbook says which date system its serial days count in: the other --dates would shift them four years
    (_train("--dates", "excel", data="serial_mac.xlsx"), 2, "the workbook counts its serial days in the 1904 date "
     "system (serial day 0 is 1904-01-01), not the one --dates excel reads: its dates would be 4 years and a day "
     "early — pass --dates excel1904 (dates='excel1904' in Python)"),
    (_train("--dates", "excel1904", data="serial_win.xlsx"), 2, "the workbook counts its serial days in the 1900 "
     "date system (serial day 1 is 1900-01-01), not the one --dates excel1904 reads: its dates would be 4 years and "
     "a day late — pass --dates excel (dates='excel' in Python)"),
    (_train("--dates", "excel", data="serial_10000.csv"), 2, "holds 2958466 in line 7: past 9999-12-31"),
    # the fix was only 'leave out --dates excel', which predict has no flag for: it now says what a run trained with it reads
    (["forecast", "predict", "--run", "{d}/run_serial", "--data", "{d}/sine.csv"], 2, "holds dates already (e.g. "
     "'2024-01-01 00:00:00'), not spreadsheet serial day numbers — leave out --dates excel (dates='excel' in Python) "
     "when training: dates read as they are; a run trained with it reads serial days in predict and evaluate too"),
    (_train("--target", "sales"), 2, "sales"),
    (_train("--time", "date"), 2, "date"),
    (_train("--lookback", "0"), 2, "lookback"),
    (_train("--lookback", "abc"), 2, "'abc' is not an integer"),
    # an empty item of a comma list was dropped: two quantiles trained, and no word said so
    (_train("--quantiles", "0.1,,0.9"), 2, "invalid value for '--quantiles': '0.1,,0.9' has an empty item"),
    # an epoch's draw of indices beyond any memory: exit 1 'use a smaller model or --batch-size', a run folder left
    (_train("--samples-per-epoch", "1000000000000"), 2, "--samples-per-epoch 1000000000000 draws 1,000,000,000,000 "
                                                        "windows an epoch, whose indices alone need about 43.7 TiB"),
    (_train("--lookback", "100000"), 2, "lookback"),
    (_train("--horizon", "-2"), 2, "horizon"),
    # a part shorter than a horizon holds no window: the run trained, its metrics empty ('test_size 0')
    (_train("--horizon", "6", "--test-size", "1"), 2, "--test-size 1 is shorter than --horizon 6"),
    (_train("--horizon", "6", "--val-size", "2"), 2, "pass --val-size 6 or more (or 0 for no val part)"),
    (_train("--model", "lsmt"), 2, "lsmt"),
    (_train("--fill", "mean"), 2, "mean"),
    # a run with log targets given a zero or a negative value: was 'series 'series' has 0 at its point 41', the
    # place in the sorted series, not the file's line
    (["forecast", "predict", "--run", "{d}/run_log", "--data", "{d}/zero.csv"], 2, "column 'y' holds 0 in line 42: "
     "the run models log values (--log, given or chosen from the data), which need targets above 0 — fix that cell, "
     "shift the series above zero, or train with --no-log"),
    (["forecast", "evaluate", "--run", "{d}/run_log", "--data", "{d}/negative.csv"], 2, "column 'y' holds 0 in line 42 "
     "and 2 more values at or below 0: the run models log values"),
    (["forecast", "backtest", "--run", "{d}/run_log", "--data", "{d}/negative.csv", "--folds", "2"], 2,
     "and 2 more values at or below 0"),
    (_train("--log", data="zero.csv"), 2, "column 'y' holds 0 in line 42: the run models log values"),
    # a count series' many 0s are data: its fix said to fix them all, or shift the series
    (_train("--log", data="sales.csv"), 2, "column 'y' holds 0 in line 3 and 79 more values at or below 0: the run "
     "models log values (--log, given or chosen from the data), which need targets above 0 — 80 of its 120 values "
     "are 0, as counts and sales of intermittent demand are: train with --no-log (a series never below 0 is forecast "
     "no lower than 0 without logs: the floor at 0 of --bounds auto)"),
    # --bounds LOW,HIGH: two finite numbers, low below high, either side empty; or auto / none
    (_train("--bounds", "100,0"), 2, "the low bound must lie below the high one, got 100,0 — pass --bounds 0,100"),
    (_train("--bounds", "5,5"), 2, "the low bound must lie below the high one, got 5,5 — pass two different numbers"),
    (_train("--bounds", "0,inf"), 2, "bounds must be finite numbers, got inf — leave the side empty for no bound there"),
    (_train("--bounds", ","), 2, "bounds with neither side bound nothing — pass --bounds none for no bounds"),
    (_train("--bounds", "0-100"), 2, "bounds must be LOW,HIGH, auto or none, got '0-100' — pass --bounds LOW,HIGH "
     "(either side may be empty: 0, or ,100)"),
    (_train("--bounds", "0,ten"), 2, "bounds must be two numbers LOW,HIGH, got 'ten' in them"),
    # the data fit reads outside the bounds given: the first cell as the file numbers it, and how many more
    (_train("--bounds", "0,10"), 2, "column 'y' holds 10.0063 in line 2 and 59 more values outside --bounds 0,10, "
     "which the data fit reads must lie within — fix those cells, or widen the bounds"),
    (_train("--bounds", "10,"), 2, "values outside --bounds 10,, which the data fit reads must lie within"),
    (["forecast", "predict", "--run", "{d}/run", "--data", "{d}/nope.csv"], 2, "file not found"),
    (["forecast", "predict", "--run", "{d}/nope", "--data", "{d}/sine.csv"], 2, "run folder not found"),
    # '~' in quotes or after '=' (--data=~/x.csv) reaches lstmkit as it is: the fix names the home folder
    (["forecast", "predict", "--run", "{d}/run", "--data", "~/lstmkit-nope.csv"], 2, "outside quotes and not after '='"),
    (["forecast", "predict", "--run", "~/lstmkit-nope", "--data", "{d}/sine.csv"], 2, "outside quotes and not after '='"),
    (["forecast", "predict", "--run", "{d}", "--data", "{d}/sine.csv"], 2, "not an lstmkit run folder"),
    (["forecast", "predict", "--run", "{d}/sine.csv", "--data", "{d}/sine.csv"], 2, "not a run folder"),
    (["forecast", "predict", "--run", "{d}/run", "--data", "{d}/big.csv"], 2, "float32"),
    (["forecast", "predict", "--run", "{d}/run", "--data", "{d}/short.csv"], 2, "need at least 12 rows"),
    (["forecast", "predict", "--run", "{d}/run", "--data", "{d}/sine.csv", "--out", "{d}/a_file/f.csv"], 2,
     "a_file is a file"),
    (["forecast", "predict", "--data", "{d}/sine.csv"], 2, "missing option"),
    (["forecast", "evaluate", "--run", "{d}/run", "--data", "{d}/empty.csv"], 2, "empty"),
    (["forecast", "evaluate", "--run", "{d}/nope", "--data", "{d}/sine.csv"], 2, "run folder not found"),
    # evaluate --out: the test forecasts' file, refused before any work where it cannot be written
    (["forecast", "evaluate", "--run", "{d}/run", "--data", "{d}/sine.csv", "--out", "{d}/run"], 2, "it is a folder"),
    (["forecast", "evaluate", "--run", "{d}/run", "--data", "{d}/sine.csv", "--out", "{d}/run/test_forecasts.csv"], 2,
     "would replace the run's own test_forecasts.csv"),
    (["forecast", "evaluate", "--run", "{d}/run", "--data", "{d}/sine.csv", "--out", "{d}/f.pdf"], 2,
     "cannot write a table as '.pdf'"),
    (["forecast", "backtest", "--run", "{d}/run", "--data", "{d}/nope.csv"], 2, "file not found"),
    # backtest --config: its values' refusals said '— pass --lookback 1 or more', a flag backtest does not have,
    # and an unknown key 'Forecaster has no parameter', naming no file
    (["forecast", "backtest", "--config", "{d}/bt_lookback_0.yaml", "--data", "{d}/sine.csv", "--folds", "2"], 2,
     "— pass 'lookback: 1' in "),
    (["forecast", "backtest", "--config", "{d}/bt_lookbak.yaml", "--data", "{d}/sine.csv", "--folds", "2"], 2,
     "bt_lookbak.yaml: unknown setting 'lookbak' — did you mean 'lookback'?"),
    # a series too short for the folds: the points they need said (of many series, the short ones are left out
    # with a warning naming them, and every one too short names the longest)
    (["forecast", "backtest", "--run", "{d}/run", "--data", "{d}/short.csv", "--folds", "20"], 2,
     "a series of 8 points is too short for 20 folds of horizon"),
    # a target column without a value: as predict says it (was numpy's 'attempt to get argmax of an empty sequence')
    (["forecast", "backtest", "--run", "{d}/run", "--data", "{d}/no_values.csv"], 2,
     "the target column 'y' has no values — choose --target columns that hold numbers"),
    # was 'the data has no rows', naming no file (classify's reader names it)
    (["forecast", "predict", "--run", "{d}/run", "--data", "{d}/header_only.csv"], 2,
     "header_only.csv has a header but no data rows"),
    # a path written on Windows: its backslashes name one file here ('check the path', with the file right there)
    (["forecast", "predict", "--run", "{d}/run", "--data", "{d}\\sine.csv"], 2,
     "'\\' separates no folders on this system: pass /"),
    (["forecast", "update", "--run", "{d}/nope", "--data", "{d}/sine.csv"], 2, "not found"),
    # last month's file again: the update would be fine-tuned and judged on points the model has read
    (["forecast", "update", "--run", "{d}/run_updatable", "--data", "{d}/sine.csv"], 2,
     "the update data ends 2024-01-05T23:00:00, not after 2024-01-05T23:00:00, the newest point the model has read "
     "(its training data)"),
    # enough rows, but a holdout that takes nearly every window: the fix names a smaller one too
    (["forecast", "update", "--run", "{d}/run_updatable", "--data", "{d}/newer_above.csv", "--holdout", "0.999"], 2,
     "held-out points), or a smaller holdout (--holdout 0.2)"),
    # an update's data outside the bounds the run was given: refused as fit refuses it, before any training
    (["forecast", "update", "--run", "{d}/run_bounded", "--data", "{d}/newer_above.csv"], 2,
     "column 'y' holds 80 in line 32 outside the run's bounds --bounds -50,50, which the data an update reads must lie "
     "within — fix that cell, or train a new run with wider bounds or --bounds auto"),
    # a run with log targets updates (it was refused: "update supports single-series point-forecast runs without
    # ... --log"), and its update data is checked as predict's is, then for newer points
    (["forecast", "update", "--run", "{d}/run_log", "--data", "{d}/zero.csv"], 2, "column 'y' holds 0 in line 42: "
     "the run models log values"),
    (["forecast", "update", "--run", "{d}/run_log", "--data", "{d}/sine.csv"], 2, "the update data ends "
     "2024-01-05T23:00:00, not after 2024-01-05T23:00:00"),
    (["forecast", "bogus"], 2, "no such command"),
    # the Monash archive's .tsf files: a header its data contradicts, a malformed line, named by line
    (_train(data="fields.tsf"), 2, "line 9 has 3 ':' before its values, but the header declares 2 attributes"),
    (_train(data="missing_false.tsf"), 2, "value 10 is '?' (missing), but the header says @missing false (line 6)"),
    (_train(data="unequal.tsf"), 2, "line 10 holds 119 values and line 9 120, but the header says @equallength true"),
    (_train(data="fortnightly.tsf"), 2, "line 4: @frequency names an unknown frequency 'fortnightly'"),
    (_train(data="colon_times.tsf"), 2, "write dates as 1979-01-01 00-00-00 (dashes, not ':', in the time)"),
    (_train(data="bad_date.tsf"), 2, "attribute 'start_timestamp' (date) is '01/01/24 00-00-00'"),
    (_train(data="text.tsf"), 2, "line 9: value 5 is '12kg', not a number"),
    (_train(data="no_data.tsf"), 2, "has no @data line"),
    (_train(data="empty.tsf"), 2, "file is empty"),
    (_train(data="nope.tsf"), 2, "file not found"),
    # was "unknown file type '.dat' — use one of: .csv, ... (or convert the file to CSV)", which it is
    (_train(data="logger.dat"), 2, "logger.dat holds CSV text — rename it logger.csv"),
    (_train(data="series.ts"), 2, ".ndjson, .tsf (.gz, .bz2, .xz, .zst or .zip too) (or convert the file to CSV)"),
    (_train(data="monash_text.zip"), 2, "text.zip line 9: value 5 is '12kg', not a number"),    # its line, inside
    # was "could not be read as dates: found '1500-01-01' -- use ISO dates", which it is (or a traceback for 1500)
    (_train(data="from1500.csv"), 2, "outside the years lstmkit computes in (1678 to 2261): the first is '1500-01-01'"),
    (_train(data="from2500.csv"), 2, "outside the years lstmkit computes in (1678 to 2261): the first is '2500-06-01'"),
    (_tsf_train("--horizon", "6", data="gaps.tsf"), 2, "empty or non-finite cells in column 'value' of series "
     "'series' (1 of 120 rows) — clean the data, or train with --fill"),
    (_tsf_train("--format", "wide", data="gaps.tsf"), 2, "--format wide does not apply to gaps.tsf"),
    (_tsf_train("--format", "m4", data="gaps.tsf"), 2, "--format m4 does not apply to gaps.tsf"),
    (["forecast", "predict", "--run", "{d}/run", "--data", "{d}/unequal.tsf"], 2, "@equallength true"),
    (["forecast", "evaluate", "--run", "{d}/run", "--data", "{d}/text.tsf"], 2, "'12kg', not a number"),
    (["forecast", "backtest", "--run", "{d}/run", "--data", "{d}/missing_false.tsf"], 2, "@missing false"),
    # was '12 numeric columns besides the time … --target JAN; for many series side by side … --id series'
    (_tsf_train(data="grid.csv"), 2, "a row per 'YEAR' and its 12 months in columns ('JAN' … 'DEC'): one monthly "
     "series laid out as a grid, not 12 series — make it one column of values, a row per month: "
     "df.melt(id_vars=['YEAR'], var_name='month') (the months may stay names), then --time YEAR,month --target value"),
]


@pytest.mark.parametrize("argv, code, needle", CASES, ids=[f"{k}:{c[2]}" for k, c in enumerate(CASES)])
def test_forecast_bad_input(argv, code, needle, d, tmp_path, capsys):
    check(argv, code, needle, tmp_path, capsys, d)


@pytest.mark.parametrize("stdin, needle", [
    ("", "standard input is empty"), (b"\x1f\x8b\x08\x00", "standard input is not a valid gzip file"),
    ("just words\n", "standard input holds no table lstmkit can read")])
def test_forecast_on_standard_input_without_a_table(stdin, needle, d, tmp_path, capsys, monkeypatch):
    """``--data -`` reads the table from standard input (it was 'file not found: -'); what is piped in
    that is no table is named as standard input."""
    check([*TRAIN[:3], "-", *TRAIN[4:]], 2, needle, tmp_path, capsys, d, stdin=stdin, monkeypatch=monkeypatch)


def test_forecast_trains_on_a_gzipped_table_piped_in(d, tmp_path, capsys, monkeypatch):
    """``gzip -c sine.csv | lstmkit forecast train --data - ...``: the stream is decompressed, then read as its CSV."""
    import gzip
    argv = [str(a).format(d=d, out=tmp_path / "trained") for a in [*TRAIN[:3], "-", *TRAIN[4:]]]
    code, out, err = run_cli(argv, capsys, stdin=gzip.compress((d / "sine.csv").read_bytes()), monkeypatch=monkeypatch)
    assert code == 0, err
    assert len(list((tmp_path / "trained").iterdir())) == 1
    (run,) = (tmp_path / "trained").iterdir()
    # no file a later command could read again: it was recorded as WORKING_FOLDER/-, and a backtest without
    # --data said 'file not found: /…/- — check the path'
    summary = json.loads((run / "lstmkit.json").read_text())["data"]
    assert (summary["source"], summary["piped"]) == (None, {"source": "standard input"})
    line = check(["forecast", "backtest", "--run", run, "--folds", "2", "--out", tmp_path / "bt"], 2,
                 f"{run} was trained on data piped to standard input, which cannot be read again", tmp_path, capsys, d)
    assert line.endswith("— pass the data again with --data (its file, or a pipe of the same data)"), line
    meta = json.loads((run / "lstmkit.json").read_text())
    (run / "lstmkit.json").write_text(json.dumps({**meta, "status": "interrupted"}))
    line = check(["forecast", "train", "--resume", run], 2, "trained on data piped to standard input", tmp_path,
                 capsys, d)
    assert line.endswith("(its file, or a pipe of the same data), or start a new run without --resume"), line
    code, _, err = run_cli(["forecast", "train", "--resume", run, "--data", d / "sine.csv"], capsys)
    assert code == 0, err


def test_a_named_pipe_is_recorded_as_piped_data(d, tmp_path, capsys):
    """A named pipe (as `<(zcat f.csv.gz)`'s /dev/fd/63) was recorded by the path it resolves to
    (/proc/PID/fd/pipe:[N]): a backtest without --data named that path, file not found."""
    import os
    import threading
    pipe = tmp_path / "fifo.csv"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_bytes((d / "sine.csv").read_bytes()))
    writer.start()
    argv = [str(a).format(d=d, out=tmp_path / "trained") for a in [*TRAIN[:3], pipe, *TRAIN[4:]]]
    code, _, err = run_cli(argv, capsys)
    writer.join()
    assert code == 0, err
    (run,) = (tmp_path / "trained").iterdir()
    summary = json.loads((run / "lstmkit.json").read_text())["data"]
    assert (summary["source"], summary["piped"]) == (None, {"source": str(pipe)})
    check(["forecast", "backtest", "--run", run, "--folds", "2", "--out", tmp_path / "bt"], 2,
          f"{run} was trained on the pipe {pipe}, which cannot be read again", tmp_path, capsys, d)


def test_backtest_of_a_run_whose_data_moved_names_the_file_and_the_flag(d, tmp_path, capsys):
    """A run copied to another machine without its data: `backtest` (which reads the run's data when
    no --data is given) said 'file not found: OLD PATH — check the path', of a path never typed."""
    import shutil
    run = tmp_path / "moved run"
    shutil.copytree(d / "run", run)
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["data"]["source"] = "C:\\Users\\ana\\séries\\sine.csv"           # recorded on Windows
    (run / "lstmkit.json").write_text(json.dumps(meta))
    line = check(["forecast", "backtest", "--run", run, "--folds", "2", "--out", tmp_path / "bt"], 2,
                 f"{run} was trained on C:\\Users\\ana\\séries\\sine.csv, which is not there any more (moved, "
                 "renamed or deleted)", tmp_path, capsys, d)
    assert line.endswith("— pass its new place with --data"), line
    code, text, err = run_cli(["forecast", "backtest", "--run", run, "--folds", "2", "--data", d / "sine.csv",
                               "--out", tmp_path / "bt"], capsys)
    assert code == 0, err


@pytest.mark.parametrize("data, first", [
    ("ymd.csv", lambda row: row.startswith("2024-04-30,")),   # yyyymmdd integers are dates: the day after row 120
    # other integers are steps, not 1970 dates, and go on by their own step: 0, 7, ..., 833 then 840 (was 834)
    ("int_time.csv", lambda row: row.startswith("840,")),
], ids=["yyyymmdd", "steps"])
def test_integer_time_columns(data, first, d, tmp_path, capsys):
    out = tmp_path / "runs"
    code, text, err = run_cli([a.format(d=d, out=out) for a in _train(data=data)], capsys)
    assert code == 0, err
    (run,) = out.iterdir()
    code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", d / data], capsys)
    assert code == 0 and first(text.splitlines()[1]), (text, err)


@pytest.mark.parametrize("data, last", [
    ("dayfirst.csv", "2024-04-30"),              # the day after 29/04/2024, not a month after 04/29
    ("semicolon.csv", "2024-04-30"),
    ("title.csv", "2024-04-30"),                 # was 'target column 'y' not found — available columns: Sine report'
    ("sap.csv", "2024-04-30"),                   # was 'not numeric: found '988,37-''
    ("excel.csv", "2024-04-30"),
    ("dst.csv", "2024-04-03 23:00:00"),          # UTC: the last row is 2024-04-04 00:00:00+02:00
])
def test_spreadsheet_and_logger_files_train_and_predict(data, last, d, tmp_path, capsys):
    out = tmp_path / "runs"
    code, text, err = run_cli([a.format(d=d, out=out) for a in _train(data=data)], capsys)
    assert code == 0, err
    assert ("read as UTC (its offsets: +01:00, +02:00)" in text) == (data == "dst.csv"), text
    (run,) = out.iterdir()
    code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", d / data], capsys)
    assert code == 0 and text.splitlines()[1].startswith(last + ","), (text, err)


def test_predict_reads_dates_in_the_order_training_found(d, tmp_path, capsys):
    # the last day alone (01/02/2024 00:00 ... 23:00) fits both orders with regular steps: an error
    # on its own, read day first as the training file (28/01/2024 ...) was
    check(["forecast", "predict", "--run", "{d}/run", "--data", "{d}/last_day.csv"], 2, "ambiguous", tmp_path, capsys, d)
    out = tmp_path / "runs"
    code, text, err = run_cli([a.format(d=d, out=out) for a in _train(data="hourly_dayfirst.csv")], capsys)
    assert code == 0, err
    (run,) = out.iterdir()
    assert json.loads((run / "lstmkit.json").read_text())["data"]["dates"] == "day-first"
    code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", d / "last_day.csv"], capsys)
    assert code == 0 and text.splitlines()[1].startswith("2024-02-02"), (text, err)     # 02/02 00:00, not 3 January


def test_format_version_as_a_string_is_named(d, tmp_path, capsys):
    import shutil
    run = tmp_path / "r"
    shutil.copytree(d / "run", run)
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["format_version"] = "1"
    (run / "lstmkit.json").write_text(json.dumps(meta))
    line = check(["forecast", "predict", "--run", run, "--data", "{d}/sine.csv"], 2, "format_version '1'",
                 tmp_path, capsys, d)
    assert "newer" not in line


def test_a_batch_whose_activations_exceed_memory_is_refused(d, tmp_path, capsys, monkeypatch):
    """--batch-size 10000000 on a 1,000,000-row series made one batch of every window (35 GiB of
    activations at --lookback 200): a machine of 64 KiB here, the sine's 72 windows of 12 steps."""
    from lstmkit.train import memory
    monkeypatch.setattr(memory, "memory_limit", lambda device: (64 * 2**10, None, "this machine's memory"))
    line = check(_train("--batch-size", "1000"), 2, "one training batch of", tmp_path, capsys, d)
    assert re.search(r"of 72 examples is too large to train here: its activations need about [\d.]+ [KM]iB \([\d.]+ "
                     r"KiB an example\), more than the 64 KiB of this machine's memory — pass --batch-size \d+ or "
                     r"less, or a shorter --lookback \(12\)$", line), line
