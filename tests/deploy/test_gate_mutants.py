"""The deployment gates at their edges, without training a model (mutation testing, session 57): each task's
int8 quality limit just inside and just outside, the direction it is measured in, and the weights fingerprint
that keeps a graph of other weights from answering."""
import math

import pytest

pytest.importorskip("onnxruntime")

from lstmkit.deploy.onnx import set_metadata  # noqa: E402
from lstmkit.deploy.onnx_engine import load_runner  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.runs import WEIGHTS_FILE, weights_fingerprint  # noqa: E402
from lstmkit.tasks.classify.deploy import ACCURACY_LIMIT, ClassifyAdapter  # noqa: E402
from lstmkit.tasks.forecast.deploy import MASE_LIMIT, ForecastAdapter  # noqa: E402
from lstmkit.tasks.lm.deploy import PERPLEXITY_LIMIT, LMAdapter  # noqa: E402
from lstmkit.tasks.speech.deploy import ACCURACY_LIMIT as SPEECH_ACCURACY, WER_LIMIT, SpeechAdapter  # noqa: E402
from lstmkit.tasks.translate.deploy import BLEU_LIMIT, TranslateAdapter  # noqa: E402


def test_the_limits_are_the_documented_ones():
    assert (ACCURACY_LIMIT, SPEECH_ACCURACY, WER_LIMIT, BLEU_LIMIT, PERPLEXITY_LIMIT, MASE_LIMIT) == (
        0.005, 0.005, 0.005, 0.3, 0.01, 0.03)


# (judge, metric, float model's value, worse by this much is at the limit, sign: +1 when higher is worse)
GATES = {
    "classify": (ClassifyAdapter.quality_refusal, "accuracy", 0.9, 0.005, -1),
    "speech accuracy": (SpeechAdapter.quality_refusal, "accuracy", 0.9, 0.005, -1),
    "speech wer": (SpeechAdapter.quality_refusal, "wer", 0.1, 0.005, 1),
    "translate": (TranslateAdapter.quality_refusal, "bleu", 30.0, 0.3, -1),
    "lm": (LMAdapter.quality_refusal, "perplexity", 20.0, 0.2, 1),           # 1 % of 20
    "forecast": (ForecastAdapter.quality_refusal, "MASE", 0.8, 0.024, 1),   # 3 % of 0.8
}


@pytest.mark.parametrize("task", GATES)
def test_an_int8_model_at_the_limit_is_kept_and_a_tenth_past_it_refused(task):
    judge, key, before, limit, sign = GATES[task]
    assert judge(None, {key: before}, {key: before + sign * limit * 0.999}) is None
    assert judge(None, {key: before}, {key: before + sign * limit * 1.1}) is not None
    assert judge(None, {key: before}, {key: before + sign * limit * 2}) is not None


@pytest.mark.parametrize("task", GATES)
def test_an_int8_model_better_than_the_float_one_is_kept_and_one_far_worse_refused(task):
    judge, key, before, limit, sign = GATES[task]
    assert judge(None, {key: before}, {key: before - sign * limit * 3}) is None
    assert judge(None, {key: before}, {key: before}) is None
    assert judge(None, {key: before}, {key: before + sign * limit * 20}) is not None


def test_an_int8_forecast_that_overflowed_is_refused():
    judge = ForecastAdapter.quality_refusal
    assert "rose" in judge(None, {"MASE": 0.8}, {"MASE": math.nan})
    assert "rose" in judge(None, {"MASE": 0.8}, {"MASE": math.inf})
    # a series held still in its training part: MASE has no scale, the MAE is judged, a zero MAE must stay zero
    assert judge(None, {"MASE": math.nan, "MAE": 0.0}, {"MASE": math.nan, "MAE": 0.0}) is None
    assert "MAE rose" in judge(None, {"MASE": math.nan, "MAE": 0.0}, {"MASE": math.nan, "MAE": 0.01})
    assert "MAE rose" in judge(None, {"MASE": 0.0, "MAE": 1.0}, {"MASE": 0.0, "MAE": 1.1})


def test_an_lm_whose_int8_perplexity_is_nan_is_refused():
    assert "perplexity rose" in LMAdapter.quality_refusal(None, {"perplexity": 20.0}, {"perplexity": math.nan})


def _graph(path, fingerprint=None):
    from onnx import TensorProto, helper, save
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    if fingerprint is not None:
        set_metadata(str(path), {"lstmkit_fingerprint": fingerprint})


def test_a_graph_loads_only_beside_the_weights_it_was_stamped_with(tmp_path):
    (tmp_path / WEIGHTS_FILE).write_bytes(b"weights one")
    _graph(tmp_path / "model.onnx", weights_fingerprint(tmp_path))
    assert load_runner(tmp_path).metadata["lstmkit_fingerprint"] == weights_fingerprint(tmp_path)
    (tmp_path / WEIGHTS_FILE).write_bytes(b"weights two")           # saved over: the graph is stale
    with pytest.raises(LstmkitError, match="exported from other weights"):
        load_runner(tmp_path)
    _graph(tmp_path / "model.onnx", "")                             # a stamp of no weights
    with pytest.raises(LstmkitError, match="exported from other weights"):
        load_runner(tmp_path)
    _graph(tmp_path / "model.onnx")                                 # no stamp at all: another tool's graph
    with pytest.raises(LstmkitError, match="carries no lstmkit weights fingerprint"):
        load_runner(tmp_path)
