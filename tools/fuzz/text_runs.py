"""Tiny trained runs of the text, series and speech tasks, for the run-folder fuzzers to change.

``trained(folder)`` fits each (a few seconds apiece, once: a run already in ``folder`` is kept) and
returns ``{name: run folder}``; ``INPUTS[name]`` is the small input each run's model is asked about.
The data are generated (no downloads): texts of a few words, sine series, tone "speech".
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

QUICK = dict(max_epochs=1, progress="off", tensorboard=False, doctor=False, seed=0)
WORDS = ["red", "blue", "dog", "cat", "runs", "sits", "big", "small", "the", "a"]
LEXICON = {"red": "rot", "blue": "blau", "dog": "Hund", "cat": "Katze", "runs": "rennt", "sits": "sitzt",
           "big": "groß", "small": "klein", "the": "der", "a": "ein"}
RATE = 8000
TONES = {"a": 500.0, "b": 900.0, "c": 1400.0, "d": 2000.0}


def texts(n: int = 40) -> tuple[list[str], list[str]]:
    words = {"pos": "good great fine", "neg": "bad awful poor"}
    labels = ["pos" if i % 2 else "neg" for i in range(n)]
    return [f"the film {i} was {words[c].split()[i % 3]} café 好看 👍🏽" for i, c in enumerate(labels)], labels


def pairs(n: int = 30) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        ws = list(rng.choice(WORDS, int(rng.integers(2, 6))))
        out.append((" ".join(ws) + ".", " ".join(LEXICON[w] for w in ws) + "."))
    return out


def series() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.array(["up", "down"] * 10)
    return np.stack([np.linspace(0, 1 if c == "up" else -1, 12) + rng.normal(0, 0.05, 12) for c in y]), y


def say(text: str, rng: np.random.Generator) -> np.ndarray:
    parts = [np.zeros(400)]
    for ch in text:
        if ch == " ":
            parts.append(np.zeros(1280))
            continue
        t = np.arange(int(0.11 * RATE)) / RATE
        parts += [0.5 * np.sin(2 * np.pi * TONES[ch] * t), np.zeros(240)]
    wave = np.concatenate(parts + [np.zeros(400)])
    return (wave + 0.03 * rng.standard_normal(wave.size)).astype(np.float32)


def manifest(folder: Path, n: int = 12) -> Path:
    import soundfile as sf
    rng = np.random.default_rng(0)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    rows = ["path,text"]
    for i in range(n):
        text = " ".join("".join(rng.choice(list("abcd"), int(rng.integers(1, 4)))) for _ in range(rng.integers(1, 3)))
        sf.write(folder / "wavs" / f"{i}.wav", say(text, rng), RATE, subtype="PCM_16")
        rows.append(f"wavs/{i}.wav,{text}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder / "manifest.csv"


LM_LINES = ["the red dog runs", "the big cat sits", "a small café 好看 👍🏽"] * 10


def fitters(folder: Path):
    import lstmkit
    x, y = texts()
    X, sy = series()
    lm = dict(embed_dim=16, hidden_size=16, **QUICK)
    tr = dict(embed_dim=16, hidden_size=16, num_layers=1, min_freq=1, batch_size=32, beam=2, **QUICK)
    return {
        "classify_word": lambda: lstmkit.TextClassifier(hidden_size=8, min_freq=1, **QUICK).fit(x, y),
        "classify_char": lambda: lstmkit.TextClassifier(hidden_size=8, tokenizer="char", **QUICK).fit(x, y),
        "classify_bpe": lambda: lstmkit.TextClassifier(hidden_size=8, tokenizer="bpe", min_freq=1, **QUICK).fit(x, y),
        "series": lambda: lstmkit.SequenceClassifier(hidden_size=8, **QUICK).fit(X, sy),
        "translate_word": lambda: lstmkit.Translator(**tr).fit(pairs()),
        "translate_bpe": lambda: lstmkit.Translator(tokenizer="bpe", **tr).fit(pairs()),
        "lm_char": lambda: lstmkit.LanguageModel(level="char", **lm).fit(LM_LINES),
        "lm_word": lambda: lstmkit.LanguageModel(level="word", min_freq=1, **lm).fit(LM_LINES),
        "lm_bpe": lambda: lstmkit.LanguageModel(level="bpe", min_freq=1, **lm).fit(LM_LINES),
        "speech": lambda: lstmkit.SpeechRecognizer(hidden_size=8, n_mels=20, channels=8, **QUICK)
        .fit(manifest(folder / "speech-data")),
    }


def trained(folder: Path) -> dict[str, Path]:
    """``{name: run folder}`` of every run of :func:`fitters` under ``folder``, fitting the ones missing."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, fit in fitters(folder).items():
        run = folder / name
        if not (run / "lstmkit.json").is_file():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit().save(run)
        out[name] = run
    return out


def inputs(folder: Path) -> dict:
    """What each run's model is asked, by name (a task's small input)."""
    wav = folder / "speech-data" / "wavs" / "0.wav"
    return {"classify_word": ["the film was good café"], "classify_char": ["the film was bad 好"],
            "classify_bpe": ["a great film 👍🏽"], "series": series()[0][:2],
            "translate_word": ["the red dog runs."], "translate_bpe": ["a big cat sits."],
            "lm_char": ["the red dog"], "lm_word": ["the big cat"], "lm_bpe": ["a small café"], "speech": [str(wav)]}


if __name__ == "__main__":
    import sys
    import time
    t = time.time()
    for name, run in trained(Path(sys.argv[1])).items():
        print(name, sorted(p.name for p in run.iterdir()), flush=True)
    print(f"{time.time() - t:.1f}s")
