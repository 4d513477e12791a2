"""The fused fast paths of :class:`~lstmkit.nn.lstm.LSTM`, beside its readable gate equations.

- one time step on the CPU: the fused cell per layer (a decoder or streaming step);
- batches with ``lengths``, two paths with the same results: the **padded** one cuts time at the
  batch's distinct lengths and runs torch's fused padded kernel (oneDNN on the CPU) chunk by
  chunk, carrying the state across the cuts; the **packed** one packs the batch and calls the
  packed kernel (cuDNN on the GPU; torch's packed CPU path is ~10x slower in backward, so the CPU
  takes the padded one when it applies);
- the contiguous cuDNN weight buffer (``flatten_parameters``).

They are methods of ``LSTM`` (this mixin) and read its weights and settings; every one is tested
equal to ``torch.nn.LSTM`` or to the other path in ``tests/nn``.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor, _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["FusedKernels", "fp32_under_autocast", "float_state"]

State = tuple[Tensor, Tensor]


@functools.cache
def _cpu_runs_bf16_lstm() -> bool:
    """Whether this CPU runs torch's fused LSTM in bf16: CPU autocast hands it to oneDNN, whose
    bf16 LSTM needs AVX-512 BF16 or AMX ("could not create a primitive descriptor" on AVX2)."""
    zeros = torch.zeros(1, 1, 1)
    try:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            _VF.lstm(zeros, (zeros, zeros), [torch.zeros(4, 1), torch.zeros(4, 1)], False, 1, 0.0, False, False, True)
    except RuntimeError:
        return False
    return True


def fp32_under_autocast(x: Tensor, lengths: object = None) -> bool:
    """CPU autocast in bf16 where the LSTM runs in float32 inside it, as torch's GRU always does
    under autocast (the layers around it keep bf16): on a CPU without a bf16 LSTM, and for
    sequences of several lengths (``lengths`` given) on every CPU. There the fused padded kernel
    (:meth:`FusedKernels._forward_padded`) would turn bf16 under autocast where torch's packed LSTM
    keeps the input's dtype, so autocast took the packed one, which runs step by step: a batch of
    clips (speech) or texts trained 3x slower in bf16 than in fp32, whose kernel it now is."""
    return (x.device.type == "cpu" and torch.is_autocast_enabled("cpu")
            and torch.get_autocast_dtype("cpu") == torch.bfloat16
            and (lengths is not None or not _cpu_runs_bf16_lstm()))


def float_state(state: State | None) -> State | None:
    return state if state is None or not isinstance(state, (tuple, list)) else tuple(s.float() for s in state)


class FusedKernels:
    """The fused paths of :class:`~lstmkit.nn.lstm.LSTM`: its cuDNN weight buffer, the one-step
    cell loop, and the padded and packed forward passes for batches with lengths."""

    def flatten_parameters(self) -> None:
        """Put the weights in one contiguous cuDNN buffer (a no-op off the GPU), as torch does."""
        weights = self._flat_weights
        first = weights[0]
        if not all(
            w.is_cuda and w.dtype == first.dtype and torch.backends.cudnn.is_acceptable(w)
            for w in weights
        ):
            return
        if len({w.data_ptr() for w in weights}) != len(weights):
            return
        import torch.backends.cudnn.rnn as cudnn_rnn

        with torch.cuda.device_of(first), torch.no_grad():
            if torch._use_cudnn_rnn_flatten_weight():
                torch._cudnn_rnn_flatten_weight(
                    weights,
                    4 if self.bias else 2,
                    self.input_size,
                    cudnn_rnn.get_cudnn_mode("LSTM"),
                    self.hidden_size,
                    0,
                    self.num_layers,
                    self.batch_first,
                    self.bidirectional,
                )

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        self.flatten_parameters()
        return result

    def _cell_loop_applies(self, x: Tensor) -> bool:
        # One step of a unidirectional LSTM on the CPU (a decoder step, a streaming step): the
        # fused cell per layer costs half what the sequence kernel's setup does. Measured fwd+bwd,
        # batch 64, 768 -> 256, 1 thread: 5.7 ms with the cell, 13 ms with the sequence kernel.
        return not self.bidirectional and x.device.type == "cpu"

    def _forward_one_step(self, x: Tensor, hx: State) -> tuple[Tensor, State]:
        x_t = x[:, 0] if self.batch_first else x[0]                   # [B, I]
        h_0, c_0 = hx
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x_t = F.dropout(x_t, self.dropout, training=True)
            h, c = _VF.lstm_cell(x_t, (h_0[layer], c_0[layer]), *self.layer_weights(layer, 0))
            h_n.append(h)
            c_n.append(c)
            x_t = h
        out = x_t.unsqueeze(1 if self.batch_first else 0)
        return out, (torch.stack(h_n), torch.stack(c_n))

    # Most distinct lengths in one batch for which the padded path below is used: 32, or half the
    # longest length if that is more. Beyond it the kernel calls (one per distinct length, each
    # over a few steps) cost more than packing saves. Measured fwd+bwd, BiLSTM 128, batch 64, 2
    # threads (packed / padded): T=60 with 45 lengths 0.58 / 0.95 s; T=100 with 38 lengths
    # 1.41 / 0.62 s; T=200 with 45 lengths 4.7 / 1.8 s; T=800 with 59 lengths 152 / 14 s.
    _MAX_PADDED_CHUNKS = 32

    def _padded_kernel_applies(self, x: Tensor, lengths: Tensor) -> bool:
        # On the CPU, torch runs a packed LSTM step by step through small autograd ops (its
        # backward is ~10x slower than the fused oneDNN kernel, which takes padded input only).
        return (
            x.device.type == "cpu"
            and x.dtype in (torch.float32, torch.bfloat16)
            and x.dtype == self.weight_ih_l0.dtype
            and not torch._C._is_any_autocast_enabled()  # autocast casts the two paths differently
            and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled
            and int(torch.unique(lengths).numel()) <= max(self._MAX_PADDED_CHUNKS, int(lengths.max()) // 2)
        )

    def _forward_padded(
        self, x: Tensor, hx: State, lengths: Tensor, steps: int
    ) -> tuple[Tensor, State]:
        """Same result as :meth:`_forward_packed`, through the fused padded kernel.

        Each layer and direction runs as a unidirectional LSTM over inputs aligned so that every
        sequence starts at t = 0 (the reverse direction reads each sequence reversed within its
        own length), so outputs at valid positions never depend on padding. Time is cut at the
        distinct lengths of the batch and the state is carried across the cuts, so the state at
        each sequence's last valid step is read exactly; outputs past a length are zeroed.
        """
        xb = x if self.batch_first else x.transpose(0, 1)  # [B, T, I]
        device = xb.device
        bounds = sorted(set(lengths.tolist()))  # chunk ends, ascending; the last is max length
        run = bounds[-1]
        which = torch.searchsorted(torch.tensor(bounds), lengths).to(device)  # [B]
        lens = lengths.to(device)
        t = torch.arange(run, device=device)
        valid = t[None, :] < lens[:, None]  # [B, run]
        rev = torch.where(valid, lens[:, None] - 1 - t[None, :], t[None, :])  # an involution
        layer_in = xb[:, :run]
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                inp = layer_in if direction == 0 else _gather_time(layer_in, rev)
                out, h, c = self._run_chunks(
                    inp, hx[0][k], hx[1][k], layer, direction, bounds, which
                )
                outs.append(out if direction == 0 else _gather_time(out, rev))
                h_n.append(h)
                c_n.append(c)
            layer_in = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]
            layer_in = layer_in.masked_fill(~valid[..., None], 0.0)
            if layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, self.training)
        out = layer_in
        if run < steps:
            out = F.pad(out, (0, 0, 0, steps - run))
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, (torch.stack(h_n), torch.stack(c_n))

    def _run_chunks(
        self, x: Tensor, h0: Tensor, c0: Tensor, layer: int, direction: int,
        bounds: list[int], which: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One layer, one direction over ``x [B, T, I]``; returns the outputs ``[B, T, H]`` and
        each sequence's state ``[B, H]`` after step ``bounds[which[b]] - 1``."""
        weights = [w for w in self.layer_weights(layer, direction) if w is not None]
        h, c = h0[None], c0[None]  # [1, B, H]
        pieces, hs, cs, start = [], [], [], 0
        for end in bounds:
            out, h, c = _VF.lstm(
                x[:, start:end], (h, c), weights, self.bias, 1, 0.0, self.training, False, True
            )
            pieces.append(out)
            hs.append(h[0])
            cs.append(c[0])
            start = end
        out = torch.cat(pieces, dim=1) if len(pieces) > 1 else pieces[0]
        if len(hs) == 1:
            return out, hs[0], cs[0]
        idx = which[None, :, None].expand(1, -1, h.size(-1))
        return (
            out,
            torch.stack(hs).gather(0, idx)[0],
            torch.stack(cs).gather(0, idx)[0],
        )

    def _forward_packed(
        self, x: Tensor, hx: State, lengths: Tensor, steps: int
    ) -> tuple[Tensor, State]:
        packed = pack_padded_sequence(x, lengths, self.batch_first, enforce_sorted=False)
        sorted_hx = [s.index_select(1, packed.sorted_indices) for s in hx]
        data, h_n, c_n = _VF.lstm(
            packed.data, packed.batch_sizes, sorted_hx, self._flat_weights, self.bias,
            self.num_layers, self.dropout, self.training, self.bidirectional,
        )
        packed_out = PackedSequence(
            data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
        )
        out, _ = pad_packed_sequence(packed_out, self.batch_first, total_length=steps)
        unsort = packed.unsorted_indices
        return out, (h_n.index_select(1, unsort), c_n.index_select(1, unsort))


def _gather_time(x: Tensor, index: Tensor) -> Tensor:
    """``x [B, T, F]`` with time reordered per sequence: ``out[b, t] = x[b, index[b, t]]``."""
    return x.gather(1, index[..., None].expand(-1, -1, x.size(-1)))
