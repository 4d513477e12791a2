"""Bad-input catalogue, `lstmkit classify`: one line, the right exit code, nothing left behind."""
import numpy as np
import pytest

from catalogue_helpers import COMMON_TRAIN, check, common_files, fake_run, with_data
from cli_helpers import run_cli

TRAIN = ["classify", "train", "--data", "{d}/reviews.csv", "--text", "text", "--label", "label",
         "--embed-dim", "4", "--hidden-size", "4", "--min-freq", "1", "--epochs", "1", "--progress", "off",
         "--no-tensorboard", "--device", "cpu", "--out", "{out}"]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("classify_data")
    common_files(d)
    rows = [("good film", "pos"), ("bad film", "neg"), ("great plot", "pos"), ("awful acting", "neg")] * 10
    good = "text,label\n" + "".join(f"{t},{l}\n" for t, l in rows)
    (d / "reviews.csv").write_text(good)
    (d / "empty.csv").write_text("")
    (d / "header_only.csv").write_text("text,label\n")
    (d / "one_class.csv").write_text("text,label\ngood,pos\ngreat,pos\n")
    (d / "blank.csv").write_text(good + '"   ",pos\n,neg\n')
    (d / "latin1.csv").write_bytes((good + "caf\xe9 film,pos\n").encode("latin-1"))
    (d / "binary.csv").write_bytes(b"\x00\x01\x02\xff" * 50)
    (d / "nolabel.csv").write_text("text,sentiment,source\n" + "".join(f"{t},{l},web\n" for t, l in rows))  # 3 columns
    (d / "texts_as_labels.csv").write_text("text,label\n" + "".join(f"pos,review number {k}\n" for k in range(6)))
    many = "text,label\n" + "".join(f"review {k} of topic {k % 30},topic number {k % 30:02d}\n" for k in range(90))
    (d / "many_topics.csv").write_text(many)
    (d / "new_topic.csv").write_text(many + "a review of something else,topic number 99\n")
    (d / "ran_on.csv").write_text(good.replace("bad film,neg", '"bad film,neg', 1))   # rows merged into one
    (d / "empty_folder").mkdir()
    (d / "commas.csv").write_text("text,label\n" + "".join(f"{t}, really,{l}\n" for t, l in rows))    # an unquoted comma
    (d / "comma_later.csv").write_text(good.replace("great plot,", '"great\nplot",', 1) + "\nok, really,pos\n")
    (d / "comma_at_end.csv").write_text(good.replace("bad film,neg\n", "bad film,neg,\n", 1))
    (d / "no_comma.csv").write_text(good.replace("bad film,neg\n", "bad film neg\n", 1))      # a space for the comma
    (d / "no_words.csv").write_text("text,label\n" + "!!!,pos\n?!,neg\n+ $ %,pos\n:-(,neg\n" * 5)
    (d / "other_names.csv").write_text("id,review,label\n" + "".join(f"{k},{t},{l}\n" for k, (t, l) in enumerate(rows)))
    _files_without_lines(d, rows)
    _public_set_layouts(d, rows, good)
    _ucr_downloads(d)
    rng = np.random.default_rng(0)
    ragged = "".join(f"{'up' if k % 2 else 'down'}\t" + "\t".join(f"{v:.3f}" for v in rng.standard_normal(8 + k % 3))
                     + "\n" for k in range(20))
    (d / "ragged.tsv").write_text(ragged)
    (d / "series_big.tsv").write_text("".join(f"{'up' if k % 2 else 'down'}\t1.0\t2.0\t{'1e300' if k == 3 else '3.0'}\n"
                                              for k in range(20)))
    (d / "series_nan.tsv").write_text("".join(f"{'up' if k % 2 else 'down'}\t1.0\tinf\t3.0\n" for k in range(20)))
    (d / "series_underscore.tsv").write_text("".join(f"{'up' if k % 2 else 'down'}\t1.0\t1_000\t3.0\n" for k in range(20)))
    (d / "with_total.csv").write_text(good + "Total,40\n")             # a sheet's count under the texts
    (d / "series_average.csv").write_text("label,t1,t2,t3\n" + "".join(f"{'up' if k % 2 else 'down'},{k},{k + 1},{k % 3}\n"
                                                                       for k in range(20)) + "Average,9.5,10.5,0.95\n")
    (d / "series_text.tsv").write_text("".join(f"{'up' if k % 2 else 'down'}\t1.0\tabc\t3.0\n" for k in range(20)))
    long = "".join(f"{k};{t};{rng.standard_normal():.4f};{'up' if k % 2 else 'down'}\n".replace(".", ",")
                   for k in range(20) for t in range(6))
    (d / "long_semicolon.csv").write_text("sample;t;value;label\n" + long)      # a European spreadsheet's CSV
    dots = [f"{k};{t};{800 + 60 * t + k:,}".replace(",", ".") + f";{'up' if k % 2 else 'down'}\n"
            for k in range(20) for t in range(6)]                        # 800 … 1.119: a European file's thousands
    (d / "long_dots.csv").write_text("sample;t;value;label\n" + "".join(dots))
    (d / "wide_dots.csv").write_text("label;t0;t1;t2;t3\n" + "".join(    # one row per sample: 940 … 1.019
        f"{'up' if k % 2 else 'down'};" + ";".join(f"{940 + 20 * t + k:,}".replace(",", ".") for t in range(4)) + "\n"
        for k in range(20)))
    for name, days in (("dates_two_ways.csv", ["11/01/2024", "12/01/2024", "01/02/2024"]),
                       ("dates_both_orders.csv", ["28/01/2024", "01/29/2024", "01/30/2024"])):
        (d / name).write_text("sample,t,value,label\n" + "".join(f"{k},{day},{s},{'up' if k % 2 else 'down'}\n"
                                                                 for k in range(20) for s, day in enumerate(days)))
    (d / "long_excel.csv").write_bytes(("sample\tt\tvalue\tlabel\n" + long.replace(";", "\t")).encode("utf-16"))
    fake_run(d)
    return d


