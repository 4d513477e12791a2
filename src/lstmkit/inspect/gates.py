"""What the gates do: record i, f, g, o and c of a model's LSTM (r, z, n and h of a GRU) for an input,
summarise, plot.

>>> result = lstmkit.inspect.gates(forecaster, window)      # window [T, F] or [B, T, F], model inputs
>>> result["stats"]["l0"]["f"]["frac_above_0.9"]             # share of forget-gate values near 1

The model may be an :class:`~lstmkit.nn.lstm.LSTM`, any module containing one (a zoo encoder,
a ``ForecastNet``) or a fitted estimator (anything with ``net_``); a model with no LSTM but a GRU
(the zoo's ``gru``, ``bigru``) records that GRU's reset gate r, update gate z, candidate n and
hidden state h (:func:`lstmkit.nn.gru_gates.gru_gates`). The LSTM is fed exactly what
it receives inside the model (after ``ForecastNet``'s relative transform, a convolution
front-end, ...): a forward pre-hook captures its input (the calling thread's alone: threads
recording or predicting with one model at once each run their own), then
``LSTM.forward(..., record_gates=True)`` runs the gate equations on it. In an encoder-decoder
(:class:`~lstmkit.nn.seq2seq.Seq2Seq`: translation, speech's seq2seq mode) ``gates`` records the
encoder's LSTM over the source and :func:`decoder_gates` the decoder's over an output.

Statistics per layer (``l0``, ``l1``, ... and ``l0_reverse`` for a backward direction) and gate,
over every valid (sample, step, unit) value:

* ``mean``, ``std``;
* ``frac_above_0.9`` and ``frac_below_0.1``: the saturated shares (for the sigmoid gates i, f, o
  and a GRU's r, z, "fully open" and "fully closed"); for g (a GRU's n: tanh, in [-1, 1]) also
  ``frac_abs_above_0.9`` and ``frac_abs_below_0.1`` (saturated, near zero: its ``frac_below_0.1``
  counts every negative value);
* for the state, c (unbounded; a GRU's h), ``abs_max`` instead of the fractions.
"""
from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from lstmkit.errors import LstmkitError, callers_level
from lstmkit.inspect.inputs import network_batch
from lstmkit.nn.blocks import evaluating, valid_mask
from lstmkit.nn.gru_gates import find_gru, gru_gates
from lstmkit.nn.lstm import LSTM
from lstmkit.nn.seq2seq import BOS_ID, Seq2Seq
from lstmkit.nn.zoo import find_lstm

__all__ = ["gates", "decoder_gates", "gate_statistics", "most_active_units", "plot_gates", "series_index",
           "ensemble_members", "GATES", "HIGH", "LOW"]

GATES = ("i", "f", "g", "o", "c")
HIGH, LOW = 0.9, 0.1
_TANH = ("g", "n")            # the candidates, in [-1, 1]
_STATE = ("c", "h")           # the state each step leaves: drawn as trajectories, not a heatmap


# how the zoo's encoders without gates read a sequence's steps (the refusal says why there are none)
_GATELESS = {"transformer": "by self-attention, all at once", "tcn": "through dilated causal convolutions"}


class _Captured(Exception):
    """Stops the model's forward once the LSTM's input is known."""


