"""The speech room's bench: ``lstmkit compare --task speech`` and ``lstmkit tune speech``."""
import pytest

from lstmkit.compare import compare
from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.bench import SpeechBench
from lstmkit.tune import TASKS as TUNABLE
from speech_data import write_librispeech

SMALL = dict(hidden_size=16, num_layers=1, channels=16, n_mels=20, subsample=1, lr=0.01, batch_size=16,
             dropout=0.0, doctor=False)


def test_compare_speech_scores_wer_and_cer_on_held_out_recordings(corpus):
    table = compare("speech", corpus / "manifest.csv", models=["gru"], seeds=1, epochs=1, out=None, log=None,
                    warmup=False, **SMALL)
    assert table["model"].tolist() == ["gru"]
    assert table.loc[0, "wer_mean"] >= 0 and 0 <= table.loc[0, "cer_mean"]
    assert table.loc[0, "latency_b1_ms_mean"] > 0 and table.loc[0, "act_mem_mb_mean"] > 0
    assert table.attrs["settings"]["test_recordings"] == 24


def test_tune_speech_checks_settings_and_data_before_any_trial(corpus):
    plug = TUNABLE["speech"]
    plug.check({"data": corpus / "manifest.csv", **SMALL})
    with pytest.raises(LstmkitError, match="unknown mode"):
        plug.check({"data": corpus / "manifest.csv", **SMALL, "mode": "karaoke"})
    with pytest.raises(LstmkitError, match="no data given"):
        plug.check(SMALL)
    assert set(plug.default_space) <= plug.config_keys()


def test_speech_bench_never_trains_or_scores_on_the_wrong_part_of_a_folder(tmp_path, corpus):
    top = write_librispeech(tmp_path / "LibriSpeech", subsets=("dev-clean", "test-clean", "train-clean-5"))
    subset = lambda utts: {p.split("/")[-4] for p in utts.paths}   # noqa: E731
    with pytest.warns(UserWarning, match="its subsets give the split"):
        own = SpeechBench(top, **SMALL)
    assert subset(own.train) == {"dev-clean", "train-clean-5"} and subset(own.test) == {"test-clean"}
    with pytest.warns(UserWarning, match="its subsets give the split"):     # --test a folder: its test part only
        given = SpeechBench(top, test=top, **SMALL)
    assert subset(given.train) == {"dev-clean", "train-clean-5"} and subset(given.test) == {"test-clean"}
    assert given.describe_["test_recordings"] == 8
    with pytest.warns(UserWarning, match="30 of the 30 test recordings are training recordings too"):
        SpeechBench(corpus / "test.csv", test=corpus / "test.csv", **SMALL)
