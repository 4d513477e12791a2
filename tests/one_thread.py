"""The fixture many test files share: tiny models train on one torch thread, and numpy and scipy
call BLAS on one thread.

On a busy machine with few cores a second OpenMP thread only spins (a step can get 100x slower),
and results then do not depend on the thread count. BLAS is the same: scipy's L-BFGS-B (the ETS
baseline's fit) takes 4-5x the CPU time on two OpenBLAS threads. Import it into a conftest (every
test of that folder) or a test module: ``from one_thread import one_thread_per_package  # noqa: F401``.
A module whose module-scoped fixtures train imports ``one_thread_per_module``: a function-scoped
fixture is set up after them, so they would train on every thread.
"""
import pytest


def _single_thread():
    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS: threadpoolctl limits the libraries loaded)
    import torch
    from threadpoolctl import threadpool_limits
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1, user_api="blas"):
        yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True, name="_one_thread")
def one_thread():
    """One torch thread and one BLAS thread around each test."""
    yield from _single_thread()


@pytest.fixture(autouse=True, scope="package", name="_one_thread")
def one_thread_per_package():
    """One torch thread and one BLAS thread around the tests of a folder (set once)."""
    yield from _single_thread()


@pytest.fixture(autouse=True, scope="module", name="_one_thread")
def one_thread_per_module():
    """One torch thread and one BLAS thread around the tests of a module and its module-scoped fixtures (set once)."""
    yield from _single_thread()
