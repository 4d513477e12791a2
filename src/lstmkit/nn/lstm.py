"""LSTM from the gate equations, with torch's fused kernel as the fast path.

:class:`LSTM` holds its parameters under the same names as :class:`torch.nn.LSTM`, so a
``state_dict`` moves between the two unchanged. ``forward`` calls the fused kernel that
``torch.nn.LSTM`` calls; ``forward(..., record_gates=True)`` runs the gate equations one step at
a time in Python (the readable reference) and returns every gate activation as well. One step of
the equations, and :class:`LSTMCell`, live in :mod:`lstmkit.nn.lstm_cell`; batches with
``lengths``, single steps and the cuDNN weight buffer in :mod:`lstmkit.nn.lstm_kernels`.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal, overload

import torch
import torch.nn.functional as F
from torch import Tensor, _VF, nn

from lstmkit.errors import callers_level
from lstmkit.nn.checks import check_bool, check_dropout, check_lengths, check_pair, check_positive_int, check_state
from lstmkit.nn.lstm_cell import GATE_NAMES, LSTMCell, State, init_uniform, lstm_cell_step
from lstmkit.nn.lstm_kernels import FusedKernels, float_state, fp32_under_autocast

__all__ = ["LSTM", "LSTMCell"]

class LSTM(FusedKernels, nn.Module):
    r"""Multi-layer LSTM; arguments and ``state_dict`` keys as :class:`torch.nn.LSTM`.

    For each layer, direction and time step ``t``:

    .. math::
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(c_t)

    Layer ``k > 0`` reads the outputs of layer ``k - 1`` (both directions concatenated); in
    training mode those outputs go through dropout with probability ``dropout`` first.

    Parameters are ``weight_ih_l{k}`` [4H, I_k], ``weight_hh_l{k}`` [4H, H], ``bias_ih_l{k}``
    and ``bias_hh_l{k}`` [4H], with a ``_reverse`` suffix for the backward direction; gates are
    stacked in the order i, f, g, o. Note that ``batch_first`` defaults to True, unlike torch.

    Inputs (``D`` = 2 if bidirectional else 1, ``L`` = num_layers):
        x: [B, T, I] if ``batch_first`` else [T, B, I].
        state: optional ``(h0, c0)``, each [L*D, B, H]; zeros if omitted.
        lengths: optional valid length of each sequence, [B] ints in [1, T] (any order);
            positions past a length are padding and never read.
        record_gates: run the gate equations step by step and return the activations.

    Outputs:
        out: [B, T, D*H] if ``batch_first`` else [T, B, D*H]; zero past each length.
        (h_n, c_n): each [L*D, B, H]; the state at each sequence's last valid step (for the
            reverse direction, after running back to t = 0).
        gates (only with ``record_gates=True``): dict with keys ``'i', 'f', 'g', 'o', 'c'``,
            each [L*D, B, T, H] whatever ``batch_first`` is; zero past each length.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        check_positive_int("input_size", input_size)
        check_positive_int("hidden_size", hidden_size)
        check_positive_int("num_layers", num_layers)
        check_bool("bias", bias)
        check_bool("batch_first", batch_first)
        check_bool("bidirectional", bidirectional)
        check_dropout(dropout)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "LSTM: dropout is applied between layers only, so dropout="
                f"{dropout} has no effect with num_layers=1",
                stacklevel=callers_level(),
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1

        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                names = self._param_names(layer, direction)
                shapes = [(4 * hidden_size, layer_input), (4 * hidden_size, hidden_size)]
                shapes += [(4 * hidden_size,)] * (len(names) - 2)
                for name, shape in zip(names, shapes):
                    setattr(self, name, nn.Parameter(torch.empty(shape)))
                self._flat_weights_names.extend(names)
        self.reset_parameters()
        self.flatten_parameters()

    def _param_names(self, layer: int, direction: int) -> list[str]:
        suffix = "_reverse" if direction == 1 else ""
        kinds = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        return [f"{kind}_l{layer}{suffix}" for kind in kinds]

    def layer_weights(self, layer: int, direction: int) -> tuple[Tensor | None, ...]:
        """``(w_ih [4H, in], w_hh [4H, H], b_ih [4H], b_hh [4H])`` of layer ``layer`` and its direction
        (``direction`` 1: the reverse one), gates in torch's ``i, f, g, o`` order; the biases are
        None without ``bias``. The deploy engines step the cell with these."""
        weights = [getattr(self, name) for name in self._param_names(layer, direction)]
        return tuple(weights) if self.bias else (*weights, None, None)

    @property
    def _flat_weights(self) -> list[Tensor]:
        # Looked up on every call (as torch.nn.LSTM does) so that functional_call,
        # parametrizations and reassigned parameters are all seen.
        return [getattr(self, name) for name in self._flat_weights_names]

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter, as torch does."""
        init_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        """The sizes, then the arguments that differ from their defaults (torch.nn.LSTM's repr)."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if not self.batch_first:
            s += ", batch_first=False"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ----------------------------------------------------------------------------- checks
    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 3:
            layout = "[B, T, I]" if self.batch_first else "[T, B, I]"
            raise ValueError(f"LSTM: Expected a 3-D input {layout}, got {x.dim()}-D")
        if x.size(-1) != self.input_size:
            raise ValueError(
                f"LSTM: Expected input feature size {self.input_size}, got {x.size(-1)}"
            )
        if x.size(1 if self.batch_first else 0) == 0:
            raise ValueError("LSTM: Expected at least one time step, got an input of 0 steps")
        dtype = self.weight_ih_l0.dtype
        if x.dtype != dtype and not torch._C._is_any_autocast_enabled():
            raise ValueError(f"LSTM: Expected input dtype {dtype}, got {x.dtype}")

    def _initial_state(self, x: Tensor, state: State | None, batch: int) -> State:
        expected = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if state is None:
            zeros = torch.zeros(expected, dtype=x.dtype, device=x.device)
            return zeros, zeros
        check_pair("LSTM: Expected state as a pair (h0, c0)", state)
        h0, c0 = state
        check_state("LSTM state h0", h0, expected, x)
        check_state("LSTM state c0", c0, expected, x)
        return h0, c0


    # ---------------------------------------------------------------------------- forward
    # what type checkers read: the gates come back only with record_gates=True, so
    # ``out, (h, c) = lstm.forward(x)`` is two values to them as it is at run time
    @overload
    def forward(self, x: Tensor, state: State | None = None, lengths: Tensor | Sequence[int] | None = None,
                record_gates: Literal[False] = False) -> tuple[Tensor, State]: ...

    @overload
    def forward(self, x: Tensor, state: State | None, lengths: Tensor | Sequence[int] | None,
                record_gates: Literal[True]) -> tuple[Tensor, State, dict[str, Tensor]]: ...

    @overload
    def forward(self, x: Tensor, state: State | None = None, lengths: Tensor | Sequence[int] | None = None, *,
                record_gates: Literal[True]) -> tuple[Tensor, State, dict[str, Tensor]]: ...

    @overload
    def forward(self, x: Tensor, state: State | None = None, lengths: Tensor | Sequence[int] | None = None,
                record_gates: bool = False) -> tuple[Tensor, State] | tuple[Tensor, State, dict[str, Tensor]]: ...

    def forward(
        self,
        x: Tensor,
        state: State | None = None,
        lengths: Tensor | Sequence[int] | None = None,
        record_gates: bool = False,
    ) -> tuple[Tensor, State] | tuple[Tensor, State, dict[str, Tensor]]:
        """``(out, (h_n, c_n))`` of the sequence ``x`` from ``state`` ``(h_0, c_0)`` (zeros if omitted), each
        sequence ``lengths`` steps long where given, plus ``gates`` with ``record_gates=True``:
        shapes in the class docstring (Inputs, Outputs). Raises ``ValueError`` for an input or
        state of the wrong shape and for ``lengths`` outside [1, T]."""
        if fp32_under_autocast(x, lengths):
            with torch.autocast("cpu", enabled=False):
                return self.forward(x.float(), float_state(state), lengths, record_gates)
        self._check_input(x)
        batch, steps = (x.size(0), x.size(1)) if self.batch_first else (x.size(1), x.size(0))
        hx = self._initial_state(x, state, batch)
        if lengths is not None:
            lengths = check_lengths("LSTM", lengths, batch, steps)
        if record_gates:
            return self._forward_gates(x, hx, lengths)
        if lengths is None and steps == 1 and self._cell_loop_applies(x):
            return self._forward_one_step(x, hx)
        if lengths is None:
            out, h_n, c_n = _VF.lstm(
                x, hx, self._flat_weights, self.bias, self.num_layers,
                self.dropout, self.training, self.bidirectional, self.batch_first,
            )
            return out, (h_n, c_n)
        if self._padded_kernel_applies(x, lengths):
            return self._forward_padded(x, hx, lengths, steps)
        return self._forward_packed(x, hx, lengths, steps)

    def _forward_gates(
        self, x: Tensor, hx: State, lengths: Tensor | None
    ) -> tuple[Tensor, State, dict[str, Tensor]]:
        layer_in = x if self.batch_first else x.transpose(0, 1)  # [B, T, I]
        steps = layer_in.size(1)
        valid = None  # [B, T] bool: step t is inside sequence b
        if lengths is not None:
            valid = torch.arange(steps)[None, :] < lengths[:, None]
            valid = valid.to(x.device)
        h_n, c_n, records = [], [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                out, (h, c), gates = _run_direction(
                    layer_in, hx[0][k], hx[1][k], self.layer_weights(layer, direction),
                    reverse=direction == 1, valid=valid,
                )
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
                records.append(gates)
            layer_in = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]  # [B, T, D*H]
            if layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, self.training)
        out = layer_in if self.batch_first else layer_in.transpose(0, 1)
        gates = {name: torch.stack([r[name] for r in records]) for name in GATE_NAMES}
        return out, (torch.stack(h_n), torch.stack(c_n)), gates

    def step(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Advance one time step for streaming: ``x_t`` [B, I] -> ``y_t`` [B, H].

        ``state`` is ``(h, c)``, each [L, B, H] (zeros if omitted); the returned state feeds
        the next call. Calling ``step`` over a sequence gives what ``forward`` gives.
        """
        if self.bidirectional:
            raise ValueError(
                "LSTM.step: a bidirectional LSTM needs the whole sequence; "
                "use forward() or build the LSTM with bidirectional=False"
            )
        if x_t.dim() != 2:
            raise ValueError(f"LSTM.step: Expected x_t of shape [B, I], got {list(x_t.shape)}")
        if fp32_under_autocast(x_t):
            with torch.autocast("cpu", enabled=False):
                return self.step(x_t.float(), float_state(state))
        x = x_t.unsqueeze(0)  # [1, B, I]
        self._check_input(x)
        hx = self._initial_state(x, state, x_t.size(0))
        if self._cell_loop_applies(x):
            out, (h, c) = self._forward_one_step(x if not self.batch_first else x.transpose(0, 1), hx)
            return out.reshape(x_t.size(0), -1), (h, c)
        out, h, c = _VF.lstm(
            x, hx, self._flat_weights, self.bias, self.num_layers,
            self.dropout, self.training, False, False,
        )
        return out[0], (h, c)


def _run_direction(
    x: Tensor,  # [B, T, I]
    h: Tensor,  # [B, H]
    c: Tensor,  # [B, H]
    weights: tuple[Tensor | None, ...],
    reverse: bool,
    valid: Tensor | None,  # [B, T] bool
) -> tuple[Tensor, State, dict[str, Tensor]]:
    """Run one layer in one direction through the gate equations, one step at a time."""
    steps = x.size(1)
    outs: list[Tensor] = [x] * steps  # placeholders, each overwritten below
    per_step: dict[str, list[Tensor]] = {name: [x] * steps for name in GATE_NAMES}
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        h_new, c_new, (i, f, g, o) = lstm_cell_step(x[:, t], h, c, *weights)
        step_values = {"i": i, "f": f, "g": g, "o": o, "c": c_new}
        if valid is None:
            h, c = h_new, c_new
        else:
            # Padding leaves the state as it was: the forward direction keeps the state of
            # the last valid step, the reverse one starts from the initial state there.
            keep = valid[:, t, None]  # [B, 1]
            h = torch.where(keep, h_new, h)
            c = torch.where(keep, c_new, c)
            h_new = h_new.masked_fill(~keep, 0.0)
            step_values = {k: v.masked_fill(~keep, 0.0) for k, v in step_values.items()}
        outs[t] = h_new
        for name, value in step_values.items():
            per_step[name][t] = value
    gates = {name: torch.stack(values, dim=1) for name, values in per_step.items()}  # [B, T, H]
    return torch.stack(outs, dim=1), (h, c), gates
