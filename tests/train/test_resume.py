"""train.resume: SIGTERM during training ends the run as Ctrl-C does, and the run resumes."""
import json
import os
import signal
import subprocess
import sys

from cli_helpers import run_cli
from lstmkit.train.resume import terminate_as_interrupt


def test_sigterm_is_an_interrupt_only_while_training():
    before = signal.getsignal(signal.SIGTERM)
    with terminate_as_interrupt():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            raised = False
        except KeyboardInterrupt:
            raised = True
    assert raised and signal.getsignal(signal.SIGTERM) is before


def test_sigterm_during_training_says_how_to_resume_and_the_run_resumes(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join("abcdefghij"[: 3 + i % 7] + "\n" for i in range(80)))
    cmd = [sys.executable, "-m", "lstmkit", "lm", "train", "--data", str(corpus), "--level", "char",
           "--embed-dim", "8", "--hidden-size", "8", "--epochs", "8", "--patience", "8", "--progress", "log",
           "--device", "cpu", "--out", str(tmp_path / "runs")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    for line in proc.stdout:
        if line.startswith("epoch 2/"):
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    run = next((tmp_path / "runs").iterdir())
    assert f"checkpoint saved. Continue with: lstmkit lm train --resume {run}" in err and "Traceback" not in err
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "interrupted"
    assert 2 <= json.loads((run / "checkpoints" / "last.json").read_text())["epoch"] < 8
    code, out, err = run_cli(["lm", "train", "--resume", run], capsys)
    assert code == 0, err
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["status"] == "finished" and meta["training"]["epochs_run"] == 8
