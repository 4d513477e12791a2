"""A small speech run from generated audio, for benchmarks and demos (no downloads).

Each letter ``a``-``d`` is a tone of its own pitch; words are separated by silence; noise lies
under everything. :func:`tiny_run` writes such a corpus and trains a small model on it in a few
seconds::

    from lstmkit.tasks.speech.synthetic import tiny_run, tone_clip
    run = tiny_run("bench", mode="ctc")                # a one-directional LSTM: exports and streams
    wave = tone_clip("ab cd", seconds=1.0)             # 1 s of audio at 8 kHz, to send to it
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RATE", "PITCHES", "tone_clip", "write_corpus", "tiny_run"]

RATE = 8000
PITCHES = {"a": 500.0, "b": 900.0, "c": 1400.0, "d": 2000.0}


def tone_clip(text: str, seconds: float | None = None, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """Mono float32 samples of ``text`` (letters a-d and spaces): 110 ms per letter, 30 ms between
    letters, 160 ms between words, 50 ms of silence around; padded with quiet noise (or cut) to
    ``seconds`` when given."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.11 * rate)) / rate
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)
    parts = [np.zeros(int(0.05 * rate))]
    for ch in text:
        if ch == " ":
            parts.append(np.zeros(int(0.13 * rate)))
        else:
            f = PITCHES[ch] * (1 + rng.uniform(-0.03, 0.03))
            parts += [fade * 0.5 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)), np.zeros(int(0.03 * rate))]
    wave = np.concatenate(parts + [np.zeros(int(0.02 * rate))])
    if seconds is not None:
        n = int(seconds * rate)
        wave = np.pad(wave, (0, max(0, n - wave.size)))[:n]
    return (wave + 0.03 * rng.standard_normal(wave.size)).astype(np.float32)


def write_corpus(folder: str | Path, n: int, seed: int = 0, name: str = "manifest.csv") -> Path:
    """``n`` random one- or two-word clips as WAVs under ``folder/wavs`` and a ``path,text`` manifest."""
    from lstmkit.tasks.speech.audio_files import soundfile
    sf = soundfile("writing audio files")
    folder, rng = Path(folder), np.random.default_rng(seed)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    rows = ["path,text"]
    for i in range(n):
        words = ["".join(rng.choice(list(PITCHES), int(rng.integers(1, 4)))) for _ in range(int(rng.integers(1, 3)))]
        text, wav = " ".join(words), f"wavs/{Path(name).stem}_{i}.wav"
        sf.write(folder / wav, tone_clip(text, seed=seed * 100_003 + i), RATE, subtype="PCM_16")
        rows.append(f"{wav},{text}")
    (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder / name


def tiny_run(folder: str | Path, mode: str = "ctc", n: int = 60, seed: int = 0, **overrides: Any) -> Path:
    """Train a small speech model on a generated corpus under ``folder``; returns its run folder.

    ``mode`` ctc (default: ``--model lstm --normalize global``, which exports with its state and
    streams), classify (a clip's label is its first letter: four classes) or seq2seq; ``overrides`` are any
    :class:`~lstmkit.tasks.speech.estimator.SpeechRecognizer` settings."""
    from lstmkit.tasks.speech.estimator import SpeechRecognizer
    folder = Path(folder)
    manifest = write_corpus(folder, n, seed)
    if mode == "classify":
        lines = manifest.read_text(encoding="utf-8").splitlines()
        labelled = [ln.split(",")[0] + "," + ln.split(",")[1][0] for ln in lines[1:]]     # a transcript's first letter
        manifest.write_text("\n".join([lines[0], *labelled]) + "\n", encoding="utf-8")
    params = dict(mode=mode, model="lstm", normalize="global", hidden_size=32, num_layers=1, channels=16, n_mels=16,
                  subsample=2, dropout=0.0, lr=0.01, max_epochs=15, patience=15, batch_size=16, seed=seed,
                  progress="off", tensorboard=False, doctor=False, **({} if mode == "classify" else {"beam": 1}))
    est = SpeechRecognizer(**{**params, **overrides}).fit(manifest, out=folder / "runs")
    return est.run_dir_
