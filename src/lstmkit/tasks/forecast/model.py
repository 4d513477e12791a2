"""The forecasting network: zoo encoder -> dropout -> head (linear or MLP) for all horizon steps.

One network for one series and for many (a single series is a panel of one)."""
from __future__ import annotations

import torch
from torch import nn

from lstmkit.nn.blocks import make_head
from lstmkit.nn.zoo import make_encoder

__all__ = ["ForecastNet", "Highway", "STRATEGIES"]


STRATEGIES = ("direct", "recursive", "seq2seq")


class Highway(nn.Module):
    """LSTNet's autoregressive highway (Lai et al. 2018): one linear map per horizon step from the
    last ``window`` values of each target, shared across targets and series, ``[B, L, T] -> [B, H, T]``.

    Added to a recurrent forecast it carries what a linear model gets right at once -- repeating a
    daily or weekly shape, the level -- so the recurrent part only learns the remainder. Initialised
    at zero: training starts from the recurrent network alone.

    With ``hidden > 0`` the map is a one-hidden-layer MLP (ReLU), a nonlinear autoregression over
    the window in the spirit of N-BEATS' fully connected blocks; its output layer starts at zero."""

    def __init__(self, window: int, horizon: int, hidden: int = 0):
        super().__init__()
        self.window = window
        self.mlp = nn.Sequential(nn.Linear(window, hidden), nn.ReLU()) if hidden else None
        self.linear = nn.Linear(hidden or window, horizon)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        z = y[:, -self.window:].transpose(1, 2)                                 # [B, T, L]
        if self.mlp is not None:
            z = self.mlp(z)
        return self.linear(z).transpose(1, 2)


