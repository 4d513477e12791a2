"""Bad-input catalogue, `lstmkit translate`: one line, the right exit code, nothing left behind."""
import pytest

from catalogue_helpers import COMMON_TRAIN, check, common_files, fake_run

TRAIN = ["translate", "train", "--src-file", "{d}/a.en", "--tgt-file", "{d}/a.de", "--embed-dim", "4",
         "--hidden-size", "4", "--layers", "1", "--min-freq", "1", "--epochs", "1", "--progress", "off",
         "--no-tensorboard", "--device", "cpu", "--out", "{out}"]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("translate_data")
    common_files(d)
    src = ["the dog runs", "a cat sits", "the bird sings", "a fish swims"] * 10
    tgt = ["der hund läuft", "eine katze sitzt", "der vogel singt", "ein fisch schwimmt"] * 10
    (d / "a.en").write_text("\n".join(src) + "\n")
    (d / "a.de").write_text("\n".join(tgt) + "\n")
    (d / "short.de").write_text("x\ny\n")
    (d / "cr.en").write_text("\n".join(src).replace("a cat sits", "a cat\rsits", 1) + "\n", newline="")   # a stray CR
    (d / "empty.en").write_text("")
    (d / "blank.en").write_text("\n \n\n")
    (d / "latin1.en").write_bytes(b"ok\ncaf\xe9\n" + b"x\n" * 38)
    (d / "holes.de").write_text("\n".join(t if k % 7 else "" for k, t in enumerate(tgt)) + "\n")
    (d / "pairs_nohead.csv").write_text("".join(f"{s},{t},{k}\n" for k, (s, t) in enumerate(zip(src, tgt))))
    (d / "other_names.tsv").write_text("source\ttarget\nthe dog\tder Hund\n")
    (d / "pairs.tsv").write_text("en\tde\n" + "".join(f"{s}\t{t}\n" for s, t in zip(src, tgt)))
    (d / "pairs.csv").write_text("en,de\n" + "".join(f"{s},{t}\n" for s, t in zip(src, tgt)))
    (d / "no_tab.tsv").write_text("en\tde\n" + "".join(f"{s}{' ' if k == 5 else chr(9)}{t}\n"      # a space typed
                                                      for k, (s, t) in enumerate(zip(src, tgt))))
    (d / "words.txt").write_text("dog\tHund\ncat\tKatze\n" * 20)         # a word list: no header line
    (d / "hf.jsonl").write_text("".join(f'{{"translation": {{"en": "{s}", "de": "{t}"}}}}\n' for s, t in zip(src, tgt)))
    (d / "en_de.csv").write_text("en,de\n" + "".join(f"{s},{t}\n" for s, t in zip(src, tgt)))
    __import__("pandas").DataFrame({"src": src, "tgt": tgt}).to_parquet(d / "pairs.parquet")
    (d / "memory.tmx").write_text('<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><body>\n'
                                  + "".join(f'<tu><tuv xml:lang="en"><seg>{s}</seg></tuv><tuv xml:lang="de"><seg>{t}'
                                            f'</seg></tuv></tu>\n' for s, t in zip(src, tgt)) + "</body></tmx>\n")
    (d / "newstest.en.sgm").write_text('<refset setid="newstest" srclang="any">\n<doc docid="1">\n'
                                       + "".join(f'<seg id="{k}">{s}</seg>\n' for k, s in enumerate(src)) + "</doc>\n")
    (d / "folder").mkdir()
    (d / "iwslt").mkdir()                     # a prepared IWSLT download: a file per part and language
    for part in ("train", "valid", "test"):
        (d / "iwslt" / f"{part}.en").write_text("\n".join(src) + "\n")
        (d / "iwslt" / f"{part}.de").write_text("\n".join(tgt) + "\n")
    (d / "kaggle").mkdir()
    for part in ("train", "test"):
        (d / "kaggle" / f"{part}.tsv").write_text("src\ttgt\n" + "".join(f"{s}\t{t}\n" for s, t in zip(src, tgt)))
    fake_run(d)
    return d


def _train(*flags, src="a.en", tgt="a.de"):
    return [*TRAIN[:3], "{d}/" + src, "--tgt-file", "{d}/" + tgt, *TRAIN[6:], *flags]


