"""``lstmkit inspect gates | attention`` on a tiny trained run."""
from __future__ import annotations

import json
import re
from pathlib import Path

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


def _titles(monkeypatch) -> list:
    """The titles inspect attention gives its figures, each drawn as before."""
    import importlib
    drawn = importlib.import_module("lstmkit.inspect.attention")      # the module (the package's name is its function)
    titles, plot = [], drawn.plot_attention
    monkeypatch.setattr(drawn, "plot_attention", lambda w, path, **kw: (titles.append(kw["title"]), plot(w, path, **kw)))
    return titles


def test_inspect_attention_writes_plot(run_and_data, capsys, monkeypatch):
    run, data = run_and_data
    titles = _titles(monkeypatch)
    main(["inspect", "attention", "--run", str(run), "--data", str(data)])
    assert (run / "plots" / "attention.png").is_file()
    assert "attends most to" in capsys.readouterr().out
    assert titles[0].startswith("lstm-attention: attention") and "(layer" not in titles[0]   # one layer: no number


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


@pytest.mark.parametrize("command, name, files", [("gates", "gates.svg", "gates.png and gates.json go"),
                                                  ("attention", "view.png", "attention.png goes")])
def test_out_that_names_a_file_is_refused_before_any_work(run_and_data, tmp_path, capsys, command, name, files):
    """--out x.svg made a folder named 'x.svg' and wrote a PNG inside it."""
    from cli_helpers import assert_user_error, run_cli
    run, data = run_and_data
    code, _, err = run_cli(["inspect", command, "--run", run, "--data", data, "--out", tmp_path / name], capsys)
    assert_user_error(code, err, f"names a file, but {command} writes a folder: {files} inside it",
                      f"pass a folder: --out {tmp_path / name.rsplit('.', 1)[0]}")
    assert list(tmp_path.iterdir()) == []


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
        by_text = lstmkit.inspect.gates(est, "good film number 3")["gates"]      # the text itself: its tokens
        assert all(torch.equal(by_text[g], direct["gates"][g]) for g in by_text)
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
    a language model's attention was sent to 'lstmkit classify attention'. In Python a table of the
    sequences was read as one sequence's steps (torch's shape error): it is refused, naming the scaling."""
    from cli_helpers import assert_user_error, run_cli
    from lstmkit import LanguageModel, SequenceClassifier
    quick = dict(hidden_size=4, max_epochs=1, progress="off", tensorboard=False, doctor=False)
    seqs = [(s * np.linspace(0, 1, 10))[:, None] for s in (1, -1) * 10]
    series = SequenceClassifier(**quick, model="lstm").fit(seqs, ["up", "down"] * 10, run_dir=tmp_path / "series")
    LanguageModel(**quick, level="char").fit(["abcdefgh"] * 20, run_dir=tmp_path / "lm")
    code, _, err = run_cli(["inspect", "gates", "--run", tmp_path / "series", "--text", "ab"], capsys)
    assert_user_error(code, err, "classify run of numeric sequences", "pass --data with the run's data instead")
    assert "pass --text" not in err
    steps = np.linspace(0, 1, 10)[:, None]           # what the hint says works; a table of samples is refused
    assert lstmkit.inspect.gates(series, series.scaler_.transform(steps))["gates"]["i"].shape[2] == 10
    with pytest.raises(Exception, match=r"got a DataFrame — pass one sequence's steps .*scaler_\.transform") as e:
        lstmkit.inspect.gates(series, pd.DataFrame(np.vstack([s.ravel() for s in seqs])))
    assert type(e.value).__name__ == "LstmkitError"
    code, _, err = run_cli(["inspect", "attention", "--run", tmp_path / "lm", "--data", tmp_path / "x.csv"], capsys)
    assert_user_error(code, err, "this is a lm run", "pass --text '…' instead: lstmkit inspect attention --run")
    assert "classify attention" not in err


def test_gates_of_a_model_without_an_lstm_name_the_runs_model(run_and_data, tmp_path):
    import lstmkit.inspect
    from lstmkit.errors import LstmkitError
    _, data = run_and_data
    est = Forecaster(lookback=10, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, model="tcn",
                     ensemble=1, doctor=False)
    est.fit(str(data), target="y", run_dir=tmp_path / "run")
    with pytest.raises(LstmkitError, match=r"the model \(tcn\) has no LSTM or GRU layer.*gru or bigru"):
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


def test_gates_of_a_gru_run_record_its_reset_update_and_candidate(run_and_data, tmp_path, capsys):
    """A gru forecast run's `inspect gates` said 'the model (gru) has no LSTM layer'; it records r, z,
    n and h, gates.json says the cell, and the table names n as the tanh candidate."""
    _, data = run_and_data
    est = Forecaster(lookback=10, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, model="gru",
                     ensemble=1, doctor=False)
    est.fit(str(data), target="y", features="x", run_dir=tmp_path / "gru")
    main(["inspect", "gates", "--run", str(tmp_path / "gru"), "--data", str(data)])
    info = json.loads((tmp_path / "gru" / "gates.json").read_text())
    assert info["cell"] == "gru" and set(info["stats"]["l0"]) == {"r", "z", "n", "h"}
    out = capsys.readouterr().out
    assert "|n|" in out and "the tanh candidate n is in [-1, 1]" in out and "|g|" not in out
    assert (tmp_path / "gru" / "plots" / "gates.png").is_file()


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


def test_gates_of_a_speech_run_read_a_recording(seq2seq_runs, capsys, monkeypatch):
    """(the plot's axis read 'time step' 0, 1, 2 …: each step is now named by the second its frame starts
    at, a frame every 20 ms after --subsample 1 of 10 ms hops)"""
    import lstmkit.inspect.plots as plots
    from cli_helpers import run_cli
    from lstmkit import SpeechRecognizer
    _, run, wav = seq2seq_runs
    figures, save = [], plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (figures.append(fig), save(fig, path, **kw)))
    code, out, err = run_cli(["inspect", "gates", "--run", run, "--audio", wav], capsys)
    assert code == 0, err
    assert (run / "plots" / "gates.png").is_file() and f"wrote {run / 'plots' / 'gates.png'}" in out
    info = json.loads((run / "gates.json").read_text())
    est = SpeechRecognizer.load(run)
    x = est.audio_inputs(wav)
    direct = lstmkit.inspect.gates(est, x, torch.tensor([len(x)]))
    assert info["feature_frames"] == len(x) and info["frames"] == direct["gates"]["i"].shape[2] == (len(x) - 3) // 2 + 1
    assert _flat(info["stats"]) == pytest.approx(_flat(direct["stats"])) and info["hidden_size"] == 6
    heat = figures[0].axes[0]
    assert heat.get_xlabel() == "seconds (a frame every 20 ms)"
    ticks = [int(t) for t in heat.get_xticks()]                     # of more frames than fit, every k-th named
    every = ticks[1] - ticks[0]
    assert ticks == list(range(0, info["frames"], every))
    assert [t.get_text() for t in heat.get_xticklabels()] == [f"{j * 0.02:.2f}" for j in ticks]


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


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory):
    """A forecaster of three daily series with a series embedding (lstm-attention, reading the window two
    rows a step: --segment 2), and one series' rows."""
    root = tmp_path_factory.mktemp("panel")
    t = np.arange(60)
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    frame = pd.concat([pd.DataFrame({"day": days, "id": sid, "y": amp * np.sin(t / 4.0) + 10})
                       for sid, amp in (("a", 1.0), ("b", 5.0), ("c", -3.0))])
    frame.to_csv(root / "panel.csv", index=False)
    frame[frame.id == "c"].to_csv(root / "c.csv", index=False)
    est = Forecaster(lookback=8, hidden_size=6, max_epochs=1, progress="off", tensorboard=False, seed=0,
                     model="lstm-attention", id="id", id_embedding=3, time="day", segment=2, ensemble=2)
    est.fit(str(root / "panel.csv"), target="y", run_dir=root / "run")
    return root / "run", root / "c.csv"


