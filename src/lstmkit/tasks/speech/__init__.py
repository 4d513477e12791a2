"""Speech: CTC or attention recognition over characters, and spoken-word classification."""
from lstmkit.tasks.speech.estimator import SpeechRecognizer

__all__ = ["SpeechRecognizer", "load"]

load = SpeechRecognizer.load    # the room's entry point for loading a run (see tasks._base.load_run)
