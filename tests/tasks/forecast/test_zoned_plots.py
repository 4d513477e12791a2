"""A zoned run's figures read its clock: forecast.png and backtest.png drew the naive UTC times a run
holds, an hour or two off the times test_forecasts.csv, predict and backtest.csv give on a Berlin
run's clock. Their time axes now tick in the run's zone, named under the axis, and the points stay at
their instants (an hour the clock shows twice is two points an hour apart, not one drawn back)."""
import re

import numpy as np
import pandas as pd
import pytest

import lstmkit.inspect.plots as inspect_plots
import lstmkit.tasks.forecast.plots as forecast_plots
from lstmkit import Forecaster
from lstmkit.tasks.forecast.plots import plot_backtest

BERLIN = "Europe/Berlin"
TINY = dict(lookback=8, horizon=3, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1, ets=False,
            progress="off", tensorboard=False, device="cpu", doctor=False)


@pytest.fixture
def figures(monkeypatch):
    """The figures the plots write, by file name (still written)."""
    drawn = {}

    def keep(real):
        def save(fig, path, *args, **kwargs):
            drawn[path.name] = fig
            return real(fig, path, *args, **kwargs)
        return save
    for module in (inspect_plots, forecast_plots):
        monkeypatch.setattr(module, "save_figure", keep(module.save_figure))
    return drawn


def _instants(line) -> pd.DatetimeIndex:
    """The instants a line is drawn at (matplotlib's numbers are UTC days)."""
    from matplotlib.dates import num2date
    x = line.get_xdata()
    if np.issubdtype(np.asarray(x).dtype, np.datetime64):
        return pd.DatetimeIndex(x).tz_localize("UTC")
    return pd.DatetimeIndex([num2date(v) for v in x]).tz_convert("UTC")


HOURS = {r"\d\d:\d\d": "%H:%M", r"\d\d-\d\d \d\d": "%m-%d %H"}      # concise labels, matplotlib's own


def _hour_ticks(ax) -> list[tuple[pd.Timestamp, str, str]]:
    """``(instant, label, its strftime format)`` of each x tick labelled with a time of day ('06:00', '03-31 06')."""
    from matplotlib.dates import num2date
    ax.get_figure().canvas.draw()
    return [(pd.Timestamp(num2date(t.get_loc())), t.label1.get_text(), form) for t in ax.xaxis.get_major_ticks()
            for pattern, form in HOURS.items() if re.fullmatch(pattern, t.label1.get_text())]


def _on_clock(ax, zone: str = BERLIN) -> None:
    """Every time-of-day tick of ``ax`` names its instant's time on ``zone``'s clock, not UTC's."""
    ticks = _hour_ticks(ax)
    assert ticks, [t.get_text() for t in ax.get_xticklabels()]
    assert all(label == at.tz_convert(zone).strftime(form) for at, label, form in ticks), ticks
    assert any(label != at.tz_convert("UTC").strftime(form) for at, label, form in ticks), ticks
    assert ax.get_xlabel() == f"time ({zone})"


def test_a_backtest_plot_of_zoned_times_ticks_on_their_clock_across_the_autumn_change(tmp_path, figures):
    times = pd.Series(pd.date_range("2024-10-26 12:00", periods=30, freq="h", tz=BERLIN))     # 02:00 shown twice
    assert times.dt.tz_localize(None).duplicated().any()
    values = np.sin(np.arange(30) / 4.0)
    folds = [{"fold": k + 1, "origin": o, "forecast": values[o + 1:o + 4] + 0.1} for k, o in enumerate((20, 24))]
    plot_backtest(values, times, folds, tmp_path / "backtest.png", "y", targets=["y"])
    ax = figures["backtest.png"].axes[0]
    actual = next(line for line in ax.get_lines() if line.get_label() == "actual")
    drawn = _instants(actual)
    assert drawn.equals(pd.DatetimeIndex(times).tz_convert("UTC")[len(times) - len(drawn):])
    assert (np.diff(drawn.asi8) > 0).all()                     # the repeated hour an hour on, never drawn back
    _on_clock(ax)


def test_a_plot_of_naive_times_is_drawn_as_before(tmp_path, figures):
    times = pd.Series(pd.date_range("2024-10-26 12:00", periods=30, freq="h"))
    values = np.sin(np.arange(30) / 4.0)
    plot_backtest(values, times, [{"fold": 1, "origin": 20, "forecast": values[21:24]}], tmp_path / "backtest.png",
                  "y", targets=["y"])
    ax = figures["backtest.png"].axes[0]
    ticks = _hour_ticks(ax)
    assert ticks and all(label == at.strftime(form) for at, label, form in ticks) and ax.get_xlabel() == ""


def _berlin_hours(ids=("a",), n: int = 60) -> pd.DataFrame:
    """Hours without an offset as a Berlin sheet writes them, across the spring change, of each of ``ids``."""
    times = pd.date_range(end="2024-03-31 12:00", periods=n, freq="h", tz=BERLIN)
    return pd.concat([pd.DataFrame({"id": i, "time": times.tz_localize(None).astype(str),
                                    "y": np.sin(np.arange(n) / 3.0 + k) + 2 * k})
                      for k, i in enumerate(ids)], ignore_index=True)


def test_a_zoned_runs_forecast_plot_and_its_test_forecasts_name_the_same_times(tmp_path, figures):
    est = Forecaster(**TINY, time_zone=BERLIN).fit(_berlin_hours(), target="y", time="time", out=tmp_path)
    table = pd.read_csv(est.run_dir_ / "test_forecasts.csv")
    ax = figures["forecast.png"].axes[0]
    actual = next(line for line in ax.get_lines() if line.get_label() == "actual (test)")
    model = next(line for line in ax.get_lines() if line.get_label() == est.config_.model)
    at = pd.DatetimeIndex(pd.to_datetime(table.loc[table["step"] == 1, "time"], utc=True))
    assert table["time"].str.endswith("+02:00").all()          # the csv says them on Berlin's summer clock
    assert _instants(model).equals(at)                         # each forecast drawn at its csv time
    assert _instants(actual)[-len(at):].equals(at)              # the actuals of those times there too
    _on_clock(ax)


def test_a_zoned_panels_forecast_plot_ticks_on_its_clock(tmp_path, figures):
    est = Forecaster(**TINY, time_zone=BERLIN).fit(_berlin_hours(("a", "b")), target="y", time="time", id="id",
                                                   out=tmp_path)
    assert est.data_summary_["time_zone"] == BERLIN
    fig = figures["forecast.png"]
    for ax in fig.axes:
        actual = next(line for line in ax.get_lines() if line.get_label() == "actual")
        assert _instants(actual)[-1] <= pd.Timestamp("2024-03-31 12:00", tz=BERLIN)
        assert _instants(actual)[-1] >= pd.Timestamp("2024-03-31 09:00", tz=BERLIN)
    _on_clock(fig.axes[-1])
