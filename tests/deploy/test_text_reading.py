"""How a text model's run reads a text, said for a caller without lstmkit (``around_graph``), and
read the same by every path: the estimator, the saved run loaded again, the service and its streams."""
import json
import re
import warnings

import pytest

import lstmkit
from estimator_data import QUICK, labelled_texts
from lstmkit.deploy.registry import adapter_class

pytest.importorskip("tokenizers")

LINES = [f"the {a} dog {b}" for a in ("red", "big", "old") for b in ("runs", "sits", "sleeps")] * 8
SRC = [f"the {a} dog" for a in ("red", "big", "old")] * 10
TGT = [f"le chien {a}" for a in ("rouge", "grand", "vieux")] * 10


def _fit(task: str, kind: str, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "classify":
            return lstmkit.TextClassifier(**QUICK, min_freq=1, tokenizer=kind).fit(*labelled_texts(), out=out)
        if task == "lm":
            return lstmkit.LanguageModel(**QUICK, level=kind, min_freq=1).fit(LINES, out=out)
        return lstmkit.Translator(**QUICK, tokenizer=kind, min_freq=1).fit(SRC, TGT, out=out)


RUNS = [("classify", "word"), ("classify", "char"), ("classify", "bpe"), ("lm", "char"), ("lm", "word"),
        ("lm", "bpe"), ("translate", "word"), ("translate", "bpe")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return {run: _fit(*run, out) for run in RUNS}


@pytest.mark.parametrize("task, kind", RUNS)
def test_around_graph_names_the_vocabulary_the_run_holds(runs, task, kind):
    # every run's text was 'words … as their index in vocab.json's itos': a character run's are
    # characters, and a BPE run's vocab.json holds no itos (its subwords are a Hugging Face tokenizer's)
    est = runs[task, kind]
    notes = adapter_class(task)(est).around_graph
    vocab = json.loads((est.run_dir_ / "vocab.json").read_text())
    named = re.findall(r"vocab\.json's ((?:\w+\.)*\w+)", " ".join(notes))
    assert named
    for path in named:
        node = vocab
        for key in path.split("."):
            assert isinstance(node, dict) and key in node, (path, notes)
            node = node[key]
    unit = {"word": "words", "char": "characters", "bpe": "subwords"}[kind]
    assert re.match(rf"ids: each \w+'s {unit} ", notes[0]), notes[0]
