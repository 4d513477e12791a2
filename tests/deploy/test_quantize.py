import json

import numpy as np
import pytest
import torch

from lstmkit.deploy.quantize import REPORT_FILE, export_int8, quantize_torch
from lstmkit.errors import LstmkitError
from lstmkit.runs import read_meta
from lstmkit.tasks.forecast.estimator import Forecaster

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def int8_run(abs_forecaster, tmp_path_factory):
    out = tmp_path_factory.mktemp("q") / "missing" / "int8"      # --out in a folder not made yet
    return export_int8(abs_forecaster.run_dir_, out, min_seconds=0.02, batch=256)


def test_int8_run_loads_like_any_other_and_is_exact(int8_run, abs_forecaster):
    meta = read_meta(int8_run)
    q = meta["quantization"]
    assert q["dtype"] == "qint8" and q["engine"] in ("torch", "onnx") and q["torch"] and q["onnx"]
    est = Forecaster.load(int8_run)
    assert est.engine_ == q["engine"]
    x = torch.rand(5, abs_forecaster.config_.lookback, 2)
    with torch.no_grad():
        fresh = quantize_torch(abs_forecaster.net_)(x)            # what export quantized
        loaded = est.net_(x)                                        # rebuilt from int8 safetensors
        fp32 = abs_forecaster.net_(x)
    assert torch.equal(fresh, loaded)
    assert (loaded - fp32).abs().max() < 0.05
    # the weights file holds int8 tensors and scales, nothing pickled
    from safetensors.torch import load_file
    tensors = load_file(str(int8_run / "model.safetensors"))
    assert tensors["encoder.rnn.weight_ih_l0"].dtype == torch.int8
    assert "encoder.rnn.weight_ih_l0.__scale" in tensors
    # the epochs that trained the weights, as lstmkit.json's training block (copied with it) says: it had no history_
    assert meta["training"] == read_meta(abs_forecaster.run_dir_)["training"]
    assert est.history_.equals(Forecaster.load(abs_forecaster.run_dir_).history_)


def test_the_int8_run_folder_is_as_readable_as_the_run_it_came_from(int8_run, abs_forecaster):
    """The folder was made by mkdtemp (mode 0700) and renamed into place: a service running as
    another user (a deploy account, a container's) could not read the exported run."""
    import stat
    mode = stat.S_IMODE(int8_run.stat().st_mode)
    assert mode == stat.S_IMODE(abs_forecaster.run_dir_.stat().st_mode) == 0o777 & ~_umask(), oct(mode)


def _umask() -> int:
    import os
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def test_onnx_int8_weights_keep_to_seven_bits(int8_run):
    """Full-range int8 weights overflow the int16 pair sums of CPUs without VNNI (AVX2): the
    graph's answers drifted 50x further from fp32 on an AMD EPYC. Every quantized weight is within
    +-64 (7 bits; full range is +-127), whichever CPU quantized it."""
    import onnx
    from onnx import numpy_helper
    graph = onnx.load(str(int8_run / "model.onnx")).graph
    weights = [numpy_helper.to_array(t) for t in graph.initializer if t.data_type == onnx.TensorProto.INT8]
    largest = [int(np.abs(w.astype(int)).max()) for w in weights if w.size]
    assert largest and max(largest) <= 64 and max(largest) >= 60           # the 7 bits are used, not the 8th


def test_report_has_size_speed_and_metric_change(int8_run):
    r = json.loads((int8_run / REPORT_FILE).read_text())
    assert set(r["candidates"]) == {"torch", "onnx"} and r["engine"] in r["candidates"]
    for c in r["candidates"].values():
        assert c["size_ratio"] > 0 and c["speed_ratio_batch"] > 0 and c["speed_ratio_latency"] > 0
        assert set(c["metric_change"]) >= {"MAE", "RMSE"}
        assert abs(c["metric_change"]["MAE"]) < 0.1
    assert r["candidates"]["torch"]["size_ratio"] > 1.5
    best = max(r["candidates"].values(), key=lambda c: c["windows_per_s"])
    assert r["chosen"] == best


