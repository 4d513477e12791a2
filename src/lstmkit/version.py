"""The lstmkit version, in a module of its own so that run folders and the server can record it
without importing the package's API (keep it equal to ``version`` in pyproject.toml), and how a
version a run folder recorded compares with it (:func:`release_of`, :func:`newer_than_this`)."""
from __future__ import annotations

__all__ = ["__version__", "release_of", "newer_than_this"]

__version__ = "0.1.0"


def release_of(version: object) -> tuple[int, ...] | None:
    """The release numbers of ``version`` (``"0.2.0rc1"``: ``(0, 2, 0)``, PEP 440 read by
    ``packaging``), or None where it is no version (not text, or text no version has)."""
    from packaging.version import InvalidVersion, Version
    if not isinstance(version, str):
        return None
    try:
        return Version(version).release
    except InvalidVersion:
        return None


def newer_than_this(version: str) -> bool:
    """Whether ``version`` (a valid one: :func:`release_of`) is a later release than this lstmkit:
    its pre-releases count as it (``0.2.0rc1`` is newer than 0.1.0), this one's development and
    post releases as this one (``0.1.0.dev3``, ``0.1.0.post1`` and ``0.1.0+local`` are not newer)."""
    release, own = release_of(version), release_of(__version__)
    return release is not None and own is not None and _padded(release, own) > _padded(own, release)


def _padded(release: tuple[int, ...], other: tuple[int, ...]) -> tuple[int, ...]:
    """``release`` with zeros added to be as long as ``other`` (``0.2`` is ``0.2.0``)."""
    return release + (0,) * (len(other) - len(release))
