"""Bad-input catalogue, `train --resume RUN` with flags: the run continues with its recorded
settings, so a flag that would change them (or --config, or an --out other than the folder holding the run)
is one error, before anything trains; a flag equal to the recorded value is fine. A data file the run
recorded that is gone (the run moved with its data) is one error naming the flag that gives its new
place; given there, it is checked to hold the same data and the run resumes."""
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
    (d / "b.en").write_text("a bird sings\nthe fish swims\n" * 20)
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
    # was '--src-file does not apply with --resume': a file given is the data's new place, checked against
    # what the run recorded — another file in its place is named with the rows that differ
    (["translate", "train", "--resume", "{d}/translate", "--src-file", "{d}/b.en"], "b.en (given for"),
    # --val and --test were ignored by a classify resume; a run that split its validation part from --data
    (["classify", "train", "--resume", "{d}/classify", "--val", "{d}/reviews.csv"], "--val does not apply with --resume"),
    (["classify", "train", "--resume", "{d}/classify", "--test", "{d}/reviews.csv"], "--test does not apply"),
    (["lm", "train", "--resume", "{d}/lm", "--val", "{d}/corpus.txt"], "--val does not apply with --resume"),
    (["translate", "train", "--resume", "{d}/translate", "--data", "{d}/a.en"], "--data does not apply with --resume"),
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


def test_a_run_begun_by_another_lstmkit_version_resumes_with_a_warning_and_says_so(d, tmp_path, capsys):
    """The version a run recorded was never read: a resume by another version mixed two versions'
    training without a word, and lstmkit.json then named only the newer one."""
    from cli_helpers import run_cli
    from lstmkit.version import __version__
    run = tmp_path / "classify"
    shutil.copytree(d / "classify", run)
    meta = json.loads((run / "lstmkit.json").read_text())
    (run / "lstmkit.json").write_text(json.dumps({**meta, "lstmkit_version": "0.0.1"}))
    code, _, err = run_cli(["classify", "train", "--resume", run], capsys)
    assert code == 0, err
    assert (f"warning: {run} was trained so far by lstmkit 0.0.1; this is {__version__}, which continues it: the run "
            "may differ from one trained whole by either version") in err
    meta = json.loads((run / "lstmkit.json").read_text())
    assert (meta["status"], meta["lstmkit_version"], meta["started_lstmkit_version"]) == ("finished", __version__,
                                                                                          "0.0.1")


# the flag that names each task's training file, and that file in {d}
MOVED = {"lm": [("--data", "corpus.txt")], "classify": [("--data", "reviews.csv")],
         "translate": [("--src-file", "a.en"), ("--tgt-file", "a.de")]}


def _data_moved(run, d):
    """The run as if it and its data had moved: the data paths it recorded name a folder that is gone."""
    meta = (run / "lstmkit.json").read_text()
    (run / "lstmkit.json").write_text(meta.replace(json.dumps(str(d))[1:-1], "/gone/old-place"))


@pytest.mark.parametrize("task", sorted(MOVED))
def test_resume_names_the_flag_for_data_that_moved(task, d, tmp_path, capsys):
    """Was 'file not found: OLD PATH — check the path' (translate: its files could not be given at all)."""
    run = tmp_path / "interrupted"
    shutil.copytree(d / task, run)
    _data_moved(run, d)
    flag, name = MOVED[task][0]
    check([task, "train", "--resume", run], 2, f"was trained on /gone/old-place/{name}, which is not there any more",
          tmp_path, capsys, d)
    line = check([task, "train", "--resume", run, *[a for f, n in MOVED[task][1:] for a in (f, d / n)]], 2,
                 "which is not there any more", tmp_path, capsys, d)
    assert f"pass its new place with {flag}" in line


@pytest.mark.parametrize("task", sorted(MOVED))
def test_data_given_at_its_new_place_resumes(task, d, tmp_path, capsys):
    from cli_helpers import run_cli
    run = tmp_path / "interrupted"
    shutil.copytree(d / task, run)
    _data_moved(run, d)
    code, _, err = run_cli([task, "train", "--resume", run, *[a for f, n in MOVED[task] for a in (f, d / n)]], capsys)
    assert code == 0, err
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished"


