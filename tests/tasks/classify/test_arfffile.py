"""Weka ``.arff`` files (lstmkit.tasks.classify.arfffile): read as the same data written as a .ts
file or a UCR .tsv; a file the classifier cannot learn from one error naming its line; trained on
and scored from the CLI and from Python as the .ts file is."""

import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.series import read_series
from series_files import multivariate as _multivariate
from series_files import numbers as _numbers
from series_files import refused_before_any_run, scored_alike
from series_files import ts_file as _ts


def _arff(path, seqs, labels, classes=("down", "up")):
    """Univariate ``seqs`` ([T, 1] each) as UCR's .arff: one numeric attribute per step of the
    longest, shorter ones padded with '?', the class last."""
    longest = max(len(s) for s in seqs)
    head = "% made by the test\n@relation Ramps\n" + "".join(f"@attribute t{j} numeric\n" for j in range(longest))
    rows = (_numbers(s[:, 0]) + ",?" * (longest - len(s)) + f",{lab}" for s, lab in zip(seqs, labels))
    path.write_text(head + f"@attribute target {{{','.join(classes)}}}\n\n@data\n" + "\n".join(rows) + "\n")
    return path


def _uea(path, seqs, labels):
    """Multivariate ``seqs`` ([T, F] each) as UEA's .arff: one relational attribute whose lines are
    the dimensions, each padded with '?' to the longest series."""
    longest = max(len(s) for s in seqs)
    head = ("@relation M\n@attribute relationalAtt relational\n"
            + "".join(f"@attribute t{j} numeric\n" for j in range(longest)) + "@end relationalAtt\n"
            + "@attribute classAttribute {down,up}\n@data\n")
    rows = ("'" + "\\n".join(_numbers(s[:, d]) + ",?" * (longest - len(s)) for d in range(s.shape[1])) + f"',{lab}"
            for s, lab in zip(seqs, labels))
    path.write_text(head + "\n".join(rows) + "\n")
    return path


def _same(a, b):
    assert a.labels == b.labels and a.feature_names == b.feature_names
    assert [s.tolist() for s in a.seqs] == [s.tolist() for s in b.seqs]


def test_a_univariate_arff_reads_as_the_same_ts_and_tsv(tmp_path, series):
    seqs, labels = series(10)                                   # lengths 8-20: '?' padding, as UCR's files
    arff = _arff(tmp_path / "r.arff", seqs, labels)
    longest = max(len(s) for s in seqs)
    (tmp_path / "r.tsv").write_text("".join(f"{lab}\t" + "\t".join(f"{v:.6f}" for v in s[:, 0])
                                            + "\tNaN" * (longest - len(s)) + "\n" for s, lab in zip(seqs, labels)))
    got = read_series(arff, unequal_length=True)
    assert got.labels == labels and len({len(s) for s in got.seqs}) > 1
    _same(got, read_series(_ts(tmp_path / "r.ts", seqs, labels), unequal_length=True))
    _same(got, read_series(tmp_path / "r.tsv", unequal_length=True))
    with pytest.raises(LstmkitError, match="different lengths.*--unequal-length"):
        read_series(arff)


def test_a_multivariate_uea_arff_reads_as_the_same_ts(tmp_path):
    seqs, labels = _multivariate(6)                             # 3 dimensions, 5-9 steps
    header = "@problemName M\n@univariate false\n@dimensions 3\n@equalLength false\n@classLabel true down up\n"
    want = read_series(_ts(tmp_path / "m.ts", seqs, labels, header), unequal_length=True)
    got = read_series(_uea(tmp_path / "m.arff", seqs, labels), unequal_length=True)
    _same(got, want)
    assert got.feature_names == ["x0", "x1", "x2"] and got.seqs[0].shape[1] == 3


def test_one_numeric_attribute_is_a_series_of_one_step_not_a_relational_one(tmp_path):
    (tmp_path / "one.arff").write_text("@relation x\n@attribute t0 numeric\n@attribute c {a,b}\n@data\n1.5,a\n-2,b\n")
    d = read_series(tmp_path / "one.arff")
    assert [s.tolist() for s in d.seqs] == [[[1.5]], [[-2.0]]] and d.labels == ["a", "b"]


def test_an_arff_whose_classes_are_all_missing_is_read_for_prediction_only(tmp_path, series):
    seqs, labels = series(4, unequal=False)
    arff = _arff(tmp_path / "u.arff", seqs, ["?"] * 4)
    d = read_series(arff, require_label=False)
    assert d.labels is None and len(d.seqs) == 4
    with pytest.raises(LstmkitError, match=r"u\.arff has no class labels \(every class is '\?'\)"):
        read_series(arff)