CASES = [(_train(*flags), 2, needle) for flags, needle in COMMON_TRAIN] + [
    # --loss was accepted and ignored: the run trained on the task's own loss and recorded the one given
    # input feeding is Luong attention's choice: beside Bahdanau's (which always feeds) or none it changed nothing
    (_train("--no-input-feed"), 2, "--no-input-feed applies to --attention dot or general, not bahdanau: Bahdanau "
     "attention always feeds its context into the next decoder step — drop --no-input-feed (or use --attention general)"),
    (_train("--attention", "none", "--input-feed"), 2, "--input-feed applies to --attention dot or general, not none"),
    (_train("--loss", "mae"), 2, "--loss mae does not apply to translate: it trains on cross-entropy of each target"),
    (_train(src="nope.en"), 2, "file not found"),
    (_train("--src", "en"), 2, "--src names a column of a --data table"),
    (_train("--tgt", "de"), 2, "--tgt names a column of a --data table"),
    (_train(src="folder"), 2, "is a folder, not a text file"),
    # was 'pairs.parquet is not a text file: it is a Parquet file — rename it pairs.parquet' (its own name)
    (_train(src="pairs.parquet"), 2, "pairs.parquet is a Parquet file, where a text file is read — pass a text file"),
    (_train(tgt="folder"), 2, "is a folder, not a text file"),
    # was 'is a folder, not a text file — pass a CSV/TSV/XLSX/Parquet file of sentence pairs, or --src-file …'
    (["translate", "train", "--data", "{d}/hf_saved", *TRAIN[6:]], 2, "hf_saved is a Hugging Face data set saved with "
     "save_to_disk (a DatasetDict of train, test): its .arrow files are a cache, not a table lstmkit reads — export it "
     "to JSON lines"),
    (["translate", "train", "--data", "{d}/iwslt", *TRAIN[6:]], 2, "iwslt is a folder of a data set in parts (train.de, "
     "train.en, valid.de, valid.en, test.de, test.en), not a file of pairs — pass --src-file "),
    (["translate", "train", "--data", "{d}/iwslt", *TRAIN[6:]], 2, "iwslt/valid.en (de to en; swap each pair of files "
     "for the other direction); score the test part with translate evaluate --run RUN --src-file "),
    (_train(tgt="kaggle"), 2, "kaggle/train.tsv (and score the test part with translate evaluate --run RUN --data "),
    (_train(tgt="short.de"), 2, "2"),
    # was 'cr.en has 41 lines but a.de has 40', both 40 by wc -l
    (_train(src="cr.en"), 2, "cr.en holds a carriage return (\\r) inside its line 2 ('a cat\\rsits'), which ends a "
     "line here (as in an old Mac file) but not for wc -l or paste: read so, it has 41 lines and "),
    (_train(src="empty.en"), 2, "empty"),
    (_train(src="blank.en"), 2, "empty"),
    (_train(src="latin1.en"), 2, "not valid utf-8"),
    (_train(tgt="holes.de"), 2, "--drop-empty"),
    # a translation memory was 'source column 'src' not found: its first line reads as data — add a header line'
    (["translate", "train", "--data", "{d}/memory.tmx", *TRAIN[6:]], 2, "memory.tmx is a TMX (translation memory) file"),
    (_train(src="memory.tmx"), 2, "is a TMX (translation memory) file, which translate does not read"),
    # a WMT test set's SGML: each <seg …> line was read as a sentence
    (_train(src="newstest.en.sgm"), 2, "newstest.en.sgm is an SGML (WMT test set) file"),
    (["translate", "train", "--src-file", "{d}/a.en", "--out", "{out}"], 2, "--tgt-file"),
    (["translate", "train", "--data", "{d}/pairs.tsv", "--src", "en", "--tgt", "fr", "--out", "{out}"], 2, "'fr'"),
    # the fix was 'pass --src with one of: source, target', which the training table then lacks
    (["translate", "train", "--data", "{d}/pairs.tsv", "--src", "en", "--tgt", "de", "--val", "{d}/other_names.tsv",
      "--out", "{out}"], 2, "name the columns of the validation table as the training table's: --src and --tgt apply "
     "to both (its columns: source, target)"),
    (["translate", "train", "--data", "{d}/nope.tsv", "--src", "en", "--tgt", "de", "--out", "{out}"], 2,
     "not found"),
    # was '1 pair(s) have an empty side (first at line 7) — fill them in or pass --drop-empty to skip them'
    (["translate", "train", "--data", "{d}/no_tab.tsv", "--src", "en", "--tgt", "de", *TRAIN[6:]], 2,
     "no_tab.tsv line 7 holds no tab: the source and its target read as one cell ('a cat sits eine katze sitzt') — "
     "put a tab between the sentence and its translation"),
    # three columns and no header (two are read as pairs, said in a warning): which two is not said
    (["translate", "train", "--data", "{d}/pairs_nohead.csv", "--out", "{out}"], 2,
     "first line reads as data, not as column names"),
    # Hugging Face's translation records: 'source column 'src' not found — pass --src with one of: translation'
    (["translate", "train", "--data", "{d}/hf.jsonl", "--out", "{out}"], 2, "hf.jsonl holds each pair as a "
     "record of languages ({'en': …, 'de': …}, Hugging Face's translation layout) and which one is the source is not said — pass --src en --tgt de"),
    # the fix named --src alone; with it passed, the same error for --tgt
    (["translate", "train", "--data", "{d}/en_de.csv", "--out", "{out}"], 2, "en_de.csv — pass --src and --tgt "
     "with two of its columns: en, de (e.g. --src en --tgt de: en to de)"),
    # its first line read as column names: the fix was "pass --src with one of: dog, Hund" only
    (["translate", "train", "--data", "{d}/words.txt", "--out", "{out}"], 2, "add a header line 'src<TAB>tgt'"),
    (_train("--attention", "luong"), 2, "luong"),
    (_train("--beam", "0"), 2, "beam"),
    # the specials alone: 'no token occurs at least 2 times — lower --min-freq' of words that repeat
    (_train("--max-size", "4"), 2, "`max_size` must be an integer of at least 5 (4 special tokens and a word), got 4"),
    (_train("--teacher-forcing", "1.5"), 2, "teacher_forcing"),
    (_train("--label-smoothing", "1"), 2, "label_smoothing"),
    (_train("--max-len-ratio", "-1"), 2, "max_len_ratio"),
    (_train("--tokenizer", "char"), 2, "char"),
    (_train("--embed-dim", "0"), 2, "embed_dim"),
    (_train("--val-src-file", "{d}/nope.en", "--val-tgt-file", "{d}/a.de"), 2, "not found"),
    # the validation files: the error named --data / --src-file ("no data given", "both --data and …")
    (_train("--val-src-file", "{d}/a.en"), 2, "--val-src-file without --val-tgt-file"),
    (_train("--val-tgt-file", "{d}/a.de"), 2, "--val-tgt-file without --val-src-file"),
    (_train("--val", "{d}/pairs.tsv", "--val-src-file", "{d}/a.en", "--val-tgt-file", "{d}/a.de"), 2,
     "both --val and --val-src-file/--val-tgt-file given"),
    (["translate", "run", "--run", "{d}/nope"], 2, "run folder not found"),
    # translated line by line, each XML line a sentence
    (["translate", "run", "--run", "{d}/nope", "--data", "{d}/memory.tmx"], 2, "memory.tmx is a TMX"),
    (["translate", "run", "--run", "{d}/forecast_run"], 2, "'forecast' run"),
    (["translate", "run", "--run", "{d}"], 2, "not an lstmkit run folder"),
    (["translate", "run", "--run", "{d}/forecast_run", "--encoding", "bogus"], 2, "unknown encoding 'bogus'"),
    # a file of blank lines: 'file is empty — supply a file with a header row and data rows' (a table's fix)
    (["translate", "run", "--run", "{d}/nope", "--data", "{d}/blank.en"], 2, "blank.en — supply one "
     "sentence per line"),
    (["translate", "evaluate", "--run", "{d}/nope", "--src-file", "{d}/a.en", "--ref-file", "{d}/a.de"], 2,
     "run folder not found"),
    # each half of the pair of files, or none, named as what is missing (before the run is read)
    (["translate", "evaluate", "--run", "{d}/nope", "--ref-file", "{d}/a.de"], 2,
     "nothing to evaluate on: --ref-file without --src-file — pass --src-file and --ref-file"),
    (["translate", "evaluate", "--run", "{d}/nope"], 2, "nothing to evaluate on: no data given — pass --src-file and "
     "--ref-file (line-aligned files), or --data TABLE"),
    # a table of pairs where sources are read: each TSV line was translated whole (source and target as one
    # sentence); a Parquet file was 'not a text file: it is a Parquet file — rename it pairs.parquet'
    (["translate", "run", "--run", "{d}/nope", "--data", "{d}/pairs.tsv"], 2, "pairs.tsv is a table of "
     "source<TAB>target pairs (line 1: 'en\\tde'); translate run reads source sentences, one a line, from text — "
     "score its pairs with 'lstmkit translate evaluate --data"),
    # its header was translated as a sentence, then each row whole, its two cells as one sentence
    (["translate", "run", "--run", "{d}/nope", "--data", "{d}/pairs.csv"], 2, "pairs.csv is a CSV table (its "
     "header, line 1: 'en,de'); translate run reads source sentences, one a line, from text — score its pairs with "
     "'lstmkit translate evaluate --data"),
    (["translate", "run", "--run", "{d}/nope", "--data", "{d}/pairs.parquet"], 2, "pairs.parquet is a Parquet "
     "file; translate run reads source sentences"),
]


