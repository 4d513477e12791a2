import pytest

from lstmkit.data.textfile import decode_text
from lstmkit.errors import LstmkitError


def test_utf8_bom_dropped_and_other_encodings_read():
    assert decode_text("\ufeffhé".encode("utf-8"), "f.txt") == "hé"
    assert decode_text("hé".encode("latin-1"), "f.txt", "latin-1") == "hé"


def test_bad_byte_names_the_line_and_the_fix():
    raw = "ok\nok\ncaf\xe9\n".encode("latin-1")
    with pytest.raises(LstmkitError, match=r"f.txt line 3 is not valid utf-8 \(byte 0xe9\).*--encoding"):
        decode_text(raw, "f.txt")


def test_unknown_encoding():
    with pytest.raises(LstmkitError, match="unknown encoding 'klingon'"):
        decode_text(b"x", "f.txt", "klingon")