def _files_without_lines(d, rows):
    """Tables whose rows are no text lines, each naming a bad row as its format numbers it: a
    workbook with an empty sheet row (the row numbers Excel shows), Parquet, JSON lines."""
    import openpyxl
    import pandas as pd
    book = openpyxl.Workbook()
    for r in [("text", "label"), *rows[:4], (None, None), ("   ", "pos")]:   # sheet rows 1-5, empty 6, blank text 7
        book.active.append(r)
    book.save(d / "blank.xlsx")
    long = pd.DataFrame({"sample": ["a", "a", None, "b"], "t": [0, 1, 0, 1], "value": [1.0, 2.0, 3.0, 4.0],
                         "label": ["up", "up", "down", "down"]})
    long.to_parquet(d / "no_id.parquet")
    (d / "blank.jsonl").write_text('{"text": "good film", "label": "pos"}\n\n{"text": " ", "label": "neg"}\n')


def _public_set_layouts(d, rows, good):
    """fastText lines and Zhang et al.'s class-index CSVs (AG News' layout), each with one fault."""
    lines = "".join(f"__label__{l} {t}\n" for t, l in rows)
    (d / "mixed.ft.txt").write_text(lines + "a review with no label\n")
    (d / "multi.txt").write_text(lines.replace("__label__pos great", "__label__pos __label__neg great", 1))
    (d / "empty_label.txt").write_text(lines + "__label__ odd film\n")
    (d / "ag").mkdir()
    (d / "ag" / "train.csv").write_text("".join(f'"{1 + (l == "pos") + 2 * (k == 7)}","{t}","body"\n'
                                                for k, (t, l) in enumerate(rows)))
    (d / "ag" / "classes.txt").write_text("neg\npos\n")
    (d / "ag_typo.csv").write_text('"1","good film"\n"2","bad film"\n"two","great plot"\n')
    (d / "ag_no_names").mkdir()
    (d / "ag_no_names" / "train.csv").write_text((d / "ag" / "train.csv").read_text().replace('"3"', '"2"'))
    (d / "ag_no_names" / "classes.txt").write_text("\n\n")
    (d / "hf" / "data").mkdir(parents=True)          # a Hugging Face data set: exported, and as the Hub holds it
    for part in ("train", "test"):
        (d / "hf" / f"{part}.jsonl").write_text("".join(f'{{"text": "{t}", "label": "{l}"}}\n' for t, l in rows))
        (d / "hf" / "data" / f"{part}-00000-of-00001.csv").write_text(good)
    for part, (t, l) in [(p, r) for p in ("train", "test") for r in rows[:4]]:     # the IMDB download's top folder
        (d / "aclImdb" / part / l).mkdir(parents=True, exist_ok=True)
        (d / "aclImdb" / part / l / f"{len(list((d / 'aclImdb' / part / l).iterdir()))}_9.txt").write_text(t)
    for label, suffix in (("pos", ".txt"), ("neg", ".txt"), ("neutral", ".md")):   # one class saved under another suffix
        (d / "three_classes" / label).mkdir(parents=True)
        (d / "three_classes" / label / f"0{suffix}").write_text(f"a {label} film")
    (d / "notes.dat").write_text("a good film\n")


