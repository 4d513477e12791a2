"""A one-series forecast.png's time axis is readable whatever the series' step and length, zoned or not: a few
concise labels that name what changes ('06:00', 'Jan-02', 'Mar', '2002'), the year once at the axis's end where no
label names it, none drawn over another; step numbers whole and as they are. Before, matplotlib's own slanted dates
ran into one another on 20 weeks ('2001-01-01', '2001-01-15' …), a day of hours read '01-01 00', '01-01 03' … and
named no year anywhere, and the last points of a long series of steps read '0', '10' … beside a '+1e5' offset."""
import re

import numpy as np
import pandas as pd
import pytest

import lstmkit.inspect.plots as plots

BERLIN = "Europe/Berlin"
# each concise label as matplotlib's ConciseDateFormatter writes it (year, month, day, hour; a new day, month, year)
CONCISE = ("%Y", "%b", "%d", "%H:%M", "%b-%d")


def _drawn(x, monkeypatch, targets: int = 1):
    """The figure plot_forecast draws of a series at points ``x`` (two thirds history, the rest test)."""
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    n = len(x)
    y = np.sin(np.arange(n) / 5.0)
    y = y if targets == 1 else np.stack([y + k for k in range(targets)], 1)
    h = n * 2 // 3
    x = pd.Series(x) if isinstance(x, pd.DatetimeIndex) else x
    plots.plot_forecast(x[:h], y[:h], x[h:], y[h:], {"lstm": y[h:]}, "forecast.png", "y: one step ahead",
                        "y" if targets == 1 else [f"y{k}" for k in range(targets)])
    fig = seen[0]
    fig.canvas.draw()
    return fig


def _labels(ax) -> tuple[list[float], list[str], list]:
    """``(where, text, extent)`` of each labelled x tick inside the axis's range, left to right."""
    lo, hi = ax.get_xlim()
    renderer = ax.get_figure().canvas.get_renderer()
    ticks = [t for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi]
    return ([t.get_position()[0] for t in ticks], [t.get_text() for t in ticks],
            [t.get_window_extent(renderer) for t in ticks])


def _readable(ax) -> tuple[list[float], list[str]]:
    """The labelled ticks of ``ax``: three to eight, level, none over its neighbour (a little space between)."""
    where, texts, boxes = _labels(ax)
    assert 3 <= len(texts) <= 8, texts
    assert all(t.get_rotation() == 0 for t in ax.get_xticklabels()), texts
    assert all(b.x0 - a.x1 >= 4 for a, b in zip(boxes, boxes[1:])), texts
    return where, texts


DATES = [("h", 24), ("h", 200), ("h", 1500), ("D", 10), ("D", 40), ("D", 400), ("D", 1500), ("W", 20),
         ("W", 150), ("W", 2000), ("MS", 12), ("MS", 30), ("MS", 120), ("MS", 1000), ("YS", 8), ("YS", 150)]


@pytest.mark.parametrize("zone", [None, BERLIN])
@pytest.mark.parametrize("freq, n", DATES, ids=[f"{f}-{n}" for f, n in DATES])
def test_each_date_label_names_its_ticks_time_readably_and_the_year_is_said(monkeypatch, freq, n, zone):
    from matplotlib.dates import num2date
    start = "1900-01-01" if freq == "YS" else "2001-01-01"
    fig = _drawn(pd.date_range(start, periods=n, freq=freq, tz=zone), monkeypatch)
    ax = fig.axes[0]
    where, texts = _readable(ax)
    clock = zone or "UTC"             # naive times are drawn as they are (matplotlib's numbers are UTC days)
    at = [num2date(v).astimezone(pd.Timestamp(0, tz=clock).tzinfo) for v in where]
    assert all(any(t == a.strftime(f) for f in CONCISE) for t, a in zip(texts, at)), list(zip(texts, at))
    offset = ax.xaxis.get_offset_text().get_text()
    years = {a.strftime("%Y") for a in at}
    assert any(re.fullmatch(r"\d{4}", t) for t in texts) or any(y in offset for y in years), (texts, offset)
    assert ax.get_xlabel() == (f"time ({zone})" if zone else "")


@pytest.mark.parametrize("start, n", [(0, 3), (0, 10), (0, 50), (0, 1500), (100_000, 50), (198_000, 2000),
                                      (1_000_000_000, 2000)])
def test_step_numbers_are_labelled_whole_as_they_are(monkeypatch, start, n):
    ax = _drawn(np.arange(start, start + n), monkeypatch).axes[0]
    where, texts = _readable(ax) if n > 3 else _labels(ax)[:2]
    assert texts == [str(round(v)) for v in where] and all(v == round(v) for v in where), texts
    assert ax.xaxis.get_offset_text().get_text() == ""
    assert start <= where[0] and where[-1] <= start + n


def test_several_targets_panels_share_one_readable_time_axis_at_the_foot(monkeypatch):
    fig = _drawn(pd.date_range("2020-01-05", periods=60, freq="W"), monkeypatch, targets=2)
    top, foot = fig.axes[:2]
    assert not [t for t in top.get_xticklabels() if t.get_text() and t.get_visible()]
    _, texts = _readable(foot)
    assert texts[0] == "2020" and "Apr" in texts


