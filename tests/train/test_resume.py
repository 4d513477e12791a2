"""train.resume: SIGTERM during training ends the run as Ctrl-C does, and the run resumes."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

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


def test_a_sigterm_handler_the_caller_set_stays_in_charge_while_training():
    """A program with its own SIGTERM handler (a service's graceful shutdown) that trains a model:
    SIGTERM during the fit raised KeyboardInterrupt, and the program's handler never ran."""
    heard = []
    before = signal.signal(signal.SIGTERM, lambda *_: heard.append("handler"))
    try:
        with terminate_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
    except KeyboardInterrupt:
        pytest.fail("SIGTERM was an interrupt, not the caller's handler")
    finally:
        signal.signal(signal.SIGTERM, before)
    assert heard == ["handler"]


def test_sigterm_during_training_says_how_to_resume_and_the_run_resumes(tmp_path, capsys):
    proc = _lm_train_signalled_in_epoch_2(tmp_path, 8, signal.SIGTERM)
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
    # where it trained: device auto takes a GPU where there is one ("cuda:0 (NVIDIA H200)")
    assert meta["training"]["device"].split(":")[0] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert meta["training"]["threads"] == torch.get_num_threads()     # a sum over 2 threads rounds otherwise than over 1


def test_a_second_ctrl_c_after_the_message_ends_the_process_without_a_traceback(tmp_path):
    """Python's exit runs torch's exit hooks (they import modules): a second Ctrl-C there printed a
    traceback after the resume line. Once the interrupt is reported, Ctrl-C ends the process."""
    proc = _lm_train_signalled_in_epoch_2(tmp_path, 50, signal.SIGINT,
                                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    said = next(line for line in proc.stderr if not line.startswith("epoch "))     # the epoch lines it had begun
    for _ in range(20):                 # Ctrl-C again and again while the process exits
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGINT)
        time.sleep(0.01)
    err = said + proc.communicate(timeout=120)[1]
    assert proc.returncode in (130, -signal.SIGINT) and "Continue with: lstmkit lm train --resume" in said, err
    assert "Traceback" not in err, err
    run = next((tmp_path / "runs").iterdir())
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "interrupted"


def _lm_train_signalled_in_epoch_2(tmp_path, epochs: int, sig, **popen) -> subprocess.Popen:
    """``lstmkit lm train`` of a tiny char LM in a subprocess (``epochs``, patience as long), sent
    ``sig`` once epoch 2 starts; returns the process, its standard error (where the epoch lines are)
    read up to that line."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join("abcdefghij"[: 3 + i % 7] + "\n" for i in range(80)))
    cmd = [sys.executable, "-m", "lstmkit", "lm", "train", "--data", str(corpus), "--level", "char",
           "--embed-dim", "8", "--hidden-size", "8", "--epochs", str(epochs), "--patience", str(epochs),
           "--progress", "log", "--device", "cpu", "--out", str(tmp_path / "runs")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, **popen)
    for line in proc.stderr:
        if line.startswith("epoch 2/"):
            proc.send_signal(sig)
            break
    return proc
