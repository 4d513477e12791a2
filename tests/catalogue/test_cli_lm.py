"""Bad-input catalogue, `lstmkit lm`, and the LM scorer's API: one line, the right exit code."""
import gzip
import re

import pytest

from catalogue_helpers import COMMON_TRAIN, check, common_files, fake_run, train_once, with_data
from lstmkit.errors import LstmkitError

TRAIN = ["lm", "train", "--data", "{d}/corpus.txt", "--level", "char", "--embed-dim", "4", "--hidden-size", "4",
         "--layers", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard", "--no-doctor",
         "--device", "cpu", "--out", "{out}"]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("lm_data")
    common_files(d)
    (d / "corpus.txt").write_text("abcdefghij\n" * 60)
    (d / "empty.txt").write_text("\n \n")
    (d / "empty.txt.gz").write_bytes(gzip.compress(b""))
    (d / "one.txt").write_text("a single sentence\n\n")
    (d / "latin1.txt").write_bytes(b"line one\nline two\nna\xefve\n" + b"more text\n" * 20)
    (d / "folder").mkdir()
    (d / "tables").mkdir()                                          # a folder of no .txt files
    (d / "tables" / "a.csv").write_text("text\nabc\n")
    (d / "blank_texts" / "sub").mkdir(parents=True)                 # .txt files of blank lines only
    (d / "blank_texts" / "sub" / "a.txt").write_text("\n\n")
    (d / "ptb").mkdir()                                             # Penn Treebank's download: three parts
    for part in ("train", "valid", "test"):
        (d / "ptb" / f"ptb.{part}.txt").write_text("abcdefghij\n" * 20)
    (d / "no_words.txt").write_text("!!! ???\n+ $ :-)\n" * 20)
    (d / "reviews.csv").write_text("id,review\n" + "".join(f"{i},abcdefghij\n" for i in range(20)))
    fake_run(d)
    (d / "run").symlink_to(train_once(TRAIN, d, d / "trained"))
    return d


def _train(*flags, data="corpus.txt"):
    return with_data(TRAIN, data, *flags)


CASES = [(_train(*flags), 2, needle) for flags, needle in COMMON_TRAIN] + [
    # --loss was accepted and ignored: the run trained on the task's own loss and recorded the one given
    (_train("--loss", "huber"), 2, "--loss huber does not apply to lm: it trains on cross-entropy of the next token"),
    (_train(data="nope.txt"), 2, "file not found"),
    # an unset shell variable (--data "$CORPUS"): every .txt under the working folder was scored
    (["lm", "evaluate", "--run", "{d}/run", "--data", ""], 2, "--data is empty — pass a file or folder to --data"),
    # a folder is read as its .txt files (was 'is a folder, not a text file' whatever it held)
    (_train(data="folder"), 2, "folder is a folder with no .txt files — pass a folder of .txt files (sub-folders are read"),
    (_train(data="tables"), 2, "tables is a folder with no .txt files (it holds .csv files)"),
    (_train(data="hf_saved"), 2, "hf_saved is a Hugging Face data set saved with save_to_disk (a DatasetDict of train, "
     "test)"),
    (_train(data="hf_saved"), 2, "then pass --data train.jsonl (and score the test part with lm evaluate --run RUN "
     "--data test.jsonl)"),
    # every part was read as training text, the test part trained on and the held-out lines drawn from all
    (_train(data="ptb"), 2, "ptb holds a data set in parts (ptb.train.txt, ptb.valid.txt, ptb.test.txt): read as one "
     "corpus, its validation and test parts would be trained on — pass --data "),
    (_train(data="ptb"), 2, "ptb/ptb.valid.txt (and score the test part with lm evaluate --run RUN --data "),
    (_train(data="blank_texts"), 2, "blank_texts is empty — supply text"),
    (_train("--text-column", "text", data="tables"), 2, "--text-column 'text' needs a table, but"),
    (_train(data="empty.txt"), 2, "is empty"),
    # was 'file is empty — supply a file with a header row and data rows' (a table's fix)
    (_train(data="empty.txt.gz"), 2, "empty.txt.gz is empty — supply text, one sentence or paragraph per line"),
    (_train(data="one.txt"), 2, "--val"),
    (_train(data="latin1.txt"), 2, "--encoding"),
    (_train("--level", "byte"), 2, "byte"),
    # was 'no word occurs at least 2 times — supply more text or lower --min-freq'
    (_train("--level", "word", data="no_words.txt"), 2, "the text holds no word (letters, digits or emoji): "
     "punctuation only — pass --level char"),
    (_train("--model", "bilstm"), 2, "not causal"),
    (_train("--embed-dim", "0"), 2, "embed_dim"),
    (_train("--max-len", "0"), 2, "max_len"),
    (_train("--val", "{d}/nope.txt"), 2, "file not found"),
    # read whole, its training and test parts were scored as validation, early stopping on text trained on
    (_train("--val", "{d}/ptb"), 2, "ptb holds a data set in parts (ptb.train.txt, ptb.valid.txt, ptb.test.txt): read "
     "as one validation text, its training and test parts would be scored as validation (early stopping on text "
     "trained on) — pass its validation file with --val ("),
    (_train("--val", "{d}/corpus.txt", "--val-frac", "0.2"), 2, "--val-frac applies without a validation file"),
    (["lm", "sample", "--run", "{d}/nope"], 2, "run folder not found"),
    (["lm", "sample", "--run", "{d}/forecast_run"], 2, "'forecast' run"),
    (["lm", "sample", "--run", "{d}/run", "--n", "-1"], 2, "--n"),
    (["lm", "sample", "--run", "{d}/run", "--temperature", "-0.5"], 2, "temperature"),
    (["lm", "sample", "--run", "{d}/run", "--temperature", "nan"], 2, "temperature"),
    (["lm", "sample", "--run", "{d}/run", "--top-k", "0"], 2, "top"),
    (["lm", "sample", "--run", "{d}/run", "--top-p", "0"], 2, "`top_p` must be a number above 0 and at most 1"),
    (["lm", "sample", "--run", "{d}/run", "--top-p", "1.5"], 2, "--top-p 0.9"),
    (["lm", "sample", "--run", "{d}/run", "--seed", "-1"], 2, "seed"),
    (["lm", "sample", "--run", "{d}/run", "--n", "100000000000"], 2, "at most 1000000"),
    (["lm", "sample", "--run", "{d}/run", "--temperature", "inf"], 2, "temperature"),
    (["lm", "evaluate", "--run", "{d}/run", "--data", "{d}/nope.txt"], 2, "file not found"),
    (["lm", "evaluate", "--run", "{d}/run", "--data", "{d}/empty.txt"], 2, "empty"),
    (["lm", "evaluate", "--run", "{d}/nope", "--data", "{d}/corpus.txt"], 2, "run folder not found"),
    (["lm", "evaluate", "--run", "{d}/run", "--data", "{d}/corpus.txt", "--text-column", "review"], 2,
     "--text-column 'review' needs a table"),
    (["lm", "evaluate", "--run", "{d}/run", "--data", "{d}/reviews.csv", "--text-column", "body"], 2,
     "text column 'body' not found"),
]


