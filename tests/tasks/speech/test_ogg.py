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


def _page(flags: int, lacing: list[int], version: int = 0) -> bytes:
    """An Ogg page by the spec (RFC 3533): 'OggS', version, header type, granule, serial, sequence, CRC
    (not checked here), the number of segments, the segment table, then the payload its lacing values sum to."""
    return (b"OggS" + bytes([version, flags]) + bytes(8 + 4 + 4 + 4) + bytes([len(lacing)]) + bytes(lacing)
            + b"\x55" * sum(lacing))


def test_the_end_page_is_read_by_its_header_type_flag_even_at_the_largest_page_size():
    """Header type bit 0x04 marks the last page; 0x02 (first page) and 0x01 (continued packet) do not.
    A last page of 255 segments of 255 bytes (65307 bytes in all) is still found whole."""
    first = _page(0x02, [30])
    assert not ogg_cut(io.BytesIO(first + _page(0x00, [10]) + _page(0x04, [255] * 255)))
    assert ogg_cut(io.BytesIO(first + _page(0x00, [10]) + _page(0x01, [255] * 255)))
    assert not ogg_cut(io.BytesIO(first + _page(0x05, [7, 0])))                     # a packet ending in the end page
    assert ogg_cut(io.BytesIO(first + _page(0x04, [255] * 255)[:-1]))              # its last byte missing
    assert ogg_cut(io.BytesIO(first + _page(0x04, [10], version=1)))               # no page of version 0 at the end