class ForecastNet(nn.Module):
    """One network for one series or many, with covariates, probabilistic outputs and three strategies.

    Inputs: ``x [B, L, T + P + F]`` (scaled targets, past-only covariates, future-known
    covariates over the lookback), ``future [B, H, F]`` (the future-known covariates over the
    horizon; None: zeros) and ``series [B]`` (series index, for the optional embedding; None:
    index 0). Output: the parameters of :class:`~lstmkit.tasks.forecast.probabilistic.Output` per
    step and target, ``[B, H, T]`` for point forecasts (the default output) and ``[B, H, T, P]``
    otherwise. ``net(x)`` alone is the plain direct forecaster of one series.

    Strategies:

    * ``direct``: the encoder's last output, the series embedding and the flattened horizon
      covariates go through one head that emits every step at once (no error feedback).
    * ``recursive``: a one-step model; step k+1's input is step k's point forecast (and its
      future covariates), rolled out through the recurrent state for H steps, in training too.
    * ``seq2seq``: an encoder-decoder; the decoder LSTM starts from the encoder's final state and
      reads, per horizon step, the future covariates, the embedding and a learned step embedding;
      a shared head maps each decoder output to that step's forecast.

    With ``relative=True`` the targets in each window are taken relative to the window's last
    observed value and the network predicts the change from it (the forecast is that value plus
    the change); a series that trends beyond the range seen in training then stays in the range
    the network knows.

    ``encoder`` is any :mod:`lstmkit.nn.zoo` name; the window is summarised by the last step's
    output (for bidirectional encoders: the forward half at the last step, the backward half at
    the first). ``head`` is ``linear`` or ``mlp`` (:func:`lstmkit.nn.blocks.make_head`): with
    ``encoder="lstm", hidden_size=50, num_layers=2, head="mlp"`` this is the tutorial's Keras
    model LSTM 50 -> Dropout -> LSTM 50 -> Dropout -> Dense 25 -> Dense 1.

    With ``segment=S`` the encoder reads the window S steps at a time (SegRNN, Lin et al. 2023):
    ``[B, L, C]`` becomes ``[B, L/S, S*C]``, so a 168-hour window is 7 steps of one day each.
    The recurrence is S times shorter (that much cheaper) and each step compares whole seasons.

    Settings are checked by :func:`lstmkit.tasks.forecast.checks.check_config` before a network
    is built; a combination that cannot work here is a ``ValueError`` (a programming error).
    """

    def __init__(self, n_inputs: int, n_targets: int, horizon: int, encoder: str = "lstm",
                 hidden_size: int = 50, num_layers: int = 2, dropout: float = 0.2, relative: bool = True,
                 head: str = "linear", *, output: nn.Module | None = None, n_future: int = 0, n_series: int = 1,
                 strategy: str = "direct", id_embedding: int = 0, n_past: int = 0, highway: int = 0,
                 highway_hidden: int = 0, segment: int = 0):
        super().__init__()
        if output is None:
            from lstmkit.tasks.forecast.probabilistic import Output
            output = Output("point")
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}")
        if strategy != "direct" and encoder not in ("lstm", "gru"):
            raise ValueError(f"the {strategy} strategy needs a recurrent encoder, not {encoder!r}")
        if strategy == "recursive" and n_past:
            raise ValueError("the recursive strategy cannot use past-only covariates")
        self.segment = segment
        self.T, self.F, self.H, self.relative, self.strategy = n_targets, n_future, horizon, relative, strategy
        self.n_targets, self.horizon = n_targets, horizon
        self.output = output
        P = output.n_params
        self.embedding = nn.Embedding(max(n_series, 1), id_embedding) if id_embedding else None
        E = id_embedding
        self.encoder = make_encoder(encoder, (n_inputs + E) * max(segment, 1), hidden_size, num_layers, dropout)
        self.dropout = nn.Dropout(dropout)
        D = self.encoder.output_size
        if strategy == "direct":
            self.head = make_head(head, D + E + horizon * n_future, horizon * n_targets * P)
        elif strategy == "recursive":
            self.head = make_head(head, D, n_targets * P)
        else:
            self.step_embedding = nn.Embedding(horizon, 8)
            self.decoder = make_encoder(encoder, n_future + E + 8, hidden_size, num_layers, dropout)
            self.head = make_head(head, D, n_targets * P)
        self._P = P
        # created last: the other layers draw the same initial weights with or without it
        self.highway = Highway(highway, horizon, highway_hidden) if highway else None

    def forward(self, x: torch.Tensor, future: torch.Tensor | None = None,
                series: torch.Tensor | None = None) -> torch.Tensor:
        T, B = self.T, x.shape[0]
        last = x[:, -1, :T]                                                   # [B, T]
        if self.relative:
            x = torch.cat([x[..., :T] - last[:, None], x[..., T:]], -1)
        if self.embedding is not None:
            if series is None:
                series = torch.zeros(B, dtype=torch.long, device=x.device)
            e = self.embedding(series)                                         # [B, E]
        else:
            e = x.new_zeros(B, 0)
        if future is None and (self.F or self.strategy != "direct" or self.embedding is not None):
            future = x.new_zeros(B, self.H, self.F)              # (a plain direct net never reads it)
        z = torch.cat([x, e[:, None].expand(-1, x.shape[1], -1)], -1) if self.embedding is not None else x
        if self.segment:                                     # one encoder step per segment: [B, L/S, S*C]
            z = z.reshape(B, z.shape[1] // self.segment, self.segment * z.shape[2])
        out, state = self.encoder(z)                                           # [B, L or L/S, D]
        if self.strategy == "direct":
            if self.encoder.bidirectional:
                D2 = out.shape[-1] // 2
                summary = torch.cat([out[:, -1, :D2], out[:, 0, D2:]], -1)
            else:
                summary = out[:, -1]
            h = self.dropout(summary)
            if self.embedding is not None or self.F:                      # none for a plain series (ONNX-friendly)
                h = torch.cat([h, e, future.reshape(B, -1)], -1)
            raw = self.head(h).view(-1, self.H, T, self._P)
        elif self.strategy == "seq2seq":
            steps = self.step_embedding.weight[None].expand(B, -1, -1)         # [B, H, 8]
            dec_in = torch.cat([future, e[:, None].expand(-1, self.H, -1), steps], -1)
            dec, _ = self.decoder(dec_in, state)                               # [B, H, D]
            raw = self.head(self.dropout(dec)).view(B, self.H, T, self._P)
        else:
            raws = []
            o = out[:, -1]
            for k in range(self.H):
                r = self.head(self.dropout(o)).view(B, T, self._P)
                raws.append(r)
                if k + 1 == self.H:
                    break
                y_k = self.output.point(self.output.transform(r))              # [B, T], input units
                step_in = torch.cat([y_k, future[:, k], e], -1)[:, None]       # [B, 1, T + F + E]
                o, state = self.encoder(step_in, state)
                o = o[:, -1]
            raw = torch.stack(raws, 1)                                         # [B, H, T, P]
        params = self.output.transform(raw)
        offset = last[:, None] if self.relative else None                      # [B, 1, T]
        if self.highway is not None:
            hw = self.highway(x[..., :T])                                      # [B, H, T]; x relative if asked
            offset = hw if offset is None else offset + hw
        return params if offset is None else self.output.shift(params, offset)
