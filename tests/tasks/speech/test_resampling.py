"""Resampling a wave given block by block equals resampling it whole."""
import numpy as np
import pytest

from lstmkit.tasks.speech import resampling
from lstmkit.tasks.speech.resampling import BlockResampler, resample


@pytest.mark.parametrize("src, dst", [(44100, 16000), (48000, 16000), (8000, 16000), (22050, 8000), (16000, 16000)])
def test_blocks_of_any_size_give_the_whole_waves_samples(monkeypatch, src, dst):
    monkeypatch.setattr(resampling, "_STEP", 3000)        # many parts, each joined to the next
    rng = np.random.default_rng(0)
    for n in (1, 999, 25_001):
        x = rng.standard_normal(n).astype(np.float32)
        r, pieces, start = BlockResampler(src, dst), [], 0
        while start < n:
            size = int(rng.integers(1, 5000))
            pieces.append(r(x[start: start + size]))
            start += size
        pieces.append(r.flush())
        got = np.concatenate(pieces)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, resample(x, src, dst))


def test_nothing_given_is_nothing_out():
    assert BlockResampler(44100, 16000).flush().shape == (0,)
