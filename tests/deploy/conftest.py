"""Small fitted forecasters shared by the deploy tests (trained once per session, a few seconds)."""
import pytest

from forecast_data import FAST, sine_frame
from lstmkit.tasks.forecast.estimator import Forecaster

QUICK = {**FAST, "max_epochs": 3}


def _fit(tmp_path_factory, name, **params):
    d = tmp_path_factory.mktemp(name)
    csv = d / "series.csv"
    sine_frame().to_csv(csv, index=False)
    est = Forecaster(**{**QUICK, **params}).fit(str(csv), target="y", time="time", features="temp", out=d)
    return est


@pytest.fixture(scope="session")
def abs_forecaster(tmp_path_factory):
    """Absolute-mode LSTM (carries state when streaming), horizon 3, one extra feature."""
    return _fit(tmp_path_factory, "abs", relative=False, horizon=3, num_layers=2, dropout=0.1)


@pytest.fixture(scope="session")
def rel_forecaster(tmp_path_factory):
    """Relative-mode LSTM (the default): streams through a window."""
    return _fit(tmp_path_factory, "rel", horizon=2)


@pytest.fixture(scope="session")
def onnx_run(abs_forecaster):
    """The absolute forecaster's run folder with model.onnx exported."""
    pytest.importorskip("onnxruntime")
    from lstmkit.deploy import export_onnx
    export_onnx(abs_forecaster.run_dir_)
    return abs_forecaster.run_dir_
