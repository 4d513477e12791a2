"""The backtest plot (plots/backtest.png)."""
import numpy as np
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
    legend = [t.get_text() for t in seen[0].axes[0].get_legend().get_texts()]
    if count == 10:
        assert legend == ["actual"] + [f"fold {k}" for k in range(1, 11)]
    else:
        assert legend == ["actual", "folds 1–50: forecasts after each cutoff (dashed)"]
    assert (tmp_path / "backtest.png").stat().st_size > 0
