"""Bad-input catalogue, `lstmkit speech`: one line, the right exit code, nothing left behind."""
import numpy as np
import pytest

from catalogue_helpers import COMMON_TRAIN, check, common_files, fake_run, with_data
from speech_data import RATE, say, write_manifest

TRAIN = ["speech", "train", "--data", "{d}/train.csv", "--mode", "ctc", "--hidden-size", "4", "--layers", "1",
         "--epochs", "1", "--progress", "off", "--no-tensorboard", "--no-doctor", "--device", "cpu",
         "--out", "{out}"]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    import soundfile as sf
    d = tmp_path_factory.mktemp("speech_data")
    common_files(d)
    write_manifest(d, 6, seed=0, name="train.csv")
    wav = say("ab", np.random.default_rng(0))
    (d / "empty.csv").write_text("path,text\n")
    (d / "one.csv").write_text("path,text\nwavs/train_0.wav,ab\n")
    (d / "gone.csv").write_text("path,text\nwavs/train_0.wav,ab\nnothere.wav,ab\n")
    (d / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    (d / "broken.csv").write_text("path,text\nwavs/train_0.wav,ab\nbroken.wav,ab\n")
    nan = wav.copy()
    nan[100] = np.nan
    sf.write(d / "nan.wav", nan, RATE, subtype="FLOAT")
    (d / "nan.csv").write_text("path,text\nwavs/train_0.wav,ab\nwavs/train_1.wav,ab\nnan.wav,ab\n")
    inf = wav.copy()
    inf[10] = np.inf
    sf.write(d / "inf.wav", inf, RATE, subtype="FLOAT")
    (d / "inf.csv").write_text("path,text\nwavs/train_0.wav,ab\nwavs/train_1.wav,ab\ninf.wav,ab\n")
    (d / "notes.txt").write_text("not audio at all")
    (d / "nocol.csv").write_text("file,words\nwavs/train_0.wav,ab\nwavs/train_1.wav,ab\n")
    fake_run(d)
    return d


def _train(*flags, data="train.csv"):
    return with_data(TRAIN, data, *flags)


CASES = [(_train(*flags), 2, needle) for flags, needle in COMMON_TRAIN] + [
    # --loss was accepted and ignored: the run trained on the task's own loss and recorded the one given
    (_train("--loss", "mse"), 2, "--loss mse does not apply to speech: it trains on its mode's own loss (CTC, or"),
    (_train(data="nope.csv"), 2, "not found"),
    (_train(data="empty.csv"), 2, "empty"),
    (_train(data="one.csv"), 2, "only 1 recording"),
    (_train(data="gone.csv"), 2, "nothere.wav"),
    (_train(data="broken.csv"), 2, "broken.wav"),
    (_train(data="nan.csv"), 2, "nan.wav"),
    (_train(data="inf.csv"), 2, "inf.wav"),
    (_train(data="nocol.csv"), 2, "nocol.csv"),
    (_train(data="wavs"), 2, "--label-from-name"),
    (_train("--mode", "ctx"), 2, "ctx"),
    (_train("--features", "fbank"), 2, "fbank"),
    (_train("--n-mels", "0"), 2, "n_mels"),
    # more bands than bins: empty bands; a billion of them a filter bank that killed the process for memory
    (_train("--n-mels", "200"), 2, "`n_mels` is 200, more mel bands than the 129 frequency bins of a 25 ms window "
                                   "at 8,000 Hz (each band needs a bin) — pass --n-mels 40, say, or a longer --win-ms"),
    (_train("--n-mels", "1000000000"), 2, "`n_mels` is 1,000,000,000, more mel bands than the 129 frequency bins"),
    (_train("--hop-ms", "0"), 2, "hop (0.0 ms) must be positive"),
    # was 'hop (10.0 ms) must be positive and at most the window (-5.0 ms)': the window named last, as the hop's fault
    (_train("--win-ms", "-5"), 2, "`win_ms` must be positive, got -5.0 — pass --win-ms 25, say"),
    (_train("--win-ms", "0"), 2, "`win_ms` must be positive, got 0.0 — pass --win-ms 25, say"),
    (_train("--sample-rate", "0"), 2, "sample_rate"),
    (_train("--sample-rate", "1"), 2, "sample_rate"),
    (_train("--sample-rate", "100"), 2, "at least 1000"),
    (_train("--sample-rate", "2000000000"), 2, "at most 768,000 Hz, got 2,000,000,000"),
    (_train("--win-ms", "inf"), 2, "win_ms"),
    (_train("--hop-ms", "nan"), 2, "hop"),
    (_train("--win-ms", "0.02", "--hop-ms", "0.01"), 2, "under one sample"),
    (_train("--max-len-ratio", "-1", "--mode", "seq2seq"), 2, "max_len_ratio"),
    (_train("--max-len-ratio", "0", "--mode", "seq2seq"), 2, "max_len_ratio"),
    # a setting of another mode, or one whose partner is off, would change nothing without a word
    (_train("--pooling", "max"), 2, "--pooling applies to --mode classify, not ctc"),
    (_train("--attention", "dot"), 2, "--attention applies to --mode seq2seq, not ctc"),
    (_train("--label-smoothing", "0.2", "--mode", "classify"), 2, "--label-smoothing applies to --mode seq2seq"),
    (_train("--max-len-ratio", "0.5"), 2, "--max-len-ratio applies to --mode seq2seq"),
    (_train("--embed-dim", "16"), 2, "--embed-dim applies to --mode classify or seq2seq, not ctc"),
    (_train("--beam", "2", "--mode", "classify"), 2, "--beam applies to --mode ctc or seq2seq, not classify"),
    (_train("--lm-weight", "0.3"), 2, "--lm-weight applies with --lm only"),
    (_train("--length-bonus", "2"), 2, "--length-bonus applies with --lm only"),
    (_train("--n-mfcc", "20"), 2, "--n-mfcc applies with --features mfcc only"),
    (_train("--time-masks", "3"), 2, "--time-masks applies with --spec-augment only"),
    (_train("--freq-width", "3", "--no-spec-augment"), 2, "--freq-width applies with --spec-augment only"),
    (_train("--normalize", "peak"), 2, "peak"),
    (_train("--subsample", "5"), 2, "subsample"),
    (_train("--length-bonus", "inf", "--lm", "{d}/nope"), 2, "length_bonus"),
    (_train("--speed-perturb", "-1"), 2, "speed_perturb"),
    (_train("--beam", "0"), 2, "beam"),
    (_train("--lm-weight", "nan", "--lm", "{d}/nope"), 2, "lm_weight"),
    (_train("--lm", "{d}/nope"), 2, "nope"),
    (["speech", "transcribe", "--run", "{d}/nope", "{d}/wavs/train_0.wav"], 2, "run folder not found"),
    (["speech", "transcribe", "--run", "{d}/forecast_run", "{d}/wavs/train_0.wav"], 2, "'forecast' run"),
    (["speech", "transcribe", "--run", "{d}", "{d}/wavs/train_0.wav"], 2, "not an lstmkit run folder"),
    (["speech", "evaluate", "--run", "{d}/nope", "--data", "{d}/train.csv"], 2, "run folder not found"),
]


@pytest.mark.parametrize("argv, code, needle", CASES, ids=[f"{k}:{c[2]}" for k, c in enumerate(CASES)])
def test_speech_bad_input(argv, code, needle, d, tmp_path, capsys):
    check(argv, code, needle, tmp_path, capsys, d)


def test_a_seq2seq_beam_beyond_memory_is_refused_before_training(d, tmp_path, capsys, monkeypatch):
    """A seq2seq run searched its validation part with --beam only after training: a beam beyond memory
    (a machine of 8 MiB here) is refused before the first epoch, as translate's is."""
    import re

    from lstmkit import memory
    from lstmkit.train.trainer import Trainer
    monkeypatch.setattr(memory, "memory_limit", lambda device: (8 * 2**20, None, "this machine's memory"))
    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("trained before the beam was checked"))
    line = check(_train("--mode", "seq2seq", "--beam", "100000"), 2, "a beam of 100,000 needs about", tmp_path,
                 capsys, d)
    assert re.search(r"more than the 8 MiB of this machine's memory — pass --beam \d+ \(5 to 10 is usual", line), line


