"""The translate CLI, in-process: train / run / evaluate, and every bad input of the issue
(exit 2, one line, no run folder)."""
import json

import pytest

from cli_helpers import assert_evaluated_keys, assert_user_error, run_cli
from lstmkit.cli import main


def cli(capsys, *args, stdin: str | bytes | None = None, monkeypatch=None):
    return run_cli(args, capsys, stdin=stdin, monkeypatch=monkeypatch)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text("embed_dim: 16\nhidden_size: 24\nnum_layers: 1\nmin_freq: 1\ndropout: 0.0\nmax_len: 8\n"
                    "label_smoothing: 0.0\nbeam: 2\ntrain:\n  lr: 0.01\n  tensorboard: false\n  progress: 'off'\n"
                    "  doctor: false\n  max_epochs: 3\n  batch_size: 32\n")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory, pairs):
    d = tmp_path_factory.mktemp("data")
    data = pairs(120, seed=1)
    (d / "train.en").write_text("\n".join(s for s, _ in data) + "\n")
    (d / "train.de").write_text("\n".join(t for _, t in data) + "\n")
    (d / "pairs.tsv").write_text("en\tde\n" + "".join(f"{s}\t{t}\n" for s, t in data))
    test = pairs(10, seed=9)
    (d / "test.en").write_text("\n".join(s for s, _ in test) + "\n")
    (d / "test.de").write_text("\n".join(t for _, t in test) + "\n")
    return d


@pytest.fixture(scope="module")
def run(tmp_path_factory, files, cfg):
    out = tmp_path_factory.mktemp("runs")
    main(["translate", "train", "--src-file", str(files / "train.en"), "--tgt-file", str(files / "train.de"),
          "--config", str(cfg), "--out", str(out)])
    return next(out.iterdir())


def test_train_from_table_prints_scores_and_signature(capsys, files, cfg, tmp_path):
    code, out, err = cli(capsys, "translate", "train", "--data", files / "pairs.tsv", "--src", "en", "--tgt", "de",
                         "--config", cfg, "--out", tmp_path, "--epochs", "1")
    assert code == 0, err
    assert "BLEU" in out and "chrF" in out and "tok:13a" in out and "duplicates dropped" in out
    assert "run folder:" in out


@pytest.mark.parametrize("ext", [".xlsx", ".parquet"])
def test_train_from_a_workbook_or_parquet_table(capsys, files, cfg, tmp_path, ext):
    """It was 'unknown file type' / read as tab-separated text (NUL bytes: not a text file)."""
    import pandas as pd
    table = tmp_path / f"pairs{ext}"
    frame = pd.read_csv(files / "pairs.tsv", sep="\t", quoting=3)
    frame.to_excel(table, index=False) if ext == ".xlsx" else frame.to_parquet(table)
    code, out, err = cli(capsys, "translate", "train", "--data", table, "--src", "en", "--tgt", "de",
                         "--config", cfg, "--out", tmp_path, "--epochs", "1")
    assert code == 0, err
    assert "BLEU" in out and "run folder:" in out


