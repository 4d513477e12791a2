"""Training diagnostics: notice the common problems, show the evidence, rank the remedies.

The trainer feeds a :class:`Doctor` cheap numbers on every step (loss, global gradient norm,
seconds spent waiting for data vs computing) and richer ones on a few sampled steps (gradient
norm per layer, update/weight ratio per layer, padding share) and at the end of epochs 1-20 and every 10th after (share of
saturated LSTM gates and the longest sequence they read, measured with ``record_gates`` on a small batch). At the end
:meth:`Doctor.report` turns them into findings:

- ``exploding_gradients``: non-finite loss or gradients (the NaN guard stepped in), gradient
  norms far above normal, or the loss blowing up;
- ``vanishing_gradients``: first-layer gradients orders of magnitude below the last layer's,
  saturated gates, or a loss that stays flat from the start (not learning);
- ``high_learning_rate``: a learning rate far above Adam's usual (over 0.03) whose steps overshoot:
  an epoch's train loss 20% above the best before it;
- ``low_learning_rate``: a learning rate far below Adam's usual (under 1e-4) whose loss did not move
  (its best epoch within 1% of the first: validation loss, else training loss);
- ``overfitting``: validation loss rising for several epochs while training loss falls;
- ``undertrained``: training ran out of epochs (``max_epochs``) with the validation loss of its
  last epoch 2% below every one before it, or falling steadily (each of the last 3 epochs below the
  one before, 0.5% in all), its last epoch's gain at least 0.1% of the loss at the start (a loss
  near 0, a classifier already right on every validation row, has nothing left to gain);
- ``slow_training``: waiting for data dominates, tiny batches, or batches mostly padding
  (measured only on inputs that declare their lengths: :class:`~lstmkit.data.batching.Padded`);
- ``loses_to_baseline``: the trained model is no better than the best simple baseline on
  held-out data. The doctor knows no task: the task measures the model and its baselines on the
  same data and hands the numbers over as ``evidence={"baselines": ...}`` (see
  :meth:`Doctor.report`), with remedies ranked for its own case.

Each finding carries the evidence (epochs and numbers) and remedies ranked for the case (the
judges: :mod:`lstmkit.train.findings`), each naming the option and value to try where one is known. A
task that reads values unscaled (``scaler`` none) says so with ``evidence={"unscaled": ...}``
(:func:`~lstmkit.train.findings.scaling_evidence`): scaling them then leads the remedies of an
exploding or vanishing finding. The report goes to ``doctor.json`` in the run folder;
``lstmkit doctor RUN`` prints it again.
"""
from __future__ import annotations

import math
import re
import shlex
import statistics
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstmkit.data.batching import Padded
from lstmkit.errors import LstmkitError, python_caller
from lstmkit.files import read_json
from lstmkit.train.findings import FINDINGS, judge, unjudged

__all__ = ["Doctor", "format_report", "read_report", "updated_since", "unfinished_since", "DOCTOR_FILE", "FINDINGS"]

DOCTOR_FILE = "doctor.json"

SAMPLE_EVERY = 25            # steps between per-layer samples (and the first step of each epoch)
SATURATION_EDGE = 0.02       # sigmoid < 0.02 or > 0.98, tanh |g| > 0.96
GATE_SAMPLE_ROWS = 16

_LAYER_SUFFIX = re.compile(r"_l(\d+)(_reverse)?$")


def _layer_of(name: str) -> str:
    """``encoder.weight_ih_l1`` -> ``encoder.l1``; ``head.0.weight`` -> ``head.0``."""
    module, _, leaf = name.rpartition(".")
    m = _LAYER_SUFFIX.search(leaf)
    if m:
        return f"{module}.l{m.group(1)}" if module else f"l{m.group(1)}"
    return module or leaf


