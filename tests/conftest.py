"""What every test shares: the process's Ctrl-C handler as each test found it (the CLI, run in-process,
hands Ctrl-C back to the default action once it reports an interrupt, as a process about to exit)."""
import signal

import pytest


@pytest.fixture(autouse=True)
def _ctrl_c_handler_kept():
    before = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, before)
