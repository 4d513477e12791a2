"""``lstmkit inspect gates | attention`` on a tiny trained run."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit.inspect
from lstmkit.cli import main
from lstmkit.tasks.forecast.estimator import Forecaster
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread, module fixtures too)


@pytest.fixture(scope="module")
def run_and_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("inspect")
    t = np.arange(120)
    path = root / "s.csv"
    pd.DataFrame({"y": np.sin(t / 4.0) + 0.01 * t, "x": np.cos(t / 7.0)}).to_csv(path, index=False)
    est = Forecaster(lookback=10, hidden_size=8, num_layers=2, max_epochs=1, progress="off",
                     tensorboard=False, model="lstm-attention")
    est.fit(str(path), target="y", features="x", run_dir=root / "run")
    return root / "run", path


def test_inspect_gates_writes_plot_and_json(run_and_data, capsys):
    run, data = run_and_data
    main(["inspect", "gates", "--run", str(run), "--data", str(data), "--window", "3"])
    assert (run / "plots" / "gates.png").is_file()
    info = json.loads((run / "gates.json").read_text())
    assert info["window_start"] == 3 and info["lookback"] == 10 and info["layers"] == 2
    assert set(info["stats"]) == {"l0", "l1"}
    assert 0 <= info["stats"]["l1"]["f"]["frac_above_0.9"] <= 1
    assert "wrote" in capsys.readouterr().out


def test_inspect_attention_writes_plot(run_and_data, capsys):
    run, data = run_and_data
    main(["inspect", "attention", "--run", str(run), "--data", str(data)])
    assert (run / "plots" / "attention.png").is_file()
    assert "attends most to" in capsys.readouterr().out


def test_gates_and_attention_of_a_read_only_run_go_to_out(run_and_data, tmp_path, capsys, monkeypatch):
    """A deployed model's folder is read-only: --out DIR takes the files (DIR is created), the run
    is left as it was, and without --out the refusal names --out before any work."""
    import shutil

    from catalogue_helpers import read_only
    good, data = run_and_data
    run, out = tmp_path / "ro" / "run", tmp_path / "out" / "inspect"
    shutil.copytree(good, run)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with read_only(run, monkeypatch):
        main(["inspect", "gates", "--run", str(run), "--data", str(data), "--window", "2", "--out", str(out)])
        said = capsys.readouterr().out
        main(["inspect", "attention", "--run", str(run), "--data", str(data), "--out", str(out)])
        with pytest.raises(SystemExit) as e:
            main(["inspect", "attention", "--run", str(run), "--data", str(data)])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: cannot write the attention files to {run / 'plots'}") and "pass --out" in err, err
    assert sorted(p.name for p in out.iterdir()) == ["attention.png", "gates.json", "gates.png"]
    assert json.loads((out / "gates.json").read_text())["window_start"] == 2
    assert f"wrote {out / 'gates.png'} and {out / 'gates.json'}" in said
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("command", ["gates", "attention"])
def test_out_that_is_a_file_is_refused_in_one_line(run_and_data, tmp_path, capsys, command):
    run, data = run_and_data
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me")
    for out in (taken, taken / "sub"):
        with pytest.raises(SystemExit) as e:
            main(["inspect", command, "--run", str(run), "--data", str(data), "--out", str(out)])
        assert e.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err == f"error: --out {taken} is a file, not a folder — pass a folder for --out (it is created " \
                      "when missing)", err
    assert taken.read_text() == "keep me"


def test_window_out_of_range_is_one_line_exit_2(run_and_data, capsys):
    run, data = run_and_data
    with pytest.raises(SystemExit) as e:
        main(["inspect", "gates", "--run", str(run), "--data", str(data), "--window", "999"])
    assert e.value.code == 2
    assert "out of range" in capsys.readouterr().err


def test_python_api_on_the_estimator(run_and_data):
    import lstmkit.inspect
    run, _ = run_and_data
    est = Forecaster.load(run)
    x = np.random.default_rng(0).random((10, 2)).astype(np.float32)
    assert lstmkit.inspect.gates(est, x)["gates"]["i"].shape == (2, 1, 10, 8)
    w = lstmkit.inspect.attention(est, x)
    assert w.shape == (1, 1, 10, 10) and torch.allclose(w.sum(-1), torch.ones(1, 1, 10))


def test_a_run_whose_estimator_has_no_model_inputs_is_refused(tmp_path, monkeypatch, capsys):
    import lstmkit.inspect.cli as inspect_cli
    from lstmkit.runs import FORMAT_VERSION, write_json
    write_json(tmp_path / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": "lm", "status": "finished"})
    monkeypatch.setattr(inspect_cli, "load", lambda run: object())
    with pytest.raises(SystemExit) as e:
        main(["inspect", "gates", "--run", str(tmp_path), "--data", str(tmp_path / "x.csv")])
    assert e.value.code == 2
    assert "this is a lm run" in capsys.readouterr().err


def test_gates_of_a_text_classifier_and_a_language_model_read_a_text(tmp_path, capsys):
    """--text: the gates over a text's tokens (before, 'inspect does not support classify runs')."""
    from cli_helpers import assert_user_error, run_cli
    import lstmkit.inspect
    from lstmkit import LanguageModel, TextClassifier
    texts = [f"{w} film number {i}" for i, w in enumerate(["good", "bad", "fine", "dull"] * 6)]
    clf = TextClassifier(max_epochs=1, hidden_size=4, embed_dim=4, progress="off", tensorboard=False)
    clf.fit(pd.DataFrame({"text": texts, "label": ["pos", "neg"] * 12}), run_dir=tmp_path / "clf")
    lm = LanguageModel(max_epochs=1, hidden_size=4, progress="off", tensorboard=False)
    lm.fit(texts, run_dir=tmp_path / "lm")
    for run, est, tokens in ((tmp_path / "clf", clf, ["good", "film", "number", "3"]),
                             (tmp_path / "lm", lm, ["<s>", *"good film number 3"])):
        code, out, err = run_cli(["inspect", "gates", "--run", run, "--text", "good film number 3"], capsys)
        assert code == 0, err
        info = json.loads((run / "gates.json").read_text())
        assert info["tokens"] == tokens and (run / "plots" / "gates.png").is_file()
        direct = lstmkit.inspect.gates(est, torch.tensor(est.token_inputs("good film number 3")[1]))
        assert {g: s["mean"] for g, s in info["stats"]["l0"].items()} == pytest.approx(
            {g: s["mean"] for g, s in direct["stats"]["l0"].items()}) and direct["gates"]["i"].shape[2] == len(tokens)
    for words, what in ((["--text", "  "], "the text is empty"), ([], "pass either --data"),
                        (["--data", tmp_path / "x.csv"], "this is a classify run")):
        assert_user_error(*run_cli(["inspect", "gates", "--run", tmp_path / "clf", *words], capsys)[::2], what)