def _lstm_input_of_series(est, x, sid):
    """What the forecaster's LSTM reads of window ``x`` [L, C] of series ``sid``: the rows with its embedding."""
    lstm, seen = lstmkit.nn.zoo.find_lstm(est.net_), {}
    handle = lstm.register_forward_pre_hook(lambda _m, args: seen.setdefault("x", args[0]))
    with torch.no_grad():
        est.net_.eval()(torch.as_tensor(x)[None], None, torch.tensor([est.series_ids_.index(sid)]))
    handle.remove()
    return lstm, seen["x"]


def test_gates_and_attention_of_a_panel_run_read_the_embedding_of_the_windows_series(panel_run, capsys):
    """The LSTM of a run with --id-embedding reads each window with its series' embedding: the gates
    and attention of series 'c' were those of series 'a' (index 0), whatever --data held."""
    import lstmkit.nn.zoo
    from lstmkit.errors import LstmkitError
    from lstmkit.inspect.gates import gate_statistics
    from lstmkit.loading import load
    run, data = panel_run
    main(["inspect", "gates", "--run", str(run), "--data", str(data)])
    main(["inspect", "attention", "--run", str(run), "--data", str(data)])
    info = json.loads((run / "gates.json").read_text())
    est = load(run)
    x = est.model_inputs(str(data))[-8:]
    lstm, lstm_in = _lstm_input_of_series(est, x, "c")
    _, _, by_hand = lstm(lstm_in, record_gates=True)
    expected = gate_statistics(by_hand, lstm.num_layers, lstm.num_directions)
    for gate in ("i", "f", "g", "o"):
        assert info["stats"]["l0"][gate]["mean"] == pytest.approx(expected["l0"][gate]["mean"], abs=1e-6)
    assert info["series"] == "c"
    api = lstmkit.inspect.gates(est, x, series="c")["gates"]["f"]
    assert torch.allclose(api, by_hand["f"], atol=1e-6)
    weights = lstmkit.inspect.attention(est, x, series="c")
    other = lstmkit.inspect.attention(est, x, series="a")
    assert not torch.allclose(weights, other)
    with pytest.raises(LstmkitError, match="which series is the window from.*series=ID"):
        lstmkit.inspect.gates(est, x)
    with pytest.warns(UserWarning, match=r"series 'C' is not one this forecaster was trained on \('a', 'b', 'c'\)"):
        lstmkit.inspect.gates(est, x, series="C")


def test_gates_and_attention_of_a_window_name_its_steps_by_their_time_stamps(panel_run, monkeypatch, capsys):
    """The plots' step axis read 'time step' 0, 1, 2, 3 and the title 'the window starting at row 52' (of
    the series sorted by time, not the file's row); with --segment 2 the network reads the 8-row window
    in 4 steps of 2 rows, drawn as if they were its first 4 rows. Each step is now named by its
    (first) row's time stamp, the axis says what a step is, and the title gives the window's dates."""
    import lstmkit.inspect.plots as plots
    figures = []
    save = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (figures.append(fig), save(fig, path, **kw)))
    run, data = panel_run
    main(["inspect", "gates", "--run", str(run), "--data", str(data), "--window", "3"])
    main(["inspect", "attention", "--run", str(run), "--data", str(data), "--window", "3"])
    steps = ["2024-01-04", "2024-01-06", "2024-01-08", "2024-01-10"]       # rows 3, 5, 7, 9: each step's first
    gate_axes, attention_axes = figures[0].axes[0], figures[1].axes[0]
    assert gate_axes.images[0].get_array().shape[1] == 4
    assert [t.get_text() for t in gate_axes.get_xticklabels()] == steps
    assert gate_axes.get_xlabel().startswith("segment of 2 rows")
    assert [t.get_text() for t in attention_axes.get_xticklabels()] == steps
    assert [t.get_text() for t in attention_axes.get_yticklabels()] == steps
    assert attention_axes.get_ylabel().startswith("query segment of 2 rows")
    for fig in figures:
        assert "2024-01-04 to 2024-01-11 (rows 3–10 of series 'c')" in fig.get_suptitle()
    assert "attention of the first of 2 ensemble members for" in figures[1].get_suptitle()     # as gates says it
    assert json.loads((run / "gates.json").read_text())["window_times"] == ["2024-01-04", "2024-01-11"]
    out = capsys.readouterr().out.splitlines()
    assert "(2024-01-" in out[-2] and out[-3] == "attention of the first of 2 ensemble members (the others differ by " \
        "their initial weights)"


