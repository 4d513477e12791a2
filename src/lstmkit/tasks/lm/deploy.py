"""Language models' deploy adapter: the :class:`~lstmkit.deploy.adapter.DeployAdapter` of a
:class:`~lstmkit.tasks.lm.estimator.LanguageModel` (ONNX, int8, a token scorer, the HTTP
service, token streams).

The ONNX graph (``lstmkit export onnx --run RUN``, lstm and gru models) is the step graph::

    x [batch, steps] int64 token ids, h0 [L, batch, H], c0 [L, batch, H]
        ->  y: logits [batch, steps, V], hn, cn                  (a GRU has h only)

(an LSTM's is traced time-major, its first layer reading a ``[V, 4H]`` table when ``V < E``:
:mod:`lstmkit.tasks.lm.graph`).

so one call scores a whole batch of texts and a stream feeds it one token at a time, carrying
``(h, c)``. Ids that are never predicted (``<pad>``, ``<bos>``) get the logit -1e30 in every
deployed network instead of the training network's -inf: their probability is 0 either way, but
engines can then be compared number by number and every answer is finite JSON.

``scorer(engine)`` is the :class:`~lstmkit.nn.scoring.TokenScorer` other rooms fuse with (speech's
CTC decoder): ``deploy.registry.adapter_for(lm_run).scorer("auto" | "torch" | "onnx")``.

The service (``POST /predict``) takes one request model with two shapes, told apart by the
field they carry (sending both, or neither, is a 422 naming ``prefix`` / ``texts``)::

    {"texts": ["a line", ...]}          -> {"logprobs": [log P(line) in nats, </s> included],
                                            "tokens": [tokens scored per line],
                                            "perplexity": [per-token perplexity per line],
                                            "warnings": [texts mostly of tokens never seen in
                                                         training, as evaluate warns; absent: none]}
    {"prefix": "the ", "max_tokens": 50, "temperature": 1.0, "top_k": null, "top_p": null, "seed": 0}
                                        -> {"text": prefix + sample, "drawn": n, "finished": bool}

A sample stops at ``</s>`` (``finished``) or after ``max_tokens`` (1 to 1000, default 50);
``temperature`` (default 1) must be finite, 0 or above (0: the likeliest token each step); ``top_k`` keeps the k
likeliest tokens (and any tied with the k-th); ``top_p`` (above 0, at most 1) then the likeliest whose
probabilities, after the temperature, sum to it (nucleus sampling); ``seed`` (default none) makes it
repeatable. A prefix of several lines is continued on its last line, which the model reads alone (one
ending in a line break: a new line). Token streams (one text piece per message, ``(h, c)`` per stream id) are
:class:`~lstmkit.tasks.lm.stream.LMStream`, opened with :meth:`LMAdapter.open_stream`.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.data.batching import pad_batch
from lstmkit.deploy.adapter import BadRequest, EstimatorAdapter, one_of, text_field, whole_int
from lstmkit.deploy.onnx_engine import OnnxNet, load_runner, no_saved_graph, resolve_engine
from lstmkit.deploy.registry import weights_fingerprint
from lstmkit.deploy.stateful import StatefulNet, recurrent_state_names
from lstmkit.errors import LstmkitError, first_of, opt, worded
from lstmkit.tasks.lm.data import PAD_ID, UNK_ID, cap_tokens, read_corpus, split_corpus
from lstmkit.tasks.lm.estimator import (LOGIT_CELLS, VOCAB_FILE, LanguageModel, logit_batches,
                                        trained_unk_rate, unknown_text, unknown_text_why)
from lstmkit.tasks.lm.graph import time_major_net
from lstmkit.tasks.lm.scorer import MAX_SAMPLE_SEED, GraphScorer, LMScorer, last_line, sample_text

__all__ = ["Adapter", "LMAdapter", "StepGraphNet", "deployed_net", "PERPLEXITY_LIMIT", "NEVER_LOGIT", "MAX_TOKENS",
           "QUALITY_PIECE"]

PERPLEXITY_LIMIT = 0.01          # int8 may raise the perplexity by at most 1 % to become the engine
NEVER_LOGIT = -1e30              # the logit of ids that are never predicted, in deployed networks
MAX_TOKENS = 1000                # tokens one sample request may draw
MAX_TEXT_TOKENS = 4096           # tokens of one text a score request may hold
QUALITY_PIECE = 4096              # tokens per piece of a long line in the int8 quality check


def deployed_net(net: nn.Module) -> nn.Module:
    """``net`` with finite logits for the never-predicted ids (a shallow copy: the same parameters)."""
    mask = getattr(net, "never_mask", None)
    if mask is None or torch.isfinite(mask).all():
        return net
    out = copy.copy(net)
    out._buffers = {**net._buffers, "never_mask": torch.where(torch.isinf(mask), NEVER_LOGIT, mask)}
    return out


class StepGraphNet(OnnxNet):
    """The run's step graph with the calls of the estimator's network (:meth:`LMAdapter.answering_graph`):
    ``net(x, lengths)`` -> logits ``[B, T, V]`` (the graph reads left to right, so the right padding past a
    line's length changes nothing before it: ``lengths`` is not needed) and ``run(x, state)`` ->
    ``(logits, state)``, the state the graph's arrays (None: zeros), as a long line is read in pieces."""

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x)

    def run(self, x: torch.Tensor, state=None) -> tuple[torch.Tensor, list[np.ndarray]]:
        y, state = self.runner.run(np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.int64), state)
        return torch.from_numpy(y), state


