"""`lm train --data FOLDER`: a folder of .txt files (sub-folders and .txt.gz too, hidden ones and
other files left out) is one corpus, in the order of the files' paths; a resume is refused when a
file was added, removed, renamed or edited since the run started, naming the file."""
import gzip
import json

import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm import LanguageModel

QUICK = dict(level="word", embed_dim=8, hidden_size=8, num_layers=1, dropout=0.0, max_epochs=1, batch_size=8, seed=0,
             progress="off", tensorboard=False, doctor=False, min_freq=1)


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("the cat sat on the mat\nthe dog ran\n\n")
    (root / "sub" / "b.TXT").write_text("a bird flew over the house\n")
    (root / "sub" / "c.txt.gz").write_bytes(gzip.compress(b"the cat ran to the dog\nthe mat sat still\n"))
    (root / ".git").mkdir()
    (root / ".git" / "hidden.txt").write_text("never read\n")      # hidden: left out
    (root / "notes.md").write_text("not a corpus file\n")           # not .txt: left out
    return root


def test_a_folder_of_text_files_is_one_corpus_in_path_order(corpus, tmp_path):
    lm = LanguageModel(**QUICK).fit(str(corpus), ["the cat sat"], out=tmp_path / "runs")     # every line trains
    d = lm.data_summary_
    assert d["text_files"] == 3 and d["lines"] == 6 and d["blank_lines"] == 1
    assert d["text_folders"] == ["source"] and len(d["sha256"]["source"]) == 64
    assert "never" not in lm.tokenizer_.stoi and "corpus" not in lm.tokenizer_.stoi      # hidden / .md not read
    assert {"bird", "still"} <= set(lm.tokenizer_.stoi)                                 # sub-folder, .gz read
    # evaluation reads a folder the same way
    assert lm.evaluate(str(corpus))["tokens"] > 0


def _interrupted(lm):
    run = lm.run_dir_
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["status"] = "interrupted"                         # as Ctrl-C after the last epoch leaves it
    (run / "lstmkit.json").write_text(json.dumps(meta))
    return run


@pytest.mark.parametrize("change, needle", [
    (lambda root: (root / "z.txt").write_text("a new file\n"), "has 1 more file (z.txt) appended since"),
    (lambda root: (root / "sub" / "b.TXT").write_text("a bird flew\n"),
     "has other text in file 2 (sub/b.TXT; the first files that differ; their names are as they were)"),
    (lambda root: (root / "a.txt").rename(root / "sub" / "d.txt"), "has other names and text in files 1-3"),
    (lambda root: (root / "sub" / "c.txt.gz").unlink(), "has 1 fewer file than when"),
])
def test_a_resume_names_the_file_that_changed(corpus, tmp_path, change, needle):
    lm = LanguageModel(**QUICK).fit(str(corpus), out=tmp_path / "runs")
    run = _interrupted(lm)
    before = {f: f.read_bytes() for f in corpus.rglob("*") if f.is_file()}
    change(corpus)
    with pytest.raises(LstmkitError, match="a resumed run must train on the data it started on") as e:
        LanguageModel(**QUICK).fit(str(corpus), run_dir=run, resume=True)
    assert needle in str(e.value) and str(corpus) in str(e.value)
    for f in [f for f in corpus.rglob("*") if f.is_file()]:           # the folder as it was: resumes
        f.unlink()
    for f, content in before.items():
        f.write_bytes(content)
    LanguageModel(**QUICK).fit(str(corpus), run_dir=run, resume=True)
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished"