class Doctor:
    """Collects training statistics; the trainer calls it, :meth:`report` judges them."""

    def __init__(self, sample_every: int = SAMPLE_EVERY, task_config: Any = None):
        self.sample_every = sample_every
        self.task_config = task_config      # the task's config (its LENGTH_OPTION, hidden_size), when a task trains
        self.epochs: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.start_losses: list[float] = []
        self._cur = self._fresh_epoch()

    # -- setup ----------------------------------------------------------------------------
    def bind(self, model: nn.Module) -> None:
        """Group the trainable parameters by layer, in the order the model declares them."""
        self.groups: dict[str, list[int]] = {}
        self._params: list[nn.Parameter] = []
        for name, p in model.named_parameters():
            if p.requires_grad:
                self.groups.setdefault(_layer_of(name), []).append(len(self._params))
                self._params.append(p)
        self.n_parameters = sum(p.numel() for p in self._params)
        self.dropout = max([m.p for m in model.modules() if isinstance(m, nn.Dropout)]
                           + [float(getattr(m, "dropout", 0.0)) for m in model.modules()
                              if isinstance(getattr(m, "dropout", None), float)], default=0.0)
        self.plain_rnn = any(isinstance(m, nn.RNN) for m in model.modules())

    @staticmethod
    def _fresh_epoch() -> dict[str, Any]:
        return {"steps": 0, "rows": 0, "data_s": 0.0, "compute_s": 0.0, "loss_max": -math.inf,
                "norms": [], "norm_max": 0.0, "norm_max_step": None, "layer_norms": {},
                "update_ratios": {}, "padding": [], "saturation": None, "sequence_steps": None}

    # -- per step (cheap) -----------------------------------------------------------------
    def wants_detail(self, global_step: int, pos: int) -> bool:
        return pos == 0 or global_step % self.sample_every == 0

    def step(self, global_step: int, loss: float, norm: float, data_s: float, compute_s: float,
             rows: int) -> None:
        c = self._cur
        c["steps"] += 1
        c["rows"] += rows
        c["data_s"] += data_s
        c["compute_s"] += compute_s
        if math.isfinite(loss):
            c["loss_max"] = max(c["loss_max"], loss)
            if len(self.start_losses) < 5:
                self.start_losses.append(loss)
        if math.isfinite(norm):
            if norm > c["norm_max"]:
                c["norm_max"], c["norm_max_step"] = norm, global_step
            if len(c["norms"]) < 64:        # enough for a median, bounded memory
                c["norms"].append(norm)

    # -- sampled steps --------------------------------------------------------------------
    @torch.no_grad()
    def sample_gradients(self, inputs) -> None:
        """Per-layer gradient norms (before clipping) and the padding share of ``inputs``."""
        grads = [p.grad for p in self._params]
        present = [i for i, g in enumerate(grads) if g is not None]
        if present:
            norms = torch.stack(torch._foreach_norm([grads[i].float() for i in present])).tolist()
            sq = dict(zip(present, (n * n for n in norms)))
            for layer, idx in self.groups.items():
                if any(i in sq for i in idx):
                    self._cur["layer_norms"].setdefault(layer, []).append(
                        math.sqrt(sum(sq.get(i, 0.0) for i in idx)))
        pad = _padding_share(inputs)
        if pad is not None:
            self._cur["padding"].append(pad)

    @torch.no_grad()
    def weights_before_step(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self._params]

    @torch.no_grad()
    def weights_after_step(self, before: list[torch.Tensor]) -> None:
        after = [p.detach() for p in self._params]
        delta = torch.stack(torch._foreach_norm(torch._foreach_sub(after, before))).tolist()
        weight = torch.stack(torch._foreach_norm(before)).tolist()
        for layer, idx in self.groups.items():
            d = math.sqrt(sum(delta[i] ** 2 for i in idx))
            w = math.sqrt(sum(weight[i] ** 2 for i in idx))
            if w > 0 and math.isfinite(d):
                self._cur["update_ratios"].setdefault(layer, []).append(d / w)

    # -- per epoch ------------------------------------------------------------------------
    @staticmethod
    def gates_due(epoch: int) -> bool:
        """Whether epoch ``epoch`` (from 1) samples the gates: each of the first 20, then every
        10th. A gate sample replays the LSTMs step by step; in a run of many short epochs (a UCR
        set: 885 epochs of 3 batches) sampling every epoch cost about a tenth of the training."""
        return epoch <= 20 or epoch % 10 == 0

    @torch.no_grad()
    def sample_gates(self, model: nn.Module, inputs) -> None:
        """Share of saturated i, g, o gate values of every lstmkit LSTM in ``model``, measured
        with ``record_gates`` on the first rows of ``inputs`` (eval mode: no dropout, no RNG)."""
        from lstmkit.nn.lstm import LSTM
        lstms = [m for m in model.modules() if isinstance(m, LSTM)]
        if not lstms or inputs is None:
            return
        seen: dict[int, tuple] = {}

        def grab(module, args, kwargs):
            if id(module) not in seen:
                seen[id(module)] = (args[0], kwargs.get("lengths", args[2] if len(args) > 2 else None))

        hooks = [m.register_forward_pre_hook(grab, with_kwargs=True) for m in lstms]
        was_training = model.training
        model.eval()
        try:
            model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)
            pinned = total = 0.0
            for m in lstms:
                if id(m) not in seen:
                    continue
                x, lengths = seen[id(m)]
                _, _, gates = m(x, lengths=lengths, record_gates=True)
                valid, T = None, gates["i"].shape[2]
                longest = int(torch.as_tensor(lengths).max()) if lengths is not None and T else T
                self._cur["sequence_steps"] = max(self._cur["sequence_steps"] or 0, longest)
                if lengths is not None:
                    valid = (torch.arange(T, device=x.device)[None, :] < torch.as_tensor(lengths, device=x.device)[:, None])
                for name in ("i", "o", "g"):
                    v = gates[name].float()                         # [L*D, B, T, H]
                    hit = (v.abs() > 1 - 2 * SATURATION_EDGE) if name == "g" else (
                        (v < SATURATION_EDGE) | (v > 1 - SATURATION_EDGE))
                    if valid is not None:
                        mask = valid[None, :, :, None].expand_as(hit)
                        pinned += float(hit[mask].sum())
                        total += float(mask.sum())
                    else:
                        pinned += float(hit.sum())
                        total += hit.numel()
            if total:
                self._cur["saturation"] = pinned / total
        finally:
            for h in hooks:
                h.remove()
            model.train(was_training)

    def end_epoch(self, logs: dict[str, Any]) -> None:
        c = self._cur
        med = lambda v: statistics.median(v) if v else None   # noqa: E731
        self.epochs.append({
            "epoch": logs["epoch"], "train_loss": logs["train_loss"], "val_loss": logs["val_loss"],
            "lr": logs["lr"], "steps": c["steps"],
            "mean_batch": c["rows"] / c["steps"] if c["steps"] else 0.0,
            "grad_norm_median": med(c["norms"]), "grad_norm_max": c["norm_max"],
            "grad_norm_max_step": c["norm_max_step"],
            "loss_max": c["loss_max"] if math.isfinite(c["loss_max"]) else None,
            "layer_grad_norms": {k: med(v) for k, v in c["layer_norms"].items()},
            "update_ratios": {k: med(v) for k, v in c["update_ratios"].items()},
            "saturated_gates": c["saturation"], "sequence_steps": c["sequence_steps"],
            "padding_share": med(c["padding"]),
            "data_seconds": c["data_s"], "compute_seconds": c["compute_s"],
        })
        self._cur = self._fresh_epoch()

    def nan_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    # -- resume ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "events": self.events, "start_losses": self.start_losses,
                "current": {k: v for k, v in self._cur.items()}}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.epochs, self.events = d["epochs"], d["events"]
        self.start_losses = d["start_losses"]
        self._cur = {**self._fresh_epoch(), **d["current"]}

    # -- judgement ------------------------------------------------------------------------
    def report(self, config, stopped_reason: str | None = None,
               evidence: dict[str, Any] | None = None) -> dict[str, Any]:
        """The findings (possibly none), with evidence and ranked remedies, plus the raw stats.

        ``evidence``: what the caller measured on the trained model, judged with the rest and
        kept in the report. Its ``"baselines"`` entry compares the model with simple baselines
        on the same held-out data, errors in the same units (lower is better)::

            {"part": "validation", "metric": "MASE", "points": 480,     # "unit": what points counts (default "points")
             "model": 1.31, "scores": {"naive": 1.02, "seasonal_naive": 0.97},
             "remedies": ["...", ...]}          # the task's, most likely first

        and, for a model of several networks trained side by side on the same samples (a seed
        ensemble), ``"members"`` and ``"member_parameters"`` (one network's): its data per parameter
        is that of one member, not of their sum; ``"ahead"``, what the model wins on by another measure,
        in words (a classifier's accuracy above the majority class's), where losing on this one is no
        finding; ``"higher_is_better"``, true for a score (a translator's BLEU) rather than an error. A model
        whose error is not below the best baseline's (score not above) is a ``loses_to_baseline`` finding.
        """
        return _strict({"version": 1, "findings": judge(self, config, evidence), "unjudged": unjudged(self),
                        # whose words the remedies are in (opt(): lr=0.0001 or --lr 0.0001), for a reader of the other
                        "worded_for": "python" if python_caller() else "command line",
                        "events": self.events,
                        "stopped": stopped_reason,
                        "model": {"parameters": getattr(self, "n_parameters", None),
                                  "layers": list(getattr(self, "groups", {})),
                                  "dropout": getattr(self, "dropout", None)},
                        "evidence": evidence or {}, "epochs": self.epochs})