def test_the_int8_runs_metric_shows_after_its_source_run_has_moved(int8_run, abs_forecaster, tmp_path):
    """lstmkit list's metric of an int8 run was blank once its float run had moved: the export keeps the float
    run's headline in its report, and the int8 run's own number shows without the float run."""
    import shutil
    from lstmkit.run_list import list_runs
    from lstmkit.run_metric import SOURCE_HEADLINE, headline_of
    report = json.loads((int8_run / REPORT_FILE).read_text())
    source = headline_of(abs_forecaster.run_dir_)
    assert report[SOURCE_HEADLINE] == {"name": "MASE", "value": source.value, "spec": source.spec, "part": "test",
                                       "higher_is_better": False, "split_shown": False}
    shown = list_runs(int8_run)[0]["metric"]
    assert shown["int8"] and shown["value"] == report["chosen"]["metrics"]["MASE"]
    copy = shutil.copytree(int8_run, tmp_path / "forecast-int8")
    meta = json.loads((copy / "lstmkit.json").read_text())
    meta["quantization"]["source_run"] = str(tmp_path / "moved-away")                 # the float run is not there
    (copy / "lstmkit.json").write_text(json.dumps(meta))
    assert list_runs(copy)[0]["metric"] == shown


def test_predict_through_the_int8_run(int8_run, abs_forecaster):
    from forecast_data import sine_frame
    df = sine_frame(n=100, seed=4)
    est = Forecaster.load(int8_run)
    want = abs_forecaster.predict(df, engine="torch")["y"].to_numpy()
    for engine in ("torch", "onnx", "auto"):
        np.testing.assert_allclose(est.predict(df, engine=engine)["y"].to_numpy(), want, atol=0.05)


def test_refusals(int8_run, abs_forecaster, monkeypatch):
    with pytest.raises(LstmkitError, match="already an int8 run"):
        export_int8(int8_run)
    with pytest.raises(LstmkitError, match="already exists"):
        export_int8(abs_forecaster.run_dir_, int8_run)
    (int8_run.parent / "a-file").write_text("x")
    with pytest.raises(LstmkitError, match="--out .*a-file is a file, not a folder"):
        export_int8(abs_forecaster.run_dir_, int8_run.parent / "a-file" / "sub" / "int8")
    with pytest.raises(LstmkitError, match="cannot be fine-tuned"):
        Forecaster.load(int8_run).update(np.zeros(10))
    with pytest.raises(LstmkitError, match="export int8"):
        Forecaster.load(int8_run).save(int8_run.parent / "copy")
    import lstmkit.deploy.int8_torch as mod
    monkeypatch.setattr(mod, "_quantized_engines", lambda: [])
    with pytest.raises(LstmkitError, match="no quantized CPU kernels"):
        quantize_torch(abs_forecaster.net_)
    target = int8_run.parent / "never"
    with pytest.raises(LstmkitError, match="no int8 backend"):
        export_int8(abs_forecaster.run_dir_, target, backends=("torch",), min_seconds=0.01, batch=8)
    assert not target.exists() and not any(p.name.startswith(".never") for p in int8_run.parent.iterdir())


def test_a_loaded_int8_forecaster_fitted_again_is_a_float_model_of_its_own(int8_run, abs_forecaster, tmp_path):
    """fit replaces what the int8 run carried: it trained, then refused to save its new float
    weights as 'an int8 model', leaving the new run folder in status 'training'."""
    est = Forecaster.load(int8_run)
    source = abs_forecaster.data_summary_["source"]
    est.fit(source, out=tmp_path)
    assert (est.quantization_, est.engine_, est.lineage_) == (None, None, [])
    assert read_meta(est.run_dir_)["status"] == "finished" and "quantization" not in read_meta(est.run_dir_)
    again = Forecaster.load(est.run_dir_)
    assert again.engine_ is None and again.predict(source).equals(est.predict(source))