def _ucr_downloads(d):
    """.ts and .arff files as timeseriesclassification.com ships them, each with one fault."""
    ts = "@problemName R\n@univariate true\n@classLabel true down up\n@data\n"
    (d / "regression.ts").write_text("@problemName R\n@classLabel false\n@targetLabel true\n@data\n1,2:0.5\n")
    (d / "stamped.ts").write_text("@timeStamps true\n@classLabel true a b\n@data\n(0,1),(1,2):a\n")
    (d / "undeclared.ts").write_text(ts + "1,2,3:up\n3,2,1:down\n1,2,3:sideways\n")
    (d / "gap.ts").write_text(ts + "1,2,3:up\n3,?,1:down\n")
    (d / "ragged.ts").write_text(ts + "1,2,3:up\n3,2:down\n")
    (d / "GunPoint").mkdir()                     # the UCR archive's folder; the UEA's hold .ts and .arff files too
    for part in ("TRAIN", "TEST"):
        (d / "GunPoint" / f"GunPoint_{part}.tsv").write_text("1\t1.0\t2.0\n2\t2.0\t1.0\n")
        (d / "GunPoint" / f"GunPoint_{part}.ts").write_text(ts + "1,2,3:up\n3,2,1:down\n")
    head = "@relation R\n@attribute t0 numeric\n@attribute t1 numeric\n"
    (d / "regression.arff").write_text(head + "@attribute y numeric\n@data\n1,2,0.5\n")
    (d / "strings.arff").write_text(head + "@attribute note string\n@attribute c {a,b}\n@data\n1,2,'x',a\n")
    (d / "sparse.arff").write_text(head + "@attribute c {a,b}\n@data\n{0 1, 2 a}\n")
    (d / "bad_value.arff").write_text(head + "@attribute c {a,b}\n@data\n1,2,a\n1,x,b\n")
    (d / "ragged.arff").write_text(head + "@attribute c {a,b}\n@data\n1,2,a\n1,?,b\n")


def _train(*flags, data="reviews.csv"):
    return with_data(TRAIN, data, *flags)


def _series(data, *flags):
    return ["classify", "train", "--series", "--data", "{d}/" + data, "--hidden-size", "4", "--epochs", "1",
            "--progress", "off", "--out", "{out}", *flags]