def _strict(obj):
    """NaN / inf as null, so doctor.json is strict JSON any tool can read."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    return obj


def _padding_share(inputs) -> float | None:
    """The share of padded positions of inputs that declare their lengths
    (:class:`~lstmkit.data.batching.Padded`); None for any other batch, whatever its shapes."""
    return inputs.padding_share() if isinstance(inputs, Padded) else None


# -- reading and printing ----------------------------------------------------------------------
def format_report(report: dict[str, Any]) -> str:
    """The doctor's summary as a few lines of text."""
    findings = report.get("findings", [])
    head = f"doctor: {len(findings)} finding{'s' if len(findings) != 1 else ''}"
    short, epochs = report.get("unjudged") or [], len(report.get("epochs") or [])
    if short and not findings:      # no finding, but too few epochs (or no validation) to call it healthy
        head += f" in {epochs} epoch{'s' if epochs != 1 else ''} — not enough to judge: {', '.join(short)}"
    elif not findings:
        head += " — training looked healthy"
    lines = [head]
    for f in findings:
        lines.append(f"  {f['title']}:")
        lines += [f"    - {e}" for e in f["evidence"]]
        if f["remedies"]:           # a task with no option for it (speech's padding) is offered none
            lines.append("    what to try, most likely first:")
        lines += [f"      {k}. {r}" for k, r in enumerate(f["remedies"], 1)]
    if any(f["remedies"] for f in findings):
        lines += _other_callers_words(report.get("worded_for"))
    cmp = report.get("evidence", {}).get("baselines")
    if cmp and not any(f["kind"] == "loses_to_baseline" for f in findings) and cmp.get("model") is not None:
        scores = {k: v for k, v in cmp.get("scores", {}).items() if v is not None}
        if scores:
            best = (max if cmp.get("higher_is_better") else min)(scores, key=scores.get)
            answer = cmp.get("answer") or {}
            blend = (f", the forecast answered ({answer['name']}) {answer['score']:.3g}"
                     if answer.get("score") is not None else "")
            lines.append(f"  {cmp.get('part', 'held-out')} {cmp.get('metric', 'error')}: the "
                         f"{'network' if blend else 'model'} {cmp['model']:.3g}, the best baseline ({best}) "
                         f"{scores[best]:.3g}{blend}")
    if report.get("stopped"):
        lines.append(f"  stopped: {report['stopped']}")
    return "\n".join(lines)


