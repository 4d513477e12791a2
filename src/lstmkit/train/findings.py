"""The doctor's judges: from what a :class:`~lstmkit.train.doctor.Doctor` collected while
training (and the evidence a task measured on the trained model), the findings, each with its
evidence and remedies ranked for the case. :func:`judge` runs them all, in the order a reader
needs them: the run's result first, then the causes (an explosion before the vanishing it
brings), then overfitting and speed.
"""
from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from lstmkit.errors import opt, percent, worded

if TYPE_CHECKING:
    import numpy as np


class Doctor(Protocol):
    """What the judges read of a :class:`lstmkit.train.doctor.Doctor` (which imports this module,
    so it is described here rather than imported)."""

    epochs: list[dict[str, Any]]        # per-epoch statistics, oldest first
    events: list[dict[str, Any]]        # the NaN guard's events (skipped steps), as they happened
    plain_rnn: bool                     # the model holds a plain (Elman) RNN
    start_losses: list[float]           # the first (up to 5) finite training losses

__all__ = ["FINDINGS", "judge", "unjudged", "scaling_evidence", "prior_comparison"]

FINDINGS = ("exploding_gradients", "vanishing_gradients", "high_learning_rate", "low_learning_rate", "overfitting",
            "undertrained",
            "slow_training", "loses_to_baseline")

EXPLODE_NORM = 1e3           # a pre-clip global gradient norm above this is an explosion ...
EXPLODE_FACTOR = 100.0       # ... as is one 100x the first epoch's median
LOSS_SPIKE = 10.0            # an epoch's train loss 10x the best before it
VANISH_RATIO = 1e-3          # first layer's gradient norm / largest layer's
SATURATED_SHARE = 0.6        # share of i, g, o gate values pinned at their limits
FLAT_LOSS = 0.95             # best epoch train loss >= 95% of the loss at the start
LEARNED = 0.5                # best train loss below half the first step's: learning, whatever its gates show
FLAT_ALONE_STEPS = 100       # ... a finding on its own only after this many optimizer steps (fewer: too early to say)
OVERFIT_EPOCHS = 3           # validation loss above its best (by 5%) for this many epochs ...
OVERFIT_MARGIN = 0.05
DATA_SHARE = 0.5             # waiting for data more than half of the step time ...
DATA_SECONDS = 1.0           # ... and a second in all: less is a scheduler's hiccup on a busy machine, not a cure's worth
TINY_BATCH = 8               # batches under 8 samples, as the batch size asked (not a data set smaller than it)
PADDING_SHARE = 0.4
HIGH_LR = 0.03               # Adam steps this large pin LSTM gates at their limits (the tasks' defaults: 1e-3 to 4e-3)
LOW_LR = 1e-4               # a rate this far below Adam's usual (10x) whose loss does not move is too low to learn
STILL_LOSS = 0.01            # ... its validation (else train) loss moving less than 1% from the first epoch
UNSTABLE_RISE = 0.2          # with such a rate, a train loss 20% above its best before: the steps overshoot
STILL_FALLING = 0.02         # the last epoch's validation loss 2% below every one before it: not done learning
# a fitted ETS within 5 % of the model is a tie, not a loss (issue 19's bar): on the demo's CO2 the network
# scored a validation MASE of 0.292 to ETS's 0.286 and a test MASE of 0.259 to its 0.278 -- a finding that
# said "does not beat ETS" beside a table where it did. Naive baselines are a bar the model must clear.
# A class prior (a classifier's baseline) is a bar to clear by 2 %: a classifier of labels shuffled against its
# inputs scored a validation log loss of 0.499 to the prior's 0.502, early stopping having picked its luckiest epoch.
BASELINE_TIE = {"ets": 1.05, "class_prior": 0.98}
TINY_DATA = 100              # fewer training samples per epoch than this: too few to learn from, or to judge by
STEADY_EPOCHS = 3            # ... or each of the last 3 epochs below the one before ...
STEADY_FALL = 0.005          # ... by 0.5% in all (a cosine schedule's last, near-zero steps fall less)
# ... and its last epoch's gain at least 0.1% of the loss at the start: a text classifier at validation accuracy
# 1.0 (loss 0.000503 -> 0.000494, from 0.69) was told "train longer: --epochs 60", which changes nothing
NEGLIGIBLE_FALL = 0.001
LONG_SEQUENCE = 50           # sequences shorter than this are not why gradients vanish: no "shorten them"


def _falling_at_limit(d: Doctor, cfg) -> list[float] | None:
    """The validation losses of a run that ran out of epochs (``max_epochs``) with its last epoch
    better than every one before by a gain that matters: at least :data:`NEGLIGIBLE_FALL` of the
    loss at the start (the first training loss, else the first validation loss); None otherwise."""
    losses = [e["val_loss"] for e in d.epochs if math.isfinite(e["val_loss"])]
    limit = getattr(cfg, "max_epochs", None)
    if len(losses) < 2 or limit is None or len(d.epochs) < limit or losses[-1] >= min(losses[:-1]):
        return None
    start = d.start_losses[0] if d.start_losses else losses[0]
    if min(losses[:-1]) - losses[-1] < NEGLIGIBLE_FALL * abs(start):     # a loss near 0 with nothing left to gain
        return None
    return losses


