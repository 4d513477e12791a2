"""Small tables the classify, lm and translate resume tests train on (tests/data/test_same_data.py,
tests/catalogue/test_resume_tables.py)."""
import numpy as np
import pandas as pd


def reviews(n=40, start=0):
    """Texts in a 'review' column, their classes in 'sentiment' (rows ``start`` to ``start + n``)."""
    words = ["good", "bad", "fine", "awful", "great", "poor"]
    return pd.DataFrame({"review": [f"{words[i % 6]} film number {i}" for i in range(start, start + n)],
                         "sentiment": ["pos" if i % 6 in (0, 2, 4) else "neg" for i in range(start, start + n)]})


def long_series(samples=12):
    """A long table of numeric series: six steps a sample, classes 'a' and 'b'."""
    return pd.DataFrame({"sample": np.repeat(np.arange(samples), 6), "t": np.tile(np.arange(6), samples),
                         "x": np.round(np.sin(np.arange(samples * 6) / 2), 3),
                         "label": np.repeat(["a", "b"] * (samples // 2), 6)})


def lines(n=60):
    """Lines of text in a 'text' column, beside a number column."""
    return pd.DataFrame({"n": range(n), "text": [f"the cat sat on mat {i % 5}" for i in range(n)]})


def pairs(n=40, start=0):
    """Sentence pairs in columns 'en' and 'de' (tests/translate_data.make_pairs' pairs ``start`` to ``start + n``)."""
    from translate_data import make_pairs
    rows = make_pairs(start + n)[start:]
    return pd.DataFrame({"en": [s for s, _ in rows], "de": [t for _, t in rows]})
