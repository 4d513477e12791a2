"""Memory of lookback windows: strided views vs. materialised copies.

Builds a 10,000,000-point float32 series, windows it with ``make_windows(lookback=60,
horizon=1)`` and draws a few mini-batches through ``WindowBatches``. Prints one JSON line: the
peak resident memory added by all of that, as a ratio of the series' own size. The series is
in memory before the measurement starts (it is the user's data); what is measured is what
windowing adds. A second pass draws shuffled batches, as a training epoch does, and reports its
peak separately: shuffling holds one int32 permutation of the windows (4 bytes per window). The
materialised alternative (``lookback`` copies of the series) is computed, never allocated.

    python benchmarks/window_memory.py
"""
from __future__ import annotations

import json
import resource
import time

import torch

from _memory import reset_peak as _reset_peak, status_kib as _status_kib
from lstmkit.data.windows import WindowBatches, make_windows

N_POINTS, LOOKBACK, HORIZON, BATCH, N_BATCHES = 10_000_000, 60, 1, 256, 20


def main() -> None:
    torch.manual_seed(0)
    torch.zeros(1).unfold(0, 1, 1)  # warm up torch's allocator and lazy imports outside the measurement
    series = torch.randn(N_POINTS, 1)  # [N, 1] float32; used as inputs and targets
    if _reset_peak() and _status_kib("VmHWM") is not None:
        method = "proc VmHWM (reset via clear_refs)"
        base_kib = _status_kib("VmRSS")
    else:  # ru_maxrss is a lifetime peak: growth above it is all we can see
        method = "ru_maxrss"
        base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    t0 = time.perf_counter()
    x, y = make_windows(series, series, LOOKBACK, HORIZON)  # views: [n, 60, 1], [n, 1, 1]
    checksum = _draw(WindowBatches(x, y, batch_size=BATCH))
    peak_kib = _peak_kib(method)
    # A shuffled epoch also holds one int32 permutation of the windows (4 bytes per window),
    # whatever the lookback; measured separately so the windows' own cost stays visible.
    _reset_peak()
    checksum += _draw(WindowBatches(x, y, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0)))
    peak_shuffled_kib = _peak_kib(method)
    seconds = time.perf_counter() - t0

    series_bytes = series.numel() * series.element_size()
    added = max(peak_kib - base_kib, 0) * 1024
    added_shuffled = max(peak_shuffled_kib - base_kib, 0) * 1024
    n = x.shape[0]
    materialised = n * (LOOKBACK + HORIZON) * series.element_size()
    print(json.dumps({
        "benchmark": "window_memory",
        "points": N_POINTS, "lookback": LOOKBACK, "horizon": HORIZON, "windows": n,
        "batches_drawn": N_BATCHES, "batch_size": BATCH,
        "series_bytes": series_bytes,
        "added_peak_bytes": added,
        "ratio": round(added / series_bytes, 3),
        "target": "<= 2.0",
        "pass": max(added, added_shuffled) / series_bytes <= 2.0,
        "shuffled_added_peak_bytes": added_shuffled,
        "shuffled_ratio": round(added_shuffled / series_bytes, 3),
        "shuffle_order_bytes": n * 4,
        "materialised_bytes": materialised,
        "materialised_ratio": round(materialised / series_bytes, 1),
        "x_is_view": x.untyped_storage().data_ptr() == series.untyped_storage().data_ptr(),
        "measure": method,
        "seconds": round(seconds, 2),
        "checksum": round(checksum, 3),
    }))


def _draw(batches: WindowBatches) -> float:
    total = 0.0
    for k, (xb, yb) in enumerate(batches):
        total += float(xb.sum() + yb.sum())
        if k + 1 == N_BATCHES:
            break
    return total


def _peak_kib(method: str) -> int:
    if method.startswith("proc"):
        return _status_kib("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
