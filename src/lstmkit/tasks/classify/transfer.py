"""ULMFiT transfer (Howard & Ruder 2018): a text classifier that starts from an ``lstmkit lm`` run.

    lm_settings(run)                    the classifier settings the LM decides (sizes, tokenizer, lstm)
    read_lm(run)                        the LM's sizes, vocabulary and weights, checked (LMStart)
    extended_tokenizer(lm, texts, …)    the LM's vocabulary, then the training texts' words it lacks
    copy_weights(net, lm)               embedding and encoder weights into a ClassifierNet, shape-checked
    layer_groups(net)                   [embedding], [encoder layer 0], …, [head]: bottom to top
    discriminative_groups(net, lr, d)   optimizer groups, each layer's lr the one above's / d
    GradualUnfreezing(net, epochs)      head first, then one more layer per stage from the top

The language model is read from its run folder only (``lstmkit.json``, ``vocab.json``,
``model.safetensors`` through :mod:`lstmkit.runs`): this room never imports the lm room. The
classifier uses the LM's vocabulary (every id, ``<bos>`` and ``</s>`` included, so the embedding
matrix is copied whole) and the LM's tokenizer state (same normalisation), with the training
texts' words the LM lacks appended (their rows start at the mean LM embedding, as in fastai),
and takes the LM's sizes (``embed_dim``, ``hidden_size``, ``num_layers``) with a
one-directional ``lstm`` encoder.

Why gradual unfreezing and per-layer learning rates: a fresh head's first gradients are noise;
sent into the pre-trained encoder at full learning rate they wipe out what the LM learnt
(catastrophic forgetting). Training the head alone first, then opening one layer per stage from
the top (lower layers hold more general features), each at a lower learning rate than the one
above (ULMFiT: 2.6x; ``lr_layer_decay`` 1.5 by default, chosen on MR's validation cut), keeps them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from lstmkit.data.vocab import extend_tokenizer, tokenizer_from_dict
from lstmkit.deploy.registry import weights_fingerprint
from lstmkit.errors import LstmkitError, opt, worded
from lstmkit.files import read_json
from lstmkit.runs import WEIGHTS_FILE, read_meta, read_run
from lstmkit.train.callbacks import Callback

__all__ = ["LM_TASK", "LMStart", "lm_settings", "check_settings", "read_lm", "extended_tokenizer", "copy_weights", "layer_groups",
           "discriminative_groups", "GradualUnfreezing", "TRANSFER_DEFAULTS"]

LM_TASK = "lm"
LM_VOCAB_FILE = "vocab.json"
_LEVELS = ("word", "char")
# Settings a classifier started from an LM takes unless the caller gives them (chosen on MR's
# validation cut, see benchmarks/mr.py): concat pooling, a higher rate and more epochs than from
# scratch (the lower layers learn at lr / 1.5 per layer down and open one stage at a time).
TRANSFER_DEFAULTS: dict[str, Any] = {"pooling": "concat", "dropout": 0.4, "max_epochs": 25, "patience": 4,
                                     "lr": 4e-3}


@dataclass
class LMStart:
    """What a classifier takes from a language-model run."""
    run: Path
    fingerprint: str              # sha256 of its weights file (16 hex digits)
    level: str                    # word | char
    sizes: dict[str, int]         # embed_dim, hidden_size, num_layers
    tokenizer: Any                # the LM's base tokenizer with every LM id (<bos>, </s> as words)
    weights: dict[str, torch.Tensor]   # embedding.weight, encoder.* (the LM's names)

    @property
    def settings(self) -> dict[str, Any]:
        """The classifier settings this LM decides (as :func:`lm_settings` reads them)."""
        return {**self.sizes, "tokenizer": self.level, "model": "lstm"}

    def record(self) -> dict[str, Any]:
        """What ``lstmkit.json`` records about the start (path and fingerprint)."""
        return {"run": str(self.run.resolve()), "fingerprint": self.fingerprint, "level": self.level, **self.sizes}


def lm_settings(run: str | Path, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The classifier settings an LM run decides (its sizes, its tokenizer level, a one-directional
    ``lstm``), from its ``lstmkit.json``. A missing folder, a run of another task, a GRU /
    transformer LM or a BPE one are each one :class:`LstmkitError` naming the fix."""
    meta = read_meta(run) if meta is None else meta
    if meta.get("task") != LM_TASK:
        raise LstmkitError(f"{opt('init_from', str(run))} is a '{meta.get('task')}' run, not a language model",
                           worded("pass a run folder from 'lstmkit lm train --level word'",
                                  "pass the run folder of a LanguageModel(level='word')"))
    cfg = meta.get("config") or {}
    if cfg.get("model") != "lstm":
        raise LstmkitError(f"{opt('init_from', str(run))} is a {cfg.get('model')!r} language model; a classifier "
                           "starts only from an LSTM one", f"train the language model with {opt('model', 'lstm')}")
    if cfg.get("level") not in _LEVELS:
        raise LstmkitError(f"{opt('init_from', str(run))} is a {cfg.get('level')}-level language model; a "
                           "classifier starts from word or char level only",
                           f"train the language model with {opt('level', 'word')}")
    return {"embed_dim": cfg.get("embed_dim"), "hidden_size": cfg.get("hidden_size"),
            "num_layers": cfg.get("num_layers"), "tokenizer": cfg["level"], "model": "lstm"}


