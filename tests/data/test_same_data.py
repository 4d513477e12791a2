"""data.same_data: a run records the SHA-256 of its data files, and --resume refuses a changed file."""
import json

import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit.errors import LstmkitError
from lstmkit.data.same_data import HASHES_KEY, check_same_data, data_hashes
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread)
from table_data import lines as _lines
from table_data import pairs as _pairs
from table_data import long_series as _long_series
from table_data import reviews as _reviews
from translate_data import make_pairs


def test_a_folder_of_text_files_is_hashed_where_the_summary_lists_it(tmp_path):
    """A classifier's class folders (and an lm's folder corpus) resumed unchecked: a file added or
    edited since the run started went into the resumed training. Listed under text_folders, the
    folder's .txt files are hashed (their paths inside it and their SHA-256s)."""
    from lstmkit.data.same_data import TEXT_FOLDERS_KEY
    root = tmp_path / "data"
    (root / "pos").mkdir(parents=True)
    (root / "pos" / "1.txt").write_text("good\n")
    (root / "notes.md").write_text("not read\n")
    summary = {"source": str(root), TEXT_FOLDERS_KEY: ["source"]}
    before = data_hashes(summary)
    assert set(before) == {"source"} and data_hashes({"source": str(root)}) == {}      # only where listed
    (root / "notes.md").write_text("edited\n")                    # no .txt file: what is read is the same
    assert data_hashes(summary) == before
    check_same_data({**summary, HASHES_KEY: before}, data_hashes(summary), tmp_path)
    for change in (lambda: (root / "pos" / "2.txt").write_text("great\n"),           # added
                   lambda: (root / "pos" / "2.txt").rename(root / "pos" / "3.txt"),   # renamed
                   lambda: (root / "pos" / "3.txt").write_text("fine\n")):           # edited
        change()
        now = data_hashes(summary)
        with pytest.raises(LstmkitError, match=r"data is not the folder it trained on \(a \.txt file in it was added"):
            check_same_data({**summary, HASHES_KEY: before}, now, tmp_path)
        before = now
    moved = tmp_path / "moved"
    root.rename(moved)                                              # the folder moved: the same files
    assert data_hashes({**summary, "source": str(moved)}) == before


def test_a_class_folder_digest_covers_the_files_the_classifier_reads(tmp_path):
    """Listed under class_folders (a classifier's data), a folder is hashed by the .txt files of its class
    folders alone: aclImdb's unsup/ and urls_pos.txt, a file deeper in a class folder, are never read and
    changed the digest (lstmkit list named other data; a resume was refused). Where nothing unread lies
    there, the digest is the one recorded before (every .txt under the folder), and a run recorded so
    resumes on the folder with unread files beside it, and is refused where a file it read changed."""
    from lstmkit.data.same_data import CLASS_FOLDERS_KEY, TEXT_FOLDERS_KEY, class_folder_roles, folder_sha256
    root = tmp_path / "train"
    for label in ("pos", "neg"):
        (root / label).mkdir(parents=True)
        (root / label / "1.txt").write_text(f"{label} review\n")
    summary = {"source": str(root), **class_folder_roles(source=str(root), val_source=None)}
    assert summary[TEXT_FOLDERS_KEY] == summary[CLASS_FOLDERS_KEY] == ["source"]
    before = data_hashes(summary)
    old = {"source": str(root), TEXT_FOLDERS_KEY: ["source"]}          # a run written before class_folders
    assert before == data_hashes(old) == {"source": folder_sha256(root)}
    (root / "unsup").mkdir()
    (root / "unsup" / "0.txt").write_text("unlabelled\n")
    (root / "urls_pos.txt").write_text("http://example.com\n")
    (root / "pos" / "deeper").mkdir()
    (root / "pos" / "deeper" / "2.txt").write_text("not read\n")
    assert data_hashes(summary) == before != data_hashes(old)          # the language model's reading differs
    was = {**old, HASHES_KEY: {"source": folder_sha256(root)}}         # recorded with the unread files there
    check_same_data(was, data_hashes(summary), tmp_path, summary)
    (root / "neg" / "1.txt").write_text("edited\n")
    with pytest.raises(LstmkitError, match=r"train is not the folder it trained on"):
        check_same_data(was, data_hashes(summary), tmp_path, summary)
    with pytest.raises(LstmkitError, match=r"train is not the folder it trained on"):
        check_same_data({**summary, HASHES_KEY: before}, data_hashes(summary), tmp_path, summary)


def test_an_old_class_folder_digest_is_computed_once_per_folder(tmp_path, monkeypatch):
    """A run recorded before class folders' own digest, resumed where unread files lie beside its folders, is checked
    by hashing each folder the old way (every .txt under it) once per check, however many roles name it (its data
    and its test data one folder: the folder was read twice), and not at all where the digest recorded is the new
    one; the answers are the same: it resumes, and a file it read edited is refused."""
    from lstmkit.data import same_data
    from lstmkit.data.same_data import TEXT_FOLDERS_KEY, class_folder_roles, folder_sha256
    root = tmp_path / "train"
    for label in ("pos", "neg"):
        (root / label).mkdir(parents=True)
        (root / label / "1.txt").write_text(f"{label} review\n")
    (root / "unsup").mkdir()
    (root / "unsup" / "0.txt").write_text("unlabelled\n")           # unread: the new digest differs from the old
    summary = {"source": str(root), "test_source": str(root),
               **class_folder_roles(source=str(root), test_source=str(root))}
    old = {"source": str(root), "test_source": str(root), TEXT_FOLDERS_KEY: ["source", "test_source"]}
    was = {**old, HASHES_KEY: {"source": folder_sha256(root), "test_source": folder_sha256(root)}}
    calls = []
    monkeypatch.setattr(same_data, "folder_sha256", lambda folder, classes=False: calls.append((folder, classes))
                        or folder_sha256(folder, classes))
    now = data_hashes(summary)
    assert calls == [(root, True)]                                   # one read of the folder, by path
    calls.clear()
    check_same_data(was, now, tmp_path, summary)                    # resumes: the files it read are as they were
    assert calls == [(root, False)]
    calls.clear()
    check_same_data({**summary, HASHES_KEY: now}, now, tmp_path, summary)      # recorded the new way: no re-read
    assert calls == []
    (root / "neg" / "1.txt").write_text("edited\n")
    with pytest.raises(LstmkitError, match=r"train is not the folder it trained on"):
        check_same_data(was, data_hashes(summary), tmp_path, summary)


