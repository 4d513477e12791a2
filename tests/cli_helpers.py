"""Running the ``lstmkit`` command in-process, for CLI tests."""
from lstmkit.cli import main


def run_cli(args, capsys):
    """Run ``lstmkit ARGS``; returns (exit code, stdout, stderr)."""
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
