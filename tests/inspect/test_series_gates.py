"""``lstmkit inspect gates | attention --data`` of a ``classify train --series`` run (it was refused), and an
LSTM-FCN's gates drawn over what its LSTM steps over: the variables (the "dimension shuffle")."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from cli_helpers import assert_user_error, run_cli
from lstmkit import SequenceClassifier
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread, module fixtures too)

QUICK = dict(hidden_size=4, max_epochs=1, progress="off", tensorboard=False, doctor=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A UCR file of 12 one-variable series of 16 steps, a long table of 9 three-variable samples of 10
    steps, and tiny runs on them (seconds)."""
    root = tmp_path_factory.mktemp("series_gates")
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 16)
    ucr = root / "s_TRAIN.tsv"
    ucr.write_text("".join(f"{k % 2}\t" + "\t".join(f"{v:.4f}" for v in (np.sin(6 * t) if k % 2 else t)
                                                     + 0.1 * rng.standard_normal(16)) + "\n" for k in range(12)))
    rows = [dict(sample=f"s{k}", t=step, temp=step / 10 * (k % 3), hum=np.cos(step), wind=rng.standard_normal(),
                 label=["up", "down", "flat"][k % 3]) for k in range(9) for step in range(10)]
    long = root / "long.csv"
    pd.DataFrame(rows).to_csv(long, index=False)
    made = {}
    for name, data, extra in (("lstm", ucr, dict(model="lstm")), ("ds", ucr, dict(model="lstm-fcn-ds")),
                              ("ds-long", long, dict(model="lstm-fcn-ds")),
                              ("ds-crop", ucr, dict(model="lstm-fcn-ds", crop=0.75)),
                              ("transformer", ucr, dict(model="transformer"))):
        made[name] = root / name
        SequenceClassifier(**QUICK, **extra).fit(str(data), run_dir=made[name])
    return made, ucr, long


def _drawn(monkeypatch) -> list:
    """The figures inspect's plots draw, each written as before."""
    import lstmkit.inspect.plots as plots
    figures, save = [], plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (figures.append(fig), save(fig, path, **kw)))
    return figures


def test_gates_of_a_sequence_classifier_record_the_sequence_asked_for(runs, tmp_path, capsys, monkeypatch):
    """--window K picks the K-th sequence of --data (it was refused as a forecast run's option): the gates are
    those of its 16 time steps, as lstmkit.inspect.gates records them of the scaled sequence, and
    gates.json and the title name the sequence and its label."""
    import lstmkit
    made, ucr, _ = runs
    figures = _drawn(monkeypatch)
    code, out, err = run_cli(["inspect", "gates", "--run", made["lstm"], "--data", ucr, "--window", "3",
                              "--out", tmp_path / "g"], capsys)
    assert code == 0, err
    info = json.loads((tmp_path / "g" / "gates.json").read_text())
    assert (info["window"], info["sequences"], info["label"]) == (3, 12, "1") and "steps_over" not in info
    est = lstmkit.load(made["lstm"])
    x = est.scaler_.transform(est.read(str(ucr)).seqs[3])
    direct = lstmkit.inspect.gates(est, x)
    assert direct["gates"]["f"].shape[2] == 16
    assert info["stats"]["l0"]["f"]["mean"] == pytest.approx(direct["stats"]["l0"]["f"]["mean"])
    fig = figures[0]
    assert fig._suptitle.get_text() == "lstm: gates for sequence 4 of 12 (labelled '1')"
    assert fig.axes[0].get_xlabel() == "time step" and fig.axes[0].get_xlim()[1] == pytest.approx(15.5)
    code, _, err = run_cli(["inspect", "gates", "--run", made["lstm"], "--data", ucr, "--window", "12"], capsys)
    assert_user_error(code, err, "--window 12 is out of range for the 12 sequences", "use 0..11 or -1..-12")