def test_run_streams_one_line_per_line(capsys, monkeypatch, run):
    code, out, err = cli(capsys, "translate", "run", "--run", run, "--beam", "2",
                         stdin="the dog runs.\n\na small cat sits.\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert len(out.splitlines()) == 3 and out.splitlines()[1] == ""


def test_run_reads_a_file_as_it_reads_standard_input(capsys, monkeypatch, run, tmp_path):
    """--data FILE: 'no such option: --data' sent users to a shell redirect."""
    lines = "the dog runs.\n\na small cat sits.\n"
    piped = cli(capsys, "translate", "run", "--run", run, "--beam", "2", stdin=lines, monkeypatch=monkeypatch)[1]
    (tmp_path / "in.en").write_bytes(b"\xef\xbb\xbf" + lines.encode())        # a byte-order mark is no part of line 1
    code, out, err = cli(capsys, "translate", "run", "--run", run, "--beam", "2", "--data", tmp_path / "in.en")
    assert code == 0 and out == piped, err
    assert_user_error(*cli(capsys, "translate", "run", "--run", run, "--data", tmp_path / "no.en")[::2],
                      "no.en not found")
    (tmp_path / "bad.en").write_bytes(b"ok\ncaf\xe9\n")
    assert_user_error(*cli(capsys, "translate", "run", "--run", run, "--data", tmp_path / "bad.en")[::2],
                      "bad.en line 2 is not valid utf-8")



def test_run_reads_new_files_in_the_encoding_the_run_was_trained_with(capsys, monkeypatch, files, cfg, pairs,
                                                                      tmp_path):
    """A run trained with --encoding latin-1 read its new files as UTF-8 in `translate run` ('not valid
    utf-8'), where evaluate read them as trained: the run's encoding is the default, --encoding wins."""
    data = [(f"{s} café", f"{t} Straße") for s, t in pairs(120, seed=1)]
    for name, side in (("train.en", 0), ("train.de", 1)):
        (tmp_path / name).write_text("\n".join(p[side] for p in data) + "\n", encoding="latin-1")
    code, out, err = cli(capsys, "translate", "train", "--src-file", tmp_path / "train.en", "--tgt-file",
                         tmp_path / "train.de", "--encoding", "latin-1", "--config", cfg, "--epochs", "1",
                         "--out", tmp_path / "runs")
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    lines = "".join(f"{s}\n" for s, _ in data[:3])
    (tmp_path / "new.en").write_text(lines, encoding="utf-8")
    as_utf8 = cli(capsys, "translate", "run", "--run", run, "--data", tmp_path / "new.en", "--encoding", "utf-8")
    assert as_utf8[0] == 0 and len(as_utf8[1].splitlines()) == 3, as_utf8[2]
    (tmp_path / "new.en").write_text(lines, encoding="latin-1")
    code, out, err = cli(capsys, "translate", "run", "--run", run, "--data", tmp_path / "new.en")
    assert code == 0 and out == as_utf8[1], err
    piped = cli(capsys, "translate", "run", "--run", run, stdin=lines.encode("latin-1"), monkeypatch=monkeypatch)
    assert piped[0] == 0 and piped[1] == as_utf8[1], piped[2]
    # an explicit --encoding wins over the run's
    assert_user_error(*cli(capsys, "translate", "run", "--run", run, "--data", tmp_path / "new.en",
                           "--encoding", "utf-8")[::2], "new.en line 1 is not valid utf-8")


def test_run_reads_a_file_line_by_line_whatever_ends_its_lines(capsys, monkeypatch, run, tmp_path):
    """A file of old Mac line ends (CR) was one line, and one translation, where standard input
    gave one per line; a form feed inside a sentence ends no line."""
    lines = "the dog runs.\n\na small\x0ccat sits.\n"
    piped = cli(capsys, "translate", "run", "--run", run, "--beam", "2", stdin=lines, monkeypatch=monkeypatch)[1]
    (tmp_path / "mac.en").write_bytes(lines.replace("\n", "\r").encode())
    code, out, err = cli(capsys, "translate", "run", "--run", run, "--beam", "2", "--data", tmp_path / "mac.en")
    assert code == 0 and out == piped and len(out.splitlines()) == 3, err


def test_run_reads_standard_input_with_a_byte_order_mark_as_a_file(capsys, monkeypatch, run):
    """PowerShell and Notepad write a byte-order mark: UTF-8's was read into the first sentence
    (another translation), UTF-16's was 'not valid utf-8'; a file's was always dropped. UTF-32's mark
    (FF FE 00 00) begins with UTF-16's (FF FE): its four bytes tell them apart."""
    lines = "the dog runs.\na small cat sits.\n"
    plain = cli(capsys, "translate", "run", "--run", run, "--beam", "2", stdin=lines, monkeypatch=monkeypatch)[1]
    for raw in (b"\xef\xbb\xbf" + lines.encode(), lines.encode("utf-16"), lines.encode("utf-32")):
        code, out, err = cli(capsys, "translate", "run", "--run", run, "--beam", "2", stdin=raw, monkeypatch=monkeypatch)
        assert code == 0 and out == plain, err

def test_run_warns_on_long_source(capsys, monkeypatch, run):
    code, out, err = cli(capsys, "translate", "run", "--run", run, stdin="the dog " * 10 + "\n",
                         monkeypatch=monkeypatch)
    assert code == 0 and len(out.splitlines()) == 1
    assert ("warning: line 1: the source sentence has 20 tokens, more than the model's max_len=8: only its first 8 are "
            "translated, the rest is left out of the translation; split it into sentences, or retrain with a larger "
            "--max-len\n") in err


def test_run_rejects_non_utf8_stdin(capsys, monkeypatch, run):
    code, out, err = cli(capsys, "translate", "run", "--run", run, stdin=b"caf\xe9\n", monkeypatch=monkeypatch)
    assert_user_error(code, err, "not valid utf-8")


def test_run_names_the_line_of_a_bad_byte_and_translates_the_lines_before(capsys, monkeypatch, run):
    """Standard input was decoded 8 KiB ahead: a bad byte on line 3 was 'line 1 is not valid utf-8',
    and lines 1 and 2 were never translated."""
    good = cli(capsys, "translate", "run", "--run", run, "--beam", "1", stdin="the dog runs.\na cat.\n",
               monkeypatch=monkeypatch)[1]
    code, out, err = cli(capsys, "translate", "run", "--run", run, "--beam", "1",
                         stdin=b"the dog runs.\na cat.\ncaf\xe9\n", monkeypatch=monkeypatch)
    assert_user_error(code, err, "standard input line 3 is not valid utf-8")
    assert out == good and len(out.splitlines()) == 2


def test_evaluate(capsys, run, files, tmp_path):
    code, out, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", files / "test.en",
                         "--ref-file", files / "test.de", "--beam", "1", "--out", tmp_path / "s.tsv")
    assert code == 0, err
    assert "BLEU" in out and "nrefs:1" in out and (tmp_path / "s.tsv").is_file()
    assert "unescaped" not in out