def test_text_on_a_forecast_run_asks_for_data(run_and_data, capsys):
    from cli_helpers import assert_user_error, run_cli
    run, data = run_and_data
    code, _, err = run_cli(["inspect", "gates", "--run", run, "--text", "hello"], capsys)
    assert_user_error(code, err, "forecast run", "pass --data")


@pytest.mark.parametrize("top", ["0", "-3"])
def test_top_below_one_is_one_line_before_any_work(run_and_data, capsys, top):
    """--top 0 drew an empty legend, -3 all units but three; both are errors now, before the run is read."""
    from cli_helpers import assert_user_error, run_cli
    run, data = run_and_data
    before = (run / "gates.json").read_bytes() if (run / "gates.json").exists() else None
    code, _, err = run_cli(["inspect", "gates", "--run", run, "--data", data, "--top", top], capsys)
    assert_user_error(code, err, "--top", "at least 1")
    assert ((run / "gates.json").read_bytes() if (run / "gates.json").exists() else None) == before


def test_attention_of_a_model_without_it_names_the_runs_model(run_and_data, tmp_path):
    import lstmkit.inspect
    from lstmkit.errors import LstmkitError
    _, data = run_and_data
    est = Forecaster(lookback=10, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, model="gru",
                     ensemble=1)
    est.fit(str(data), target="y", run_dir=tmp_path / "run")
    with pytest.raises(LstmkitError, match=r"the model \(gru\) has no self-attention layer.*--model lstm-attention"):
        lstmkit.inspect.attention(est, np.zeros((10, 1), np.float32))


def test_gates_of_a_seed_ensemble_say_they_are_its_first_members(run_and_data, tmp_path, capsys):
    """An ensemble's gates were its first member's with nothing saying so."""
    import lstmkit.inspect
    from cli_helpers import run_cli
    _, data = run_and_data
    est = Forecaster(lookback=10, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, ensemble=2,
                     doctor=False)
    est.fit(str(data), target="y", run_dir=tmp_path / "run")
    code, out, err = run_cli(["inspect", "gates", "--run", tmp_path / "run", "--data", data], capsys)
    assert code == 0, err
    info = json.loads((tmp_path / "run" / "gates.json").read_text())
    assert info["member"] == 0 and info["members"] == 2 and "gates of the first of 2 ensemble members" in out
    window = est.model_inputs(str(data))[-10:]
    first = lstmkit.inspect.gates(est.net_.members[0], window)["stats"]["l0"]["f"]["mean"]
    second = lstmkit.inspect.gates(est.net_.members[1], window)["stats"]["l0"]["f"]["mean"]
    assert info["stats"]["l0"]["f"]["mean"] == pytest.approx(first) and first != pytest.approx(second)


