"""Speech: CTC or attention recognition over characters, and spoken-word classification."""
from lstmkit.tasks.speech.estimator import SpeechRecognizer

__all__ = ["SpeechRecognizer"]