def _other_callers_words(worded_for: Any) -> list[str]:
    """A line for a report read by the other kind of caller than the one that trained the run: a run fitted
    from Python, read by ``lstmkit doctor``, showed 'lr=0.0001' and 'scaler='standard'' without a word (the
    remedies are worded when the training ends, :func:`~lstmkit.errors.opt`)."""
    here = "python" if python_caller() else "command line"
    if worded_for not in ("python", "command line") or worded_for == here:
        return []
    if worded_for == "python":
        return ["  (the run was fitted from Python: its remedies name the estimator's keywords, "
                "e.g. lr=0.0001 where the flag is --lr 0.0001)"]
    return ["  (the run was trained on the command line: its remedies name flags, e.g. --lr 0.0001 for lr=0.0001)"]


def read_report(run: str | Path) -> dict[str, Any]:
    """``doctor.json`` of a run folder (a clear error if it has none)."""
    run = Path(run)
    from lstmkit.runs import read_meta, resume_call
    from lstmkit.run_lock import process_gone
    from lstmkit.run_status import failure_fix, unfinished_state
    meta = read_meta(run)
    path = run / DOCTOR_FILE
    resume = resume_call(run, meta['task'], meta.get('kind'))
    if not path.is_file() and meta.get("status") == "training":     # the doctor writes when training stops
        gone = process_gone(run, meta)
        if gone:
            raise LstmkitError(f"{run} has no {DOCTOR_FILE}: {unfinished_state(run, meta)}",
                               f"the report is written when training ends; continue the run with {resume}")
        raise LstmkitError(f"{run} has no {DOCTOR_FILE} yet: the run is still training"
                           + (" (or its process is gone: this machine cannot tell)" if gone is None else ""),
                           f"the report is written when training ends; continue a killed run with {resume}")
    if not path.is_file() and meta.get("status") == "failed":       # the doctor writes when training stops
        raise LstmkitError(f"{run} has no {DOCTOR_FILE}: {unfinished_state(run, meta)}",
                           failure_fix(run, meta, resume))
    if not path.is_file() and meta.get("status") == "interrupted":   # it said "trained with the doctor off"
        raise LstmkitError(f"{run} has no {DOCTOR_FILE}: its training was interrupted, and the report is written "
                           "when training ends", f"continue it with {resume}")
    source = (meta.get("quantization") or {}).get("source_run")
    if not path.is_file() and isinstance(source, str):           # `export int8` trains nothing: no report of its own
        raise LstmkitError(f"{run} is an int8 run (`lstmkit export int8`); its training, and the doctor's report "
                           f"on it, is the float run's", f"lstmkit doctor {shlex.quote(source)} (the float run, "
                           "where it was when exported)")
    if not path.is_file():
        raise LstmkitError(f"{run} has no {DOCTOR_FILE}: it was trained with the doctor off, or by an older "
                           "lstmkit", "train it again without --no-doctor (the doctor is on by default)")
    report = read_json(path, "retrain to get a new report")
    if not isinstance(report, dict) or "findings" not in report:
        raise LstmkitError(f"{path} is not a doctor report", "retrain to get a new report")
    damage = _damage(report)
    if damage:                                      # format_report would fail on it with a traceback
        raise LstmkitError(f"{path} is not a doctor report: {damage}", "retrain to get a new report")
    return report


