"""The built-in demo: weekly atmospheric CO2 at Mauna Loa, 1958-2001, shipped with statsmodels.

2,284 weekly readings with a trend, a yearly cycle and 59 missing weeks (repaired by linear
interpolation, as ``--fill interpolate`` would). The LSTM sees two years (104 weeks) and predicts
the next week; the table sets it beside naive, seasonal-naive (52 weeks) and Holt-Winters ETS.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstmkit.tasks.forecast.auto import FIXED
from lstmkit.tasks.forecast.estimator import Forecaster

__all__ = ["co2_frame", "run_demo"]


def co2_frame() -> pd.DataFrame:
    from statsmodels.datasets import co2
    data = co2.load_pandas().data
    return pd.DataFrame({"date": data.index, "co2": data["co2"].to_numpy()})


def run_demo(out: str | Path = "runs", max_epochs: int = 100, **params) -> Forecaster:
    print("lstmkit demo: weekly Mauna Loa CO2 (statsmodels), one week ahead, "
          "chronological 70/15/15 split")
    # the tutorial's fixed settings (not chosen from the data), so the demo's numbers stay those documented
    settings = dict(FIXED, lookback=104, horizon=1, fill="interpolate", max_epochs=max_epochs)
    settings.update(params)
    return Forecaster(**settings).fit(co2_frame(), target="co2", time="date", out=out)