def gates(model: Any, x, lengths=None, series=None) -> dict[str, Any]:
    """Record the gates of the first LSTM inside ``model`` (of its first GRU when it has no LSTM) for input ``x``.

    Args:
        model: an LSTM, a module containing one, or a fitted estimator with ``net_``.
        x: the model's input, ``[B, T, F]`` or ``[T, F]`` (tensor or array); for an estimator,
            the scaled inputs it feeds its network; for a model that embeds tokens, integer
            ids ``[B, T]`` or ``[T]``. A forecaster also takes its data (a DataFrame or a file:
            its last window) and a text model one text (its tokens).
        lengths: optional ``[B]`` valid lengths, when the model takes them.
        series: a forecaster trained on several series with ``id_embedding``: the id of the series
            ``x`` is from (one of ``series_ids_``; another is the slot ``predict`` gives a series it
            has not seen); the embedding of that id is part of what its LSTM reads at every step.
            Required there (the first series' embedding was read, whichever series ``x`` was);
            for a module, the series index its ``forward`` takes (``ForecastNet``'s ``series``).

    Returns:
        ``{"gates": {"i", "f", "g", "o", "c": Tensor [L*D, B, T, H]}, "stats": {...},
        "layers": L, "directions": D, "hidden_size": H, "valid": Tensor [B, T] bool, "members": M,
        "cell": "lstm"}``; a GRU's ``gates`` are ``"r", "z", "n", "h"`` and its ``cell`` ``"gru"``;
        an ensemble of M > 1 networks (a seed ensemble, LSTM-FCN's side-by-side nets) records its
        first member's gates. A classifier's LSTM-FCN (``lstm-fcn-ds``) reads the series with time
        and features swapped (the "dimension shuffle"): its LSTM takes a step per feature, T is the
        features' count, and each step reads ``step_reads`` time points at once; the result then has
        ``"steps_over": "variables"`` and ``"step_reads"``.
    """
    net = _network(model)
    inner = net.encoder if isinstance(net, Seq2Seq) else net                # an encoder-decoder: the encoder's
    rnn = find_lstm(inner) or find_gru(inner)
    if rnn is None:
        kind = getattr(getattr(model, "config_", None), "model", None)     # a run's zoo name, else the module's
        what = "encoder" if isinstance(net, Seq2Seq) else "model"
        how = _GATELESS.get(kind)
        series = getattr(model, "kind", None) == "series"           # a sequence classifier: its LSTM-FCN too
        raise LstmkitError(f"the {what} ({kind or type(net).__name__}) has no LSTM or GRU layer"
                           f"{f' (it reads the steps {how})' if how else ''}, so there are no gates to record",
                           "train a recurrent model to inspect gates: lstm, bilstm, lstm-attention, cnn-lstm, "
                           f"lstm-fcn, {'lstm-fcn-ds, ' if series else ''}gru or bigru"
                           + ("; a transformer's attention weights: lstmkit inspect attention" if kind == "transformer"
                              else ""))
    dtype = rnn.weight_ih_l0.dtype
    x, lengths = network_batch(model, net, x, lengths, dtype)
    with torch.no_grad(), evaluating(net):
        rnn_in, state, rnn_lengths = _lstm_input(net, rnn, x, lengths, series_index(model, series, x.shape[0]))
        if isinstance(rnn, LSTM):
            _, _, recorded = rnn(rnn_in, state, lengths=rnn_lengths, record_gates=True)
        else:
            _, _, recorded = gru_gates(rnn, rnn_in, state, rnn_lengths)
    result = _result(recorded, rnn, rnn_lengths, ensemble_members(net))
    if getattr(net, "lstm_steps_over", None) == "variables":     # LSTM-FCN's dimension shuffle
        result.update(steps_over="variables", step_reads=rnn.input_size)
    return result


def ensemble_members(net: nn.Module) -> int:
    """How many networks side by side ``net`` holds (a seed ensemble, LSTM-FCN's nets), 1 for one:
    :func:`gates` and :func:`~lstmkit.inspect.attention.attention` record the first's."""
    members = getattr(net, "members", 1)                  # SeedEnsemble: a ModuleList; LSTMFCNEnsemble: a count
    return len(members) if isinstance(members, nn.ModuleList) else members if isinstance(members, int) else 1


