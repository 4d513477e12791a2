"""Catalogue, an install without an optional extra (``export``: onnx, onnxruntime; ``serve``: fastapi,
uvicorn, websockets; ``speech``: soundfile, jiwer): each feature that needs one is exit 1 (the
environment), one line naming the feature, the package and ``pip install 'lstmkit[EXTRA]'``, before
any work and with nothing left behind; what does not need it works. A package is made missing as an
uninstalled one is: ``sys.modules[name] = None`` fails its import with ModuleNotFoundError."""
import shutil

import pytest

from catalogue_helpers import check, forecast_run, without
from cli_helpers import run_cli


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("extras")
    forecast_run(d)
    return d


@pytest.fixture(scope="module")
def run(d):
    (run,) = (d / "runs").iterdir()
    return run


@pytest.fixture(scope="module")
def exported(d, run):
    """A copy of ``run`` with its ONNX graph, written where the export extra is installed."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from lstmkit.deploy.onnx import export_onnx
    copy = d / "exported"
    shutil.copytree(run, copy)
    export_onnx(copy)
    return copy


EXPORT = "pip install 'lstmkit[export]'"


# each was exit 2, as if the user's input were at fault; int8 --backend onnx said "no int8 backend could
# quantize this model: ONNX export needs ... — pip install 'lstmkit[export]' — keep the float run"
@pytest.mark.parametrize("argv, missing, problem", [
    (["export", "onnx", "--run", "{run}"], "onnx", "ONNX export needs the onnx package, which is not installed"),
    (["export", "onnx", "--run", "{run}"], "onnxruntime", "ONNX export needs the onnxruntime package"),
    (["export", "int8", "--run", "{run}", "--backend", "onnx", "--out", "{out}/q8"], "onnx",
     "int8 quantization with ONNX Runtime needs the onnx package, which is not installed"),
    (["serve", "--run", "{run}"], "fastapi", "the HTTP service needs the fastapi package, which is not installed"),
    (["serve", "--run", "{run}"], "uvicorn", "the HTTP service needs the uvicorn package, which is not installed"),
], ids=["onnx-onnx", "onnx-onnxruntime", "int8-onnx", "serve-fastapi", "serve-uvicorn"])
def test_a_feature_without_its_extra_is_the_environment(argv, missing, problem, run, tmp_path, capsys, monkeypatch):
    without(monkeypatch, missing)
    line = check([a.replace("{run}", str(run)) for a in argv], 1, problem, tmp_path, capsys)
    assert line.endswith(" — " + (EXPORT if "int8" in argv or "onnx" in argv else "pip install 'lstmkit[serve]'")), line
    assert not (run / "model.onnx").exists()


def test_int8_auto_without_the_export_extra_keeps_torch_and_says_why(run, tmp_path, capsys, monkeypatch):
    without(monkeypatch, "onnx", "onnxruntime")
    code, out, err = run_cli(["export", "int8", "--run", run, "--out", tmp_path / "q8"], capsys)
    assert code == 0, err
    assert "<- kept as engine" in out and ("onnx : refused: int8 quantization with ONNX Runtime needs the onnx "
                                           f"package, which is not installed — {EXPORT}") in out, out


def test_the_onnx_engine_needs_onnxruntime_alone(exported, tmp_path, capsys, monkeypatch):
    """A deployment with onnxruntime and no onnx (the exporter) was refused the ONNX engine: 'ONNX
    export needs the onnx and onnxruntime packages', exit 2, for a predict."""
    data = exported.parent / "sine.csv"
    code, torch_out, err = run_cli(["forecast", "predict", "--run", exported, "--data", data, "--engine", "torch"],
                                   capsys)
    assert code == 0, err
    without(monkeypatch, "onnx")
    code, onnx_out, err = run_cli(["forecast", "predict", "--run", exported, "--data", data, "--engine", "onnx"],
                                  capsys)
    assert code == 0, err
    assert onnx_out.splitlines()[0] == torch_out.splitlines()[0] and len(onnx_out) == len(torch_out)
    without(monkeypatch, "onnxruntime")
    line = check(["forecast", "predict", "--run", exported, "--data", data, "--engine", "onnx"], 1,
                 "the ONNX engine needs the onnxruntime package, which is not installed", tmp_path, capsys)
    assert line.endswith(f" — {EXPORT}, or answer with --engine torch"), line
    code, out, err = run_cli(["forecast", "predict", "--run", exported, "--data", data], capsys)    # auto: torch
    assert code == 0 and out == torch_out, err


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    pytest.importorskip("soundfile")
    from speech_data import write_manifest
    from lstmkit.tasks.speech.synthetic import tiny_run
    d = tmp_path_factory.mktemp("speech_extras")
    write_manifest(d, 6, seed=0, name="train.csv")
    return d, tiny_run(d / "tiny", n=12, max_epochs=1)


