"""Progress of the jobs that are not training (lstmkit.train.progress.track)."""
import io
import threading
import warnings

import pytest

from lstmkit.train import progress
from lstmkit.train.progress import track


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _a_terminal_that_redraws(monkeypatch):
    """A terminal here is one that can redraw a line, whatever TERM the tests run under (a CI's may be dumb),
    and 120 columns wide, whatever COLUMNS or the terminal pytest runs in says: rich fits a bar to the width,
    and at 20 columns 'translating 5/5' was drawn 'translati… batc…'."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")


def _live_threads() -> list:
    """rich's refresh threads still running a minute after being told to stop (a bar never stopped
    refreshes until the process ends). A stopped one ends when it next runs, which a busy machine may
    put off: rich's ``Live.stop`` does not wait for it."""
    from rich.live import _RefreshThread
    threads = [t for t in threading.enumerate() if isinstance(t, _RefreshThread)]
    for t in threads:
        t.join(60.0)
    return [t for t in threads if t.is_alive()]


def test_items_pass_through_unchanged_in_every_mode():
    for mode in ("auto", "bar", "log", "off"):
        assert list(track(iter(range(7)), 7, "x", mode, stream=Terminal(), every=0)) == list(range(7))


def test_a_terminal_gets_a_bar_with_the_count():
    out = Terminal()
    assert list(track(range(5), 5, "translating", stream=out)) == list(range(5))
    assert "translating" in out.getvalue() and "5/5" in out.getvalue()
    assert not _live_threads()                      # the bar stopped with the job


def test_elsewhere_log_lines_with_eta_and_quiet_when_quick(monkeypatch):
    out = io.StringIO()                             # not a terminal
    list(track(range(4), 4, "decoding", stream=out, every=0))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("decoding: 1/4 batches") and len(lines) == 4
    assert "ETA" not in lines[0] and "ETA" in lines[1]          # the pace is measured from the first batch on
    quick = io.StringIO()
    list(track(range(4), 4, "decoding", stream=quick))       # well under LOG_EVERY_S
    assert quick.getvalue() == ""
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)         # the default is read at call time
    list(track(range(3), 3, "decoding", stream=quick))
    assert quick.getvalue().count("decoding:") == 3


