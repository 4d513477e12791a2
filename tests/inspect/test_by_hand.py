"""The inspect layer's computations worked by hand on tiny inputs: gate statistics at their
thresholds, the most active units, ensemble members, attention layers."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.inspect.gates import gate_statistics, gates, most_active_units
from lstmkit.nn.lstm import LSTM
from one_thread import one_thread  # noqa: F401  (autouse: one torch thread)


def test_statistics_of_values_worked_by_hand_with_values_on_the_thresholds():
    """A gate's saturated shares are of values strictly above 0.9 and strictly below 0.1 (a value
    of exactly 0.9 is not 'above'); the tanh candidate also counts |g|; the cell state gets its
    largest |c|; std is the population's; one direction unless told, padding left out."""
    rec = {"i": torch.tensor([0.95, 0.9, 0.1, 0.05], dtype=torch.float64),
           "g": torch.tensor([-0.95, 0.9, -0.05, -0.1], dtype=torch.float64),
           "c": torch.tensor([-2.0, 1.0, 0.5, 0.0], dtype=torch.float64)}
    rec = {k: v.reshape(1, 1, 4, 1) for k, v in rec.items()}                  # [L*D, B, T, H]
    stats = gate_statistics(rec, 1)
    assert set(stats) == {"l0"}
    i, g, c = stats["l0"]["i"], stats["l0"]["g"], stats["l0"]["c"]
    assert i["mean"] == pytest.approx(0.5)
    assert i["std"] == pytest.approx(math.sqrt((0.45 ** 2 + 0.4 ** 2 + 0.4 ** 2 + 0.45 ** 2) / 4))
    assert i["frac_above_0.9"] == 0.25 and i["frac_below_0.1"] == 0.25
    assert "frac_abs_above_0.9" not in i and "abs_max" not in i
    assert g["frac_above_0.9"] == 0.0 and g["frac_below_0.1"] == 0.75         # every negative value
    assert g["frac_abs_above_0.9"] == 0.25 and g["frac_abs_below_0.1"] == 0.25
    assert c == {"mean": pytest.approx(-0.125), "std": pytest.approx(math.sqrt((1.875 ** 2 + 1.125 ** 2
                                                                               + 0.625 ** 2 + 0.125 ** 2) / 4)),
                 "abs_max": 2.0}
    first_two = gate_statistics(rec, 1, valid=torch.tensor([[True, True, False, False]]))["l0"]
    assert first_two["i"]["mean"] == pytest.approx(0.925) and first_two["i"]["frac_above_0.9"] == 0.5
    assert first_two["c"]["abs_max"] == 2.0 and first_two["c"]["mean"] == pytest.approx(-0.5)


def test_the_most_active_units_of_one_step_are_those_of_largest_magnitude():
    """Of one step every std is 0: the units are ranked by |c| (largest first), a negative one too;
    asking for more units than there are gives them all."""
    c = torch.tensor([[0.1, -0.7, 0.3]])
    assert most_active_units(c, 2) == [1, 2]
    assert most_active_units(c, 5) == [1, 2, 0]
    seven = torch.arange(7.0)[None] - 3                                       # |c| = 3 2 1 0 1 2 3
    assert most_active_units(seven)[:2] in ([0, 6], [6, 0]) and len(most_active_units(seven)) == 5   # five by default
    two = torch.tensor([[0.0, 5.0, 1.0], [0.0, 5.0, -1.0]])                # unit 1 large but still, unit 2 moves
    assert most_active_units(two, 1) == [2]


def test_one_network_is_one_member_and_an_ensemble_says_how_many():
    from lstmkit.inspect.gates import ensemble_members
    lstm = LSTM(1, 2)
    assert gates(lstm, torch.zeros(3, 1))["members"] == 1
    assert ensemble_members(lstm) == 1
    seeds = torch.nn.Module()
    seeds.members = torch.nn.ModuleList([LSTM(1, 2) for _ in range(3)])
    assert ensemble_members(seeds) == 3
    side_by_side = torch.nn.Module()
    side_by_side.members = 2
    assert ensemble_members(side_by_side) == 2
    named = torch.nn.Module()
    named.members = ["ann", "bob"]                                  # an attribute of another meaning: one network
    assert ensemble_members(named) == 1


