"""Bad-input catalogue, `train --resume RUN` with flags: the run continues with its recorded
settings, so a flag that would change them (or --config, or translate's data files, which it
does not read, or an --out other than the folder holding the run) is one error, before anything trains; a flag
equal to the recorded value is fine."""
import json
import shutil

import pytest

from catalogue_helpers import check, train_once

COMMON = ["--hidden-size", "4", "--epochs", "1", "--progress", "off", "--no-tensorboard", "--no-doctor",
          "--device", "cpu", "--out", "{out}"]
TRAIN = {
    "lm": ["lm", "train", "--data", "{d}/corpus.txt", "--level", "char", "--embed-dim", "4", "--layers", "1", *COMMON],
    "classify": ["classify", "train", "--data", "{d}/reviews.csv", "--embed-dim", "4", "--min-freq", "1", *COMMON],
    "translate": ["translate", "train", "--src-file", "{d}/a.en", "--tgt-file", "{d}/a.de", "--embed-dim", "4",
                  "--layers", "1", "--min-freq", "1", *COMMON],
}


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume_flags")
    (d / "corpus.txt").write_text("abcdefghij\n" * 60)
    rows = [("good film", "pos"), ("bad film", "neg"), ("great plot", "pos"), ("awful acting", "neg")] * 10
    (d / "reviews.csv").write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in rows))
    (d / "a.en").write_text("the dog runs\na cat sits\n" * 20)
    (d / "a.de").write_text("der hund läuft\neine katze sitzt\n" * 20)
    (d / "tiny.yaml").write_text("hidden_size: 4\n")
    for task, argv in TRAIN.items():
        run = train_once(argv, d, d / f"trained_{task}")
        shutil.copytree(run, d / task)            # the run as an interrupted one: status `training`
        meta = json.loads((d / task / "lstmkit.json").read_text())
        meta["status"] = "training"
        (d / task / "lstmkit.json").write_text(json.dumps(meta))
    return d


CASES = [
    (["lm", "train", "--resume", "{d}/lm", "--epochs", "5"], "max_epochs=1"),
    (["lm", "train", "--resume", "{d}/lm", "--hidden-size", "16"], "--hidden-size"),
    (["lm", "train", "--resume", "{d}/lm", "--config", "{d}/tiny.yaml"], "--config"),
    (["classify", "train", "--resume", "{d}/classify", "--lr", "0.5"], "--lr"),
    (["classify", "train", "--resume", "{d}/classify", "--series"], "--series"),
    (["translate", "train", "--resume", "{d}/translate", "--beam", "2"], "--beam"),
    (["translate", "train", "--resume", "{d}/translate", "--src-file", "{d}/a.de"], "--src-file"),
    # the run is continued where it is: another --out was ignored
    (["lm", "train", "--resume", "{d}/lm", "--out", "{d}/elsewhere"], "--out does not apply with --resume"),
    (["classify", "train", "--resume", "{d}/classify", "--out", "{d}"], "--out does not apply with --resume"),
]


@pytest.mark.parametrize("argv, needle", CASES, ids=[f"{k}:{c[1]}" for k, c in enumerate(CASES)])
def test_resume_refuses_a_flag_it_would_ignore(argv, needle, d, tmp_path, capsys):
    run = tmp_path / "interrupted"
    shutil.copytree(d / argv[0], run)                  # each case its own copy: the old code resumed it
    before = (run / "lstmkit.json").read_bytes()
    check([str(run) if a == "{d}/" + argv[0] else a for a in argv], 2, needle, tmp_path, capsys, d)
    assert (run / "lstmkit.json").read_bytes() == before


def test_a_flag_equal_to_the_recorded_value_resumes(d, tmp_path, capsys):
    from cli_helpers import run_cli
    run = tmp_path / "lm"
    shutil.copytree(d / "lm", run)
    code, out, err = run_cli(["lm", "train", "--resume", run, "--epochs", "1", "--level", "char", "--out", tmp_path],
                             capsys)                     # --out: the folder holding the run, as a script repeats it
    assert code == 0, err
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished"