def test_the_eta_weighs_the_work_left_not_the_items_left(monkeypatch):
    """Prediction batches come shortest first: after 3 of 4 batches, the last of which is 7 times the
    work of each before it, the ETA said 1 s where 7 remained. With each item's work it is the work left."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    work = [1, 1, 1, 7]
    out = io.StringIO()
    for w in track(work, 4, "classifying", stream=out, every=0, work=work):
        now[0] += w                                 # each batch takes its work in seconds
    lines = out.getvalue().splitlines()
    assert [line.partition("ETA ")[2] for line in lines] == ["", "8s", "7s", "0s"]
    assert lines[2].startswith("classifying: 3/4 batches, 3s")      # the count is of the batches still
    out = Terminal()
    assert list(track(range(4), 4, "classifying", stream=out, work=work)) == list(range(4))
    assert "4/4" in out.getvalue() and not _live_threads()


def test_the_work_done_ends_whole():
    """A rounding short of the whole (0.9999999999999999 of IMDB reviews' 16 batches) left the bar's last
    half-cell empty when every batch was done."""
    work = [17664, 25856, 29952, 32512, 34816, 37632, 40960, 44800, 49408, 54784, 62464, 72960, 86528, 102400,
            102400, 64000]
    assert progress._work_done(work, 16)[-1] == 1.0


def test_the_eta_leaves_out_the_first_batchs_start(monkeypatch):
    """The first batch carries the start (threads, buffers): 6 s where each other took 1, the ETA from
    the whole time said 10 s where 3 remained (on IMDB reviews: 317 s where 25 did). It is the pace from
    the first batch's end on."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    out = io.StringIO()
    for i in track(range(5), 5, "classifying", stream=out, every=0):
        now[0] += 6.0 if i == 0 else 1.0
    assert [line.partition("ETA ")[2] for line in out.getvalue().splitlines()] == ["", "3s", "2s", "1s", "0s"]


def test_off_and_a_single_batch_print_nothing():
    out = Terminal()
    list(track(range(9), 9, "x", "off", stream=out))
    list(track(range(1), 1, "x", "bar", stream=out))
    assert out.getvalue() == ""


def test_ctrl_c_mid_job_stops_the_bar():
    out = Terminal()
    with pytest.raises(KeyboardInterrupt):
        for i in track(range(100), 100, "scoring", stream=out):
            if i == 3:
                raise KeyboardInterrupt
    assert not _live_threads()


def test_a_bad_mode_is_named():
    with pytest.raises(ValueError, match="progress must be"):
        list(track(range(2), 2, "x", "loud"))


@pytest.mark.parametrize("term", ["dumb", "unknown"])
def test_a_dumb_terminal_gets_log_lines_not_a_bar(term, monkeypatch):
    """TERM=dumb (Emacs' shell, some CI consoles): rich draws a bar only when it stops, so a job showed
    nothing while it ran (a transient bar: nothing at all), and a training nothing until its end."""
    from lstmkit.train.callbacks import ProgressDisplay
    monkeypatch.setenv("TERM", term)
    out = Terminal()
    list(track(range(4), 4, "decoding", stream=out, every=0))
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and lines[0].startswith("decoding: 1/4 batches"), out.getvalue()
    assert ProgressDisplay("auto", stream=Terminal()).mode == "log"
    monkeypatch.setenv("TERM", "xterm")
    assert ProgressDisplay("auto", stream=Terminal()).mode == "bar"


def test_a_bar_in_a_notebook_without_ipywidgets_is_log_lines_with_one_warning(monkeypatch):
    """rich draws a Jupyter notebook's bar as a widget: without ipywidgets, progress='bar' warned 'install
    "ipywidgets" for Jupyter support' from rich's own file and showed nothing while the job ran."""
    import sys

    import rich.console
    from lstmkit.train.callbacks import ProgressDisplay
    monkeypatch.setattr(rich.console, "_is_jupyter", lambda: True)        # what rich sees in a notebook's kernel
    monkeypatch.setitem(sys.modules, "ipywidgets", None)                  # not installed
    monkeypatch.setattr(progress, "_TOLD_NO_WIDGETS", [])
    out = io.StringIO()                                                   # ipykernel's stdout is no terminal
    with pytest.warns(UserWarning, match=r"needs ipywidgets.*shown as log lines instead — pip install ipywidgets"):
        assert ProgressDisplay("bar", stream=out).mode == "log"
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                    # said once a session, not by every job
        list(track(range(3), 3, "decoding", "bar", stream=out, every=0))
    assert out.getvalue().count("decoding:") == 3
    assert ProgressDisplay("auto", stream=out).mode == "log"              # auto: log lines, as before, no warning
    monkeypatch.setattr(rich.console, "_is_jupyter", lambda: False)
    assert ProgressDisplay("bar", stream=out).mode == "bar"               # elsewhere the bar is the bar


def test_log_lines_come_once_every_interval_has_passed_and_count_from_the_start(monkeypatch):
    """Items of 1 s each, a line every 2 s, the clock starting at 100: lines at 2, 4 and 6 s, each with
    the time since the start and the items left at the pace since the first (1 s each)."""
    now = [100.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    out = io.StringIO()
    for _ in track(range(6), 6, "decoding", stream=out, every=2.0):
        now[0] += 1.0
    assert out.getvalue().splitlines() == ["decoding: 2/6 batches, 2s, ETA 4s", "decoding: 4/6 batches, 4s, ETA 2s",
                                           "decoding: 6/6 batches, 6s, ETA 0s"]


def test_the_work_done_is_each_items_share_of_the_whole_or_none_when_it_cannot_weigh_them():
    assert progress._work_done([0.25, 0.25, 0.5], 3) == [0.25, 0.5, 1.0]     # work summing under 1 weighs too
    assert progress._work_done([2, 2, 4], 3) == [0.25, 0.5, 1.0]
    for work, total in (([0, 0, 0], 3), ([1, 2], 3), ([1, 2, 3], None), (None, 3)):
        assert progress._work_done(work, total) is None
