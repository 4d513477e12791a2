"""The absolute seq2seq decoding bound: a model that never writes ``<eos>`` stops at twice the
longest training transcript plus 2 characters (with a warning naming the clips) however long the
recording, where it decoded ``max_len_ratio`` characters per frame (a 44 s clip: 2,445 steps, 14 s);
transcripts that end are unchanged, and a run that recorded no longest transcript decodes as before."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from lstmkit import SpeechRecognizer
from lstmkit.nn.seq2seq import EOS_ID, beam_search
from seq2seq_helpers import without_eos
from speech_data import RATE, say, write_manifest


@pytest.fixture(scope="module")
def s2s(tiny, tmp_path_factory):
    d = tmp_path_factory.mktemp("s2s")
    train = write_manifest(d, 60, seed=1, words=(1, 1))
    est = SpeechRecognizer(**{**tiny, "mode": "seq2seq", "subsample": 2, "hidden_size": 32, "embed_dim": 8,
                              "channels": 8, "n_mels": 16, "max_epochs": 8, "patience": 8,
                              "label_smoothing": 0.0}).fit(train, out=d / "runs")
    rng = np.random.default_rng(5)
    sf.write(d / "long.wav", say("abcd dcba " * 12, rng), RATE, subtype="PCM_16")          # 12 s
    return est, train, d


@pytest.fixture()
def endless(s2s):
    """The trained model with its <eos> output switched off (restored afterwards)."""
    with without_eos(s2s[0].net_):
        yield s2s[0]


def _hypothesis(est, path, beam, steps):
    x = est.audio_inputs(path)[None]
    return beam_search(est.net_, x, torch.tensor([x.shape[1]]), beam, 0.0, est.config_.max_len_ratio, steps)[0]


def test_the_longest_training_transcript_is_recorded_and_bounds_decoding(s2s):
    est, train, _ = s2s
    longest = max(len(line.split(",", 1)[1]) for line in train.read_text().splitlines()[1:])
    assert est.data_summary_["longest_transcript"] == longest
    assert est.decode_steps() == 2 * longest + 2
    meta = json.loads((est.run_dir_ / "lstmkit.json").read_text())
    assert SpeechRecognizer.load(est.run_dir_).decode_steps() == est.decode_steps() and meta["data"]["longest_transcript"]


def test_transcripts_that_end_are_unchanged_by_the_bound(s2s, recwarn):
    est, _, d = s2s
    clips = sorted(str(p) for p in (d / "wavs").glob("*.wav"))[:12]
    for beam in (1, 3):
        bounded = est.transcribe(clips, beam=beam)
        free = [_hypothesis(est, c, beam, None) for c in clips]
        assert any(h.ids and h.ids[-1] == EOS_ID for h in free)                 # the model does end transcripts
        assert bounded == [est.symbols_.decode([t - 3 for t in h.ids if t >= 4]) for h in free]
    assert not [w for w in recwarn if "reached the longest" in str(w.message)]


@pytest.mark.parametrize("beam", [1, 3])
def test_a_decode_that_never_ends_stops_at_the_bound_with_a_warning_naming_the_clip(endless, s2s, beam):
    d, steps = s2s[2], endless.decode_steps()
    free = len(_hypothesis(endless, d / "long.wav", beam, None).ids)
    hyp = _hypothesis(endless, d / "long.wav", beam, steps)
    assert len(hyp.ids) == steps < free and hyp.cut and EOS_ID not in hyp.ids
    with pytest.warns(UserWarning, match=rf"^1 transcript\(s\) reached the longest this model writes \({steps} "
                                         rf"characters: 2 times its longest training transcript, plus 2\) without "
                                         rf"ending and were cut there: .*long.wav; "):
        endless.transcribe([d / "long.wav"], beam=beam)


def test_evaluate_and_arrays_name_the_clips_cut(endless, s2s):
    d = s2s[2]
    wave = sf.read(d / "long.wav", dtype="int16")[0]
    with pytest.warns(UserWarning, match=r"^2 transcript\(s\) reached the longest .*: in-memory clip 0, in-memory clip 1;"):
        endless.predict([wave, wave], sample_rate=RATE)
    (d / "long.csv").write_text("path,text\nlong.wav,abcd\n")
    with pytest.warns(UserWarning, match=r"^1 transcript\(s\) reached the longest .*long.wav; the model may not"):
        endless.evaluate(d / "long.csv")


def test_a_run_that_recorded_no_longest_transcript_decodes_as_before(endless, s2s):
    d = s2s[2]
    summary = endless.data_summary_
    endless.data_summary_ = {k: v for k, v in summary.items() if k != "longest_transcript"}
    try:
        assert endless.decode_steps() is None
        n = len(endless.transcribe([d / "long.wav"])[0])
        assert len(_hypothesis(endless, d / "long.wav", 1, None).ids) > 2 * summary["longest_transcript"] + 2
        assert n == len([t for t in _hypothesis(endless, d / "long.wav", 1, None).ids if t >= 4])
    finally:
        endless.data_summary_ = summary


def test_the_service_tells_the_recording_cut_in_its_answer(endless, s2s):
    pytest.importorskip("pydantic")
    from lstmkit.tasks.speech.deploy import SpeechAdapter
    d = s2s[2]
    adapter = SpeechAdapter(endless)
    assert adapter.metadata()["max_transcript_chars"] == endless.decode_steps()
    wave = sf.read(d / "long.wav", dtype="float32")[0]
    short = sf.read(sorted((d / "wavs").glob("*.wav"))[0], dtype="float32")[0]
    out = adapter.answer(endless.net_, [short.tolist(), wave.tolist()], RATE)["predictions"]
    assert out[1]["warnings"][0].startswith("1 transcript(s) reached the longest this model writes "
                                            f"({endless.decode_steps()} characters") and "recording 1" in out[1]["warnings"][0]
    body = (d / "long.wav").read_bytes()
    said = adapter.answer_bytes(endless.net_, body, "audio/wav")
    assert said["warnings"] and "cut there: the upload;" in said["warnings"][0]


@pytest.mark.parametrize("command", ["transcribe", "evaluate"])
def test_the_cli_prints_the_transcripts_and_one_warning_line_naming_the_clip(endless, s2s, monkeypatch, capsys,
                                                                               command):
    from cli_helpers import run_cli
    d = s2s[2]
    (d / "long.csv").write_text("path,text\nlong.wav,abcd\n")
    monkeypatch.setattr(SpeechRecognizer, "load", classmethod(lambda cls, run: endless))   # the model that never ends
    args = [d / "long.wav"] if command == "transcribe" else ["--data", d / "long.csv"]
    code, out, err = run_cli(["speech", command, "--run", endless.run_dir_, *args, "--beam", "2"], capsys)
    assert code == 0, err
    said = [line for line in err.splitlines() if "reached the longest" in line]
    assert len(said) == 1 and said[0].startswith("warning: 1 transcript(s)") and "long.wav" in said[0], err
    assert "Traceback" not in err and out.strip()