def test_a_translators_source_words_outside_the_vocabulary_are_named_as_written(seq2seq_runs, capsys):
    """The encoder's gates of a source word the run never saw were plotted under '<unk>' with no word
    said (the classifier's plot named it 'zzz (<unk>)' and said so)."""
    from cli_helpers import run_cli
    run = seq2seq_runs[0]
    code, out, err = run_cli(["inspect", "gates", "--run", run, "--text", "red zebra runs ."], capsys)
    assert code == 0, err
    info = json.loads((run / "gates.json").read_text())
    assert info["tokens"] == ["red", "zebra", "runs", "."] and info["unknown"] == [1]
    assert "1 of 4 tokens are not in the run's vocabulary ('zebra')" in out


def test_a_character_models_spaces_are_named_on_the_gates_axis(tmp_path, monkeypatch, capsys):
    """A character language model reads the spaces too: their columns' names on the axis were blank."""
    import lstmkit.inspect.plots as plots
    from cli_helpers import run_cli
    from lstmkit import LanguageModel
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: figures.append(fig))
    LanguageModel(level="char", max_epochs=1, hidden_size=4, num_layers=1, progress="off", tensorboard=False).fit(
        ["a cat sat", "a bat sat"] * 4, run_dir=tmp_path / "lm")
    code, out, err = run_cli(["inspect", "gates", "--run", tmp_path / "lm", "--text", "a cat"], capsys)
    assert code == 0, err
    assert [t.get_text() for t in figures[-1].axes[0].get_xticklabels()] == ["<s>", "a", "␣", "c", "a", "t"]
    assert json.loads((tmp_path / "lm" / "gates.json").read_text())["tokens"] == ["<s>", *"a cat"]


def test_the_loss_curves_name_the_loss_each_task_trains_on(tmp_path, monkeypatch):
    """Every run's loss.png read 'loss (scaled units)', a forecaster's words, on a classifier's
    cross-entropy and a language model's cross-entropy per token too."""
    import lstmkit.inspect.plots as plots
    from lstmkit import LanguageModel, TextClassifier
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: figures.append((Path(path).name, fig)))
    TextClassifier(max_epochs=1, hidden_size=4, embed_dim=4, progress="off", tensorboard=False).fit(
        pd.DataFrame({"text": ["good film", "bad film"] * 6, "label": ["pos", "neg"] * 6}), run_dir=tmp_path / "clf")
    LanguageModel(level="char", max_epochs=1, hidden_size=4, num_layers=1, progress="off", tensorboard=False).fit(
        ["a cat sat"] * 8, run_dir=tmp_path / "lm")
    labels = [fig.axes[0].get_ylabel() for name, fig in figures if name == "loss.png"]
    assert labels == ["cross-entropy (nats)", "cross-entropy per token (nats)"]


def test_window_time_stamps_are_written_as_short_as_they_can_be_told_apart():
    from lstmkit.inspect.cli import _stamps
    assert _stamps(pd.date_range("2024-03-30", periods=2, freq="D")) == ["2024-03-30", "2024-03-31"]
    assert _stamps(pd.date_range("2024-03-30 23:00", periods=2, freq="h", tz="Europe/Berlin")) == [
        "2024-03-30 23:00", "2024-03-31 00:00"]
    assert _stamps(pd.date_range("2024-03-30", periods=3, freq="500ms")) == [
        "2024-03-30 00:00:00", "2024-03-30 00:00:00.5", "2024-03-30 00:00:01"]
    assert _stamps(np.array([1990, 1991])) == ["1990", "1991"]
    assert _stamps(pd.date_range("2024-03-30 23:59:50", periods=2, freq="10s")) == [
        "2024-03-30 23:59:50", "2024-03-31 00:00:00"]


def test_a_text_longer_than_max_len_says_which_part_the_gates_read(tmp_path, capsys):
    """A classifier reads max_len tokens of a text (by default its first and last halves): the gates'
    columns ran from the first half on into the last with nothing saying a part was left out."""
    from cli_helpers import run_cli
    from lstmkit import TextClassifier
    est = TextClassifier(max_epochs=1, hidden_size=4, embed_dim=4, max_len=3, progress="off", tensorboard=False,
                         doctor=False)
    est.fit(pd.DataFrame({"text": ["good film", "bad film"] * 6, "label": ["pos", "neg"] * 6}), run_dir=tmp_path / "clf")
    text = "good film bad film good"
    code, out, err = run_cli(["inspect", "gates", "--run", tmp_path / "clf", "--text", text], capsys)
    assert code == 0, err
    assert ("the text has 5 tokens, more than the run's max_len=3: the network reads its first 2 and its last 1, "
            "side by side (truncate='both')") in err
    assert json.loads((tmp_path / "clf" / "gates.json").read_text())["tokens"] == ["good", "film", "good"]
    est.config_.truncate = "tail"
    with pytest.warns(UserWarning, match=r"reads its last 3 \(truncate='tail'\)"):
        assert est.token_inputs(text)[0] == ["bad", "film", "good"]