def _only_epoch(d: Doctor, cfg) -> bool:
    """A run of one epoch, its limit: one pass over the data, no fall to judge by. More epochs is a
    remedy then, though not the likeliest one (a language model trained one epoch and losing to the
    unigram was told "train on more text" alone; a forecaster losing to naive on a random walk
    needs none)."""
    return getattr(cfg, "max_epochs", None) == 1 and len(d.epochs) == 1


def _train_longer(d: Doctor, cfg) -> list[str]:
    """'train longer' when training ran out of epochs (``max_epochs``, at least 2) with its last
    epoch better on validation than every one before: the loss was still falling, the first thing
    to change; and after a run of one epoch, its limit (:func:`_only_epoch`)."""
    if _only_epoch(d, cfg):
        return [f"train longer: {worded('--epochs 20', opt('max_epochs', 20))} (training stopped after its only "
                "epoch, its limit)"]
    if _falling_at_limit(d, cfg) is None:
        return []
    limit = cfg.max_epochs
    more = max(2 * limit, 20)
    return [f"train longer: {worded(f'--epochs {more}', opt('max_epochs', more))} (training stopped at its limit "
            f"of {limit} epoch"
            f"{'s' if limit != 1 else ''} with the validation loss still falling)"]


def judge(d: Doctor, cfg, evidence: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every finding on the run ``d`` watched (trained with ``cfg``), possibly none."""
    causes = []
    exploding = _exploding(d, cfg, evidence)
    if exploding:
        causes.append(exploding)
    elif (sluggish := _too_slow_to_learn(d, cfg)):     # a loss that does not move for this reason: the cause
        causes.append(sluggish)
    else:       # an explosion also stops learning; it is the cause to report
        vanishing = _vanishing(d, cfg, evidence)
        if vanishing:
            causes.append(vanishing)
        elif (unstable := _unstable(d, cfg)):      # gates pinned by the same steps: the vanishing finding says it
            causes.append(unstable)
    # a loss falling back from a blow-up asks for no more epochs, nor one falling back from gates pinned by steps
    # far too large (a word language model at lr 3 was told both "lower the learning rate" and "train longer:
    # --epochs 20"; a forecaster at lr 1 losing to ETS, "train longer" before "lower the learning rate")
    sick = any(f["kind"] in ("exploding_gradients", "high_learning_rate", "low_learning_rate")
               or f["kind"] == "vanishing_gradients" and cfg.lr > HIGH_LR for f in causes)
    baselines = (evidence or {}).get("baselines")
    lost = _loses_to_baseline(d, baselines, cfg, longer=not sick) if baselines else None
    findings = [*([lost] if lost else []), *causes]
    # a model losing to a baseline whose finding says "train longer" (the same falling loss at the limit) is
    # not told it twice
    told = lost is not None and any(r in lost["remedies"] for r in _train_longer(d, cfg))
    for one in (_overfitting, _undertrained, _slow):
        if one is _undertrained and (sick or told):
            continue
        found = _overfitting(d, cfg, evidence) if one is _overfitting else one(d, cfg)
        if found:
            findings.append(found)
    return findings


def scaling_evidence(what: str, largest: float | None = None) -> dict[str, str]:
    """A task's evidence (``Doctor.report(evidence=...)``) that its run reads ``what`` (``"targets"``,
    ``"features"``) unscaled (``scaler`` none): an exploding or vanishing finding then leads with
    scaling them, the likely cause, rather than a learning rate that only slows the damage."""
    size = f": the training {what} reach {largest:.3g}" if largest is not None and math.isfinite(largest) else ""
    return {"unscaled": f"scale the {what}: {opt('scaler', 'standard')} (now none{size}; the network reads them "
                        "as they are, and values far from ±1 blow up the gradients or pin the gates)"}


def prior_comparison(proba: np.ndarray, y_val: np.ndarray, val_weights: np.ndarray | None, y_train: np.ndarray,
                     train_weights: np.ndarray | None, class_weights: np.ndarray | None,
                     classes: Sequence[str]) -> dict[str, Any] | None:
    """The doctor's baseline comparison of a classifier (:meth:`~lstmkit.train.doctor.Doctor.report`; text, numeric
    sequences, speech in classify mode): the log loss on the validation rows ``y_val`` (class indices) of the
    model's probabilities ``proba`` and of the class prior, the one answer for every row that fits the training
    labels best (their frequencies, weighed as the loss weighs them: sample and class weights), both weighed as the
    training loss weighs a row (``metric`` then says "class-weighted log loss"). A model whose loss is not below the
    prior's learned nothing the class frequencies do not say (labels shuffled against the texts; a learning rate far
    too low), unless its accuracy is above the majority class's (``"ahead"``). None when the validation rows weigh
    nothing."""
    import numpy as np          # numpy loads where a task measures: the doctor's judges need none
    n = proba.shape[1]
    cw = np.ones(n) if class_weights is None else np.asarray(class_weights, dtype=float)
    tw = np.ones(len(y_train)) if train_weights is None else np.asarray(train_weights, dtype=float)
    mass = np.bincount(y_train, weights=tw * cw[y_train], minlength=n)
    vw = (np.ones(len(y_val)) if val_weights is None else np.asarray(val_weights, dtype=float)) * cw[y_val]
    if not mass.sum() > 0 or not vw.sum() > 0:
        return None
    prior = mass / mass.sum()

    def log_loss(p: np.ndarray) -> float:
        return float(np.sum(vw * -np.log(np.clip(p, 1e-12, 1.0))) / vw.sum())
    top = int(np.argmax(np.bincount(y_train, weights=tw, minlength=n)))     # the majority by sample weight, as fit's
    rows = np.ones(len(y_val)) if val_weights is None else np.asarray(val_weights, dtype=float)
    hits, majority = (float(np.average(a, weights=rows)) for a in (proba.argmax(axis=1) == y_val, y_val == top))
    # right more often than the majority class: it tells the classes apart, however timid its probabilities
    # (a classifier at lr 1e-6 scored accuracy 1.0 at a log loss of 0.690, the prior's 0.693)
    ahead = {"ahead": f"accuracy {hits:.3g}, the majority class's {majority:.3g}"} if hits > majority else {}
    remedies = ["check that each label belongs to its row: a label column shifted or shuffled against the "
                "inputs teaches nothing"]
    shares = np.bincount(y_train, weights=tw, minlength=n) / tw.sum()
    rarest = int(np.argmin(np.where(shares > 0, shares, np.inf)))
    if class_weights is None and shares[rarest] < 0.5 / n:        # under half its even share, as never_predicted's
        # a model that answers the common class alone loses little loss on a 95/5 set: the rare rows barely count
        remedies.append(f"weigh the classes: {opt('class_weight', 'balanced')} (the rarest, {classes[rarest]!r}, is "
                        f"{shares[rarest]:.1%} of the training {'rows' if train_weights is None else 'weight'}: "
                        "unweighted, its rows barely move the loss)")
    # under class weights it is not the unweighted nll of metrics.json and the report's calibration line: said so,
    # "validation log loss: the model 0.41" beside "NLL 0.52" read as two numbers for one thing
    metric = "log loss" if class_weights is None else "class-weighted log loss"
    return {**ahead, "part": "validation", "metric": metric, "unit": "rows", "points": len(y_val),
            "model": log_loss(proba[np.arange(len(y_val)), y_val]), "scores": {"class_prior": log_loss(prior[y_val])},
            "remedies": remedies,
            "instead": {"class_prior": f"until the model wins, predict the majority class ({classes[top]!r}, "
                                       f"{np.average(y_train == top, weights=tw):.0%} of the training "
                                       f"{'rows' if train_weights is None else 'weight'}): the model adds nothing "
                                       "to it on this data"}}


def unjudged(d: Doctor) -> list[str]:
    """What the run was too short to judge (empty when every judge had what it needs): with no
    finding, "training looked healthy" would claim more than one or two epochs can show."""
    out = []
    with_val = sum(1 for e in d.epochs if math.isfinite(e["val_loss"]) and math.isfinite(e["train_loss"]))
    if not any(math.isfinite(e["val_loss"]) for e in d.epochs):
        out.append("overfitting (no validation loss)")
    elif with_val < OVERFIT_EPOCHS + 1:
        out.append(f"overfitting (needs {OVERFIT_EPOCHS + 1} epochs with a validation loss)")
    if sum(1 for e in d.epochs if math.isfinite(e["train_loss"])) < 3:
        out.append("a training loss that does not fall (needs 3 epochs)")
    return out


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def _exploding(d: Doctor, cfg, given: dict[str, Any] | None = None) -> dict[str, Any] | None:
    evidence, numbers = [], {}
    if d.events:
        where = ", ".join(f"epoch {e['epoch']} step {e['step']}" for e in d.events[:5])
        evidence.append(f"loss or gradients became non-finite {len(d.events)} time(s) ({where}); "
                        f"the NaN guard skipped those steps and halved the learning rate")
        numbers["non_finite_events"] = len(d.events)
    peak = max(d.epochs, key=lambda e: e["grad_norm_max"] or 0.0, default=None)
    base = next((e["grad_norm_median"] for e in d.epochs if e["grad_norm_median"]), None)
    if peak and peak["grad_norm_max"]:
        # 100x the first epoch's median counts only without clipping: clipped, such a norm is one bounded step
        # (a classifier's tiny first-epoch gradients, 0.13, grew to 21 as it grew confident, clipped at 1, its loss
        # never jumping: no explosion); clipped or not, a loss spike is the finding's own evidence
        big = peak["grad_norm_max"] > EXPLODE_NORM or (
            cfg.clip_norm is None and base is not None and peak["grad_norm_max"] > EXPLODE_FACTOR * base
            and peak["grad_norm_max"] > 10)
        if big:
            evidence.append(f"gradient norm (before clipping) reached {_g(peak['grad_norm_max'])} at epoch "
                            f"{peak['epoch']} (step {peak['grad_norm_max_step']}); the first epoch's median was {_g(base)}")
            numbers["grad_norm_max"] = peak["grad_norm_max"]
    best = math.inf
    for e in d.epochs:
        loss = e["train_loss"]
        if math.isfinite(best) and (not math.isfinite(loss) or loss > LOSS_SPIKE * best):
            evidence.append(f"train loss jumped to {_g(loss)} at epoch {e['epoch']} (best before: {_g(best)})")
            numbers["loss_spike_epoch"] = e["epoch"]
            break
        if math.isfinite(loss):
            best = min(best, loss)
    if not evidence:
        return None
    unscaled = (given or {}).get("unscaled")
    # clipped at 1 or less already: half of it (a run clipped at 0.5 was told "tighten gradient clipping:
    # --clip-norm 0.5 (now 0.5)", one at 0.2 to loosen it to 0.5)
    tighter = 1.0 if cfg.clip_norm is None or cfg.clip_norm > 1.0 else float(f"{cfg.clip_norm / 2:.3g}")
    remedies = [*([unscaled] if unscaled else []),
                f"lower the learning rate (now {cfg.lr:g}; try {cfg.lr / 10:g}): {opt('lr', f'{cfg.lr / 10:g}', written=True)}",
                f"turn gradient clipping on: {opt('clip_norm', 1.0)} (it is off in this run)" if cfg.clip_norm is None else
                f"tighten gradient clipping: {opt('clip_norm', tighter)} (now {cfg.clip_norm:g})",
                "look for extreme values in the inputs and targets",
                "use a gated cell (LSTM/GRU) and fewer layers"]
    if cfg.clip_norm is None and not unscaled:       # no clipping at all: the first thing to change
        remedies.insert(0, remedies.pop(1))
    return {"kind": "exploding_gradients", "title": "exploding gradients", "evidence": evidence,
            "numbers": numbers, "remedies": remedies}


def _vanishing(d: Doctor, cfg, given: dict[str, Any] | None = None) -> dict[str, Any] | None:
    evidence, numbers = [], {}
    layers = list(getattr(d, "groups", {}))
    ratios = []
    for e in d.epochs:
        norms = e["layer_grad_norms"]
        if layers and layers[0] in norms and norms[layers[0]] is not None:
            top = max(v for v in norms.values() if v is not None)
            if top > 0:
                ratios.append((norms[layers[0]] / top, e, max(norms, key=lambda k: norms[k] or 0)))
    if ratios:
        ratio, e, top_layer = min(ratios[-3:], key=lambda r: r[0])  # recent epochs: settled, not the first steps
        if statistics.median(r[0] for r in ratios) < VANISH_RATIO:
            evidence.append(f"first layer ({layers[0]}) gradient norm is {_g(ratio)} of {top_layer}'s "
                            f"(median over epochs {_g(statistics.median(r[0] for r in ratios))}; epoch {e['epoch']}: "
                            f"{_g(e['layer_grad_norms'][layers[0]])} vs {_g(e['layer_grad_norms'][top_layer])})")
            numbers["first_layer_ratio"] = statistics.median(r[0] for r in ratios)
    losses = [e["train_loss"] for e in d.epochs if math.isfinite(e["train_loss"])]
    start = statistics.mean(d.start_losses) if d.start_losses else None
    first = d.start_losses[0] if d.start_losses else None         # before any update (a diverging run's next
    learned = bool(losses) and first is not None and min(losses) < LEARNED * first   # steps are no baseline)
    sat = [(e["saturated_gates"], e["epoch"]) for e in d.epochs if e["saturated_gates"] is not None]
    if sat and sat[-1][0] > SATURATED_SHARE and not learned:   # the latest sample (gates are sampled on some
        # epochs); a model whose loss fell well uses saturated gates as switches: no sign it cannot learn
        evidence.append(f"{sat[-1][0]:.0%} of the input/output/candidate gate values are saturated "
                        f"(pinned at 0/1 or ±1) at epoch {sat[-1][1]}")
        numbers["saturated_gates"] = sat[-1][0]
    if len(losses) >= 3 and start is not None:
        steps = sum(e.get("steps", 0) for e in d.epochs)
        if min(losses) >= FLAT_LOSS * start and (evidence or steps >= FLAT_ALONE_STEPS):
            evidence.append(f"train loss stayed flat: {_g(start)} at the start, best {_g(min(losses))} "
                            f"after {len(losses)} epochs")
            numbers["flat_loss"] = min(losses) / start
    if not evidence:
        return None
    unscaled = (given or {}).get("unscaled")
    remedies = [unscaled] if unscaled else []      # raw values far from ±1 pin the gates from the first step
    if cfg.lr > HIGH_LR:       # the steps themselves saturate the gates: the first thing to change
        remedies.append(f"lower the learning rate (now {cfg.lr:g}, far above Adam's usual 0.001: steps this "
                        f"large pin the gates at their limits, where no gradient flows): {opt('lr', '0.001', written=True)}")
    if d.plain_rnn:
        remedies.append(f"replace the plain RNN with a gated cell: {opt('model', 'lstm')} or gru")
    remedies.append("use fewer recurrent layers (or residual connections between them)")
    shorter = _shorter_sequences(d)
    if shorter:
        remedies.append(shorter)
    if cfg.lr <= HIGH_LR and not unscaled:
        remedies.append(f"raise the learning rate a little (now {cfg.lr:g}) and check that the targets are scaled")
    remedies.append("initialise the forget-gate bias to 1 so memory is kept early in training")
    return {"kind": "vanishing_gradients", "title": "vanishing gradients / not learning",
            "evidence": evidence, "numbers": numbers, "remedies": remedies}


def _task_value(d: Doctor, name: str) -> Any:
    """The option ``name`` of the run's task config (None where no task trains, or it has none)."""
    return getattr(getattr(d, "task_config", None), name, None)


