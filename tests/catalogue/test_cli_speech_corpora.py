"""Bad-input catalogue, `lstmkit speech train` on LibriSpeech, MLS and LJSpeech folders as downloaded
and then damaged: one line naming the file and line, exit 2, nothing left behind."""
import pytest

from catalogue_helpers import check, with_data
from speech_data import write_librispeech, write_ljspeech

TRAIN = ["speech", "train", "--data", "{d}/x", "--hidden-size", "4", "--layers", "1", "--epochs", "1",
         "--progress", "off", "--no-tensorboard", "--no-doctor", "--device", "cpu", "--out", "{out}"]
CHAPTER = "dev-clean/19/1900"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("speech_corpora")
    for name in ("no_audio", "no_text", "twice", "no_lines", "test_only", "ok"):
        write_librispeech(d / name, subsets=("test-clean",) if name == "test_only" else ("dev-clean",),
                          speakers=(19,), texts=["AB", "BA"])
    (d / "no_audio" / CHAPTER / "19-1900-0001.flac").unlink()
    (d / "no_text" / CHAPTER / "19-1900.trans.txt").write_text("19-1900-0000 AB\n19-1900-0001\n")
    (d / "twice" / CHAPTER / "19-1900.trans.txt").write_text("19-1900-0000 AB\n19-1900-0000 BA\n")
    (d / "no_lines" / CHAPTER / "19-1900.trans.txt").write_text("\n")
    lj = {"lj_fields": ["LJ001-0001|ab", "LJ001-0002 ab"], "lj_many": ["LJ001-0001|a|b|c"],
          "lj_twice": ["LJ001-0001|ab", "LJ001-0001|ba"], "lj_no_text": ["LJ001-0001||"],
          "lj_no_audio": ["LJ001-0001|ab", "LJ001-0002|ba"], "lj_empty": ["LJ001-0001|ab"]}
    for name, rows in lj.items():
        write_ljspeech(d / name, rows)
    (d / "lj_no_audio" / "wavs" / "LJ001-0002.wav").unlink()
    (d / "lj_empty" / "metadata.csv").write_text("")
    (d / "empty" / "LibriSpeech" / "dev-clean").mkdir(parents=True)
    for name, lines in {"mls_no_audio": "10_20_000000\tab\n10_20_000001\tba\n", "mls_no_text": "10_20_000000\n"}.items():
        (d / name / "train" / "audio" / "10" / "20").mkdir(parents=True)       # MLS: audio/<speaker>/<book>/
        (d / name / "train" / "transcripts.txt").write_text(lines)
    (d / "mls_no_audio" / "train" / "audio" / "10" / "20" / "10_20_000000.flac").write_bytes(
        (d / "ok" / CHAPTER / "19-1900-0000.flac").read_bytes())
    return d


CASES = [
    (with_data(TRAIN, "no_audio"), "1900.trans.txt line 2: utterance audio file 19-1900-0001.flac not found"),
    (with_data(TRAIN, "no_text"), "1900.trans.txt line 2 has no transcript after its utterance id '19-1900-0001'"),
    (with_data(TRAIN, "twice"), "utterance 19-1900-0000 is given twice"),
    (with_data(TRAIN, "no_lines"), ".trans.txt files hold no transcript lines"),
    (with_data(TRAIN, "test_only"), "held out for validation or testing"),
    (with_data(TRAIN, "ok/dev-clean", "--val", "{d}/test_only"), "given to validate on, is held out for testing"),
    (with_data(TRAIN, "ok", "--label-from-name", "{{label}}_{{take}}"), "is a LibriSpeech folder"),
    (with_data(TRAIN, "ok/dev-clean", "--val", "{d}/ok/" + CHAPTER),
     "2 of the 2 validation utterances are in the training data too"),
    (with_data(TRAIN, "lj_fields"), "metadata.csv line 2 has no '|'"),
    (with_data(TRAIN, "lj_many"), "metadata.csv line 1 has 4 '|'-separated fields"),
    (with_data(TRAIN, "lj_twice"), "utterance LJ001-0001 is given twice"),
    (with_data(TRAIN, "lj_no_text"), "metadata.csv line 1 has no transcript"),
    (with_data(TRAIN, "lj_no_audio"), "metadata.csv line 2: utterance audio file wavs/LJ001-0002.wav not found"),
    (with_data(TRAIN, "lj_empty"), "metadata.csv is empty"),
    (with_data(TRAIN, "lj_no_audio/metadata.csv"), "utterance audio file wavs/LJ001-0002.wav not found"),
    (with_data(TRAIN, "empty/LibriSpeech"), "no audio files"),
    (with_data(TRAIN, "mls_no_audio"), "transcripts.txt line 2: utterance audio file audio/10/20/10_20_000001.flac"),
    (with_data(TRAIN, "mls_no_text"), "transcripts.txt line 1 has no transcript after its utterance id '10_20_000000'"),
]


@pytest.mark.parametrize("argv, needle", CASES, ids=[f"{k}:{c[1]}" for k, c in enumerate(CASES)])
def test_speech_corpus_bad_input(argv, needle, d, tmp_path, capsys):
    check(argv, 2, needle, tmp_path, capsys, d)
