"""A served run's model, swapped for a newer one kept in its run folder while the service runs.

``lstmkit serve`` loads each run once. When the run folder's model changes (a ``load(run).update(new).save(run)``,
an export that adds ``model.onnx``, a deploy that copies a run over it or turns a link ``--run current`` to another
run folder), the service notices it on the next request after ``watch`` seconds, by a cheap stamp of the files that
make the model (:func:`run_stamp`: the folder the path resolves to, and each file's size, modification time and
inode), and loads the new model on a thread of its own while the old one answers. Only a model that loads whole
replaces it: ``lstmkit.json`` records the SHA-256 of the weights (and of ``vocab.json``), checked on load, and every
lstmkit writer replaces a file by rename, so a save caught half way is refused, never served. The stamp must hold
still for :data:`SETTLE` seconds before a load (a save writes the weights, then ``lstmkit.json``), and a stamp that
moved while loading is loaded again. Weights that do not match the checksum ``lstmkit.json`` recorded are most
often a save between its two writes (the weights written, ``lstmkit.json`` not yet: hashing large weights takes
a while): the folder is watched, quietly, for up to :data:`PATIENCE` more seconds, and what it holds once it moves
is loaded; only weights that still do not match then are refused, with one warning. The same holds for the
other ways a save (or a copy) looks half way: weights of other shapes than the model ``lstmkit.json`` describes
(a retrain with another hidden size, its weights written and ``lstmkit.json`` not yet, or a copy that writes
``lstmkit.json`` first), and ``lstmkit.json`` or the weights missing from the folder the served model was loaded from
(a writer that deletes a file, then writes it). A new model that fails to
load, or that would take other requests than the routes the service built at start (another task, other input
columns), is not served: the old one goes on, one warning line says why, and ``/health`` and ``/models`` report it
until the folder changes again.

Every route that answers from the model (``/predict``, a new ``/stream``, ``/model`` and ``/models/{name}``,
``/models``, ``/health``) looks at the folder when a look is due (:meth:`ServedRun.current`), so what they say is of
one model: the one served at that moment. The look starts the load and does not wait for it: the request that
noticed a new model, and any until it has loaded, are answered by the old one. ``/docs`` (``/openapi.json``) was
made at start and stays true, since a model that would take other requests is refused (its request schema,
descriptions included, must equal the one the routes were built for).

A request reads the model once and is answered by it whole; a WebSocket stream keeps the model it opened with for as
long as it lives (its state came from that model's network), and a stream opened after the swap steps the new one.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

from lstmkit.errors import LstmkitError
from lstmkit.files import now_stamp
from lstmkit.runs import META_FILE, WEIGHTS_FILE, WeightsMismatch

__all__ = ["ServedRun", "RunStamp", "run_stamp", "WATCH", "SETTLE", "PATIENCE", "MODEL_FILES"]

WATCH = 2.0           # seconds between checks of a served run folder (0: never)
SETTLE = 0.5          # seconds a changed folder must hold still before its model is loaded
PATIENCE = 30.0       # seconds a folder caught half way through a save (weights not lstmkit.json's) is waited for
# the files that make the served model: the metadata and weights, a text model's vocabulary, the graphs of an export
MODEL_FILES = (META_FILE, WEIGHTS_FILE, "vocab.json", "model.onnx", "encoder.onnx", "decoder.onnx", "onnx.json",
               "export_report.json")

# the two files a save writes, one after the other
_PAIR = (META_FILE, WEIGHTS_FILE)

_log = logging.getLogger(__name__)


class RunStamp(NamedTuple):
    """:func:`run_stamp`'s answer: ``folder``, the folder the run's path resolves to, and ``files``, each file's
    ``(size, modification time, inode)`` or None by its name (a file's part found by name, not by its place
    in :data:`MODEL_FILES`)."""
    folder: str
    files: dict[str, tuple[int, int, int] | None]


def run_stamp(run: Path) -> RunStamp:
    """What changes when a run folder's model does: the folder ``run`` resolves to (a link turned to another
    run), and each of :data:`MODEL_FILES`' size, modification time and inode (a file replaced by rename has
    another inode even within the clock's tick); None for a file that is not there."""
    folder = os.path.realpath(run)
    files: dict[str, tuple[int, int, int] | None] = {}
    for name in MODEL_FILES:
        try:
            st = os.stat(os.path.join(folder, name))
        except OSError:
            files[name] = None
        else:
            files[name] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return RunStamp(folder, files)


