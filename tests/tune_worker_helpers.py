"""What the tests of several ``lstmkit tune`` workers on one study share: the command over a tiny
series, workers started as real processes, and readings of the study and of the outputs."""
import contextlib
import os
import subprocess
import sys

import optuna
import pandas as pd
import yaml

from forecast_data import sine_frame
from interrupt_helpers import ctrl_c_reaches_the_child

try:
    from lstmkit.tune_storage import HOLDING_LINE
except ImportError:     # benchmarks/tune_interrupt_stress.py --src of a commit before the line: none said
    HOLDING_LINE = None

SPACE = ("hidden_size: {type: int, low: 4, high: 12}\n"
         "lr: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}\n"
         "lookback: [12, 24]\n"
         "batch_size: [32, 64]\n")

# a worker that says on stderr when a trial ends an epoch: the test's cue to press Ctrl-C inside a trial; it
# leaves a file named by its process id in FOLDER (sys.argv[1]) first, for an OVERLAPPING_WORKER beside it
MARKED_WORKER = """
import os, sys
import lstmkit.tune as tune
from lstmkit.cli import main
folder = sys.argv[1]
seen = tune._Pruning.on_epoch_end
def marked(self, trainer, logs):
    open(os.path.join(folder, str(os.getpid())), "w").close()
    print(f"epoch {logs['epoch']} of trial {self.trial.number}", file=sys.stderr, flush=True)
    seen(self, trainer, logs)
tune._Pruning.on_epoch_end = marked
main(sys.argv[2:])
"""

# MARKED_WORKER that, once it has said 'epoch 1 of trial N', waits there (up to 300 s) for the signal the test sends
# on that cue: it lands inside the trial. Left to run on, the worker was wherever it had got to by the time the
# test's process ran again: on a loaded machine the trial's end, between two trials (no trial cut, the test's one
# interrupted trial missing) or a storage call
WAITING_WORKER = MARKED_WORKER.replace("import os, sys\n", "import os, sys, time\nwaited = []\n").replace(
    "    seen(self, trainer, logs)\n",
    "    if not waited:\n        waited.append(1)\n        time.sleep(300)\n    seen(self, trainer, logs)\n")
assert WAITING_WORKER.count("time.sleep(300)") == 1 and "waited = []" in WAITING_WORKER

# a worker that stops between creating its trial and recording the trial's first heartbeat, and says
# so on stderr: the test's cue to kill it there (kill -9)
STALLED_WORKER = """
import sys, time
import optuna
beat = optuna.storages.RDBStorage.record_heartbeat
def stall(self, trial_id):
    print(f"trial {trial_id} created", file=sys.stderr, flush=True)
    time.sleep(600)
optuna.storages.RDBStorage.record_heartbeat = stall
from lstmkit.cli import main
main(sys.argv[1:])
"""

# a worker whose first trial waits, at its first epoch's end, until every one of WORKERS workers is inside a trial
# (each leaves a file named by its process id in FOLDER): no worker can run all the trials before another starts
# (on a loaded machine one worker's imports can take longer than the other's whole study). After 300 s it goes
# on, and the test sees which worker ran nothing.
OVERLAPPING_WORKER = """
import os, sys, time
import lstmkit.tune as tune
from lstmkit.cli import main
folder, workers = sys.argv[1], int(sys.argv[2])
seen = tune._Pruning.on_epoch_end
def overlapped(self, trainer, logs):
    mine = os.path.join(folder, str(os.getpid()))
    if not os.path.exists(mine):
        open(mine, "w").close()
        deadline = time.monotonic() + 300
        while len(os.listdir(folder)) < workers and time.monotonic() < deadline:
            time.sleep(0.05)
    seen(self, trainer, logs)
tune._Pruning.on_epoch_end = overlapped
main(sys.argv[3:])
"""


def tune_command(tmp_path):
    """``lstmkit tune forecast`` args over a tiny series (its --out: tmp_path/study), --trials left out."""
    sine_frame(n=300).to_csv(tmp_path / "sine.csv", index=False)
    (tmp_path / "space.yaml").write_text(SPACE)
    # no ETS baseline: each trial scored it on the test part, and each worker process imported statsmodels for it
    (tmp_path / "base.yaml").write_text("num_layers: 1\nensemble: 1\nets: false\n"
                                        "train:\n  device: cpu\n  doctor: false\n")
    return ["tune", "forecast", "--data", tmp_path / "sine.csv", "--target", "y", "--time", "time",
            "--config", tmp_path / "base.yaml", "--space", tmp_path / "space.yaml", "--epochs", "2",
            "--seed", "0", "--out", tmp_path / "study"]


def start_worker(args, code=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}          # two workers share 2 cores
    start = ["-c", code] if code else ["-m", "lstmkit"]
    return subprocess.Popen([sys.executable, *start, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=ctrl_c_reaches_the_child)


@contextlib.contextmanager
def ended_at_the_end(*workers):
    """The block, then each of ``workers`` still running killed: a test that fails midway leaves none behind (a
    WAITING_WORKER waits 300 s for its signal, an OVERLAPPING_WORKER up to 300 s for the other workers)."""
    try:
        yield
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()


def open_study(out):
    return optuna.load_study(study_name="forecast", storage=f"sqlite:///{out / 'study.db'}")


def counted_trials(study):
    from lstmkit.tune import _counts
    return [t for t in study.trials if _counts(t)]


def announced_trials(stderr):
    """The trials a worker's progress lines (on standard error) say it ran."""
    return [int(line.split()[1].rstrip(":")) for line in stderr.splitlines() if line.startswith("trial ")]


def not_progress_lines(stderr):
    """Standard error's lines that are not the study's progress lines (trials, what is searched, the study's count),
    nor the line a Ctrl-C a storage call held for over a second is answered with (a slow call under load)."""
    return [line for line in stderr.splitlines()
            if not line.startswith(("trial ", "not searched", "the study ")) and line != HOLDING_LINE]


def check_outputs(out, study):
    """trials.csv lists every trial of the study but the surplus ones, best.yaml names its best, and no
    temp file is left."""
    assert list(pd.read_csv(out / "trials.csv")["number"]) == [t.number for t in study.trials
                                                               if not t.user_attrs.get("surplus")]
    best = yaml.safe_load((out / "best.yaml").read_text())
    header = (out / "best.yaml").read_text().splitlines()[0]
    assert f"(trial {study.best_trial.number}, val_loss {study.best_value:.6g})" in header
    assert best["hidden_size"] == study.best_params["hidden_size"]
    assert best["train"]["lr"] == study.best_params["lr"]
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def check_lost(out, lost):
    """trials.csv marks the trials numbered ``lost`` as its worker's loss, as the interrupted ones are
    marked: a FAIL row with no reason read as a setting that failed."""
    rows = pd.read_csv(out / "trials.csv")
    assert rows["user_attrs_worker_lost"].eq(True).tolist() == [n in lost for n in rows["number"]]
    assert set(rows.loc[rows["number"].isin(lost), "state"]) == {"FAIL"}
