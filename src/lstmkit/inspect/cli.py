"""``lstmkit inspect gates | attention --run RUN --data F [--window N]``; ``inspect gates --run RUN
--text '…'`` for a text classifier or a language model."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from lstmkit.errors import LstmkitError
from lstmkit.loading import load
from lstmkit.runs import read_meta, write_json

__all__ = ["app", "run_window"]

app = typer.Typer(help="Look inside a trained model: LSTM gates, attention weights.", no_args_is_help=True,
                  add_completion=False)

_RUN = typer.Option(..., help="Run folder from 'train'.")
_DATA = typer.Option(..., help="Data to take the input window from (same columns as in training).")
_TEXT_HELP = "A text classifier's or language model's run: the text whose tokens the gates read (quote it)."
_WINDOW = typer.Option(-1, help="Which input window: 0 = the first `lookback` rows, -1 = the last.")


def run_window(run: Path, data: Path, window: int, command: str = "gates"):
    """Load the run's estimator and return it with input window ``window`` of ``data`` [T, F].

    Any task's estimator can be inspected when it offers ``model_inputs(data)``: the scaled
    ``[N, F]`` sequence its network reads, cut here into windows of its ``config_.lookback``.
    """
    est = load(run)
    if not hasattr(est, "model_inputs"):
        raise LstmkitError(f"--data windows are a forecast run's; this is {_what_run(run, est)}",
                           _other_way(run, est, command))
    inputs = est.model_inputs(str(data))                      # scaled, as the network sees them [N, F]
    lookback = est.config_.lookback
    n = len(inputs) - lookback + 1
    if n < 1:
        raise LstmkitError(f"the data has {len(inputs)} rows, fewer than the lookback ({lookback})",
                           "pass more rows")
    if not -n <= window < n:
        raise LstmkitError(f"--window {window} is out of range for {n} windows", f"use 0..{n - 1} or -1..-{n}")
    start = window % n
    return est, inputs[start:start + lookback], start


def text_tokens(run: Path, text: str):
    """The run's estimator, and the tokens and ids it reads of ``text`` (text classifiers, language models)."""
    est = load(run)
    if not _reads_text(est):
        raise LstmkitError(f"--text reads a text classifier's or a language model's run; this is {_what_run(run, est)}",
                           _other_way(run, est, "gates"))
    return (est, *est.token_inputs(text))


def _reads_text(est) -> bool:
    return hasattr(est, "token_inputs") and getattr(est, "kind", "text") == "text"


def _what_run(run: Path, est) -> str:
    task = read_meta(run)["task"]
    kind = {"text": " of texts", "series": " of numeric sequences"}.get(getattr(est, "kind", None), "")
    return f"a {task} run{kind}"


def _other_way(run: Path, est, command: str) -> str:
    """What shows this run's insides instead (each way named once: a forecast run's --data and a
    text run's --text no longer send the other kinds of run from one to the other)."""
    if hasattr(est, "model_inputs"):
        return "pass --data with the run's data instead of --text"
    if _reads_text(est) and command == "gates":
        return f"pass --text '…' instead: lstmkit inspect gates --run {run} --text 'a few words'"
    if _reads_text(est) and hasattr(est, "attention"):
        return f"attention pooling's token weights: lstmkit classify attention --run {run} --text '…'"
    shown = "the command line shows forecast runs' gates and attention (--data) and text runs' gates (--text)"
    if getattr(est, "kind", None) == "series":
        return (f"{shown}; in Python: lstmkit.inspect.{command}(lstmkit.load('{run}'), x) with x [T, F] "
                "scaled as training scaled it")
    return f"{shown}; a {read_meta(run)['task']} run's are not shown yet"


@app.command("gates")
def gates_command(run: Path = _RUN, data: Optional[Path] = typer.Option(None, help=_DATA.help),
                  text: Optional[str] = typer.Option(None, help=_TEXT_HELP), window: int = _WINDOW,
                  top: int = typer.Option(5, help="Cell-state trajectories of this many most active units.")):
    """Record i, f, g, o, c for one window (--data) or one text (--text): plots/gates.png and
    gates.json in the run folder."""
    import torch

    from lstmkit.inspect.gates import gates, plot_gates
    if top < 1:
        raise LstmkitError(f"--top must be at least 1, got {top}", "pass --top 5, say")
    if (data is None) == (text is None):
        raise LstmkitError("pass either --data (a forecast run's window) or --text (a text classifier's or a "
                           "language model's tokens)" if data is None else "pass --data or --text, not both",
                           f"e.g. lstmkit inspect gates --run {run} --text 'a wonderful film'")
    if text is not None:
        est, tokens, ids = text_tokens(run, text)
        result = gates(est, torch.tensor([ids]), torch.tensor([len(ids)]))
        where, steps, record = f"'{text[:40]}'", tokens, {"tokens": tokens}
    else:
        est, x, start = run_window(run, data, window)
        result = gates(est, x)
        where, steps, record = f"the window starting at row {start}", None, {"window_start": start, "lookback": len(x)}
    first = f" of the first of {result['members']} ensemble members" if result["members"] > 1 else ""
    plot_gates(result, run / "plots" / "gates.png", top=top, steps=steps,
               title=f"{getattr(est.config_, 'model', None) or type(est).__name__}: gates{first} for {where}")
    write_json(run / "gates.json", {**record, "layers": result["layers"], "directions": result["directions"],
                                    "hidden_size": result["hidden_size"], "member": 0, "members": result["members"],
                                    "stats": result["stats"]})
    if first:
        typer.echo(f"gates{first} (the others differ by their initial weights)")
    typer.echo(f"{'layer':<12}{'gate':<6}{'mean':>8}{'>0.9':>8}{'<0.1':>8}")
    for layer, per_gate in result["stats"].items():
        for name, s in per_gate.items():
            if name != "c":
                typer.echo(f"{layer:<12}{name:<6}{s['mean']:>8.3f}{s['frac_above_0.9']:>8.3f}"
                           f"{s['frac_below_0.1']:>8.3f}")
    typer.echo(f"wrote {run / 'plots' / 'gates.png'} and {run / 'gates.json'}")


@app.command("attention")
def attention_command(run: Path = _RUN, data: Path = _DATA, window: int = _WINDOW):
    """Attention weights of an lstm-attention model for one window: plots/attention.png."""
    from lstmkit.inspect.attention import attention, plot_attention
    est, x, start = run_window(run, data, window, "attention")
    weights = attention(est, x)
    plot_attention(weights, run / "plots" / "attention.png",
                   title=f"{est.config_.model}: attention for the window starting at row {start}")
    last = weights[0, :, -1].mean(0).numpy()          # where the last step (the summary) looks
    top = np.argsort(last)[::-1][:5]
    typer.echo("the last step attends most to steps " + ", ".join(f"{t} ({last[t]:.2f})" for t in top))
    typer.echo(f"wrote {run / 'plots' / 'attention.png'}")
