"""The real ``lstmkit serve`` in a subprocess on a loopback port, for the per-task service tests."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
from typing import Any, Callable, Iterator


@contextlib.contextmanager
def served(run) -> Iterator[Callable[[Any], tuple[int, Any]]]:
    """Serve ``run`` on a free loopback port; yields ``post(body) -> (status, JSON answer)`` for
    ``POST /predict``. On leaving, SIGTERM, and the server must exit 0."""
    proc = subprocess.Popen([sys.executable, "-m", "lstmkit", "serve", "--run", str(run), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, proc.stderr.read()[-2000:]
        port = int(line.split("http://127.0.0.1:")[1].split()[0])

        def post(body) -> tuple[int, Any]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", "/predict", body=json.dumps(body), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            out = resp.status, json.loads(resp.read())
            conn.close()
            return out

        yield post
    finally:
        proc.send_signal(15)
        assert proc.wait(60) == 0
