"""What a resume may continue (lstmkit.run_resume), on run folders built by hand: the data files it
reads again (there, moved, piped), the run a fine-tuning starts from (there, moved with the same
weights, another run in its place), the version a run began with, and the settings a resume keeps."""
import json
import warnings

import pytest

from lstmkit.errors import LstmkitError
from lstmkit.run_resume import STARTED_KEY, ResumeChecks, _given_start, _recorded, _same_start, _started_version, \
    recorded_file
from lstmkit.runs import FORMAT_VERSION, META_FILE, WEIGHTS_FILE, weights_fingerprint
from lstmkit.version import __version__


def _run(folder, weights=b"weights one", **meta):
    """A run folder: its lstmkit.json (``meta`` over an unfinished forecast run's) and weights file."""
    folder.mkdir(parents=True, exist_ok=True)
    base = {"format_version": FORMAT_VERSION, "task": "forecast", "status": "training", "lstmkit_version": __version__}
    (folder / META_FILE).write_text(json.dumps({**base, **meta}))
    if weights is not None:
        (folder / WEIGHTS_FILE).write_bytes(weights)
    return folder


# ---- the data files a resume reads again -------------------------------------------------------------

def test_a_recorded_file_still_there_is_read_again(tmp_path):
    data = tmp_path / "sine.csv"
    data.write_text("y\n1\n")
    assert recorded_file({"source": str(data)}, "source", "RUN", "--data") == str(data)
    assert recorded_file({}, "source", "RUN", "--data") is None          # given in memory: nothing recorded


@pytest.mark.parametrize("resuming", [True, False])
def test_a_recorded_file_that_is_gone_names_the_option_for_its_new_place(resuming, tmp_path):
    gone = str(tmp_path / "moved" / "sine.csv")
    with pytest.raises(LstmkitError) as e:
        recorded_file({"source": gone}, "source", "RUN", "--data", resuming=resuming)
    assert str(e.value).startswith(f"RUN was trained on {gone}, which is not there any more")
    assert e.value.hint.startswith("pass its new place with --data")
    # a resume checks the file given; a backtest without --data has no new run to start
    assert ("checks it holds the same data" in e.value.hint) is resuming
    assert ("start a new run without --resume" in e.value.hint) is resuming


def test_a_file_gone_for_a_command_that_is_not_a_resume_names_only_its_new_place(tmp_path):
    """forecast backtest without --data reads the file its run recorded: no resume to speak of."""
    with pytest.raises(LstmkitError) as e:
        recorded_file({"source": str(tmp_path / "gone.csv")}, "source", "RUN", "--data")
    assert e.value.hint == "pass its new place with --data"


def test_a_resume_given_no_file_reads_the_one_recorded(tmp_path):
    data = tmp_path / "sine.csv"
    data.write_text("y\n1\n")
    meta = {"data": {"source": str(data), "files": {"src_file": str(tmp_path / "gone.en")}}}
    assert ResumeChecks._resume_file(meta, "RUN", "source", None, "--data") == str(data)
    assert ResumeChecks._resume_file({}, "RUN", "source", None, "--data") is None       # no data summary
    with pytest.raises(LstmkitError) as e:
        ResumeChecks._resume_file(meta, "RUN", "files.src_file", None, "--src-file")
    assert e.value.hint == ("pass its new place with --src-file (--resume checks it holds the same data), or start a "
                            "new run without --resume")


@pytest.mark.parametrize("pipe, said", [("standard input", "data piped to standard input"),
                                        ("/dev/fd/63", "the pipe /dev/fd/63")])
def test_data_read_from_a_pipe_cannot_be_read_again(pipe, said):
    with pytest.raises(LstmkitError) as e:
        recorded_file({"piped": {"source": pipe}}, "source", "RUN", "--data", resuming=True)
    assert e.value.message == f"RUN was trained on {said}, which cannot be read again"
    assert e.value.hint.startswith("pass the data again with --data")
    assert e.value.hint.endswith("or start a new run without --resume")


def test_a_pipe_of_another_role_or_a_file_recorded_beside_a_pipe_is_not_refused(tmp_path):
    data = tmp_path / "a.en"
    data.write_text("x\n")
    assert recorded_file({"piped": {"val_source": "standard input"}}, "source", "RUN", "--data") is None
    assert recorded_file({"source": str(data), "piped": {"source": "standard input"}}, "source", "RUN",
                         "--data") == str(data)


