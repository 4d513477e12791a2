"""Shallow fusion with a real ``lstmkit lm`` language model, end to end: where the acoustics
cannot tell two letters apart, the LM's knowledge of the language decides."""
import numpy as np

import shutil

from cli_helpers import assert_user_error, run_cli
from lstmkit import SpeechRecognizer
from lstmkit.tasks.lm import LanguageModel
from speech_data import TONES, write_manifest


def test_lm_fusion_lowers_the_error_of_an_ambiguous_acoustic_model(tiny, tmp_path, capsys):
    same = {**TONES, "d": TONES["b"]}              # 'b' and 'd' sound exactly alike
    rng = np.random.default_rng(0)
    lexicon = ["ab", "cd", "cab", "acd", "cdab"]     # in this language b follows a, d follows c

    def lines(n):
        return [" ".join(rng.choice(lexicon, int(rng.integers(1, 3)))) for _ in range(n)]

    # the acoustic model hears random letter strings: no context tells it b from d
    train = write_manifest(tmp_path, 70, seed=1, tones=same)
    test = write_manifest(tmp_path, 25, seed=2, name="test.csv", tones=same, texts=lines(25))
    lm = LanguageModel(level="char", hidden_size=32, embed_dim=16, num_layers=1, max_epochs=8, lr=0.01,
                       batch_size=32, progress="off", tensorboard=False, doctor=False).fit(lines(200), out=tmp_path)
    asr = SpeechRecognizer(**{**tiny, "max_epochs": 20, "lm": str(lm.run_dir_), "lm_weight": 1.0,
                              "length_bonus": 0.5}).fit(train, out=tmp_path / "runs")
    plain = asr.evaluate(test, lm=False)
    fused = asr.evaluate(test)                               # the run's own LM
    assert fused["lm"] and not plain["lm"]
    assert plain["cer"] > 0.1, plain["examples"]
    assert fused["cer"] < 0.5 * plain["cer"], fused["examples"]
    assert asr.metrics_["val_beam"]["lm"]
    # the LM travels by reference in the run folder: a loaded recogniser fuses it too
    again = SpeechRecognizer.load(asr.run_dir_)
    assert again.evaluate(test)["cer"] == fused["cer"]

    # the CLI: the run's LM by default, --no-lm without, and a moved LM is one clear line
    wavs = sorted(str(p) for p in (tmp_path / "wavs").glob("test_*.wav"))[:6]
    code, out, err = run_cli(["speech", "transcribe", "--run", asr.run_dir_, *wavs], capsys)
    assert code == 0, err
    assert [ln.split("\t")[1] for ln in out.strip().splitlines()] == asr.transcribe(wavs)
    code, out, err = run_cli(["speech", "transcribe", "--run", asr.run_dir_, "--no-lm", *wavs], capsys)
    assert code == 0 and [ln.split("\t")[1] for ln in out.strip().splitlines()] == asr.transcribe(wavs, lm=False)
    shutil.move(lm.run_dir_, tmp_path / "moved")
    code, _, err = run_cli(["speech", "evaluate", "--run", asr.run_dir_, "--data", test], capsys)
    assert_user_error(code, err, "language model", "--no-lm")
    code, out, err = run_cli(["speech", "evaluate", "--run", asr.run_dir_, "--data", test,
                              "--lm", tmp_path / "moved"], capsys)
    assert code == 0 and f"CER {fused['cer']:.4f}" in out


def test_a_language_model_named_relative_to_the_training_folder_is_found_from_any_other(tiny, tmp_path, capsys,
                                                                                         monkeypatch):
    """`speech train --lm runs/lm-…` (as typed, the config records it so): a transcribe, or a service,
    started in another folder said 'run folder not found: runs/lm-…', and every request was refused."""
    train = write_manifest(tmp_path, 16, seed=1)
    lm = LanguageModel(level="char", hidden_size=8, embed_dim=8, num_layers=1, max_epochs=1, progress="off",
                       tensorboard=False, doctor=False).fit(["ab cd", "cab acd"] * 20, out=tmp_path / "lms")
    monkeypatch.chdir(tmp_path)
    typed = str(lm.run_dir_.relative_to(tmp_path))
    asr = SpeechRecognizer(**{**tiny, "max_epochs": 1, "lm": typed}).fit(train, out=tmp_path / "runs")
    wavs = sorted(str(p) for p in (tmp_path / "wavs").glob("*.wav"))[:3]
    fused = asr.transcribe(wavs, beam=4)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = SpeechRecognizer.load(asr.run_dir_)
    assert again.config_.lm == typed                          # the setting stays as it was given
    assert again.transcribe(wavs, beam=4) == fused
    code, out, err = run_cli(["speech", "transcribe", "--run", asr.run_dir_, "--beam", "4", *wavs], capsys)
    assert code == 0 and [ln.split("\t")[1] for ln in out.strip().splitlines()] == fused, err
