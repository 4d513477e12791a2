"""``lstmkit inspect gates | attention --run RUN --data F [--window N] [--out DIR]``; ``inspect gates --run RUN
--text '…'`` for a text classifier, a language model or a translator (its encoder's gates over the
source, its decoder's over the translation), ``inspect gates --run RUN --audio clip.wav`` for a
speech run (its acoustic model's recurrent layer over the recording's frames). The files go into the
run folder, or into ``--out DIR`` (a read-only run folder: a deployed model's)."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, NamedTuple, Optional

import numpy as np
import typer

from lstmkit.data.vocab import UNK_ID
from lstmkit.errors import LstmkitError
from lstmkit.files import check_writable
from lstmkit.loading import load
from lstmkit.runs import check_out_folder, read_meta, write_json

__all__ = ["app", "run_window", "window_steps", "Window", "text_tokens", "audio_features"]

app = typer.Typer(help="Look inside a trained model: LSTM gates, attention weights.", no_args_is_help=True,
                  add_completion=False)

_RUN = typer.Option(..., help="Run folder from 'train'.")
_DATA = typer.Option(..., help="Data to take the input window from (same columns as in training).")
_TEXT_HELP = ("A text classifier's, language model's or translator's run: the text whose tokens the gates read "
              "(quote it; a translator's source sentence).")
_AUDIO_HELP = "A speech run: the audio file (WAV) whose frames the gates read."
_WINDOW = typer.Option(None, help="Which input window of --data: 0 = the first `lookback` rows, -1 = the last "
                                   "(a sequence classifier's: its sequences, 0 = the first).  [default: -1]")
_OUT_HELP = "Folder that receives the files instead of the run folder (created when missing)."


class Window(NamedTuple):
    """One input window of a forecast run's data (:func:`run_window`)."""
    est: Any                    # the run's estimator
    x: np.ndarray               # [L, F] the scaled rows the network reads
    start: int                  # its first row, of the series as read (sorted by time)
    series: Any                 # the id of the data's series (a forecaster's id_embedding reads it), or None
    times: list[str] | None     # [L] the rows' time stamps, None without a time column


def run_window(run: Path, data: Path, window: int, command: str = "gates", est: Any = None) -> Window:
    """Load the run's estimator (unless given, ``est``) and return it with input window ``window`` of
    ``data`` [T, F].

    Any task's estimator can be inspected when it offers ``model_inputs(data)``: the scaled
    ``[N, F]`` sequence its network reads, cut here into windows of its ``config_.lookback``.
    """
    est = _load(run, command) if est is None else est
    if not hasattr(est, "model_inputs"):
        raise LstmkitError(f"--data windows are a forecast run's; this is {_what_run(run, est)}",
                           _other_way(run, est, command))
    series = est.one_series(str(data)) if hasattr(est, "one_series") else None
    inputs = est.model_inputs(series if series is not None else str(data))    # scaled, as the network sees them [N, F]
    lookback = est.config_.lookback
    n = len(inputs) - lookback + 1
    if n < 1:
        raise LstmkitError(f"the data has {len(inputs)} rows, fewer than the lookback ({lookback})",
                           "pass more rows")
    if not -n <= window < n:
        raise LstmkitError(f"--window {window} is out of range for {n} windows", f"use 0..{n - 1} or -1..-{n}")
    start = window % n
    times = None if series is None else est.series_times(series)        # in the run's zone, as predict gives them
    return Window(est, inputs[start:start + lookback], start, None if series is None else series.ids[0],
                  None if times is None else _stamps(times[start:start + lookback]))


class Sample(NamedTuple):
    """One sequence of a sequence classifier's data (:func:`run_sample`)."""
    est: Any                    # the run's estimator
    x: np.ndarray               # [T, F] the scaled steps the network reads (cut as predict cuts them)
    index: int                  # its place among the data's sequences, from 0 (--window's)
    count: int                  # the data's sequences
    sample: str | None          # its id (a long table's sample column, a wide one's id column), else None
    label: str | None           # its label, when the data has labels


