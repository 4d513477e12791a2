"""Fine-tuning a language model on new text (ULMFiT's second stage): ``lm train --init-from RUN``.

    start_settings(run)                 the settings the start run decides (level, sizes, encoder)
    check_start(run, want, given)       an error naming the first given setting that differs
    extended_tokenizer(start, lines, …) the start's vocabulary, then the new text's words it lacks
    copy_start(net, start, tokenizer)   the start's weights into the new net, rows moved by token

A general language model (say, one trained on movie reviews) is first adapted to the text a
classifier will see (say, short sentences from MR): a few epochs over that text, starting from
the general model's weights. The vocabulary is the start's, with the new text's frequent words
it lacks appended (their embedding rows, and output rows when the weights are tied, start at
the mean of the start's rows; their output bias at its mean), so every word the start knew keeps
its vectors. ``<bos>`` and ``</s>`` stay the last two ids: their rows move with them.
The new run records the start's folder and weight fingerprint under ``data.init_from`` in its
``lstmkit.json``; the architecture (level, lower-casing, sizes, encoder, tied weights) is the
start's, and a setting given that differs is one :class:`LstmkitError`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from lstmkit.data.vocab import extend_tokenizer
from lstmkit.deploy.registry import weights_fingerprint
from lstmkit.errors import LstmkitError, opt, worded
from lstmkit.runs import read_meta
from lstmkit.tasks.lm.data import LMTokenizer

__all__ = ["ARCHITECTURE", "start_settings", "check_start", "extended_tokenizer", "copy_start", "start_record"]

# The settings a fine-tuned model takes from the run it starts from.
# LanguageModelNet's tensors with one row per token.
VOCAB_TENSORS = ("embedding.weight", "out.weight", "out.bias", "out_bias")
ARCHITECTURE = ("level", "lowercase", "embed_dim", "model", "hidden_size", "num_layers", "tie_weights")


def start_settings(run: str | Path) -> dict[str, Any]:
    """The architecture settings of an ``lstmkit lm`` run (from its ``lstmkit.json``). A missing
    folder, another task's run or a BPE model (its merges cannot take new words) is one error."""
    meta = read_meta(run)
    if meta.get("task") != "lm":
        raise LstmkitError(f"{opt('init_from', str(run))} is a '{meta.get('task')}' run, not a language model",
                           worded("pass a run folder from 'lstmkit lm train'", "pass the run folder of a LanguageModel"))
    cfg = meta.get("config") or {}
    if cfg.get("level") == "bpe":
        raise LstmkitError(f"{opt('init_from', str(run))} is a BPE language model; fine-tuning starts from word or char "
                           "level only", f"train the general language model with {opt('level', 'word')}")
    return {k: cfg[k] for k in ARCHITECTURE if k in cfg}


def check_start(run: str | Path, want: dict[str, Any], given: dict[str, Any]) -> None:
    """An error naming the first setting in ``given`` that differs from the start run's (``want``)."""
    for key, value in want.items():
        if key in given and given[key] != value:
            raise LstmkitError(f"{opt(key, given[key])} does not fit {opt('init_from', str(run))}: it has "
                               f"{key.replace('_', ' ')} "
                               f"{value}", f"drop {opt(key)} (a fine-tuned model keeps the architecture it starts from)")


def extended_tokenizer(start: LMTokenizer, lines: Sequence[str], min_freq: int,
                       max_size: int | None) -> tuple[LMTokenizer, int]:
    """The start's tokenizer with the words (or characters) of ``lines`` seen at least
    ``min_freq`` times that it lacks appended, up to ``max_size`` base ids in all; and how many
    were added. The start's ids keep their meaning; ``<bos>`` / ``</s>`` stay the last two."""
    base, added = extend_tokenizer(start.base, lines, min_freq, max_size)
    tok = LMTokenizer(start.level, min_freq, max_size, start.lowercase)
    tok._set_base(base)
    return tok, added


def _row_map(start: LMTokenizer, new: LMTokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    """(new rows, start rows) for every start id: base ids keep their place, ``<bos>`` / ``</s>`` move."""
    n_base = len(start.itos) - 2
    dst = [*range(n_base), new.bos_id, new.eos_id]
    return torch.tensor(dst), torch.arange(len(start.itos))


def copy_start(net: nn.Module, start_net: nn.Module, start: LMTokenizer, new: LMTokenizer) -> None:
    """Copy the start model's weights into ``net`` (built for ``new``'s vocabulary): rows of the
    vocabulary-sized tensors by token, the new words' rows at the mean of the start's word rows
    (past ``<pad>`` and ``<unk>``), every other tensor whole."""
    own, theirs = net.state_dict(), start_net.state_dict()
    dst, src = _row_map(start, new)
    fresh = torch.ones(new.vocab_size, dtype=torch.bool)
    fresh[dst] = False
    n_words = len(start.itos) - 2
    with torch.no_grad():
        for name, value in theirs.items():
            if name not in own:
                raise LstmkitError(f"the language model to start from has {name}, this one has not",
                                   f"leave the architecture to {opt('init_from')}")
            mine = own[name]
            if name not in VOCAB_TENSORS and mine.shape == value.shape:
                mine.copy_(value)
            elif name in VOCAB_TENSORS and mine.shape[1:] == value.shape[1:]:
                mine[dst] = value[src].to(mine.dtype)
                mine[fresh] = value[2:n_words].mean(dim=0).to(mine.dtype)
            else:
                raise LstmkitError(f"the language model to start from has {name} {list(value.shape)}, "
                                   f"this one {list(mine.shape)}", f"leave the architecture to {opt('init_from')}")


def start_record(run: str | Path, start: LMTokenizer, added: int) -> dict[str, Any]:
    """What ``lstmkit.json`` records about the start (under ``data.init_from``)."""
    run = Path(run)
    return {"run": str(run.resolve()), "fingerprint": weights_fingerprint(run),
            "vocab": start.vocab_size, "words_added": added}
