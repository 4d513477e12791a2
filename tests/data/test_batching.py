import numpy as np
import pytest
import torch

from lstmkit.data.batching import BucketBatches, Padded, Ragged, pad_batch, sorted_batches, truncate
from lstmkit.errors import LstmkitError


def test_truncate_modes():
    s = [1, 2, 3, 4, 5]
    assert truncate(s, 3, "head") == [1, 2, 3]
    assert truncate(s, 3, "tail") == [3, 4, 5]
    assert truncate(s, 3, "both") == [1, 2, 5]
    assert truncate(s, 4, "both") == [1, 2, 4, 5]
    assert truncate(s, None, "head") is s and truncate(s, 9, "both") is s
    assert torch.equal(truncate(torch.arange(5), 3, "both"), torch.tensor([0, 1, 4]))
    np.testing.assert_array_equal(truncate(np.arange(10).reshape(5, 2), 2, "both"), [[0, 1], [8, 9]])
    with pytest.raises(LstmkitError):
        truncate(s, 3, "middle")


def test_pad_batch_tokens_and_features():
    x, lengths = pad_batch([torch.tensor([5, 6, 7]), torch.tensor([8])])
    assert x.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    f, lengths = pad_batch([torch.ones(2, 3), torch.ones(4, 3)], pad_value=-1.0)
    assert f.shape == (2, 4, 3) and lengths.tolist() == [2, 4]
    assert (f[0, 2:] == -1).all()


def _seqs(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, 60, (n,), generator=g)
    return [torch.full((int(L),), i + 1) for i, L in enumerate(lengths)]


@pytest.mark.parametrize("shuffle,bucket", [(True, True), (True, False), (False, True), (False, False)])
def test_every_sequence_served_once_with_its_target(shuffle, bucket):
    seqs = _seqs()
    y = torch.arange(len(seqs))
    b = BucketBatches(seqs, y, batch_size=16, shuffle=shuffle, bucket=bucket, pool=4,
                      generator=torch.Generator().manual_seed(1))
    seen = []
    for (x, lengths), yb in b:
        assert x.shape[0] == lengths.shape[0] == yb.shape[0] <= 16
        assert (x[:, 0] - 1).tolist() == yb.tolist()                     # target aligned with sequence
        assert lengths.tolist() == [len(seqs[i]) for i in yb.tolist()]
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(len(seqs))) and len(b) == 13


def test_bucketing_cuts_padding_and_is_seeded():
    seqs = _seqs(400)
    plain = BucketBatches(seqs, None, 16, shuffle=True, bucket=False, generator=torch.Generator().manual_seed(0))
    bucketed = BucketBatches(seqs, None, 16, shuffle=True, bucket=True, generator=torch.Generator().manual_seed(0))
    assert bucketed.padding_fraction() < 0.2 < plain.padding_fraction()
    a = [i.tolist() for i in BucketBatches(seqs, None, 16, shuffle=True, generator=torch.Generator().manual_seed(3)).batch_indices()]
    b = [i.tolist() for i in BucketBatches(seqs, None, 16, shuffle=True, generator=torch.Generator().manual_seed(3)).batch_indices()]
    assert a == b


def test_unshuffled_bucketed_order_is_by_length():
    seqs = _seqs(50)
    lengths = [int(L) for _, _, L in BucketBatches(seqs, None, 8).iter_indexed() for L in L]
    assert lengths == sorted(lengths)


def test_a_fitted_model_s_batches_beside_one_very_long_sequence_stay_within_max_steps():
    """Unshuffled batches were batch_size rows whatever their length: one 5,000-word text padded the
    255 next-longest to its length (2.9 GB resident for a classifier's predict, 0.35 GB without it).
    With max_steps each batch holds at most that many padded steps; the long one goes alone."""
    seqs = _seqs(50) + [torch.full((500,), 7)]
    batches = BucketBatches(seqs, None, 8, max_steps=120)
    served = list(batches.iter_indexed())
    assert len(served) == len(batches) > 7 and sorted(i for idx, _, _ in served for i in idx.tolist()) == list(range(51))
    assert all(x.shape[0] * x.shape[1] <= 120 for _, x, _ in served[:-1]) and served[-1][1].shape == (1, 500)
    lengths = [int(L) for _, _, L in served for L in L]
    assert lengths == sorted(lengths)
    assert sorted_batches([5, 1, 3, 1], 2) == [[1, 3], [2, 0]]               # shortest first, ties in order
    assert sorted_batches([5, 1, 3, 1], 8, max_steps=6) == [[1, 3], [2], [0]]  # 3 rows x 3 > 6: split
    assert BucketBatches(seqs, None, 8, shuffle=True, max_steps=120).max_steps is None     # training: as it was


