"""``lstmkit inspect gates | attention --run RUN --data F [--window N] [--out DIR]``; ``inspect gates --run RUN
--text '…'`` for a text classifier, a language model or a translator (its encoder's gates over the
source, its decoder's over the translation), ``inspect gates --run RUN --audio clip.wav`` for a
speech run (its acoustic model's recurrent layer over the recording's frames). The files go into the
run folder, or into ``--out DIR`` (a read-only run folder: a deployed model's)."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from lstmkit.data.vocab import UNK_ID
from lstmkit.errors import LstmkitError
from lstmkit.files import check_writable
from lstmkit.loading import load
from lstmkit.runs import check_out_folder, read_meta, write_json

__all__ = ["app", "run_window", "text_tokens", "audio_features"]

app = typer.Typer(help="Look inside a trained model: LSTM gates, attention weights.", no_args_is_help=True,
                  add_completion=False)

_RUN = typer.Option(..., help="Run folder from 'train'.")
_DATA = typer.Option(..., help="Data to take the input window from (same columns as in training).")
_TEXT_HELP = ("A text classifier's, language model's or translator's run: the text whose tokens the gates read "
              "(quote it; a translator's source sentence).")
_AUDIO_HELP = "A speech run: the audio file (WAV) whose frames the gates read."
_WINDOW = typer.Option(-1, help="Which input window: 0 = the first `lookback` rows, -1 = the last.")
_OUT_HELP = "Folder that receives the files instead of the run folder (created when missing)."


def run_window(run: Path, data: Path, window: int, command: str = "gates"):
    """Load the run's estimator and return it with input window ``window`` of ``data`` [T, F].

    Any task's estimator can be inspected when it offers ``model_inputs(data)``: the scaled
    ``[N, F]`` sequence its network reads, cut here into windows of its ``config_.lookback``.
    """
    est = _load(run, command)
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
    """The run's estimator, and the tokens and ids it reads of ``text`` (text classifiers, language
    models, translators)."""
    est = _load(run, "gates")
    if not _reads_text(est):
        raise LstmkitError(f"--text reads a text classifier's, a language model's or a translator's run; this is "
                           f"{_what_run(run, est)}", _other_way(run, est, "gates"))
    tokens, ids = est.token_inputs(text)
    unknown = [t for t, i in zip(tokens, ids) if i == UNK_ID]
    if unknown and len(unknown) == len(tokens) - (tokens[0] == "<s>"):    # a language model's <s> is known
        shown = ", ".join(repr(t) for t in dict.fromkeys(unknown[:5]))
        raise LstmkitError(f"none of the tokens of --text is in the run's vocabulary ({shown}): the network would "
                           "read <unk> at every step, whatever the text", "pass words of the training texts")
    return est, tokens, ids


def audio_features(run: Path, audio: Path):
    """The run's estimator, and the normalised features ``[T, F]`` its network reads of ``audio`` (speech)."""
    est = _load(run, "gates")
    if not hasattr(est, "audio_inputs"):
        raise LstmkitError(f"--audio reads a speech run's recording; this is {_what_run(run, est)}",
                           _other_way(run, est, "gates"))
    return est, est.audio_inputs(audio)


def _load(run: Path, command: str):
    """The run's estimator; an int8 run (`lstmkit export int8`) is sent to its float run, whose
    LSTM records gates (the quantized one said "the model (lstm) has no LSTM layer")."""
    source = (read_meta(run).get("quantization") or {}).get("source_run")
    if source is not None:
        raise LstmkitError(f"{run} is an int8 run (`lstmkit export int8`): its quantized layers record no "
                           f"{command}", f"inspect the float run it was exported from: lstmkit inspect {command} "
                           f"--run {shlex.quote(str(source))} ...")
    return load(run)


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
        return "pass --data with the run's data instead"
    if command == "gates" and _reads_text(est):
        return f"pass --text '…' instead: lstmkit inspect gates --run {run} --text 'a few words'"
    if command == "gates" and hasattr(est, "audio_inputs"):
        return f"pass --audio instead: lstmkit inspect gates --run {run} --audio clip.wav"
    if _reads_text(est) and hasattr(est, "write_attention"):
        return f"attention pooling's token weights: lstmkit classify attention --run {run} --text '…'"
    if hasattr(est, "output_tokens") and hasattr(est, "attention"):
        return (f"training drew the attention over a validation sentence: {run / 'plots' / 'attention.png'}; "
                f"in Python: lstmkit.load('{run}').attention('a sentence')")
    shown = ("the command line shows forecast runs' gates and attention (--data), text runs' gates (--text) and "
             "speech runs' gates (--audio)")
    if getattr(est, "kind", None) == "series":
        return (f"{shown}; in Python: lstmkit.inspect.{command}(lstmkit.load('{run}'), x) with x [T, F] "
                "scaled as training scaled it")
    return f"{shown}; a {read_meta(run)['task']} run's are not shown yet"


