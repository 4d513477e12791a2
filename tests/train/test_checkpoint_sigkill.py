"""SIGKILL at random moments of a real ``lstmkit forecast train`` process, then --resume: the run ends
bit-identical to an uninterrupted one. Moved out of tests/train/test_checkpoint.py, of which it took more than half
the time: with --dist loadfile each file runs on one worker, and the two halves can run on two.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import torch

from lstmkit.cli import main

from forecast_data import sine_frame


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sigkill_at_random_points_then_resume_is_bit_identical(tmp_path, capsys):
    data = tmp_path / "s.csv"
    sine_frame(n=900, period=24).to_csv(data, index=False)
    flags = ["--data", str(data), "--target", "y", "--time", "time", "--lookback", "24", "--hidden-size", "16",
             "--layers", "1", "--epochs", "3", "--batch-size", "16", "--checkpoint-every", "5",
             "--ensemble", "2", "--progress", "off", "--device", "cpu"]   # 2 seeds: the default 15 took ~7x as long
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    # the uninterrupted reference, in this process (one thread, as the subprocesses)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        main(["forecast", "train", *flags, "--out", str(tmp_path / "ref")])
        train_s = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)
    capsys.readouterr()
    ref_run = next((tmp_path / "ref").iterdir())

    cmd = [sys.executable, "-m", "lstmkit", "forecast", "train", *flags]
    rng = random.Random(6)
    out = tmp_path / "killed"
    kills, run, startup, scale = 0, None, None, 1.0
    for attempt in range(8):
        args = [*cmd, "--resume", str(run)] if run is not None else [*cmd, "--out", str(out)]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        if kills < 2:
            if run is None:             # start-up (imports, data) ends when the run folder appears
                t_start = time.perf_counter()
                while proc.poll() is None and not (out.exists() and any(out.glob("*/lstmkit.json"))):
                    time.sleep(0.05)
                startup = time.perf_counter() - t_start
                time.sleep(rng.uniform(0.0, 0.8) * train_s * scale)
            else:
                time.sleep(startup + rng.uniform(0.0, 0.4) * train_s)   # less is left to do
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
        _, err = proc.communicate(timeout=600)
        if kills == 0 and proc.returncode == 0:     # it ended before the kill (the machine's load fell since
            out, scale = tmp_path / f"killed{attempt}", scale / 2    # the reference): a new run, killed sooner
            continue
        if run is None and out.exists() and any(out.iterdir()):
            run = next(out.iterdir())
            if not (run / "lstmkit.json").exists():     # killed between mkdir and the first write
                shutil.rmtree(run)
                run = None
        if proc.returncode == 0:
            break
        if proc.returncode == 2 and "already finished training" in err:   # killed after the folder was complete
            break
        assert proc.returncode == -signal.SIGKILL, err
    assert kills >= 1
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["status"] == "finished"
    assert _sha(run / "model.safetensors") == _sha(ref_run / "model.safetensors")
    assert (run / "metrics.json").read_text() == (ref_run / "metrics.json").read_text()
    hist = lambda p: [line.split(",")[:3] for line in (p / "history.csv").read_text().splitlines()]  # noqa: E731
    assert hist(run) == hist(ref_run)
