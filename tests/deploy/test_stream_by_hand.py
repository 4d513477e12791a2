"""deploy.streaming's :class:`Stream` over cores whose answers can be worked out by hand: a window
mode's answer is its core over the last ``window`` observations (the first repeated in front for a
net that reads a whole window), a state mode's is the core run over the whole history from a zero
state, and a stream's slot, bound and refusal hold exactly at their edges."""
import numpy as np
import pytest

from lstmkit.deploy.streaming import Stream
from lstmkit.errors import LstmkitError


def window_sum(x, state):
    """``x [1, n, 1]`` -> the sum of the rows read, ``[1, 1]``."""
    return x.sum(axis=1), state


class RunningSum:
    """A recurrent core: ``h_t = h_{t-1} + x_t``, answer ``h_t``; its whole-sequence answer is the
    sum of every observation so far."""

    state_names = ("h",)

    def __call__(self, x, state):
        h = state[0] + x.sum()
        return h[0], [h]                               # [1, 1], [[L=1, B=1, H=1]]


def _state_stream(**kw):
    return Stream(RunningSum(), 1, mode="state", state_shape=(1, 1), **kw)


def test_window_mode_answers_on_the_last_window_observations():
    s = Stream(window_sum, 1, mode="window", window=3)
    assert [float(s.step([v])[0]) for v in (1, 2, 3, 4, 5)] == [1, 3, 6, 9, 12]


def test_a_whole_window_net_reads_the_first_row_repeated_in_front_until_the_window_is_full():
    s = Stream(window_sum, 1, mode="window", window=3, whole_window=True)
    # [1,1,1], [1,1,2], [1,2,3], [2,3,4]
    assert [float(s.step([v])[0]) for v in (1, 2, 3, 4)] == [3, 4, 6, 9]


def test_state_mode_answers_as_the_core_over_the_whole_history_and_reset_starts_from_zero():
    s = _state_stream()
    assert [float(s.step([v])[0]) for v in (1, 2, 3, 4)] == [1, 3, 6, 10]
    assert s.steps() == 4 and s.steps("never-opened") == 0
    s.reset()
    assert float(s.step([5])[0]) == 5 and s.steps() == 1


def test_a_restored_state_stream_goes_on_as_the_whole_history_would():
    s = _state_stream()
    s.run([1, 2, 3])
    saved = s.state_dict()
    t = _state_stream()
    t.load_state_dict(saved)
    assert t.steps() == 3 and float(t.step([4])[0]) == 10


@pytest.mark.parametrize("steps", [1, 2, 3, 5])
def test_a_restored_window_stream_goes_on_as_the_whole_history_would(steps):
    """A window saved after fewer steps than the window holds them all; after more, the last ``window``."""
    s = Stream(window_sum, 1, mode="window", window=3)
    s.run(range(1, steps + 1))
    saved = s.state_dict()
    assert len(saved["streams"]["default"]["window"]) == min(steps, 3)
    t = Stream(window_sum, 1, mode="window", window=3)
    t.load_state_dict(saved)
    assert float(t.step([10])[0]) == 10 + sum(range(max(1, steps - 1), steps + 1))


def test_a_saved_window_of_the_wrong_length_for_its_steps_is_refused():
    s = Stream(window_sum, 1, mode="window", window=3)
    s.run([1, 2])
    saved = s.state_dict()
    for rows, steps in (([[1.0]], 2), ([[1.0], [2.0], [3.0]], 2), ([[1.0], [2.0]], 5)):
        bad = {**saved, "streams": {"default": {"steps": steps, "window": rows}}}
        with pytest.raises(LstmkitError, match="window rows after"):
            Stream(window_sum, 1, mode="window", window=3).load_state_dict(bad)


@pytest.mark.parametrize("window", [0, -1, 2.0, None])
def test_a_window_stream_needs_a_positive_whole_window(window):
    with pytest.raises(LstmkitError, match="`window` must be a positive integer"):
        Stream(window_sum, 1, mode="window", window=window)
    assert float(Stream(window_sum, 1, mode="window", window=1).run([4, 7])[-1][0]) == 7


def test_a_step_refusal_is_asked_with_the_steps_the_stream_has_taken():
    """``step_refusal(steps)``: a new stream has taken 0 steps; a refusal at 2 lets exactly two through,
    leaves the stream at 2, and another id has its own count."""
    asked = []

    def at_most_two(steps):
        asked.append(steps)
        return LstmkitError("the series is longer than 2 steps", "reset the stream") if steps >= 2 else None

    s = Stream(window_sum, 1, mode="window", window=3, step_refusal=at_most_two)
    s.run([1, 2])
    with pytest.raises(LstmkitError, match="stream 'default': the series is longer than 2 steps"):
        s.step([3])
    assert asked == [0, 1, 2] and s.steps() == 2
    assert float(s.step([4], id="b")[0]) == 4


def test_max_streams_opens_exactly_that_many_ids():
    s = _state_stream(max_streams=2)
    s.step([1], id="a")
    s.step([1], id="b")
    with pytest.raises(LstmkitError, match=r"too many open streams \(2\)"):
        s.step([1], id="c")
    assert s.ids == ["a", "b"]
    s.reset("a")
    s.step([1], id="c")
    assert s.ids == ["b", "c"]


@pytest.mark.parametrize("state", [[1, 2], "state", None, {"streams": {}}, {"format": "other", "streams": {}}])
def test_what_is_no_stream_state_is_refused_as_such(state):
    with pytest.raises(LstmkitError, match="not an lstmkit stream state"):
        _state_stream().load_state_dict(state)