def test_old_class_folder_digests_of_two_folders_are_each_their_own(tmp_path):
    """A run recorded before class folders' own digest whose data and test data are two folders resumes: each role
    is checked against its own folder's old digest (the digest kept per folder is that folder's, not the first
    one computed), and an edit to the second folder is still refused by its role."""
    from lstmkit.data.same_data import TEXT_FOLDERS_KEY, class_folder_roles, folder_sha256
    roots = {role: tmp_path / name for role, name in (("source", "train"), ("test_source", "test"))}
    for name, root in roots.items():
        for label in ("pos", "neg"):
            (root / label).mkdir(parents=True)
            (root / label / "1.txt").write_text(f"{label} {name} review\n")
        (root / "unsup").mkdir()
        (root / "unsup" / "0.txt").write_text("unlabelled\n")        # unread: the new digest differs from the old
    given = {role: str(root) for role, root in roots.items()}
    summary = {**given, **class_folder_roles(**given)}
    old = {**given, TEXT_FOLDERS_KEY: list(given)}
    was = {**old, HASHES_KEY: {role: folder_sha256(root) for role, root in roots.items()}}
    assert was[HASHES_KEY]["source"] != was[HASHES_KEY]["test_source"]
    check_same_data(was, data_hashes(summary), tmp_path, summary)       # resumes: both folders as they were
    (roots["test_source"] / "neg" / "1.txt").write_text("edited\n")
    with pytest.raises(LstmkitError, match=r"test is not the folder"):
        check_same_data(was, data_hashes(summary), tmp_path, summary)


def test_a_class_folder_digest_orders_its_files_as_the_old_digest_did(tmp_path):
    """The class folders' files are hashed in the order of their paths written out (``neg-x/0.txt`` before
    ``neg/0.txt``: '-' sorts before '/'), as every run's folder digest was: sorted as paths (``neg`` before
    ``neg-x``), a run recorded before class_folders with such folders no longer resumed on the same files."""
    from lstmkit.data.same_data import TEXT_FOLDERS_KEY, class_folder_roles, folder_sha256
    from lstmkit.data.textsets import class_folder_files
    root = tmp_path / "train"
    for label in ("neg", "neg-x"):
        (root / label).mkdir(parents=True)
        (root / label / "0.txt").write_text(f"a {label} review\n")
    assert [f.relative_to(root).as_posix() for f in class_folder_files(root)] == ["neg-x/0.txt", "neg/0.txt"]
    summary = {"source": str(root), **class_folder_roles(source=str(root))}
    assert data_hashes(summary) == data_hashes({"source": str(root), TEXT_FOLDERS_KEY: ["source"]}) \
        == {"source": folder_sha256(root)}

