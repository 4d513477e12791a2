"""The speech CLI, in-process: train / transcribe / evaluate, and every bad input of the issue
(exit 2, one line, no run folder)."""
import json
import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cli_helpers import assert_evaluated_keys, assert_user_error, run_cli
from lstmkit import SpeechRecognizer
from speech_data import RATE, say, write_commands


def cli(capsys, *args):
    return run_cli(args, capsys)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text("hidden_size: 16\nnum_layers: 1\nchannels: 8\nn_mels: 16\nsubsample: 1\nbeam: 2\n"
                    "train:\n  tensorboard: false\n  progress: 'off'\n  doctor: false\n  max_epochs: 2\n")
    return path


@pytest.fixture(scope="module")
def cls_cfg(cfg):
    """``cfg`` less its ``beam``, which a classifier does not decode with (refused when set)."""
    path = cfg.with_name("tiny_classify.yaml")
    path.write_text(cfg.read_text().replace("beam: 2\n", ""))
    return path


def test_train_transcribe_evaluate(corpus, cfg, ctc_run, tmp_path, capsys):
    code, out, err = cli(capsys, "speech", "train", "--data", corpus / "test.csv", "--config", cfg,
                         "--spec-augment", "--out", tmp_path)
    assert code == 0, err
    assert "validation (beam 1): " in out and "WER" in out and "run folder: " in out
    run = out.strip().splitlines()[-1].split("run folder: ")[1]
    assert json.loads((tmp_path / run.split("/")[-1] / "lstmkit.json").read_text())["config"]["spec_augment"]

    wavs = sorted((corpus / "wavs").glob("test_*.wav"))[:3]
    code, out, err = cli(capsys, "speech", "transcribe", "--run", ctc_run.run_dir_, *wavs)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert [ln.split("\t")[0] for ln in lines] == [str(w) for w in wavs]
    assert [ln.split("\t")[1] for ln in lines] == ctc_run.transcribe(wavs)

    code, out, err = cli(capsys, "speech", "evaluate", "--run", ctc_run.run_dir_, "--data", corpus / "test.csv",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["wer"] == ctc_run.evaluate(corpus / "test.csv")["wer"]
    # the keys every task's evaluate --json holds: a recogniser's metric its WER
    assert_evaluated_keys(json.loads(out), ctc_run.run_dir_, "speech", "WER", json.loads(out)["wer"])


def test_classify_from_a_folder(digits, cls_cfg, tmp_path, capsys, monkeypatch):
    """(spectrogram.png of MFCCs named its axis 'mel band': they are cepstral coefficients)"""
    import lstmkit.inspect.plots as plots
    drawn, save = {}, plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (drawn.update({Path(path).name: fig}),
                                                                       save(fig, path, **kw)))
    code, out, err = cli(capsys, "speech", "train", "--data", digits, "--mode", "classify",
                         "--label-from-name", "{label}_{speaker}_{take}", "--features", "mfcc", "--n-mfcc", "12",
                         "--config", cls_cfg, "--out", tmp_path)
    assert code == 0, err
    assert "accuracy" in out
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    est = SpeechRecognizer.load(run)
    assert (est.config_.features, est.config_.n_mfcc, est.spec_.dim) == ("mfcc", 12, 12)
    assert drawn["spectrogram.png"].axes[0].get_ylabel() == "MFCC coefficient"
    # lstmkit list names its recordings as it names other tasks' data files (a folder hashes to no file digest)
    code, out, err = cli(capsys, "list", tmp_path, "--json")
    assert code == 0 and re.fullmatch(r"[0-9a-f]{12}", json.loads(out)[0]["data"] or ""), out


