"""Translation's deploy adapter: the :class:`~lstmkit.deploy.adapter.DeployAdapter` of a
:class:`~lstmkit.tasks.translate.estimator.Translator` (ONNX, int8, the HTTP service).

ONNX deployment is two graphs (:mod:`lstmkit.deploy.seq2seq`): ``encoder.onnx`` and a
one-step ``decoder.onnx``; beam search runs over them with the same code as over the torch
model. int8 quantizes every LSTM and Linear layer (torch) or each graph (ONNX Runtime) and
becomes the run's engine only if BLEU drops by at most 0.3.

The service takes ``{"sentences": ["..."], "beam": 5}`` and answers ``{"translations": [...]}``,
with ``"warnings": [...]`` naming the sentences longer than any the model was trained on, those
holding no word it knows and those whose translation was cut at the longest output the model writes
(:meth:`TranslateAdapter.notes`); an empty sentence translates to an empty string. Translation does not stream. Concurrent
requests are answered together (``answer_many``: one batched beam search per beam width).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstmkit.deploy.adapter import BadRequest, EstimatorAdapter, text_field, whole_int
from lstmkit.deploy.onnx_engine import OnnxRunner
from lstmkit.deploy.seq2seq import (DECODER_FILE, ENCODER_FILE, GRAPH_FILES, ORT_THREADS, OnnxSeq2Seq, StepGraph,
                                    export_graphs, onnx_seq2seq, token_source)
from lstmkit.errors import LstmkitError, opt, warnings_caught
from lstmkit.nn.seq2seq import BOS_ID, beam_search
from lstmkit.tasks.translate.data import EOS_ID, PAD_ID, UNK_ID, Pairs, read_pairs, split_pairs
from lstmkit.tasks.translate.estimator import (EVAL_BATCH, VOCAB_FILE, Translator, all_unknown, cut_short,
                                              longer_than_trained)
from lstmkit.tasks.translate.metrics import corpus_scores

__all__ = ["Adapter", "TranslateAdapter", "BLEU_LIMIT", "MAX_BEAM", "ORT_THREADS"]

BLEU_LIMIT = 0.3           # int8 may lose at most 0.3 BLEU to become the engine
MAX_BEAM = 50              # the widest beam the service decodes with


class TranslateAdapter(EstimatorAdapter):
    """Deploy hooks for a fitted :class:`Translator`."""

    task = "translate"
    models = "translators"
    window = None                       # a translator reads the whole sentence
    columns = ["sentence"]
    input_size = 1
    streams = False                     # one answer per whole sentence
    state_names: tuple[str, ...] = ()   # the decoder's state lives inside the beam search
    onnx_files = GRAPH_FILES
    run_files = (VOCAB_FILE,)           # what an int8 run copies beside its weights
    speed_unit = "sentences"
    speed_batch = EVAL_BATCH            # int8's throughput batch (sentences, greedy)

    estimator = Translator          # its net: the Seq2Seq, decoded with encode / step / reorder

    @property
    def state_shape(self) -> tuple[int, int]:
        return self.net.num_layers, self.net.hidden_size

    @property
    def around_graph(self) -> list[str]:
        """What lstmkit applies around the two graphs (``onnx.json``, and each graph's
        ``lstmkit_around_graph``): the words as ids before the encoder, the search that drives the
        decoder one step a call, the ids as words after it. All a caller with ONNX Runtime alone needs
        to translate as ``translate`` does: which inputs the decoder is fed back, the bounds on both
        sides, the search's ranking and what becomes of an empty sentence and of ``<unk>``."""
        c, est = self.est.config_, self.est
        src, tgt = est.src_tokenizer_, est.tgt_tokenizer_
        # each side's tokenizer in its own words: a BPE side's said 'vocab.json's src itos', which it has not
        state = f"{VOCAB_FILE}'s "
        cut = (f", cut to its first {c.max_len} (the rest is left out of the translation)" if c.max_len is not None
               else "")
        inputs = StepGraph(self.net).inputs
        fed = [n for n in inputs if n not in ("y_prev", "h", "c", "feed")]
        back = ", ".join(["h_next as h", "c_next as c"]
                         + ["feed_next as feed (zeros at the first step)"] * ("feed" in inputs))
        if fed:
            back += f", and the encoder's {_listed(fed)} as they are"
        unknown = (f"; each <unk> ({UNK_ID}) written is the source word that step's attention weighs most among "
                   "those the source vocabulary lacks too (among all when it knows every one)"
                   if src.kind == tgt.kind == "word" and self.net.attn is not None else "")
        return [f"ids: each sentence's {src.reading(state + 'src.')}{cut}, padded with {PAD_ID}; src_len: each "
                "sentence's count; a sentence of no ids (blank, or only what the cleaning drops) is the empty "
                "translation, not run through the graphs",
                f"decoding: beam search (beam {c.beam}; beam 1: greedy, the most probable token each step) over "
                f"log_softmax(logits), from y_prev = {BOS_ID} (<bos>) to {EOS_ID} (<eos>), at most min(ceil("
                f"{c.max_len_ratio:g} x src_len) + 2, {est.decode_steps()}) tokens; the answer the best by sum of "
                f"log-probabilities / ((5 + tokens) / 6) ** {c.length_penalty:g} of every hypothesis that ended "
                "(<eos>, or its limit), the greedy path's among them; the first step reads the encoder's h and c, "
                f"each next step {back}",
                f"words: {tgt.writing(state + 'tgt.')}, up to the first <eos>{unknown}"]

    @property
    def decoding(self) -> dict[str, Any]:
        """The numbers of :attr:`around_graph`'s search (``onnx.json``'s ``decoding``): the special ids,
        the run's beam and length penalty, and the bounds on the source and the output."""
        c = self.est.config_
        return {"pad": PAD_ID, "unk": UNK_ID, "bos": BOS_ID, "eos": EOS_ID, "beam": c.beam,
                "length_penalty": c.length_penalty, "max_len_ratio": c.max_len_ratio, "max_len": c.max_len,
                "max_output_tokens": self.est.decode_steps()}

    def stateful(self) -> nn.Module:
        raise LstmkitError("a translator exports an encoder and a one-step decoder graph, not one stateful graph",
                           "use export_graphs (lstmkit export onnx --run RUN)")

    def export_graphs(self, folder: Path, fingerprint: str, tolerance: float) -> dict[str, Any]:
        """``encoder.onnx`` and ``decoder.onnx`` into ``folder`` (see :mod:`~lstmkit.deploy.seq2seq`), and
        the two driven together as ``translate`` drives them (``decoding_check``)."""
        report = self.graphs_alone(folder, fingerprint, tolerance)
        return {**report, "decoding_check": self.decoding_check(Path(folder))}

    def graphs_alone(self, folder: Path, fingerprint: str, tolerance: float) -> dict[str, Any]:
        """``encoder.onnx`` and ``decoder.onnx`` into ``folder``, each checked against PyTorch alone, not
        driven together: the float graphs int8 quantizes, whose quantized graphs it scores on the test
        pairs itself (the decoding check's beam searches took 6 s of a tiny translator's int8 export,
        their numbers dropped)."""
        return export_graphs(self.net, Path(folder), fingerprint, tolerance, self.task, around=self.around_graph)

    def decoding_check(self, folder: Path, sentences: int = 8, steps: int = 9) -> dict[str, Any]:
        """Each graph is checked alone against PyTorch on random state; this decodes ``sentences`` random
        sources (up to ``steps`` ids) through both graphs written in ``folder``, greedy and with the run's
        beam, as ``translate`` does: ``{"sentences", "beams", "searches", "same_tokens"}``, the last the
        searches that wrote PyTorch's tokens (all of them, but where two tokens tie to float rounding)."""
        onnx = OnnxSeq2Seq(OnnxRunner(folder / ENCODER_FILE, ORT_THREADS, quiet=True),
                           OnnxRunner(folder / DECODER_FILE, ORT_THREADS, quiet=True))
        src, lengths = token_source(self.est.src_tokenizer_.vocab_size)(sentences, steps, 4)
        cfg, beams, same = self.est.config_, sorted({1, self.est.config_.beam}), 0
        for beam in beams:
            search = [beam_search(net, src, lengths, beam, cfg.length_penalty, cfg.max_len_ratio,
                                  self.est.decode_steps()) for net in (self.net, onnx)]
            same += sum(a.ids == b.ids for a, b in zip(*search))
        return {"sentences": sentences, "beams": beams, "searches": sentences * len(beams), "same_tokens": same}

    def onnx_net(self, run: Path) -> nn.Module:
        """The exported graphs as a module beam search drives (:data:`~lstmkit.deploy.seq2seq.ORT_THREADS`
        each, a call's batches side by side); refused when missing or stale."""
        return onnx_seq2seq(run)

    def example_inputs(self, batch: int, steps: int | None = None, seed: int = 0) -> torch.Tensor:
        """Random source ids ``[batch, steps]`` (no special tokens)."""
        g = torch.Generator().manual_seed(seed)
        vocab = self.est.src_tokenizer_.vocab_size
        return torch.randint(4, max(vocab, 5), (batch, steps or 12), generator=g)

    def infer(self, net: nn.Module, src: torch.Tensor) -> list[list[int]]:
        """One inference call for int8's speed and agreement: greedy tokens of every row of ``src``."""
        lengths = torch.full((src.shape[0],), src.shape[1], dtype=torch.long)
        cfg = self.est.config_
        return [h.ids for h in beam_search(net, src, lengths, 1, cfg.length_penalty, cfg.max_len_ratio,
                                           self.est.decode_steps())]

    def metadata(self) -> dict[str, Any]:
        c = self.est.config_
        return {"task": self.task, "model": c.model, "attention": c.attention, "hidden_size": c.hidden_size,
                "num_layers": c.num_layers, "tokenizer": c.tokenizer, "max_len": c.max_len, "beam": c.beam,
                "max_source_tokens": self.est.source_limit(), "max_output_tokens": self.est.decode_steps(),
                "max_beam": MAX_BEAM, "vocab": {"src": self.est.src_tokenizer_.vocab_size,
                                                "tgt": self.est.tgt_tokenizer_.vocab_size},
                "request": '{"sentences": ["..."], "beam": 5}'}

    # -- int8 -------------------------------------------------------------------------------
    def test_metrics(self, net: nn.Module, data=None) -> dict[str, float] | None:
        """BLEU and chrF of ``net``'s translations (the run's beam) of ``data`` (a table with the
        run's source and target columns, a DataFrame or (source, target) pairs), else of the
        run's validation pairs; None when neither can be read."""
        cfg = self.est.config_
        pairs = (read_pairs(data, cfg.src, cfg.tgt, encoding=cfg.encoding, drop_empty=True) if data is not None
                 else self.validation_pairs())
        if pairs is None:
            return None
        with warnings_caught():                   # over-long sentences are truncated, as in evaluate
            warnings.simplefilter("ignore", UserWarning)
            hyps = self._translations(net, pairs.src, None, cfg.beam)
        scores = corpus_scores(hyps, self.est.references(pairs.tgt)[0], self.est.scored_lowercase())
        return {"bleu": float(scores["bleu"]), "chrf": float(scores["chrf"])}

    def validation_pairs(self) -> Pairs | None:
        """The run's validation pairs, read again from the files it was trained on (the split is
        seeded), or None for a run trained on data in memory or files no longer there."""
        files, cfg = (getattr(self.est, "data_summary_", None) or {}).get("files") or {}, self.est.config_
        try:
            if files.get("val_data") or files.get("val_src_file"):
                return read_pairs(files.get("val_data"), cfg.src, cfg.tgt, files.get("val_src_file"),
                                  files.get("val_tgt_file"), cfg.encoding, drop_empty=True)
            if files.get("data") or files.get("src_file"):
                full = read_pairs(files.get("data"), cfg.src, cfg.tgt, files.get("src_file"), files.get("tgt_file"),
                                  cfg.encoding, cfg.drop_empty)
                return full.subset(split_pairs(len(full), cfg.val_frac, cfg.train.seed)[1])
        except LstmkitError:
            return None
        return None

    def quality_data_fix(self) -> str:
        """What the int8 check asks for when the run has no pairs to score
        (:func:`~lstmkit.deploy.quantize.export_int8`)."""
        return f"pass {opt('data')} with a table of source and target sentence pairs"

    def quality_refusal(self, before: dict | None, after: dict | None) -> str | None:
        """Why an int8 model may not become the engine (None: BLEU holds within 0.3)."""
        if not before or not after:
            return "no validation or test pairs to check BLEU"
        drop = before["bleu"] - after["bleu"]
        if drop > BLEU_LIMIT + 1e-9:
            return f"BLEU fell {drop:.2f} ({before['bleu']:.2f} -> {after['bleu']:.2f}; limit {BLEU_LIMIT})"
        return None

    # -- serving ----------------------------------------------------------------------------
    def state_refusal(self) -> str | None:
        return "a translator answers once per whole sentence"

    def fast_step(self):
        return None

    def request_models(self, Finite, max_instances: int) -> tuple[type, type]:
        """The service's typed request and response (pydantic, imported here: the serve extra)."""
        from typing import Optional
        from pydantic import BaseModel, ConfigDict, Field

        Sentence = text_field(blank=True)      # a blank one is answered: its translation is empty
        default_beam = self.est.config_.beam

        class TranslateRequest(BaseModel):
            model_config = ConfigDict(extra="forbid")
            sentences: list[Sentence] = Field(min_length=1, max_length=max_instances,
                                              description="source sentences (an empty one translates to '')")
            beam: whole_int(ge=1, le=MAX_BEAM) = Field(
                default_beam, description=f"beam width, 1 (greedy) to {MAX_BEAM} [the run's {default_beam}]")

        class TranslateResponse(BaseModel):
            translations: list[str]
            engine: str
            warnings: Optional[list[str]] = Field(None, description="what the client should know, naming the "
                                                  "sentences (sentences[i]): longer than any the model was trained "
                                                  "on, holding no word it knows, or translated up to the longest "
                                                  "output the model writes and cut there; absent when none")

        return TranslateRequest, TranslateResponse

    def check_request(self, sentences: Any, beam: Any) -> list[list[int]]:
        """The sentences' source ids, or a :class:`BadRequest` naming the field of a request the
        model cannot answer as asked."""
        if isinstance(beam, bool) or not isinstance(beam, int) or not 1 <= beam <= MAX_BEAM:
            raise BadRequest(["beam"], f"beam must be an integer from 1 to {MAX_BEAM}, got {beam!r}",
                             f"send a beam from 1 (greedy) to {MAX_BEAM}, or leave it out for the run's own")
        if not isinstance(sentences, (list, tuple)) or not sentences:
            raise BadRequest(["sentences"], "the request holds no sentences", 'send {"sentences": ["...", ...]}')
        limit, ids = self.est.source_limit(), []       # --max-len none too: no request runs away
        for i, s in enumerate(sentences):
            if not isinstance(s, str):
                raise BadRequest(["sentences", i], f"a sentence must be a string, got {type(s).__name__}",
                                 'send each sentence as a string ("...")')
            ids.append(self.est.src_tokenizer_.encode(s))
            if len(ids[-1]) > limit:
                raise BadRequest(["sentences", i], f"the sentence has {len(ids[-1])} tokens; "
                                                   f"this model reads at most {limit}",
                                 "split it into shorter sentences")
        return ids

    def answer(self, net: nn.Module, sentences: list[str], beam: int | None = None) -> dict[str, Any]:
        """A service request -> ``{"translations": [...]}`` (``net``: the torch or ONNX model)."""
        beam = self.est.config_.beam if beam is None else beam
        ids = self.check_request(sentences, beam)
        out = self._translated(net, list(sentences), ids, beam)
        return {"translations": [t for t, _ in out], **self.notes(sentences, ids, [h for _, h in out])}

    def answer_many(self, net: nn.Module, requests: list[dict[str, Any]]) -> list[dict[str, Any] | LstmkitError]:
        """Several service requests at once (the service's request-batching queue): the sentences
        of every request with one beam width go through one batched beam search (length-sorted
        batches of 64), then are handed back per request. A request the model refuses gets its
        own :class:`BadRequest` in its place; the others are answered."""
        results: list[dict[str, Any] | LstmkitError | None] = [None] * len(requests)
        by_beam: dict[int, list[int]] = {}
        ids: dict[int, list[list[int]]] = {}
        for i, request in enumerate(requests):
            sentences, beam = request.get("sentences"), request.get("beam")
            beam = self.est.config_.beam if beam is None else beam
            try:
                ids[i] = self.check_request(sentences, beam)
            except LstmkitError as e:
                results[i] = e
                continue
            by_beam.setdefault(beam, []).append(i)
        for beam, members in by_beam.items():
            texts = [s for i in members for s in requests[i]["sentences"]]
            try:
                out = self._translated(net, texts, [x for i in members for x in ids[i]], beam)
            except LstmkitError:            # answer one by one: the error lands on its own request
                for i in members:
                    try:
                        results[i] = self.answer(net, **requests[i])
                    except LstmkitError as e:
                        results[i] = e
                continue
            start = 0
            for i in members:
                n = len(requests[i]["sentences"])
                mine = out[start:start + n]
                results[i] = {"translations": [t for t, _ in mine],
                              **self.notes(requests[i]["sentences"], ids[i], [h for _, h in mine])}
                start += n
        return results

    def notes(self, sentences: list[str], ids: list[list[int]], hyps=()) -> dict[str, list[str]]:
        """``{"warnings": [...]}`` naming a request's sentences longer than any the model was trained
        on, those holding no word it knows (their translations are guesses) and those whose
        hypotheses ``hyps`` were cut at the longest output the model writes (as ``translate`` warns), or ``{}``."""
        seqs = [torch.tensor(x or [EOS_ID]) for x in ids]
        names = [f"sentences[{k}]" for k in range(len(ids))]
        longest = (getattr(self.est, "data_summary_", None) or {}).get("longest_source")
        steps = self.est.decode_steps()
        said = [longer_than_trained(seqs, longest, steps, names), all_unknown(list(sentences), seqs, names),
                cut_short(hyps, steps, names)]
        return {"warnings": w} if (w := [x for x in said if x]) else {}

    def _translations(self, net: nn.Module, sentences: list[str], ids: list[list[int]] | None,
                      beam: int) -> list[str]:
        return [t for t, _ in self._translated(net, sentences, ids, beam)]

    def _translated(self, net: nn.Module, sentences: list[str], ids: list[list[int]] | None,
                    beam: int) -> list[tuple[str, object]]:
        """``(translation, hypothesis)`` of each sentence (the hypotheses tell :meth:`notes` which were cut)."""
        return list(self.est._translate(sentences, beam, None, EVAL_BATCH, net=net, ids=ids))


def _listed(names: list[str]) -> str:
    """``memory, mask and keys``."""
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


Adapter = TranslateAdapter          # what lstmkit.deploy.registry looks up