def test_runs_inspect_cannot_show_are_not_sent_from_data_to_text_and_back(tmp_path, capsys):
    """A numeric-sequence classifier was told 'pass --text' for --data and 'pass --data' for --text;
    a language model's attention was sent to 'lstmkit classify attention'."""
    from cli_helpers import assert_user_error, run_cli
    from lstmkit import LanguageModel, SequenceClassifier
    quick = dict(hidden_size=4, max_epochs=1, progress="off", tensorboard=False, doctor=False)
    seqs = [(s * np.linspace(0, 1, 10))[:, None] for s in (1, -1) * 10]
    SequenceClassifier(**quick, model="lstm").fit(seqs, ["up", "down"] * 10, run_dir=tmp_path / "series")
    LanguageModel(**quick, level="char").fit(["abcdefgh"] * 20, run_dir=tmp_path / "lm")
    for flag, value in (("--data", tmp_path / "x.csv"), ("--text", "ab")):
        code, _, err = run_cli(["inspect", "gates", "--run", tmp_path / "series", flag, value], capsys)
        assert_user_error(code, err, "classify run of numeric sequences", "lstmkit.inspect.gates(lstmkit.load(")
        assert "pass --text" not in err and "pass --data" not in err
    code, _, err = run_cli(["inspect", "attention", "--run", tmp_path / "lm", "--data", tmp_path / "x.csv"], capsys)
    assert_user_error(code, err, "this is a lm run", "a lm run's are not shown yet")
    assert "classify attention" not in err


def test_gates_of_a_model_without_an_lstm_name_the_runs_model(run_and_data, tmp_path):
    import lstmkit.inspect
    from lstmkit.errors import LstmkitError
    _, data = run_and_data
    est = Forecaster(lookback=10, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, model="tcn",
                     ensemble=1, doctor=False)
    est.fit(str(data), target="y", run_dir=tmp_path / "run")
    with pytest.raises(LstmkitError, match=r"the model \(tcn\) has no LSTM layer.*lstm-fcn"):
        lstmkit.inspect.gates(est, np.zeros((10, 1), np.float32))


@pytest.fixture(scope="module")
def seq2seq_runs(tmp_path_factory):
    """A one-epoch translator and a one-epoch CTC speech run on generated data (seconds)."""
    from speech_data import write_manifest
    from translate_data import TINY, make_pairs
    from lstmkit import SpeechRecognizer, Translator
    root = tmp_path_factory.mktemp("seq2seq")
    Translator(**{**TINY, "max_epochs": 1}).fit(make_pairs(60), run_dir=root / "translate")
    manifest = write_manifest(root / "audio", 8, seed=1)
    SpeechRecognizer(hidden_size=6, num_layers=1, channels=8, n_mels=20, subsample=1, max_epochs=1, val_frac=0.25,
                     progress="off", tensorboard=False, doctor=False).fit(manifest, run_dir=root / "speech")
    return root / "translate", root / "speech", root / "audio" / "wavs" / "manifest_0.wav"


def _flat(stats: dict) -> dict:
    return {(layer, gate, key): v for layer, gates in stats.items() for gate, s in gates.items() for key, v in s.items()}


def test_gates_of_a_translator_read_the_source_and_its_translation(seq2seq_runs, capsys):
    """--text on a translate run (before: 'a translate run's are not shown yet'): the encoder's gates
    over the source's tokens, the decoder's over the greedy translation, both as the model computes them."""
    from cli_helpers import run_cli
    from lstmkit import Translator
    from lstmkit.inspect.gates import decoder_gates
    run = seq2seq_runs[0]
    code, out, err = run_cli(["inspect", "gates", "--run", run, "--text", "red dog runs ."], capsys)
    assert code == 0, err
    assert (run / "plots" / "gates.png").is_file() and (run / "plots" / "decoder_gates.png").is_file()
    info = json.loads((run / "gates.json").read_text())
    est = Translator.load(run)
    tokens, ids = est.token_inputs("red dog runs .")
    pieces, out_ids = est.output_tokens("red dog runs .")
    assert info["tokens"] == tokens == ["red", "dog", "runs", "."] and info["decoder"]["tokens"] == pieces
    encoder, decoder = lstmkit.inspect.gates(est, torch.tensor(ids)), decoder_gates(est, torch.tensor(ids), out_ids)
    assert _flat(info["stats"]) == pytest.approx(_flat(encoder["stats"])) and set(info["stats"]) == {"l0", "l0_reverse"}
    assert _flat(info["decoder"]["stats"]) == pytest.approx(_flat(decoder["stats"]))
    assert "encoder l0_reverse" in out and "decoder l0" in out and "decoder_gates.png" in out


