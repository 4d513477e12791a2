"""lstmkit.files: durable writes and the checks around them, by hand-worked cases."""
import os
import re
import sys

import pytest

from lstmkit.errors import EnvironmentProblem, LstmkitError
from lstmkit.files import atomic_write, check_name_length, check_out_path, check_writable, file_in_the_way


def test_a_write_below_a_file_names_that_file_not_the_missing_folder_under_it(tmp_path):
    (tmp_path / "afile").write_text("kept")
    target = tmp_path / "afile" / "sub" / "out.csv"
    assert file_in_the_way(target.parent) == tmp_path / "afile"         # afile/sub does not exist: afile blocks it
    assert file_in_the_way(tmp_path / "free" / "sub") is None            # nothing there, nothing in the way
    with pytest.raises(LstmkitError) as e:
        atomic_write(target, lambda tmp: open(tmp, "w").close())
    assert str(e.value).startswith(f"cannot write {target}: {tmp_path / 'afile'} is a file, not a folder")
    assert (tmp_path / "afile").read_text() == "kept"


def test_a_name_too_long_is_shown_cut_to_its_first_20_and_last_12_characters(tmp_path):
    name = "\N{GRINNING FACE}" * 70 + ".csv"            # 74 characters, 284 bytes: past the 255 bytes of a name
    with pytest.raises(LstmkitError) as e:
        check_name_length(tmp_path / name, "--out")
    shown = "\N{GRINNING FACE}" * 20 + "…" + "\N{GRINNING FACE}" * 8 + ".csv"
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")                          # 255 on the usual file systems
    assert str(e.value).startswith(f"--out: the name {shown!r} is 284 bytes long; a file or folder name may have "
                                   f"at most {limit} bytes here")


def test_an_out_starting_with_a_tilde_the_shell_left_is_refused_unless_it_names_no_user_or_a_folder_here(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LstmkitError, match="--out ~/x.csv would make a folder named '~' here"):
        check_out_path("~/x.csv", "--out")
    check_out_path("~no-such-user-mut50f/x.csv", "--out")      # expanduser leaves it as it is: a plain name
    (tmp_path / "~").mkdir()                                      # a folder of that name is there: it is meant
    check_out_path("~/x.csv", "--out")


def test_check_writable_probes_the_folder_the_file_would_be_made_in(tmp_path, monkeypatch):
    from catalogue_helpers import read_only_mount
    ro = tmp_path / "ro"
    ro.mkdir()
    with read_only_mount(ro, monkeypatch):
        with pytest.raises(EnvironmentProblem) as e:
            check_writable(ro / "new" / "bt", "the backtest")          # not there yet: made inside ro
        assert e.value.message == f"cannot write the backtest to {ro / 'new' / 'bt'} (in {ro}): read-only file " \
                                  "system; nothing was written"
        with pytest.raises(EnvironmentProblem) as e:
            check_writable(ro, "the backtest", "pass another folder")   # there: no "(in ...)"
        assert str(e.value) == f"cannot write the backtest to {ro}: read-only file system; nothing was written " \
                               "— pass another folder"
    check_writable(ro / "new" / "bt", "the backtest")                   # writable: no error, and nothing left
    assert list(ro.iterdir()) == []


@pytest.mark.parametrize("winerror, held", [(5, True), (32, True), (None, False), (2, False)])
def test_only_windows_access_denied_or_sharing_violation_on_a_file_there_is_a_file_held_open(tmp_path, winerror,
                                                                                                 held):
    """Windows refuses to replace a file another program has open with ERROR_ACCESS_DENIED (5) or
    ERROR_SHARING_VIOLATION (32); a POSIX PermissionError (no winerror) is the folder's permissions."""
    from lstmkit.files import _held_open_fix
    (tmp_path / "out.csv").write_text("open in a spreadsheet")
    e = PermissionError(13, "Permission denied")
    if winerror is not None:
        e.winerror = winerror
    fix = _held_open_fix(e, tmp_path / "out.csv")
    assert (fix is not None) == held
    if held:
        assert fix.startswith(f"close {tmp_path / 'out.csv'} in the program that has it open")
        assert _held_open_fix(e, tmp_path / "missing.csv") is None           # no such file: nothing holds it
        assert _held_open_fix(OSError(28, "No space left on device"), tmp_path / "out.csv") is None


def test_a_file_too_large_names_the_process_limit_only_when_there_is_one(tmp_path, monkeypatch):
    import errno
    from lstmkit.files import write_fix
    resource = pytest.importorskip("resource")                      # POSIX: Windows has no file size limit
    e = OSError(errno.EFBIG, "File too large")
    monkeypatch.setattr(resource, "getrlimit", lambda which: (1_000_000, resource.RLIM_INFINITY))
    assert write_fix(e, tmp_path) == ("raise the file size limit this command runs under (1000000 bytes; `ulimit -f` "
                                      "in the shell, the job's file size limit in a scheduler)")
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert write_fix(e, tmp_path) == f"write {tmp_path} on another file system: this one takes no file this large"
    assert write_fix(OSError(errno.ENOSPC, "No space left"), tmp_path) == f"free space or fix permissions on {tmp_path}"


