"""SpeechRecognizer end to end on generated tone-speech: CTC, classification, seq2seq, save/load."""
import json
import os
import shutil
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

import lstmkit
from lstmkit import SpeechRecognizer
from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.decode import greedy_decode, prefix_beam_search
from lstmkit.tasks.speech.metrics import recognition_metrics
from speech_data import RATE, say, write_commands, write_digits, write_manifest


def test_ctc_learns_the_tone_alphabet(ctc_run, corpus):
    m = ctc_run.evaluate(corpus / "test.csv", beam=1)
    assert m["cer"] <= 0.05 and m["wer"] <= 0.15, m["examples"]
    assert 0 < m["rtf"] < 1
    assert ctc_run.metrics_["val"]["cer"] <= 0.1


def test_beam_one_equals_greedy_on_the_models_posteriors(ctc_run, corpus):
    feats, _, _ = ctc_run._features([str(p) for p in sorted((corpus / "wavs").glob("test_*.wav"))])
    for lp in ctc_run._outputs(feats):
        assert prefix_beam_search(lp, beam=1) == greedy_decode(lp)


def test_run_folder_and_round_trip(ctc_run, corpus):
    run = ctc_run.run_dir_
    for name in ("lstmkit.json", "model.safetensors", "metrics.json", "history.csv", "plots/loss.png",
                 "plots/spectrogram.png", "plots/ctc_posteriors.png", "checkpoints/last.safetensors"):
        assert (run / name).is_file(), name
    assert not list(run.rglob("*.pt")) and not list(run.rglob("*.pkl"))
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["task"] == "speech" and meta["status"] == "finished"
    assert meta["preprocessing"]["symbols"]["chars"] == [" ", "a", "b", "c", "d"]
    assert meta["config"]["sample_rate"] == RATE
    files = sorted(str(p) for p in (corpus / "wavs").glob("test_*.wav"))[:8]
    loaded = lstmkit.load(run)
    assert isinstance(loaded, SpeechRecognizer)
    assert loaded.transcribe(files) == ctc_run.transcribe(files)
    assert loaded.transcribe(files, beam=1) == ctc_run.transcribe(files, beam=1)


def test_stereo_and_other_rates_are_converted_with_a_note(ctc_run, tmp_path):
    rng = np.random.default_rng(5)
    wave = say("cab d", rng)
    sf.write(tmp_path / "mono.wav", wave, RATE)
    from scipy.signal import resample_poly
    up = resample_poly(wave, 2, 1)
    sf.write(tmp_path / "stereo16k.wav", np.stack([up, up], 1), 2 * RATE)
    with pytest.warns(UserWarning) as said:
        out = ctc_run.transcribe([tmp_path / "mono.wav", tmp_path / "stereo16k.wav"])
    assert out[0] == out[1] == "cab d"
    assert sorted(str(w.message) for w in said) == ["stereo16k.wav: 2 channels mixed down to mono",
                                                    "stereo16k.wav: resampled from 16000 Hz to 8000 Hz"]


def test_bad_inputs_at_transcribe_and_evaluate(ctc_run, tmp_path):
    sf.write(tmp_path / "short.wav", np.zeros(300, dtype=np.float32), RATE)
    with pytest.raises(LstmkitError, match=r"short.wav is too short.*receptive field"):
        ctc_run.transcribe([tmp_path / "short.wav"])
    sf.write(tmp_path / "one.wav", np.zeros(1, dtype=np.float32), RATE)      # was '0 ms'
    with pytest.raises(LstmkitError, match=r"one.wav is too short: 0.12 ms \(1 sample\), the model's receptive field"):
        ctc_run.transcribe([tmp_path / "one.wav"])
    sf.write(tmp_path / "ok.wav", say("ab", np.random.default_rng(0)), RATE)
    (tmp_path / "m.csv").write_text("path,text\nok.wav,zz\n")
    with pytest.raises(LstmkitError, match=r"none of the 1 reference transcripts holds a character the model "
                                           r"writes \(they hold 'z'\): there is nothing to score"):
        ctc_run.evaluate(tmp_path / "m.csv")
    with pytest.raises(LstmkitError, match="beam"):
        ctc_run.transcribe([tmp_path / "ok.wav"], beam=0)


def test_evaluate_scores_references_the_model_cannot_write_as_written(ctc_run, tmp_path):
    """A user's own transcripts may hold characters training never saw: scored against the
    reference as written (training keeps its transcripts' characters as they are, case too), with
    one warning naming them and how many references hold them."""
    rng = np.random.default_rng(0)
    for name, text in (("a", "ab"), ("b", "cab d"), ("c", "dc")):
        sf.write(tmp_path / f"{name}.wav", say(text, rng), RATE)
    (tmp_path / "m.csv").write_text("path,text\na.wav,aB!\nb.wav,cab d\nc.wav,dc?!\n")
    with pytest.warns(UserWarning) as caught:
        m = ctc_run.evaluate(tmp_path / "m.csv")
    (w,) = [str(c.message) for c in caught]
    assert w.startswith(f"2 of 3 reference transcripts (first: {tmp_path / 'a.wav'}) hold characters the model "
                        "cannot write: '!', ") and "'B'" in w and "'?'" in w, w
    assert "it knows 'B' only in the other case" in w, w
    refs = ["aB!", "cab d", "dc?!"]
    hyps = ctc_run.transcribe([tmp_path / f"{n}.wav" for n in "abc"])
    want = recognition_metrics(refs, hyps)
    assert [e["ref"] for e in m["examples"]] == refs
    assert (m["wer"], m["cer"], m["n"]) == (want["wer"], want["cer"], 3) and m["cer"] > 0


@pytest.mark.parametrize("beam", [1, 3])
def test_a_model_whose_output_is_nan_is_one_error_not_a_crash(ctc_run, corpus, beam):
    """Recordings and saved weights are checked finite where they are read; a network gone wrong in
    memory (here one weight set to NaN) gave a wrong text at beam 1 and a ValueError at beam 3."""
    model = SpeechRecognizer.load(ctc_run.run_dir_)
    with torch.no_grad():
        next(model.net_.parameters()).view(-1)[0] = float("nan")
    files = sorted((corpus / "wavs").glob("test_*.wav"))[:2]
    with pytest.raises(LstmkitError, match=r"^utterance 1 of 2: the acoustic model's log-probabilities are not "
                                           r"finite \(nan at frame 0 of \d+"):
        model.transcribe(files, beam=beam)


@pytest.mark.parametrize("files, words", [
    ([], "no audio files given"), (None, r"takes audio file paths or samples \(arrays, tensors\), got NoneType"),
    (np.zeros(8000), "sample_rate= is missing"), ([np.zeros(8000)], "sample_rate= is missing"),
    (["", "a.wav"], r"path 0 of 2 is empty text \(''\), not a file's path"), (" ", "path 0 of 1 is empty text")])
def test_transcribe_takes_a_list_of_paths(ctc_run, files, words):
    # these were 'cannot pad an empty batch', a bare TypeError and 'audio file not found: 0.0'; an empty path read
    # the working folder's recordings (or said 'no audio files in .')
    with pytest.raises(LstmkitError, match=words):
        ctc_run.transcribe(files)


