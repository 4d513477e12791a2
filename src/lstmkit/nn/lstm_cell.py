"""One step of the LSTM's gate equations, and :class:`LSTMCell`, the module that takes one.

:class:`~lstmkit.nn.lstm.LSTM` runs the same step over a sequence when it records gates; both
keep their parameters under torch's names (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``,
the gates stacked i, f, g, o).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, _VF, nn

from lstmkit.nn.checks import check_bool, check_pair, check_positive_int, check_state

__all__ = ["LSTMCell", "lstm_cell_step", "init_uniform", "GATE_NAMES", "State"]

State = tuple[Tensor, Tensor]
GATE_NAMES = ("i", "f", "g", "o", "c")


def lstm_cell_step(
    x: Tensor,  # [B, I]
    h: Tensor,  # [B, H]
    c: Tensor,  # [B, H]
    w_ih: Tensor,  # [4H, I]
    w_hh: Tensor,  # [4H, H]
    b_ih: Tensor | None,  # [4H]
    b_hh: Tensor | None,  # [4H]
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor]]:
    """One step of the gate equations; returns ``(h, c, (i, f, g, o))``, each [B, H]."""
    z_i, z_f, z_g, z_o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(z_i)
    f = torch.sigmoid(z_f)
    g = torch.tanh(z_g)
    o = torch.sigmoid(z_o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return h, c, (i, f, g, o)


def init_uniform(module: nn.Module, hidden_size: int) -> None:
    """Uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter of ``module``, as torch initialises its LSTMs."""
    bound = 1.0 / math.sqrt(hidden_size)
    for weight in module.parameters():
        nn.init.uniform_(weight, -bound, bound)


class LSTMCell(nn.Module):
    r"""One LSTM step; parameters and ``state_dict`` keys as :class:`torch.nn.LSTMCell`.

    .. math::
        i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' = f \odot c + i \odot g \\
        h' = o \odot \tanh(c')

    ``weight_ih`` [4H, I] and ``weight_hh`` [4H, H] stack the gates in the order i, f, g, o.

    Inputs: ``x_t`` [B, I]; ``state`` optional ``(h, c)``, each [B, H] (zeros if omitted).
    Outputs: ``(h', c')``, each [B, H]; :meth:`forward_with_gates` adds a dict of the gate
    activations ``'i', 'f', 'g', 'o'``, each [B, H].
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        check_positive_int("input_size", input_size)
        check_positive_int("hidden_size", hidden_size)
        check_bool("bias", bias)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter, as torch does."""
        init_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        """The sizes, and ``bias=False`` where so (torch.nn.LSTMCell's repr)."""
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"

    def _prepare(self, x_t: Tensor, state: State | None) -> State:
        if x_t.dim() != 2 or x_t.size(1) != self.input_size:
            raise ValueError(
                f"LSTMCell: Expected x_t of shape [B, {self.input_size}], got {list(x_t.shape)}"
            )
        dtype = self.weight_ih.dtype
        if x_t.dtype != dtype and not torch._C._is_any_autocast_enabled():
            raise ValueError(f"LSTMCell: Expected x_t of dtype {dtype}, got {x_t.dtype}")
        expected = (x_t.size(0), self.hidden_size)
        if state is None:
            zeros = x_t.new_zeros(expected)
            return zeros, zeros
        check_pair("LSTMCell: Expected state as a pair (h, c)", state)
        h, c = state
        check_state("LSTMCell state h", h, expected, x_t)
        check_state("LSTMCell state c", c, expected, x_t)
        return h, c

    def forward(self, x_t: Tensor, state: State | None = None) -> State:
        """One step: ``x_t`` [B, I] and ``state`` ``(h, c)``, each [B, H] (zeros if omitted), give
        the next ``(h, c)``. Raises ``ValueError`` for an input or state of the wrong shape."""
        h, c = self._prepare(x_t, state)
        return _VF.lstm_cell(
            x_t, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        )

    def forward_with_gates(
        self, x_t: Tensor, state: State | None = None
    ) -> tuple[State, dict[str, Tensor]]:
        """Like :meth:`forward` (``x_t`` from ``state``), through the gate equations; returns ``((h, c), gates)``."""
        h, c = self._prepare(x_t, state)
        h, c, (i, f, g, o) = lstm_cell_step(
            x_t, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        )
        return (h, c), {"i": i, "f": f, "g": g, "o": o}
