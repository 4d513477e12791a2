"""Fixtures of the translation tests (pairs from tests/translate_data.py)."""
import pytest
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread)
from translate_data import TINY, make_pairs


@pytest.fixture(scope="session")
def pairs():
    """``pairs(n, seed=0, copy=False) -> [(source, target), …]``."""
    return make_pairs


@pytest.fixture(scope="session")
def tiny():
    return dict(TINY)