def decoder_gates(model: Any, src, output: list[int], src_len=None) -> dict[str, Any]:
    """Record the decoder LSTM's gates of an encoder-decoder while it writes ``output``.

    Args:
        model: a :class:`~lstmkit.nn.seq2seq.Seq2Seq` or a fitted estimator whose ``net_`` is one.
        src: one source, ``[S]`` token ids or ``[S, F]`` features (or a batch of one, ``[1, ...]``).
        output: the output's token ids as a search returns them (without ``<bos>``, ending at
            ``<eos>`` when one was produced); step t reads token t-1 (``<bos>`` first) and writes token t.
        src_len: the source's valid length (default: all of it).

    Returns:
        as :func:`gates`, over the ``len(output)`` decoder steps. The decoder runs a step at a
        time, each from the state the last one left; the steps' inputs are captured as the model
        runs them, then ``record_gates=True`` reruns them from the first step's state in one go.
    """
    net = _network(model)
    if not isinstance(net, Seq2Seq):
        raise LstmkitError(f"decoder gates are an encoder-decoder's; {type(net).__name__} is not one",
                           "pass a translation run's model, or a speech run's trained with --mode seq2seq")
    if not output:
        raise LstmkitError("the output is empty: a decoder step writes each token", "pass at least one token id")
    src = torch.as_tensor(np.asarray(src) if not isinstance(src, Tensor) else src)
    src = (src.long() if not torch.is_floating_point(src) else src.to(net.decoder.weight_ih_l0.dtype))
    if src.dim() == (1 if not torch.is_floating_point(src) else 2):
        src = src.unsqueeze(0)                                                 # [1, S] / [1, S, F]
    src_len = torch.tensor([src.shape[1]]) if src_len is None else torch.as_tensor(src_len).reshape(1)
    y_in = torch.tensor([[BOS_ID, *output[:-1]]])                              # [1, T]
    captured: list[tuple] = []
    caller = threading.get_ident()          # the hook is the shared module's: other threads' steps are theirs
    handle = net.decoder.register_forward_pre_hook(
        lambda _m, args: captured.append(args) if threading.get_ident() == caller else None)
    try:
        with torch.no_grad(), evaluating(net):
            memory, state = net.encode(src, src_len)
            for t in range(y_in.shape[1]):
                _, state, _ = net.step(y_in[:, t], state, memory)
            handle.remove()
            x = torch.cat([args[0] for args in captured], 1)                  # [1, T, In]
            _, _, recorded = net.decoder(x, captured[0][1], record_gates=True)
    finally:
        handle.remove()
    return _result(recorded, net.decoder, None, 1)


def _network(model: Any) -> nn.Module:
    net = getattr(model, "net_", model)
    if not isinstance(net, nn.Module):
        raise LstmkitError(f"cannot inspect a {type(model).__name__}", "pass a fitted estimator or a torch module")
    return net


def _result(recorded: dict[str, Tensor], rnn: nn.Module, lengths, members: int) -> dict[str, Any]:
    batch, steps = next(iter(recorded.values())).shape[1:3]
    valid = (valid_mask(torch.as_tensor(lengths), steps) if lengths is not None
             else torch.ones(batch, steps, dtype=torch.bool))
    directions = 2 if rnn.bidirectional else 1
    return {"gates": recorded,
            "stats": gate_statistics(recorded, rnn.num_layers, directions, valid),
            "layers": rnn.num_layers, "directions": directions, "hidden_size": rnn.hidden_size,
            "valid": valid, "members": members, "cell": "lstm" if isinstance(rnn, LSTM) else "gru"}


def series_index(model: Any, series, batch: int) -> Tensor | None:
    """``[batch]`` index of ``series`` for the network's embedding (:func:`gates`); None: the model
    reads no series index (refused for an estimator whose embedding tells several series apart)."""
    ids = getattr(model, "series_ids_", None)
    embedded = bool(getattr(getattr(model, "config_", None), "id_embedding", 0))
    if series is None:
        if ids is not None and embedded and len(ids) > 1:
            shown = ", ".join(repr(i) for i in ids[:3]) + (", …" if len(ids) > 3 else "")
            raise LstmkitError(f"this forecaster learnt an embedding of each of its {len(ids)} series (id_embedding),"
                               " which its LSTM reads with every window: which series is the window from?",
                               f"pass series=ID, one of series_ids_ ({shown})")
        return None
    if ids is not None:
        index = ids.index(series) if series in ids else len(ids)       # an unseen series: predict's slot
        if embedded and series not in ids:          # a typo ('3' for 3) read another series' input, unsaid
            shown = ", ".join(repr(i) for i in ids[:3]) + (", …" if len(ids) > 3 else "")
            warnings.warn(f"series {series!r} is not one this forecaster was trained on ({shown}): its window is "
                          "read with the embedding of a series it has not seen, as predict reads such a series",
                          UserWarning, stacklevel=callers_level())
    else:
        index = int(series)
    return torch.full((batch,), index, dtype=torch.long)


