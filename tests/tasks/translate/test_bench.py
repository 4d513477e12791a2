"""The translate room's tune hooks: line-aligned files travel to check() and fit()."""
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tune import TASKS as TUNABLE


def test_tune_translate_checks_line_aligned_files(tmp_path):
    (tmp_path / "a.en").write_text("a b\nc d\n")
    (tmp_path / "a.de").write_text("x y\nz w\n")
    plug = TUNABLE["translate"]
    plug.check({"src_file": tmp_path / "a.en", "tgt_file": tmp_path / "a.de", "hidden_size": 8})
    with pytest.raises(LstmkitError) as e:
        plug.check({"src_file": tmp_path / "a.en", "tgt_file": tmp_path / "missing.de"})
    assert "missing.de" in str(e.value)
    with pytest.raises(LstmkitError, match="Translator has no parameter 'lookback'"):
        plug.check({"src_file": tmp_path / "a.en", "tgt_file": tmp_path / "a.de", "lookback": 8})
