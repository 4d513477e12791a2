"""Task-agnostic training: the fit loop, callbacks, checkpoints."""
from lstmkit.train.trainer import Trainer, TrainingInterrupted, TrainResult

__all__ = ["Trainer", "TrainResult", "TrainingInterrupted"]
