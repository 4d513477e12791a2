import io
import json
import math
import re

import pytest
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.errors import LstmkitError
from lstmkit.train import Trainer, TrainingInterrupted
from lstmkit.train.callbacks import Callback, EarlyStopping, ProgressDisplay


class Batches:
    """A re-iterable list of (x, y) batches with len()."""

    def __init__(self, x, y, bs=16, shuffle=False):
        self.x, self.y, self.bs, self.shuffle = x, y, bs, shuffle

    def __len__(self):
        return math.ceil(len(self.x) / self.bs)

    def __iter__(self):
        order = torch.randperm(len(self.x)) if self.shuffle else torch.arange(len(self.x))
        for i in range(0, len(self.x), self.bs):
            idx = order[i:i + self.bs]
            yield self.x[idx], self.y[idx]


def _data(n=96, sign=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = sign * x.sum(1, keepdim=True)
    return x, y


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 1))


def _cfg(**kw):
    base = dict(max_epochs=6, batch_size=16, lr=1e-2, progress="off", device="cpu", tensorboard=False)
    base.update(kw)
    return TrainConfig(**base)


def _fit(cfg, run_dir=None, val_sign=1.0, resume=False, callbacks=(), model=None):
    model = model or _model()
    tr = Batches(*_data(), shuffle=True)
    va = Batches(*_data(48, sign=val_sign, seed=1))
    result = Trainer(cfg, run_dir=run_dir, callbacks=callbacks).fit(model, tr, va, resume=resume)
    return model, result


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_loss_falls_and_history_has_every_column():
    _, r = _fit(_cfg(max_epochs=8))
    assert len(r.history) == 8
    assert r.history[-1]["train_loss"] < 0.5 * r.history[0]["train_loss"]
    assert set(r.history[0]) >= {"epoch", "train_loss", "val_loss", "lr", "grad_norm", "seconds"}
    assert all(h["grad_norm"] > 0 for h in r.history)


def test_repr_is_one_line_naming_history_and_doctor_by_their_size():
    _, r = _fit(_cfg(max_epochs=8))
    text = repr(r)            # it printed the history and the doctor's statistics whole: 17 kB for 20 epochs
    assert text.startswith(f"TrainResult(epochs_run=8, best_epoch={r.best_epoch}, ") and "history=[8 epochs]" in text
    assert f"doctor=[{len(r.doctor['findings'])} findings]" in text and len(text) < 250


def test_same_seed_same_result_different_seed_different():
    _, a = _fit(_cfg(seed=3))
    _, b = _fit(_cfg(seed=3))
    _, c = _fit(_cfg(seed=4))
    assert [h["val_loss"] for h in a.history] == [h["val_loss"] for h in b.history]
    assert [h["train_loss"] for h in a.history] != [h["train_loss"] for h in c.history]


def test_early_stopping_restores_the_best_weights():
    # validation target is the negated training target: val loss rises once training learns
    model, r = _fit(_cfg(max_epochs=30, patience=3), val_sign=-1.0)
    assert r.stopped_early and not r.out_of_time
    assert r.epochs_run == r.best_epoch + 3
    vals = [h["val_loss"] for h in r.history]
    assert r.best_val_loss == min(vals) == vals[r.best_epoch - 1]
    # the restored model is exactly the model a run stopped at the best epoch ends with
    short, _ = _fit(_cfg(max_epochs=r.best_epoch, patience=100), val_sign=-1.0)
    assert _same_weights(model, short)


def test_restore_best_false_keeps_the_last_epochs_weights():
    # val loss rises from the start (negated target), so "best" is an early epoch, not the last
    cfg = _cfg(max_epochs=5, patience=100)
    tr, va = Batches(*_data(), shuffle=True), Batches(*_data(48, sign=-1.0, seed=1))
    last = _model()
    r = Trainer(cfg).fit(last, tr, va, restore_best=False)
    assert r.best_epoch < 5 and r.epochs_run == 5
    best = _model()
    Trainer(cfg).fit(best, tr, va)
    plain = _model()                 # the same 5 epochs, nothing to restore from: the last weights
    Trainer(cfg).fit(plain, tr)
    assert not _same_weights(last, best)
    assert _same_weights(last, plain)