CASES = [(_train(*flags), 2, needle) for flags, needle in COMMON_TRAIN] + [
    # --loss was accepted and ignored: the run trained on the task's own loss and recorded the one given
    # ReduceLROnPlateau's settings under the cosine schedule changed nothing (LSTM-FCN's default is cosine)
    (_train("--lr-schedule", "cosine", "--lr-factor", "0.3"), 2, "--lr-factor applies to --lr-schedule plateau, not to "
     "--lr-schedule cosine, which anneals the learning rate over --epochs — drop --lr-factor, or pass --lr-schedule plateau"),
    (_series("ragged.tsv", "--lr-patience", "5"), 2, "--lr-patience applies to --lr-schedule plateau, not to the cosine "
     "schedule (this run's default)"),
    (_train("--loss", "mse"), 2, "--loss mse does not apply to classify: it trains on cross-entropy over the classes — "
     "drop --loss (or pass --loss auto, that loss)"),
    (_train(data="nope.csv"), 2, "not found"),
    (["classify", "predict", "--run", "{d}/nope", "--data", ""], 2, "--data is empty"),   # was the run's error, then
    (["classify", "predict", "--run", "", "--data", "{d}/nope.csv"], 2, "--run is empty"),  # the working folder read
    (_train(data="empty.csv"), 2, "empty"),
    (_train(data="header_only.csv"), 2, "header_only.csv"),
    (_train(data="one_class.csv"), 2, "only one class"),
    (_train(data="blank.csv"), 2, "--drop-empty"),
    (_train(data="blank.csv"), 2, "first: line 42)"),
    (_train(data="blank.xlsx"), 2, "first: sheet row 7)"),          # was 'data row 5'
    (_train(data="blank.jsonl"), 2, "first: line 3)"),               # was 'data row 2'
    (_series("no_id.parquet"), 2, "no 'sample' id (first: row 3)"),
    (_train(data="latin1.csv"), 2, "--encoding"),
    (_train(data="binary.csv"), 2, "binary.csv"),
    (_train(data="nolabel.csv"), 2, "label column 'label' not found"),
    (_train(data="texts_as_labels.csv"), 2, "each of the 6 classes has one example (6 rows): nothing to validate on"),
    # 30 classes' names were all listed, a line as long as all of them (15,000 characters for 250)
    (_train("--val", "{d}/new_topic.csv", data="many_topics.csv"), 2,
     "'topic number 99' (1 row) — the model knows only: topic number 00, topic number 01, topic number 02, topic number 03, "
     "topic number 04, topic number 05, topic number 06, topic number 07, topic number 08, topic number 09, topic number 10, "
     "topic number 11, … (30 classes); drop"),
    (_train(data="ran_on.csv"), 2, "ran_on.csv line 3: a quote mark opens a field that runs on to the end of the file"),
    (_train(data="empty_folder"), 2, "empty_folder"),
    # the class 'neutral' (its texts .md files) was left out without a word, the model trained on the two others
    (_train(data="three_classes"), 2, "three_classes/neutral holds no .txt file (1 entry: 0.md), beside the class "
     "folders neg, pos: its class would be left out — give its texts the suffix .txt"),
    # was 'use .csv, .tsv, .jsonl …, .xlsx or .parquet, or a folder of class folders': no word of fastText's .txt
    (_train(data="notes.dat"), 2, "notes.dat — classify reads a table (.csv, .tsv, .jsonl, .xlsx or .parquet, "
     "compressed too), a fastText file (__label__NAME text, one a line)"),
    # read with the first cells as row names: the texts were ' really', silently
    (_train(data="commas.csv"), 2, "commas.csv line 2 has 3 cells, its header 2 (text, label): an unquoted ',' in a "
     "text? (the row: 'good film, really,pos') — put a cell that holds the ',' in double quotes"),
    # was pandas' 'Error tokenizing data. C error: Expected 2 fields in line 43, saw 3', counting a quoted cell's lines
    (_train(data="comma_later.csv"), 2, "comma_later.csv line 44 has 3 cells, its header 2 (text, label)"),
    (_train(data="comma_at_end.csv"), 2, "comma_at_end.csv line 3 ends in ',': 3 cells, its header 2 — remove the ','"),
    (_train(data="no_comma.csv"), 2, "no_comma.csv line 3 holds no ',': its text and its label read as one text ('bad "
     "film neg', ending in the label 'neg'), and the row has no label — put a ',' between the text and its label"),
    # was "whose sub-folders (test, train) hold no .txt files — put each class's texts in a sub-folder …"
    (_train(data="aclImdb"), 2, "aclImdb is the top folder of a data set in parts: its sub-folders test/ (neg, pos), "
                                "train/ (neg, pos) each hold the class folders — pass --data "),
    # was 'is a folder with no class sub-folders of .txt files'
    (_train(data="hf"), 2, "hf is a folder of a data set in parts (data/train-00000-of-00001.csv, train.jsonl, "
     "data/test-00000-of-00001.csv, test.jsonl), not of class folders — join each part's files into one"),
    (_train(data="hf/data"), 2, "/hf/data/train-00000-of-00001.csv --test "),
    (_train(data="hf/data"), 2, "hf/data/test-00000-of-00001.csv (to evaluate a run: --data "),
    # was 'a data set in parts — pass --data hf_saved/train', which then held 'no class sub-folders'
    (_train(data="hf_saved"), 2, "hf_saved is a Hugging Face data set saved with save_to_disk (a DatasetDict of train, "
     "test): its .arrow files are a cache, not a table lstmkit reads — export it to JSON lines (Python: ds = datasets."
     "load_from_disk("),
    (_train(data="hf_saved/train"), 2, "(one Dataset): its .arrow files are a cache, not a table lstmkit reads — export "
     "it to JSON lines (Python: ds = datasets.load_from_disk("),
    (_series(data="hf_saved"), 2, "then pass --data train.jsonl --test test.jsonl"),
    (_train("--text", "review"), 2, "text column 'review' not found"),
    (_train("--label", "Label"), 2, "did you mean 'label'?"),
    (_series("long_semicolon.csv", "--time", "T"), 2, "did you mean 't'?"),
    # was read as 1.040 beside 980, silently
    (_series("long_dots.csv"), 2, "column 'value' holds numbers that read two ways: '1.040' in line 6 in "),
    (_series("wide_dots.csv"), 2, "column 't3' holds numbers that read two ways: '1.000' in line 2 in "),
    # were trained and scored as a class of one example (its F1 of 0 in the macro-F1), silently
    (_train(data="with_total.csv"), 2, "error: line 42 in "),
    (_train(data="with_total.csv"), 2, "with_total.csv looks like a summary row (Total), not data: its "
     "label '40' would be trained and scored as a class of one example — delete that row (and any other summary rows)"),
    (_series("series_average.csv"), 2, "error: line 22 in "),
    (_series("series_average.csv"), 2, "series_average.csv looks like a summary row (Average), not data"),
    (_train("--tokenizer", "sentencepiece"), 2, "sentencepiece"),
    # a setting of the other kind (texts vs --series) would be ignored without a word
    (_train("--sample", "id"), 2, "--sample applies to numeric series (--series) only"),
    (_train("--time", "step"), 2, "--time applies to numeric series"),
    (_train("--features", "a,b"), 2, "--features applies to numeric series"),
    (_train("--unequal-length"), 2, "--unequal-length applies to numeric series"),
    (_train("--scaler", "minmax"), 2, "--scaler applies to numeric series"),
    (_train("--budget", "4"), 2, "--budget applies to numeric series"),
    (_series("ragged.tsv", "--tokenizer", "char"), 2, "--tokenizer applies to texts only"),
    (_series("ragged.tsv", "--text", "review"), 2, "--text applies to texts only"),
    (_series("ragged.tsv", "--keep-case"), 2, "--lowercase applies to texts only"),
    (_series("ragged.tsv", "--min-freq", "1"), 2, "--min-freq applies to texts only"),
    (_series("ragged.tsv", "--word-dropout", "0.1"), 2, "--word-dropout applies to texts only"),
    (_series("ragged.tsv", "--drop-empty"), 2, "--drop-empty applies to texts only"),
    (_train("--crops", "3"), 2, "--crops applies to numeric series (--series) only"),       # LSTM-FCN's options
    (_train("--augment", "none"), 2, "--augment applies to numeric series (--series) only"),
    (_series("ragged.tsv", "--vectors", "{d}/reviews.csv"), 2, "--vectors applies to texts only"),
    (_series("ragged.tsv", "--init-from", "{d}"), 2, "--init-from applies to texts only"),
    (_series("ragged.tsv", "--no-word-scores"), 2, "--word-scores applies to texts only"),
    (_train("--val", "{d}/reviews.csv", "--val-frac", "0.5"), 2, "--val-frac applies without a validation file"),
    (_train("--unfreeze-epochs", "2"), 2, "--unfreeze-epochs applies with --init-from only"),
    (_train("--lr-layer-decay", "2.6"), 2, "--lr-layer-decay applies with --init-from only"),
    (_train("--freeze-vectors"), 2, "--freeze-vectors applies with --vectors only"),
    (_train("--no-word-scores", "--score-pairs", "0"), 2, "--score-pairs applies with --word-scores only"),
    (_train("--min-freq", "-1"), 2, "min_freq"),
    # was '--min-freq 1 keeps no word … (the most frequent is seen 0 times) — pass --min-freq 1'
    (_train(data="no_words.csv"), 2, "the training texts hold no word (letters, digits or emoji) for the word "
     "tokenizer: punctuation only (e.g. '!!!') — pass --tokenizer char"),
    (_train("--max-len", "0"), 2, "max_len"),
    (_train("--embed-dim", "0"), 2, "embed_dim"),
    (_train("--pooling", "median"), 2, "median"),
    (_train("--model", "lsmt"), 2, "lsmt"),
    (_train("--truncate", "middle"), 2, "middle"),
    (_train("--vectors", "{d}/no_vectors.txt"), 2, "vectors file not found"),
    (_train("--vectors", "{d}"), 2, "is a folder, not a vectors file"),      # was 'vectors file not found'
    (_train("--val", "{d}/nope.csv"), 2, "not found"),
    # the fix was 'pass --text with one of: review, label', which the training file then lacks
    (_train("--val", "{d}/other_names.csv"), 2, "other_names.csv — name the "
     "columns of the validation data as the training data's: the column settings (--text, --label, …) apply to every "
     "file (its columns: id, review, label)"),
    (_train("--test", "{d}/other_names.csv"), 2, "name the columns of the test data as the training data's"),
    (_train("--encoding", "klingon"), 2, "klingon"),
    (_series("ragged.tsv"), 2, "--unequal-length"),
    # the command line's words for the hints a Python caller reads as keywords (unequal_length=True, min_freq=2)
    (_series("ragged.tsv"), 2, "— pass --unequal-length if they are meant to differ, else fix the ragged rows"),
    (_train("--val-frac", "1.5"), 2, "— pass --val-frac 0.1, a --val file, or 0 to hold nothing out, say"),
    (_train("--min-freq", "100000"), 2, "— pass --min-freq 2 (rarer words become unknown)"),
    (_series("series_big.tsv"), 2, "sequence 4 of"),
    (_series("series_nan.tsv"), 2, "series_nan.tsv line 1: value 2 is infinite ('inf')"),     # was 'sequence 1 of'
    (_series("series_underscore.tsv"), 2, "line 1: value 2 is not a number ('1_000')"),        # float() read 1000
    (_series("series_text.tsv"), 2, "abc"),
    (_series("series_big.tsv", "--scaler", "log"), 2, "log"),
    # pandas read 01/02 month first and 28/01 day first in one column: steps silently out of order
    (_series("dates_two_ways.csv"), 2, "dates_two_ways.csv is ambiguous: '11/01/2024' (line 2) "
     "reads as 11 January 2024 (day first) or 01 November 2024 (month first)"),
    (_series("dates_both_orders.csv"), 2, "mixes day-first dates ('28/01/2024') and month-first dates ('01/29/2024')"),
    # timeseriesclassification.com's downloads: sktime's .ts and Weka's .arff
    (_series("regression.ts"), 2, "regression file (@targetLabel true, line 3)"),
    (_series("stamped.ts"), 2, "time-stamped values (@timeStamps true, line 1)"),
    (_series("undeclared.ts"), 2, "line 7: class 'sideways' is not declared by @classLabel (down, up)"),
    (_series("gap.ts"), 2, "line 6 has a missing value ('?') at step 2"),
    (_series("ragged.ts"), 2, "--unequal-length"),
    (_train(data="gap.ts"), 2, "is a .ts file: numeric series, not texts"),
    # was 'is a folder, not a table of sequences — pass a UCR .tsv (label first) or .ts, …'
    (_series("GunPoint"), 2, "GunPoint is a folder of a data set in parts (GunPoint_TRAIN.tsv, GunPoint_TEST.tsv), "
     "not a table of sequences — pass --data "),
    (_series("GunPoint"), 2, "GunPoint/GunPoint_TEST.tsv (to evaluate a run: --data "),
    (_series("regression.arff"), 2, "regression file (line 4: its last attribute 'y' is numeric"),
    (_series("strings.arff"), 2, "line 4: attribute 'note' is a string attribute"),
    (_series("sparse.arff"), 2, "line 6 is sparse data"),
    (_series("bad_value.arff"), 2, "line 7 cannot be read (could not convert string to float: 'x')"),
    (_series("ragged.arff"), 2, "--unequal-length"),
    (_series("ragged.tsv", "--unequal-length", "--val", "{d}/sparse.arff"), 2, "sparse.arff line 6 is sparse data"),
    (_train(data="mixed.ft.txt"), 2, "line 41 in"),                      # was '.txt file: lines of text, with no labels'
    (_train(data="multi.txt"), 2, "line 3 in"),
    (_train(data="multi.txt"), 2, "multi-label data, and the classifier gives one class a text"),
    (_train(data="empty_label.txt"), 2, "line 41 in"),
    (_train("--val", "{d}/multi.txt"), 2, "has 2 labels (__label__pos __label__neg)"),
    (_train(data="ag/train.csv"), 2, "line 8 of"),                      # was 'first line reads as data'
    (_train(data="ag/train.csv"), 2, "has class index 3, outside 1-2"),
    (_train(data="ag_typo.csv"), 2, "line 3 of"),
    (_train(data="ag_no_names/train.csv"), 2, "classes.txt is empty: beside train.csv it names the classes"),
    (_train(data="ag_typo.csv"), 2, "starts with 'two', not a class index"),
    (["classify", "predict", "--run", "{d}/nope", "--data", "{d}/reviews.csv"], 2, "run folder not found"),
    (["classify", "predict", "--run", "{d}", "--data", "{d}/reviews.csv"], 2, "not an lstmkit run folder"),
    (["classify", "predict", "--run", "{d}/forecast_run", "--data", "{d}/reviews.csv"], 2, "'forecast' run"),
    (["classify", "evaluate", "--run", "{d}/forecast_run", "--data", "{d}/reviews.csv"], 2, "'forecast' run"),
    (["classify", "attention", "--run", "{d}/nope", "--text", "good"], 2, "run folder not found"),
    (["classify", "predict", "--data", "{d}/reviews.csv"], 2, "missing option"),
]


