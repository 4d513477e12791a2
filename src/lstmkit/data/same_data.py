"""A resumed run trains on the data it started with: the SHA-256 of each data file a run names
is recorded in its data summary, and ``--resume`` refuses a file whose content has changed; data
given in memory (a DataFrame, an array, a list of texts) is recorded by its fingerprint
(:mod:`lstmkit.data.fingerprint`) and ``fit(..., resume=True)`` refuses other data in its place; a
frame's columns and dtypes are recorded beside it, so that the same rows with the columns in another
order, or with a column of another type, are refused with that cause named and its fix.

A checkpoint continued on other data gives a model no uninterrupted run would give (and, when
the vocabulary changed size, a "checkpoint written for another model" error that blames the
settings). Runs written before the hashes (or the fingerprints) were recorded resume unchecked.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any, Callable

from lstmkit.data.decoding import folder_text_files
from lstmkit.data.fingerprint import fingerprint
from lstmkit.data.tables import is_pipe, is_stdin
from lstmkit.data.table_changes import (TABLES_KEY, brief_names, is_rows_table, same_table, table_change,
                                        table_records)
from lstmkit.data.textsets import CLASSES_FILE, class_folder_files, class_names, is_class_index_csv
from lstmkit.errors import LstmkitError, opt
from lstmkit.run_resume import PIPED_KEY
from lstmkit.runs import MEMORY_KEY, file_sha256     # MEMORY_KEY: read by run_resume too

__all__ = ["HASHES_KEY", "TEXT_FOLDERS_KEY", "PIPED_KEY", "source_path", "piped", "text_folders", "CLASS_FOLDERS_KEY",
           "class_folder_roles", "folder_sha256", "MEMORY_KEY", "LAYOUT_KEY", "TABLES_KEY", "data_hashes",
           "memory_hashes", "memory_layouts",
           "table_records", "check_same_data", "check_changed_tables", "check_same_memory", "check_same_kind",
           "CLASSES_KEY", "classes_records", "check_same_classes"]

HASHES_KEY = "sha256"          # in the run's data summary: {role: hex digest}
TEXT_FOLDERS_KEY = "text_folders"  # in the run's data summary: the roles whose data is a folder of .txt files
CLASS_FOLDERS_KEY = "class_folders"  # of those, the roles read as a classifier's class folders (of its files read)
LAYOUT_KEY = "memory_columns"  # in the run's data summary: {fit argument: {"columns", "dtypes"}} of frames given
_MOST_COLUMNS = 1000           # a wider frame's layout is not recorded (lstmkit.json stays small)
CLASSES_KEY = "classes_txt"    # in the run's data summary: {role: {"file", "names"}} of class-index CSVs' classes.txt
_MOST_CLASSES = 1000           # more class names are recorded by their SHA-256 alone


def _named(summary: dict[str, Any]) -> dict[str, str]:
    """The paths a summary names, by role: ``source``, ``val_source``, ``files.src_file``, …"""
    named = {k: v for k, v in summary.items() if k.endswith("source") or k == "target"}
    named.update({f"files.{k}": v for k, v in (summary.get("files") or {}).items()})
    return {role: v for role, v in named.items() if isinstance(v, str)}


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except OSError:                # a name too long to be a path (a text given as data)
        return False


def data_hashes(summary: dict[str, Any]) -> dict[str, str]:
    """``{role: sha256}`` of the data files ``summary`` names (in-memory data: none). A folder is
    hashed only where the summary lists its role under :data:`TEXT_FOLDERS_KEY` (a text classifier's
    class folders, a language model's corpus of ``.txt`` files): the SHA-256 of its text files' paths and
    SHA-256s (:func:`folder_sha256`); other folders none (a speech corpus: its run records its recordings,
    ``runs.RECORDINGS_KEY``)."""
    digests: dict[str, str] = {}                   # by path and reader: a file named in two roles is read once
    folders, classes = set(summary.get(TEXT_FOLDERS_KEY) or ()), set(summary.get(CLASS_FOLDERS_KEY) or ())
    keys = {role: (path, role in classes) for role, path in _named(summary).items()}
    for role, (path, read_as_classes) in keys.items():
        if (path, read_as_classes) in digests:
            continue
        if _is_file(path):
            digests[path, read_as_classes] = file_sha256(path)
        elif role in folders and Path(path).is_dir():
            digests[path, read_as_classes] = folder_sha256(Path(path), read_as_classes)
    return {role: digests[key] for role, key in sorted(keys.items()) if key in digests}


def source_path(data: Any) -> str | None:
    """What a run's data summary records as the file ``data`` was read from (``source``,
    ``val_source``, ...): its absolute path; None for data given in memory, and for data read from
    standard input or a pipe (:func:`~lstmkit.data.tables.is_pipe`), which no later command can read
    again (:func:`piped` records those): ``--data -`` was recorded as ``WORKING_FOLDER/-`` and
    ``--data <(zcat f.csv.gz)`` as ``/proc/PID/fd/pipe:[N]``, and a backtest or resume without
    ``--data`` said 'file not found' of a path the user never gave."""
    if not isinstance(data, (str, os.PathLike)) or is_pipe(Path(data)):
        return None
    return str(Path(data).resolve())


def piped(**given: Any) -> dict[str, dict[str, str]]:
    """``{PIPED_KEY: {role: name}}`` for a data summary (empty when nothing was piped): the roles
    (``source=data``, ...) read from standard input (``"standard input"``) or a pipe (its name as
    given, ``/dev/fd/63``), whose :func:`source_path` is None."""
    roles = {role: "standard input" if is_stdin(d) else str(d) for role, d in given.items()
             if isinstance(d, (str, os.PathLike)) and is_pipe(Path(d))}
    return {PIPED_KEY: roles} if roles else {}


def text_folders(**given: Any) -> dict[str, list[str]]:
    """``{TEXT_FOLDERS_KEY: roles}``, for a data summary: the roles (``source=data``, ...) whose data
    is given as a folder, which :func:`data_hashes` then hashes by its ``.txt`` files."""
    return {TEXT_FOLDERS_KEY: [role for role, d in given.items() if isinstance(d, (str, Path)) and Path(d).is_dir()]}


def class_folder_roles(**given: Any) -> dict[str, list[str]]:
    """:func:`text_folders` for a text classifier, whose folders are class folders: the roles listed
    under :data:`CLASS_FOLDERS_KEY` too, which :func:`data_hashes` hashes by the files the classifier
    reads (:func:`~lstmkit.data.textsets.class_folder_files`): aclImdb's ``unsup/`` and ``urls_pos.txt``,
    never read, no longer change the digest."""
    listed = text_folders(**given)
    return {**listed, CLASS_FOLDERS_KEY: list(listed[TEXT_FOLDERS_KEY])}


def folder_sha256(folder: Path, classes: bool = False) -> str:
    """The SHA-256 of a folder of texts: each text file's path inside it and SHA-256, in order of
    those paths: a file added, removed, renamed or edited changes it; the folder moved does not. The
    files are those a language model reads (:func:`~lstmkit.data.decoding.folder_text_files`, every
    ``.txt`` under it), or with ``classes`` those a classifier reads
    (:func:`~lstmkit.data.textsets.class_folder_files`): the same digest where the two are the same
    files, so a classifier's run recorded before the two differed keeps its digest where it read every
    ``.txt`` file of its folder."""
    h = hashlib.sha256()
    for f in class_folder_files(folder) if classes else folder_text_files(folder):
        h.update(f"{f.relative_to(folder).as_posix()}\0{file_sha256(f)}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def check_same_data(recorded: dict[str, Any], now: dict[str, str], run_dir: Path,
                    summary: dict[str, Any] | None = None, tables: dict[str, Any] | None = None) -> None:
    """Refuse a resume whose data file differs from the one the run started on (``recorded`` is
    the run's data summary as written when it started; ``now`` the hashes of the files read now,
    named in ``summary``, the data summary now, when it is given: ``--resume --data OTHER``).

    ``tables``: ``{role: DataFrame}``, the tables read now from the files read as tables. A file
    whose table is the one the run recorded (:data:`TABLES_KEY`) is the same data saved again
    (other line endings, quoting, number spelling: what the model reads is the same) and resumes;
    another is told what changed (:func:`~lstmkit.data.table_changes.table_change`: rows appended,
    rows gone, columns reordered, renamed, added or removed; a file of series or texts that is no
    table, its rows: series appended, other labels, other values; a plain text, its lines: lines
    appended, other text in lines X-Y). A run that recorded no table is told only that the SHA-256
    differ, as before."""
    before = recorded.get(HASHES_KEY) or {}
    records = recorded.get(TABLES_KEY) or {}
    old_digests: dict[str, str] = {}            # by folder: two roles naming one folder read it once
    for role, digest in now.items():
        if role in before and before[role] != digest:
            path = _named(recorded).get(role, role)
            given = _named(summary or {}).get(role, path)
            frame, record = (tables or {}).get(role), records.get(role)
            if frame is not None and isinstance(record, dict):
                if same_table(record, frame):
                    continue
                change = table_change(record, frame, given if given == path else f"{given} (given for {path})",
                                      run_dir)
                if change is not None:
                    raise LstmkitError(*change)
            if _old_class_digest(recorded, summary or {}, role, given, old_digests):
                continue
            if role in (recorded.get(TEXT_FOLDERS_KEY) or ()):          # a folder of .txt files
                what = f"{path} is not the folder" if given == path else f"{given} is not {path}, the folder"
                raise LstmkitError(f"the data changed since {run_dir} started: {what} it trained on (a .txt file "
                                   "in it was added, removed, renamed or edited)", "a resumed run must train on the "
                                   "same data: restore that folder's files, or start a new run without "
                                   f"{opt('resume', True)}")
            what = f"{path} is not the file" if given == path else f"{given} is not {path}, the file"
            raise LstmkitError(f"the data changed since {run_dir} started: {what} it trained on "
                               f"(their SHA-256 differ)", "a resumed run must train on the same data: restore "
                               f"that file, or start a new run without {opt('resume', True)}")


def _old_class_digest(recorded: dict[str, Any], summary: dict[str, Any], role: str, given: str,
                      old_digests: dict[str, str]) -> bool:
    """Whether ``role``'s recorded digest is that of a classifier's run written before the class folders'
    digest covered only the files read (:data:`CLASS_FOLDERS_KEY`): the digest of every ``.txt`` file
    under the folder ``given``, which now hashes differently only for the files it never read (``unsup/``).
    That digest is computed only for such a run, and kept in ``old_digests`` (by folder) for the other roles
    naming the folder (its data and test data one folder)."""
    if not (role in (summary.get(CLASS_FOLDERS_KEY) or ()) and role not in (recorded.get(CLASS_FOLDERS_KEY) or ())
            and role in (recorded.get(TEXT_FOLDERS_KEY) or ()) and Path(given).is_dir()):
        return False
    if given not in old_digests:
        old_digests[given] = folder_sha256(Path(given))
    return old_digests[given] == (recorded.get(HASHES_KEY) or {}).get(role)


def check_changed_tables(recorded: dict[str, Any], files: dict[str, Any], read_table: Callable[[Path], Any],
                         run_dir: Path) -> None:
    """Where a resume's read of its data failed (a column its settings name is gone: renamed since),
    tell what changed in each table file that is not the one the run started on, as
    :func:`check_same_data` tells a table read: ``recorded`` is the run's data summary, ``files``
    ``{role: the path given}`` (a role of the summary's ``files``: ``files.val_data``; other data is
    left out), ``read_table(path)`` the table as the fit reads it (None: a file it reads otherwise).
    Returns when it has nothing to tell (a file that is no table now, the same table, a run that
    recorded none): the read's own error stands. A table whose record cannot tell what changed (a
    wide one) is told its SHA-256 differ, as a resume is."""
    summary: dict[str, Any] = {}
    for role, f in files.items():
        if isinstance(f, (str, os.PathLike)):          # 'files.val_data': the summary's files, as _named reads them
            place, key = (summary.setdefault("files", {}), role[6:]) if role.startswith("files.") else (summary, role)
            place[key] = str(Path(f).resolve())
    now, before, records = data_hashes(summary), recorded.get(HASHES_KEY) or {}, recorded.get(TABLES_KEY) or {}
    tables = {}
    for role, digest in now.items():
        if role in records and before.get(role) not in (None, digest):
            try:
                table = read_table(Path(_named(summary)[role]))
            except LstmkitError:                  # no table now: the read's own error says why
                continue
            if table is not None:
                tables[role] = table
    check_same_data(recorded, {role: now[role] for role in tables}, run_dir, summary, tables)


def check_same_kind(recorded: dict[str, Any], now: dict[str, str], prints: dict[str, str], given: dict[str, Any],
                    tables: dict[str, Any], summary: dict[str, Any], run_dir: Path) -> None:
    """Refuse a resume that reads a file where the run started on data given in memory, or the
    reverse, unless the content is provably the same: the table read from the file now has the
    fingerprint of the frame the run started on, or the frame given now that of the table the run
    read from its file. Each was resumed unchecked (``check_same_data`` compares files with files,
    ``check_same_memory`` memory with memory), training on whatever was given.

    ``now`` and ``prints``: the file hashes and memory fingerprints of this resume's data, ``given``
    the fit's data arguments; ``tables``: ``{file role: DataFrame}``, the tables it read (from a
    file or given); ``summary`` its data summary."""
    files, memory = recorded.get(HASHES_KEY) or {}, recorded.get(MEMORY_KEY) or {}
    records = recorded.get(TABLES_KEY) or {}
    for role in dict.fromkeys([*now, *files]):
        argument = _argument_of(role, [*memory, *prints])
        if argument is None:
            continue
        frame = tables.get(role)
        if role in now and role not in files and argument in memory:          # memory then, a file now
            if frame is not None and fingerprint(frame) == memory[argument]:
                continue
            kind = "a DataFrame" if argument in (recorded.get(LAYOUT_KEY) or {}) else "data"
            why = ("whose table is not that data (their fingerprints differ)" if frame is not None
                   and not is_rows_table(frame) else "which cannot be compared with that data")
            raise LstmkitError(f"{run_dir} started on {kind} given in memory as {argument} (to fit() in Python); "
                               f"this resume reads the file {_named(summary).get(role)} instead, {why}",
                               f"resume in Python with the same data (fit({argument}=THAT_DATA, resume=True)), "
                               f"or start a new run without {opt('resume', True)}")
        if role in files and role not in now and argument in prints:          # a file then, memory now
            record = records.get(role)
            if isinstance(record, dict) and (prints[argument] == record.get("print")
                                             or (frame is not None and same_table(record, frame))):
                continue
            path = _named(recorded).get(role, role)
            if not isinstance(record, dict):
                why = "which cannot be compared with that file (the run recorded no table of it)"
            elif record.get("unit") == "line" and is_rows_table(frame, "line"):   # lines given: compared line by line
                why = "which are not the lines read from that file (their fingerprints differ)"
            elif "unit" in record:          # its series, texts or lines as rows: no table a frame given could be
                held = "lines of text" if record["unit"] == "line" else "labelled series or texts"
                why = f"which cannot be compared with that file (it holds {held}, not a table)"
            else:
                why = "which is not the table read from that file (their fingerprints differ)"
            raise LstmkitError(f"{run_dir} started on the file {path}; this resume gives a {_kind(given[argument])} "
                               f"in memory as {argument} instead, {why}", "resume from that file (resume(RUN) given "
                               "no data reads it again, as the command line's resume does), or start a new run without "
                               "resume")


def _argument_of(role: str, arguments: list[str]) -> str | None:
    """The fit argument that gives the data of file role ``role`` in memory (``source``: ``data``;
    ``val_source``: ``val_data`` or ``val``), among ``arguments``; None for another role."""
    part = "data" if role == "source" else role.removesuffix("_source")
    if part == role:
        return None
    return next((a for a in arguments if a == part or a.startswith(part + "_")), None)


def memory_hashes(given: dict[str, Any]) -> dict[str, str]:
    """``{argument: fingerprint}`` of the fit arguments given in memory (``{"data": df, "val_data": None}``);
    one given as a path, not given, or of a kind with no fingerprint is left out."""
    prints = {role: fingerprint(v) for role, v in given.items() if v is not None and not isinstance(v, (str, Path))}
    return {role: digest for role, digest in prints.items() if digest is not None}


def memory_layouts(given: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """``{argument: {"columns": [...], "dtypes": [...]}}`` of the fit arguments given as DataFrames
    (of at most 1,000 columns): what a resume given the same rows with the columns in another order,
    or a column of another type, is told (their fingerprints alone said only that they differ)."""
    return {role: {"columns": [str(c) for c in v.columns], "dtypes": [str(t) for t in v.dtypes]}
            for role, v in given.items() if _is_frame(v) and len(v.columns) <= _MOST_COLUMNS}


def check_same_memory(recorded: dict[str, Any], given: dict[str, Any], now: dict[str, str], run_dir: Path) -> None:
    """Refuse ``fit(..., resume=True)`` given other in-memory data than the run started on (``recorded``:
    the run's data summary; ``given`` the fit's data arguments, ``now`` their :func:`memory_hashes`).
    Validation data given in memory at the start and not at all now is refused too (the holdout
    split from the data would train on other rows); test data only scores, and may be left out.
    A run that recorded its frames' fingerprints with their row labels (before they were left out)
    is compared so too."""
    before = recorded.get(MEMORY_KEY) or {}
    for role, digest in before.items():
        if role in now and now[role] != digest and fingerprint(given[role], every_index=True) != digest:
            _refuse_other_layout((recorded.get(LAYOUT_KEY) or {}).get(role), given[role], digest, role, run_dir)
            raise LstmkitError(f"the data changed since {run_dir} started: the {_kind(given[role])} given as {role} "
                               "is not the one it trained on (their fingerprints differ)",
                               f"a resumed run must train on the same data: pass the {role} it started on, "
                               "or start a new run without resume")
        if given.get(role) is None and role in given and not role.startswith("test"):
            raise LstmkitError(f"{run_dir} started with {role} given in memory; this resume gives none (the data "
                               "would be split another way)", f"pass the same {role} again, or start a new run "
                               "without resume")


def _refuse_other_layout(layout: dict[str, list[str]] | None, frame: Any, digest: str, role: str,
                         run_dir: Path) -> None:
    """The error for a frame that holds the data a run started on with its columns in another
    order, or with columns of another type (an integer column read as float), when that alone makes
    its fingerprint differ; nothing for any other difference, or a run that recorded no layout."""
    if not layout or not _is_frame(frame):
        return
    was, was_types = layout.get("columns") or [], layout.get("dtypes") or []
    names = {str(c): c for c in frame.columns}
    now, now_types = list(names), [str(t) for t in frame.dtypes]
    start = f"the data changed since {run_dir} started: the DataFrame given as {role}"
    if now != was and sorted(now) == sorted(was) and len(names) == len(was):
        if fingerprint(frame[[names[c] for c in was]]) == digest:
            order = f"{role}[{was!r}]" if len(was) <= 8 else f"as data.{LAYOUT_KEY} in its {run_dir.name}/lstmkit.json"
            raise LstmkitError(f"{start} has its columns in another order (it started with {brief_names(was)}; now "
                               f"{brief_names(now)})", f"pass them in the order it started with ({order}), "
                               "or start a new run without resume")
    if now == was and now_types != was_types and len(was_types) == len(was):
        changed = {c: (t, u) for c, t, u in zip(was, was_types, now_types) if t != u}
        try:
            back = frame.astype({names[c]: t for c, (t, _) in changed.items()})
            # each value kept (astype turns 6.5 into 6 without a word), and then the run's data exactly
            same = (all(bool(back[names[c]].eq(frame[names[c]]).all()) for c in changed)
                    and fingerprint(back) == digest)
        except (TypeError, ValueError):            # a float with NaN cannot be the int it was
            same = False
        if same:
            shown = ", ".join(f"{c!r} is {u}, was {t}" for c, (t, u) in list(changed.items())[:8])
            more = f" ({len(changed)} columns in all)" if len(changed) > 8 else ""
            types = {c: t for c, (t, _) in changed.items()}
            raise LstmkitError(f"{start} holds the same values with columns of another type: {shown}{more}",
                               f"convert them back ({role}.astype({types!r})), or start a new run without resume")


def _is_frame(data: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(data, pd.DataFrame)


def _kind(data: Any) -> str:
    name = type(data).__name__
    return {"ndarray": "array", "tuple": "data"}.get(name, name)


def _classes_record(path: Any) -> dict[str, Any] | None:
    """``{"file": its classes.txt, "names": the names it gives, or None: no classes.txt}`` of a
    class-index CSV (more than a thousand names: ``"sha256"`` of them instead; a classes.txt that
    cannot be read: ``"unreadable"``, why); None for other data."""
    if not isinstance(path, (str, os.PathLike)) or not is_class_index_csv(Path(path)):
        return None
    names_file = Path(path).parent / CLASSES_FILE
    if not names_file.is_file():
        return {"file": str(names_file), "names": None}
    try:
        names = class_names(names_file)
    except LstmkitError as e:                 # undecodable bytes
        return {"file": str(names_file), "unreadable": e.message}
    except OSError as e:
        return {"file": str(names_file), "unreadable": e.strerror or type(e).__name__}
    if len(names) > _MOST_CLASSES:
        return {"file": str(names_file), "sha256": hashlib.sha256("\n".join(names).encode()).hexdigest()}
    return {"file": str(names_file), "names": names}


def classes_records(files: dict[str, Any]) -> dict[str, Any]:
    """``{CLASSES_KEY: {role: record}}`` for the class-index CSVs among ``files`` (``{role: data
    given}``): the class names their ``classes.txt`` gave when the run started (a resume that reads
    other names would train those rows under other classes); ``{}`` when there is none."""
    records = {role: r for role, f in files.items() if (r := _classes_record(f)) is not None and "unreadable" not in r}
    return {CLASSES_KEY: records} if records else {}


def check_same_classes(recorded: dict[str, Any], files: dict[str, Any], run_dir: Path) -> None:
    """Refuse a resume whose class-index CSV's ``classes.txt`` names other classes than when the
    run started (``recorded``: its data summary; ``files``: ``{role: data given}``): the CSV's own
    SHA-256 is the same, and the run trained on classes renamed silently. A run that recorded none
    resumes as before; a classes.txt empty or unreadable now is named as changed since the run
    started (the read's own error told neither that nor how to resume)."""
    for role, was in (recorded.get(CLASSES_KEY) or {}).items():
        now = _classes_record(files.get(role))
        if now is None or not isinstance(was, dict):
            continue
        change = _classes_change(was, now, run_dir)
        if change is not None:
            raise LstmkitError(*change)


def _classes_change(was: dict[str, Any], now: dict[str, Any], run_dir: Path) -> tuple[str, str] | None:
    """What differs in the class names ``now`` from those the run recorded, and the fix."""
    before, after, file = was.get("names"), now.get("names"), now["file"]
    restore = (f"a resumed run must train on the classes it started with: restore {file} as it was "
               f"({brief_names(before) if before else 'its class names'}, one a line), or start a new run "
               f"without {opt('resume', True)}")
    named = f"it named the classes {brief_names(before)}" if before else "it named its classes"
    if "unreadable" in now or after == []:          # the read's own error told neither the change nor the fix
        why = "" if after == [] else f": {now['unreadable'].removeprefix(file + ' ')}"
        if "names" in was and before is None:
            broken = "is empty" if after == [] else "cannot be read" + why
            return (f"{file} is there since {run_dir} started without it (on the class indices as labels), and it "
                    f"{broken.removeprefix('is ')}", f"a resumed run must train on the classes it started with: move "
                    f"{file} away, or start a new run without {opt('resume', True)}")
        broken = "is empty" if after == [] else "cannot be read"
        return f"{file} {broken} since {run_dir} started{why}{'; ' if why else ': '}{named}", restore
    if "sha256" in was or "sha256" in now:            # over a thousand names: their digests alone
        if was.get("sha256") == now.get("sha256") and "sha256" in was and "sha256" in now:
            return None
        return (f"{file} names other classes than when {run_dir} started (their SHA-256 differ)",
                f"a resumed run must train on the classes it started with: restore {file}, or start a new run "
                f"without {opt('resume', True)}")
    if before == after:
        return None
    start_new = f"or start a new run without {opt('resume', True)}"
    if before is None:
        return (f"{file} names the classes {brief_names(after)} since {run_dir} started without it (on the class "
                "indices as labels)", f"a resumed run must train on the classes it started with: move {file} away, "
                f"{start_new}")
    if after is None:
        return (f"{file} is gone since {run_dir} started: it named the classes {brief_names(before)}, and the class "
                "indices would be the labels", restore)
    n, m = len(after), len(before)
    if n == m:
        differ = [(k, b, a) for k, (b, a) in enumerate(zip(before, after), start=1) if a != b]
        now_shown = ", ".join(f"class {k} {a!r}" for k, _, a in differ[:4])
        was_shown = ", ".join(repr(b) for _, b, _ in differ[:4])
        more = f" ({len(differ)} classes in all)" if len(differ) > 4 else ""
        order = (" (the same names in another order: those rows would train as other classes)"
                 if sorted(before) == sorted(after) else "")
        return f"{file} names {now_shown} where {run_dir} started with {was_shown}{more}{order}", restore
    if n > m and after[:m] == before:
        what = f"{_class_list(after[m:], m + 1)} added after its {m}"
    elif n < m and before[:n] == after:
        what = f"no {_class_list(before[n:], n + 1)} any more"
    else:
        what = f"{brief_names(after)} now, {brief_names(before)} then"
    return f"{file} names {n} class{'es' * (n != 1)} where {run_dir} started with {m}: {what}", restore


def _class_list(names: list[str], first: int) -> str:
    """``class 3 'Tech'``, or ``classes 3-4 ['Tech', 'Health']``."""
    if len(names) == 1:
        return f"class {first} {names[0]!r}"
    return f"classes {first}-{first + len(names) - 1} {brief_names(names)}"