def run_sample(est, data: Path, window: int) -> Sample:
    """Sequence ``window`` of ``data`` (0 = the first, -1 = the last) as a sequence classifier's
    network reads it (``est.series_inputs``): ``inspect gates | attention --data`` of a ``classify train
    --series`` run."""
    seqs, d = est.series_inputs(str(data))
    n = len(seqs)
    if not -n <= window < n:
        raise LstmkitError(f"--window {window} is out of range for the {n} sequences of {data}",
                           f"use 0..{n - 1} or -1..-{n}")
    k = window % n
    return Sample(est, seqs[k], k, n, None if d.ids is None else str(d.ids[k]),
                  None if d.labels is None else str(d.labels[k]))


def sample_where(s: Sample) -> str:
    """What a plot's title calls sequence ``s``: its sample id, else its place; and its label."""
    where = f"sample {s.sample!r}" if s.sample is not None else f"sequence {s.index + 1} of {s.count}"
    return where + (f" (labelled {s.label!r})" if s.label is not None else "")


def _data_input(run: Path, data: Path, window: int, command: str) -> Window | Sample:
    """Window ``window`` of a forecast run's ``data`` (:func:`run_window`), or a sequence classifier's
    sequence ``window`` (:func:`run_sample`)."""
    est = _load(run, command)
    if hasattr(est, "series_inputs"):
        return run_sample(est, data, window)
    return run_window(run, data, window, command, est)


def _stamps(times) -> list[str]:
    """Time stamps as short as they can be written: dates alone at midnight, no seconds when there are none, a
    zone's offset only where its clock shows an hour twice."""
    import pandas as pd
    if not isinstance(times, pd.DatetimeIndex):
        return [str(t) for t in times]
    if (times == times.normalize()).all():
        shown = list(times.strftime("%Y-%m-%d"))
    elif ((times.second == 0) & (times.microsecond == 0)).all():
        shown = list(times.strftime("%Y-%m-%d %H:%M"))
    else:       # whole seconds drop '.000000' (00:00:10), 0.5 s steps keep their fraction (00:00:00.5)
        shown = [s.rstrip("0").rstrip(".") for s in times.strftime("%Y-%m-%d %H:%M:%S.%f")]
    if times.tz is None or len(set(shown)) == len(shown):
        return shown
    # the hour a zone's clock shows twice when it goes back, told apart by each time's offset
    return [s + o[:3] + ":" + o[3:] for s, o in zip(shown, times.strftime("%z"))]


def _of_panel(w: Window) -> bool:
    """Whether ``w``'s run was trained on several series (its series is worth naming)."""
    return w.series is not None and len(getattr(w.est, "series_ids_", ())) > 1


def window_steps(w: Window) -> tuple[list[str] | None, str, str]:
    """``(step names, x axis label, where)`` of window ``w``'s network steps: each named by its time stamp;
    a run with ``segment`` S reads the window S rows a step, each step named by its first row's stamp
    (its gates were drawn on an axis 'time step' 0, 1, 2 of a 12-row window, read as its first 3 rows)."""
    segment = getattr(w.est.config_, "segment", None) or 1
    last = w.start + len(w.x) - 1
    rows = f"rows {w.start}–{last}" + (f" of series {w.series!r}" if _of_panel(w) else "")
    where = f"the window {w.times[0]} to {w.times[-1]} ({rows})" if w.times else f"the window of {rows}"
    names = None if w.times is None else w.times[::segment]
    if segment > 1:
        return names, f"segment of {segment} rows" + (" (its first row's time)" if names else ""), where
    return names, "time" if names else "time step (row of the window)", where


def _shuffled_steps(est, length: int, reads: int, where: str) -> tuple[list[str], str, str, dict]:
    """``(step names, x axis label, where, gates.json's record)`` of an LSTM-FCN's gates (``lstm-fcn-ds``): it
    reads a sequence with time and features swapped (the "dimension shuffle"), so its LSTM takes one step per
    variable, each step reading the sequence's time points at once (their gates were drawn over 'time step' 0,
    the one step of a univariate series, as if the LSTM had read its first time point alone)."""
    first, count = est.net_.lstm_window(length)
    names = [str(n) for n in est.feature_names_] or [f"feature {j}" for j in range(est.n_features_in_)]
    crop, crops = getattr(est.config_, "crop", 1.0), getattr(est.config_, "crops", 1)
    share = f"window of {crop * 100:g} % of the sequence"
    window = ("" if crop == 1 else f" (the first {share} of the {crops} it averages)" if crops > 1
              else f" (its one {share}, the middle)")
    padded = f" and {reads - count} zeros" if count < reads else ""
    points = f"time points {first}–{first + count - 1}" if count > 1 else f"time point {first}"
    many = f"{len(names)} variables" if len(names) > 1 else "one variable"
    where = (f"{where}\nits LSTM steps over the {many} (dimension shuffle), each step reading {points}{padded} at "
             f"once{window}")
    return (names, f"variable (each step reads\n{count} time points at once)", where,
            {"steps_over": "variables", "time_points": [first, first + count - 1]})


