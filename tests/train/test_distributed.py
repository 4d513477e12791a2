"""DDP: two CPU processes under torchrun train like one process with the same global batch."""
import json
import os
import subprocess
import sys

import pytest
import torch

from lstmkit.cli import main
from lstmkit.train.distributed import ShardedBatches, is_main, world_size

from forecast_data import sine_frame


def test_shards_cover_each_batch_once_and_tiny_batches_are_skipped_alike():
    batches = [(torch.arange(10.0)[:, None], torch.arange(10.0)), (torch.ones(1, 1), torch.ones(1))]
    shards = [list(ShardedBatches(batches, r, 3)) for r in range(3)]
    assert [len(s) for s in shards] == [1, 1, 1]                  # the 1-row batch: skipped on every rank
    assert torch.cat([s[0][1] for s in shards]).tolist() == list(range(10))
    evals = [list(ShardedBatches(batches, r, 3, skip_small=False)) for r in range(3)]
    assert [e[1][1].numel() for e in evals] == [1, 0, 0]          # evaluation keeps every row
    assert is_main() and world_size() == 1                        # no torchrun here


def test_two_processes_under_torchrun_match_one_process(tmp_path, capsys):
    data = tmp_path / "s.csv"
    sine_frame(n=600, period=24).to_csv(data, index=False)
    flags = ["forecast", "train", "--data", str(data), "--target", "y", "--time", "time", "--lookback", "24",
             "--hidden-size", "16", "--layers", "1", "--dropout", "0", "--epochs", "3", "--batch-size", "32",
             "--ensemble", "1", "--progress", "log", "--device", "cpu"]     # one network: 15 seeds trained 15x
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           "-m", "lstmkit", *flags, "--out", str(tmp_path / "ddp")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("run folder:") == 1 and proc.stderr.count("epoch 3/3") == 1   # rank 0 speaks
    (run,) = (tmp_path / "ddp").iterdir()                                                  # rank 0 writes
    for name in ("lstmkit.json", "model.safetensors", "history.csv", "metrics.json", "doctor.json",
                 "plots/loss.png", "plots/forecast.png", "checkpoints/last.safetensors"):
        assert (run / name).is_file(), name
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished"

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        main([*flags, "--progress", "off", "--out", str(tmp_path / "one")])
    finally:
        torch.set_num_threads(threads)
    capsys.readouterr()
    (one,) = (tmp_path / "one").iterdir()
    hist = lambda p: [[float(v) for v in line.split(",")[1:3]] for line in (p / "history.csv").read_text().splitlines()[1:]]  # noqa: E731
    for (t2, v2), (t1, v1) in zip(hist(run), hist(one)):
        assert t2 == pytest.approx(t1, rel=0.02) and v2 == pytest.approx(v1, rel=0.02)
    m2 = json.loads((run / "metrics.json").read_text())["metrics"]["lstm"]
    m1 = json.loads((one / "metrics.json").read_text())["metrics"]["lstm"]
    assert m2["MAE"] == pytest.approx(m1["MAE"], rel=0.02)


def test_a_run_folder_name_that_is_not_utf8_trains(tmp_path):
    """Linux names may be any bytes (Python holds the others as surrogates): `train --out $'bad\\xff'`
    made the folder, then encoding its name for the other ranks was a UnicodeEncodeError traceback."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    from forecast_data import FAST
    out = tmp_path / os.fsdecode(b"bad\xffname")
    est = Forecaster(**{**FAST, "max_epochs": 1, "hidden_size": 4, "doctor": False}).fit(
        sine_frame(n=120), target="y", time="time", out=out)
    assert est.run_dir_.parent == out and (est.run_dir_ / "lstmkit.json").is_file()
    assert Forecaster.load(est.run_dir_).predict(sine_frame(n=120)).shape[0] == 1
