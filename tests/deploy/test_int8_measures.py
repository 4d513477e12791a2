"""The numbers an int8 export reports and judges by, worked by hand: speed on a given clock, the
agreement with the float model's answers, metric changes, ratios and the quality gate."""
import types

import pytest
import torch

from lstmkit.deploy import quantize


def test_speed_is_rows_per_second_of_the_fastest_call_and_latency_the_fastest_single_call(monkeypatch):
    """On a clock each call advances by 1/64 s per row: a 32-row call takes 0.5 s (64 rows/s), a
    one-row call 15.625 ms; the warm-up call is not timed and at least 3 calls are."""
    clock = [0.0]
    monkeypatch.setattr(quantize, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    calls = []

    def fn(x):
        calls.append(len(x))
        clock[0] += len(x) / 64

    got = quantize.measure_speed(fn, [0] * 32, [0], min_seconds=0.0)
    assert got == {"windows_per_s": 64.0, "latency_ms": 15.625}
    assert calls == [32] * 4 + [1] * 4                       # warm-up + 3 timed, each
    calls.clear()
    assert quantize.measure_speed(fn, [0] * 32, [0], min_seconds=0.0, warm=True)["windows_per_s"] == 64.0
    assert calls == [32] * 3 + [1] * 4                       # the batch was just run: no warm-up for it
    calls.clear()                                            # min_seconds: calls are timed until 1 s has passed
    assert quantize.measure_speed(fn, [0] * 32, [0], min_seconds=1.0) == {"windows_per_s": 64.0, "latency_ms": 15.625}
    assert calls == [32] * 4 + [1] * 65                      # warm-ups; 3 calls of 0.5 s (3 at least); 64 of 1/64 s


def test_a_run_stalled_by_a_busy_machine_does_not_set_the_speed(monkeypatch):
    """Two of the three timed batch calls stalled (1 s each) and one ran at 64 rows/s: the median reported the
    stall (32 rows/s); the fastest run is the engine's own speed."""
    clock, stalls = [0.0], iter([0.0, 1.0, 1.0, 0.0])              # warm-up, then three timed batch calls

    monkeypatch.setattr(quantize, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))

    def fn(x):
        clock[0] += len(x) / 64 + (next(stalls, 0.0) if len(x) > 1 else 0.0)

    assert quantize.measure_speed(fn, [0] * 32, [0], min_seconds=0.0)["windows_per_s"] == 64.0


def test_a_fast_call_or_a_slow_batch_keeps_its_significant_digits(monkeypatch):
    """A one-row call of 20 ns was rounded to 4 decimals of a millisecond (0.0 ms), and a batch of
    1 row taking 40 s to one decimal of a row a second (0.0 rows/s): a ratio of 0, or a division
    by it."""
    clock = [0.0]
    monkeypatch.setattr(quantize, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))

    def fn(x):
        clock[0] += 40.0 if len(x) > 1 else 2e-8

    got = quantize.measure_speed(fn, [0] * 2, [0], min_seconds=0.0)
    assert got == {"windows_per_s": 0.05, "latency_ms": 2e-05}


class _Adapter:
    """A task whose 'net' is a function and whose test metric is given."""

    def __init__(self, metrics, judge=None):
        self.metrics = metrics
        if judge is not None:
            self.quality_refusal = judge

    @staticmethod
    def infer(net, x):
        return net(x)

    def test_metrics(self, net, data):
        return self.metrics


def test_agreement_is_the_largest_difference_or_the_share_of_equal_answers(monkeypatch):
    monkeypatch.setattr(quantize, "measure_speed", lambda *a, **k: {"windows_per_s": 1.0, "latency_ms": 1.0})
    x = torch.tensor([1.0, -2.0, 3.0, 4.0])
    want = torch.tensor([1.0, -2.5, 3.25, 4.0])
    got = quantize._score(lambda v: v, lambda: want, _Adapter({"MAE": 1.0}), x, x[:1], None, 0.0)
    assert got["max_abs_diff_scaled"] == 0.5 and got["metrics"] == {"MAE": 1.0}
    ids = [[4, 5], [6], [7, 8], [9]]
    answers = lambda v: [[4, 5], [6, 2], [7, 8], [9]]         # noqa: E731 -- 3 of 4 the same
    got = quantize._score(answers, lambda: ids, _Adapter({}), ids, ids[:1], None, 0.0)
    assert got["same_answers"] == 0.75
    assert quantize._score(lambda v: [], lambda: [], _Adapter({}), ids, ids[:1], None, 0.0)["same_answers"] == 0.0


