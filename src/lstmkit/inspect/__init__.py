"""Looking inside: plots of training and predictions, gate and attention heatmaps.

``lstmkit.inspect.gates`` and ``lstmkit.inspect.attention`` are the functions (they shadow the
submodules of the same name as attributes; ``from lstmkit.inspect.gates import ...`` still
reaches the module).
"""
from lstmkit.inspect.attention import attention
from lstmkit.inspect.gates import gates

__all__ = ["gates", "attention"]