@pytest.mark.parametrize("argv, code, needle", CASES, ids=[f"{k}:{c[2]}" for k, c in enumerate(CASES)])
def test_translate_bad_input(argv, code, needle, d, tmp_path, capsys):
    check(argv, code, needle, tmp_path, capsys, d)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from lstmkit.tasks.translate import Translator
    from translate_data import TINY, make_pairs
    return Translator(**{**TINY, "max_epochs": 1}).fit(make_pairs(30), out=tmp_path_factory.mktemp("tr_runs")).run_dir_


@pytest.mark.parametrize("stdin, needle", [("", "no input on standard input — "),
                                           ("\n \n\n", "no input on standard input (3 empty lines, no sentence)"),
                                           ("\n", "no input on standard input (1 empty line, no sentence)")])
def test_run_on_standard_input_without_a_sentence(tiny_run, stdin, needle, tmp_path, capsys, monkeypatch):
    """Nothing, or only empty lines, to translate: it wrote empty lines and exited 0."""
    check(["translate", "run", "--run", tiny_run], 2, needle, tmp_path, capsys, stdin=stdin, monkeypatch=monkeypatch)


def test_run_keeps_an_empty_line_in_place(tiny_run, capsys, monkeypatch):
    """An empty input line among sentences is an empty output line: the output stays aligned."""
    from cli_helpers import run_cli
    code, out, err = run_cli(["translate", "run", "--run", tiny_run], capsys, stdin="a dog runs .\n\n \nthe cat .\n",
                             monkeypatch=monkeypatch)
    assert code == 0 and err == "" and len(out.split("\n")) == 5 and out.split("\n")[1:3] == ["", ""], (out, err)


