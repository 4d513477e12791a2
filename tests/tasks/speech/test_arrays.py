"""Recordings in memory: predict / predict_proba / evaluate / score take numpy arrays and torch
tensors with sample_rate=, and answer what the same audio written to a WAV file answers (they took
file paths only: an array was 'transcribe takes audio file paths, got ndarray')."""
import io

import numpy as np
import pytest
import soundfile as sf
import torch

from lstmkit import SpeechRecognizer
from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.arrays import MAX_CHANNELS, batch_rows, memory_clip
from speech_data import RATE, say

TEXTS = ["ab", "cab d", "dc", "bad"]


@pytest.fixture(scope="module")
def waves():
    rng = np.random.default_rng(7)
    return [say(t, rng) for t in TEXTS]


@pytest.fixture(scope="module")
def classifier(digits, tiny, tmp_path_factory):
    return SpeechRecognizer(**{**tiny, "mode": "classify", "label_from_name": "{label}_{speaker}_{take}",
                               "max_epochs": 3}).fit(digits)


def _wavs(folder, waves, rate=RATE, subtype="FLOAT"):
    paths = []
    for i, w in enumerate(waves):
        paths.append(str(folder / f"w{i}.wav"))
        sf.write(paths[-1], w, rate, subtype=subtype)
    return paths


def test_float_arrays_and_tensors_transcribe_as_their_wav_files(ctc_run, waves, tmp_path):
    want = ctc_run.predict(_wavs(tmp_path, waves))
    assert any(want)
    assert ctc_run.predict(waves, sample_rate=RATE).tolist() == want.tolist()
    assert ctc_run.predict([torch.from_numpy(w) for w in waves], sample_rate=RATE).tolist() == want.tolist()
    assert ctc_run.transcribe(waves[1], sample_rate=RATE) == [want[1]]             # one clip: one answer
    assert ctc_run.predict(waves[0].astype(np.float64), sample_rate=np.int64(RATE)).tolist() == [want[0]]
    # paths and arrays in one list, answered in order
    assert ctc_run.predict([waves[0], str(tmp_path / "w1.wav")], sample_rate=RATE).tolist() == want[:2].tolist()


def test_int16_arrays_are_scaled_as_a_pcm16_wav_is(ctc_run, waves, tmp_path):
    pcm = [np.round(w * 20000).astype(np.int16) for w in waves]
    want = ctc_run.predict(_wavs(tmp_path, pcm, subtype="PCM_16"))
    assert ctc_run.predict(pcm, sample_rate=RATE).tolist() == want.tolist()
    assert ctc_run.predict(pcm, sample_rate=RATE).tolist() == ctc_run.predict(
        [p.astype(np.float32) / 32768 for p in pcm], sample_rate=RATE).tolist()


def test_another_rate_is_resampled_as_a_file_at_that_rate_is(ctc_run, waves, tmp_path):
    from lstmkit.tasks.speech.resampling import resample
    fast = [resample(w, RATE, 16000) for w in waves]
    want = ctc_run.predict(_wavs(tmp_path, fast, 16000))
    with pytest.warns(UserWarning, match=r"in-memory clip 0 and 3 more: resampled from 16000 Hz to 8000 Hz"):
        got = ctc_run.predict(fast, sample_rate=16000)
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("layout", ["channels first", "channels last"])
def test_two_channels_either_way_round_are_mixed_down_as_a_stereo_wav_is(ctc_run, waves, tmp_path, layout):
    stereo = [np.stack([w, 0.5 * w[::-1]], axis=1) for w in waves]          # [samples, 2]
    want = ctc_run.predict(_wavs(tmp_path, stereo))
    given = [s.T if layout == "channels first" else s for s in stereo]
    with pytest.warns(UserWarning, match="2 channels mixed down to mono"):
        assert ctc_run.predict(given, sample_rate=RATE).tolist() == want.tolist()