def _shorter_sequences(d: Doctor) -> str | None:
    """"shorten the sequences" with the run's own task's option (``LENGTH_OPTION`` of its config:
    ``lookback`` of a forecaster, ``max_len`` of a classifier, a language model, a translator), half
    the longest sequence the gate samples read (else half the option's value, where it is set); no
    option for a model trained outside a task; None for a task that has no such option (speech), and
    for sequences sampled shorter than :data:`LONG_SEQUENCE` steps (a text classifier of 11-word
    reviews at lr 1 was told ``--max-len 200 (now 400)``, which cuts nothing)."""
    seen = max((e.get("sequence_steps") or 0 for e in d.epochs), default=0)
    if 0 < seen < LONG_SEQUENCE:          # a gradient crosses a few dozen LSTM steps well: not the cause
        return None
    if getattr(d, "task_config", None) is None:         # a model trained outside a task: no option to name
        return "shorten the sequences or summarise them first (cnn-lstm, attention)"
    option = _task_value(d, "LENGTH_OPTION")
    if not option:
        return None
    now = _task_value(d, option)
    if isinstance(now, int) and not isinstance(now, bool) and now > 1 and 0 < seen < now:
        how = f"{opt(option, max(1, seen // 2))} (now {now}; the sequences sampled reach {seen} steps)"
    elif seen:
        how = f"{opt(option, max(1, seen // 2))} (the sequences sampled reach {seen} steps)"
    else:
        how = (f"{opt(option, max(1, now // 2))} (now {now})" if isinstance(now, int) and not isinstance(now, bool)
               and now > 1 else opt(option))
    return f"shorten the sequences: {how}, or summarise them first (cnn-lstm, attention)"