def test_transcribe_and_evaluate_change_nothing_of_the_estimator_even_when_they_fail(ctc_run, corpus, monkeypatch):
    """A transcribe kept its beam on the estimator (for evaluate's metrics to read): predict changed the
    estimator (scikit-learn's check_dict_unchanged), one cut by Ctrl-C left its beam behind, and threads
    transcribing at once read each other's beam into their metrics."""
    files = sorted((corpus / "wavs").glob("test_*.wav"))[:2]
    before = dict(vars(ctc_run))
    ctc_run.transcribe(files, beam=2)
    assert ctc_run.evaluate(corpus / "test.csv", beam=3)["beam"] == 3

    def cut(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(type(ctc_run), "_outputs", cut)
    with pytest.raises(KeyboardInterrupt):
        ctc_run.transcribe(files, beam=5)
    assert vars(ctc_run).keys() == before.keys() and all(vars(ctc_run)[k] is v for k, v in before.items())


def test_predict_is_transcribe_for_scikit_learn_habits(ctc_run, corpus):
    """``predict``, the name every other estimator answers to, was an AttributeError; then a list,
    where every other estimator's predict gives a numpy array."""
    files = sorted((corpus / "wavs").glob("test_*.wav"))[:3]
    said = ctc_run.predict(files)
    assert isinstance(said, np.ndarray) and said.dtype == object and said.shape == (3,)
    assert said.tolist() == ctc_run.transcribe(files) and any(said)


def test_a_loaded_run_leaves_the_sample_rate_it_found_unset_so_a_clone_finds_it_again(ctc_run, tmp_path):
    """Loaded, a run's settings held the sample rate fit read off its recordings (16 kHz): its clone,
    fitted on 8 kHz recordings, resampled them to 16 kHz instead of finding their rate, as the
    fitted model's clone does. The rate used stays in config_."""
    import sklearn.base
    meta = json.loads((ctc_run.run_dir_ / "lstmkit.json").read_text())
    assert meta["call_settings"] == {"sample_rate": None} and meta["config"]["sample_rate"] == ctc_run.config_.sample_rate
    loaded = SpeechRecognizer.load(ctc_run.run_dir_)
    assert loaded.get_params()["sample_rate"] is None and loaded.config_.sample_rate == ctc_run.config_.sample_rate
    assert sklearn.base.clone(loaded).get_params() == {**ctc_run.get_params(), "progress": "auto"}
    again = json.loads((loaded.save(tmp_path / "again") / "lstmkit.json").read_text())      # a later save keeps them
    assert again["call_settings"] == {"sample_rate": None}


def test_a_run_whose_lstmkit_json_holds_no_sample_rate_is_one_error_at_load(tmp_path):
    """Found by tools/fuzz/fuzz_text_runs.py: a run whose lstmkit.json had its config's sample_rate edited to
    null loaded, and its first transcription was a TypeError traceback ('NoneType' and 'float')."""
    manifest = write_manifest(tmp_path / "data", 6, seed=0)
    run = SpeechRecognizer(hidden_size=8, n_mels=20, channels=8, max_epochs=1, progress="off", tensorboard=False,
                           doctor=False, seed=0).fit(manifest, out=tmp_path / "run").run_dir_
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["config"]["sample_rate"] = None
    (run / "lstmkit.json").write_text(json.dumps(meta))
    with pytest.raises(LstmkitError) as e:
        SpeechRecognizer.load(run).predict(tmp_path / "data" / "wavs" / "manifest_0.wav")
    assert "sample_rate is null" in e.value.message and "lstmkit.json" in e.value.message
    assert "retrain the model" in e.value.hint


def test_score_is_minus_the_word_error_rate_of_a_ctc_run(ctc_run, corpus):
    """scikit-learn's ``score`` (greater is better) was missing: ``-wer`` of evaluate, on a
    manifest or on files with their transcripts ``y``."""
    import pandas as pd
    rows = pd.read_csv(corpus / "test.csv", dtype=str, keep_default_na=False)[:6]
    files, texts = [str(corpus / p) for p in rows["path"]], rows["text"].tolist()
    wer = ctc_run.evaluate(list(zip(files, texts)))["wer"]
    assert ctc_run.score(files, texts) == -wer and ctc_run.score(list(zip(files, texts))) == -wer
    with pytest.raises(LstmkitError, match="6 audio files and 5 labels or transcripts in y"):
        ctc_run.score(files, texts[:5])


def test_global_normalisation_statistics_are_saved(corpus, tiny, tmp_path):
    est = SpeechRecognizer(**{**tiny, "max_epochs": 1, "normalize": "global"}).fit(corpus / "test.csv",
                                                                                 out=tmp_path)
    meta = json.loads((est.run_dir_ / "lstmkit.json").read_text())
    norm = meta["preprocessing"]["normalizer"]
    assert norm["kind"] == "global" and len(norm["mean"]) == len(norm["std"]) == tiny["n_mels"]
    back = SpeechRecognizer.load(est.run_dir_)
    np.testing.assert_allclose(back.normalizer_.mean, est.normalizer_.mean)
    f = sorted((corpus / "wavs").glob("test_*.wav"))[:3]
    a, b = est._features([str(p) for p in f])[0], back._features([str(p) for p in f])[0]
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y)


def test_a_new_run_normalises_each_clip_over_its_voiced_frames_and_hears_it_through_silence(ctc_run, corpus,
                                                                                           tmp_path):
    """Real recordings start and end in silence: with every frame's statistics half a second of
    zeros around a clip changed its features, and the transcript with them."""
    meta = json.loads((ctc_run.run_dir_ / "lstmkit.json").read_text())
    assert meta["config"]["normalize"] == "voiced" == meta["preprocessing"]["normalizer"]["kind"]
    clean = sorted(str(p) for p in (corpus / "wavs").glob("test_*.wav"))[:8]
    padded = []
    for k, path in enumerate(clean):
        wave, rate = sf.read(path, dtype="float32")
        silence = np.zeros(rate // 2, dtype=np.float32)
        sf.write(tmp_path / f"padded_{k}.wav", np.concatenate([silence, wave, silence]), rate, subtype="PCM_16")
        padded.append(str(tmp_path / f"padded_{k}.wav"))
    assert ctc_run.transcribe(padded) == ctc_run.transcribe(clean)
    inner = ctc_run.audio_inputs(padded[0])[50:-50]
    torch.testing.assert_close(inner, ctc_run.audio_inputs(clean[0]), atol=0.5, rtol=0)
    assert (inner - ctc_run.audio_inputs(clean[0])).abs().median() < 0.1


def test_a_run_recorded_before_voiced_normalisation_loads_and_normalises_as_it_did(ctc_run, corpus, tmp_path):
    """A run saved before ``voiced`` recorded ``normalize: utterance`` and the normaliser state
    ``{"kind": "utterance", "mean": null, "std": null}``: it reads every frame's statistics, bit
    for bit, and resuming or cloning it keeps them."""
    run = tmp_path / "old"
    shutil.copytree(ctc_run.run_dir_, run)
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["config"]["normalize"] = "utterance"
    meta["preprocessing"]["normalizer"] = {"kind": "utterance", "mean": None, "std": None}
    (run / "lstmkit.json").write_text(json.dumps(meta))
    old = SpeechRecognizer.load(run)
    assert old.config_.normalize == "utterance" and old.get_params()["normalize"] == "utterance"
    path = sorted(str(p) for p in (corpus / "wavs").glob("test_*.wav"))[0]
    raw = old._features([path], normalize=False)[0][0]
    expected = ((raw - raw.mean(axis=0)) / np.maximum(raw.std(axis=0), 1e-5)).astype(np.float32)
    np.testing.assert_array_equal(old.audio_inputs(path).numpy(), expected)
    assert not np.allclose(ctc_run.audio_inputs(path).numpy(), expected)     # a new run's differ


def test_classify_mode_on_spoken_digits(digits, tiny, tmp_path, monkeypatch):
    import lstmkit.inspect.plots as plots
    drawn, save = {}, plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (drawn.update({path.name: fig}),
                                                                      save(fig, path, **kw)))
    val = write_digits(tmp_path / "val", takes=2, seed=3)
    est = SpeechRecognizer(**{**tiny, "mode": "classify", "label_from_name": "{label}_{speaker}_{take}",
                              "max_epochs": 15}).fit(digits, val_data=val, out=tmp_path / "runs")
    m = est.evaluate(val)
    assert m["accuracy"] >= 0.9 and len(m["confusion"]["matrix"]) == 4
    assert est.transcribe(sorted(str(p) for p in val.glob("2_*.wav")))[:2] == ["2", "2"]
    assert (est.run_dir_ / "plots" / "confusion.png").is_file()
    # titled 'validation' alone, where a text classifier's names its accuracy
    val_m = est.metrics_["val"]
    assert drawn["confusion.png"].axes[0].get_title() == f"validation: accuracy {val_m['accuracy']:.3f} ({val_m['n']} clips)"
    (tmp_path / "odd.csv").write_text("path,text\nval/1_ann_0.wav,9\n")
    with pytest.raises(LstmkitError, match="'9'.*not one of the model's classes"):
        est.evaluate(tmp_path / "odd.csv")
    # a beam or a language model was silently ignored here, where 'train' refuses both for classify
    clip = str(next(val.glob("2_*.wav")))
    with pytest.raises(LstmkitError, match="^beam= applies to a ctc or seq2seq run, not to this classify run — "
                                           "leave beam out$"):
        est.transcribe([clip], beam=3)
    with pytest.raises(LstmkitError, match="^lm= fuses a language model into a ctc run, not into this classify "
                                           "run — leave lm out$"):
        est.evaluate(val, lm=tmp_path / "any-lm-run")
    assert est.transcribe([clip], lm=False) == est.transcribe([clip])


