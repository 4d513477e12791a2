"""Looking inside: plots of training and predictions, gate and attention heatmaps.

``lstmkit.inspect.gates`` and ``lstmkit.inspect.attention`` are the functions (they shadow the
submodules of the same name as attributes; ``from lstmkit.inspect.gates import ...`` still
reaches the module). They are imported on first use, so ``lstmkit.inspect.cli`` and
``lstmkit.inspect.plots`` load without torch.
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lstmkit.inspect.attention import attention
    from lstmkit.inspect.gates import gates

__all__ = ["gates", "attention"]


class _Package(types.ModuleType):
    """This package: importing the submodule ``gates`` (or ``attention``) binds the package
    attribute to the submodule's function of the same name, not to the submodule."""

    def __getattr__(self, name: str):
        if name in __all__:
            importlib.import_module(f"{__name__}.{name}")     # binds the attribute, see __setattr__
            return self.__dict__[name]
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(self.__dict__) | set(__all__))


sys.modules[__name__].__class__ = _Package
