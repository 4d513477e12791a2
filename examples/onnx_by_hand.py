"""lstmkit's answers from its exported graphs with ONNX Runtime and numpy alone: no lstmkit, no torch.

What a run folder holds after ``lstmkit export onnx --run RUN``:

* ``model.onnx`` -- the network (inputs and outputs named in ``onnx.json``),
* ``onnx.json`` -- the export's report: ``signature`` (each input's and output's name, dtype and shape),
  ``window`` (a forecaster's steps per window), ``around_graph`` (what lstmkit applies around the graph);
  an int8 run (``lstmkit export int8``) has ``export_report.json`` instead, with ``around_graph``,
* ``lstmkit.json`` -- the settings and what training fitted (scaling parameters, class names),
* ``vocab.json`` -- a text model's vocabulary (``itos``: the token of each id).

A folder written by ``lstmkit export onnx --run RUN --out DIR`` holds the same files (``onnx.json``'s
``run_files`` names the copies of the run's), so ``DIR`` may be passed for ``RUN`` without the run; so may
a graph written by ``--out FILE.onnx`` (its report ``FILE.onnx.json`` and ``FILE.onnx.lstmkit.json`` beside it).

Three cases are shown, each the same as lstmkit's own answer to float rounding:

* :func:`forecast`: a forecaster of one or more series, no logs, no seasonal indices and no blend
  (``around_graph`` names only the per-series scaling, the all-zero rule and the bounds (the floor at 0,
  or those given with ``--bounds``); anything else is
  Python-only and :func:`forecast` refuses it),
* :func:`classify_texts`: a word-level text classifier on plain ASCII text (other text: lstmkit's
  tokenizer also splits CJK scripts into characters, keeps emoji, drops HTML tags),
* :func:`lm_log_prob`: a character-level language model's log-probability of a line of plain ASCII
  text (``LanguageModel.perplexity([text])`` is ``exp(-log_prob / (len(text) + 1))``),
* :func:`translate`: a word-level translator's translations of plain ASCII sentences, greedy or by
  beam search, over its two graphs (``encoder.onnx`` once per sentence, ``decoder.onnx`` once per
  output token), as ``around_graph`` says and with ``decoding``'s numbers (other text: lstmkit's
  tokenizer also joins a hyphen between letters as ``@-@`` and glues quotation marks back).

Run ``python examples/onnx_by_hand.py RUN`` with a forecast run and the last values of a series as
further arguments, a text classification run and texts, a character-level language model run and a
line, or a translation run and sentences.
"""
from __future__ import annotations

import html
import json
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
import onnxruntime as ort

PAD_ID, UNK_ID = 0, 1                            # vocab.json's itos[0] and itos[1]: <pad>, <unk>
ASCII_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def _read(run: Path, name: str) -> dict:
    """A JSON file of ``run``: a run folder, an ``--out`` folder, or a graph exported as ``FILE.onnx``,
    whose report ``FILE.onnx.json`` names its copies of the run's files under ``run_files``."""
    if run.suffix == ".onnx":
        report = json.loads(Path(f"{run}.json").read_text(encoding="utf-8"))
        if name == "onnx.json":
            return report
        run, name = run.parent, report["run_files"].get(name, name)
    return json.loads((run / name).read_text(encoding="utf-8"))


def _graph(run: Path, report: dict) -> str:
    """The graph file the report describes, beside it."""
    return str((run.parent if run.suffix == ".onnx" else run) / report["file"])


def _report(run: Path) -> dict:
    """The export's report: ``onnx.json`` (``lstmkit export onnx``), or an int8 run's ``export_report.json``
    (``lstmkit export int8``, its graph ``model.onnx``)."""
    if run.suffix == ".onnx" or (run / "onnx.json").is_file():
        return _read(run, "onnx.json")
    return {"file": "model.onnx", **_read(run, "export_report.json")}


