"""What the service tests share: a tiny text classifier, fake task rooms that use the adapter hooks
``answer_bytes`` (a raw upload) and ``open_stream`` (a task's own stream object), and a real
server in a subprocess on a loopback port."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from lstmkit.deploy.adapter import BadRequest
from lstmkit.errors import LstmkitError


class StandInModel:
    """A stand-in for a served model (the ``n``-th loaded): what ServedRun reads of one, and whether it was let go."""

    def __init__(self, n: int):
        self.info, self.closed = {"fingerprint": f"w{n}", "written": f"t{n}"}, False

    def describe(self) -> dict[str, Any]:
        return dict(self.info)

    def close(self) -> None:
        self.closed = True


def tiny_text_classifier(folder: Path):
    from lstmkit.tasks.classify.estimator import TextClassifier
    texts = ["a good film", "great acting", "loved it", "the plot was bad", "awful and boring", "hated it"] * 4
    labels = ["pos", "pos", "pos", "neg", "neg", "neg"] * 4
    return TextClassifier(embed_dim=4, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, min_freq=1,
                          seed=0).fit(texts, labels, out=folder)


# -- fake rooms ---------------------------------------------------------------------------------
class ChunkStream:
    """A task stream: each message is a list of samples; the answer counts what was heard."""

    mode, fingerprint = "chunks", "fake0000"

    def __init__(self, engine: str):
        self.engine, self._heard = engine, {}

    def step(self, message: Any, id: str = "default") -> dict[str, Any]:
        if not isinstance(message, list) or not all(isinstance(v, (int, float)) for v in message):
            raise LstmkitError("an audio chunk is a list of samples", "send [sample, ...]")
        steps, samples = self._heard.get(id, (0, 0))
        self._heard[id] = (steps + 1, samples + len(message))
        return {"partial": f"{samples + len(message)} samples", "engine": self.engine}

    def reset(self, id: str | None = None) -> None:
        self._heard.pop(id, None) if id is not None else self._heard.clear()

    def steps(self, id: str = "default") -> int:
        return self._heard.get(id, (0, 0))[0]

    def state_dict(self, ids=None) -> dict[str, Any]:
        chosen = self._heard if ids is None else {i: self._heard[i] for i in ids if i in self._heard}
        return {"format": "fake", "streams": {i: {"steps": s, "samples": n} for i, (s, n) in chosen.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for i, rec in state["streams"].items():
            if not isinstance(rec.get("samples"), int):
                raise LstmkitError("stream state is malformed", "send what state returned")
            self._heard[i] = (rec["steps"], rec["samples"])


class FakeUploadAdapter:
    """A speech-like room: WAV uploads (``answer_bytes``) and audio chunks (``open_stream``)."""

    task = "fakespeech"
    preferred_engine = None
    net = staticmethod(lambda *a: None)

    def __init__(self, run: Path):
        self.run = run

    @classmethod
    def load(cls, run) -> "FakeUploadAdapter":
        return cls(Path(run))

    def metadata(self) -> dict[str, Any]:
        return {"task": self.task, "request": "a WAV file"}

    def answer_bytes(self, net, body: bytes, content_type: str) -> dict[str, Any]:
        if not body.startswith(b"RIFF"):
            raise BadRequest([], "the upload is not a WAV file (no RIFF header)")
        return {"transcript": f"{len(body)} bytes of {content_type}"}

    def open_stream(self, engine: str, run: Path | None) -> ChunkStream:
        return ChunkStream(engine)


class FakeTypedAdapter(FakeUploadAdapter):
    """An upload room that also takes a typed JSON request (``{"samples": [...]}``), and does not stream."""

    task = "faketyped"
    upload_types = ("audio/wav", "audio/x-wav")
    streams = False

    def request_models(self, Finite, max_instances: int):
        from pydantic import BaseModel, ConfigDict, Field

        class SamplesRequest(BaseModel):
            model_config = ConfigDict(extra="forbid")
            samples: list[Finite] = Field(min_length=1)

        class TranscriptResponse(BaseModel):
            transcript: str
            engine: str

        return SamplesRequest, TranscriptResponse

    def answer(self, net, samples: list[float]) -> dict[str, Any]:
        return {"transcript": f"{len(samples)} samples"}


FAKES = {"fakespeech": FakeUploadAdapter, "faketyped": FakeTypedAdapter}


@contextlib.contextmanager
def fake_rooms():
    """``lstmkit.tasks.<fake>.deploy`` importable by name, as a room's adapter module would be."""
    with pytest.MonkeyPatch.context() as mp:
        for task, cls in FAKES.items():
            module = types.ModuleType(f"lstmkit.tasks.{task}.deploy")
            module.Adapter = cls
            mp.setitem(sys.modules, module.__name__, module)
        yield


def fake_run(folder: Path, task: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": task, "status": "finished"}))
    (folder / "model.safetensors").write_bytes(b"fake weights")
    return folder


def wav_bytes(samples: int = 160) -> bytes:
    import io
    import wave
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x01" * samples)
    return buf.getvalue()


# -- a real server ------------------------------------------------------------------------------
@contextlib.contextmanager
def running_server(*args: str):
    """``lstmkit serve ARGS --port 0`` in a subprocess: yields ``(process, port)``; killed after."""
    cmd = [sys.executable, "-m", "lstmkit", "serve", *map(str, args), "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        line = proc.stdout.readline()           # "serving RUN on http://127.0.0.1:PORT ..."
        if "http://" not in line:
            proc.kill()
            pytest.fail(f"server did not start: {line!r} {proc.stderr.read()[-2000:]}")
        yield proc, int(line.split("http://127.0.0.1:")[1].split()[0])
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


@contextlib.contextmanager
def uvicorn_here(app):
    """``app`` served by uvicorn on a free loopback port in a thread of this process (a test can hold its threads,
    patch what it calls and read what it says): yields the port; stopped after."""
    import socket
    import threading
    import time

    import uvicorn
    # the port's socket is handed to uvicorn: one found free, closed, then bound again could be taken meanwhile
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120                  # a guard: a loaded machine starts it late
    try:
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        thread.join(30)
        listening.close()


def call_json(port: int, path: str, body=None, timeout: float = 120) -> tuple[int, object]:
    """``POST path`` with the JSON ``body`` (``GET`` without one) on a loopback server: ``(status, JSON answer)``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    if body is None:
        conn.request("GET", path)
    else:
        conn.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read())
    conn.close()
    return out