def test_metric_change_is_int8_minus_float_for_the_numbers_both_have():
    before = {"MAE": 1.0, "RMSE": 2.0, "n": 10, "part": "test", "MASE": 0.5}
    after = {"MAE": 1.25, "RMSE": 1.5, "n": 10, "part": "test"}
    assert quantize._metric_change(before, after) == {"MAE": 0.25, "RMSE": -0.5, "n": 0}
    assert quantize._metric_change(None, after) is None and quantize._metric_change(before, {}) is None


def test_ratios_keep_four_significant_figures():
    assert quantize._ratio(10, 4) == 2.5 and quantize._ratio(1, 3) == 0.3333 and quantize._ratio(1, 30000) == 3.333e-05


def test_the_gate_keeps_the_candidates_its_judge_passes_and_says_why_of_the_others():
    judge = lambda before, after: None if after["MAE"] <= before["MAE"] * 1.03 else "MAE rose"   # noqa: E731
    candidates = {"torch": {"metrics": {"MAE": 1.02}}, "onnx": {"metrics": {"MAE": 1.5}}}
    held = quantize._quality(_Adapter({}, judge), {"MAE": 1.0}, candidates)
    assert list(held) == ["torch"] and "quality_refused" not in held["torch"]
    assert candidates["onnx"]["quality_refused"] == "MAE rose"
    assert quantize._quality(_Adapter({}), {"MAE": 1.0}, candidates) is candidates      # no judge: every one


def test_the_engine_is_the_faster_at_the_batch_and_of_two_as_fast_the_quicker_alone():
    fast_batch = {"torch": {"windows_per_s": 200.0, "latency_ms": 9.0}, "onnx": {"windows_per_s": 100.0, "latency_ms": 1.0}}
    assert quantize._faster(fast_batch) == "torch"
    assert quantize._faster({**fast_batch, "torch": {"windows_per_s": 50.0, "latency_ms": 9.0}}) == "onnx"
    tie = {"torch": {"windows_per_s": 100.0, "latency_ms": 2.0}, "onnx": {"windows_per_s": 100.0, "latency_ms": 1.0}}
    assert quantize._faster(tie) == "onnx"
    assert quantize._faster({**tie, "onnx": {"windows_per_s": 100.0, "latency_ms": 3.0}}) == "torch"
    assert quantize._faster({"onnx": tie["onnx"]}) == "onnx"


def test_a_graph_that_raises_does_not_run_and_its_stderr_lines_are_kept_from_the_terminal(capfd):
    """``_runs`` decides whether the per-channel graph is kept: False when the graph raises (ONNX
    Runtime's line on standard error hidden, the per-tensor graph is tried next), True when it
    answers (its lines printed as ever)."""
    import os

    class _Task:
        def __init__(self, fails):
            self.fails = fails

        def infer(self, net, x):
            os.write(2, b"[E:onnxruntime] Input W must have shape\n" if self.fails else b"a note of a graph that runs\n")
            if self.fails:
                raise RuntimeError("InvalidArgument")
            return net(x)

    class _Quiet:
        @staticmethod
        def infer(net, x):
            return net(x)

    assert quantize._runs(lambda x: x, _Task(fails=True), torch.zeros(1)) is False
    assert "Input W" not in capfd.readouterr().err
    assert quantize._runs(lambda x: x, _Task(fails=False), torch.zeros(1)) is True
    assert "a note of a graph that runs" in capfd.readouterr().err
    assert quantize._runs(lambda x: x, _Quiet(), torch.zeros(1)) is True
    assert capfd.readouterr().err == ""                       # a graph that says nothing: nothing printed
