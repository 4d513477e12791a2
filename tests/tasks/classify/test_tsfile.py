"""sktime / aeon ``.ts`` files (lstmkit.tasks.classify.tsfile): read as the same data written as a
UCR .tsv or a long CSV; every malformed file one error naming its line; trained on from the CLI."""
import warnings

import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.series import read_series
from series_files import multivariate as _multivariate
from series_files import numbers as _numbers
from series_files import refused_before_any_run, scored_alike
from series_files import ts_file as _ts


def test_a_univariate_ts_reads_as_the_same_ucr_tsv(tmp_path, series):
    seqs, labels = series(10)                                  # lengths 8-20: the .tsv pads with NaN, as UCR does
    longest = max(len(s) for s in seqs)
    (tmp_path / "r.tsv").write_text("".join(f"{lab}\t" + "\t".join(f"{v:.6f}" for v in s[:, 0])
                                            + "\tNaN" * (longest - len(s)) + "\n" for s, lab in zip(seqs, labels)))
    ts = _ts(tmp_path / "r.ts", seqs, labels)
    padded = ts.read_text().replace(":up", ",?,?:up")          # '?' at the end of a series: padding too
    (tmp_path / "padded.ts").write_text(padded.replace("\n", "\r\n"))
    want = read_series(tmp_path / "r.tsv", unequal_length=True)
    for path in (ts, tmp_path / "padded.ts"):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            got = read_series(path, unequal_length=True)
        assert ["padding" in str(w.message) for w in said] == ([True] if path.name == "padded.ts" else [])
        assert got.labels == want.labels == labels and got.feature_names == ["value"]
        assert [s.tolist() for s in got.seqs] == [s.tolist() for s in want.seqs]
    with pytest.raises(LstmkitError, match="different lengths.*--unequal-length"):
        read_series(ts)


def test_a_multivariate_unequal_ts_reads_as_the_same_long_csv(tmp_path):
    seqs, labels = _multivariate(6)
    rows = [f"{k},{t}," + _numbers(step) + f",{lab}" for k, (s, lab) in enumerate(zip(seqs, labels))
            for t, step in enumerate(s)]
    (tmp_path / "long.csv").write_text("sample,t,d0,d1,d2,label\n" + "\n".join(rows) + "\n")
    header = "@problemName M\n@univariate false\n@dimensions 3\n@equalLength false\n@classLabel true down up\n"
    ts = _ts(tmp_path / "m.ts", seqs, labels, header)
    want, got = (read_series(p, unequal_length=True) for p in (tmp_path / "long.csv", ts))
    assert got.labels == want.labels == labels and got.feature_names == ["x0", "x1", "x2"]   # unnamed: by position
    assert [s.tolist() for s in got.seqs] == [s.tolist() for s in want.seqs]
    assert len({len(s) for s in got.seqs}) > 1 and got.seqs[0].shape[1] == 3