def text_tokens(run: Path, text: str, command: str = "gates"):
    """The run's estimator, and the tokens and ids it reads of ``text`` (text classifiers, language
    models, translators)."""
    est = _load(run, command)
    if not _reads_text(est):
        raise LstmkitError(f"--text reads a text classifier's, a language model's or a translator's run; this is "
                           f"{_what_run(run, est)}", _other_way(run, est, command))
    tokens, ids = est.token_inputs(text)
    unknown = [t for t, i in zip(tokens, ids) if i == UNK_ID]
    if unknown and len(unknown) == len(tokens) - (tokens[0] == "<s>"):    # a language model's <s> is known
        shown = ", ".join(repr(t) for t in dict.fromkeys(unknown[:5]))
        raise LstmkitError(f"none of the tokens of --text is in the run's vocabulary ({shown}): the network would "
                           "read <unk> at every step, whatever the text", "pass words of the training texts")
    return est, tokens, ids


def audio_features(run: Path, audio: Path, command: str = "gates"):
    """The run's estimator, and the normalised features ``[T, F]`` its network reads of ``audio`` (speech)."""
    est = _load(run, command)
    if not hasattr(est, "audio_inputs"):
        raise LstmkitError(f"--audio reads a speech run's recording; this is {_what_run(run, est)}",
                           _other_way(run, est, command))
    return est, est.audio_inputs(audio)


def model_frames(est, count: int) -> tuple[list[str], float]:
    """``(the second each of ``count`` frames of a speech model starts at, the ms between frames)``: a frame
    after the model's subsampling spans 2^subsample feature hops (40 ms of 10 ms hops at the default 2)."""
    ms = est.config_.hop_ms * 2 ** est.config_.subsample
    return [f"{k * ms / 1000:.2f}" for k in range(count)], ms


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
    if hasattr(est, "model_inputs") or hasattr(est, "series_inputs"):      # a forecaster's, a sequence classifier's
        return "pass --data with the run's data instead"
    if _reads_text(est) and (command == "gates" or not hasattr(est, "output_tokens")):   # a translator's: below
        return f"pass --text '…' instead: lstmkit inspect {command} --run {run} --text 'a few words'"
    if hasattr(est, "audio_inputs"):
        return f"pass --audio instead: lstmkit inspect {command} --run {run} --audio clip.wav"
    if hasattr(est, "output_tokens"):                # a translator (--text, above, for its gates)
        return (f"training drew the attention over a validation sentence: {run / 'plots' / 'attention.png'}; "
                f"in Python: lstmkit.load('{run}').attention('a sentence')")
    shown = ("the command line shows forecast runs' and sequence classifiers' gates and attention (--data), text "
             "runs' (--text) and speech runs' (--audio)")
    return f"{shown}; a {read_meta(run)['task']} run's are not shown yet"


def _folders(run: Path, out: Optional[Path], command: str, json: bool = True) -> tuple[Path, Path]:
    """``(folder of the plots, folder of the JSON)``: RUN/plots and RUN, or --out for both. Refused
    before the work when they cannot be written (``json``: the JSON is written too): a read-only run
    folder was said only after the work, and no other place could be named."""
    if out is not None:
        check_out_folder(out)                   # a file in the way, a name too long
        if out.suffix.lower() in (".png", ".svg", ".pdf", ".json") and not out.is_dir():
            # a file's name: the files went into a new folder named 'x.svg', the plot a PNG inside it
            files = f"{command}.png and {command}.json go" if json else f"{command}.png goes"
            raise LstmkitError(f"--out {out} names a file, but {command} writes a folder: {files} inside it",
                               f"pass a folder: --out {out.with_suffix('')}")
        folders, fix = (out, out), "pass a writable --out folder and run the command again"
    else:
        folders = (run / "plots", run)
        fix = f"pass --out FOLDER you can write to (the {command} files go there instead) and run the command again"
    for folder in dict.fromkeys(folders if json else folders[:1]):
        check_writable(folder, f"the {command} files", fix)
    return folders


