"""The forecast CLI's report lines, each from a record written by hand: what a table's numbers rest on,
the worst series, each target's table, the inputs besides the target, a backtest's folds."""
from types import SimpleNamespace

import pytest

from lstmkit.tasks.forecast.cli import (_echo_backtest, _say_per_target, _say_worst, _scored_on, covariates_line,
                                        say_test_metrics)

ROW = {"MAE": 1.0, "RMSE": 2.0, "MAPE": 3.0, "sMAPE": 4.0, "MASE": 0.5}


@pytest.mark.parametrize("record, line", [
    ({"test_points": 1, "horizon": 3, "season": 7},
     "Test metrics, original units (1 point, horizon 3, season 7):"),
    ({"test_points": 12, "horizon": 3, "season": 7, "series": 1},
     "Test metrics, original units (12 points, horizon 3, season 7):"),
    ({"test_points": 0, "horizon": 1, "season": 1},
     "Test metrics, original units (0 points, horizon 1, season 1):"),
    ({"test_points": 40, "horizon": 2, "season": 24, "series": 5},
     "Test metrics, original units (40 points, horizon 2, season 24, 5 series, mean over series):"),
])
def test_the_line_above_a_table_says_its_points_and_series_only_when_many(record, line):
    assert _scored_on(record) == line


def test_the_worst_series_line_names_each_with_its_value_and_where_more_are(capsys):
    worst = {"metric": "MASE", "series": [{"id": "b", "value": 3.25}, {"id": 7, "value": 1.5}]}
    _say_worst({"worst": worst}, "see the csv")
    _say_worst({"worst": worst})
    _say_worst({})
    assert capsys.readouterr().out.splitlines() == ["worst series by MASE: 'b' 3.25, 7 1.5 (see the csv)",
                                                    "worst series by MASE: 'b' 3.25, 7 1.5"]


def _target_rows(mase):
    return {"lstm": {**ROW, "MASE": mase}, "naive": {**ROW, "MASE": mase}}


def test_each_targets_table_follows_a_line_naming_the_targets_without_a_mase_only_among_others(capsys):
    nan = float("nan")
    _say_per_target({"per_target": {"sales": _target_rows(0.5), "flat": _target_rows(nan)}})
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith("MASE the mean of each one's that have one (flat: none, its training part repeating "
                          "itself exactly); each target's own metrics:")
    # every target without one, or none without one: no 'that have one'
    for per_target in ({"a": _target_rows(nan), "b": _target_rows(nan)}, {"a": _target_rows(1.0), "b": _target_rows(2.0)}):
        _say_per_target({"per_target": per_target})
        out = capsys.readouterr().out
        assert "MASE the mean of each one's; each target's own metrics:" in out and "that have one" not in out
    # a target one of whose rows has a MASE has one
    _say_per_target({"per_target": {"a": {"lstm": {**ROW, "MASE": nan}, "naive": ROW}, "b": _target_rows(nan)}})
    assert "that have one (b: none" in capsys.readouterr().out
    _say_per_target({"metrics": {"lstm": ROW}})
    _say_per_target({"per_target": {}})
    assert capsys.readouterr().out == ""


def test_each_targets_table_says_its_points_only_where_the_targets_differ(capsys):
    rows = {"a": _target_rows(1.0), "b": _target_rows(1.0)}
    _say_per_target({"per_target": rows, "target_points": {"a": 1200, "b": 1200}})
    out = capsys.readouterr().out
    assert "\na:\nmodel" in out and "\nb:\nmodel" in out and "points" not in out
    _say_per_target({"per_target": rows, "target_points": {"a": 1200, "b": 900}})
    out = capsys.readouterr().out
    assert "\na (1,200 points):\nmodel" in out and "\nb (900 points):\nmodel" in out


def test_each_targets_probabilistic_scores_follow_its_table_and_only_its_own(capsys):
    rows = {"lstm": {**ROW, "coverage_80": 0.75, "CRPS": 0.5, "wQL": 0.25}, "naive": ROW}
    _say_per_target({"per_target": {"a": rows, "b": _target_rows(1.0)}})
    out = capsys.readouterr().out
    assert out.count("probabilistic: ") == 1
    assert "probabilistic: coverage_80 0.75, CRPS 0.5, wQL 0.25\n\nb:" in out


def test_the_pooled_probabilistic_scores_are_under_the_pooled_table_not_the_last_targets(capsys):
    # printed after each target's table, the pooled line read as a second line of the last target's scores
    pooled = {"lstm": {**ROW, "coverage_80": 0.9, "CRPS": 1.5, "wQL": 0.05}, "naive": ROW}
    own = {t: {"lstm": {**ROW, "coverage_80": c, "CRPS": 1.0, "wQL": 0.1}, "naive": ROW}
           for t, c in (("a", 0.8), ("b", 1.0))}
    est = SimpleNamespace(config_=SimpleNamespace(model="lstm"), combination_=None)
    say_test_metrics(est, {"test_points": 8, "horizon": 2, "season": 1, "metrics": pooled, "per_target": own})
    lines = capsys.readouterr().out.splitlines()
    scores = [k for k, line in enumerate(lines) if line.startswith("probabilistic: ")]
    assert [lines[k] for k in scores] == ["probabilistic: coverage_80 0.9, CRPS 1.5, wQL 0.05",
                                          "probabilistic: coverage_80 0.8, CRPS 1, wQL 0.1",
                                          "probabilistic: coverage_80 1, CRPS 1, wQL 0.1"]
    assert lines[scores[0] - 1].split()[0] == "naive" and lines[scores[0] + 1].startswith("the rows above pool")
    assert lines[scores[2] - 4] == "b:"                         # b:, its heading, two rows, its scores