def test_class_folders_train_transcribe_and_evaluate(cls_cfg, tmp_path, capsys):
    """Speech Commands' layout: each label its folder's name, _background_noise_ skipped, the list
    files give the split; transcribing the folder reads every file, evaluating it the test part."""
    data = write_commands(tmp_path / "commands", ("yes", "no", "up"), takes=6)
    for name, take in (("validation_list.txt", 0), ("testing_list.txt", 1)):
        (data / name).write_text("".join(f"{w}/s{take}_nohash_0.wav\n" for w in ("yes", "no", "up")))
    code, out, err = cli(capsys, "speech", "train", "--data", data, "--mode", "classify", "--config", cls_cfg,
                         "--out", tmp_path / "runs")
    assert code == 0, err
    assert "utterances 18 (train 12, val 3, test 3 kept out)" in out
    assert err.count("_background_noise_/ skipped") == 1 and err.count("give the split, not a random draw") == 1
    (run,) = (tmp_path / "runs").iterdir()
    est = SpeechRecognizer.load(run)
    assert est.class_names_ == ["no", "up", "yes"] and est.classes_.tolist() == est.class_names_
    assert est.data_summary_["split"] == {"train": 12, "val": 3, "test": 3}

    code, out, err = cli(capsys, "speech", "transcribe", "--run", run, data)
    assert code == 0, err
    lines = [ln.split("\t") for ln in out.strip().splitlines()]
    assert [f for f, _ in lines] == sorted(str(p) for p in data.glob("[!_]*/*.wav")) and len(lines) == 18
    with pytest.warns(UserWarning, match="_background_noise_/ skipped"):
        predicted = est.predict(data)               # the Python API reads the folder alike
    assert [label for _, label in lines] == predicted.tolist() and set(predicted) <= set(est.classes_)

    code, out, err = cli(capsys, "speech", "evaluate", "--run", run, "--data", data, "--json")
    assert code == 0, err
    assert np.sum(json.loads(out)["confusion"]["matrix"]) == 3          # the testing list's recordings only
    assert_evaluated_keys(json.loads(out), run, "speech", "accuracy", json.loads(out)["accuracy"])   # a classifier's

    sf.write(data / "yes_extra.wav", say("ab", np.random.default_rng(0)), RATE)
    code, _, err = cli(capsys, "speech", "train", "--data", data, "--mode", "classify", "--config", cls_cfg,
                       "--out", tmp_path / "more")
    assert_user_error(code, err, "holds audio files both itself (yes_extra.wav: 1) and in class folders (no/, up/, yes/")
    assert _no_runs(tmp_path / "more")


def test_stereo_and_rate_are_converted_with_a_note(ctc_run, tmp_path, capsys):
    w = say("ab", np.random.default_rng(0))
    sf.write(tmp_path / "st.wav", np.stack([w, w], 1), RATE)
    sf.write(tmp_path / "fast.wav", np.repeat(w, 2), 2 * RATE)
    code, out, err = cli(capsys, "speech", "transcribe", "--run", ctc_run.run_dir_, tmp_path / "st.wav",
                         tmp_path / "fast.wav")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 2
    assert "warning: st.wav: 2 channels mixed down to mono" in err and "warning: fast.wav: resampled from 16000 Hz" in err


def test_inverted_channels_and_silence_are_transcribed_with_a_warning_each(ctc_run, tmp_path, capsys):
    """A stereo clip with one channel phase-inverted was transcribed as silence, and silence as a run of
    spaces ('\\t    '), each with no warning but '2 channels mixed down to mono'."""
    w = say("ab cd", np.random.default_rng(0))
    sf.write(tmp_path / "mono.wav", w, RATE, subtype="FLOAT")
    sf.write(tmp_path / "inverted.wav", np.stack([w, -w], 1), RATE, subtype="FLOAT")
    sf.write(tmp_path / "silent.wav", np.zeros(RATE), RATE)
    code, out, err = cli(capsys, "speech", "transcribe", "--run", ctc_run.run_dir_, tmp_path / "mono.wav",
                         tmp_path / "inverted.wav", tmp_path / "silent.wav")
    assert code == 0, err
    mono, inverted, silent = (ln.split("\t")[1] for ln in out.splitlines())
    assert inverted == mono == ctc_run.transcribe([tmp_path / "mono.wav"])[0] and mono.strip() == mono
    assert silent == " ".join(silent.split())         # whatever the model guesses, no run of spaces
    assert err.splitlines() == ["warning: inverted.wav: its 2 channels cancel out when mixed down to mono (one is "
                                "another phase-inverted): read channel 1 alone; check the recording's wiring",
                                "warning: silent.wav: holds only silence (every sample is 0): nothing in it to "
                                "recognise; check the recording"]


def _no_runs(path):
    return not path.exists() or not any(path.iterdir())