def test_evaluate_reads_files_in_the_encoding_given(tiny_run, d, tmp_path, capsys):
    """`translate evaluate` told a Latin-1 file to 'pass --encoding cp1252', and had no --encoding."""
    from cli_helpers import run_cli
    files = ["--src-file", d / "latin1.en", "--ref-file", d / "a.de"]
    check(["translate", "evaluate", "--run", tiny_run, *files], 2, "latin1.en line 2 is not valid utf-8",
          tmp_path, capsys)
    code, out, err = run_cli(["translate", "evaluate", "--run", tiny_run, *files, "--encoding", "latin-1"], capsys)
    assert code == 0 and "(40 sentences" in out, err


@pytest.mark.parametrize("extra, needle", [
    (["--tokenize", "mecab"], "unknown BLEU tokenizer 'mecab' — pass --tokenize with one of: 13a, intl, zh, char"),
    (["--tokenize", "13A"], "unknown BLEU tokenizer '13A' (did you mean '13a'?)"),
    # a further reference file out of step with the sources
    (["--ref-file", "{d}/short.de"], "short.de has 2 lines but"),
])
def test_evaluate_with_a_bad_bleu_tokenizer_or_reference_file(tiny_run, d, extra, needle, tmp_path, capsys):
    check(["translate", "evaluate", "--run", tiny_run, "--src-file", d / "a.en", "--ref-file", d / "a.de",
           *[str(x).replace("{d}", str(d)) for x in extra]], 2, needle, tmp_path, capsys)


def test_a_run_without_its_vocabulary_names_it(tiny_run, tmp_path, capsys, monkeypatch):
    """Was 'has a missing or malformed lstmkit.json or state file ([Errno 2] No such file …)'."""
    import shutil
    run = tmp_path / "copied"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("vocab.json"))
    check(["translate", "run", "--run", run], 2, "copied has no vocab.json: the run folder is incomplete",
          tmp_path, capsys, stdin="a dog\n", monkeypatch=monkeypatch)


