"""Speech's deploy adapter: the :class:`~lstmkit.deploy.adapter.DeployAdapter` of a
:class:`~lstmkit.tasks.speech.estimator.SpeechRecognizer` (ONNX, int8, the HTTP service, streaming).

The exported graph is the acoustic model with its ``lengths`` as an input; feature extraction
(:func:`~lstmkit.tasks.speech.features.log_mel` and the run's normaliser) stays outside it::

    ctc       x [B, T, F] float32, lengths [B] int64 (, h0, c0 [L, B, H]: one-directional LSTM)
              -> y: log-probabilities [B, T', V] (, hn, cn)     T' = T after the conv subsampling
    classify  x, lengths -> logits [B] (two classes) | [B, C]
    seq2seq   encoder.onnx: src [B, T, F], src_len [B] -> memory [B, T', E], mask, h, c (, keys)
              decoder.onnx: one decoder step (:mod:`lstmkit.deploy.seq2seq`)

Frames past an utterance's own ``T'`` are padding, so a padded batch answers as each utterance
alone. CTC decoding (greedy, prefix beam, LM fusion) runs over ``y`` (:mod:`.decode`). A seq2seq
model (the attention encoder-decoder of :mod:`lstmkit.nn.seq2seq`) exports the translator's two
graphs with the conv subsampling inside the encoder graph; the same beam search runs over them
as over the torch model (:class:`~lstmkit.deploy.seq2seq.OnnxSeq2Seq`).

The service (:mod:`.serving`) takes a WAV upload (:meth:`SpeechAdapter.answer_bytes`, ``Content-Type:
audio/wav``) or JSON ``{"audio": [[samples...], ...], "sample_rate": 8000}`` (:meth:`SpeechAdapter.answer`) and
answers ``{"transcript": ...}`` or ``{"label": ..., "probabilities": {...}}`` per recording, with
``"warnings": [...]`` when its samples go beyond [-1, 1] (read as they are, as training reads them:
the client learns its audio is louder than full scale).
int8 keeps the quality gate of 0.5 WER points (accuracy points for classify). A
one-directional CTC model streams audio chunk by chunk (:meth:`SpeechAdapter.open_stream`,
:mod:`.stream`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.data.batching import BucketBatches
from lstmkit.deploy.adapter import BadRequest, EstimatorAdapter
from lstmkit.deploy.onnx_engine import ONNX_FILE, OnnxNet, load_runner
from lstmkit.deploy.seq2seq import GRAPH_FILES, ORT_THREADS, export_graphs, onnx_seq2seq
from lstmkit.deploy.stateful import recurrent_state_names
from lstmkit.errors import LstmkitError, opt
from lstmkit.nn.seq2seq import beam_search
from lstmkit.tasks.speech import serving
from lstmkit.tasks.speech.audio import AUDIO_TYPES, UPLOAD_NAME, upload_type
from lstmkit.tasks.speech.audio_files import clip_length
from lstmkit.tasks.speech.decode import LMFusion, decode, decode_batch, lm_scorer
from lstmkit.tasks.speech.estimator import TASK, SpeechRecognizer, cut_warning, validation_split
from lstmkit.tasks.speech.data import LONG_SECONDS, read_utterances, read_validation
from lstmkit.tasks.speech.features import frame_count, log_mel
from lstmkit.tasks.speech.graph import AcousticGraph

__all__ = ["Adapter", "SpeechAdapter", "AcousticGraph", "CtcGraphNet", "WER_LIMIT", "ACCURACY_LIMIT", "MAX_SECONDS",
           "ORT_THREADS"]

WER_LIMIT = 0.005                # int8 may add at most 0.5 WER points to become the engine
ACCURACY_LIMIT = 0.005           # ... or lose at most 0.5 accuracy points (classify mode)
MAX_SECONDS = LONG_SECONDS       # the longest recording one request may hold (60 s; longer is warned of elsewhere)
_BATCH = 32


class CtcGraphNet(OnnxNet):
    """A CTC run's graph with the calls of the estimator's network (:meth:`SpeechAdapter.answering_graph`):
    ``net(x, lengths)`` -> ``(log-probabilities [B, T', V], each row's output frames [B])``; ``out_frames``
    counts a row's frames after the subsampling (the graph's ``T'`` is the batch's longest, padding past a row's)."""

    def __init__(self, runner, out_frames):
        super().__init__(runner)
        self.out_frames = out_frames

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        lengths = torch.full((x.shape[0],), x.shape[1]) if lengths is None else torch.as_tensor(lengths)
        return super().forward(x, lengths), torch.tensor([self.out_frames(int(n)) for n in lengths])


class SpeechAdapter(EstimatorAdapter):
    """Deploy hooks for a fitted speech model (CTC, classify: one graph; seq2seq: two graphs)."""

    task = TASK
    models = "speech models"
    window = None                # a recording is read whole
    stream_key = "partial"
    upload_types = AUDIO_TYPES   # the content types answer_bytes takes (the format is told by the bytes)
    upload_type = staticmethod(upload_type)    # the type of an upload sent without one, by its first bytes
    columns = ["audio"]
    run_files: tuple[str, ...] = ()
    # a folder named by label needs a pattern export int8 has no flag for ('rename the file's columns' is a table's fix)
    int8_data_fix = "put each label's recordings in a folder of that name, or pass a manifest CSV (path,text)"
    max_seconds = MAX_SECONDS
    speed_unit, speed_batch = "utterances", _BATCH     # int8's speed: 1-s utterances per second
    lm_engine = "auto"           # the engine of a fused language model's scorer (auto | torch | onnx)

    estimator = SpeechRecognizer

    def __init__(self, est: SpeechRecognizer):
        super().__init__(est)
        self.config, self.mode = est.config_, est.config_.mode
        self.spec = est.spec_
        self.input_size = self.spec.dim
        self._net: nn.Module | None = None
        self._lm: LMFusion | None = None

    # -- the model --------------------------------------------------------------------------
    @property
    def net(self) -> nn.Module:
        """``(x, lengths) -> y`` (seq2seq: the model itself, which answers through its beam search)."""
        if self._net is None:
            self._net = self.est.net_ if self.mode == "seq2seq" else AcousticGraph(self.est.net_)
        return self._net.eval()

    @property
    def around_graph(self) -> list[str]:
        """What lstmkit applies around the exported graph(s) (``onnx.json``): the audio's features before,
        the decoding after; the settings are lstmkit.json's ``config``, the symbols its ``preprocessing``."""
        c = self.config
        features = (f"features: the audio as mono {c.sample_rate} Hz, {c.features} frames (lstmkit.tasks.speech."
                    f"features: Hann window {c.win_ms:g} ms, hop {c.hop_ms:g} ms, n_fft the next power of two, "
                    "|STFT|^2 uncentred, HTK-mel filters Slaney-normalised, log(mel + 1e-6)), normalised "
                    f"'{c.normalize}'; lengths: each clip's frames (at least {self.min_frames})")
        answer = {"ctc": f"decoding: CTC over y's per-frame log-probabilities (blank and chars: lstmkit.json's "
                         f"preprocessing.symbols), prefix beam {c.beam}"
                         # the language model is a run of its own: neither in this graph nor copied beside it
                         + (" fused with the language model of lstmkit.json's data.lm_run (a run of its own, "
                            "exported on its own) by config.lm_weight and config.length_bonus" if c.lm else ""),
                  "seq2seq": f"decoding: beam search ({c.beam}) over the encoder and one-step decoder graphs"}
        return [features, answer.get(self.mode, "labels: y scores the run's classes (lstmkit.json; "
                                                "lstmkit.tasks.speech.labels)")]

    @property
    def state_names(self) -> tuple[str, ...]:
        """``("h", "c")`` for a one-directional LSTM CTC model (its graph carries the state), else ()."""
        return recurrent_state_names(self.est.net_) if self.mode == "ctc" else ()

    @property
    def min_frames(self) -> int:
        """Feature frames the conv subsampling needs for one output frame."""
        return self.est.min_frames_

    def stateful(self) -> nn.Module:
        """The graph to export: the model with torch's own LSTM / GRU (same weights), whose
        packed-sequence path exports with dynamic shapes; ``(x, lengths, *state) -> (y, *state)``."""
        from lstmkit.deploy.int8_torch import swap_recurrent
        if self.mode == "seq2seq":
            raise LstmkitError("a seq2seq speech model exports an encoder and a one-step decoder graph, not one "
                               "stateful graph", "use export_graphs (lstmkit export onnx --run RUN)")
        names = self.state_names
        return AcousticGraph(swap_recurrent(self.est.net_), names, carry=bool(names)).eval()

    # -- seq2seq: two graphs (the hooks are None for a one-graph model) ------------------------
    @classmethod
    def onnx_files_of(cls, meta: dict[str, Any]) -> tuple[str, ...]:
        """The ONNX files of a run with lstmkit.json ``meta`` (before loading it)."""
        return GRAPH_FILES if (meta.get("config") or {}).get("mode") == "seq2seq" else (ONNX_FILE,)

    @property
    def onnx_files(self) -> tuple[str, ...]:
        return GRAPH_FILES if self.mode == "seq2seq" else (ONNX_FILE,)

    @property
    def export_graphs(self):
        """seq2seq: ``export_graphs(folder, fingerprint, tolerance) -> report`` writes ``encoder.onnx``
        (the subsampling and the encoder, features in) and ``decoder.onnx``; None otherwise."""
        return self.write_graphs if self.mode == "seq2seq" else None

    def write_graphs(self, folder: Path, fingerprint: str, tolerance: float) -> dict[str, Any]:
        """A seq2seq model's ``encoder.onnx`` and ``decoder.onnx`` into ``folder``, each checked
        against PyTorch (see :func:`lstmkit.deploy.seq2seq.export_graphs`)."""
        return export_graphs(self.est.net_, Path(folder), fingerprint, tolerance, self.task, self.example_source,
                             front="subsample", around=self.around_graph)

    @property
    def onnx_net(self):
        """seq2seq: ``onnx_net(run)``, the two graphs as a module beam search drives (refused when
        missing or stale), on :data:`~lstmkit.deploy.seq2seq.ORT_THREADS` each, decoding torch's thread
        count of batches at once; None otherwise (the one graph answers through ``OnnxNet``)."""
        return onnx_seq2seq if self.mode == "seq2seq" else None

    def answering_graph(self, run: Path) -> nn.Module:
        """``run``'s graph(s) as the estimator's network answers: what ``transcribe``, ``predict``, ``predict_proba``
        and ``evaluate`` answer with where the run is an int8 run whose export chose ONNX Runtime (CTC:
        :class:`CtcGraphNet`; classify: the graph's logits; seq2seq: the two graphs beam search drives)."""
        if self.mode == "seq2seq":
            return onnx_seq2seq(run)
        runner = load_runner(run)
        return OnnxNet(runner) if self.mode == "classify" else CtcGraphNet(runner, self.est._out_frames)

    def example_source(self, batch: int, steps: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Example encoder inputs for the export check (a :data:`~lstmkit.deploy.seq2seq.Source`):
        features ``[batch, R + 4 * steps, F]`` and lengths from the receptive field ``R`` up, the
        first row full."""
        x = self.example_inputs(batch, self.min_frames + 4 * steps, seed)
        return x, self.extra_inputs(x, seed)["lengths"]

    def infer(self, net: nn.Module, x: torch.Tensor):
        """One inference call on features ``x [B, T, F]`` for int8's speed and agreement: ``net(x)``,
        or for seq2seq the greedy tokens of every row."""
        if self.mode != "seq2seq":
            return net(x)
        lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
        return [h.ids for h in beam_search(net, x, lengths, 1, 0.0, self.config.max_len_ratio, self.est.decode_steps())]

    def example_inputs(self, batch: int, steps: int | None = None, seed: int = 0) -> torch.Tensor:
        """Random features ``[batch, steps, F]``: 1 s of audio's frames by default, never fewer than
        a few past the receptive field."""
        g = torch.Generator().manual_seed(seed)
        steps = max(steps or frame_count(self.spec.rate, self.spec), self.min_frames + 4)
        return torch.randn(batch, steps, self.input_size, generator=g)

    def extra_inputs(self, x: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
        """``lengths [B]``: random from the receptive field to ``T``, the first row full."""
        g = torch.Generator().manual_seed(seed + 1)
        lengths = torch.randint(self.min_frames, x.shape[1] + 1, (x.shape[0],), generator=g)
        lengths[0] = x.shape[1]
        return {"lengths": lengths}

    def metadata(self) -> dict[str, Any]:
        c, refusal = self.config, self.state_refusal()
        out = {"task": self.task, "mode": self.mode, "model": c.model, "sample_rate": c.sample_rate,
               "features": c.features, "feature_dim": self.input_size, "max_seconds": self.max_seconds,
               "min_seconds": round(self._min_samples() / c.sample_rate, 4),
               "request": 'POST /predict with a WAV body (Content-Type: audio/wav), or JSON '
                          f'{{"audio": [[samples...]], "sample_rate": {c.sample_rate}}}',
               "streams": refusal is None, "stream_refusal": refusal}
        if self.mode == "classify":
            out["classes"] = list(self.est.class_names_)
        else:
            out.update({"symbols": self.est.symbols_.chars, "beam": c.beam, "lm": c.lm})
        if self.mode == "seq2seq":
            out["max_transcript_chars"] = self.est.decode_steps()
        return out

    # -- answering --------------------------------------------------------------------------
    def _min_samples(self) -> int:
        return self.spec.n_fft + (self.min_frames - 1) * self.spec.hop

    def features(self, wave: np.ndarray, loc: list | None = None) -> torch.Tensor:
        """Normalised features ``[T, F]`` of a mono wave at the model's rate; too short a wave is a
        :class:`BadRequest` at ``loc``."""
        if frame_count(wave.size, self.spec) < self.min_frames:
            rate = self.spec.rate
            raise BadRequest(loc or [], f"the recording is too short: {clip_length(wave.size, rate)}; the model "
                             f"needs at least {1000 * self._min_samples() / rate:.0f} ms", "send a longer recording")
        return torch.from_numpy(self.est.normalizer_(log_mel(wave, self.spec)))

    def outputs(self, net: nn.Module, feats: list[torch.Tensor]) -> list[np.ndarray]:
        """Per utterance: log-probabilities ``[T', V]`` (ctc) or class probabilities ``[C]``, from
        ``net`` (:attr:`net`, an int8 net or an :class:`~lstmkit.deploy.onnx_engine.OnnxNet`), in
        padded batches of similar lengths."""
        out: list[Any] = [None] * len(feats)
        for idx, x, lengths in BucketBatches(feats, None, _BATCH).iter_indexed():
            with torch.inference_mode():
                y = net(x, lengths).numpy()
            for k, i in enumerate(idx.tolist()):
                out[i] = y[k, : self.est._out_frames(int(lengths[k]))] if self.mode == "ctc" else self.decode(y[k])
        return out

    def fusion(self, lm: str | Path | None | bool = None) -> LMFusion | None:
        """Shallow fusion with ``lm`` (an lm run folder), the run's own LM (None) or none (False);
        the scorer comes from :func:`~.decode.lm_scorer` with :attr:`lm_engine`."""
        if lm is False or self.mode != "ctc":
            return None
        if lm is None:
            if self._lm is None and self.config.lm:
                try:       # where training found it (a service started in another folder than the typed --lm's)
                    self._lm = self.fusion(self.est._own_lm())
                except LstmkitError as e:
                    raise LstmkitError(f"the language model this run was trained with cannot be loaded ({e.message})",
                                       "decode with another (lm=RUN) or none (lm=False)") from None
            return self._lm
        c = self.config
        return LMFusion(lm_scorer(lm, self.lm_engine), self.est.symbols_.chars, c.lm_weight, c.length_bonus)

    def serve_check(self) -> None:
        """Refuse to serve a ctc run whose own language model cannot be loaded (its folder moved or
        deleted): the service started, and every request was refused with a fix no client could apply."""
        try:
            self.fusion(None)
        except LstmkitError as e:
            where = (getattr(self.est, "data_summary_", None) or {}).get("lm_run") or self.config.lm
            raise LstmkitError(e.message, f"put the language model run back at {where} and start the service "
                               "again (or serve a run trained without --lm)") from None

    def predict(self, net: nn.Module, feats: list[torch.Tensor], beam: int | None = None,
                lm: str | Path | None | bool = None, locs: list[list] | None = None) -> list[dict[str, Any]]:
        """One answer per utterance: ``{"transcript": ...}`` or ``{"label": ..., "probabilities": ...}``.
        CTC decodes with ``beam`` (the run's by default; 1 = greedy) and ``lm`` (see :meth:`fusion`);
        ``locs``: each utterance's place in a request, where a refusal to decode it is a :class:`BadRequest`."""
        beam = self.config.beam if beam is None else beam
        if self.mode == "seq2seq":       # the estimator's own beam search, over ``net`` (torch, int8 or ONNX)
            texts, cut = self.est._recognise(feats, beam, None, net=net)
            names = [_recording_name(loc) for loc in locs] if locs is not None else [f"recording {i}"
                                                                                     for i in range(len(feats))]
            return [{"transcript": t, **({"warnings": [cut_warning([names[i]], self.est.decode_steps())]}
                                         if i in cut else {})} for i, t in enumerate(texts)]
        outs = self.outputs(net, feats)
        if self.mode == "classify":
            return [self.to_json(p) for p in outs]
        fusion = self.fusion(lm)
        ids = (decode_batch(outs, None, beam, fusion) if locs is None
               else [_decoded(lp, beam, fusion, loc) for lp, loc in zip(outs, locs)])
        return [{"transcript": self.est.symbols_.decode(i)} for i in ids]

    def answer_bytes(self, net: nn.Module, body: bytes, content_type: str) -> dict[str, Any]:
        """An uploaded audio file -> one answer (see :meth:`predict`); a bad upload is a :class:`BadRequest`
        naming the problem and the fix (:mod:`.serving`)."""
        return serving.answer_bytes(self, net, body, content_type)

    def answer(self, net: nn.Module, audio: list | None = None, sample_rate: int | None = None,
               beam: int | None = None) -> dict[str, Any]:
        """``{"audio": [[samples...], ...], "sample_rate": R}`` -> ``{"predictions": [answer, ...]}``."""
        return serving.answer(self, net, audio, sample_rate, beam)

    def request_models(self, Finite, max_instances: int) -> tuple[type, type]:
        return serving.request_models(self, Finite, max_instances)

    # -- int8 -------------------------------------------------------------------------------
    def evaluation_data(self, data=None):
        """The utterances int8 is judged on: ``data`` (as ``evaluate`` reads it), else the run's
        validation recordings (its ``val_data``, or the share of its data that training held out); None when there are none,
        or the run's manifest or folder is no longer there (the int8 check then asks for ``--data``;
        it said "data not found: ... pass a manifest CSV" of a path the user never passed)."""
        c, d = self.config, getattr(self.est, "data_summary_", None) or {}
        if data is not None:
            return read_utterances(data, None, as_trained=c.label_from_name).test_part()
        recorded = d.get("val_source") or d.get("source")
        if recorded and not Path(recorded).exists():
            return None
        if d.get("val_source"):
            return read_validation(d["val_source"], c.label_from_name)
        if d.get("source"):
            return validation_split(read_utterances(d["source"], c.label_from_name), c, d)[1]
        return None

    def test_metrics(self, net: nn.Module, data=None) -> dict[str, float] | None:
        """Greedy WER / CER (ctc, seq2seq) or accuracy / macro-F1 (classify) of ``net`` (called
        ``net(x, lengths)``; seq2seq: decoded by beam search) on :meth:`evaluation_data`; None without data."""
        utts = self.evaluation_data(data)
        if utts is None:
            return None
        self.est._check_references(utts)                     # unknown labels: one line, before work
        feats = self.est._features(utts.paths)[0]
        answers = self.predict(net, feats, beam=1, lm=False)
        if self.mode == "classify":
            from lstmkit.train.metrics import classification_metrics
            names = self.est.class_names_
            index = {c: k for k, c in enumerate(names)}
            proba = np.array([[a["probabilities"][c] for c in names] for a in answers])
            m = classification_metrics([index[t] for t in utts.texts], proba, names)
            return {k: float(m[k]) for k in ("accuracy", "macro_f1")}
        from lstmkit.tasks.speech.metrics import recognition_metrics
        m = recognition_metrics(utts.texts, [a["transcript"] for a in answers])
        return {"wer": float(m["wer"]), "cer": float(m["cer"])}

    def quality_data_fix(self) -> str:
        """What the int8 check asks for when the run has no recordings to score
        (:func:`~lstmkit.deploy.quantize.export_int8`)."""
        return f"pass {opt('data', 'MANIFEST.csv', written=True)} listing recordings and their transcripts"

    def quality_refusal(self, before: dict | None, after: dict | None) -> str | None:
        """Why an int8 model may not become the engine (None: WER rose at most 0.5 points, or
        accuracy fell at most 0.5 points)."""
        if not before or not after:
            return "no recordings with transcripts to check the quality"
        name, key, sign, limit = (("WER", "wer", 1, WER_LIMIT) if "wer" in before
                                  else ("accuracy", "accuracy", -1, ACCURACY_LIMIT))
        worse = sign * (after[key] - before[key])                    # points lost, as a share
        if worse <= limit + 1e-12:
            return None
        return (f"{name} {'rose' if sign > 0 else 'fell'} {100 * worse:.2f} points ({before[key]:.4f} -> "
                f"{after[key]:.4f}; limit {100 * limit:.1f})")

    # -- streaming --------------------------------------------------------------------------
    @property
    def streams(self) -> bool:
        """Whether the service opens ``/stream`` (through :meth:`open_stream`; see :meth:`state_refusal`)."""
        return self.state_refusal() is None

    def state_refusal(self) -> str | None:
        """Why this model cannot stream audio chunk by chunk (None when it can)."""
        c = self.config
        if self.mode == "classify":
            return "a spoken-word classifier answers once per whole clip"
        if self.mode == "seq2seq":
            return "a seq2seq model attends over the whole utterance before it writes"
        if not recurrent_state_names(self.est.net_):
            return (f"its encoder ({c.model}) reads the utterance in both directions or carries no LSTM/GRU state; "
                    f"streaming needs {opt('model', 'lstm')} or gru")
        if c.normalize in ("voiced", "utterance"):
            return (f"its features are normalised over each whole utterance ({opt('normalize', c.normalize)}); "
                    f"streaming needs {opt('normalize', 'global')} or none")
        return None

    def open_stream(self, engine: str = "auto", run: str | Path | None = None, max_streams: int | None = None):
        """A :class:`~lstmkit.tasks.speech.stream.SpeechStream`: audio chunks in, the greedy partial
        transcript out (refused in one line for a model that cannot stream)."""
        from lstmkit.tasks.speech.stream import SpeechStream
        return SpeechStream(self, engine, run, max_streams=max_streams)

    # -- the rest of the protocol -----------------------------------------------------------
    def fast_step(self):
        return None

    def encode_row(self, obs: Any) -> np.ndarray:
        raise LstmkitError("a speech model takes audio, not rows of values",
                           "POST a WAV file or {\"audio\": [[samples...]]} to /predict, or stream audio chunks")

    encode_rows = encode_row

    def decode(self, y: np.ndarray) -> np.ndarray:
        """Classify logits ``[C]`` (``[]`` for two classes) -> probabilities ``[C]``; CTC output as it is."""
        if self.mode != "classify":
            return np.asarray(y, dtype=np.float64)
        t = torch.as_tensor(np.asarray(y, dtype=np.float64))
        binary = len(self.est.class_names_) == 2
        return (torch.stack([torch.sigmoid(-t), torch.sigmoid(t)], -1) if binary else torch.softmax(t, -1)).numpy()

    def to_json(self, p: np.ndarray) -> dict[str, Any]:
        """Class probabilities -> ``{"label": ..., "probabilities": {class: p}}``."""
        classes = self.est.class_names_
        return {"label": classes[int(np.argmax(p))], "probabilities": dict(zip(classes, map(float, p)))}


def _recording_name(loc: list) -> str:
    """What an answer's warnings call the recording at ``loc`` of a request: the upload, or recording i."""
    return f"recording {loc[-1]}" if loc else UPLOAD_NAME


def _decoded(log_probs: np.ndarray, beam: int, fusion: LMFusion | None, loc: list) -> list[int]:
    """:func:`~.decode.decode` for an utterance of a request: a refusal names its field (``loc``)."""
    try:
        return decode(log_probs, beam, fusion)
    except LstmkitError as e:
        raise BadRequest.of(loc, e, "reload the model from its run folder, or retrain it") from None


Adapter = SpeechAdapter          # what lstmkit.deploy.registry looks up