def test_classify_class_folders_are_checked_on_resume(tmp_path, capsys):
    root = tmp_path / "reviews"
    for label, words in (("pos", "good great"), ("neg", "bad awful")):
        (root / label).mkdir(parents=True)
        for i in range(12):
            (root / label / f"{i}.txt").write_text(f"a {words} film {i}\n")
    code, _, err = run_cli(["classify", "train", "--data", root, "--embed-dim", "4", "--min-freq", "1", *_SMALL,
                            "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    # the folder's .txt files name its data in lstmkit list, as a data file's SHA-256 names a file's
    from lstmkit.data.same_data import folder_sha256
    from lstmkit.run_list import data_name, list_runs
    named = data_name({"data": {HASHES_KEY: {"source": folder_sha256(root)}}})
    assert [row["data"] for row in list_runs(tmp_path / "runs")] == [named] and len(named) == 12
    _interrupt(run)
    (root / "pos" / "12.txt").write_text("a new review\n")       # resumed onto it before
    code, _, err = run_cli(["classify", "train", "--resume", run], capsys)
    assert_user_error(code, err, "reviews is not the folder it trained on (a .txt file in it was added, removed")
    (root / "pos" / "12.txt").unlink()
    # files the classifier never reads (aclImdb's unsup/ and urls_pos.txt, a sub-folder of a class folder): the
    # data read is the same, and the resume was refused as if a review had been added
    for unread in ("unsup/0.txt", "urls_pos.txt", "pos/more/0.txt"):
        (root / unread).parent.mkdir(exist_ok=True)
        (root / unread).write_text("not read\n")
    code, _, err = run_cli(["classify", "train", "--resume", run], capsys)
    assert code == 0, err
    assert [row["data"] for row in list_runs(tmp_path / "runs")] == [named]      # resumed on the same data


def test_hashes_name_each_file_by_its_role_and_skip_what_is_no_file(tmp_path):
    (tmp_path / "a.txt").write_text("one\n")
    summary = {"source": str(tmp_path / "a.txt"), "val_source": None, "test_source": str(tmp_path),
               "files": {"src_file": str(tmp_path / "a.txt"), "tgt_file": str(tmp_path / "gone.txt")}, "rows": 3}
    hashes = data_hashes(summary)
    assert set(hashes) == {"source", "files.src_file"} and hashes["source"] == hashes["files.src_file"]
    check_same_data({**summary, HASHES_KEY: hashes}, hashes, tmp_path)        # same content: no complaint
    check_same_data(summary, {"source": "0" * 64}, tmp_path)                  # a run from before the hashes
    (tmp_path / "a.txt").write_text("two\n")
    with pytest.raises(LstmkitError, match=r"a\.txt is not the file it trained on"):
        check_same_data({**summary, HASHES_KEY: hashes}, data_hashes(summary), tmp_path)
    # --resume --data OTHER: the file given is named, beside the one the run trained on (only that one was)
    given = {**summary, "source": str(tmp_path / "b.txt")}
    (tmp_path / "a.txt").write_text("one\n")
    (tmp_path / "b.txt").write_text("three\n")
    with pytest.raises(LstmkitError, match=r"b\.txt is not .*a\.txt, the file it trained on"):
        check_same_data({**summary, HASHES_KEY: hashes}, data_hashes(given), tmp_path, given)


def _lm(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join("abcdefghij"[: 3 + i % 7] + "\n" for i in range(80)))
    return corpus, ["lm", "train", "--data", corpus, "--level", "char", "--embed-dim", "8", "--hidden-size", "8"], \
        "corpus.txt has other text in lines 1-5 (the first lines that differ)"      # its lines are compared


def _translate(tmp_path):
    pairs = make_pairs(60)
    src, tgt = tmp_path / "train.en", tmp_path / "train.de"
    src.write_text("".join(s + "\n" for s, _ in pairs))
    tgt.write_text("".join(t + "\n" for _, t in pairs))
    return tgt, ["translate", "train", "--src-file", src, "--tgt-file", tgt, "--embed-dim", "8", "--hidden-size", "8",
                 "--min-freq", "1", "--beam", "1"], "train.de has other text in lines 1-4 (the first lines that differ)"    # line by line


@pytest.mark.parametrize("task", [_lm, _translate])
def test_resume_refuses_a_data_file_changed_since_the_run_started(task, tmp_path, capsys):
    data, args, needle = task(tmp_path)
    code, out, err = run_cli([*args, "--epochs", "2", "--progress", "off", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    meta = json.loads((run / "lstmkit.json").read_text())
    assert len(meta["data"][HASHES_KEY]) >= 1
    meta["status"] = "interrupted"                          # as Ctrl-C after the last epoch leaves it
    (run / "lstmkit.json").write_text(json.dumps(meta))
    original = data.read_text()
    data.write_text(original.replace("\n", "x\n", 1))      # one line edited
    code, _, err = run_cli([args[0], "train", "--resume", run], capsys)
    assert_user_error(code, err, needle, str(data.resolve()))
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "interrupted"
    data.write_text(original)                               # the file it started with: resumes
    code, _, err = run_cli([args[0], "train", "--resume", run], capsys)
    assert code == 0, err
    assert json.loads((run / "lstmkit.json").read_text())["data"][HASHES_KEY] == meta["data"][HASHES_KEY]


def _started_on(frame):
    """A run's data summary as a fit given ``frame`` as ``data`` records it."""
    from lstmkit.data.same_data import LAYOUT_KEY, MEMORY_KEY, memory_hashes, memory_layouts
    return {MEMORY_KEY: memory_hashes({"data": frame}), LAYOUT_KEY: memory_layouts({"data": frame})}


def _refusal(recorded, frame, tmp_path):
    from lstmkit.data.same_data import check_same_memory, memory_hashes
    with pytest.raises(LstmkitError) as e:
        check_same_memory(recorded, {"data": frame}, memory_hashes({"data": frame}), tmp_path)
    return e.value


def test_a_frame_whose_columns_were_reordered_or_retyped_is_told_so(tmp_path):
    """Was 'is not the one it trained on (their fingerprints differ)' for all three."""
    import pandas as pd
    from lstmkit.data.same_data import LAYOUT_KEY
    frame = pd.DataFrame({"time": [1, 2, 3], "y": [4, 5, 6], "x": [0.5, 0.25, 1.0]})
    recorded = _started_on(frame)
    assert recorded[LAYOUT_KEY] == {"data": {"columns": ["time", "y", "x"], "dtypes": ["int64", "int64", "float64"]}}
    e = _refusal(recorded, frame[["x", "time", "y"]], tmp_path)
    assert "has its columns in another order (it started with ['time', 'y', 'x']; now ['x', 'time', 'y'])" in str(e)
    assert e.hint.startswith("pass them in the order it started with (data[['time', 'y', 'x']])")
    e = _refusal(recorded, frame.astype({"y": "float64"}), tmp_path)
    assert "holds the same values with columns of another type: 'y' is float64, was int64" in str(e)
    assert e.hint.startswith("convert them back (data.astype({'y': 'int64'}))")
    for other in (frame.assign(y=[4, 5, 7]), frame[["x", "time", "y"]].assign(y=[4, 5, 7]),    # other values too
                  frame.astype({"y": "float64"}).assign(y=[4, 5, 6.5])):
        assert "their fingerprints differ" in str(_refusal(recorded, other, tmp_path))
    # a run that recorded no layout (before it was recorded): the fingerprints alone
    assert "their fingerprints differ" in str(_refusal({**recorded, LAYOUT_KEY: {}}, frame[["x", "time", "y"]],
                                                       tmp_path))


def test_a_wide_frame_names_a_few_columns_and_how_many(tmp_path):
    import pandas as pd
    frame = pd.DataFrame({f"c{k}": [k, k + 1] for k in range(12)})
    e = _refusal(_started_on(frame), frame[list(reversed(frame.columns))], tmp_path)
    assert "now ['c11', 'c10', 'c9', 'c8', 'c7', 'c6', 'c5', 'c4', … (12 in all)])" in str(e)
    assert e.hint.startswith(f"pass them in the order it started with (as data.memory_columns in its "
                             f"{tmp_path.name}/lstmkit.json)")


def _sales(n=60):
    import numpy as np
    import pandas as pd
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                         "sales": np.round(10 + 5 * np.sin(np.arange(n) / 3), 2), "promo": np.arange(n) % 2})


_TINY = dict(lookback=4, horizon=2, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1, progress="off",
             tensorboard=False, doctor=False, device="cpu")


def _interrupt(run, drop_tables=False):
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["status"] = "interrupted"
    if drop_tables:                                   # as a run from before the tables were recorded
        del meta["data"]["tables"]
    (run / "lstmkit.json").write_text(json.dumps(meta))
    return meta


def test_a_table_file_saved_again_with_other_line_endings_and_quoting_resumes(tmp_path, capsys):
    """The SHA-256 differ, the table read is the same: the model reads the same data (was refused)."""
    import lstmkit
    data = tmp_path / "sales.csv"
    _sales().to_csv(data, index=False)
    run = lstmkit.Forecaster(**_TINY).fit(str(data), target="sales", time="date", out=tmp_path / "runs").run_dir_
    meta = _interrupt(run)
    assert meta["data"]["tables"]["source"]["rows"] == 60
    _sales().to_csv(data, index=False, lineterminator="\r\n", quoting=1)          # every cell quoted, CRLF
    assert data_hashes(meta["data"]) != meta["data"][HASHES_KEY]
    code, _, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert code == 0, err
    after = json.loads((run / "lstmkit.json").read_text())["data"]
    assert after["tables"] == meta["data"]["tables"] and after[HASHES_KEY] == data_hashes(meta["data"])


def test_a_run_started_in_memory_resumes_from_a_file_holding_the_same_table(tmp_path, capsys):
    """A file of other data was trained on unchecked (the catalogue's case); the same data resumes."""
    import lstmkit
    run = lstmkit.Forecaster(**_TINY).fit(_sales(), target="sales", time="date", out=tmp_path / "runs").run_dir_
    _interrupt(run)
    _sales().to_csv(tmp_path / "sales.csv", index=False)
    code, _, err = run_cli(["forecast", "train", "--resume", run, "--data", tmp_path / "sales.csv"], capsys)
    assert code == 0, err


def test_a_run_started_on_a_file_resumed_with_a_frame_is_checked_against_its_table(tmp_path):
    """fit(frame, resume=True) on a run started from a file trained on the frame unchecked."""
    import pandas as pd

    import lstmkit
    data = tmp_path / "sales.csv"
    _sales().to_csv(data, index=False)
    run = lstmkit.Forecaster(**_TINY).fit(str(data), target="sales", time="date", out=tmp_path / "runs").run_dir_
    started = _interrupt(run)
    other = pd.read_csv(data).assign(sales=lambda df: df.sales + 1)
    with pytest.raises(LstmkitError, match=r"started on the file .*sales\.csv; this resume gives a DataFrame in memory "
                                           r"as data instead, which is not the table read from that file") as e:
        lstmkit.Forecaster.resume(run, data=other)
    assert e.value.hint.startswith("resume from that file (resume(RUN) given no data reads it again")
    _interrupt(run, drop_tables=True)                 # a run that recorded no table: nothing to compare with
    with pytest.raises(LstmkitError, match=r"which cannot be compared with that file \(the run recorded no table"):
        lstmkit.Forecaster.resume(run, data=pd.read_csv(data))
    (run / "lstmkit.json").write_text(json.dumps(started))
    assert lstmkit.Forecaster.resume(run, data=pd.read_csv(data)).result_.epochs_run == 1      # the same table


_SMALL = ["--hidden-size", "4", "--layers", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard",
          "--device", "cpu"]
# task: (its table, the file it trains on, the train argv besides --data, --out and _SMALL)
TABLE_TASKS = {
    "classify-text": (_reviews, "reviews.csv", ["classify", "train", "--text", "review", "--label", "sentiment",
                                                "--embed-dim", "4", "--min-freq", "1"]),
    "classify-jsonl": (_reviews, "reviews.jsonl", ["classify", "train", "--text", "review", "--label", "sentiment",
                                                   "--embed-dim", "4", "--min-freq", "1"]),
    "classify-series": (_long_series, "series.csv", ["classify", "train", "--series"]),
    "lm": (_lines, "lines.csv", ["lm", "train", "--text-column", "text", "--level", "word", "--embed-dim", "4"]),
    "translate": (_pairs, "pairs.csv", ["translate", "train", "--src", "en", "--tgt", "de", "--embed-dim", "4",
                                        "--min-freq", "1", "--beam", "1"]),
}


def _save(frame, path, again=False):
    """``frame`` written to ``path`` as its kind; ``again``: the same table in other bytes."""
    if path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=again)
        if again:
            path.write_text(path.read_text().replace("\n", "\r\n"))
    else:
        frame.to_csv(path, index=False, **({"lineterminator": "\r\n", "quoting": 1} if again else {}))


@pytest.mark.parametrize("task", list(TABLE_TASKS))
def test_classify_lm_and_translate_runs_record_their_table_and_resume_on_the_same_table_saved_again(task, tmp_path, capsys):
    """Their table files (translate's pair tables too) were compared by SHA-256 alone: a file saved
    again (CRLF, every cell quoted) was refused, and a changed one was told only that the SHA-256 differ."""
    make, name, argv = TABLE_TASKS[task]
    data = tmp_path / name
    _save(make(), data)
    code, _, err = run_cli([*argv, "--data", data, *_SMALL, "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    meta = _interrupt(run)
    assert meta["data"]["tables"]["source"]["rows"] == len(make())
    assert meta["data"]["tables"]["source"]["columns"] == list(make().columns)
    _save(make(), data, again=True)
    assert data_hashes(meta["data"]) != meta["data"][HASHES_KEY]
    code, _, err = run_cli([argv[0], "train", "--resume", run], capsys)
    assert code == 0, err
    after = json.loads((run / "lstmkit.json").read_text())["data"]
    assert after["tables"] == meta["data"]["tables"] and after[HASHES_KEY] == data_hashes(meta["data"])


def test_a_classify_run_started_in_memory_resumes_from_a_file_holding_the_same_table(tmp_path, capsys):
    """It was refused whatever the file held ('which cannot be compared with that data'): the
    classifier handed no table to the comparison."""
    from lstmkit import TextClassifier
    est = TextClassifier(embed_dim=4, hidden_size=4, num_layers=1, min_freq=1, max_epochs=1, progress="off",
                         tensorboard=False, device="cpu")
    run = est.fit(_reviews(), text="review", label="sentiment", out=tmp_path / "runs").run_dir_
    _interrupt(run)
    _reviews().assign(sentiment=lambda df: df.sentiment[::-1].to_numpy()).to_csv(tmp_path / "other.csv", index=False)
    code, _, err = run_cli(["classify", "train", "--resume", run, "--data", tmp_path / "other.csv"], capsys)
    assert_user_error(code, err, "whose table is not that data (their fingerprints differ)")
    _reviews().to_csv(tmp_path / "reviews.csv", index=False)
    code, _, err = run_cli(["classify", "train", "--resume", run, "--data", tmp_path / "reviews.csv"], capsys)
    assert code == 0, err


def test_translate_line_aligned_files_are_compared_line_by_line_on_resume(tmp_path, capsys):
    """--src-file/--tgt-file were compared by SHA-256 alone: lines appended to both were told only
    'their SHA-256 differ', lines appended to one 'has 65 lines but … has 60', and the files saved
    again with Windows line endings were refused. Each file's lines are recorded as a one-column
    table: lines appended are named, the same lines in other bytes resume."""
    def write(n, newline="\n"):
        for path, side in ((src, 0), (tgt, 1)):
            path.write_bytes("".join(p[side] + newline for p in make_pairs(n)).encode())
    src, tgt = tmp_path / "train.en", tmp_path / "train.de"
    write(40)
    argv = ["translate", "train", "--src-file", src, "--tgt-file", tgt, "--embed-dim", "4", "--min-freq", "1",
            "--beam", "1", *_SMALL, "--out", tmp_path / "runs"]
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    meta = _interrupt(run)
    assert {meta["data"]["tables"][r]["rows"] for r in ("source", "target", "files.src_file", "files.tgt_file")} == {40}
    write(45)
    code, _, err = run_cli(["translate", "train", "--resume", run], capsys)
    assert_user_error(code, err, "train.en has 5 more lines appended since", "(its first 40 lines are as they were)")
    src.write_bytes("".join(s + "\n" for s, _ in make_pairs(40)).encode())        # only the targets grew
    code, _, err = run_cli(["translate", "train", "--resume", run], capsys)
    assert_user_error(code, err, "train.de has 5 more lines appended since")
    write(40)
    lines = src.read_text().splitlines(keepends=True)     # a blank line inserted: the pairs after it shift
    src.write_text("".join([*lines[:10], "\n", *lines[10:-1]]))
    code, _, err = run_cli(["translate", "train", "--resume", run], capsys)
    assert_user_error(code, err, "train.en has other text in lines")
    write(40, "\r\n")                                # the same lines, saved with Windows line endings
    code, _, err = run_cli(["translate", "train", "--resume", run], capsys)
    assert code == 0, err
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished"


_QUICK = dict(hidden_size=4, num_layers=1, max_epochs=1, progress="off", tensorboard=False, device="cpu")


def _resume_refused(fit, match):
    with pytest.raises(LstmkitError, match=match) as e:
        fit()
    return e.value


def _old_run_refused_and_the_same_data_resumes(run, started, resume, old, rewrite):
    """A run from before the record (no data.tables) keeps its message ``old``; the run as it
    started resumes once ``rewrite()`` writes its file as it was, in other bytes."""
    _interrupt(run, drop_tables=True)
    _resume_refused(resume, old)
    (run / "lstmkit.json").write_text(json.dumps(started))
    rewrite()
    assert data_hashes(started["data"]) != started["data"][HASHES_KEY]
    assert resume().result_.epochs_run == 1


def _with_crlf(path, write):
    """``write()``, then the file's line ends made Windows': the same rows, other bytes."""
    write()
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def _no_table_kinds():
    """By kind of file that is no table: (its estimator and settings, its rows, their writer, the unit
    named, the changes made and what each is told)."""
    from lstmkit import SequenceClassifier, TextClassifier
    from table_data import labelled_series, labelled_texts, write_series, write_texts
    series = (SequenceClassifier, {}, labelled_series, write_series, "series", [
        (labelled_series(15), r"has 3 more series appended since .* started \(its first 12 series"),
        (labelled_series(flip=(3, 4, 5)), r"has other labels in rows 4-6 .*their values are as they were"),
        (labelled_series(bump=(9, 10, 11)), r"other values in the series in rows 10-12 .*their labels")])
    texts = (TextClassifier, {"embed_dim": 4, "min_freq": 1}, labelled_texts, write_texts, "text", [
        (labelled_texts(27), r"has 3 more texts appended since .* \(its first 24 texts"),
        (labelled_texts(flip=(3, 4, 5)), r"other labels in rows 3-6 .*their texts are as they were"),     # blocks of 2
        (labelled_texts(edit=(9, 10, 11)), r"other texts in rows 9-12 .*their labels are as they were")])
    return {"s.ts": series, "s.arff": series, "s.tsv": series, "ft.txt": texts, "agnews.csv": texts}


@pytest.mark.parametrize("name", ["s.ts", "s.arff", "s.tsv", "ft.txt", "agnews.csv"])
def test_a_series_or_text_file_that_is_no_table_is_told_what_changed_on_resume_in_python(name, tmp_path):
    """fit(FILE, run_dir=RUN, resume=True) on a changed UCR .tsv, .ts or .arff file (SequenceClassifier),
    a fastText file or a class-index CSV with its classes.txt (TextClassifier) said only that the
    SHA-256 differ, and refused the file saved again with Windows line endings."""
    estimator, settings, rows, write, unit, changes = _no_table_kinds()[name]
    data = tmp_path / name
    write(data, rows())
    run = estimator(**_QUICK, **settings).fit(str(data), out=tmp_path / "runs").run_dir_
    started = _interrupt(run)
    assert started["data"]["tables"]["source"]["unit"] == unit
    resume = lambda: estimator(**_QUICK, **settings).fit(str(data), run_dir=run, resume=True)    # noqa: E731
    for changed, match in changes:
        write(data, changed)
        e = _resume_refused(resume, rf"{name} {match}" if "appended" in match else match)
        assert e.hint.startswith("a resumed run must train on the data it started on")
    _old_run_refused_and_the_same_data_resumes(run, started, resume, rf"{name} is not the file it trained on "
                                               r"\(their SHA-256 differ\)",
                                               lambda: _with_crlf(data, lambda: write(data, rows())))


def test_a_translate_validation_table_whose_column_was_renamed_is_told_so_in_python(tmp_path):
    """It was 'source column 'en' not found in val.csv — name the columns of the validation table as
    the training table's: --src and --tgt apply to both', the fix a setting the resume cannot change."""
    from lstmkit import Translator
    _pairs().to_csv(tmp_path / "pairs.csv", index=False)
    val = tmp_path / "val.csv"
    _pairs(10, start=200).to_csv(val, index=False)
    params = dict(_QUICK, embed_dim=4, min_freq=1, beam=1, src="en", tgt="de")
    run = Translator(**params).fit(str(tmp_path / "pairs.csv"), val_data=str(val), out=tmp_path / "runs").run_dir_
    started = _interrupt(run)
    resume = lambda: Translator(**params).fit(str(tmp_path / "pairs.csv"), val_data=str(val), run_dir=run,  # noqa: E731
                                              resume=True)
    _pairs(10, start=200).rename(columns={"de": "german"}).to_csv(val, index=False)
    e = _resume_refused(resume, r"val\.csv has a column renamed since .* started: 'german' was 'de' \(its values")
    assert e.hint.startswith("a resumed run must train on the data it started on: rename them back")
    # a run from before the record: the reader's own error; the same table saved again (quoted, CRLF) resumes
    _old_run_refused_and_the_same_data_resumes(
        run, started, resume, r"target column 'de' not found in .*val\.csv",
        lambda: _pairs(10, start=200).to_csv(val, index=False, lineterminator="\r\n", quoting=1))


@pytest.mark.parametrize("name", ["ft.txt", "agnews.csv"])
def test_a_language_models_fasttext_or_class_index_corpus_is_told_what_changed_on_resume_in_python(name, tmp_path):
    """LanguageModel.fit(FILE, run_dir=RUN, resume=True) on a changed fastText file or class-index CSV
    (their texts alone trained on) said only that the SHA-256 differ. Now it names texts appended,
    texts gone, other texts; the file saved again with its labels changed and Windows line endings
    (the same texts: what the model reads) resumes."""
    from lstmkit import LanguageModel
    from table_data import labelled_texts, write_texts
    data = tmp_path / name
    write_texts(data, labelled_texts())
    params = dict(_QUICK, embed_dim=4, level="word")
    run = LanguageModel(**params).fit(str(data), out=tmp_path / "runs").run_dir_
    started = _interrupt(run)
    assert started["data"]["tables"]["source"]["unit"] == "text"
    assert started["data"]["tables"]["source"]["columns"] == ["text"]       # no labels: lm ignores them
    resume = lambda: LanguageModel(**params).fit(str(data), run_dir=run, resume=True)    # noqa: E731
    for changed, match in ((labelled_texts(27), r"has 3 more texts appended since .* \(its first 24 texts"),
                           (labelled_texts(20), r"has 4 fewer texts than when .* \(24 then, 20 now"),
                           (labelled_texts(edit=(9, 10, 11)), r"has other texts in rows 9-12 \(the first rows that "
                                                              r"differ\) since")):
        write_texts(data, changed)
        e = _resume_refused(resume, rf"{name} {match}")
        assert e.hint.startswith("a resumed run must train on the data it started on")
    _old_run_refused_and_the_same_data_resumes(
        run, started, resume, rf"{name} is not the file it trained on \(their SHA-256 differ\)",
        lambda: _with_crlf(data, lambda: write_texts(data, labelled_texts(flip=(3, 4, 5)))))


@pytest.mark.parametrize("name", ["corpus.txt", "corpus.txt.gz"])
def test_a_language_models_plain_text_is_told_what_changed_on_resume_in_python(name, tmp_path):
    """LanguageModel.fit(FILE, run_dir=RUN, resume=True) on a changed plain text (gzipped too) said
    only that the SHA-256 differ. Now it names lines appended, lines gone, other text at lines X-Y;
    the text saved again with Windows line ends, blank lines and spaces at the line ends (the same
    text trains) resumes, and so do the same lines given in memory."""
    import gzip
    from lstmkit import LanguageModel
    data = tmp_path / name
    text = [f"the cat sat on mat {i % 5} line {i}" for i in range(48)]        # blocks of 3 lines

    def write(lines, end="\n"):
        raw = "".join(line + end for line in lines).encode()
        data.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    write(text)
    params = dict(_QUICK, embed_dim=4, level="word")
    run = LanguageModel(**params).fit(str(data), out=tmp_path / "runs").run_dir_
    started = _interrupt(run)
    record = started["data"]["tables"]["source"]
    assert record["unit"] == "line" and record["rows"] == 48 and len(json.dumps(record)) < 600
    resume = lambda: LanguageModel(**params).fit(str(data), run_dir=run, resume=True)    # noqa: E731
    for changed, match in (([*text, "one more", "and one more"], r"has 2 more lines appended since .* \(its first 48 "
                                                                 r"lines are as they were\)"),
                           (text[:44], r"has 4 fewer lines than when .* \(48 then, 44 now; its first 42 lines"),
                           ([*text[:9], "edited", *text[10:]], r"has other text in lines 10-12 \(the first lines that "
                                                               r"differ\) since")):
        write(changed)
        e = _resume_refused(resume, rf"{name} {match}")
        assert e.hint.startswith("a resumed run must train on the data it started on")
    with pytest.raises(LstmkitError, match=r"this resume gives a list in memory as data instead, which are not the "
                                           r"lines read from that file"):
        LanguageModel(**params).fit(text[:40], run_dir=run, resume=True)
    import pandas as pd
    with pytest.raises(LstmkitError, match=r"gives a DataFrame in memory as data instead, which cannot be compared "
                                           r"with that file \(it holds lines of text, not a table\)"):
        LanguageModel(**params).fit(pd.DataFrame({"text": text}), run_dir=run, resume=True)
    _old_run_refused_and_the_same_data_resumes(
        run, started, resume, rf"{name} is not the file it trained on \(their SHA-256 differ\)",
        lambda: write(["", *text[:20], "  ", *[line + " " for line in text[20:]], ""], "\r\n"))
    _interrupt(run)
    assert LanguageModel(**params).fit(["\n".join(text)], run_dir=run, resume=True).result_.epochs_run == 1


def test_a_class_index_csvs_classes_txt_changed_since_the_run_started_is_refused_in_python(tmp_path):
    """classes.txt renamed beside a class-index CSV was not noticed on resume (the CSV's SHA-256 is
    the same): the resumed run trained on the classes renamed. Now it is refused, naming them; a run
    from before the record resumes as it did; classes.txt saved again with Windows line ends resumes."""
    from lstmkit import TextClassifier
    from table_data import labelled_texts, write_texts
    data, names = tmp_path / "agnews.csv", tmp_path / "classes.txt"
    write_texts(data, labelled_texts())
    params = dict(_QUICK, embed_dim=4, min_freq=1)
    run = TextClassifier(**params).fit(str(data), out=tmp_path / "runs").run_dir_
    started = _interrupt(run)
    assert started["data"]["classes_txt"]["source"]["names"] == ["neg", "pos"]
    resume = lambda: TextClassifier(**params).fit(str(data), run_dir=run, resume=True)    # noqa: E731
    names.write_text("neg\npositive\n")
    e = _resume_refused(resume, r"classes\.txt names class 2 'positive' where .* started with 'pos' —")
    assert e.hint.endswith("restore " + str(names) + " as it was (['neg', 'pos'], one a line), or start a new run "
                           "without resume=True")          # a Python caller: the keyword, not --resume
    names.write_text("neg\n")
    _resume_refused(resume, r"classes\.txt names 1 class where .* started with 2: no class 2 'pos' any more")
    names.unlink()
    _resume_refused(resume, r"classes\.txt is gone since .* started: it named the classes \['neg', 'pos'\]")
    names.write_bytes(b"\xef\xbb\xbfneg\r\npos\r\n\r\n")           # the same names in other bytes: resumes
    assert resume().result_.epochs_run == 1
    # a run from before the record resumes with its classes renamed, as every run did
    started["data"].pop("classes_txt")
    (run / "lstmkit.json").write_text(json.dumps(started))
    names.write_text("neg\npositive\n")
    assert resume().class_names_ == ["neg", "positive"]


def test_the_class_names_compared_tell_each_change(tmp_path):
    """No classes.txt when the run started, one now (the indices were the labels); over a thousand
    names: compared by their SHA-256; names added after the last."""
    from lstmkit.data.same_data import CLASSES_KEY, check_same_classes, classes_records
    from table_data import labelled_texts, write_texts
    data, names = tmp_path / "agnews.csv", tmp_path / "classes.txt"
    write_texts(data, labelled_texts(4))
    names.unlink()
    recorded = classes_records({"source": str(data), "val_source": None, "test_source": str(tmp_path / "none.csv")})
    assert recorded == {CLASSES_KEY: {"source": {"file": str(names), "names": None}}}
    check_same_classes(recorded, {"source": str(data)}, tmp_path / "run")
    names.write_text("neg\npos\n")
    with pytest.raises(LstmkitError, match=r"classes\.txt names the classes \['neg', 'pos'\] since .* started without "
                                           r"it \(on the class indices as labels\)") as e:
        check_same_classes(recorded, {"source": str(data)}, tmp_path / "run")
    assert e.value.hint.startswith("a resumed run must train on the classes it started with: move")
    names.write_bytes(b"\xff\n")                  # started without it; one there now that cannot be read
    with pytest.raises(LstmkitError, match=r"classes\.txt is there since .* started without it \(on the class indices "
                                           r"as labels\), and it cannot be read: line 1 is not valid utf-8") as e:
        check_same_classes(recorded, {"source": str(data)}, tmp_path / "run")
    assert e.value.hint.startswith("a resumed run must train on the classes it started with: move")
    names.write_text("neg\npos\n")
    recorded = classes_records({"source": str(data)})
    # empty or unreadable since the run started: was the read's 'classes.txt is empty' or '… pass --encoding …'
    empty = r"is empty since .* started: it named"
    for raw, problem in ((b"", empty), (b"\n \n", empty),
                         (b"neg\n\xffpos\n", r"cannot be read since .* started: line 2 is not valid utf-8 "
                                           r"\(byte 0xff\); it named")):
        names.write_bytes(raw)
        with pytest.raises(LstmkitError, match=rf"classes\.txt {problem} the classes \['neg', 'pos'\] —") as e:
            check_same_classes(recorded, {"source": str(data)}, tmp_path / "run")
        assert e.value.hint.startswith(f"a resumed run must train on the classes it started with: restore {names} as "
                                       "it was (['neg', 'pos'], one a line)")
    assert classes_records({"source": str(data)}) == {}            # unreadable: nothing recorded (the read fails)
    names.write_text("neg\npos\nmixed\nother\n")
    with pytest.raises(LstmkitError, match=r"names 4 classes where .* started with 2: classes 3-4 \['mixed', 'other'\] "
                                           r"added after its 2 —"):
        check_same_classes(recorded, {"source": str(data)}, tmp_path / "run")
    names.write_text("".join(f"c{k}\n" for k in range(1200)))
    many = classes_records({"source": str(data)})
    assert "names" not in many[CLASSES_KEY]["source"] and len(json.dumps(many)) < 300
    check_same_classes(many, {"source": str(data)}, tmp_path / "run")
    names.write_text("".join(f"c{k}\n" for k in range(1201)))
    with pytest.raises(LstmkitError, match=r"names other classes than when .* started \(their SHA-256 differ\)"):
        check_same_classes(many, {"source": str(data)}, tmp_path / "run")
    assert classes_records({"source": str(tmp_path / "none.csv"), "val_source": [("pos", "x")]}) == {}


def test_only_the_roles_that_name_data_files_are_hashed(tmp_path):
    """``source``, ``*_source``, ``target`` (translate's target file) and ``files.*`` name data; any
    other text in the summary (a column name, a run folder that happens to be a file) is no data."""
    for name in ("src.txt", "tgt.txt", "notes.txt"):
        (tmp_path / name).write_text(name)
    summary = {"source": str(tmp_path / "src.txt"), "target": str(tmp_path / "tgt.txt"),
               "readme": str(tmp_path / "notes.txt"), "format": "long"}
    hashes = data_hashes(summary)
    assert set(hashes) == {"source", "target"} and hashes["source"] != hashes["target"]


def test_what_a_summary_records_of_data_given_as_a_path_a_pipe_or_in_memory(tmp_path, monkeypatch):
    """A file is recorded by its absolute path; standard input (``-``) and a named pipe by nothing
    there (no later command can read them again) and by their name under ``piped``; data in memory
    by nothing at all; a folder's role is listed under ``text_folders``."""
    import os
    import pandas as pd
    from lstmkit.data.same_data import PIPED_KEY, TEXT_FOLDERS_KEY, piped, source_path, text_folders
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("x\n1\n")
    (tmp_path / "texts").mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    frame = pd.DataFrame({"x": [1]})
    assert source_path("d.csv") == str(tmp_path / "d.csv")
    assert source_path(tmp_path / "d.csv") == str(tmp_path / "d.csv")
    assert source_path(frame) is None and source_path(None) is None
    assert source_path("-") is None and source_path(str(fifo)) is None
    assert piped(source="d.csv", val_source=None, test_source=frame) == {}
    assert piped(source="-", val_source=str(fifo), test_source="d.csv") == {
        PIPED_KEY: {"source": "standard input", "val_source": str(fifo)}}
    assert text_folders(source="texts", val_source=None, test_source="d.csv", extra=frame) == {
        TEXT_FOLDERS_KEY: ["source"]}


def test_a_resume_that_swaps_data_in_memory_for_a_file_or_back_resumes_only_on_the_same_table(tmp_path):
    """check_same_kind by hand: a run started on a frame, resumed on a file whose table is that frame,
    resumes, and on another table is refused; started on a file, resumed on a frame: the same, compared
    with the table the run recorded of its file; lines read from a file are no table a frame could be."""
    import pandas as pd
    from lstmkit.data.fingerprint import fingerprint
    from lstmkit.data.same_data import LAYOUT_KEY, MEMORY_KEY, TABLES_KEY, check_same_kind
    from lstmkit.data.table_changes import lines_table, table_records
    frame = pd.DataFrame({"t": [1, 2, 3], "y": [1.0, 2.0, 3.0]})
    other = frame.assign(y=[1.0, 2.0, 4.0])
    path, run = str(tmp_path / "d.csv"), tmp_path / "run"
    summary = {"source": path}
    # memory then, a file now
    was = {MEMORY_KEY: {"data": fingerprint(frame)}, LAYOUT_KEY: {"data": {"columns": ["t", "y"]}}}
    check_same_kind(was, {"source": "f" * 64}, {}, {"data": path}, {"source": frame.copy()}, summary, run)
    with pytest.raises(LstmkitError, match=r"started on a DataFrame given in memory as data \(to fit\(\) in Python\); "
                                           r"this resume reads the file .*d\.csv instead, whose table is not that data"):
        check_same_kind(was, {"source": "f" * 64}, {}, {"data": path}, {"source": other}, summary, run)
    with pytest.raises(LstmkitError, match=r"started on data given in memory as data .* which cannot be compared"):
        check_same_kind({MEMORY_KEY: was[MEMORY_KEY]}, {"source": "f" * 64}, {}, {"data": path}, {}, summary, run)
    lines = lines_table(["a b", "c d"])
    with pytest.raises(LstmkitError, match=r"instead, which cannot be compared with that data"):
        check_same_kind(was, {"source": "f" * 64}, {}, {"data": path}, {"source": lines}, summary, run)
    # a file then, memory now: the same table given resumes (by its fingerprint, or compared as a table)
    started = {HASHES_KEY: {"source": "f" * 64}, TABLES_KEY: table_records({"source": frame}), **summary}
    check_same_kind(started, {}, {"data": fingerprint(frame)}, {"data": frame}, {}, {}, run)
    check_same_kind(started, {}, {"data": "0" * 16}, {"data": frame}, {"source": frame.copy()}, {}, run)
    with pytest.raises(LstmkitError, match=r"started on the file .*d\.csv; this resume gives a DataFrame in memory as "
                                           r"data instead, which is not the table read from that file"):
        check_same_kind(started, {}, {"data": fingerprint(other)}, {"data": other}, {"source": other}, {}, run)
    with pytest.raises(LstmkitError, match=r"which cannot be compared with that file \(the run recorded no table"):
        check_same_kind({HASHES_KEY: started[HASHES_KEY], **summary}, {}, {"data": fingerprint(frame)},
                        {"data": frame}, {}, {}, run)
    # a file then and a file now, or memory then and memory now: not this check's to compare
    check_same_kind(started, {"source": "e" * 64}, {}, {"data": path}, {"source": other}, summary, run)
    check_same_kind(was, {}, {"data": fingerprint(other)}, {"data": other}, {}, {}, run)


def test_the_fit_argument_that_gives_each_file_roles_data_in_memory():
    """``source`` is given in memory as ``data``; ``val_source`` as ``val_data`` or ``val``; a role
    that names no ``*_source`` (a translate file) has none, nor a role whose argument is not given."""
    from lstmkit.data.same_data import _argument_of
    assert _argument_of("source", ["val_data", "data"]) == "data"
    assert _argument_of("val_source", ["data", "val_data"]) == "val_data"
    assert _argument_of("val_source", ["data", "val"]) == "val"
    assert _argument_of("test_source", ["data", "val_data"]) is None
    assert _argument_of("files.src_file", ["data"]) is None and _argument_of("target", ["data"]) is None
    assert _argument_of("val_source", ["validation"]) is None          # not 'val' nor 'val_…'


def test_a_frames_layout_is_recorded_up_to_a_thousand_columns():
    """memory_layouts records the columns and dtypes of frames given in memory, of at most 1,000
    columns (lstmkit.json stays small); paths, arrays and wider frames are left out."""
    import numpy as np
    import pandas as pd
    from lstmkit.data.same_data import memory_layouts
    small = pd.DataFrame({"t": [1], "y": [0.5]})
    wide = pd.DataFrame(np.zeros((1, 1000)))
    assert memory_layouts({"data": small, "val_data": None, "test_data": "t.csv", "x": np.zeros(3)}) == {
        "data": {"columns": ["t", "y"], "dtypes": ["int64", "float64"]}}
    assert memory_layouts({"data": wide})["data"]["columns"] == [str(k) for k in range(1000)]
    assert memory_layouts({"data": pd.DataFrame(np.zeros((1, 1001)))}) == {}


def test_a_resume_in_memory_needs_the_same_frames_and_its_validation_frame_again():
    """check_same_memory by hand: the same frames resume; another frame is refused; validation data
    given at the start and left out now is refused (the holdout would be split from the data
    instead), test data may be left out, and an argument this fit does not take is not asked for."""
    from pathlib import Path
    import pandas as pd
    from lstmkit.data.same_data import LAYOUT_KEY, MEMORY_KEY, check_same_memory, memory_hashes, memory_layouts
    data, val, test = (pd.DataFrame({"y": [float(k), k + 1.0, k + 2.0]}) for k in (0, 10, 20))
    started = {"data": data, "val_data": val, "test_data": test}
    recorded, run = {MEMORY_KEY: memory_hashes(started)}, Path("run")
    check_same_memory(recorded, started, memory_hashes(started), run)
    left = {"data": data.copy(), "val_data": val.copy(), "test_data": None}
    check_same_memory(recorded, left, memory_hashes(left), run)
    check_same_memory(recorded, {"data": data}, memory_hashes({"data": data}), run)
    with pytest.raises(LstmkitError, match=r"started with val_data given in memory; this resume gives none"):
        check_same_memory(recorded, {**left, "val_data": None}, memory_hashes({**left, "val_data": None}), run)
    recorded[LAYOUT_KEY] = memory_layouts(started)
    for changed in (data + 1, data.rename(columns={"y": "z"}), data.assign(z=1.0)):     # other values, names, columns
        other = {**left, "data": changed}
        with pytest.raises(LstmkitError, match=r"the DataFrame given as data is not the one it trained on"):
            check_same_memory(recorded, other, memory_hashes(other), run)


def test_columns_retyped_are_the_same_values_only_when_every_changed_column_keeps_its_values():
    """Two integer columns given back as floats: 1.0, 2.0 and 6.0, 7.0 are the run's values in
    another type (told so); 1.0, 2.0 and 6.5, 7.0 are not (6.5 is no integer the run trained on),
    though casting them back to int would give the run's data."""
    from pathlib import Path
    import pandas as pd
    from lstmkit.data.same_data import LAYOUT_KEY, MEMORY_KEY, check_same_memory, memory_hashes, memory_layouts
    started = {"data": pd.DataFrame({"a": [1, 2], "b": [6, 7]})}
    recorded = {MEMORY_KEY: memory_hashes(started), LAYOUT_KEY: memory_layouts(started)}
    same = {"data": pd.DataFrame({"a": [1.0, 2.0], "b": [6.0, 7.0]})}
    with pytest.raises(LstmkitError, match=r"holds the same values with columns of another type: 'a' is float64, "
                                           r"was int64, 'b' is float64, was int64"):
        check_same_memory(recorded, same, memory_hashes(same), Path("run"))
    other = {"data": pd.DataFrame({"a": [1.0, 2.0], "b": [6.5, 7.0]})}
    with pytest.raises(LstmkitError, match=r"the DataFrame given as data is not the one it trained on"):
        check_same_memory(recorded, other, memory_hashes(other), Path("run"))


def test_a_thousand_class_names_are_recorded_by_name_and_more_by_their_digest(tmp_path):
    from lstmkit.data.same_data import CLASSES_KEY, classes_records
    from table_data import labelled_texts, write_texts
    data, names = tmp_path / "agnews.csv", tmp_path / "classes.txt"
    write_texts(data, labelled_texts(4))
    names.write_text("".join(f"c{k}\n" for k in range(1000)))
    assert classes_records({"source": str(data)})[CLASSES_KEY]["source"]["names"] == [f"c{k}" for k in range(1000)]
    names.write_text("".join(f"c{k}\n" for k in range(1001)))
    assert set(classes_records({"source": str(data)})[CLASSES_KEY]["source"]) == {"file", "sha256"}
