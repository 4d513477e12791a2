"""Small tables the classify, lm and translate resume tests train on (tests/data/test_same_data.py,
tests/catalogue/test_resume_tables.py), and the labelled series (UCR .tsv, .ts, .arff) and texts
(fastText, class-index CSV) files that are no tables; ``polars_like`` a frame as polars holds it."""
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


def labelled_series(n=12, start=0, flip=(), bump=()):
    """Series ``start`` to ``start + n`` as ``(label, six values)``, classes 'a' and 'b' in turn;
    the series numbered in ``flip`` have the other class, those in ``bump`` their values raised by 1."""
    out = []
    for i in range(start, start + n):
        label = "ab"[(i + (i in flip)) % 2]
        out.append((label, np.round(np.sin(np.arange(6) / 2 + i), 3) + (1.0 if i in bump else 0.0)))
    return out


def write_series(path, rows):
    """``rows`` (labelled_series) written as ``path``'s suffix says: a UCR .tsv (the label first), a .ts or an .arff."""
    cells = [(label, [f"{v:g}" for v in values]) for label, values in rows]
    if path.suffix == ".tsv":
        text = "".join("\t".join([label, *values]) + "\n" for label, values in cells)
    elif path.suffix == ".ts":
        text = ("@problemName waves\n@timeStamps false\n@univariate true\n@equalLength true\n@classLabel true a b\n"
                "@data\n" + "".join(",".join(values) + ":" + label + "\n" for label, values in cells))
    else:
        text = ("@relation waves\n" + "".join(f"@attribute t{j} numeric\n" for j in range(6))
                + "@attribute class {a,b}\n@data\n" + "".join(",".join([*values, label]) + "\n" for label, values in cells))
    path.write_text(text)


def labelled_texts(n=24, start=0, flip=(), edit=()):
    """Texts ``start`` to ``start + n`` as ``(label, text)``, classes 'pos' and 'neg'; the texts
    numbered in ``flip`` have the other class, those in ``edit`` a word more."""
    words = ["good", "bad", "fine", "awful", "great", "poor"]
    out = []
    for i in range(start, start + n):
        label = ["pos", "neg"][(i + (i in flip)) % 2]
        out.append((label, f"{words[i % 6]} film number {i}" + (" again" if i in edit else "")))
    return out


def write_texts(path, rows):
    """``rows`` (labelled_texts) as a fastText file (a .txt: ``__label__pos text``), or as a headerless
    class-index CSV (a .csv: AG News' layout) with the ``classes.txt`` that names its classes beside it."""
    if path.suffix == ".txt":
        path.write_text("".join(f"__label__{label} {text}\n" for label, text in rows))
    else:
        (path.parent / "classes.txt").write_text("neg\npos\n")
        path.write_text("".join(f'"{1 + (label == "pos")}","{text}"\n' for label, text in rows))


def polars_like(frame):
    """A polars DataFrame and Series as lstmkit meets them (polars is no dependency): the real ones
    where polars is installed, else stand-ins from a module named polars offering what polars does
    (``to_pandas``, ``to_list``, ``columns``, ``__array__``: read as an array of cells, the misreading)."""
    try:
        import polars as pl
        return pl.from_pandas(frame), pl.Series(frame.columns[0], frame.iloc[:, 0].tolist())
    except ImportError:
        pass

    class DataFrame:
        __module__ = "polars.dataframe.frame"
        columns = list(frame.columns)

        def to_pandas(self):
            return frame.copy()

        def __array__(self, dtype=None, copy=None):
            return frame.to_numpy(dtype=dtype)

    class Series:
        __module__ = "polars.series.series"

        def to_list(self):
            return frame.iloc[:, 0].tolist()

        def to_pandas(self):
            return frame.iloc[:, 0].copy()

        def __iter__(self):
            return iter(self.to_list())

    return DataFrame(), Series()

