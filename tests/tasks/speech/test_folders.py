"""Folders of recordings: labels from file names, or from class folders (Speech Commands' layout,
its _background_noise_ folder and its validation / testing lists)."""
import warnings

import numpy as np
import pytest
import soundfile as sf

from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.data import audio_paths, read_utterances
from speech_data import RATE, write_commands

WORDS = ("yes", "no", "up")


def _read(folder, *args, **kw):
    """``read_utterances`` and the texts of the warnings it gave."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        utts = read_utterances(folder, *args, **kw)
    return utts, [str(w.message) for w in said]


def _wav(path):
    sf.write(path, np.zeros(800, np.float32), RATE)


def test_labels_come_from_class_folders_and_underscore_folders_are_skipped(tmp_path):
    write_commands(tmp_path, WORDS, takes=2)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    _wav(tmp_path / ".ipynb_checkpoints" / "copy.wav")             # hidden: passed over without a word
    (tmp_path / "yes" / "notes.txt").write_text("not audio")
    (tmp_path / "LICENSE").write_text("CC-BY-4.0")
    utts, said = _read(tmp_path)
    assert [p.split("/")[-2:] for p in utts.paths] == [[w, f"s{k}_nohash_0.wav"] for w in sorted(WORDS) for k in (0, 1)]
    assert utts.texts == ["no", "no", "up", "up", "yes", "yes"] and utts.parts == [] and utts.fields == []
    assert said == [f"{tmp_path}: _background_noise_/ skipped: a folder whose name starts with '_' holds no class "
                    "(Speech Commands' _background_noise_/ holds noise clips)"]


def test_a_folder_without_audio_is_named_and_left_out(tmp_path):
    write_commands(tmp_path, WORDS, takes=2)
    (tmp_path / "maybe").mkdir()
    (tmp_path / "maybe" / "todo.txt").write_text("record these")
    utts, said = _read(tmp_path)
    assert sorted(set(utts.texts)) == ["no", "up", "yes"]
    assert f"{tmp_path}: 1 folder(s) hold no audio files and are left out (maybe/)" in said
    empty = tmp_path / "empty"
    for name in ("a", "b"):
        (empty / name).mkdir(parents=True)
    with pytest.raises(LstmkitError, match=r"no audio files \(.wav.*\) in .*empty nor in its folders \(a/, b/\)"):
        read_utterances(empty)


def test_audio_in_folders_inside_a_class_folder_is_counted_as_not_read(tmp_path):
    """yes/deep/x.wav beside yes/'s own recordings was passed over without a word: one warning counts
    the files not read, names where they are and how to have them read; hidden folders stay silent,
    and a folder with audio only deeper down says so in its error."""
    write_commands(tmp_path, WORDS, takes=2)
    (tmp_path / "yes" / "deep" / "deeper").mkdir(parents=True)
    for name in ("deep/a.wav", "deep/b.WAV", "deep/deeper/c.wav", "deep/._a.wav"):
        _wav(tmp_path / "yes" / name)
    (tmp_path / "no" / ".cache").mkdir()
    _wav(tmp_path / "no" / ".cache" / "d.wav")
    utts, said = _read(tmp_path)
    assert len(utts.paths) == 6 and not any("deep" in p for p in utts.paths)
    assert [w for w in said if "not read" in w] == [
        f"{tmp_path}: 3 audio file(s) in folders inside its folders were not read (yes/deep/: 3): only the files "
        f"directly in {tmp_path} or in one of its folders are; move them up into their class folder, or list the "
        "recordings in a manifest CSV (path,text) and pass that"]
    only_deep = tmp_path / "only_deep"
    (only_deep / "yes" / "deep").mkdir(parents=True)
    for name in ("a.wav", "b.wav"):
        _wav(only_deep / "yes" / "deep" / name)
    with pytest.raises(LstmkitError, match=r"no audio files .* nor in its folders \(yes/\); 2 sit deeper, not "
                                           r"read \(yes/deep/\)"):
        read_utterances(only_deep)


def test_the_list_files_give_the_split(tmp_path):
    """validation_list.txt and testing_list.txt (paths relative to the folder) define the parts
    instead of a random draw; their recordings are never trained on, evaluation scores the test ones."""
    write_commands(tmp_path, WORDS, takes=4)
    (tmp_path / "validation_list.txt").write_text("yes/s0_nohash_0.wav\nno\\s0_nohash_0.wav\n\n")    # Windows too
    (tmp_path / "testing_list.txt").write_text("./up/s1_nohash_0.wav\nyes/s1_nohash_0.wav\nleft/s0_nohash_0.wav\n")
    utts, said = _read(tmp_path)
    assert said[-1] == (f"{tmp_path}: validation_list.txt and testing_list.txt give the split, not a random draw: "
                        "8 recordings to train on, 2 to validate, 2 to test (kept out of training; 'speech evaluate' "
                        "on this folder scores them), 1 listed recording(s) not in its class folders (left out)")
    name = lambda u: sorted("/".join(p.split("/")[-2:]) for p in u.paths)     # noqa: E731
    for seed in (0, 1):             # the lists, not the seed, decide
        train, val = utts.split(0.5, seed)
        assert name(val) == ["no/s0_nohash_0.wav", "yes/s0_nohash_0.wav"]
        assert len(train) == 8 and not {"up/s1_nohash_0.wav", "yes/s1_nohash_0.wav"} & set(name(train))
    assert name(utts.test_part()) == ["up/s1_nohash_0.wav", "yes/s1_nohash_0.wav"]
    assert name(utts.training_part()) == name(train) and utts.subset([0, 1]).parts == utts.parts[:2]


def test_a_testing_list_alone_leaves_a_random_validation_part_of_the_rest(tmp_path):
    write_commands(tmp_path, WORDS, takes=4)
    (tmp_path / "testing_list.txt").write_text("yes/s0_nohash_0.wav\nno/s0_nohash_0.wav\nup/s0_nohash_0.wav\n")
    utts, said = _read(tmp_path)
    assert "testing_list.txt gives the split, not a random draw: 9 recordings to train on (validation drawn from " \
           "them), 3 to test" in said[-1]
    train, val = utts.split(0.25, 0)
    assert (len(train), len(val)) == (7, 2) and not any("s0_nohash" in p for p in train.paths + val.paths)


def test_every_recording_listed_leaves_none_to_train_on(tmp_path):
    write_commands(tmp_path, ("yes", "no"), takes=1)
    (tmp_path / "testing_list.txt").write_text("yes/s0_nohash_0.wav\nno/s0_nohash_0.wav\n")
    utts, _ = _read(tmp_path)
    assert len(utts.test_part()) == 2
    with pytest.raises(LstmkitError, match="held out for validation or testing .*: none is left to train on"):
        utts.split(0.1, 0)


@pytest.mark.parametrize("lists, words", [
    ({"validation_list.txt": "yes/a.wav\nno/b.wav\n"}, r"validation_list.txt lists 2 recording\(s\), none of them in "
                                                        r".*class folders \(first: yes/a.wav\).*e.g. no/s0_nohash_0.wav"),
    ({"validation_list.txt": "yes/s0_nohash_0.wav\n", "testing_list.txt": "yes/s0_nohash_0.wav\n"},
     "yes/s0_nohash_0.wav is listed in both validation_list.txt and testing_list.txt")])
def test_list_files_that_cannot_give_a_split_are_refused(tmp_path, lists, words):
    write_commands(tmp_path, WORDS, takes=1)
    for name, text in lists.items():
        (tmp_path / name).write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the error comes before any warning
        with pytest.raises(LstmkitError, match=words):
            read_utterances(tmp_path)


def test_audio_at_the_top_and_in_class_folders_is_one_error_naming_both(tmp_path):
    write_commands(tmp_path, WORDS, takes=1)
    _wav(tmp_path / "yes_extra_0.wav")
    for pattern in (None, "{label}_{speaker}_{take}"):
        with pytest.raises(LstmkitError, match=r"holds audio files both itself \(yes_extra_0.wav: 1\) and in class "
                                               r"folders \(no/, up/, yes/: 3\).*move the 1 file\(s\) at the top"):
            read_utterances(tmp_path, pattern)
    with pytest.warns(UserWarning, match="_background_noise_/ skipped"):
        assert len(audio_paths(tmp_path)) == 4          # transcribing needs no labels: every file


def test_a_pattern_is_refused_for_class_folders_and_a_runs_own_pattern_gives_way(tmp_path):
    write_commands(tmp_path, WORDS, takes=1)
    with pytest.raises(LstmkitError, match=r"recordings are in class folders \(no/, up/, yes/\): each one's label is "
                                           r"its folder's name.*drop --label-from-name"):
        read_utterances(tmp_path, "{label}_{take}")
    utts, _ = _read(tmp_path, None, as_trained="{label}_{take}")        # evaluate on a run trained on names
    assert utts.texts == ["no", "up", "yes"]
    flat = tmp_path / "flat"
    flat.mkdir()
    _wav(flat / "yes_1.wav")
    assert read_utterances(flat, None, as_trained="{label}_{take}").texts == ["yes"]
    with pytest.raises(LstmkitError, match=r"flat is a folder of audio files but no --label-from-name pattern"):
        read_utterances(flat)


def test_a_folder_given_to_transcribe_is_every_audio_file_in_it(tmp_path):
    write_commands(tmp_path, WORDS, takes=2)
    with pytest.warns(UserWarning, match="_background_noise_/ skipped"):
        paths = audio_paths([tmp_path, tmp_path / "yes" / "s0_nohash_0.wav"])
    assert paths[:6] == sorted(str(p) for w in WORDS for p in (tmp_path / w).glob("*.wav"))
    assert paths[6:] == [str(tmp_path / "yes" / "s0_nohash_0.wav")]
    (tmp_path / "none").mkdir()
    with pytest.raises(LstmkitError, match="no audio files"):
        audio_paths(tmp_path / "none")


def test_hidden_files_beside_the_recordings_are_not_recordings(tmp_path):
    """macOS leaves '._name.wav' (AppleDouble) beside every file copied to a foreign disk: not audio."""
    write_commands(tmp_path, WORDS, takes=2)
    (tmp_path / "yes" / "._s0_nohash_0.wav").write_bytes(b"\x00\x05\x16\x07" + bytes(60))
    (tmp_path / "yes" / ".DS_Store").write_bytes(bytes(8))
    utts, _ = _read(tmp_path)
    assert sorted(p.split("/")[-1] for p in utts.paths if "/yes/" in p) == ["s0_nohash_0.wav", "s1_nohash_0.wav"]
    flat = tmp_path / "flat"
    flat.mkdir()
    _wav(flat / "yes_a_0.wav")
    (flat / "._yes_a_0.wav").write_bytes(bytes(64))
    assert [p.split("/")[-1] for p in read_utterances(flat, "{label}_{speaker}_{take}").paths] == ["yes_a_0.wav"]
    (flat / "yes_a_0.wav").unlink()
    with pytest.raises(LstmkitError, match=r"no audio files \(.wav.*\) in \S*flat — point"):   # not '(it holds 1 .wav)'
        read_utterances(flat, "{label}_{speaker}_{take}")


def test_list_files_name_a_recording_in_either_unicode_form_and_with_redundant_separators(tmp_path):
    """A class folder copied from macOS keeps 'é' as 'e' + U+0301 while a list typed elsewhere has 'é';
    'yes/./a.wav' and 'yes//a.wav' are that recording too: each held out, not trained on."""
    write_commands(tmp_path, ("yes", "no"), takes=3)
    (tmp_path / "no").rename(tmp_path / "cafe\u0301")
    (tmp_path / "testing_list.txt").write_text("caf\u00e9/s0_nohash_0.wav\nyes/./s1_nohash_0.wav\nyes//s2_nohash_0.wav\n")
    utts, said = _read(tmp_path)
    held = sorted("/".join(p.split("/")[-2:]) for p in utts.test_part().paths)
    assert held == ["cafe\u0301/s0_nohash_0.wav", "yes/s1_nohash_0.wav", "yes/s2_nohash_0.wav"]
    assert "3 recordings to train on (validation drawn from them), 3 to test" in said[-1] and "left out" not in said[-1]


# every container libsndfile reads here that a corpus ships under its own suffix (AIFF from Apple's
# tools, CAF, Sony's W64, broadcast RF64, Sun's AU, LDC's NIST SPHERE), each written by soundfile itself
CONTAINERS = [("aif", "AIFF", "PCM_16"), ("aiff", "AIFF", "PCM_16"), ("aifc", "AIFF", "ULAW"), ("caf", "CAF", "PCM_16"),
              ("w64", "W64", "PCM_16"), ("rf64", "RF64", "PCM_16"), ("au", "AU", "PCM_16"), ("sph", "NIST", "PCM_16")]


@pytest.mark.parametrize("suffix, kind, subtype", CONTAINERS, ids=[c[0] for c in CONTAINERS])
def test_a_folder_of_any_container_soundfile_reads_is_read(tmp_path, suffix, kind, subtype):
    """An .aiff read when named, yet a folder of them was 'no audio files (.wav, ...)'."""
    from lstmkit.tasks.speech.audio_files import read_audio
    wave = (0.3 * np.sin(np.arange(800) / 5)).astype(np.float32)
    for label in ("yes", "no"):
        sf.write(tmp_path / f"{label}_a_0.{suffix.upper() if label == 'no' else suffix}", wave, RATE,
                 format=kind, subtype=subtype)
    utts = read_utterances(tmp_path, "{label}_{speaker}_{take}")
    assert sorted(utts.texts) == ["no", "yes"]
    assert audio_paths([tmp_path]) == sorted(utts.paths)
    read, rate, _ = read_audio(utts.paths[0], RATE)
    assert rate == RATE and np.allclose(read, wave, atol=0.02)         # mu-law's step at 0.3 is under 0.02


def test_a_warning_lists_four_folders_whole_and_shortens_only_more(tmp_path):
    """Folders named in a warning: up to four all of them, no '…' (which says some are left unnamed)."""
    (tmp_path / "yes").mkdir()
    _wav(tmp_path / "yes" / "a.wav")
    for name in ("b", "c", "d", "e"):
        (tmp_path / name).mkdir()
    said = _read(str(tmp_path))[1]
    assert [w.split("left out ")[1] for w in said if "hold no audio" in w] == ["(b/, c/, d/, e/)"]
    (tmp_path / "f").mkdir()
    said = _read(str(tmp_path))[1]
    assert [w.split("left out ")[1] for w in said if "hold no audio" in w] == ["(b/, c/, d/, e/, …)"]
