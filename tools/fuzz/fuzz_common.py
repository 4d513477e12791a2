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


def fuzz(one: Callable[[bytes], None], expected: tuple[type[BaseException], ...]) -> None:
    """Run ``one`` under atheris: ``expected`` exceptions are answers, any other is kept (:func:`keep`)."""
    import atheris

    folder = crash_folder(sys.argv)

    def test_one_input(data: bytes) -> None:
        try:
            one(data)
        except expected:
            pass
        except Exception as e:            # noqa: BLE001 - every other exception is a finding
            keep(data, e, folder)

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
