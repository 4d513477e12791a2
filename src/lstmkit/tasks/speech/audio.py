"""Audio that arrives in a request (an uploaded audio file, or samples in JSON), checked for the service.

    upload_samples(body, content_type, rate, max_seconds, streams)
                                           -> (mono float32 wave at ``rate``, loud peak or None, notes)
    to_model_rate(wave, src, dst, loc)     -> the wave resampled to ``dst`` Hz
    warned(answer, name, peak, notes)      -> the answer, with ``warnings`` for a loud peak or notes
    too_long_fix(streams)                  -> the fix for a recording over the limit

An upload is read as the CLI reads a file (:func:`~lstmkit.tasks.speech.audio_files.read_upload`): any
format libsndfile reads (WAV, FLAC, OGG/Opus, MP3, AIFF, ...), told by its first bytes whatever its
Content-Type says, mixed down to mono and resampled as training does, and refused with the CLI's
message for a damaged one. Every problem is a :class:`~lstmkit.deploy.adapter.BadRequest` (a 422
naming the field) that says what is wrong and how to fix it; a file cut short, which the CLI reads as
far as it goes with a warning, is refused (the client can send it whole). A float file whose samples
go beyond [-1, 1] is read as it is, and its peak returned for the answer's warning.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lstmkit.deploy.adapter import BadRequest
from lstmkit.errors import LstmkitError, MissingPackage
from lstmkit.tasks.speech.config import MIN_RATE
from lstmkit.tasks.speech.audio_files import audio_format, loud_warning, read_upload, resample

__all__ = ["AUDIO_TYPES", "UPLOAD_NAME", "upload_type", "upload_samples", "to_model_rate", "warned", "MIN_RATE",
           "too_long_fix"]

# the content types an upload may come with: its format is told by its bytes, not by these
AUDIO_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/flac", "audio/x-flac", "audio/ogg",
               "audio/opus", "audio/mpeg", "audio/mp3", "audio/aiff", "audio/x-aiff", "audio/x-caf", "audio/basic",
               "application/octet-stream")
UPLOAD_NAME = "the upload"       # what notes and errors call an uploaded file
# each container audio_format tells, as the content type an upload of it is sent with
_FORMAT_TYPES = {"WAV": "audio/wav", "FLAC": "audio/flac", "OGG": "audio/ogg", "MP3": "audio/mpeg",
                 "AIFF": "audio/aiff", "CAF": "audio/x-caf", "AU": "audio/basic"}


def upload_type(head: bytes) -> str | None:
    """The content type of a body sent without one, told by its first bytes (``RIFF....WAVE``:
    ``audio/wav``; W64 and NIST SPHERE: ``application/octet-stream``); None for a body no audio
    container starts as (JSON, text)."""
    kind = audio_format(head)
    return None if kind is None else _FORMAT_TYPES.get(kind, "application/octet-stream")


def to_model_rate(wave: np.ndarray, src: int, dst: int, loc: list) -> np.ndarray:
    """``wave`` at ``src`` Hz resampled to ``dst`` Hz as the CLI resamples a file (the same
    :func:`~lstmkit.tasks.speech.resampling.resample`); a rate under 1 kHz is a BadRequest at ``loc``."""
    if src < MIN_RATE:
        raise BadRequest(loc, f"audio at {src} Hz cannot be resampled to the model's {dst} Hz: under the {MIN_RATE} Hz "
                              "that holds speech", f"convert it first, e.g. 'sox INPUT -r {dst} -c 1 out.wav'")
    return resample(wave, src, dst)


def too_long_fix(streams: bool) -> str:
    """The fix for a recording over the service's limit: shorter clips, or a stream where the model streams
    (a classifier's, a seq2seq or bidirectional model's answer told it to stream what it refuses to)."""
    return "split it into shorter clips" + (", or stream it chunk by chunk (/stream)" if streams else "")


def upload_samples(body: bytes, content_type: str, rate: int, max_seconds: float,
                   streams: bool = True) -> tuple[np.ndarray, float | None, list[str]]:
    """The mono samples ``[N]`` float32 of an uploaded audio file, at ``rate`` Hz, the peak of its
    float samples when they go beyond [-1, 1] (None otherwise) and what the client should be told
    besides (an MP3 read past damaged frames, channels that cancel out, silence, a header that counts less
    audio than the file holds); conversions (channels, rate) are not told."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in AUDIO_TYPES:
        raise BadRequest([], f"Content-Type {content_type or 'none'!r} is not an audio upload",
                         "send -H 'Content-Type: audio/wav' (or audio/flac, ...) with the file as the body, "
                         "or JSON {\"audio\": [[samples...]]}")
    if not body:
        raise BadRequest([], "the upload is empty (0 bytes)", "send the audio file's bytes as the body")
    try:
        wave, _, notes = read_upload(body, rate, UPLOAD_NAME)
    except MissingPackage:           # the service's machine, not the upload: the service answers 501
        raise
    except LstmkitError as e:
        raise BadRequest.of([], e, "send a complete audio file") from None
    cut = next((n for n in notes if n.cut), None)
    if cut is not None:
        raise BadRequest([], f"{UPLOAD_NAME} is {cut.what}", "send the complete file")
    if wave.size > max_seconds * rate:
        raise BadRequest([], f"the recording is {wave.size / rate:.1f} s long; the limit is {max_seconds:g} s",
                         too_long_fix(streams))
    return wave, next((n.peak for n in notes if n.peak is not None), None), [n.what for n in notes if n.told]


def warned(answer: dict[str, Any], name: str, peak: float | None, notes: Sequence[str] = ()) -> dict[str, Any]:
    """``answer`` with a ``warnings`` list when recording ``name``'s samples reached ``peak`` beyond
    [-1, 1] (the text a training or transcription run warns with) or ``notes`` are to be told, each
    as ``name: note``; as it is when there is neither."""
    told = (list(answer.get("warnings") or []) + ([] if peak is None else [loud_warning([(name, peak)])])
            + [f"{name}: {n}" for n in notes])
    return {**answer, "warnings": told} if told else answer
