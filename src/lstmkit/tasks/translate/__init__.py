"""Translation: an LSTM encoder-decoder with attention, greedy and beam search, BLEU and chrF."""
from lstmkit.tasks.translate.estimator import Translator

__all__ = ["Translator", "load"]

load = Translator.load          # the room's entry point for loading a run (see tasks._base.load_run)
