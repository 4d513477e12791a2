"""An Ogg file cut short is told by its last page: one cut inside a page, or after a page that does
not end the stream."""
import io

import numpy as np
import soundfile as sf

from lstmkit.tasks.speech.ogg import ogg_cut


def _ogg(subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(np.arange(3 * 16000) / 5)).astype(np.float32), 16000, format="OGG", subtype=subtype)
    return buf.getvalue()


def test_a_whole_stream_is_not_cut_and_one_without_its_last_page_is():
    for subtype in ("VORBIS", "OPUS"):
        whole = _ogg(subtype)
        assert not ogg_cut(io.BytesIO(whole))
        last = whole.rfind(b"OggS")
        assert ogg_cut(io.BytesIO(whole[:last]))                    # at a page boundary, the end page missing
        assert ogg_cut(io.BytesIO(whole[:-1]))                      # inside the end page
        assert not ogg_cut(io.BytesIO(whole + b"OggS" + bytes(5)))  # a stray 'OggS' after the end page: no page
        assert ogg_cut(io.BytesIO(whole[:last] + b"OggS" + bytes(30)))   # nor one before the cut


def test_other_files_are_not_ogg_files():
    assert not ogg_cut(io.BytesIO(b"RIFF\x00\x00\x00\x00WAVEOggS"))
    assert not ogg_cut(io.BytesIO(b""))