def _lstm_input(net: nn.Module, lstm: nn.Module, x: Tensor, lengths, series: Tensor | None = None):
    """What ``lstm`` (or a GRU) receives when ``net`` runs on ``x``: (input, state, lengths); an
    encoder-decoder runs its encoder alone (``encode``); ``series``: the index a forecaster's
    embedding reads (:func:`series_index`)."""
    if net is lstm:
        return x, None, lengths
    captured: dict[str, Any] = {}
    caller = threading.get_ident()

    def hook(_module, args, kwargs):
        if threading.get_ident() != caller:     # the module is shared: another thread's call (a predict) runs on
            return None
        names = ("x", "state", "lengths")
        captured.update(zip(names, args))
        captured.update({k: v for k, v in kwargs.items() if k in names})
        raise _Captured

    handle = lstm.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        if isinstance(net, Seq2Seq):
            net.encode(x, torch.full((x.shape[0],), x.shape[1]) if lengths is None else torch.as_tensor(lengths))
        else:
            net(x, **({} if lengths is None else {"lengths": lengths}), **({} if series is None else {"series": series}))
    except _Captured:
        pass
    finally:
        handle.remove()
    if "x" not in captured:
        raise LstmkitError(f"the {type(lstm).__name__} inside {type(net).__name__} was not called", "check the model")
    return captured["x"], captured.get("state"), captured.get("lengths")


