"""The callbacks by hand-worked examples: EarlyStopping's best epoch and patience, what the log line and
TensorBoard get of an epoch."""
import io
import math

import pytest

from lstmkit.train.callbacks import EarlyStopping, ProgressDisplay, TensorBoardLogger


def _run(es, losses):
    """Feed ``losses`` (epochs from 1) until ``update`` says stop; the epoch it stopped at, or None."""
    for epoch, v in enumerate(losses, 1):
        if es.update(v, epoch):
            return epoch
    return None


@pytest.mark.parametrize("patience", [0, -1])
def test_a_patience_below_one_is_refused(patience):
    with pytest.raises(ValueError, match="patience must be >= 1"):
        EarlyStopping(patience=patience)


def test_patience_one_stops_at_the_first_epoch_without_an_improvement():
    es = EarlyStopping(patience=1)
    assert _run(es, [3.0, 2.0, 1.0, 1.5, 0.5]) == 4
    assert (es.best_epoch, es.best) == (3, 1.0)


def test_an_equal_loss_is_no_improvement_and_the_first_epoch_that_reached_it_stays_the_best():
    # 1.0 at epochs 2 and 3: the weights kept are epoch 2's, and epoch 3 counts towards patience
    es = EarlyStopping(patience=2)
    assert not es.update(2.0, 1) and es.improved
    assert not es.update(1.0, 2) and es.improved
    assert not es.update(1.0, 3) and not es.improved
    assert (es.best_epoch, es.best, es.wait) == (2, 1.0, 1)
    assert es.update(1.0, 4)


def test_a_fall_of_exactly_min_delta_does_not_reset_patience():
    # min_delta 0.5 from 1.0: the mark is 0.5; a loss must be below it (more than min_delta lower) to count,
    # as torch's ReduceLROnPlateau counts with threshold_mode="abs" (the plateau schedule beside it)
    es = EarlyStopping(patience=2, min_delta=0.5)
    assert not es.update(1.0, 1)
    assert not es.update(0.5, 2) and es.improved            # the lowest yet: kept as the best ...
    assert (es.wait, es.counted) == (1, 1.0)                # ... but patience counts on from epoch 1
    assert es.update(0.5, 3)
    assert (es.best_epoch, es.best) == (2, 0.5)


class _Trainer:
    """What ProgressDisplay and TensorBoardLogger read of a trainer."""
    class config:
        max_epochs = 4
    start_epoch = 0
    history = []


def test_a_log_line_shows_the_epochs_losses_to_five_digits_and_a_dash_for_none_held_out():
    log = io.StringIO()
    p = ProgressDisplay("log", stream=log)
    p.on_train_begin(_Trainer)
    p.on_epoch_end(_Trainer, {"epoch": 1, "train_loss": 0.123456789, "val_loss": math.nan, "lr": 0.01, "seconds": 2.0})
    p.on_epoch_end(_Trainer, {"epoch": 2, "train_loss": 12.0, "val_loss": 3.25, "lr": 0.005, "seconds": 2.0})
    first, second = log.getvalue().splitlines()
    assert first.startswith("epoch 1/4  loss 0.12346  val_loss -  lr 0.01  2.0s  ETA <= "), first
    assert second.startswith("epoch 2/4  loss 12  val_loss 3.25  lr 0.005  2.0s  ETA <= "), second


def test_tensorboard_gets_each_epochs_scalars_and_skips_a_nan_one(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    tb = TensorBoardLogger(tmp_path / "tb")
    tb.on_train_begin(_Trainer)
    tb.on_epoch_end(_Trainer, {"epoch": 1, "train_loss": 2.0, "val_loss": math.nan, "lr": 0.01, "grad_norm": 0.5})
    tb.on_epoch_end(_Trainer, {"epoch": 2, "train_loss": 1.0, "val_loss": 1.5, "lr": 0.01, "grad_norm": 0.25})
    tb.on_train_end(_Trainer)
    assert tb.writer is None
    events = EventAccumulator(str(tmp_path / "tb")).Reload()
    scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    assert scalars == {"train_loss": [(1, 2.0), (2, 1.0)], "val_loss": [(2, 1.5)],
                       "lr": [(1, pytest.approx(0.01)), (2, pytest.approx(0.01))], "grad_norm": [(1, 0.5), (2, 0.25)]}


def test_the_defaults_are_the_train_configs():
    from lstmkit.config import TrainConfig
    es, cfg = EarlyStopping(), TrainConfig()
    assert (es.patience, es.min_delta) == (cfg.patience, cfg.min_delta)
