"""Polyphase resampling of a whole wave, or of one given block by block with the same result.

    resample(wave, src, dst)          -> scipy ``resample_poly`` from ``src`` to ``dst`` Hz (float32)
    r = BlockResampler(src, dst)      -> r(block) per block read, then r.flush(): the pieces of
                                         ``resample(whole, src, dst)``, in order

A long recording is read in blocks (:func:`~lstmkit.tasks.speech.audio_files.read_audio`): the whole file
at its own rate is never held, only the wave at the model's rate. Each output sample of
``resample_poly`` reads the input within the filter's reach (``10 * max(up, down)`` samples
upsampled) on either side, so a stretch of output computed from its input plus that reach equals
the whole call's; stretches start at multiples of ``down`` input samples, where the output grid
of a part and the whole's coincide.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["resample", "BlockResampler"]

_STEP = 1 << 18         # input samples resampled at once (1 MiB of float32), rounded to a multiple of ``down``


def _factors(src: int, dst: int) -> tuple[int, int]:
    ratio = Fraction(dst, src).limit_denominator(1000)
    return ratio.numerator, ratio.denominator


def resample(wave: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Polyphase resampling (scipy ``resample_poly``, anti-aliasing FIR) from ``src`` to ``dst`` Hz."""
    if src == dst:
        return wave
    from scipy.signal import resample_poly
    return resample_poly(wave, *_factors(src, dst)).astype(np.float32)


class BlockResampler:
    """``resample(x, src, dst)`` of a 1-D float32 ``x`` handed over in blocks of any size: call it
    with each block (it returns the output ready so far, maybe empty), then :meth:`flush` once."""

    def __init__(self, src: int, dst: int):
        self.src, self.dst = src, dst
        self.up, self.down = _factors(src, dst)
        reach = -(-10 * max(self.up, self.down) // self.up) + 1        # input samples an output reads either side
        self.margin = -(-reach // self.down) * self.down               # a multiple of down: parts stay on the grid
        self.step = max(1, _STEP // self.down) * self.down
        self._held: list[np.ndarray] = []       # input from self._start on, not yet joined
        self._start = 0                         # input index of the first held sample
        self._end = 0                           # input samples given so far
        self._done = 0                          # input samples whose output was returned (a multiple of down)

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if self.src == self.dst:
            return block
        self._held.append(block)
        self._end += block.size
        if self._end - self._done < self.step + self.margin:
            return np.zeros(0, dtype=np.float32)
        x = np.concatenate(self._held)
        out = []
        while self._end - self._done >= self.step + self.margin:
            out.append(self._part(x, self._done + self.step + self.margin, self.step * self.up // self.down))
            self._done += self.step
        keep = self._done - self.margin - self._start if self._done > self.margin else 0
        self._held, self._start = [x[keep:]], self._start + keep
        return np.concatenate(out)

    def flush(self) -> np.ndarray:
        """The rest of the output: ``ceil(n * up / down)`` samples in all for ``n`` samples given."""
        if self.src == self.dst or self._end == 0:
            return np.zeros(0, dtype=np.float32)
        total = -(-self._end * self.up // self.down)
        return self._part(np.concatenate(self._held), self._end, total - self._done * self.up // self.down)

    def _part(self, x: np.ndarray, end: int, count: int) -> np.ndarray:
        """``count`` output samples from input ``self._done`` on, computed from input up to ``end``."""
        first = max(self._done - self.margin, self._start)
        y = resample(x[first - self._start: end - self._start], self.src, self.dst)
        skip = (self._done - first) * self.up // self.down
        return y[skip: skip + count]
