"""The lm CLI, in-process: train / sample / evaluate, and every bad input of the brief
(exit 2, one line, no run folder)."""
import json
import re

import pytest

from cli_helpers import assert_evaluated_keys, assert_user_error, run_cli

PATTERN = "abcdefghij"


def cli(capsys, *args):
    return run_cli(args, capsys)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text("embed_dim: 16\nhidden_size: 32\nnum_layers: 1\ndropout: 0.0\ntrain:\n  lr: 0.01\n"
                    "  batch_size: 16\n  tensorboard: false\n  progress: 'off'\n  doctor: false\n  max_epochs: 12\n"
                    "  patience: 20\n")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("text")
    (d / "corpus.txt").write_text((PATTERN + "\n") * 150)
    (d / "test.txt").write_text((PATTERN + "\n\n") * 10)
    return d


@pytest.fixture(scope="module")
def run(tmp_path_factory, corpus, cfg):
    from lstmkit.cli import main
    out = tmp_path_factory.mktemp("runs")
    main(["lm", "train", "--data", str(corpus / "corpus.txt"), "--config", str(cfg), "--out", str(out)])
    return next(out.iterdir())


def test_train_prints_perplexity_and_run_folder(capsys, corpus, cfg, tmp_path):
    code, out, err = cli(capsys, "lm", "train", "--data", corpus / "corpus.txt", "--level", "char",
                         "--config", cfg, "--out", tmp_path, "--epochs", "1")
    assert code == 0, err
    assert "perplexity" in out and "bits per character" in out and "run folder:" in out
    assert len(list(tmp_path.iterdir())) == 1


def test_train_says_how_many_lines_it_trained_in_pieces(capsys, cfg, tmp_path):
    """Lines over --max-len are trained in pieces, each from a fresh state: the report gave the lines
    and tokens, not that a share of them was cut (data_summary_'s lines_cut alone had it)."""
    (tmp_path / "c.txt").write_text("".join(f"{PATTERN * (6 if k % 4 == 0 else 1)}\n" for k in range(80)))
    code, out, err = cli(capsys, "lm", "train", "--data", tmp_path / "c.txt", "--config", cfg, "--out", tmp_path,
                         "--epochs", "1", "--max-len", "32")
    assert code == 0, err
    assert re.search(r"^\d+ of \d+ training lines \([\d.]+%\) are longer than --max-len 32 tokens: trained in pieces "
                     r"of 32, each from a fresh state \(evaluation reads them whole\)$", out, re.M), out
    code, out, err = cli(capsys, "lm", "train", "--data", tmp_path / "c.txt", "--config", cfg, "--out", tmp_path,
                         "--epochs", "1")
    assert code == 0 and "training lines" not in out, err


def test_train_says_every_line_was_cut_as_100_percent(capsys, cfg, tmp_path):
    """Every training line over --max-len: the share was written '1e+02%' (two significant digits)."""
    (tmp_path / "c.txt").write_text(f"{PATTERN * 4}\n" * 40)
    code, out, err = cli(capsys, "lm", "train", "--data", tmp_path / "c.txt", "--config", cfg, "--out", tmp_path,
                         "--epochs", "1", "--max-len", "16")
    assert code == 0, err
    assert re.search(r"^36 of 36 training lines \(100%\) are longer than --max-len 16 tokens", out, re.M), out


@pytest.mark.parametrize("lines, long, said", [(12, 1, "1 of 12 training lines (8.3%)"),
                                                (15, 2, "2 of 15 training lines (13.3%)")])
def test_train_says_the_share_of_lines_cut_in_two_digits_below_10_percent_and_three_above(capsys, cfg, tmp_path,
                                                                                          lines, long, said):
    """1 of 12 is 8.33...% (two significant digits: 8.3), 2 of 15 is 13.33...% (three: 13.3); a
    validation file keeps every line of --data a training line."""
    (tmp_path / "c.txt").write_text("".join(f"{PATTERN * (6 if k < long else 1)}\n" for k in range(lines)))
    (tmp_path / "v.txt").write_text("jihgfedcba\n")
    code, out, err = cli(capsys, "lm", "train", "--data", tmp_path / "c.txt", "--val", tmp_path / "v.txt",
                         "--config", cfg, "--out", tmp_path, "--epochs", "1", "--max-len", "32")
    assert code == 0, err
    assert f"{said} are longer than --max-len 32 tokens" in out, out


