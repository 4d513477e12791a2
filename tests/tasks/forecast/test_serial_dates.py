"""``--dates excel``: a time column left formatted "General" in a spreadsheet holds serial days
(45292 is 2024-01-01, 45292.5 its noon). Read as dates by ``train`` and, from the run, by
``predict``, ``evaluate``, ``backtest``, a resume and the service's time stamps."""
import json

import numpy as np
import pandas as pd
import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit import Forecaster
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread)

TINY = dict(lookback=12, horizon=3, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1,
            progress="off", tensorboard=False, device="cpu", doctor=False)
FLAGS = ["--target", "units", "--time", "date", "--lookback", "12", "--horizon", "3", "--hidden-size", "4",
         "--layers", "1", "--epochs", "1", "--ensemble", "1", "--progress", "off", "--device", "cpu"]


def _serial(n: int = 120, per_day: int = 24) -> pd.DataFrame:
    """Readings as a sheet saves them with the date column "General": serial days, the time of day
    as the fraction, written to 10 decimals (45292.0416666667)."""
    k = np.arange(n)
    return pd.DataFrame({"date": np.round(45292 + k / per_day, 10), "units": 10 + np.sin(2 * np.pi * k / per_day)})


def test_the_cli_trains_and_predicts_on_serial_date_times(tmp_path, capsys):
    data, recent = tmp_path / "sales.csv", tmp_path / "recent.csv"
    _serial().to_csv(data, index=False)
    _serial(100).to_csv(recent, index=False)                        # the history up to the 100th hour
    assert "45292.0416666667" in data.read_text()
    code, text, err = run_cli(["forecast", "train", "--data", data, *FLAGS, "--out", tmp_path / "runs"], capsys)
    assert code == 2 and "pass --dates excel" in err                # the fractions alone are no dates
    code, text, err = run_cli(["forecast", "train", "--data", data, *FLAGS, "--dates", "excel",
                               "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["data"]["dates"] == "excel"
    code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", recent], capsys)
    assert code == 0, err
    stamps = [row.split(",")[0] for row in text.splitlines()[1:4]]
    assert stamps == ["2024-01-05 04:00:00", "2024-01-05 05:00:00", "2024-01-05 06:00:00"]   # after hour 99
    code, text, err = run_cli(["forecast", "evaluate", "--run", run, "--data", data, "--json"], capsys)
    assert code == 0 and json.loads(text), err
    code, text, err = run_cli(["forecast", "backtest", "--run", run, "--data", data, "--folds", "2"], capsys)
    assert code == 0, err


def test_whole_serial_days_round_trip_through_the_python_api(tmp_path):
    df = _serial(90, per_day=1).astype({"date": np.int64})
    est = Forecaster(**TINY, dates="excel").fit(df, target="units", time="date", out=tmp_path)
    assert est.config_.dates == "excel" and est.data_summary_["dates"] == "excel"
    got = Forecaster.load(est.run_dir_).predict(df.head(60))["date"]
    assert got.tolist() == list(pd.date_range("2024-03-01", periods=3, freq="D"))      # serial 45352 is 1 March
    assert set(est.evaluate(df))
    cutoffs = ["2024-03-25T00:00:00", "2024-03-28T00:00:00"]               # rows 84 and 87 of 90 days
    assert sorted({f["cutoff"] for f in est.backtest(df, folds=2)["folds"]}) == cutoffs
    refit = Forecaster(**TINY, dates="excel", target=["units"], time="date").backtest(df, folds=2, refit=True)
    assert sorted({f["cutoff"] for f in refit["folds"]}) == cutoffs


class _CtrlCAt:
    """Ctrl-C after training step ``at`` (a callback with every other hook a no-op)."""
    def __init__(self, at: int):
        self.at = at

    def __getattr__(self, name):
        return lambda *a, **k: None

    def on_batch_end(self, trainer, batch, n_batches, loss):
        if trainer.global_step == self.at:
            raise KeyboardInterrupt


def test_a_resumed_run_reads_serial_days_as_it_did(tmp_path):
    from lstmkit.train import TrainingInterrupted
    df, run = _serial(90, per_day=1), tmp_path / "run"
    with pytest.raises(TrainingInterrupted):
        Forecaster(**{**TINY, "max_epochs": 3, "batch_size": 8}, dates="excel").fit(
            df, target="units", time="date", run_dir=run, callbacks=[_CtrlCAt(2)])
    resumed = Forecaster.resume(run, data=df)
    assert resumed.config_.dates == "excel" and resumed.data_summary_["dates"] == "excel"
    assert resumed.predict(df)["date"].iloc[0] == pd.Timestamp("2024-03-31")          # serial 45382 + 1


def test_serial_days_in_a_time_zone_forecast_on_its_clock(tmp_path):
    df = _serial(90)
    est = Forecaster(**TINY, dates="excel", time_zone="Europe/Berlin").fit(df, target="units", time="date")
    got = est.predict(df)["date"]
    assert str(got.dt.tz) == "Europe/Berlin" and got.iloc[0] == pd.Timestamp("2024-01-04 18:00", tz="Europe/Berlin")


def test_serial_days_that_are_no_dates_are_one_line(tmp_path, capsys):
    df = _serial(60).astype({"date": object})
    df.loc[7, "date"] = "later"
    df.to_csv(tmp_path / "gap.csv", index=False)
    _serial(60).assign(date=lambda f: pd.to_datetime(f["date"] * 86400, unit="s", origin="1899-12-30")).to_csv(
        tmp_path / "dated.csv", index=False)
    for name, needle in (("gap.csv", "holds 'later' in line 9"), ("dated.csv", "holds dates already")):
        code, _, err = run_cli(["forecast", "train", "--data", tmp_path / name, *FLAGS, "--dates", "excel",
                                "--out", tmp_path / "runs"], capsys)
        assert_user_error(code, err, needle, "--dates excel")
    assert not (tmp_path / "runs").exists()


def test_a_serial_date_column_and_a_time_column_read_as_one_time(tmp_path, capsys):
    """``--time date,hour``: serial days beside times of day, written as clock times or, a time column
    formatted "General" too, as fractions of a day (0.5416666667 is 13:00)."""
    k = np.arange(96)
    for name, clock in (("clock", [f"{h % 24:02d}:00" for h in k]), ("fraction", np.round(k % 24 / 24, 10))):
        data = tmp_path / f"{name}.csv"
        pd.DataFrame({"date": 45292 + k // 24, "hour": clock, "units": 10 + np.sin(k / 4)}).to_csv(data, index=False)
        flags = [f if f != "date" else "date,hour" for f in FLAGS]
        code, _, err = run_cli(["forecast", "train", "--data", data, *flags, "--dates", "excel",
                                "--out", tmp_path / name], capsys)
        assert code == 0, err
        (run,) = (tmp_path / name).iterdir()
        code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", data], capsys)
        assert code == 0 and text.splitlines()[1].startswith("2024-01-05 00:00:00,1,"), (text, err)


def _workbook(path, cells, mac: bool):
    """A sheet of ``date, units`` rows as Excel saves it: ``cells`` serial days in a column formatted
    "General" (or datetimes in date cells), in the 1904 date system when ``mac``."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    book = openpyxl.Workbook()
    if mac:
        book.epoch = CALENDAR_MAC_1904
    book.active.append(["date", "units"])
    for k, cell in enumerate(cells):
        book.active.append([cell, 10 + np.sin(k / 3)])
    book.save(path)
    return path


def test_a_workbook_in_the_1904_date_system_trains_with_dates_excel1904(tmp_path, capsys):
    """Mac Excel's 1904 date system counts 2024-01-01 as 43830: a workbook that says so is refused
    with --dates excel (its dates would be 4 years early) and read with --dates excel1904, which the
    run keeps for the CSV serial days predict is given later; a 1900 workbook the other way round."""
    k = np.arange(90)
    mac = _workbook(tmp_path / "mac.xlsx", (43830 + k).tolist(), mac=True)
    win = _workbook(tmp_path / "win.xlsx", (45292 + k).tolist(), mac=False)
    for data, flag, fix in ((mac, "excel", "pass --dates excel1904"), (win, "excel1904", "pass --dates excel ")):
        code, _, err = run_cli(["forecast", "train", "--data", data, *FLAGS, "--dates", flag,
                                "--out", tmp_path / "runs"], capsys)
        assert_user_error(code, err, "the workbook counts its serial days in the", fix)
    assert not (tmp_path / "runs").exists()
    code, _, err = run_cli(["forecast", "train", "--data", mac, *FLAGS, "--dates", "excel1904",
                            "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["data"]["dates"] == "excel1904" and meta["config"]["dates"] == "excel1904"
    serial = pd.DataFrame({"date": 43830 + k, "units": 10 + np.sin(k / 3)})          # the sheet saved as CSV
    serial.head(60).to_csv(tmp_path / "recent.csv", index=False)
    for data, first in ((mac, "2024-03-31"), (tmp_path / "recent.csv", "2024-03-01")):    # after day 89 / day 59
        code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", data], capsys)
        assert code == 0 and text.splitlines()[1].startswith(first), (text, err)
    est = Forecaster.load(run)
    assert set(est.evaluate(serial))
    assert sorted({f["cutoff"] for f in est.backtest(serial, folds=2)["folds"]}) == [
        "2024-03-25T00:00:00", "2024-03-28T00:00:00"]                                  # rows 84 and 87


def test_date_cells_of_a_1904_workbook_read_as_excel_shows_them_and_unmarked_serials_name_the_flag(tmp_path, capsys):
    """Date cells need no flag in either system (pandas reads them in the workbook's epoch); whole
    serial days left unmarked train as step numbers, with a warning naming the flag: the workbook's
    own system, or for a CSV, which cannot say, excel with excel1904 beside."""
    days = pd.date_range("2024-01-01", periods=90, freq="D").to_pydatetime().tolist()
    dated = _workbook(tmp_path / "dated.xlsx", days, mac=True)
    mac = _workbook(tmp_path / "mac.xlsx", (43830 + np.arange(90)).tolist(), mac=True)
    pd.read_excel(mac).assign(date=lambda f: f["date"] + 1462).to_csv(tmp_path / "serial.csv", index=False)
    for data, words in ((dated, None),
                        (mac, "(43830 is 2024-01-01), pass --dates excel1904 (dates='excel1904' in Python), or "),
                        (tmp_path / "serial.csv", "(45292 is 2024-01-01), pass --dates excel (dates='excel' in "
                                                  "Python; --dates excel1904 if the sheet uses the 1904 date system)")):
        out = tmp_path / data.stem
        code, _, err = run_cli(["forecast", "train", "--data", data, *FLAGS, "--out", out], capsys)
        assert code == 0, err
        assert ("read as step numbers, not dates" in err) == (words is not None) and (words or "") in err, err
        if words is None:
            (run,) = out.iterdir()
            code, text, err = run_cli(["forecast", "predict", "--run", run, "--data", data], capsys)
            assert code == 0 and text.splitlines()[1].startswith("2024-03-31"), (text, err)


def test_a_1904_workbook_keeps_its_date_system_in_a_wide_table_and_a_two_column_time(tmp_path):
    """The workbook's date system follows its serial days where the reader reshapes the table: a wide
    sheet melted to one series a column, a date column joined with a time-of-day column."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    from lstmkit.tasks.forecast.config import ForecastConfig
    from lstmkit.tasks.forecast.panel import read_panel
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["date", "hour", "a", "b"])
    for k in range(48):
        book.active.append([43830 + k // 24, f"{k % 24:02d}:00", float(k), float(-k)])
    book.save(tmp_path / "mac.xlsx")
    _workbook(tmp_path / "wide.xlsx", (43830 + np.arange(24)).tolist(), mac=True)     # date, units: one series
    for data, cfg, first in (
            ("wide.xlsx", ForecastConfig(format="wide", time="date", dates="excel"), ["2024-01-01", "2024-01-02"]),
            ("mac.xlsx", ForecastConfig(time="date,hour", target=["a"], dates="excel"),
             ["2024-01-01 00:00", "2024-01-01 01:00"])):
        panel = read_panel(tmp_path / data, cfg)
        assert panel.time_info == {"dates": "excel1904"}, data                  # what training then refuses
        assert list(panel.series_time(0)[:2]) == [pd.Timestamp(t) for t in first]