def test_reduce_lr_on_plateau_halves_the_rate():
    _, r = _fit(_cfg(max_epochs=5, lr_patience=0, patience=100), val_sign=-1.0)
    lrs = [h["lr"] for h in r.history]
    assert lrs[0] == 1e-2
    assert lrs[-1] < lrs[0]
    assert any(b == pytest.approx(a * 0.5) for a, b in zip(lrs, lrs[1:]))


def test_clipping_off_still_records_the_grad_norm():
    # the NaN guard needs the norm anyway, so history shows it with clipping off too
    _, r = _fit(_cfg(clip_norm=None, max_epochs=2))
    assert all(math.isfinite(h["grad_norm"]) and h["grad_norm"] > 0 for h in r.history)


def test_clipping_changes_training_and_records_the_pre_clip_norm():
    # with clip_norm tiny the recorded (pre-clip) norm is still the true norm: clipping happens
    _, clipped = _fit(_cfg(clip_norm=1e-6, max_epochs=1))
    _, free = _fit(_cfg(clip_norm=1e9, max_epochs=1))
    assert clipped.history[0]["grad_norm"] == pytest.approx(free.history[0]["grad_norm"], rel=0.5)
    assert clipped.history[0]["train_loss"] != free.history[0]["train_loss"]


def test_persistent_non_finite_loss_stops_after_nan_retries_with_a_clear_error(tmp_path):
    # a NaN in the data poisons one batch every epoch: the guard skips it, but never for ever
    x, y = _data()
    y[0] = float("nan")
    with pytest.raises(LstmkitError, match="non-finite 4 times") as info:
        Trainer(_cfg(nan_retries=3), run_dir=tmp_path).fit(_model(), Batches(x, y), None)
    assert "check the data" in str(info.value)
    assert info.value.hint.startswith("lower the learning rate from 0.01 to 0.001 (--lr 0.001), keep clipping on")
    report = json.loads((tmp_path / "doctor.json").read_text())
    assert len(report["events"]) == 4 and report["stopped"].startswith("training stopped")
    lrs = [e["lr_after"] for e in report["events"]]
    assert lrs == [pytest.approx(1e-2 / 2 ** k) for k in range(1, 5)]
    with pytest.raises(LstmkitError, match="non-finite 1 times"):
        Trainer(_cfg(nan_retries=0)).fit(_model(), Batches(x, y), None)


class _NanLossOnce:
    """MSE, except that training step ``at`` returns NaN (a transient numerical accident)."""

    def __init__(self, at):
        self.at, self.steps = at, 0

    def __call__(self, pred, target):
        loss = nn.functional.mse_loss(pred, target)
        if not pred.requires_grad:          # validation passes do not count
            return loss
        self.steps += 1
        return loss * float("nan") if self.steps == self.at else loss


def test_nan_guard_skips_the_step_restores_weights_halves_lr_and_goes_on(tmp_path):
    cfg = _cfg(max_epochs=4, patience=100, checkpoint_every=0)
    model = _model()
    r = Trainer(cfg, run_dir=tmp_path, loss_fn=_NanLossOnce(at=9)).fit(
        model, Batches(*_data(), shuffle=True), Batches(*_data(48, seed=1)))
    assert r.epochs_run == 4 and all(math.isfinite(h["train_loss"]) for h in r.history)
    assert [h["nan_skips"] for h in r.history] == [0, 1, 0, 0]      # 6 batches per epoch: step 9 is in epoch 2
    assert r.history[1]["lr"] == pytest.approx(5e-3)                # halved
    (event,) = r.doctor["events"]
    assert event["epoch"] == 2 and event["step"] == 9 and event["restored_step"] == 6   # the epoch-1 end state
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert "nan_skips" in (tmp_path / "history.csv").read_text().splitlines()[0]
    assert json.loads((tmp_path / "doctor.json").read_text())["events"] == [event]


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    full, rf = _fit(_cfg(max_epochs=6, patience=100))
    _fit(_cfg(max_epochs=3, patience=100), run_dir=tmp_path)
    resumed, rr = _fit(_cfg(max_epochs=6, patience=100), run_dir=tmp_path, resume=True)
    assert [h["val_loss"] for h in rr.history] == [h["val_loss"] for h in rf.history]
    assert _same_weights(full, resumed)


class _InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch, self.seen = epoch, 0

    def on_batch_end(self, trainer, batch, n_batches, loss):
        if len(trainer.history) == self.epoch - 1 and batch == 2:
            raise KeyboardInterrupt


