"""What fitting many series records, worked out by hand on three tiny series (1 epoch, hidden 4): each
series scaled by its own training part only, the floor at 0 read from training parts only, the windows
counted per part, the newest time of each series and where the earliest test part begins.

Lookback 6, horizon 3, and (with an id column) a validation and a test part of one horizon (3 points)
each per series: a series of n points trains on its first n - 6."""
import numpy as np
import pandas as pd
import pytest

from lstmkit import Forecaster
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

TINY = dict(lookback=6, horizon=3, max_epochs=1, hidden_size=4, num_layers=1, ensemble=1, batch_size=32,
            progress="off", doctor=False, tensorboard=False, device="cpu")

# id -> (first day, points); with val and test parts of 3 points each the training parts are 34, 30, 24
SPEC = {"a": ("2024-01-01", 40), "b": ("2024-01-05", 36), "c": ("2024-01-01", 30)}


def _series(k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Target and past covariate of series ``k`` (n points): in the training part (the first n - 6) the
    target repeats 10(k+1) + 0, 1, 2, 3, 4 and the covariate counts 0, 1, 2, ...; in the validation and
    test parts both are 100, far above anything trained on."""
    t = np.arange(n)
    y = np.where(t < n - 6, 10.0 * (k + 1) + t % 5, 100.0)
    x = np.where(t < n - 6, t.astype(float), 100.0)
    return y, x


def _frame(times=None) -> pd.DataFrame:
    parts = []
    for k, (sid, (first, n)) in enumerate(SPEC.items()):
        y, x = _series(k, n)
        if sid == "b":
            y[3] = -1.0          # a negative value in b's training part: b's forecasts are not floored
        if sid == "c":
            y[28] = -5.0         # a negative value in c's test part only: no evidence, c stays floored at 0
        when = pd.date_range(first, periods=n, freq="D") if times is None else times(k, n)
        parts.append(pd.DataFrame({"id": sid, "time": when, "y": y, "x": x}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def dated():
    return Forecaster(past_covariates=["x"], **TINY).fit(_frame(), target="y", time="time", id="id")


def test_each_series_is_scaled_by_its_own_training_part_alone(dated):
    # minmax (the default): loc = the training part's min, scale = its max - min. a: 10..14; b: 20..24 with
    # a -1 at its point 4; c: 30..34. The 100s of the validation and test parts move none of them.
    assert dated.series_ids_ == ["a", "b", "c"]
    assert dated.panel_scaler_.params == {"a": ([10.0], [4.0]), "b": ([-1.0], [25.0]), "c": ([30.0], [4.0])}


def test_covariates_are_scaled_on_the_training_rows_of_every_series_together(dated):
    # the covariate counts 0..33 in a's training part (the longest), 0..29 and 0..23 in b's and c's; 100 after
    assert dated.covariate_range_ == {"lo": [0.0], "hi": [33.0]}
    sk = dated.covariate_scaler_._sk
    assert sk.data_min_.tolist() == [0.0] and sk.data_max_.tolist() == [33.0]


def test_the_floor_at_zero_reads_each_series_training_part_alone(dated):
    # b went below 0 while training: not floored; c goes below 0 only in its test part: floored as a is
    assert dated.bounds_["floor"] == 0.0
    assert dated.bounds_["targets"]["y"]["unbounded"] == ["b"]


def test_windows_are_counted_per_part_and_never_cross_series(dated):
    # a window is 6 inputs + 3 targets; a training part of m points holds m - 8 windows (34, 30, 24 -> 26,
    # 22, 16); a 3-point validation or test part holds 1 window per series
    assert dated.data_summary_["windows"] == {"train": 26 + 22 + 16, "val": 3, "test": 3}


def test_the_summary_gives_the_newest_time_each_series_own_end_and_the_earliest_test_part(dated):
    summary = dated.data_summary_
    # a: Jan 1 + 39 days = Feb 9; b: Jan 5 + 35 days = Feb 9; c: Jan 1 + 29 days = Jan 30
    assert summary["end"] == "2024-02-09T00:00:00"
    assert summary["ends"] == {"a": "2024-02-09T00:00:00", "b": "2024-02-09T00:00:00", "c": "2024-01-30T00:00:00"}
    # test parts begin at each series' point n - 3: a Feb 7, b Feb 7, c Jan 28 (the earliest)
    assert summary["test_from"] == "2024-01-28T00:00:00"
    assert summary["calendar_clock"] == "local"
    assert "split" not in summary             # per-part points are a one-series record


def test_many_series_numbered_by_steps_record_each_end_but_no_common_end():
    # step numbers that count each series from its own start (an M4 file's) compare across series by
    # nothing: no newest time of all, no earliest test part; each series' own end is kept
    f = Forecaster(**TINY).fit(_frame(lambda k, n: np.arange(1, n + 1)), target="y", time="time", id="id")
    summary = f.data_summary_
    assert "end" not in summary and "test_from" not in summary and "calendar_clock" not in summary
    assert summary["ends"] == {"a": 40, "b": 36, "c": 30}


def test_one_series_records_its_points_per_part_its_end_and_where_its_test_part_begins():
    # 40 points by fractions 0.15 / 0.15: 6 validation, 6 test, 28 training points; steps 101..140
    y, _ = _series(0, 40)
    frame = pd.DataFrame({"t": np.arange(101, 141), "y": y})
    f = Forecaster(**TINY).fit(frame, target="y", time="t")
    summary = f.data_summary_
    assert summary["split"] == {"train": 28, "val": 6, "test": 6}
    assert summary["end"] == 140 and summary["test_from"] == 135      # its point 35: 101 + 34
    assert "ends" not in summary
    # 28 training points: 20 windows; the 6-point parts: windows whose 3 targets lie in them, 4 each
    assert summary["windows"] == {"train": 20, "val": 4, "test": 4}


@pytest.mark.parametrize("horizon, test_size, test_from", [(3, 0, None), (1, None, "2024-01-30T00:00:00")])
def test_the_test_part_begins_where_a_series_holds_one_point_at_least(horizon, test_size, test_from):
    # test_size 0: nothing is scored, so there is no earliest test point (the row after each series' last
    # one is the next series' first, or past the table); horizon 1: a one-point test part, each series'
    # last point: a Feb 9, b Feb 9, c Jan 30 (the earliest)
    f = Forecaster(**{**TINY, "horizon": horizon}, test_size=test_size).fit(_frame(), target="y", time="time", id="id")
    assert f.data_summary_.get("test_from") == test_from
    assert f.data_summary_["end"] == "2024-02-09T00:00:00"
    assert f.data_summary_["windows"]["test"] == (0 if test_size == 0 else 3)


def test_training_reads_its_windows_in_a_new_order_each_epoch(monkeypatch):
    """Stochastic gradient descent takes its mini-batches at random: read in their stored order (series by
    series, oldest first), each batch would hold one series' neighbouring windows, the same batches every epoch."""
    import torch

    from lstmkit.tasks.forecast.windows import PanelBatches
    real, passes = PanelBatches.__iter__, []

    def recorded(self):                  # the targets of each complete pass, in the order they were read
        seen = []
        for batch in real(self):
            seen.append(batch[1])
            yield batch
        passes.append((self.batch_size, torch.cat(seen)))
    monkeypatch.setattr(PanelBatches, "__iter__", recorded)
    Forecaster(**{**TINY, "max_epochs": 2, "batch_size": 8}).fit(_frame(), target="y", time="time", id="id")
    first, second = [y for size, y in passes if size == 8]        # the two epochs' (evaluation reads 1024 at once)
    # the 26 + 22 + 16 training windows of a, b and c (n - 6 - lookback - horizon + 1 each), every one once a pass
    assert len(first) == len(second) == 64
    key = lambda ys: sorted(map(tuple, ys.flatten(1).tolist()))
    assert key(first) == key(second)
    assert not torch.equal(first, second)