def test_bad_arguments():
    with pytest.raises(LstmkitError):
        BucketBatches(_seqs(3), torch.zeros(2))
    with pytest.raises(LstmkitError):
        BucketBatches(_seqs(3), batch_size=0)


def test_collated_batches_serve_every_item_once_in_buckets_fresh_each_pass():
    from lstmkit.data.batching import CollatedBatches
    seqs = [torch.zeros(n) for n in [5, 1, 4, 2, 3, 6, 1]]
    batches = CollatedBatches(seqs, lambda idx: sorted(idx), batch_size=3, shuffle=False)
    assert len(batches) == 3
    served = list(batches)
    assert sorted(i for b in served for i in b) == list(range(7))
    assert served[0] == [1, 3, 6]                      # sorted by length without shuffle: 1, 1, 2
    torch.manual_seed(0)
    shuffled = CollatedBatches(seqs, list, batch_size=2, shuffle=True)
    assert sorted(i for b in shuffled for i in b) == list(range(7))


def test_decoder_targets_shift_by_bos_and_eos():
    from lstmkit.data.batching import decoder_targets
    tgt_in, tgt_out = decoder_targets([torch.tensor([5, 6]), torch.tensor([7])], bos_id=2, eos_id=3, pad_value=0)
    assert tgt_in.tolist() == [[2, 5, 6], [2, 7, 0]]
    assert tgt_out.tolist() == [[5, 6, 3], [7, 3, 0]]


# -- Ragged: sequences end to end ---------------------------------------------------------------
def _ragged(seqs):
    lengths = torch.tensor([len(s) for s in seqs])
    return Ragged(torch.cat(seqs), lengths)


@pytest.mark.parametrize("keep", ["head", "tail", "both"])
@pytest.mark.parametrize("max_len", [1, 2, 5, 30, None])
def test_ragged_truncates_every_sequence_as_truncate_does(keep, max_len):
    seqs = [torch.arange(100 * k, 100 * k + int(n)) for k, n in enumerate(torch.randint(1, 40, (50,)))]
    got = _ragged(seqs).truncate(max_len, keep)
    assert len(got) == len(seqs)
    for k, s in enumerate(seqs):
        assert torch.equal(got[k], truncate(s, max_len, keep))
    with pytest.raises(LstmkitError):
        _ragged(seqs).truncate(3, "middle")


@pytest.mark.parametrize("start,stop", [(0, 50), (0, 1), (7, 8), (10, 31), (49, 50), (50, 50), (0, 0), (20, 20)])
def test_ragged_rows_are_its_sequences_start_to_stop_with_their_lengths_before_the_cut(start, stop):
    seqs = [torch.arange(100 * k, 100 * k + int(n)) for k, n in enumerate(torch.randint(1, 40, (50,)))]
    cut = _ragged(seqs).truncate(9, "both")
    part = cut.rows(start, stop)
    assert len(part) == stop - start
    assert all(torch.equal(a, b) for a, b in zip(part, list(cut)[start:stop]))
    assert part.cut_from.tolist() == [len(s) for s in seqs[start:stop]]
    assert part.lengths.tolist() == [min(len(s), 9) for s in seqs[start:stop]]


def test_ragged_pads_as_pad_batch_does_tokens_and_features():
    tokens = _seqs(60)
    features = [torch.randn(int(n), 3) for n in torch.randint(1, 20, (40,))]
    for seqs, pad in ((tokens, 0), (features, -1.5)):
        ragged = _ragged(seqs)
        assert all(torch.equal(a, b) for a, b in zip(ragged, seqs)) and len(ragged) == len(seqs)
        idx = torch.tensor([5, 0, 17, 3])
        x, lengths = ragged.pad(idx, pad)
        want_x, want_lengths = pad_batch([seqs[i] for i in idx.tolist()], pad)
        assert x.dtype == want_x.dtype and torch.equal(x, want_x) and torch.equal(lengths, want_lengths)
    with pytest.raises(LstmkitError, match="length 0"):
        Ragged(torch.tensor([1, 2]), torch.tensor([2, 0])).pad(torch.tensor([0, 1]))