def test_a_classify_fit_reads_its_validation_part_once_for_the_doctor_and_the_metrics(digits, tiny):
    """The doctor's comparison with the class prior and metrics.json's validation scores each read the
    validation part with the trained model (two passes, each as long as an epoch's validation); as a text
    classifier's fit, one pass now, and the metrics are those of evaluate on the same part."""
    from unittest import mock
    est = SpeechRecognizer(**{**tiny, "mode": "classify", "max_epochs": 1, "val_frac": 0.25, "doctor": True,
                              "label_from_name": "{label}_{speaker}_{take}"})
    real = SpeechRecognizer._outputs
    with mock.patch.object(SpeechRecognizer, "_outputs", autospec=True, side_effect=real) as outputs:
        est.fit(digits)
    assert outputs.call_count == 1
    assert est.result_.doctor["evidence"]["baselines"]["part"] == "validation"
    assert est.metrics_["val"]["n"] == est.data_summary_["split"]["val"] and 0 <= est.metrics_["val"]["rtf"]


def test_a_classify_run_has_scikit_learns_classes_and_predict_proba(digits, tiny, tmp_path):
    # classes_ was a list of strings (classify's estimators give a numpy array) and there was no predict_proba
    est = SpeechRecognizer(**{**tiny, "mode": "classify", "label_from_name": "{label}_{speaker}_{take}",
                              "max_epochs": 2}).fit(digits, out=tmp_path / "runs")
    assert isinstance(est.classes_, np.ndarray) and list(est.classes_) == ["0", "1", "2", "3"]
    assert est.classes_.tolist() == est.class_names_ == json.loads((est.run_dir_ / "lstmkit.json").read_text()
                                                                    )["preprocessing"]["classes"]
    files = sorted(str(p) for p in digits.glob("*.wav"))[::5]
    proba = est.predict_proba(files)
    assert proba.shape == (len(files), 4) and np.allclose(proba.sum(axis=1), 1.0)
    said = est.predict(files)
    assert isinstance(said, np.ndarray) and said.dtype == est.classes_.dtype
    assert (est.classes_[proba.argmax(axis=1)] == said).all() and said.tolist() == est.transcribe(files)
    assert est.score(files, said) == 1.0
    loaded = SpeechRecognizer.load(est.run_dir_)
    assert list(loaded.classes_) == list(est.classes_) and (loaded.predict(files) == said).all()
    assert np.allclose(loaded.predict_proba(files), proba)
    # the majority-class baseline beside the accuracy, as a text classifier's metrics have it, saved for evaluate
    assert loaded.majority_ == est.majority_ == json.loads((est.run_dir_ / "lstmkit.json").read_text()
                                                           )["preprocessing"]["majority"]
    assert "majority_baseline_accuracy" in est.metrics_["val"]
    scored = loaded.evaluate([(f, est.classes_[loaded.majority_]) for f in files])
    assert scored["majority_baseline_accuracy"] == 1.0
    assert not hasattr(SpeechRecognizer(**tiny), "classes_")
    # the calibration of the probabilities predict_proba gives: the metrics read one-hot labels, every miss 36 nats
    from lstmkit.train.metrics import classification_metrics
    truth = [os.path.basename(f).split("_")[0] for f in files]
    m = loaded.evaluate(list(zip(files, truth)))
    ref = classification_metrics([est.class_names_.index(t) for t in truth], proba, est.class_names_)
    for key in ("nll", "brier", "ece"):
        assert m[key] == pytest.approx(ref[key])
    assert "ece" in est.metrics_["val"] and (est.run_dir_ / "plots" / "reliability.png").is_file()


def test_a_classify_model_fits_and_scores_files_and_labels_as_scikit_learn_calls_it(digits, tiny):
    """fit(X, y) was a TypeError (fit took one manifest, folder or list of pairs) and a classify model
    was no classifier to scikit-learn: cross_val_score could neither fit nor stratify it."""
    import sklearn.base
    from sklearn.model_selection import cross_val_score
    files = np.array(sorted(str(p) for p in digits.glob("*.wav")))
    labels = np.array([os.path.basename(f).split("_")[0] for f in files])
    est = SpeechRecognizer(**{**tiny, "mode": "classify", "max_epochs": 2})
    assert sklearn.base.is_classifier(est) and not sklearn.base.is_classifier(SpeechRecognizer(**tiny))
    scores = cross_val_score(est, files, labels, cv=2, error_score="raise")
    assert scores.shape == (2,) and ((0 <= scores) & (scores <= 1)).all()
    fitted = sklearn.base.clone(est).fit(files[::2], labels[::2])
    assert fitted.classes_.tolist() == ["0", "1", "2", "3"]
    assert fitted.score(files[1::2], labels[1::2]) == np.mean(fitted.predict(files[1::2]) == labels[1::2])
    with pytest.raises(LstmkitError, match="24 audio files and 23 labels or transcripts in y"):
        sklearn.base.clone(est).fit(files[::2], labels[:23])


