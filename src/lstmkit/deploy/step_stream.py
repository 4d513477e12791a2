"""What every model's ``stream()`` gives, :class:`StepStream`, in a module of its own: it imports
neither torch nor numpy, so an annotation naming it resolves (``typing.get_type_hints`` on
``Forecaster.stream`` or :class:`lstmkit.Estimator`) without loading the streaming engine
(:mod:`lstmkit.deploy.streaming`, which re-exports it)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Protocol

__all__ = ["StepStream"]


class StepStream(Protocol):
    """What every model's ``stream()`` gives (:class:`~lstmkit.deploy.streaming.Stream`, a task's own: lm's ``LMStream``, speech's
    ``SpeechStream``): one step per call, each stream id carrying its own state, which can be saved."""

    def step(self, x_t: Any, id: str = "default") -> Any:
        """Feed one observation (a task's own stream: one message) to stream ``id``; its answer."""

    def reset(self, id: str | None = None) -> None:
        """Forget stream ``id``, or every stream."""

    def steps(self, id: str = "default") -> int:
        """How many steps stream ``id`` has taken (0 for one not open)."""

    def state_dict(self, ids: Iterable[str] | None = None) -> dict[str, Any]:
        """The streams' state as data (``ids``: only those)."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore streams from :meth:`state_dict`'s data."""

    def save(self, path: str | Path, ids: Iterable[str] | None = None) -> Path:
        """Write the streams' state to a ``.json`` file; returns its path."""

    def restore(self, path: str | Path) -> None:
        """Restore streams from a file :meth:`save` wrote."""
