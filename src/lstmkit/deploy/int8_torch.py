"""torch's dynamic int8 for lstmkit nets, stored as plain tensors (no pickled packed parameters).

    swap_recurrent(net)             a copy whose lstmkit LSTM / GRU layers are torch's own (TorchRNN)
    quantize_torch(net)             ``quantize_dynamic`` of every LSTM, GRU and Linear (CPU)
    quantized_tensors(q)            its weights as int8 tensors plus scales / zero points (/ axis)
    load_quantized(net, tensors)    the int8 net rebuilt from exactly those integers

``quantize_dynamic`` only recognises torch's recurrent classes, so lstmkit's layers (same
``state_dict`` keys) are swapped first; its packed parameters are not tensors, so they are
unpacked for ``model.safetensors`` and packed again on load. :mod:`lstmkit.deploy.quantize`
measures and stores the result beside ONNX Runtime's int8.
"""
from __future__ import annotations

import copy
import warnings
from typing import Any, Callable

import torch
from torch import nn

from lstmkit.errors import LstmkitError, warnings_caught
from lstmkit.memory import built_without_draws

__all__ = ["TorchRNN", "swap_recurrent", "quantize_torch", "quantized_tensors", "load_quantized"]

_QSUFFIX = (".__scale", ".__zero_point", ".__axis")


