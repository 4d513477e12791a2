"""Running the ``lstmkit`` command in-process, for CLI tests."""
import io

from lstmkit.cli import main


def run_cli(args, capsys, stdin: str | bytes | None = None, monkeypatch=None):
    """Run ``lstmkit ARGS`` (``stdin`` fed as UTF-8 text); returns (exit code, stdout, stderr)."""
    if stdin is not None:
        raw = stdin if isinstance(stdin, bytes) else stdin.encode()
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_user_error(code, err, *words):
    """Exit 2, one ``error: ...`` line on stderr containing every word, no traceback."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