def test_missing_values_at_a_series_end_are_padding_and_said_so(tmp_path):
    """A trailing '?' or NaN was dropped without a word; aeon and sktime keep them as missing values."""
    head = "@problemName x\n@univariate true\n@classLabel true a b\n@data\n"
    (tmp_path / "p.ts").write_text(head + "1,2,3:a\n1,2,NaN:b\n\n3,?,?:a\n4,5,6:b\n")
    with pytest.warns(UserWarning, match=r"p\.ts: 2 series end in missing values \('\?' or NaN\) after their last "
                      r"number \(lines 6, 8\): read as padding.*aeon and sktime keep them as missing values"):
        d = read_series(tmp_path / "p.ts", unequal_length=True)
    assert [len(s) for s in d.seqs] == [3, 2, 1, 3]
    (tmp_path / "full.ts").write_text(head + "1,2,3:a\n1,2,2:b\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_series(tmp_path / "full.ts").seqs) == 2


def test_a_ts_without_labels_is_read_for_prediction_only(tmp_path, series):
    seqs, labels = series(4, unequal=False)
    ts = _ts(tmp_path / "u.ts", seqs, labels)
    unlabelled = tmp_path / "none.ts"
    unlabelled.write_text(ts.read_text().replace("@classLabel true down up", "@classLabel false")
                          .replace(":down\n", "\n").replace(":up\n", "\n"))
    d = read_series(unlabelled, require_label=False)
    assert d.labels is None and [s.tolist() for s in d.seqs] == [s.tolist() for s in read_series(ts).seqs]
    with pytest.raises(LstmkitError, match=r"none\.ts has no class labels \(@classLabel false\)"):
        read_series(unlabelled)


HEADER = "@problemName x\n@univariate false\n@classLabel true a b\n@data\n"      # the series start at line 5


@pytest.mark.parametrize("text, words", [
    ("@problemName x\n@classLabel true a b\n", ["has no @data line"]),
    ("@classLabel true a b\n1,2:a\n@data\n", ["line 2 holds values before any @data line"]),
    ("@problemName x\n@\n@classLabel true a b\n@data\n1,2:a\n", ["line 2: '@' names no header tag"]),
    (HEADER + "1,2:3,4:a\n1,2:b\n", ["line 6 has 1 dimension, but line 5 has 2", "same dimensions"]),
    (HEADER.replace("false", "true") + "1,2:a\n1,2:3,4:b\n", ["line 6 has 2 dimensions, but @univariate true (line 2)"]),
    (HEADER.replace("false", "false\n@dimensions 2") + "1,2:a\n", ["line 6 has 1 dimension, but @dimensions (line 3)"]),
    (HEADER + "1,2:a\n\n# a comment\n1,2:c\n", ["line 8: class 'c' is not declared by @classLabel (a, b)"]),
    (HEADER + "1,2:a\n1,x,3:b\n", ["line 6: value 2 of dimension 1 is not a number ('x')", "'?' for a missing"]),
    # float() reads both: 1_000 as 1000, inf as a value the network turns into NaN
    (HEADER + "1,2:a\n1,1_000,3:b\n", ["line 6: value 2 of dimension 1 is not a number ('1_000')"]),
    (HEADER + "1,2,3:4,-inf,6:a\n", ["line 5: value 2 of dimension 2 is infinite ('-inf')"]),
    (HEADER + "1,?,3:a\n", ["line 5 has a missing value ('?') at step 2", "fill or interpolate"]),
    (HEADER + "1,2:a\n1, NaN ,3:b\n", ["line 6 has a missing value ('NaN') at step 2", "fill or interpolate"]),
    (HEADER + "1,2,3:4,nan,6:a\n", ["line 5 has a missing value ('nan') at step 2 of dimension 2"]),
    (HEADER + "1,2:5,6:a\n1,2,3:4,5:b\n", ["line 6: its dimensions have different numbers of values (3, 2)"]),
    (HEADER + "?,?:a\n", ["line 5 has no values"]),
    (HEADER + "1,2,3\n", ["line 5 has no class label after its values"]),
    (HEADER + "1,2:a\n@data\n", ["line 6: @data after @data"]),
    (HEADER + "\n# nothing\n", ["holds no series after @data (line 4)"]),
    ("", ["file is empty"]),
    ("@problemName r\n@classLabel false\n@targetLabel true\n@data\n1,2:0.5\n",
     ["regression file (@targetLabel true, line 3)", "@classLabel true"]),
    ("@classLabel false\n@data\n1,2\n", ["has no class labels (@classLabel false)", "predict reads this one"]),
    ("@timeStamps true\n@classLabel true a b\n@data\n(0,1),(1,2):a\n", ["time-stamped values (@timeStamps true, line 1)",
                                                                       "--sample and --time"]),
    ("@problemName x\n@data\n1,2:a\n", ["has no @classLabel line", "@classLabel true 1 2"]),
    ("@classLabel true\n@data\n1,2:a\n", ["line 1: @classLabel true names no classes"]),
    ("@classLabel maybe a b\n@data\n1,2:a\n", ["line 1: @classLabel must be true or false"]),
])
def test_a_malformed_ts_file_is_one_error_naming_its_line(tmp_path, capsys, text, words):
    bad = tmp_path / "bad.ts"
    bad.write_text(text)
    refused_before_any_run(tmp_path, capsys, bad, *words)


def test_a_ts_file_without_series_is_refused_as_texts(tmp_path, capsys, series):
    ts = _ts(tmp_path / "Ramps_TRAIN.ts", *series(4))
    code, _, err = run_cli(["classify", "train", "--data", ts], capsys)
    assert_user_error(code, err, "is a .ts file: numeric series, not texts", "add --series")


def test_train_evaluate_and_predict_from_ts_files_as_from_the_tsv(tmp_path, capsys, series):
    """A tiny LSTM-FCN trained on a .ts file (tested on another) scores the same .ts and .tsv
    alike, from the CLI and from Python."""
    seqs, labels = series(24, unequal=False)
    train, test = _ts(tmp_path / "R_TRAIN.ts", seqs[:16], labels[:16]), _ts(tmp_path / "R_TEST.ts", seqs[16:], labels[16:])
    (tmp_path / "R_TEST.tsv").write_text("".join(f"{lab}\t" + "\t".join(f"{v:.6f}" for v in s[:, 0]) + "\n"
                                                 for s, lab in zip(seqs[16:], labels[16:])))
    scored_alike(tmp_path, capsys, train, test, tmp_path / "R_TEST.tsv")


def test_a_ts_file_whose_header_says_equal_length_false_trains_without_the_flag(tmp_path, series, tiny_series):
    """aeon and sktime write '@equalLength false' over JapaneseVowels and PLAID: such a file was
    refused ('sequences have different lengths … pass --unequal-length'), though its header says
    they differ; one whose header says 'true' (or nothing) still is, a ragged line being a broken file."""
    from lstmkit import SequenceClassifier
    seqs, labels = series(12)                                  # lengths 8-20
    head = "@problemName R\n@univariate true\n@equalLength false\n@classLabel true down up\n"
    declared = _ts(tmp_path / "R_TRAIN.ts", seqs, labels, head)
    assert [len(s) for s in read_series(declared).seqs] == [len(s) for s in seqs]
    for said in ("@equalLength true\n", ""):
        other = tmp_path / "other.ts"
        other.write_text(declared.read_text().replace("@equalLength false\n", said))
        with pytest.raises(LstmkitError, match="different lengths"):
            read_series(other)
    clf = SequenceClassifier(max_epochs=1, **tiny_series).fit(declared, out=tmp_path / "runs")
    assert clf.config_.unequal_length and not clf.get_params()["unequal_length"]     # chosen from the file
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the training lengths differed: no 'not 20 steps long' warning
        assert len(clf.predict(declared)) == 12
    assert type(clf).load(clf.run_dir_).config_.unequal_length


def test_one_declared_class_reads_and_an_undeclared_one_is_named_beside_at_most_eight():
    """'@classLabel true a' declares one class: a test file of one class reads (two were required).
    The error for an undeclared class lists the declared ones, eight at most, '…' only when there
    are more."""
    from lstmkit.tasks.classify.tsfile import parse_ts

    seqs, labels, _ = parse_ts(["@classLabel true a", "@data", "1,2:a", "3,4:a"])
    assert labels == ["a", "a"] and [s[:, 0].tolist() for s in seqs] == [[1, 2], [3, 4]]
    eight = " ".join(f"c{k}" for k in range(8))
    with pytest.raises(LstmkitError, match=r"class 'x' is not declared by @classLabel \(c0, c1, c2, c3, c4, c5, c6, "
                                           r"c7\) —"):
        parse_ts([f"@classLabel true {eight}", "@data", "1,2:x"])
    with pytest.raises(LstmkitError, match=r"\(c0, c1, c2, c3, c4, c5, c6, c7, …\) —"):
        parse_ts([f"@classLabel true {eight} c8", "@data", "1,2:x"])
