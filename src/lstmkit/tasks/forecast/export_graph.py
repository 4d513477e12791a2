"""A forecaster's network as the engines run it beside torch: the graph it exports with its state
carried in and out, and the net over that graph once exported.

    ForecastGraph(members, state_names, series)   a seed ensemble or a net with a series embedding
                                                  as one graph ``(x[, series], *state) -> (y, *state)``
    ForecastOnnxNet(runner)                       the exported graph behind the net's call
                                                  ``(x, future=None, series=None) -> y``

:class:`~lstmkit.tasks.forecast.deploy.ForecastAdapter` chooses the graph (``stateful()``; a net
that rolls out, decodes or reads covariates over the horizon is a
:class:`~lstmkit.tasks.forecast.graphs.HorizonGraph`, a plain one a
:class:`~lstmkit.deploy.stateful.StatefulNet`) and answers through :class:`ForecastOnnxNet` under
the ONNX engine.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lstmkit.deploy.onnx_engine import OnnxRunner
from lstmkit.deploy.stateful import StatefulNet
from lstmkit.tasks.forecast.graphs import future_array, median_of

__all__ = ["ForecastGraph", "ForecastOnnxNet"]


class ForecastGraph(nn.Module):
    """A seed ensemble, or a net with a series embedding, as one graph:
    ``(x[, series], *state) -> (y, *state)``.

    Each member runs as a :class:`~lstmkit.deploy.stateful.StatefulNet` from its own state (its
    encoder tapped; the net's own ``forward`` unchanged); the state tensors hold the members'
    states one after another along the layer axis (``[members * layers, B, H]``), so streaming
    and ONNX carry them like one model's. ``y`` is the members' median
    (:class:`~lstmkit.tasks.forecast.ensemble.SeedEnsemble`'s, in eval mode), in the graph.
    With ``series`` the graph takes each window's series index ``[B]`` (int64) for the embedding."""

    def __init__(self, members: list[nn.Module], state_names: tuple[str, ...], series: bool = False):
        super().__init__()
        self.state_names = tuple(state_names)
        self.members = nn.ModuleList([StatefulNet(m, self.state_names) for m in members])
        self.layers = members[0].encoder.num_layers if self.state_names else 0   # zoo encoders without state lack it
        self.series = series

    def forward(self, x: torch.Tensor, *inputs: torch.Tensor):
        series, state = (inputs[0], inputs[1:]) if self.series else (None, inputs)
        L, n, outs, states = self.layers, len(self.state_names), [], []
        for k, member in enumerate(self.members):
            tap = member.net.encoder                                   # StatefulNet.forward, with the series
            own = tuple(s[k * L:(k + 1) * L] for s in state)
            tap.state_in = None if not own else own if n == 2 else own[0]
            outs.append(member.net(x, None, series))
            states.append(tap.state_out if n == 2 else (tap.state_out,))
        y = outs[0] if len(outs) == 1 else median_of(torch.stack(outs))
        if not n:
            return y
        return (y, *(torch.cat([st[j] for st in states], 0) for j in range(n)))


class ForecastOnnxNet(nn.Module):
    """A forecaster's ONNX graph behind the net's call ``(x, future=None, series=None) -> y``
    (zero state; ``future`` defaults to zeros, ``series`` to index 0), for ``predict``, the
    service and int8 scoring."""

    reads_series = True

    def __init__(self, runner: OnnxRunner):
        super().__init__()
        self.runner = runner
        self.takes_series = "series" in runner.extra_inputs
        self.takes_future = "future" in runner.extra_inputs

    def forward(self, x: torch.Tensor, future=None, series=None) -> torch.Tensor:
        x = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self._run(self.runner, x, future, series))

    def one(self, x: np.ndarray) -> np.ndarray:
        """``forward`` of one window ``x [1, L, I]`` (float32 numpy, zero future, series 0) on numpy,
        in a one-thread session of the graph (:meth:`OnnxRunner.single_thread`): ``predict``'s
        one-window lane, where the torch round trip and a second thread cost more than they save."""
        return self._run(self.runner.single_thread(), x, None, None)

    def _run(self, runner: OnnxRunner, x: np.ndarray, future, series) -> np.ndarray:
        extra = {}
        if self.takes_future:                                         # None: zeros, as the net itself
            extra["future"] = future_array(runner, x, future)
        if self.takes_series:
            extra["series"] = (np.zeros(len(x), np.int64) if series is None
                               else np.ascontiguousarray(torch.as_tensor(series).cpu().numpy(), dtype=np.int64))
        return runner.run(x, **extra)[0]