def test_an_lstm_fcns_gates_are_drawn_over_its_variables_each_step_reading_every_time_point(
        runs, tmp_path, capsys, monkeypatch):
    """lstm-fcn-ds reads a sequence with time and features swapped: its LSTM takes one step per variable, each
    reading all the time points. Its heatmaps were drawn over 'time step' 0, the one step of a one-variable
    series; they are drawn over the variables, named, and the axis and title say what a step reads."""
    made, _, long = runs
    figures = _drawn(monkeypatch)
    code, out, err = run_cli(["inspect", "gates", "--run", made["ds-long"], "--data", long, "--window", "-1",
                              "--out", tmp_path / "g"], capsys)
    assert code == 0, err
    info = json.loads((tmp_path / "g" / "gates.json").read_text())
    assert info["steps_over"] == "variables" and info["time_points"] == [0, 9]
    assert (info["sample"], info["label"]) == ("s8", "flat")
    fig = figures[0]
    heat, trajectory = fig.axes[0], next(ax for ax in fig.axes if ax.get_title() == "layer 0: c")
    for ax in (heat, trajectory):
        assert [t.get_text() for t in ax.get_xticklabels()] == ["temp", "hum", "wind"]
        assert ax.get_xlabel() == "variable (each step reads\n10 time points at once)"
    assert heat.images[0].get_array().shape == (4, 3)                        # 4 units × 3 steps
    title = fig._suptitle.get_text()
    assert title.startswith("lstm-fcn-ds: gates for sample 's8' (labelled 'flat')\nits LSTM steps over the 3 "
                            "variables (dimension shuffle), each step reading time points 0–9 at once"), title


def test_the_gates_of_an_lstm_fcn_are_those_of_its_lstm_run_over_the_swapped_sequence(runs):
    """What gates records of lstm-fcn-ds is its LSTM run over the sequence transposed, [F, T]: the last
    step's hidden state is what the net's LSTM answers of it; Python's plot says 'variable' unasked."""
    import lstmkit
    made, _, long = runs
    est = lstmkit.load(made["ds-long"])
    x = est.scaler_.transform(est.read(str(long)).seqs[0]).astype(np.float32)             # [10, 3]
    result = lstmkit.inspect.gates(est, x)
    assert result["steps_over"] == "variables" and result["step_reads"] == 10
    with torch.no_grad():
        h, (h_n, c_n) = est.net_.lstm(torch.from_numpy(x.T[None].copy()))            # [1, 3, 4]: 3 steps
    assert result["gates"]["c"][0, 0, -1].numpy() == pytest.approx(c_n[0, 0].numpy(), abs=1e-5)


def test_lstm_window_names_the_time_points_the_lstm_reads(runs, tmp_path, capsys, monkeypatch):
    """With crop 0.75 the net's LSTM reads windows of 12 of 16 time points, the first of the 5 it averages at
    the start (the one of one window in the middle); a shorter sequence is read with zeros after it."""
    import lstmkit
    from lstmkit.nn.fcn import LSTMFCNNet
    made, ucr, _ = runs
    assert lstmkit.load(made["ds-crop"]).net_.lstm_window(16) == (0, 12)
    one = LSTMFCNNet(2, n_features=1, steps=16, crop=0.75, crops=1)
    assert one.lstm_window(16) == (2, 12)
    assert LSTMFCNNet(2, n_features=1, steps=16).lstm_window(10) == (0, 10)
    figures = _drawn(monkeypatch)
    code, _, err = run_cli(["inspect", "gates", "--run", made["ds-crop"], "--data", ucr, "--out", tmp_path], capsys)
    assert code == 0, err
    assert figures[0]._suptitle.get_text().endswith(
        "each step reading time points 0–11 at once (the first window of 75 % of the sequence of the 5 it averages)")


def test_models_without_gates_are_refused_saying_how_they_read_and_their_attention_is_drawn(runs, tmp_path, capsys):
    """A transformer has no gates: the refusal says it reads its steps by self-attention and names the
    series classifier's own LSTM-FCN among the models that have them; its attention is drawn for the sequence."""
    made, ucr, _ = runs
    code, _, err = run_cli(["inspect", "gates", "--run", made["transformer"], "--data", ucr], capsys)
    assert_user_error(code, err, "the model (transformer) has no LSTM or GRU layer (it reads the steps by "
                      "self-attention, all at once)", "lstm-fcn, lstm-fcn-ds, gru or bigru")
    assert "inspect attention" in err
    code, out, err = run_cli(["inspect", "attention", "--run", made["transformer"], "--data", ucr, "--window", "0",
                              "--out", tmp_path], capsys)
    assert code == 0 and (tmp_path / "attention.png").is_file(), err
    assert "the last step attends most to steps" in out