def test_the_python_api_reads_a_forecasters_data_as_the_command_line_does(run_and_data):
    """gates(est, df) and attention(est, df) were torch's "can't convert np.ndarray of type
    numpy.object_": a forecaster's data (a DataFrame or a file) is its last window, as --data reads it."""
    from lstmkit.errors import LstmkitError
    run, data = run_and_data
    est = Forecaster.load(run)
    window = est.model_inputs(str(data))[-10:]
    want = lstmkit.inspect.gates(est, window)["gates"]
    for given in (pd.read_csv(data), str(data), data):
        got = lstmkit.inspect.gates(est, given)["gates"]
        assert all(torch.equal(got[g], want[g]) for g in want)
        assert torch.equal(lstmkit.inspect.attention(est, given), lstmkit.inspect.attention(est, window))
    with pytest.raises(LstmkitError, match=r"`x` must be the numbers .*got a list of <U1 values.*model_inputs"):
        lstmkit.inspect.gates(est, [["a", "b"]])
    with pytest.raises(LstmkitError, match="fewer than the model's lookback"):
        lstmkit.inspect.gates(est, pd.read_csv(data).head(5))


def test_the_python_api_reads_a_forecasters_plain_series_as_predict_does(run_and_data):
    """gates(est, y) with the 1-D array predict(y) reads was torch's IndexError ('too many indices for
    tensor of dimension 1') from the forecaster's head: it is the series' last window now, and a
    series without the model's covariates is the reader's one-line error."""
    from lstmkit.errors import LstmkitError
    y = np.sin(np.arange(60) / 4.0)
    est = Forecaster(lookback=8, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, doctor=False).fit(y)
    want = lstmkit.inspect.gates(est, est.model_inputs(pd.Series(y))[-8:])["gates"]
    for given in (y, list(y), pd.Series(y)):
        got = lstmkit.inspect.gates(est, given)["gates"]
        assert all(torch.equal(got[g], want[g]) for g in want)
    with pytest.raises(LstmkitError):
        lstmkit.inspect.gates(Forecaster.load(run_and_data[0]), y)


def test_a_transformers_attention_is_shown_layer_by_layer(run_and_data, tmp_path, capsys, monkeypatch):
    """inspect attention refused a transformer run ('has no self-attention layer'); it draws the
    last layer's weights, or --layer's, as lstmkit.inspect.attention(est, x, layer=) returns them."""
    from cli_helpers import assert_user_error, run_cli
    _, data = run_and_data
    est = Forecaster(lookback=10, hidden_size=8, num_layers=2, max_epochs=1, progress="off", tensorboard=False,
                     model="transformer", ensemble=1, doctor=False)
    est.fit(str(data), target="y", run_dir=tmp_path / "run")
    window = est.model_inputs(str(data))[-10:]
    first, last = (lstmkit.inspect.attention(est, window, layer=k) for k in (0, -1))
    assert first.shape == last.shape and first.shape[::2] == (1, 10) and not torch.equal(first, last)
    said = {}
    for layer, weights in (("0", first), ("-1", last)):
        code, said[layer], err = run_cli(["inspect", "attention", "--run", tmp_path / "run", "--data", data,
                                          "--layer", layer, "--out", tmp_path / f"a{layer}"], capsys)
        assert code == 0, err
        assert (tmp_path / f"a{layer}" / "attention.png").is_file()
        top = int(weights[0, :, -1].mean(0).argmax())
        assert f"the last step attends most to steps {top} (" in said[layer]
        # the five steps the last step weighs most, heaviest first (of its 10), and one model: no ensemble named
        row = weights[0, :, -1].mean(0)
        listed = re.findall(r"(\d+) \(", said[layer].split("attends most to steps ")[1].splitlines()[0])
        assert [int(t) for t in listed] == sorted(range(10), key=lambda t: -float(row[t]))[:5]
        assert "ensemble members" not in said[layer]
    titles = _titles(monkeypatch)
    code, by_default, err = run_cli(["inspect", "attention", "--run", tmp_path / "run", "--data", data, "--out",
                                     tmp_path / "a"], capsys)       # without --layer: the last layer's
    assert code == 0 and said["0"] != said["-1"], err
    assert by_default.replace(str(tmp_path / "a"), "OUT") == said["-1"].replace(str(tmp_path / "a-1"), "OUT")
    assert_user_error(*run_cli(["inspect", "attention", "--run", tmp_path / "run", "--data", data, "--layer", "2",
                                "--out", tmp_path / "a2"], capsys)[::2], "--layer 2 is out of range", "0..1")
    # counted from the end as Python counts: -2 of 2 layers is the first, -3 is none
    code, from_the_end, err = run_cli(["inspect", "attention", "--run", tmp_path / "run", "--data", data, "--layer",
                                       "-2", "--out", tmp_path / "a0"], capsys)
    assert code == 0 and from_the_end == said["0"], err
    assert [t.split(":")[0] for t in titles] == ["transformer (layer 2 of 2)", "transformer (layer 1 of 2)"]
    assert_user_error(*run_cli(["inspect", "attention", "--run", tmp_path / "run", "--data", data, "--layer", "-3",
                                "--out", tmp_path / "a3"], capsys)[::2], "--layer -3 is out of range", "-1..-2")


