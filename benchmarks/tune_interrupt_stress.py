"""Stress of a Ctrl-C (or SIGTERM) at a random moment in one of two ``lstmkit tune`` workers on one SQLite study.

The scenario of ``tests/test_tune_worker_loss.py::test_ctrl_c_in_one_worker_leaves_the_other_running_and_the_study_
continuable`` (its ``MARKED_WORKER`` cut, its ``OVERLAPPING_WORKER`` beside it, ``--trials 4`` over the tests' tiny
series), with the signal sent not at the cut worker's first epoch but at a moment drawn uniformly over its life
(Python's start and imports, opening the study, inside a trial, between trials, writing the outputs). The cut
worker runs the real ``lstmkit`` entry point (:func:`lstmkit.launch.main`, which takes SIGTERM as Ctrl-C), with
lines on standard error saying where it is (``phase ...``, the tests' ``epoch ...``), which name the phase a
signal landed in. Each run checks:

- the cut worker ends with exit 130 and one line, ``interrupted...`` (exit 0 where it had finished; before
  ``lstmkit.launch`` is imported, Python's own start, which launch.py says is not covered: ended by the signal);
- the other worker ends with exit 0 and no line but its progress;
- the study holds no RUNNING trial, and 4 counted trials (3 where the other worker had announced its last trial
  before the signal: it stopped counting the cut worker's running trial as one of the 4);
- the same command (``--trials 5``) continues it: exit 0, 5 counted trials, each number once, the outputs whole.

A worker that does not end within ``--hang`` seconds is a failure (the lock the flake left: 'database is locked'
after SQLite's 120 s busy timeout). Every process is killed at the end of its run, whatever happened.

    python benchmarks/tune_interrupt_stress.py --runs 10 --signal both [--src PATH] [--seed 0] [--json FILE]

``--src``: the lstmkit source folder the workers import (default: this checkout's ``src``), e.g. an older
commit's (``git archive COMMIT src | tar -x -C /tmp/old``). One instance runs one scenario at a time (two
workers); CI runs two pytest workers, so run two instances at once for its load. Prints one line per run and a
JSON summary (also to ``--json``).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

# where the cut worker is: lines on its standard error (the tests' MARKED_WORKER says 'epoch N of trial M')
_PHASES = """
import sys as _sys
def _say(what):
    print(f"phase {what}", file=_sys.stderr, flush=True)
def _told(function, before, after=None):
    def told(*args, **kwargs):
        _say(before)
        result = function(*args, **kwargs)
        if after:
            _say(after)
        return result
    return told
tune._open_study = _told(tune._open_study, "study-open", "study-opened")
tune._write_outputs = _told(tune._write_outputs, "outputs")
tune._Pruning.__init__ = _told(tune._Pruning.__init__, "trial-start")
_say("main")
"""


def cut_worker_code() -> str:
    """The tests' MARKED_WORKER, run through the ``lstmkit`` entry point and saying its phases."""
    from tune_worker_helpers import MARKED_WORKER
    entry = "from lstmkit.cli import main\n"
    assert entry in MARKED_WORKER, "MARKED_WORKER changed: update the stress harness"
    return ("import sys\nprint('phase python', file=sys.stderr, flush=True)\n"
            + MARKED_WORKER.replace(entry, _PHASES + "from lstmkit.launch import main\n"))


class Reader(threading.Thread):
    """A stream's lines with the monotonic time each arrived (the pipe read as it fills, never blocking the child)."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines = stream, []

    def run(self):
        for line in self.stream:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def phase_at(lines, when: float) -> str:
    """The cut worker's phase at ``when``: named by its last line on standard error before it."""
    last = [line for t, line in lines if t <= when and line.startswith(("phase ", "epoch ", "trial "))]
    if not last:
        return "start"
    line = last[-1]
    if line.startswith("epoch ") or line == "phase trial-start":
        return "trial"
    if line.startswith("trial "):
        return "between-trials"
    phase = line.split()[1]
    return {"study-opened": "between-trials", "python": "import", "main": "cli-import"}.get(phase, phase)