class LMAdapter(EstimatorAdapter):
    """Deploy hooks for a fitted :class:`~lstmkit.tasks.lm.estimator.LanguageModel`."""

    task = "lm"
    models = "language models"
    window = None                # a language model reads the whole prefix
    columns = ["text"]           # a streamed message is a piece of text
    input_size = 1               # one token id per step
    stream_key = "next"
    run_files = (VOCAB_FILE,)    # state files an int8 run copies

    estimator = LanguageModel

    def __init__(self, est: LanguageModel):
        super().__init__(est)
        self.tokenizer = est.tokenizer_
        self._deployed: tuple[nn.Module, nn.Module] | None = None

    # -- the model --------------------------------------------------------------------------
    @property
    def net(self) -> nn.Module:
        """``x [B, T] int64 -> logits [B, T, V]`` (eval mode; never-predicted ids at -1e30)."""
        own = self.est.net_.eval()
        if self._deployed is None or self._deployed[0] is not own:
            self._deployed = (own, deployed_net(own).eval())
        return self._deployed[1]

    @property
    def state_names(self) -> tuple[str, ...]:
        return recurrent_state_names(self.est.net_)

    def stateful(self) -> nn.Module:
        """The step graph ``(x, h0, c0) -> (logits, hn, cn)``; lstm and gru models only."""
        refusal = self.state_refusal()
        if refusal:
            raise LstmkitError(f"this language model has no step graph: {refusal}",
                               f"train it with {opt('model', 'lstm')} or {opt('model', 'gru')} to export or stream it")
        return StatefulNet(self.net, self.state_names).eval()

    def export_net(self) -> nn.Module | None:
        """What ``export onnx`` traces: an LSTM's time-major step graph with the first layer's
        input projection as a table (:mod:`lstmkit.tasks.lm.graph`; checked against
        :meth:`stateful` like any graph), else None (the stateful net itself)."""
        self.stateful()                          # refuses a model without a step graph
        return time_major_net(self.net)

    @property
    def around_graph(self) -> list[str]:
        """What lstmkit applies around the exported step graph (``onnx.json``), which the graph run
        on its own gives none of: the text as ids before it, the logits as log-probabilities after."""
        t, c = self.tokenizer, self.est.config_
        zero = " = ".join(f"{n}0" for n in self.state_names) + " = 0"
        carry = ", ".join(f"{n}n" for n in self.state_names)
        tokens = t.base.reading("vocab.json's base.")         # the level's own words (a BPE one has no itos)
        read = (f"ids: each line's {tokens}, after <bos> ({t.bos_id}, vocab.json's specials), "
                f"from {zero} ([{c.num_layers}, batch, {c.hidden_size}]); {carry} carry a line on to its next piece")
        answer = (f"log-probabilities: log_softmax(y) over the ids (<pad> and <bos> never predicted: logit "
                  f"{NEVER_LOGIT:g}); a line scores the sum over its tokens and </s> ({t.eos_id}), each read at "
                  "the step before it")
        return [read, answer]

    def zero_state(self, batch: int = 1) -> list[np.ndarray]:
        """The state before ``<bos>``: zeros ``[L, batch, H]`` per state name."""
        layers, hidden = self.state_shape
        return [np.zeros((layers, batch, hidden), np.float32) for _ in self.state_names]

    def example_inputs(self, batch: int, steps: int | None = None, seed: int = 0) -> torch.Tensor:
        """Random token ids ``[batch, steps]`` (never padding). Without ``steps``: 16, fewer for a
        large batch times vocabulary, so the logits stay within 64 MiB."""
        g = torch.Generator().manual_seed(seed)
        vocab = self.tokenizer.vocab_size
        steps = steps or max(1, min(16, LOGIT_CELLS // (batch * vocab)))
        return torch.randint(PAD_ID + 1, vocab, (batch, steps), generator=g)

    def metadata(self) -> dict[str, Any]:
        c = self.est.config_
        return {"task": self.task, "level": self.tokenizer.level, "vocab_size": self.tokenizer.vocab_size,
                "model": c.model, "hidden_size": c.hidden_size, "num_layers": c.num_layers, "columns": self.columns,
                "request": {"score": '{"texts": ["..."]}',
                            "sample": '{"prefix": "...", "max_tokens": 50, "temperature": 1.0, "seed": 0}'},
                "stream": 'one text piece per message ("a", "word" or {"text": "..."}); "</s>" ends the line'}

    # -- int8 -------------------------------------------------------------------------------
    def test_metrics(self, net: nn.Module, data=None) -> dict[str, float] | None:
        """Perplexity of ``net`` (called ``net(x)``) on ``data`` (a text file or lines), else on the
        run's validation text (its ``--val`` file, or the held-out lines of its ``--data`` file);
        None when neither is known (a model fitted on lines in memory)."""
        lines = self._held_out_lines(data)
        if lines is None:
            return None
        id_lines = [ids for ids in (self.tokenizer.encode(ln) for ln in lines) if ids]
        if not id_lines:
            raise LstmkitError("the validation text holds no token the tokenizer keeps",
                               f"pass {opt('data')} with text in the model's language")
        # A line of thousands of tokens (a one-line corpus's held-out end) is read in pieces, each
        # from a fresh state (the graph takes none): scored whole it would not fit. fp32 and int8
        # read the same pieces, so their perplexities compare.
        id_lines = [ids[k:k + QUALITY_PIECE] for ids in id_lines for k in range(0, len(ids), QUALITY_PIECE)]
        logprobs, counts = self.line_log_probs(net, id_lines)
        nats, n = -float(logprobs.sum()), int(counts.sum())
        return {"perplexity": math.exp(nats / n), "cross_entropy": nats / n}

    def _held_out_lines(self, data) -> list[str] | None:
        """The lines ``fit`` held out (read, capped and split as it did), or those of ``data``; None
        when the run's files are no longer there (as translate's and forecast's runs: the int8
        check then asks for ``--data``; it said "file not found ... a text itself goes in as a
        list of lines")."""
        cfg = self.est.config_
        if data is not None:
            return read_corpus(data, cfg.encoding, "--data", cfg.text_column).lines
        d = getattr(self.est, "data_summary_", None) or {}
        recorded = d.get("val_source") or d.get("source")
        if recorded and not Path(recorded).is_file():
            return None
        if d.get("val_source"):
            named = worded("the run's --val file", "the run's validation file")
            return read_corpus(d["val_source"], cfg.encoding, named, cfg.text_column).lines
        if not d.get("source"):
            return None
        training = read_corpus(d["source"], cfg.encoding, worded("the run's --data file", "the run's training file"),
                               cfg.text_column)
        full = cap_tokens(training, cfg.max_tokens, cfg.train.seed)
        return split_corpus(full, cfg.val_frac, cfg.train.seed)[1].lines

    def quality_data_fix(self) -> str:
        """What the int8 check asks for when the run has no text to score
        (:func:`~lstmkit.deploy.quantize.export_int8`)."""
        return f"pass {opt('data')} with text to score"

    def quality_refusal(self, before: dict | None, after: dict | None) -> str | None:
        """Why an int8 model may not become the engine (None: perplexity within +1 %)."""
        if not before or not after:
            return "no validation text to check the perplexity"
        rise = after["perplexity"] / before["perplexity"] - 1.0
        if not rise <= PERPLEXITY_LIMIT + 1e-12:
            return (f"perplexity rose {100 * rise:.2f} % ({before['perplexity']:.4f} -> {after['perplexity']:.4f}; "
                    f"limit {100 * PERPLEXITY_LIMIT:.0f} %)")
        return None

    def line_log_probs(self, net: nn.Module, id_lines: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """``(log P(line) [N] float64, tokens [N])`` of whole lines (``<bos> ids`` -> ``ids </s>``)
        with ``net`` (``x -> logits``, any engine). Lines are right-padded and the model reads left
        to right, so padding never changes a line's answer."""
        tok, vocab = self.tokenizer, self.tokenizer.vocab_size
        counts = np.array([len(ids) + 1 for ids in id_lines])
        out = np.zeros(len(id_lines))
        for idx in logit_batches(counts.tolist(), vocab):
            x, _ = pad_batch([torch.tensor([tok.bos_id, *id_lines[i]]) for i in idx], PAD_ID)
            y, _ = pad_batch([torch.tensor([*id_lines[i], tok.eos_id]) for i in idx], PAD_ID)
            with torch.inference_mode():
                logits = net(x).float()                                         # [B, T, V]
                lp = torch.log_softmax(logits, dim=-1).gather(-1, y[..., None])[..., 0]
                out[idx] = torch.where(y != PAD_ID, lp, 0.0).double().sum(dim=1).numpy()   # [B]
        return out, counts

    def answering_graph(self, run: Path) -> nn.Module:
        """``run``'s step graph as the estimator's network answers (:class:`StepGraphNet`): what ``predict``,
        ``perplexity``, ``evaluate``, ``sample`` and ``scorer`` answer with where the run is an int8 run whose export
        chose ONNX Runtime."""
        return StepGraphNet(load_runner(run))

    # -- the scorer other rooms fuse with --------------------------------------------------------
    def scorer(self, engine: str = "auto"):
        """A :class:`~lstmkit.nn.scoring.TokenScorer` of this model: ``torch`` steps the network
        (:class:`~lstmkit.tasks.lm.scorer.LMScorer`), ``onnx`` the run's exported step graph
        (:class:`~lstmkit.tasks.lm.scorer.GraphScorer`); ``auto``: the run's int8 engine, else ONNX
        when a graph of these weights is there, else torch. Both answer the same, cached alike."""
        if self.tokenizer.level not in ("char", "word"):
            raise LstmkitError(f"a {self.tokenizer.level}-level model has no streaming scorer for decoders",
                               f"train the language model with {opt('level', 'char')} or {opt('level', 'word')}")
        if self._engine(engine) == "torch":
            return LMScorer(self.est.net_, self.tokenizer)
        runner = load_runner(self.run)
        return GraphScorer(runner, self.tokenizer, runner.zero_state(1))

    def _engine(self, engine: str, run: Path | None = None) -> str:
        run = run if run is not None else self.run
        chosen = resolve_engine(run, engine, self.preferred_engine)
        if chosen == "onnx" and run is None:
            raise no_saved_graph()
        return chosen

    # -- streaming --------------------------------------------------------------------------
    @property
    def streams(self) -> bool:
        """Whether the service opens ``/stream`` (a token stream, :meth:`open_stream`)."""
        return self.state_refusal() is None

    def state_refusal(self) -> str | None:
        """Why this model cannot step token by token with a carried state (None when it can)."""
        if not self.state_names:
            reads = {"lstm-attention": "every earlier token", "transformer": "every earlier token",
                     "cnn-lstm": "the tokens its convolution spans", "tcn": "the tokens its receptive field spans"}
            return (f"its encoder ({self.est.config_.model}) does not step with a recurrent state alone (it reads "
                    f"{reads.get(self.est.config_.model, 'earlier tokens')} again at each step); lstm and gru do")
        return None

    def open_stream(self, engine: str = "auto", run: str | Path | None = None, top_k: int = 5,
                    max_streams: int | None = None):
        """A token stream (:class:`~lstmkit.tasks.lm.stream.LMStream`) on ``engine``: one text piece
        per message, ``(h, c)`` per stream id; ``run`` defaults to the model's own run folder."""
        from lstmkit.deploy.streaming import TorchCore
        from lstmkit.tasks.lm.stream import LMStream
        run = Path(run) if run is not None else self.run
        if self._engine(engine, run) == "onnx":
            runner = load_runner(run)
            graph, zero, names = runner, runner.zero_state(1), runner.state_names
        else:
            graph, zero, names = TorchCore(self.stateful()), self.zero_state(1), self.state_names
        return LMStream(graph, self.tokenizer, zero, names, top_k=top_k, max_streams=max_streams,
                        fingerprint=weights_fingerprint(run) if run is not None else None)

    def fast_step(self):
        return None

    def encode_row(self, obs: Any) -> np.ndarray:
        """One text piece -> its token ids (int64; see :meth:`LMStream.encode`)."""
        from lstmkit.tasks.lm.stream import encode_piece
        return np.asarray(encode_piece(self.tokenizer, obs), dtype=np.int64)

    def encode_rows(self, rows: np.ndarray) -> np.ndarray:
        raise LstmkitError("a language model reads text, not rows of numbers", 'send {"texts": ["..."]}')

    def decode(self, y: np.ndarray) -> np.ndarray:
        """Logits ``[..., V]`` -> log-probabilities ``[..., V]``."""
        return torch.log_softmax(torch.as_tensor(np.asarray(y, dtype=np.float64)), dim=-1).numpy()

    def to_json(self, logp: np.ndarray, k: int = 5) -> dict[str, Any]:
        """One next-token distribution (log-probabilities ``[V]``) -> its ``k`` most likely tokens."""
        from lstmkit.tasks.lm.stream import top_tokens
        return {"next": top_tokens(self.tokenizer, logp, k)}

    # -- serving ----------------------------------------------------------------------------
    def request_models(self, Finite, max_instances: int) -> tuple[type, type]:
        """The service's typed request and response (pydantic, imported here: the serve extra)."""
        from typing import Annotated, Optional
        from pydantic import BaseModel, ConfigDict, Field

        Text = text_field(blank=True)     # a prefix: '' starts a new line
        Line = text_field()               # a blank one scores nothing
        sampling = ["max_tokens", "temperature", "top_k", "top_p", "seed"]

        class LMRequest(BaseModel):
            model_config = ConfigDict(extra="forbid", json_schema_extra=one_of({"texts": ["prefix", *sampling],
                                                                                "prefix": ["texts"]}))
            texts: Optional[list[Line]] = Field(None, min_length=1, max_length=max_instances,
                                                description="lines to score (log-probability, perplexity)")
            prefix: Optional[Text] = Field(None, description="text to continue ('' for a new line): sampling")
            max_tokens: Optional[whole_int(ge=1, le=MAX_TOKENS)] = Field(None, description="sampling: most tokens "
                                                                                            "drawn [50]")
            temperature: Optional[Annotated[Finite, Field(ge=0)]] = Field(None, description="sampling: >= 0, 0 greedy [1.0]")
            top_k: Optional[whole_int(ge=1)] = Field(None, description="sampling: draw from the k most likely tokens")
            top_p: Optional[Annotated[Finite, Field(gt=0, le=1)]] = Field(
                None, description="sampling: draw from the likeliest tokens holding this share of the probability")
            seed: Optional[whole_int(ge=0, le=MAX_SAMPLE_SEED)] = Field(None, description="sampling: repeatable draws")

        class LMResponse(BaseModel):
            text: Optional[str] = None
            drawn: Optional[int] = None
            finished: Optional[bool] = None
            logprobs: Optional[list[float]] = None
            tokens: Optional[list[int]] = None
            perplexity: Optional[list[float]] = None
            warnings: Optional[list[str]] = Field(None, description="what the client should know: texts mostly "
                                                  "of tokens the model never saw, whose perplexity means little")
            engine: str

        return LMRequest, LMResponse

    def answer(self, net: nn.Module, texts: list[str] | None = None, prefix: str | None = None,
               max_tokens: int | None = None, temperature: float | None = None, top_k: int | None = None,
               seed: int | None = None, top_p: float | None = None) -> dict[str, Any]:
        """A service request -> a score or a sample (see the module docstring); bad input is a
        :class:`BadRequest` naming its field."""
        if texts is not None and prefix is not None:
            raise BadRequest(["prefix"], "the request sends both 'texts' and 'prefix'",
                             "send either 'texts' (to score) or 'prefix' (to sample), not both")
        if texts is None and prefix is None:
            raise BadRequest(["texts"], "the request sends neither 'texts' nor 'prefix'",
                             'send {"texts": [...]} to score lines or {"prefix": "..."} to sample')
        if texts is not None:
            for name, value in (("max_tokens", max_tokens), ("temperature", temperature), ("top_k", top_k),
                                ("top_p", top_p), ("seed", seed)):
                if value is not None:
                    raise BadRequest([name], f"'{name}' belongs to sampling (with 'prefix'); scoring takes "
                                     "'texts' only",
                                     f"leave '{name}' out, or send a 'prefix' instead of 'texts' to sample")
            return self.score(net, texts)
        return self.sample(net, prefix, _count("max_tokens", max_tokens, 50, 1, MAX_TOKENS),
                           _temperature(temperature), _count("top_k", top_k, None, 1, None),
                           _count("seed", seed, None, 0, MAX_SAMPLE_SEED), _top_p(top_p))

    def score(self, net: nn.Module, texts: list[str]) -> dict[str, Any]:
        """``{"logprobs", "tokens", "perplexity"}`` of each text, one line each."""
        if not isinstance(texts, list) or not texts:
            raise BadRequest(["texts"], "the request holds no texts", 'send {"texts": ["...", ...]}')
        id_lines = []
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise BadRequest(["texts", i], f"a text must be a string, got {type(t).__name__}",
                                 'send each text as a string ("...")')
            ids = self.tokenizer.encode(t) if t.strip() else []
            if not ids:
                raise BadRequest(["texts", i], "the text is empty (no tokens)", "send text with at least one token")
            if len(ids) > MAX_TEXT_TOKENS:
                raise BadRequest(["texts", i], f"the text has {len(ids)} tokens; at most {MAX_TEXT_TOKENS}",
                                 "split it into lines, one text each")
            id_lines.append(ids)
        logprobs, counts = self.line_log_probs(net, id_lines)
        for i, lp in enumerate(logprobs):
            if not math.isfinite(lp):
                raise BadRequest(["texts", i], "the model's output is not finite for this text",
                                 "score the other texts without it; retrain the model if it happens often")
        return {"logprobs": [float(v) for v in logprobs], "tokens": [int(n) for n in counts],
                "perplexity": [math.exp(-lp / n) for lp, n in zip(logprobs, counts)], **self._unknown_note(id_lines)}

    def _unknown_note(self, id_lines: list[list[int]]) -> dict[str, list[str]]:
        """``{"warnings": [...]}`` naming the texts mostly of ``<unk>``, as ``evaluate`` warns of a text
        (``{}``: none): each such text's perplexity flatters the model."""
        trained = (getattr(self.est, "data_summary_", None) or {}).get("unk_rate_train")
        rates = [sum(i == UNK_ID for i in ids) / (len(ids) + 1) for ids in id_lines]   # of its "tokens", </s> too
        far = [i for i, r in enumerate(rates) if unknown_text(r, trained)]
        if not far:
            return {}
        level, train = self.est.config_.level, trained_unk_rate(trained)
        shown = first_of(far, 5, lambda i: f"texts[{i}] {rates[i]:.0%}")
        return {"warnings": [f"{shown} of their {level} tokens are <unk> (of the training text's "
                             f"{train:.0%}): {unknown_text_why(level)}; send text like the training text"]}

    def sample(self, net: nn.Module, prefix: str, max_tokens: int = 50, temperature: float = 1.0,
               top_k: int | None = None, seed: int | None = None, top_p: float | None = None) -> dict[str, Any]:
        """``{"text", "drawn", "finished"}``: up to ``max_tokens`` tokens after ``prefix``, ending at
        ``</s>``, drawn with ``net``'s engine (an ONNX net steps its graph, carrying the state)."""
        if not isinstance(prefix, str):
            raise BadRequest(["prefix"], f"the prefix must be a string, got {type(prefix).__name__}",
                             'send the prefix as a string ("...")')
        # the prefix's last line is read one step at a time (the earlier ones not at all, as each line
        # starts afresh): bounded as a scored text is
        line = last_line(prefix)[1]
        n_prefix = len(self.tokenizer.encode(line)) if line.strip() else 0
        if n_prefix > MAX_TEXT_TOKENS:
            raise BadRequest(["prefix"], f"the prefix's last line has {n_prefix} tokens; at most {MAX_TEXT_TOKENS}",
                             "send the end of the line only: the model's state after a few hundred tokens "
                             "carries what the rest would")
        if isinstance(net, OnnxNet):
            scorer = GraphScorer(net.runner, self.tokenizer, net.runner.zero_state(1))
        else:
            scorer = LMScorer(net, self.tokenizer)
        text, info = sample_text(scorer, max_tokens, prefix, temperature, top_k, seed, stop_at_end=True, top_p=top_p)
        return {"text": text, "drawn": info["tokens"], "finished": info["finished"]}



def _count(name: str, value: Any, default: int | None, low: int, high: int | None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low \
            or (high is not None and value > high):
        bound = f"{low} to {high}" if high is not None else f"at least {low}"
        raise BadRequest([name], f"`{name}` must be an integer {bound}, got {value!r}",
                         f"send {name} as a whole number {bound}, or leave it out")
    return int(value)


def _temperature(value: Any) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise BadRequest(["temperature"], f"`temperature` must be a finite number, 0 or above, got {value!r}",
                         "send a temperature of 0 or above (1.0 samples as trained, 0 the likeliest token each "
                         "step), or leave it out")
    return float(value)


def _top_p(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:     # NaN fails both
        raise BadRequest(["top_p"], f"`top_p` must be a number above 0 and at most 1, got {value!r}",
                         "send a top_p such as 0.9 (the likeliest tokens holding 90 % of the probability), "
                         "or leave it out")
    return float(value)


Adapter = LMAdapter          # what lstmkit.deploy.registry looks up
