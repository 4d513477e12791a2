"""Audio that arrives in a request (a WAV upload, or samples in JSON), checked for the service.

    wav_samples(body, content_type, rate, max_seconds)  -> (mono float32 wave at ``rate``, loud peak or None)
    to_model_rate(wave, src, dst, loc)                  -> the wave resampled to ``dst`` Hz
    warned(answer, name, peak)                          -> the answer, with ``warnings`` for a loud peak

Every problem is a :class:`~lstmkit.deploy.adapter.BadRequest` (a 422 naming the field) that
says what is wrong and how to fix it: not a WAV file, empty, corrupt, a sample rate the model
cannot be reached from exactly, too long, truncated, non-finite samples. Stereo (or more channels) is
mixed down to mono, as training does (:func:`~lstmkit.tasks.speech.audio_files.read_audio`); a float WAV
whose samples go beyond [-1, 1] is read as it is, and its peak returned for the answer's warning.
"""
from __future__ import annotations

import io
import re
from fractions import Fraction
from typing import Any

import numpy as np

from lstmkit.deploy.adapter import BadRequest
from lstmkit.tasks.speech.config import MIN_RATE
from lstmkit.tasks.speech.audio_files import loud_peak, loud_warning, never_finished, promised_seconds, resample

__all__ = ["WAV_TYPES", "wav_samples", "to_model_rate", "warned", "MIN_RATE"]

WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")
_MAX_RATIO_DENOMINATOR = 1000    # polyphase resampling by p/q with q at most this (44.1 kHz <-> 8/16 kHz: 441)


def _convert_hint(rate: int) -> str:
    return f"convert it first, e.g. 'sox INPUT -r {rate} -c 1 out.wav'"


def to_model_rate(wave: np.ndarray, src: int, dst: int, loc: list) -> np.ndarray:
    """``wave`` at ``src`` Hz resampled to ``dst`` Hz; a rate that cannot be converted exactly
    (``dst / src`` not a ratio p/q with q <= 1000, or under 1 kHz) is a BadRequest at ``loc``."""
    if src == dst:
        return wave
    ratio = Fraction(dst, src)
    if src < MIN_RATE or ratio.denominator > _MAX_RATIO_DENOMINATOR:
        raise BadRequest(loc, f"audio at {src} Hz cannot be resampled to the model's {dst} Hz", _convert_hint(dst))
    return resample(wave, src, dst)


def wav_samples(body: bytes, content_type: str, rate: int, max_seconds: float) -> tuple[np.ndarray, float | None]:
    """The mono samples ``[N]`` float32 of an uploaded WAV file, at ``rate`` Hz, and the peak of
    its float samples when they go beyond [-1, 1] (None otherwise: :func:`~.data.loud_peak`)."""
    import soundfile as sf
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in WAV_TYPES:
        raise BadRequest([], f"Content-Type {content_type or 'none'!r} is not a WAV upload",
                         "send -H 'Content-Type: audio/wav' with a WAV body, or JSON {\"audio\": [[samples...]]}")
    if not body:
        raise BadRequest([], "the upload is empty (0 bytes)", "send a WAV file: curl --data-binary @clip.wav ...")
    if body[:4] != b"RIFF" or body[8:12] != b"WAVE":
        raise BadRequest([], "the upload is not a WAV file (no RIFF/WAVE header)",
                         f"send a WAV file; {_convert_hint(rate)}")
    try:
        wave, sr = sf.read(io.BytesIO(body), dtype="float32", always_2d=True)
    except Exception as e:       # libsndfile's errors (LibsndfileError, RuntimeError, ...) on a damaged file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        first = re.sub(r"^Error opening <.*?>: ", "", first)[:150]      # libsndfile names the buffer object
        raise BadRequest([], f"the WAV file is corrupt or truncated ({first})", "send a complete PCM or float WAV file") from None
    if (promised := promised_seconds(io.BytesIO(body), wave.shape[0], sr)) is not None:
        raise BadRequest([], f"the WAV file is truncated: its header promises {promised:.2f} s, the upload holds "
                             f"{wave.shape[0] / sr:.2f} s", "send the complete file")
    if wave.shape[0] == 0 and never_finished(io.BytesIO(body)):
        raise BadRequest([], f"the WAV file was never finished: its header says it holds no audio, yet the upload is "
                             f"{len(body):,} bytes long (its writer stopped before filling in the sizes)",
                         "repair it with 'sox --ignore-length IN OUT.wav' and send OUT.wav")
    if wave.shape[0] == 0:
        raise BadRequest([], "the WAV file holds no audio samples", "send a recording")
    if wave.shape[0] > max_seconds * sr:
        raise BadRequest([], f"the recording is {wave.shape[0] / sr:.1f} s long; the limit is {max_seconds:g} s",
                         "split it into shorter clips, or stream it chunk by chunk")
    if not np.isfinite(wave).all():
        raise BadRequest([], "the WAV file holds a non-finite sample (NaN or infinity)", "re-export the recording")
    mono = wave.mean(axis=1) if wave.shape[1] > 1 else wave[:, 0]
    return (np.ascontiguousarray(to_model_rate(mono, int(sr), rate, []), dtype=np.float32),
            loud_peak(wave, io.BytesIO(body)))


def warned(answer: dict[str, Any], name: str, peak: float | None) -> dict[str, Any]:
    """``answer`` with a ``warnings`` list when recording ``name``'s samples reached ``peak`` beyond
    [-1, 1] (the text a training or transcription run warns with); as it is when ``peak`` is None."""
    return answer if peak is None else {**answer, "warnings": [loud_warning([(name, peak)])]}