def check_settings(run: str | Path, want: dict[str, Any], current: dict[str, Any], hint: str) -> None:
    """An error naming the first setting in ``current`` that differs from the LM's (``want``)."""
    for key, value in want.items():
        if current.get(key) != value:
            raise LstmkitError(f"{opt(key, current.get(key))} does not fit {opt('init_from', str(run))}: the "
                               f"language model has {key.replace('_', ' ')} {value}",
                               hint.format(flag=opt(key), setting=opt(key, value)))


def read_lm(run: str | Path) -> LMStart:
    """Read and check an ``lstmkit lm`` run folder (see :func:`lm_settings`): a finished word- or
    char-level LSTM language model whose weights fit its own config."""
    run = Path(run)
    meta, weights = read_run(run)
    settings = lm_settings(run, meta)
    vocab_path = run / LM_VOCAB_FILE
    try:
        state = read_json(vocab_path, "retrain the language model")
        itos = [*state["base"]["itos"], "<bos>", state["specials"].get("end_token", "</s>")]
        tokenizer = tokenizer_from_dict({**state["base"], "itos": itos})
    except (OSError, ValueError, KeyError, TypeError, LstmkitError):
        raise LstmkitError(f"{vocab_path} is missing or damaged", "retrain the language model") from None
    sizes = {k: settings[k] for k in ("embed_dim", "hidden_size", "num_layers")}
    emb = weights.get("embedding.weight")
    if emb is None or tuple(emb.shape) != (len(itos), sizes["embed_dim"]):
        raise LstmkitError(f"{run}/{WEIGHTS_FILE} does not fit its lstmkit.json (embedding "
                           f"{None if emb is None else list(emb.shape)}, vocabulary {len(itos)} x {sizes['embed_dim']})",
                           "retrain the language model")
    encoder = {k: v for k, v in weights.items() if k.startswith("encoder.")}
    return LMStart(run, weights_fingerprint(run), settings["tokenizer"], sizes, tokenizer,
                   {"embedding.weight": emb, **encoder})


def extended_tokenizer(lm: LMStart, texts: Sequence[str], min_freq: int, max_size: int | None):
    """The LM's tokenizer with the training texts' own words appended: those seen at least
    ``min_freq`` times that the LM's vocabulary lacks (a movie-review LM may miss a tenth of a
    new corpus's words), up to ``max_size`` ids in all. The LM's ids keep their meaning."""
    return extend_tokenizer(lm.tokenizer, texts, min_freq, max_size)[0]


