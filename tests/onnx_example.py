"""``examples/onnx_by_hand.py`` loaded as a module: the tests that check a graph used with onnxruntime
and numpy alone call its functions (``forecast``, ``classify_texts``, ``lm_log_prob``, ``translate``)."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "onnx_by_hand.py"


def by_hand() -> ModuleType:
    spec = importlib.util.spec_from_file_location("onnx_by_hand", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