def forecast(run: str | Path, history: np.ndarray, series: str | None = None) -> np.ndarray:
    """``[horizon, targets]``: the forecast after ``history`` (``[n]`` or ``[n, targets]``, oldest first,
    at least ``lookback`` values) of ``series`` (an id of ``lstmkit.json``'s ``series_ids``; the only
    one when None)."""
    run = Path(run)
    meta, report = _read(run, "lstmkit.json"), _report(run)
    cfg, pre = meta["config"], meta["preprocessing"]
    plain = {"per-series scaling", "a target 0 throughout", "the floor at 0", "the bounds"}
    extra = [n for n in report.get("around_graph", []) if not any(n.startswith(p) for p in plain)]
    if extra or cfg["features"] or cfg["past_covariates"] or cfg["future_covariates"] or cfg["calendar"] \
            or cfg["id_embedding"] or cfg["quantiles"] or cfg["likelihood"]:
        raise SystemExit(f"{run}: more than a scaled window (around the graph: {extra}); use lstmkit for it")
    scaler = pre["panel_scaler"]
    sid = series if series is not None else pre["series_ids"][0]
    loc = np.asarray(scaler["series"][sid]["loc"])          # [targets]
    scale = np.asarray(scaler["series"][sid]["scale"])      # [targets]
    y = np.asarray(history, dtype=np.float64).reshape(len(history), -1)
    if not y.any():                                         # a target 0 throughout: lstmkit forecasts 0
        out = np.zeros((cfg["horizon"], y.shape[1]))
    else:
        window = ((y[-cfg["lookback"]:] - loc) / scale).astype(np.float32)[None]   # [1, lookback, targets]
        session = ort.InferenceSession(_graph(run, report), providers=["CPUExecutionProvider"])
        out = session.run(["y"], {"x": window})[0][0] * scale + loc                 # [horizon, targets]
    bounds = pre.get("bounds")           # the floor at 0 of a target never below 0 in training, or --bounds LOW,HIGH
    if bounds:
        low, high = bounds.get("floor"), bounds.get("ceiling")
        for j, name in enumerate(cfg["target"]):
            entry = bounds["targets"].get(name)
            if entry is not None and sid not in entry["unbounded"]:
                out[:, j] = np.clip(out[:, j], -np.inf if low is None else low, np.inf if high is None else high)
    return out


def _cut(row: list[int], max_len: int | None, keep: str) -> list[int]:
    """A text longer than ``max_len`` ids as lstmkit cuts it (``truncate``: head, tail or both ends)."""
    if max_len is None or len(row) <= max_len:
        return row
    if keep == "head":
        return row[:max_len]
    if keep == "tail":
        return row[len(row) - max_len:]
    head = (max_len + 1) // 2
    return row[:head] + row[len(row) - (max_len - head):]


