"""``examples/onnx_by_hand.py`` loaded as a module: the tests that check a graph used with onnxruntime
and numpy alone call its functions (``forecast``, ``classify_texts``, ``lm_log_prob``, ``translate``)."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "onnx_by_hand.py"


def by_hand() -> ModuleType:
    spec = importlib.util.spec_from_file_location("onnx_by_hand", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exported_forecaster(folder: Path):
    """The small forecaster both ONNX-by-hand test files start from: fitted on a sine series, saved to
    ``folder / "f"`` and exported to ONNX. Returns ``(estimator, series)``."""
    import numpy as np

    import lstmkit
    from estimator_data import QUICK
    y = np.sin(np.arange(80) / 4) * 3 + 5
    est = lstmkit.Forecaster(**QUICK, horizon=3, lookback=12, combine="none", ensemble=1).fit(y)
    est.save(folder / "f")
    est.export("onnx")                  # predict(engine="onnx") on the run: what an exported folder must give
    return est, y
