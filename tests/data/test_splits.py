"""Folders of a data set's parts: which names name a part, and which folders are no split."""
from lstmkit.data.splits import split_parts, split_parts_fix


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