def test_bad_training_data(corpus, cfg, tmp_path, capsys):
    out = tmp_path / "runs"
    (tmp_path / "empty.csv").write_text("path,text\n")
    code, _, err = cli(capsys, "speech", "train", "--data", tmp_path / "empty.csv", "--config", cfg, "--out", out)
    assert_user_error(code, err, "empty.csv", "empty")

    (tmp_path / "one.csv").write_text(f"path,text\n{corpus}/wavs/test_0.wav,ab\n")
    code, _, err = cli(capsys, "speech", "train", "--data", tmp_path / "one.csv", "--config", cfg, "--out", out)
    assert_user_error(code, err, "only 1 recording")

    (tmp_path / "gone.csv").write_text(f"path,text\n{corpus}/wavs/test_0.wav,ab\nnothere.wav,ab\n")
    code, _, err = cli(capsys, "speech", "train", "--data", tmp_path / "gone.csv", "--config", cfg, "--out", out)
    assert_user_error(code, err, "nothere.wav", "not found")

    (tmp_path / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    (tmp_path / "broken.csv").write_text(f"path,text\n{corpus}/wavs/test_0.wav,ab\nbroken.wav,ab\n")
    code, _, err = cli(capsys, "speech", "train", "--data", tmp_path / "broken.csv", "--config", cfg, "--out", out)
    assert_user_error(code, err, "broken.wav", "unreadable")

    code, _, err = cli(capsys, "speech", "train", "--data", corpus / "wavs", "--config", cfg, "--out", out)
    assert_user_error(code, err, "--label-from-name")
    assert _no_runs(out)


def test_bad_files_at_transcribe_and_evaluate(ctc_run, tmp_path, capsys):
    run = ctc_run.run_dir_
    (tmp_path / "notes.txt").write_text("not audio at all")
    code, _, err = cli(capsys, "speech", "transcribe", "--run", run, tmp_path / "notes.txt")
    assert_user_error(code, err, "notes.txt", "not a WAV file")

    code, _, err = cli(capsys, "speech", "transcribe", "--run", run, tmp_path / "missing.wav")
    assert_user_error(code, err, "missing.wav", "not found")

    sf.write(tmp_path / "tiny.wav", np.zeros(200, dtype=np.float32), RATE)
    code, _, err = cli(capsys, "speech", "transcribe", "--run", run, tmp_path / "tiny.wav")
    assert_user_error(code, err, "tiny.wav", "too short", "receptive field")

    sf.write(tmp_path / "x.wav", say("ab", np.random.default_rng(0)), RATE)
    (tmp_path / "m.csv").write_text("path,text\nx.wav,a!b\n")           # scored as written, one warning
    code, out, err = cli(capsys, "speech", "evaluate", "--run", run, "--data", tmp_path / "m.csv", "--json")
    assert code == 0 and json.loads(out)["examples"][0]["ref"] == "a!b", err
    assert len(err.strip().splitlines()) == 1 and "x.wav" in err and "'!'" in err and "1 of 1" in err, err
    (tmp_path / "m.csv").write_text("path,text\nx.wav,!?\n")             # nothing the model writes: refused
    code, _, err = cli(capsys, "speech", "evaluate", "--run", run, "--data", tmp_path / "m.csv")
    assert_user_error(code, err, "nothing to score", "'!'", "'?'")

    code, _, err = cli(capsys, "speech", "transcribe", "--run", tmp_path, tmp_path / "x.wav")
    assert_user_error(code, err, "not an lstmkit run folder")


def test_a_recording_piped_into_minus_is_transcribed_as_its_file(ctc_run, tmp_path, capsys, monkeypatch):
    """``-`` was 'audio file not found: -', where every other task's ``-`` reads standard input."""
    sf.write(tmp_path / "x.wav", np.repeat(say("ab cd", np.random.default_rng(3)), 2), 2 * RATE)
    run = ctc_run.run_dir_
    code, out, err = cli(capsys, "speech", "transcribe", "--run", run, tmp_path / "x.wav")
    assert code == 0, err
    text = out.strip().split("\t")[1]
    code, out, err = run_cli(["speech", "transcribe", "--run", run, "-", tmp_path / "x.wav"], capsys,
                             stdin=(tmp_path / "x.wav").read_bytes(), monkeypatch=monkeypatch)
    assert code == 0, err
    assert out.splitlines() == [f"-\t{text}", f"{tmp_path / 'x.wav'}\t{text}"]
    assert "warning: standard input and 1 more: resampled from 16000 Hz to 8000 Hz" in err     # not its copy's name
    assert "stdin" not in err
    code, _, err = run_cli(["speech", "transcribe", "--run", run, "-"], capsys, stdin=b"not audio at all",
                           monkeypatch=monkeypatch)
    assert_user_error(code, err, "standard input is not a WAV file")
    assert "lstmkit-stdin-" not in err
    code, _, err = run_cli(["speech", "transcribe", "--run", run, "-"], capsys, stdin=b"", monkeypatch=monkeypatch)
    assert_user_error(code, err, "standard input is empty")


def test_a_warning_naming_the_piped_recording_by_its_path_names_standard_input(ctc_run, tmp_path, capsys,
                                                                               monkeypatch):
    """A warning that names a clip by its path (a seq2seq transcript cut at the longest the model writes,
    here every first clip's) named the temporary copy of standard input: '/tmp/lstmkit-stdin-…/stdin'."""
    sf.write(tmp_path / "x.wav", say("ab", np.random.default_rng(3)), RATE)
    real = SpeechRecognizer._recognise
    monkeypatch.setattr(SpeechRecognizer, "_recognise", lambda self, *a, **k: (real(self, *a, **k)[0], [0]))
    code, _, err = run_cli(["speech", "transcribe", "--run", ctc_run.run_dir_, "-"], capsys,
                           stdin=(tmp_path / "x.wav").read_bytes(), monkeypatch=monkeypatch)
    assert code == 0, err
    assert "were cut there: standard input;" in err and "lstmkit-stdin-" not in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_a_pipe_is_transcribed_as_the_file_piped_through_it(ctc_run, tmp_path):
    """A pipe (a piped /dev/stdin, bash's <(sox …)) was 'audio file not found' of a path that was there."""
    sf.write(tmp_path / "x.wav", say("ba dc", np.random.default_rng(4)), RATE)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes((tmp_path / "x.wav").read_bytes()), daemon=True)
    writer.start()
    assert ctc_run.transcribe([str(fifo)]) == ctc_run.transcribe([str(tmp_path / "x.wav")])
    writer.join(5)