def _inputs(run: Path, data, text, audio, window: int):
    """``(estimator, network input, lengths, where, step names, x axis label, gates.json's record)`` for the one
    input given."""
    import torch
    if text is not None:
        est, tokens, ids = text_tokens(run, text)
        unknown = [k for k, (t, i) in enumerate(zip(tokens, ids)) if i == UNK_ID and t != "<unk>"]
        steps = [f"{_visible(t)} (<unk>)" if k in unknown else _visible(t)                # what the network read
                 for k, t in enumerate(tokens)]
        return (est, torch.tensor([ids]), torch.tensor([len(ids)]), _quoted(text), steps, "token",
                {"tokens": tokens, **({"unknown": unknown} if unknown else {})})
    if audio is not None:
        est, x = audio_features(run, audio)
        seconds, ms = model_frames(est, len(x))
        return (est, x, torch.tensor([len(x)]), audio.name, seconds, f"seconds (a frame every {ms:g} ms)",
                {"audio": str(audio), "feature_frames": len(x)})
    w = _data_input(run, data, window, "gates")
    if isinstance(w, Sample):
        return (w.est, w.x, None, sample_where(w), None, "time step",
                {"window": w.index, "sequences": w.count, **({"sample": w.sample} if w.sample is not None else {}),
                 **({"label": w.label} if w.label is not None else {})})
    steps, axis, where = window_steps(w)
    return w.est, w.x, None, where, steps, axis, {"window_start": w.start, "lookback": len(w.x),
                                           **({"series": w.series} if _of_panel(w) else {}),
                                           **({"window_times": [w.times[0], w.times[-1]]} if w.times else {})}


def _quoted(text: str, most: int = 40) -> str:
    """``text`` in quotes for a plot's title, its first ``most`` characters and '…' when it goes on (a title
    that stopped at 'which runs for well over two' read as if the text did)."""
    text = " ".join(text.split())
    return f"'{text}'" if len(text) <= most else f"'{text[:most].rstrip()}…'"


_WHITESPACE = {" ": "␣", "\n": "↵", "\t": "⇥"}


def _visible(token: str) -> str:
    """A token of white space as signs (a character model's space, line break, tab): as itself its
    column's name on the plot's axis was blank, as if the column had none."""
    return "".join(_WHITESPACE.get(c, "␣") for c in token) if token.isspace() else token


def _summary(result: dict) -> dict:
    return {"cell": result["cell"], "layers": result["layers"], "directions": result["directions"],
            "hidden_size": result["hidden_size"], "stats": result["stats"]}


def _echo_stats(stats: dict, part: str = "") -> None:
    width = 12 + len(part)
    typer.echo(f"{part + 'layer':<{width}}{'gate':<6}{'mean':>8}{'>0.9':>8}{'<0.1':>8}")
    candidate = "g"
    for layer, per_gate in stats.items():
        for name, s in per_gate.items():
            if name in ("g", "n"):      # tanh, in [-1, 1]: '<0.1' counted every negative value as a closed gate
                candidate = name        # a GRU's is n
                typer.echo(f"{part + layer:<{width}}{f'|{name}|':<6}{s['mean']:>8.3f}{s['frac_abs_above_0.9']:>8.3f}"
                           f"{s['frac_abs_below_0.1']:>8.3f}")
            elif name not in ("c", "h"):
                typer.echo(f"{part + layer:<{width}}{name:<6}{s['mean']:>8.3f}{s['frac_above_0.9']:>8.3f}"
                           f"{s['frac_below_0.1']:>8.3f}")
    typer.echo(f"(|{candidate}|: the tanh candidate {candidate} is in [-1, 1]; its mean is of {candidate}, "
               f"its shares of |{candidate}|)")


