import numpy as np
import pandas as pd



def sine_frame(n=480, period=24, noise=0.05, seed=0, trend=0.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + np.sin(2 * np.pi * t / period) + trend * t + noise * rng.standard_normal(n)
    temp = np.cos(2 * np.pi * t / period) + 0.1 * rng.standard_normal(n)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": y, "temp": temp})




# small and quick: what the tests need is behaviour, not accuracy
FAST = dict(lookback=24, hidden_size=16, num_layers=1, max_epochs=12, batch_size=32, lr=5e-3,
            progress="off", tensorboard=False, device="cpu")
# the settings chosen from the data when left unset (lstmkit.tasks.forecast.auto), at their former
# fixed defaults: the tests that use FAST check other behaviour on one model they can deploy
FAST.update(deseason=0, log=False, segment=0, highway=0, scaler="minmax", ensemble=1)