def test_dates_as_python_objects_are_left_to_matplotlib(monkeypatch):
    # plot_forecast's own callers pass datetime64 or step numbers; a caller's datetime.date objects are matplotlib's
    import datetime
    x = np.array([datetime.date(2001, 1, 1) + datetime.timedelta(days=k) for k in range(30)], dtype=object)
    ax = _drawn(x, monkeypatch).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_step_numbers_that_grow_a_digit_per_tick_are_spaced_for_the_widest():
    # 0 … 1,000,000: the room per label is that of the last, widest number, not the first ('0')
    fig, ax = plots.subplots(figsize=(4, 2))
    x = np.array([0, 1_000_000])
    ax.plot(x, [0.0, 1.0])
    plots.step_axis(ax, x)
    fig.canvas.draw()
    where, texts = _readable(ax)
    assert texts == [str(round(v)) for v in where]


@pytest.mark.parametrize("inches", [0.8, 1.5, 2, 3])
@pytest.mark.parametrize("start, n", [(100_000, 50), (123_456, 900_000), (999_000, 2_000), (1_000_000_000, 2_000)])
def test_step_numbers_of_six_digits_and_more_never_overlap_on_a_narrow_axis(inches, start, n):
    # their room was guessed from their digits: 999000, 1000000, 1001000 ran into one another on 2 inches
    fig, ax = plots.subplots(figsize=(inches, 2))
    x = np.array([start, start + n])
    ax.plot(x, [0.0, 1.0])
    plots.step_axis(ax, x)
    fig.canvas.draw()
    where, texts, boxes = _labels(ax)
    assert 1 <= len(texts) <= plots.STEP_TICKS and texts == [str(round(v)) for v in where], texts
    assert all(b.x0 - a.x1 >= 4 for a, b in zip(boxes, boxes[1:])), (texts, [(b.x0, b.x1) for b in boxes])
    if inches >= 3:                                        # two fit there: the axis names more than one step
        assert len(texts) >= 2, texts


def test_a_step_axis_with_room_for_one_label_names_the_step_nearest_its_middle():
    # 10-digit step numbers on an axis under an inch wide: no two labels have room; the one kept is the round
    # step nearest the middle (1000002000 of 1e9 .. 1e9 + 2600), not the other end's
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1.2, 1))
    try:
        x = np.arange(1_000_000_000, 1_000_002_600)
        ax.plot(x, np.zeros(len(x)))
        plots.step_axis(ax, x)
        fig.canvas.draw()
        lo, hi = ax.get_xlim()
        shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi]
        assert shown == ["1000002000"]
    finally:
        plt.close(fig)


def _named(ax) -> list[str]:
    """The texts of the labelled x ticks inside the view (either way round), left to right as drawn."""
    lo, hi = sorted(ax.get_xlim())
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi]


def test_an_inverted_step_axis_names_the_steps_the_upright_one_does():
    # ax.invert_xaxis(): the view runs from its high end to its low (a mutant reading it unsorted found no tick
    # inside, kept one label alone and survived every test)
    named = []
    for inverted in (False, True):
        fig, ax = plots.subplots(figsize=(4, 2))
        x = np.array([0, 1_000])
        ax.plot(x, [0.0, 1.0])
        plots.step_axis(ax, x)
        if inverted:
            ax.invert_xaxis()
        fig.canvas.draw()
        named.append(sorted(_named(ax), key=int))
    assert named[0] == named[1] and len(named[0]) >= 3, named


def test_a_step_axis_with_room_for_its_two_ends_alone_names_both():
    # 1e9 .. 1e9 + 2000 exactly, 10-digit labels, an axis of about 84 points: 1e9 + 1000 between them leaves no
    # room, the two ends have it; the locator's last try (one bin) finds them (a mutant stopping at two bins
    # named the middle step alone and survived)
    fig, ax = plots.subplots(figsize=(1.5, 2))
    x = np.array([1_000_000_000, 1_000_002_000])
    ax.plot(x, [0.0, 1.0])
    plots.step_axis(ax, x)
    ax.set_xlim(x[0], x[-1])
    fig.canvas.draw()
    assert _named(ax) == ["1000000000", "1000002000"]


def test_a_step_axis_asked_for_a_view_of_one_point_gives_the_plain_locators_ticks():
    # matplotlib widens such a view before drawing (set_xlim(5, 5) warns and widens it); set_view_interval with
    # ignore=True does not: no room is measured there (a mutant measuring it divided by 0, warned 'invalid value'
    # and gave one tick, and survived)
    import warnings
    from matplotlib.ticker import MaxNLocator
    fig, ax = plots.subplots(figsize=(4, 2))
    ax.plot([0, 10], [0.0, 1.0])
    plots.step_axis(ax, np.array([0, 10]))
    ax.xaxis.set_view_interval(5, 5, ignore=True)
    plain = MaxNLocator(nbins=plots.STEP_TICKS, steps=[1, 2, 5, 10], integer=True, min_n_ticks=2)
    plain.set_axis(ax.xaxis)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(ax.xaxis.get_major_locator()()) == list(plain())


@pytest.mark.parametrize("inches, n, named", [(4, 1_000, ["0", "200", "400", "600", "800", "1000"]),
                                              (2, 1_000_000, ["0", "500000", "1000000"])])
def test_a_step_axis_names_as_many_steps_as_have_room(inches, n, named):
    # the labels are measured in points, as the axis's length is (a mutant measuring them at 100 dpi found them
    # 39 % wider and named 0, 500, 1000 on 4 inches, and survived: only overlaps were tested)
    fig, ax = plots.subplots(figsize=(inches, 2))
    x = np.array([0, n])
    ax.plot(x, [0.0, 1.0])
    plots.step_axis(ax, x)
    fig.canvas.draw()
    assert _named(ax) == named