def test_a_dotted_key_reads_into_the_summary():
    summary = {"files": {"src_file": "a.en"}, "source": "x.csv"}
    assert _recorded(summary, "files.src_file") == "a.en"
    assert _recorded(summary, "source.src_file") is None                # not a section: not there
    assert _recorded(summary, "files.tgt_file") is None


def test_a_file_given_to_resume_is_taken_where_the_run_recorded_one(tmp_path):
    meta = {"data": {"source": "/old/sine.csv", "val_source": "/old/val.csv"}}
    for key in ("source", "val_source"):
        assert ResumeChecks._resume_file(meta, "RUN", key, "/new/x.csv", "--val") == "/new/x.csv"


def test_a_file_given_where_the_run_started_without_one_is_refused():
    with pytest.raises(LstmkitError) as e:
        ResumeChecks._resume_file({"data": {"source": "a.csv"}}, "RUN", "val_source", "/new/val.csv", "--val")
    assert e.value.message == "--val does not apply with --resume: RUN started without it"
    assert e.value.hint == "drop --val to resume, or start a new run without --resume"


def test_a_file_given_where_the_run_recorded_no_piped_roles_as_null_is_refused_as_with_none():
    """Was: TypeError (argument of type 'NoneType' is not iterable) for ``"piped": null``."""
    with pytest.raises(LstmkitError, match="--val does not apply with --resume: RUN started without it"):
        ResumeChecks._resume_file({"data": {"source": "a.csv", "piped": None}}, "RUN", "val_source", "/new/val.csv",
                                  "--val")


def test_data_given_in_memory_or_for_a_piped_role_or_as_the_training_data_is_taken():
    meta = {"data": {"piped": {"val_source": "standard input"}}}
    assert ResumeChecks._resume_file(meta, "RUN", "val_source", "/new/val.csv", "--val") == "/new/val.csv"
    assert ResumeChecks._resume_file({"data": {}}, "RUN", "source", "/new/a.csv", "--data") == "/new/a.csv"
    lines = ["a b", "c d"]                      # in memory: compared by fingerprint when training starts
    assert ResumeChecks._resume_file({"data": {}}, "RUN", "val_source", lines, "--val") is lines


def test_the_training_data_recorded_nowhere_says_what_the_run_was_trained_on():
    with pytest.raises(LstmkitError) as e:
        ResumeChecks._resume_source({"data": {}}, "RUN", None, "a list of lines", "pass them again")
    assert (e.value.message, e.value.hint) == ("RUN was trained on a list of lines", "pass them again")


@pytest.mark.parametrize("memory, said, role", [
    ({"val": "abc"}, "validation", "val"), ({"val_data": "abc"}, "validation", "val_data"),
    ({"test": "abc"}, "test", "test"),
])
def test_a_file_for_data_the_run_was_given_in_memory_says_so(memory, said, role):
    key = "val_source" if said == "validation" else "test_source"
    with pytest.raises(LstmkitError) as e:
        ResumeChecks._resume_file({"data": {"memory_sha256": memory}}, "RUN", key, "/x.csv", "--val")
    assert e.value.message == (f"--val does not apply with --resume: RUN was started with its {said} data given in "
                            "memory (to fit() in Python), not as a file")
    assert e.value.hint == (f"resume in Python with the same data: resume(RUN, ..., {role}=THAT_DATA); or start a new "
                            "run without --resume")


# ---- the version a run began with ------------------------------------------------------------------

def test_a_run_of_this_version_resumes_without_a_word():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _started_version({"lstmkit_version": __version__}, "RUN") is None
        assert _started_version({}, "RUN") is None
        assert _started_version({"lstmkit_version": 3}, "RUN") is None           # damaged: no version said


def test_a_run_of_another_version_is_continued_with_one_warning():
    with pytest.warns(UserWarning, match=f"RUN was trained so far by lstmkit 0.0.1; this is {__version__}") as w:
        assert _started_version({"lstmkit_version": "0.0.1"}, "RUN") == "0.0.1"
    assert len(w) == 1 and f"{STARTED_KEY} 0.0.1" in str(w[0].message)


def test_a_run_begun_by_another_version_keeps_its_first_version():
    with warnings.catch_warnings():        # resumed by this version before: its epochs now are this one's
        warnings.simplefilter("error")
        assert _started_version({"lstmkit_version": __version__, STARTED_KEY: "0.0.1"}, "RUN") == "0.0.1"
        assert _started_version({"lstmkit_version": __version__, STARTED_KEY: __version__}, "RUN") is None
    with pytest.warns(UserWarning, match=f"will say {STARTED_KEY} 0.0.1"):
        assert _started_version({"lstmkit_version": "0.0.2", STARTED_KEY: "0.0.1"}, "RUN") == "0.0.1"