def copy_weights(net: nn.Module, lm: LMStart) -> None:
    """Copy the LM's embedding and encoder weights into ``net`` (a ClassifierNet); the embedding's
    rows past the LM's vocabulary (words the LM lacks, see :func:`extended_tokenizer`) start at
    the mean LM embedding. Every other tensor's shape must match (an error names the first that
    does not)."""
    own = net.state_dict()
    n_lm = lm.weights["embedding.weight"].shape[0]
    missing = sorted(k for k in own if k.startswith("encoder.") and k not in lm.weights)
    wrong = [(k, list(v.shape), list(own[k].shape) if k in own else "none") for k, v in lm.weights.items()
             if k not in own or not _fits(k, own[k].shape, v.shape)]
    if missing or wrong:
        what = (f"{wrong[0][0]} is {wrong[0][1]} there, {wrong[0][2]} here" if wrong
                else f"it has no {missing[0]}")
        raise LstmkitError(f"the language model in {lm.run} does not fit this classifier: {what}",
                           "start from a word-level LSTM language model and leave the sizes to it")
    with torch.no_grad():
        for name, value in lm.weights.items():
            own[name][:len(value)].copy_(value.to(own[name].dtype))
        emb = lm.weights["embedding.weight"]
        own["embedding.weight"][n_lm:] = emb[2:].mean(dim=0).to(own["embedding.weight"].dtype)   # past <pad>, <unk>


def _fits(name: str, mine: torch.Size, theirs: torch.Size) -> bool:
    """The classifier's tensor takes the LM's: the same shape, or for the embedding at least its rows."""
    if name == "embedding.weight":
        return mine[1:] == theirs[1:] and mine[0] >= theirs[0]
    return mine == theirs


def layer_groups(net: nn.Module) -> list[list[nn.Parameter]]:
    """The net's parameters by depth, bottom to top: ``[embedding]``, one group per encoder layer
    (``*_l{k}`` names of the stacked LSTM), then everything else (pooling attention, head)."""
    enc = net.encoder
    layers = [[p for n, p in enc.named_parameters() if n.rsplit("_l", 1)[-1].split("_")[0] == str(k)]
              for k in range(enc.num_layers)]
    taken = {id(p) for p in [*net.embedding.parameters(), *[p for g in layers for p in g]]}
    top = [p for p in net.parameters() if id(p) not in taken]
    return [list(net.embedding.parameters()), *layers, top]


def discriminative_groups(net: nn.Module, lr: float, decay: float) -> list[dict[str, Any]]:
    """Optimizer parameter groups, top (head) first at ``lr``, each lower group at the learning
    rate of the one above divided by ``decay`` (ULMFiT: 2.6)."""
    groups = layer_groups(net)[::-1]
    return [{"params": g, "lr": lr / decay ** k} for k, g in enumerate(groups) if g]


class GradualUnfreezing(Callback):
    """Stage ``s`` (epochs ``s·epochs`` to ``(s+1)·epochs - 1``, 0-based) trains the top ``s + 1``
    groups of :func:`layer_groups`: the head alone, then the top encoder layer too, one more layer
    per stage, the embedding last. ``epochs=0`` trains everything from the start.

    It sets ``requires_grad``; the optimizer holds every parameter from the start, so a frozen one
    simply has no gradient (Adam skips it). A resumed run starts at the stage of its epoch."""

    def __init__(self, net: nn.Module, epochs: int):
        self.groups, self.epochs = layer_groups(net), epochs
        for p in net.parameters():                   # the trainer takes what requires grad at its start
            p.requires_grad_(True)

    def trainable(self, epochs_done: int) -> int:
        """How many groups (from the top) train in the epoch after ``epochs_done`` epochs."""
        if self.epochs == 0:
            return len(self.groups)
        return min(len(self.groups), epochs_done // self.epochs + 1)

    def apply(self, epochs_done: int) -> None:
        n = self.trainable(epochs_done)
        for k, group in enumerate(self.groups):
            for p in group:
                p.requires_grad_(k >= len(self.groups) - n)

    def on_train_begin(self, trainer) -> None:
        self.apply(len(trainer.history))

    def on_epoch_end(self, trainer, logs: dict[str, Any]) -> None:
        self.apply(int(logs["epoch"]))

    def on_train_end(self, trainer) -> None:
        for group in self.groups:
            for p in group:
                p.requires_grad_(True)
