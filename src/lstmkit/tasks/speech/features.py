"""Waveform -> log-mel (or MFCC) frames, normalisation and SpecAugment.

    frames       window ``win_ms`` (periodic Hann, as librosa), hop ``hop_ms``; ``n_fft`` = the next power of two
    power        |STFT|^2 (``torch.stft``, ``center=False``: frame k covers samples
                 [k·hop, k·hop + n_fft), the window centred in it)
    mel          triangular filters equally spaced on the HTK mel scale
                 ``m = 2595 log10(1 + f / 700)`` from 0 Hz to rate / 2, Slaney area-normalised
    log-mel      ``log(mel + 1e-6)``                                    -> [T, n_mels]
    MFCC         orthonormal DCT-II of the log-mel, first ``n_mfcc`` coefficients

Normalisation: ``voiced`` (the default) subtracts each utterance's mean and divides by its
standard deviation per feature (CMVN), both taken over its voiced frames: those whose power level
(the log of the frame's mean mel energy; of an MFCC frame, that of the log-mel its coefficients
keep) is within ``VOICED_RANGE_DB`` of the clip's loudest frame and above the ``1e-6`` floor of the
log (digital silence), so silence around a recording leaves its statistics alone; every frame is
normalised with them, the silent ones clipped at ``SILENCE_FLOOR``. A clip with fewer than
``MIN_VOICED`` such frames uses all of them. ``utterance`` takes the
statistics over every frame (runs recorded before ``voiced``: a minute of silence around a clip
pulled its mean down and its deviation up, and the clip was transcribed as another); ``global``
uses the training set's mean / std, which are plain lists saved in the run folder; ``none`` leaves
the values alone.

SpecAugment (Park et al. 2019), training only: ``freq_masks`` bands of up to ``freq_width``
features and ``time_masks`` spans of up to ``time_width`` of the frames are set to zero (the
normalised mean), or to the utterance's own mean where the features are not normalised.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor

from lstmkit.data.batching import CollatedBatches, Padded, decoder_targets, pad_batch
from lstmkit.errors import LstmkitError
from lstmkit.nn.seq2seq import BOS_ID, EOS_ID
from lstmkit.tasks.speech.audio_files import clip_length, read_audio
from lstmkit.train.progress import track

__all__ = ["FeatureSpec", "mel_filterbank", "log_mel", "frame_count", "read_features", "Normalizer", "spec_augment",
           "speed_perturb", "FeatureBatches", "NORMS", "voiced_frames", "VOICED_RANGE_DB"]

NORMS = ("voiced", "utterance", "global", "none")

# Speech's own range: weak consonants lie 20-30 dB below the loudest vowels (FSDD: 95 % of a median
# clip's frames within 26 dB of its loudest). 50 dB reached the log's 1e-6 floor itself (46 dB below
# a median FSDD clip's loudest frame) and kept -54 dBFS room noise around it (36 dB below).
VOICED_RANGE_DB = 30.0
MIN_VOICED = 10                     # frames (100 ms at the usual hop): fewer, and all frames count
SILENCE_FLOOR = -10.0               # deviations: zeros around a clip lay 20 below its voiced mean
_LOG_FLOOR = math.log(1e-6)         # log_mel's value of a frame of zeros
_ABOVE_FLOOR = 0.1                  # nats (0.4 dB) above it: not digital silence


@dataclass
class FeatureSpec:
    rate: int
    kind: str = "logmel"            # logmel | mfcc
    n_mels: int = 40
    n_mfcc: int = 13
    win_ms: float = 25.0
    hop_ms: float = 10.0

    @property
    def win(self) -> int:
        return int(round(self.rate * self.win_ms / 1000))

    @property
    def hop(self) -> int:
        return int(round(self.rate * self.hop_ms / 1000))

    @property
    def n_fft(self) -> int:
        return 1 << max(self.win - 1, 1).bit_length()

    @property
    def dim(self) -> int:
        return self.n_mfcc if self.kind == "mfcc" else self.n_mels


def frame_count(n_samples: int, spec: FeatureSpec) -> int:
    """Frames of a clip of ``n_samples`` (0 when shorter than one FFT frame)."""
    return 0 if n_samples < spec.n_fft else 1 + (n_samples - spec.n_fft) // spec.hop


def read_features(paths: Sequence[str], spec: FeatureSpec, need: int, progress: str):
    """``(features [T, F] per file, durations (s), notes)`` of audio files, unnormalised; a clip
    giving fewer than ``need`` frames (the model's receptive field) is an error naming it."""
    feats, durations, notes = [], [], []
    for p in track(paths, len(paths), "reading audio", progress, unit="files"):
        wave, rate, n = read_audio(p, spec.rate)
        notes.extend(n)
        if frame_count(wave.size, spec) < need:
            shortest = (spec.n_fft + (need - 1) * spec.hop) / spec.rate
            raise LstmkitError(
                f"{p} is too short: {clip_length(wave.size, rate)}, the model's receptive field needs "
                f"at least {shortest * 1000:.0f} ms ({need} frames)", "remove the clip or pad it with silence")
        feats.append(log_mel(wave, spec))
        durations.append(wave.size / rate)
    return feats, durations, notes


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """``[n_mels, n_fft // 2 + 1]`` triangular filters, each with unit area on the Hz axis."""
    bins = np.linspace(0.0, rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(rate / 2), n_mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (bins[None] - lo) / np.maximum(mid - lo, 1e-9)
    down = (hi - bins[None]) / np.maximum(hi - mid, 1e-9)
    fb = np.maximum(0.0, np.minimum(up, down))
    fb *= (2.0 / np.maximum(hi - lo, 1e-9))          # Slaney: equal area, so wide bands are not louder
    return fb.astype(np.float32)


_BANKS: dict[tuple[int, int, int], Tensor] = {}


# Samples beyond this make the power spectrum overflow float32 (inf, then NaN after normalising):
# such a wave's spectrum is computed in float64 (its log fits float32 again).
_FLOAT32_PEAK = 1e9
_FRAMES_AT_ONCE = 4096       # 41 s at a 10 ms hop: 8 MiB of spectrum at n_fft 512


def log_mel(wave: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """``[T, spec.dim]`` float32 features of a mono wave at ``spec.rate`` (T = :func:`frame_count`).

    Frames are independent, so a long wave is done ``_FRAMES_AT_ONCE`` frames at a time: the
    spectrum of a 20-minute recording at once took 600 MB, five times the wave's size."""
    x = torch.as_tensor(np.asarray(wave, dtype=np.float32))
    frames = frame_count(x.numel(), spec)
    if frames == 0:
        return np.zeros((0, spec.dim), dtype=np.float32)
    key = (spec.rate, spec.n_fft, spec.n_mels)
    if key not in _BANKS:
        _BANKS[key] = torch.from_numpy(mel_filterbank(*key))
    # an unnormalised float file's power would overflow float32: its spectrum is computed in float64
    dtype = torch.float64 if max(float(x.max()), -float(x.min())) > _FLOAT32_PEAK else torch.float32
    window = torch.hann_window(spec.win, periodic=True, dtype=dtype)
    bank = _BANKS[key].to(dtype)
    dct = _dct_matrix(spec.n_mels, spec.n_mfcc).to(dtype) if spec.kind == "mfcc" else None
    # log-mel frames lie feature-major, as the whole spectrum's transpose did: an utterance's float32
    # mean over frames (the normaliser's) sums in memory order, and that order changes its last digits
    out = (np.empty((frames, spec.dim), dtype=np.float32) if dct is not None
           else np.empty((spec.dim, frames), np.float32).T)
    for k in range(0, frames, _FRAMES_AT_ONCE):
        n = min(_FRAMES_AT_ONCE, frames - k)
        part = x[k * spec.hop: (k + n - 1) * spec.hop + spec.n_fft].to(dtype)
        stft = torch.stft(part, spec.n_fft, hop_length=spec.hop, win_length=spec.win, window=window,
                          center=False, return_complex=True)                  # [F, n]
        mel = torch.log(bank @ (stft.real.square() + stft.imag.square()) + 1e-6).T   # [n, n_mels]
        out[k: k + n] = (mel if dct is None else mel @ dct).numpy()               # [n, dim]
    return out


def _dct_matrix(n: int, k: int) -> Tensor:
    """Orthonormal DCT-II basis ``[n, k]``."""
    i = torch.arange(n, dtype=torch.float64)[:, None]
    j = torch.arange(k, dtype=torch.float64)[None]
    m = torch.cos(math.pi / n * (i + 0.5) * j) * math.sqrt(2.0 / n)
    m[:, 0] /= math.sqrt(2.0)
    return m.float()


@functools.cache
def _inverse_dct(n: int, k: int) -> np.ndarray:
    """``[k, n]``: the first ``k`` DCT coefficients back to ``n`` log-mel bands (the basis is orthonormal)."""
    return _dct_matrix(n, k).numpy().T.copy()


def voiced_frames(level: np.ndarray) -> np.ndarray:
    """Which frames of one clip are voiced, of their power levels ``[T]`` (nats): within
    ``VOICED_RANGE_DB`` of the loudest and above the log's floor; all of them when fewer than
    ``MIN_VOICED`` (or the clip's frames, if fewer) are."""
    if level.size == 0:
        return np.ones(0, dtype=bool)
    low = max(float(level.max()) - VOICED_RANGE_DB * math.log(10) / 10, _LOG_FLOOR + _ABOVE_FLOOR)
    voiced = level > low
    return voiced if voiced.sum() >= min(MIN_VOICED, level.size) else np.ones(level.size, dtype=bool)


class Normalizer:
    """Per-utterance (over its voiced frames, or all of them), global (training statistics) or no
    normalisation of ``[T, F]`` features; ``mfcc_bands``: the mel bands of MFCC features (``voiced``
    reads a frame's level from the log-mel they keep), None for log-mel."""

    def __init__(self, kind: str = "voiced", mean: Sequence[float] | None = None,
                 std: Sequence[float] | None = None, mfcc_bands: int | None = None):
        self.kind = kind
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)
        self.mfcc_bands = mfcc_bands

    def level(self, f: np.ndarray) -> np.ndarray:
        """Each frame's power level ``[T]`` (the log of its mean mel energy) of features ``f [T, F]``:
        an MFCC frame's of the log-mel its coefficients keep (the inverse of the truncated DCT)."""
        logmel = f @ _inverse_dct(self.mfcc_bands, f.shape[1]) if self.mfcc_bands else f
        top = logmel.max(axis=1, keepdims=True)
        return top[:, 0] + np.log(np.exp(logmel - top).mean(axis=1))

    def fit(self, feats: Sequence[np.ndarray]) -> Normalizer:
        if self.kind == "global":
            allf = np.concatenate(list(feats), axis=0).astype(np.float64)
            self.mean = allf.mean(axis=0).astype(np.float32)
            self.std = np.maximum(allf.std(axis=0), 1e-5).astype(np.float32)
        return self

    def __call__(self, f: np.ndarray) -> np.ndarray:
        if self.kind == "voiced":
            voiced = f[voiced_frames(self.level(f))]
            out = (f - voiced.mean(axis=0)) / np.maximum(voiced.std(axis=0), 1e-5)
            return np.maximum(out, SILENCE_FLOOR, dtype=np.float32)
        if self.kind == "utterance":
            return ((f - f.mean(axis=0)) / np.maximum(f.std(axis=0), 1e-5)).astype(np.float32)
        if self.kind == "global":
            return ((f - self.mean) / self.std).astype(np.float32)
        return f

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": None if self.mean is None else self.mean.tolist(),
                "std": None if self.std is None else self.std.tolist(), "mfcc_bands": self.mfcc_bands}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalizer:
        return cls(d["kind"], d.get("mean"), d.get("std"), d.get("mfcc_bands"))


def spec_augment(x: Tensor, lengths: Tensor, freq_masks: int = 2, freq_width: int = 8,
                 time_masks: int = 2, time_width: float = 0.05, generator: torch.Generator | None = None,
                 fill_mean: bool = False) -> Tensor:
    """A masked copy of a padded batch ``x [B, T, F]`` (valid lengths ``lengths [B]``): masked values are
    0, the mean of normalised features, or with ``fill_mean`` each utterance's own mean per feature
    (features left unnormalised, ``--normalize none``: a log-mel's 0 lies some 6 nats above its
    silence, so a mask of zeros wrote a band louder than the speech instead of hiding one)."""
    if freq_masks == 0 and time_masks == 0:
        return x
    source, x = x, x.clone()
    B, _, F = x.shape
    for b in range(B):
        n = int(lengths[b])
        fill = source[b, :n].mean(dim=0) if fill_mean else torch.zeros(F, dtype=x.dtype)    # [F]
        for _ in range(freq_masks):
            w = int(torch.randint(0, freq_width + 1, (1,), generator=generator))
            f0 = int(torch.randint(0, max(F - w, 0) + 1, (1,), generator=generator))
            x[b, :n, f0:f0 + w] = fill[f0:f0 + w]
        tw = int(time_width * n)
        for _ in range(time_masks):
            w = int(torch.randint(0, tw + 1, (1,), generator=generator))
            t0 = int(torch.randint(0, max(n - w, 0) + 1, (1,), generator=generator))
            x[b, t0:t0 + w] = fill
    return x


def speed_perturb(feats: Tensor, max_change: float, min_frames: int = 1,
                  generator: torch.Generator | None = None) -> Tensor:
    """``feats [T, F]`` stretched in time by a random factor in ``[1 - max_change, 1 + max_change]``
    (linear interpolation between frames): the same words spoken faster or slower, a standard
    augmentation for small speech sets (Ko et al. 2015 perturb the audio; this acts on the
    features, which is cheaper and keeps the spectrum). Never shorter than ``min_frames``."""
    if max_change <= 0:
        return feats
    u = float(torch.rand((), generator=generator))
    steps = max(min_frames, int(round(feats.shape[0] * (1.0 - max_change + 2.0 * max_change * u))))
    if steps == feats.shape[0]:
        return feats
    out = torch.nn.functional.interpolate(feats.T[None], size=steps, mode="linear", align_corners=True)
    return out[0].T.contiguous()


class FeatureBatches(CollatedBatches):
    """``((x [B, T, F], lengths [B]) or (x, lengths, tgt_in), target)`` batches bucketed by length.

    ``target`` is ``(ids [B, S], lengths [B])`` for CTC, class ids ``[B]`` for classify (``targets``
    given as a ``[N, 2]`` tensor of ``weighted_targets``: their rows ``[B, 2]``) and
    ``tgt_out [B, S]`` for seq2seq; SpecAugment masks the features when ``augment`` is given,
    and ``speed`` (max relative change, never below ``min_frames``: one count for all, or each
    utterance's own, as many frames as its CTC transcript needs) stretches each utterance."""

    def __init__(self, feats, targets, mode: str, batch_size: int, shuffle: bool, augment: dict | None = None,
                 speed: float = 0.0, min_frames: int | Sequence[int] = 1):
        self.feats, self.targets, self.mode, self.augment = feats, targets, mode, augment
        self.speed, self.min_frames = speed, min_frames
        super().__init__(feats, self._batch, batch_size, shuffle)

    def _batch(self, idx: list[int]):
        floors = [self.min_frames] * len(idx) if isinstance(self.min_frames, int) else [self.min_frames[i] for i in idx]
        x, lengths = pad_batch([speed_perturb(self.feats[i], self.speed, floor) for i, floor in zip(idx, floors)])
        if self.augment:
            x = spec_augment(x, lengths, **self.augment)
        if self.mode == "classify":
            return Padded((x, lengths)), (self.targets[idx] if torch.is_tensor(self.targets)
                                          else torch.tensor([self.targets[i] for i in idx], dtype=torch.long))
        seqs = [torch.tensor(self.targets[i], dtype=torch.long) for i in idx]
        if self.mode == "ctc":
            return Padded((x, lengths)), pad_batch(seqs)
        tgt_in, tgt_out = decoder_targets(seqs, BOS_ID, EOS_ID)
        return Padded((x, lengths, tgt_in)), tgt_out
