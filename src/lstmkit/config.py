"""Typed configuration: one dataclass per concern, defaults in one place.

YAML (``--config cfg.yaml``) and CLI flags only fill these objects; the resolved object is what
a run folder records in ``lstmkit.json``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from lstmkit.errors import LstmkitError

__all__ = ["TrainConfig", "ForecastConfig", "ClassifyConfig", "TranslateConfig", "load_yaml", "merge",
           "split_train_params", "flatten_config", "require_positive_int"]


@dataclass
class TrainConfig:
    """Settings of the task-agnostic trainer (:mod:`lstmkit.train`)."""

    max_epochs: int = 100           # upper bound; early stopping usually ends sooner
    max_minutes: float | None = None  # time budget: no epoch starts that would end past it
    batch_size: int = 32
    lr: float = 1e-3                # Adam learning rate
    weight_decay: float = 0.0
    loss: str = "mse"               # mse | mae | huber
    clip_norm: float | None = 1.0   # max global gradient norm; None disables clipping
    lr_schedule: str = "plateau"    # plateau (ReduceLROnPlateau on the val loss) | cosine (anneal to 0 over
                                    # max_epochs: the last epochs average out the step noise)
    lr_factor: float = 0.5          # ReduceLROnPlateau factor ...
    lr_patience: int = 10           # ... and patience (epochs without val improvement)
    patience: int = 7               # early stopping patience; the best weights are restored
    min_delta: float = 0.0          # improvement smaller than this does not count
    seed: int = 42                  # same seed, same data, same machine -> same metrics
    device: str = "auto"            # auto (CUDA when present) | cpu | cuda | cuda:N
    progress: str = "auto"          # auto (bar on a terminal, log lines otherwise) | bar | log | off
    tensorboard: bool = True        # write tb/ events into the run folder
    precision: str = "fp32"         # fp32 | bf16 (autocast mixed precision, CPU and GPU)
    nan_retries: int = 3            # non-finite loss/gradient: skip, restore, halve lr; stop after this many
    checkpoint_every: int = 200     # steps between mid-epoch checkpoints (0: epoch ends only)
    doctor: bool = True             # training diagnostics -> doctor.json and a summary at the end


@dataclass
class ForecastConfig:
    """Everything that defines a forecasting run. Defaults follow the classic LSTM tutorial."""

    target: list[str] = field(default_factory=list)
    time: str | None = None
    features: list[str] = field(default_factory=list)
    lookback: int = 60              # past steps the model sees
    horizon: int = 1                # future steps predicted at once (direct multi-output)
    model: str = "lstm"             # encoder from lstmkit.nn.zoo: lstm | gru | bilstm | bigru | lstm-attention
                                    # | cnn-lstm | transformer | tcn
    head: str = "linear"            # linear | mlp (Dense 25 -> Dense out, the tutorial's Keras head)
    hidden_size: int = 50
    num_layers: int = 2
    dropout: float = 0.2            # between recurrent layers and before the head
    relative: bool = True           # model the change from each window's last value (trends)
    scaler: str = "minmax"          # minmax | standard | mase | none, per series, on its training part only
    val_frac: float = 0.15          # one series (no id, no val/test_size): fractions of it for val / test
    test_frac: float = 0.15
    season: int | None = None       # seasonal period for baselines and MASE; None -> inferred
    fill: str | None = None         # None (NaN is an error) | ffill | interpolate
    # -- many series, covariates, probabilistic output, strategies: for one series as for many --
    id: str | None = None           # series id column: one global model over every series
    format: str = "long"            # long (rows of id, time, values) | m4 (wide: id, then ragged values)
    past_covariates: list[str] = field(default_factory=list)    # known up to the forecast origin only
    future_covariates: list[str] = field(default_factory=list)  # known through the horizon too
    calendar: list[str] = field(default_factory=list)   # hour | weekday | month | holidays[:CC]
    id_embedding: int = 0           # width of a learned per-series embedding (0: none)
    strategy: str = "direct"        # direct | recursive | seq2seq
    quantiles: list[float] = field(default_factory=list)  # e.g. [0.1, 0.5, 0.9]: pinball loss
    likelihood: str | None = None   # None | gaussian | studentt (negative log-likelihood)
    strict: bool = False            # a series too short for lookback + horizon is an error, not skipped
    val_size: int | None = None     # points per series for val / test (instead of the fractions; many
                                    # series without them: one horizon each)
    test_size: int | None = None
    ets: bool | None = None         # ETS baseline per series; None: only for up to 20 series
    samples_per_epoch: int | None = None  # windows drawn per epoch (series uniform); None: all
    log: bool = False               # model log(y) (multiplicative seasonality, errors relative
                                    # to the level, as sMAPE counts them); targets must be > 0
    highway: int = 0                # LSTNet's autoregressive highway: a linear map from the last N scaled
                                    # values of each window straight to the horizon, added to the network's
                                    # forecast (strong seasonality: N = lookback); 0: off
    highway_hidden: int = 0         # > 0: the highway is an MLP (N units, ReLU) instead of linear
    segment: int = 0                # the encoder reads the window this many steps at a time
                                    # (SegRNN; must divide the lookback); 0: one step at a time
    deseason: int = 0               # remove each series' seasonal indices of this period
                                    # (classical decomposition, after --log) before the network; 0: off
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ForecastConfig":
        d = dict(d)
        train = TrainConfig(**_known(TrainConfig, d.pop("train", {}) or {}, "train"))
        return cls(train=train, **_known(cls, d, ""))


def _classify_train_defaults() -> TrainConfig:
    return TrainConfig(max_epochs=10, batch_size=64, loss="auto", patience=2, lr_patience=1)


@dataclass
class ClassifyConfig:
    """Everything that defines a sequence-classification run (text or numeric sequences)."""

    series: bool = False            # numeric sequences (linear front-end) instead of text
    text: str = "text"              # text column (CSV / TSV / JSONL)
    label: str = "label"            # label column; labels are kept as the user's strings
    sample: str = "sample"          # long-format numeric CSV: sample id column ...
    time: str = "t"                 # ... and time-step column
    features: list[str] = field(default_factory=list)   # long format: [] -> every other column
    unequal_length: bool = False    # numeric sequences of different lengths are allowed
    tokenizer: str = "word"         # word | char | bpe
    lowercase: bool = True
    min_freq: int = 2               # rarer tokens become <unk>
    max_size: int | None = 25000    # vocabulary size cap, specials included (BPE: target size)
    max_len: int | None = 400       # longer sequences are truncated; None keeps everything
    truncate: str = "both"          # head | tail | both (first and last halves)
    vectors: str | None = None      # GloVe / word2vec text file to initialise the embedding
    freeze_vectors: bool = False
    embed_dim: int = 128            # embedding (text) or linear front-end (numeric) width
    model: str = "bilstm"           # encoder from lstmkit.nn.zoo
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.3            # after the embedding, between layers, before the head
    pooling: str = "max"            # last | max | mean | attention
    class_weight: str | None = None  # None | balanced (inverse class frequency)
    scaler: str = "standard"        # numeric features: standard | minmax | none (train only)
    val_frac: float = 0.1           # stratified validation split when no validation file
    bucket: bool = True             # length-bucketed batches
    drop_empty: bool = False        # skip empty / whitespace-only texts instead of failing
    encoding: str = "utf-8"
    train: TrainConfig = field(default_factory=_classify_train_defaults)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ClassifyConfig":
        d = dict(d)
        train = dataclasses.replace(_classify_train_defaults(),
                                    **_known(TrainConfig, d.pop("train", {}) or {}, "train"))
        return cls(train=train, **_known(cls, d, ""))


def _translate_train_defaults() -> TrainConfig:
    return TrainConfig(max_epochs=20, batch_size=64, loss="auto", patience=3, lr_patience=1)


@dataclass
class TranslateConfig:
    """Everything that defines a translation run (LSTM encoder-decoder with attention)."""

    src: str = "src"                # source column of a CSV/TSV (e.g. en) ...
    tgt: str = "tgt"                # ... and target column (e.g. de)
    tokenizer: str = "word"         # word (punctuation kept) | bpe, per side
    shared_vocab: bool = False      # one vocabulary for both sides
    lowercase: bool = False         # BLEU is cased: keep case by default
    min_freq: int = 2               # rarer words become <unk> (BPE: minimum pair frequency)
    max_size: int | None = 16000    # vocabulary size cap per side, specials included (BPE: target size)
    max_len: int | None = 50        # training pairs with a longer side are dropped; longer input is truncated
    dedup: bool = True              # drop repeated (source, target) pairs; the count is reported
    drop_empty: bool = False        # skip pairs with an empty side instead of failing
    val_frac: float = 0.05          # validation share when no validation pair is given
    embed_dim: int = 256
    model: str = "bilstm"           # encoder from lstmkit.nn.zoo
    hidden_size: int = 256
    num_layers: int = 2             # encoder and decoder layers
    dropout: float = 0.3
    attention: str = "bahdanau"     # bahdanau | dot | general | none (plain (h, c) hand-off)
    input_feed: bool = True         # feed the last attentional vector into the next decoder step
    tie_embeddings: bool = False    # target embedding shared with the output layer
    teacher_forcing: float = 1.0    # share of steps fed the reference token (the rest: own prediction)
    label_smoothing: float = 0.1
    beam: int = 5                   # default beam width for run / evaluate (1 = greedy)
    length_penalty: float = 1.0     # GNMT alpha; 0 ranks by the sum of log-probabilities
    max_len_ratio: float = 2.0      # decode at most ceil(ratio * source length) + 2 tokens
    encoding: str = "utf-8"
    train: TrainConfig = field(default_factory=_translate_train_defaults)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TranslateConfig":
        d = dict(d)
        train = dataclasses.replace(_translate_train_defaults(),
                                    **_known(TrainConfig, d.pop("train", {}) or {}, "train"))
        return cls(train=train, **_known(cls, d, ""))


def _known(cls, d: dict[str, Any], section: str) -> dict[str, Any]:
    names = {f.name for f in fields(cls)} - {"train"}
    unknown = sorted(set(d) - names)
    if unknown:
        where = f" in section '{section}'" if section else ""
        raise LstmkitError(
            f"unknown config key{'s' if len(unknown) > 1 else ''}{where}: {', '.join(unknown)}",
            f"known keys: {', '.join(sorted(names))}",
        )
    return d


def split_train_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flat estimator keyword parameters -> ``(task params, train params)``.

    :class:`TrainConfig`'s keys go to the train part, merged over a nested ``train`` dict (flat
    keys win), so ``Forecaster(lr=1e-3)`` and ``Forecaster(train={"lr": 1e-3})`` agree.
    """
    params = dict(params)
    keys = {f.name for f in fields(TrainConfig)}
    train = {k: params.pop(k) for k in list(params) if k in keys}
    if isinstance(params.get("train"), dict):
        train = {**params.pop("train"), **train}
    return params, train