def _one_input(data, text, audio, texts: str, example: str, window: int | None = None) -> None:
    """Refuse no input or more than one: 'pass one of --data, --text and --audio, not all three' (it
    was '--data and --text and --audio'); and a ``--window`` beside a text or a recording, one input
    of no windows (``--window 3`` was ignored: the gates of the text, as if it had been read)."""
    given = [flag for flag, value in (("--data", data), ("--text", text), ("--audio", audio)) if value is not None]
    if window is not None and given and data is None:
        raise LstmkitError(f"--window {window} picks a window of --data (a forecast run's); {given[0]} is one input, "
                           "read whole", "drop --window")
    if not given:
        raise LstmkitError(f"pass either --data (a forecast run's window), --text ({texts}) or --audio (a speech "
                           "run's recording)", example)
    if len(given) > 1:
        raise LstmkitError(f"pass one of {', '.join(given[:-1])} and {given[-1]}, not "
                           f"{'both' if len(given) == 2 else 'all three'}", example)


@app.command("gates")
def gates_command(run: Path = _RUN, data: Optional[Path] = typer.Option(None, help=_DATA.help),
                  text: Optional[str] = typer.Option(None, help=_TEXT_HELP),
                  audio: Optional[Path] = typer.Option(None, help=_AUDIO_HELP), window: Optional[int] = _WINDOW,
                  top: int = typer.Option(5, help="Cell-state (a GRU's hidden-state) trajectories of this many "
                                              "most active units."),
                  out: Optional[Path] = typer.Option(None, help=_OUT_HELP)):
    """Record i, f, g, o, c (a GRU's r, z, n, h) for one window (--data), one text (--text) or one
    recording (--audio): plots/gates.png and gates.json in the run folder (a translator and a seq2seq
    speech run add plots/decoder_gates.png), or gates.png and gates.json in --out."""
    from lstmkit.inspect.gates import decoder_gates, gates, plot_gates
    if top < 1:
        raise LstmkitError(f"--top must be at least 1, got {top}", "pass --top 5, say")
    _one_input(data, text, audio, "a text classifier's, a language model's or a translator's tokens",
               f"e.g. lstmkit inspect gates --run {run} --text 'a wonderful film'", window)
    est, x, lengths, where, steps, axis, record = _inputs(run, data, text, audio, -1 if window is None else window)
    plots, folder = _folders(run, out, "gates")
    result = gates(est, x, lengths, series=record.get("series"))          # a panel run's window: its series
    if audio is not None:
        record["frames"] = int(result["valid"][0].sum())         # the frames the LSTM reads, after subsampling
    if result.get("steps_over") == "variables":          # lstm-fcn-ds: its LSTM's steps are the variables
        steps, axis, where, shuffled = _shuffled_steps(est, len(x), result["step_reads"], where)
        record.update(shuffled)
    first = f" of the first of {result['members']} ensemble members" if result["members"] > 1 else ""
    name = getattr(est.config_, "model", None) or type(est).__name__
    # gates.json is written last, as the mark of a whole inspection: a former one goes first, so that Ctrl-C
    # among the plots (a translator's decoder is a second pass) never leaves them beside another input's numbers
    (folder / "gates.json").unlink(missing_ok=True)
    seq2seq = hasattr(est, "output_tokens") or getattr(est.config_, "mode", None) == "seq2seq"   # an encoder-decoder
    plot_gates(result, plots / "gates.png", top=top, steps=steps, axis=axis,
               title=f"{name}: {'encoder ' if seq2seq else ''}gates{first} for {where}")
    decoder, written = None, [plots / "gates.png"]
    out_tokens = (est.output_tokens(text) if text is not None and hasattr(est, "output_tokens")   # a translator
                  else est.output_chars(audio) if audio is not None and seq2seq else None)  # a seq2seq recogniser
    if out_tokens is not None and out_tokens[1]:                     # its decoder writing the output
        out_tokens, out_ids = out_tokens
        decoder = decoder_gates(est, x, out_ids)
        written.append(plots / "decoder_gates.png")
        joined = " ".join(out_tokens) if text is not None else "".join(t for t in out_tokens if t != "</s>")
        plot_gates(decoder, written[-1], top=top, steps=[_visible(t) for t in out_tokens],
                   axis="token written" if text is not None else "character written",
                   title=f"decoder gates writing {_quoted(joined, 60)} for {where}")
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
def attention_command(run: Path = _RUN, data: Optional[Path] = typer.Option(None, help=_DATA.help),
                      text: Optional[str] = typer.Option(None, help="A text classifier's or language model's run: "
                                                         "the text whose tokens the attention reads (quote it)."),
                      audio: Optional[Path] = typer.Option(None, help="A speech run: the audio file whose frames "
                                                           "the attention reads."),
                      window: Optional[int] = _WINDOW,
                      layer: int = typer.Option(-1, help="A transformer's attention layer: 0 = the first, "
                                                "-1 = the last."),
                      out: Optional[Path] = typer.Option(None, help=_OUT_HELP)):
    """Attention weights of an lstm-attention or transformer model for one window (--data), one
    text (--text) or one recording (--audio; a seq2seq speech run's decoder attention, a speech
    classifier's attention pooling): plots/attention.png in the run folder, or attention.png in --out."""
    from lstmkit.inspect.attention import attention, attention_layers, plot_attention
    from lstmkit.inspect.gates import ensemble_members
    _one_input(data, text, audio, "a text classifier's or a language model's tokens",
               f"e.g. lstmkit inspect attention --run {run} --data sales.csv", window)
    steps, axis, series = None, "step", None
    if audio is not None:
        est, x = audio_features(run, audio, "attention")
        where = audio.name
    elif text is not None:
        est, tokens, ids = text_tokens(run, text, "attention")
        if hasattr(est, "output_tokens"):                  # a translator: its attention is the decoder's
            raise LstmkitError(f"--text reads a text classifier's or a language model's run; this is "
                               f"{_what_run(run, est)}", _other_way(run, est, "attention"))
        x, steps, axis, where = np.asarray(ids, dtype=np.int64), list(tokens), "token", _quoted(text)
    else:
        w = _data_input(run, data, -1 if window is None else window, "attention")
        est, x = w.est, w.x
        if isinstance(w, Sample):                   # a sequence classifier's sequence
            axis, where = "time step", sample_where(w)
        else:
            series = w.series if _of_panel(w) else None
            steps, axis, where = window_steps(w)
    layers = attention_layers(est)
    if layers == 0 and audio is not None and getattr(est.config_, "mode", "ctc") != "ctc":
        path = est.write_attention(audio, _folders(run, out, "attention", json=False)[0] / "attention.png")
        typer.echo(f"the decoder's attention over {where}'s frames, a row per character it wrote"
                   if est.config_.mode == "seq2seq" else f"the attention pooling's weights over {where}'s frames")
        typer.echo(f"wrote {path}")
        return
    if layers == 0:
        pooled = getattr(getattr(est, "config_", None), "pooling", None) == "attention" and text is not None
        raise LstmkitError(f"the model ({est.config_.model}) has no self-attention layer",
                           f"its attention pooling's token weights: lstmkit classify attention --run {run} --text '…'"
                           if pooled else "train with --model lstm-attention or --model transformer to inspect "
                           "attention")
    if not -layers <= layer < layers:
        raise LstmkitError(f"--layer {layer} is out of range for the model's ({est.config_.model}) {layers} "
                           "attention layer(s)", f"use 0..{layers - 1} or -1..-{layers}")
    path = _folders(run, out, "attention", json=False)[0] / "attention.png"
    weights = attention(est, x, series=series, layer=layer)
    if audio is not None:       # the attention is over the model's frames, after subsampling: named by their second
        steps, ms = model_frames(est, weights.shape[-1])
        axis, where = "frame (s)", f"{where} ({weights.shape[-1]} frames {ms:g} ms apart, of {len(x)} feature frames)"
    shown = f" (layer {layer % layers + 1} of {layers})" if layers > 1 else ""
    members = ensemble_members(est.net_)        # the first member's weights: said, as gates says it of its gates
    first = f" of the first of {members} ensemble members" if members > 1 else ""
    plot_attention(weights, path, title=f"{est.config_.model}{shown}: attention{first} for {where}", steps=steps,
                   axis=axis)
    if first:
        typer.echo(f"attention{first} (the others differ by their initial weights)")
    last = weights[0, :, -1].mean(0).numpy()          # where the last step (the summary) looks
    top = np.argsort(last)[::-1][:5]
    shown_step = ((lambda t: f"{steps[t]!r}, ") if text is not None else (lambda t: f"{steps[t]} s, ") if audio
                  else (lambda t: f"{steps[t]}, " if steps else ""))
    kind = "frame" if audio is not None else "step"
    typer.echo(f"the last {kind} attends most to {kind}s " + ", ".join(f"{t} ({shown_step(t)}{last[t]:.2f})"
                                                                      for t in top))
    typer.echo(f"wrote {path}")