def test_a_text_models_attention_reads_a_text(tmp_path, capsys):
    """A text classifier's lstm-attention or transformer had no view of its attention: `inspect attention`
    took --data only, `classify attention` refused all but attention pooling, and lstmkit.inspect.attention
    on its token ids was an IndexError. --text now draws it over the tokens, as attention(est, text) returns it."""
    from cli_helpers import assert_user_error, run_cli
    from lstmkit import TextClassifier
    texts = [f"{w} film number {i}" for i, w in enumerate(["good", "bad", "fine", "dull"] * 6)]
    frame = pd.DataFrame({"text": texts, "label": ["pos", "neg"] * 12})
    for model, pooling in (("lstm-attention", "max"), ("transformer", "max"), ("lstm", "attention")):
        est = TextClassifier(model=model, pooling=pooling, max_epochs=1, hidden_size=4, embed_dim=4, num_layers=2,
                             progress="off", tensorboard=False, seed=0).fit(frame, run_dir=tmp_path / model)
        args = ["inspect", "attention", "--run", tmp_path / model, "--text", "good film number 3"]
        if model == "lstm":
            assert_user_error(*run_cli(args, capsys)[::2], "the model (lstm) has no self-attention layer",
                              "lstmkit classify attention --run")
            continue
        weights = lstmkit.inspect.attention(est, "good film number 3")
        ids = torch.tensor(est.token_inputs("good film number 3")[1])
        assert weights.shape[::2] == (1, 4) and torch.equal(weights, lstmkit.inspect.attention(est, ids))
        torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
        code, out, err = run_cli(args, capsys)
        assert code == 0, err
        assert (tmp_path / model / "plots" / "attention.png").is_file()
        top = int(weights[0, :, -1].mean(0).argmax())
        assert f"attends most to steps {top} ({['good', 'film', 'number', '3'][top]!r}, " in out
    assert_user_error(*run_cli(["inspect", "attention", "--run", tmp_path / "transformer"], capsys)[::2],
                      "pass either --data", "--text", "or --audio")


def test_a_speech_models_gates_and_attention_read_a_recording(tmp_path, capsys, monkeypatch):
    """lstmkit.inspect.gates(est, est.audio_inputs(clip)) was a TypeError (the acoustic model's
    forward takes the lengths); the clip's path does as --audio does now, and `inspect attention
    --audio` draws an lstm-attention speech model's attention (it took --data alone), over the model's
    own frames, each named by the second it starts at (its axes read 'step' 0, 1, 2 …, no time, and
    said nothing of the subsampling between feature frames and the frames attended over)."""
    import lstmkit.inspect.plots as plots
    from cli_helpers import assert_user_error, run_cli
    from lstmkit import SpeechRecognizer
    from speech_data import write_manifest
    manifest = write_manifest(tmp_path, 6, seed=1)
    clip = tmp_path / "wavs" / "manifest_0.wav"
    est = SpeechRecognizer(model="lstm-attention", hidden_size=8, num_layers=1, channels=4, n_mels=20, subsample=1,
                           max_epochs=1, batch_size=8, progress="off", tensorboard=False, doctor=False, seed=0,
                           ).fit(manifest, run_dir=tmp_path / "run")
    feats = est.audio_inputs(clip)
    frames = torch.tensor([len(feats)])
    want = lstmkit.inspect.gates(est, feats, frames)["gates"]
    for given in (feats, clip, str(clip)):
        got = lstmkit.inspect.gates(est, given)["gates"]
        assert all(torch.equal(got[g], want[g]) for g in want)
    weights = lstmkit.inspect.attention(est, clip)
    assert torch.equal(weights, lstmkit.inspect.attention(est, feats, frames))
    assert weights.shape[2] == weights.shape[3] == want["i"].shape[2]
    figures, save = [], plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (figures.append(fig), save(fig, path, **kw)))
    code, out, err = run_cli(["inspect", "attention", "--run", tmp_path / "run", "--audio", clip], capsys)
    assert code == 0, err
    assert (tmp_path / "run" / "plots" / "attention.png").is_file() and "the last frame attends most to frames" in out
    n = weights.shape[-1]                       # the model's frames: 20 ms apart after --subsample 1 of 10 ms hops
    named = re.findall(r"(\d+) \((\d+\.\d\d) s, 0\.\d\d\)", out.split("attends most to frames")[1])
    assert n < len(feats) and named and all(s == f"{int(k) * 0.02:.2f}" for k, s in named)
    head = figures[0].axes[0]
    assert head.get_xlabel() == "key frame (s) (attended to)" and head.get_ylabel() == "query frame (s)"
    for labels, ticks in ((head.get_xticklabels(), head.get_xticks()), (head.get_yticklabels(), head.get_yticks())):
        assert [t.get_text() for t in labels] == [f"{int(j) * 0.02:.2f}" for j in ticks] and max(ticks) < n
    assert f"({n} frames 20 ms apart, of {len(feats)} feature frames)" in figures[0].get_suptitle()
    assert_user_error(*run_cli(["inspect", "attention", "--run", tmp_path / "run", "--text", "ab"], capsys)[::2],
                      "this is a speech run", "pass --audio instead: lstmkit inspect attention --run")


def test_classify_attention_of_a_self_attention_model_without_attention_pooling_names_inspect_attention(tmp_path,
                                                                                                        capsys):
    """'this model pools with max, so it has no attention weights' of an lstm-attention text model sent the
    user to retrain; its encoder's own attention is shown by inspect attention --text."""
    from cli_helpers import assert_user_error, run_cli
    from lstmkit import TextClassifier
    from lstmkit.errors import LstmkitError
    texts = [f"{w} film number {i}" for i, w in enumerate(["good", "bad", "fine", "dull"] * 6)]
    est = TextClassifier(model="lstm-attention", pooling="max", max_epochs=1, hidden_size=4, embed_dim=4,
                         progress="off", tensorboard=False, seed=0).fit(
        pd.DataFrame({"text": texts, "label": ["pos", "neg"] * 12}), run_dir=tmp_path / "run")
    assert_user_error(*run_cli(["classify", "attention", "--run", tmp_path / "run", "--text", "good film"],
                               capsys)[::2], "no attention-pooling weights", "--pooling attention",
                      f"lstmkit inspect attention --run {tmp_path / 'run'} --text")
    with pytest.raises(LstmkitError, match=r"lstmkit\.inspect\.attention\(model, text\)"):
        est.attention("good film")


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