# ---- the run a fine-tuning starts from -------------------------------------------------------------

def _finetuning(start, at=None, fingerprint=True):
    """An unfinished fine-tuning's lstmkit.json: config.init_from 'start' as typed, and its start recorded
    at ``at`` (an absolute place) with the start's weights fingerprint."""
    record = {"run": str(at or start)}
    if fingerprint:
        record["fingerprint"] = weights_fingerprint(start)
    return {"config": {"init_from": "start", "train": {"lr": 0.01}}, "data": {"init_from": record}}


def test_a_run_that_did_not_fine_tune_resumes_with_its_config():
    meta = {"config": {"init_from": None, "hidden_size": 4}}
    for config in (meta["config"], {"init_from": ""}, {"init_from": 3}, {}):
        assert ResumeChecks._resume_init_from({"config": config}, "RUN") == config
        with pytest.raises(LstmkitError) as e:
            ResumeChecks._resume_init_from({"config": config}, "RUN", "/some/run")
        assert e.value.message == "--init-from does not apply with --resume: RUN did not start from another run"
        assert e.value.hint == "drop --init-from to resume, or start a new run without --resume"


def test_a_finetuning_resumes_from_its_start_where_it_was_recorded(tmp_path):
    start = _run(tmp_path / "start")
    config = ResumeChecks._resume_init_from(_finetuning(start), "RUN")
    assert config == {"init_from": str(start.resolve()), "train": {"lr": 0.01}}


def test_a_finetuning_whose_recorded_place_is_gone_finds_it_as_typed(tmp_path, monkeypatch):
    start = _run(tmp_path / "start")
    monkeypatch.chdir(tmp_path)                              # 'start', as typed, is here
    meta = _finetuning(start, at=tmp_path / "gone")
    assert ResumeChecks._resume_init_from(meta, "RUN")["init_from"] == str(start.resolve())


def test_a_start_half_there_is_not_a_run(tmp_path):
    start = _run(tmp_path / "start")
    meta = _finetuning(start)
    (start / WEIGHTS_FILE).unlink()                           # its lstmkit.json alone
    with pytest.raises(LstmkitError, match=f"fine-tunes the language model at {start}, which is not there any more") as e:
        ResumeChecks._resume_init_from(meta, "RUN")
    assert e.value.hint == (f"pass its new place with --init-from (--resume checks it holds the same weights), put it "
                            f"back at {start}, or start a new run without --resume")
    (start / WEIGHTS_FILE).write_bytes(b"weights one")
    (start / META_FILE).unlink()                              # its weights alone
    with pytest.raises(LstmkitError, match="which is not there any more"):
        ResumeChecks._resume_init_from(meta, "RUN")


def test_another_run_in_the_starts_place_is_refused(tmp_path):
    start = _run(tmp_path / "start")
    meta = _finetuning(start)
    (start / WEIGHTS_FILE).write_bytes(b"weights two")
    with pytest.raises(LstmkitError) as e:
        ResumeChecks._resume_init_from(meta, "RUN")
    assert e.value.message == f"RUN fine-tunes the language model that was at {start}; {start} holds other weights"
    assert e.value.hint == (f"put that run back at {start} (or pass its new place with --init-from) to resume, or "
                            "start a new run without --resume")


def test_a_start_that_recorded_no_fingerprint_is_any_run_there(tmp_path):
    start = _run(tmp_path / "start")
    meta = _finetuning(start, fingerprint=False)
    (start / WEIGHTS_FILE).write_bytes(b"weights two")
    assert ResumeChecks._resume_init_from(meta, "RUN")["init_from"] == str(start.resolve())


def test_a_start_given_at_its_new_place_is_checked_by_its_weights(tmp_path):
    start = _run(tmp_path / "start")
    meta = _finetuning(start, at=tmp_path / "gone")
    moved = _run(tmp_path / "moved")                           # the same weights elsewhere
    assert ResumeChecks._resume_init_from(meta, "RUN", moved)["init_from"] == str(moved.resolve())
    other = _run(tmp_path / "other", weights=b"weights two")
    with pytest.raises(LstmkitError) as e:
        _given_start(meta, "RUN", str(other), "start")
    assert str(e.value).startswith(f"--init-from {other} is not the run RUN started from: it was at {tmp_path / 'gone'}"
                                   f" with weights fingerprint {weights_fingerprint(start)}, {other} holds "
                                   f"{weights_fingerprint(other)}")
    assert e.value.hint == "pass the folder that run moved to, or start a new run without --resume"
    assert _given_start(_finetuning(start, fingerprint=False), "RUN", str(other), "start") == str(other.resolve())
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LstmkitError, match=f"^--init-from {empty} is not a run folder"):
        _given_start(meta, "RUN", str(empty), "start")