@pytest.mark.parametrize("argv, code, needle", CASES, ids=[f"{k}:{c[2]}" for k, c in enumerate(CASES)])
def test_lm_bad_input(argv, code, needle, d, tmp_path, capsys):
    check(argv, code, needle, tmp_path, capsys, d)


@pytest.mark.parametrize("state", [None, "abc", 3])
def test_the_scorer_refuses_what_is_not_a_state(d, state):
    from lstmkit.tasks.lm.estimator import LanguageModel
    scorer = LanguageModel.load(d / "run").scorer()
    with pytest.raises(LstmkitError, match="needs a ScorerState"):
        scorer.log_probs(state)
    with pytest.raises(LstmkitError, match="needs a ScorerState"):
        scorer.advance(state, "a")


def test_evaluate_reads_the_column_its_error_names(d, capsys):
    """The error for a table without a 'text' column said "pass --text-column", which evaluate did not have."""
    from cli_helpers import run_cli
    argv = ["lm", "evaluate", "--run", d / "run", "--data", d / "reviews.csv"]
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and "pass --text-column with one of: id, review" in err
    code, out, err = run_cli([*argv, "--text-column", "review"], capsys)
    assert code == 0, err
    assert "20 lines" in out


def test_evaluate_reads_standard_input_as_classify_predict_and_translate_run_do(d, tmp_path, capsys, monkeypatch):
    """`--data -` was 'file not found: -', its fix a Python list ('e.g. [text]')."""
    import json

    from cli_helpers import run_cli
    lines = "abcdefghij\nabcde\n"
    (tmp_path / "two.txt").write_text(lines)
    evaluate = ["lm", "evaluate", "--run", d / "run", "--json", "--data"]
    code, piped, err = run_cli([*evaluate, "-"], capsys, stdin=lines, monkeypatch=monkeypatch)
    assert code == 0, err
    code, read, err = run_cli([*evaluate, tmp_path / "two.txt"], capsys)
    assert code == 0 and json.loads(piped)["perplexity"] == json.loads(read)["perplexity"], err
    assert json.loads(piped)["data"] == "standard input"
    for stdin, needle in (("\n \n", "no input on standard input"), (b"na\xefve\n", "standard input line 1 is not "
                                                                                     "valid utf-8")):
        check([*evaluate, "-"], 2, needle, tmp_path, capsys, stdin=stdin, monkeypatch=monkeypatch)
    check([*evaluate, "-", "--text-column", "review"], 2, "--text-column names a column of a --data table; "
          "standard input has none", tmp_path, capsys, stdin=lines, monkeypatch=monkeypatch)


def test_a_batch_whose_tokens_exceed_memory_is_refused(d, tmp_path, capsys, monkeypatch):
    """A 5 MB line read with --level char --max-len 1000000000 is one piece of 5,000,000 tokens, ~160 GiB
    of activations at the default sizes: a machine of 64 KiB here, a batch of 32 lines of 11 tokens."""
    from lstmkit.train import memory
    monkeypatch.setattr(memory, "memory_limit", lambda device: (64 * 2**10, None, "this machine's memory"))
    line = check(_train(), 2, "one training batch of 352 tokens is too large to train here", tmp_path, capsys, d)
    assert re.search(r"B a token\), more than the 64 KiB of this machine's memory — pass --max-len \d+ or less, "
                     r"or a smaller --batch-size \(32\)$", line), line


def test_sample_draws_its_documented_defaults(d, capsys):
    """Without --n and --temperature a sample is 200 tokens at temperature 0.8, as --help says: the
    same text as those given, and not the text of another temperature (this barely trained model's
    next-token distribution is broad, so the temperature shows)."""
    from cli_helpers import run_cli
    sample = ["lm", "sample", "--run", d / "run", "--seed", "5"]
    code, plain, err = run_cli(sample, capsys)
    assert code == 0, err
    assert len(plain.replace("\n", "")) == 200                      # char level: one character a token
    assert run_cli([*sample, "--n", "200", "--temperature", "0.8"], capsys)[1] == plain
    assert run_cli([*sample, "--n", "200", "--temperature", "1.6"], capsys)[1] != plain
    assert run_cli([*sample, "--n", "200", "--temperature", "0.4"], capsys)[1] != plain