def test_class_probabilities_of_arrays_equal_their_wav_files(classifier, digits, tmp_path):
    files = sorted(digits.glob("*.wav"))[::6]
    waves = [sf.read(f, dtype="int16")[0] for f in files]          # the PCM16 samples as they are stored
    want = classifier.predict_proba([str(f) for f in files])
    got = classifier.predict_proba(waves, sample_rate=RATE)
    assert got.shape == want.shape and np.array_equal(got, want)
    assert classifier.predict(waves, sample_rate=RATE).tolist() == classifier.predict([str(f) for f in files]).tolist()


def test_evaluate_and_score_take_samples_with_their_transcripts(ctc_run, waves, tmp_path):
    paths = _wavs(tmp_path, waves)
    want = ctc_run.evaluate(list(zip(paths, TEXTS)))
    got = ctc_run.evaluate(list(zip(waves, TEXTS)), sample_rate=RATE)
    assert (got["wer"], got["cer"], got["examples"]) == (want["wer"], want["cer"], want["examples"])
    assert ctc_run.score(waves, TEXTS, sample_rate=RATE) == ctc_run.score(paths, TEXTS) == -want["wer"]
    assert ctc_run.score(waves[0], [TEXTS[0]], sample_rate=RATE) == ctc_run.score([paths[0]], [TEXTS[0]])


def test_files_read_as_before(ctc_run, waves, tmp_path):
    paths = _wavs(tmp_path, waves)
    assert ctc_run.predict(paths).tolist() == ctc_run.predict(tmp_path).tolist()
    # an array of paths (scikit-learn hands X over so) is paths, not samples
    assert ctc_run.predict(np.array(paths)).tolist() == ctc_run.predict(np.array(paths, dtype=object)).tolist() \
        == ctc_run.predict(paths).tolist()


@pytest.mark.parametrize("given, words", [
    (lambda w: w, "sample_rate= is missing"),
    (lambda w: [w, w], "sample_rate= is missing"),
    (lambda w: np.where(np.arange(w.size) == 5, np.nan, w), "in-memory clip 0 holds a non-finite sample (nan) at sample 5"),
    (lambda w: np.where(np.arange(w.size) == 9, np.inf, w), "holds a non-finite sample (inf) at sample 9"),
    (lambda w: np.zeros(0, np.float32), "is empty (shape (0,)): it holds no samples"),
    (lambda w: np.array(["0.1", "0.2"]), "holds <U3 values, not audio samples"),
    (lambda w: np.array([0.1, None], dtype=object), "holds object values, not audio samples"),
    (lambda w: (w * 1000).astype(np.int64), "holds int64 values (no PCM format has that full scale)"),
    (lambda w: torch.zeros(100, dtype=torch.complex64), "holds complex64 values"),
    (lambda w: np.zeros((20, 20), np.float32), "has shape (20, 20): which side is its channels is ambiguous"),
    (lambda w: np.zeros((3, 3, 800), np.float32), "has shape (3, 3, 800): a recording is 1-D"),
    (lambda w: [np.float32(0.5), w], "has shape (): a recording is 1-D"),   # a scalar among clips ([scalars]: one clip)
])
def test_bad_samples_are_one_clear_error(ctc_run, waves, given, words):
    rate = None if "sample_rate" in words else RATE
    with pytest.raises(LstmkitError, match=None) as e:
        ctc_run.predict([given(waves[0])] if not isinstance(given(waves[0]), list) else given(waves[0]),
                        sample_rate=rate)
    assert words in e.value.message and e.value.hint, (e.value.message, e.value.hint)


def test_a_sample_rate_is_named_when_missing_wrong_or_given_with_files(ctc_run, waves, tmp_path):
    with pytest.raises(LstmkitError, match="sample_rate= is missing") as e:
        ctc_run.evaluate([(waves[0], "ab")])
    assert "sample_rate=16000" in e.value.hint
    with pytest.raises(LstmkitError, match="sample_rate must be a whole number of Hz, got '8000'"):
        ctc_run.predict(waves, sample_rate="8000")
    with pytest.raises(LstmkitError, match="under the 1000 Hz that holds speech"):
        ctc_run.predict(waves, sample_rate=300)
    paths = _wavs(tmp_path, waves)
    with pytest.raises(LstmkitError, match="sample_rate=8000 was given with audio files, which carry their own rate"):
        ctc_run.predict(paths, sample_rate=8000)
    with pytest.raises(LstmkitError, match="which carry their own rate"):
        ctc_run.evaluate(list(zip(paths, TEXTS)), sample_rate=8000)
    with pytest.raises(LstmkitError, match=r"X is one recording .* and y holds 2 labels"):
        ctc_run.score(waves[0], TEXTS[:2], sample_rate=RATE)