def _smaller_model(d: Doctor) -> str:
    """"use a smaller model" for a model with more parameters than samples: half the hidden size
    where the task's is known (an LSTM's parameters grow with its square: about a quarter as many)."""
    hidden = _task_value(d, "hidden_size")
    if isinstance(hidden, int) and not isinstance(hidden, bool) and hidden > 1:
        return (f"use a smaller model: {opt('hidden_size', hidden // 2)} (now {hidden}; about a quarter of the "
                "parameters) or fewer layers, or more training data")
    return "use a smaller model (fewer hidden units or layers) or more training data"


def _less_padding(d: Doctor, cfg) -> list[str]:
    """Bucketing by length and capping the length, with the options the run's task has of them
    (``bucket``, its ``LENGTH_OPTION``); none of a task that has neither. A run that bucketed
    already (a classifier's default) was told '--bucket' all the same: its padding is of batches
    too large to hold one length, so smaller batches are what it is told."""
    task = getattr(d, "task_config", None)
    if task is None:                                    # a model trained outside a task: BucketBatches' words
        return [f"bucket sequences by length ({opt('bucket', True)}) or cap them ({opt('max_len')})"]
    length = _task_value(d, "LENGTH_OPTION")
    bucketed = getattr(task, "bucket", None) is True
    smaller = max(8, cfg.batch_size // 4)
    ways = [*([f"bucket sequences by length ({opt('bucket', True)})"] if hasattr(task, "bucket") and not bucketed
              else []),
            *([f"smaller batches, each of lengths closer together ({opt('batch_size', smaller)}, now "
               f"{cfg.batch_size}: bucketing is on, and a batch still mixes short and long sequences)"]
              if bucketed and smaller < cfg.batch_size else []),
            *([f"cap their length ({opt(length)})"] if length else [])]
    return [" or ".join(ways)] if ways else []


def _unstable(d: Doctor, cfg) -> dict[str, Any] | None:
    """A learning rate far above Adam's usual (:data:`HIGH_LR`) whose steps overshoot: an epoch's
    train loss :data:`UNSTABLE_RISE` above the best before it. (A forecaster at ``lr`` 0.1 scored a
    validation MASE of 0.83-0.88 against 0.76 at 0.001 with no finding at all: its train loss rose
    by a third late in training, its gates far from saturation.)"""
    if cfg.lr <= HIGH_LR:
        return None
    best, where = math.inf, 0
    for e in d.epochs:
        loss = e["train_loss"]
        if not math.isfinite(loss):
            continue
        if math.isfinite(best) and loss > (1 + UNSTABLE_RISE) * best:
            return {"kind": "high_learning_rate", "title": "learning rate too high: the steps overshoot",
                    "evidence": [f"the learning rate is {cfg.lr:g}, {cfg.lr / 1e-3:.0f}x Adam's usual 0.001 (lstmkit's "
                                 "tasks train at 0.001-0.004)",
                                 f"train loss rose to {_g(loss)} at epoch {e['epoch']}, {loss / best - 1:.0%} above its "
                                 f"best before ({_g(best)} at epoch {where})"],
                    "numbers": {"lr": cfg.lr, "rise_epoch": e["epoch"], "rise": loss / best - 1},
                    "remedies": [f"lower the learning rate: {opt('lr', '0.001', written=True)} (now {cfg.lr:g})"]}
        if loss < best:
            best, where = loss, e["epoch"]
    return None


def _too_slow_to_learn(d: Doctor, cfg) -> dict[str, Any] | None:
    """A learning rate far below Adam's usual (:data:`LOW_LR`) whose loss did not move: the best
    epoch's validation loss (else training loss) within :data:`STILL_LOSS` of the first epoch's. (A
    text classifier at ``lr`` 1e-6 kept its validation loss at 0.6810 for 6 epochs, at chance, and
    was told "training looked healthy": too few steps for the flat-loss judge, and its first epoch
    below the class prior's 0.693 by its initial weights' luck.)"""
    if cfg.lr >= LOW_LR:
        return None
    for key, name in (("val_loss", "validation"), ("train_loss", "train")):
        losses = [(e[key], e["epoch"]) for e in d.epochs if math.isfinite(e[key])]
        if len(losses) >= 2:
            break
    else:
        return None
    first, best = losses[0][0], min(v for v, _ in losses)
    if first <= 0 or best < (1 - STILL_LOSS) * first:
        return None
    return {"kind": "low_learning_rate", "title": "learning rate too low: the loss did not move",
            "evidence": [f"the learning rate is {cfg.lr:g}, {1e-3 / cfg.lr:.0f}x below Adam's usual 0.001 (lstmkit's "
                         "tasks train at 0.001-0.004)",
                         f"{name} loss {_g(first)} after epoch {losses[0][1]}, best {_g(best)} after {len(losses)} "
                         f"epochs: {1 - best / first:.3%} lower"],
            "numbers": {"lr": cfg.lr, "first_loss": first, "best_loss": best},
            "remedies": [f"raise the learning rate: {opt('lr', '0.001', written=True)} (now {cfg.lr:g})"]}


def _undertrained(d: Doctor, cfg) -> dict[str, Any] | None:
    """Training ran out of epochs (``max_epochs``) while the validation loss still fell: its last
    epoch :data:`STILL_FALLING` below every one before it, or each of its last :data:`STEADY_EPOCHS`
    epochs below the one before (:data:`STEADY_FALL` in all). (Two epochs of a forecaster or a
    classifier had no finding: one and two epochs were "too few to judge", while the loss was falling
    fast; a sequence classifier whose loss fell 0.3 % an epoch went from 0.710 to 0.568 given 20.)"""
    losses = _falling_at_limit(d, cfg)
    if losses is None:
        return None
    best_before = min(losses[:-1])
    tail = losses[-STEADY_EPOCHS - 1:]
    steady = (len(tail) == STEADY_EPOCHS + 1 and all(b < a - (getattr(cfg, "min_delta", 0.0) or 0.0) for a, b in zip(tail, tail[1:]))
              and tail[-1] <= (1 - STEADY_FALL) * tail[0])
    if losses[-1] >= (1 - STILL_FALLING) * best_before and not steady:
        return None
    evidence = [f"validation loss {_g(losses[-1])} at the last epoch ({len(d.epochs)}, the limit), "
                f"{1 - losses[-1] / best_before:.1%} below the best before it ({_g(best_before)})"]
    if steady:
        evidence.append(f"each of the last {STEADY_EPOCHS} epochs improved on the one before "
                        f"({' -> '.join(_g(v) for v in tail)})")
    return {"kind": "undertrained", "title": "training stopped while the validation loss was still falling",
            "evidence": evidence,
            "numbers": {"epochs": len(d.epochs), "last_val_loss": losses[-1], "best_before": best_before},
            "remedies": _train_longer(d, cfg)}


def _one_network(d: Doctor, given: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """The parameters of one network and how many were trained side by side on the same samples (a
    seed ensemble's ``members``, from the task's baseline evidence); the model's parameters and None
    for a single network."""
    cmp = (given or {}).get("baselines") or {}
    if cmp.get("members") and cmp.get("member_parameters"):
        return int(cmp["member_parameters"]), int(cmp["members"])
    return getattr(d, "n_parameters", None), None


def _overfitting(d: Doctor, cfg, given: dict[str, Any] | None = None) -> dict[str, Any] | None:
    eps = [e for e in d.epochs if math.isfinite(e["val_loss"]) and math.isfinite(e["train_loss"])]
    if len(eps) < OVERFIT_EPOCHS + 1:
        return None
    b = min(range(len(eps)), key=lambda i: eps[i]["val_loss"])
    after = eps[b + 1:]
    worse = [e for e in after if e["val_loss"] > eps[b]["val_loss"] * (1 + OVERFIT_MARGIN)]
    last = eps[-1]
    # A sustained rise, not noise: the last OVERFIT_EPOCHS epochs must all sit above the best by
    # the margin (validation loss that merely wobbles around its best after early stopping's
    # patience is no evidence of overfitting).
    tail = eps[-OVERFIT_EPOCHS:]
    sustained = len(after) >= OVERFIT_EPOCHS and all(
        e["val_loss"] > eps[b]["val_loss"] * (1 + OVERFIT_MARGIN) for e in tail)
    if not sustained or not last["train_loss"] < eps[b]["train_loss"]:
        return None
    best, rows = eps[b], max(e["mean_batch"] * e["steps"] for e in eps)
    evidence = [f"validation loss rose from {_g(best['val_loss'])} (epoch {best['epoch']}) to "
                f"{_g(last['val_loss'])} (epoch {last['epoch']}) while train loss fell from "
                f"{_g(best['train_loss'])} to {_g(last['train_loss'])}",
                f"{len(worse)} epochs after the best were more than {OVERFIT_MARGIN:.0%} worse on validation"]
    remedies = []
    params, members = _one_network(d, given)      # a seed ensemble's members each fit every sample: one's count
    if params and rows and params > 10 * rows:
        evidence.append(f"the model is {members} seeds of {params:,} parameters each, each trained on {int(rows):,} "
                        "samples" if members else f"the model has {params:,} parameters for {int(rows):,} training samples")
        remedies.append(_smaller_model(d))
    if (getattr(d, "dropout", 0.0) or 0.0) < 0.2:
        remedies.append(f"add dropout: {opt('dropout', 0.3)} (now {getattr(d, 'dropout', 0.0):g}; 0.2-0.5 is usual)")
    if not cfg.weight_decay:
        remedies.append(f"add weight decay: {opt('weight_decay', '1e-4', written=True)}")
    remedies.append("get more training data or augment it")
    if not any(r.startswith("use a smaller model") for r in remedies):
        remedies.append("use a smaller model (fewer hidden units or layers)")
    if cfg.patience > OVERFIT_EPOCHS + 2:      # the best epoch's weights are kept either way: it saves time only
        remedies.append(f"stop sooner: {opt('patience', OVERFIT_EPOCHS + 2)} (now {cfg.patience}; the best epoch's "
                        "weights are kept either way, so this saves training time, not validation loss)")
    return {"kind": "overfitting", "title": "overfitting", "evidence": evidence,
            "numbers": {"best_epoch": best["epoch"], "best_val_loss": best["val_loss"],
                        "last_val_loss": last["val_loss"]}, "remedies": remedies}


def _slow(d: Doctor, cfg) -> dict[str, Any] | None:
    if not d.epochs:
        return None
    data = sum(e["data_seconds"] for e in d.epochs)
    compute = sum(e["compute_seconds"] for e in d.epochs)
    steps = sum(e["steps"] for e in d.epochs)
    evidence, numbers, remedies = [], {}, []
    share = data / (data + compute) if data + compute > 0 and data >= DATA_SECONDS else 0.0
    if share > DATA_SHARE:
        evidence.append(f"{share:.0%} of the training time was spent waiting for data "
                        f"({data:.1f}s loading vs {compute:.1f}s computing over {steps} steps)")
        numbers["data_share"] = share
        remedies += ["prepare the data once as tensors in memory (lstmkit's WindowBatches / BucketBatches do)",
                     "load in background workers: DataLoader(num_workers=4, pin_memory=True, persistent_workers=True)"]
    mean_batch = sum(e["mean_batch"] * e["steps"] for e in d.epochs) / steps if steps else 0
    # batches tiny as asked (--batch-size 4), not ones the data leaves short of a larger size (6 samples in all
    # at --batch-size 32 were told "raise the batch size (now 32; try 32-128)", which changes nothing)
    if steps >= 20 and 0 < mean_batch < TINY_BATCH and cfg.batch_size < TINY_BATCH:
        evidence.append(f"batches are tiny ({mean_batch:.1f} samples on average): per-step overhead dominates")
        numbers["mean_batch"] = mean_batch
        remedies.append(f"raise the batch size (now {cfg.batch_size}; try 32-128) and scale the learning rate with it")
    pads = [e["padding_share"] for e in d.epochs if e["padding_share"] is not None]
    if pads and statistics.median(pads) > PADDING_SHARE:
        evidence.append(f"{statistics.median(pads):.0%} of each batch is padding")
        numbers["padding_share"] = statistics.median(pads)
        remedies += _less_padding(d, cfg)
    if not evidence:
        return None
    if share > DATA_SHARE:
        remedies.append("raise the batch size so each load feeds more compute")
    return {"kind": "slow_training", "title": "slow training", "evidence": evidence, "numbers": numbers,
            "remedies": remedies}


def _loses_to_baseline(d: Doctor, cmp: dict[str, Any], cfg=None, longer: bool = True) -> dict[str, Any] | None:
    scores = {k: float(v) for k, v in cmp.get("scores", {}).items() if v is not None and math.isfinite(v)}
    model = cmp.get("model")
    if not scores or model is None or not math.isfinite(model) or cmp.get("ahead"):
        return None
    up = bool(cmp.get("higher_is_better"))          # a score (BLEU), not an error
    rank = (lambda v: -v) if up else (lambda v: v)  # best first
    # an error of 0 loses to nothing: an all-zero series forecast 0, as naive does, was "does not beat the best
    # baseline (naive): the model 0, naive 0" with five remedies, "train longer" first
    lost = [k for k in scores if (model <= scores[k] / BASELINE_TIE.get(k, 1.0) if up
                                  else model > 0 and model >= scores[k] * BASELINE_TIE.get(k, 1.0))]
    if not lost:
        return None
    best = min(lost, key=lambda k: rank(scores[k]))
    metric, part = cmp.get("metric", "error"), cmp.get("part", "held-out")
    where = f"{cmp['points']:,} {part} {cmp.get('unit', 'points')}" if cmp.get("points") else f"the {part} data"
    others = ", ".join(f"{k} {_g(v)}" for k, v in sorted(scores.items(), key=lambda kv: rank(kv[1])))
    lowest = min(scores, key=lambda k: rank(scores[k]))
    named = f"the best baseline ({best})" if best == lowest else best        # a tie scores lower: not "the best"
    answer, title = _answered(cmp.get("answer"), model, best, scores[best], metric)
    who = "the network" if title else "the model"          # a run answering with a blend: which of the two
    evidence = [f"{metric} on {where}: {who} {_g(model)}, {named} {_g(scores[best])} "
                f"({'higher' if up else 'lower'} is better; all baselines: {others})"]
    if best != lowest:
        evidence.append(f"{lowest} scores {'higher' if up else 'lower'}, {_g(scores[lowest])}, but within "
                        f"{BASELINE_TIE[lowest] - 1:.0%} of {who}: a tie, not a loss")
    if rank(model) < rank(scores[best]):            # a bar to clear by a margin, cleared by less
        evidence.append(f"{who} is within {1 - BASELINE_TIE[best]:.0%} of {best}: it learned next to nothing "
                        "beyond it")
    evidence += answer
    rows = max((e["mean_batch"] * e["steps"] for e in d.epochs), default=0)
    params = getattr(d, "n_parameters", None)
    if cmp.get("members") and cmp.get("member_parameters") and rows:     # a seed ensemble: each member sees every sample
        evidence.append(f"the model is {cmp['members']} seeds of {cmp['member_parameters']:,} parameters each, each "
                        f"trained on {int(rows):,} samples per epoch")
    elif params and rows:
        evidence.append(f"the model has {params:,} parameters for {int(rows):,} training samples per epoch")
    # 4 training texts and 2 validation rows were told "check that each label belongs to its row" first: on so
    # few a loss to the baseline is the data's size, and its score a coin's toss, not a sign of shuffled labels
    held = cmp.get("points") or 0                   # (few of both: not a few windows drawn from many)
    tiny = ([f"more data: {int(rows):,} training samples per epoch are too few for a network to learn from "
             f"(hundreds at least), and {where} too few to tell it from {best}"]
            if 0 < rows < TINY_DATA and 0 < held < TINY_DATA else [])
    instead = (cmp.get("instead") or {}).get(best) or f"until the model wins, use {best}: it is the better model on this data"
    slow = ([f"raise the learning rate (now {cfg.lr:g}, far below Adam's usual 0.001: steps this small barely move "
             f"the weights): {opt('lr', '0.001', written=True)}"] if cfg is not None and cfg.lr < LOW_LR else [])
    longer_ = _train_longer(d, cfg) if longer else []     # the task's own "train longer" said once
    task = list(cmp.get("remedies", []))
    own_longer = any(r.startswith("train longer") for r in task)
    if not longer or (longer_ and not (_only_epoch(d, cfg) and own_longer)):
        # a run that blew up: no more epochs, the task's neither (a CTC recogniser at lr 5 was told its
        # "train longer"); a loss still falling at the limit: the doctor's, first, for the task's
        task = [r for r in task if not r.startswith("train longer")]
    elif own_longer:
        # one epoch, and the task names more epochs itself: its own, in its place, with its reason (a
        # CTC model emits only blanks for its first epochs), not a bare one after its other remedies
        longer_ = []
    first, last = ([], longer_) if _only_epoch(d, cfg) else (longer_, [])      # after one epoch: the task's first
    remedies = [*slow, *first, *tiny, *task, *last, instead]
    numbers = {"metric": metric, "model": model, "best_baseline": best, "best_baseline_score": scores[best]}
    if title:
        numbers.update(answer=float(cmp["answer"]["score"]), network_share=float(cmp["answer"]["network_share"]))
    return {"kind": "loses_to_baseline", "title": f"the {'network alone' if title else 'model'} does not beat {named}"
            + title, "evidence": evidence, "remedies": remedies, "numbers": numbers}


def _answered(answer: dict[str, Any] | None, model: float, best: str, bar: float,
              metric: str) -> tuple[list[str], str]:
    """The evidence lines and the title's tail for a run that answers with a blend of the network and
    baselines (the task's ``answer``: its ``name``, ``score`` on the same data and the network's share):
    what the user gets, beside the network this finding judges, and how much of it the network's remedies
    move. ``([], "")`` where the run answers with its model alone."""
    if not answer or answer.get("score") is None or not math.isfinite(answer["score"]):
        return [], ""
    score, share = float(answer["score"]), float(answer["network_share"])
    lines = [f"the forecast answered is a blend, {answer['name']}, chosen on these same windows (so its score "
             f"flatters it): {metric} {_g(score)}, beside the network's {_g(model)} and {best}'s {_g(bar)}",
             f"the network is {percent(share)} of the forecast answered: the remedies below improve the network, "
             + ("and so that part of the answer" if share >= 0.5 else
                "which is less than half of the answer (until a refit's validation gives it more weight)")]
    return lines, f"; the forecast answered, a blend, scores {_g(score)} to {best}'s {_g(bar)}"
