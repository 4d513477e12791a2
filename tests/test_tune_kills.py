"""``lstmkit tune`` stopped at a bad moment and run again: the study it ends with is the one never
interrupted (the same settings tried, the same best), whether Ctrl-C cut a trial's training or
optuna's record of its end, or ``kill -9`` took the worker. Ctrl-C among the outputs, in one worker
of several: tests/test_tune.py and tests/test_tune_worker_loss.py.
"""
import re
import signal
import threading

import optuna
import pandas as pd
import pytest
from optuna.storages._heartbeat import HeartbeatThread

from cli_helpers import run_cli
from interrupt_helpers import ctrl_c_on_call
from tune_worker_helpers import (WAITING_WORKER, check_lost, check_outputs, counted_trials, ended_at_the_end,
                                 not_progress_lines, open_study, start_worker, tune_command)

TRIALS = 2


def _tried(out):
    """The settings and validation losses of a study's completed trials, in the order they ran."""
    frame = pd.read_csv(out / "trials.csv")
    done = frame[frame["state"] == "COMPLETE"]
    return done[sorted(c for c in frame if c.startswith("params_")) + ["value"]].to_dict("records")


def _best_settings(out):
    """best.yaml less the best trial's number (a cut trial takes one) and the line naming the file itself."""
    first, _, *settings = (out / "best.yaml").read_text().splitlines()
    return [re.sub(r"\(trial \d+, ", "(trial N, ", first), *settings]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The command's args (--trials left out) and the --out of the study it runs never interrupted."""
    where = tmp_path_factory.mktemp("straight")
    args = tune_command(where)[:-1]
    try:
        from lstmkit.cli import main
        main([str(a) for a in [*args, where / "study", "--trials", TRIALS]])
    except SystemExit as e:
        assert e.code in (0, None)
    return args, where / "study"


@pytest.mark.parametrize("where, after", [
    ("lstmkit.tasks.forecast.estimator:Forecaster.fit", False),     # the second trial's training
    ("optuna.study._optimize:_tell_with_warning", False),           # optuna recording the second trial's end
    ("optuna.storages._heartbeat:HeartbeatThread.start", False),    # the second trial made, its objective not begun
    ("optuna.storages._heartbeat:HeartbeatThread.start", True),     # ... its heartbeat beating
])
def test_a_study_cut_and_continued_ends_as_the_one_never_interrupted(where, after, straight, tmp_path, capsys,
                                                                    monkeypatch):
    """The trial after a cut one was seeded by its number: the cut trial's settings were never tried,
    and every later trial drew others (the best a worse one). Ctrl-C while optuna recorded a trial's
    end was an UnboundLocalError traceback from inside optuna, exit 3, the trial left running; Ctrl-C
    before a trial's objective began left the trial running (the same command run again said another
    worker ran it, and ended a trial short), and one once its heartbeat had started left the heartbeat
    beating: the command said 'interrupted', then waited for that thread for ever."""
    args, reference = straight
    out = tmp_path / "study"
    with monkeypatch.context() as m:
        calls = ctrl_c_on_call(m, where, 2, after=after)
        code, _, err = run_cli([*args, out, "--trials", TRIALS], capsys)
    assert len(calls) == 2 and code == 130 and "Traceback" not in err, err
    assert not [t for t in threading.enumerate() if getattr(t, "_target", None) is HeartbeatThread._record_heartbeat]
    assert not_progress_lines(err) == [f"interrupted; the study is saved in sqlite:///{out / 'study.db'} — run the "
                                       "same command again to continue"], err
    (cut,) = [t for t in open_study(out).trials if t.number == 1]
    assert cut.state.name == "FAIL" and cut.user_attrs == {"interrupted": True}
    code, _, err = run_cli([*args, out, "--trials", TRIALS], capsys)
    assert code == 0 and not not_progress_lines(err), err
    assert _tried(out) == _tried(reference)
    assert _best_settings(out) == _best_settings(reference)
    study = open_study(out)
    assert [t.number for t in counted_trials(study)] == [0, 2]
    check_outputs(out, study)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_the_same_command_right_after_kill_9_loses_the_dead_workers_trial_at_once(straight, tmp_path, capsys):
    """The trial of a worker killed outright held its place for the 60 s grace period: the same command
    run again at once said 'other workers are running 1' of a worker that was dead, ran one trial
    fewer and ended, exit 0, with a study a trial short, the killed trial still running."""
    args, reference = straight
    args = [*tune_command(tmp_path)[:-1], tmp_path / "study", "--trials", TRIALS]
    marks = tmp_path / "marks"                   # where WAITING_WORKER leaves its file (its first argument)
    marks.mkdir()
    killed = start_worker([marks, *args], WAITING_WORKER)
    said = []
    with ended_at_the_end(killed):
        while "epoch 1 of trial 0" not in (line := killed.stderr.readline()):     # inside its first trial, waiting
            assert line, "".join(said) + killed.communicate()[1]
            said.append(line)
        killed.kill()
        killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert open_study(tmp_path / "study").trials[0].state == optuna.trial.TrialState.RUNNING
    code, _, err = run_cli(args, capsys)
    assert code == 0 and not not_progress_lines(err) and "other workers" not in err, err
    study = open_study(tmp_path / "study")
    assert [t.number for t in counted_trials(study)] == [1, 2]
    check_lost(tmp_path / "study", [0])
    check_outputs(tmp_path / "study", study)
    # the same settings tried as in the study never interrupted (the losses too, to the threads' rounding)
    tried, want = _tried(tmp_path / "study"), _tried(reference)
    assert [{k: v for k, v in row.items() if k != "value"} for row in tried] == \
           [{k: v for k, v in row.items() if k != "value"} for row in want]
    assert [row["value"] for row in tried] == pytest.approx([row["value"] for row in want], rel=1e-4)


