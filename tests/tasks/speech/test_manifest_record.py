"""What a speech resume compares of its recordings (``Utterances.record``): each recording's path
inside the corpus folder, transcript, part, file size and a sample of its bytes (the first, middle
and last 4 KiB, SHA-256), worked out here from those definitions."""
import hashlib

import numpy as np
import pytest

from lstmkit.tasks.speech.manifest import SAMPLED, Utterances, audio_sample

KIB4 = 4096


def _sha16(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@pytest.fixture
def corpus(tmp_path):
    """A manifest beside a wavs/ folder of two 'recordings' (bytes: nothing here decodes audio)."""
    rng = np.random.default_rng(0)
    (tmp_path / "wavs").mkdir()
    big, small = rng.bytes(20_001), rng.bytes(1_000)
    (tmp_path / "wavs" / "a.wav").write_bytes(big)
    (tmp_path / "wavs" / "b.wav").write_bytes(small)
    (tmp_path / "train.csv").write_text("path,text\nwavs/a.wav,yes\nwavs/b.wav,no\n")
    return tmp_path


def test_audio_sample_hashes_the_first_middle_and_last_4_kib(corpus):
    data = (corpus / "wavs" / "a.wav").read_bytes()            # 20001 bytes: the middle block starts at 10000 - 2048
    middle = data[20_001 // 2 - KIB4 // 2:][:KIB4]
    assert audio_sample(corpus / "wavs" / "a.wav") == _sha16(data[:KIB4] + middle + data[-KIB4:])
    small = (corpus / "wavs" / "b.wav").read_bytes()           # under 4 KiB: each block is the whole file
    assert audio_sample(str(corpus / "wavs" / "b.wav")) == _sha16(small * 3)
    assert audio_sample(corpus / "wavs" / "none.wav") == ""    # not a readable file
    assert audio_sample(corpus / "wavs") == ""


def test_a_byte_changed_in_any_sampled_block_changes_the_sample(corpus):
    path = corpus / "wavs" / "a.wav"
    data = bytearray(path.read_bytes())
    before = audio_sample(path)
    for at in (0, KIB4 - 1, 20_001 // 2, len(data) - KIB4, len(data) - 1):
        changed = data.copy()
        changed[at] ^= 0xFF
        path.write_bytes(bytes(changed))
        assert audio_sample(path) != before, at
    path.write_bytes(bytes(data))
    assert audio_sample(path) == before


def _by_hand(rows, audio=True):
    """SHA-256 over one line per recording: path, transcript, part, size (and the sample), NUL-separated."""
    h = hashlib.sha256()
    for where, text, part, size, sample in rows:
        h.update((f"{where}\0{text}\0{part}\0{size}" + (f"\0{sample}" if audio else "") + "\n").encode())
    return h.hexdigest()


def test_record_is_each_recordings_path_in_the_corpus_transcript_part_size_and_sample(corpus):
    a, b = corpus / "wavs" / "a.wav", corpus / "wavs" / "b.wav"
    u = Utterances([str(a), str(b)], ["yes", "no"], source=str(corpus / "train.csv"))
    rows = [("wavs/a.wav", "yes", "", 20_001, audio_sample(a)), ("wavs/b.wav", "no", "", 1_000, audio_sample(b))]
    assert u.record() == {"count": 2, "sha256": _by_hand(rows), "audio": SAMPLED}
    # a run recorded before the audio sample: no sample, no "audio" key
    assert u.record(audio=False) == {"count": 2, "sha256": _by_hand(rows, audio=False)}
    # a folder corpus (source: the folder itself) gives the paths inside it
    assert Utterances([str(a), str(b)], ["yes", "no"], source=str(corpus)).record()["sha256"] == _by_hand(
        [(f"wavs/{w}", *rest) for (_, *rest), w in zip(rows, ("a.wav", "b.wav"))])
    # the parts the list files give are part of the record
    parted = Utterances([str(a), str(b)], ["yes", "no"], source=str(corpus), parts=["train", "val"])
    assert parted.record()["sha256"] == _by_hand([(r[0], r[1], p, *r[3:]) for r, p in zip(rows, ("train", "val"))])


def test_record_of_a_corpus_moved_whole_is_the_same_and_a_missing_file_is_no_crash(corpus, tmp_path_factory):
    u = Utterances([str(corpus / "wavs" / "a.wav")], ["yes"], source=str(corpus / "train.csv"))
    moved = tmp_path_factory.mktemp("moved")
    (moved / "wavs").mkdir()
    (moved / "wavs" / "a.wav").write_bytes((corpus / "wavs" / "a.wav").read_bytes())
    assert Utterances([str(moved / "wavs" / "a.wav")], ["yes"], source=str(moved / "train.csv")).record() == u.record()
    gone = Utterances([str(corpus / "wavs" / "gone.wav")], ["yes"], source=str(corpus / "train.csv")).record()
    assert gone["count"] == 1 and gone["sha256"] != u.record()["sha256"]


def test_record_of_pairs_given_without_a_source_keeps_the_paths_as_given(corpus, monkeypatch):
    """(path, text) pairs have no corpus folder: each path is hashed as given, not made relative to
    the working folder."""
    monkeypatch.chdir(corpus)
    a = corpus / "wavs" / "a.wav"
    u = Utterances([str(a), "wavs/b.wav"], ["yes", "no"])
    assert u.record()["sha256"] == _by_hand([(str(a), "yes", "", 20_001, audio_sample(a)),
                                             ("wavs/b.wav", "no", "", 1_000, audio_sample(corpus / "wavs" / "b.wav"))])
