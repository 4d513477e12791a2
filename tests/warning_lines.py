"""The guard that every warning lstmkit gives a Python caller names the caller's line, not lstmkit's.

A warning names the line ``stacklevel`` frames up from its ``warnings.warn``: a fixed level counts
the frames of one call path, and reached through another (``fit`` -> ``_base`` -> a helper, where the
command line called the helper itself) it named a line inside lstmkit. Then ``python -W
error::UserWarning`` showed lstmkit's frame as the culprit, ``warnings.filterwarnings(module=
'my_script')`` missed it, and a notebook printed ``.../lstmkit/tasks/.../data.py:412: UserWarning``.

How: ``warnings._showwarnmsg``, the function every shown or recorded warning goes through (the
filters already applied, the line already chosen; ``catch_warnings`` and ``pytest.warns`` keep
it), is wrapped once for the session; a warning that names a file of the lstmkit package is held
against the test running, and the test's report of that phase (setup, so a module-scoped fit
counts; call; teardown) is turned into a failure that lists it. Held: every ``UserWarning`` lstmkit's
own code gives (another package's warning that names lstmkit's line calling it is that package's
choice; a ``ResourceWarning`` from a ``__del__`` has no caller's line). Exempt: warnings given under
the command line (``lstmkit.cli.main`` sets :func:`lstmkit.errors.caller_wording` to the command
line's, and threads a command starts run under one of lstmkit's ``cli*.py`` frames), which it prints
as one 'warning: ...' line without a file. A warning its filters hid or made an error is not seen.

A conftest turns it on for its folder: ``from warning_lines import *  # noqa: F401,F403``.
``LSTMKIT_WARNING_LINES=report.txt`` writes what it finds there (one line each) instead of failing.
"""
from __future__ import annotations

import os
import sys
import threading
import warnings

import pytest

import lstmkit
from lstmkit import errors

__all__ = ["pytest_configure", "pytest_unconfigure", "pytest_runtest_makereport"]

_PACKAGE = os.path.dirname(os.path.abspath(lstmkit.__file__)) + os.sep
_FOUND: list[str] = []
_LOCK = threading.Lock()
_SHOWN: dict = {}        # the wrapped function, to put back


def _under_the_command_line(frame) -> bool:
    """True where the command line is the caller: its ``main`` said so, or a thread it started runs
    under one of lstmkit's ``cli*.py`` modules."""
    if errors._PYTHON_CALLER.get() is False:
        return True
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(_PACKAGE) and os.path.basename(name).startswith(("cli", "__main__")):
            return True
        frame = frame.f_back
    return False


def _wrap(show):
    def _showwarnmsg(msg):
        filename = os.path.abspath(str(msg.filename))
        issuer = sys._getframe(1).f_code.co_filename     # the frame that called warnings.warn
        if (filename.startswith(_PACKAGE) and issuer.startswith(_PACKAGE)
                and issubclass(msg.category, UserWarning) and not _under_the_command_line(sys._getframe(1))):
            said = str(msg.message).splitlines()[0][:90] if str(msg.message) else ""
            line = (f"{os.path.relpath(filename, os.path.dirname(_PACKAGE))}:{msg.lineno}: "
                    f"{msg.category.__name__}: {said}  [warned in {os.path.basename(issuer)}]")
            with _LOCK:
                _FOUND.append(line)
        return show(msg)
    _showwarnmsg.wrapped = show
    return _showwarnmsg


def pytest_configure(config):
    if "show" not in _SHOWN:
        _SHOWN["show"] = warnings._showwarnmsg
        warnings._showwarnmsg = _wrap(warnings._showwarnmsg)


def pytest_unconfigure(config):
    if "show" in _SHOWN:
        warnings._showwarnmsg = _SHOWN.pop("show")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    with _LOCK:
        found, _FOUND[:] = list(dict.fromkeys(_FOUND)), []
    if not found:
        return report
    log = os.environ.get("LSTMKIT_WARNING_LINES")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.writelines(f"{item.nodeid} [{call.when}] {line}\n" for line in found)
        return report
    if report.outcome != "skipped":
        report.outcome = "failed"
        report.longrepr = ("warnings that name a line inside lstmkit, not the caller's (give each warn "
                           "stacklevel=callers_level()):\n  " + "\n  ".join(found))
    return report
