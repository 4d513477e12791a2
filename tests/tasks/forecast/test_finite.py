"""Finite in, finite out: numbers beyond float32 range or infinite are refused where they are
read (naming the column and row); a forecast that is not finite is an error, never an empty cell."""
import numpy as np
import pandas as pd
import pytest

from cli_helpers import assert_user_error, run_cli
from forecast_data import FAST, sine_frame
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.panel import read_panel


def _read(df, **cfg):
    return read_panel(df, Forecaster(**{"target": "y", "features": "temp", **cfg}).config)


@pytest.mark.parametrize("column, value, shown", [
    ("y", 1e300, "1e+300"), ("y", -1e39, "-1e+39"), ("y", np.inf, "inf"), ("temp", -np.inf, "-inf"),
    ("y", "1e300", "1e+300"), ("temp", "inf", "inf"), ("y", "-Infinity", "-inf"),
])
def test_values_beyond_float32_are_refused_naming_column_and_row(column, value, shown):
    df = sine_frame(n=40).astype({column: object})
    df.loc[7, column] = value
    with pytest.raises(LstmkitError) as e:
        _read(df, time="time")
    msg = str(e.value)
    assert f"column {column!r}" in msg and "data row 8" in msg and shown in msg and "float32" in msg, msg   # from 1


def test_the_float32_extremes_themselves_are_read():
    df = sine_frame(n=40)
    df.loc[3, "y"], df.loc[4, "temp"] = 3.4e38, -3.4e38
    assert _read(df, time="time").values[3, 0] == 3.4e38


@pytest.mark.parametrize("base, as_text", [(9223372036854775000, False), (9223372036854775000, True),
                                           (10**30, True), (10**30, False)])      # beyond uint64: Python ints
def test_integers_that_differ_beyond_float64_digits_are_refused(base, as_text):
    """9223372036854775000 + t read as float64 is one constant: a silent flat forecast before."""
    df = sine_frame(n=40)
    df["y"] = pd.Series([base + i for i in range(40)], dtype=object if base > 2**64 else np.int64)
    if as_text:
        df["y"] = df["y"].astype(str)
    with pytest.raises(LstmkitError, match=rf"column 'y' holds integers too large.*y - {base}\)"):
        _read(df, time="time")


def test_large_integers_whose_rounding_is_small_beside_their_range_are_read():
    df = sine_frame(n=40)
    df["y"] = 10**18 + np.arange(40, dtype=np.int64) * 10**15 + 1          # rounding moves each by 1 of 1e15 steps
    values = _read(df, time="time").values[:, 0]
    assert np.allclose(np.diff(values), 1e15, rtol=1e-9)


def test_train_with_one_huge_cell_exits_2_without_a_run_folder(tmp_path, capsys):
    df = sine_frame(n=200)
    df.loc[150, "y"] = 1e300
    df.to_csv(tmp_path / "d.csv", index=False)
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--target", "y", "--time", "time",
                            "--out", tmp_path / "runs"], capsys)
    assert_user_error(code, err, "column 'y'", "line 152", "float32")     # the file's line: header, then row 0
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    d = tmp_path_factory.mktemp("finite")
    return Forecaster(**{**FAST, "max_epochs": 2}, horizon=2).fit(sine_frame(n=200), target="y", time="time",
                                                                   features="temp", out=d)


def test_predict_with_a_huge_value_in_the_last_window_is_an_error(fitted):
    df = sine_frame(n=60)
    df.loc[59, "y"] = 1e300
    with pytest.raises(LstmkitError, match="column 'y'.*data row 60"):
        fitted.predict(df)


@pytest.mark.parametrize("engine", ["torch", "auto"])
def test_a_forecast_that_is_not_finite_is_an_error_not_an_empty_cell(fitted, monkeypatch, engine):
    import torch

    import lstmkit.deploy.onnx_engine as onnx_mod
    monkeypatch.setattr(onnx_mod, "engine_net", lambda *a: (lambda x: torch.full((len(x), 2, 1), float("nan"))))
    monkeypatch.setattr(type(fitted.net_), "forward", lambda self, x, *a, **k: torch.full((len(x), 2, 1), float("inf")))
    with pytest.raises(LstmkitError, match="not finite"):
        fitted.predict(sine_frame(n=60), engine=engine)


@pytest.mark.parametrize("engine", ["torch", "auto"])
def test_a_window_far_outside_the_training_range_is_forecast_with_a_warning(fitted, engine):
    """A window in other units (x 1000 here; 1e-20 x a 1e13 series forecast -1e8) was forecast without a word."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.predict(sine_frame(n=60), engine=engine)                    # its own range: no warning
    far = sine_frame(n=60).assign(y=lambda d: d["y"] * 1000)
    with pytest.warns(UserWarning, match=r"the last 24 values of series 'series' \(9\d\d\d \.\. 1\.1e\+04\) "
                                         r"lie 5\.\d+e\+03 times the width of its training range \(8\.\d+ \.\. 11\.\d+\)"):
        pred = fitted.predict(far, engine=engine)
    assert np.isfinite(pred["y"]).all()


def test_a_run_saved_without_training_ranges_forecasts_without_the_check(fitted):
    from lstmkit.tasks.forecast.scalers import PanelScaler
    saved = fitted.panel_scaler_.to_dict()
    assert set(saved["series"]["series"]) == {"loc", "scale", "lo", "hi"}
    older = {**saved, "series": {k: {"loc": v["loc"], "scale": v["scale"]} for k, v in saved["series"].items()}}
    assert PanelScaler.from_dict(older).far_outside("series", np.full((24, 1), 1e6)) is None
    assert PanelScaler.from_dict(saved).far_outside("series", np.full((24, 1), 1e6))[0] == 0
