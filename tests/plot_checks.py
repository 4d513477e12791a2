"""Checks on drawn matplotlib figures (their objects, never their pixels)."""
from __future__ import annotations


def overlapping_labels(labels, renderer, along: str) -> list[tuple[str, str]]:
    """Neighbouring tick labels whose drawn boxes overlap along the axis (``"x"`` or ``"y"``)."""
    boxes = sorted(((t.get_window_extent(renderer), t.get_text()) for t in labels if t.get_text()),
                   key=lambda b: b[0].x0 if along == "x" else b[0].y0)
    lo, hi = ("x0", "x1") if along == "x" else ("y0", "y1")
    return [(a[1], b[1]) for a, b in zip(boxes, boxes[1:]) if getattr(a[0], hi) > getattr(b[0], lo)]