HEAD = "@relation x\n@attribute t0 numeric\n@attribute t1 numeric\n@attribute c {a,b}\n@data\n"   # rows at line 6
REL = ("@relation x\n@attribute r relational\n@attribute t0 numeric\n@attribute t1 numeric\n@end r\n"
       "@attribute c {a,b}\n@data\n")                                                            # rows at line 8


@pytest.mark.parametrize("text, words", [
    ("@relation x\n@attribute t0 numeric\n@attribute c {a,b}\n", ["has no @data line"]),
    (HEAD + "1,2,a\n% note\n{0 1, 2 b}\n", ["line 8 is sparse data", "dense"]),
    ("@relation x\n@attribute t0 numeric\n@attribute name string\n@attribute c {a,b}\n@data\n1,'x',a\n",
     ["line 3: attribute 'name' is a string attribute", "without --series"]),
    ("@relation x\n@attribute t0 numeric\n@attribute t1 numeric\n@attribute y numeric\n@data\n1,2,0.5\n",
     ["regression file (line 4: its last attribute 'y' is numeric", "nominal"]),
    ("@relation x\n@attribute c {a,b}\n@attribute t0 numeric\n@data\na,1\n",
     ["line 2: the nominal attribute 'c' comes before the steps, not last", "class last"]),
    ("@relation x\n@attribute t0 numeric\n@attribute d date 'yyyy-MM-dd'\n@data\n1,2020-01-01\n",
     ["has no nominal class (line 3: its last attribute 'd' is date)"]),
    ("@relation x\n@attribute d date 'yyyy-MM-dd'\n@attribute c {a,b}\n@data\n2020-01-01,a\n",
     ["line 2: attribute 'd' is date, not a numeric step"]),
    ("@relation x\n@attribute t0 {x,y}\n@attribute c {a,b}\n@data\nx,a\n", ["attribute 't0' is nominal, not a numeric"]),
    (REL.replace("@attribute c", "@attribute t9 numeric\n@attribute c") + "'1,2',3,a\n",
     ["line 6: attribute 't9' (numeric) sits beside the relational attribute 'r'"]),
    ("@relation x\n@attribute c {a,b}\n@data\na\n", ["has 1 attribute: no series and class"]),
    (HEAD + "1,2,a\n1,x,b\n", ["line 7 cannot be read", "could not convert string to float: 'x'"]),
    (HEAD + "1,2,a\n1,2,c\n", ["line 7 cannot be read", "c value not in ('a', 'b')"]),
    (HEAD + "1,a\n", ["line 6 cannot be read", "one value per attribute"]),
    (HEAD + "1,2,a\n?,1,b\n", ["line 7 has a missing value ('?') at step 1", "fill or interpolate"]),
    (HEAD + "?,?,a\n", ["line 6 has no values"]),
    (HEAD + "1,2,a\n1,2,?\n", ["line 7 has no class ('?'), but other series have one"]),
    (HEAD + "\n% nothing\n", ["holds no series after @data (line 5)"]),
    (REL + "'1,2\\n3,?',a\n", ["line 8 has a missing value ('?') at step 2 of dimension 2"]),
    (REL + "'1,2\\n3,4',a\n'1,2\\n3,4\\n5,6',b\n", ["line 9 has 3 dimensions, but line 8 has 2", "same dimensions"]),
    ("@relation x\n@attribute t0 numeric\n@attribute c {é,b}\n@data\n1,é\n", ["other than ASCII", ".ts file"]),
    ("", ["file is empty"]),
    ("@relation x\n@attribute r\\e relational\n@attribute t0 numeric\n@end r\\e\n@attribute c {a,b}\n@data\n'1',a\n",
     ["has a header scipy cannot read (bad escape"]),                  # scipy's re.error, not a traceback
])
def test_a_malformed_or_foreign_arff_is_one_error_naming_its_line(tmp_path, capsys, text, words):
    bad = tmp_path / "bad.arff"
    bad.write_text(text, encoding="utf-8")
    refused_before_any_run(tmp_path, capsys, bad, *words)


def test_an_arff_without_series_is_refused_as_texts(tmp_path, capsys, series):
    arff = _arff(tmp_path / "R.arff", *series(4))
    code, _, err = run_cli(["classify", "train", "--data", arff], capsys)
    assert_user_error(code, err, "is a .arff file: numeric series, not texts", "add --series")


def test_train_evaluate_and_predict_from_arff_files_as_from_the_ts(tmp_path, capsys, series):
    """A tiny LSTM-FCN trained on an .arff file (tested on another) scores the same .arff and .ts
    alike, from the CLI and from Python."""
    seqs, labels = series(24, unequal=False)
    train = _arff(tmp_path / "R_TRAIN.arff", seqs[:16], labels[:16])
    test, twin = _arff(tmp_path / "R_TEST.arff", seqs[16:], labels[16:]), _ts(tmp_path / "R_TEST.ts", seqs[16:], labels[16:])
    scored_alike(tmp_path, capsys, train, test, twin)