@pytest.fixture(scope="module")
def finetuned(d, tmp_path_factory):
    """An interrupted `lm train --init-from START` whose START was named relative to the folder it
    ran in (as typed: the config records it so), and that START's copy."""
    import os
    home = tmp_path_factory.mktemp("finetune_home")
    (start,) = (d / "trained_lm").iterdir()
    shutil.copytree(start, home / "start")
    before = os.getcwd()
    os.chdir(home)
    try:
        run = train_once(["lm", "train", "--init-from", "start", "--data", "{d}/corpus.txt", "--epochs", "1",
                          "--progress", "off", "--no-tensorboard", "--no-doctor", "--device", "cpu", "--out", "{out}"],
                         d, home / "runs")
    finally:
        os.chdir(before)
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["config"]["init_from"] == "start"
    meta["status"] = "training"
    (run / "lstmkit.json").write_text(json.dumps(meta))
    return home, run


def test_a_finetuning_resumes_from_another_folder(finetuned, d, tmp_path, capsys, monkeypatch):
    """config.init_from 'start' is relative to the folder the training began in: a resume from any
    other folder was 'run folder not found: start'; the start is found where it was recorded."""
    from cli_helpers import run_cli
    home, interrupted = finetuned
    run = tmp_path / "interrupted"
    shutil.copytree(interrupted, run)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["lm", "train", "--resume", run], capsys)
    assert code == 0, err
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["status"] == "finished" and meta["config"]["init_from"] == str((home / "start").resolve())


def test_a_finetunings_settings_train_again_from_another_folder(finetuned, d, tmp_path, capsys, monkeypatch):
    """`train --config RUN` of a fine-tuning took its config.init_from 'start' as typed, relative to
    the folder that run was trained in: from another folder, 'run folder not found: start — pass the
    folder printed by train', of a path never typed; the start is taken from where the run recorded it."""
    from cli_helpers import run_cli
    home, run = finetuned
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["lm", "train", "--config", run, "--data", d / "corpus.txt", "--epochs", "1",
                            "--progress", "off", "--out", tmp_path / "again"], capsys)
    assert code == 0, err
    (again,) = (tmp_path / "again").iterdir()
    assert json.loads((again / "lstmkit.json").read_text())["config"]["init_from"] == str((home / "start").resolve())


@pytest.mark.parametrize("change, needle", [
    ("moved", "fine-tunes the language model at {start}, which is not there any more"),
    ("other", "fine-tunes the language model that was at {start}; {start} holds other weights"),
])
def test_a_finetuning_whose_start_run_moved(change, needle, finetuned, d, tmp_path, capsys):
    home, interrupted = finetuned
    run = tmp_path / "interrupted"
    shutil.copytree(interrupted, run)
    start = home / "start"
    saved = tmp_path / "saved_start"
    shutil.move(start, saved)
    try:
        if change == "other":                 # another language model in its place
            shutil.copytree(saved, start)
            shutil.copy(interrupted / "model.safetensors", start / "model.safetensors")
        line = check(["lm", "train", "--resume", run], 2, needle.format(start=start.resolve()), tmp_path, capsys, d)
        assert f"back at {start.resolve()}" in line and "with --init-from" in line    # the fix: its new place
    finally:
        shutil.rmtree(start, ignore_errors=True)
        shutil.move(saved, start)


def test_a_run_given_its_validation_lines_in_memory_resumes_with_them(tmp_path):
    """Its data summary records no val_source (the lines were in memory): given again to resume(),
    they are compared by fingerprint, not refused as a file the run started without."""
    from lstmkit.tasks.lm.estimator import LanguageModel
    lines, val = ["the good film", "a bad film", "the great plot"] * 20, ["the good plot", "a bad film"] * 3
    lm = LanguageModel(level="word", min_freq=1, embed_dim=4, hidden_size=4, max_epochs=1, progress="off",
                       tensorboard=False, doctor=False, device="cpu").fit(lines, val, out=tmp_path)
    meta = json.loads((lm.run_dir_ / "lstmkit.json").read_text())
    (lm.run_dir_ / "lstmkit.json").write_text(json.dumps({**meta, "status": "training"}))
    LanguageModel.resume(lm.run_dir_, lines, val)
    assert json.loads((lm.run_dir_ / "lstmkit.json").read_text())["status"] == "finished"