def test_evaluate_says_escaped_references_were_unescaped(capsys, run, files, tmp_path):
    """An IWSLT-style reference file ('&#39;', '&amp;') was scored as written against translations
    the model writes with the characters themselves, and nothing said so."""
    de = (files / "test.de").read_text().splitlines()
    (tmp_path / "test.de").write_text("\n".join(t[:-1] + " &amp; don&#39;t." for t in de[:3]) + "\n"
                                      + "\n".join(de[3:]) + "\n")
    code, out, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", files / "test.en",
                         "--ref-file", tmp_path / "test.de", "--beam", "1")
    assert code == 0, err
    assert "3 reference(s) held HTML character references (&amp;, &#39;): unescaped before scoring" in out


def test_evaluate_says_what_each_warning_is(capsys, run, files, tmp_path):
    """Every warning caught was printed as "N source sentence(s) longer than the model's maximum were
    truncated": a headerless pair file's note became "1 sentence truncated", and the sentences that
    were truncated went unsaid (their warnings were silenced before the count)."""
    en, de = (files / "test.en").read_text().splitlines(), (files / "test.de").read_text().splitlines()
    (tmp_path / "pairs.txt").write_text("".join(f"{s}\t{t}\n" for s, t in zip(en, de)))
    code, out, err = cli(capsys, "translate", "evaluate", "--run", run, "--data", tmp_path / "pairs.txt", "--beam", "1")
    assert code == 0, err
    assert "has no src/tgt header" in err and "truncated" not in err
    en[0] = " ".join(["a"] * 20)                                   # max_len 8 in the run's config
    en[3] = " ".join(["b"] * 30)
    (tmp_path / "long.en").write_text("\n".join(en) + "\n")
    code, out, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", tmp_path / "long.en",
                         "--ref-file", files / "test.de", "--beam", "1")
    assert code == 0, err
    assert ("warning: 2 source sentence(s) longer than the model's max_len=8 tokens (first: sentence 1, 20 tokens; the "
            "longest 30): only their first 8 tokens are translated, the rest is left out of the translation; split them "
            "into sentences, or retrain with a larger --max-len") in err and err.count("max_len=8") == 1


def test_evaluate_reads_a_table_as_training_does(capsys, run, files, tmp_path):
    """evaluate took only --src-file/--ref-file: a test table (.tsv, .xlsx, .parquet, as train takes
    with --data) had to be cut into two files first."""
    import pandas as pd
    want = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", files / "test.en", "--ref-file",
               files / "test.de", "--json")[1]
    en, de = (files / "test.en").read_text().splitlines(), (files / "test.de").read_text().splitlines()
    pd.DataFrame({"en": en, "de": de}).to_excel(tmp_path / "test.xlsx", index=False)
    code, out, err = cli(capsys, "translate", "evaluate", "--run", run, "--data", tmp_path / "test.xlsx",
                         "--src", "en", "--tgt", "de", "--json")
    assert code == 0, err
    assert {k: v for k, v in json.loads(out).items() if "second" not in k and k != "data"} == \
        {k: v for k, v in json.loads(want).items() if "second" not in k and k != "data"}
    assert_evaluated_keys(json.loads(out), run, "translate", "BLEU", json.loads(out)["bleu"])
    code, _, err = cli(capsys, "translate", "evaluate", "--run", run, "--data", tmp_path / "test.xlsx")
    assert_user_error(code, err, "no source column 'src' nor target column 'tgt'", "--src and --tgt with two of its "
                      "columns: en, de")
    code, _, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", files / "test.en", "--src", "en",
                       "--ref-file", files / "test.de")
    assert_user_error(code, err, "--src names a column of a --data table", "drop --src")
    code, _, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", files / "test.en")
    assert_user_error(code, err, "nothing to evaluate on: --src-file without --ref-file", "or --data TABLE")