def test_a_2d_array_as_x_is_one_clip_per_row_as_scikit_learns_x_is(ctc_run, waves, tmp_path):
    """Was: np.stack of 4 clips read as one 4-channel recording, one transcript of their mix."""
    n = min(w.size for w in waves)
    same = [w[:n] for w in waves]
    want = ctc_run.predict(_wavs(tmp_path, same))
    assert len(set(want.tolist())) > 1                   # the clips answer differently
    for X in (np.stack(same), torch.from_numpy(np.stack(same))):
        got = ctc_run.predict(X, sample_rate=RATE)
        assert got.shape == (4,) and got.tolist() == want.tolist()
    assert ctc_run.score(np.stack(same), TEXTS, sample_rate=RATE) == ctc_run.score(_wavs(tmp_path, same), TEXTS)
    # one recording's (samples, channels) passed bare is refused, not read as thousands of 2-sample clips
    with pytest.raises(LstmkitError, match=rf"shape \({n}, 2\): read as a batch .* {n} clips of 2 samples") as e:
        ctc_run.predict(np.stack([same[0], same[1]], axis=1), sample_rate=RATE)
    assert "[samples]" in e.value.hint


def test_training_on_samples_in_memory_is_refused_with_the_way_to_write_them(tiny, waves):
    with pytest.raises(LstmkitError, match="utterance 0 holds samples in memory; training reads audio files") as e:
        SpeechRecognizer(**tiny).fit(waves, TEXTS)
    assert "soundfile.write" in e.value.hint


# -- probes of samples as people hold them (session 28) ------------------------------------------
def test_samples_as_people_hold_them_transcribe_as_their_wav_file(ctc_run, waves, tmp_path):
    """Big-endian PCM ('>i2', as read from a raw big-endian file or an AIFF) was 'holds >i2 values (no
    PCM format has that full scale)'; a pandas Series of samples and a list of Python floats
    (wave.tolist()) were 'sample_rate=8000 was given with audio files, which carry their own rate'."""
    import pandas as pd
    pcm = np.round(waves[1] * 20000).astype(np.int16)
    want_pcm = ctc_run.predict(_wavs(tmp_path, [pcm], subtype="PCM_16")).tolist()
    assert ctc_run.predict(pcm.astype(">i2"), sample_rate=RATE).tolist() == want_pcm
    assert ctc_run.predict(pd.Series(pcm), sample_rate=RATE).tolist() == want_pcm
    want = ctc_run.predict(_wavs(tmp_path, [waves[1]])).tolist()
    for given in (waves[1].astype(">f4"), pd.Series(waves[1]), waves[1].tolist(), tuple(waves[1].tolist()),
                  [pd.Series(waves[1])]):
        assert ctc_run.predict(given, sample_rate=RATE).tolist() == want, type(given)
    got = ctc_run.evaluate([(waves[1].tolist(), TEXTS[1]), (pd.Series(waves[2]), TEXTS[2])], sample_rate=RATE)
    want = ctc_run.evaluate(list(zip(_wavs(tmp_path, waves[1:3]), TEXTS[1:3])))
    assert (got["n"], got["wer"], got["cer"], got["examples"]) == (want["n"], want["wer"], want["cer"], want["examples"])
    with pytest.raises(LstmkitError, match="sample_rate= is missing"):
        ctc_run.predict(waves[1].tolist())
    assert ctc_run.score(waves[1].tolist(), [TEXTS[1]], sample_rate=RATE) == ctc_run.score(
        _wavs(tmp_path, waves[1:2]), [TEXTS[1]])                  # was '8000 audio files and 1 labels'
    with pytest.raises(LstmkitError, match="utterance 0 holds samples in memory; training reads audio files"):
        SpeechRecognizer(mode="ctc").fit(waves[1].tolist(), TEXTS[1])