def test_a_long_texts_plot_says_it_goes_on(tmp_path, capsys, monkeypatch):
    """A 60-word sentence's gate plot was titled "gates for 'the film , which runs for well over two '",
    as if the text stopped there."""
    from cli_helpers import run_cli
    import lstmkit.inspect.plots as plots
    from lstmkit import TextClassifier
    from lstmkit.inspect.cli import _quoted
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: figures.append(fig))
    texts = [f"{w} film number {i}" for i, w in enumerate(["good", "bad", "fine", "dull"] * 6)]
    TextClassifier(max_epochs=1, hidden_size=4, embed_dim=4, progress="off", tensorboard=False).fit(
        pd.DataFrame({"text": texts, "label": ["pos", "neg"] * 12}), run_dir=tmp_path / "clf")
    long = " ".join(["good film number", "bad"] * 15)                       # 60 words
    code, _, err = run_cli(["inspect", "gates", "--run", tmp_path / "clf", "--text", long], capsys)
    assert code == 0, err
    assert figures[-1].get_suptitle().endswith(f"gates for '{long[:40].rstrip()}…'")
    assert _quoted("good  film") == "'good film'" and _quoted("x" * 41) == f"'{'x' * 40}…'"


def test_a_window_is_any_of_the_datas_counted_from_either_end(run_and_data, tmp_path, capsys, monkeypatch):
    """120 rows, lookback 10: 111 windows, 0..110 from the start and -1..-111 from the end; one past
    either end is refused in one line (exit 2), as is data shorter than one window, while data of
    exactly one window is read; without --window the gates are of the last window."""
    from cli_helpers import assert_user_error, run_cli
    from lstmkit.inspect.cli import run_window
    run, data = run_and_data
    assert [run_window(run, data, w).start for w in (110, -111, -1, 0)] == [110, 0, 110, 0]
    for window in ("111", "-112"):
        assert_user_error(*run_cli(["inspect", "gates", "--run", run, "--data", data, "--window", window],
                                   capsys)[::2], f"--window {window} is out of range for 111 windows",
                          "use 0..110 or -1..-111")
    for rows in (10, 9):
        pd.DataFrame({"y": np.arange(rows, dtype=float), "x": np.ones(rows)}).to_csv(tmp_path / f"{rows}.csv",
                                                                                   index=False)
    assert run_window(run, tmp_path / "10.csv", -1).x.shape == (10, 2)
    assert_user_error(*run_cli(["inspect", "gates", "--run", run, "--data", tmp_path / "9.csv"], capsys)[::2],
                      "the data has 9 rows, fewer than the lookback (10)", "pass more rows")
    import lstmkit.inspect.plots as plots
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: figures.append(fig))
    code, out, err = run_cli(["inspect", "gates", "--run", run, "--data", data, "--top", "1", "--out",
                              tmp_path / "g"], capsys)
    assert code == 0, err
    title = figures[-1].get_suptitle()                  # the run's model, the window's rows
    assert title.startswith("lstm-attention: gates") and title.endswith("for the window of rows 110–119"), title
    info = json.loads((tmp_path / "g" / "gates.json").read_text())
    assert info["window_start"] == 110 and "series" not in info          # one series: none named


@pytest.mark.parametrize("command", ["gates", "attention"])
def test_two_or_three_inputs_are_refused_naming_them(run_and_data, tmp_path, capsys, command):
    """One input a command: --data with --text (or all three) is refused before the run is read."""
    from cli_helpers import assert_user_error, run_cli
    run, data = run_and_data
    base = ["inspect", command, "--run", tmp_path / "no-run", "--data", data, "--text", "a film"]
    assert_user_error(*run_cli(base, capsys)[::2], "pass one of --data and --text, not both")
    assert_user_error(*run_cli([*base, "--audio", tmp_path / "a.wav"], capsys)[::2],
                      "pass one of --data, --text and --audio, not all three")


def test_titles_quote_a_text_of_40_characters_whole_and_name_white_space_tokens():
    from lstmkit.inspect.cli import _quoted, _visible
    assert _quoted("x" * 40) == f"'{'x' * 40}'" and _quoted("x" * 39 + " y") == f"'{'x' * 39}…'"
    assert [_visible(t) for t in (" ", "\n", "\t\t", "  ", "a b", "\r")] == ["␣", "↵", "⇥⇥", "␣␣", "a b", "␣"]


def test_a_language_models_text_of_unknown_characters_only_is_refused(tmp_path):
    """A language model's tokens start with <s>, which it knows: a text whose every character is outside
    its vocabulary is refused as a classifier's is (its gates would be those of <unk> at every step), a
    text with one known character is read."""
    from lstmkit import LanguageModel
    from lstmkit.errors import LstmkitError
    from lstmkit.inspect.cli import text_tokens
    LanguageModel(level="char", max_epochs=1, hidden_size=4, num_layers=1, progress="off", tensorboard=False,
                  doctor=False).fit(["a cat sat", "a bat sat"] * 4, run_dir=tmp_path / "lm")
    with pytest.raises(LstmkitError, match=r"none of the tokens of --text is in the run's vocabulary \('z', 'q'\)"):
        text_tokens(tmp_path / "lm", "zqz")
    assert text_tokens(tmp_path / "lm", "za")[1] == ["<s>", "z", "a"]


def test_a_windows_steps_are_named_by_their_time_stamps_a_segment_by_its_first_rows():
    """Rows 5-7 of a series: each step named by its stamp; with segment 2 the network reads 2 rows a step,
    each named by its first row's; without stamps, the steps are rows of the window; a series is named
    only when the run was trained on several."""
    from types import SimpleNamespace

    from lstmkit.inspect.cli import Window, window_steps
    one = SimpleNamespace(config_=SimpleNamespace(segment=None))
    stamps = ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert window_steps(Window(one, np.zeros((3, 1)), 5, "s1", stamps)) == (
        stamps, "time", "the window 2024-01-01 to 2024-01-03 (rows 5–7)")
    assert window_steps(Window(one, np.zeros((3, 1)), 5, None, None)) == (
        None, "time step (row of the window)", "the window of rows 5–7")
    panel = SimpleNamespace(config_=SimpleNamespace(segment=2), series_ids_=["s1", "s2"])
    assert window_steps(Window(panel, np.zeros((3, 1)), 5, "s1", stamps)) == (
        ["2024-01-01", "2024-01-03"], "segment of 2 rows (its first row's time)",
        "the window 2024-01-01 to 2024-01-03 (rows 5–7 of series 's1')")
    assert window_steps(Window(panel, np.zeros((3, 1)), 0, "s1", None))[:2] == (None, "segment of 2 rows")


