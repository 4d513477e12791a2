"""lstmkit.data.sample_weight: the weights checked as scikit-learn's fit and score take them, worked by hand."""
import numpy as np
import pytest

from lstmkit.data.sample_weight import check_parts, sample_weights, weighted_part
from lstmkit.errors import BadValue, LstmkitError


@pytest.mark.parametrize("shape", [(3, 1), (1, 3)])
def test_a_column_or_a_row_of_weights_is_one_weight_a_row(shape):
    w = sample_weights(np.arange(1.0, 4.0).reshape(shape), 3)
    assert w.shape == (3,) and w.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("given", [np.ones((3, 2)), np.ones(2), np.ones((1, 1, 3))])
def test_weights_of_another_shape_are_refused(given):
    with pytest.raises(BadValue, match="for 3 labelled rows"):
        sample_weights(given, 3)


@pytest.mark.parametrize("given, words", [([1.0, -0.5, 1.0], "negative or missing weight .* at row 2"),
                                          ([1.0, 1.0, np.nan], "negative or missing weight .* at row 3"),
                                          ([np.inf, 1.0, 1.0], "infinite weight .* at row 1"),
                                          ([0.0, 0.0, 0.0], "only zeros")])
def test_negative_missing_infinite_or_all_zero_weights_are_refused(given, words):
    with pytest.raises(BadValue, match=words):
        sample_weights(given, 3)


def test_zero_weights_beside_others_are_weights():
    assert sample_weights([0.0, 0.0, 2.0], 3).tolist() == [0.0, 0.0, 2.0]


def test_validation_data_with_weights_is_split_off_its_weights():
    X, y, w = [1, 2], [0, 1], [1.0, 2.0]
    assert weighted_part((X, y, w)) == ((X, y), w)
    assert weighted_part((X, y)) == ((X, y), None)
    assert weighted_part([X, y, w]) == ([X, y, w], None)        # only a tuple is (X, y, w)


def test_a_part_of_weight_zero_alone_is_refused_and_a_part_not_held_out_passes():
    check_parts(np.array([0.0, 1.0]), np.array([0.5]), "pass val_data")
    check_parts(np.array([1.0]), None, "pass val_data")
    with pytest.raises(LstmkitError, match="validation part weight 0"):
        check_parts(np.array([1.0]), np.zeros(2), "pass val_data")
    with pytest.raises(LstmkitError, match="training part weight 0"):
        check_parts(np.zeros(2), np.ones(1), "pass val_data")