def test_a_finetuning_resumes_from_its_start_at_a_new_place(finetuned, d, tmp_path, capsys):
    """The start run moved: `--resume RUN --init-from NEWPLACE` was refused ('was trained with
    init_from='start' ... would be ignored'); the new place holds the same weights and is used."""
    from cli_helpers import run_cli
    home, interrupted = finetuned
    run, moved = tmp_path / "interrupted", tmp_path / "moved_start"
    shutil.copytree(interrupted, run)
    shutil.copytree(home / "start", moved)
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["data"]["init_from"]["run"] = "/gone/start"          # where it was is empty now
    meta["config"]["init_from"] = "/gone/start"
    (run / "lstmkit.json").write_text(json.dumps(meta))
    code, _, err = run_cli(["lm", "train", "--resume", run, "--init-from", moved], capsys)
    assert code == 0, err
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["status"] == "finished" and meta["config"]["init_from"] == str(moved.resolve())


@pytest.mark.parametrize("given, needle", [
    ("other", "--init-from {place} is not the run {run} started from: it was at {start} with weights fingerprint"),
    ("empty", "--init-from {place} is not a run folder"),
    ("plain", "--init-from does not apply with --resume: {run} did not start from another run"),
])
def test_init_from_given_to_a_resume_that_it_cannot_serve(given, needle, finetuned, d, tmp_path, capsys):
    home, interrupted = finetuned
    run, place = tmp_path / "interrupted", tmp_path / "place"
    shutil.copytree(d / "lm" if given == "plain" else interrupted, run)
    if given == "other":               # a run with other weights: the fine-tuned one itself
        shutil.copytree(interrupted, place)
    else:
        place.mkdir()
    before = (run / "lstmkit.json").read_bytes()
    line = check(["lm", "train", "--resume", run, "--init-from", place], 2,
                 needle.format(place=place, run=run, start=(home / "start").resolve()), tmp_path, capsys, d)
    if given == "other":              # both fingerprints named
        from lstmkit.runs import weights_fingerprint
        assert weights_fingerprint(home / "start") in line and weights_fingerprint(place) in line
    assert (run / "lstmkit.json").read_bytes() == before


@pytest.mark.parametrize("task", ["lm", "classify"])
def test_a_validation_file_for_a_run_given_its_validation_data_in_memory(task, d, tmp_path, capsys):
    """Was '--val does not apply with --resume: RUN started without it' (and the fix, drop --val,
    would have trained on a split of the data instead): it names the in-memory start and the fix."""
    import pandas as pd
    quiet = dict(embed_dim=4, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, doctor=False,
                 device="cpu")
    if task == "lm":
        from lstmkit.tasks.lm.estimator import LanguageModel
        lines = ["the good film", "a bad film", "the great plot"] * 20
        est = LanguageModel(level="word", min_freq=1, **quiet).fit(lines, ["the good plot"] * 4, out=tmp_path / "r")
        role, data, val = "val", d / "corpus.txt", d / "corpus.txt"
    else:
        from lstmkit.tasks.classify import TextClassifier
        frame = pd.read_csv(d / "reviews.csv")
        held_out = pd.DataFrame({"text": ["nice film", "poor plot"] * 4, "label": ["pos", "neg"] * 4})
        est = TextClassifier(min_freq=1, **quiet).fit(frame, val_data=held_out, out=tmp_path / "r")
        role, data, val = "val_data", d / "reviews.csv", d / "reviews.csv"
    meta = json.loads((est.run_dir_ / "lstmkit.json").read_text())
    (est.run_dir_ / "lstmkit.json").write_text(json.dumps({**meta, "status": "training"}))
    line = check([task, "train", "--resume", est.run_dir_, "--data", data, "--val", val], 2,
                 f"{est.run_dir_} was started with its validation data given in memory", tmp_path, capsys, d)
    assert f"resume in Python with the same data: resume(RUN, ..., {role}=THAT_DATA)" in line