def test_a_tensor_on_the_meta_device_is_named(ctc_run):
    """Was a NotImplementedError traceback: 'Cannot copy out of meta tensor; no data!'."""
    with pytest.raises(LstmkitError, match=r"in-memory clip is a tensor on the meta device: it has a shape \(800,\) "
                       r"but no samples") as e:
        ctc_run.predict(torch.empty(800, device="meta"), sample_rate=RATE)
    assert "holds the recording's samples" in e.value.hint


# -- samples as other libraries hand them over (session 29) --------------------------------------
def test_numpy_scalars_and_one_column_frames_transcribe_as_their_wav_file(ctc_run, waves, tmp_path):
    """list(int16_wave) (numpy scalars, their type kept) was 'in-memory clip 0 has shape ()'; a
    one-column DataFrame of samples was 'sample_rate=8000 was given with audio files'."""
    import pandas as pd
    pcm = np.round(waves[2] * 20000).astype(np.int16)
    want = ctc_run.predict(_wavs(tmp_path, [pcm], subtype="PCM_16")).tolist()
    for given in (list(pcm), pd.DataFrame({"samples": pcm}), [pd.DataFrame({"samples": pcm})]):
        assert ctc_run.predict(given, sample_rate=RATE).tolist() == want, type(given)
    want = ctc_run.predict(_wavs(tmp_path, [waves[2]])).tolist()
    assert ctc_run.predict(list(waves[2]), sample_rate=RATE).tolist() == want
    got = ctc_run.evaluate([(pd.DataFrame({"s": waves[2]}), TEXTS[2])], sample_rate=RATE)
    assert got["cer"] == ctc_run.evaluate([(_wavs(tmp_path, waves[2:3])[0], TEXTS[2])])["cer"]


@pytest.mark.parametrize("given, words, fix", [
    (lambda w: [int(v) for v in np.round(w * 20000)], "is a list of Python ints, which do not say their sample width",
     "np.asarray(x, dtype=np.int16)"),
    (lambda w: [int(v) for v in np.round(w * 2e9)], "is a list of Python ints", "np.asarray(x, dtype=np.int32)"),
    (lambda w: [[int(v) for v in np.round(w * 20000)]], "in-memory clip 0 is a list of Python ints",
     "np.asarray(x, dtype=np.int16)"),
    (lambda w: np.round(w * 20000).astype(np.int64), "holds int64 values (no PCM format has that full scale)",
     "np.asarray(x, dtype=np.int16)"),
    (lambda w: __import__("pandas").DataFrame({"left": w, "right": w}),
     "is a DataFrame with 2 columns (left, right): one clip is one column of samples", "df['left']"),
])
def test_integers_of_no_width_and_wide_frames_are_refused_with_the_way_to_pass_them(ctc_run, waves, given, words, fix):
    """No scale is guessed for Python ints (16-bit PCM? 8-bit?): the refusal names the dtype to give
    them (was 'holds int64 values' with no word of np.asarray); a DataFrame of several columns was
    'sample_rate=8000 was given with audio files'."""
    with pytest.raises(LstmkitError) as e:
        ctc_run.predict(given(waves[0]), sample_rate=RATE)
    assert words in e.value.message and fix in e.value.hint, (e.value.message, e.value.hint)