@pytest.mark.parametrize("argv, code, needle", CASES, ids=[f"{k}:{c[2]}" for k, c in enumerate(CASES)])
def test_classify_bad_input(argv, code, needle, d, tmp_path, capsys):
    check(argv, code, needle, tmp_path, capsys, d)


@pytest.mark.parametrize("data", ["long_semicolon.csv", "long_excel.csv"])
def test_series_from_spreadsheet_exports_train(data, d, tmp_path, capsys):
    argv = [a.format(d=d, out=tmp_path / "runs") for a in _series(data, "--device", "cpu", "--no-tensorboard")]
    code, text, err = run_cli(argv, capsys)
    assert code == 0, err
    assert len(list((tmp_path / "runs").iterdir())) == 1


def test_a_workbooks_class_named_none_is_trained(tmp_path, capsys):
    """A class 'None' in a workbook read as a missing label: its rows were left out ('have no
    label (empty, NA, N/A or NaN ...)') and the class was gone, where the same CSV trained it."""
    import json

    import pandas as pd
    rows = [("good film", "pos"), ("bad film", "neg"), ("just a film", "None")] * 10
    pd.DataFrame(rows, columns=["text", "label"]).to_excel(tmp_path / "intents.xlsx", index=False)
    argv = [a.format(d=tmp_path, out=tmp_path / "runs") for a in with_data(TRAIN, "intents.xlsx")]
    code, text, err = run_cli(argv, capsys)
    assert code == 0 and "no label" not in err, err
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "lstmkit.json").read_text())["classes"] == ["None", "neg", "pos"]


