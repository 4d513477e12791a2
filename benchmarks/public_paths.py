"""Throughput of the public Python inference paths beside their own network's (issue 18, item 6).

Each public path is timed beside the bare network on the same inputs, in the same process,
alternating in rounds; the median round counts (the machine may be shared). The network's part
is what the path cannot avoid: the forward pass over the same windows / sequences in batches as
large as the path uses (1,024 windows for forecasting, length-sorted batches for classify and
translate). Target: every path >= 0.8x its network's throughput, and ``Forecaster.predict`` on
one window (a 60-row frame) <= 0.5 ms.

* forecasting -- the tutorial forecaster of ``benchmarks/inference.py`` (20,000-point series,
  lookback 60, 2-layer LSTM(50), untrained weights: speed does not depend on them):
  ``test_forecasts`` (the 3,000 test windows), ``backtest`` (1,024 folds a step apart),
  ``predict`` on one 60-row window; and a panel forecaster of the same network over 1,024 series
  of 200 points with an id column: ``predict`` (one window per series) and ``backtest`` (3 folds).
* classify -- ``TextClassifier.predict`` on 2,048 texts and ``SequenceClassifier.predict`` on 2,048
  series (defaults, one training epoch on generated data). The network's part is ``net_`` over
  the same length-sorted batches of 256, padded beforehand: for text that is the whole model
  (embedding, BiLSTM, pooling, head, and the naive-Bayes word and hashed word-pair scores, which
  ``word_scores=True`` sums inside the forward pass); the path adds reading, tokenising, looking
  up, truncating and padding the texts, and turning logits into labels.
* translate -- ``Translator.translate`` of 256 sentences, greedy and beam 5 (a small model,
  one epoch on generated pairs). Its line adds ``outside_search_share``: the share of a ``translate``
  call spent outside its beam searches (tokenising, batching, checks, detokenising), timed inside
  the same calls (:func:`outside_share`), so the load of a shared machine, which moves the two
  sides' separate timings apart, hardly moves it.

Prints one JSON line per path as soon as it is measured: ``windows_per_s`` (or ``items_per_s``),
the network's, ``ratio`` and ``ok``; then ``predict_one_window`` (ms, the network's batch-1 ms,
``ok`` vs 0.5 ms) for the run as saved (the torch engine) and ``predict_one_window_onnx`` for the
same run after ``lstmkit export onnx`` (``predict`` then answers through ONNX Runtime; its network
ms is the ONNX engine's batch-1 call), and a summary line. The torch network's ms is the module
called at ``--threads``; ``predict``'s one-window lane runs it as a trace on one thread
(:mod:`lstmkit.tasks.forecast.fastpath`), so at 2 threads the path can take less than its network. ``--only one_window`` times just those.

    python benchmarks/public_paths.py [--rounds 3] [--seconds 1.0] [--threads 2]
                                      [--only forecast|classify|translate|one_window] [--path NAME ...]

``--path`` times only the paths so named (``forecast.predict_many_series``, ...; several may be given).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from inference import BATCH, LOOKBACK, make_series, tutorial_run

TARGET_RATIO, TARGET_MS = 0.8, 0.5
N_PANEL, PANEL_LEN, N_TEXTS, N_SENTENCES = 1024, 200, 2048, 256


def outside_share(path, module, name: str, calls: int = 3) -> float:
    """The median share of one call of ``path`` spent outside ``module.name`` (the network's part,
    e.g. :func:`lstmkit.nn.seq2seq.beam_search`, looked up there at each call): what the public path
    adds, measured within the same calls, so a shared machine's load slows both sides alike."""
    inner = getattr(module, name)
    spent = [0.0]

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t
    shares = []
    setattr(module, name, timed)
    try:
        for _ in range(calls):
            spent[0], t = 0.0, time.perf_counter()
            path()
            total = time.perf_counter() - t
            shares.append(max(0.0, total - spent[0]) / total)
    finally:
        setattr(module, name, inner)
    return statistics.median(shares)


def _timed(fn, seconds: float, at_least: int = 3) -> float:
    """Median seconds of one call of ``fn`` (after one warm-up call)."""
    fn()
    times, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < seconds or len(times) < at_least:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _net_over(net, X: torch.Tensor):
    """The bare network over windows ``X`` in batches of 1,024."""
    def run():
        with torch.inference_mode():
            for k in range(0, len(X), BATCH):
                net(X[k:k + BATCH])
    return run


