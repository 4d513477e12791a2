"""``lstmkit speech train | transcribe | evaluate``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from lstmkit.config import load_yaml, merge
from lstmkit.train.metrics import format_report
from lstmkit.tasks.speech.estimator import SpeechRecognizer
from lstmkit.tasks.speech.metrics import format_recognition

__all__ = ["app"]

app = typer.Typer(help="Speech: CTC / seq2seq recognition or spoken-word classification: train, transcribe, evaluate.",
                  no_args_is_help=True, add_completion=False)


@app.command()
def train(
    data: Optional[Path] = typer.Option(None, help="Manifest CSV (path,text) or a folder of WAVs (with --label-from-name)."),
    val: Optional[Path] = typer.Option(None, help="Validation manifest or folder (else a split of --data)."),
    label_from_name: Optional[str] = typer.Option(None, help="Text from file names, e.g. '{label}_{speaker}_{take}'."),
    mode: Optional[str] = typer.Option(None, help="ctc, classify or seq2seq [ctc]."),
    sample_rate: Optional[int] = typer.Option(None, help="Model sample rate; other rates are resampled [the data's]."),
    features: Optional[str] = typer.Option(None, help="logmel or mfcc [logmel]."),
    n_mels: Optional[int] = typer.Option(None, help="Mel bands [40]."),
    n_mfcc: Optional[int] = typer.Option(None, help="Cepstral coefficients kept with --features mfcc [13]."),
    normalize: Optional[str] = typer.Option(None, help="utterance, global or none [utterance]."),
    spec_augment: Optional[bool] = typer.Option(None, "--spec-augment/--no-spec-augment",
                                                help="Time and frequency masks while training [off]."),
    speed_perturb: Optional[float] = typer.Option(None, help="Stretch training clips in time by up to this share [0]."),
    subsample: Optional[int] = typer.Option(None, help="Stride-2 conv layers before the encoder [2]."),
    model: Optional[str] = typer.Option(None, help="Encoder from the zoo [bilstm]."),
    hidden_size: Optional[int] = typer.Option(None, help="Hidden units per layer [128]."),
    layers: Optional[int] = typer.Option(None, help="Encoder layers [2]."),
    dropout: Optional[float] = typer.Option(None, help="Dropout [0.2]."),
    pooling: Optional[str] = typer.Option(None, help="classify: last, max, mean, max-mean or attention [mean]."),
    attention: Optional[str] = typer.Option(None, help="seq2seq: bahdanau, dot, general or none [bahdanau]."),
    beam: Optional[int] = typer.Option(None, help="Decoding beam (1 = greedy) [4]."),
    lm: Optional[Path] = typer.Option(None, help="Language-model run folder ('lstmkit lm train') for fusion."),
    lm_weight: Optional[float] = typer.Option(None, help="Fusion weight alpha of log P_lm [0.5]."),
    length_bonus: Optional[float] = typer.Option(None, help="Fusion bonus beta per LM token [1.0]."),
    val_frac: Optional[float] = typer.Option(None, help="Validation share when no --val [0.1]."),
    epochs: Optional[int] = typer.Option(None, help="Maximum epochs (early stopping ends sooner)."),
    batch_size: Optional[int] = typer.Option(None, help="Mini-batch size [32]."),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate [2e-3]."),
    patience: Optional[int] = typer.Option(None, help="Early-stopping patience in epochs [6]."),
    seed: Optional[int] = typer.Option(None, help="Random seed [42]."),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda [auto]."),
    progress: Optional[str] = typer.Option(None, help="auto, bar, log, off [auto]."),
    config: Optional[Path] = typer.Option(None, help="YAML file with any of these settings; flags win."),
    out: Path = typer.Option(Path("runs"), help="Folder that receives the run folder."),
    resume: Optional[Path] = typer.Option(None, help="Continue an interrupted run folder."),
):
    """Train a recogniser or classifier; print validation WER/CER (or accuracy) and the run folder."""
    if resume is not None:
        _report(SpeechRecognizer.resume(resume, data=None if data is None else str(data),
                                        val_data=None if val is None else str(val)))
        return
    flags = {"mode": mode, "label_from_name": label_from_name, "sample_rate": sample_rate, "features": features,
             "n_mels": n_mels, "n_mfcc": n_mfcc, "normalize": normalize, "spec_augment": spec_augment, "subsample": subsample,
             "speed_perturb": speed_perturb,
             "model": model, "hidden_size": hidden_size, "num_layers": layers, "dropout": dropout,
             "pooling": pooling, "attention": attention, "beam": beam, "lm": None if lm is None else str(lm),
             "lm_weight": lm_weight, "length_bonus": length_bonus, "val_frac": val_frac,
             "train": {"max_epochs": epochs, "batch_size": batch_size, "lr": lr, "patience": patience,
                       "seed": seed, "device": device, "progress": progress}}
    params = merge(load_yaml(config) if config else {}, flags)
    data = data if data is not None else params.pop("data", None)
    val = val if val is not None else params.pop("val", None)
    if data is None:
        from lstmkit.errors import LstmkitError
        raise LstmkitError("no training data given", "pass --data MANIFEST.csv or --data FOLDER")
    _report(SpeechRecognizer(**params).fit(data, val_data=val, out=out))


def _report(est: SpeechRecognizer) -> None:
    d = est.data_summary_
    typer.echo(f"utterances {d['utterances']} (train {d['split']['train']}, val {d['split']['val']}), "
               f"{d['hours']['train'] * 60:.1f} min of training audio at {d['sample_rate']} Hz")
    _print_metrics(est, est.metrics_["val"], "validation")
    if "val_beam" in est.metrics_:
        _print_metrics(est, est.metrics_["val_beam"], "validation")
    r = est.result_
    typer.echo(f"epochs {r.epochs_run}, best epoch {r.best_epoch}{' (early stop)' if r.stopped_early else ''}, "
               f"{est.train_seconds_:.1f} s")
    typer.echo(f"run folder: {est.run_dir_}")


def _print_metrics(est: SpeechRecognizer, m: dict, title: str) -> None:
    if est.config_.mode == "classify":
        typer.echo(f"{title}: " + format_report(m))
    else:
        how = f"beam {m['beam']}" + (" + LM" if m.get("lm") else "")
        typer.echo(f"{title} ({how}): " + format_recognition(m))


@app.command()
def transcribe(run: Path = typer.Option(..., help="Run folder from 'train'."),
               files: List[Path] = typer.Argument(..., help="Audio files (WAV)."),
               beam: Optional[int] = typer.Option(None, help="Beam width (1 = greedy) [as trained]."),
               lm: Optional[Path] = typer.Option(None, help="Language-model run folder [as trained]."),
               no_lm: bool = typer.Option(False, "--no-lm", help="Decode without the run's language model.")):
    """Print one line per file: the file name, a tab, and its transcript (or label)."""
    est = SpeechRecognizer.load(run)
    texts = est.transcribe([str(f) for f in files], beam=beam, lm=False if no_lm else lm)
    for f, t in zip(files, texts):
        typer.echo(f"{f}\t{t}")


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'train'."),
             data: Path = typer.Option(..., help="Manifest CSV or folder (with --label-from-name)."),
             label_from_name: Optional[str] = typer.Option(None, help="Pattern for folder data [as trained]."),
             beam: Optional[int] = typer.Option(None, help="Beam width (1 = greedy) [as trained]."),
             lm: Optional[Path] = typer.Option(None, help="Language-model run folder [as trained]."),
             no_lm: bool = typer.Option(False, "--no-lm", help="Decode without the run's language model."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a report.")):
    """WER / CER / real-time factor (or accuracy and confusion) against the data's transcripts."""
    est = SpeechRecognizer.load(run)
    m = est.evaluate(data, label_from_name=label_from_name, beam=beam, lm=False if no_lm else lm)
    if as_json:
        typer.echo(json.dumps(m, indent=2))
    else:
        _print_metrics(est, m, data.name)