def test_attention_layers_count_a_transformers_layers_one_for_lstm_attention_none_without():
    from lstmkit.inspect.attention import attention, attention_layers
    from lstmkit.nn.zoo import make_encoder
    torch.manual_seed(0)
    three = make_encoder("transformer", 3, 8, num_layers=3, dropout=0.0).eval()
    assert attention_layers(three) == 3
    assert attention_layers(type("Fitted", (), {"net_": three})()) == 3            # an estimator's network
    assert attention_layers(make_encoder("lstm-attention", 3, 8, num_layers=2, dropout=0.0)) == 1
    assert attention_layers(make_encoder("lstm", 3, 8, num_layers=2, dropout=0.0)) == 0
    x = torch.randn(1, 4, 3)
    # -3 is the first of three layers, as a list's index; -4 and 3 name none; a bool is not an index
    assert torch.equal(attention(three, x, layer=-3), attention(three, x, layer=0))
    assert torch.equal(attention(three, x, layer=-1), attention(three, x, layer=2))
    for bad in (-4, 3, True):
        with pytest.raises(LstmkitError, match="`layer` must be"):
            attention(three, x, layer=bad)


class _Forecaster:
    """What network_input reads of a forecaster: its scaled rows (here row k is [k, 10 k]) and its lookback."""
    config_ = type("Config", (), {"lookback": 3})()

    def model_inputs(self, data):
        n = 8 if isinstance(data, str) else len(data)                         # a file: 8 rows
        return np.stack([np.arange(n), 10 * np.arange(n)], 1).astype(np.float32)


class _TextModel:
    kind = "text"

    def __init__(self, ids):
        self.ids = ids

    def token_inputs(self, text):
        return text.split(), self.ids


def test_a_forecasters_data_is_its_last_lookback_rows_and_fewer_rows_are_refused():
    from lstmkit.inspect.inputs import network_input
    model = _Forecaster()
    np.testing.assert_array_equal(network_input(model, [5.0, 6.0, 7.0, 8.0]), [[1, 10], [2, 20], [3, 30]])
    np.testing.assert_array_equal(network_input(model, [5.0, 6.0, 7.0]), [[0, 0], [1, 10], [2, 20]])   # exactly
    import pandas as pd
    from pathlib import Path
    for data in ("data.csv", Path("data.csv")):                                # a file: read as 8 rows
        np.testing.assert_array_equal(network_input(model, data), [[5, 50], [6, 60], [7, 70]])
    table = pd.DataFrame({"y": [5.0, 6.0, 7.0, 8.0]})
    np.testing.assert_array_equal(network_input(model, table), [[1, 10], [2, 20], [3, 30]])
    with pytest.raises(LstmkitError, match=r"has 2 rows, fewer than the model's lookback \(3\)"):
        network_input(model, [5.0, 6.0])
    for other in ({"y": [5.0, 6.0, 7.0]}, [[5.0, 6.0], [7.0]]):        # neither data nor numbers: one error
        with pytest.raises(LstmkitError, match=r"`x` must be the numbers the network reads .* pass the data as "
                                               r"predict takes it"):
            network_input(model, other)
    steps = np.ones((2, 4), dtype=np.float32)                         # already the network's [T, F]: as given
    assert network_input(model, steps) is steps


def test_a_texts_ids_are_read_from_zero_to_the_last_vocabulary_id_and_no_further():
    from torch import nn

    from lstmkit.inspect.inputs import network_batch
    net = nn.Sequential(nn.Embedding(5, 2))                            # ids 0..4
    x, lengths = network_batch(_TextModel([0, 4, 2]), net, "a b c", None, torch.float32)
    assert x.dtype == torch.int64 and x.tolist() == [[0, 4, 2]] and lengths is None
    for ids, bad in (([1, 5], 5), ([-1, 2], -1)):
        with pytest.raises(LstmkitError, match=f"token id {bad}, outside the model's vocabulary of 5 ids"):
            network_batch(_TextModel(ids), net, "a b", None, torch.float32)


