"""Language modelling: next-token LSTM models over lines of text, perplexity, sampling, and a
streaming scorer for shallow fusion in decoders."""
from lstmkit.tasks.lm.estimator import LanguageModel
from lstmkit.tasks.lm.scorer import LMScorer

__all__ = ["LanguageModel", "LMScorer", "load"]

load = LanguageModel.load       # the room's entry point for loading a run (see tasks._base.load_run)
