"""The README's Python examples run as written. Each ```python block is executed in a fresh working
folder that holds the files it names (``sales.csv``, ``stores.csv``, ``corpus.txt``: small generated
data), after the names its prose defines (``df``, ``x``, ``model``, ...) are set by EXAMPLES' ``setup``
and its training is cut short by EXAMPLES' ``tiny`` replacements, each of which must still match
its block. What the lines return is kept by the expression they are written as, and checked
against what the comments beside them promise: evaluate's keys, predict's columns, the gates'
shapes. A renamed method or attribute, or a changed return shape, fails here, not in a newcomer's
paste. tests/test_readme.py checks the shell blocks' commands and flags."""
import ast
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python code blocks of a markdown text."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def shown_values(code: str, namespace: dict) -> dict[str, object]:
    """Run ``code`` in ``namespace``; each top-level expression statement's value, keyed by its source
    (``'f.predict("sales.csv")'``), as an interactive session would show it."""
    tree = ast.parse(code)
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.Expr):
            key = ast.Constant(ast.get_source_segment(code, node))
            target = ast.Subscript(ast.Name("_shown", ast.Load()), key, ast.Store())
            tree.body[i] = ast.copy_location(ast.Assign([target], node.value), node)
    ast.fix_missing_locations(tree)
    namespace["_shown"] = {}
    exec(compile(tree, "README.md", "exec"), namespace)
    return namespace["_shown"]


# -- the data the examples name, small -------------------------------------------------------------

