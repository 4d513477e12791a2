"""Building blocks: pure torch.nn modules, no I/O."""
from lstmkit.nn.lstm import LSTM, LSTMCell

__all__ = ["LSTM", "LSTMCell"]
