"""A signal that comes while :func:`lstmkit.errors.interrupts_after` changes the handlers (as it takes them at the
block's start, or puts them back at its end) leaves every handler as it was before the block.

``signal.signal`` runs a pending signal's handler before it changes one: a SIGTERM (taken as Ctrl-C) pending as
the block took SIGTERM raised there, and Ctrl-C stayed held for ever (the block's handler, with no block to end);
a Ctrl-C as it was put back raised there, and SIGTERM stayed held for ever.
"""
import signal
import time

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


def test_nested_blocks_are_one_whatever_ends_the_inner_one():
    """A Ctrl-C in an inner block acts as the outermost ends, also where the inner one ended by an error; the
    depth counts the blocks and is 0 after them."""
    ran = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_after():
            with interrupts_after():
                assert errors._HOLDING.depth == 2
                signal.raise_signal(signal.SIGINT)
            with pytest.raises(ValueError), interrupts_after():
                raise ValueError("the inner call failed")
            assert errors._HOLDING.depth == 1
            ran.append("after the inner blocks")
    assert ran and errors._HOLDING.depth == 0 and errors._HOLDING.held == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _ctrl_c_at_instruction(k: int) -> list:
    """A trace that raises KeyboardInterrupt at the ``k``-th bytecode instruction :func:`interrupts_after` runs
    while Ctrl-C still has its own handler (a real one comes there: a handler runs as a call returns); once the
    block has taken Ctrl-C, a real one is held, and none is raised. Returns ``[k]`` once it raised."""
    code, raised, count = errors.interrupts_after.__wrapped__.__code__, [], [0]

    def local(frame, event, arg):
        if event == "opcode" and not raised and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            count[0] += 1
            if count[0] == k:
                raised.append(k)
                raise KeyboardInterrupt
        return local

    def calls(frame, event, arg):
        if frame.f_code is code:
            frame.f_trace_opcodes = True
            return local
        return None
    return raised, calls


def test_a_ctrl_c_at_any_moment_of_a_block_s_start_leaves_later_blocks_holding():
    """A Ctrl-C right after the block marked itself begun (before its ``try``) left the mark: every later block
    took itself for a nested one and held nothing, a Ctrl-C inside a study's statement cut it again (in a
    program that goes on after an interrupt: a notebook's next tune)."""
    import sys
    k, before = 0, sys.gettrace()
    while True:
        k += 1
        raised, calls = _ctrl_c_at_instruction(k)
        sys.settrace(calls)
        try:
            with interrupts_after():
                sys.settrace(before)
                body = True
        except KeyboardInterrupt:
            body = False
        finally:
            sys.settrace(before)
        if not raised:
            assert body         # the block began whole: no instruction left before it took Ctrl-C
            break
        assert not body and signal.getsignal(signal.SIGINT) is signal.default_int_handler, k
        ran = []
        with pytest.raises(KeyboardInterrupt):
            with interrupts_after():
                signal.raise_signal(signal.SIGINT)
                ran.append(1)
        assert ran, f"a Ctrl-C at instruction {k} of the block's start left later blocks holding nothing"
    assert k > 3


def test_a_ctrl_c_held_shorter_than_the_delay_or_cut_by_a_second_one_says_nothing(monkeypatch, capsys):
    """The line is for a hold the user waits on: a call that ends within the delay, or one a second Ctrl-C cut,
    says nothing after it (a line printed after the interrupt, or after the next command's output); a block
    without a line to say says none however long it holds."""
    monkeypatch.setattr(errors, "_SAY_AFTER", 0.5)
    for second in (False, True):
        with pytest.raises(KeyboardInterrupt):
            with interrupts_after(say="finishing"):
                signal.raise_signal(signal.SIGINT)
                if second:
                    signal.raise_signal(signal.SIGINT)
        time.sleep(0.8)
    with pytest.raises(KeyboardInterrupt):
        with interrupts_after():
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.8)
    assert capsys.readouterr().err == ""
    said = ""
    with pytest.raises(KeyboardInterrupt):          # a hold longer than the delay: the outermost block's line, once
        with interrupts_after(say="finishing"), interrupts_after(say="inner"):
            signal.raise_signal(signal.SIGINT)
            until = time.monotonic() + 30
            while not said and time.monotonic() < until:
                time.sleep(0.05)
                said += capsys.readouterr().err
            time.sleep(0.6)
    assert said + capsys.readouterr().err == "finishing\n"