def test_ragged_pads_one_sequence_as_pad_batch_does_into_a_copy_of_its_own():
    # one sequence (a service request's text) takes a shorter path than a batch: the same tensor, never a view
    tokens = _seqs(30)
    features = [torch.randn(int(n), 3) for n in torch.randint(1, 20, (12,))]
    for seqs, pad in ((tokens, 0), (features, -1.5)):
        ragged = _ragged(seqs)
        for i in (0, len(seqs) // 2, len(seqs) - 1):
            for idx in (torch.tensor([i]), [i]):
                x, lengths = ragged.pad(idx, pad)
                want_x, want_lengths = pad_batch([seqs[i]], pad)
                assert x.shape == want_x.shape and x.dtype == want_x.dtype and torch.equal(x, want_x)
                assert torch.equal(lengths, want_lengths) and x.is_contiguous()
                x.fill_(7)                      # the caller's to change: the ragged values stay as they were
                assert torch.equal(ragged[i], seqs[i])
    with pytest.raises(LstmkitError, match="length 0"):
        Ragged(torch.tensor([1, 2]), torch.tensor([2, 0])).pad(torch.tensor([1]))


@pytest.mark.parametrize("shuffle", [False, True])
def test_bucket_batches_of_a_ragged_are_those_of_its_list(shuffle):
    seqs = _seqs(300)
    batches = [BucketBatches(s, None, 32, shuffle=shuffle, generator=torch.Generator().manual_seed(3),
                             pad_value=0).iter_indexed() for s in (seqs, _ragged(seqs))]
    n = 0
    for (i1, x1, l1), (i2, x2, l2) in zip(*batches):
        assert torch.equal(i1, i2) and torch.equal(x1, x2) and torch.equal(l1, l2)
        n += len(i1)
    assert n == len(seqs)


def test_padded_steps_are_each_served_batchs_rows_times_its_longest():
    """What a prediction's progress weighs its batches by, shortest first: [2 x 2, 2 x 5, 1 x 9]."""
    seqs = [torch.zeros(n, dtype=torch.long) for n in (5, 2, 9, 1, 4)]
    batches = BucketBatches(seqs, None, 2)
    assert batches.padded_steps() == [len(L) * int(L.max()) for _, _, L in batches.iter_indexed()] == [4, 10, 9]


def test_truncate_returns_the_sequence_itself_when_it_is_no_longer_than_max_len():
    """The docstring's promise: ``seq`` itself when it is not longer than ``max_len`` (not a copy)."""
    s = [1, 2, 3, 4, 5]
    assert all(truncate(s, 5, keep) is s for keep in ("head", "tail", "both"))


def test_pad_batch_refuses_an_empty_sequence_as_ragged_pad_does():
    with pytest.raises(LstmkitError, match="length 0"):
        pad_batch([torch.tensor([1, 2]), torch.tensor([], dtype=torch.long)])
    with pytest.raises(LstmkitError, match="empty batch"):
        pad_batch([])


def test_an_empty_ragged_truncates_to_itself():
    empty = Ragged(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long))
    assert empty.truncate(3, "both") is empty and len(empty) == 0


def test_padding_share_is_the_padded_part_of_the_rows_times_steps():
    """Rows of 4 and 2 steps padded to 4: 2 of the 8 positions are padding."""
    x, lengths = pad_batch([torch.tensor([1, 2, 3, 4]), torch.tensor([5, 6])])
    assert Padded((x, lengths)).padding_share() == 0.25
    assert Padded((torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))).padding_share() == 0.0


def test_a_batch_of_exactly_max_steps_padded_steps_is_kept_whole():
    """'at most max_steps': 2 rows of 2 steps are 4 padded steps, within max_steps=4."""
    assert sorted_batches([2, 2, 2], 8, max_steps=4) == [[0, 1], [2]]
    assert sorted_batches([2, 2, 2], 8, max_steps=3) == [[0], [1], [2]]


@pytest.mark.parametrize("bad", [True, 2.5, 0, -1, "8"])
def test_batch_size_must_be_a_positive_integer(bad):
    with pytest.raises(LstmkitError, match="positive integer"):
        BucketBatches(_seqs(3), batch_size=bad)


def test_a_batch_size_of_one_serves_one_sequence_a_batch():
    batches = BucketBatches(_seqs(3), batch_size=1)
    assert len(batches) == 3 and [len(idx) for idx in batches.batch_indices()] == [1, 1, 1]
