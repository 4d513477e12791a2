"""``--out /dev/stdout`` (a stream's path) gets the bytes written into it, not a file renamed over it.

The links here stand in for ``/dev/stdout``: ``tmp_path/out -> /proc/self/fd/N``, the very form
``/dev/stdout`` has, so a write that replaces the link replaces a file of the test's own.
"""
import json
import os
import sys

import pandas as pd
import pytest

from lstmkit.files import atomic_write, is_stream, to_json
from lstmkit.table_out import echo_or_write_table

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/fd is Linux's")


def _link_to_fd(tmp_path, fd, name="out"):
    link = tmp_path / name
    link.symlink_to(f"/proc/self/fd/{fd}")
    return link


def test_a_table_written_to_a_link_to_a_pipe_goes_down_the_pipe_and_its_note_to_stderr(tmp_path, capsys):
    """'--out /dev/stdout | jq' (as root in a CI container) replaced /dev/stdout by a file holding the
    table, and printed 'wrote 2 rows to /dev/stdout' alone on the pipe."""
    r, w = os.pipe()
    try:
        link = _link_to_fd(tmp_path, w)
        assert is_stream(link)
        echo_or_write_table(pd.DataFrame({"step": [1, 2], "y": [0.5, 1.5]}), link)
        os.close(w)
        w = None
        with os.fdopen(r, "rb") as f:
            r = None
            assert f.read().decode() == "step,y\n1,0.5\n2,1.5\n"
    finally:
        for fd in (r, w):
            if fd is not None:
                os.close(fd)
    assert link.is_symlink()
    out, err = capsys.readouterr()
    assert out == "" and err == f"wrote 2 rows to {link}\n"


def test_a_stream_redirected_to_a_file_with_append_keeps_what_it_held(tmp_path):
    """'>> log' then '--out /dev/stdout': the bytes after what the file held, and the link kept."""
    target = tmp_path / "log.txt"
    target.write_text("before\n")
    fd = os.open(target, os.O_WRONLY | os.O_APPEND)
    try:
        link = _link_to_fd(tmp_path, fd)
        assert is_stream(link)
        atomic_write(link, lambda tmp: open(tmp, "w").write(to_json({"mase": float("nan")}) + "\n"))
    finally:
        os.close(fd)
    assert link.is_symlink()
    first, second = target.read_text().splitlines()
    assert first == "before" and json.loads(second) == {"mase": None}


def test_plain_files_and_folders_are_not_streams(tmp_path):
    (tmp_path / "a.csv").write_text("x\n")
    assert not is_stream(tmp_path / "a.csv") and not is_stream(tmp_path) and not is_stream(tmp_path / "new.csv")
    assert is_stream("/dev/null") and is_stream("/dev/stdout")


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm")
def test_a_file_in_dev_shm_is_replaced_whole_not_appended_to():
    import tempfile
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        out = os.path.join(folder, "preds.csv")
        for _ in range(2):
            echo_or_write_table(pd.DataFrame({"y": [1]}), out)
        assert not is_stream(out) and open(out).read() == "y\n1\n"
