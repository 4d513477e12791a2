import json

import numpy as np
import onnx
import pytest
import torch

pytest.importorskip("onnxruntime")

from forecast_data import sine_frame
from lstmkit.deploy.onnx import check_against_torch, export_onnx, graph_signature
from lstmkit.deploy.onnx_engine import ONNX_FILE, OnnxRunner, load_runner
from lstmkit.tasks.forecast.deploy import ForecastAdapter
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster


def test_export_has_state_io_and_matches_torch_on_new_shapes(onnx_run, abs_forecaster):
    report = json.loads((onnx_run / "onnx.json").read_text())
    assert report["inputs"] == ["x", "h0", "c0"] and report["outputs"] == ["y", "hn", "cn"]
    assert report["max_abs_diff"] < 1e-4
    # every output dimension is a size, or batch where it follows the batch: none keeps the exporter's made-up name
    shapes = {o["name"]: o["shape"] for o in report["signature"]["outputs"]}
    assert shapes["hn"] == shapes["cn"] == [2, "batch", 16] and shapes["y"][0] == "batch"
    assert all(isinstance(d, int) for d in shapes["y"][1:]) and 3 in shapes["y"][1:]          # horizon 3
    runner = load_runner(onnx_run)
    adapter = ForecastAdapter(abs_forecaster)
    graph = adapter.stateful()
    # dynamic batch and length, non-zero state in, state out
    for batch, steps in [(1, 1), (7, 5), (2, 90)]:
        x = adapter.example_inputs(batch, steps, seed=batch)
        h, c = (0.3 * torch.randn(2, batch, 16) for _ in range(2))
        with torch.no_grad():
            ref = graph(x, h, c)
        y, (hn, cn) = runner.run(x.numpy(), [h.numpy(), c.numpy()])
        for got, want in zip((y, hn, cn), ref):
            np.testing.assert_allclose(got, want.numpy(), atol=1e-4)
    assert check_against_torch(runner, graph, adapter, seed=5) < 1e-4


def test_predict_engine_onnx_equals_torch(onnx_run, abs_forecaster, tmp_path):
    csv = tmp_path / "s.csv"
    sine_frame(n=200, seed=3).to_csv(csv, index=False)
    est = Forecaster.load(onnx_run)
    torch_y = est.predict(str(csv), engine="torch")["y"].to_numpy()
    onnx_y = est.predict(str(csv), engine="onnx")["y"].to_numpy()
    np.testing.assert_allclose(onnx_y, torch_y, atol=1e-4)
    with pytest.raises(LstmkitError, match="unknown engine"):
        est.predict(str(csv), engine="tensorrt")


def test_predict_of_a_run_without_a_graph_never_starts_onnx_runtime(rel_forecaster, monkeypatch, tmp_path):
    """The engine 'auto' asks every run for its graph: it imported ONNX Runtime before looking, and
    that import writes a telemetry id under ~/.cache (a read-only home: a warning on each predict)."""
    import lstmkit.deploy.onnx_engine as engine
    from lstmkit.deploy.onnx_engine import resolve_engine
    run = rel_forecaster.run_dir_
    assert not (run / ONNX_FILE).exists()

    def started():
        raise AssertionError("ONNX Runtime was imported for a run with no graph")
    monkeypatch.setattr(engine, "require_onnx", started)
    assert resolve_engine(run) == "torch"
    csv = tmp_path / "s.csv"
    sine_frame(n=200, seed=3).to_csv(csv, index=False)
    assert len(Forecaster.load(run).predict(str(csv))) == 2


