"""The lstmkit version, in a module of its own so that run folders and the server can record it
without importing the package's API (keep it equal to ``version`` in pyproject.toml)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