def test_a_beam_beyond_memory_is_refused_before_training(d, tmp_path, capsys, monkeypatch):
    """`translate train --beam 100000` trained to the end (hours on a real corpus) and was refused only
    when metrics() searched the validation part with it: now the same estimate on the validation part's
    longest batch refuses it before the first epoch (a machine of 1 MiB here), naming --beam."""
    import re

    from lstmkit import memory
    from lstmkit.train.trainer import Trainer
    monkeypatch.setattr(memory, "memory_limit", lambda device: (2**20, None, "this machine's memory"))
    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("trained before the beam was checked"))
    line = check(_train("--beam", "100000"), 2, "a beam of 100,000 needs about", tmp_path, capsys, d)
    assert re.search(r"more than the 1 MiB of this machine's memory — pass --beam \d+ \(5 to 10 is usual", line), line


def test_a_batch_beyond_memory_is_refused_before_training(d, tmp_path, capsys, monkeypatch):
    """translate had no batch check: a --batch-size whose activations exceed memory ended in torch's
    out-of-memory traceback, or swapped. Measured on copies of the longest pair (a machine of 256 KiB here)."""
    import re

    from lstmkit.train import memory
    from lstmkit.train.trainer import Trainer
    monkeypatch.setattr(memory, "memory_limit", lambda device: (256 * 2**10, None, "this machine's memory"))
    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("trained a batch beyond memory"))
    from translate_data import make_pairs
    pairs = make_pairs(300, seed=1, max_len=12)
    (tmp_path / "p.en").write_text("".join(s + "\n" for s, _ in pairs))
    (tmp_path / "p.de").write_text("".join(t + "\n" for _, t in pairs))
    line = check(["translate", "train", "--src-file", tmp_path / "p.en", "--tgt-file", tmp_path / "p.de", *TRAIN[6:],
                  "--batch-size", "1000", "--beam", "1"], 2, "one training batch of ", tmp_path, capsys, d)
    assert re.search(r"of \d{3} pairs is too large to train here: .*B a pair\), more than the 256 KiB of this "
                     r"machine's memory — pass --batch-size \d+ or less, or a smaller --max-len \(50\)$", line), line


def test_translate_trains_on_a_pair_table_piped_in(d, tmp_path, capsys, monkeypatch):
    """``cat pairs.tsv | lstmkit translate train --data - --src en --tgt de``: it was 'file not found: -'.
    The run records no file (data.source null, data.piped): its resume asks for --data."""
    import json
    from cli_helpers import run_cli
    argv = [str(a).format(d=d, out=tmp_path / "trained") for a in ["translate", "train", "--data", "-", "--src", "en",
                                                                    "--tgt", "de", *TRAIN[6:]]]
    code, _, err = run_cli(argv, capsys, stdin=(d / "pairs.tsv").read_text(), monkeypatch=monkeypatch)
    assert code == 0, err
    (run,) = (tmp_path / "trained").iterdir()
    meta = json.loads((run / "lstmkit.json").read_text())
    assert (meta["data"]["source"], meta["data"]["piped"]["source"]) == (None, "standard input")
    (run / "lstmkit.json").write_text(json.dumps({**meta, "status": "interrupted"}))
    check(["translate", "train", "--resume", run], 2, "trained on data piped to standard input", tmp_path, capsys, d)
    code, _, err = run_cli(["translate", "train", "--resume", str(run), "--data", str(d / "pairs.tsv")], capsys)
    assert code == 0, err


@pytest.mark.parametrize("stdin, needle", [("", "standard input is empty"),
                                           ("dog\tHund\ncat\tKatze\n" * 20, "source column 'src' not found in standard "
                                                                             "input: its first line 'dog\\tHund'")])
def test_translate_on_standard_input_without_a_pair_table(stdin, needle, d, tmp_path, capsys, monkeypatch):
    """Nothing piped, or pairs without a header line (a file's name would tell a headerless word list;
    piped content has none): one error naming standard input and the fix."""
    check(["translate", "train", "--data", "-", *TRAIN[6:]], 2, needle, tmp_path, capsys, d, stdin=stdin,
          monkeypatch=monkeypatch)
