"""Small data each of the six estimators fits on in a second, for the tests that go over all of them
(``NAMES``): ``fit_data(name, tmp_path)`` gives the arguments of ``fit`` and what ``predict`` takes."""
from pathlib import Path

import numpy as np

from speech_data import write_manifest
from translate_data import make_pairs

QUICK = dict(hidden_size=8, max_epochs=1, progress="off", tensorboard=False, doctor=False, seed=0)


def labelled_texts(n: int = 40) -> tuple[list[str], list[str]]:
    words = {"pos": "good great fine", "neg": "bad awful poor"}
    labels = ["pos" if i % 2 else "neg" for i in range(n)]
    return [f"the film {i} was {words[c].split()[i % 3]}" for i, c in enumerate(labels)], labels


def fit_data(name: str, tmp_path: Path):
    """Small data each estimator fits on: (args of fit, what predict takes)."""
    if name == "Forecaster":
        y = np.sin(np.arange(80) / 4)
        return (y,), y
    if name == "TextClassifier":
        x, y = labelled_texts()
        return (x, y), x
    if name == "SequenceClassifier":
        rng = np.random.default_rng(0)
        y = np.array(["up", "down"] * 10)
        X = np.stack([np.linspace(0, 1 if c == "up" else -1, 12) + rng.normal(0, 0.05, 12) for c in y])
        return (X, y), X
    if name == "Translator":
        pairs = make_pairs(30)
        return (pairs,), [s for s, _ in pairs[:3]]
    if name == "LanguageModel":
        lines = ["the red dog runs", "the big cat sits"] * 15
        return (lines,), lines
    return (write_manifest(tmp_path, 12, seed=0),), None


NAMES = ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel", "SpeechRecognizer"]
EXTRA = {"TextClassifier": {"min_freq": 1}, "SpeechRecognizer": {"n_mels": 20, "channels": 8}}


def fitted_per_name(tmp_path_factory, finish):
    """``get(name)``: ``finish(est, args, x, folder)`` of estimator ``name`` fitted (QUICK) into a fresh folder on
    its first use, kept for the module (a module-scoped fixture's body)."""
    import lstmkit
    made = {}

    def get(name):
        if name not in made:
            d = tmp_path_factory.mktemp(name)
            args, x = fit_data(name, d)
            est = getattr(lstmkit, name)(**{**QUICK, **EXTRA.get(name, {})}).fit(*args, out=d / "runs")
            made[name] = finish(est, args, x, d)
        return made[name]
    return get