def test_a_whole_float_sample_rate_and_a_generator_of_clips_read_as_their_plain_forms(ctc_run, waves):
    """Was: sample_rate=8000.0 (librosa's, a frame's, 8e3) 'must be a whole number of Hz, got 8000.0',
    and a generator of clips 'sample_rate=8000 was given with audio files'."""
    want = ctc_run.predict(waves, sample_rate=RATE).tolist()
    assert ctc_run.predict(waves, sample_rate=float(RATE)).tolist() == want
    assert ctc_run.predict(waves, sample_rate=np.float64(RATE)).tolist() == want
    pairs = list(zip(waves, TEXTS))
    assert ctc_run.evaluate(pairs, sample_rate=float(RATE))["examples"] == ctc_run.evaluate(pairs, sample_rate=RATE)["examples"]
    assert ctc_run.predict((w for w in waves), sample_rate=RATE).tolist() == want
    with pytest.raises(LstmkitError, match=r"sample_rate must be a whole number of Hz, got 8000\.5"):
        ctc_run.predict(waves, sample_rate=RATE + 0.5)
    with pytest.raises(LstmkitError, match="sample_rate must be a whole number of Hz, got nan"):
        ctc_run.predict(waves, sample_rate=float("nan"))


def test_a_numpy_beam_and_a_generator_of_pairs_read_as_their_plain_forms(ctc_run, waves):
    """Was: beam=np.int64(2) '`beam` must be a positive integer, got np.int64(2)', and a generator
    of (samples, text) pairs 'sample_rate=8000 was given with audio files'."""
    pairs = list(zip(waves, TEXTS))
    assert ctc_run.predict(waves, beam=np.int64(2), sample_rate=RATE).tolist() == \
        ctc_run.predict(waves, beam=2, sample_rate=RATE).tolist()
    want = ctc_run.evaluate(pairs, beam=2, sample_rate=RATE)["examples"]
    assert ctc_run.evaluate((p for p in pairs), beam=np.int32(2), sample_rate=RATE)["examples"] == want


@pytest.mark.parametrize("missing", [None, np.nan, "pd.NA"])
def test_a_missing_label_or_transcript_in_y_is_named_not_scored_as_its_text(ctc_run, waves, missing):
    """Was: score(X, ["ab", None]) scored the second clip against the transcript 'None' (and NaN
    against 'nan'), a number that looked like any other."""
    import pandas as pd
    missing = pd.NA if missing == "pd.NA" else missing
    with pytest.raises(LstmkitError, match=r"label or transcript 2 of y is missing") as e:
        ctc_run.score(waves[:2], [TEXTS[0], missing], sample_rate=RATE)
    assert "y.notna()" in e.value.hint


def test_a_column_of_clips_reads_as_the_list_of_them(ctc_run, waves):
    """df['audio'] holding one array a row was 'sample_rate=8000 was given with audio files', and a
    numpy object array of clips of different lengths 'the in-memory clip holds object values'."""
    import pandas as pd
    want = ctc_run.predict(waves, sample_rate=RATE).tolist()
    column = pd.DataFrame({"audio": waves, "text": TEXTS})["audio"]
    assert ctc_run.predict(column, sample_rate=RATE).tolist() == want
    clips = np.empty(len(waves), dtype=object)
    clips[:] = waves
    assert ctc_run.predict(clips, sample_rate=RATE).tolist() == want
    assert ctc_run.score(column, TEXTS, sample_rate=RATE) == ctc_run.score(waves, TEXTS, sample_rate=RATE)


def test_a_frame_of_clips_and_transcripts_evaluates_as_its_pairs(ctc_run, waves):
    """DataFrame({'audio': clips, 'text': ...}) was "item 1 of column 'audio' holds several values,
    not one text" (a manifest's path column), and with sample_rate= 'given with audio files'."""
    import pandas as pd
    pairs = list(zip(waves, TEXTS))
    want = ctc_run.evaluate(pairs, sample_rate=RATE)["examples"]
    frame = pd.DataFrame({"audio": waves, "sentence": TEXTS, "speaker": ["a", "b", "a", "b"]})
    assert ctc_run.evaluate(frame, sample_rate=RATE)["examples"] == want
    with pytest.raises(LstmkitError, match="sample_rate= is missing"):
        ctc_run.evaluate(frame)
    holed = frame.astype({"sentence": "string"})
    holed.loc[1, "sentence"] = pd.NA
    with pytest.raises(LstmkitError, match=r"the transcript of in-memory clip 1 is missing \(<NA>\)"):
        ctc_run.evaluate(holed, sample_rate=RATE)
    with pytest.raises(LstmkitError, match=r"column 'audio' of the DataFrame holds clips and no column holds their text \(found: "
                                           r"audio, speaker\)") as e:
        ctc_run.evaluate(frame.drop(columns="sentence"), sample_rate=RATE)
    assert "text" in e.value.hint


