import json

import numpy as np
import pytest
import torch

from forecast_data import sine_frame
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster


def _weights(est):
    return {k: v.clone() for k, v in est.net_.state_dict().items()}


def test_update_improves_on_new_data_and_is_saved_as_a_new_version(abs_forecaster, tmp_path):
    est = Forecaster.load(abs_forecaster.run_dir_)
    before = _weights(est)
    new = sine_frame(n=200, seed=11, trend=0.002)
    est.update(new, epochs=5, lr=5e-3)
    r = est.last_update_
    assert r["accepted"] and r["val_loss_after"] < r["val_loss_before"]
    assert any(not torch.equal(before[k], v) for k, v in est.net_.state_dict().items())
    assert est.run_dir_ is None          # an exported graph of the old weights is not used any more
    saved = est.save(tmp_path / "v2")
    again = Forecaster.load(saved)
    assert again.lineage_[-1]["accepted"] is True
    assert json.loads((saved / "lstmkit.json").read_text())["lineage"][0]["train_windows"] == r["train_windows"]


def test_update_that_hurts_is_rolled_back(abs_forecaster):
    est = Forecaster.load(abs_forecaster.run_dir_)
    before = _weights(est)
    noise = np.random.default_rng(0).standard_normal(200) * 5 + 10
    df = sine_frame(n=200, seed=12)
    df["y"] = noise                                  # nothing to learn: a huge lr only hurts
    est.update(df, epochs=3, lr=1.0)
    assert not est.last_update_["accepted"]
    for k, v in est.net_.state_dict().items():
        assert torch.equal(before[k], v)


def test_update_refuses_too_little_data_and_bad_settings(abs_forecaster):
    est = Forecaster.load(abs_forecaster.run_dir_)
    with pytest.raises(LstmkitError, match="too little new data"):
        est.update(sine_frame(n=27))
    with pytest.raises(LstmkitError, match="epochs"):
        est.update(sine_frame(n=200), epochs=0)
    with pytest.raises(LstmkitError, match="holdout"):
        est.update(sine_frame(n=200), holdout=1.5)