@pytest.mark.parametrize("hop_ms, subsample, ms, names", [(10, 0, 10, ["0.00", "0.01", "0.02"]),
                                                          (10, 1, 20, ["0.00", "0.02", "0.04"]),
                                                          (10, 3, 80, ["0.00", "0.08", "0.16"]),
                                                          (12.5, 4, 200, ["0.00", "0.20", "0.40"])])
def test_a_speech_models_frame_spans_two_to_the_subsample_feature_hops(hop_ms, subsample, ms, names):
    """Each stride-2 conv layer halves the frames: after 3 of them a frame spans 2³ = 8 hops of 10 ms, 80 ms
    (2 x 3 would be 60), after none one hop; frame k starts at k x that, named in seconds."""
    from types import SimpleNamespace

    from lstmkit.inspect.cli import model_frames
    est = SimpleNamespace(config_=SimpleNamespace(hop_ms=hop_ms, subsample=subsample))
    assert model_frames(est, 3) == (names, ms)


@pytest.mark.parametrize("command", ["gates", "attention"])
@pytest.mark.parametrize("given", [["--text", "a good film"], ["--audio", "clip.wav"]])
def test_a_window_beside_a_text_or_a_recording_is_refused_before_the_run_is_read(command, given, tmp_path, capsys):
    """--window picks a window of --data; beside --text it was ignored, the whole text's gates written as if
    the third window had been read."""
    from cli_helpers import assert_user_error, run_cli
    code, _, err = run_cli(["inspect", command, "--run", tmp_path / "no-run", *given, "--window", "3"], capsys)
    assert_user_error(code, err, f"--window 3 picks a window of --data (a forecast run's); {given[0]} is one input",
                      "drop --window")


@pytest.fixture(scope="module")
def speech_attention_runs(tmp_path_factory):
    """A one-epoch seq2seq recogniser and a one-epoch spoken-word classifier with attention pooling, on
    generated clips (seconds), and a clip."""
    from lstmkit.tasks.speech.synthetic import tiny_run
    root = tmp_path_factory.mktemp("speech_attention")
    small = dict(n=8, max_epochs=1, hidden_size=6, channels=4, n_mels=16)
    s2s = tiny_run(root / "s2s", mode="seq2seq", **small)
    pooled = tiny_run(root / "pooled", mode="classify", pooling="attention", **small)
    return s2s, pooled, sorted((root / "s2s").rglob("*.wav"))[0]


def test_a_speech_runs_attention_without_self_attention_is_its_decoders_or_its_poolings(
        speech_attention_runs, seq2seq_runs, tmp_path, capsys):
    """inspect attention --audio of a seq2seq run draws its decoder's attention, of a classifier its attention
    pooling's weights: RUN/plots/attention.png, or --out's attention.png (a read-only run's plots folder refused
    before any work); a CTC run without self-attention has none to show."""
    from cli_helpers import assert_user_error, run_cli
    s2s, pooled, wav = speech_attention_runs
    for run, said in ((s2s, f"the decoder's attention over {wav.name}'s frames, a row per character it wrote"),
                      (pooled, f"the attention pooling's weights over {wav.name}'s frames")):
        (run / "plots" / "attention.png").unlink(missing_ok=True)
        code, out, err = run_cli(["inspect", "attention", "--run", run, "--audio", wav], capsys)
        assert code == 0, err
        assert out.splitlines() == [said, f"wrote {run / 'plots' / 'attention.png'}"]
        assert (run / "plots" / "attention.png").is_file() and not (run / "attention.png").exists()
        out_dir = tmp_path / run.name
        code, out, err = run_cli(["inspect", "attention", "--run", run, "--audio", wav, "--out", out_dir], capsys)
        assert code == 0 and out.splitlines()[-1] == f"wrote {out_dir / 'attention.png'}", err
        assert [p.name for p in out_dir.iterdir()] == ["attention.png"]
    _, ctc, _ = seq2seq_runs
    assert_user_error(*run_cli(["inspect", "attention", "--run", ctc, "--audio", wav], capsys)[::2],
                      "has no self-attention layer", "--model lstm-attention")


def test_gates_of_a_seq2seq_recogniser_add_its_decoder_writing_the_characters(speech_attention_runs, tmp_path,
                                                                              capsys, monkeypatch):
    """inspect gates --audio of a seq2seq run: the encoder's gates over the frames and the decoder's over the
    characters it writes (its </s> a step of the plot, not a character of the title's transcript)."""
    import lstmkit.inspect.plots as plots
    from cli_helpers import run_cli
    s2s, pooled, wav = speech_attention_runs
    chars, ids = lstmkit.load(s2s).output_chars(wav)
    assert len(ids) == len(chars) > 0
    figures, save = [], plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (figures.append(fig), save(fig, path, **kw)))
    code, out, err = run_cli(["inspect", "gates", "--run", s2s, "--audio", wav, "--out", tmp_path], capsys)
    assert code == 0, err
    assert out.splitlines()[-1] == (f"wrote {tmp_path / 'gates.png'}, {tmp_path / 'decoder_gates.png'} and "
                                    f"{tmp_path / 'gates.json'}")
    assert "encoder l0" in out and "decoder l0" in out
    record = json.loads((tmp_path / "gates.json").read_text())
    assert record["decoder"]["tokens"] == chars and record["audio"] == str(wav)
    encoder, decoder = figures
    assert ": encoder gates for " in encoder.get_suptitle()
    written = "".join(c for c in chars if c != "</s>")
    assert decoder.get_suptitle() == f"decoder gates writing '{written}' for {wav.name}"
    assert decoder.axes[0].get_xlabel() == "character written"
    figures.clear()
    code, out, err = run_cli(["inspect", "gates", "--run", pooled, "--audio", wav, "--out", tmp_path / "c"], capsys)
    assert code == 0 and len(figures) == 1 and "decoder" not in out, err      # a classifier has no decoder
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["gates.json", "gates.png"]


