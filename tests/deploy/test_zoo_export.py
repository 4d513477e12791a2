"""Every encoder of the zoo exports to ONNX in every task that offers it (forecast, classify texts
and series, lm), with dynamic batch and length: ``export_onnx`` checks the graph against PyTorch
on a new batch size and length before writing it, and the service then answers a batch of
unequal lengths under the ONNX engine as it does under torch; a forecaster's stream, one
observation a step under either engine, answers what ``predict`` does of the history. The attention encoders
(``lstm-attention``, ``transformer``) quantise to int8 and serve from the int8 run too; an encoder
whose traced graph freezes a shape is refused in one line naming the model."""
import json
import math

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("fastapi")

import lstmkit  # noqa: E402
from asgi_client import Client  # noqa: E402
from forecast_data import sine_frame  # noqa: E402
from lstmkit.deploy import export_onnx  # noqa: E402
from lstmkit.deploy.onnx import TOLERANCE  # noqa: E402
from lstmkit.deploy.onnx_engine import ONNX_FILE  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.nn.zoo import ENCODERS  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)

TASKS = ("forecast", "text", "series", "lm")
LM_STEPS = ("lstm", "gru")      # the lm deploys a one-token step graph: recurrent state only
LM_NO_STEP = ("lstm-attention", "cnn-lstm", "transformer", "tcn")     # the other causal encoders
CASES = [(t, m) for t in TASKS for m in ENCODERS if t != "lm" or m in LM_STEPS]
# the forecaster's own settings for small data but three seeds, not 15 (one graph of every member's
# net and their median, an odd count as the default's; 15 members took ~40 s)
CASES += [("forecast-auto", "transformer")]
TEXTS = ["a good film", "great acting", "loved it", "the plot was bad", "awful and boring", "hated it"]
QUIET = dict(progress="off", tensorboard=False, seed=0)


def _fit(task: str, model: str, folder):
    """A tiny model of ``task`` with encoder ``model`` (one epoch: behaviour, not accuracy)."""
    if task == "forecast-auto":
        return lstmkit.Forecaster(lookback=12, hidden_size=16, max_epochs=1, device="cpu", model=model, ensemble=3,
                                  **QUIET).fit(sine_frame(n=120), target="y", time="time", features="temp", out=folder)
    if task == "forecast":
        return lstmkit.Forecaster(lookback=12, hidden_size=16, num_layers=1, max_epochs=1, device="cpu", model=model,
                                  deseason=0, log=False, segment=0, highway=0, scaler="minmax", ensemble=1, **QUIET,
                                  ).fit(sine_frame(n=120), target="y", time="time", features="temp", out=folder)
    if task == "text":
        return lstmkit.TextClassifier(model=model, embed_dim=8, hidden_size=16, max_epochs=1, min_freq=1, **QUIET,
                                      ).fit(TEXTS * 3, (["pos"] * 3 + ["neg"] * 3) * 3, out=folder)
    if task == "series":
        x = np.random.default_rng(0).standard_normal((16, 20)).astype(np.float32)
        return lstmkit.SequenceClassifier(model=model, embed_dim=8, hidden_size=16, max_epochs=1,
                                          unequal_length=True, **QUIET).fit(x, ["a", "b"] * 8, out=folder)
    (folder / "lines.txt").write_text("the cat sat\nthe dog ran\na cat ran\n" * 5)
    return lstmkit.LanguageModel(model=model, level="char", embed_dim=8, hidden_size=16, num_layers=1, max_epochs=1,
                                 doctor=False, **QUIET).fit(str(folder / "lines.txt"), out=folder / "run")


def _request(task: str) -> dict:
    """A batch of unequal lengths (none of them the length the graph was traced with)."""
    if task.startswith("forecast"):
        df = [sine_frame(n=n, seed=s) for n, s in ((50, 1), (63, 2), (77, 3))]   # deseason: 2 seasons + lookback
        return {"instances": [{"y": d["y"].tolist(), "temp": d["temp"].tolist()} for d in df]}
    if task == "text":
        return {"texts": ["loved it", "the plot was bad and boring", "great", "a good film hated it"]}
    if task == "series":
        rng = np.random.default_rng(1)
        return {"series": [rng.standard_normal(n).round(3).tolist() for n in (20, 9, 31)]}
    return {"texts": ["the cat", "a dog ran and the cat sat", "ran"]}


def _numbers(answer, path="") -> dict[str, object]:
    """Every leaf of a JSON answer by its path (the engine's name left out)."""
    if isinstance(answer, dict):
        return {k: v for key, val in answer.items() if key != "engine"
                for k, v in _numbers(val, f"{path}/{key}").items()}
    if isinstance(answer, list):
        return {k: v for i, val in enumerate(answer) for k, v in _numbers(val, f"{path}/{i}").items()}
    return {path: answer}


def _answer(run, engine: str, body: dict) -> dict:
    from lstmkit.deploy.server import create_app
    client = Client(create_app(run, engine=engine))
    try:
        status, raw = client.request("POST", "/predict", json.dumps(body))
    finally:
        client.close()
    answer = json.loads(raw)
    assert status == 200, answer
    assert answer.get("engine", engine) == engine
    return answer


@pytest.mark.parametrize("task,model", CASES)
def test_zoo_encoder_exports_and_serves_as_torch(tmp_path, task, model):
    run = _fit(task, model, tmp_path).run_dir_
    export_onnx(run)
    report = json.loads((run / "onnx.json").read_text())
    diffs = [g["max_abs_diff"] for g in report.get("graphs", {}).values()] or [report["max_abs_diff"]]
    assert max(diffs) <= TOLERANCE
    graph = run / ONNX_FILE             # the graph holds the weights, not tables sized for any length
    assert not graph.is_file() or graph.stat().st_size < 3 * (run / "model.safetensors").stat().st_size + 50_000
    body = _request(task)
    onnx, torch_ = _numbers(_answer(run, "onnx", body)), _numbers(_answer(run, "torch", body))
    assert onnx.keys() == torch_.keys()
    for key, want in torch_.items():
        got = onnx[key]
        if isinstance(want, float):
            assert math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-4), (key, got, want)
        else:
            assert got == want, key
    if task == "forecast":              # a stream, one observation a step, answers what predict does of the history
        _check_streams_as_predict(run)


