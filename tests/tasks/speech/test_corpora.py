"""Speech corpora as downloaded: LibriSpeech's chapter folders with their .trans.txt files, LJSpeech's
metadata.csv beside wavs/; read at every level a user points at, each broken line one error."""
import json
import warnings

import numpy as np
import pytest
import soundfile as sf

from cli_helpers import assert_user_error, run_cli
from lstmkit import SpeechRecognizer
from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.data import audio_paths, check_no_shared_utterances, read_utterances
from speech_data import LIBRI_TEXTS, RATE, say, write_ljspeech, write_librispeech


def _read(data, *args):
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        utts = read_utterances(data, *args)
    return utts, [str(w.message) for w in said]


def test_librispeech_reads_from_its_top_a_subset_or_a_chapter_folder(tmp_path):
    top = write_librispeech(tmp_path / "LibriSpeech")
    (top / "SPEAKERS.TXT").write_text(";ID  |SEX| SUBSET | MINUTES | NAME\n")
    subset, _ = _read(top / "dev-clean")
    assert [p.split("/")[-1] for p in subset.paths[:2]] == ["19-1900-0000.flac", "19-1900-0001.flac"]
    assert subset.texts == list(LIBRI_TEXTS) * 2 and subset.fields[5] == {"utterance": "84-8400-0001"}
    assert subset.parts == []
    whole, said = _read(top)           # dev-clean alone: data to train on (validation drawn from it)
    assert whole.paths == subset.paths and whole.parts == [] and said == []
    chapter, _ = _read(top / "dev-clean" / "84" / "8400")
    assert chapter.texts == list(LIBRI_TEXTS) and chapter.paths == subset.paths[4:]
    trans, _ = _read(top / "dev-clean" / "84" / "8400" / "84-8400.trans.txt")
    assert trans.paths == chapter.paths


def test_librispeech_subsets_give_the_split_and_test_ones_are_never_trained_on(tmp_path):
    top = write_librispeech(tmp_path / "LibriSpeech", subsets=("dev-clean", "test-clean", "train-clean-5"))
    utts, said = _read(top)
    assert utts.parts == ["val"] * 8 + ["test"] * 8 + ["train"] * 8
    assert said == [f"{top}: its subsets give the split, not a random draw: train-clean-5 (8) to train on, "
                    "dev-clean (8) to validate, test-clean (8) to test (kept out of training; 'speech evaluate' "
                    "on this folder scores them)"]
    train, val = utts.split(0.5, seed=0)
    assert {p.split("/")[-4] for p in train.paths} == {"train-clean-5"}
    assert {p.split("/")[-4] for p in val.paths} == {"dev-clean"}
    assert {p.split("/")[-4] for p in utts.test_part().paths} == {"test-clean"}
    _, said = _read(write_librispeech(tmp_path / "no_test", subsets=("dev-clean", "train-clean-5")))
    assert said[0].endswith("train-clean-5 (8) to train on, dev-clean (8) to validate, no test-* subset: to score "
                            "recordings never trained on, evaluate a dev-* subset's folder")
    only_test = write_librispeech(tmp_path / "tests_only", subsets=("test-clean",))
    with pytest.raises(LstmkitError, match="held out for validation or testing .*: none is left to train on"):
        _read(only_test)[0].split(0.5, seed=0)


def test_librispeech_breakage_is_one_error_naming_the_line(tmp_path):
    top = write_librispeech(tmp_path / "LibriSpeech")
    chapter = top / "dev-clean" / "84" / "8400"
    (chapter / "84-8400-0002.flac").unlink()
    with pytest.raises(LstmkitError, match=r"84-8400.trans.txt line 3: utterance audio file 84-8400-0002.flac "
                                           r"not found.*extract the subset's archive again"):
        read_utterances(top)
    sf.write(chapter / "84-8400-0002.flac", say("dc a", np.random.default_rng(0)), RATE, format="FLAC")
    trans = chapter / "84-8400.trans.txt"
    trans.write_text(trans.read_text().replace("84-8400-0001 BA", "84-8400-0001"))
    with pytest.raises(LstmkitError, match="line 2 has no transcript after its utterance id '84-8400-0001'"):
        read_utterances(top)
    trans.write_text(trans.read_text().replace("84-8400-0001\n", "84-8400-0000 BA\n"))
    with pytest.raises(LstmkitError, match=r"utterance 84-8400-0000 is given twice \(.*line 1, and .*line 2\)"):
        read_utterances(top)


