"""``LengthSortedOnnxNet``'s grouping, checked against a stand-in graph (no ONNX Runtime): each row's
answer is its own steps' sum, so a row cut short or given another row's answer shows at once."""
import numpy as np
import pytest
import torch

from lstmkit.deploy.onnx_engine import LengthSortedOnnxNet


class _Graph:
    """A graph ``(x, lengths) -> y`` whose row answer reads the steps up to its length only, and
    which records each call's ``(steps, lengths)``."""

    def __init__(self):
        self.calls = []

    def run(self, x, state=None, lengths=None):
        self.calls.append((x.shape[1], None if lengths is None else np.array(lengths)))
        n = np.full(x.shape[0], x.shape[1]) if lengths is None else np.asarray(lengths)
        n = np.clip(n, 0, x.shape[1])
        y = np.stack([x[i, :n[i]].sum(axis=0) for i in range(x.shape[0])]).astype(np.float32)
        return y, []


def _batch(lengths, steps):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(len(lengths), steps, 2, generator=g)
    return x, torch.as_tensor(lengths)


def _want(x, lengths):
    return np.stack([x[i, :n].sum(0).numpy() for i, n in enumerate(lengths.tolist())])


@pytest.mark.parametrize("lengths, rows, most", [
    ([5, 2, 9, 2, 7, 1, 9, 3, 4, 8, 6, 2], 3, None),
    ([4] * 10, 3, 4),                                       # one length: groups of at most `most` rows
    ([6, 6, 6, 1, 6], 2, None),
    ([3, 1, 2], 8, None),                                   # fewer rows than a group: one call, cut
])
def test_groups_answer_every_row_in_the_callers_order_each_cut_to_its_longest(lengths, rows, most):
    graph = _Graph()
    net = LengthSortedOnnxNet(graph, rows=rows, most=most)
    x, n = _batch(lengths, steps=10)
    got = net(x, n).numpy()
    np.testing.assert_allclose(got, _want(x, n), rtol=1e-6, atol=1e-6)
    limit = most or 2 * rows
    assert sum(len(c) for _, c in graph.calls) == len(lengths)
    for steps, called in graph.calls:
        assert steps == called.max() and len(called) <= limit      # no step past the group's longest
    assert max(s for s, _ in graph.calls) == max(lengths) < 10          # never the padded width


def test_a_group_takes_the_rows_as_long_as_its_longest_without_padding_them():
    graph = _Graph()
    net = LengthSortedOnnxNet(graph, rows=2)
    x, n = _batch([1, 2, 2, 2, 5], steps=6)
    net(x, n)
    assert [(s, sorted(c.tolist())) for s, c in graph.calls] == [(2, [1, 2, 2, 2]), (5, [5])]


@pytest.mark.parametrize("lengths", [[3, 0, 2], [3, 7, 2]])
def test_lengths_outside_one_to_steps_go_to_the_graph_as_one_batch(lengths):
    graph = _Graph()
    x, n = _batch(lengths, steps=6)
    LengthSortedOnnxNet(graph, rows=1)(x, n)
    assert len(graph.calls) == 1 and graph.calls[0][0] == 6


def test_one_row_and_no_lengths_run_as_they_are():
    graph = _Graph()
    net = LengthSortedOnnxNet(graph, rows=1)
    x, n = _batch([4], steps=6)
    np.testing.assert_allclose(net(x, n).numpy(), _want(x, n), rtol=1e-6)
    assert graph.calls[-1][0] == 6
    x, _ = _batch([6, 6], steps=6)
    np.testing.assert_allclose(net(x).numpy(), x.sum(1).numpy(), rtol=1e-6)


def test_a_batch_padded_to_its_longest_row_is_still_grouped():
    """The usual batch: padded to its longest row, so that row's length is the padded width."""
    graph = _Graph()
    x, n = _batch([2, 6, 2, 2, 1, 6], steps=6)
    got = LengthSortedOnnxNet(graph, rows=2)(x, n).numpy()
    np.testing.assert_allclose(got, _want(x, n), rtol=1e-6, atol=1e-6)
    assert [s for s, _ in graph.calls] == [2, 6]


def test_rows_fewer_than_a_call_holds_are_still_grouped_when_their_lengths_differ():
    graph = _Graph()
    x, n = _batch([5, 1, 2], steps=5)
    got = LengthSortedOnnxNet(graph, rows=2)(x, n).numpy()           # at most 4 rows a call: all 3 could go in one
    np.testing.assert_allclose(got, _want(x, n), rtol=1e-6, atol=1e-6)
    assert [s for s, _ in graph.calls] == [2, 5]
