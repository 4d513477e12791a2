"""The backtest plot (plots/backtest.png) and the panel forecast plot (plots/forecast.png)."""
import numpy as np
import pandas as pd
import pytest

from lstmkit.tasks.forecast.plots import plot_backtest


@pytest.mark.parametrize("count", [50, 10])
def test_a_backtest_of_many_folds_has_a_legend_that_fits(count, tmp_path, monkeypatch):
    """50 folds were 51 legend entries, running off the plot's foot in 10 colours named 5 times over;
    tight_layout warned 'Tight layout not applied' on stderr."""
    import warnings

    import lstmkit.inspect.plots as plots
    seen = []
    save = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (save(fig, path, **kw), seen.append(fig)))
    monkeypatch.setattr("lstmkit.tasks.forecast.plots.save_figure", plots.save_figure)
    values = np.sin(np.arange(3000) / 10)
    folds = [{"fold": k + 1, "origin": 1000 + 40 * k, "forecast": values[1001 + 40 * k:1025 + 40 * k]}
             for k in range(count)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_backtest(values, None, folds, tmp_path / "backtest.png", "y: backtest")
    ax = seen[0].axes[0]
    renderer = seen[0].canvas.get_renderer()   # the key beside the series, not over it or a fold's forecast
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    if count == 10:
        assert legend == ["actual"] + [f"fold {k}" for k in range(1, 11)]
    else:
        assert legend == ["actual", "folds 1–50: forecasts after each cutoff (dashed)"]
    assert (tmp_path / "backtest.png").stat().st_size > 0


def test_a_one_step_backtests_forecasts_are_drawn_as_dots(tmp_path, monkeypatch):
    """Horizon 1: each fold's forecast, a line of one point, was drawn as nothing: the legend named four
    folds over a plot with none of their forecasts in it."""
    import lstmkit.tasks.forecast.plots as forecast_plots
    seen = []
    monkeypatch.setattr(forecast_plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    values = np.arange(40.0) * 10 + 300
    folds = [{"fold": k + 1, "origin": 30 + 2 * k, "forecast": np.array([values[31 + 2 * k] + 5])} for k in range(4)]
    plot_backtest(values, None, folds, tmp_path / "backtest.png", "y: backtest")
    lines = {line.get_label(): line for line in seen[0].axes[0].get_lines()}
    for k, f in enumerate(folds, 1):
        assert lines[f"fold {k}"].get_marker() == "o" and list(lines[f"fold {k}"].get_ydata()) == list(f["forecast"])


def test_a_one_target_backtests_axis_is_named_by_its_target(tmp_path, monkeypatch):
    """Of one target the y axis had no name (its numbers' units unsaid); of several each panel had its target's."""
    import lstmkit.tasks.forecast.plots as forecast_plots
    seen = []
    monkeypatch.setattr(forecast_plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    values = np.arange(40.0) * 10 + 300
    folds = [{"fold": k + 1, "origin": 30 + 2 * k, "forecast": values[31 + 2 * k:33 + 2 * k]} for k in range(3)]
    plot_backtest(values, None, folds, tmp_path / "backtest.png", "Passengers: backtest", targets=["Passengers"])
    assert seen[0].axes[0].get_ylabel() == "Passengers"



def _items(never: str, sold: str, n=60):
    """Daily sales of three items (ids ``never``, ``sold``, ``late``; read in the order of their ids):
    one never sold, one sold, one launched in the last days."""
    rng = np.random.default_rng(0)
    t = pd.date_range("2021-01-01", periods=n, freq="D")
    late = np.where(np.arange(n) < n - 4, 0.0, 2.0)
    return pd.concat([pd.DataFrame({"item": name, "time": t, "y": y}) for name, y in
                      ((never, np.zeros(n)), (sold, rng.poisson(3.0, n).astype(float)), ("late", late))],
                     ignore_index=True)


@pytest.mark.filterwarnings("ignore:.*forecast points before the run's test part:UserWarning")  # the folds it trained on
@pytest.mark.parametrize("never, sold, words", [
    ("a", "b", "y of 'b', the first of 3 series that moves over the folds (1 before it is flat there): 2 backtest"),
    ("b", "a", "y of 'a', the first of 3 series: 2 backtest"),
    ("a", None, "y: 2 backtest folds"),
])
def test_a_many_series_backtest_plots_a_series_that_moves_and_names_it(never, sold, words, tmp_path, monkeypatch):
    """A file of items whose first never sold drew a flat line at 0 under flat forecasts at 0, with no
    word of which series it was."""
    from lstmkit import Forecaster
    data = _items(never, sold or "b")
    if sold is None:                                                   # one series, all 0: plotted as it is
        data = data[data["item"] == never].drop(columns="item")
    est = Forecaster(lookback=8, horizon=3, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1, progress="off",
                     tensorboard=False, doctor=False, seed=0, combine="none", samples_per_epoch=32,
                     ).fit(data, target="y", time="time", id="item" if sold else None)
    seen = {}
    monkeypatch.setattr("lstmkit.tasks.forecast.plots.plot_backtest",
                        lambda values, times, folds, path, title, **kw: seen.update(values=values, folds=folds, title=title))
    est.backtest(data, folds=2, out=tmp_path / "bt")
    assert words in seen["title"]
    shown = data if sold is None else data[data["item"] == sold]
    np.testing.assert_array_equal(seen["values"], shown["y"].to_numpy())
    assert [f["origin"] for f in seen["folds"]] == [len(shown) - 3 - 3 - 1, len(shown) - 3 - 1]


@pytest.mark.parametrize("levels, legend", [
    ([0.1, 0.5, 0.9], ["history", "actual", "80% interval", "forecast"]),
    ([0.05, 0.1, 0.5, 0.9, 0.95], ["history", "actual", "90% interval", "80% interval", "forecast"]),
    ([0.1, 0.25, 0.5, 0.8], ["history", "actual", "0.1–0.8 quantiles", "0.25–0.5 quantiles", "forecast"]),
    ([0.1, 0.25, 0.9], ["history", "actual", "80% interval", "forecast (median, from the 0.25 and 0.9 quantiles)"]),
    ([0.1, 0.9], ["history", "actual", "80% interval", "forecast (median, from the 0.1 and 0.9 quantiles)"]),
    ([0.8, 0.9], ["history", "actual", "forecast (the 0.8 quantile)"])])
def test_the_forecast_plot_names_its_bands_and_line_by_their_levels(levels, legend, tmp_path, monkeypatch):
    """Of quantiles 0.1, 0.25, 0.5, 0.8 the bands read '70% interval' and '25% interval', as if central
    (0.15 to 0.85, 0.375 to 0.625); of 0.1, 0.9 the line is the median interpolated between them, named so."""
    import torch

    import lstmkit.tasks.forecast.plots as forecast_plots
    from lstmkit.tasks.forecast.bounds import Limits
    from lstmkit.tasks.forecast.probabilistic import Output
    from lstmkit.tasks.forecast.plots import plot_panel_forecast
    seen = []
    monkeypatch.setattr(forecast_plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    out = Output("quantile", levels)
    params = np.sort(np.random.default_rng(0).normal(size=(3, 1, len(levels))), axis=-1)       # [H, T, Q]
    item = {"id": "a", "values": np.arange(20.0), "origin": 16, "times": None, "params": params,
            "limits": Limits(np.full((1, 1), -np.inf), np.full((1, 1), np.inf))}
    plot_panel_forecast([item], out, 3, tmp_path / "forecast.png", "y")
    assert [t.get_text() for t in seen[0].axes[0].get_legend().get_texts()] == legend
    line = next(ln for ln in seen[0].axes[0].get_lines() if ln.get_label().startswith("forecast"))
    assert line.get_ydata() == pytest.approx(out.point(torch.from_numpy(params)).numpy()[:, 0])


def _overlapping_tick_labels(fig):
    """Pairs of x tick labels drawn over one another, in any axes of ``fig`` (drawn, tight)."""
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    pairs = []
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        pairs += [(a, b) for a, b in zip(boxes, boxes[1:]) if a.overlaps(b)]
    return pairs


def test_the_panel_forecasts_hourly_dates_are_named_without_overlapping(tmp_path, monkeypatch):
    """An hourly panel of two targets: each 6-inch panel's dates read '01-19 18', '01-19 21', '01-20 00' …
    drawn over one another, no hour readable."""
    import lstmkit.tasks.forecast.plots as forecast_plots
    from lstmkit.tasks.forecast.bounds import Limits
    from lstmkit.tasks.forecast.probabilistic import Output
    figures = []
    monkeypatch.setattr(forecast_plots, "save_figure", lambda fig, path, **kw: figures.append(fig))
    times = pd.date_range("2024-01-18", periods=60, freq="h").to_numpy()
    values = np.stack([np.arange(60.0), np.arange(60.0) / 10], axis=1)
    items = [{"id": sid, "values": values, "origin": 53, "times": times, "params": np.ones((6, 2)),
              "limits": Limits(np.full((1, 2), -np.inf), np.full((1, 2), np.inf))} for sid in ("north", "south")]
    forecast_plots.plot_panel_forecast(items, Output("point"), 6, tmp_path / "f.png", "t", targets=["load_kw", "temp_c"])
    assert all(len([t for t in ax.get_xticklabels() if t.get_text()]) >= 3 for ax in figures[0].axes)
    assert _overlapping_tick_labels(figures[0]) == []
    folds = [{"fold": k + 1, "origin": 30 + 6 * k, "forecast": values[31 + 6 * k:37 + 6 * k]} for k in range(3)]
    forecast_plots.plot_backtest(values, times, folds, tmp_path / "b.png", "t", targets=["load_kw", "temp_c"])
    assert _overlapping_tick_labels(figures[1]) == []


def test_a_backtest_over_steps_not_dates_keeps_its_step_numbers(tmp_path, monkeypatch):
    """Only a date axis takes matplotlib's concise dates: a series with no times is drawn over steps
    0..n-1, and its ticks read those steps (as dates they read '1970', step 0 being the epoch)."""
    import lstmkit.tasks.forecast.plots as forecast_plots
    from matplotlib.dates import ConciseDateFormatter
    seen = []
    monkeypatch.setattr(forecast_plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    values = np.arange(40.0) * 10 + 300
    folds = [{"fold": k + 1, "origin": 30 + 2 * k, "forecast": values[31 + 2 * k:33 + 2 * k]} for k in range(3)]
    plot_backtest(values, None, folds, tmp_path / "backtest.png", "y: backtest")
    ax = seen[0].axes[0]
    assert not isinstance(ax.xaxis.get_major_formatter(), ConciseDateFormatter)
    seen[0].canvas.draw()
    shown = [(t.get_position()[0], t.get_text().replace("\N{MINUS SIGN}", "-")) for t in ax.get_xticklabels()
             if t.get_text()]
    assert shown and all(float(text) == pytest.approx(x) for x, text in shown), shown