def test_a_descriptors_path_is_a_stream_though_it_resolves_to_a_regular_file(tmp_path):
    """``--out /dev/fd/3`` where the shell opened 3 on a file (``3>out.csv``): written into, not
    replaced by a rename (which would put a file where the process's descriptor link is)."""
    from lstmkit.files import is_stream
    links = [d for d in ("/dev/fd", "/proc/self/fd") if os.path.isdir(d)]     # Linux both, macOS /dev/fd alone
    assert links or sys.platform == "win32"
    target = tmp_path / "out.csv"
    with open(target, "w") as f:
        assert all(is_stream(f"{d}/{f.fileno()}") for d in links)
        assert not is_stream(target) and not is_stream(tmp_path)          # the file itself, and a folder
    assert not is_stream(tmp_path / "missing.csv")


def test_a_write_onto_a_folder_is_refused_with_a_file_inside_it_or_a_move_as_the_fix(tmp_path):
    (tmp_path / "preds").mkdir()
    (tmp_path / "preds.csv").mkdir()                                  # a folder named like a file
    with pytest.raises(LstmkitError) as e:
        atomic_write(tmp_path / "preds", lambda tmp: None)
    assert str(e.value) == f"cannot write {tmp_path / 'preds'}: it is a folder — name a file inside it, e.g. " \
                           f"{tmp_path / 'preds' / 'out.csv'}"
    with pytest.raises(LstmkitError) as e:
        atomic_write(tmp_path / "preds.csv", lambda tmp: None)
    assert str(e.value).endswith(f"name a file that is not a folder, or move {tmp_path / 'preds.csv'} aside")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds", "preds.csv"]      # and nothing else was written


def test_a_write_whose_folders_cannot_be_made_names_the_reason_and_leaves_nothing(tmp_path, monkeypatch):
    """A read-only mount: as the kernel does, making a folder whose parent is missing is ENOENT, and
    one whose parent is there EROFS; the error names the read-only file system, not a missing folder."""
    import errno

    def mkdir(path, mode=0o777, *, dir_fd=None):
        if not os.path.isdir(os.path.dirname(os.fspath(path))):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), os.fspath(path))
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
    target = tmp_path / "new" / "deeper" / "out.csv"
    monkeypatch.setattr(os, "mkdir", mkdir)
    with pytest.raises(EnvironmentProblem) as e:
        atomic_write(target, lambda tmp: open(tmp, "w").close())
    assert e.value.message == f"could not write {target} (read-only file system); {target} was not created"
    assert list(tmp_path.iterdir()) == []


def test_read_json_takes_a_file_of_the_limit_and_refuses_one_byte_more(tmp_path, monkeypatch):
    import lstmkit.files
    from lstmkit.files import read_json
    monkeypatch.setattr(lstmkit.files, "JSON_LIMIT", 10)
    (tmp_path / "at.json").write_text('[1,2,3,44]')                      # 10 bytes
    (tmp_path / "past.json").write_text('[1,2,3,444]')                   # 11 bytes
    assert read_json(tmp_path / "at.json", "restore it") == [1, 2, 3, 44]
    with pytest.raises(LstmkitError, match="past.json is 0 MiB, larger than any JSON file lstmkit writes"):
        read_json(tmp_path / "past.json", "restore it")
    (tmp_path / "bad.json").write_text('[1,')
    with pytest.raises(LstmkitError, match=r"bad.json is corrupt \(not valid JSON\) — restore it"):
        read_json(tmp_path / "bad.json", "restore it")


@pytest.mark.parametrize("name, refused", [("COM1.csv", "'COM1' is a device's name"),
                                           ("lpt9", "'lpt9' is a device's name"),
                                           ("NUL .txt", "'NUL ' is a device's name"), ("COM10.csv", None),
                                           ("CONSOLE.csv", None), ("10:30", "holds ':'"),
                                           ("COM0.csv", "'COM0' is a device's name"),
                                           ("lpt0", "'lpt0' is a device's name"),
                                           ("COM\u00b2.csv", "'COM\u00b2' is a device's name"),
                                           ("lpt\u00b3", "'lpt\u00b3' is a device's name"),
                                           ("CONIN$.txt", "'CONIN$' is a device's name"),
                                           ("conout$", "'conout$' is a device's name"), ("COM\u2074", None),
                                           ("CONIN", None), ("out.", "ends in a dot"), ("out ", "ends in a space")])
def test_windows_names_refused_are_its_devices_its_reserved_characters_and_trailing_dots(name, refused):
    """Windows' reserved device names are CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9 and the COM and LPT
    with a superscript 1, 2 or 3 (Latin-1's, which Windows reads as digits), with any extension
    (Microsoft's 'Naming Files, Paths, and Namespaces'), and the console's CONIN$ and CONOUT$;
    COM10, CONSOLE, CONIN and COM with a superscript 4 (not in Latin-1) are plain names."""
    from pathlib import Path

    from lstmkit.files import _check_windows_names
    if refused is None:
        _check_windows_names(Path("runs") / name, "--out")
    else:
        with pytest.raises(LstmkitError, match=re.escape(refused)):
            _check_windows_names(Path("runs") / name, "--out")