@pytest.mark.parametrize("change, needle, fix", [
    ("order", "has its columns in another order (it started with ['text', 'label']; now ['label', 'text'])",
     "pass them in the order it started with (data[['text', 'label']])"),
    ("dtype", "holds the same values with columns of another type: 'label' is float64, was int64",
     "convert them back (data.astype({'label': 'int64'}))"),
])
def test_a_resume_given_its_frame_reordered_or_retyped_names_the_cause(change, needle, fix, tmp_path):
    """Was 'the DataFrame given as data is not the one it trained on (their fingerprints differ)'."""
    import pandas as pd
    from lstmkit.errors import LstmkitError
    from lstmkit.tasks.classify import TextClassifier
    frame = pd.DataFrame([(f"{w} film {k}", k % 2) for k in range(40) for w in ["a"]], columns=["text", "label"])
    est = TextClassifier(min_freq=1, embed_dim=4, hidden_size=4, max_epochs=1, progress="off", tensorboard=False,
                         doctor=False, device="cpu").fit(frame, out=tmp_path)
    meta = json.loads((est.run_dir_ / "lstmkit.json").read_text())
    (est.run_dir_ / "lstmkit.json").write_text(json.dumps({**meta, "status": "training"}))
    before = (est.run_dir_ / "lstmkit.json").read_bytes()
    other = frame[["label", "text"]] if change == "order" else frame.astype({"label": "float64"})
    with pytest.raises(LstmkitError) as e:
        TextClassifier.resume(est.run_dir_, other)
    assert needle in str(e.value) and e.value.hint.startswith(fix)
    assert (est.run_dir_ / "lstmkit.json").read_bytes() == before


# how a run shows and runs, not what it computes (ResumeChecks._RESUME_FREE): a resume may change them
SHOWN = {"progress": "bar", "tensorboard": True, "doctor": True}


def _begun_at_a_terminal(run):
    """The run as begun at a terminal, with the defaults: a progress bar, TensorBoard and the doctor."""
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["config"]["train"].update(SHOWN)
    (run / "lstmkit.json").write_text(json.dumps(meta))
    return meta["config"]


@pytest.mark.parametrize("task", sorted(TRAIN))
def test_a_resume_in_a_log_file_turns_the_progress_bar_and_tensorboard_off(task, d, tmp_path, capsys):
    """A job killed at a terminal, resumed in a log file or CI: `--progress off` (and `--no-tensorboard`,
    `--no-doctor`) was refused as 'would be ignored' but by `forecast train`; they change how the run is
    shown, not what it computes, and the resume applies them. Every other setting stays as recorded."""
    from cli_helpers import run_cli
    run = tmp_path / "interrupted"
    shutil.copytree(d / task, run)
    before = _begun_at_a_terminal(run)
    code, _, err = run_cli([task, "train", "--resume", run, "--progress", "off", "--no-tensorboard", "--no-doctor"],
                           capsys)
    assert code == 0, err
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["status"] == "finished"
    assert {**meta["config"], "train": {**meta["config"]["train"], **SHOWN}} == before
    assert (meta["config"]["train"]["progress"], meta["config"]["train"]["tensorboard"]) == ("off", False)
    assert not (run / "tb").exists() and not (run / "doctor.json").exists()     # as given, not as recorded


def test_a_resume_in_python_takes_the_same_settings(d, tmp_path):
    from lstmkit.tasks.classify import TextClassifier
    from lstmkit.tasks.lm.estimator import LanguageModel
    from lstmkit.tasks.translate.estimator import Translator
    for task, cls in (("classify", TextClassifier), ("lm", LanguageModel), ("translate", Translator)):
        run = tmp_path / task
        shutil.copytree(d / task, run)
        before = _begun_at_a_terminal(run)
        est = cls.resume(run, progress="off", tensorboard=False, doctor=None)      # None: as recorded
        assert (est.config_.train.progress, est.config_.train.tensorboard, est.config_.train.doctor) == ("off", False,
                                                                                                        True)
        assert not (run / "tb").exists() and (run / "doctor.json").exists()
        meta = json.loads((run / "lstmkit.json").read_text())
        assert meta["status"] == "finished" and {**meta["config"], "train": {**meta["config"]["train"], **SHOWN}} == before
    run = tmp_path / "lm_lr"
    shutil.copytree(d / "lm", run)
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr'"):     # what it computes: not given here
        LanguageModel.resume(run, lr=0.5)
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "training"