class TwoStates:
    """A core with an LSTM's two state arrays: ``h`` counts the steps, ``c`` sums the observations."""

    state_names = ("h", "c")

    def __call__(self, x, state):
        h, c = state[0] + 1, state[1] + x.sum()
        return c[0], [h, c]


def test_a_saved_state_with_any_array_of_the_wrong_shape_is_refused_whole():
    s = Stream(TwoStates(), 1, mode="state", state_shape=(1, 1))
    s.run([1, 2])
    s.step([5], id="kept")
    saved = s.state_dict()
    assert saved["streams"]["default"] == {"steps": 2, "h": [[[2.0]]], "c": [[[3.0]]]}
    for bad in ({"h": [[[2.0, 0.0]]]}, {"c": [[[3.0], [0.0]]]}, {"h": [[2.0]], "c": [[3.0]]}):
        t = Stream(TwoStates(), 1, mode="state", state_shape=(1, 1))
        t.step([7], id="kept")
        with pytest.raises(LstmkitError, match="state shape"):
            t.load_state_dict({**saved, "streams": {**saved["streams"], "default": {"steps": 2, **{
                "h": [[[2.0]]], "c": [[[3.0]]], **bad}}}})
        assert t.ids == ["kept"] and float(t.step([1], id="kept")[0]) == 8     # the open streams as they were


def test_a_window_streams_saved_steps_without_its_rows_are_refused():
    """``{"steps": 2}`` in window mode would restore a stream that had read 2 observations with none of them."""
    with pytest.raises(LstmkitError, match="no window rows after 2 steps"):
        Stream(window_sum, 1, mode="window", window=3).load_state_dict(
            {**Stream(window_sum, 1, mode="window", window=3).state_dict(), "streams": {"a": {"steps": 2}}})


@pytest.mark.parametrize("rows", [[[1, 2, 3], [4, 5, 6]], [1, 2, 3, 4, 5, 6], [[[1, 2], [3, 4], [5, 6]]]])
def test_a_saved_window_whose_rows_are_not_the_streams_width_is_refused_not_recut(rows):
    """A window of 2 observations of 3 values restored into a stream reading 2 values per observation
    was re-cut into 3 rows of 2 (and a flat list into rows) without a word; state mode refuses an array
    of another shape, and so does window mode now."""
    s = Stream(window_sum, 2, mode="window", window=3)
    with pytest.raises(LstmkitError, match=r"window of shape .*, expected rows of 2 values"):
        s.load_state_dict({**s.state_dict(), "streams": {"a": {"steps": 3, "window": rows}}})
    assert s.ids == []
    s.load_state_dict({**s.state_dict(), "streams": {"a": {"steps": 3, "window": [[1, 2], [3, 4], [5, 6]]}}})
    assert s.step([7, 8], id="a").tolist() == [3 + 5 + 7, 4 + 6 + 8]      # the last 3 rows, column by column


@pytest.mark.parametrize("core, shape", [(window_sum, (1, 1)), (RunningSum(), None), (window_sum, None)])
def test_state_mode_needs_a_core_with_state_and_its_shape(core, shape):
    """A core that names no state arrays (or a stream told no state shape) has nothing to carry."""
    with pytest.raises(LstmkitError, match="this model has no recurrent state to carry") as e:
        Stream(core, 1, mode="state", state_shape=shape)
    assert e.value.hint == "use mode='window'"


class CountingExtra:
    """A :class:`~lstmkit.deploy.streaming.StreamExtra` that passes each observation of 2 values to the
    network as it is and keeps how many it has seen (``aux``)."""

    keys = ()

    def header(self):
        return {"kind": "counting"}

    def begin(self, x_t, id, aux, steps):
        return np.asarray(x_t, dtype=np.float32), {}, (aux or 0) + 1

    def finish(self, y, pending):
        return float(np.asarray(y).sum()), pending

    def arrays(self, aux):
        return {}

    def fields(self, aux):
        return {}

    def restore(self, rec, steps):
        return steps


@pytest.mark.parametrize("mode, want", [("state", [3, 10, 21]), ("window", [3, 7, 11])])
def test_a_stream_extras_observations_of_several_values_reach_the_network_whole(mode, want):
    """Through a StreamExtra, state mode carries the running sum over every value so far
    (3, 3+7, 10+11); in window mode the network reads the rows the extra gives (here the newest alone)."""
    s = Stream(RunningSum() if mode == "state" else window_sum, 2, mode=mode, window=2,
               state_shape=(1, 1) if mode == "state" else None, extra=CountingExtra())
    assert [s.step(x) for x in ([1, 2], [3, 4], [5, 6])] == want
    assert s.steps() == 3 and s._slots["default"].aux == 3


@pytest.mark.parametrize("version, words", [(2, "written by a newer lstmkit (stream state version 2)"),
                                            (0, "not a positive whole number"), ("1", "not a positive whole number"),
                                            (True, "not a positive whole number")])
def test_a_state_of_another_layout_version_is_refused_not_read_as_this_ones(version, words):
    s = _state_stream()
    s.run([1, 2])
    saved = {**s.state_dict(), "version": version}
    t = _state_stream()
    with pytest.raises(LstmkitError, match=words.replace("(", r"\(").replace(")", r"\)")):
        t.load_state_dict(saved)
    assert t.steps() == 0                           # nothing restored


def test_a_state_saved_without_a_version_restores_as_this_layout():
    s = _state_stream()
    s.run([1, 2])
    saved = {k: v for k, v in s.state_dict().items() if k != "version"}
    t = _state_stream()
    t.load_state_dict(saved)
    assert float(t.step([3])[0]) == 6