class _Serving(NamedTuple):
    """What a name serves, replaced in one assignment: a description never mixes two models' (the new model with
    the old one's ``reloads``)."""
    model: Any
    loaded: str
    reloads: int
    refused: dict[str, str] | None      # the newer model not served, and why


class ServedRun:
    """The model a service serves under one name, and its newer model once the run folder holds one.

    ``load()`` builds a :class:`~lstmkit.deploy.served.ServedModel` of the run; ``conflict(old, new)`` says why
    ``new`` cannot take the routes built for ``old`` (None: it can); ``say(line)`` tells the operator of a swap
    or a refused model (default: this module's logger, a warning for a refusal); ``watch``: seconds between
    checks of the folder (0: serve the model loaded at start for good)."""

    def __init__(self, name: str, run: Path, load: Callable[[], Any], conflict: Callable[[Any, Any], str | None],
                 watch: float = WATCH, say: Callable[[str, bool], None] | None = None):
        self.name, self.run, self._load, self._conflict = name, Path(run), load, conflict
        self.watch, self._say = watch, say
        stamp = run_stamp(self.run)
        self._serving = _Serving(load(), now_stamp(), 0, None)
        self._stamp = stamp                 # the served model's folder, as it was before its load
        self._refused_stamp: RunStamp | None = None
        self._next = time.monotonic() + watch
        self._loading = False
        self._lock = threading.Lock()
        self.open_streams = 0               # of every model this name served: a stream keeps the one it opened with

    model = property(lambda self: self._serving.model, doc="the model served now")
    loaded = property(lambda self: self._serving.loaded, doc="when it was loaded")
    reloads = property(lambda self: self._serving.reloads, doc="how many times the model was replaced")
    refused = property(lambda self: self._serving.refused, doc="the newer model not served, and why (None: none)")

    def current(self):
        """The model to answer with now; once every ``watch`` seconds, a look at the run folder first (a
        changed one is loaded on a thread of its own: this call does not wait for it)."""
        if self.watch and time.monotonic() >= self._next:
            self.check()
        return self.model

    def check(self) -> bool:
        """Look at the run folder now; whether a newer model is being loaded."""
        with self._lock:
            self._next = time.monotonic() + self.watch
            if self._loading:
                return True
            stamp = run_stamp(self.run)
            if stamp == self._stamp:            # a refused model taken back (a link turned back): nothing to say
                self._refused_stamp = None
                self._serving = self._serving._replace(refused=None)
                return False
            if stamp == self._refused_stamp:
                return False
            self._loading = True
        threading.Thread(target=self._reload, args=(stamp,), name=f"lstmkit-reload-{self.name}", daemon=True).start()
        return True

    def describe(self) -> dict[str, Any]:
        """What ``/models`` says of this name: the served model's description, its open streams, and the
        ``reload`` block (when it was loaded, how many times the model was replaced, a newer one refused)."""
        now = self._serving                 # read once: a swap meanwhile is seen whole or not at all
        return {**now.model.describe(), "open_streams": self.open_streams,
                "reload": {"watch_s": self.watch, "loaded": now.loaded, "reloads": now.reloads,
                           "refused": now.refused}}

    def warning(self) -> str | None:
        """What ``/health`` says of this name while its run folder holds a newer model that was not served
        (None: it serves the folder's model)."""
        now = self._serving                 # read once: a swap meanwhile clears ``refused``
        if now.refused is None:
            return None
        return (f"model {self.name!r}: the run folder holds a new model that was not loaded "
                f"({now.refused['problem']}); still serving the one loaded {now.loaded}")

    def _reload(self, stamp: RunStamp) -> None:
        try:
            while True:
                stamp = self._settled(stamp)
                if stamp == self._stamp:        # changed and changed back (a copy over it of the same files)
                    return
                new, problem, saving = self._try_load()
                saving = saving or (problem is not None and self._half_gone(stamp))
                after = run_stamp(self.run)
                if saving and after == stamp:    # a folder caught between a save's two writes: the rest may come
                    after = self._moved(stamp)
                    if after == stamp:
                        problem += f" (the folder held still {PATIENCE:g} s more: not a save under way)"
                if after != stamp:               # written to while it loaded: load what is there now
                    if new is not None:
                        new.close()
                    stamp = after
                    continue
                if problem is None:
                    self._swap(new, stamp)
                else:
                    self._refuse(problem, stamp)
                return
        except Exception as e:                  # a bug here must not end the service's answers
            _log.exception("reloading model %r from %s failed", self.name, self.run)
            self._refuse(f"{type(e).__name__}: {e}", stamp)
        finally:
            self._loading = False

    def _settled(self, stamp: RunStamp) -> RunStamp:
        """``stamp`` once the folder held still for :data:`SETTLE` seconds."""
        while True:
            time.sleep(SETTLE)
            now = run_stamp(self.run)
            if now == stamp:
                return stamp
            stamp = now

    def _moved(self, stamp: RunStamp) -> RunStamp:
        """The folder's stamp once it moves from ``stamp``, looked at every :data:`SETTLE` seconds for up to
        :data:`PATIENCE` seconds; ``stamp`` if it held still all that time."""
        deadline = time.monotonic() + PATIENCE
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return stamp
            time.sleep(min(SETTLE, left))
            now = run_stamp(self.run)
            if now != stamp:
                return now

    def _half_gone(self, stamp: RunStamp) -> bool:
        """Whether the folder as ``stamp`` saw it lacks ``lstmkit.json`` or the weights that it held when the served
        model was loaded from it: a writer that deletes a file before it writes the new one. (A link turned to a
        folder without them is no save under way.)"""
        was = self._stamp.files
        return stamp.folder == self._stamp.folder and any(stamp.files.get(name) is None and was.get(name) is not None
                                                          for name in _PAIR)

    def _try_load(self) -> tuple[Any, str | None, bool]:
        """``(the new model, None, False)``, or ``(None, why it is not served, whether its weights do not match
        lstmkit.json, its checksum or its shapes: maybe a save between its two writes)``."""
        try:
            new = self._load()
        except LstmkitError as e:               # not a run, an unfinished one, weights that do not match, ...
            return None, str(e), isinstance(e, WeightsMismatch)
        except Exception as e:                  # a file torn by a writer other than lstmkit's, an OS error
            return None, f"{type(e).__name__}: {e}", False
        problem = self._conflict(self.model, new)
        if problem is not None:
            new.close()
            return None, problem + " — restart the service to serve it", False
        return new, None, False

    def _swap(self, new, stamp: RunStamp) -> None:
        old, before = self.model, self.model.info.get("fingerprint")
        # one assignment: a request reads one model or the other, a description the model and its reload block
        self._serving = _Serving(new, now_stamp(), self.reloads + 1, None)
        self._stamp, self._refused_stamp = stamp, None
        old.close()
        self._tell(f"model {self.name!r}: serving the new model in {self.run} (weights {before} -> "
                   f"{new.info.get('fingerprint')}, written {new.info.get('written')}); streams open before go on "
                   "with the model they opened with", refused=False)

    def _refuse(self, problem: str, stamp: RunStamp) -> None:
        self._refused_stamp = stamp
        self._serving = self._serving._replace(refused={"problem": problem, "seen": now_stamp()})
        self._tell(f"model {self.name!r}: the run folder {self.run} changed, but its model was not loaded: {problem}; "
                   f"still serving the model loaded {self.loaded} (weights {self.model.info.get('fingerprint')}), "
                   "until the folder changes again", refused=True)

    def _tell(self, line: str, refused: bool) -> None:
        if self._say is not None:
            self._say(line, refused)
        elif refused:
            _log.warning("%s", line)
        else:
            _log.info("%s", line)
