"""Task-agnostic training: the fit loop, callbacks, checkpoints, the doctor, DDP glue."""
from lstmkit.train import distributed
from lstmkit.train.trainer import Trainer, TrainingInterrupted, TrainResult

__all__ = ["Trainer", "TrainResult", "TrainingInterrupted", "distributed"]
