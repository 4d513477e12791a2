"""A GRU's gates, recorded: ``torch.nn.GRU``'s equations run one step at a time on its own weights.

For each layer, direction and time step ``t`` (the weights stack the gates in torch's order r, z, n):

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)           reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)           update gate
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))      candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                          hidden state

:func:`gru_gates` answers what the module's fused kernel answers (its outputs and final state,
packed batches' lengths too) and every activation beside them, as
:meth:`lstmkit.nn.lstm.LSTM.forward` ``(record_gates=True)`` does an LSTM's. Padded steps leave the
state as it was and record zeros; the reverse direction starts at each sequence's own end.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GRU_GATES", "gru_gates", "find_gru"]

GRU_GATES = ("r", "z", "n", "h")


def find_gru(module: nn.Module) -> nn.GRU | None:
    """The first ``torch.nn.GRU`` inside ``module`` (or ``module`` itself; the zoo's ``GRU`` is one), else None."""
    return next((m for m in module.modules() if isinstance(m, nn.GRU)), None)


def gru_gates(gru: nn.GRU, x: Tensor, state: Tensor | None = None,
              lengths=None) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """``(out, h_n, gates)`` of ``gru`` over ``x`` (``[B, T, I]`` when ``gru.batch_first``, else
    ``[T, B, I]``): ``out`` as the module's (zeros after each sequence's ``lengths``), ``h_n``
    ``[L*D, B, H]``, ``gates`` ``{"r", "z", "n", "h": Tensor [L*D, B, T, H]}``. Runs as in
    evaluation (no dropout between layers)."""
    seq = x if gru.batch_first else x.transpose(0, 1)                 # [B, T, I]
    batch, steps = seq.shape[:2]
    dirs = 2 if gru.bidirectional else 1
    h0 = seq.new_zeros(gru.num_layers * dirs, batch, gru.hidden_size) if state is None else state
    valid = None
    if lengths is not None:
        valid = (torch.arange(steps, device=seq.device)[None, :]
                 < torch.as_tensor(lengths, device=seq.device)[:, None])       # [B, T]
    layer_in, h_n, records = seq, [], []
    for layer in range(gru.num_layers):
        outs = []
        for direction in range(dirs):
            k = layer * dirs + direction
            out, h, gates = _run_direction(layer_in, h0[k], _weights(gru, layer, direction), direction == 1, valid)
            outs.append(out)
            h_n.append(h)
            records.append(gates)
        layer_in = torch.cat(outs, dim=-1) if dirs > 1 else outs[0]
    out = layer_in if gru.batch_first else layer_in.transpose(0, 1)
    return out, torch.stack(h_n), {name: torch.stack([r[name] for r in records]) for name in GRU_GATES}


def _weights(gru: nn.GRU, layer: int, direction: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    return (getattr(gru, "weight_ih" + suffix), getattr(gru, "weight_hh" + suffix),
            getattr(gru, "bias_ih" + suffix, None), getattr(gru, "bias_hh" + suffix, None))


def _run_direction(x: Tensor, h: Tensor, weights, reverse: bool,
                   valid: Tensor | None) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """One layer in one direction through the equations, one step at a time."""
    w_ih, w_hh, b_ih, b_hh = weights
    steps = x.size(1)
    outs: list[Tensor] = [x] * steps                       # placeholders, each overwritten below
    per_step: dict[str, list[Tensor]] = {name: [x] * steps for name in GRU_GATES}
    inputs = F.linear(x, w_ih, b_ih)                       # [B, T, 3H]: the input side of every step at once
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        i_r, i_z, i_n = inputs[:, t].chunk(3, dim=1)
        h_r, h_z, h_hn = F.linear(h, w_hh, b_hh).chunk(3, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_hn)
        h_new = (1 - z) * n + z * h
        values = {"r": r, "z": z, "n": n, "h": h_new}
        if valid is not None:            # padding keeps the state; its outputs and gates read 0
            keep = valid[:, t, None]
            h = torch.where(keep, h_new, h)
            values = {name: v.masked_fill(~keep, 0.0) for name, v in values.items()}
        else:
            h = h_new
        outs[t] = values["h"]
        for name, v in values.items():
            per_step[name][t] = v
    return torch.stack(outs, dim=1), h, {name: torch.stack(v, dim=1) for name, v in per_step.items()}