# -- forecasting -------------------------------------------------------------------------------
def panel_forecaster(seed: int = 1):
    """The tutorial network over ``N_PANEL`` series with an id column (untrained, scaled per series)."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    from lstmkit.tasks.forecast.model import ForecastNet
    from lstmkit.tasks.forecast.probabilistic import Output
    from lstmkit.tasks.forecast.scalers import PanelScaler
    rng = np.random.default_rng(seed)
    t = np.arange(PANEL_LEN)
    ids = [f"s{k:04d}" for k in range(N_PANEL)]
    values = (10 + rng.uniform(1, 3, (N_PANEL, 1)) * np.sin(2 * np.pi * (t + rng.integers(0, 50, (N_PANEL, 1))) / 50)
              + rng.normal(0, 0.3, (N_PANEL, PANEL_LEN)))
    df = pd.DataFrame({"id": np.repeat(ids, PANEL_LEN), "y": values.reshape(-1)})
    torch.manual_seed(seed)
    est = Forecaster(target=["y"], id="id", lookback=LOOKBACK, horizon=1, hidden_size=50, num_layers=2, dropout=0.2,
                     relative=False,
                     deseason=0, log=False, segment=0, highway=0, scaler="minmax", ensemble=1)   # nothing left to choose from data
    est.config_ = est.config
    est.net_ = ForecastNet(1, 1, 1, "lstm", 50, 2, 0.2, relative=False, n_series=N_PANEL + 1).eval()
    est.output_, est.series_ids_, est.input_names_ = Output("point"), ids, ["y"]
    est.panel_scaler_ = PanelScaler("minmax")
    for k, sid in enumerate(ids):
        est.panel_scaler_.fit_one(sid, values[k, :PANEL_LEN - 2, None])
    est.covariate_scaler_, est.n_past_, est.n_future_, est.season_ = None, 0, 0, 50
    est.data_summary_ = {"rows": len(df), "source": None}
    return est, df


def forecast_cases(tmp: Path, only_one: bool = False) -> tuple[dict, dict]:
    """``{name: (path, network, windows)}`` of the forecasting paths (none when ``only_one``), and
    the one-window pairs ``{name: {"path", "net"}}``: the run as saved (torch) and exported (ONNX)."""
    from lstmkit.data.windows import make_windows
    from lstmkit.deploy.onnx import export_onnx
    from lstmkit.tasks.forecast.estimator import Forecaster
    from lstmkit.tasks.forecast.fastpath import engine_net_cached
    series = make_series()
    est = Forecaster.load(tutorial_run(tmp, series))
    df = pd.DataFrame({"y": series})
    scaled = torch.from_numpy(est.model_inputs(series))
    X, _ = make_windows(scaled, scaled, LOOKBACK, 1)                        # every window, as views
    n_test = 0 if only_one else len(est.test_forecasts(df)["forecast"])
    X_test = X[-n_test:].contiguous()
    folds = 1024
    X_bt = X[-folds:].contiguous()
    panel, pdf = panel_forecaster()
    n_bt = 3
    X_panel = torch.randn(N_PANEL, LOOKBACK, 1)
    X_panel_bt = torch.randn(N_PANEL * n_bt, LOOKBACK, 1)
    window = df.iloc[-LOOKBACK:].reset_index(drop=True)
    x1 = X[-1:].contiguous()

    def one_net():
        with torch.inference_mode():
            est.net_(x1)
    cases = {} if only_one else {
        "forecast.test_forecasts": (lambda: est.test_forecasts(df), _net_over(est.net_, X_test), n_test),
        "forecast.backtest": (lambda: est.backtest(df, folds=folds, step=1), _net_over(est.net_, X_bt), folds),
        "forecast.predict_many_series": (lambda: panel.predict(pdf), _net_over(panel.net_, X_panel), N_PANEL),
        "forecast.backtest_many_series": (lambda: panel.backtest(pdf, folds=n_bt), _net_over(panel.net_, X_panel_bt),
                                          N_PANEL * n_bt),
    }
    onnx = Forecaster.load(tutorial_run(tmp / "onnx", series))      # the same run after 'lstmkit export onnx'
    export_onnx(onnx.run_dir_)
    onnx_net = engine_net_cached(onnx, "auto")                      # what predict answers with: ONNX Runtime

    def one_onnx_net():
        with torch.inference_mode():
            onnx_net(x1)
    return cases, {"forecast.predict_one_window": {"path": lambda: est.predict(window), "net": one_net},
                   "forecast.predict_one_window_onnx": {"path": lambda: onnx.predict(window), "net": one_onnx_net}}


# -- classify and translate --------------------------------------------------------------------
_WORDS = ("good bad fine dull bright film plot actor scene story slow fast long short warm cold music "
          "score camera light dark funny sad tense calm old new").split()


def _texts(rng, n: int) -> list[str]:
    return [" ".join(rng.choice(_WORDS, int(rng.integers(5, 60)))) for _ in range(n)]


def _bucketed_net(clf, seqs, pad):
    from lstmkit.data.batching import BucketBatches
    from lstmkit.tasks.classify.classifier import EVAL_BATCH
    batches = [(x, lengths) for _, x, lengths in BucketBatches(seqs, None, EVAL_BATCH, pad_value=pad).iter_indexed()]

    def run():
        with torch.inference_mode():
            for x, lengths in batches:
                clf.net_(x, lengths)
    return run


def classify_cases(tmp: Path) -> dict:
    from lstmkit.data.vocab import PAD_ID
    from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier
    rng = np.random.default_rng(0)
    quick = dict(max_epochs=1, progress="off", tensorboard=False, device="cpu", doctor=False)
    train = _texts(rng, 512)
    text = TextClassifier(**quick).fit(train, y=[str(len(t) % 2) for t in train])
    texts = _texts(rng, N_TEXTS)
    seqs = text._encode(text._read(texts, text.config_, require_label=False))
    series = rng.normal(size=(N_TEXTS, 100, 3)).astype(np.float32)
    num = SequenceClassifier(**quick).fit(series[:512], y=[str(k % 3) for k in range(512)])
    nseqs = num._encode(num._read(series, num.config_, require_label=False))
    return {"classify.text_predict": (lambda: text.predict(texts), _bucketed_net(text, seqs, PAD_ID), N_TEXTS),
            "classify.series_predict": (lambda: num.predict(series), _bucketed_net(num, nseqs, 0.0), N_TEXTS)}


def translate_cases(tmp: Path) -> dict:
    from lstmkit.data.batching import BucketBatches
    from lstmkit.data.vocab import PAD_ID
    from lstmkit.nn.seq2seq import beam_search
    from lstmkit.tasks.translate.estimator import EVAL_BATCH, Translator
    rng = np.random.default_rng(0)
    src = _texts(rng, 2048)
    pairs = pd.DataFrame({"src": src, "tgt": [" ".join(reversed(s.split())) for s in src]})
    tr = Translator(max_epochs=1, embed_dim=64, hidden_size=64, num_layers=1, progress="off", tensorboard=False,
                    device="cpu", doctor=False).fit(pairs)
    sentences = _texts(rng, N_SENTENCES)
    ids = [torch.tensor(tr._src_ids(s)) for s in sentences]
    batches = [(x, n) for _, x, n in BucketBatches(ids, None, EVAL_BATCH, pad_value=PAD_ID).iter_indexed()]
    cfg = tr.config_

    def net(beam):
        def run():
            with torch.inference_mode():
                for x, n in batches:
                    beam_search(tr.net_, x, n, beam, cfg.length_penalty, cfg.max_len_ratio)
        return run
    return {f"translate.translate_beam{b}": (lambda b=b: tr.translate(sentences, beam=b), net(b), N_SENTENCES)
            for b in (1, 5)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=1.0, help="per path and per network, per round")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=["forecast", "classify", "translate", "one_window"], default=None)
    ap.add_argument("--path", action="append", default=None, help="time only this path (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases, one = {}, {}
        if args.only in (None, "forecast", "one_window"):
            more, one = forecast_cases(tmp, only_one=args.only == "one_window")
            cases.update(more)
        if args.only in (None, "classify"):
            cases.update(classify_cases(tmp))
        if args.only in (None, "translate"):
            cases.update(translate_cases(tmp))
        if args.path:
            unknown = sorted(set(args.path) - set(cases) - set(one))
            if unknown:
                ap.error(f"no path {unknown[0]!r} here; these are: {', '.join([*cases, *one])}")
            cases = {k: v for k, v in cases.items() if k in args.path}
            one = {k: v for k, v in one.items() if k in args.path}
        ok_all = True
        for name, (path, net, n) in cases.items():       # path and network alternate, round by round
            r = [(n / _timed(path, args.seconds), n / _timed(net, args.seconds)) for _ in range(args.rounds)]
            ratio = statistics.median(p / q for p, q in r)
            ok_all &= ratio >= TARGET_RATIO
            unit = "windows_per_s" if name.startswith("forecast") else "items_per_s"
            more = {}
            if name.startswith("translate."):          # the search is the network's part: the rest is the path's
                import lstmkit.nn.seq2seq as seq2seq
                more["outside_search_share"] = round(outside_share(path, seq2seq, "beam_search"), 4)
            _line({"bench": "public_paths", "path": name, unit: round(statistics.median(p for p, _ in r), 1),
                   f"net_{unit}": round(statistics.median(q for _, q in r), 1), "items": n,
                   "ratio": round(ratio, 3), "target": TARGET_RATIO, "ok": ratio >= TARGET_RATIO,
                   "threads": args.threads, "rounds": args.rounds, **more})
        for name, pair in one.items():                  # predict and its engine's batch-1 call alternate
            r = [(_timed(pair["path"], args.seconds, 50), _timed(pair["net"], args.seconds, 50))
                 for _ in range(args.rounds)]
            ms, net_ms = (1e3 * statistics.median(x[i] for x in r) for i in (0, 1))
            ok_all &= ms <= TARGET_MS
            _line({"bench": "public_paths", "path": name, "latency_ms": round(ms, 4),
                   "net_latency_ms": round(net_ms, 4), "target_ms": TARGET_MS, "ok": ms <= TARGET_MS,
                   "engine": "onnxruntime" if name.endswith("onnx") else "torch",
                   "threads": args.threads, "rounds": args.rounds})
    _line({"bench": "public_paths_targets", "ok": bool(ok_all),
           "note": "shared machine: ratios are from one process, absolute numbers drift"})


def _line(d: dict) -> None:
    print(json.dumps({**d, "load_1min": round(os.getloadavg()[0], 2)}))   # the machine may be shared
    sys.stdout.flush()


if __name__ == "__main__":
    main()
