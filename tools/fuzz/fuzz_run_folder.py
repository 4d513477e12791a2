"""Fuzz loading a run folder: ``lstmkit.json`` and ``model.safetensors`` changed, then ``lstmkit.load``
and a forecast; a loaded model's answer or one LstmkitError out.

The input's first byte picks what changes in a small forecast run (trained once at start, a few
seconds): 0 ``lstmkit.json``'s bytes as given; 1 one to four of its values replaced (null, booleans,
huge or negative numbers, NaN, text, empty lists and objects) or keys dropped; 2 one key nested up to
200,000 levels deep; 3 ``model.safetensors``'s bytes as given; 4 its header's values changed, the
tensors' bytes kept. Changed weights get their SHA-256 recorded, so that the header itself is read.
Run from the repository root (``-rss_limit_mb`` catches a header whose shapes claim gigabytes):

    PYTHONPATH=src python tools/fuzz/fuzz_run_folder.py /tmp/run-corpus \
        -max_total_time=600 -rss_limit_mb=2048 -timeout=10
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_common import fuzz, mutated, paths, seeded  # noqa: E402

with atheris.instrument_imports(include=["lstmkit"]):
    import lstmkit
    import lstmkit.runs
    import lstmkit.tasks.forecast
    import lstmkit.tasks.forecast.estimator
    from lstmkit.errors import LstmkitError

import numpy as np        # noqa: E402
import pandas as pd       # noqa: E402


def frame(n: int) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"),
                         "y": 10 + np.sin(2 * np.pi * t / 24)})


TMP = Path(tempfile.mkdtemp(prefix="lstmkit-fuzz-run-"))
BASE, RUN = TMP / "base", TMP / "run"
FRAME = frame(120)


def one(data: bytes) -> None:
    if len(data) < 2:
        return
    mode, rest = data[0] % 5, data[1:]
    meta, weights, meta_text = META, WEIGHTS, None
    fdp = atheris.FuzzedDataProvider(rest)
    if mode == 0:
        meta_text = rest
    elif mode == 1:
        meta = mutated(META, META_PATHS, fdp, fdp.ConsumeIntInRange(1, 4))
    elif mode == 2:
        depth = fdp.ConsumeIntInRange(1, 200_000)
        key = META_PATHS[fdp.ConsumeIntInRange(0, len(META_PATHS) - 1)][0]
        meta_text = json.dumps({**META, key: None}).replace("null", "[" * depth + "]" * depth, 1).encode()
    elif mode == 3:
        weights = rest
    else:
        text = json.dumps(mutated(HEADER, HEADER_PATHS, fdp, fdp.ConsumeIntInRange(1, 3))).encode()
        weights = len(text).to_bytes(8, "little") + text + WEIGHTS[8 + HEADER_SIZE:]
    if meta_text is None:
        meta = json.loads(json.dumps(meta))
        if mode >= 3 and isinstance(meta.get("weights_sha256"), dict):
            meta["weights_sha256"]["model.safetensors"] = hashlib.sha256(weights).hexdigest()
        meta_text = json.dumps(meta).encode()
    (RUN / "lstmkit.json").write_bytes(meta_text)
    (RUN / "model.safetensors").write_bytes(weights)
    lstmkit.load(RUN).predict(FRAME)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    lstmkit.Forecaster(lookback=24, hidden_size=16, num_layers=1, max_epochs=1, batch_size=32, progress="off",
                       tensorboard=False, device="cpu", ensemble=1).fit(frame(480), target="y", time="time").save(BASE)
    shutil.copytree(BASE, RUN)
    META = json.loads((BASE / "lstmkit.json").read_text())
    WEIGHTS = (BASE / "model.safetensors").read_bytes()
    HEADER_SIZE = int.from_bytes(WEIGHTS[:8], "little")
    HEADER = json.loads(WEIGHTS[8:8 + HEADER_SIZE])
    META_PATHS, HEADER_PATHS = list(paths(META))[1:], list(paths(HEADER))[1:]
    seeded(sys.argv, [("json", b"\x00" + json.dumps(META).encode()), ("weights", b"\x03" + WEIGHTS)]
           + [(f"m{m}", bytes([m]) + bytes(range(64))) for m in (1, 2, 4)])
    fuzz(one, (LstmkitError,))
