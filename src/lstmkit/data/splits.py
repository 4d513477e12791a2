"""A folder that holds a data set in parts: its training, validation and test files side by side.

    split_parts(folder, wanted)   the parts a folder's files (or sub-folders) name, as the paths to pass
    parts_shown(folder, parts)    their names, for an error
    split_parts_fix(parts, ...)   the flags that pass them to a command
    parts_error(folder, parts, not_what)  a classifier's error: pass the training part, the test part scored
    check_not_saved_dataset(folder, fix)  a Hugging Face ``save_to_disk`` folder: an error naming the export to do

What a download unpacks to: Penn Treebank's ``ptb.train.txt`` / ``ptb.valid.txt`` / ``ptb.test.txt``,
WikiText's ``wiki.train.tokens`` …, a Hugging Face data set exported as ``train.jsonl`` / ``test.jsonl``
or fetched as ``data/train-00000-of-00001.parquet``, Kaggle's ``train.csv`` / ``test.csv``. Read as one
corpus or table, the test part is trained on (a language model read every file of a folder); so
a command that reads a folder says which file to pass with which flag instead.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

from lstmkit.errors import LstmkitError, opt, python_caller, worded

__all__ = ["split_parts", "parts_shown", "split_parts_fix", "parts_error", "check_not_saved_dataset"]

# the words a file or folder name holds to name a part (as a word of its own: 'ptb.train.txt',
# 'dev-clean', 'test-00000-of-00001.parquet'; not 'newstest2014' or 'trainer')
_PART_WORDS = {"train": {"train", "training"}, "val": {"valid", "validation", "val", "dev"},
               "test": {"test", "testing"}}
_ORDER = ("train", "val", "test")


def _part(name: str) -> str | None:
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    named = [p for p in _ORDER if words & _PART_WORDS[p]]
    return named[0] if len(named) == 1 else None


def split_parts(folder: Path, wanted: Callable[[Path], bool]) -> dict[str, list[Path]]:
    """The parts (``"train"``, ``"val"``, ``"test"``) that the files under ``folder`` for which
    ``wanted`` holds name, each as the paths to pass: the file, or the top-most sub-folder whose
    name names the part (``corpus/train/``); empty unless they name at least two parts, one of
    them the training part (two files with 'test' in their names are no split). Hidden files
    and folders are left out."""
    parts: dict[str, list[Path]] = {}
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder).parts
        if any(p.startswith(".") for p in rel) or not f.is_file() or not wanted(f):
            continue
        for k, name in enumerate(rel):
            part = _part(name)
            if part is not None:
                top = folder.joinpath(*rel[:k + 1])
                if top not in parts.setdefault(part, []):
                    parts[part].append(top)
                break
    return {p: parts[p] for p in _ORDER if p in parts} if "train" in parts and len(parts) > 1 else {}


def split_parts_fix(parts: dict[str, list[Path]], val: str | None = "--val", test: str | None = "--test",
                    score: str = "") -> str:
    """How to pass ``parts`` (:func:`split_parts`): ``--data`` the training part, ``val`` / ``test``
    the flags for the others (None: the command has none; ``score``: the command that scores that
    part instead, e.g. ``'lm evaluate --run RUN --data'``). A part in several files (shards) is named as such.
    A Python caller (:func:`~lstmkit.errors.caller_wording`) is told ``fit``'s keywords (``val_data=``,
    ``test_data=``) and ``evaluate(PATH)`` for a part scored after: it read '--data corpus/train'."""
    if any(len(paths) > 1 for paths in parts.values()):
        shown = "; ".join(f"{p}: {', '.join(x.name for x in paths[:3])}{', …' if len(paths) > 3 else ''}"
                          for p, paths in parts.items())
        return f"join each part's files into one ({shown}), then pass the training part as {opt('data')}"
    one = {p: paths[0] for p, paths in parts.items()}
    python = python_caller()
    flags = [f"{str(one['train'])!r}" if python else f"--data {one['train']}"]
    later = []
    for part, flag in (("val", val), ("test", test)):
        if part in one:
            if flag:
                flags.append(f"{part}_data={str(one[part])!r}" if python else f"{flag} {one[part]}")
            elif score:
                later.append(f"the {'validation' if part == 'val' else part} part with "
                             + (f"evaluate({str(one[part])!r})" if python else f"{score} {one[part]}"))
    scored = f" (and score {' and '.join(later)})" if later else ""
    if python:
        return f"fit on {flags[0]}" + (f" with {', '.join(flags[1:])}" if flags[1:] else "") + scored
    return f"pass {' '.join(flags)}" + scored


def parts_shown(folder: Path, parts: dict[str, list[Path]]) -> str:
    """The parts' paths inside ``folder`` (three a part at most), comma-separated."""
    return ", ".join(p.relative_to(folder).as_posix() for paths in parts.values() for p in paths[:3])


def parts_error(folder: Path, parts: dict[str, list[Path]], not_what: str) -> LstmkitError:
    """The error for a classifier's ``--data`` that is a folder of ``parts`` (not ``not_what``): the
    flags of train, and the file a run is evaluated on."""
    test = parts.get("test", [])
    after = "" if len(test) != 1 else worded(f" (to evaluate a run: --data {test[0]})",
                                             f" (to evaluate a fitted model: evaluate({str(test[0])!r}))")
    return LstmkitError(f"{folder} is a folder of a data set in parts ({parts_shown(folder, parts)}), not {not_what}",
                        split_parts_fix(parts) + after)


def check_not_saved_dataset(folder: Path, fix: Callable[[dict[str, list[Path]]], str] = split_parts_fix) -> None:
    """An error when ``folder`` is a Hugging Face data set as ``save_to_disk`` writes it: a
    ``DatasetDict``'s ``dataset_dict.json`` with a sub-folder per split, or one split's ``.arrow``
    files beside its ``state.json``. Arrow's files hold the rows in a cache format, no table a
    command reads: it was told to pass ``train/`` as --data, which then held 'no class sub-folders'.
    The fix names the export to JSON lines (``to_json``) and then how to pass the files written
    (``fix(parts)``, the parts as :func:`split_parts` has them; a command's own flags)."""
    listed = folder / "dataset_dict.json"
    if listed.is_file():
        try:
            splits = [str(n) for n in json.loads(listed.read_text(encoding="utf-8"))["splits"]]
        except (OSError, ValueError, KeyError, TypeError):
            splits = sorted(p.name for p in folder.iterdir() if (p / "state.json").is_file())
        what = f"a DatasetDict of {', '.join(splits) or 'no splits'}"
        export = "; ".join(f"ds[{n!r}].to_json({n + '.jsonl'!r})" for n in splits)
    elif (folder / "state.json").is_file() and any(folder.glob("*.arrow")):
        splits, what = [folder.name], "one Dataset"
        export = f"ds.to_json({folder.name + '.jsonl'!r})"
    else:
        return
    parts: dict[str, list[Path]] = {}
    for n in splits:
        parts.setdefault(_part(n) or ("train" if len(splits) == 1 else n), []).append(Path(n + ".jsonl"))
    known = {p: paths for p, paths in parts.items() if p in _ORDER}
    files = ", ".join(n + ".jsonl" for n in splits)
    then = fix(known) if "train" in known else f"pass the part to train on as {opt('data')} ({files})"
    raise LstmkitError(f"{folder} is a Hugging Face data set saved with save_to_disk ({what}): its .arrow files are "
                       "a cache, not a table lstmkit reads", f"export it to JSON lines (Python: ds = datasets."
                       f"load_from_disk({str(folder)!r}); {export}; or to_csv for CSV), then {then}")
