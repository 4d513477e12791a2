"""What every test shares: the process's Ctrl-C handler as each test found it (a test may set its own)."""
import signal

import pytest


@pytest.fixture(autouse=True)
def _ctrl_c_handler_kept():
    before = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture
def ctrl_c_handled():
    """Python's own Ctrl-C handler for the test, as a process started from a terminal has it: a shell runs a
    background job (`make test &`, nohup, a CI runner's) with SIGINT ignored, and a Ctrl-C a test sent itself
    then did nothing (session 58's fresh-clone CI: every in-process Ctrl-C test 'DID NOT RAISE'). The
    handler before comes back after the test (:func:`_ctrl_c_handler_kept`)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)

from warning_lines import *  # noqa: E402,F401,F403  (every lstmkit warning a Python caller gets names the caller's line)
