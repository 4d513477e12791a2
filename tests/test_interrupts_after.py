"""A signal that comes while :func:`lstmkit.errors.interrupts_after` changes the handlers (as it takes them at the
block's start, or puts them back at its end) leaves every handler as it was before the block.

``signal.signal`` runs a pending signal's handler before it changes one: a SIGTERM (taken as Ctrl-C) pending as
the block took SIGTERM raised there, and Ctrl-C stayed held for ever (the block's handler, with no block to end);
a Ctrl-C as it was put back raised there, and SIGTERM stayed held for ever.
"""
import signal

import pytest

from lstmkit import errors
from lstmkit.errors import interrupts_after, terminate_as_interrupt

# Ctrl-C with Python's own handler, as from a terminal (a background job ignores it: conftest.ctrl_c_handled)
pytestmark = pytest.mark.usefixtures("ctrl_c_handled")


def _signal_once_set(monkeypatch, number, handler, send):
    """``signal.signal`` that, the first time it sets ``handler`` for ``number``, has signal ``send`` come right
    after (its handler run at once, as a pending one's is at the next ``signal.signal``)."""
    real, sent = signal.signal, []

    def setting(signum, new):
        previous = real(signum, new)
        if signum == number and new is handler and not sent:
            sent.append(send)
            signal.raise_signal(send)
        return previous
    monkeypatch.setattr(signal, "signal", setting)
    return sent


def test_a_signal_while_the_block_takes_the_handlers_leaves_them_as_they_were(monkeypatch):
    with terminate_as_interrupt():
        before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
        with monkeypatch.context() as m:
            sent = _signal_once_set(m, signal.SIGINT, errors._hold, signal.SIGTERM)
            with pytest.raises(KeyboardInterrupt):
                with interrupts_after():
                    pytest.fail("the block ran though SIGTERM came as it began")
        assert sent and (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
        with pytest.raises(KeyboardInterrupt):          # Ctrl-C acts again, at once
            signal.raise_signal(signal.SIGINT)


def test_a_signal_while_the_block_puts_the_handlers_back_leaves_them_as_they_were(monkeypatch):
    with terminate_as_interrupt():
        before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
        ran = []
        with monkeypatch.context() as m:
            sent = _signal_once_set(m, signal.SIGINT, before[0], signal.SIGINT)
            with pytest.raises(KeyboardInterrupt):
                with interrupts_after():
                    ran.append(1)
        assert sent and ran and (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
        with pytest.raises(KeyboardInterrupt):          # SIGTERM acts again, at once
            signal.raise_signal(signal.SIGTERM)


def test_an_ignored_ctrl_c_stays_ignored_in_the_block():
    """A job a shell started in the background runs with SIGINT ignored: the block leaves it so (a Ctrl-C there
    does nothing, as without the block), and the call in it runs to its end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with interrupts_after():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        signal.raise_signal(signal.SIGINT)
        ran = True
    assert ran and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
