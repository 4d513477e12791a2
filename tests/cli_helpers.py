"""Running the ``lstmkit`` command in-process, for CLI tests."""
import io
from pathlib import Path

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


def assert_evaluated_keys(said: dict, run, task: str, name: str, value) -> None:
    """An ``evaluate --json`` answer holds the keys every task's holds (README, "--json"): the run folder, the task,
    the data it scored and its headline metric ``name`` of ``value`` (the task's own key's number)."""
    assert said["run"] == str(Path(run)) and said["task"] == task and isinstance(said["data"], str) and said["data"]
    assert said["metric"]["name"] == name and said["metric"]["value"] == value, said["metric"]
    assert isinstance(said["metric"]["higher_is_better"], bool)
