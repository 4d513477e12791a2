"""What C code prints on standard error while an MP3 decodes is caught, and only that where the C
library's stderr stream can be set; elsewhere, or asked to (torch's C++ warnings), file descriptor 2 as a whole."""
import ctypes
import os
import sys

import pytest

from lstmkit import stderr_lines
from lstmkit.stderr_lines import c_stderr_lines

stdio = stderr_lines._c_stderr()


def _c_prints(text: bytes) -> None:
    """``fputs(text, stderr)``, as libmpg123 prints its notes."""
    libc, var = stdio
    libc.fputs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    libc.fputs(text, var.value)


@pytest.mark.skipif(stdio is None, reason="the C library's stderr is not a settable variable here")
def test_the_c_stream_alone_is_caught_and_python_writes_go_on(capfd):
    with c_stderr_lines() as lines:
        _c_prints(b"Note: Illegal Audio-MPEG-Header 0x00000000 at offset 0.\n\n")
        os.write(2, b"a log line of another thread\n")
    assert lines == ["Note: Illegal Audio-MPEG-Header 0x00000000 at offset 0."]
    assert capfd.readouterr().err == "a log line of another thread\n"
    _c_prints(b"after\n")                                       # the stream is back where it was
    assert capfd.readouterr().err == "after\n"


def test_where_the_stream_cannot_be_set_descriptor_2_is_caught(capfd, monkeypatch):
    monkeypatch.setattr(stderr_lines, "_stdio", False)
    with c_stderr_lines() as lines:
        os.write(2, b"Note: caught\n")
    assert lines == ["Note: caught"] and capfd.readouterr().err == ""
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_the_c_stream_is_found_under_glibc_and_macos_and_left_to_descriptor_2_under_another_c_library(monkeypatch):
    """glibc's ``stderr`` and macOS's ``__stderrp`` are variables (the docstring's case for the stream
    alone): found, not left to descriptor 2. musl's ``stderr`` is a constant: none, whatever this
    machine's C library is (the name read is made musl's)."""
    glibc = sys.platform.startswith("linux") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc ")
    assert (stdio is not None) == (glibc or sys.platform == "darwin")
    if stdio is not None:
        libc, var = stdio
        assert isinstance(var, ctypes.c_void_p) and var.value
    monkeypatch.setattr(stderr_lines, "_stdio", None)
    monkeypatch.setattr(stderr_lines.sys, "platform", "linux")
    monkeypatch.setattr(stderr_lines, "_libc_name", lambda: "musl")
    assert stderr_lines._c_stderr() is None


def test_a_c_library_that_cannot_be_opened_falls_back_to_descriptor_2(capfd, monkeypatch):
    def no_libc(*a, **k):
        raise OSError("no libc")
    monkeypatch.setattr(stderr_lines, "_stdio", None)
    monkeypatch.setattr(stderr_lines.ctypes, "CDLL", no_libc)
    assert stderr_lines._c_stderr() is None and stderr_lines._c_stderr() is None     # looked for once, kept as none
    with c_stderr_lines() as lines:
        os.write(2, b"Note: caught\n")
    assert lines == ["Note: caught"] and capfd.readouterr().err == ""


def test_descriptor_2_is_caught_where_python_has_no_sys_stderr(capfd, monkeypatch):
    """pythonw, a service started without one: ``sys.stderr`` is None, and nothing is to be flushed first."""
    monkeypatch.setattr(os.sys, "stderr", None)
    with c_stderr_lines(descriptor=True) as lines:
        os.write(2, b"std::cerr line\n")
    assert lines == ["std::cerr line"]
    monkeypatch.undo()
    assert capfd.readouterr().err == ""