def test_each_stage_is_told_and_ctrl_c_leaves_no_folder(abs_forecaster, tmp_path, monkeypatch):
    import lstmkit.deploy.quantize as quantize
    stages = []

    def interrupted(net):               # Ctrl-C once the float model is measured
        stages.append("(Ctrl-C)")
        raise KeyboardInterrupt

    monkeypatch.setattr(quantize, "quantize_torch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_int8(abs_forecaster.run_dir_, tmp_path / "int8", min_seconds=0.02, batch=64, log=stages.append)
    assert stages == ["float32: scoring the test data", "float32: measuring speed",
                      "int8 (torch): quantizing, measuring speed and quality", "(Ctrl-C)"]
    assert list(tmp_path.iterdir()) == []          # neither the run folder nor its hidden temp folder


def test_an_int8_run_written_meanwhile_by_another_export_is_left_as_it_is(abs_forecaster, tmp_path, monkeypatch):
    """Two `export int8 --run RUN` at once: the second's rename onto the first's folder was an OSError
    (Directory not empty), a traceback; now one error, the first's run untouched, no temp folder left."""
    import lstmkit.deploy.quantize as quantize
    target = tmp_path / "int8"
    real = quantize.write_json

    def the_other_export_finishes_first(path, obj):
        real(path, obj)
        if path.name == "lstmkit.json":
            target.mkdir()
            (target / "lstmkit.json").write_text("{}")

    monkeypatch.setattr(quantize, "write_json", the_other_export_finishes_first)
    with pytest.raises(LstmkitError, match="was written by another command while this export ran") as e:
        export_int8(abs_forecaster.run_dir_, target, min_seconds=0.02, batch=64)
    assert "--out NEW_FOLDER" in e.value.hint
    assert [p.name for p in tmp_path.iterdir()] == ["int8"] and (target / "lstmkit.json").read_text() == "{}"


def test_quantizing_draws_nothing_from_the_callers_random_generator(abs_forecaster, tmp_path):
    """The LSTM copied for ``quantize_dynamic`` and the quantized layers it builds drew first
    weights (then replaced) from torch's generator: after ``export('int8')``, or the load of an int8
    run, a script's seeded ``torch.rand`` drew other numbers, and a fit in another thread trained
    another model. Nothing is drawn now, and the quantized net is the same."""
    torch.manual_seed(7)
    before = torch.get_rng_state()
    q = quantize_torch(abs_forecaster.net_)
    assert torch.equal(torch.get_rng_state(), before)
    run = export_int8(abs_forecaster.run_dir_, tmp_path / "int8", backends=("torch",), min_seconds=0.02, batch=64)
    assert torch.equal(torch.get_rng_state(), before)
    x = torch.rand(3, abs_forecaster.config_.lookback, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(Forecaster.load(run).net_(x), q(x))


def test_a_build_without_draws_makes_torchs_random_tensors_zeros():
    """``torch.randn`` / ``torch.rand`` (and their ``_like``) inside a build are zeros of the shape and
    dtype asked for, and draw nothing; outside it they draw as ever."""
    from lstmkit.memory import built_without_draws
    torch.manual_seed(3)
    before = torch.get_rng_state()
    made = built_without_draws(lambda: [torch.randn(2, 3), torch.rand(4, dtype=torch.float64),
                                        torch.randn(2, generator=torch.Generator()), torch.rand_like(torch.ones(2))])
    assert torch.equal(torch.get_rng_state(), before)
    assert [tuple(t.shape) for t in made] == [(2, 3), (4,), (2,), (2,)] and made[1].dtype == torch.float64
    assert all(not t.any() for t in made)
    assert torch.randn(3).any()


def test_the_onnx_quantizer_leaves_the_callers_logging_as_it_was(abs_forecaster, tmp_path):
    """To hide ONNX Runtime's 'Please consider to run pre-processing before quantization' advice,
    the export raised the root logger's level to ERROR for good: a program's own INFO and WARNING
    lines were lost after ``export('int8')``; and ORT's ``logging.warning`` on a root logger without
    handlers installed ``basicConfig``'s. Its advice is still kept from the caller's handlers."""
    import logging

    class Kept(logging.Handler):
        def __init__(self):
            super().__init__()
            self.records = []

        def emit(self, record):
            self.records.append(record)

    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    try:
        root.handlers.clear()                          # pytest's own capture handlers: back in `finally`
        root.setLevel(logging.INFO)
        export_int8(abs_forecaster.run_dir_, tmp_path / "bare", backends=("onnx",), min_seconds=0.02, batch=64)
        assert root.handlers == [] and root.level == logging.INFO
        kept = Kept()
        root.addHandler(kept)
        export_int8(abs_forecaster.run_dir_, tmp_path / "int8", backends=("onnx",), min_seconds=0.02, batch=64)
        assert root.level == logging.INFO and root.handlers == [kept] and not root.filters
        assert not [r for r in kept.records if "onnxruntime" in r.pathname]
        logging.getLogger("host.app").info("still heard")
        assert kept.records[-1].getMessage() == "still heard"
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.filterwarnings("error::DeprecationWarning", "error::UserWarning")
def test_quantizing_hides_only_torchs_own_deprecation_notes(abs_forecaster, monkeypatch):
    """torch 2.13's deprecation of ``torch.ao.quantization`` (and of its quantized tensors) is its
    own note, for no caller to act on: not said, under ``-W error`` either. The block ignored every
    warning, so any other (a layer the quantizer swaps that warns) was lost; it reaches the caller now."""
    import warnings

    import lstmkit.deploy.int8_torch as int8_torch
    q = quantize_torch(abs_forecaster.net_)          # torch's deprecations raise here if not hidden
    assert int8_torch._quantized_modules(q)
    swap = int8_torch.swap_recurrent

    def swap_warning(net):
        warnings.warn("a layer left in float", UserWarning)
        return swap(net)
    monkeypatch.setattr(int8_torch, "swap_recurrent", swap_warning)
    with pytest.raises(UserWarning, match="a layer left in float"):
        quantize_torch(abs_forecaster.net_)


# -- the quality gate: a forecaster's int8 model may not forecast worse -------------------------
def _badly_quantized(run, folder):
    """The run's forecaster with an outlier int8 cannot carry: unit 0 of the first LSTM layer has its
    output gate shut (its h is 0 at every step), and the weights that read that h are 1e4. The float
    model forecasts exactly as before; int8's scale (per tensor or per row) is set by the outlier, so
    every other weight of those rows rounds to 0."""
    est = Forecaster.load(run)
    rnn = est.net_.encoder
    with torch.no_grad():
        rnn.bias_ih_l0[3 * rnn.hidden_size] = -1e4         # PyTorch's gate order: i, f, g, o
        rnn.weight_hh_l0[:, 0] = 1e4
        if rnn.num_layers > 1:
            rnn.weight_ih_l1[:, 0] = 1e4
    est.save(folder)
    return est


def test_an_int8_forecaster_whose_mase_rises_is_refused(abs_forecaster, int8_run, tmp_path):
    """A forecaster's int8 model became the run's engine whatever its MASE did: only a classifier's,
    a speech or language model's, a translator's had a quality check."""
    bad, target = tmp_path / "bad", tmp_path / "bad-int8"
    _badly_quantized(abs_forecaster.run_dir_, bad)
    # ONNX Runtime's scales are per row (torch's per tensor: refused in the test below)
    with pytest.raises(LstmkitError, match=r"no int8 model keeps the quality of bad \(onnx: test MASE rose "
                                           r"\d+\.\d\d % \(\d\S* -> \d\S*; limit 3 %\)\)") as e:
        export_int8(bad, target, backends=("onnx",), min_seconds=0.01, batch=64)
    assert "keep the float run; the measurements are in" in e.value.hint and not target.exists()
    r = json.loads((bad / REPORT_FILE).read_text())
    assert r["engine"] is None and "chosen" not in r
    fp32 = r["fp32"]["metrics"]["MASE"]                    # the float model forecasts as the trained one (within
    assert fp32 == pytest.approx(json.loads((int8_run / REPORT_FILE).read_text())["fp32"]["metrics"]["MASE"], rel=0.01)
    # the LSTM kernel's rounding around the 1e4 weights): its int8 model is what got worse
    for c in r["candidates"].values():                      # both numbers and the verdict
        assert c["metrics"]["MASE"] > 1.03 * fp32
        assert f"{fp32:.4g} -> {c['metrics']['MASE']:.4g}" in c["quality_refused"]


def test_a_healthy_int8_forecaster_passes_the_gate(int8_run):
    r = json.loads((int8_run / REPORT_FILE).read_text())
    fp32 = r["fp32"]["metrics"]["MASE"]
    for c in r["candidates"].values():
        assert "quality_refused" not in c and c["metrics"]["MASE"] <= 1.03 * fp32


def test_the_report_and_the_run_agree_on_the_engine_its_ratios_and_its_source(int8_run, abs_forecaster):
    """export_report.json is read by people and by ``lstmkit list``: the chosen record is the engine's own, the run's
    engine is the report's, each ratio says how many times better int8 is (speed: int8 / fp32, latency and size:
    fp32 / int8), the metric change is int8 minus fp32, and the source fingerprint is the float weights'.
    A report that swapped any of these (mutation testing, session 57) passed every test."""
    from lstmkit.runs import weights_fingerprint
    r = json.loads((int8_run / REPORT_FILE).read_text())
    q = read_meta(int8_run)["quantization"]
    assert q["engine"] == r["engine"] and r["chosen"] == r["candidates"][r["engine"]]
    fast = max(r["candidates"], key=lambda k: (r["candidates"][k]["windows_per_s"], -r["candidates"][k]["latency_ms"]))
    assert r["engine"] == fast
    f = r["fp32"]
    for c in r["candidates"].values():
        assert c["speed_ratio_batch"] == pytest.approx(c["windows_per_s"] / f["windows_per_s"], rel=1e-3)
        assert c["speed_ratio_latency"] == pytest.approx(f["latency_ms"] / c["latency_ms"], rel=1e-3)
        assert c["size_ratio"] == pytest.approx(f["bytes"] / c["bytes"], rel=1e-3)
        assert c["metric_change"]["MASE"] == pytest.approx(c["metrics"]["MASE"] - f["metrics"]["MASE"])
    assert q["source_fingerprint"] == weights_fingerprint(abs_forecaster.run_dir_)
    # the int8 graph answers beside the int8 run's own weights (stamped with their fingerprint, not the float run's)
    from lstmkit.deploy.onnx_engine import load_runner
    assert load_runner(int8_run).metadata["lstmkit_fingerprint"] == weights_fingerprint(int8_run)
    # per_channel says which graph was kept: per-channel weights have one scale per output row
    import onnx
    scales = [i for i in onnx.load(str(int8_run / "model.onnx")).graph.initializer if i.name.endswith("_scale")
              and i.data_type == onnx.TensorProto.FLOAT and len(i.dims) == 1 and i.dims[0] > 1]
    assert bool(scales) == r["candidates"]["onnx"]["per_channel"]


def test_the_report_says_which_windows_the_gate_scored(int8_run, abs_forecaster):
    """export_report.json gave the MASE the gate judged but not what it was computed on (the test or the
    validation part, of which data, cut where): a reader could not compute the number again. `scored_on`
    names them, and the windows are those `test_forecasts` gives on the same data."""
    from lstmkit.tasks.forecast.windows import part_sizes
    r = json.loads((int8_run / REPORT_FILE).read_text())
    source = abs_forecaster.data_summary_["source"]
    cfg = abs_forecaster.config_
    n_train, n_val, n_test = part_sizes(480, cfg)
    assert r["scored_on"] == {"part": "test", "data": str(source), "split": {"val_frac": cfg.val_frac,
                              "test_frac": cfg.test_frac}, "series": 1, "windows": n_test - cfg.horizon + 1,
                              "horizon": cfg.horizon, "first_point": n_train + n_val}
    windows = abs_forecaster.test_forecasts(source)
    assert len(windows["origins"]) == r["scored_on"]["windows"]
    assert windows["origins"][0] + 1 == r["scored_on"]["first_point"]


def test_the_forecast_gate_judges_mase_relative_and_mae_where_mase_has_no_scale(abs_forecaster):
    from lstmkit.tasks.forecast.deploy import ForecastAdapter
    judge = ForecastAdapter(abs_forecaster).quality_refusal
    assert judge({"MASE": 0.5, "MAE": 2.0}, {"MASE": 0.515, "MAE": 9.0}) is None        # +3 %: held
    assert judge({"MASE": 0.5, "MAE": 2.0}, {"MASE": 0.52, "MAE": 2.0}) == (
        "test MASE rose 4.00 % (0.5 -> 0.52; limit 3 %)")
    assert judge({"MASE": 0.5}, {"MASE": float("nan")}).startswith("test MASE rose nan %")   # an overflowed forecast
    # a series held still in its training part has no MASE scale (inf): its MAE is judged
    assert judge({"MASE": float("inf"), "MAE": 2.0}, {"MASE": float("inf"), "MAE": 2.04}) is None
    assert "MAE rose 10.00 %" in judge({"MASE": float("inf"), "MAE": 2.0}, {"MASE": float("inf"), "MAE": 2.2})
    assert judge(None, None) == "no series to check the MASE on"       # the problem; the fix is said once, after it
    assert "test windows" in ForecastAdapter(abs_forecaster).quality_data_fix()


def test_a_forecaster_without_a_test_part_is_judged_on_its_validation_part(tmp_path):
    """A run with test_frac=0 scored nothing (its metrics None), so no int8 model of it could be judged."""
    from forecast_data import FAST, sine_frame
    from lstmkit.tasks.forecast.windows import part_sizes
    sine_frame().to_csv(tmp_path / "s.csv", index=False)
    est = Forecaster(**{**FAST, "max_epochs": 1}, relative=False, horizon=3, test_frac=0.0).fit(
        str(tmp_path / "s.csv"), target="y", time="time", features="temp", out=tmp_path / "run")
    _badly_quantized(est.run_dir_, tmp_path / "bad")
    with pytest.raises(LstmkitError, match=r"\(torch: validation MASE rose \d+\.\d\d % "):
        export_int8(tmp_path / "bad", tmp_path / "bad-int8", backends=("torch",), min_seconds=0.01, batch=64)
    r = json.loads((tmp_path / "bad" / REPORT_FILE).read_text())
    assert r["fp32"]["metrics"]["MASE"] > 0 and r["candidates"]["torch"]["metrics"]["MASE"] > r["fp32"]["metrics"]["MASE"]
    n_train, n_val, _ = part_sizes(480, est.config_)
    assert r["scored_on"]["part"] == "validation" and r["scored_on"]["first_point"] == n_train
    assert r["scored_on"]["windows"] == n_val - 3 + 1 and r["scored_on"]["split"]["test_frac"] == 0.0


def test_a_forecaster_trained_in_memory_asks_for_its_series(tmp_path, capsys):
    """A run fitted on a frame in memory has no test part to score: its int8 model became the engine
    unjudged. It asks for --data before any work, as the other tasks' runs do."""
    from cli_helpers import assert_user_error, run_cli
    from forecast_data import FAST, sine_frame
    df = sine_frame(n=200)
    est = Forecaster(**{**FAST, "max_epochs": 1}, relative=False).fit(df, target="y", time="time", features="temp",
                                                                      out=tmp_path / "runs")
    out = tmp_path / "int8"
    code, _, err = run_cli(["export", "int8", "--run", est.run_dir_, "--out", out], capsys)
    # in a forecaster's words (it said "the test examples", and "pass --data" twice: in the problem and the fix)
    assert_user_error(code, err, f"cannot check an int8 model of {est.run_dir_.name}: no series to check the MASE on — "
                      "pass --data with the series the run was trained on (the MASE is judged on their test windows)")
    assert err.count("--data") == 1 and "examples" not in err
    assert not out.exists()
    df.to_csv(tmp_path / "series.csv", index=False)
    export_int8(est.run_dir_, out, data=str(tmp_path / "series.csv"), backends=("torch",), min_seconds=0.01, batch=64)
    r = json.loads((out / REPORT_FILE).read_text())
    assert r["engine"] == "torch" and r["fp32"]["metrics"]["MASE"] > 0


def test_the_float_models_reference_answers_are_computed_once_for_both_backends(abs_forecaster, tmp_path,
                                                                                  monkeypatch):
    """Each backend's answers to the first 64 example inputs are compared with the float model's:
    those were computed again for every backend (a translator's greedy decoding of 64 sentences
    ran once per backend), the same answers each time. Each net answers that batch once."""
    seen = _count_64_row_calls(monkeypatch)
    out = export_int8(abs_forecaster.run_dir_, tmp_path / "int8", min_seconds=0.01, batch=256)
    candidates = json.loads((out / REPORT_FILE).read_text())["candidates"]
    assert set(candidates) == {"torch", "onnx"} and all("max_abs_diff_scaled" in c for c in candidates.values())
    assert len(seen) == 3 and set(seen.values()) == {1}, seen          # fp32, torch int8, onnx int8: once each


def _count_64_row_calls(monkeypatch):
    """How many times each net (by id) answers a batch of 64 rows in an export."""
    from collections import Counter

    from lstmkit.deploy import quantize
    seen, inference = Counter(), quantize._inference

    def counting(adapter):
        infer = inference(adapter)

        def counted(net, x):
            if len(x) == 64:
                seen[id(net)] += 1
            return infer(net, x)
        return counted
    monkeypatch.setattr(quantize, "_inference", counting)
    return seen


def test_a_throughput_batch_the_answers_are_compared_on_is_not_run_again_to_warm_up(abs_forecaster, tmp_path,
                                                                                      monkeypatch):
    """A translator's throughput batch (64 sentences; speech's 32 utterances) is the batch each backend's
    answers are compared with the float model's on: that call warms the net up, and the speed measure
    ran the same batch again first (a greedy decoding of 64 sentences per engine). With min_seconds=0
    the measure times 3 calls: each net answers the batch 4 times, not 5."""
    seen = _count_64_row_calls(monkeypatch)
    out = export_int8(abs_forecaster.run_dir_, tmp_path / "int8", min_seconds=0, batch=64)
    assert set(json.loads((out / REPORT_FILE).read_text())["candidates"]) == {"torch", "onnx"}
    assert len(seen) == 3 and set(seen.values()) == {4}, seen
