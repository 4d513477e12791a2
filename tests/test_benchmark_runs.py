"""The benchmark scripts' hand-made runs (benchmarks/inference.py, benchmarks/public_paths.py) load
and forecast with today's lstmkit: they set the model's state by hand, so a new config field or
a changed default can leave them saving runs that ``load`` refuses (session 24's ``horizon=None``
default did), which no other test would notice."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def inference():
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("inference")
    finally:
        sys.path.remove(str(BENCH))


def test_inference_tutorial_run_loads_and_forecasts(inference, tmp_path):
    from lstmkit.tasks.forecast.estimator import Forecaster
    series = inference.make_series(n=400)
    est = Forecaster.load(inference.tutorial_run(tmp_path, series))
    out = est.predict(pd.DataFrame({"y": series[-inference.LOOKBACK:]}))
    assert list(out.columns) == ["step", "y"] and len(out) == 1 and np.isfinite(out["y"]).all()


def test_public_paths_panel_forecaster_saves_loads_and_forecasts(inference, tmp_path, monkeypatch):
    from lstmkit.tasks.forecast.estimator import Forecaster
    public_paths = importlib.import_module("public_paths")
    monkeypatch.setattr(public_paths, "N_PANEL", 3)
    est, df = public_paths.panel_forecaster()
    again = Forecaster.load(est.save(tmp_path / "panel"))
    out = again.predict(df)
    assert sorted(out["id"].unique()) == ["s0000", "s0001", "s0002"] and np.isfinite(out["y"]).all()
    assert np.allclose(out["y"].to_numpy(), est.predict(df)["y"].to_numpy())


def test_lm_inference_profile_shares_of_both_engines(inference):
    """The lm benchmark's profile line: each op's share of the total, largest first, the tiny ones left
    out (by hand), and torch's side read from torch.profiler (a linear layer spends in addmm)."""
    import torch
    lm_inference = importlib.import_module("lm_inference")
    assert lm_inference._shares({"b": 1.0, "a": 3.0, "c": 1e-4}) == {"a": 0.75, "b": 0.25}
    assert list(lm_inference._shares({"x": 1.0, "y": 9.0})) == ["y", "x"]
    shares = lm_inference.torch_profile(torch.nn.Linear(64, 32), torch.ones(256, 64), calls=3)
    assert "aten::addmm" in shares and list(shares.values()) == sorted(shares.values(), reverse=True)
    # each share is rounded to 3 places, so together they may pass 1 by half a thousandth each
    assert all(0 < v <= 1 for v in shares.values()) and sum(shares.values()) <= 1 + 5e-4 * len(shares) + 1e-9


def test_public_paths_outside_share_times_the_path_beside_its_inner_call(inference, monkeypatch):
    """translate's line: the share of a call spent outside the search, timed inside the same call,
    and the inner function given back afterwards (a failing path too)."""
    import types
    public_paths = importlib.import_module("public_paths")
    # the script's clock, moved by the path and its inner call: sleeps of 10 and 30 ms were 0.25 give or take
    # the load, and a busy machine that woke the first sleep 40 ms late made it 0.6
    now = [0.0]
    monkeypatch.setattr(public_paths, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    module = types.SimpleNamespace()

    def inner():
        now[0] += 0.03
    module.search = inner

    def path():
        now[0] += 0.01
        module.search()
    share = public_paths.outside_share(path, module, "search", calls=3)
    assert share == pytest.approx(0.25) and module.search is inner          # 10 ms of 40 outside

    def broken():
        module.search()
        raise RuntimeError("path failed")
    with pytest.raises(RuntimeError, match="path failed"):
        public_paths.outside_share(broken, module, "search")
    assert module.search is inner


def test_benchmarks_doc_holds_the_held_out_account_as_written():
    """forecast_heldout.py writes its table, labelled held out, and its account into its own section."""
    account = (BENCH / "forecast_heldout_account.md").read_text().rstrip("\n")
    doc = (BENCH.parent / "docs" / "benchmarks.md").read_text()
    section = doc.split("## Forecasting defaults, held out\n", 1)[1].split("\n## ", 1)[0]
    assert "**Held out: never used to choose defaults.**" in section and "shared machine" in section
    assert section.rstrip("\n").endswith(account)


def test_benchmarks_doc_holds_the_forecast_defaults_account_as_written():
    """forecast_defaults.py writes its account under the tables of docs/benchmarks.md; an account edited
    without the doc (session 44's lr_patience 3 -> 5) left the doc saying 3 was kept beside the default 5."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    account = (BENCH / "forecast_defaults_account.md").read_text().rstrip("\n")
    doc = (BENCH.parent / "docs" / "benchmarks.md").read_text()
    section = doc.split("## Forecasting defaults\n", 1)[1].split("\n## ", 1)[0]
    assert section.rstrip("\n").endswith(account)
    assert f"`lr_patience` default 10 -> {ForecastConfig().train.lr_patience}." in account
