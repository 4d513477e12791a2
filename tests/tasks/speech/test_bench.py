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


def test_compare_speech_classifies_a_folder_named_by_label_from_name(digits):
    # the recordings read with the pattern were handed to each trial's fit with the pattern again,
    # which refuses a pattern beside recordings already read: every trial failed
    table = compare("speech", digits, models=["gru"], seeds=1, epochs=1, out=None, log=None, warmup=False,
                    mode="classify", label_from_name="{label}_{speaker}_{take}", **SMALL)
    assert table["model"].tolist() == ["gru", "majority"] and "failed" not in table
    assert 0 <= table.loc[0, "accuracy_mean"] <= 1
    assert all(table.loc[0, f"{m}_mean"] >= 0 for m in ("nll", "brier", "ece"))    # calibration beside accuracy
    assert table.attrs["settings"]["mode"] == "classify"


def test_compare_speech_classify_has_the_majority_class_row(digits):
    # text classification's table had the floor a model must rise above; a spoken-word one had none
    import pandas as pd
    bench = SpeechBench(digits, mode="classify", label_from_name="{label}_{speaker}_{take}", **SMALL)
    table = compare("speech", digits, models=["gru"], seeds=1, epochs=1, out=None, log=None, warmup=False,
                    mode="classify", label_from_name="{label}_{speaker}_{take}", **SMALL)
    row = table[table["model"] == "majority"].iloc[0]
    top = max(sorted(set(bench.train.texts)), key=bench.train.texts.count)   # the commonest (ties: the first class)
    assert row["accuracy_mean"] == pytest.approx(sum(t == top for t in bench.test.texts) / len(bench.test.texts))
    assert row["nll_mean"] > 0 and pd.isna(row["params"])        # a reference row: no parameters


def test_compare_command_takes_the_speech_mode_and_label_pattern(digits, capsys, tmp_path):
    # the command had neither: a classifier could not be compared, and a folder named by label was refused
    # with 'pass --label-from-name', an option compare did not have
    from cli_helpers import assert_user_error, run_cli
    args = ["compare", "--task", "speech", "--data", digits, "--models", "gru", "--seeds", "1", "--epochs", "1",
            "--hidden-size", "8", "--layers", "1", "--out", tmp_path, "--progress", "off"]
    code, out, err = run_cli([*args, "--mode", "classify", "--label-from-name", "{label}_{speaker}_{take}"], capsys)
    assert code == 0, err
    assert "| model | params | accuracy | macro_f1 |" in out
    code, _, err = run_cli([*args[:2], "forecast", *args[3:], "--mode", "classify"], capsys)
    assert_user_error(code, err, "--mode is an option of --task speech")