def gate_statistics(recorded: dict[str, Tensor], num_layers: int, num_directions: int = 1,
                    valid: Tensor | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """Per-layer, per-gate statistics of recorded values ``[L*D, B, T, H]`` (see module doc), an
    LSTM's i, f, g, o, c or a GRU's r, z, n, h.

    ``valid`` ([B, T] bool) excludes padding; None counts every position.
    """
    stats: dict[str, dict[str, dict[str, float]]] = {}
    for layer in range(num_layers):
        for direction in range(num_directions):
            k = layer * num_directions + direction
            key = f"l{layer}" + ("_reverse" if direction else "")
            stats[key] = {}
            for name in recorded:
                v = recorded[name][k]                                         # [B, T, H]
                v = (v[valid] if valid is not None else v.reshape(-1, v.shape[-1])).double().flatten()
                s = {"mean": v.mean().item(), "std": v.std(unbiased=False).item()}
                if name in _STATE:
                    s["abs_max"] = v.abs().max().item()
                else:
                    s[f"frac_above_{HIGH}"] = (v > HIGH).double().mean().item()
                    s[f"frac_below_{LOW}"] = (v < LOW).double().mean().item()
                    if name in _TANH:
                        s[f"frac_abs_above_{HIGH}"] = (v.abs() > HIGH).double().mean().item()
                        s[f"frac_abs_below_{LOW}"] = (v.abs() < LOW).double().mean().item()
                stats[key][name] = s
    return stats


def most_active_units(c: Tensor, top: int = 5) -> list[int]:
    """Units whose cell state moves most over time: ``c [T, H]`` -> indices by std, largest first;
    of one step (a 1-token text: every std 0, the first units came out, whatever they held), by |c|."""
    c = c.double()
    return torch.argsort(c.std(dim=0, unbiased=False) if len(c) > 1 else c.abs().sum(0), descending=True)[:top].tolist()


def plot_gates(result: dict[str, Any], path: str | Path, sample: int = 0, top: int = 5,
               title: str | None = None, steps: list[str] | None = None, axis: str | None = None) -> None:
    """One row per layer (and direction): heatmaps of i, f, g, o (a GRU's r, z, n; units × time)
    for one sample, then the cell-state (a GRU's hidden-state) trajectories of the ``top`` most
    active units; ``steps`` names the time steps (a text's tokens, a window's time stamps) on the x
    axis, of more than 40 every k-th (a 168-hour window's axis read 0 … 160 under 'time'), ``axis``
    says what a step is (default 'token' for named steps, else 'time step'; a dimension-shuffled LSTM's,
    ``result["steps_over"]``, 'variable', each step reading all its time points at once). Units and steps are
    whole numbers on the axes (a 1-unit layer's read -0.4, -0.2, 0.0 …), and up to 40 steps each
    point of a trajectory is a dot (a 1-token text's trajectories, lines of one point, were drawn as
    nothing)."""
    from lstmkit.inspect.plots import figure_format, key_beside, save_figure, subplots

    figure_format(path)                         # a suffix no plot can have: said before a large plot is drawn
    rec, D = result["gates"], result["directions"]
    n_valid = int(result["valid"][sample].sum())
    maps, state = [n for n in rec if n not in _STATE], next(n for n in rec if n in _STATE)
    rows, cols = rec[state].shape[0], len(maps) + 1
    if axis is None and result.get("steps_over") == "variables":
        axis = f"variable (one step each, reading {result['step_reads']} time points at once)"
    # constrained: tight_layout left the suptitle over the first row's titles from 3 rows (a 2-layer bilstm's) on
    fig, axes = subplots(rows, cols, figsize=(17, 2.8 * rows + 0.6), squeeze=False, layout="constrained")
    from matplotlib.ticker import MaxNLocator          # after subplots(), which imports matplotlib quietly
    for k in range(rows):
        label = f"layer {k // D}" + (" (reverse)" if k % D else "")
        for j, name in enumerate(maps):
            values = rec[name][k, sample, :n_valid].T.numpy()                  # [H, T]
            lo = -1.0 if name in _TANH else 0.0
            im = axes[k, j].imshow(values, aspect="auto", cmap="coolwarm" if name in _TANH else "viridis",
                                   vmin=lo, vmax=1.0, interpolation="nearest")
            axes[k, j].set_title(f"{label}: {name}")
            _name_steps(axes[k, j], steps, n_valid, axis)
            axes[k, j].set_ylabel("unit")
            axes[k, j].yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            fig.colorbar(im, ax=axes[k, j], fraction=0.046,
                         label="candidate (tanh, -1 to 1)" if name in _TANH else "gate (sigmoid, 0 to 1)")
        c = rec[state][k, sample, :n_valid]                                    # [T, H]
        ax = axes[k, cols - 1]
        dots = dict(marker="o", ms=2.5) if n_valid <= NAMED_STEPS else {}
        for unit in most_active_units(c, top):
            ax.plot(c[:, unit].numpy(), lw=1.2, label=f"unit {unit}", **dots)
        shown = min(top, c.shape[1])           # "5 most active units" of a 4-unit layer named one too many
        kind = "cell" if state == "c" else "hidden"
        # titled as the heatmaps are, the units named over their key: 'layer 0 (reverse): cell state c, 5 most
        # active units' ran past the panel on both sides, over the next panel's colour bar
        ax.set_title(f"{label}: {state}")
        ax.set_ylabel(f"{kind} state {state}")
        _name_steps(ax, steps, n_valid, axis)
        key_beside(ax, fontsize=7, title_fontsize=7, title=f"{shown} most active units" if shown < c.shape[1]
                   else f"all {shown} unit{'s' if shown > 1 else ''}")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    save_figure(fig, Path(path))


NAMED_STEPS = 40            # up to this many steps each is named on the axis (of more, every k-th), a trajectory's points dotted


def _name_steps(ax, steps: list[str] | None, n: int, axis: str | None = None) -> None:
    if steps is not None and n > 0:
        from lstmkit.inspect.plots import names_that_fit
        ax.set_xticks(*names_that_fit(ax, steps[:n], "x", 7, NAMED_STEPS), rotation=90, fontsize=7)
        ax.set_xlabel(axis or "token")
    else:
        from matplotlib.ticker import MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=1))
        ax.set_xlabel(axis or "time step")