def test_the_config_knows_the_trainers_losses():
    import typing

    from lstmkit.config import TrainConfig
    from lstmkit.train.settings import LOSSES
    assert set(typing.get_args(typing.get_type_hints(TrainConfig)["loss"])) == {*LOSSES, "auto"}


def test_a_batch_beyond_memory_is_refused_before_training(d, tmp_path, capsys, monkeypatch):
    """classify had no batch check: a --batch-size whose activations exceed memory ended in torch's
    out-of-memory traceback, or swapped. Measured on the longest text's first tokens and counted on
    the batch it is padded in (a machine of 2 MiB here; 16 MiB for the series), for texts and for --series,
    naming the flag."""
    import re

    from lstmkit.train import memory
    from lstmkit.train.trainer import Trainer
    monkeypatch.setattr(memory, "memory_limit", lambda device: (2 * 2**20, None, "this machine's memory"))
    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("trained a batch beyond memory"))
    words = ["good", "bad", "film", "plot", "acting", "great", "awful"]
    (tmp_path / "long.csv").write_text("text,label\n" + "".join(
        f"{' '.join(words[(k + j) % 7] for j in range(60))},{'pos' if k % 7 % 2 else 'neg'}\n" for k in range(40)))
    line = check([*TRAIN[:3], tmp_path / "long.csv", *TRAIN[4:], "--batch-size", "40"], 2,
                 "one training batch of 2,160 tokens is too large to train here", tmp_path, capsys, d)
    assert re.search(r"B a token\), more than the 2 MiB of this machine's memory — pass --batch-size \d+ or less, "
                     r"or a smaller --max-len \(400\)$", line), line
    rng = np.random.default_rng(0)
    (tmp_path / "long.tsv").write_text("".join(f"{'up' if k % 2 else 'down'}\t" + "\t".join(
        f"{v:.3f}" for v in rng.standard_normal(500)) + "\n" for k in range(20)))
    monkeypatch.setattr(memory, "memory_limit", lambda device: (16 * 2**20, None, "this machine's memory"))
    line = check(["classify", "train", "--series", "--data", tmp_path / "long.tsv", "--hidden-size", "4", "--epochs",
                  "1", "--progress", "off", "--out", "{out}", "--batch-size", "20"], 2,
                 "one training batch of 10,000 time steps is too large to train here", tmp_path, capsys, d)
    assert re.search(r"B a time step\), more than the 16 MiB of this machine's memory — pass --batch-size \d+ or "
                     r"less, or a smaller --max-len \(none\)$", line), line