def test_sample_is_reproducible(capsys, run):
    code, out, err = cli(capsys, "lm", "sample", "--run", run, "--prefix", "abc", "--n", "27", "--seed", "0")
    assert code == 0, err
    assert out.startswith("abcdefghij") and len(out.replace("\n", "")) == 3 + 27
    assert cli(capsys, "lm", "sample", "--run", run, "--prefix", "abc", "--n", "27", "--seed", "0")[1] == out
    for alias in ("--max-tokens", "--n-tokens"):        # the service's field and Python's argument name it so
        assert cli(capsys, "lm", "sample", "--run", run, "--prefix", "abc", alias, "27", "--seed", "0")[1] == out


def test_evaluate_matches_the_python_api(capsys, run, corpus):
    code, out, err = cli(capsys, "lm", "evaluate", "--run", run, "--data", corpus / "test.txt", "--json")
    assert code == 0, err
    m = json.loads(out)
    from lstmkit import LanguageModel
    assert m["perplexity"] == pytest.approx(LanguageModel.load(run).perplexity([PATTERN] * 10))
    assert m["perplexity"] < 1.1 and m["lines"] == 10 and m["tokens"] == 110
    assert_evaluated_keys(m, run, "lm", "perplexity", m["perplexity"])
    code, out, err = cli(capsys, "lm", "evaluate", "--run", run, "--data", corpus / "test.txt",
                         "--out", corpus / "m.json")
    assert code == 0 and "test.txt: perplexity" in out and "bits per character" in out
    assert json.loads((corpus / "m.json").read_text()) == m      # run, task, metric as --json gives them
    code, out, err = cli(capsys, "lm", "evaluate", "--run", run, "--data", corpus / "test.txt", "--out", "-")
    assert code == 0 and json.loads(out) == m and "test.txt: perplexity" in err


def _train(capsys, cfg, out, *args):
    return cli(capsys, "lm", "train", "--config", cfg, "--out", out, *args)


def test_missing_and_empty_files(capsys, cfg, tmp_path):
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--data", tmp_path / "nope.txt")
    assert_user_error(code, err, "file not found", "nope.txt")
    (tmp_path / "empty.txt").write_text("\n \n")
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--data", tmp_path / "empty.txt")
    assert_user_error(code, err, "empty.txt is empty")
    code, _, err = _train(capsys, cfg, tmp_path / "runs")
    assert_user_error(code, err, "--data")
    assert not (tmp_path / "runs").exists()


def test_non_utf8_names_the_line_and_encoding_fixes_it(capsys, cfg, tmp_path):
    (tmp_path / "latin.txt").write_bytes(b"un caf\xe9\n" * 3 + b"ok\n")
    (tmp_path / "bad.txt").write_bytes(b"line one\nline two\nna\xefve\n" + b"more text\n" * 20)
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--data", tmp_path / "bad.txt")
    assert_user_error(code, err, "line 3", "not valid utf-8", "--encoding")
    assert not (tmp_path / "runs").exists()
    code, out, err = _train(capsys, cfg, tmp_path / "runs", "--data", tmp_path / "bad.txt", "--encoding", "latin-1",
                            "--epochs", "1")
    assert code == 0, err


def test_corpus_too_small(capsys, cfg, tmp_path):
    (tmp_path / "one.txt").write_text("a single sentence\n\n")
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--data", tmp_path / "one.txt")
    assert_user_error(code, err, "1 line", "--val")
    (tmp_path / "few.txt").write_text("one two\nthree four\nfive six\n")
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--data", tmp_path / "few.txt", "--level", "word")
    assert_user_error(code, err, "vocabulary is empty", "--min-freq")
    assert not (tmp_path / "runs").exists()


def test_bad_settings(capsys, cfg, corpus, tmp_path):
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--data", corpus / "corpus.txt", "--level", "bytes")
    assert_user_error(code, err, "unknown level", "char")
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--data", corpus / "corpus.txt", "--model", "bilstm")
    assert_user_error(code, err, "not causal")
    assert not (tmp_path / "runs").exists()


