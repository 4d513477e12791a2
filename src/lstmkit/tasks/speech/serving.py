"""The speech service's request and answer, for :class:`~lstmkit.tasks.speech.deploy.SpeechAdapter`.

``POST /predict`` takes an audio file (:func:`answer_bytes`, ``Content-Type: audio/wav``, ``audio/flac``, ...) or JSON
``{"audio": [[samples...], ...], "sample_rate": R, "beam": k}`` (:func:`answer`, typed by
:func:`request_models`; a classify model's has no ``beam``, which it would not use) and answers
``{"transcript": ...}`` or ``{"label": ..., "probabilities": {...}}`` per recording through the adapter's
``predict``, with ``"warnings": [...]`` when a recording's samples go beyond [-1, 1], are all 0 (or all but a
click), nearly silent, off-centre (a DC offset) or clipped
(:func:`~lstmkit.tasks.speech.audio_files.level_notes`), or its seq2seq transcript was cut at the model's
longest (``max_transcript_chars`` of the metadata). Every bad request is a
:class:`~lstmkit.deploy.adapter.BadRequest` naming its field (a 422).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from lstmkit.deploy.adapter import BadRequest, whole_int
from lstmkit.tasks.speech.audio import UPLOAD_NAME, to_model_rate, too_long_fix, upload_samples, warned
from lstmkit.tasks.speech.audio_files import level_notes

__all__ = ["answer_bytes", "answer", "request_models"]


def answer_bytes(adapter, net: nn.Module, body: bytes, content_type: str) -> dict[str, Any]:
    """An uploaded audio file -> one answer (see the adapter's ``predict``); a bad upload is a
    :class:`BadRequest` naming the problem and the fix."""
    wave, peak, notes = upload_samples(body, content_type, adapter.spec.rate, adapter.max_seconds, adapter.streams)
    answer = _checked(adapter.predict(net, [adapter.features(wave)], locs=[[]]), [[]])[0]
    return warned(answer, UPLOAD_NAME, peak, notes)


def answer(adapter, net: nn.Module, audio: list | None = None, sample_rate: int | None = None,
           beam: int | None = None) -> dict[str, Any]:
    """``{"audio": [[samples...], ...], "sample_rate": R}`` -> ``{"predictions": [answer, ...]}``."""
    if not audio:
        raise BadRequest(["audio"], "the request holds no recording",
                         "send at least one recording: {\"audio\": [[samples...]]}")
    rate = adapter.spec.rate if sample_rate is None else sample_rate
    feats, peaks, notes = [], [], []
    for i, samples in enumerate(audio):
        wave = np.asarray(samples, dtype=np.float32)
        if wave.size == 0:
            raise BadRequest(["audio", i], "the recording is empty (no samples)", "send the recording's samples")
        peaks.append(float(np.abs(wave).max()))
        if wave.size > adapter.max_seconds * rate:
            raise BadRequest(["audio", i], f"the recording is {wave.size / rate:.1f} s long; the limit is "
                             f"{adapter.max_seconds:g} s", too_long_fix(adapter.streams))
        feats.append(adapter.features(to_model_rate(wave, rate, adapter.spec.rate, ["sample_rate"]), ["audio", i]))
        notes.append(level_notes(wave, rate))       # of the samples sent, as a file's are of its own
    locs = [["audio", i] for i in range(len(feats))]
    answers = _checked(adapter.predict(net, feats, beam, locs=locs), locs)
    return {"predictions": [warned(a, f"recording {i}", p if p > 1.0 else None, n)
                            for i, (a, p, n) in enumerate(zip(answers, peaks, notes))]}


def _checked(answers: list[dict], locs: list[list]) -> list[dict]:
    for a, loc in zip(answers, locs):
        if not all(np.isfinite(v) for v in (a.get("probabilities") or {}).values()):
            raise BadRequest(loc, "the model's output is not finite for this recording",
                             "send the recording at the model's sample rate, or reload the model from its run folder")
    return answers


def request_models(adapter, Finite, max_instances: int) -> tuple[type, type]:
    """The service's typed JSON request and response (pydantic, imported here: the serve extra)."""
    from typing import Optional
    from pydantic import BaseModel, ConfigDict, Field

    rate, max_seconds = adapter.spec.rate, adapter.max_seconds

    class SpeechRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        audio: list[list[Finite]] = Field(min_length=1, max_length=max_instances,
                                          description=f"recordings, each a list of mono samples in [-1, 1] "
                                                      f"(at most {max_seconds:g} s each)")
        sample_rate: Optional[whole_int(ge=1, le=384_000)] = Field(
            None, description=f"their sample rate [{rate}]; others are resampled")

    if adapter.mode != "classify":       # a classifier's one label per clip has no beam: a beam sent was ignored
        class SpeechRequest(SpeechRequest):     # type: ignore[no-redef]
            beam: Optional[whole_int(ge=1, le=64)] = Field(
                None, description=f"beam width, 1 = greedy [{adapter.config.beam}]")

    class Prediction(BaseModel):
        transcript: Optional[str] = None
        label: Optional[str] = None
        probabilities: Optional[dict[str, float]] = None
        warnings: Optional[list[str]] = Field(None, description="what the client should fix, e.g. samples "
                                              "beyond [-1, 1] (read as they are); absent when none")

    class SpeechResponse(BaseModel):
        predictions: list[Prediction]
        engine: str

    return SpeechRequest, SpeechResponse