def updated_since(run: str | Path) -> str | None:
    """The line under the report of a run whose weights a kept ``forecast update`` changed after the
    training the report judges (``lstmkit.json``'s ``lineage``), or None: its doctor.json, copied from
    the run it was updated from, named the weights before the update "the model" without a word."""
    from lstmkit.runs import read_meta
    lineage = read_meta(Path(run)).get("lineage")
    kept = [u for u in lineage if isinstance(u, dict) and u.get("accepted")] if isinstance(lineage, list) else []
    if not kept:
        return None
    when = kept[-1].get("when")
    times = "once" if len(kept) == 1 else f"{len(kept)} times"
    return (f"  the weights were updated {times} since this training"
            + (f" ({'the newest ' if len(kept) > 1 else ''}{when})" if isinstance(when, str) else "")
            + ": this report judges them as training left them; lstmkit forecast evaluate measures them now")


def unfinished_since(run: str | Path) -> str | None:
    """The line under the report of a run that did not finish after the doctor wrote it: what failed
    and what to do (its loss diverged; scoring or saving failed once every epoch was trained), or, for a
    run training again since (a resume), that it is, or that its process is gone (``kill -9``: the report
    is of the try before); None for a finished or interrupted run. The report alone read as a run that
    ended well."""
    from lstmkit.runs import read_meta, resume_call
    from lstmkit.run_lock import process_gone
    from lstmkit.run_status import failure_fix, unfinished_state
    meta = read_meta(Path(run))
    resume = resume_call(run, meta["task"], meta.get("kind"))
    if meta.get("status") == "failed":
        return f"  {unfinished_state(run, meta)} — {failure_fix(run, meta, resume)}"
    if meta.get("status") != "training":
        return None
    gone = process_gone(run, meta)
    if gone is None:
        return None
    if gone:
        return (f"  this report is of the training before its last resume, whose process is gone (killed, or its "
                f"machine stopped) — continue it with {resume}")
    return "  the run is being trained again (resumed): this report is of its training before"


def _damage(report: dict[str, Any]) -> str | None:
    """What in a report :func:`format_report` cannot print (a hand-edited or foreign file), or None."""
    findings = report["findings"]
    if not isinstance(findings, list):
        return f"its findings are {type(findings).__name__}, not a list"
    for k, f in enumerate(findings, 1):
        if not (isinstance(f, dict) and all(isinstance(f.get(key), str) for key in ("kind", "title"))
                and all(isinstance(f.get(key), list) for key in ("evidence", "remedies"))):
            return f"finding {k} lacks its kind, title, evidence or remedies"
    evidence = report.get("evidence", {})
    if not isinstance(evidence, dict):
        return f"its evidence is {type(evidence).__name__}, not a mapping"
    cmp = evidence.get("baselines")
    if cmp is None:
        return None
    number = (lambda v: v is None or isinstance(v, (int, float)) and not isinstance(v, bool))
    if not (isinstance(cmp, dict) and number(cmp.get("model")) and isinstance(cmp.get("scores", {}), dict)
            and all(number(v) for v in cmp.get("scores", {}).values())):
        return "its baseline comparison is not numbers"
    return None