def test_evaluate_writes_the_sentences_in_the_type_out_names(capsys, run, files, tmp_path):
    """--out s.csv held tab-separated lines (a spreadsheet showed one column)."""
    import pandas as pd
    for name, read in (("s.csv", pd.read_csv), ("s.xlsx", pd.read_excel), ("s.tsv", lambda f: pd.read_csv(f, sep="\t"))):
        code, _, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", files / "test.en",
                           "--ref-file", files / "test.de", "--beam", "1", "--out", tmp_path / name)
        assert code == 0, err
        df = read(tmp_path / name)
        assert list(df.columns) == ["line", "bleu", "source", "reference", "translation"] and len(df) == 10, name
    for name in ("s", "s.txt"):                  # no suffix, or .txt: the sentences as TSV, translate's own default
        code, _, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", files / "test.en",
                           "--ref-file", files / "test.de", "--beam", "1", "--out", tmp_path / name)
        assert code == 0 and len(pd.read_csv(tmp_path / name, sep="\t")) == 10, err


def test_evaluate_refuses_a_suffix_no_table_writer_has_as_every_table_command_does(capsys, run, files, tmp_path):
    """--out results.weird wrote TSV under that name, where every other command's --out refuses it naming the
    suffixes it writes."""
    code, _, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", files / "test.en",
                       "--ref-file", files / "test.de", "--out", tmp_path / "results.weird")
    assert_user_error(code, err, f"cannot write a table as '.weird': {tmp_path / 'results.weird'}",
                      "name the file .csv, .tsv, .parquet, .json, .jsonl or .xlsx")
    assert not (tmp_path / "results.weird").exists()


def test_evaluate_of_a_file_with_an_empty_line_names_a_fix_it_has(capsys, run, files, tmp_path):
    """evaluate scores every pair and has no --drop-empty: its error said 'pass --drop-empty'."""
    src = (files / "test.en").read_text().splitlines()
    (tmp_path / "holes.en").write_text("\n".join([src[0], "", *src[2:]]) + "\n")
    code, _, err = cli(capsys, "translate", "evaluate", "--run", run, "--src-file", tmp_path / "holes.en",
                       "--ref-file", files / "test.de")
    assert_user_error(code, err, "1 pair(s) have an empty side (first at line 2)", "remove those lines from both files")
    assert "--drop-empty" not in err


def _train(capsys, cfg, out, *args):
    return cli(capsys, "translate", "train", "--config", cfg, "--out", out, *args)


def test_misaligned_files(capsys, cfg, tmp_path):
    (tmp_path / "a.en").write_text("a\nb\nc\n")
    (tmp_path / "a.de").write_text("x\ny\n")
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--src-file", tmp_path / "a.en", "--tgt-file", tmp_path / "a.de")
    assert_user_error(code, err, "3 lines", "2")
    assert not (tmp_path / "runs").exists()


def test_empty_lines_counted_then_dropped(capsys, cfg, tmp_path, pairs):
    data = pairs(40, seed=3)
    src = [s for s, _ in data]
    tgt = [t for _, t in data]
    src[5], tgt[9] = "", "   "
    (tmp_path / "a.en").write_text("\n".join(src) + "\n")
    (tmp_path / "a.de").write_text("\n".join(tgt) + "\n")
    args = ("--src-file", tmp_path / "a.en", "--tgt-file", tmp_path / "a.de", "--epochs", "1")
    code, _, err = _train(capsys, cfg, tmp_path / "runs", *args)
    assert_user_error(code, err, "2 pair", "line 6", "--drop-empty")
    assert not (tmp_path / "runs").exists()
    code, out, err = _train(capsys, cfg, tmp_path / "runs", *args, "--drop-empty")
    assert code == 0, err
    assert "empty dropped 2" in out


def test_non_utf8_file(capsys, cfg, tmp_path):
    (tmp_path / "a.en").write_bytes(b"ok\ncaf\xe9\n")
    (tmp_path / "a.de").write_text("x\ny\n")
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--src-file", tmp_path / "a.en", "--tgt-file", tmp_path / "a.de")
    assert_user_error(code, err, "line 2", "not valid utf-8")