def write_data(folder: Path) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(400)
    dates = pd.date_range("2022-01-01", periods=len(t), freq="D")
    units = 100 + 0.1 * t + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 2, len(t))
    pd.DataFrame({"date": dates, "units": units.round(2)}).to_csv(folder / "sales.csv", index=False)
    stores = [pd.DataFrame({"store": s, "date": dates,
                            "units": (50 + 5 * np.sin(2 * np.pi * t / 7 + k) + rng.normal(0, 1, len(t))).round(2)})
              for k, s in enumerate(["a", "b", "c"])]
    pd.concat(stores).to_csv(folder / "stores.csv", index=False)
    words = "the old dog sleeps a man rides cat runs fast big small house tree".split()
    lines = [" ".join(rng.choice(words, size=rng.integers(3, 8))) for _ in range(120)]
    (folder / "corpus.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- what each block needs and promises --------------------------------------------------------------

FAST = "ensemble=1, progress='off', tensorboard=False"     # one seed, no epoch lines, no tb/ events


def check_forecaster(ns, shown):
    f, Forecaster = ns["f"], ns["Forecaster"]
    # {"lstm": {"MAE": …}, "naive": {…}, "seasonal_naive": {…}, "ets": {…}}
    scores = shown['f.evaluate("sales.csv")']
    assert set(scores) == {"lstm", "naive", "seasonal_naive", "ets"}, scores
    assert all("MAE" in row for row in scores.values())
    # DataFrame: date, step, units — the 12 steps after the data ends
    ahead = shown['f.predict("sales.csv")']
    assert list(ahead.columns) == ["date", "step", "units"]
    assert ahead["step"].tolist() == list(range(1, 13))
    last = pd.read_csv("sales.csv", parse_dates=["date"])["date"].max()
    assert ahead["date"].tolist() == list(pd.date_range(last, periods=13, freq="D")[1:])
    # a run folder (lstmkit.json, model.safetensors, history.csv, metrics.json, plots/loss.png, plots/forecast.png,
    # TensorBoard events in tb/), doctor.json; lstmkit.json's `auto` block keeps each choice with its reason
    run = Path(f.run_dir_)
    for name in ("lstmkit.json", "model.safetensors", "history.csv", "metrics.json", "plots/loss.png",
                 "plots/forecast.png", "doctor.json"):
        assert (run / name).is_file(), name
    assert any((run / "tb").iterdir())
    meta = json.loads((run / "lstmkit.json").read_text(encoding="utf-8"))
    assert meta["auto"] and all({"value", "why"} <= set(choice) for name, choice in meta["auto"].items()
                                if name != "measured"), meta["auto"]
    assert meta["training"]["device"] == "cpu" and meta["training"]["threads"] == torch.get_num_threads()
    assert "bounds" in meta["preprocessing"]
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert {"naive", "seasonal_naive", "ets"} <= set(metrics["baselines"])      # says what each row is
    loaded = shown['Forecaster.load("runs/sales")']
    assert isinstance(loaded, Forecaster)
    pd.testing.assert_frame_equal(loaded.predict("sales.csv"), ahead)
    # a folder holding another run: refused, or save(…, overwrite=True); its own run is saved over
    assert f.save("runs/sales") == Path("runs/sales")
    other = Path("runs/other")
    other.mkdir()
    (other / "lstmkit.json").write_text('{"task": "forecast", "run_id": "another"}', encoding="utf-8")
    from lstmkit.errors import LstmkitError
    with pytest.raises(LstmkitError, match=r"overwrite=True"):
        f.save(other)
    f.save(other, overwrite=True)
    pd.testing.assert_frame_equal(Forecaster.load(other).predict("sales.csv"), ahead)


def check_panel(ns, shown):
    df = ns["df"]
    ahead = shown["f.predict(df)"]                   # one horizon per store after its last value
    # README's shell block: id, date, step, units, units_q0.1, units_q0.5, units_q0.9
    assert list(ahead.columns) == ["store", "date", "step", "units", "units_q0.1", "units_q0.5", "units_q0.9"]
    assert ahead.groupby("store").size().to_dict() == {"a": 14, "b": 14, "c": 14}
    assert (ahead["units_q0.1"] <= ahead["units_q0.5"]).all() and (ahead["units_q0.5"] <= ahead["units_q0.9"]).all()
    folds = shown["f.backtest(df, folds=4)"]         # rolling origin, per fold and mean over folds
    assert sorted({row["fold"] for row in folds["folds"]}) == [1, 2, 3, 4]
    assert {"lstm", "naive", "seasonal_naive"} <= set(folds["aggregate"])


def check_lstm(ns, shown):
    lstm, x, out, h, c, gates = (ns[name] for name in ("lstm", "x", "out", "h", "c", "gates"))
    assert out.shape == (4, 6, 2 * 32)                                  # batch_first=True
    assert h.shape == c.shape == (2 * 2, 4, 32)
    assert set(gates) == {"i", "f", "g", "o", "c"}
    assert all(v.shape == (2 * 2, 4, 6, 32) for v in gates.values())    # [layers*dirs, B, T, H]
    # numerically identical to torch.nn.LSTM, with its keys
    ref = torch.nn.LSTM(8, 32, 2, bidirectional=True, batch_first=True)
    ref.load_state_dict(lstm.state_dict())
    torch.testing.assert_close(lstm(x)[0], ref(x)[0])


def check_threads(ns, shown):
    assert ns["labels"].tolist() == ns["model"].predict(ns["texts"]).tolist()
    assert set(ns["labels"]) <= {"pos", "neg"}


def check_lm(ns, shown):
    lm, sc, lp = ns["lm"], ns["sc"], ns["lp"]
    assert math.isfinite(shown['lm.perplexity(["a held-out sentence"])'])
    text = shown['lm.sample(200, prefix="the ", temperature=0.8, seed=0)']
    assert isinstance(text, str) and text.startswith("the ")
    assert text == lm.sample(200, prefix="the ", temperature=0.8, seed=0)          # same seed, same text
    scored = shown['lm.predict(["the old dog sleeps"])']    # logprobs (nats, </s> included), tokens, perplexity
    assert set(scored) == {"logprobs", "tokens", "perplexity"}
    assert scored["tokens"] == [len("the old dog sleeps") + 1]                 # characters and </s>
    assert sc.level == "char" and "</s>" in sc.vocab                           # log P(next | "t") over sc.vocab
    assert len(lp) == len(sc.vocab) and math.isclose(float(np.logaddexp.reduce(lp)), 0.0, abs_tol=1e-4)


@dataclass
class Example:
    setup: str                       # the names the block uses that the README's prose or data give it
    check: Callable                  # check(namespace, shown values)
    tiny: list[tuple[str, str]] = field(default_factory=list)    # (text in the block, what it runs as)


# keyed by each block's first line
EXAMPLES = {
    "from lstmkit import Forecaster": Example(
        "", check_forecaster, [("max_epochs=50)", "max_epochs=1, ensemble=1, progress='off')")]),
    "f = Forecaster(lookback=56, horizon=14, quantiles=[0.1, 0.5, 0.9], calendar=[\"weekday\"], "
    "samples_per_epoch=20000)": Example(
        "import pandas as pd\nfrom lstmkit import Forecaster\ndf = pd.read_csv('stores.csv')\n", check_panel,
        [("samples_per_epoch=20000)", f"samples_per_epoch=256, max_epochs=1, hidden_size=8, {FAST})")]),
    "import torch": Example(
        "import torch\nx = torch.randn(4, 6, 8)\nlengths = torch.tensor([6, 5, 3, 1])\n", check_lstm),
    "from lstmkit.nn.threads import one_thread": Example(
        "from lstmkit import TextClassifier\n"
        "texts = ['a wonderful film', 'a dreadful film', 'great acting', 'a boring plot'] * 4\n"
        "model = TextClassifier(max_epochs=1, hidden_size=8, embed_dim=8, min_freq=1, word_scores=False, "
        "val_frac=0, progress='off', tensorboard=False).fit(texts, ['pos', 'neg', 'pos', 'neg'] * 4)\n",
        check_threads),
    "from lstmkit import LanguageModel": Example(
        "", check_lm, [("hidden_size=256, num_layers=2)", "hidden_size=16, num_layers=2, max_epochs=1, "
                                                          "progress='off', tensorboard=False)")]),
}


def readme_examples() -> list[str]:
    return python_blocks(README.read_text(encoding="utf-8"))


def runnable(block: str, example: Example) -> str:
    for text, tiny in example.tiny:
        assert block.count(text) == 1, (
            f"README's block starting {block.splitlines()[0]!r} no longer holds {text!r} once: "
            "update EXAMPLES' tiny replacements in tests/test_readme_python.py")
        block = block.replace(text, tiny)
    return example.setup + block


def test_every_python_block_of_the_readme_is_run():
    firsts = [block.splitlines()[0] for block in readme_examples()]
    assert sorted(firsts) == sorted(EXAMPLES), (
        "each ```python block of README.md needs an entry in EXAMPLES (its setup and checks), keyed by its first line")


@pytest.mark.parametrize("first", list(EXAMPLES), ids=lambda first: first.split("(")[0][:40])
def test_the_readme_example_runs_as_written(first, tmp_path, monkeypatch):
    block = next(b for b in readme_examples() if b.splitlines()[0] == first)
    write_data(tmp_path)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "readme_example"}
    shown = shown_values(runnable(block, EXAMPLES[first]), namespace)
    EXAMPLES[first].check(namespace, shown)


def test_an_example_that_breaks_fails():
    namespace: dict = {}
    assert shown_values("x = [3, 1]\nsorted(x); len(x)\n", namespace) == {"sorted(x)": [1, 3], "len(x)": 2}
    with pytest.raises(AttributeError):
        shown_values("import torch\ntorch.nn.LSTM(2, 3).record_gates", {})
    with pytest.raises(AssertionError, match="no longer holds"):
        runnable("f = Forecaster(max_epochs=60)\n", EXAMPLES["from lstmkit import Forecaster"])
