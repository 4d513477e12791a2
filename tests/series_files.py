"""Small series written as the files timeseriesclassification.com ships (sktime's .ts, Weka's
.arff), for the classify readers' tests."""
import numpy as np


def numbers(values) -> str:
    return ",".join(f"{v:.6f}" for v in values)


TS_HEAD = "# made by the test\n@problemName Ramps\n@timeStamps false\n@univariate true\n@equalLength true\n"


def ts_file(path, seqs, labels, header=TS_HEAD + "@classLabel true down up\n"):
    """``seqs`` ([T, F] each) as a .ts file: dimensions joined by ':', the label last."""
    rows = (":".join(numbers(s[:, d]) for d in range(s.shape[1])) + f":{lab}" for s, lab in zip(seqs, labels))
    path.write_text(header + "@data\n" + "\n".join(rows) + "\n")
    return path


def multivariate(n: int, seed: int = 0):
    """Three-dimensional series of 5-9 steps: rising or falling in every dimension."""
    rng = np.random.default_rng(seed)
    seqs = [np.round((1 if i % 2 else -1) * np.linspace(0, 1, T)[:, None] * [1, 2, 3] + rng.normal(0, 0.1, (T, 3)), 6)
            for i, T in enumerate(rng.integers(5, 10, n))]
    return seqs, ["up" if i % 2 else "down" for i in range(n)]
