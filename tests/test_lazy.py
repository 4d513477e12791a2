"""lstmkit.lazy: a room's public names load on first use, and ``load`` reaches its estimator."""
import subprocess
import sys

import pytest

from lstmkit.lazy import lazy_room


def test_names_resolve_on_first_use_and_unknown_ones_are_attribute_errors(tmp_path):
    getattr_, load = lazy_room("lstmkit.tasks.translate", {"Translator": "estimator"},
                               loader="estimator:Translator.load")
    from lstmkit.tasks.translate.estimator import Translator
    assert getattr_("Translator") is Translator
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        getattr_("Nope")
    assert "Translator.load" in load.__doc__
    with pytest.raises(Exception, match="not found"):           # the estimator's own load ran
        load(tmp_path / "missing")


def test_a_room_package_imports_no_torch():
    code = ("import sys, lstmkit.tasks.lm, lstmkit.tasks.speech, lstmkit.tasks.translate, lstmkit.tasks.classify, "
            "lstmkit.tasks.forecast; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
