"""Bad-input catalogue, `lstmkit speech transcribe | evaluate` on recordings and manifests nobody
prepared: damaged, empty or mislabelled audio, a folder or a pattern for files, manifests that
cannot be scored. One line, exit 2, nothing left behind."""
import numpy as np
import pytest

from catalogue_helpers import check, train_once
from speech_data import RATE, say, write_manifest

TRANSCRIBE = ["speech", "transcribe", "--run", "{d}/run"]
EVALUATE = ["speech", "evaluate", "--run", "{d}/run", "--data"]
TRAIN = ["speech", "train", "--data", "{d}/train.csv", "--hidden-size", "4", "--layers", "1", "--epochs", "1",
         "--progress", "off", "--no-tensorboard", "--no-doctor", "--device", "cpu", "--out", "{out}"]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    import soundfile as sf
    d = tmp_path_factory.mktemp("speech_audio")
    write_manifest(d, 6, seed=0, name="train.csv")
    run = train_once(TRAIN, d, d / "runs")
    run.rename(d / "run")
    wav = say("ab", np.random.default_rng(0))
    (d / "text.wav").write_text("hello, this is not audio\n")
    (d / "zero_bytes.wav").write_bytes(b"")
    full = (d / "wavs" / "train_0.wav").read_bytes()
    (d / "no_data.wav").write_bytes(full[:36])                  # a header cut before its data chunk
    unfinished = bytearray(full)                                # a recorder that never wrote its sizes
    unfinished[4:8] = unfinished[40:44] = bytes(4)
    (d / "unfinished.wav").write_bytes(bytes(unfinished))
    sf.write(d / "no_samples.wav", np.zeros(0, np.float32), RATE)
    sf.write(d / "one_sample.wav", wav[:1], RATE)
    sf.write(d / "one_hz.wav", wav[:40], 1)
    (d / "fake.mp3").write_text("hello, this is not an mp3 file\n" * 40)     # libmpg123 printed 3 lines before it
    (d / "text.flac").write_text("hello\n" * 40)
    (d / "text.aiff").write_text("hello\n" * 40)
    (d / "fake_mp3.csv").write_text("path,text\nwavs/train_0.wav,ab\nfake.mp3,ab\n")
    rate = full.find(b"fmt ") + 12                              # a damaged header's sample rate
    (d / "huge_rate.wav").write_bytes(full[:rate] + (2_000_000_000).to_bytes(4, "little") + full[rate + 4:])
    (d / "cut_at_header.wav").write_bytes(full[:44])            # a copy cut off after its header
    sf.write(d / "whole.flac", np.tile(wav, 8), RATE)
    (d / "cut.flac").write_bytes((d / "whole.flac").read_bytes()[:(d / "whole.flac").stat().st_size // 2])
    rows = {"empty_text": "wavs/train_0.wav,\nwavs/train_1.wav,ab\n",
            "punctuation": "wavs/train_0.wav,...\nwavs/train_1.wav,!?\n",
            "two_texts": "wavs/train_0.wav,ab\n./wavs/train_0.wav,ba\n",
            "cwd_paths": "elsewhere/wavs/train_0.wav,ab\nelsewhere/wavs/train_1.wav,ab\n",
            "extra_cell": "wavs/train_0.wav,a, b\nwavs/train_1.wav,ab\n",
            "urls": "https://example.org/clips/a.wav,ab\n",
            "wrong_case": "wavs/TRAIN_0.WAV,ab\nwavs/train_1.wav,ab\n"}
    for name, body in rows.items():
        (d / f"{name}.csv").write_text("path,text\n" + body)
    (d / "capitals.csv").write_text("Path,Text\nwavs/train_0.wav,ab\n")
    (d / "named").mkdir()
    sf.write(d / "named" / "ab_ann_0.wav", wav, RATE)
    sf.write(d / "named" / "noise.wav", wav, RATE)
    for folder in ("classes", "mixed", "listed"):
        for label in ("yes", "no"):                             # Speech Commands: one folder per label
            (d / folder / label).mkdir(parents=True)
            sf.write(d / folder / label / "a1.wav", wav, RATE)
    sf.write(d / "mixed" / "yes_2.wav", wav, RATE)              # and one at the top
    (d / "listed" / "testing_list.txt").write_text("yes/b1.wav\nno/b1.wav\n")
    (d / "notes").mkdir()
    (d / "notes" / "a.txt").write_text("x")
    return d


CASES = [
    (TRANSCRIBE + ["{d}/text.wav"], "text.wav is unreadable or corrupt"),
    (TRANSCRIBE + ["{d}/zero_bytes.wav"], "zero_bytes.wav is unreadable or corrupt"),
    (TRANSCRIBE + ["{d}/no_data.wav"], "no_data.wav is unreadable or corrupt"),
    (TRANSCRIBE + ["{d}/unfinished.wav"], "unfinished.wav was never finished"),
    (TRANSCRIBE + ["{d}/no_samples.wav"], "no_samples.wav holds no audio samples"),
    (TRANSCRIBE + ["{d}/one_sample.wav"], "one_sample.wav is too short: 0.12 ms (1 sample)"),
    (TRANSCRIBE + ["{d}/one_hz.wav"], "its sample rate is 1 Hz"),
    (TRANSCRIBE + ["{d}/huge_rate.wav"], "its sample rate is 2,000,000,000 Hz, above the 768,000 Hz"),  # ZeroDivision
    (TRANSCRIBE + ["{d}/fake.mp3"], "fake.mp3 is unreadable or corrupt (format not recognised)"),
    (TRANSCRIBE + ["{d}/text.flac"], "text.flac is unreadable or corrupt (format not recognised)"),
    (TRANSCRIBE + ["{d}/text.aiff"], "text.aiff is unreadable or corrupt (format not recognised)"),   # 'not a WAV file'
    (TRANSCRIBE + ["{d}/cut_at_header.wav"], "cut_at_header.wav is truncated: its header promises"),
    (TRANSCRIBE + ["{d}/cut.flac"], "cut.flac is damaged or cut short"),
    (EVALUATE + ["{d}/fake_mp3.csv"], "fake.mp3 is unreadable or corrupt"),
    (TRANSCRIBE + ["{d}/notes"], "no audio files"),
    (TRANSCRIBE + ["{d}/wavs/*.mp3"], "wavs/*.mp3 (the shell passed"),   # *.wav: read, as a shell would
    (TRANSCRIBE + ["{d}/wavs/train_0.wav", "{d}/gone.wav"], "audio file not found"),
    (TRANSCRIBE + ["{d}/train.csv"], "train.csv is not a WAV file"),
    (TRANSCRIBE + ["--beam", "0", "{d}/wavs/train_0.wav"], "beam"),
    (TRANSCRIBE + ["--out", "{d}/no/such/dir/out.tsv", "{d}/wavs/train_0.wav"], "no such option"),
    (TRANSCRIBE + ["--lm", "{d}/run", "--no-lm", "{d}/wavs/train_0.wav"], "--lm and --no-lm were both given"),
    (EVALUATE + ["{d}/train.csv", "--lm", "{d}/run", "--no-lm"], "--lm and --no-lm were both given"),
    (EVALUATE + ["{d}/wavs/train_0.wav"], "is an audio file, not a manifest"),
    (EVALUATE + ["{d}/empty_text.csv"], "the transcript of"),
    (EVALUATE + ["{d}/punctuation.csv"], "nothing to score"),
    (EVALUATE + ["{d}/two_texts.csv"], "two transcripts"),
    (EVALUATE + ["{d}/cwd_paths.csv"], "2 of the 2 audio files listed are not found"),
    (EVALUATE + ["{d}/extra_cell.csv"], "more cell(s) than the header"),
    (EVALUATE + ["{d}/urls.csv"], "lists a URL (https://example.org/clips/a.wav)"),
    (EVALUATE + ["{d}/wrong_case.csv"], "TRAIN_0.WAV (train_0.wav is there)"),    # written on Windows or macOS
    (EVALUATE + ["{d}/capitals.csv"], "needs the columns path,text (found: Path, Text)"),
    (EVALUATE + ["{d}/named", "--label-from-name", "{{label}}_{{speaker}}_{{take}}"], "noise.wav does not match"),
    (EVALUATE + ["{d}/named", "--label-from-name", "{{speaker}}_{{take}}"], "has no {label} field"),
    (EVALUATE + ["{d}/notes", "--label-from-name", "{{label}}"], "no audio files"),
    (EVALUATE + ["{d}/classes", "--label-from-name", "{{label}}"], "each one's label is its folder's name"),
    (EVALUATE + ["{d}/mixed"], "holds audio files both itself (yes_2.wav: 1) and in class folders (no/, yes/: 2)"),
    (EVALUATE + ["{d}/listed"], "testing_list.txt lists 2 recording(s), none of them in"),
    # a pattern for a manifest was ignored without a word: its rows give the transcripts
    (EVALUATE + ["{d}/train.csv", "--label-from-name", "{{label}}_{{take}}"], "--label-from-name applies to a folder"),
    (TRAIN + ["--label-from-name", "{{label}}_{{take}}"], "--label-from-name applies to a folder"),
    ([*TRAIN[:3], "{d}/fake_mp3.csv", *TRAIN[4:]], "fake.mp3 is unreadable or corrupt"),
]


@pytest.mark.parametrize("argv, needle", CASES, ids=[f"{k}:{c[1]}" for k, c in enumerate(CASES)])
def test_speech_audio_bad_input(argv, needle, d, tmp_path, capsys):
    check(argv, 2, needle, tmp_path, capsys, d)


@pytest.mark.parametrize("stdin, needle", [
    ("terminal", "'-' reads a recording from standard input, but nothing is piped into it — pipe the audio in"),
    ("closed", "'-' reads a recording from standard input, but nothing is piped into it — pipe the audio in"),
    ("none", "standard input is empty: no recording was piped into '-'")])
def test_minus_without_a_recording_piped_in_is_refused_not_waited_on(d, stdin, needle, tmp_path, capsys, monkeypatch):
    """``-`` at a terminal (nothing piped in) or on a closed standard input: one line, not a wait for
    typing nor a traceback; with none at all (the shell's ``<&-``) it reads as an empty one."""
    import io
    import sys

    class Terminal(io.TextIOWrapper):
        def isatty(self):
            return True
    closed = io.TextIOWrapper(io.BytesIO(b"RIFF"))
    closed.close()
    monkeypatch.setattr(sys, "stdin", {"terminal": Terminal(io.BytesIO(b"RIFF")), "closed": closed,
                                       "none": None}[stdin])
    check(TRANSCRIBE + ["-"], 2, needle, tmp_path, capsys, d)
