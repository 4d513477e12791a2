"""Ctrl-C in every phase of a speech model's training after the first epoch, in each mode (CTC,
seq2seq, classify; CTC with a language model): the later epoch, its validation and checkpoint,
the end of the loop, the best weights' restore, the doctor, greedy and beam scoring, the plots,
saving (the phases whose code does not depend on the mode in CTC only). The run is left
``interrupted`` with its checkpoint and no half-written file, and its resume ends with the weights,
metrics and history of a run never interrupted."""
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_helpers import run_cli
from interrupt_helpers import (assert_same_outputs, ctrl_c_on_call, interrupt, phases_after_the_first_epoch,
                               phases_of_a_resume_set_up)
from lstmkit import LanguageModel, SpeechRecognizer
from speech_data import random_text, write_digits, write_manifest

SETTINGS = dict(hidden_size=32, num_layers=1, channels=16, n_mels=20, subsample=1, lr=0.01, max_epochs=2,
                dropout=0.0, batch_size=8, val_frac=0.25, progress="off", tensorboard=True, doctor=True, seed=0)
# the flows: a mode, with a language model fused into CTC's beam search in the last
FLOWS = {"ctc": {"mode": "ctc", "beam": 3}, "seq2seq": {"mode": "seq2seq", "beam": 2},
         "classify": {"mode": "classify", "label_from_name": "{label}_{speaker}_{take}"},
         "ctc with an LM": {"mode": "ctc", "beam": 3, "lm_weight": 0.5}}
NETS = {"ctc": "AcousticModel", "seq2seq": "SpeechSeq2Seq", "classify": "SpeechClassifier"}
PLOTS = {"ctc": "ctc_posteriors.png", "seq2seq": "spectrogram.png", "classify": "confusion.png"}
ESTIMATOR = "lstmkit.tasks.speech.estimator"


# phases in the shared trainer and plot code that run the same whatever the mode: cut once, in CTC
# (the plots take most of a case's second)
MODE_FREE = {"epoch 2's validation", "epoch 2's checkpoint", "epoch 2's last.json", "epoch 2's history.csv",
             "history.csv at the loop's end", "closing TensorBoard", "the doctor's report", "the loss plot"}


def _phases(flow: str) -> dict:
    mode = FLOWS[flow]["mode"]
    if flow == "ctc with an LM":       # what the LM changes: the beam search it is fused into
        return {"beam scoring with the LM": (f"{ESTIMATOR}:SpeechRecognizer._score", 2, None, 2)}
    phases = {phase: where for phase, where in
              phases_after_the_first_epoch(f"lstmkit.tasks.speech.model:{NETS[mode]}", PLOTS[mode]).items()
              if mode == "ctc" or phase not in MODE_FREE}
    phases.update({
        "greedy scoring": (f"{ESTIMATOR}:SpeechRecognizer._score", 1, None, 2),
        "the spectrogram plot": (f"{ESTIMATOR}:plot_spectrogram", 1, None, 2)})
    if mode != "classify":
        phases["beam scoring"] = (f"{ESTIMATOR}:SpeechRecognizer._score", 2, None, 2)
    if mode == "ctc":
        phases["the CTC posteriors plot"] = (f"{ESTIMATOR}:plot_ctc_posteriors", 1, None, 2)
    if mode == "classify":
        phases["the confusion plot"] = ("lstmkit.inspect.confusion:plot_confusion", 1, None, 2)
    if mode == "seq2seq":
        phases["the attention plot"] = (f"{ESTIMATOR}:plot_decoder_attention", 1, None, 2)
    return phases


CASES = [(flow, phase) for flow in FLOWS for phase in _phases(flow)]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech")
    manifest = str(write_manifest(folder, 28, seed=1))
    rng = np.random.default_rng(0)
    lm = LanguageModel(level="char", hidden_size=16, embed_dim=8, max_epochs=2, progress="off", tensorboard=False,
                       doctor=False).fit([random_text(rng) for _ in range(100)], out=folder / "lm")
    return {"ctc": manifest, "seq2seq": manifest, "ctc with an LM": manifest, "lm": str(lm.run_dir_),
            "classify": str(write_digits(folder / "digits", digits=range(3), takes=4))}


def _fit(flow, data):
    lm = {"lm": data["lm"]} if flow == "ctc with an LM" else {}
    return lambda folder: SpeechRecognizer(**SETTINGS, **FLOWS[flow], **lm).fit(data[flow], run_dir=folder)


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory):
    """The runs never interrupted, by flow (trained when first asked for)."""
    runs = {}

    def run(flow):
        if flow not in runs:
            runs[flow] = _fit(flow, data)(tmp_path_factory.mktemp("straight") / "run").run_dir_
        return runs[flow]
    return run


@pytest.fixture(scope="module")
def cut_in_beam_scoring(data, tmp_path_factory):
    """The CTC run that Ctrl-C in beam scoring left (checked as :func:`interrupt` checks it), whose
    copies the tests resume."""
    run = tmp_path_factory.mktemp("interrupted") / "run"
    with pytest.MonkeyPatch.context() as m:
        interrupt(m, "beam scoring", _phases("ctc")["beam scoring"], _fit("ctc", data), run)
    return run


