"""Fuzz loading a run folder of the other tasks: text classification (word, char and BPE tokenizers),
series classification, translation (word and BPE), language models (char, word and BPE) and speech, with
``lstmkit.json`` or ``vocab.json`` changed, then ``lstmkit.load`` and one small input predicted (a
translation, a perplexity and a 3-token sample, a transcription); a loaded model's answer or one
LstmkitError out.

The runs are trained once (``text_runs.py``, about a minute) into the folder ``LSTMKIT_FUZZ_RUNS`` names
(kept and reused; a temporary one without it). The input's first byte picks the run, the second what
changes: 0 ``lstmkit.json``'s bytes as given; 1 one to four of its values replaced or keys dropped;
2 ``vocab.json``'s bytes as given; 3 one to four of its values replaced or keys dropped; 4 one to four of
its keys renamed or list items replaced by fuzzed text (tokens, subwords, merges; lone surrogates too).
A changed ``vocab.json`` gets its SHA-256 recorded, so that the state itself is read; a run without one
(series, speech) takes modes 2 to 4 as 1. Run from the repository root:

    LSTMKIT_FUZZ_RUNS=/tmp/fuzz-runs PYTHONPATH=src python tools/fuzz/fuzz_text_runs.py /tmp/text-run-corpus \
        -max_total_time=600 -rss_limit_mb=3072 -timeout=60
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_common import fuzz, mutated, paths, seeded  # noqa: E402
from text_runs import inputs, trained  # noqa: E402

with atheris.instrument_imports(include=["lstmkit"]):
    import lstmkit
    import lstmkit.data.vocab
    import lstmkit.runs
    from lstmkit.errors import LstmkitError


def ask(name: str, model) -> None:
    """One small input through ``model`` (the run ``name``'s task)."""
    x = INPUTS[name]
    if name.startswith("translate"):
        model.translate(x)
    elif name.startswith("lm"):
        model.perplexity(x)
        model.sample(n_tokens=3, prefix=x[0], seed=0)
    else:
        model.predict(x)


def one(data: bytes) -> None:
    if len(data) < 3:
        return
    name = NAMES[data[0] % len(NAMES)]
    mode, rest = data[1] % 5, data[2:]
    meta, vocab = STATE[name]
    meta_text = vocab_text = None
    fdp = atheris.FuzzedDataProvider(rest)
    if vocab is None and mode >= 2:
        mode = 1
    if mode == 0:
        meta_text = rest
    elif mode == 1:
        meta = mutated(meta, PATHS[name][0], fdp, fdp.ConsumeIntInRange(1, 4))
    elif mode == 2:
        vocab_text = rest
    else:
        vocab_text = json.dumps(mutated(vocab, PATHS[name][1], fdp, fdp.ConsumeIntInRange(1, 4),
                                        renames=mode == 4)).encode()
    run = RUN / name
    if vocab_text is not None:
        (run / "vocab.json").write_bytes(vocab_text)
        meta = json.loads(json.dumps(meta))
        if isinstance(meta.get("weights_sha256"), dict):
            meta["weights_sha256"]["vocab.json"] = hashlib.sha256(vocab_text).hexdigest()
    elif vocab is not None:
        (run / "vocab.json").write_bytes(VOCAB_BYTES[name])
    (run / "lstmkit.json").write_bytes(meta_text if meta_text is not None else json.dumps(meta).encode())
    ask(name, lstmkit.load(run))


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(os.environ.get("LSTMKIT_FUZZ_RUNS") or tempfile.mkdtemp(prefix="lstmkit-fuzz-runs-"))
    with atheris.instrument_imports(include=["lstmkit"]):     # the modules the tasks import when first used
        RUNS = trained(folder)
        INPUTS = inputs(folder)
        for name, base in RUNS.items():          # and what a load and a first answer import (torch, pandas)
            ask(name, lstmkit.load(base))
    NAMES = sorted(RUNS)
    RUN = Path(tempfile.mkdtemp(prefix="lstmkit-fuzz-text-run-"))
    STATE, PATHS, VOCAB_BYTES = {}, {}, {}
    for name, base in RUNS.items():
        shutil.copytree(base, RUN / name)
        meta = json.loads((base / "lstmkit.json").read_text())
        vocab = json.loads((base / "vocab.json").read_text()) if (base / "vocab.json").is_file() else None
        if vocab is not None:
            VOCAB_BYTES[name] = (base / "vocab.json").read_bytes()
        STATE[name] = meta, vocab
        PATHS[name] = list(paths(meta))[1:], list(paths(vocab))[1:] if vocab is not None else []
    seeds = []
    for k, name in enumerate(NAMES):
        seeds.append((f"{name}-json", bytes([k, 0]) + (RUNS[name] / "lstmkit.json").read_bytes()))
        seeds += [(f"{name}-m{m}", bytes([k, m]) + bytes(range(64))) for m in (1, 3, 4)]
        if name in VOCAB_BYTES:
            seeds.append((f"{name}-vocab", bytes([k, 2]) + VOCAB_BYTES[name]))
    seeded(sys.argv, seeds)
    fuzz(one, (LstmkitError,))
