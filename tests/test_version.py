import re
import tomllib
from pathlib import Path

import pytest

import lstmkit
from lstmkit.version import __version__


def test_version_module_matches_pyproject():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_package_reexports_the_version():
    assert lstmkit.__version__ is __version__ and "__version__" in lstmkit.__all__


@pytest.mark.parametrize("version, newer", [
    ("0.1.0", False), ("0.0.9", False), ("0.1", False), ("0.1.0.dev3", False), ("0.1.0.post1", False),
    ("0.1.0+local", False), ("0.1.0rc1", False), ("0.1.1", True), ("0.2", True), ("0.2.0rc1", True), ("1.0.0", True),
    ("0.1.0.1", True),
])
def test_a_later_release_is_newer_than_this_one(version, newer, monkeypatch):
    """What a run's lstmkit_version must be for this lstmkit (0.1.0 here) to refuse the run."""
    import lstmkit.version as v
    monkeypatch.setattr(v, "__version__", "0.1.0")
    assert v.newer_than_this(version) is newer


@pytest.mark.parametrize("text", ["garbage", "", "0.1.0x", 1, None, ["0.1.0"]])
def test_no_version_has_no_release(text):
    from lstmkit.version import release_of
    assert release_of(text) is None