# -- Hugging Face datasets' audio dicts (session 33) ---------------------------------------------
def _audio_dicts(waves, rate=RATE, path=True):
    """The clips as a datasets Audio column yields them: float64 samples, their rate and file name."""
    return [{"array": w.astype(np.float64), "sampling_rate": rate, "path": f"clip{i}.wav" if path else None}
            for i, w in enumerate(waves)]


def test_audio_dicts_transcribe_as_their_wav_files_at_their_own_rate(ctc_run, waves, tmp_path):
    """ds["audio"] (dicts of array, sampling_rate, path) was 'transcribe takes audio file paths or
    samples (arrays, tensors), got dict', and one dict alone its keys read as three missing files."""
    import pandas as pd
    from lstmkit.tasks.speech.resampling import resample
    want = ctc_run.predict(_wavs(tmp_path, waves)).tolist()
    dicts = _audio_dicts(waves)
    assert ctc_run.predict(dicts).tolist() == want
    assert ctc_run.predict(pd.Series(dicts)).tolist() == want                  # df["audio"]
    assert ctc_run.predict(_audio_dicts(waves, path=False)).tolist() == want
    assert ctc_run.transcribe(dicts[1]) == [want[1]]                           # ds[1]["audio"]: one clip
    assert ctc_run.predict(dicts, sample_rate=RATE).tolist() == want           # the same rate given: agreed
    fast = _audio_dicts([resample(w, RATE, 16000) for w in waves], 16000)
    with pytest.warns(UserWarning, match=r"in-memory clip 0 \(clip0.wav\) and 3 more: resampled from 16000 Hz"):
        assert ctc_run.predict(fast).tolist() == ctc_run.predict(_wavs(tmp_path, [d["array"] for d in fast],
                                                                       16000)).tolist()
    # beside arrays, which still need sample_rate=
    assert ctc_run.predict([dicts[0], waves[1]], sample_rate=RATE).tolist() == want[:2]


def test_audio_dicts_evaluate_and_score_with_their_transcripts(ctc_run, classifier, digits, waves, tmp_path):
    import pandas as pd
    want = ctc_run.evaluate(list(zip(_wavs(tmp_path, waves), TEXTS)))
    dicts = _audio_dicts(waves)
    assert ctc_run.evaluate(list(zip(dicts, TEXTS)))["examples"] == want["examples"]
    assert ctc_run.evaluate(pd.DataFrame({"audio": dicts, "sentence": TEXTS}))["examples"] == want["examples"]
    assert ctc_run.score(dicts, TEXTS) == ctc_run.score(pd.Series(dicts), TEXTS) == -want["wer"]
    files = sorted(digits.glob("*.wav"))[::6]
    read = [sf.read(f, dtype="float64") for f in files]
    got = classifier.predict_proba([{"array": w, "sampling_rate": r, "path": str(f)} for (w, r), f in zip(read, files)])
    assert np.array_equal(got, classifier.predict_proba([str(f) for f in files]))