def test_librispeech_audio_without_a_line_is_left_out_and_counted(tmp_path):
    top = write_librispeech(tmp_path / "LibriSpeech")
    chapter = top / "dev-clean" / "84" / "8400"
    trans = chapter / "84-8400.trans.txt"
    trans.write_text("".join(trans.read_text().splitlines(keepends=True)[:3]))
    utts, said = _read(top)
    assert len(utts) == 7 and str(chapter / "84-8400-0003.flac") not in utts.paths
    assert said == [f"{top}: 1 audio file(s) have no transcript line and are left out (first: "
                    "dev-clean/84/8400/84-8400-0003.flac); each needs a line in its chapter's .trans.txt to be "
                    "trained on or scored"]
    assert audio_paths([str(top)])[4:] == [str(chapter / f"84-8400-000{k}.flac") for k in range(4)]  # transcribe: all
    with pytest.raises(LstmkitError, match="its transcripts are the texts"):
        read_utterances(top, "{label}_{take}")


def test_ljspeech_reads_the_normalized_transcript_with_quotes_as_text(tmp_path):
    rows = ['LJ001-0001|Printing, in "the" only sense, 1|Printing, in "the" only sense, one',
            "LJ001-0002|in being comparatively modern.|", "LJ001-0003|For although the Chinese"]
    folder = write_ljspeech(tmp_path / "LJSpeech-1.1", rows)
    utts, said = _read(folder)
    assert utts.texts == ['Printing, in "the" only sense, one', "in being comparatively modern.",
                          "For although the Chinese"]
    assert [p.split("/")[-2:] for p in utts.paths] == [["wavs", f"LJ001-000{k}.wav"] for k in (1, 2, 3)]
    assert said == [] and utts.fields[2] == {"utterance": "LJ001-0003"}
    (folder / "metadata_val.csv").write_text(rows[2] + "\n")        # a derivative's split file: a part of wavs/
    val, said = _read(folder / "metadata_val.csv")
    assert val.paths == utts.paths[2:] and said == []
    with pytest.raises(LstmkitError, match="1 of the 1 validation utterances are in the training data too "
                                           r"\(first: LJ001-0003\)"):
        check_no_shared_utterances(utts, val)
    (folder / "metadata.csv").write_text("\n".join(rows[:2]) + "\n")
    utts, said = _read(folder)
    assert len(utts) == 2 and said == [f"{folder}: 1 audio file(s) have no transcript line and are left out "
                                       "(first: wavs/LJ001-0003.wav); each needs a line in metadata.csv to be "
                                       "trained on or scored"]


@pytest.mark.parametrize("rows, needle", [
    (["LJ001-0001|ab", "LJ001-0002 ab"], r"metadata.csv line 2 has no '\|'"),
    (["LJ001-0001|ab|ab|x"], r"line 1 has 4 '\|'-separated fields, not 2 or 3"),
    (["LJ001-0001||"], r"line 1 has no transcript \('LJ001-0001\|\|'\)"),
    (["LJ001-0001|ab", "LJ001-0001|ba"], r"utterance LJ001-0001 is given twice"),
])
def test_ljspeech_lines_that_cannot_be_read_are_refused(tmp_path, rows, needle):
    folder = write_ljspeech(tmp_path / "lj", rows)
    with pytest.raises(LstmkitError, match=needle):
        read_utterances(folder)


def test_ljspeech_missing_audio_and_empty_metadata_are_refused(tmp_path):
    folder = write_ljspeech(tmp_path / "lj", ["LJ001-0001|ab", "LJ001-0002|ab", "LJ001-0003|ab"])
    for k in (2, 3):
        (folder / "wavs" / f"LJ001-000{k}.wav").unlink()
    with pytest.raises(LstmkitError, match=r"line 2: utterance audio file wavs/LJ001-0002.wav not found \(2 of the "
                                           r"3 lines name audio that is not there\)"):
        read_utterances(folder)
    (folder / "metadata.csv").write_text("\n")
    with pytest.raises(LstmkitError, match="metadata.csv is empty"):
        read_utterances(folder)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text("hidden_size: 8\nnum_layers: 1\nchannels: 8\nn_mels: 16\nsubsample: 1\n"
                    "train:\n  tensorboard: false\n  progress: 'off'\n  doctor: false\n  max_epochs: 1\n")
    return path