def _check_streams_as_predict(run):
    est = lstmkit.load(run)
    history = sine_frame(n=40, seed=4)
    want = est.predict(history)["y"].to_numpy()
    for engine in ("torch", "onnx"):
        stream = est.stream(engine=engine)
        answers = [stream.step({"y": y, "temp": t}) for y, t in zip(history["y"], history["temp"])]
        np.testing.assert_allclose(np.ravel(answers[-1]), want, rtol=1e-4, atol=1e-4, err_msg=engine)


@pytest.mark.parametrize("task,model", [("forecast", "lstm-attention"), ("text", "transformer")])
def test_attention_encoders_quantise_and_serve_from_the_int8_run(tmp_path, task, model):
    from lstmkit.deploy.quantize import export_int8
    run = _fit(task, model, tmp_path / "fp32").run_dir_
    data = None
    if task == "text":                 # labelled texts for the accuracy gate (the run kept no test split)
        data = tmp_path / "test.csv"
        data.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in zip(TEXTS, ["pos"] * 3 + ["neg"] * 3)))
        data = str(data)
    else:                              # the series for the MASE gate (the run was trained on a frame in memory)
        data = tmp_path / "series.csv"
        sine_frame(n=120).to_csv(data, index=False)
        data = str(data)
    out = export_int8(run, tmp_path / "int8", data=data, batch=16, min_seconds=0.01)
    report = json.loads((out / "export_report.json").read_text())
    assert {"torch", "onnx"} <= set(report["candidates"])
    engine = report["engine"] or "torch"
    answer = _answer(out, engine, _request(task))
    assert len(answer.get("predictions", [])) == len(next(iter(_request(task).values())))


@pytest.mark.parametrize("model", ["lstm-attention", "transformer"])
def test_a_graph_that_freezes_a_shape_is_refused_in_one_line_naming_the_model(tmp_path, monkeypatch, capfd, model):
    """Traced through torch's own attention (what the exporter saw before), the graph fixes the
    length: the refusal is one line with the model and what to do, ONNX Runtime's text left out."""
    import lstmkit.nn.attention
    import lstmkit.nn.zoo
    for mod in (lstmkit.nn.attention, lstmkit.nn.zoo):     # positions still computed in the graph
        monkeypatch.setattr(mod, "exporting", lambda: False)
    run = _fit("forecast", model, tmp_path).run_dir_
    capfd.readouterr()
    with pytest.raises(LstmkitError) as err:
        export_onnx(run)
    assert "onnxruntime" not in capfd.readouterr().err      # ONNX Runtime's own log line stays quiet too
    text = str(err.value)
    assert "\n" not in text and f"model {model} of" in text and "--engine torch" in text
    assert "onnxruntime" not in text.lower() and "Reshape" not in text
    assert not (run / ONNX_FILE).exists() and not [p for p in run.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("model", LM_NO_STEP)
def test_a_language_model_without_recurrent_state_is_refused_in_one_line(tmp_path, model):
    run = _fit("lm", model, tmp_path).run_dir_
    with pytest.raises(LstmkitError) as err:
        export_onnx(run)
    assert "\n" not in str(err.value) and f"({model})" in str(err.value) and "--model lstm" in str(err.value)
    assert not [p for p in run.iterdir() if p.suffix in (".onnx", ".tmp")]


def test_exported_attention_equals_torch_attention_and_keeps_the_parameter_names():
    """The ops the exporter traces equal nn.MultiheadAttention / nn.TransformerEncoder on the
    same parameters (runs saved before load unchanged: the state_dict names are the same)."""
    from lstmkit.nn.attention import SelfAttention, attend, causal_mask
    from lstmkit.nn.blocks import PositionalEncoding
    from lstmkit.nn.zoo import TransformerEncoder
    torch.manual_seed(0)
    x, pad = torch.randn(3, 7, 16), torch.zeros(3, 7, dtype=torch.bool)
    pad[1, 4:] = True
    sa = SelfAttention(16, 2, 0.1).eval()
    assert sorted(sa.state_dict()) == ["attn.in_proj_bias", "attn.in_proj_weight", "attn.out_proj.bias",
                                       "attn.out_proj.weight", "norm.bias", "norm.weight"]
    with torch.no_grad():
        want = sa.attn(x, x, x, attn_mask=causal_mask(7), key_padding_mask=pad, need_weights=False)[0]
        torch.testing.assert_close(attend(sa.attn, x, causal_mask(7), pad), want, atol=1e-6, rtol=1e-5)
    for d in (16, 7):           # the positions the exporter computes in the graph equal the table
        pe = PositionalEncoding(d)
        torch.testing.assert_close(pe.rows(37), pe.pe[:37], atol=1e-6, rtol=0)
    enc = TransformerEncoder(3, 16, num_layers=2, dropout=0.1, causal=False).eval()
    assert "layers.layers.1.self_attn.in_proj_weight" in enc.state_dict() and "layers.norm.weight" in enc.state_dict()
    h = torch.randn(3, 7, 16)
    with torch.no_grad():
        torch.testing.assert_close(enc.explicit(h, None, pad), enc.layers(h, src_key_padding_mask=pad),
                                   atol=1e-5, rtol=1e-5)