def test_run_folder_of_another_task(capsys, tmp_path, corpus, run):
    from lstmkit.runs import FORMAT_VERSION, write_json
    other = tmp_path / "forecast-run"
    write_json(other / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": "forecast", "status": "finished"})
    code, _, err = cli(capsys, "lm", "sample", "--run", other)
    assert_user_error(code, err, "'forecast' run", "not a 'lm' run")
    code, _, err = cli(capsys, "lm", "evaluate", "--run", tmp_path / "nope", "--data", corpus / "test.txt")
    assert_user_error(code, err, "run folder not found")
    code, _, err = cli(capsys, "lm", "evaluate", "--run", run, "--data", tmp_path / "missing.txt")
    assert_user_error(code, err, "file not found")


def test_sample_bad_temperature(capsys, run):
    code, _, err = cli(capsys, "lm", "sample", "--run", run, "--temperature", "-0.5")
    assert_user_error(code, err, "temperature")


def test_sample_at_temperature_0_is_greedy(capsys, run):
    """0 draws the likeliest token each step (as language-model services read it): one text whatever the
    seed, the text top-k 1 draws. It was refused: 'must be positive'."""
    texts = set()
    for seed in ("1", "2"):
        code, out, err = cli(capsys, "lm", "sample", "--run", run, "--n", "20", "--temperature", "0", "--seed", seed)
        assert code == 0, err
        texts.add(out)
    code, out, _ = cli(capsys, "lm", "sample", "--run", run, "--n", "20", "--top-k", "1", "--seed", "3")
    assert texts == {out}
    # a nucleus of a hair's mass holds the likeliest token alone
    code, out, _ = cli(capsys, "lm", "sample", "--run", run, "--n", "20", "--top-p", "1e-9", "--seed", "4")
    assert code == 0 and texts == {out}


def test_resume_continues_an_interrupted_run(capsys, cfg, corpus, tmp_path):
    """A run whose metadata says 'interrupted' continues from its last epoch checkpoint."""
    from lstmkit import LanguageModel
    from lstmkit.config import load_yaml
    params = {**load_yaml(cfg), "level": "char"}
    params["train"] = {**params["train"], "max_epochs": 2}
    run_dir = tmp_path / "lm-run"
    lm = LanguageModel(**params).fit(str(corpus / "corpus.txt"), run_dir=run_dir)
    meta = json.loads((run_dir / "lstmkit.json").read_text())
    meta["status"] = "interrupted"
    (run_dir / "lstmkit.json").write_text(json.dumps(meta))
    code, out, err = cli(capsys, "lm", "train", "--resume", run_dir)
    assert code == 0, err
    assert "epochs 2" in out and LanguageModel.load(run_dir).perplexity([PATTERN]) == lm.perplexity([PATTERN])
    code, _, err = cli(capsys, "lm", "train", "--resume", run_dir)
    assert_user_error(code, err, "already finished")


def test_train_on_a_table_column_with_a_token_cap(tmp_path, cfg, capsys):
    import pandas as pd
    texts = [" ".join(["good film"] * 5 if i % 2 else ["dull plot"] * 5) for i in range(60)]
    pd.DataFrame({"label": [i % 2 for i in range(60)], "review": texts}).to_csv(tmp_path / "r.csv.gz", index=False)
    code, out, err = cli(capsys, "lm", "train", "--data", tmp_path / "r.csv.gz", "--text-column", "review",
                         "--level", "word", "--max-tokens", "300", "--max-epochs", "1", "--config", cfg,
                         "--out", tmp_path / "runs")
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    d = json.loads((run / "lstmkit.json").read_text())["data"]
    assert d["lines"] == 60 and d["lines_kept"] == 30 and d["split"]["train"] + d["split"]["val"] == 30
    code, out, err = cli(capsys, "lm", "train", "--data", tmp_path / "r.csv.gz", "--config", cfg,
                         "--out", tmp_path / "runs2")
    assert_user_error(code, err, "text column 'text' not found", "--text-column")
    assert not (tmp_path / "runs2").exists()


def test_evaluate_reports_the_share_of_unknown_tokens_in_percent(capsys, run, tmp_path):
    """The model knows the letters a-j: <unk> is the share it does not know of the tokens the perplexity
    is over, the count beside it, line ends included (it left them out: a share of another count).
    'abcdefghiz': 1 of 11, 9.09%; 'abcdezzzzz' beside 'abcdefghij': 5 of 22, 22.73%. One line is
    '1 line' (it said '1 lines')."""
    (tmp_path / "z.txt").write_text("abcdefghiz\n")
    code, out, err = cli(capsys, "lm", "evaluate", "--run", run, "--data", tmp_path / "z.txt")
    assert code == 0, err
    assert "(11 tokens in 1 line, <unk> 9.09%)" in out, out
    (tmp_path / "zz.txt").write_text("abcdezzzzz\nabcdefghij\n")
    code, out, err = cli(capsys, "lm", "evaluate", "--run", run, "--data", tmp_path / "zz.txt")
    assert code == 0, err
    assert "(22 tokens in 2 lines, <unk> 22.73%)" in out, out