def _run_top_read_only(run: Path, monkeypatch) -> None:
    """The run folder itself cannot be written, its plots folder can (as inspect's write check finds them)."""
    import lstmkit.inspect.cli as inspect_cli
    from lstmkit.errors import EnvironmentProblem
    real = inspect_cli.check_writable

    def top_read_only(folder, what, fix=None):
        if Path(folder) == run:
            raise EnvironmentProblem(f"cannot write {what} to {folder}: read-only", fix)
        real(folder, what, fix)

    monkeypatch.setattr(inspect_cli, "check_writable", top_read_only)


def test_attention_needs_only_its_plots_folder_writable_gates_the_run_folder_too(
        run_and_data, speech_attention_runs, capsys, monkeypatch):
    """attention writes RUN/plots/attention.png alone (a self-attention model's, a seq2seq recogniser's
    decoder's): a run folder whose top cannot be written (its plots folder can) is no reason to refuse it;
    gates writes RUN/gates.json too, and is refused before any work."""
    from cli_helpers import run_cli
    run, data = run_and_data
    s2s, _, wav = speech_attention_runs
    for folder, given in ((run, ["--data", data]), (s2s, ["--audio", wav])):
        _run_top_read_only(folder, monkeypatch)
        (folder / "plots" / "attention.png").unlink(missing_ok=True)
        code, out, err = run_cli(["inspect", "attention", "--run", folder, *given], capsys)
        assert code == 0 and (folder / "plots" / "attention.png").is_file(), err
    before = (run / "gates.json").read_bytes() if (run / "gates.json").exists() else None
    code, _, err = run_cli(["inspect", "gates", "--run", run, "--data", data, "--window", "0"], capsys)
    assert code == 1 and err.startswith(f"error: cannot write the gates files to {run}:"), err
    assert ((run / "gates.json").read_bytes() if (run / "gates.json").exists() else None) == before


def test_attention_of_a_text_model_without_attention_pooling_asks_for_a_self_attention_model(tmp_path, capsys):
    """Only a run with attention pooling is sent to 'classify attention'; an lstm that pools with max has
    no attention of any kind: it is told to train a self-attention model."""
    from cli_helpers import assert_user_error, run_cli
    from lstmkit import TextClassifier
    texts = [f"{w} film number {i}" for i, w in enumerate(["good", "bad", "fine", "dull"] * 6)]
    TextClassifier(model="lstm", pooling="max", max_epochs=1, hidden_size=4, embed_dim=4, progress="off",
                   tensorboard=False, seed=0).fit(pd.DataFrame({"text": texts, "label": ["pos", "neg"] * 12}),
                                                  run_dir=tmp_path / "run")
    code, _, err = run_cli(["inspect", "attention", "--run", tmp_path / "run", "--text", "good film"], capsys)
    assert_user_error(code, err, "the model (lstm) has no self-attention layer",
                      "train with --model lstm-attention or --model transformer")
    assert "classify attention" not in err


def test_attention_out_naming_a_file_says_only_its_plot_goes_in_the_folder(run_and_data, tmp_path, capsys):
    """inspect attention writes attention.png alone (no JSON): --out a.png is refused naming that one file."""
    from cli_helpers import assert_user_error, run_cli
    run, data = run_and_data
    assert_user_error(*run_cli(["inspect", "attention", "--run", run, "--data", data, "--out", tmp_path / "a.png"],
                               capsys)[::2], "attention writes a folder: attention.png goes inside it",
                      f"--out {tmp_path / 'a'}")
    assert not (tmp_path / "a.png").exists()


def test_a_zoned_runs_window_is_named_in_its_zone(tmp_path):
    """A run trained on Europe/Berlin times named its window's steps in UTC without saying so: the window
    ending at the file's last row, 2016-11-07T00:00:00+01:00, ended at '2016-11-06 23:00' in gates.json."""
    from lstmkit.inspect.cli import _stamps
    t = pd.date_range("2016-10-28 00:00", periods=240, freq="h", tz="UTC").tz_convert("Europe/Berlin")
    path = tmp_path / "zoned.csv"
    pd.DataFrame({"time": [s.isoformat() for s in t], "y": np.sin(np.arange(240) / 4.0)}).to_csv(path, index=False)
    Forecaster(lookback=10, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1, progress="off", tensorboard=False,
               time_zone="Europe/Berlin").fit(str(path), target="y", time="time", run_dir=tmp_path / "run")
    main(["inspect", "gates", "--run", str(tmp_path / "run"), "--data", str(path)])
    info = json.loads((tmp_path / "run" / "gates.json").read_text())
    assert info["window_times"] == ["2016-11-06 15:00", "2016-11-07 00:00"]
    main(["inspect", "gates", "--run", str(tmp_path / "run"), "--data", str(path), "--window", "40"])
    # across the clocks' change, the hour shown twice told apart by its offset
    info = json.loads((tmp_path / "run" / "gates.json").read_text())
    assert info["window_times"] == ["2016-10-29 18:00+02:00", "2016-10-30 02:00+01:00"]
    assert _stamps(pd.date_range("2016-10-30 00:00", periods=3, freq="h", tz="UTC").tz_convert("Europe/Berlin")) == [
        "2016-10-30 02:00+02:00", "2016-10-30 02:00+01:00", "2016-10-30 03:00+01:00"]