@pytest.mark.parametrize("given, words, fix", [
    (lambda d: {"path": d["path"], "sampling_rate": RATE}, "in-memory clip 0 is a dict without 'array' (its keys: "
     "'path', 'sampling_rate')", "give each dict its 'array'"),
    (lambda d: {"array": d["array"]}, "in-memory clip 0 is a dict without 'sampling_rate' (its keys: 'array')",
     "give each dict its 'sampling_rate'"),
    (lambda d: {"bytes": b"RIFF", "path": "a.wav"}, "is a dict without 'array' (its keys: 'bytes', 'path')",
     "ds.cast_column('audio', datasets.Audio())"),
    (lambda d: {**d, "sampling_rate": None}, "the 'sampling_rate' of in-memory clip 0 (clip0.wav) must be a whole "
     "number of Hz, got None", "the samples' rate"),
    (lambda d: {**d, "array": np.array(["a", "b"])}, "in-memory clip 0 (clip0.wav) holds <U1 values", "np.float32"),
])
def test_a_broken_audio_dict_is_one_error_naming_the_key(ctc_run, waves, given, words, fix):
    for X in ([given(_audio_dicts(waves)[0])], given(_audio_dicts(waves)[0])):
        with pytest.raises(LstmkitError) as e:
            ctc_run.predict(X)
        assert words.split("in-memory clip 0")[-1] in e.value.message and fix in e.value.hint, (e.value.message,
                                                                                                e.value.hint)
    with pytest.raises(LstmkitError) as e:
        ctc_run.evaluate([(given(_audio_dicts(waves)[0]), "ab")])
    assert words in e.value.message


def test_an_audio_dict_refuses_another_rate_and_training_names_how_to_write_it(ctc_run, tiny, waves):
    dicts = _audio_dicts(waves)
    with pytest.raises(LstmkitError, match=r"sample_rate=16000 was given with in-memory clip 0 \(clip0.wav\), whose "
                                           r"'sampling_rate' is 8000") as e:
        ctc_run.predict(dicts, sample_rate=16000)
    assert "carries its own rate" in e.value.hint
    with pytest.raises(LstmkitError, match="utterance 0 holds samples in memory; training reads audio files") as e:
        SpeechRecognizer(**tiny).fit(dicts, TEXTS)           # was 'audio file not found: {'array': ...'
    assert "d['sampling_rate']" in e.value.hint


def test_a_numpy_matrix_of_clips_and_of_transcripts_reads_as_its_array(ctc_run, waves):
    """score(X, np.asmatrix(y)) was '4 audio files and 1 labels or transcripts' (list() of a 1×N matrix
    is one row); a matrix of clips reads as its rows, one clip of one row or column as that clip."""
    n = min(w.size for w in waves)
    same = np.stack([w[:n] for w in waves])
    want = ctc_run.predict(same, sample_rate=RATE).tolist()
    assert ctc_run.predict(np.asmatrix(same), sample_rate=RATE).tolist() == want
    assert ctc_run.predict(np.asmatrix(same[1]).T, sample_rate=RATE).tolist() == want[1:2]
    assert ctc_run.score(np.asmatrix(same), np.asmatrix(TEXTS), sample_rate=RATE) == ctc_run.score(
        same, TEXTS, sample_rate=RATE)


def test_a_column_of_paths_or_clips_as_pyarrow_or_scikit_learn_hands_it_over(classifier, digits, waves):
    """A pyarrow array of paths was 'got StringScalar', an [N, 1] array of paths (a ColumnTransformer's
    output) 'got ndarray', and ``df[["path"]]`` was read as its column's name ('audio file not found:
    path'); a pyarrow list array or a one-column frame of clips was 'sample_rate= … with audio files';
    a pyarrow Table or a polars frame or Series of paths alike. Each reads as the column it holds, in
    predict, fit and score alike."""
    import pandas as pd
    import pyarrow as pa
    files = [str(f) for f in sorted(digits.glob("*.wav"))[::6]]
    labels = classifier.predict(files)
    want = classifier.predict_proba(files)
    from table_data import polars_like
    for given in (pa.array(files), pa.chunked_array([files[:1], files[1:]]), np.array(files)[:, None],
                  pd.DataFrame({"path": files}), pa.table({"path": files}), *polars_like(pd.DataFrame({"path": files}))):
        assert np.array_equal(classifier.predict_proba(given), want)
        assert classifier.score(given, labels) == 1.0
    clips = classifier.predict_proba(waves, sample_rate=RATE)
    for given in (pa.array([w.tolist() for w in waves]), pd.DataFrame({"audio": waves})):
        assert np.allclose(classifier.predict_proba(given, sample_rate=RATE), clips)
    assert np.allclose(classifier.predict_proba(pa.array(waves[0]), sample_rate=RATE), clips[:1])   # numbers: one clip
    refit = SpeechRecognizer(**classifier.get_params())
    assert refit.set_params(max_epochs=1, label_from_name=None).fit(pd.DataFrame({"path": files}), labels).classes_.tolist() == sorted(set(labels))


