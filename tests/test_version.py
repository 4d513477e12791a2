import re
import tomllib
from pathlib import Path

import lstmkit
from lstmkit.version import __version__


def test_version_module_matches_pyproject():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_package_reexports_the_version():
    assert lstmkit.__version__ is __version__ and "__version__" in lstmkit.__all__