def _est(target=("y",), inputs=("y",), n_past=0, future=(), calendar=None, scaler=None, horizon=6):
    config = SimpleNamespace(target=list(target), future_covariates=list(future), calendar=calendar, horizon=horizon)
    return SimpleNamespace(config_=config, input_names_=list(inputs), n_past_=n_past, covariate_scaler_=scaler)


def test_the_inputs_line_is_none_for_a_model_reading_its_targets_alone():
    assert covariates_line(_est()) is None
    assert covariates_line(_est(target=("a", "b"), inputs=("a", "b"))) is None


def test_the_inputs_line_names_the_past_the_future_and_the_calendar_inputs_in_their_order():
    est = _est(target=("a", "b"), inputs=("a", "b", "temp", "wind", "price"), n_past=2, future=("price",),
               calendar="hour,holidays:fr", scaler=SimpleNamespace(kind="standard"), horizon=4)
    assert covariates_line(est) == (
        "inputs besides the target: past only (known up to each forecast origin): temp, wind; known ahead (predict "
        "needs them for the 4 steps after each series' end): price; calendar features of the times: hour, "
        "holidays:FR; covariates scaled standard on the training part, one scaling for every series")
    assert covariates_line(_est(inputs=("y", "temp"), n_past=1)) == (
        "inputs besides the target: past only (known up to each forecast origin): temp")
    assert covariates_line(_est(calendar="weekday", scaler=SimpleNamespace(kind="none"))) == (
        "inputs besides the target: calendar features of the times: weekday")
    assert covariates_line(_est(inputs=("y", "p"), future=("p",), horizon=2)) == (
        "inputs besides the target: known ahead (predict needs them for the 2 steps after each series' end): p")


def _backtest(mase_scale="", extra=None):
    folds = [{"fold": f, "model": m, "series": 3, "cutoff": "2024-01-0%d" % (f + 1) if f else None, **ROW,
              "MAE": 10 * f + k} for f in (1, 0) for k, m in enumerate(("lstm", "naive"))]
    return {"folds": folds, "aggregate": {"lstm": {**ROW, **(extra or {})}, "naive": ROW},
            "settings": {"mase_scale": mase_scale}}


def test_a_backtest_prints_each_fold_in_order_then_the_mean_and_where_it_wrote(capsys, tmp_path):
    _echo_backtest(_backtest(), 2, tmp_path, False)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "fold 0 (3 series):"
    assert lines[1].split() == ["model", "MAE", "RMSE", "MAPE", "sMAPE", "MASE"]
    assert lines[2].split()[:2] == ["lstm", "0"] and lines[3].split()[:2] == ["naive", "1"]
    assert lines[4] == "fold 1 (3 series, cutoff 2024-01-02):"
    assert lines[6].split()[:2] == ["lstm", "10"] and lines[7].split()[:2] == ["naive", "11"]
    assert lines[8:10] == ["", "mean over 2 folds:"]
    assert lines[-1] == f"written to {tmp_path}"
    assert "probabilistic" not in out and "metrics.json" not in out


def test_a_backtests_mase_note_and_probabilistic_scores_are_said_only_when_there(capsys, tmp_path):
    note = "MASE scaled as in the run's metrics.json"
    _echo_backtest(_backtest(note, {"coverage_80": 0.5, "CRPS": 0.25}), 2, tmp_path, False)
    out = capsys.readouterr().out
    assert f"({note})\nprobabilistic: coverage_80 0.5, CRPS 0.25\nwritten to" in out
    _echo_backtest(_backtest("the training part's naive error"), 2, tmp_path, False)
    assert "(the training part" not in capsys.readouterr().out
    _echo_backtest({**_backtest(), "settings": {"mase_scale": None}}, 2, tmp_path, False)
    assert capsys.readouterr().out.endswith(f"written to {tmp_path}\n")


def test_a_backtests_json_is_its_record_alone(capsys, tmp_path):
    import json
    result = _backtest()
    _echo_backtest(result, 2, tmp_path, True)
    out = capsys.readouterr().out
    assert json.loads(out) == result and "written to" not in out


def test_an_updates_series_line_counts_those_left_out_by_why():
    from lstmkit.tasks.forecast.cli import _series_line
    report = {"series": 2, "model_series": 5, "left_out": {"new": ["a", "b", "c", "d"], "too_short": ["s1"]}}
    # 5 of the model's series: 2 updated, 1 too short, so 2 had no rows; the 4 new ones are none of the model's
    assert _series_line(report) == ("2 of the model's 5 series updated; left out: 4 new to the model ('a', 'b', 'c' "
                                    "and 1 more), 1 with too few rows ('s1'), 2 without rows in the data")
    assert _series_line({"series": 3, "model_series": 3, "left_out": {}}) == "3 of the model's 3 series updated"
    assert _series_line({"series": 1, "model_series": 3}) == ("1 of the model's 3 series updated; left out: "
                                                             "2 without rows in the data")
