"""The forecasting network: zoo encoder -> dropout -> head (linear or MLP) for all horizon steps."""
from __future__ import annotations

import torch
from torch import nn

from lstmkit.nn.blocks import make_head
from lstmkit.nn.zoo import make_encoder

__all__ = ["ForecastNet", "GlobalForecastNet", "Highway"]


class ForecastNet(nn.Module):
    """Direct multi-horizon forecaster.

    Inputs ``x [B, L, T + F]`` hold the scaled targets first, then the extra features.
    Output ``[B, horizon, T]``: every step of the horizon for every target at once.

    With ``relative=True`` the targets in each window are taken relative to the window's last
    observed value and the head predicts the change from it; a series that trends beyond the
    range seen in training then stays in the range the network knows.

    ``encoder`` is any :mod:`lstmkit.nn.zoo` name; the window is summarised by the last step's
    output (for bidirectional encoders: the forward half at the last step, the backward half at
    the first). ``head`` is ``linear`` or ``mlp`` (:func:`lstmkit.nn.blocks.make_head`): with
    ``encoder="lstm", hidden_size=50, num_layers=2, head="mlp"`` this is the tutorial's Keras
    model LSTM 50 -> Dropout -> LSTM 50 -> Dropout -> Dense 25 -> Dense 1.
    """

    def __init__(self, n_inputs: int, n_targets: int, horizon: int, encoder: str = "lstm",
                 hidden_size: int = 50, num_layers: int = 2, dropout: float = 0.2,
                 relative: bool = True, head: str = "linear"):
        super().__init__()
        self.n_targets, self.horizon, self.relative = n_targets, horizon, relative
        self.encoder = make_encoder(encoder, n_inputs, hidden_size, num_layers, dropout)
        self.dropout = nn.Dropout(dropout)
        self.head = make_head(head, self.encoder.output_size, horizon * n_targets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = self.n_targets
        if self.relative:
            last = x[:, -1:, :T]                                            # [B, 1, T]
            x = x - last if x.shape[-1] == T else torch.cat([x[..., :T] - last, x[..., T:]], -1)
        out, _ = self.encoder(x)                                            # [B, L, D]
        if self.encoder.bidirectional:    # forward direction ends at L-1, backward at 0
            H = out.shape[-1] // 2
            summary = torch.cat([out[:, -1, :H], out[:, 0, H:]], -1)
        else:
            summary = out[:, -1]                                            # [B, D]
        y = self.head(self.dropout(summary)).view(-1, self.horizon, T)     # [B, horizon, T]
        return y + last if self.relative else y


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


class GlobalForecastNet(nn.Module):
    """One network for many series, with covariates, probabilistic outputs and three strategies.

    Inputs: ``x [B, L, T + P + F]`` (scaled targets, past-only covariates, future-known
    covariates over the lookback), ``series [B]`` (series index, for the optional embedding) and
    ``future [B, H, F]`` (the future-known covariates over the horizon). Output: the parameters of
    :class:`~lstmkit.tasks.forecast.probabilistic.Output` per step and target, ``[B, H, T]`` for
    point forecasts and ``[B, H, T, P]`` otherwise.

    Strategies:

    * ``direct``: the encoder's last output, the series embedding and the flattened horizon
      covariates go through one head that emits every step at once (no error feedback).
    * ``recursive``: a one-step model; step k+1's input is step k's point forecast (and its
      future covariates), rolled out through the recurrent state for H steps, in training too.
    * ``seq2seq``: an encoder-decoder; the decoder LSTM starts from the encoder's final state and
      reads, per horizon step, the future covariates, the embedding and a learned step embedding;
      a shared head maps each decoder output to that step's forecast.

    With ``relative=True`` targets are taken relative to each window's last observed value (the
    forecast is that value plus the predicted change), as in :class:`ForecastNet`.

    With ``segment=S`` the encoder reads the window S steps at a time (SegRNN, Lin et al. 2023):
    ``[B, L, C]`` becomes ``[B, L/S, S*C]``, so a 168-hour window is 7 steps of one day each.
    The recurrence is S times shorter (that much cheaper) and each step compares whole seasons.
    """

    def __init__(self, n_inputs: int, n_targets: int, n_future: int, horizon: int, n_series: int,
                 output: nn.Module, encoder: str = "lstm", hidden_size: int = 50, num_layers: int = 2,
                 dropout: float = 0.2, relative: bool = True, head: str = "linear", strategy: str = "direct",
                 id_embedding: int = 0, n_past: int = 0, highway: int = 0, highway_hidden: int = 0,
                 segment: int = 0):
        super().__init__()
        self.segment = segment
        self.T, self.F, self.H, self.relative, self.strategy = n_targets, n_future, horizon, relative, strategy
        self.output = output
        P = output.n_params
        self.embedding = nn.Embedding(max(n_series, 1), id_embedding) if id_embedding else None
        E = id_embedding
        if strategy != "direct" and encoder not in ("lstm", "gru"):
            from lstmkit.errors import LstmkitError
            raise LstmkitError(f"the {strategy} strategy needs a recurrent encoder, not {encoder!r}",
                               "use --model lstm or gru, or --strategy direct")
        if strategy == "recursive" and n_past:
            from lstmkit.errors import LstmkitError
            raise LstmkitError("the recursive strategy cannot use past-only covariates (they are unknown "
                               "in the future steps it feeds back)",
                               "use --strategy direct or seq2seq, or pass them as --future-covariates")
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

    def forward(self, x: torch.Tensor, series: torch.Tensor | None = None,
                future: torch.Tensor | None = None) -> torch.Tensor:
        T, B = self.T, x.shape[0]
        last = x[:, -1, :T]                                                   # [B, T]
        if self.relative:
            x = torch.cat([x[..., :T] - last[:, None], x[..., T:]], -1)
        e = self.embedding(series) if self.embedding is not None else x.new_zeros(B, 0)   # [B, E]
        if future is None:
            future = x.new_zeros(B, self.H, self.F)
        z = torch.cat([x, e[:, None].expand(-1, x.shape[1], -1)], -1) if e.shape[1] else x
        if self.segment:                                     # one encoder step per segment: [B, L/S, S*C]
            z = z.reshape(B, z.shape[1] // self.segment, self.segment * z.shape[2])
        out, state = self.encoder(z)                                           # [B, L or L/S, D]
        if self.strategy == "direct":
            if self.encoder.bidirectional:
                D2 = out.shape[-1] // 2
                summary = torch.cat([out[:, -1, :D2], out[:, 0, D2:]], -1)
            else:
                summary = out[:, -1]
            h = torch.cat([self.dropout(summary), e, future.reshape(B, -1)], -1)
            raw = self.head(h).view(B, self.H, T, self._P)
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
