"""Polyphase resampling of a whole wave, or of one given block by block with the same result.

    resample(wave, src, dst)          -> scipy ``resample_poly`` from ``src`` to ``dst`` Hz (float32)
    r = BlockResampler(src, dst)      -> r(block) per block read, then r.flush(): the pieces of
                                         ``resample(whole, src, dst)``, in order
    BlockResampler(src, dst, eager=True)  every output sample a block settles, at once (a stream's chunk)
    r.state() / BlockResampler.restored(src, dst, state, eager)   what it holds between blocks, as data

A long recording is read in blocks (:func:`~lstmkit.tasks.speech.audio_files.read_audio`): the whole file
at its own rate is never held, only the wave at the model's rate. Each output sample of
``resample_poly`` reads the input within the filter's reach (``10 * max(up, down)`` samples
upsampled) on either side, so a stretch of output computed from its input plus that reach equals
the whole call's; stretches start at multiples of ``down`` input samples, where the output grid
of a part and the whole's coincide.
"""
from __future__ import annotations

import copy
from fractions import Fraction
from typing import Any

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
    with each block (it returns the output ready so far, maybe empty), then :meth:`flush` once.

    A file's blocks are resampled ``step`` input samples at a time (whole steps only: the fewest
    calls); ``eager`` returns every output sample the input given so far settles (all but the
    filter's reach), so a stream's chunk is answered from the audio it brings."""

    def __init__(self, src: int, dst: int, eager: bool = False):
        self.src, self.dst, self.eager = src, dst, eager
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
        least = self.down if self.eager else self.step          # the fewest input samples a part takes
        if self._end - self._done < least + self.margin:
            return np.zeros(0, dtype=np.float32)
        x = np.concatenate(self._held)
        out = []
        while (n := min(self.step, (self._end - self._done - self.margin) // self.down * self.down)) >= least:
            out.append(self._part(x, self._done + n + self.margin, n * self.up // self.down))
            self._done += n
        keep = self._done - self.margin - self._start if self._done > self.margin else 0
        self._held, self._start = [x[keep:]], self._start + keep
        return np.concatenate(out)

    def flush(self) -> np.ndarray:
        """The rest of the output: ``ceil(n * up / down)`` samples in all for ``n`` samples given."""
        if self.src == self.dst or self._end == 0:
            return np.zeros(0, dtype=np.float32)
        total = -(-self._end * self.up // self.down)
        return self._part(np.concatenate(self._held), self._end, total - self._done * self.up // self.down)

    def state(self) -> dict[str, Any]:
        """What it holds between blocks: the input kept (``held``, float32) and its counts."""
        held = np.concatenate(self._held) if self._held else np.zeros(0, np.float32)
        return {"held": held, "start": self._start, "end": self._end, "done": self._done}

    @classmethod
    def restored(cls, src: int, dst: int, state: dict[str, Any], eager: bool = False) -> BlockResampler:
        """A resampler going on from :meth:`state`; counts that no resampler holds are a ValueError."""
        r = cls(src, dst, eager)
        held = np.asarray(state["held"], dtype=np.float32)
        start, end, done = (state[k] for k in ("start", "end", "done"))
        if not all(type(v) is int for v in (start, end, done)):
            raise ValueError("the resampler's counts are not whole numbers")
        least = r.down if eager else r.step
        if not (held.ndim == 1 and held.size == end - start and 0 <= start <= done <= end
                and done % r.down == 0 and start == max(0, done - r.margin) and end - done < least + r.margin
                and np.isfinite(held).all()):
            raise ValueError("the resampler's counts do not fit together")
        r._held, r._start, r._end, r._done = [held], start, end, done
        return r

    def copy(self) -> BlockResampler:
        """An independent resampler in the same state (the blocks it holds are never changed in place)."""
        twin = copy.copy(self)
        twin._held = list(self._held)
        return twin

    def _part(self, x: np.ndarray, end: int, count: int) -> np.ndarray:
        """``count`` output samples from input ``self._done`` on, computed from input up to ``end``."""
        first = max(self._done - self.margin, self._start)
        y = resample(x[first - self._start: end - self._start], self.src, self.dst)
        skip = (self._done - first) * self.up // self.down
        return y[skip: skip + count]