def test_a_read_only_cache_prints_no_telemetry_warning(onnx_run, tmp_path):
    """Where ONNX Runtime cannot keep its telemetry id (a read-only home or file system: a container),
    every process that made a session printed "Failed to persist telemetry device ID" on standard
    error: an export, a predict with the ONNX engine. /proc takes no new folder, even from root."""
    import os
    import subprocess
    import sys
    env = {**os.environ, "XDG_CACHE_HOME": "/proc/lstmkit-no-cache", "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("ORT_DISABLE_TELEMETRY", None)
    code = ("import lstmkit, sys; from lstmkit.deploy import export_onnx; export_onnx(sys.argv[1], sys.argv[2]); "
            "lstmkit.load(sys.argv[1]).predict(sys.argv[3], engine='onnx')")
    csv = tmp_path / "s.csv"
    sine_frame(n=200, seed=3).to_csv(csv, index=False)
    done = subprocess.run([sys.executable, "-c", code, str(onnx_run), str(tmp_path / "m.onnx"), str(csv)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "telemetry" not in done.stderr, done.stderr
    assert (tmp_path / "m.onnx").is_file()


@pytest.mark.parametrize("cache, user, expected", [("writable", None, None), ("/proc/lstmkit-no-cache", None, "1"),
                                                   ("/proc/lstmkit-no-cache", "0", "0")])
def test_telemetry_is_turned_off_only_where_its_id_cannot_be_kept(cache, user, expected, tmp_path, monkeypatch):
    import sys

    from lstmkit.deploy.onnx_engine import _no_telemetry_where_unwritable
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path) if cache == "writable" else cache)
    monkeypatch.delitem(sys.modules, "onnxruntime", raising=False)      # as before ONNX Runtime's first import
    if user is None:
        monkeypatch.delenv("ORT_DISABLE_TELEMETRY", raising=False)
    else:
        monkeypatch.setenv("ORT_DISABLE_TELEMETRY", user)
    _no_telemetry_where_unwritable()
    assert __import__("os").environ.get("ORT_DISABLE_TELEMETRY") == expected
    assert not any(tmp_path.iterdir())                  # the probe left nothing in the user's cache


def test_stale_or_missing_graph_is_refused(rel_forecaster, tmp_path):
    run = rel_forecaster.run_dir_
    with pytest.raises(LstmkitError, match="export onnx"):
        load_runner(run)
    out = tmp_path / "elsewhere.onnx"
    export_onnx(run, out)                       # explicit --out: the run folder is untouched
    assert out.is_file() and not (run / ONNX_FILE).exists() and not (run / "onnx.json").exists()
    # its report beside it, as its doc_string says (a graph written elsewhere had none)
    report = json.loads((tmp_path / "elsewhere.onnx.json").read_text())
    assert report["signature"] == graph_signature(out) and report["max_abs_diff"] < 1e-4
    assert "its file name + .json" in onnx.load(out).doc_string
    (run / ONNX_FILE).write_bytes(out.read_bytes())
    load_runner(run)                            # same weights: accepted
    est = Forecaster.load(run)
    with torch.no_grad():
        for p in est.net_.parameters():
            p.add_(0.01)
    stale_run = tmp_path / "stale"
    est.save(stale_run)
    (stale_run / ONNX_FILE).write_bytes(out.read_bytes())
    with pytest.raises(LstmkitError, match="other weights"):
        load_runner(stale_run)
    (run / ONNX_FILE).write_bytes(_foreign_graph())            # was told "exported from other weights"
    with pytest.raises(LstmkitError, match="is not a graph lstmkit exported .* export the run's own"):
        load_runner(run)
    (run / ONNX_FILE).unlink()


def _foreign_graph() -> bytes:
    """A valid ONNX graph another tool wrote (y = relu(x)), without lstmkit's metadata."""
    import onnx
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "foreign", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_engine_auto_passing_over_a_graph_it_cannot_use_says_why(onnx_run, tmp_path):
    """A model.onnx cut short by a copy, exported from other weights (a model updated and saved over its run)
    or another tool's: ``auto`` answered with torch without a word, and the service's engine said "torch"."""
    import shutil
    import warnings
    from lstmkit.deploy.onnx_engine import resolve_engine
    run = shutil.copytree(onnx_run, tmp_path / "run")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_engine(run, "auto") == "onnx"                 # a good graph: used, without a word
        (run / ONNX_FILE).unlink()
        assert resolve_engine(run, "auto") == "torch"                # none exported: torch, without a word
    for graph, why in [((onnx_run / ONNX_FILE).read_bytes()[:3000], "could not load"),
                       (_foreign_graph(), "not a graph lstmkit exported")]:
        (run / ONNX_FILE).write_bytes(graph)
        with pytest.warns(UserWarning, match=f"engine auto answers with torch: .*{why}.* — .*export"):
            assert resolve_engine(run, "auto") == "torch"


def test_engine_auto_with_one_of_a_runs_two_graphs_missing_says_which(onnx_run, tmp_path, monkeypatch):
    """A task of two graphs (a seq2seq model's encoder and decoder) whose run holds only one, say after a
    copy: ``auto`` answers with torch and says which graph is missing, as it does for one stale graph."""
    import shutil
    import warnings

    import lstmkit.deploy.onnx_engine as engine
    run = shutil.copytree(onnx_run, tmp_path / "run")
    monkeypatch.setattr(engine, "graph_files", lambda run: (ONNX_FILE, "decoder.onnx"))
    with pytest.warns(UserWarning, match="engine auto answers with torch: .*has no decoder.onnx"):
        assert engine.resolve_engine(run, "auto") == "torch"
    (run / ONNX_FILE).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert engine.resolve_engine(run, "auto") == "torch"        # none exported: torch, without a word

def test_window_only_encoders_export_without_state(tmp_path):
    est = Forecaster(lookback=12, hidden_size=8, num_layers=1, max_epochs=1, progress="off", tensorboard=False,
                     device="cpu", model="tcn", deseason=0, log=False, highway=0, ensemble=1).fit(sine_frame(n=200), target="y", time="time",
                                                                      out=tmp_path)
    export_onnx(est.run_dir_)
    runner = OnnxRunner(est.run_dir_ / ONNX_FILE)
    assert runner.inputs == ["x"] and runner.state_names == ()
    x = torch.rand(4, 20, 1)
    with torch.no_grad():
        np.testing.assert_allclose(runner.run(x.numpy())[0], est.net_(x).numpy(), atol=1e-4)


def test_a_graph_that_fails_the_check_is_not_written(abs_forecaster, tmp_path, monkeypatch):
    import lstmkit.deploy.onnx as mod
    monkeypatch.setattr(mod, "_against_torch", lambda *a, **k: (1.0, 0.0))
    out = tmp_path / "bad.onnx"
    with pytest.raises(LstmkitError, match="differs from PyTorch"):
        export_onnx(abs_forecaster.run_dir_, out)
    assert list(tmp_path.iterdir()) == []


def _tiny(tmp_path, model, **kw):
    return Forecaster(lookback=12, hidden_size=8, num_layers=1, max_epochs=1, progress="off", tensorboard=False,
                      device="cpu", model=model, deseason=0, log=False, segment=0, highway=0, scaler="minmax",
                      ensemble=1, **kw).fit(sine_frame(n=200), target="y", time="time", out=tmp_path)


def test_gru_exports_h_only_and_streams_from_onnx(tmp_path):
    est = _tiny(tmp_path, "gru", relative=False)
    export_onnx(est.run_dir_)
    assert load_runner(est.run_dir_).inputs == ["x", "h0"]
    obs = sine_frame(n=20)["y"].tolist()
    torch_steps = est.stream(engine="torch").run(obs)
    onnx_stream = est.stream(engine="onnx")
    assert onnx_stream.mode == "state"
    np.testing.assert_allclose(np.array(onnx_stream.run(obs)), np.array(torch_steps), atol=1e-4)


def test_a_history_of_zeros_forecasts_zero_under_onnx_and_the_report_says_the_graph_alone_does_not(
        onnx_run, abs_forecaster):
    """The graph reads one scaled window and cannot tell a history of zeros: the rule is applied
    around it (predict, the stream), and onnx.json lists it among what the graph alone lacks."""
    report = json.loads((onnx_run / "onnx.json").read_text())
    assert any(n.startswith("a target 0 throughout the history given forecasts 0") for n in report["around_graph"])
    assert report["around_graph"][0].startswith("per-series scaling")
    est = Forecaster.load(onnx_run)
    zeros = sine_frame(n=24, seed=3).assign(y=0.0)
    with pytest.warns(UserWarning, match="only zeros in its history"):
        assert (est.predict(zeros, engine="onnx")["y"] == 0).all()
    s = est.stream(engine="onnx")
    answers = s.run([{"y": 0.0, "temp": t} for t in zeros["temp"]])
    assert all((a == 0).all() for a in answers)
    adapter = ForecastAdapter(est)                                                 # the graph alone: not 0
    y = load_runner(onnx_run).run(adapter.encode_rows(zeros[adapter.columns].to_numpy())[None],
                                  [np.zeros((2, 1, 16), np.float32)] * 2)[0]
    assert (adapter.decode(y[0]) != 0).all()


def test_a_classifier_export_shows_torchs_known_notes_to_no_one_and_an_unknown_one_as_ever(tmp_path, capfd,
                                                                                         monkeypatch):
    """`lstmkit export onnx` of a text classifier (packed sequences) printed torch's C++ shape-inference
    warnings on PackPadded and PadPacked, straight to standard error, and only ours belong there."""
    import os

    from lstmkit import TextClassifier
    texts, labels = zip(*[("good film", "pos"), ("bad film", "neg"), ("great plot", "pos"), ("awful", "neg")] * 4)
    run = TextClassifier(hidden_size=4, embed_dim=4, min_freq=1, max_epochs=1, progress="off", tensorboard=False,
                         doctor=False, device="cpu").fit(list(texts), list(labels), out=tmp_path / "runs").run_dir_
    capfd.readouterr()
    export_onnx(run)
    err = capfd.readouterr().err
    assert "PackPadded" not in err and "PadPacked" not in err and "Warning" not in err, err
    real = torch.onnx.export

    def export_saying_more(*args, **kwargs):            # a note torch might add one day: kept
        os.write(2, b"[W shape_type_inference.cpp:1] Warning: something new (function Update)\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", export_saying_more)
    export_onnx(run, tmp_path / "again.onnx")
    err = capfd.readouterr().err
    assert err.count("something new") == 1 and "PackPadded" not in err, err


def test_a_last_step_classifiers_export_keeps_torchs_negative_index_note_to_itself(tmp_path, capfd):
    """Pooling 'last' (a streaming classifier's) printed torch's "If indices include negative values, the
    exported graph will produce incorrect results" at every `export onnx` and `export int8`: its index is a
    length - 1, never negative, and the graph is checked against PyTorch, so the note is torch's to keep."""
    import warnings

    from lstmkit import SequenceClassifier
    x = np.random.default_rng(0).standard_normal((12, 9)).astype(np.float32)
    run = SequenceClassifier(model="gru", pooling="last", hidden_size=4, max_epochs=1, unequal_length=True,
                             progress="off", tensorboard=False, doctor=False, seed=0,
                             ).fit(x, ["a", "b"] * 6, out=tmp_path / "runs").run_dir_
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        export_onnx(run)
    assert not [w for w in said if "advanced indexing" in str(w.message)], [str(w.message) for w in said]
    err = capfd.readouterr().err
    assert "advanced indexing" not in err and "Warning" not in err, err
    report = json.loads((run / "onnx.json").read_text())
    assert report["max_abs_diff"] <= 1e-4


def test_the_check_is_relative_to_the_size_of_the_graphs_outputs(tmp_path):
    """float32 is exact to about 1e-7 of a value: a graph answering in the hundred thousands (a
    forecaster without scaling, a target of large scaled values) differs from PyTorch by more than
    1e-4 and is as right as one answering in units of 1; it was refused as a bug."""
    from lstmkit.deploy.onnx import write_onnx
    est = _tiny(tmp_path, "lstm", relative=False)
    head = [m for m in est.net_.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():                              # the same net, answering 1e5 times larger
        head.weight.mul_(1e5)
        head.bias.mul_(1e5)
    report = write_onnx(ForecastAdapter(est), tmp_path / "big.onnx", fingerprint="")
    assert report["output_scale"] > 1e3 and report["limit"] == pytest.approx(1e-4 * report["output_scale"])
    assert report["max_abs_diff"] <= report["limit"] and report["tolerance"] == 1e-4
    runner = OnnxRunner(tmp_path / "big.onnx")
    x = torch.rand(2, 12, 1)
    with torch.no_grad():
        want = est.net_(x).numpy()
    np.testing.assert_allclose(runner.run(x.numpy(), None)[0], want, rtol=1e-5, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("tolerance", ["1e-3", float("nan"), -1.0, True])
def test_a_tolerance_that_is_no_number_is_refused_before_any_work(abs_forecaster, tmp_path, tolerance):
    """tolerance='1e-3' was a TypeError from the check, NaN a refusal 'report this model configuration as a bug'."""
    with pytest.raises(LstmkitError, match=r"tolerance must be a number >= 0 .*pass e.g. tolerance=0.0001"):
        export_onnx(abs_forecaster.run_dir_, tmp_path / "m.onnx", tolerance=tolerance)
    assert list(tmp_path.iterdir()) == []


def test_the_check_compares_every_output_and_scales_by_the_largest_finite_one():
    """The check's numbers by hand: the difference is the largest over every output (a graph whose
    state outputs drift while y agrees is not exact), the scale the largest finite |value| PyTorch
    gave over every output (an infinite one has no size to be relative to), an empty output adds
    nothing; the limit is tolerance x max(1, scale) and a difference over it is refused."""
    from lstmkit.deploy.onnx import _checked, _compared
    ref = [np.array([[1.0, -2.0]]), np.array([[[0.5, -300.0, np.inf]]]), np.zeros((0, 3))]
    got = [np.array([[1.0, -2.01]], np.float32), np.array([[[0.5, -299.75, np.inf]]], np.float32), np.zeros((0, 3))]
    diff, scale = _compared(got, ref)
    assert diff == pytest.approx(0.25) and scale == 300.0
    assert _compared([np.array([0.3])], [np.array([0.1])]) == pytest.approx((0.2, 0.1))
    # a value both give (an infinity, NaN) agrees, wherever its output comes; one only one side gives does not
    got, ref = [np.array([np.inf, np.nan, 1.0]), np.array([2.0])], [np.array([np.inf, np.nan, 1.5]), np.array([2.0])]
    for order in (1, -1):
        assert _compared(got[::order], ref[::order]) == (0.5, 2.0)
        assert _compared([np.array([np.nan]), *got][::order], [np.array([3.0]), *ref][::order])[0] == np.inf
    assert _checked(lambda: (1.0, 4.0), 0.25) == {"max_abs_diff": 1.0, "output_scale": 4.0, "limit": 1.0}
    assert _checked(lambda: (0.25, 0.5), 0.25)["limit"] == 0.25          # outputs under 1: x 1; at the limit: kept
    for diff, scale in ((1.0 + 2 ** -10, 4.0), (0.25 + 2 ** -10, 0.5), (float("nan"), 1.0)):
        with pytest.raises(LstmkitError, match="differs from PyTorch"):
            _checked(lambda: (diff, scale), 0.25)


def test_a_tolerance_of_zero_is_a_number_the_check_takes(abs_forecaster, tmp_path, monkeypatch):
    """'a number >= 0': zero asks for a graph exactly as PyTorch answers, and is taken as given."""
    import lstmkit.deploy.onnx as mod
    given = []
    monkeypatch.setattr(mod, "_write_staged", lambda run, adapter, path, target, tolerance: given.append(tolerance))
    for tolerance in (0, 0.0):
        export_onnx(abs_forecaster.run_dir_, tmp_path / "m.onnx", tolerance=tolerance)
    assert given == [0, 0.0]
