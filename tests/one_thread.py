"""The fixture many test files share: tiny models train on one torch thread.

On a busy machine with few cores a second OpenMP thread only spins (a step can get 100x slower),
and results then do not depend on the thread count. Import it into a conftest (every test of
that folder) or a test module: ``from one_thread import one_thread_per_package  # noqa: F401``.
A module whose module-scoped fixtures train imports ``one_thread_per_module``: a function-scoped
fixture is set up after them, so they would train on every thread.
"""
import pytest


def _single_thread():
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True, name="_one_thread")
def one_thread():
    """One torch thread around each test."""
    yield from _single_thread()


@pytest.fixture(autouse=True, scope="package", name="_one_thread")
def one_thread_per_package():
    """One torch thread around the tests of a folder (set once)."""
    yield from _single_thread()


@pytest.fixture(autouse=True, scope="module", name="_one_thread")
def one_thread_per_module():
    """One torch thread around the tests of a module and its module-scoped fixtures (set once)."""
    yield from _single_thread()
