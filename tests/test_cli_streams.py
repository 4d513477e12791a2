"""The command's own handling of its standard streams, unit by unit (the catalogue's
test_standard_streams runs whole commands): streams the shell closed, standard output's error
handler for characters its encoding lacks, and a Windows pipe whose reader left."""
import errno
import io
import os
import subprocess
import sys

import pytest

from lstmkit import cli, cli_train


def test_a_stream_the_shell_closed_reads_and_writes_the_null_device():
    """``lstmkit ... <&- 2>&-``: standard input reads nothing, an error line goes nowhere (not into
    standard output, print's fallback for a None stream), and standard output is left as it was."""
    code = ("import sys\nfrom lstmkit.cli import _std_streams\n_std_streams()\n"
            "print('error: x', file=sys.stderr)\nprint(repr(sys.stdin.read()))")
    proc = subprocess.run(["bash", "-c", f'"{sys.executable}" -c "$0" <&- 2>&-', code], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert (proc.returncode, proc.stdout) == (0, "''\n"), proc.stderr


def test_a_stream_python_left_none_on_an_open_descriptor_is_the_null_device(monkeypatch):
    """Descriptor 0 is open (a file took it): it is left be, and standard input reads /dev/null."""
    monkeypatch.setattr(sys, "stdin", None)
    cli._std_streams()
    stdin = sys.stdin
    try:
        assert (stdin.name, stdin.read()) == (os.devnull, "")
        assert sys.stdout is not None and sys.stdout.name != os.devnull      # the open ones untouched
    finally:
        stdin.close()


def _escape_warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: standard output's encoding")]


def test_a_character_the_encoding_lacks_is_escaped_and_said_once(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_ESCAPED", [])
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="cp1252"))
    assert "好 café—…".encode("cp1252", cli._STDOUT_ERRORS) == b"\\u597d caf\xe9\x97\x85"     # — and … are cp1252's
    assert "a\u2192b\u2192".encode("ascii", cli._STDOUT_ERRORS) == b"a\\u2192b\\u2192"
    (line,) = _escape_warnings(capsys.readouterr().err)
    # the stream's encoding, not the codec's own name for it ('charmap'), and the first character alone
    assert line.startswith("warning: standard output's encoding (cp1252) has no U+597D CJK UNIFIED IDEOGRAPH-597D: "
                           "written as \\u597d"), line


def test_the_warning_names_the_codecs_encoding_where_the_stream_has_none(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_ESCAPED", [])
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert "\u2014".encode("ascii", cli._STDOUT_ERRORS) == b"\\u2014"
    (line,) = _escape_warnings(capsys.readouterr().err)
    assert "(ascii) has no U+2014 EM DASH" in line


def test_a_paths_bytes_held_as_surrogates_are_written_as_they_were_given(monkeypatch, capsys):
    """Bytes 0x80..0xFF of a name that is not UTF-8 are the surrogates U+DC80..U+DCFF, ends included."""
    monkeypatch.setattr(cli, "_ESCAPED", [])
    assert "caf\udce9 \udc80\udcff".encode("utf-8", cli._STDOUT_ERRORS) == b"caf\xe9 \x80\xff"
    assert _escape_warnings(capsys.readouterr().err) == []


def test_a_paths_byte_beside_a_character_the_encoding_lacks_is_still_its_byte(monkeypatch, capsys):
    """Python hands the handler the whole run of characters the codec cannot write: in ascii, a Latin-1
    name's byte then an ellipsis. The byte was written as '\\udce9', and the warning said the encoding
    lacked U+DCE9, a character no one wrote."""
    monkeypatch.setattr(cli, "_ESCAPED", [])
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert "caf\udce9\u2026 \u2192\udcff\udc80!".encode("ascii", cli._STDOUT_ERRORS) == b"caf\xe9\\u2026 \\u2192\xff\x80!"
    (line,) = _escape_warnings(capsys.readouterr().err)
    assert "(ascii) has no U+2026 HORIZONTAL ELLIPSIS" in line


def test_the_handler_is_for_writing_only():
    with pytest.raises(UnicodeDecodeError):
        b"caf\xff".decode("utf-8", cli._STDOUT_ERRORS)


def _ascii_stdout(monkeypatch, errors: str = "strict") -> io.TextIOWrapper:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors=errors)
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(cli, "_ESCAPED", [])
    return stream


def test_a_strict_standard_output_escapes_in_the_block_and_is_strict_after(monkeypatch, capsys):
    stream = _ascii_stdout(monkeypatch)
    with cli._stdout_writes_any_text():
        assert stream.errors == cli._STDOUT_ERRORS
        print("a\u2014b")
    assert stream.errors == "strict"
    assert stream.buffer.getvalue() == b"a\\u2014b\n"
    with pytest.raises(UnicodeEncodeError):
        print("\u2014")


