"""The smallest run-folder estimator, ``_Line`` (y = slope * x with one Linear layer): the one training
path of ``tasks._base`` on a fit that takes milliseconds (tests/tasks/test_base.py, tests/test_run_status.py)."""
import dataclasses
from dataclasses import dataclass, field

import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.tasks._base import RunEstimator


def _quiet_train() -> TrainConfig:
    return TrainConfig(max_epochs=3, batch_size=8, lr=0.05, progress="off", device="cpu", tensorboard=False)


@dataclass
class _LineConfig:
    slope: float = 2.0              # the line to learn
    train: TrainConfig = field(default_factory=_quiet_train)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        return cls(train=TrainConfig(**d.pop("train")), **d)


class _Line(RunEstimator):
    """The smallest estimator: y = slope * x with one Linear layer."""

    TASK = "line"
    CONFIG = _LineConfig

    def fit(self, out=None, callbacks=(), run_dir=None, resume=False, **overrides):
        cfg = self._resolve_config(self.config, overrides)
        torch.manual_seed(0)
        self.net_ = nn.Linear(1, 1)
        x = torch.linspace(-1, 1, 32)[:, None]
        batches = [(x[k:k + 8], cfg.slope * x[k:k + 8]) for k in range(0, 32, 8)]
        self.plotted = []
        self.config_, self.data_summary_ = cfg, {}
        return self._train_and_save(cfg.train, batches, batches, out=out, run_dir=run_dir, resume=resume,
                                    callbacks=callbacks,
                                    metrics=lambda: {"weight": float(self.net_.weight.detach())},
                                    plots=self.plotted.append)

    def _build_net(self):
        return nn.Linear(1, 1)

    def _write_meta(self, run_dir, status):        # what every task writes (its own fields aside)
        self._write_run_meta(run_dir, status, model={"class": "Linear"})