SPEECH_TRAIN = ["speech", "train", "--data", "{d}/train.csv", "--hidden-size", "4", "--layers", "1", "--epochs", "1",
                "--progress", "off", "--no-tensorboard", "--device", "cpu", "--out", "{out}"]


# each was ModuleNotFoundError's traceback; a ctc or seq2seq training without jiwer ran every epoch first, its
# validation WER scored after the last one, and left its run folder marked 'training'
@pytest.mark.parametrize("argv, missing, problem", [
    (SPEECH_TRAIN, "soundfile", "training on audio files needs the soundfile package, which is not installed"),
    (SPEECH_TRAIN, "jiwer", "scoring transcripts (WER, CER) needs the jiwer package, which is not installed"),
    (SPEECH_TRAIN + ["--mode", "seq2seq"], "jiwer", "scoring transcripts (WER, CER) needs the jiwer package"),
    (["speech", "transcribe", "--run", "{run}", "{d}/wavs/train_0.wav"], "soundfile",
     "reading audio files needs the soundfile package, which is not installed"),
    (["speech", "evaluate", "--run", "{run}", "--data", "{d}/train.csv"], "jiwer",
     "scoring transcripts (WER, CER) needs the jiwer package, which is not installed"),
    (["speech", "evaluate", "--run", "{run}", "--data", "{d}/train.csv"], "soundfile",
     "reading audio files needs the soundfile package, which is not installed"),
    # each model's trial failed alike, one line a model, before the same error
    (["compare", "--task", "speech", "--data", "{d}/train.csv", "--models", "lstm,gru", "--epochs", "1", "--seeds",
      "1", "--out", "{out}"], "soundfile", "training on audio files needs the soundfile package, which is not installed"),
], ids=["train-soundfile", "train-jiwer", "seq2seq-jiwer", "transcribe-soundfile", "evaluate-jiwer",
        "evaluate-soundfile", "compare-soundfile"])
def test_speech_without_its_extra_is_the_environment(argv, missing, problem, speech, tmp_path, capsys, monkeypatch):
    d, run = speech
    without(monkeypatch, missing)
    line = check([a.replace("{run}", str(run)) for a in argv], 1, problem, tmp_path, capsys, d)
    assert line.endswith(" — pip install 'lstmkit[speech]'"), line


def test_a_classifier_trains_without_jiwer(speech, tmp_path, capsys, monkeypatch):
    """jiwer scores transcripts; a classify run, scored by accuracy, never needs it."""
    d, _ = speech
    without(monkeypatch, "jiwer")
    (tmp_path / "labels.csv").write_text("".join(line.split(",")[0] + "," + (line.split(",")[1][:1] if k else "text")
                                                 + "\n" for k, line in enumerate((d / "train.csv").read_text()
                                                                                 .splitlines())))
    shutil.copytree(d / "wavs", tmp_path / "wavs")
    argv = [a.format(d=tmp_path, out=tmp_path / "runs") for a in SPEECH_TRAIN] + ["--mode", "classify"]
    code, out, err = run_cli([a.replace("train.csv", "labels.csv") for a in argv], capsys)
    assert code == 0, err
