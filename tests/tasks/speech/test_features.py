"""Log-mel / MFCC features, normalisation and SpecAugment against known answers."""
import numpy as np
import pytest
import torch

from lstmkit.tasks.speech import features
from lstmkit.tasks.speech.features import (FeatureSpec, Normalizer, _hz_to_mel, frame_count, log_mel,
                                           mel_filterbank, spec_augment)


def test_filterbank_triangles_have_unit_area_and_increasing_centres():
    fb = mel_filterbank(8000, 256, 20)
    assert fb.shape == (20, 129) and (fb >= 0).all()
    hz_per_bin = 8000 / 256
    np.testing.assert_allclose(fb.sum(axis=1) * hz_per_bin, 1.0, rtol=0.15)
    assert (np.diff(fb.argmax(axis=1)) > 0).all()


def test_frames_and_a_tone_lands_in_its_mel_band():
    spec = FeatureSpec(rate=8000, n_mels=20)
    assert (spec.win, spec.hop, spec.n_fft) == (200, 80, 256)
    t = np.arange(8000) / 8000
    f = log_mel(np.sin(2 * np.pi * 1000 * t).astype(np.float32), spec)
    assert f.shape == (frame_count(8000, spec), 20) == (1 + (8000 - 256) // 80, 20)
    centres = np.linspace(_hz_to_mel(0), _hz_to_mel(4000), 22)[1:-1]
    expected = int(np.argmin(np.abs(centres - _hz_to_mel(1000))))
    assert abs(int(f.mean(axis=0).argmax()) - expected) <= 1
    assert log_mel(np.zeros(255, dtype=np.float32), spec).shape == (0, 20)


def test_an_unnormalised_float_wave_gives_the_same_features_shifted_by_its_gain():
    """A float WAV with samples of 1e25 overflowed the float32 power spectrum: inf features, NaN after
    normalising, and a traceback from the beam search (a 500 from the service)."""
    rng = np.random.default_rng(0)
    wave = rng.uniform(-0.5, 0.5, 4000).astype(np.float32)
    for kind in ("logmel", "mfcc"):
        spec = FeatureSpec(8000, kind=kind, n_mels=20, n_mfcc=13)
        quiet, loud = log_mel(wave, spec), log_mel(wave * np.float32(1e25), spec)
        assert np.isfinite(loud).all()
        shift = 50 * np.log(10) * (1 if kind == "logmel" else np.sqrt(20))    # log(power) gains 2 * 25 * ln 10
        np.testing.assert_allclose(loud[:, 0] - quiet[:, 0], shift, rtol=1e-4)


def test_mfcc_is_the_dct_of_the_log_mel():
    rng = np.random.default_rng(0)
    wave = rng.standard_normal(4000).astype(np.float32)
    mel = log_mel(wave, FeatureSpec(8000, n_mels=20))
    mfcc = log_mel(wave, FeatureSpec(8000, kind="mfcc", n_mels=20, n_mfcc=13))
    assert mfcc.shape == (mel.shape[0], 13)
    np.testing.assert_allclose(mfcc[:, 0], mel.sum(axis=1) / np.sqrt(20), rtol=1e-4, atol=1e-4)


def test_normalizers():
    rng = np.random.default_rng(0)
    feats = [rng.normal(3.0, 2.0, (50, 4)).astype(np.float32) for _ in range(3)]
    u = Normalizer("utterance")(feats[0])
    np.testing.assert_allclose(u.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(u.std(0), 1, atol=1e-4)
    g = Normalizer("global").fit(feats)
    back = Normalizer.from_dict(g.to_dict())
    np.testing.assert_allclose(back(feats[1]), g(feats[1]))
    allg = np.concatenate([g(f) for f in feats])
    np.testing.assert_allclose(allg.mean(0), 0, atol=1e-5)
    assert Normalizer("none")(feats[2]) is feats[2]


def test_spec_augment_masks_only_valid_frames():
    x = torch.ones(2, 100, 20)
    lengths = torch.tensor([100, 40])
    gen = torch.Generator().manual_seed(0)
    y = spec_augment(x, lengths, freq_masks=2, freq_width=5, time_masks=2, time_width=0.2, generator=gen)
    assert (x == 1).all() and y.shape == x.shape
    assert (y == 0).any()
    masked_bands = (y[0] == 0).all(dim=0).sum()
    assert 0 < masked_bands <= 10
    assert (y[1, 40:] == 1).all()             # padding untouched: masks stay inside each length
    assert spec_augment(x, lengths, 0, 5, 0, 0.2) is x


def test_spec_augment_fills_with_each_utterances_mean_over_its_own_frames_when_asked():
    x = torch.randn(2, 60, 10, generator=torch.Generator().manual_seed(1)) - 6.0     # raw log-mels lie near -6
    x[1, 30:] = 0.0                                                                   # padding
    lengths = torch.tensor([60, 30])
    y = spec_augment(x, lengths, 2, 4, 2, 0.3, generator=torch.Generator().manual_seed(0), fill_mean=True)
    for b, n in enumerate(lengths.tolist()):
        hit = y[b, :n] != x[b, :n]
        assert hit.any()
        torch.testing.assert_close(y[b, :n][hit], x[b, :n].mean(0).expand(n, -1)[hit])
    assert (y[1, 30:] == 0).all()


def test_speed_perturb_stretches_within_the_range_and_keeps_the_shape():
    from lstmkit.tasks.speech.features import speed_perturb
    x = torch.linspace(0, 1, 100)[:, None].repeat(1, 3)              # a ramp over 100 frames
    gen = torch.Generator().manual_seed(0)
    lengths = set()
    for _ in range(50):
        y = speed_perturb(x, 0.1, generator=gen)
        assert 90 <= y.shape[0] <= 110 and y.shape[1] == 3
        torch.testing.assert_close(y[0], x[0])
        torch.testing.assert_close(y[-1], x[-1])
        assert (y[1:, 0] >= y[:-1, 0]).all()                            # still the same ramp, resampled
        lengths.add(y.shape[0])
    assert len(lengths) > 5                                             # the factor really varies
    assert speed_perturb(x, 0.0) is x
    assert speed_perturb(x[:8], 0.4, min_frames=7, generator=gen).shape[0] >= 7


def test_training_batches_stretch_each_clip_only_when_asked():
    from lstmkit.tasks.speech.features import FeatureBatches
    feats = [torch.randn(50, 4) for _ in range(6)]
    torch.manual_seed(0)
    plain = [lengths.tolist() for (x, lengths), _ in FeatureBatches(feats, list(range(6)), "classify", 3, True)]
    assert all(n == 50 for batch in plain for n in batch)
    stretched = [lengths.tolist() for (x, lengths), _ in
                 FeatureBatches(feats, list(range(6)), "classify", 3, True, speed=0.2, min_frames=45)]
    flat = [n for batch in stretched for n in batch]
    assert all(45 <= n <= 60 for n in flat) and len(set(flat)) > 1


@pytest.mark.parametrize("kind", ["logmel", "mfcc"])
def test_a_long_wave_in_parts_gives_the_whole_waves_features(monkeypatch, kind):
    """log_mel works through a long wave a few thousand frames at a time; the frames, and the
    utterance normalisation of them (whose float32 sums follow the memory order), are unchanged up to
    float32 rounding: the mel matrix product of 7 frames and of 298 may sum in another order (bit for
    bit equal on Intel's kernels, not on AMD EPYC's)."""
    from lstmkit.tasks.speech import features
    wave = (0.2 * np.random.default_rng(0).standard_normal(16_000 * 3)).astype(np.float32)
    spec = FeatureSpec(16_000, kind)
    whole = log_mel(wave, spec)
    monkeypatch.setattr(features, "_FRAMES_AT_ONCE", 7)
    parts = log_mel(wave, spec)
    assert parts.shape == whole.shape and parts.dtype == whole.dtype == np.float32
    np.testing.assert_allclose(parts, whole, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(Normalizer("utterance")(parts), Normalizer("utterance")(whole), rtol=1e-5, atol=1e-5)
    assert not np.allclose(parts[1:], whole[:-1], rtol=1e-5, atol=1e-5)       # the frames are in order, not shifted


def _padded(wave: np.ndarray, seconds: float, noise: float = 0.0) -> np.ndarray:
    """``wave`` with ``seconds`` of silence (zeros, or white noise of std ``noise``) either side: a
    whole number of 10 ms hops at 8 kHz, so the clip's frames fall on the clean clip's."""
    pad = (noise * np.random.default_rng(5).standard_normal(int(seconds * 8000))).astype(np.float32)
    return np.concatenate([pad, wave, pad])


@pytest.mark.parametrize("kind", ["logmel", "mfcc"])
@pytest.mark.parametrize("seconds, noise", [(0.5, 0.0), (60.0, 0.0), (2.0, 0.0005)])
def test_voiced_normalisation_leaves_silence_around_a_clip_out_of_its_statistics(kind, seconds, noise):
    """Per-clip statistics over every frame: silence around a clip pulled its mean down and its
    deviation up (a tiny model's "ab cd" was "aacc" with half a second of zeros around it). Over the
    voiced frames the clip's own frames normalise as the clean clip's; the few frames whose window
    holds both the clip and the silence are the difference left."""
    from speech_data import say
    spec = FeatureSpec(8000, kind, n_mels=20, n_mfcc=13)
    wave = say("ab cd", np.random.default_rng(3))
    clean, padded = log_mel(wave, spec), log_mel(_padded(wave, seconds, noise), spec)
    k = int(seconds * 100)                                           # the clip's first frame in the padded one
    bands = 20 if kind == "mfcc" else None
    for norm, most in (("voiced", 0.1), ("utterance", None)):
        n = Normalizer(norm, mfcc_bands=bands)
        gap = np.abs(n(padded)[k: k + len(clean)] - n(clean))
        if most is None:
            assert gap.mean() > 0.3                                  # what the old statistics did
        else:
            assert gap.mean() < most and np.median(gap) < 0.02
    out = Normalizer("voiced", mfcc_bands=bands)(padded)
    assert out.dtype == np.float32 and np.isfinite(out).all() and out.min() >= features.SILENCE_FLOOR


def test_a_clip_with_too_few_voiced_frames_is_normalised_over_all_of_them():
    rng = np.random.default_rng(0)
    f = np.full((200, 4), np.log(1e-6), dtype=np.float32)
    f[:150] += rng.normal(0.5, 0.1, (150, 4)).astype(np.float32)    # 150 quiet frames, above the floor
    f[150:155] = rng.normal(-2.0, 0.5, (5, 4))                       # 5 loud ones (a click), 35 zeros
    assert features.voiced_frames(Normalizer().level(f)).all()       # under MIN_VOICED voiced: all count
    np.testing.assert_allclose(Normalizer("voiced")(f), np.maximum(Normalizer("utterance")(f), -10), rtol=1e-5)
    f[155:165] = rng.normal(-2.0, 0.5, (10, 4))                      # 15 loud ones: they alone
    voiced = features.voiced_frames(Normalizer().level(f))
    assert voiced.sum() == 15 and voiced[150:165].all()
    np.testing.assert_allclose(Normalizer("voiced")(f)[150:165].mean(0), 0, atol=1e-5)


def test_a_run_saved_before_voiced_normalisation_normalises_as_it_did():
    """An old run's normaliser state (``{"kind": "utterance", "mean": null, "std": null}``, no
    ``mfcc_bands``): every frame's statistics, bit for bit."""
    rng = np.random.default_rng(1)
    f = np.concatenate([rng.normal(-4, 2, (60, 20)), np.full((40, 20), np.log(1e-6))]).astype(np.float32)
    old = Normalizer.from_dict({"kind": "utterance", "mean": None, "std": None})
    np.testing.assert_array_equal(old(f), ((f - f.mean(axis=0)) / np.maximum(f.std(axis=0), 1e-5)).astype(np.float32))
    assert Normalizer.from_dict(Normalizer("voiced", mfcc_bands=40).to_dict()).mfcc_bands == 40


def test_the_fft_is_the_next_power_of_two_at_or_above_the_window_and_a_clip_of_one_fft_is_one_frame():
    """``n_fft`` holds the window: a window of 256 samples (16 ms at 16 kHz) is one FFT of 256, not
    512; a clip of exactly ``n_fft`` samples is one frame, and each ``hop`` more samples one more."""
    assert FeatureSpec(16000, win_ms=16.0).n_fft == 256
    assert FeatureSpec(16000, win_ms=16.0625).n_fft == 512              # 257 samples
    spec = FeatureSpec(8000)                                           # win 200, hop 80, n_fft 256
    counts = [frame_count(n, spec) for n in (0, 255, 256, 256 + 79, 256 + 80, 256 + 800)]
    assert counts == [0, 0, 1, 1, 2, 11]
    assert log_mel(np.ones(256, dtype=np.float32), spec).shape == (1, 40)
    assert log_mel(np.ones(255, dtype=np.float32), spec).shape == (0, 40)


def test_frame_k_hears_the_samples_its_window_covers():
    """Frame k covers samples [k·hop, k·hop + n_fft), the 200-sample Hann window centred in the 256
    (28 samples either side): a click at sample 1000 lies under the window of frames 10, 11 and 12
    (offsets 172, 92 and 12 into it) and no other frame hears it; the others are the log's floor."""
    spec = FeatureSpec(8000, n_mels=20)
    wave = np.zeros(2000, dtype=np.float32)
    wave[1000] = 1.0
    f = log_mel(wave, spec)
    heard = np.flatnonzero((f > np.log(1e-6) + 1e-3).any(axis=1))
    expected = [k for k in range(len(f)) if 1 <= 1000 - 80 * k - 28 <= 199]     # periodic Hann: w[0] = 0
    assert expected == [10, 11, 12]
    assert heard.tolist() == expected


def test_digital_silence_is_never_voiced_even_around_a_clip_recorded_near_the_floor():
    """A whisper-quiet clip whose loudest frame lies 2 nats (under the 30 dB range) above the log's
    floor: the range alone would reach below the floor, so the frames of zeros around it must be
    left out by the floor itself, and the clip's 20 frames alone are voiced."""
    floor = np.log(1e-6)
    level = np.full(70, floor)
    level[25:45] = floor + 2.0
    voiced = features.voiced_frames(level)
    assert voiced.sum() == 20 and voiced[25:45].all()
    assert features.voiced_frames(np.full(30, floor)).all()     # zeros only: fewer than MIN_VOICED, all count


def test_exactly_min_voiced_loud_frames_are_the_statistics_alone():
    """``MIN_VOICED`` voiced frames are enough: fewer, and every frame counts (the docstring's rule)."""
    floor, n = np.log(1e-6), features.MIN_VOICED
    level = np.full(100, floor + 1.0)                    # quiet frames, 8 nats below the loudest
    level[40:40 + n] = floor + 9.0
    assert features.voiced_frames(level).tolist() == [40 <= k < 40 + n for k in range(100)]
    level[40] = floor + 1.0                              # one fewer: all frames
    assert features.voiced_frames(level).all()


def test_a_frames_level_is_the_log_of_its_mean_mel_energy():
    """Bands of energy 1 and 3 (log-mel 0 and log 3): mean energy 2, level log 2; of energies
    e^-20 and e^-20: level -20. An MFCC frame's level is that of the log-mel it came from."""
    f = np.array([[0.0, np.log(3.0)], [-20.0, -20.0]], dtype=np.float32)
    np.testing.assert_allclose(Normalizer().level(f), [np.log(2.0), -20.0], rtol=1e-6)
    logmel = np.array([[0.0, np.log(3.0), -1.0, 2.0]])
    mfcc = logmel @ features._dct_matrix(4, 4).numpy()
    np.testing.assert_allclose(Normalizer(mfcc_bands=4).level(mfcc), [np.log(np.exp(logmel).mean())], rtol=1e-5)


def test_a_clip_of_exactly_the_receptive_fields_frames_is_read_and_one_sample_less_is_refused(tmp_path):
    """At 8 kHz (n_fft 256, hop 80) three frames take 256 + 2 · 80 = 416 samples, 52 ms: a clip of 416
    gives them and is read; 415 give two and are refused, naming the clip and the 52 ms."""
    import soundfile as sf
    from lstmkit.errors import LstmkitError
    from lstmkit.tasks.speech.features import read_features
    spec = FeatureSpec(8000, n_mels=20)
    tone = (0.3 * np.sin(np.arange(416) * 0.3)).astype(np.float32)
    sf.write(tmp_path / "ok.wav", tone, 8000, subtype="FLOAT")
    sf.write(tmp_path / "short.wav", tone[:415], 8000, subtype="FLOAT")
    feats, seconds, _ = read_features([str(tmp_path / "ok.wav")], spec, 3, "off")
    assert feats[0].shape == (3, 20) and seconds == [416 / 8000]
    with pytest.raises(LstmkitError, match=r"short.wav is too short: .*needs at least 52 ms \(3 frames\)"):
        read_features([str(tmp_path / "short.wav")], spec, 3, "off")


def test_a_loud_float_wave_on_one_side_of_zero_is_computed_without_overflow():
    """The float64 spectrum is chosen by the larger of the wave's two swings: samples up to 1e25 that
    never go below 0 (a DC-coupled recorder's) overflowed float32 as surely as symmetric ones."""
    wave = np.random.default_rng(1).uniform(0.0, 0.5, 4000).astype(np.float32)
    for sign in (1, -1):
        spec = FeatureSpec(8000, n_mels=20)
        quiet, loud = log_mel(sign * wave, spec), log_mel(sign * wave * np.float32(1e25), spec)
        assert np.isfinite(loud).all()
        np.testing.assert_allclose(loud - quiet, 50 * np.log(10), rtol=1e-4)


def test_a_frame_is_the_mel_power_of_its_samples_under_a_periodic_hann_window():
    """librosa's stft windows by scipy's ``get_window("hann", win)`` (fftbins=True: periodic, the
    DFT-even Hann), centred in ``n_fft``; torchaudio's ``torch.hann_window`` is periodic too. One frame
    of 256 random samples, worked with numpy: log(mel bank @ |rfft(x * window)|^2 + 1e-6)."""
    from scipy.signal import get_window
    spec = FeatureSpec(8000, n_mels=20)                                # win 200 in n_fft 256: 28 either side
    wave = np.random.default_rng(0).uniform(-1, 1, 256).astype(np.float32)

    def by_hand(window):
        padded = np.zeros(256)
        padded[28:228] = window
        power = np.abs(np.fft.rfft(wave.astype(np.float64) * padded)) ** 2
        return np.log(mel_filterbank(8000, 256, 20).astype(np.float64) @ power + 1e-6)

    np.testing.assert_allclose(log_mel(wave, spec)[0], by_hand(get_window("hann", 200)), rtol=1e-4, atol=1e-4)
    assert np.abs(log_mel(wave, spec)[0] - by_hand(np.hanning(200))).max() > 1e-3   # the symmetric one differs