def test_empty_vocabulary(capsys, cfg, tmp_path):
    (tmp_path / "a.en").write_text("a b\nc d\ne f\n")
    (tmp_path / "a.de").write_text("g h\ni j\nk l\n")
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--src-file", tmp_path / "a.en", "--tgt-file",
                          tmp_path / "a.de", "--min-freq", "3")
    assert_user_error(code, err, "vocabulary is empty", "--min-freq")
    assert not (tmp_path / "runs").exists()


def test_missing_column_and_lonely_src_file(capsys, cfg, files, tmp_path):
    code, _, err = _train(capsys, cfg, tmp_path, "--data", files / "pairs.tsv", "--src", "en", "--tgt", "fr")
    assert_user_error(code, err, "'fr'", "de")
    code, _, err = _train(capsys, cfg, tmp_path, "--src-file", files / "train.en")
    assert_user_error(code, err, "--tgt-file")


def test_run_folder_of_another_task(capsys, tmp_path):
    code, _, err = cli(capsys, "translate", "evaluate", "--run", tmp_path / "nope", "--src-file", "a", "--ref-file", "b")
    assert_user_error(code, err, "run folder not found")


def test_ctrl_c_then_resume_equals_an_uninterrupted_run(capsys, monkeypatch, files, cfg, tmp_path):
    from lstmkit.data.batching import CollatedBatches        # the translator's batches
    args = ["translate", "train", "--src-file", files / "train.en", "--tgt-file", files / "train.de",
            "--config", cfg]
    code, _, err = cli(capsys, *args, "--out", tmp_path / "full")
    assert code == 0, err
    full = next((tmp_path / "full").iterdir())

    real_iter, seen = CollatedBatches.__iter__, []

    def interrupted(self):            # Ctrl-C at the 2nd training batch of epoch 2
        for k, batch in enumerate(real_iter(self)):
            if self.order.shuffle:
                seen.append(k)
                if len(seen) == len(self) + 2:
                    raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(CollatedBatches, "__iter__", interrupted)
    code, _, err = cli(capsys, *args, "--out", tmp_path / "cut")
    assert code == 130 and "interrupted after epoch 1" in err
    run = next((tmp_path / "cut").iterdir())
    assert f"lstmkit translate train --resume {run}" in err
    assert not (run / "model.safetensors").exists()

    monkeypatch.setattr(CollatedBatches, "__iter__", real_iter)
    code, out, err = cli(capsys, "translate", "train", "--resume", run)
    assert code == 0, err
    assert "BLEU" in out
    assert (run / "model.safetensors").read_bytes() == (full / "model.safetensors").read_bytes()
    assert (run / "vocab.json").read_bytes() == (full / "vocab.json").read_bytes()
    code, _, err = cli(capsys, "translate", "train", "--resume", run)
    assert_user_error(code, err, "already finished")


def test_time_budget_flag(capsys, cfg, files, tmp_path):
    code, _, err = _train(capsys, cfg, tmp_path / "runs", "--src-file", files / "train.en", "--tgt-file",
                          files / "train.de", "--max-minutes", "0")
    assert_user_error(code, err, "max_minutes", "--max-minutes")
    assert not (tmp_path / "runs").exists()
    code, out, err = _train(capsys, cfg, tmp_path / "ok", "--src-file", files / "train.en", "--tgt-file",
                            files / "train.de", "--max-minutes", "0.0001", "--epochs", "3")
    assert code == 0, err
    assert "epochs 1, best epoch 1" in out


def test_run_refuses_utf16_stdin_without_a_byte_order_mark(capsys, monkeypatch, run):
    """Python's utf-16 reader raises a plain UnicodeError ("does not start with BOM"): a traceback."""
    code, out, err = cli(capsys, "translate", "run", "--run", run, "--encoding", "utf-16",
                         stdin="the dog runs.\n".encode("utf-16-le"), monkeypatch=monkeypatch)
    assert_user_error(code, err, "not valid utf-16")


