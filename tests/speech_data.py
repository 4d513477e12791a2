"""Synthetic speech for the speech tests: every symbol is a tone, no downloads, no synthesiser.

Letters ``a``-``d`` are 90-130 ms tones at their own frequency (with a harmonic), letters are
separated by 30 ms of silence and words by 160 ms; background noise everywhere. Digits for
classification are a two-tone chord per digit. Deterministic for a given seed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 8000
TONES = {"a": 500.0, "b": 900.0, "c": 1400.0, "d": 2000.0}


def _tone(freq: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    env = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)          # 10 ms fade in and out
    return env * (0.5 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6.3)) + 0.2 * np.sin(4 * np.pi * freq * t))


def say(text: str, rng: np.random.Generator, rate_jitter: float = 0.15, noise: float = 0.03,
        tones: dict[str, float] = TONES) -> np.ndarray:
    """The waveform of ``text`` (letters a-d and spaces); ``tones`` maps letters to Hz."""
    parts = [np.zeros(int(0.05 * RATE))]
    for k, ch in enumerate(text):
        if ch == " ":
            parts.append(np.zeros(int(0.16 * RATE)))
            continue
        f = tones[ch] * (1 + rng.uniform(-0.03, 0.03))
        parts.append(_tone(f, 0.11 * (1 + rng.uniform(-rate_jitter, rate_jitter)), rng))
        if k + 1 < len(text) and text[k + 1] != " ":
            parts.append(np.zeros(int(0.03 * RATE)))
    parts.append(np.zeros(int(0.05 * RATE)))
    wave = np.concatenate(parts)
    return (wave + noise * rng.standard_normal(wave.size)).astype(np.float32)


def random_text(rng: np.random.Generator, words=(1, 2), letters=(1, 3), alphabet: str = "abcd") -> str:
    n = int(rng.integers(words[0], words[1] + 1))
    return " ".join("".join(rng.choice(list(alphabet), int(rng.integers(letters[0], letters[1] + 1))))
                    for _ in range(n))


def write_manifest(folder: Path, n: int, seed: int, name: str = "manifest.csv", texts=None,
                   tones: dict[str, float] = TONES, **kw) -> Path:
    """``n`` WAVs under ``folder/wavs`` and a manifest with relative paths; returns the manifest.
    The texts are random (``random_text(**kw)``) unless ``texts`` are given."""
    import soundfile as sf
    rng = np.random.default_rng(seed)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    rows = ["path,text"]
    for i in range(n):
        text = texts[i] if texts is not None else random_text(rng, **kw)
        sf.write(folder / "wavs" / f"{name[:-4]}_{i}.wav", say(text, rng, tones=tones), RATE, subtype="PCM_16")
        rows.append(f"wavs/{name[:-4]}_{i}.wav,{text}")
    (folder / name).write_text("\n".join(rows) + "\n")
    return folder / name


DIGIT_CHORDS = {d: (300.0 + 170.0 * d, 1200.0 + 260.0 * ((d * 7) % 10)) for d in range(10)}


def write_digits(folder: Path, digits=range(4), speakers=("ann", "bob"), takes: int = 6, seed: int = 0) -> Path:
    """FSDD-style ``{digit}_{speaker}_{take}.wav`` files: each digit a two-tone chord."""
    import soundfile as sf
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for d in digits:
        for s, speaker in enumerate(speakers):
            for take in range(takes):
                f1, f2 = DIGIT_CHORDS[d]
                shift = 1 + 0.04 * s
                secs = rng.uniform(0.2, 0.35)
                w = 0.6 * _tone(f1 * shift, secs, rng) + 0.4 * _tone(f2 * shift, secs, rng)
                w = np.concatenate([np.zeros(400), w, np.zeros(400)])
                w = (w + 0.03 * rng.standard_normal(w.size)).astype(np.float32)
                sf.write(folder / f"{d}_{speaker}_{take}.wav", w, RATE, subtype="PCM_16")
    return folder


def write_commands(folder: Path, words=("yes", "no", "up"), takes: int = 4, seed: int = 0) -> Path:
    """Speech Commands' layout: ``{word}/{speaker}_nohash_{take}.wav`` (each word a digit's chord,
    ``takes`` speakers a word) and a ``_background_noise_`` folder of noise, which holds no class."""
    import soundfile as sf
    rng = np.random.default_rng(seed)
    for k, word in enumerate(words):
        (folder / word).mkdir(parents=True, exist_ok=True)
        f1, f2 = DIGIT_CHORDS[k]
        for take in range(takes):
            secs = rng.uniform(0.2, 0.3)
            w = 0.6 * _tone(f1, secs, rng) + 0.4 * _tone(f2, secs, rng)
            w = np.concatenate([np.zeros(400), w, np.zeros(400)]) + 0.03 * rng.standard_normal(int(secs * RATE) + 800)
            sf.write(folder / word / f"s{take}_nohash_0.wav", w.astype(np.float32), RATE, subtype="PCM_16")
    (folder / "_background_noise_").mkdir(exist_ok=True)
    sf.write(folder / "_background_noise_" / "white_noise.wav", 0.1 * rng.standard_normal(RATE), RATE)
    return folder


LIBRI_TEXTS = ("AB CD", "BA", "DC A", "CAB")         # LibriSpeech writes its transcripts in capitals


def write_librispeech(top, subsets=("dev-clean",), speakers=(19, 84), texts=LIBRI_TEXTS, seed=0):
    """``top/<subset>/<speaker>/<chapter>/`` with FLAC files and one ``.trans.txt`` per chapter: each
    speaker one chapter of ``len(texts)`` utterances (the texts lower-cased are spoken as tones)."""
    import soundfile as sf
    rng = np.random.default_rng(seed)
    for s, subset in enumerate(subsets):
        for speaker in speakers:
            chapter = 100 * speaker + s                         # ids distinct across the subsets
            folder = top / subset / str(speaker) / str(chapter)
            folder.mkdir(parents=True)
            lines = []
            for u, text in enumerate(texts):
                uid = f"{speaker}-{chapter}-{u:04d}"
                sf.write(folder / f"{uid}.flac", say(text.lower(), rng), RATE, format="FLAC")
                lines.append(f"{uid} {text}")
            (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    return top


def write_ljspeech(folder, rows, seed=0):
    """``folder/metadata.csv`` of ``rows`` (written as given) and a WAV in ``wavs/`` for each row's id."""
    import soundfile as sf
    rng = np.random.default_rng(seed)
    (folder / "wavs").mkdir(parents=True)
    for row in rows:
        uid = row.split("|")[0]
        sf.write(folder / "wavs" / f"{uid}.wav", say("ab", rng), RATE, subtype="PCM_16")
    (folder / "metadata.csv").write_text("\n".join(rows) + "\n")
    return folder


def unfinished_wav(wav: bytes) -> bytes:
    """``wav`` with its RIFF and data sizes left at 0: a recorder that stopped before writing them."""
    at = wav.find(b"data")
    return wav[:4] + bytes(4) + wav[8:at + 4] + bytes(4) + wav[at + 8:]