def test_ctrl_c_then_resume_equals_an_uninterrupted_run(capsys, monkeypatch, corpus, cfg, tmp_path):
    from lstmkit.tasks.speech.features import FeatureBatches
    args = ["speech", "train", "--data", corpus / "test.csv", "--config", cfg, "--batch-size", "8", "--spec-augment"]
    code, _, err = cli(capsys, *args, "--out", tmp_path / "full")
    assert code == 0, err
    full = next((tmp_path / "full").iterdir())

    real_iter, seen = FeatureBatches.__iter__, []

    def interrupted(self):            # Ctrl-C at the 2nd training batch of epoch 2
        for k, batch in enumerate(real_iter(self)):
            if self.augment:
                seen.append(k)
                if len(seen) == len(self) + 2:
                    raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(FeatureBatches, "__iter__", interrupted)
    code, _, err = cli(capsys, *args, "--out", tmp_path / "cut")
    assert code == 130 and "interrupted after epoch 1" in err
    run = next((tmp_path / "cut").iterdir())
    assert f"lstmkit speech train --resume {run}" in err
    assert not (run / "model.safetensors").exists()

    monkeypatch.setattr(FeatureBatches, "__iter__", real_iter)
    code, out, err = cli(capsys, "speech", "train", "--resume", run)
    assert code == 0, err
    assert "WER" in out
    assert (run / "model.safetensors").read_bytes() == (full / "model.safetensors").read_bytes()
    code, _, err = cli(capsys, "speech", "train", "--resume", run)
    assert_user_error(code, err, "already finished")