def _piped_run_resumes_only_with_data(task: str, run, data, tmp_path, capsys, d) -> None:
    """A run trained on ``--data -`` records no file (``data.source`` null, ``data.piped``): its resume
    asks for ``--data``, and resumes with it."""
    import json
    summary = json.loads((run / "lstmkit.json").read_text())["data"]
    assert (summary["source"], summary["piped"]) == (None, {"source": "standard input"})
    meta = json.loads((run / "lstmkit.json").read_text())
    (run / "lstmkit.json").write_text(json.dumps({**meta, "status": "interrupted"}))
    check([task, "train", "--resume", run], 2, "trained on data piped to standard input", tmp_path, capsys, d)
    code, _, err = run_cli([task, "train", "--resume", run, "--data", data], capsys)
    assert code == 0, err


@pytest.mark.parametrize("name, sep", [("reviews.csv", ","), ("reviews.tsv", "\t"), ("reviews.jsonl", None)])
def test_classify_trains_on_a_table_piped_in(name, sep, d, tmp_path, capsys, monkeypatch):
    """``cat reviews.csv | lstmkit classify train --data -``: it was ''-' is not a file … pass a list of
    them, e.g. ['-']', Python's words; CSV, TSV and JSON Lines are told from the content."""
    import pandas as pd
    table = pd.read_csv(d / "reviews.csv")
    piped = (table.to_json(orient="records", lines=True) if sep is None else table.to_csv(sep=sep, index=False))
    (tmp_path / name).write_text(piped)
    argv = [str(a).format(d=d, out=tmp_path / "trained") for a in [*TRAIN[:3], "-", *TRAIN[4:]]]
    code, _, err = run_cli(argv, capsys, stdin=piped, monkeypatch=monkeypatch)
    assert code == 0, err
    (run,) = (tmp_path / "trained").iterdir()
    _piped_run_resumes_only_with_data("classify", run, tmp_path / name, tmp_path, capsys, d)


@pytest.mark.parametrize("stdin, needle", [
    ("", "standard input is empty"),
    ("__label__pos good film\n__label__neg bad film\n" * 5, "standard input holds no table lstmkit can read")])
def test_classify_on_standard_input_without_a_table(stdin, needle, d, tmp_path, capsys, monkeypatch):
    """What is piped in that is no table (a fastText file, whose format only its name tells) is one
    error naming standard input and the fix."""
    check([*TRAIN[:3], "-", *TRAIN[4:]], 2, needle, tmp_path, capsys, d, stdin=stdin, monkeypatch=monkeypatch)

