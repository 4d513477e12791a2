"""Fuzz the speech task's audio reader: any bytes in, a mono wave or one LstmkitError out.

The input's first byte picks the rate asked for (the file's own, 16 kHz, 8 kHz: resampling from odd
rates); the rest is the file (WAV, FLAC, OGG, AIFF, AU, ... as libsndfile reads them, and lstmkit's
own RIFF chunk walk, Ogg end-page check and level notes). Run from the repository root:

    PYTHONPATH=src python tools/fuzz/fuzz_audio.py /tmp/audio-corpus \
        -max_total_time=600 -rss_limit_mb=2048 -timeout=10
"""
from __future__ import annotations

import importlib
import io
import struct
import sys
import warnings
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_common import fuzz, seeded  # noqa: E402

with atheris.instrument_imports(include=["lstmkit"]):
    from lstmkit.errors import LstmkitError
    from lstmkit.tasks.speech.audio_files import read_upload

RATES = (None, 16000, 8000)


def seeds() -> list[tuple[str, bytes]]:
    import numpy as np
    import soundfile as sf

    x = (0.3 * np.sin(2 * np.pi * 440 * np.linspace(0, 1, 800))).astype(np.float32)
    out = []
    for name, data, rate, kw in (("pcm16.wav", x, 8000, dict(format="WAV", subtype="PCM_16")),
                                 ("float.wav", np.stack([x, -x], 1), 11025, dict(format="WAV", subtype="FLOAT")),
                                 ("u8.wav", x, 22050, dict(format="WAV", subtype="PCM_U8")),
                                 ("a.flac", x[:400], 16000, dict(format="FLAC")),
                                 ("a.ogg", x, 16000, dict(format="OGG")),
                                 ("a.aiff", x[:200], 44100, dict(format="AIFF")),
                                 ("a.au", x[:200], 12345, dict(format="AU"))):
        b = io.BytesIO()
        sf.write(b, data, rate, **kw)
        out.append((name, b"\x01" + b.getvalue()))
    wav = out[0][1][1:]
    at = wav.find(b"data")
    # a pipe writer's placeholder size with a LIST chunk after the data, and a header counting less than it holds
    out.append(("streamed.wav", b"\x01" + wav[:at + 4] + struct.pack("<I", 0xFFFFFFFF) + wav[at + 8:]
                + b"LIST" + struct.pack("<I", 4) + b"INFO"))
    out.append(("unheaded.wav", b"\x00" + wav[:at + 4] + struct.pack("<I", 400) + wav[at + 8:]))
    return out


def one(data: bytes) -> None:
    if not data:
        return
    wave, rate, _ = read_upload(data[1:], RATES[data[0] % len(RATES)])
    assert wave.ndim == 1 and wave.dtype.name == "float32", (wave.shape, wave.dtype)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    # the first resampling imports scipy.signal: seconds on a busy machine, a false -timeout
    importlib.import_module("scipy.signal")
    seeded(sys.argv, seeds())
    fuzz(one, (LstmkitError,))