def _folders(run: Path, out: Optional[Path], command: str, json: bool = True) -> tuple[Path, Path]:
    """``(folder of the plots, folder of the JSON)``: RUN/plots and RUN, or --out for both. Refused
    before the work when they cannot be written (``json``: the JSON is written too): a read-only run
    folder was said only after the work, and no other place could be named."""
    if out is not None:
        check_out_folder(out)                   # a file in the way, a name too long
        folders, fix = (out, out), "pass a writable --out folder and run the command again"
    else:
        folders = (run / "plots", run)
        fix = f"pass --out FOLDER you can write to (the {command} files go there instead) and run the command again"
    for folder in dict.fromkeys(folders if json else folders[:1]):
        check_writable(folder, f"the {command} files", fix)
    return folders


def _inputs(run: Path, data, text, audio, window: int):
    """``(estimator, network input, lengths, where, step names, gates.json's record)`` for the one input given."""
    import torch
    if text is not None:
        est, tokens, ids = text_tokens(run, text)
        unknown = [k for k, (t, i) in enumerate(zip(tokens, ids)) if i == UNK_ID and t != "<unk>"]
        steps = [f"{t} (<unk>)" if k in unknown else t for k, t in enumerate(tokens)]   # what the network read
        return (est, torch.tensor([ids]), torch.tensor([len(ids)]), f"'{text[:40]}'", steps,
                {"tokens": tokens, **({"unknown": unknown} if unknown else {})})
    if audio is not None:
        est, x = audio_features(run, audio)
        return est, x, torch.tensor([len(x)]), audio.name, None, {"audio": str(audio), "feature_frames": len(x)}
    est, x, start = run_window(run, data, window)
    return est, x, None, f"the window starting at row {start}", None, {"window_start": start, "lookback": len(x)}


def _summary(result: dict) -> dict:
    return {"layers": result["layers"], "directions": result["directions"], "hidden_size": result["hidden_size"],
            "stats": result["stats"]}


def _echo_stats(stats: dict, part: str = "") -> None:
    width = 12 + len(part)
    typer.echo(f"{part + 'layer':<{width}}{'gate':<6}{'mean':>8}{'>0.9':>8}{'<0.1':>8}")
    for layer, per_gate in stats.items():
        for name, s in per_gate.items():
            if name == "g":       # tanh, in [-1, 1]: '<0.1' counted every negative value as a closed gate
                typer.echo(f"{part + layer:<{width}}{'|g|':<6}{s['mean']:>8.3f}{s['frac_abs_above_0.9']:>8.3f}"
                           f"{s['frac_abs_below_0.1']:>8.3f}")
            elif name != "c":
                typer.echo(f"{part + layer:<{width}}{name:<6}{s['mean']:>8.3f}{s['frac_above_0.9']:>8.3f}"
                           f"{s['frac_below_0.1']:>8.3f}")
    typer.echo("(|g|: the tanh candidate g is in [-1, 1]; its mean is of g, its shares of |g|)")