def test_transcribe_writes_each_part_of_a_folder_as_it_is_decoded(corpus, ctc_run, capsys, monkeypatch):
    """A long folder was printed only at its end: Ctrl-C an hour in kept no line. Each part's lines are
    written as it is decoded (as 'translate run' writes each line), the same as transcribe's answers."""
    import lstmkit.tasks.speech.estimator as speech
    wavs = sorted((corpus / "wavs").glob("test_*.wav"))[:10]
    monkeypatch.setattr(speech, "_TRANSCRIBE_PART", 4, raising=False)
    code, out, err = cli(capsys, "speech", "transcribe", "--run", ctc_run.run_dir_, *wavs)
    assert code == 0, err
    assert out.splitlines() == [f"{w}\t{t}" for w, t in zip(wavs, ctc_run.transcribe(wavs))]

    read, calls = speech.read_features, []

    def ctrl_c_in_the_third_part(paths, *args):
        calls.append(paths)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return read(paths, *args)

    monkeypatch.setattr(speech, "read_features", ctrl_c_in_the_third_part)
    code, kept, err = cli(capsys, "speech", "transcribe", "--run", ctc_run.run_dir_, *wavs)
    assert code == 130
    assert kept.splitlines() == out.splitlines()[:8]


def test_train_says_the_minutes_of_training_audio(cfg, tmp_path, capsys):
    """The report's 'N min of training audio' is the training recordings' length summed, in minutes
    (with --val, every recording of --data is a training one)."""
    from speech_data import write_manifest
    train = write_manifest(tmp_path, 14, seed=4, name="train.csv")
    val = write_manifest(tmp_path, 3, seed=5, name="val.csv")
    seconds = sum(sf.info(w).duration for w in (tmp_path / "wavs").glob("train_*.wav"))
    assert seconds > 6                                    # 0.1 min or more: a wrong unit shows
    code, out, err = cli(capsys, "speech", "train", "--data", train, "--val", val, "--config", cfg, "--epochs", "1",
                         "--out", tmp_path / "runs")
    assert code == 0, err
    assert f"utterances 17 (train 14, val 3 from --val), {seconds / 60:.1f} min of training audio at " in out, out


def _fitted(split: dict, utterances: int, metrics: dict):
    """What ``_report`` reads of a fitted recogniser, without training one."""
    from types import SimpleNamespace
    return SimpleNamespace(
        data_summary_={"utterances": utterances, "split": split, "hours": {"train": 0.01, "val": 0.002},
                       "sample_rate": 16000},
        metrics_=metrics, config_=SimpleNamespace(mode="ctc"), train_seconds_=1.0, run_dir_="RUN",
        result_=SimpleNamespace(epochs_run=2, best_epoch=2, stopped_early=False))


@pytest.mark.parametrize("split, utterances, said", [
    # --val: 16 training and 4 test-* recordings of --data, 3 of --val: 23 in all
    ({"train": 16, "val": 3, "test": 4}, 20, "utterances 23 (train 16, val 3 from --val, test 4 kept out)"),
    # a split of --data: 13 + 3 + 4 of its 20
    ({"train": 13, "val": 3, "test": 4}, 20, "utterances 20 (train 13, val 3, test 4 kept out)"),
    ({"train": 14, "val": 3}, 14, "utterances 17 (train 14, val 3 from --val), "),
    ({"train": 14, "val": 3}, 17, "utterances 17 (train 14, val 3), ")])
def test_the_report_counts_the_test_recordings_kept_out_and_the_val_files(split, utterances, said, capsys):
    """A LibriSpeech folder's test-* recordings are counted in --data's utterances, kept out of training:
    with --val, --data's count is its training and test recordings, --val's are added to it."""
    from lstmkit.tasks.speech.cli import _report
    m = {"n": 3, "wer": 0.5, "cer": 0.25, "sentence_accuracy": 0.0, "beam": 1}
    _report(_fitted(split, utterances, {"val": m, "val_beam": {**m, "beam": 4, "lm": True}}))
    out = capsys.readouterr().out
    assert said in out, out
    assert "validation (beam 1): 3 utterances: WER 0.5000" in out and "validation (beam 4 + LM): " in out, out


def test_lm_and_no_lm_choose_the_language_model_to_decode_with():
    """No flag: the run's own (None); --lm RUN: that one; --no-lm: none (False); both: refused."""
    from lstmkit.errors import LstmkitError
    from lstmkit.tasks.speech.cli import _lm_choice
    assert _lm_choice(None, False) is None
    assert _lm_choice(Path("lm"), False) == Path("lm")
    assert _lm_choice(None, True) is False
    with pytest.raises(LstmkitError, match="--lm and --no-lm were both given"):
        _lm_choice(Path("lm"), True)
