"""`SequenceClassifier(augment="scale-warp")`: random scaling and a smooth time warp of each
training series, within its length, drawn under the seed, never at evaluation or prediction."""
import json
import typing

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cli_helpers import run_cli
from lstmkit import SequenceClassifier, TextClassifier
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify import augment as augment_module
from lstmkit.tasks.classify.augment import AUGMENTS, AugmentedBatches, scale_warp
from lstmkit.tasks.classify.config import ClassifyConfig
from lstmkit.data.batching import BucketBatches, Padded

QUICK = dict(budget=0.006, unequal_length=True, progress="off", tensorboard=False)


def _padded(lengths, t=20, f=2, pad=-100.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.full((len(lengths), t, f), pad)
    for i, n in enumerate(lengths):
        x[i, :n] = 5 + torch.rand(n, f, generator=g)
    return x, torch.tensor(lengths)


def _reference(x, g):
    """The published recipe for equal-length univariate series (benchmarks' first version)."""
    b, t, _ = x.shape
    x = x * (1 + 0.1 * torch.randn(b, 1, 1, generator=g))
    speed = (1 + 0.2 * torch.randn(b, 1, 4, generator=g)).clamp(min=0.3)
    speed = F.interpolate(speed, size=t, mode="linear", align_corners=True)[:, 0]
    pos = torch.cumsum(speed, 1) - speed[:, :1]
    pos = pos / pos[:, -1:] * (t - 1)
    lo = pos.floor().long().clamp(max=t - 2)
    frac = (pos - lo)[..., None]
    v = x[..., 0]
    return torch.gather(v, 1, lo)[..., None] * (1 - frac) + torch.gather(v, 1, lo + 1)[..., None] * frac


def test_names_match_the_config():
    literal = typing.get_type_hints(ClassifyConfig)["augment"]
    assert set(typing.get_args(literal)) == {"none", *AUGMENTS}


def test_equal_lengths_follow_the_recipe():
    x, lengths = _padded([16] * 5, t=16, f=1)
    out = scale_warp(x, lengths, generator=torch.Generator().manual_seed(3))
    ref = _reference(x, torch.Generator().manual_seed(3))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(out, x)


def test_shapes_kept_padding_untouched_and_values_from_the_own_steps():
    lengths = [20, 13, 7, 2, 1]
    x, lens = _padded(lengths)
    for seed in range(5):
        out = scale_warp(x, lens, scale=0.0, generator=torch.Generator().manual_seed(seed))
        assert out.shape == x.shape
        for i, n in enumerate(lengths):
            assert torch.equal(out[i, n:], x[i, n:])                       # padding stays padding
            own = x[i, :n]
            assert (out[i, :n] >= own.min(0).values - 1e-5).all() and (out[i, :n] <= own.max(0).values + 1e-5).all()
            torch.testing.assert_close(out[i, 0], x[i, 0])                 # first and last valid steps kept
            torch.testing.assert_close(out[i, n - 1], x[i, n - 1])


def test_no_speed_change_and_no_gain_is_the_identity():
    x, lens = _padded([20, 9, 3])
    torch.testing.assert_close(scale_warp(x, lens, scale=0.0, speed=0.0), x)


def test_deterministic_under_the_generator_and_the_gain_scales():
    x, lens = _padded([20, 11], seed=1)
    a = scale_warp(x, lens, generator=torch.Generator().manual_seed(7))
    b = scale_warp(x, lens, generator=torch.Generator().manual_seed(7))
    c = scale_warp(x, lens, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.allclose(a, c)
    flat = torch.ones(1, 10, 1)
    gained = scale_warp(flat, torch.tensor([10]), speed=0.0, generator=torch.Generator().manual_seed(0))
    assert gained.std() < 1e-6 and abs(float(gained[0, 0, 0]) - 1) > 1e-4     # one gain per series


def test_2x_doubles_both_magnitudes():
    x, lens = _padded([20, 11], seed=2)
    g = torch.Generator().manual_seed(4)
    out = AUGMENTS["scale-warp-2x"](x, lens, generator=g)
    torch.testing.assert_close(out, scale_warp(x, lens, scale=0.2, speed=0.4, generator=torch.Generator().manual_seed(4)))
    assert not torch.allclose(out, scale_warp(x, lens, generator=torch.Generator().manual_seed(4)))


def test_augmented_batches_keep_targets_and_lengths():
    seqs = [torch.randn(n, 1) for n in (5, 9, 12, 7)]
    y = torch.tensor([0, 1, 0, 1])
    base = BucketBatches(seqs, y, 2, shuffle=False)
    aug = AugmentedBatches(base)
    assert len(aug) == len(base) == 2
    for (xa, ya), (xb, yb) in zip(aug, base):
        assert isinstance(xa, Padded) and torch.equal(ya, yb) and torch.equal(xa[1], xb[1])
        assert xa[0].shape == xb[0].shape and not torch.equal(xa[0], xb[0])


def test_refused_for_texts_and_unknown_names():
    with pytest.raises(LstmkitError, match="augment is a setting of SequenceClassifier"):
        TextClassifier(augment="scale-warp")
    with pytest.raises(LstmkitError, match="numeric series only"):          # a config object made directly
        ClassifyConfig(augment="scale-warp")
    with pytest.raises(LstmkitError, match="unknown augment 'jitter'"):
        SequenceClassifier(augment="jitter")
    assert SequenceClassifier().config.augment == "scale-warp"                # the LSTM-FCN default
    assert SequenceClassifier(model="lstm").config.augment == "none"          # zoo encoders: not validated
    assert TextClassifier().config.augment == "none"


def test_fit_augments_training_batches_only_and_is_reproducible(tmp_path, series, monkeypatch):
    calls = []

    def counting(x, lengths):
        calls.append(int(lengths.numel()))
        return scale_warp(x, lengths)

    monkeypatch.setitem(augment_module.AUGMENTS, "scale-warp", counting)
    x, y = series(24, unequal=True)
    clf = SequenceClassifier(augment="scale-warp", **QUICK).fit(x, y, out=tmp_path)
    epochs = clf.config_.train.max_epochs
    assert sum(calls) == 24 * epochs and len(calls) == 2 * epochs    # every training batch, every epoch
    assert clf.metrics_["train"]["accuracy"] >= 0.0                   # the metrics after training are in
    meta = json.loads((clf.run_dir_ / "lstmkit.json").read_text())
    assert meta["config"]["augment"] == "scale-warp"
    n = len(calls)
    p = clf.predict_proba(x)
    assert len(calls) == n                      # prediction (and the metrics after training) read the data as is
    again = SequenceClassifier(augment="scale-warp", **QUICK).fit(x, y)
    np.testing.assert_allclose(again.predict_proba(x), p, rtol=1e-5, atol=1e-7)   # a function of the seed
    plain = SequenceClassifier(augment="none", **QUICK).fit(x, y)
    assert not np.allclose(plain.predict_proba(x), p)


def test_cli_flag_records_the_augmentation(tmp_path, capsys, series):
    seqs, labels = series(16, unequal=False)
    p = tmp_path / "S_TRAIN.tsv"
    p.write_text("".join(f"{lab}\t" + "\t".join(f"{v:.4f}" for v in s[:, 0]) + "\n" for s, lab in zip(seqs, labels)))
    code, _, err = run_cli(["classify", "train", "--series", "--data", p, "--augment", "scale-warp", "--budget",
                            "0.004", "--progress", "off", "--no-tensorboard", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "lstmkit.json").read_text())["config"]["augment"] == "scale-warp"
    code, _, err = run_cli(["classify", "train", "--data", p, "--augment", "scale-warp", "--out", tmp_path / "t"],
                           capsys)
    assert code == 2 and "--augment applies to numeric series (--series) only" in err


def test_a_fit_cut_mid_epoch_resumes_with_the_same_warps_crops_and_dropout_as_one_never_cut(tmp_path, monkeypatch):
    """The warps are drawn as the batches are made, the crops and dropout masks in the network: a resume from a
    checkpoint 3 steps into an epoch replays the batches before it, then takes the checkpoint's random state, so
    its weights are an uninterrupted fit's, bit for bit (checked for every task in session 56; this one draws most)."""
    from interrupt_helpers import ctrl_c_on_call
    from lstmkit.train import TrainingInterrupted
    from safetensors.torch import load_file
    from series_files import multivariate
    seqs, labels = multivariate(24, seed=1)
    make = lambda: SequenceClassifier(max_epochs=2, hidden_size=6, augment="scale-warp",  # noqa: E731
                                      crop=0.9, dropout=0.3, batch_size=3, checkpoint_every=3, unequal_length=True,
                                      progress="off", tensorboard=False, doctor=False, seed=5)
    make().fit(seqs, labels, run_dir=tmp_path / "whole")
    calls = ctrl_c_on_call(monkeypatch, "lstmkit.train.trainer:_call", 5)       # the 5th training step
    with pytest.raises(TrainingInterrupted):
        make().fit(seqs, labels, run_dir=tmp_path / "cut")
    monkeypatch.undo()
    assert len(calls) == 5
    assert json.loads((tmp_path / "cut" / "checkpoints" / "last.json").read_text())["pos"] == 3
    make().fit(seqs, labels, run_dir=tmp_path / "cut", resume=True)
    whole, cut = (load_file(tmp_path / name / "model.safetensors") for name in ("whole", "cut"))
    assert whole.keys() == cut.keys() and all(torch.equal(whole[k], cut[k]) for k in whole)