def test_evaluate_scores_as_told_and_says_when_references_are_lower_cased(capsys, run, files, tmp_path):
    """Against lower-cased references (Multi30k's tok/*.lc.* files) every capital the model writes was a
    miss without a word (a perfect German translation of test2016 scored BLEU 23.3); the case and
    sacrebleu's tokenizer could not be chosen for comparison with published scores."""
    de = (files / "test.de").read_text().lower()
    (tmp_path / "test.lc.de").write_text(de)
    args = ("translate", "evaluate", "--run", run, "--src-file", files / "test.en", "--ref-file",
            tmp_path / "test.lc.de", "--beam", "1")
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    assert "warning: no reference holds a capital letter" in err and "--lowercase" in err and "case:mixed" in out
    code, out, err = cli(capsys, *args, "--lowercase", "--tokenize", "char")
    assert code == 0, err
    assert "capital" not in err and "case:lc" in out and "tok:char" in out and "scored case-insensitively" in out
    code, out, err = cli(capsys, *args, "--tokenize", "13A")
    assert_user_error(code, err, "unknown BLEU tokenizer '13A'", "did you mean '13a'", "--tokenize")


def test_evaluate_scores_against_several_references_of_each_sentence(capsys, run, files, tmp_path):
    """A test set with several acceptable translations of each sentence (two reference files) could be
    scored against one of them only."""
    import pandas as pd
    import sacrebleu
    de = (files / "test.de").read_text().splitlines()
    other = [t.replace("Hund", "Köter").replace("der", "die") for t in de]         # another acceptable wording
    (tmp_path / "other.de").write_text("\n".join(other) + "\n")
    args = ("translate", "evaluate", "--run", run, "--src-file", files / "test.en", "--beam", "1")
    code, out, err = cli(capsys, *args, "--ref-file", files / "test.de", "--ref-file", tmp_path / "other.de",
                         "--out", tmp_path / "s.tsv", "--json")
    assert code == 0, err
    m = json.loads(out)               # the JSON alone ('wrote s.tsv' after it broke '| jq'): the note on stderr
    assert err.splitlines()[-1] == f"wrote {tmp_path / 's.tsv'}"
    assert "nrefs:2" in m["bleu_signature"] and "nrefs:2" in m["chrf_signature"]
    table = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    hyps = table["translation"].fillna("").tolist()
    assert table["reference 2"].tolist() == other and table["reference"].tolist() == de
    assert m["bleu"] == round(sacrebleu.corpus_bleu(hyps, [de, other]).score, 2)
    (tmp_path / "short.de").write_text("\n".join(other[:-2]) + "\n")
    code, out, err = cli(capsys, *args, "--ref-file", files / "test.de", "--ref-file", tmp_path / "short.de")
    assert_user_error(code, err, "short.de has 8 lines but", "test.en has 10", "one reference per line")
    (tmp_path / "hole.de").write_text("\n".join(other[:3] + [""] + other[4:]) + "\n")
    code, out, err = cli(capsys, *args, "--ref-file", files / "test.de", "--ref-file", tmp_path / "hole.de")
    assert_user_error(code, err, "hole.de line 4 is empty")


def test_run_with_data_reads_the_runs_json_once_and_says_the_inputs_fault_first(capsys, monkeypatch, run, tmp_path):
    """``translate run --data`` read the run's lstmkit.json for its encoding, and again (its vocabularies hashed
    again) to load it. Read once for both now; a run that does not load is told after the input's own fault."""
    import shutil
    import lstmkit.runs as runs
    reads = []
    real = runs.read_json
    monkeypatch.setattr(runs, "read_json", lambda path, *a, **k: (reads.append(path), real(path, *a, **k))[1])
    (tmp_path / "new.en").write_text("the dog runs.\n")
    code, out, err = cli(capsys, "translate", "run", "--run", run, "--data", tmp_path / "new.en", "--beam", "2")
    assert code == 0 and len(out.splitlines()) == 1, err
    # one read to load it (three before), which names the engine an int8 export chose too (it was read again as it
    # first translated; an export never writes into a finished run, so the folder's engine is the one loaded)
    assert [p.name for p in reads].count("lstmkit.json") == 1, reads
    monkeypatch.setattr(runs, "read_json", real)
    failed = tmp_path / "failed"
    shutil.copytree(run, failed)
    meta = json.loads((failed / "lstmkit.json").read_text())
    (failed / "lstmkit.json").write_text(json.dumps({**meta, "status": "failed"}))
    (tmp_path / "bad.en").write_bytes(b"the dog \xff runs.\n")
    assert_user_error(*cli(capsys, "translate", "run", "--run", failed, "--data", tmp_path / "bad.en")[::2],
                      "bad.en line 1 is not valid utf-8")
    code, _, err = cli(capsys, "translate", "run", "--run", failed, "--data", tmp_path / "new.en")
    assert code == 2 and "failed" in err and "Traceback" not in err, err