def test_gates_of_a_speech_run_read_a_recording(seq2seq_runs, capsys):
    from cli_helpers import run_cli
    from lstmkit import SpeechRecognizer
    _, run, wav = seq2seq_runs
    code, out, err = run_cli(["inspect", "gates", "--run", run, "--audio", wav], capsys)
    assert code == 0, err
    assert (run / "plots" / "gates.png").is_file() and f"wrote {run / 'plots' / 'gates.png'}" in out
    info = json.loads((run / "gates.json").read_text())
    est = SpeechRecognizer.load(run)
    x = est.audio_inputs(wav)
    direct = lstmkit.inspect.gates(est, x, torch.tensor([len(x)]))
    assert info["feature_frames"] == len(x) and info["frames"] == direct["gates"]["i"].shape[2] == (len(x) - 3) // 2 + 1
    assert _flat(info["stats"]) == pytest.approx(_flat(direct["stats"])) and info["hidden_size"] == 6


def test_gates_of_translate_and_speech_runs_refuse_bad_input_in_one_line(seq2seq_runs, tmp_path, capsys):
    import soundfile as sf
    from cli_helpers import assert_user_error, run_cli
    translate, speech, wav = seq2seq_runs
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 8000, subtype="PCM_16")
    sf.write(tmp_path / "short.wav", np.zeros(80, np.float32), 8000, subtype="PCM_16")          # 10 ms
    for run, words, what in (
            (translate, [], ["pass either --data", "--audio"]),
            (translate, ["--text", "  "], ["the text is empty"]),
            (translate, ["--audio", wav], ["this is a translate run", "pass --text"]),
            (translate, ["--text", "red", "--audio", wav], ["--text and --audio, not both"]),
            (speech, ["--text", "ab"], ["this is a speech run", "pass --audio"]),
            (speech, ["--data", tmp_path / "x.csv"], ["this is a speech run", "pass --audio"]),
            (speech, ["--audio", tmp_path / "empty.wav"], ["empty.wav holds no audio samples"]),
            (speech, ["--audio", tmp_path / "short.wav"], ["short.wav is too short"]),
            (speech, ["--audio", tmp_path / "missing.wav"], ["missing.wav"])):
        assert_user_error(*run_cli(["inspect", "gates", "--run", run, *words], capsys)[::2], *what)
    code, _, err = run_cli(["inspect", "attention", "--run", translate, "--data", tmp_path / "x.csv"], capsys)
    assert_user_error(code, err, "this is a translate run", "plots/attention.png", ".attention(")


def test_words_outside_the_vocabulary_are_named_and_g_shares_are_of_its_size(tmp_path, capsys):
    """The gates of a word the run never saw are <unk>'s, plotted under the word as written with no
    word said; and the table's '<0.1' for the tanh gate g counted every negative value (79% 'closed')."""
    from cli_helpers import run_cli
    from lstmkit import TextClassifier
    texts = [f"{w} film" for w in ["good", "bad", "fine", "dull"] * 6]
    TextClassifier(max_epochs=1, hidden_size=4, embed_dim=4, progress="off", tensorboard=False).fit(
        pd.DataFrame({"text": texts, "label": ["pos", "neg"] * 12}), run_dir=tmp_path / "clf")
    code, out, err = run_cli(["inspect", "gates", "--run", tmp_path / "clf", "--text", "good zzz film"], capsys)
    assert code == 0, err
    info = json.loads((tmp_path / "clf" / "gates.json").read_text())
    assert info["tokens"] == ["good", "zzz", "film"] and info["unknown"] == [1]
    assert "1 of 3 tokens are not in the run's vocabulary ('zzz'): the network read <unk> for them" in out
    g = info["stats"]["l0"]["g"]
    row = next(line.split() for line in out.splitlines() if line.startswith("l0 ") and "|g|" in line)
    assert [float(v) for v in row[2:]] == pytest.approx([g["mean"], g["frac_abs_above_0.9"], g["frac_abs_below_0.1"]],
                                                        abs=5e-4)


def test_ctrl_c_among_the_gates_files_leaves_no_json_of_another_input(run_and_data, tmp_path, capsys, monkeypatch):
    """Ctrl-C after gates.png was written (a translator's decoder pass, a long input's plot) left the
    former gates.json, of another window, beside the new plot. gates.json goes first now and comes last."""
    import lstmkit.inspect.cli as inspect_cli
    run, data = run_and_data
    out = tmp_path / "g"
    main(["inspect", "gates", "--run", str(run), "--data", str(data), "--window", "3", "--out", str(out)])
    assert json.loads((out / "gates.json").read_text())["window_start"] == 3

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(inspect_cli, "write_json", ctrl_c)
    with pytest.raises(SystemExit) as e:
        main(["inspect", "gates", "--run", str(run), "--data", str(data), "--window", "5", "--out", str(out)])
    assert e.value.code == 130 and "interrupted" in capsys.readouterr().err
    assert (out / "gates.png").is_file() and not (out / "gates.json").exists()