class TorchRNN(nn.Module):
    """A ``torch.nn.LSTM`` / ``GRU`` behind lstmkit's ``forward(x, state=None, lengths=None)``.

    ``quantize_dynamic`` only recognises torch's own recurrent classes, so lstmkit's layers
    (same ``state_dict`` keys) are copied into one of these first, with their settings: ``bias``
    (a bias-free layer's copy failed on the missing bias keys), ``batch_first`` (a time-major
    layer's copy read its time axis as the batch), its weights' dtype and device (a float64
    layer's copy was float32) and its mode (a copy in eval mode ran dropout between layers)."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        kind = nn.LSTM if isinstance(layer, _lstm_class()) else nn.GRU
        self.kind = "lstm" if kind is nn.LSTM else "gru"
        self.rnn = kind(layer.input_size, layer.hidden_size, layer.num_layers, bias=layer.bias,
                        batch_first=layer.batch_first, dropout=float(layer.dropout),
                        bidirectional=layer.bidirectional)
        first = next(layer.parameters())
        self.rnn.to(device=first.device, dtype=first.dtype).load_state_dict(layer.state_dict())
        self.bidirectional = layer.bidirectional
        self.num_layers, self.hidden_size = layer.num_layers, layer.hidden_size
        self.output_size = getattr(layer, "output_size", layer.hidden_size * (2 if layer.bidirectional else 1))
        self.causal = not layer.bidirectional
        self.train(layer.training)           # a swapped net in eval mode keeps dropout off between layers

    def forward(self, x, state=None, lengths=None):
        if lengths is None:
            return self.rnn(x, state)
        first = self.rnn.batch_first
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.as_tensor(lengths).cpu(), batch_first=first,
                                                   enforce_sorted=False)
        out, state = self.rnn(packed, state)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=first, total_length=x.shape[1 if first else 0])
        return out, state


def _lstm_class():
    from lstmkit.nn.lstm import LSTM
    return LSTM


def swap_recurrent(net: nn.Module) -> nn.Module:
    """A copy of ``net`` whose lstmkit LSTM / GRU layers are :class:`TorchRNN` (weights copied). The
    torch layers' first weights, replaced by the copy, are drawn from no random generator: an ONNX
    export or int8 quantization left a script's seeded ``torch.rand`` drawing other numbers, and a
    fit in another thread training another model."""
    from lstmkit.nn.zoo import GRU
    net = copy.deepcopy(net)

    def swapped() -> nn.Module:
        for parent in list(net.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, (_lstm_class(), GRU)):
                    setattr(parent, name, TorchRNN(child))
        return net
    return built_without_draws(swapped)


def _quantized_engines() -> list[str]:
    return [e for e in torch.backends.quantized.supported_engines if e != "none"]


def _check_backend() -> str:
    engines = _quantized_engines()
    if not engines:
        raise LstmkitError("this PyTorch build has no quantized CPU kernels (no x86/fbgemm/qnnpack engine)",
                           "use the ONNX Runtime path or a PyTorch build with quantization")
    return torch.backends.quantized.engine


def quantize_torch(net: nn.Module) -> nn.Module:
    """int8 dynamic quantization of every LSTM, GRU and Linear layer (CPU, eval mode)."""
    _check_backend()
    if any(p.is_cuda for p in net.parameters()):
        raise LstmkitError("dynamic int8 quantization runs on the CPU only", "load the model on the CPU")
    # the quantized layers quantize_dynamic builds draw first weights (torch.randn) that the net's replace: from
    # the process's generators, a script's torch.rand went on elsewhere after an export('int8') or the load of
    # an int8 run, and a fit in another thread drew other numbers
    with warnings_caught():
        # torch 2.13 deprecates torch.ao.quantization and its quantized tensors (both still work): its own
        # notes, for no caller to act on; any other warning of the block is the caller's to see
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel and other "
                                r"quantized tensor creation functions", category=UserWarning)
        q = built_without_draws(lambda: torch.ao.quantization.quantize_dynamic(
            swap_recurrent(net).eval(), {nn.LSTM, nn.GRU, nn.Linear}, dtype=torch.qint8))
    if not _quantized_modules(q):
        raise LstmkitError("this model has no layer that dynamic int8 quantization covers (LSTM, GRU, Linear)",
                           "keep the float model, or export it to ONNX")
    return q.eval()


def _trial(q: nn.Module, x: torch.Tensor, infer: Callable[[nn.Module, Any], Any]) -> None:
    """Run the quantized net once: some modules (e.g. Transformer layers' fused fast path) accept
    quantized Linears at conversion but have no kernel path for them at run time."""
    try:
        with torch.inference_mode():
            infer(q, x)
    except Exception as e:     # whatever the missing kernel raises
        raise LstmkitError(f"torch has no working int8 path for this model ({type(e).__name__}: "
                           f"{str(e).splitlines()[0][:150] if str(e) else ''})", "use the ONNX backend") from None


def _quantized_modules(net: nn.Module) -> dict[str, nn.Module]:
    import torch.ao.nn.quantized.dynamic as nnqd
    return {n: m for n, m in net.named_modules() if isinstance(m, (nnqd.Linear, nnqd.LSTM, nnqd.GRU))}


def _weights_of(mod: nn.Module) -> dict[str, torch.Tensor]:
    import torch.ao.nn.quantized.dynamic as nnqd
    if isinstance(mod, nnqd.Linear):
        w, b = mod._packed_params._weight_bias()
        return {"weight": w, **({"bias": b} if b is not None else {})}
    wb = mod._weight_bias()
    return {**wb["weight"], **wb["bias"]}


def quantized_tensors(q: nn.Module) -> dict[str, torch.Tensor]:
    """Every weight of a dynamically quantized net as plain tensors: int8 values plus
    ``.__scale`` / ``.__zero_point`` (and ``.__axis`` when per channel) beside them."""
    out: dict[str, torch.Tensor] = {}
    qmods = _quantized_modules(q)
    for name, mod in qmods.items():
        for key, t in _weights_of(mod).items():
            full = f"{name}.{key}"
            if t.is_quantized:
                out[full] = t.int_repr()
                if t.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
                    out[full + ".__scale"] = t.q_per_channel_scales().float()
                    out[full + ".__zero_point"] = t.q_per_channel_zero_points().long()
                    out[full + ".__axis"] = torch.tensor(t.q_per_channel_axis())
                else:
                    out[full + ".__scale"] = torch.tensor([t.q_scale()], dtype=torch.float64)
                    out[full + ".__zero_point"] = torch.tensor([t.q_zero_point()])
            else:
                out[full] = t
    for key, t in q.state_dict().items():       # float layers the quantizer left alone
        if isinstance(t, torch.Tensor) and not t.is_quantized and not _inside(key, qmods):
            out[key] = t
    return out


def _inside(key: str, modules: dict[str, nn.Module]) -> bool:
    return any(key.startswith(name + ".") for name in modules)


def _restore_tensor(tensors: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    t = tensors[key]
    if key + ".__scale" not in tensors:
        return t
    scale, zp = tensors[key + ".__scale"], tensors[key + ".__zero_point"]
    if key + ".__axis" in tensors:
        return torch._make_per_channel_quantized_tensor(t, scale.double(), zp, int(tensors[key + ".__axis"]))
    return torch._make_per_tensor_quantized_tensor(t, float(scale[0]), int(zp[0]))


def load_quantized(net: nn.Module, tensors: dict[str, torch.Tensor]) -> nn.Module:
    """Rebuild the int8 net from :func:`quantized_tensors`' output; ``net`` is a float skeleton."""
    import torch.ao.nn.quantized.dynamic as nnqd
    q = quantize_torch(net)
    qmods = _quantized_modules(q)
    used: set[str] = set()
    for name, mod in qmods.items():
        keys = [k for k in _weights_of(mod)]
        values = {k: _restore_tensor(tensors, f"{name}.{k}") for k in keys}
        used.update(f"{name}.{k}" for k in keys)
        if isinstance(mod, nnqd.Linear):
            mod.set_weight_bias(values["weight"], values.get("bias"))
        else:
            mod.set_weight_bias(values)
    plain = {k: v for k, v in tensors.items()
             if k not in used and not k.endswith(_QSUFFIX)}
    # Float layers the quantizer left alone: copied tensor by tensor, because the quantized
    # modules' own state_dict loading expects packed parameters that are not stored.
    own = {**dict(q.named_parameters()), **dict(q.named_buffers())}
    with torch.no_grad():
        for key, value in plain.items():
            if key not in own or own[key].shape != value.shape:
                raise RuntimeError(f"unexpected weight {key!r}")
            own[key].copy_(value)
    return q.eval()