def flatten_config(config: dict[str, Any]) -> dict[str, Any]:
    """A config's ``to_dict()`` as flat keyword parameters (the inverse of :func:`split_train_params`)."""
    config = dict(config)
    return {**config.pop("train", {}), **config}


def require_positive_int(name: str, value: Any, flag: str) -> None:
    """A clear error unless ``value`` is an int >= 1 (bools are not counts)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise LstmkitError(f"`{name}` must be a positive integer, got {value!r}", f"pass {flag} 1 or more")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a plain dict (validated later by ``from_dict``)."""
    p = Path(path)
    if not p.is_file():
        raise LstmkitError(f"config file not found: {p}", "check the --config path")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise LstmkitError(f"config file {p} is not valid YAML ({e.__class__.__name__})",
                           "fix the syntax; see README for an example") from None
    if not isinstance(data, dict):
        raise LstmkitError(f"config file {p} must hold a mapping of keys to values",
                           "write it as 'key: value' lines")
    return data


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge where ``override`` wins; None values in override are ignored."""
    out = dict(base)
    for k, v in override.items():
        if v is None:
            continue
        if isinstance(v, dict):
            out[k] = merge(out.get(k) if isinstance(out.get(k), dict) else {}, v)
        else:
            out[k] = v
    return out