@app.command("gates")
def gates_command(run: Path = _RUN, data: Optional[Path] = typer.Option(None, help=_DATA.help),
                  text: Optional[str] = typer.Option(None, help=_TEXT_HELP),
                  audio: Optional[Path] = typer.Option(None, help=_AUDIO_HELP), window: int = _WINDOW,
                  top: int = typer.Option(5, help="Cell-state trajectories of this many most active units."),
                  out: Optional[Path] = typer.Option(None, help=_OUT_HELP)):
    """Record i, f, g, o, c for one window (--data), one text (--text) or one recording (--audio):
    plots/gates.png and gates.json in the run folder (a translator adds plots/decoder_gates.png),
    or gates.png and gates.json in --out."""
    from lstmkit.inspect.gates import decoder_gates, gates, plot_gates
    if top < 1:
        raise LstmkitError(f"--top must be at least 1, got {top}", "pass --top 5, say")
    given = [flag for flag, value in (("--data", data), ("--text", text), ("--audio", audio)) if value is not None]
    if len(given) != 1:
        several = "both" if len(given) == 2 else "all three"
        raise LstmkitError("pass either --data (a forecast run's window), --text (a text classifier's, a language "
                           "model's or a translator's tokens) or --audio (a speech run's recording)" if not given
                           else f"pass one of {' and '.join(given)}, not {several}",
                           f"e.g. lstmkit inspect gates --run {run} --text 'a wonderful film'")
    est, x, lengths, where, steps, record = _inputs(run, data, text, audio, window)
    plots, folder = _folders(run, out, "gates")
    result = gates(est, x, lengths)
    if audio is not None:
        record["frames"] = int(result["valid"][0].sum())         # the frames the LSTM reads, after subsampling
    first = f" of the first of {result['members']} ensemble members" if result["members"] > 1 else ""
    name = getattr(est.config_, "model", None) or type(est).__name__
    # gates.json is written last, as the mark of a whole inspection: a former one goes first, so that Ctrl-C
    # among the plots (a translator's decoder is a second pass) never leaves them beside another input's numbers
    (folder / "gates.json").unlink(missing_ok=True)
    plot_gates(result, plots / "gates.png", top=top, steps=steps,
               title=f"{name}: {'encoder ' if hasattr(est, 'output_tokens') else ''}gates{first} for {where}")
    decoder, written = None, [plots / "gates.png"]
    if text is not None and hasattr(est, "output_tokens"):          # a translator: its decoder writing the output
        out_tokens, out_ids = est.output_tokens(text)
        decoder = decoder_gates(est, x, out_ids)
        written.append(plots / "decoder_gates.png")
        plot_gates(decoder, written[-1], top=top, steps=out_tokens,
                   title=f"decoder gates writing '{' '.join(out_tokens)[:60]}' for {where}")
        decoder = {"tokens": out_tokens, **_summary(decoder)}
    write_json(folder / "gates.json", {**record, **_summary(result), "member": 0, "members": result["members"],
                                    **({"decoder": decoder} if decoder else {})})
    if first:
        typer.echo(f"gates{first} (the others differ by their initial weights)")
    if record.get("unknown"):
        words = ", ".join(repr(record["tokens"][k]) for k in record["unknown"][:5])
        typer.echo(f"{len(record['unknown'])} of {len(record['tokens'])} tokens are not in the run's vocabulary "
                   f"({words}): the network read <unk> for them, marked so in the plot")
    _echo_stats(result["stats"], "encoder " if decoder else "")
    if decoder:
        _echo_stats(decoder["stats"], "decoder ")
    typer.echo(f"wrote {', '.join(map(str, written))} and {folder / 'gates.json'}")


@app.command("attention")
def attention_command(run: Path = _RUN, data: Path = _DATA, window: int = _WINDOW,
                      out: Optional[Path] = typer.Option(None, help=_OUT_HELP)):
    """Attention weights of an lstm-attention model for one window: plots/attention.png in the run
    folder, or attention.png in --out."""
    from lstmkit.inspect.attention import attention, plot_attention
    est, x, start = run_window(run, data, window, "attention")
    path = _folders(run, out, "attention", json=False)[0] / "attention.png"
    weights = attention(est, x)
    plot_attention(weights, path,
                   title=f"{est.config_.model}: attention for the window starting at row {start}")
    last = weights[0, :, -1].mean(0).numpy()          # where the last step (the summary) looks
    top = np.argsort(last)[::-1][:5]
    typer.echo("the last step attends most to steps " + ", ".join(f"{t} ({last[t]:.2f})" for t in top))
    typer.echo(f"wrote {path}")
