"""The front door every task room's ``__init__.py`` opens: its public names load on first use.

A room's package imports nothing heavy, so ``lstmkit.tasks.<task>.config`` and the CLI's
``--help`` do not import torch; the estimator module loads when one of its names is read
(PEP 562 ``__getattr__``) or when :func:`lstmkit.load` calls the room's ``load``.
"""
from __future__ import annotations

import importlib
import types
from pathlib import Path
from typing import Any, Callable

__all__ = ["lazy_room", "module_on_use"]


def lazy_room(package: str, homes: dict[str, str], loader: str) -> tuple[Callable[[str], Any], Callable[[str | Path], Any]]:
    """``(__getattr__, load)`` for the room ``package``.

    ``homes`` maps each public name to the room's module that defines it (``{"Translator":
    "estimator"}``); ``loader`` names what ``load(run)`` calls, as ``"module:attribute"`` with a
    dotted attribute (``"estimator:Translator.load"``).
    """
    home, _, path = loader.partition(":")

    def __getattr__(name: str) -> Any:
        if name in homes:
            return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def load(run: str | Path) -> Any:
        target: Any = importlib.import_module(f"{package}.{home}")
        for part in path.split("."):
            target = getattr(target, part)
        return target(run)

    load.__doc__ = (f"The fitted estimator saved in ``run``, through ``{package}.{home}.{path}`` "
                    f"(what :func:`lstmkit.load` calls).")
    load.__module__ = package
    return __getattr__, load


class _ModuleOnUse(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def module_on_use(name: str) -> types.ModuleType:
    """The module ``name``, imported when one of its attributes is first read: an annotation naming
    a type of a module that is slow to import (``metadata_routing.MetadataRequest``: scikit-learn
    takes about a second) resolves when ``typing.get_type_hints`` reads it (pydantic, typer,
    sphinx-autodoc), not when the annotating module loads. Type checkers read the real import::

        if TYPE_CHECKING:
            from sklearn.utils import metadata_routing
        else:
            metadata_routing = module_on_use("sklearn.utils.metadata_routing")
    """
    return _ModuleOnUse(name)
