"""The Monash archive's .tsf files: read as the long table, their header's horizon and frequency
used as the fit's settings, every contradiction between header and data one error naming the line."""
import gzip
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast_data import FAST
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.tsffile import parse_tsf, read_tsf, tsf_settings
from lstmkit.train.callbacks import Callback

HEAD = ("# written by the test\n@relation shops\n@attribute series_name string\n@attribute start_timestamp date\n"
        "@frequency {freq}\n@horizon {h}\n@missing {missing}\n@equallength {equal}\n@data\n")


def tsf_text(series, starts=None, freq="monthly", h=6, missing="false", equal="false"):
    """``series`` ({name: values}, None for '?') as a .tsf file's text, each from its start date."""
    starts = starts or {name: "2000-01-01 00-00-00" for name in series}
    rows = (f"{name}:{starts[name]}:" + ",".join("?" if v is None else f"{v:g}" for v in values)
            for name, values in series.items())
    return HEAD.format(freq=freq, h=h, missing=missing, equal=equal) + "\n".join(rows) + "\n"


def shops(n=60, k=3):
    """``k`` monthly series of ``n`` points: a level, a yearly season, a little noise."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    return {f"S{j}": list(np.round(50 + 10 * j + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, n), 3))
            for j in range(1, k + 1)}


def test_series_lines_become_the_long_table_with_calendar_times():
    text = tsf_text({"T1": [1, 2, 3, 4], "T2": [5, None, 7]}, missing="true",
                    starts={"T1": "2000-01-31 00-00-00", "T2": "2001-03-01 12-00-00"})
    df = parse_tsf(text.splitlines())
    assert list(df.columns) == ["series_name", "time", "value"]
    assert df["series_name"].tolist() == ["T1"] * 4 + ["T2"] * 3
    # months on the calendar: from 31 January to the last day of each month, not 30-day steps
    assert df["time"].dt.strftime("%Y-%m-%d %H").tolist() == ["2000-01-31 00", "2000-02-29 00", "2000-03-31 00",
                                                              "2000-04-30 00", "2001-03-01 12", "2001-04-01 12",
                                                              "2001-05-01 12"]
    np.testing.assert_array_equal(df["value"].to_numpy(), [1, 2, 3, 4, 5, np.nan, 7])
    info = df.attrs["tsf"]
    assert (info["id"], info["time"], info["target"], info["series"], info["horizon"]) == \
        ("series_name", "time", "value", 2, (6, 6))


@pytest.mark.parametrize("freq, step", [("10_minutes", "10min"), ("half_hourly", "30min"), ("4_seconds", "4s"),
                                        ("weekly", "7D"), ("daily", "1D"), ("hourly", "1h")])
def test_fixed_frequencies_step_each_point(freq, step):
    df = parse_tsf(tsf_text({"T1": [1, 2, 3, 4]}, freq=freq).splitlines())
    assert (df["time"].diff().dropna() == pd.Timedelta(step)).all() and df["time"].iloc[0] == pd.Timestamp("2000-01-01")


@pytest.mark.parametrize("freq, last", [("yearly", "2003-01-01"), ("quarterly", "2000-10-01"),
                                        ("3_months", "2000-10-01")])
def test_calendar_frequencies_step_by_months(freq, last):
    assert parse_tsf(tsf_text({"T1": [1, 2, 3, 4]}, freq=freq).splitlines())["time"].iloc[-1] == pd.Timestamp(last)


def test_times_beyond_pandas_years_are_left_out_with_a_warning_and_the_season_kept():
    text = tsf_text({"T1": list(range(40))}, freq="monthly", starts={"T1": "1600-01-01 00-00-00"})
    with pytest.warns(UserWarning, match="outside the years 1678-2261 that pandas holds"):
        df = parse_tsf(text.splitlines())
    assert list(df.columns) == ["series_name", "value"] and df.attrs["tsf"]["season"] == 12


def test_values_read_at_once_equal_those_read_line_by_line():
    rng = np.random.default_rng(1)
    series = {f"T{k}": [None if rng.random() < 0.1 else float(v) for v in rng.normal(size=50).round(4)]
              for k in range(5)}
    fast = parse_tsf(tsf_text(series, missing="true").splitlines())["value"].to_numpy()
    slow = np.array([np.nan if v is None else v for s in series.values() for v in s])
    np.testing.assert_array_equal(fast, slow)
    spaced = parse_tsf(tsf_text({"T1": [1, 2, 3]}, missing="true").replace("1,2,3", " 1, ? ,3 ").splitlines())
    np.testing.assert_array_equal(spaced["value"].to_numpy(), [1, np.nan, 3])


def test_gzip_and_windows_1252_files_read_as_the_plain_one(tmp_path):
    text = tsf_text({"Zürich": [1, 2, 3], "Genève": [4, 5, 6]})
    (tmp_path / "a.tsf").write_text(text, encoding="utf-8")
    (tmp_path / "a.tsf.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    (tmp_path / "w.tsf").write_bytes(text.encode("cp1252"))         # the archive's own encoding
    plain = read_tsf(tmp_path / "a.tsf")
    for name in ("a.tsf.gz", "w.tsf"):
        pd.testing.assert_frame_equal(read_tsf(tmp_path / name), plain)
    assert plain["series_name"].unique().tolist() == ["Zürich", "Genève"]


def test_a_file_without_start_times_has_no_time_column_and_its_frequency_gives_the_season():
    text = ("@attribute series_name string\n@frequency monthly\n@horizon 4\n@data\n"
            "A:" + ",".join(map(str, range(40))) + "\nB:" + ",".join(map(str, range(30))) + "\n")
    df = parse_tsf(text.splitlines())
    assert list(df.columns) == ["series_name", "value"]
    cfg = ForecastConfig()
    with pytest.warns(UserWarning, match=r"horizon 4: .*@horizon \(line 3\)"):
        found = tsf_settings(cfg, df)
    assert (cfg.id, cfg.time, cfg.target, cfg.horizon, cfg.season) == ("series_name", None, ["value"], 4, 12)
    assert set(found) == {"id", "horizon", "season"} and "@frequency monthly" in found["season"]["why"]


def test_given_settings_win_over_the_file_and_one_series_has_no_id():
    df = parse_tsf(tsf_text({"T1": list(range(30))}, h=2).splitlines())
    cfg = ForecastConfig(horizon=2, season=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # no horizon warning: the user chose the file's
        found = tsf_settings(cfg, df)
    assert (cfg.horizon, cfg.season, cfg.id, cfg.time) == (2, 3, None, "time") and set(found) == {"time"}


def test_a_horizon_other_than_the_files_is_warned_once_naming_both():
    df = parse_tsf(tsf_text({"T1": list(range(30))}, h=6).splitlines())
    cfg = ForecastConfig(horizon=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tsf_settings(cfg, df)
    said = [str(w.message) for w in caught if "horizon" in str(w.message)]
    assert cfg.horizon == 3 and len(said) == 1
    assert "horizon 3 differs from" in said[0] and "@horizon 6 (line 6)" in said[0] and "benchmarks" in said[0]


def test_start_times_without_a_frequency_are_read_without_times_and_said():
    text = "@attribute series_name string\n@attribute start_timestamp date\n@data\nA:2000-01-01 00-00-00:1,2,3\n"
    with pytest.warns(UserWarning, match="no @frequency: its series are read without time stamps"):
        df = parse_tsf(text.splitlines())
    assert list(df.columns) == ["series_name", "value"]


def test_series_without_a_name_are_numbered_with_a_warning():
    with pytest.warns(UserWarning, match=r"names no series .* T1 … T2"):
        df = parse_tsf("@attribute start_timestamp date\n@frequency daily\n@data\n2000-01-01 00-00-00:1,2\n"
                       "2000-01-01 00-00-00:3,4\n".splitlines())
    assert df["series"].tolist() == ["T1", "T1", "T2", "T2"]



_CLASHES = [    # the attributes (name type value, …), the column renamed past them, what stood in it before
    ("value numeric 3", {"target": "series_value"}, "the values were read, the rename silent"),
    ("value numeric 3:series_value numeric 7", {"target": "series_value_2"}, "attribute series_value overwritten"),
    ("time numeric 3:series_time numeric 5", {"time": "series_time_2"}, "attribute series_time overwritten"),
]


@pytest.mark.parametrize("attributes, renamed, before", _CLASHES, ids=[c[0] for c in _CLASHES])
def test_an_attribute_named_as_a_column_the_reader_makes_keeps_its_values_and_the_rename_is_said(attributes, renamed,
                                                                                                   before):
    declared = [a.split() for a in attributes.split(":")]
    text = tsf_text({"T1": [1, 2, 3], "T2": [4, 5, 6]})
    text = text.replace("@attribute start_timestamp date\n", "".join(f"@attribute {n} {t}\n" for n, t, _ in declared)
                        + "@attribute start_timestamp date\n")
    for name in ("T1", "T2"):
        text = text.replace(f"\n{name}:", f"\n{name}:" + "".join(f"{v}:" for _, _, v in declared))
    (role, column), = renamed.items()
    first = declared[0][0]
    with pytest.warns(UserWarning, match=rf"line 4: attribute '{first}' has the name of the column of .*: that column "
                                         rf"is '{column}', and '{first}' is the attribute \(pass --(target|time) "
                                         rf"{column} where you name it\); rename the attribute in the header"):
        df = parse_tsf(text.splitlines())
    assert df.attrs["tsf"][role] == column
    for name, _, value in declared:                 # each attribute's own value, on every row
        assert df[name].tolist() == [float(value)] * 6
    if role == "target":
        assert df[column].tolist() == [1, 2, 3, 4, 5, 6]
    else:
        assert df[column].dt.month.tolist() == [1, 2, 3, 1, 2, 3]


def test_numbered_series_keep_an_attribute_named_as_their_column():
    """No string attribute: the series are numbered in a column ``series``; attributes ``series`` and
    ``series_series`` (the same value on both lines) left the ids overwritten before, one series of both."""
    with pytest.warns(UserWarning) as caught:
        df = parse_tsf("@attribute series numeric\n@attribute series_series numeric\n@frequency daily\n@data\n"
                       "1:5:1,2\n2:5:3,4\n".splitlines())
    assert df.attrs["tsf"]["id"] == "series_series_2" and df["series_series_2"].tolist() == ["T1", "T1", "T2", "T2"]
    assert df["series_series"].tolist() == [5.0] * 4 and df["series"].tolist() == [1.0, 1.0, 2.0, 2.0]
    assert any("attribute 'series' has the name of the column of the series' names" in str(w.message) for w in caught)

_BAD = [
    (tsf_text({"T1": [1, 2]}).replace("T1:", "T1:x:"), "line 10 has 3 ':' before its values, but the header declares 2 "
     "attributes (series_name, start_timestamp)"),
    (tsf_text({"T1": [1, None, 3]}, missing="false"), "line 10: value 2 is '?' (missing), but the header says "
     "@missing false (line 7)"),
    (tsf_text({"T1": [1, 2, 3], "T2": [1, 2]}, equal="true"), "line 11 holds 2 values and line 10 3, but the header "
     "says @equallength true (line 8)"),
    (tsf_text({"T1": [1, 2]}, freq="fortnightly"), "line 5: @frequency names an unknown frequency 'fortnightly'"),
    (tsf_text({"T1": [1, 2]}, starts={"T1": "2000-01-01 00:00:00"}), "line 10 has 4 ':' before its values"),
    (tsf_text({"T1": [1, 2]}, starts={"T1": "01/02/2000"}), "attribute 'start_timestamp' (date) is '01/02/2000'"),
    (tsf_text({"T1": [1, 2]}).replace(":1,2", ":1,2kg"), "line 10: value 2 is '2kg', not a number"),
    (tsf_text({"T1": [1, 2]}).replace(":1,2", ":1,,2"), "line 10: value 2 is empty"),
    (tsf_text({"T1": [1, 2]}).replace(":1,2", ":1,nan"), "line 10: value 2 is 'nan'"),
    (tsf_text({"T1": [1, 2]}).replace(":1,2", ":"), "line 10 has no values"),
    (tsf_text({"T1": [None, None]}, missing="true"), "every value of the series is '?'"),
    (tsf_text({"T1": [1, 2]}).replace("@data\n", ""), "line 9 holds values before any @data line"),
    (HEAD.format(freq="daily", h=1, missing="false", equal="false"), "holds no series after @data (line 9)"),
    ("@attribute series_name string\n@frequency daily\n", "has no @data line"),
    (tsf_text({"T1": [1, 2]}).replace("date\n", "timestamp\n"), "line 4: @attribute needs a name and a type"),
    (tsf_text({"T1": [1, 2]}, h="0"), "line 6: @horizon must be a positive whole number, got '0'"),
    (tsf_text({"T1": [1, 2]}, missing="maybe"), "line 7: @missing must be true or false"),
    (tsf_text({"T1": [1, 2], "T2": [3]}).replace("T2:", "T1:"), "line 11 repeats series 'T1' of line 10"),
    (tsf_text({"T1": [1, 2]}) + "@horizon 3\n", "line 11: @horizon after @data"),
    (tsf_text({"T1": [1, 2]}).replace(":1,2", ":1,1e300"), "value 2 (1e+300) is beyond the float32 range"),
]


@pytest.mark.parametrize("text, words", _BAD, ids=[w[:40] for _, w in _BAD])
def test_a_header_its_data_contradicts_or_a_malformed_line_is_one_error_naming_the_line(tmp_path, text, words):
    (tmp_path / "bad.tsf").write_text(text)
    with pytest.raises(LstmkitError) as got:
        read_tsf(tmp_path / "bad.tsf")
    assert str(got.value).startswith(f"{tmp_path / 'bad.tsf'} ") and words in str(got.value), str(got.value)
    assert got.value.hint


def test_an_empty_file_is_named(tmp_path):
    (tmp_path / "e.tsf").write_text("\n\n")
    with pytest.raises(LstmkitError, match="file is empty"):
        read_tsf(tmp_path / "e.tsf")


# -- through the forecaster ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tsf")
    (d / "shops.tsf").write_text(tsf_text(shops(), h=6))
    gappy = shops()
    gappy["S2"][20] = None
    (d / "gaps.tsf").write_text(tsf_text(gappy, h=6, missing="true"))
    return d


QUICK = {**FAST, "lookback": 12, "max_epochs": 2}


def test_fit_takes_the_file_horizon_and_columns_predict_and_evaluate_read_it_too(files, tmp_path):
    with pytest.warns(UserWarning, match=r"horizon 6: shops.tsf's @horizon \(line 6\)"):
        est = Forecaster(**QUICK).fit(str(files / "shops.tsf"), out=tmp_path)
    cfg = est.config_
    assert (cfg.horizon, cfg.id, cfg.time, cfg.target) == (6, "series_name", "time", ["value"])
    assert est.get_params()["horizon"] is None                   # the estimator's own setting is untouched
    (run,) = tmp_path.iterdir()
    auto = json.loads((run / "lstmkit.json").read_text())["auto"]
    assert auto["horizon"] == {"value": 6, "why": "the .tsf file's @horizon (line 6)"}
    assert auto["id"]["value"] == "series_name"
    pred = est.predict(str(files / "shops.tsf"))
    assert pred["series_name"].tolist() == [s for s in ("S1", "S2", "S3") for _ in range(6)]
    assert pred["time"].iloc[0] == pd.Timestamp("2005-01-01") and pred["step"].max() == 6     # 60 months from 2000
    loaded = Forecaster.load(run)
    mae = est.metrics_["metrics"]["lstm"]["MAE"]
    assert loaded.evaluate(str(files / "shops.tsf"))["lstm"]["MAE"] == pytest.approx(mae)


def test_a_given_horizon_wins_over_the_file_and_the_difference_is_warned(files):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = Forecaster(horizon=2, **QUICK).fit(str(files / "shops.tsf"))
    said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(said) == 1 and "horizon 2 differs from shops.tsf's @horizon 6 (line 6)" in said[0], said
    assert est.config_.horizon == 2 and "horizon" not in est.auto_


def test_missing_values_go_as_empty_cells_do(files):
    with pytest.raises(LstmkitError, match=r"empty or non-finite cells in column 'value' of series 'S2'.*train with fill='ffill'"):
        Forecaster(horizon=2, **QUICK).fit(str(files / "gaps.tsf"))
    est = Forecaster(horizon=2, fill="interpolate", **QUICK).fit(str(files / "gaps.tsf"))
    assert est.data_summary_["n_filled"] == 1


def test_format_wide_or_m4_does_not_apply(files):
    for fmt in ("wide", "m4"):
        with pytest.raises(LstmkitError, match=f"format='{fmt}' does not apply to shops.tsf.* — drop format=$"):
            Forecaster(format=fmt, **QUICK).fit(str(files / "shops.tsf"))


def test_backtest_of_settings_takes_the_file_horizon(files):
    with pytest.warns(UserWarning, match="@horizon"):
        result = Forecaster(**QUICK).backtest(str(files / "shops.tsf"), folds=2)
    assert result["settings"]["horizon"] == 6 and {r["series"] for r in result["folds"]} == {3}


class _StopAt(Callback):
    """Ctrl-C at global step ``at``."""

    def __init__(self, at):
        self.at = at

    def on_batch_end(self, trainer, batch, n_batches, loss):
        if trainer.global_step == self.at:
            raise KeyboardInterrupt


def test_a_resumed_run_takes_the_file_horizon_again(files, tmp_path):
    from lstmkit.train import TrainingInterrupted
    with pytest.warns(UserWarning, match="@horizon"), pytest.raises(TrainingInterrupted):
        Forecaster(**{**QUICK, "max_epochs": 3}).fit(str(files / "shops.tsf"), run_dir=tmp_path / "run",
                                                     callbacks=[_StopAt(6)])
    with pytest.warns(UserWarning, match="@horizon"):
        est = Forecaster.resume(tmp_path / "run")
    assert est.config_.horizon == 6 and est.auto_["horizon"]["value"] == 6 and est.auto_["id"]["value"] == "series_name"
    assert json.loads((tmp_path / "run" / "lstmkit.json").read_text())["status"] == "finished"