def _history(run):
    return pd.read_csv(run / "history.csv").drop(columns="seconds")


@pytest.mark.parametrize("flow, phase", CASES)
def test_ctrl_c_in_every_phase_leaves_a_run_whose_resume_ends_as_an_uninterrupted_run(
        flow, phase, data, straight, tmp_path, monkeypatch):
    run, want = tmp_path / "run", straight(flow)
    interrupt(monkeypatch, phase, _phases(flow)[phase], _fit(flow, data), run)
    SpeechRecognizer.resume(run)
    assert_same_outputs(run, want)
    pd.testing.assert_frame_equal(_history(run), _history(want))
    assert {p.name for p in (run / "plots").iterdir()} == {p.name for p in (want / "plots").iterdir()}
    if flow == "ctc with an LM":
        assert json.loads((run / "metrics.json").read_text())["val_beam"]["lm"]
    # the time trained counts the epochs of the interrupted session too (it said this session's alone: 0.01 s)
    epochs = pd.read_csv(run / "history.csv")["seconds"].sum()
    assert json.loads((run / "metrics.json").read_text())["train_seconds"] >= round(epochs, 2) > 0


@pytest.mark.parametrize("then", phases_of_a_resume_set_up(2))
def test_a_resume_cut_short_before_it_read_the_checkpoint_resumes_as_an_uninterrupted_run(
        then, cut_in_beam_scoring, straight, tmp_path, monkeypatch):
    """It said 'interrupted during the first epoch' of a run whose checkpoint held two."""
    run = shutil.copytree(cut_in_beam_scoring, tmp_path / "run")
    interrupt(monkeypatch, then, phases_of_a_resume_set_up(2)[then], SpeechRecognizer.resume, run)
    SpeechRecognizer.resume(run)
    assert_same_outputs(run, straight("ctc"))


def test_ctrl_c_while_scoring_says_how_to_resume(data, tmp_path, monkeypatch, capsys):
    """After the last epoch the command's one line names the epochs the checkpoint holds and
    --resume RUN, exit 130, no traceback; the resumed command says the time every session trained."""
    ctrl_c_on_call(monkeypatch, f"{ESTIMATOR}:SpeechRecognizer._score", 2)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in {**SETTINGS, **FLOWS["ctc"]}.items() if not isinstance(v, bool)]
    code, _, err = run_cli(["speech", "train", "--data", data["ctc"], "--out", tmp_path / "runs", *flags,
                            "--no-tensorboard"], capsys)
    (run,) = (tmp_path / "runs").iterdir()
    assert code == 130 and "Traceback" not in err
    assert err.strip().splitlines() == [f"interrupted after epoch 2; checkpoint saved. Continue with: "
                                        f"lstmkit speech train --resume {run}"]
    monkeypatch.undo()
    code, out, err = run_cli(["speech", "train", "--resume", run], capsys)
    assert code == 0, err
    said = float(out.strip().splitlines()[-2].rsplit(", ", 1)[1].removesuffix(" s"))
    epochs = pd.read_csv(run / "history.csv")["seconds"].sum()
    assert said >= round(epochs, 1) and epochs > 0


@pytest.mark.parametrize("given", ["numbers in y", "labels from the file names"])
def test_a_resumed_classify_run_answers_in_the_label_type_it_started_with(given, data, tmp_path, monkeypatch):
    """A resume fits without y (the pairs given again hold the labels as text, a folder names them):
    the type of the labels predict answers in is the run's record (preprocessing.label_type), so a run
    started on numbers in y answers numbers after its resume, and one labelled by file names text."""
    folder = data["classify"]
    settings = {**SETTINGS, "mode": "classify", "tensorboard": False, "doctor": False}
    if given == "numbers in y":
        files = sorted(str(p) for p in Path(folder).glob("*.wav"))
        y = np.array([int(Path(f).name.split("_")[0]) for f in files])

        def fit(run):
            return SpeechRecognizer(**settings).fit(files, y, run_dir=run)

        def resume(run):
            return SpeechRecognizer.resume(run, data=list(zip(files, map(str, y))))
    else:
        settings["label_from_name"] = FLOWS["classify"]["label_from_name"]
        files = folder

        def fit(run):
            return SpeechRecognizer(**settings).fit(folder, run_dir=run)

        def resume(run):
            return SpeechRecognizer.resume(run)
    want = fit(tmp_path / "straight").predict(files)
    run = tmp_path / "run"
    interrupt(monkeypatch, "epoch 2's training", phases_after_the_first_epoch(
        f"lstmkit.tasks.speech.model:{NETS['classify']}")["epoch 2's training"], fit, run)
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["preprocessing"]["label_type"] == ("int" if given == "numbers in y" else None)
    resumed = resume(run)
    for est in (resumed, SpeechRecognizer.load(run)):
        got = est.predict(files)
        assert got.tolist() == want.tolist() and got.dtype == want.dtype
        if given == "numbers in y":
            assert got.dtype.kind == "i" and est.classes_.tolist() == [0, 1, 2]
            assert (got == y).mean() == est.score(files, y)
        else:
            assert got.dtype == object and est.classes_.tolist() == ["0", "1", "2"]