def test_librispeech_trains_transcribes_and_evaluates_its_test_subsets_from_the_cli(cfg, tmp_path, capsys):
    top = write_librispeech(tmp_path / "LibriSpeech", subsets=("dev-clean", "test-clean", "train-clean-5"))
    code, out, err = run_cli(["speech", "train", "--data", top, "--config", cfg, "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    assert "utterances 24 (train 8, val 8, test 8 kept out)" in out and err.count("its subsets give the split") == 1
    (run,) = (tmp_path / "runs").iterdir()
    code, out, err = run_cli(["speech", "evaluate", "--run", run, "--data", top, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["n"] == 8 and json.loads(out)["word_errors"]["reference_words"] == 12   # test-clean's
    code, out, err = run_cli(["speech", "transcribe", "--run", run, top / "test-clean"], capsys)
    assert code == 0, err
    assert [ln.split("\t")[0] for ln in out.strip().splitlines()] == sorted(map(str, top.glob("test-clean/*/*/*.flac")))
    code, out, err = run_cli(["speech", "train", "--data", top / "train-clean-5", "--val", top / "train-clean-5" / "19",
                              "--config", cfg, "--out", tmp_path / "more"], capsys)
    assert_user_error(code, err, "4 of the 4 validation utterances are in the training data too (first: 19-1902-0000)")
    assert not (tmp_path / "more").exists() or not any((tmp_path / "more").iterdir())


def test_ljspeech_trains_seq2seq_and_evaluates_from_python_and_the_cli(cfg, tmp_path, capsys):
    rows = [f"LJ001-{k:04d}|{t.upper()}|{t}" for k, t in enumerate(["ab", "ba", "ab", "ba", "ab", "ba"])]
    folder = write_ljspeech(tmp_path / "LJSpeech-1.1", rows)
    est = SpeechRecognizer(mode="seq2seq", hidden_size=8, num_layers=1, channels=8, n_mels=16, subsample=1,
                           max_epochs=1, progress="off", tensorboard=False, doctor=False)
    est.fit(folder, out=tmp_path / "runs")
    assert est.symbols_.chars == ["a", "b"]                # the normalized (third) field, not the capitals
    assert est.data_summary_["utterances"] == 6
    code, out, err = run_cli(["speech", "evaluate", "--run", est.run_dir_, "--data", folder / "metadata.csv",
                              "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["n"] == 6 and json.loads(out)["wer"] == est.evaluate(folder)["wer"]


def test_multilingual_librispeech_reads_its_splits_and_names_missing_audio(tmp_path):
    """MLS: <split>/transcripts.txt ('<speaker>_<book>_<utt><TAB>text') and audio/<speaker>/<book>/ FLAC."""
    rng = np.random.default_rng(0)
    top = tmp_path / "mls_toy"
    for k, split in enumerate(("dev", "test", "train")):
        lines = []
        for u, text in enumerate(["ab", "ba cd"]):
            uid = f"{10 + k}_{200 + k}_{u:06d}"
            (top / split / "audio" / str(10 + k) / str(200 + k)).mkdir(parents=True, exist_ok=True)
            sf.write(top / split / "audio" / str(10 + k) / str(200 + k) / f"{uid}.flac", say(text, rng), RATE,
                     format="FLAC")
            lines.append(f"{uid}\t{text}")
        (top / split / "transcripts.txt").write_text("\n".join(lines) + "\n")
    utts, said = _read(top)
    assert utts.parts == ["val", "val", "test", "test", "train", "train"] and utts.texts == ["ab", "ba cd"] * 3
    assert utts.fields[4] == {"utterance": "12_202_000000"} and "train (2) to train on, dev (2) to validate" in said[0]
    split, said = _read(top / "train" / "transcripts.txt")
    assert split.paths == utts.paths[4:] and split.parts == [] and said == []
    assert audio_paths([str(top / "test")]) == utts.paths[2:4]
    (top / "dev" / "audio" / "10" / "200" / "10_200_000001.flac").unlink()
    with pytest.raises(LstmkitError, match=r"dev/transcripts.txt line 2: utterance audio file "
                                           r"audio/10/200/10_200_000001.flac not found"):
        read_utterances(top)


def test_the_folder_an_archive_was_extracted_in_reads_as_its_librispeech_folder(tmp_path):
    top = write_librispeech(tmp_path / "downloads" / "LibriSpeech")
    (tmp_path / "downloads" / "dev-clean.tar.gz").write_bytes(b"the archive, kept beside")
    utts, said = _read(tmp_path / "downloads")
    assert utts.paths == _read(top)[0].paths and len(utts) == 8 and said == []
    assert audio_paths(tmp_path / "downloads") == sorted(map(str, top.glob("dev-clean/*/*/*.flac")))


def test_val_on_a_top_librispeech_folder_is_its_dev_subsets_never_its_test_ones(cfg, tmp_path, capsys):
    top = write_librispeech(tmp_path / "dl" / "LibriSpeech", subsets=("dev-clean", "test-clean", "train-clean-5"))
    code, out, err = run_cli(["speech", "train", "--data", top / "train-clean-5", "--val", tmp_path / "dl",
                              "--config", cfg, "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    assert "(train 8, val 8" in out          # dev-clean's 8; read whole it was 24, train-clean-5's too
    assert "validated on its 8 recordings held out for validation" in err and "to train on" not in err
    only_test = write_librispeech(tmp_path / "tests_only", subsets=("test-clean",))
    code, out, err = run_cli(["speech", "train", "--data", top / "train-clean-5", "--val", only_test,
                              "--config", cfg, "--out", tmp_path / "more"], capsys)
    assert_user_error(code, err, "given to validate on, is held out for testing")


def test_ljspeech_with_a_header_line_or_its_wavs_in_wavs_wavs_reads_its_recordings(tmp_path):
    folder = write_ljspeech(tmp_path / "lj", ["LJ001-0001|Ab|ab", "LJ001-0002|Ba|ba"])
    (folder / "metadata.csv").write_text("id|text|normalized_text\nLJ001-0001|Ab|ab\nLJ001-0002|Ba|ba\n")
    utts, said = _read(folder)
    assert utts.texts == ["ab", "ba"] and utts.fields == [{"utterance": "LJ001-0001"}, {"utterance": "LJ001-0002"}]
    assert said == []
    (folder / "wavs" / "wavs").mkdir()
    for wav in sorted((folder / "wavs").glob("*.wav")):
        wav.rename(folder / "wavs" / "wavs" / wav.name)
    nested, said = _read(folder / "metadata.csv")
    assert nested.paths == [str(folder / "wavs" / "wavs" / f"LJ001-000{k}.wav") for k in (1, 2)] and said == []
    (folder / "metadata.csv").write_text("LJ001-0001|Ab|ab\nLJ001-0003|Ba|ba\n")     # an id is no header
    with pytest.raises(LstmkitError, match="line 2: utterance audio file wavs/LJ001-0003.wav not found"):
        _read(folder)


def test_ljspeech_and_mls_audio_with_upper_case_extensions_is_found(tmp_path):
    """A corpus copied through a tool that writes 'LJ001-0001.WAV' (or '.FLAC'): every line was
    'utterance audio file wavs/LJ001-0001.wav not found', though the recording was there."""
    folder = write_ljspeech(tmp_path / "lj", ["LJ001-0001|Ab|ab", "LJ001-0002|Ba|ba"])
    for wav in sorted((folder / "wavs").glob("*.wav")):
        wav.rename(wav.with_suffix(".WAV"))
    utts, said = _read(folder)
    assert utts.paths == [str(folder / "wavs" / f"LJ001-000{k}.WAV") for k in (1, 2)] and said == []
    audio = tmp_path / "mls" / "audio" / "10" / "200"
    audio.mkdir(parents=True)
    sf.write(audio / "10_200_000000.FLAC", say("ab", np.random.default_rng(0)), RATE, format="FLAC")
    (tmp_path / "mls" / "transcripts.txt").write_text("10_200_000000\tab\n")
    assert _read(tmp_path / "mls")[0].paths == [str(audio / "10_200_000000.FLAC")]
