"""A speech run's resume checks the recordings, not only the manifest: the manifest's SHA-256
covers its lines, not the audio they name, and a folder corpus had no check at all, so a clip
re-recorded, added or removed since the run started went into the resumed training unseen."""
import json
import shutil

import pytest
import soundfile as sf

from lstmkit import SpeechRecognizer
from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.synthetic import RATE, tone_clip, write_corpus

QUICK = dict(mode="ctc", model="lstm", hidden_size=8, num_layers=1, channels=8, n_mels=16, subsample=2, dropout=0.0,
             max_epochs=1, batch_size=8, beam=1, seed=0, progress="off", tensorboard=False, doctor=False)


def _interrupted(run):
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["status"] = "interrupted"                       # as Ctrl-C after the last epoch leaves it
    (run / "lstmkit.json").write_text(json.dumps(meta))
    return meta


@pytest.fixture
def run(tmp_path):
    manifest = write_corpus(tmp_path / "corpus", 16)
    est = SpeechRecognizer(**QUICK).fit(manifest, out=tmp_path / "runs")
    meta = _interrupted(est.run_dir_)
    assert meta["data"]["recordings"]["data"]["count"] == 16
    return manifest, est.run_dir_


def test_a_clip_re_recorded_under_the_same_manifest_is_refused_on_resume(run):
    manifest, run_dir = run
    clip = manifest.parent / "wavs" / "manifest_3.wav"
    kept = clip.read_bytes()
    sf.write(clip, tone_clip("ab", seconds=2.0), RATE, subtype="PCM_16")       # the manifest's line unchanged
    with pytest.raises(LstmkitError, match=r"the data changed since .* started: the recordings .*manifest.csv lists are "
                                           r"not the ones it trained on \(a recording added, removed, renamed or "
                                           r"re-recorded, or its transcript changed; 16 then and now\)"):
        SpeechRecognizer.resume(run_dir)
    clip.write_bytes(kept)
    SpeechRecognizer.resume(run_dir)                                           # the same clips: resumes
    assert json.loads((run_dir / "lstmkit.json").read_text())["status"] == "finished"


def test_a_corpus_moved_whole_resumes(run, tmp_path):
    manifest, run_dir = run
    moved = tmp_path / "elsewhere"
    shutil.copytree(manifest.parent, moved)
    SpeechRecognizer(**QUICK).fit(moved / manifest.name, run_dir=run_dir, resume=True)
    assert json.loads((run_dir / "lstmkit.json").read_text())["status"] == "finished"


def test_a_folder_corpus_with_a_clip_added_is_refused_on_resume(tmp_path):
    """Class folders (label = folder name): a clip added since the run started."""
    root = tmp_path / "commands"
    for label, text in (("ab", "ab"), ("cd", "cd")):
        (root / label).mkdir(parents=True)
        for i in range(8):
            sf.write(root / label / f"{i}.wav", tone_clip(text, seed=i), RATE, subtype="PCM_16")
    classify = {k: v for k, v in QUICK.items() if k != "beam"}      # a classifier decodes no beam: refused
    est = SpeechRecognizer(**{**classify, "mode": "classify"}).fit(str(root), out=tmp_path / "runs")
    _interrupted(est.run_dir_)
    sf.write(root / "ab" / "8.wav", tone_clip("ab", seed=8), RATE, subtype="PCM_16")
    with pytest.raises(LstmkitError, match=r"the recordings in .*commands are not the ones it trained on \(.*; 16 then, 17 now\)"):
        SpeechRecognizer.resume(est.run_dir_)
    (root / "ab" / "8.wav").unlink()
    SpeechRecognizer.resume(est.run_dir_)
    assert json.loads((est.run_dir_ / "lstmkit.json").read_text())["status"] == "finished"


def test_a_clip_re_recorded_at_the_same_length_is_refused_on_resume(run):
    """The same duration, so the same file size: the size alone let it through."""
    manifest, run_dir = run
    clip = manifest.parent / "wavs" / "manifest_5.wav"
    kept = clip.read_bytes()
    frames = sf.info(clip).frames
    sf.write(clip, tone_clip("ba", seconds=frames / RATE, seed=99)[:frames], RATE, subtype="PCM_16")
    assert clip.stat().st_size == len(kept) and clip.read_bytes() != kept
    with pytest.raises(LstmkitError, match=r"the recordings .*manifest.csv lists are not the ones it trained on"):
        SpeechRecognizer.resume(run_dir)
    clip.write_bytes(kept)
    SpeechRecognizer.resume(run_dir)
    assert json.loads((run_dir / "lstmkit.json").read_text())["status"] == "finished"


def test_a_run_recorded_before_the_audio_sample_resumes_as_it_did(run):
    """Its record holds sizes, not samples: the same recordings resume; a size changed is refused."""
    manifest, run_dir = run
    meta = json.loads((run_dir / "lstmkit.json").read_text())
    record = meta["data"]["recordings"]["data"]
    assert record.pop("audio") == "first, middle and last 4 KiB"
    from lstmkit.tasks.speech.data import read_utterances
    record["sha256"] = read_utterances(str(manifest)).record(audio=False)["sha256"]
    (run_dir / "lstmkit.json").write_text(json.dumps(meta))
    clip = manifest.parent / "wavs" / "manifest_3.wav"
    kept = clip.read_bytes()
    sf.write(clip, tone_clip("ab", seconds=2.0), RATE, subtype="PCM_16")
    with pytest.raises(LstmkitError, match=r"not the ones it trained on"):
        SpeechRecognizer.resume(run_dir)
    clip.write_bytes(kept)
    SpeechRecognizer.resume(run_dir)
    assert json.loads((run_dir / "lstmkit.json").read_text())["status"] == "finished"