def test_a_network_that_must_be_told_its_lengths_is_told_each_sequence_is_whole():
    from torch import nn

    from lstmkit.inspect.inputs import full_lengths

    class Told(nn.Module):
        def forward(self, x, lengths):
            return x

    class Optional(nn.Module):
        def forward(self, x, lengths=None):
            return x

    x = torch.zeros(3, 7, 2)
    assert full_lengths(Told(), x, None).tolist() == [7, 7, 7]
    assert full_lengths(Optional(), x, None) is None
    assert full_lengths(LSTM(2, 2), x, None) is None
    given = torch.tensor([7, 5, 1])
    assert full_lengths(Told(), x, given) is given


def _panel(ids, id_embedding):
    return type("Panel", (), {"series_ids_": list(ids),
                              "config_": type("Config", (), {"id_embedding": id_embedding})()})()


def test_the_series_index_is_the_series_position_among_those_trained_on_or_the_slot_after_them():
    from lstmkit.inspect.gates import series_index
    four = _panel("abcd", 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                          # a series trained on: said nothing
        assert series_index(four, "c", 2).tolist() == [2, 2]
        assert series_index(_panel("abcd", 0), "z", 1).tolist() == [4]        # no embedding: nothing read amiss
    with pytest.warns(UserWarning, match=r"series 'z' is not one .* \('a', 'b', 'c', …\)"):
        assert series_index(four, "z", 1).tolist() == [4]                     # predict's slot for a new series
    with pytest.raises(LstmkitError, match=r"each of its 4 series .*one of series_ids_ \('a', 'b', 'c', …\)"):
        series_index(four, None, 1)
    with pytest.warns(UserWarning, match=r"\('a', 'b', 'c'\): its window"):
        series_index(_panel("abc", 4), "z", 1)
    with pytest.raises(LstmkitError, match=r"one of series_ids_ \('a', 'b', 'c'\)$"):
        series_index(_panel("abc", 4), None, 1)
    assert series_index(_panel("a", 4), None, 1) is None                      # one series: nothing to tell apart
    assert series_index(_panel("abcd", 0), None, 1) is None                   # no embedding: the series is not read
    unsaid = type("Old", (), {"series_ids_": ["a", "b"], "config_": type("Config", (), {})()})()
    assert series_index(unsaid, None, 1) is None                               # a config without id_embedding: none
    assert series_index(torch.nn.Module(), None, 3) is None
    assert series_index(torch.nn.Module(), 2, 3).tolist() == [2, 2, 2]        # a module's series index as given


def test_an_lstm_attention_models_padded_sequence_gets_what_it_gets_alone_its_rows_summing_to_one():
    """With ``lengths`` the model is told them: a 3-step sequence padded to 5 has the weights it has alone
    in its first 3 rows and columns, zero past them; a valid row is a softmax (sums to 1), the first
    query, causal, reads the first step alone (weight 1)."""
    from lstmkit.inspect.attention import attention
    from lstmkit.nn.zoo import make_encoder
    torch.manual_seed(0)
    enc = make_encoder("lstm-attention", 3, 8, num_layers=1, dropout=0.0).eval()
    x = torch.randn(2, 5, 3)
    w = attention(enc, x, lengths=torch.tensor([5, 3]))
    torch.testing.assert_close(w[1, :, :3, :3], attention(enc, x[1:, :3])[0])
    assert not w[1, :, 3:].any() and not w[1, :, :, 3:].any()
    torch.testing.assert_close(w.sum(-1), torch.tensor([[[1.0] * 5], [[1.0] * 3 + [0.0] * 2]]))
    torch.testing.assert_close(w[:, :, 0, 0], torch.ones(2, w.shape[1]))


def test_a_speech_models_recording_is_read_as_its_features_by_name_or_path():
    from pathlib import Path

    from lstmkit.inspect.inputs import network_input
    read = []
    speech = type("Speech", (), {"audio_inputs": lambda self, path: read.append(path) or np.ones((4, 2))})()
    assert network_input(speech, "clip.wav").shape == (4, 2)
    assert network_input(speech, Path("clip.wav")).shape == (4, 2)
    assert read == ["clip.wav", Path("clip.wav")]
    features = np.zeros((3, 2))
    assert network_input(speech, features) is features and len(read) == 2      # features: as given, nothing read
