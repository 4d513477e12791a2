import pytest
import torch

from lstmkit.data.windows import WindowBatches, make_windows, n_windows
from lstmkit.errors import LstmkitError


def _series(n=50, f=3, t=2):
    inputs = torch.arange(n * f, dtype=torch.float32).reshape(n, f)  # [N, F]
    targets = -torch.arange(n * t, dtype=torch.float32).reshape(n, t)  # [N, T]
    return inputs, targets


@pytest.mark.parametrize("lookback,horizon", [(1, 1), (5, 3), (10, 1), (48, 2)])
def test_windows_equal_naive_loop(lookback, horizon):
    inputs, targets = _series()
    x, y = make_windows(inputs, targets, lookback, horizon)
    n = 50 - lookback - horizon + 1
    assert x.shape == (n, lookback, 3) and y.shape == (n, horizon, 2)
    assert n == n_windows(50, lookback, horizon)
    for i in range(n):
        assert torch.equal(x[i], inputs[i:i + lookback])
        assert torch.equal(y[i], targets[i + lookback:i + lookback + horizon])


def test_windows_are_views_without_copy():
    inputs, targets = _series(1000)
    x, y = make_windows(inputs, targets, 60, 5)
    assert x.untyped_storage().data_ptr() == inputs.untyped_storage().data_ptr()
    assert y.untyped_storage().data_ptr() == targets.untyped_storage().data_ptr()
    assert x.data_ptr() == inputs.data_ptr()
    assert y.data_ptr() == targets[60].data_ptr()
    inputs[100, 0] = 12345.0  # a write to the series shows through every window that covers it
    assert x[41, 59, 0] == 12345.0 and x[100, 0, 0] == 12345.0


def test_same_tensor_for_inputs_and_targets():
    s = torch.arange(20.0).reshape(20, 1)
    x, y = make_windows(s, s, 4, 2)
    assert torch.equal(x[0, :, 0], torch.tensor([0.0, 1, 2, 3]))
    assert torch.equal(y[0, :, 0], torch.tensor([4.0, 5]))
    assert torch.equal(y[-1, :, 0], torch.tensor([18.0, 19]))


@pytest.mark.parametrize("name,kwargs", [
    ("lookback", dict(lookback=0, horizon=1)),
    ("lookback", dict(lookback=-3, horizon=1)),
    ("lookback", dict(lookback=2.5, horizon=1)),
    ("lookback", dict(lookback=True, horizon=1)),
    ("horizon", dict(lookback=3, horizon=0)),
])
def test_bad_sizes_raise(name, kwargs):
    inputs, targets = _series()
    with pytest.raises(LstmkitError, match=f"`{name}` must be a positive integer, got"):
        make_windows(inputs, targets, **kwargs)


def test_too_short_and_shape_errors():
    inputs, targets = _series(10)
    with pytest.raises(LstmkitError, match="10 points, need at least 11"):
        make_windows(inputs, targets, 8, 3)
    make_windows(inputs, targets, 8, 2)  # exactly one window
    with pytest.raises(LstmkitError, match="same length, got 10 and 9"):
        make_windows(inputs, targets[:9], 3, 1)
    with pytest.raises(LstmkitError, match="2-D tensor"):
        make_windows(inputs[:, 0], targets, 3, 1)


def test_batches_cover_all_windows_in_order():
    inputs, targets = _series(100)
    x, y = make_windows(inputs, targets, 7, 2)  # 92 windows
    batches = WindowBatches(x, y, batch_size=10)
    assert len(batches) == 10
    got = list(batches)
    assert [b[0].shape[0] for b in got] == [10] * 9 + [2]
    assert torch.equal(torch.cat([b[0] for b in got]), x)
    assert torch.equal(torch.cat([b[1] for b in got]), y)
    xb = got[0][0]
    assert xb.is_contiguous() and xb.data_ptr() != inputs.data_ptr()  # a batch is its own copy


def test_batches_with_indices_shuffle_and_drop_last():
    inputs, targets = _series(100)
    x, y = make_windows(inputs, targets, 7, 2)
    idx = torch.arange(20, 65)  # 45 windows
    batches = WindowBatches(x, y, indices=idx, batch_size=8, shuffle=True,
                            generator=torch.Generator().manual_seed(0), drop_last=True)
    assert len(batches) == 5
    seen = []
    for xb, yb in batches:
        assert xb.shape == (8, 7, 3) and yb.shape == (8, 2, 2)
        # recover each window's index from its first input value (row i starts at i * F)
        rows = (xb[:, 0, 0] / 3).long()
        for r, xi, yi in zip(rows.tolist(), xb, yb):
            assert torch.equal(xi, x[r]) and torch.equal(yi, y[r])
        seen += rows.tolist()
    assert len(seen) == 40 and len(set(seen)) == 40 and set(seen) <= set(idx.tolist())
    assert seen != sorted(seen)  # shuffled

    def order(seed):
        b = WindowBatches(x, y, indices=idx, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(seed))
        return torch.cat([xb[:, 0, 0] for xb, _ in b]).tolist()

    assert order(1) == order(1) and order(1) != order(2)
    assert sorted(order(1)) == sorted((idx * 3).float().tolist())  # no drop_last: all 45


def test_batches_with_indices_sequential():
    inputs, targets = _series(100)
    x, y = make_windows(inputs, targets, 7, 2)
    idx = torch.tensor([5, 3, 90, 0])
    xb, yb = next(iter(WindowBatches(x, y, indices=idx, batch_size=3)))
    assert torch.equal(xb, x[idx[:3]]) and torch.equal(yb, y[idx[:3]])
    assert len(WindowBatches(x, y, indices=idx, batch_size=3)) == 2


def test_batches_validate():
    inputs, targets = _series(100)
    x, y = make_windows(inputs, targets, 7, 2)
    with pytest.raises(LstmkitError, match="must lie in"):
        WindowBatches(x, y, indices=torch.tensor([0, 92]))
    with pytest.raises(LstmkitError, match="1-D integer tensor"):
        WindowBatches(x, y, indices=torch.tensor([0.0, 1.0]))
    with pytest.raises(LstmkitError, match="`batch_size` must be a positive integer, got 0"):
        WindowBatches(x, y, batch_size=0)


def test_a_negative_index_is_refused_like_one_past_the_end():
    """Only the largest index was ever checked: a negative one would have drawn from the end."""
    inputs, targets = _series(100)
    x, y = make_windows(inputs, targets, 7, 2)
    with pytest.raises(LstmkitError, match=r"must lie in \[0, 92\), got \[-1, 3\]"):
        WindowBatches(x, y, indices=torch.tensor([3, -1]))
    WindowBatches(x, y, indices=torch.tensor([0, 91]))          # both ends of the range are windows


def test_a_shuffle_keeps_int32_indices_while_the_largest_fits():
    from lstmkit.data.windows import _perm_dtype
    top = torch.iinfo(torch.int32).max                          # 2**31 - 1: the largest index of 2**31 windows
    assert _perm_dtype(1) == torch.int32 and _perm_dtype(top + 1) == torch.int32
    assert _perm_dtype(top + 2) == torch.int64 and _perm_dtype(3**31) == torch.int64
