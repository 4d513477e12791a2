"""Translation: an LSTM encoder-decoder with attention, greedy and beam search, BLEU and chrF."""
from lstmkit.tasks.translate.estimator import Translator

__all__ = ["Translator"]
