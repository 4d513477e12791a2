"""What every test shares: the process's Ctrl-C handler as each test found it (a test may set its own)."""
import signal

import pytest


@pytest.fixture(autouse=True)
def _ctrl_c_handler_kept():
    before = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, before)

from warning_lines import *  # noqa: E402,F401,F403  (every lstmkit warning a Python caller gets names the caller's line)