def test_the_same_start_is_the_same_weights(tmp_path):
    start = _run(tmp_path / "start")
    moved = _run(tmp_path / "moved")
    other = _run(tmp_path / "other", weights=b"weights two")
    meta = _finetuning(start)
    assert _same_start(meta, str(moved)) is True
    assert _same_start(meta, str(other)) is False
    assert _same_start(meta, str(tmp_path / "nowhere")) is False
    assert _same_start(meta, None) is False
    assert _same_start(_finetuning(start, fingerprint=False), str(moved)) is False   # nothing to check it by


# ---- the settings a resume keeps (fit(resume=True)) ---------------------------------------------------

class _Config:
    def __init__(self, **settings):
        self.settings = settings

    def to_dict(self):
        return self.settings


class _Fit(ResumeChecks):
    TASK = "forecast"

    def __init__(self, **settings):
        self.config_ = _Config(**settings)


def test_fit_resume_needs_the_run_folder():
    with pytest.raises(LstmkitError, match="^resume=True needs run_dir"):
        _Fit()._check_resumable(None)


def test_fit_resume_of_a_finished_run_is_refused(tmp_path):
    run = _run(tmp_path / "run", status="finished", config={})
    with pytest.raises(LstmkitError) as e:
        _Fit()._check_resumable(run)
    assert (e.value.message, e.value.hint) == (f"{run} already finished training",
                                               "start a new run instead of --resume")


def test_fit_resume_keeps_the_runs_settings_and_may_change_how_it_shows(tmp_path):
    run = _run(tmp_path / "run", config={"hidden_size": 4, "train": {"lr": 0.01, "progress": "bar"}})
    fit = _Fit(hidden_size=4, train={"lr": 0.01, "progress": "off", "newer": 1})
    assert fit._check_resumable(run)["config"]["hidden_size"] == 4 and fit._started_version is None
    with pytest.raises(LstmkitError) as e:
        _Fit(hidden_size=4, train={"lr": 0.5})._check_resumable(run)
    assert str(e.value).startswith(f"{run} was trained with lr=0.01, not 0.5; a resumed run must keep its settings")


def test_fit_resume_of_a_finetuning_may_name_its_start_at_a_new_place(tmp_path):
    start = _run(tmp_path / "start")
    moved = _run(tmp_path / "moved")
    other = _run(tmp_path / "other", weights=b"weights two")
    run = _run(tmp_path / "run", **_finetuning(start))
    assert _Fit(init_from=str(moved), train={"lr": 0.01})._check_resumable(run)["status"] == "training"
    with pytest.raises(LstmkitError, match=f"was trained with init_from='start', not '{other}'"):
        _Fit(init_from=str(other), train={"lr": 0.01})._check_resumable(run)
    with pytest.raises(LstmkitError, match=f"was trained with lr=0.01, not '{moved}'"):   # the same weights: init_from only
        _Fit(init_from="start", train={"lr": str(moved)})._check_resumable(run)


def test_fit_resume_of_another_versions_run_records_the_version_it_began_with(tmp_path):
    run = _run(tmp_path / "run", lstmkit_version="0.0.1", config={})
    fit = _Fit()
    with pytest.warns(UserWarning, match="trained so far by lstmkit 0.0.1"):
        fit._check_resumable(run)
    assert fit._started_version == "0.0.1"


class _Shown(ResumeChecks):
    def set_params(self, **given):
        self.given = given
        return self


def test_resume_may_change_how_a_run_shows_and_nothing_else():
    est = _Shown()
    assert est._shown({"progress": "off", "tensorboard": None, "doctor": False}) is est
    assert est.given == {"progress": "off", "doctor": False}           # None: as the run recorded
    fresh = _Shown()
    assert fresh._shown({"device": None}) is fresh and not hasattr(fresh, "given")
    with pytest.raises(TypeError, match="^_Shown.resume\\(\\) got an unexpected keyword argument 'lr'$"):
        _Shown()._shown({"progress": "off", "lr": 0.5})