def end(process, seconds: float):
    """Wait for ``process``; None where it outlived ``seconds`` (then it is killed)."""
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def one_run(work: Path, delay: float | None, signum, hang: float) -> dict:
    """One scenario; ``delay``: seconds after the cut worker's start to send ``signum`` (None: never)."""
    from tune_worker_helpers import (OVERLAPPING_WORKER, check_outputs, counted_trials, not_progress_lines,
                                     open_study, start_worker, tune_command)
    work.mkdir(parents=True)
    command = tune_command(work)
    args, inside = [*command, "--trials", "4"], work / "inside"
    inside.mkdir()
    result: dict = {"delay": delay, "signal": signal.Signals(signum).name if signum else None, "problems": []}
    problems = result["problems"]
    started = time.monotonic()
    cut = start_worker([inside, *args], cut_worker_code())
    other = start_worker([inside, 2, *args], OVERLAPPING_WORKER)
    readers = {name: Reader(stream) for name, stream in (("cut", cut.stderr), ("other", other.stderr),
                                                         ("cut_out", cut.stdout), ("other_out", other.stdout))}
    for reader in readers.values():
        reader.start()
    try:
        sent = None
        if delay is not None:
            try:
                cut.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                sent = time.monotonic()
                cut.send_signal(signum)
        cut_code = end(cut, hang)
        cut_ended = time.monotonic()
        result["cut_life"] = round(cut_ended - started, 2)
        # the other worker's first trial waits for the cut one to be inside a trial: one cut before it got there
        # would hold it 300 s
        (inside / "cut-worker-ended").touch()
        other_code = end(other, hang)
        for reader in readers.values():
            reader.join(timeout=10)
        cut_err, other_err = readers["cut"].text(), readers["other"].text()
        result.update(cut_exit=cut_code, other_exit=other_code,
                      phase=phase_at(readers["cut"].lines, sent) if sent is not None else "never sent")
        said = [line for line in not_progress_lines(cut_err) if not line.startswith(("epoch ", "phase "))]
        if cut_code is None or other_code is None:
            problems.append(f"hang: cut exit {cut_code}, other exit {other_code} after {hang} s")
        if sent is None:
            if cut_code != 0 or said:
                problems.append(f"cut worker (not cut) exit {cut_code}: {said}")
        elif result["phase"] in ("start", "import"):
            if cut_code not in (130, -signum, 0):       # Python's own KeyboardInterrupt: a traceback
                problems.append(f"cut worker exit {cut_code} in Python's start: {said[-3:]}")
        elif cut_code == 0:
            if said:
                problems.append(f"cut worker exit 0 with {said}")
        elif cut_code != 130 or len(said) != 1 or not said[0].startswith("interrupted"):
            problems.append(f"cut worker exit {cut_code} in phase {result['phase']}: {said[-6:]}")
        else:
            result["said"] = said[0].split(";")[0].split(" (")[0]
        if other_code != 0 or not_progress_lines(other_err):
            problems.append(f"other worker exit {other_code}: {not_progress_lines(other_err)[-6:]}")
        if problems:
            return result
        study = open_study(work / "study")
        running = [t.number for t in study.trials if t.state.name == "RUNNING"]
        counted = len(counted_trials(study))
        result["counted"] = counted
        others_last = max((t for t, line in readers["other"].lines if line.startswith("trial ")), default=None)
        short_ok = sent is not None and others_last is not None and others_last < sent
        if running:
            problems.append(f"trials left RUNNING: {running}")
        if counted != 4 and not (counted == 3 and short_ok):
            problems.append(f"{counted} counted trials after both workers ended")
        more = subprocess.run([sys.executable, "-m", "lstmkit", *map(str, command), "--trials", "5"],
                              capture_output=True, text=True, timeout=hang, env={**os.environ, "OMP_NUM_THREADS": "1"})
        if more.returncode != 0 or not_progress_lines(more.stderr):
            problems.append(f"the same command: exit {more.returncode}: {not_progress_lines(more.stderr)[-6:]}")
            return result
        study = open_study(work / "study")
        if len(counted_trials(study)) != 5 or len({t.number for t in study.trials}) != len(study.trials):
            problems.append(f"continued: {len(counted_trials(study))} counted, numbers "
                            f"{[t.number for t in study.trials]}")
        if [t.number for t in study.trials if t.state.name == "RUNNING"]:
            problems.append("continued: a trial left RUNNING")
        try:
            check_outputs(work / "study", study)
        except AssertionError as e:
            problems.append(f"continued: outputs not whole: {e!r}"[:300])
    except Exception as e:          # a broken run is a failure to report, not the end of the stress
        problems.append(f"harness: {type(e).__name__}: {e}"[:300])
    finally:
        for process in (cut, other):
            if process.poll() is None:
                process.kill()
                process.wait()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--signal", choices=("INT", "TERM", "both"), default="both")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the lstmkit source the workers import")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--life", type=float, default=None,
                        help="the cut worker's life in seconds to draw moments over (default: one uncut run's)")
    parser.add_argument("--hang", type=float, default=400.0, help="seconds a worker may take before it is a hang")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temp folder)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(args.src.resolve())       # the workers' lstmkit, and the continuing command's
    sys.path.insert(0, str(args.src.resolve()))
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="tune-stress-", dir=args.work))
    runs = []
    try:
        life = args.life
        if life is None:
            calibration = one_run(work / "calibration", None, 0, args.hang)
            print(json.dumps({"calibration": calibration}), flush=True)
            if calibration["problems"]:
                raise SystemExit("the uncut scenario failed: " + "; ".join(calibration["problems"]))
            life = calibration["cut_life"]
        signals = {"INT": [signal.SIGINT], "TERM": [signal.SIGTERM], "both": [signal.SIGINT, signal.SIGTERM]}
        for k in range(args.runs):
            signum = signals[args.signal][k % len(signals[args.signal])]
            run = one_run(work / f"run{k}", rng.uniform(0, life), signum, args.hang)
            runs.append(run)
            print(json.dumps({"run": k, **run}), flush=True)
            shutil.rmtree(work / f"run{k}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = [r for r in runs if r["problems"]]
    summary = {"src": str(args.src), "runs": len(runs), "failed": len(failed), "life": life,
               "phases": {p: sum(r.get("phase") == p for r in runs) for p in sorted({r.get("phase") for r in runs})},
               "failures": [{"phase": r.get("phase"), "signal": r["signal"], "delay": r["delay"],
                             "problems": r["problems"]} for r in failed]}
    print(json.dumps(summary), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