def test_a_classify_model_takes_sample_weight_as_the_other_classifiers_do(digits, tiny, tmp_path):
    """fit(X, y, sample_weight=w) was 'unexpected keyword argument' for a classify model, which the text
    and sequence classifiers take: each training example's loss weighs its weight, and so does each
    held-out one's in the validation loss early stopping follows; a ctc run refuses the weights."""
    from lstmkit.tasks.speech.data import read_utterances
    from lstmkit.tasks.speech.estimator import validation_split
    files = sorted(str(p) for p in digits.glob("*.wav"))
    labels = [os.path.basename(f)[0] for f in files]
    settings = {**tiny, "mode": "classify", "max_epochs": 3, "val_frac": 0.25}
    plain = SpeechRecognizer(**settings).fit(files, labels)
    same = SpeechRecognizer(**settings).fit(files, labels, sample_weight=np.full(len(files), 2.0))
    np.testing.assert_allclose(same.predict_proba(files), plain.predict_proba(files), rtol=0, atol=1e-5)
    w = np.random.default_rng(0).uniform(0.1, 4.0, len(files))
    est = SpeechRecognizer(**settings).fit(files, labels, sample_weight=w, out=tmp_path)
    _, val = validation_split(read_utterances(list(zip(files, labels))), est.config_)
    at = {f: k for k, f in enumerate(files)}
    wv = w[[at[f] for f in val.paths]]
    p = est.predict_proba(val.paths)[np.arange(len(val)), [est.class_names_.index(t) for t in val.texts]]
    best = est.result_.history[est.result_.best_epoch - 1]["val_loss"]
    assert best == pytest.approx(float((wv * -np.log(p)).sum() / wv.sum()), rel=1e-4)
    assert best != pytest.approx(float(-np.log(p).mean()), rel=1e-3)
    record = json.loads((est.run_dir_ / "lstmkit.json").read_text())["data"]["sample_weight"]
    assert record["rows"] == len(files) and record["val_loss"] == "weighted"
    # and so are the validation metrics (their accuracy was each recording's hit counted once)
    hit = est.predict(val.paths) == np.array(val.texts)
    assert est.metrics_["val"]["weighted"] and est.metrics_["val"]["accuracy"] == pytest.approx((wv * hit).sum() / wv.sum())
    assert "weighted" not in plain.metrics_["val"]
    with pytest.raises(LstmkitError, match=r"^got 47 sample weights for 48 labelled rows"):
        SpeechRecognizer(**settings).fit(files, labels, sample_weight=w[:-1], out=tmp_path / "runs")
    with pytest.raises(LstmkitError, match=r"^sample_weight weighs the recordings of a classify run, not of this "
                                           r"ctc run") as e:
        SpeechRecognizer(**tiny).fit(files, labels, sample_weight=w, out=tmp_path / "runs")
    assert "mode='classify'" in e.value.hint and not (tmp_path / "runs").exists()


def test_a_ctc_run_has_no_classes_and_no_predict_proba(ctc_run, corpus):
    assert not hasattr(ctc_run, "classes_")
    with pytest.raises(LstmkitError, match="predict_proba answers a classify run, not this ctc run"):
        ctc_run.predict_proba(sorted((corpus / "wavs").glob("test_*.wav"))[:1])


def test_a_pattern_that_gives_every_recording_its_own_label_is_refused(digits, tiny, tmp_path):
    # '{label}' alone matches the whole stem '0_ann_0': 48 classes of one recording each, trained without a word
    est = SpeechRecognizer(**{**tiny, "mode": "classify", "label_from_name": "{label}"})
    with pytest.raises(LstmkitError, match="every one of the 48 recordings has a label of its own") as err:
        est.fit(digits, out=tmp_path / "runs")
    assert "check label_from_name= " in err.value.hint and not (tmp_path / "runs").exists()


def test_a_validation_label_without_training_recordings_is_warned_of(digits, tiny, tmp_path):
    files = sorted(digits.glob("*.wav"))
    train = [(str(f), f.name[0]) for f in files if f.name[0] in "01"]
    val = [(str(files[-1]), "9")] + train[:2]           # '9' is in no training recording
    with pytest.warns(UserWarning, match=r"1 label\(s\) of the validation part have no training recording \('9'\)"):
        SpeechRecognizer(**{**tiny, "mode": "classify", "max_epochs": 1}).fit(train, val_data=val)


def test_validation_data_without_a_training_label_is_warned_of(digits, tiny):
    """A --val set without one of the training labels scored it nowhere, early stopping judging the
    others alone, without a word (as a text classifier's validation file without a class)."""
    files = sorted(digits.glob("*.wav"))
    pairs = [(str(f), f.name[0]) for f in files if f.name[0] in "012"]
    val = [pair for pair in pairs if pair[1] == "0"][:3]
    train = [pair for pair in pairs if pair not in val]
    with pytest.warns(UserWarning, match=r"^the validation data hold no example of 2 of the 3 classes: '1' \(12 training "
                                         r"recordings\), '2' \(12 training recordings\); its scores say nothing of them: "
                                         r"add recordings of each label to it, or leave val_data out: val_frac=0.1 of"):
        SpeechRecognizer(**{**tiny, "mode": "classify", "max_epochs": 1}).fit(train, val_data=val)


def test_seq2seq_mode_reads_characters(tiny, tmp_path):
    # one word per clip: the attention decoder needs more data than CTC for the same alphabet
    train = write_manifest(tmp_path, 150, seed=1, words=(1, 1))
    test = write_manifest(tmp_path, 30, seed=2, name="test.csv", words=(1, 1))
    est = SpeechRecognizer(**{**tiny, "mode": "seq2seq", "subsample": 2, "hidden_size": 64, "embed_dim": 16,
                              "label_smoothing": 0.0, "beam": 2}).fit(train)
    assert type(est.net_).__name__ == "SpeechSeq2Seq"
    m = est.evaluate(test)
    assert m["cer"] <= 0.2, m["examples"]
    assert est.config_.max_len_ratio > 0


def test_ctc_on_class_folders_spells_each_folders_name(tiny, tmp_path):
    """Word recognition on Speech Commands' layout: each clip's transcript is its folder's name,
    written in characters; the validation list's clips are the validation part."""
    data = write_commands(tmp_path, ("yes", "no"), takes=3)
    (data / "validation_list.txt").write_text("yes/s0_nohash_0.wav\nno/s0_nohash_0.wav\n")
    with pytest.warns(UserWarning) as said:
        est = SpeechRecognizer(**{**tiny, "max_epochs": 1}).fit(data)
    assert any(str(w.message).endswith("validation_list.txt gives the split, not a random draw: 4 recordings to "
                                       "train on, 2 to validate") for w in said)
    assert est.symbols_.chars == ["e", "n", "o", "s", "y"] and est.data_summary_["split"] == {"train": 4, "val": 2}
    assert sorted(e["ref"] for e in est.metrics_["val"]["examples"]) == ["no", "yes"]


