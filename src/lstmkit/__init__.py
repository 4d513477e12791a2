"""lstmkit: LSTM-family sequence models."""
__version__ = "0.1.0"