def classify_texts(run: str | Path, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """``(labels, probabilities [len(texts), classes])`` of plain ASCII ``texts``."""
    run = Path(run)
    meta, report = _read(run, "lstmkit.json"), _report(run)
    vocab = _read(run, meta["preprocessing"]["vocab_file"])
    if meta["kind"] != "text" or vocab["kind"] != "word":
        raise SystemExit(f"{run}: not a word-level text classifier")
    stoi = {t: i for i, t in enumerate(vocab["itos"])}
    ids = []
    for text in texts:
        text = unicodedata.normalize("NFKC", text)
        words = ASCII_WORD.findall(text.lower() if vocab["lowercase"] else text)
        row = [stoi.get(w, UNK_ID) for w in words] or [UNK_ID]    # an empty text reads one <unk>
        ids.append(_cut(row, meta["config"]["max_len"], meta["config"]["truncate"]))
    x = np.full((len(ids), max(map(len, ids))), PAD_ID, dtype=np.int64)
    for i, row in enumerate(ids):
        x[i, :len(row)] = row
    lengths = np.asarray([len(r) for r in ids], dtype=np.int64)
    session = ort.InferenceSession(_graph(run, report), providers=["CPUExecutionProvider"])
    logits = session.run(["y"], {"x": x, "lengths": lengths})[0]
    if logits.ndim == 1:                                    # two classes: the logit of classes[1]
        p1 = 1 / (1 + np.exp(-logits.astype(np.float64)))
        probs = np.stack([1 - p1, p1], 1)
    else:
        z = logits.astype(np.float64) - logits.max(1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    classes = meta["classes"]
    return [classes[k] for k in probs.argmax(1)], probs


def lm_log_prob(run: str | Path, text: str) -> float:
    """The natural-log probability a character-level language model gives the line ``text`` (plain
    ASCII), its end (``</s>``) included: ``around_graph`` in ``onnx.json`` says how."""
    run = Path(run)
    report, vocab = _report(run), _read(run, "vocab.json")
    if vocab["level"] != "char":
        raise SystemExit(f"{run}: not a character-level language model")
    base, specials = vocab["base"], vocab["specials"]
    stoi = {t: i for i, t in enumerate(base["itos"])}
    text = unicodedata.normalize("NFKC", text)
    ids = [specials["bos"], *(stoi.get(ch, UNK_ID) for ch in (text.lower() if base["lowercase"] else text))]
    session = ort.InferenceSession(_graph(run, report), providers=["CPUExecutionProvider"])
    state = {i.name: np.zeros((i.shape[0], 1, i.shape[2]), np.float32)       # h0 (and c0): zeros [L, 1, H]
             for i in session.get_inputs() if i.name != "x"}
    y = session.run(["y"], {"x": np.asarray([ids], np.int64), **state})[0][0].astype(np.float64)   # [T, V]
    log_probs = y - y.max(1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(1, keepdims=True))
    targets = [*ids[1:], specials["eos"]]                   # step t predicts token t + 1; the last, </s>
    return float(log_probs[np.arange(len(targets)), targets].sum())


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float32) - logits.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def translate(run: str | Path, sentences: list[str], beam: int | None = None) -> list[str]:
    """The translations of plain ASCII ``sentences`` by a word-level translator (``beam``: the run's when
    None; 1: greedy)."""
    run = Path(run)
    report, vocab = _report(run), _read(run, "vocab.json")
    if vocab["src"]["kind"] != "word" or vocab["tgt"]["kind"] != "word":
        raise SystemExit(f"{run}: not a word-level translator")
    d = report["decoding"]                          # the special ids, the beam and the bounds
    beam = d["beam"] if beam is None else beam
    src_stoi = {t: i for i, t in enumerate(vocab["src"]["itos"])}
    options = ort.SessionOptions()
    options.log_severity_level = 3
    encoder = ort.InferenceSession(str(run / "encoder.onnx"), options, providers=["CPUExecutionProvider"])
    decoder = ort.InferenceSession(str(run / "decoder.onnx"), options, providers=["CPUExecutionProvider"])
    out = []
    for sentence in sentences:
        words = _words(html.unescape(sentence) if vocab["src"]["html"] else sentence, vocab["src"]["lowercase"])
        ids = [src_stoi.get(w, d["unk"]) for w in words][:d["max_len"]]
        if not ids:                                 # nothing to read: the empty translation
            out.append("")
            continue
        enc = dict(zip([o.name for o in encoder.get_outputs()],
                       encoder.run(None, {"src": np.asarray([ids], np.int64), "src_len": np.asarray([len(ids)])})))
        limit = min(int(np.ceil(d["max_len_ratio"] * len(ids))) + 2, d["max_output_tokens"])
        tokens, attention = _search(decoder, enc, beam, d, limit)
        out.append(_written(tokens, attention, words[:len(ids)], ids, vocab["tgt"]["itos"], d))
    return out


def _words(sentence: str, lowercase: bool) -> list[str]:
    """The words and marks of ``sentence`` (its character references decoded where vocab.json's ``html``
    says): NFKC, the invisible format characters dropped (``around_graph`` lists them; lstmkit keeps a
    zero-width joiner inside an emoji, which these words never hold)."""
    text = re.sub("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]", "",
                  unicodedata.normalize("NFKC", sentence))
    return re.findall(r"\w+(?:'\w+)*|[^\w\s]", text.lower() if lowercase else text)


def _step(decoder, rows: dict, y: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """One decoder call over the rows' state: ``(log-probabilities, next state, attention)``."""
    names = [i.name for i in decoder.get_inputs()]
    got = dict(zip([o.name for o in decoder.get_outputs()],
                   decoder.run(None, {n: y if n == "y_prev" else rows[n] for n in names})))
    state = {**rows, "h": got["h_next"], "c": got["c_next"], **({"feed": got["feed_next"]} if "feed_next" in got
                                                                 else {})}
    return _log_softmax(got["logits"]), state, got.get("attention")


def _search(decoder, enc: dict, beam: int, d: dict, limit: int):
    """The best output ids of one sentence and each step's attention: every hypothesis that ends
    (``<eos>``, or at ``limit`` tokens) is weighed by its summed log-probability / ((5 + tokens) / 6)
    ** length_penalty, the best of them all kept; beams over 1 carry the greedy path in a row of its own."""
    names = [i.name for i in decoder.get_inputs()]
    feed = next((i for i in decoder.get_inputs() if i.name == "feed"), None)
    first = {**enc, **({"feed": np.zeros((1, feed.shape[1]), np.float32)} if feed is not None else {})}
    first = {n: v for n, v in first.items() if n in names}
    R = beam + 1 if beam > 1 else 1                 # the beam's rows and the greedy one
    rows = {n: np.repeat(v, R, axis=1 if n in ("h", "c") else 0) for n, v in first.items()}
    hyps = [([], 0.0 if r in (0, beam) else -np.inf, False, []) for r in range(R)]   # ids, score, ended, attention
    ended = []                                      # (normalised score, order, ids, attention)
    penalty = lambda n: ((5.0 + n) / 6.0) ** d["length_penalty"]   # noqa: E731
    y = np.full(R, d["bos"], np.int64)
    for t in range(limit):
        logp, rows, attn = _step(decoder, rows, y)
        cand = []
        for r, (ids, score, done, att) in enumerate(hyps[:beam]):
            if done:
                cand.append((score, r, d["pad"]))
                continue
            if beam > 1 and np.isfinite(score):    # its <eos> now, weighed even where the beam drops it
                ended.append(((score + logp[r, d["eos"]]) / penalty(len(ids) + 1), (t, 1, r), ids + [d["eos"]],
                              att + [attn[r]] if attn is not None else None))
            cand += [(score + logp[r, v], r, v) for v in range(logp.shape[1])]
        order = sorted(range(len(cand)), key=lambda k: (-cand[k][0], cand[k][1] * logp.shape[1] + cand[k][2]))
        chosen = [cand[k] for k in order[:beam]]
        if beam > 1:                                # the greedy row follows its best token
            ids, score, done, att = hyps[beam]
            v = d["pad"] if done else int(logp[beam].argmax())
            chosen.append((score + (0.0 if done else logp[beam, v]), beam, v))
        new = []
        for k, (score, r, v) in enumerate(chosen):
            ids, _, done, att = hyps[r]
            if done:
                new.append((ids, score, True, att))
                continue
            ids, att = ids + [v], att + [attn[r]] if attn is not None else att
            finished = v == d["eos"] or len(ids) >= limit
            if finished:
                ended.append((score / penalty(len(ids)), (t, 0, k), ids, att))
            new.append((ids, score, finished, att))
        origin = np.asarray([r for _, r, _ in chosen])
        rows = {n: v[:, origin] if n in ("h", "c") else v[origin] for n, v in rows.items()}
        hyps, y = new, np.asarray([v for _, _, v in chosen], np.int64)
        if all(done for _, _, done, _ in hyps):
            break
    if not ended:
        return hyps[0][0], hyps[0][3]
    best = max(ended, key=lambda e: (e[0], tuple(-x for x in e[1])))
    return best[2], best[3]


def _written(tokens: list[int], attention, words: list[str], src_ids: list[int], itos: list[str], d: dict) -> str:
    """The output ids as text: up to ``<eos>``, each ``<unk>`` the source word attended to most among the
    unknown ones (among all when every one is known), no space before a closing mark or after an opening one."""
    if d["eos"] in tokens:
        tokens = tokens[:tokens.index(d["eos"])]
    unknown = [k for k, i in enumerate(src_ids) if i == d["unk"]] or list(range(len(src_ids)))
    out = []
    for t, i in enumerate(tokens):
        if i == d["unk"] and attention is not None:
            out.append(words[max(unknown, key=lambda k: attention[t][k])])
        elif i not in (d["pad"], d["bos"]):
            out.append(itos[i])
    text = " ".join(out)
    return re.sub(r"([(\[{$]) ", r"\1", re.sub(r" ([.,!?;:%)\]}])", r"\1", text))


if __name__ == "__main__":
    run_dir = Path(sys.argv[1])
    task = _read(run_dir, "lstmkit.json")["task"]
    if task == "forecast":
        print(forecast(run_dir, np.asarray([float(v) for v in sys.argv[2:]])))
    elif task == "lm":
        print(lm_log_prob(run_dir, " ".join(sys.argv[2:])))
    elif task == "translate":
        print("\n".join(translate(run_dir, sys.argv[2:])))
    else:
        print(classify_texts(run_dir, sys.argv[2:]))