def test_a_validation_clip_too_short_for_its_transcript_is_named_before_training(corpus, tiny, tmp_path):
    """Only training clips were checked: CTC's zero_infinity then scored the impossible validation
    clip's loss as 0, a validation loss better than the truth, without a word."""
    sf.write(tmp_path / "short.wav", say("ab", np.random.default_rng(0)), RATE, subtype="PCM_16")
    (tmp_path / "val.csv").write_text("path,text\nshort.wav," + "abcd" * 20 + "\n")
    with pytest.raises(LstmkitError, match=r"short.wav is too short for its transcript: \d+ output frames for 80 symb"):
        SpeechRecognizer(**tiny).fit(corpus / "manifest.csv", val_data=tmp_path / "val.csv", out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_validation_characters_no_training_transcript_has_are_warned_of(corpus, tiny, tmp_path):
    """An upper-case validation manifest trained without a word: its letters joined the alphabet,
    the model never saw them, and the validation CER came out above 1."""
    rows = [line.split(",") for line in (corpus / "test.csv").read_text().splitlines()[1:11]]
    (tmp_path / "upper.csv").write_text("path,text\n" + "".join(f"{corpus / p},{t.upper()}\n" for p, t in rows))
    with pytest.warns(UserWarning, match=r"4 character\(s\) of the validation transcripts occur in no training "
                                         r"transcript \('A', 'B', 'C', 'D'\).*same case"):
        SpeechRecognizer(**{**tiny, "max_epochs": 1}).fit(corpus / "manifest.csv", val_data=tmp_path / "upper.csv")


def test_validation_recordings_that_are_training_ones_are_warned_of(corpus, tiny):
    """--val with the training manifest trained without a word, its validation scores the
    training data's (and early stopping chose by them)."""
    with pytest.warns(UserWarning, match=r"120 of the 120 validation recordings are training recordings too "
                                         r"\(first: manifest_0.wav\)"):
        SpeechRecognizer(**{**tiny, "max_epochs": 1}).fit(corpus / "manifest.csv", val_data=corpus / "manifest.csv")


def test_an_unsegmented_recording_among_short_clips_is_warned_of(tmp_path, tiny):
    """A 70-second recording among half-second clips trained without a word; its batch is padded to
    it (an hour of audio beside eight clips took 4.6 GB at hidden size 4)."""
    write_manifest(tmp_path, 8, seed=0, name="train.csv")
    sf.write(tmp_path / "long.wav", 0.01 * np.random.default_rng(0).standard_normal(70 * RATE), RATE)
    with open(tmp_path / "train.csv", "a") as f:
        f.write("long.wav,ab\n")
    with pytest.warns(UserWarning, match=r"long.wav is 1.2 min long, \d+x the median training clip \(0.\d s\): it "
                                         r"is read as one sequence of 6,997 frames.*training pads the clips batched"):
        SpeechRecognizer(**{**tiny, "max_epochs": 1}).fit(tmp_path / "train.csv", val_data=tmp_path / "train.csv")


def test_a_recording_over_a_minute_is_warned_of_in_training_evaluation_and_transcription(tmp_path, tiny, ctc_run):
    """A 30-minute recording was read as one sequence without a word (180,000 frames; training's CTC
    over all of them) unless clips 10x shorter sat beside it: any recording over a minute is now
    told, with its length and frames and the fix, wherever it is read (the service refuses one)."""
    import warnings
    wave = 0.01 * np.random.default_rng(0).standard_normal(70 * RATE)
    sf.write(tmp_path / "long.wav", wave, RATE)
    sf.write(tmp_path / "long2.wav", wave[: 65 * RATE], RATE)
    (tmp_path / "long.csv").write_text("path,text\nlong.wav,ab\nlong2.wav,ba\n")
    told = r"long.wav is 1.2 min long \(and 1 more recording\(s\) over a minute\): it is read as one sequence of " \
           r"6,997 frames, and memory and time grow with its length; split long recordings into clips of one utterance"
    with pytest.warns(UserWarning, match=told):
        ctc_run.evaluate(tmp_path / "long.csv")
    with pytest.warns(UserWarning, match=told.replace(r" \(and 1 more recording\(s\) over a minute\)", "")):
        ctc_run.transcribe([tmp_path / "long.wav"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ctc_run.transcribe([wave[: 50 * RATE]], sample_rate=RATE)        # 50 s: nothing said
    with pytest.warns(UserWarning, match=told):           # long beside long: no ratio to the median, still told
        SpeechRecognizer(**{**tiny, "max_epochs": 1}).fit(tmp_path / "long.csv", val_data=tmp_path / "long.csv")


def test_recognising_many_clips_shows_progress_and_the_same_metrics(ctc_run, corpus, monkeypatch, capsys):
    from lstmkit.train import progress
    quiet = ctc_run.evaluate(corpus / "manifest.csv", beam=2)     # 120 clips: 4 batches of 32, then a beam each
    assert capsys.readouterr().err == ""                         # the run's setting: progress off
    monkeypatch.setattr(ctc_run.config.train, "progress", "log")
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    loud = ctc_run.evaluate(corpus / "manifest.csv", beam=2)
    assert {k: loud[k] for k in ("wer", "cer")} == {k: quiet[k] for k in ("wer", "cer")}
    err = [line.split(",")[0] for line in capsys.readouterr().err.splitlines()]
    assert err == [f"reading audio: {k}/120 files" for k in range(1, 121)] + \
        [f"recognising: {k}/4 batches" for k in range(1, 5)] + [f"decoding: {k}/120 utterances" for k in range(1, 121)]


def test_reading_many_recordings_shows_progress(ctc_run, corpus, capsys, monkeypatch):
    """Reading and featurising 3,000 clips took 8 s (a 100-hour set: many minutes) before anything
    showed; it shows as the run's recognition does, and --progress off silences it."""
    from lstmkit.train import progress
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    est = SpeechRecognizer.load(ctc_run.run_dir_).set_params(progress="log")
    est.evaluate(corpus / "test.csv")
    err = capsys.readouterr().err
    assert "reading audio: 1/30 files" in err and "reading audio: 30/30 files" in err
    est.set_params(progress="off").transcribe(sorted(corpus.rglob("*.wav"))[:3])
    assert "reading audio" not in capsys.readouterr().err


def test_a_classifier_fitted_on_numeric_labels_answers_in_them(digits, tiny, tmp_path):
    """fit(X, y) with y = [0, 5, 10, 15] answered '0', '10', '15', '5': predict(X) == y was all False,
    scikit-learn's accuracy_score refused the mix of types, and classes_ was in the order of the
    texts (10 before 5). The labels come back as given, in their order, as the text classifier's do."""
    from sklearn.metrics import accuracy_score
    paths = sorted(str(p) for p in digits.glob("*.wav"))
    y = [int(os.path.basename(p)[0]) * 5 for p in paths]
    est = SpeechRecognizer(**{**tiny, "mode": "classify", "max_epochs": 4}).fit(paths, y)
    assert est.classes_.tolist() == [0, 5, 10, 15] and est.class_names_ == ["0", "5", "10", "15"]
    pred = est.predict(paths)
    assert all(type(v) is int for v in pred.tolist()) and set(pred.tolist()) <= {0, 5, 10, 15}
    np.testing.assert_array_equal(est.classes_[est.predict_proba(paths).argmax(1)], pred)
    assert est.score(paths, y) == pytest.approx(accuracy_score(y, pred))
    again = SpeechRecognizer.load(est.save(tmp_path / "run"))
    assert again.classes_.tolist() == [0, 5, 10, 15]
    np.testing.assert_array_equal(again.predict(paths), pred)
    texts = SpeechRecognizer(**{**tiny, "mode": "classify", "max_epochs": 1}).fit(paths, [str(v) for v in y])
    assert texts.classes_.tolist() == ["0", "10", "15", "5"]          # text labels: as text, as before
    with pytest.raises(LstmkitError, match=r"^y holds strings \('0'\) but the model was fitted on integers"):
        est.score(paths, [str(v) for v in y])                # was scored by the text: '5' as the class 5
    with pytest.raises(LstmkitError, match=r"^y holds integers \(0\) but the model's classes are strings"):
        texts.score(paths, y)
    small = SpeechRecognizer(**{**tiny, "mode": "classify", "max_epochs": 1}).fit(paths, np.array(y, dtype=np.int8))
    for est in (small, SpeechRecognizer.load(small.save(tmp_path / "int8"))):     # y's dtype, as the text classifier's
        assert est.classes_.dtype == np.int8 and est.predict(paths).dtype == np.int8


@pytest.fixture(scope="module")
def typed(digits, tiny):
    """``(paths, y, numbers, texts)``: one classify run fitted on numbers in ``y``, one on their text."""
    paths = sorted(str(p) for p in digits.glob("*.wav"))
    y = [int(os.path.basename(p)[0]) for p in paths]
    settings = {**tiny, "mode": "classify", "max_epochs": 1}
    return (paths, y, SpeechRecognizer(**settings).fit(paths, y),
            SpeechRecognizer(**settings).fit(paths, [str(v) for v in y]))


def test_evaluate_refuses_labels_of_another_type_than_predict_answers_as_score_does(typed):
    """evaluate on (clip, label) pairs, a {path: label} dict or a DataFrame scored '0' as the class 0 of a
    run fitted on numbers (predict answers 0, never '0'), and 0 as the class '0' of one fitted on text;
    score(X, y) refused them, as the text and sequence classifiers' evaluate and score do. Now evaluate,
    and score given such data without y, refuse them too; labels of the right type are scored as before."""
    import pandas as pd
    paths, y, numbers, texts = typed
    waves = [sf.read(p, dtype="float32")[0] for p in paths[:4]]
    for labels, est, said in [([str(v) for v in y], numbers, r"holds strings \('0'\) but the model was fitted on "
                               r"integers: predict answers integers, which never equal a string — "),
                              (y, texts, r"holds integers \(0\) but the model's classes are strings \('0', '1', "
                               r"'2', '3'\): predict answers strings, which never equal integers — ")]:
        for data, where in [(list(zip(paths, labels)), r"^data \(its \(clip, label\) pairs\) "),
                            (iter(list(zip(paths, labels))), r"^data \(its \(clip, label\) pairs\) "),
                            (dict(zip(paths, labels)), r"^data \(a \{path: label\} dict\) "),
                            (pd.DataFrame({"path": paths, "text": labels}), r"^the DataFrame's 'text' column "),
                            (pd.DataFrame({"audio": waves, "sentence": labels[:4]}), r"^the DataFrame's 'sentence' column ")]:
            for call in (lambda: est.evaluate(data, sample_rate=RATE if "audio" in getattr(data, "columns", ())
                                              else None),
                         lambda: est.score(data, sample_rate=RATE if "audio" in getattr(data, "columns", ()) else None)):
                if isinstance(data, type(iter([]))):
                    data = iter(list(zip(paths, labels)))
                with pytest.raises(LstmkitError, match=where + said):
                    call()
    right = numbers.evaluate(list(zip(paths, y)))
    assert right["accuracy"] == numbers.score(paths, y) == np.mean(numbers.predict(paths) == np.array(y))
    assert texts.evaluate(iter(zip(paths, map(str, y))))["accuracy"] == texts.score(paths, [str(v) for v in y])


def test_a_run_fitted_on_pairs_of_numbers_answers_numbers_and_evaluates_on_those_pairs(typed, tiny):
    """fit on (clip, label) pairs, a {path: label} dict or a DataFrame read the labels as text, so predict
    answered '0' and evaluate on the very pairs it was fitted on was refused ('holds integers but the
    model's classes are strings'). Their labels are now typed as fit(X, y)'s are."""
    import pandas as pd
    paths, y, numbers, _ = typed
    settings = {**tiny, "mode": "classify", "max_epochs": 1}
    for data in (list(zip(paths, y)), iter(list(zip(paths, y))), dict(zip(paths, y)),
                 pd.DataFrame({"path": paths, "text": np.array(y, dtype=np.int16)})):
        est = SpeechRecognizer(**settings).fit(data)
        assert est.classes_.tolist() == numbers.classes_.tolist() and isinstance(est.classes_[0], np.integer)
        pred = est.predict(paths)
        assert est.evaluate(list(zip(paths, y)))["accuracy"] == pytest.approx(np.mean(pred == np.array(y)))
        assert est.score(paths, y) == pytest.approx(np.mean(pred == np.array(y)))
    assert est.classes_.dtype == np.int16                     # the DataFrame column's dtype, as y's would be
    texts = SpeechRecognizer(**settings).fit(list(zip(paths, map(str, y))))
    assert all(isinstance(c, str) for c in texts.classes_)   # text labels stay text


def test_a_classify_score_takes_sample_weight_as_the_other_classifiers_do(typed, ctc_run, corpus):
    """score(X, y, sample_weight=w) was 'unexpected keyword argument', where the text and sequence
    classifiers' score weighs each row's hit as accuracy_score does; bad weights are the same BadValue
    (a ValueError) fit's are, and a ctc run's word error rate refuses them as its fit does."""
    from sklearn.metrics import accuracy_score
    from lstmkit.errors import BadValue
    paths, y, numbers, _ = typed
    pred = numbers.predict(paths)
    w = np.where(pred == np.array(y), 1.0, 5.0) * np.random.default_rng(0).uniform(0.5, 2.0, len(paths))
    want = accuracy_score(y, pred, sample_weight=w)
    assert want != pytest.approx(accuracy_score(y, pred))              # the weights change the score
    assert numbers.score(paths, y, sample_weight=w) == pytest.approx(want, abs=1e-12)
    assert numbers.score(list(zip(paths, y)), sample_weight=list(w)) == pytest.approx(want, abs=1e-12)
    assert numbers.score(paths, y, sample_weight=np.full(len(paths), 3.0)) == numbers.score(paths, y)
    for bad, said in [(w[:-1], r"^got 47 sample weights for 48 labelled rows"),
                      (np.r_[-1.0, w[1:]], r"^sample_weight holds a negative or missing weight \(-1.0 at row 1\)"),
                      (np.zeros(len(paths)), r"^sample_weight holds only zeros"),
                      (["a"] * len(paths), r"^sample_weight holds values that are not numbers")]:
        with pytest.raises(BadValue, match=said) as e:
            numbers.score(paths, y, sample_weight=bad)
        assert isinstance(e.value, ValueError) and e.value.hint
    test = sorted(str(p) for p in (corpus / "wavs").glob("test_*.wav"))[:3]
    with pytest.raises(LstmkitError, match=r"^sample_weight weighs the recordings of a classify run's score, not of "
                                           r"this ctc run's word error rate"):
        ctc_run.score(test, ["a"] * 3, sample_weight=[1.0, 1.0, 1.0])


def test_the_doctor_compares_a_recogniser_with_an_empty_transcript(corpus, tiny):
    """A CTC model two epochs in emits only blanks (validation WER 1.0, what saying nothing scores) and
    the doctor compared it with nothing; trained on, it beats the empty transcript."""
    from lstmkit.train.doctor import format_report
    early = SpeechRecognizer(**{**tiny, "doctor": True, "max_epochs": 2}).fit(corpus / "manifest.csv")
    (lost,) = early.result_.doctor["findings"]
    assert lost["kind"] == "loses_to_baseline" and lost["numbers"]["best_baseline"] == "empty_transcript"
    assert lost["evidence"][0].startswith("WER on 18 validation words: the model 1, the best baseline "
                                          "(empty_transcript) 1")
    assert lost["remedies"][0].startswith("train longer: max_epochs=20")
    assert sum(r.startswith("train longer") for r in lost["remedies"]) == 1     # the task's own said once
    trained = SpeechRecognizer(**{**tiny, "doctor": True, "max_epochs": 15}).fit(corpus / "manifest.csv")
    assert trained.result_.doctor["findings"] == []
    assert "validation WER: the model 0, the best baseline (empty_transcript) 1" in format_report(
        trained.result_.doctor)


def test_the_doctor_compares_a_speech_classifier_with_the_class_prior(digits, tiny):
    """In classify mode the doctor compared with no baseline (the text and sequence classifiers' class
    prior was theirs alone): labels drawn at random against the clips taught nothing and it said nothing."""
    files = sorted(str(p) for p in digits.glob("*.wav"))
    labels = np.where(np.random.default_rng(2).random(len(files)) < 0.8, "a", "b")       # no link to the audio
    est = SpeechRecognizer(**{**tiny, "mode": "classify", "doctor": True, "max_epochs": 3, "val_frac": 0.25}).fit(
        files, labels)
    cmp = est.result_.doctor["evidence"]["baselines"]
    assert cmp["metric"] == "log loss" and cmp["part"] == "validation" and cmp["points"] == 12
    assert set(cmp["scores"]) == {"class_prior"}
    (lost,) = [f for f in est.result_.doctor["findings"] if f["kind"] == "loses_to_baseline"]
    assert lost["numbers"]["best_baseline"] == "class_prior"
    assert lost["remedies"][-1].startswith("until the model wins, predict the majority class ('a'")


def test_the_empty_transcript_scores_every_word_deleted():
    from lstmkit.tasks.speech.estimator import silence_comparison
    cmp = silence_comparison(0.4, ["ab cd", "a"], "ctc", 5)
    assert cmp["scores"] == {"empty_transcript": 1.0} and cmp["points"] == 3
    assert cmp["remedies"][0].startswith("train longer: --epochs 20 (now 5; a CTC model emits only blanks")


def test_a_skewed_classify_run_names_a_label_it_never_answers_and_weighs_labels_when_asked(digits, tiny, tmp_path):
    """A spoken-word classifier that collapsed to its common label (recall 0 on the rare one) was
    said by no warning, and the remedy a text classifier names, class_weight='balanced', did not
    exist for it: it weighs each label's loss by its rarity now, recorded in the run."""
    files = sorted(str(p) for p in digits.glob("*.wav"))
    common = [f for f in files if os.path.basename(f)[0] == "0"]
    rare = [f for f in files if os.path.basename(f)[0] == "1"][:3]
    data = [(f, "zero") for f in common] + [(f, "one") for f in rare]
    quick = {**tiny, "mode": "classify", "max_epochs": 1, "lr": 1e-4, "val_frac": 0.2}
    with pytest.warns(UserWarning, match=r"^class 'one' \(\d+\.\d% of the rows\) was never predicted on the validation "
                                         r"part \(recall 0 of 1\): with classes this skewed, weigh them: "
                                         r"class_weight='balanced'$"):
        SpeechRecognizer(**quick).fit(data)
    est = SpeechRecognizer(**quick, class_weight="balanced").fit(data, out=tmp_path)
    n = est.data_summary_["split"]["train"]          # 2 'one' and 10 'zero' trained on
    assert est.class_names_ == ["one", "zero"] and n == 12
    assert est.class_weights_ == pytest.approx([12 / (2 * 2), 12 / (2 * 10)])
    assert json.loads((est.run_dir_ / "lstmkit.json").read_text())["preprocessing"]["class_weights"] == est.class_weights_
    assert est._loss().class_weights.tolist() == pytest.approx(est.class_weights_)
    with pytest.raises(LstmkitError, match="class_weight='balanced' applies to mode='classify', not mode='ctc'"):
        SpeechRecognizer(**tiny, class_weight="balanced").fit(data)


def test_speed_perturb_never_shrinks_a_ctc_clip_below_the_frames_its_transcript_needs(tmp_path, monkeypatch):
    """--speed-perturb shrank a clip down to the receptive field only: a clip that fits its transcript with
    a frame to spare lost it at 0.9x or less, its CTC loss infinite, which zero_infinity made 0 without a
    word (27 of 50 epochs at 0.3). Every training batch now keeps each clip's transcript spellable."""
    from lstmkit.tasks.speech import estimator as est_module
    from lstmkit.tasks.speech.features import FeatureBatches
    seen = []

    class Recorded(FeatureBatches):
        def _batch(self, idx):
            x, target = super()._batch(idx)
            if self.speed:
                seen.append((x[1].clone(), target[1].clone()))
            return x, target
    monkeypatch.setattr(est_module, "FeatureBatches", Recorded)
    rng = np.random.default_rng(0)
    (tmp_path / "wavs").mkdir()
    rows = ["path,text"]
    for i in range(8):              # 10 symbols, 44 frames: 11 output frames after two stride-2 layers, one to spare
        n = 256 + 43 * 80
        sf.write(tmp_path / "wavs" / f"{i}.wav", (0.3 * rng.standard_normal(n)).astype(np.float32), RATE,
                 subtype="PCM_16")
        rows.append(f"wavs/{i}.wav,abcdabcdab")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    SpeechRecognizer(model="lstm", hidden_size=8, num_layers=1, channels=4, n_mels=8, subsample=2, beam=1,
                     speed_perturb=0.3, max_epochs=6, batch_size=4, seed=0, progress="off", tensorboard=False,
                     doctor=False).fit(str(tmp_path / "m.csv"), out=tmp_path / "runs")
    outputs = lambda frames: ((frames - 3) // 2 + 1 - 3) // 2 + 1  # noqa: E731
    assert len(seen) >= 10 and all((outputs(lengths) >= need).all() for lengths, need in seen)


def test_evaluate_warns_of_references_longer_than_their_recordings_can_spell(ctc_run, corpus, tmp_path):
    """Training refuses a transcript its clip's frames cannot spell; evaluate scored one as errors without
    a word (a transcript given to the wrong recording, a 0.15 s clip with 29 symbols): one warning now."""
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "short.wav", say("a", rng)[:1200], RATE, subtype="PCM_16")
    sf.write(tmp_path / "fits.wav", say("ab", rng), RATE, subtype="PCM_16")
    (tmp_path / "m.csv").write_text("path,text\nfits.wav,ab\nshort.wav,abcd abcd abcd abcd abcd abcd\n")
    with pytest.warns(UserWarning, match=r"^1 of 2 reference transcripts are longer than their recordings can spell "
                                         r"\(first: .*short.wav, 5 output frames for 29 symbols\): the model cannot "
                                         r"write them, and they are scored as errors — check that each transcript "
                                         r"belongs to its recording$") as said:
        ctc_run.evaluate(tmp_path / "m.csv", beam=1)
    assert said[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ctc_run.evaluate(corpus / "test.csv", beam=1)


def test_spec_augment_of_unnormalised_features_masks_with_each_clips_mean_not_zero(corpus, tmp_path, monkeypatch):
    """--spec-augment set masked values to 0, the mean of normalised features; under --normalize none a
    log-mel's 0 lies some 6 nats above its silence, so each mask wrote a band louder than the speech."""
    from lstmkit.data.batching import pad_batch
    from lstmkit.tasks.speech import estimator as est_module
    from lstmkit.tasks.speech.features import FeatureBatches
    seen = []

    class Recorded(FeatureBatches):
        def _batch(self, idx):
            x, target = super()._batch(idx)
            if self.augment:
                seen.append((pad_batch([self.feats[i] for i in idx]), x[0], x[1]))
            return x, target
    monkeypatch.setattr(est_module, "FeatureBatches", Recorded)
    SpeechRecognizer(normalize="none", spec_augment=True, time_width=0.2, model="lstm", hidden_size=8, num_layers=1,
                     channels=4, n_mels=8, freq_width=3, beam=1, max_epochs=1, batch_size=8, seed=0, progress="off",
                     tensorboard=False, doctor=False).fit(corpus / "test.csv", out=tmp_path)
    masked = 0
    for (clean, lengths), x, _ in seen:
        for b, n in enumerate(lengths.tolist()):
            mean = clean[b, :n].mean(dim=0)                                  # [F]
            hit = x[b, :n] != clean[b, :n]                                   # [n, F]
            masked += int(hit.sum())
            torch.testing.assert_close(x[b, :n][hit], mean.expand(n, -1)[hit])
    assert masked > 0


@pytest.fixture(scope="module")
def s2s_run(tmp_path_factory):
    from lstmkit.tasks.speech.synthetic import tiny_run
    return tiny_run(tmp_path_factory.mktemp("s2s"), mode="seq2seq", n=24, max_epochs=2)


def test_a_seq2seq_run_shows_its_decoders_attention_over_a_recording(s2s_run, ctc_run, tmp_path, capsys):
    """A seq2seq run drew no attention (a translator draws plots/attention.png), had no attention(), and
    'inspect attention --audio' said it had no self-attention layer: its decoder's attention was never shown."""
    from cli_helpers import run_cli
    assert (s2s_run / "plots" / "attention.png").is_file()
    est = lstmkit.load(s2s_run)
    wav = sorted((s2s_run.parent.parent / "wavs").glob("*.wav"))[0]
    chars, weights = est.attention(wav)
    written = [c for c in chars if c != "</s>"]
    assert "".join(written) == est.transcribe([wav], beam=1)[0] and len(chars) - len(written) <= 1
    assert weights.shape == (len(chars), est._out_frames(len(est.audio_inputs(wav))))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    code, out, err = run_cli(["inspect", "attention", "--run", s2s_run, "--audio", wav, "--out", tmp_path], capsys)
    assert code == 0, err
    assert (tmp_path / "attention.png").is_file() and "decoder's attention" in out
    with pytest.raises(LstmkitError, match="or a classify run's attention pooling; this is a ctc run"):
        ctc_run.attention(wav)


def test_a_speech_classifier_shows_the_frames_its_attention_pooling_weighs(digits, tiny, tmp_path, capsys):
    """--pooling attention (the README's advice for spoken words) had its weights shown for texts only."""
    from cli_helpers import assert_user_error, run_cli
    est = SpeechRecognizer(**{**tiny, "max_epochs": 2}, mode="classify", pooling="attention",
                           label_from_name="{label}_{speaker}_{take}").fit(digits, out=tmp_path / "runs")
    assert (est.run_dir_ / "plots" / "attention.png").is_file()
    wav = sorted(digits.glob("*.wav"))[0]
    rows, weights = est.attention(wav)
    assert rows == est.transcribe([wav])
    assert weights.shape == (1, est._out_frames(len(est.audio_inputs(wav))))
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-5)
    code, out, err = run_cli(["inspect", "attention", "--run", est.run_dir_, "--audio", wav, "--out", tmp_path],
                             capsys)
    assert code == 0 and "attention pooling's weights" in out and (tmp_path / "attention.png").is_file(), err
    mean = SpeechRecognizer(**{**tiny, "max_epochs": 1}, mode="classify",
                            label_from_name="{label}_{speaker}_{take}").fit(digits, out=tmp_path / "runs")
    assert not (mean.run_dir_ / "plots" / "attention.png").exists()
    assert_user_error(*run_cli(["inspect", "attention", "--run", mean.run_dir_, "--audio", wav], capsys)[::2],
                      "pools with 'mean', so it has no attention-pooling weights", "--pooling attention")


def test_inspect_gates_of_a_seq2seq_recogniser_records_its_decoder_writing_the_transcript(s2s_run, tmp_path, capsys):
    """decoder_gates takes a seq2seq speech run's model, but 'inspect gates --audio' recorded its encoder only
    (a translator's adds the decoder's, plots/decoder_gates.png)."""
    from cli_helpers import run_cli
    est = lstmkit.load(s2s_run)
    wav = sorted((s2s_run.parent.parent / "wavs").glob("*.wav"))[1]
    chars, ids = est.output_chars(wav)
    assert "".join(c for c in chars if c != "</s>") == est.transcribe([wav], beam=1)[0] and len(ids) == len(chars)
    code, out, err = run_cli(["inspect", "gates", "--run", s2s_run, "--audio", wav, "--out", tmp_path], capsys)
    assert code == 0, err
    assert (tmp_path / "decoder_gates.png").is_file() and "decoder l0" in out
    record = json.loads((tmp_path / "gates.json").read_text())
    assert record["decoder"]["tokens"] == chars and record["frames"] > 0


def test_a_classify_fit_folds_its_validation_temperature_into_the_saved_weights(digits, tiny, tmp_path):
    """An over-confident speech classifier is softened: its validation logits divided by the temperature
    fit_temperature gives (here fixed at 2), in the head's weights, so predict_proba, the saved run and
    lstmkit.json agree, and the answers do not change."""
    from unittest import mock
    from lstmkit.tasks.speech import estimator as speech_estimator
    files = sorted(digits.glob("*.wav"))
    val = tmp_path / "val"
    val.mkdir()
    for f in files[::4]:
        shutil.copy(f, val / f.name)
    train = [str(f) for k, f in enumerate(files) if k % 4]
    seen = {}

    def fixed(logits, y, weights=None, rows=None):
        seen["logits"], seen["y"] = logits.clone(), y.clone()
        return 2.0
    settings = {**tiny, "mode": "classify", "label_from_name": "{label}_{speaker}_{take}", "max_epochs": 2}
    with mock.patch.object(speech_estimator, "fit_temperature", side_effect=fixed):
        est = SpeechRecognizer(**settings).fit(train, [os.path.basename(f).split("_")[0] for f in train],
                                               val_data=val, out=tmp_path / "runs")
    val_files = sorted(str(p) for p in val.glob("*.wav"))
    assert [est.class_names_[i] for i in seen["y"]] == [os.path.basename(f).split("_")[0] for f in val_files]
    proba = est.predict_proba(val_files)
    assert np.allclose(proba, torch.softmax(seen["logits"].double() / 2.0, -1).numpy(), atol=1e-5)
    assert (proba.argmax(1) == seen["logits"].argmax(1).numpy()).all()
    assert json.loads((est.run_dir_ / "lstmkit.json").read_text())["data"]["temperature"] == 2.0
    assert np.allclose(SpeechRecognizer.load(est.run_dir_).predict_proba(val_files), proba)


def test_the_runs_plots_name_the_run_and_a_blank_only_model_says_so(ctc_run, corpus, tmp_path, monkeypatch):
    """loss.png was titled 'Training curves' whatever the run; ctc_posteriors.png of an undertrained
    model drew the blank's line alone, its key on top of it, nothing saying that no symbol was written."""
    import lstmkit.inspect.plots as plots
    from lstmkit.tasks.speech.metrics import plot_ctc_posteriors
    seen = {}
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.update({path.name: fig}))
    wav = sorted((corpus / "wavs").glob("test_*.wav"))[0]
    feats, _, _ = ctc_run._features([str(wav)])
    ctc_run._plots(tmp_path / "speech-1", feats[0], feats[0].numpy(), wav.name)
    assert seen["loss.png"].axes[0].get_title() == f"speech-1: {ctc_run.config_.model} speech model, ctc"
    assert seen["loss.png"].axes[0].get_ylabel() == "CTC loss per character (nats)"     # 'CTC loss': of what?
    trained = seen["ctc_posteriors.png"].axes[0]
    assert "writes nothing" not in trained.get_title()
    assert [line.get_label() for line in trained.get_lines()][0] == "blank" and len(trained.get_lines()) > 1
    blank = np.log(np.full((20, 5), 0.01))
    blank[:, 0] = np.log(0.96)
    plot_ctc_posteriors(blank, ["", "a", "b", "c", "d"], tmp_path / "p.png", "CTC posteriors of x.wav", 10.0)
    ax = seen["p.png"].axes[0]
    assert ax.get_title().startswith("CTC posteriors of x.wav\n(no symbol but the blank reaches 0.1")
    seen["p.png"].canvas.draw()
    key = ax.get_legend().get_window_extent()
    assert key.x0 >= ax.get_window_extent().x1                     # beside the plot, not over the blank's line
