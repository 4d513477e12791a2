"""Ctrl-C in every phase of a translator's training after the first epoch (the later epoch, its
validation and checkpoint, the end of the loop, the best weights' restore, the doctor, greedy and
beam scoring, the plots and translations table, saving): the run is left ``interrupted`` with its
checkpoint and no half-written file, and its resume ends with the weights, vocabularies, metrics
and validation translations of a run never interrupted."""
import shutil

import pandas as pd
import pytest

from cli_helpers import run_cli
from interrupt_helpers import (assert_same_outputs, ctrl_c_on_call, interrupt, phases_after_the_first_epoch,
                               phases_of_a_resume_set_up)
from lstmkit import Translator
from translate_data import TINY, make_pairs

SETTINGS = {**TINY, "max_epochs": 2, "batch_size": 16, "val_frac": 0.2, "doctor": True, "tensorboard": True}
ESTIMATOR = "lstmkit.tasks.translate.estimator"
PHASES = {**phases_after_the_first_epoch("lstmkit.nn.seq2seq:Seq2Seq", "attention.png"),
          "the repeated-pairs check": (f"{ESTIMATOR}:warn_repeated_pairs", 1, None, 2),
          "greedy scoring": (f"{ESTIMATOR}:Translator._score", 1, None, 2),
          "beam scoring": (f"{ESTIMATOR}:Translator._score", 2, None, 2),
          "val_translations.tsv": (f"{ESTIMATOR}:write_sentences", 1, None, 2),
          "the attention plot": (f"{ESTIMATOR}:plot_attention", 1, None, 2),
          "vocab.json": (f"{ESTIMATOR}:Translator._write_state", 2, None, 2)}       # the 1st: when the run starts


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pairs")
    pairs = list(dict.fromkeys(make_pairs(48, seed=3, min_len=3, max_len=7)))      # none repeated
    for suffix, side in (("en", 0), ("de", 1)):
        (folder / f"train.{suffix}").write_text("\n".join(p[side] for p in pairs) + "\n")
    return {"src_file": str(folder / "train.en"), "tgt_file": str(folder / "train.de")}


@pytest.fixture(scope="module")
def straight(files, tmp_path_factory):
    """The run never interrupted."""
    return Translator(**SETTINGS).fit(**files, run_dir=tmp_path_factory.mktemp("straight") / "run").run_dir_


def _fit(files):
    return lambda folder: Translator(**SETTINGS).fit(**files, run_dir=folder)


@pytest.fixture(scope="module")
def interrupted(files, tmp_path_factory):
    """``interrupted(phase, folder)``: ``folder``, a copy of the run that Ctrl-C in ``phase`` left
    (checked as :func:`interrupt` checks it; cut once, when first asked for)."""
    runs = {}

    def copy(phase, folder):
        if phase not in runs:
            runs[phase] = tmp_path_factory.mktemp("interrupted") / "run"
            with pytest.MonkeyPatch.context() as m:
                interrupt(m, phase, PHASES[phase], _fit(files), runs[phase])
        return shutil.copytree(runs[phase], folder)
    return copy


def _history(run):
    return pd.read_csv(run / "history.csv").drop(columns="seconds")


@pytest.mark.parametrize("phase", PHASES)
def test_ctrl_c_in_every_phase_leaves_a_run_whose_resume_ends_as_an_uninterrupted_run(
        phase, files, straight, tmp_path, monkeypatch):
    run = tmp_path / "run"
    interrupt(monkeypatch, phase, PHASES[phase], _fit(files), run)
    Translator.resume(run)
    assert_same_outputs(run, straight)
    for name in ("vocab.json", "val_translations.tsv"):
        assert (run / name).read_bytes() == (straight / name).read_bytes(), name
    pd.testing.assert_frame_equal(_history(run), _history(straight))
    assert {p.name for p in (run / "plots").iterdir()} == {"loss.png", "attention.png"}


def test_ctrl_c_while_scoring_says_how_to_resume(files, tmp_path, monkeypatch, capsys):
    """After the last epoch the command's one line names the epochs the checkpoint holds and
    --resume RUN, exit 130, no traceback."""
    ctrl_c_on_call(monkeypatch, f"{ESTIMATOR}:Translator._score", 2)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SETTINGS.items() if not isinstance(v, bool)]
    code, _, err = run_cli(["translate", "train", "--src-file", files["src_file"], "--tgt-file", files["tgt_file"],
                            "--out", tmp_path / "runs", *flags, "--no-tensorboard"], capsys)
    (run,) = (tmp_path / "runs").iterdir()
    assert code == 130 and "Traceback" not in err
    assert err.strip().splitlines() == [f"interrupted after epoch 2; checkpoint saved. Continue with: "
                                        f"lstmkit translate train --resume {run}"]


AGAIN = [("greedy scoring", "model.safetensors"), ("epoch 2's training", "the attention plot"),
         *((first, then) for first in ("greedy scoring", "epoch 2's training") for then in phases_of_a_resume_set_up(0))]


@pytest.mark.parametrize("first, then", AGAIN)
def test_a_resume_cut_short_again_resumes_as_an_uninterrupted_run(first, then, interrupted, straight, tmp_path,
                                                                  monkeypatch):
    """A resume interrupted too, before it has read the checkpoint (it said 'during the first epoch') or after."""
    run = interrupted(first, tmp_path / "run")
    interrupt(monkeypatch, then, {**PHASES, **phases_of_a_resume_set_up(PHASES[first][3])}[then], Translator.resume, run)
    Translator.resume(run)
    assert_same_outputs(run, straight)
