"""``--set KEY=VALUE`` overrides shared by the benchmark scripts (run as ``python benchmarks/x.py``)."""
from __future__ import annotations

import json


def parse_overrides(pairs: list[str]) -> dict:
    """``["lr=0.001", "pooling=max"]`` -> ``{"lr": 0.001, "pooling": "max"}``: JSON values, else the text."""
    out = {}
    for kv in pairs:
        key, value = kv.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
