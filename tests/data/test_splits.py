"""Folders of a data set's parts: which names name a part, and which folders are no split."""
import pytest

from lstmkit.data.splits import check_not_saved_dataset, parts_error, split_parts, split_parts_fix
from lstmkit.errors import LstmkitError, caller_wording


def _folder(tmp_path, *names):
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    return tmp_path


def test_part_words_are_words_of_their_own(tmp_path):
    d = _folder(tmp_path, "ptb.train.txt", "ptb.valid.txt", "newstest2014.en", "trainer_notes.txt", ".hidden/test.txt")
    assert split_parts(d, lambda f: True) == {"train": [d / "ptb.train.txt"], "val": [d / "ptb.valid.txt"]}


def test_a_folder_without_a_training_part_or_with_one_part_is_no_split(tmp_path):
    assert split_parts(_folder(tmp_path / "a", "test.txt", "valid.txt"), lambda f: True) == {}
    assert split_parts(_folder(tmp_path / "b", "train.txt", "train_more.txt", "notes.txt"), lambda f: True) == {}


def test_a_sub_folder_named_by_its_part_is_passed_whole(tmp_path):
    d = _folder(tmp_path, "corpus/train/a.txt", "corpus/train/b.txt", "corpus/dev/c.txt")
    parts = split_parts(d / "corpus", lambda f: True)
    assert parts == {"train": [d / "corpus" / "train"], "val": [d / "corpus" / "dev"]}
    assert split_parts_fix(parts) == f"pass --data {d / 'corpus' / 'train'} --val {d / 'corpus' / 'dev'}"


def test_shards_are_to_be_joined(tmp_path):
    d = _folder(tmp_path, "data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
                "data/test-00000-of-00001.parquet")
    fix = split_parts_fix(split_parts(d, lambda f: True))
    assert fix.startswith("join each part's files into one (train: train-00000-of-00002.parquet, "
                          "train-00001-of-00002.parquet; test: test-00000-of-00001.parquet)")


def test_a_hugging_face_save_to_disk_folder_is_named_with_the_export_to_do(tmp_path):
    """A DatasetDict or one Dataset as save_to_disk writes them (.arrow files, state.json): the
    commands read the top folder as a data set in parts and told to pass train/, which held 'no class
    sub-folders'; now one error names the to_json export and the files to pass after it."""
    saved = tmp_path / "imdb"
    for part in ("train", "test", "unsupervised"):
        (saved / part).mkdir(parents=True)
        (saved / part / "data-00000-of-00001.arrow").write_bytes(bytes(64))
        (saved / part / "state.json").write_text("{}")
    check_not_saved_dataset(saved)                                    # no dataset_dict.json yet: not one
    (saved / "dataset_dict.json").write_text('{"splits": ["train", "test", "unsupervised"]}')
    with pytest.raises(LstmkitError, match=r"imdb is a Hugging Face data set saved with save_to_disk \(a DatasetDict "
                                           r"of train, test, unsupervised\)") as e:
        check_not_saved_dataset(saved)
    assert "ds['unsupervised'].to_json('unsupervised.jsonl')" in e.value.hint
    assert e.value.hint.endswith("then pass --data train.jsonl --test test.jsonl")
    (saved / "dataset_dict.json").write_text("not json")               # its list unreadable: the split folders
    with pytest.raises(LstmkitError, match=r"a DatasetDict of test, train, unsupervised"):
        check_not_saved_dataset(saved)
    with pytest.raises(LstmkitError, match=r"train is a Hugging Face data set .*\(one Dataset\)") as e:
        check_not_saved_dataset(saved / "train")
    assert "ds.to_json('train.jsonl')" in e.value.hint and e.value.hint.endswith("then pass --data train.jsonl")


def test_only_the_files_wanted_make_the_parts(tmp_path):
    d = _folder(tmp_path, "train.csv", "test.csv", "README.train.md", "valid.md")
    assert split_parts(d, lambda f: f.suffix == ".csv") == {"train": [d / "train.csv"], "test": [d / "test.csv"]}


def test_a_python_caller_is_told_fits_keywords_and_the_part_scored_after(tmp_path):
    d = _folder(tmp_path, "ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")
    parts = split_parts(d, lambda f: True)
    train, val, test = (str(d / f"ptb.{p}.txt") for p in ("train", "valid", "test"))
    with caller_wording(python=True):
        assert split_parts_fix(parts, test=None, score="lm evaluate --run RUN --data") == (
            f"fit on {train!r} with val_data={val!r} (and score the test part with evaluate({test!r}))")
        assert split_parts_fix({"train": parts["train"]}) == f"fit on {train!r}"
    assert split_parts_fix(parts, val=None, test=None, score="lm evaluate --run RUN --data") == (
        f"pass --data {train} (and score the validation part with lm evaluate --run RUN --data {val} "
        f"and the test part with lm evaluate --run RUN --data {test})")


def test_a_classifiers_parts_error_names_the_one_test_file_to_evaluate_on(tmp_path):
    d = _folder(tmp_path, "train.csv", "test.csv")
    e = parts_error(d, split_parts(d, lambda f: True), "a table")
    assert str(e).startswith(f"{d} is a folder of a data set in parts (train.csv, test.csv), not a table")
    assert e.hint == f"pass --data {d / 'train.csv'} --test {d / 'test.csv'} (to evaluate a run: --data {d / 'test.csv'})"
    d2 = _folder(tmp_path / "b", "train.csv", "valid.csv")
    assert parts_error(d2, split_parts(d2, lambda f: True), "a table").hint == (
        f"pass --data {d2 / 'train.csv'} --val {d2 / 'valid.csv'}")


def test_a_saved_split_is_placed_by_its_part_and_a_lone_one_is_trained_on(tmp_path):
    saved = tmp_path / "squad"
    saved.mkdir()
    (saved / "dataset_dict.json").write_text('{"splits": ["train", "validation"]}')
    with pytest.raises(LstmkitError) as e:
        check_not_saved_dataset(saved)
    assert e.value.hint.endswith("then pass --data train.jsonl --val validation.jsonl")
    one = tmp_path / "reviews"
    one.mkdir()
    (one / "state.json").write_text("{}")
    check_not_saved_dataset(one)                                     # no .arrow file beside it: not one
    (one / "data-00000-of-00001.arrow").write_bytes(bytes(64))
    with pytest.raises(LstmkitError, match=r"reviews is a Hugging Face data set .*\(one Dataset\)") as e:
        check_not_saved_dataset(one)
    assert e.value.hint.endswith("then pass --data reviews.jsonl")
