"""The service's reading of an uploaded recording (lstmkit.tasks.speech.audio), on hand-built WAVs."""
import io

import numpy as np
import pytest
import soundfile as sf

from lstmkit.deploy.adapter import BadRequest
from lstmkit.tasks.speech.audio import MIN_RATE, to_model_rate, upload_samples, upload_type, warned

RATE = 8000


def _wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def test_16_bit_samples_are_scaled_by_1_over_32768_and_stereo_is_the_mean_of_its_channels():
    """16384 is 0.5 of full scale; a stereo pair (16384, -8192) is (0.5 - 0.25) / 2 = 0.125 in mono."""
    mono = np.array([16384, -16384, 8192, 0] * 500, dtype=np.int16)
    wave, peak, notes = upload_samples(_wav(mono), "audio/wav", RATE, 60)
    assert wave.dtype == np.float32 and peak is None
    np.testing.assert_array_equal(wave[:4], [0.5, -0.5, 0.25, 0.0])
    stereo = np.stack([np.full(2000, 16384), np.full(2000, -8192)], 1).astype(np.int16)
    wave = upload_samples(_wav(stereo), "Audio/WAV; charset=binary", RATE, 60)[0]    # type read as the MIME rules do
    assert wave.shape == (2000,)
    np.testing.assert_array_equal(wave, np.full(2000, 0.125, np.float32))


def test_a_recording_of_exactly_the_limit_is_answered_and_one_sample_more_is_refused():
    tone = (3000 * np.sin(np.arange(2 * RATE + 1) * 0.3)).astype(np.int16)
    assert upload_samples(_wav(tone[:2 * RATE]), "audio/wav", RATE, 2.0)[0].size == 2 * RATE
    with pytest.raises(BadRequest, match="the limit is 2 s"):
        upload_samples(_wav(tone), "audio/wav", RATE, 2.0)


def test_the_lowest_rate_that_holds_speech_is_resampled_and_one_hz_less_is_refused():
    wave = np.sin(np.arange(MIN_RATE) * 0.2).astype(np.float32)               # one second
    assert to_model_rate(wave, MIN_RATE, RATE, ["sample_rate"]).size == RATE
    with pytest.raises(BadRequest, match=f"under the {MIN_RATE} Hz") as e:
        to_model_rate(wave, MIN_RATE - 1, RATE, ["sample_rate"])
    assert e.value.loc == ["sample_rate"]
    assert to_model_rate(wave, RATE, RATE, []) is wave                         # at the model's rate: as it is


def test_an_answer_gains_warnings_only_when_there_is_something_to_tell():
    answer = {"text": "ab"}
    assert warned(answer, "x", None) == {"text": "ab"}
    told = warned({"text": "ab", "warnings": ["earlier"]}, "x", None, ["2 channels cancel out"])
    assert told["warnings"] == ["earlier", "x: 2 channels cancel out"]
    assert len(warned(answer, "x", 3.5)["warnings"]) == 1 and "3.5" in warned(answer, "x", 3.5)["warnings"][0]


def test_a_body_is_told_audio_by_its_first_bytes():
    assert upload_type(_wav(np.zeros(10, np.int16))[:16]) == "audio/wav"
    assert upload_type(b'{"audio": [[0.1]]}') is None


def test_a_float_uploads_peak_beyond_full_scale_is_returned_for_the_answers_warning():
    buf = io.BytesIO()
    loud = np.sin(np.arange(4000) * 0.3).astype(np.float32) * 2.5
    loud[100] = -2.5
    sf.write(buf, loud, RATE, format="WAV", subtype="FLOAT")
    wave, peak, _ = upload_samples(buf.getvalue(), "audio/wav", RATE, 60)
    assert peak == pytest.approx(2.5) and np.abs(wave).max() == pytest.approx(2.5)   # read as it is