def test_ctrl_c_leaves_a_checkpoint_of_the_last_finished_epoch(tmp_path):
    with pytest.raises(TrainingInterrupted) as info:
        _fit(_cfg(max_epochs=6, patience=100), run_dir=tmp_path, callbacks=[_InterruptAt(4)])
    assert info.value.epoch == 3
    assert (tmp_path / "checkpoints" / "last.safetensors").is_file()
    assert (tmp_path / "doctor.json").is_file()
    resumed, _ = _fit(_cfg(max_epochs=6, patience=100), run_dir=tmp_path, resume=True)
    full, _ = _fit(_cfg(max_epochs=6, patience=100))
    assert _same_weights(full, resumed)


def test_run_dir_gets_history_csv_and_tensorboard_events(tmp_path):
    _fit(_cfg(max_epochs=3, tensorboard=True), run_dir=tmp_path)
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,val_loss,lr,grad_norm,seconds,nan_skips"
    assert len(lines) == 4
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


def test_progress_log_lines_and_bar(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")     # rich fits the bar to the width: at 40 columns 'epoch 2/2' was 'epoch …'
    log = io.StringIO()
    assert ProgressDisplay("auto", stream=log).mode == "log"     # not a terminal
    t = Trainer(_cfg(max_epochs=2, progress="log"))
    t.progress.stream = log
    t.fit(_model(), Batches(*_data()), Batches(*_data(48, seed=1)))
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("epoch 1/2  loss ") and lines[1].startswith("epoch 2/2  loss ")
    # the doctor's summary closes the log: 2 epochs still falling are 'undertrained', its remedies after it
    assert lines[2] == "doctor: 1 finding" and "still falling" in lines[3], lines
    assert "val_loss" in lines[0] and "lr" in lines[0] and "ETA" in lines[0]

    bar = io.StringIO()
    t = Trainer(_cfg(max_epochs=2, progress="bar"))
    t.progress.stream = bar
    t.fit(_model(), Batches(*_data()), Batches(*_data(48, seed=1)))
    out = bar.getvalue()
    assert "epoch 2/2" in out and "loss" in out and "val" in out


def test_progress_log_lines_within_a_long_epoch(monkeypatch):
    # an epoch of long sequences ran an hour before its first line; a line within it gives the run's ETA
    clock = iter(range(0, 10_000, 30))                   # every reading of the clock 30 s after the last
    monkeypatch.setattr("lstmkit.train.callbacks.time.perf_counter", lambda: float(next(clock)))
    log = io.StringIO()
    t = Trainer(_cfg(max_epochs=2, progress="log"))
    t.progress.stream = log
    t.fit(_model(), Batches(*_data()), Batches(*_data(48, seed=1)))           # 6 batches an epoch
    lines = log.getvalue().splitlines()
    within = [x for x in lines if "  batch " in x]
    assert within[0].startswith("epoch 1/2  batch 1/6  loss ") and within[-1].startswith("epoch 2/2  batch 6/6  ")
    for line in within:                 # the ETA: this epoch's batches left and the next epoch's, at this pace
        m = re.fullmatch(r"epoch (\d)/2  batch (\d)/6  loss \S+  (\d+)s  ETA <= (\d+)s", line)
        epoch, batch, elapsed, eta = map(int, m.groups())
        assert eta == round(elapsed / batch * ((6 - batch) + (2 - epoch) * 6)), line
    assert lines.index(within[-1]) < [k for k, x in enumerate(lines) if x.startswith("epoch 2/2  loss ")][0]


def test_progress_log_quiet_within_short_epochs():
    log = io.StringIO()
    t = Trainer(_cfg(max_epochs=2, progress="log"))
    t.progress.stream = log
    t.fit(_model(), Batches(*_data()), Batches(*_data(48, seed=1)))
    assert "batch" not in log.getvalue()


def test_early_stopping_counts_patience():
    es = EarlyStopping(patience=2, min_delta=0.1)
    assert not es.update(1.0, 1) and es.improved
    assert not es.update(0.95, 2) and es.improved          # the lowest yet (kept), but within min_delta:
    assert es.update(0.99, 3)                               # patience counts on from epoch 1
    assert (es.best_epoch, es.best, es.counted) == (2, 0.95, 1.0)


def test_unknown_loss_and_device_are_clear_errors():
    with pytest.raises(LstmkitError, match="unknown loss"):
        Trainer(_cfg(loss="rmse"))
    with pytest.raises(LstmkitError, match="unknown device"):
        Trainer(_cfg(device="tpu"))


@pytest.mark.parametrize("device, message", [
    ("meta", "device 'meta' holds no values"),
    ("xpu", "device 'xpu' cannot be used: this PyTorch makes no tensors on 'xpu'"),
])
def test_a_device_torch_names_but_cannot_train_on_is_refused_before_training(device, message):
    """``--device mps`` on a torch without it was a RuntimeError traceback from the model's ``.to()``,
    ``meta`` torch's 'Cannot copy out of meta tensor' after the data was read (xpu: no CPU-only
    torch has it)."""
    with pytest.raises(LstmkitError, match=message):
        Trainer.check_config(_cfg(device=device))


def test_a_gpu_index_past_the_machines_gpus_is_refused(monkeypatch):
    """``cuda:1`` on a one-GPU machine was torch's 'invalid device ordinal' from deep inside training."""
    from lstmkit.train.settings import resolve_device
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(LstmkitError, match=r"device 'cuda:1' requested but this machine has 1 CUDA GPU \(cuda:0\)"):
        resolve_device("cuda:1")
    assert resolve_device("cuda:0") == torch.device("cuda:0")


def test_check_config_fails_like_the_constructor_and_returns_the_device():
    assert Trainer.check_config(_cfg(device="cpu")) == torch.device("cpu")
    with pytest.raises(LstmkitError, match="unknown loss"):
        Trainer.check_config(_cfg(loss="rmse"))
    Trainer.check_config(_cfg(loss="auto"), loss_fn=nn.MSELoss())     # auto: the given loss
    with pytest.raises(LstmkitError, match="unknown loss"):
        Trainer.check_config(_cfg(loss="auto"))                        # auto and no loss given
    with pytest.raises(LstmkitError, match="unknown device"):
        Trainer.check_config(_cfg(device="tpu"))
    with pytest.raises(LstmkitError, match="max_minutes"):
        Trainer.check_config(_cfg(max_minutes=0))


class _Clock:
    """The trainer's clock (its ``time`` module), moved by the batches alone."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


class _SlowBatches(Callback):
    """Makes every batch take ``seconds`` on ``clock``, so epochs have a known length."""

    def __init__(self, seconds, clock):
        self.seconds, self.clock = seconds, clock

    def on_batch_end(self, trainer, batch, n_batches, loss):
        self.clock.now += self.seconds


def test_time_budget_starts_no_epoch_that_would_end_past_it(monkeypatch):
    # 6 batches of 0.2 s: epochs of 1.2 s. With 3 s: after epoch 1, 1.2 + 1.2 fits; after
    # epoch 2, 2.4 + 1.2 does not, so training stops there, keeping the best weights.
    # The seconds are the trainer's clock's, which only the batches move: with real sleeps of 0.2 s, a busy
    # machine's first epoch took 1.57 s, and 1.57 + 1.57 > 3 stopped the run after one epoch.
    clock = _Clock()
    monkeypatch.setattr("lstmkit.train.trainer.time", clock)
    model, r = _fit(_cfg(max_epochs=20, patience=100, max_minutes=3 / 60), callbacks=[_SlowBatches(0.2, clock)])
    assert r.epochs_run == 2
    assert r.out_of_time and not r.stopped_early           # the budget ended it, not early stopping
    assert [h["seconds"] for h in r.history] == pytest.approx([1.2, 1.2])
    short, _ = _fit(_cfg(max_epochs=r.best_epoch, patience=100))
    assert _same_weights(model, short)
    # without a budget the same run goes on
    _, free = _fit(_cfg(max_epochs=3, patience=100))
    assert free.epochs_run == 3


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), True, "10"])
def test_time_budget_must_be_a_positive_number(bad):
    with pytest.raises(LstmkitError, match="max_minutes"):
        Trainer(_cfg(max_minutes=bad))


def test_bf16_autocast_trains_an_lstm():
    from lstmkit.tasks.forecast.model import ForecastNet
    t = torch.arange(400, dtype=torch.float32)
    series = torch.sin(t / 6)[:, None]
    x = torch.stack([series[i:i + 24] for i in range(370)])
    y = torch.stack([series[i + 24:i + 25] for i in range(370)])
    torch.manual_seed(0)
    net = ForecastNet(1, 1, 1, "lstm", 16, 1, 0.0, relative=False)
    r = Trainer(_cfg(precision="bf16", max_epochs=4, lr=1e-2, batch_size=32)).fit(
        net, Batches(x, y, bs=32, shuffle=True), Batches(x[:64], y[:64], bs=64))
    assert r.history[-1]["train_loss"] < 0.2 * r.history[0]["train_loss"]
    assert all(p.dtype == torch.float32 for p in net.parameters())      # weights stay fp32
    assert all(math.isfinite(h["val_loss"]) for h in r.history)


def test_cosine_schedule_anneals_the_rate_to_near_zero_over_max_epochs():
    _, r = _fit(_cfg(max_epochs=6, patience=100, lr_schedule="cosine"))
    lrs = [h["lr"] for h in r.history]               # the rate each epoch trained with
    assert lrs == pytest.approx([1e-2 * (1 + math.cos(math.pi * e / 6)) / 2 for e in range(6)])
    # the plateau schedule (default) would keep 1e-2 on this improving run
    _, p = _fit(_cfg(max_epochs=6, patience=100))
    assert [h["lr"] for h in p.history] == [1e-2] * 6


def test_cosine_schedule_resumes_where_it_was_interrupted(tmp_path):
    cfg = _cfg(max_epochs=6, patience=100, lr_schedule="cosine")
    full, rf = _fit(cfg)
    with pytest.raises(TrainingInterrupted):
        _fit(cfg, run_dir=tmp_path, callbacks=[_InterruptAt(4)])
    resumed, rr = _fit(cfg, run_dir=tmp_path, resume=True)
    assert [h["lr"] for h in rr.history] == [h["lr"] for h in rf.history]
    assert _same_weights(full, resumed)


def test_unknown_lr_schedule_is_a_clear_error():
    with pytest.raises(LstmkitError, match="lr_schedule.*plateau, cosine"):
        Trainer(_cfg(lr_schedule="step"))


@pytest.mark.parametrize("early, budget, said", [
    (True, False, "epochs 5, best epoch 2 (early stop)\n"),
    (False, True, "epochs 5, best epoch 2 (the time budget, --max-minutes 0.5, ended training)\n"),
    (False, False, "epochs 5, best epoch 2\n"),
])
def test_the_report_says_what_ended_training(early, budget, said, capsys):
    """A run the time budget ended was reported as '(early stop)'."""
    from types import SimpleNamespace
    from lstmkit.cli_train import echo_run_end
    from lstmkit.train.trainer import TrainResult
    est = SimpleNamespace(result_=TrainResult(best_epoch=2, epochs_run=5, stopped_early=early, out_of_time=budget),
                          config_=SimpleNamespace(train=SimpleNamespace(max_minutes=0.5)), run_dir_="runs/x")
    echo_run_end(est)
    assert capsys.readouterr().out == said + "run folder: runs/x\n"


class _ScriptedVal(Trainer):
    """A trainer whose validation loss follows a script, one value an epoch."""

    def __init__(self, cfg, losses, **kw):
        super().__init__(cfg, **kw)
        self.losses = list(losses)

    def _evaluate(self, model, batches):
        return self.losses[len(self.history)]


@pytest.mark.parametrize("restore_best", [True, False])
def test_ctrl_c_gives_the_model_its_best_epochs_weights_as_a_finished_fit_does(restore_best):
    """Ctrl-C in epoch 4 of a run whose best epoch was 2: the model held the weights of epoch 4's last step,
    which no epoch or checkpoint held; now epoch 2's, as a finished fit ends, named by the exception
    (restore_best=False, a fixed fine-tuning's: as training left it, as such a fit ends on its last step)."""
    snaps, stepped = [], []

    class SnapThenStop(_InterruptAt):
        def on_epoch_end(self, trainer, logs):
            snaps.append({k: v.clone() for k, v in trainer._parts[0].state_dict().items()})

        def on_batch_end(self, trainer, batch, n_batches, loss):
            stepped[:] = [{k: v.clone() for k, v in trainer._parts[0].state_dict().items()}]
            super().on_batch_end(trainer, batch, n_batches, loss)

    model = _model()
    trainer = _ScriptedVal(_cfg(max_epochs=6, patience=100), [1.0, 0.5, 0.9, 0.8], callbacks=[SnapThenStop(4)])
    with pytest.raises(TrainingInterrupted) as info:
        trainer.fit(model, Batches(*_data()), Batches(*_data(48)), restore_best=restore_best)
    assert info.value.epoch == 3 and info.value.best_epoch == (2 if restore_best else None)
    kept = snaps[1] if restore_best else stepped[0]
    assert all(torch.equal(v, kept[k]) for k, v in model.state_dict().items())
    assert not all(torch.equal(v, stepped[0][k]) for k, v in snaps[1].items())     # the steps did move them


def test_min_delta_counts_patience_but_the_lowest_validation_epoch_is_what_is_kept(tmp_path):
    """With min_delta an epoch better by less than it was not kept: the run restored the weights of an
    epoch whose validation loss history.csv showed beaten, and reported that epoch as the best."""
    losses = [1.0, 0.95, 0.99, 0.97, 0.96]
    snaps = []

    class Snap(Callback):
        def on_epoch_end(self, trainer, logs):
            snaps.append({k: v.clone() for k, v in trainer._parts[0].state_dict().items()})

    model = _model()
    cfg = _cfg(max_epochs=5, patience=3, min_delta=0.1)
    r = _ScriptedVal(cfg, losses, run_dir=tmp_path, callbacks=[Snap()]).fit(model, Batches(*_data()), Batches(*_data(48)))
    assert r.stopped_early and r.epochs_run == 4        # 0.95 is within min_delta of 1.0: patience ran from epoch 1
    assert (r.best_epoch, r.best_val_loss) == (2, 0.95)
    assert all(torch.equal(v, snaps[1][k]) for k, v in model.state_dict().items())
    # a resume from the checkpoint of epoch 3 keeps both: the best so far and where patience counts from
    _ScriptedVal(_cfg(max_epochs=3, patience=3, min_delta=0.1), losses, run_dir=tmp_path / "b").fit(
        _model(), Batches(*_data()), Batches(*_data(48)))
    resumed = _model()
    rr = _ScriptedVal(cfg, losses, run_dir=tmp_path / "b").fit(resumed, Batches(*_data()), Batches(*_data(48)),
                                                              resume=True)
    assert (rr.epochs_run, rr.best_epoch, rr.best_val_loss) == (4, 2, 0.95)
    assert _same_weights(resumed, model)


@pytest.mark.parametrize("which", ["lm", "seq2seq"])
def test_a_token_level_validation_loss_is_the_mean_over_tokens_whatever_the_batches(which):
    """A language model's or translator's validation loss weighed each batch's token mean by its rows: two
    one-token lines beside a five-token line counted the line's tokens as one row; the loss per held-out
    token (the language model's metrics' cross_entropy) came out otherwise for every other batching."""
    from lstmkit.nn.seq2seq import sequence_loss
    from lstmkit.tasks.lm.model import token_loss
    loss = token_loss(0) if which == "lm" else sequence_loss()
    torch.manual_seed(0)
    net = nn.Embedding(7, 7)                       # each input token's logits over 7 ids, 0 the padding
    short, short_y = torch.tensor([[1], [2]]), torch.tensor([[2], [1]])                  # [2, 1]
    long, long_y = torch.tensor([[3, 4, 5, 6, 1]]), torch.tensor([[1, 3, 4, 5, 6]])      # [1, 5]
    both = torch.cat([nn.functional.pad(short, (0, 4)), long])                          # [3, 5], 0-padded
    both_y = torch.cat([nn.functional.pad(short_y, (0, 4)), long_y])
    trainer = Trainer(_cfg(), loss_fn=loss)
    apart = trainer._evaluate(net, [(short, short_y), (long, long_y)])
    whole = trainer._evaluate(net, [(both, both_y)])
    assert apart == pytest.approx(whole, rel=1e-6)


def test_the_result_says_which_loss_early_stopping_followed():
    """With nothing held out, best_val_loss is the lowest training loss: the result (and lstmkit.json's
    training block) now says so, where it read as a validation loss no run measured."""
    _, held = _fit(_cfg(max_epochs=2))
    alone = Trainer(_cfg(max_epochs=2)).fit(_model(), Batches(*_data(), shuffle=True))
    assert held.monitored == "val_loss" and held.best_val_loss == min(h["val_loss"] for h in held.history)
    assert alone.monitored == "train_loss" and alone.best_val_loss == min(h["train_loss"] for h in alone.history)


def test_the_plateau_schedule_counts_an_improvement_by_min_delta_as_early_stopping_does():
    """Falls of 0.01 under min_delta 0.1 are no improvement to early stopping; the plateau schedule counted
    each (torch's 0.01 % relative), so the rate never fell while patience ran out."""
    losses = [1.0, 0.99, 0.98, 0.97, 0.96, 0.95]
    r = _ScriptedVal(_cfg(max_epochs=6, patience=100, lr_patience=1, min_delta=0.1), losses).fit(
        _model(), Batches(*_data()), Batches(*_data(48)))
    assert [h["lr"] for h in r.history] == [1e-2, 1e-2, 1e-2, 5e-3, 5e-3, 2.5e-3]
    plain = _ScriptedVal(_cfg(max_epochs=6, patience=100, lr_patience=1), losses).fit(
        _model(), Batches(*_data()), Batches(*_data(48)))
    assert [h["lr"] for h in plain.history] == [1e-2] * 6     # min_delta 0: every fall counts


@pytest.mark.parametrize("classes", [False, True])
def test_train_loss_is_the_mean_over_every_row_whatever_the_batches(classes):
    """``train_loss`` weighs each batch as the validation loss does (its rows, or what the loss says a
    batch weighs: a class-weighted classifier's class weights): 65 rows in batches of 64 and 1 (the
    weights all but frozen) read the loss of every row at once, where the mean of the two batch losses
    counted the last row as much as the other 64 together."""
    from lstmkit.nn.classifier import ClassificationLoss
    x, y = _data(65)
    torch.manual_seed(0)
    if classes:
        model = nn.Sequential(nn.Linear(4, 1), nn.Flatten(0))
        y, loss_fn = (y[:, 0] > 0).long(), ClassificationLoss(2, torch.tensor([0.3, 2.0]))
    else:
        model, loss_fn = nn.Linear(4, 1), nn.MSELoss()
    with torch.no_grad():
        whole = loss_fn(model(x), y).item()
    cfg = _cfg(max_epochs=1, batch_size=64, lr=1e-30, clip_norm=None)
    result = Trainer(cfg, loss_fn=loss_fn).fit(model, Batches(x, y, bs=64), None)
    assert result.history[0]["train_loss"] == pytest.approx(whole, rel=1e-5)


def test_an_epoch_resumed_from_a_checkpoint_before_weights_were_counted_keeps_its_batch_mean():
    """A checkpoint written mid-epoch by an earlier version holds no weighed sums: that epoch's
    ``train_loss`` is the mean of its batch losses, as it was computed then; one at an epoch's start
    starts the weighed sums afresh."""
    from lstmkit.train.resume import _epoch_so_far
    from lstmkit.train.trainer import _epoch_loss
    mid = _epoch_so_far({"loss": 3.0, "n": 2, "grad": 0.0, "skips": 0})
    mid["weighted"] += 5.0 * 10                          # one more batch of 10 rows, loss 5
    mid["weight"] += 10
    mid["loss"] += 5.0
    mid["n"] += 1
    assert _epoch_loss(mid["loss"], mid["n"], mid["weighted"], mid["weight"], bool(mid.get("unweighed"))) == 8.0 / 3
    start = _epoch_so_far({"loss": 0.0, "n": 0, "grad": 0.0, "skips": 0})
    assert start == {"loss": 0.0, "n": 0, "grad": 0.0, "skips": 0, "weighted": 0.0, "weight": 0.0}


class _Raises(Callback):
    """Raises ``error`` in the event ``where`` (a user's callback: a tuning loop's, a notebook's)."""

    def __init__(self, where: str, error: BaseException):
        self.where, self.error = where, error

    def on_train_begin(self, trainer):
        if self.where == "begin":
            raise self.error

    def on_train_end(self, trainer):
        if self.where == "end":
            raise self.error


class _Ended(Callback):
    def __init__(self):
        self.ended = 0

    def on_train_end(self, trainer):
        self.ended += 1


@pytest.mark.parametrize("where", ["begin", "end"])
@pytest.mark.parametrize("error", [RuntimeError("the callback's own"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_callback_that_raises_leaves_no_tensorboard_writer_open(where, error, tmp_path):
    """A user's callback raising in on_train_begin (before the loop's try) or on_train_end (before
    TensorBoard's own end) left TensorBoard's writer open: one more thread and an open events file
    after every such fit, in a process that fits again and again. The threads counted are the writers' own
    (the whole process's count moved when another library's thread, or an earlier test's, started or ended
    meanwhile); a closed writer's has ended, for its close joins it."""
    import threading

    from tensorboard.summary.writer.event_file_writer import _AsyncWriterThread

    def writers():
        return sum(isinstance(t, _AsyncWriterThread) and t.is_alive() for t in threading.enumerate())
    before = writers()
    after = _Ended()
    for k in range(3):
        with pytest.raises((RuntimeError, KeyboardInterrupt, TrainingInterrupted)):
            _fit(_cfg(max_epochs=1, tensorboard=True), run_dir=tmp_path / f"run{k}",
                 callbacks=[_Raises(where, error), after])
    assert writers() == before
    assert after.ended == (3 if where == "end" else 0)      # the others end too; one never begun does not




def test_a_callback_that_raises_at_the_start_leaves_no_progress_bar_running():
    """The progress bar, started before a user's callback raised in on_train_begin, was never stopped:
    its refresh thread ran on, redrawing a dead bar, one more after every such fit. (rich's stop asks
    the thread to end without waiting for it: the threads counted are those not asked.)"""
    import threading
    from rich.live import _RefreshThread

    def bars_running():
        return sum(isinstance(t, _RefreshThread) and not t.done.is_set() for t in threading.enumerate())

    for _ in range(3):
        trainer = Trainer(_cfg(max_epochs=1, progress="bar"), callbacks=[_Raises("begin", RuntimeError("boom"))])
        trainer.progress.stream = io.StringIO()
        with pytest.raises(RuntimeError):
            trainer.fit(_model(), Batches(*_data()))
    assert bars_running() == 0


@pytest.mark.parametrize("clip_norm", [1.0, None])
def test_grad_norm_is_the_mean_of_each_steps_norm_before_clipping(clip_norm):
    # loss = sum(pred * y) with pred = w x: dloss/dw = x y whatever w is, so the two steps' norms are 3 and 4
    # (clipped to 1 before the step, but recorded as they were) and the epoch's grad_norm their mean, 3.5
    torch.manual_seed(0)
    model = nn.Linear(1, 1, bias=False)
    batches = [(torch.tensor([[3.0]]), torch.tensor([[1.0]])), (torch.tensor([[2.0]]), torch.tensor([[2.0]]))]
    r = Trainer(_cfg(max_epochs=2, clip_norm=clip_norm, doctor=False),
                loss_fn=lambda pred, y: (pred * y).sum()).fit(model, batches)
    assert [h["grad_norm"] for h in r.history] == [pytest.approx(3.5)] * 2


def test_a_resumed_runs_doctor_report_covers_the_whole_run(tmp_path):
    """The doctor's state is part of the checkpoint: a resumed run's report holds every epoch, as the
    uninterrupted run's does, not only those after the resume."""
    def stats(result):          # the doctor's per-epoch record less its clock readings
        return [{k: v for k, v in e.items() if not k.endswith("_seconds")} for e in result.doctor["epochs"]]
    _, full = _fit(_cfg(max_epochs=4, patience=100))
    _fit(_cfg(max_epochs=2, patience=100), run_dir=tmp_path)
    _, resumed = _fit(_cfg(max_epochs=4, patience=100), run_dir=tmp_path, resume=True)
    assert [e["epoch"] for e in resumed.doctor["epochs"]] == [1, 2, 3, 4]
    assert stats(resumed) == stats(full)


def test_a_validation_batch_of_one_row_counts_as_one_row():
    # an identity model under MSE: the 1-row batch misses by 2 (loss 4), the 3-row batch by 0; over 4 rows, 1.0
    trainer = Trainer(_cfg())
    one = (torch.tensor([[3.0]]), torch.tensor([[1.0]]))
    three = (torch.ones(3, 1), torch.ones(3, 1))
    assert trainer._evaluate(nn.Identity(), [one, three]) == pytest.approx(1.0)
