"""What the harnesses share: the folder unexpected exceptions go to, seeds, and running atheris.

An exception other than :class:`~lstmkit.errors.LstmkitError` is kept once per place it was raised
(exception type, file and line of the innermost frame): the input as ``NAME.bin`` and its traceback as
``NAME.txt`` in the ``-artifact_prefix=`` folder (the temporary folder's ``lstmkit-fuzz-crashes/`` without
one, libFuzzer's own files too), and fuzzing goes on, so that one run finds more than the first bug.
Hangs (``-timeout``) and memory blow-ups (``-rss_limit_mb``) stop libFuzzer as usual, with the input
written by libFuzzer itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Callable, Iterable

_SEEN: set[str] = set()


def crash_folder(argv: list[str]) -> Path:
    """The folder of ``-artifact_prefix=`` (``crashes/``, or ``crashes/x-``: its folder), made if missing
    (libFuzzer refuses a prefix whose folder is not there); without one, the temporary folder's
    ``lstmkit-fuzz-crashes/``, added to ``argv`` for libFuzzer (its default, the working folder, is the
    repository's root)."""
    prefix = next((a.split("=", 1)[1] for a in argv if a.startswith("-artifact_prefix=")), None)
    if prefix is None:
        prefix = str(Path(tempfile.gettempdir()) / "lstmkit-fuzz-crashes") + "/"
        argv.append(f"-artifact_prefix={prefix}")
    folder = Path(prefix) if prefix.endswith("/") else Path(prefix).parent
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(data: bytes, e: BaseException, folder: Path) -> None:
    """Save ``data`` and ``e``'s traceback, once per place ``e`` was raised."""
    tb = traceback.extract_tb(e.__traceback__)
    key = f"{type(e).__name__}:{tb[-1].filename}:{tb[-1].lineno}" if tb else type(e).__name__
    if key in _SEEN:
        return
    _SEEN.add(key)
    name = hashlib.sha1(key.encode()).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.bin").write_bytes(data)
    (folder / f"{name}.txt").write_text(key + "\n" + "".join(traceback.format_exception(e)))
    print(f"\n=== KEPT {key} as {folder / name}.bin", flush=True)


def seeded(argv: list[str], seeds: Iterable[tuple[str, bytes]]) -> None:
    """Write ``seeds`` into the corpus folder (the first argument that is no option) when it is empty."""
    corpus = next((Path(a) for a in argv[1:] if not a.startswith("-")), None)
    if corpus is None or corpus.is_file():          # a file: one input replayed ('-runs=1 crash.bin')
        return
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for name, data in seeds:
            (corpus / name).write_bytes(data)


def paths(obj, at=()):
    """Every key path into ``obj`` (dicts and lists), ``()`` first."""
    yield at
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, at + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, at + (i,))


def value(fdp):
    """A value a JSON file may hold where another was: null, a boolean, huge, negative or non-finite numbers,
    text, an empty list or object."""
    k = fdp.ConsumeIntInRange(0, 11)
    return [None, True, 0, -1, 10 ** fdp.ConsumeIntInRange(1, 40), -(10 ** 30), 1e308, float("nan"),
            fdp.ConsumeUnicodeNoSurrogates(8), [], {}, fdp.ConsumeFloat()][k]


def mutated(obj, ps, fdp, rounds, renames: bool = False):
    """A copy of ``obj`` (JSON) with ``rounds`` of the entries at the key paths ``ps`` dropped or given a
    :func:`value`; with ``renames`` also a dict's key renamed, or a list's item replaced, by fuzzed text
    (a vocabulary's tokens: ``itos``, a BPE's subwords and merges)."""
    obj = json.loads(json.dumps(obj))
    for _ in range(rounds):
        p = ps[fdp.ConsumeIntInRange(0, len(ps) - 1)]
        parent = obj
        try:
            for k in p[:-1]:
                parent = parent[k]
            action = fdp.ConsumeIntInRange(0, 2 if renames else 1)
            if action == 0:
                del parent[p[-1]]
            elif action == 1:
                parent[p[-1]] = value(fdp)
            elif isinstance(parent, dict):
                parent[fdp.ConsumeUnicode(6)] = parent.pop(p[-1])
            else:
                parent[p[-1]] = fdp.ConsumeUnicode(6)
        except (KeyError, IndexError, TypeError):
            pass
    return obj


def fuzz(one: Callable[[bytes], None], expected: tuple[type[BaseException], ...]) -> None:
    """Run ``one`` under atheris: ``expected`` exceptions are answers, any other is kept (:func:`keep`)."""
    import atheris

    folder = crash_folder(sys.argv)

    def test_one_input(data: bytes) -> None:
        try:
            one(data)
        except expected:
            pass
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:        # noqa: BLE001 - every other exception is a finding, a Rust panic
            keep(data, e, folder)         # (pyo3's PanicException, no Exception) too

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