def test_a_batch_beyond_memory_is_refused_before_training(d, tmp_path, capsys, monkeypatch):
    """speech had no batch check: a batch (or one 30-minute recording, 180,000 frames) whose activations
    exceed memory ended in torch's out-of-memory traceback, or swapped. Measured on the longest
    recording's first frames and counted on the batch padded to it (machines of 1.5 and 1.2 MiB here)."""
    import re

    from lstmkit.train import memory
    from lstmkit.train.trainer import Trainer
    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("trained a batch beyond memory"))
    monkeypatch.setattr(memory, "memory_limit", lambda device: (3 * 2**19, None, "this machine's memory"))
    line = check(_train("--batch-size", "1000"), 2, "one training batch of 310 frames is too large to train here",
                 tmp_path, capsys, d)
    assert re.search(r"B a frame\), more than the 1.5 MiB of this machine's memory — pass --batch-size \d+ or less, "
                     r"or split long recordings into clips of one utterance$", line), line
    monkeypatch.setattr(memory, "memory_limit", lambda device: (int(1.2 * 2**20), None, "this machine's memory"))
    line = check(_train("--batch-size", "1000"), 2, "one training batch of 310 frames", tmp_path, capsys, d)
    assert re.search(r"— split recordings longer than 0.\d+ s into clips of one utterance \(the longest is 0.62 s\)$",
                     line), line
