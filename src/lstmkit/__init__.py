"""lstmkit: LSTM-family sequence models, from the gate equations to deployment."""
__version__ = "0.1.0"

from lstmkit.loading import load  # noqa: E402
from lstmkit.nn.lstm import LSTM, LSTMCell  # noqa: E402
from lstmkit.tasks.classify import SequenceClassifier, TextClassifier  # noqa: E402
from lstmkit.tasks.forecast.estimator import Forecaster  # noqa: E402
from lstmkit.tasks.lm import LanguageModel  # noqa: E402
from lstmkit.tasks.speech import SpeechRecognizer  # noqa: E402
from lstmkit.tasks.translate import Translator  # noqa: E402

__all__ = ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel", "SpeechRecognizer", "LSTM", "LSTMCell", "load", "__version__"]
