"""Classification's deploy adapter: the :class:`~lstmkit.deploy.adapter.DeployAdapter` of a
:class:`~lstmkit.tasks.classify.estimator.TextClassifier` or
:class:`~lstmkit.tasks.classify.estimator.SequenceClassifier` (ONNX, int8, the HTTP service).

The graph is the classifier itself with its ``lengths`` as an input::

    x [batch, steps] int64 token ids (text) | [batch, steps, F] float32 (numeric),
    lengths [batch] int64  ->  y: logits [batch] (two classes) | [batch, C]

so a padded batch answers as each sequence alone. The service takes ``{"texts": [...]}`` or
``{"series": [[...], ...]}`` and answers labels and probabilities (with ``"warnings":
["series[i]: ..."]`` for a series far outside the training range, as ``predict`` warns).

A numeric classifier that reads left to right (a one-directional LSTM / GRU, ``pooling="last"``)
also streams: one step in, the label and probabilities of the sequence so far out (exactly
``predict`` on the prefix; a step past ``max_len`` is refused, as ``predict`` cuts a longer
series to its first and / or last steps), with the torch engine carrying ``(h, c)``
(:func:`lstmkit.deploy.streaming.make_stream`, WebSocket ``/stream``); a step far outside the
training range is warned of there too (:meth:`ClassifyAdapter.far_outside_notes`).
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.data.batching import Ragged, pad_batch, truncate
from lstmkit.data.ranges import reach, read_range
from lstmkit.data.vocab import PAD_ID, UNK_ID
from lstmkit.deploy.adapter import BadRequest, EstimatorAdapter, observation_row, one_of, text_field
from lstmkit.deploy.stateful import StatefulNet, recurrent_state_names
from lstmkit.errors import LstmkitError, opt, worded
from lstmkit.files import path_exists
from lstmkit.nn.fcn import FCN_MODELS
from lstmkit.runs import read_meta
from lstmkit.tasks.classify.classifier import LONGER, Classifier
from lstmkit.tasks.classify.estimator import TASK, VOCAB_FILE
from lstmkit.tasks.classify.fit_checks import kept_part

__all__ = ["Adapter", "ClassifyAdapter", "ACCURACY_LIMIT"]

ACCURACY_LIMIT = 0.005           # int8 may lose at most 0.5 accuracy points to become the engine
# ONNX Runtime session entries of an LSTM-FCN graph. Its convolutions split every group of rows
# across the intra-op threads, and by default a worker spins after each piece of work, waiting for
# the next: it then holds a core the other threads and processes need, and with one other busy
# process on the machine the graph ran at half the speed of one thread. Workers that sleep when
# idle keep its throughput (benchmarks/inference.py --task classify).
FCN_SESSION = {"session.intra_op.allow_spinning": "0"}


class ClassifyAdapter(EstimatorAdapter):
    """Deploy hooks for a fitted text or numeric-sequence classifier."""

    task = "classify"
    models = "classifiers"
    window = None                # a classifier reads the whole sequence
    stream_key = "prediction"    # /stream answers {"step": n, "prediction": {...}}

    def __init__(self, est: Classifier):
        super().__init__(est)
        self.kind = est.kind
        self.classes = list(est.class_names_)
        self.run_files: tuple[str, ...] = ()            # state files an int8 run copies
        self._reach: tuple | None = None                # scaled bounds a streamed step must pass to be checked
        if self.kind == "text":
            self.columns = ["text"]
            self.input_size = 1
            self.run_files = (VOCAB_FILE,)
        else:
            self.input_size = int(est.scaler_.n_columns_)
            self.columns = list(getattr(est, "feature_names_", None) or [f"x{i}" for i in range(self.input_size)])

    @classmethod
    def estimator_for(cls, run: str | Path) -> type:
        return Classifier.class_for(read_meta(run, TASK), run)

    state_names: tuple[str, ...] = ()        # the exported graph carries none (see stream_graph)

    @property
    def around_graph(self) -> list[str]:
        """What ``predict`` applies around the exported graph, which the graph run on its own (ONNX
        Runtime by hand, ``examples/onnx_by_hand.py``) does not: the words as ids or the values
        scaled before it, the logits as probabilities after it (in ``onnx.json``)."""
        c = self.est.config_
        # the tokenizer's own words: a char or BPE run's said 'words … vocab.json's itos', which it has not
        read = (f"ids: each text's {self.est.tokenizer_.reading()}, [{UNK_ID}] for a text of none, cut to "
                f"{c.max_len} ({c.truncate}), padded with {PAD_ID}; lengths: each text's count"
                if self.kind == "text" else
                "scaling: every feature by lstmkit.json's preprocessing.scaler (standard: (x - mean) / scale; "
                "minmax: x * scale + min; none: as it is); lengths: each sequence's steps")
        answer = ("probabilities: sigmoid(y), that of classes[1] (lstmkit.json's classes)" if len(self.classes) == 2
                  else "probabilities: softmax(y) over lstmkit.json's classes")
        return [read, answer]

    def onnx_net(self, run: Path) -> nn.Module:
        """The net under the ONNX engine: ``run``'s graph over length-sorted groups of rows (each
        cut to its longest length, the steps torch's packed sequences compute; see
        :class:`~lstmkit.deploy.onnx_engine.LengthSortedOnnxNet`). A padded batch answers as each
        sequence alone, so the groups answer as the whole batch does."""
        from lstmkit.deploy.onnx_engine import LengthSortedOnnxNet, load_runner
        fcn = self.kind == "series" and self.est.config_.model in FCN_MODELS
        return LengthSortedOnnxNet(load_runner(run, config=FCN_SESSION if fcn else None))

    @property
    def streams(self) -> bool:
        """Whether the service opens ``/stream`` (see :meth:`state_refusal`)."""
        return self.state_refusal() is None

    def stream_graph(self) -> nn.Module:
        """``(x [B, T, F], h, c) -> (logits, h, c)``: the net carrying its encoder's state (streaming)."""
        return StatefulNet(self.net, recurrent_state_names(self.net)).eval()

    @property
    def state_shape(self) -> tuple[int, int]:
        enc = self.net.encoder
        return getattr(enc, "num_layers", 1), getattr(enc, "hidden_size", 0)

    def stateful(self) -> nn.Module:
        """The graph to export: ``(x, lengths) -> logits``, the net with its LSTM / GRU layers as
        torch's own (same weights), whose packed-sequence path exports with dynamic shapes."""
        from lstmkit.deploy.int8_torch import swap_recurrent
        return swap_recurrent(self.net).eval()

    def example_inputs(self, batch: int, steps: int | None = None, seed: int = 0) -> torch.Tensor:
        """Random token ids ``[batch, steps]`` (never padding) or values ``[batch, steps, F]``."""
        g = torch.Generator().manual_seed(seed)
        steps = steps or 12
        if self.kind == "text":
            vocab = self.est.tokenizer_.vocab_size
            return torch.randint(PAD_ID + 1, max(vocab, PAD_ID + 2), (batch, steps), generator=g)
        return torch.randn(batch, steps, self.input_size, generator=g)

    def extra_inputs(self, x: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
        """``lengths [B]``: random in ``[1, T]``, the first row full (the graph's second input)."""
        g = torch.Generator().manual_seed(seed + 1)
        lengths = torch.randint(1, x.shape[1] + 1, (x.shape[0],), generator=g)
        lengths[0] = x.shape[1]
        return {"lengths": lengths}

    def metadata(self) -> dict[str, Any]:
        c = self.est.config_
        return {"task": self.task, "kind": self.kind, "classes": self.classes, "model": c.model,
                "pooling": c.pooling, "max_len": c.max_len, "columns": self.columns,
                "request": '{"texts": ["..."]}' if self.kind == "text" else '{"series": [[...], ...]}'}

    # -- int8 -------------------------------------------------------------------------------
    def test_metrics(self, net: nn.Module, data=None) -> dict[str, float] | None:
        """Accuracy and macro-F1 of ``net`` (called ``net(x, lengths)``) on ``data`` (as ``evaluate``
        reads it, or ``(X, y)``), else on the run's test file; None when neither is there (a test
        file that moved with the run: the int8 check then asks for ``--data``, as lm's, speech's and
        translate's do; it said 'file not found: OLD PATH — check the path' of a path the user never
        gave)."""
        data = data if data is not None else (getattr(self.est, "data_summary_", None) or {}).get("test_source")
        if data is None or isinstance(data, str) and not path_exists(data):
            return None
        # scikit-learn's (X, y), as translate's data= takes (sources, references): it read as a list of two texts
        xy = data if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], str) else (data,)
        with self._answering_with(net):
            m = self.est.evaluate(*xy)
        return {k: float(v) for k, v in m.items() if k in ("accuracy", "macro_f1", "roc_auc")}

    @contextlib.contextmanager
    def _answering_with(self, net: nn.Module):
        """``net`` answers the estimator's calls (not the graph an int8 run's recorded engine names)."""
        own, engine = self.est.net_, vars(self.est).get("_loaded_engine")
        self.est.net_, self.est._loaded_engine = net, None
        try:
            yield
        finally:
            self.est.net_, self.est._loaded_engine = own, engine

    def quality_data_fix(self) -> str:
        """What the int8 check asks for when the run has no test data (:func:`~lstmkit.deploy.quantize.export_int8`)."""
        return f"pass {opt('data')} with labelled test examples"

    def quality_refusal(self, before: dict | None, after: dict | None) -> str | None:
        """Why an int8 model may not become the engine (None: accuracy holds within 0.5 points)."""
        if not before or not after:
            return "no test data to check the accuracy"
        drop = before["accuracy"] - after["accuracy"]
        if drop > ACCURACY_LIMIT + 1e-12:
            return (f"accuracy fell {100 * drop:.2f} points ({before['accuracy']:.4f} -> {after['accuracy']:.4f}; "
                    f"limit {100 * ACCURACY_LIMIT:.1f})")
        return None

    # -- serving ----------------------------------------------------------------------------
    def state_refusal(self) -> str | None:
        """Why this classifier cannot stream (None when it reads left to right and answers from
        its last step)."""
        if self.kind == "text":
            return "a text classifier answers once per whole text"
        if self.est.config_.model in FCN_MODELS:
            return (f"{self.est.config_.model} (LSTM-FCN) reads the whole series at once: its LSTM runs across the "
                    "features of the full series and its convolutions look ahead; streaming needs a one-directional "
                    f"LSTM/GRU with pooling 'last' ({opt('model', 'lstm')}{worded(' ', ', ')}{opt('pooling', 'last')})")
        if self.est.config_.pooling != "last":
            return f"it pools over every step ({self.est.config_.pooling!r}); streaming needs pooling 'last'"
        if not recurrent_state_names(self.net) or getattr(self.est, "quantization_", None):
            return "its encoder is not a one-directional float LSTM/GRU"
        return None

    def stream_step_refusal(self, steps: int) -> LstmkitError | None:
        """Why a stream that has read ``steps`` steps may read no more (None: it may): ``predict``
        reads a series longer than ``max_len`` cut to its first and / or last steps, which no state
        carried step by step gives (the stream read on, and answered what ``predict`` does not)."""
        n = self.est.config_.max_len
        if n is None or steps < n:
            return None
        return LstmkitError(f"it has read {n} steps, the most this model reads (max_len={n}): predict reads a longer "
                            f"series as its {kept_part(n, self.est.config_.truncate)} steps, which a stream cannot",
                            "reset the stream to classify a new series from its start; to stream longer series, train "
                            "with " + worded("a larger --max-len (or --max-len none)", "a larger max_len (or max_len=None)"))

    def fast_step(self):
        return None

    def encode_rows(self, rows: np.ndarray) -> np.ndarray:
        """Steps ``[N, F]`` in original units -> standardised float32 (numeric classifiers)."""
        from lstmkit.tasks.classify.series import scaled_as_float32
        rows = np.asarray(rows, dtype=np.float64)
        return scaled_as_float32(self.est.scaler_.transform(rows), rows, [len(rows)] if len(rows) > 1 else None)

    def encode_row(self, obs: Any) -> np.ndarray:
        """One step (number, list in column order, or ``{column: value}``) -> standardised ``[F]``."""
        return self.encode_rows(observation_row(obs, self.columns))[0]

    def decode(self, y: np.ndarray) -> np.ndarray:
        """Logits ``[B]`` / ``[B, C]`` -> probabilities ``[B, C]``; one answer's logits -> ``[C]``."""
        y = np.asarray(y, dtype=np.float64)
        if len(self.classes) == 2:
            p1 = 1.0 / (1.0 + np.exp(-y))
            return np.stack([1.0 - p1, p1], axis=-1)
        e = np.exp(y - y.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def to_json(self, p: np.ndarray) -> dict[str, Any]:
        """One row of probabilities -> ``{"label": ..., "probabilities": {class: p}}``."""
        return {"label": self.classes[int(np.argmax(p))],
                "probabilities": {c: float(v) for c, v in zip(self.classes, p)}}

    def encode_request(self, texts: list[str] | None, series: list | None) -> Ragged | list[torch.Tensor]:
        """The sequences of a request, as the model reads them; bad input is a :class:`BadRequest`."""
        cfg = self.est.config_
        if self.kind == "text":
            self.check_texts(texts, series)
            return self.est.encode_texts(texts)
        self._one_field(texts, series)
        if series is None:
            raise BadRequest(["texts"], "this is a numeric sequence classifier, it reads no 'texts'",
                             "send {\"series\": [[...], ...]}")
        out = []
        for i, s in enumerate(series):
            if len(s) == 0:
                raise BadRequest(["series", i], "the series is empty",
                                 f"send at least one step of {self.input_size} value{'s' * (self.input_size > 1)}")
            try:
                a = np.asarray(s, dtype=np.float64)
            except ValueError:
                raise BadRequest(["series", i], "the steps hold different numbers of values",
                                 f"send {self.input_size} per step ({', '.join(self.columns)})") from None
            a = a.reshape(-1, 1) if a.ndim == 1 and self.input_size == 1 else a
            if a.ndim != 2 or a.shape[1] != self.input_size:
                raise BadRequest(["series", i], f"every step needs {self.input_size} values "
                                 f"({', '.join(self.columns)}), got shape {list(a.shape)}",
                                 f"send each step as a list of {self.input_size} numbers" if self.input_size > 1
                                 else "send the series as a list of numbers")
            x = truncate(self.encode_rows(a), cfg.max_len, cfg.truncate)
            if not np.isfinite(x).all():
                raise BadRequest(["series", i], "values too large for the model's scaling",
                                 "send values in the range of the training data (the same units)")
            out.append(torch.from_numpy(np.ascontiguousarray(x)))
        return out

    def _one_field(self, texts: list[str] | None, series: list | None) -> None:
        """A :class:`BadRequest` for a request of both fields or neither."""
        if (texts is None) == (series is None):
            want = "texts" if self.kind == "text" else "series"
            raise BadRequest([want], "the request sends " + ("both 'texts' and 'series'" if texts is not None
                                                             else "neither 'texts' nor 'series'"),
                             f"send exactly one of them: this model takes {want!r}")

    def check_texts(self, texts: list[str] | None, series: list | None) -> None:
        """A text classifier's request refused as :meth:`encode_request` refuses it (a :class:`BadRequest`),
        before any text is encoded: both fields or neither, a series, a text of nothing but white space."""
        self._one_field(texts, series)
        if texts is None:
            raise BadRequest(["series"], "this is a text classifier, it reads no 'series'",
                             "send {\"texts\": [...]}")
        for i, t in enumerate(texts):
            if not t.strip():
                raise BadRequest(["texts", i], "the text is empty (no tokens)", "send text with at least one word")

    def encode_texts(self, texts: list[str]) -> Ragged:
        """A request's texts -> their token ids (truncated) end to end, as ``predict`` encodes them
        (:meth:`TextClassifier.encode_texts`); a text of nothing but white space is a
        :class:`BadRequest` naming it."""
        self.check_texts(texts, None)
        return self.est.encode_texts(texts)

    def request_models(self, Finite, max_instances: int) -> tuple[type, type]:
        """The service's typed request and response (pydantic, imported here: the serve extra)."""
        from typing import Annotated, Optional, Union
        from pydantic import BaseModel, ConfigDict, Field

        Text = text_field()
        width = {"minItems": self.input_size, "maxItems": self.input_size} if self.kind != "text" else {}
        Step = Union[Finite, Annotated[list[Finite], Field(json_schema_extra=width)]]
        def steps_schema(schema: dict[str, Any]) -> None:
            # a series is all numbers (one column) or all rows of input_size numbers, and at least one step:
            # a mixed or empty one is refused
            number, row = schema.pop("items")["anyOf"]
            schema.pop("type")
            schema["anyOf"] = [{"type": "array", "items": item, "minItems": 1}
                               for item in ([number] if self.input_size == 1 else []) + [row]]

        Steps = Annotated[list[Step], Field(json_schema_extra=steps_schema)]
        want, other = ("texts", "series") if self.kind == "text" else ("series", "texts")

        class ClassifyRequest(BaseModel):
            model_config = ConfigDict(extra="forbid", json_schema_extra=one_of({want: [other]}))
            texts: Optional[list[Text]] = Field(None, min_length=1, max_length=max_instances,
                                                description="texts to classify (text classifiers)")
            series: Optional[list[Steps]] = Field(
                None, min_length=1, max_length=max_instances,
                description=f"sequences of steps, each a number or {self.input_size} numbers ({', '.join(self.columns)})")

        class Prediction(BaseModel):
            label: str
            probabilities: dict[str, float]

        class ClassifyResponse(BaseModel):
            predictions: list[Prediction]
            warnings: Optional[list[str]] = Field(
                None, description="what predict would warn about, per series: e.g. one far outside the training "
                                  "range (the network extrapolates); of texts: those holding no word the model knows; "
                                  "of either: those longer than max_len, of which the model reads a part")
            engine: str

        return ClassifyRequest, ClassifyResponse

    def answer(self, net: nn.Module, texts: list[str] | None = None, series: list | None = None) -> dict[str, Any]:
        """A service request -> ``{"predictions": [{"label", "probabilities"}, ...]}``."""
        encoded = self.encode_request(texts, series)
        out = self._predictions(net, [encoded])[0]
        if isinstance(out, LstmkitError):
            raise out
        return self._noted(out, series, texts, encoded)

    def answer_many(self, net: nn.Module, requests: list[dict[str, Any]]) -> list[dict[str, Any] | LstmkitError]:
        """Several service requests at once (the service's request-batching queue): the sequences of
        every request go through the net as one padded batch (which answers as each sequence alone),
        then are handed back per request; a refused request gets its own error in its place. A text
        classifier's texts are encoded in one call for the whole batch (:meth:`_answer_texts`)."""
        if self.kind == "text":
            return self._answer_texts(net, requests)
        return self._answer_each(net, requests)

    def _answer_each(self, net: nn.Module, requests: list[dict[str, Any]]) -> list[dict[str, Any] | LstmkitError]:
        """:meth:`answer_many` with each request's sequences encoded on their own."""
        results: list[dict[str, Any] | LstmkitError | None] = [None] * len(requests)
        taken, seqs = [], []
        for i, request in enumerate(requests):
            try:
                seqs.append(self.encode_request(request.get("texts"), request.get("series")))
                taken.append(i)
            except LstmkitError as e:
                results[i] = e
        for i, encoded, out in zip(taken, seqs, self._predictions(net, seqs) if seqs else []):
            results[i] = out if isinstance(out, LstmkitError) else self._noted(
                out, requests[i].get("series"), requests[i].get("texts"), encoded)
        return results

    def _answer_texts(self, net: nn.Module, requests: list[dict[str, Any]]) -> list[dict[str, Any] | LstmkitError]:
        """:meth:`answer_many` of a text classifier: the texts of every request it takes are encoded in
        one call (the tokenizer's one pass over them all, one vocabulary lookup, one :class:`Ragged`; a
        text's ids do not depend on the texts beside it) and read as one padded batch; the notes of
        :meth:`_noted` are looked for per request only when the batch could draw one (:meth:`_noteless`).
        A batch whose encoding refuses a text, or that holds a request of no texts, goes request by request
        (:meth:`_answer_each`), as before."""
        results: list[dict[str, Any] | LstmkitError | None] = [None] * len(requests)
        taken = []
        for i, request in enumerate(requests):
            try:
                self.check_texts(request.get("texts"), request.get("series"))
                taken.append(i)
            except LstmkitError as e:
                results[i] = e
        if not taken:
            return results
        counts = [len(requests[i]["texts"]) for i in taken]
        if not all(counts):
            return self._answer_each(net, requests)
        try:
            ids = self.est.encode_texts([t for i in taken for t in requests[i]["texts"]])
        except LstmkitError:
            return self._answer_each(net, requests)
        quiet, start = self._noteless(ids), 0
        for i, n, out in zip(taken, counts, self._answers(net, *ids.pad(torch.arange(len(ids)), PAD_ID), counts)):
            results[i] = out if quiet or isinstance(out, LstmkitError) else self._noted(
                out, None, requests[i]["texts"], ids.rows(start, start + n))
            start += n
        return results

    def _noteless(self, ids: Ragged) -> bool:
        """Whether no text of ``ids`` (a batch of requests' texts, encoded) can draw a note of :meth:`_noted`:
        none holds an unknown word or no token, none was cut by ``max_len``, none is over ``LONGER`` times
        the longest trained on (each note's own first test, over the whole batch at once: a request's usual
        case, where no request's notes are then looked for one by one)."""
        if not len(ids) or bool((ids.values == UNK_ID).any()) or int(ids.lengths.min()) < 1:
            return False
        most, n, longest = int(ids.cut_from.max()), self.est.config_.max_len, self.est._longest_trained()
        return (n is None or most <= n) and (longest is None or most <= LONGER * longest)

    def _predictions(self, net: nn.Module,
                     requests: list[Ragged | list[torch.Tensor]]) -> list[dict[str, Any] | BadRequest]:
        """The answers to requests of encoded sequences, all in one forward pass."""
        if self.kind == "text":            # every request's ids end to end, padded without a tensor per text
            ids = requests[0] if len(requests) == 1 else Ragged(torch.cat([r.values for r in requests]),
                                                                torch.cat([r.lengths for r in requests]))
            x, lengths = ids.pad(torch.arange(len(ids)), PAD_ID)
        else:
            x, lengths = pad_batch([s for seqs in requests for s in seqs], 0.0)
        return self._answers(net, x, lengths, [len(seqs) for seqs in requests])

    def _answers(self, net: nn.Module, x: torch.Tensor, lengths: torch.Tensor,
                 counts: list[int]) -> list[dict[str, Any] | BadRequest]:
        """The answers to requests of ``counts`` sequences each, padded together in ``x`` (``lengths``), in one
        forward pass."""
        with torch.inference_mode():
            p = self.decode(net(x, lengths).numpy())
        # :meth:`to_json` of every row, the batch's checks, labels and floats each taken in one call
        finite, labels, values = np.isfinite(p).all(axis=-1), p.argmax(axis=-1).tolist(), p.tolist()
        out, start = [], 0
        for n in counts:
            bad, start = np.flatnonzero(~finite[start:start + n]), start + n
            out.append(BadRequest(["texts" if self.kind == "text" else "series", int(bad[0])],
                                  "the model's output is not finite for this input",
                                  "send values in the range of the training data (the same units)") if len(bad)
                       else {"predictions": [{"label": self.classes[k], "probabilities": dict(zip(self.classes, row))}
                                             for k, row in zip(labels[start - n:start], values[start - n:start])]})
        return out

    def _noted(self, answer: dict[str, Any], series: list | None, texts: list[str] | None = None,
               encoded: Ragged | list[torch.Tensor] | None = None) -> dict[str, Any]:
        """``answer`` with ``predict``'s warnings: of the request's ``series`` (as sent, checked by
        :meth:`encode_request`), one per series far outside the training range; of its ``texts``
        (``encoded``: their ids), those holding no word the model knows, and those far longer than any it
        was trained on."""
        if self.kind == "text":
            notes = ([*self.est._reading_notes(texts, encoded, lambda k: f"texts[{k}]"),
                      self.est._cut_note(encoded.cut_from, lambda k: f"texts[{k}]")]
                     if texts and isinstance(encoded, Ragged) else [])
            notes = [n for n in notes if n is not None]
            return {**answer, "warnings": notes} if notes else answer
        if series is None:
            return answer
        seqs = [np.asarray(s, dtype=np.float64).reshape(len(s), -1) for s in series]
        notes = self.est._far_outside_notes(seqs, lambda k: f"series[{k}]", every=True)
        lengths = torch.tensor([len(s) for s in seqs])
        notes += [n for n in (self.est._cut_note(lengths, lambda k: f"series[{k}]"), self._long_note(lengths)) if n]
        return {**answer, "warnings": notes} if notes else answer

    def _long_note(self, lengths: torch.Tensor) -> str | None:
        """``predict``'s note of series far longer than any trained on (another sampling rate?); an
        LSTM-FCN of one length has refused every other length already."""
        if self.est.config_.model in FCN_MODELS and not self.est.config_.unequal_length:
            return None
        return self.est._long_note(Ragged(torch.empty(int(lengths.sum()), 0), lengths), lambda k: f"series[{k}]")

    def far_outside_notes(self, seen: np.ndarray) -> list[str]:
        """A stream step's warnings (``[]``: none): ``predict``'s far-outside warning of the scaled
        step ``seen [1, F]`` just streamed; one comparison when it lies within reach."""
        if self._reach is None:
            r = read_range(getattr(self.est, "value_range_", None), self.input_size)
            self._reach = reach(*self.est.scaler_.transform(np.stack(r))) if r else (-np.inf, np.inf)
        if not ((seen < self._reach[0]) | (seen > self._reach[1])).any():
            return []
        return self.est._far_outside_notes([np.asarray(seen, np.float64)], lambda k: "the step just streamed",
                                          scaled=True)


Adapter = ClassifyAdapter          # what lstmkit.deploy.registry looks up
