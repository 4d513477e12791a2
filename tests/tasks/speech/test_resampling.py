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
        assert given * r.up // r.down - sum(p.size for p in pieces) < (r.margin + r.down) * r.up // r.down
        if rng.random() < 0.3:
            state = {k: (v.tolist() if k == "held" else v) for k, v in r.state().items()}
            r = BlockResampler.restored(src, dst, state, eager=True)
    pieces.append(r.flush())
    np.testing.assert_array_equal(np.concatenate(pieces), resample(x, src, dst))
    with pytest.raises(ValueError, match="do not fit together"):
        BlockResampler.restored(src, dst, {**r.state(), "done": r.state()["done"] + r.down}, eager=True)


@pytest.mark.parametrize("src, dst, up, down", [(44100, 16000, 160, 441), (8000, 16000, 2, 1), (48000, 16000, 1, 3)])
def test_a_sine_keeps_its_frequency_and_energy_at_the_new_rate(src, dst, up, down):
    """``resample`` is scipy's polyphase filter at the reduced ratio (16000/44100 = 160/441): one second of
    a 440 Hz sine of amplitude 0.5 comes out as dst samples (ceil(n * up / down)), its spectrum peaking at
    440 Hz and its mean square that of the sine, 0.5² / 2 = 0.125."""
    from scipy.signal import resample_poly
    x = (0.5 * np.sin(2 * np.pi * 440 * np.arange(src) / src)).astype(np.float32)
    y = resample(x, src, dst)
    assert y.dtype == np.float32 and y.shape == (dst,)
    np.testing.assert_allclose(y, resample_poly(x, up, down), rtol=0, atol=1e-6)
    assert np.argmax(np.abs(np.fft.rfft(y))) == 440                  # 1 s: bin k is k Hz
    middle = y[dst // 10: -dst // 10]                                 # the filter's edges aside
    assert abs(np.mean(middle.astype(np.float64) ** 2) - 0.125) < 0.002


@pytest.mark.parametrize("src, dst", [(8000, 16000), (44100, 16000)])
def test_an_eager_resampler_answers_as_soon_as_a_block_settles_its_first_outputs(src, dst):
    """An output sample is settled once the input reaches past it by the filter's reach (``margin``):
    ``margin + down`` input samples settle the first ``down`` of them, ``up`` output samples; one
    fewer settles none. Those are the whole wave's first samples."""
    x = np.sin(np.arange(50_000) / 7).astype(np.float32)
    r = BlockResampler(src, dst, eager=True)
    assert r(x[: r.margin + r.down - 1]).size == 0
    whole = resample(x, src, dst)
    np.testing.assert_array_equal(r(x[r.margin + r.down - 1: r.margin + r.down]), whole[: r.up])
    rest = [r(x[k: k + 1000]) for k in range(r.margin + r.down, x.size, 1000)]
    np.testing.assert_array_equal(np.concatenate([whole[: r.up], *rest, r.flush()]), whole)


def test_a_resamplers_state_no_resampler_holds_is_refused():
    """A count read back as 4.0 (a float in JSON) is refused by name, whichever count it is, and so is
    input waiting that a resampler would have answered."""
    r = BlockResampler(8000, 16000, eager=True)
    r(np.ones(100, np.float32))
    state = r.state()
    BlockResampler.restored(8000, 16000, state, eager=True)
    for key in ("start", "end", "done"):
        with pytest.raises(ValueError, match="not whole numbers"):
            BlockResampler.restored(8000, 16000, {**state, key: float(state[key])}, eager=True)
    # an eager resampler answers once margin + down samples wait past ``done``: one holding as many holds none
    short = state["done"] + r.margin + r.down - state["end"]
    waiting = {**state, "held": np.concatenate([state["held"], np.ones(short, np.float32)]), "end": state["end"] + short}
    with pytest.raises(ValueError, match="do not fit together"):
        BlockResampler.restored(8000, 16000, waiting, eager=True)
    fewer = {**waiting, "held": waiting["held"][:-1], "end": waiting["end"] - 1}
    assert BlockResampler.restored(8000, 16000, fewer, eager=True)(np.ones(1, np.float32)).size == r.up