def test_a_notes_warning_names_the_callers_line(ctc_run, waves):
    """A clip's note (silence, a conversion) was a warning at a line of speech's estimator.py, whichever
    call of the caller's it came from: predict's and transcribe's now name their own call."""
    silent = np.zeros(RATE, dtype=np.float32)
    with pytest.warns(UserWarning, match="holds only silence") as said:
        ctc_run.transcribe(silent, sample_rate=RATE)
        ctc_run.predict([waves[0], silent], sample_rate=RATE)
    assert [w.filename for w in said if "silence" in str(w.message)] == [__file__] * 2


# -- memory_clip / batch_rows: a clip holds what soundfile reads of it written to a WAV file --------------
def _wav_read(a: np.ndarray, subtype: str) -> np.ndarray:
    buf = io.BytesIO()
    sf.write(buf, a, 8000, format="WAV", subtype=subtype)
    buf.seek(0)
    return sf.read(buf, dtype="float32", always_2d=True)[0]


@pytest.mark.parametrize("dtype, subtype, values", [
    (np.int16, "PCM_16", [-32768, -1, 0, 1, 16384, 32767]),
    (np.int32, "PCM_32", [-2 ** 31, -1, 0, 1, 2 ** 30, 2 ** 31 - 1]),
])
def test_integer_pcm_reads_as_its_wav_file_reads(dtype, subtype, values):
    """WAV's full scale: int16 / 32768, int32 / 2**31 (so the most negative value is -1.0)."""
    a = np.array(values, dtype=dtype)
    clip = memory_clip(a, 8000, "clip")
    assert clip.rate == 8000 and clip.block.dtype == np.float32 and not clip.floats
    np.testing.assert_array_equal(clip.block, _wav_read(a, subtype))
    assert clip.block[0, 0] == -1.0 and clip.block[2, 0] == 0.0


def test_eight_bit_pcm_reads_at_its_full_scale():
    """int8 / 128; uint8 (WAV's 8-bit) is unsigned around 128: (x - 128) / 128."""
    np.testing.assert_array_equal(memory_clip(np.array([-128, 0, 64], np.int8), 8000, "c").block[:, 0], [-1, 0, 0.5])
    np.testing.assert_array_equal(memory_clip(np.array([0, 64, 128, 255], np.uint8), 8000, "c").block[:, 0],
                                  [-1, -0.5, 0, 127 / 128])


def test_channels_are_the_shorter_side_up_to_max_channels():
    x = np.arange(20, dtype=np.float32).reshape(2, 10) / 20
    assert memory_clip(x, 8000, "c").block.shape == (10, 2)                 # (channels, samples)
    assert memory_clip(x.T, 8000, "c").block.shape == (10, 2)               # (samples, channels)
    wide = np.zeros((MAX_CHANNELS, 100), np.float32)
    assert memory_clip(wide, 8000, "c").block.shape == (100, MAX_CHANNELS)
    for ambiguous in (np.zeros((MAX_CHANNELS + 1, 100), np.float32), np.zeros((5, 5), np.float32)):
        with pytest.raises(LstmkitError, match="ambiguous"):
            memory_clip(ambiguous, 8000, "c")


def test_a_batch_is_one_clip_per_row_and_a_tall_few_column_array_is_refused():
    assert len(batch_rows(np.zeros((3, 100), np.float32))) == 3
    assert len(batch_rows(np.zeros((MAX_CHANNELS + 1, MAX_CHANNELS + 1), np.float32))) == MAX_CHANNELS + 1
    assert len(batch_rows(np.zeros((4, 4), np.float32))) == 4                 # square: not tall
    for channels in (2, MAX_CHANNELS):
        with pytest.raises(LstmkitError, match=f"{channels} samples each"):
            batch_rows(np.zeros((100, channels), np.float32))
    assert batch_rows(np.zeros(100, np.float32)) is None