def test_a_trial_takes_the_smallest_proposal_index_no_counted_or_running_trial_holds():
    """An uninterrupted study's trials hold their numbers; the trial after a cut one takes the index the cut
    one left, a trial running in another worker (or waiting) keeps its own, and one that recorded an index
    holds that index: so a continued study draws what the uninterrupted one drew."""
    from lstmkit.tune import _CUT, _INDEX, _index_among
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()

    def _proposal_index(study, number):
        return _index_among(study.get_trials(deepcopy=False), number)

    def asked():                                                # a trial asked, its index recorded as tune does
        trial = study.ask()
        index = _proposal_index(study, trial.number)
        study._storage.set_trial_system_attr(trial._trial_id, _INDEX, index)
        return trial, index

    first, index = asked()
    assert index == 0
    study.tell(first, 1.0)                                      # 0: completed, holds 0
    cut, index = asked()
    assert index == 1
    study._storage.set_trial_user_attr(cut._trial_id, _CUT, True)
    study.tell(cut, state=optuna.trial.TrialState.FAIL)         # 1: cut by Ctrl-C, holds nothing
    running, index = asked()
    assert index == 1                                           # 2: takes the cut one's index, and runs on
    assert [asked()[1] for _ in range(2)] == [2, 3]             # 3, 4 (running too): not a running trial's
    assert _proposal_index(study, 5) == 4

@pytest.mark.parametrize("make, want", [
    (lambda: KeyboardInterrupt(), True),
    (lambda: ValueError("plain"), False),
])
def test_an_error_raised_while_ctrl_c_was_handled_is_told_from_any_other(make, want):
    """optuna's UnboundLocalError, raised while a KeyboardInterrupt was being handled, reads as an interrupt
    (its context is the KeyboardInterrupt); an error with no interrupt in its chain does not."""
    from lstmkit.tune import _from_an_interrupt
    try:
        try:
            raise make()
        except BaseException:
            raise UnboundLocalError("cannot access local variable 'frozen_trial'")
    except UnboundLocalError as e:
        error = e
    assert _from_an_interrupt(error) is want
    looped = ValueError("own context")
    looped.__context__ = looped
    assert _from_an_interrupt(looped) is False


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_two_workers_asking_at_one_instant_after_a_cut_take_two_proposal_indices(tmp_path):
    """Each trial's index is taken in the transaction that makes it: two workers that ask for trials one right
    after the other, before either drew a setting, see each other's index (each read the other's trial, still
    holding no index, and both took the cut one's index 1, so both drew its settings)."""
    from lstmkit.tune import _CUT, _INDEX, _open_study, _seed_proposals
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    one, two = (_open_study(optuna, url, "s", 7) for _ in range(2))     # two workers' storages, one study
    first = one.ask()
    one.tell(first, 1.0)                                                # 0: completed, holds 0
    cut = one.ask()
    one._storage.set_trial_user_attr(cut._trial_id, _CUT, True)
    one.tell(cut, state=optuna.trial.TrialState.FAIL)                   # 1: cut: its index is free
    a, b = one.ask(), two.ask()                                         # both made before either draws
    meet = threading.Barrier(2)
    for worker in (one, two):                   # a write of the trials' attributes waits for the other worker's
        write = worker._storage.set_trial_system_attr   # reads: the two start their trials at one instant
        worker._storage.set_trial_system_attr = lambda *args, write=write: (meet.wait(10), write(*args))
    starts = [threading.Thread(target=_seed_proposals, args=(optuna, w, 7, t)) for w, t in ((one, a), (two, b))]
    for t in starts:
        t.start()
    for t in starts:
        t.join(30)
    indices = [w._storage.get_trial_system_attrs(t._trial_id)[_INDEX] for w, t in ((one, a), (two, b))]
    assert indices == [1, 2]
    seen = {t.number: t.system_attrs[_INDEX] for t in two.get_trials()}  # what the database holds
    assert seen == {0: 0, 1: 1, 2: 1, 3: 2}
