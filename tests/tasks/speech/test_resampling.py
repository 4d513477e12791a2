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


@pytest.mark.parametrize("src, dst", [(44100, 16000), (8000, 16000), (48000, 16000), (16000, 8000)])
def test_an_eager_resampler_answers_each_block_at_once_and_goes_on_from_its_state(src, dst):
    """A stream's chunk is answered from the audio it brings: all but the filter's reach of its output
    comes out with it, and a resampler rebuilt from its state (as JSON) goes on as the first would."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(20_001).astype(np.float32)
    r, pieces, start = BlockResampler(src, dst, eager=True), [], 0
    while start < x.size:
        size = int(rng.integers(1, 2500))
        pieces.append(r(x[start: start + size]))
        start += size
        given = min(start, x.size)
        assert given * r.up // r.down - sum(p.size for p in pieces) <= (r.margin + r.down) * r.up // r.down
        if rng.random() < 0.3:
            state = {k: (v.tolist() if k == "held" else v) for k, v in r.state().items()}
            r = BlockResampler.restored(src, dst, state, eager=True)
    pieces.append(r.flush())
    np.testing.assert_array_equal(np.concatenate(pieces), resample(x, src, dst))
    with pytest.raises(ValueError, match="do not fit together"):
        BlockResampler.restored(src, dst, {**r.state(), "done": r.state()["done"] + r.down}, eager=True)
