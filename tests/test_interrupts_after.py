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


def _at_instruction(k: int, codes, when, act):
    """A trace that runs ``act(frame)`` once, at the ``k``-th bytecode instruction of the frames of ``codes`` that
    ``when()`` accepts (where a real signal's handler would run: Python runs them between instructions). Returns
    the instructions it acted at (``[k]`` once it did) and the trace for ``sys.settrace``."""
    count, acted = [0], []

    def local(frame, event, arg):
        if event == "opcode" and not acted and when():
            count[0] += 1
            if count[0] == k:
                acted.append(k)
                act(frame)
        return local

    def calls(frame, event, arg):
        if frame.f_code in codes:
            frame.f_trace_opcodes = True
            return local
        return None
    return acted, calls


def _ctrl_c(frame):
    raise KeyboardInterrupt


def _ctrl_c_at_instruction(k: int) -> list:
    """A KeyboardInterrupt at the ``k``-th instruction :func:`interrupts_after` runs while Ctrl-C still has its own
    handler (a real one comes there: a handler runs as a call returns); once the block has taken Ctrl-C, a real
    one is held, and none is raised."""
    return _at_instruction(k, {errors.interrupts_after.__wrapped__.__code__},
                           lambda: signal.getsignal(signal.SIGINT) is signal.default_int_handler, _ctrl_c)


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


def test_a_second_ctrl_c_as_a_block_ends_leaves_the_handlers_as_they_were():
    """Ctrl-C pressed twice, the second as the call ended (the block setting its state back, or putting the
    handlers back): the second raised there, before Ctrl-C's own handler was back, and Ctrl-C stayed at the
    block's for ever (a program going on after it, a notebook, had to press Ctrl-C twice for each interrupt).
    The second is sent at each instruction from the block's end on (its depth 0: no handler runs before it, as
    Python runs them where a call returns or a loop jumps back), as the block's handler takes it."""
    import sys
    codes, before = {errors.interrupts_after.__wrapped__.__code__, errors._put_back.__code__}, sys.gettrace()
    k = 0
    while True:
        k += 1
        body = []
        sent, calls = _at_instruction(
            k, codes, lambda: body and errors._HOLDING.depth == 0 and signal.getsignal(signal.SIGINT) is errors._hold,
            lambda frame: errors._hold(signal.SIGINT, frame))
        sys.settrace(calls)
        try:
            with pytest.raises(KeyboardInterrupt):
                with interrupts_after():
                    signal.raise_signal(signal.SIGINT)          # the first: held
                    body.append(1)
        finally:
            sys.settrace(before)
        if not sent:
            break
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, f"second Ctrl-C at instruction {k}"
        assert (errors._HOLDING.depth, errors._HOLDING.held) == (0, []), k
    assert k > 5


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


# Windows' SIGBREAK (Ctrl-Break, a supervisor's CTRL_BREAK_EVENT), which errors.stop_signals names beside SIGTERM
# where the signal module has it: SIGUSR2 stands in for it (no Windows here), and its absence is this system's own

@pytest.fixture
def ctrl_break(monkeypatch):
    """``signal.SIGBREAK``, SIGUSR2 standing in, with its default action; the handler it had comes back after."""
    monkeypatch.setattr(signal, "SIGBREAK", signal.SIGUSR2, raising=False)
    before = signal.signal(signal.SIGUSR2, signal.SIG_DFL)
    yield signal.SIGUSR2
    signal.signal(signal.SIGUSR2, before)


def test_ctrl_break_is_a_stop_signal_where_windows_has_it(ctrl_break, monkeypatch):
    assert errors.stop_signals() == [signal.SIGTERM, ctrl_break]
    monkeypatch.delattr(signal, "SIGBREAK")
    assert errors.stop_signals() == [signal.SIGTERM]


def test_a_block_holds_ctrl_break_as_it_holds_sigterm(ctrl_break):
    """Under the command's handlers (:func:`terminate_as_interrupt`: Ctrl-Break is Ctrl-C), a Ctrl-Break in a
    storage call waits for its end, then acts; every handler is the one before the block again."""
    ran = []
    with terminate_as_interrupt():
        before = [signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, ctrl_break)]
        with pytest.raises(KeyboardInterrupt):
            with interrupts_after():
                assert signal.getsignal(ctrl_break) is errors._hold
                signal.raise_signal(ctrl_break)
                ran.append("the call's end")
        assert ran and [signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM, ctrl_break)] == before
    assert signal.getsignal(ctrl_break) is signal.SIG_DFL


def test_without_sigbreak_a_block_takes_ctrl_c_and_sigterm_only(monkeypatch):
    """Where the signal module has no SIGBREAK (every system but Windows) no other signal is touched."""
    monkeypatch.delattr(signal, "SIGBREAK", raising=False)
    usr2 = signal.getsignal(signal.SIGUSR2)
    with interrupts_after():
        assert signal.getsignal(signal.SIGINT) is errors._hold and signal.getsignal(signal.SIGUSR2) is usr2


def test_a_dropped_interrupt_is_sent_again_as_ctrl_break_where_only_it_has_a_handler(ctrl_break, capsys):
    """A background job on Windows ignores Ctrl-C; a service manager stops it with CTRL_BREAK_EVENT: where the
    KeyboardInterrupt Ctrl-Break raised was dropped (inside a weakref callback), Ctrl-Break is sent again."""
    import weakref
    old = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with terminate_as_interrupt():
            assert callable(signal.getsignal(ctrl_break)) and not callable(signal.getsignal(signal.SIGTERM))

            class Thing:
                pass
            thing = Thing()
            ref = weakref.ref(thing, lambda ref: signal.raise_signal(ctrl_break))
            with pytest.raises(KeyboardInterrupt):
                del thing
                until = time.monotonic() + 5
                while time.monotonic() < until:
                    time.sleep(0.001)
    finally:
        signal.signal(signal.SIGINT, old[0])
        signal.signal(signal.SIGTERM, old[1])
    assert ref() is None and "Exception ignored" not in capsys.readouterr().err


def test_an_interrupt_being_reported_gives_ctrl_break_its_default_back(ctrl_break, monkeypatch):
    """Once the command reports an interrupt, a second Ctrl-Break ends it at once as a second Ctrl-C does."""
    monkeypatch.setattr(errors, "_COMMAND", [True])
    term = signal.getsignal(signal.SIGTERM)
    signal.signal(ctrl_break, signal.default_int_handler)
    try:
        errors.interrupts_end_the_process()
        assert [signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM, ctrl_break)] == [signal.SIG_DFL] * 3
    finally:
        signal.signal(signal.SIGTERM, term)
