"""Every task through the public deployment surface at once: ``lstmkit.load(run).export("onnx")``,
one real ``lstmkit serve`` on a loopback port holding a forecaster, a text classifier, a translator,
a language model and a speech recogniser under their names, and ``lstmkit.serve.Client`` asking
each one (a WAV upload for speech, WebSocket streams for the lm and speech)."""
import io

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("fastapi")
pytest.importorskip("websockets.sync.client")

import lstmkit  # noqa: E402
from forecast_data import sine_frame  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)
from serve_helpers import running_server, tiny_text_classifier  # noqa: E402
from translate_data import TINY, make_pairs  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory, abs_forecaster):
    """Five finished runs, one per task, each exported to ONNX through ``est.export``."""
    from lstmkit.tasks.speech.synthetic import tiny_run
    d = tmp_path_factory.mktemp("every_task")
    clf = tiny_text_classifier(d / "classify")
    pd.DataFrame(make_pairs(200, seed=1), columns=["src", "tgt"]).to_csv(d / "pairs.csv", index=False)
    tr = lstmkit.Translator(**{**TINY, "max_epochs": 3, "max_len": 10}).fit(str(d / "pairs.csv"), out=d / "tr")
    (d / "lines.txt").write_text("the cat sat\nthe dog ran\na cat ran\n" * 20)
    lm = lstmkit.LanguageModel(level="char", embed_dim=8, hidden_size=16, max_epochs=1, progress="off",
                               tensorboard=False, doctor=False, seed=0).fit(str(d / "lines.txt"), out=d / "lm")
    speech = tiny_run(d / "speech", n=24, max_epochs=2)
    out = {"sales": abs_forecaster.run_dir_, "reviews": clf.run_dir_, "translate": tr.run_dir_,
           "chars": lm.run_dir_, "speech": speech}
    for name, run in out.items():
        if name != "sales":                       # the shared forecaster stays without a graph
            lstmkit.load(run).export("onnx")
            assert (run / "onnx.json").is_file(), name
    return out


@pytest.fixture(scope="module")
def client(runs):
    from lstmkit.serve import Client
    with running_server(*(a for name, run in runs.items() for a in ("--run", f"{name}={run}"))) as (_, port):
        yield Client(f"http://127.0.0.1:{port}")


def test_every_task_is_served_under_its_name(client, runs):
    tasks = {m["name"]: (m["task"], m["engine"]) for m in client.models()}
    # the shared forecaster is served by ONNX once any test file has exported it (order varies)
    sales = "onnx" if (runs["sales"] / "onnx.json").is_file() else "torch"
    assert tasks == {"sales": ("forecast", sales), "reviews": ("classify", "onnx"),
                     "translate": ("translate", "onnx"), "chars": ("lm", "onnx"), "speech": ("speech", "onnx")}


def test_each_task_answers_as_its_estimator(client, runs):
    df = sine_frame(n=30)
    out = client.predict(model="sales", instances=[{"y": df["y"].tolist(), "temp": df["temp"].tolist()}])
    want = lstmkit.load(runs["sales"]).predict(df)["y"].to_numpy()
    assert np.abs(np.asarray(out["predictions"][0]["y"]) - want).max() < 1e-4
    texts = ["a good film", "hated it"]
    out = client.predict(model="reviews", texts=texts)
    assert [p["label"] for p in out["predictions"]] == list(lstmkit.load(runs["reviews"]).predict(texts))
    src = [s for s, _ in make_pairs(3, seed=4)]
    out = client.predict(model="translate", sentences=src, beam=5)
    assert out["translations"] == lstmkit.load(runs["translate"]).translate(src, beam=5)
    out = client.predict(model="chars", texts=["the cat sat"])
    assert len(out["logprobs"]) == 1 and out["perplexity"][0] > 1 and "warnings" not in out
    out = client.predict(model="chars", texts=["the cat sat", "жжжж"])       # characters it never saw
    assert out["warnings"][0].startswith("texts[1] 80% of their char tokens are <unk>"), out


def test_speech_takes_a_wav_upload_and_streams_audio(client, runs, tmp_path):
    import soundfile as sf
    from lstmkit.tasks.speech.synthetic import RATE, tone_clip
    wave = tone_clip("ab", seconds=1.0)
    wav = tmp_path / "clip.wav"
    sf.write(wav, wave, RATE, subtype="PCM_16")
    uploaded = client.upload(wav, model="speech")
    assert uploaded["transcript"] == lstmkit.load(runs["speech"]).transcribe([str(wav)], beam=1)[0]
    samples = sf.read(io.BytesIO(wav.read_bytes()), dtype="float32")[0]
    with client.stream(model="speech") as s:
        answers = [s.send([float(v) for v in samples[i:i + 1000]]) for i in range(0, len(samples), 1000)]
    assert answers[-1]["step"] == len(answers)
    assert answers[-1]["partial"] == uploaded["transcript"]


def test_lm_streams_tokens(client):
    with client.stream(model="chars") as s:
        first = s.send("t")
        second = s.send("h")
    assert second["step"] == 2 and first["tokens"] == ["t"] and len(second["next"]) >= 1
    assert sum(n["p"] for n in second["next"]) <= 1 + 1e-6