def test_a_handler_the_caller_chose_is_left_as_it_is(monkeypatch):
    stream = _ascii_stdout(monkeypatch, errors="replace")
    with cli._stdout_writes_any_text():
        assert stream.errors == "replace"
    assert stream.errors == "replace"
    stream = _ascii_stdout(monkeypatch)
    with cli._stdout_writes_any_text():
        stream.reconfigure(errors="ignore")             # set otherwise meanwhile: kept
    assert stream.errors == "ignore"
    stream = _ascii_stdout(monkeypatch, errors=cli._STDOUT_ERRORS)     # a command run in a command's block
    with cli._stdout_writes_any_text():
        pass
    assert stream.errors == cli._STDOUT_ERRORS


class _Pipe(io.StringIO):
    """Standard output on a pipe whose write (and flush) fails with ``error``."""

    def __init__(self, error: OSError | None = None, tty: bool = False):
        super().__init__()
        self.error, self.tty = error, tty

    def write(self, text):
        if self.error is not None:
            raise self.error
        return super().write(text)

    def flush(self):
        if self.error is not None:
            raise self.error

    def isatty(self):
        return self.tty


def _on_windows(monkeypatch, stream) -> None:
    monkeypatch.setattr(cli_train, "_WINDOWS", True)
    monkeypatch.setattr(sys, "stdout", stream)


@pytest.mark.parametrize("call", ["write", "flush"])
def test_a_windows_pipe_whose_reader_left_is_a_broken_pipe(monkeypatch, call):
    """EINVAL is what Windows says for a pipe whose reader left: a BrokenPipeError, as POSIX's."""
    stream = _Pipe(OSError(errno.EINVAL, "Invalid argument"))
    _on_windows(monkeypatch, stream)
    with cli._reader_gone_as_broken_pipe():
        with pytest.raises(BrokenPipeError):
            sys.stdout.write("x") if call == "write" else sys.stdout.flush()
        assert sys.stdout.getvalue() == ""              # the rest is the stream's own
    assert sys.stdout is stream


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   BrokenPipeError(errno.EPIPE, "Broken pipe")])
def test_any_other_write_error_on_windows_is_raised_as_it_was(monkeypatch, error):
    _on_windows(monkeypatch, _Pipe(error))
    with cli._reader_gone_as_broken_pipe():
        with pytest.raises(OSError) as e:
            sys.stdout.write("x")
    assert e.value is error


def test_a_write_that_succeeds_on_windows_is_written(monkeypatch):
    stream = _Pipe()
    _on_windows(monkeypatch, stream)
    with cli._reader_gone_as_broken_pipe():
        assert sys.stdout.write("abc") == 3
    assert stream.getvalue() == "abc"


@pytest.mark.parametrize("windows, tty", [(False, False), (True, True)])
def test_standard_output_is_left_as_it_is_off_windows_and_on_a_terminal(monkeypatch, windows, tty):
    stream = _Pipe(OSError(errno.EINVAL, "Invalid argument"), tty=tty)
    _on_windows(monkeypatch, stream)
    monkeypatch.setattr(cli_train, "_WINDOWS", windows)
    with cli._reader_gone_as_broken_pipe():
        assert sys.stdout is stream


def test_standard_output_replaced_in_the_block_is_kept(monkeypatch):
    _on_windows(monkeypatch, _Pipe())
    other = io.StringIO()
    with cli._reader_gone_as_broken_pipe():
        sys.stdout = other
    assert sys.stdout is other


def test_no_standard_output_on_windows_is_left_none(monkeypatch):
    _on_windows(monkeypatch, None)
    with cli._reader_gone_as_broken_pipe():
        assert sys.stdout is None


def test_a_stream_is_on_a_terminal_only_when_it_says_so():
    closed = io.StringIO()
    closed.close()
    assert [cli._on_a_terminal(s) for s in (_Pipe(tty=True), _Pipe(), object(), closed)] == [True, False, False, False]


@pytest.mark.parametrize("args", [["--version"], ["forecast", "train", "--help"]])
def test_a_reader_that_left_ends_a_printing_command_with_exit_1_and_no_word(args):
    """`lstmkit … | true`, `| head -1` on a long output: a command whose work is its standard output stops
    when the reader has left, exit 1 without a word, click's convention (README, exit codes): no
    BrokenPipeError traceback, no 'Exception ignored' from Python's last flush."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "lstmkit", *args], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (1, ""), proc.stderr


@pytest.mark.parametrize("args", [["forecast", "predict", "--run", "no-such-run", "--data", "x.csv"], ["--bogus"]])
def test_an_error_whose_reader_left_keeps_its_exit_code(args):
    """`lstmkit … 2>&1 | grep -q x`: the error line found standard error's reader gone, and its
    BrokenPipeError ended a bad input with exit 1, the environment's code (retry), not 2."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "lstmkit", *args], stdout=subprocess.PIPE, stderr=write_end,
                              timeout=120)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stdout) == (2, b"")


def test_a_command_group_alone_whose_error_reader_left_keeps_exit_2():
    """`lstmkit forecast 2>&1 | grep -q x` (a group with no command: its help, then 'error: missing command' on
    standard error): the error line found its reader gone, and its BrokenPipeError was exit 1, not 2."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "lstmkit", "forecast"], stdout=subprocess.PIPE, stderr=write_end,
                              timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 2 and b"Usage:" in proc.stdout
