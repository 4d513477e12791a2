import json

import numpy as np
import pytest

from lstmkit.data.scaling import Scaler
from lstmkit.errors import LstmkitError


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(loc=[10.0, -3.0, 0.0], scale=[2.0, 0.5, 100.0], size=(200, 3))


def test_minmax_known_values():
    s = Scaler("minmax").fit(np.array([[0.0, -1.0], [10.0, 1.0], [5.0, 0.0]]))
    np.testing.assert_allclose(s.transform(np.array([[5.0, 0.0], [20.0, -1.0]])), [[0.5, 0.5], [2.0, 0.0]])


def test_standard_known_values():
    s = Scaler("standard").fit(np.array([[1.0], [3.0]]))  # mean 2, population std 1
    np.testing.assert_allclose(s.transform(np.array([[2.0], [4.0]])), [[0.0], [2.0]])


@pytest.mark.parametrize("kind", ["minmax", "standard", "none"])
def test_round_trip_any_leading_shape(kind, data):
    s = Scaler(kind).fit(data)
    z = s.transform(data)
    assert z.dtype == np.float64 and z.shape == data.shape
    np.testing.assert_allclose(s.inverse_transform(z), data, rtol=1e-12, atol=1e-12)
    cube = data[:120].reshape(20, 6, 3)  # [n, horizon, C]
    np.testing.assert_allclose(s.transform(cube), z[:120].reshape(20, 6, 3), rtol=0, atol=0)
    np.testing.assert_allclose(s.inverse_transform(s.transform(cube)), cube, rtol=1e-12, atol=1e-12)


def test_float32_input_is_computed_in_float64(data):
    s = Scaler("standard").fit(data.astype(np.float32))
    assert s.transform(data.astype(np.float32)).dtype == np.float64


@pytest.mark.parametrize("kind", ["minmax", "standard", "none"])
def test_json_round_trip_identical(kind, data):
    s = Scaler(kind).fit(data)
    state = json.loads(json.dumps(s.to_dict()))
    assert state["kind"] == kind and state["n_columns"] == 3
    r = Scaler.from_dict(state)
    probe = np.concatenate([data, data * 3 - 7]).reshape(-1, 2, 3)
    assert np.array_equal(r.transform(probe), s.transform(probe))
    assert np.array_equal(r.inverse_transform(probe), s.inverse_transform(probe))


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_constant_column_stays_finite(kind):
    a = np.column_stack([np.full(50, 7.0), np.arange(50.0)])
    s = Scaler(kind).fit(a)
    z = s.transform(a)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(s.inverse_transform(z), a)
    r = Scaler.from_dict(json.loads(json.dumps(s.to_dict())))
    assert np.isfinite(r.transform(np.array([[8.0, 1.0]]))).all()


def test_fit_on_train_part_only(data):
    train, test = data[:140], data[140:] + 1000.0
    s = Scaler("minmax").fit(train)
    assert s.transform(train).min() == 0.0 and s.transform(train).max() == 1.0
    assert s.transform(test).max() > 1.0  # test data never leaked into the fit
    np.testing.assert_allclose(s.to_dict()["data_max"], train.max(axis=0))


def test_errors(data):
    with pytest.raises(LstmkitError, match="unknown scaler kind 'robust'.*minmax, standard, none"):
        Scaler("robust")
    with pytest.raises(LstmkitError, match="not fitted"):
        Scaler("minmax").transform(data)
    s = Scaler("minmax").fit(data)
    with pytest.raises(LstmkitError, match=r"Expected an array \[..., 3\], got shape \(200, 2\)"):
        s.transform(data[:, :2])
    with pytest.raises(LstmkitError, match="missing or infinite"):
        Scaler("standard").fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(LstmkitError, match="unknown kind 'robust'"):
        Scaler.from_dict({"kind": "robust"})
    with pytest.raises(LstmkitError, match="missing 'scale'"):
        Scaler.from_dict({k: v for k, v in s.to_dict().items() if k != "scale"})


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_tiny_values_that_move_keep_their_own_spread(kind):
    # sklearn's minmax took a range below 2.2e-15 for constant and divided by 1: readings of 1e-16 all scaled to ~0
    x = np.random.default_rng(0).normal(size=(300, 1)) * 1e-16
    s = Scaler(kind).fit(x)
    z = s.transform(x)
    assert z.max() - z.min() > 0.9                       # minmax spans [0, 1], standard about ±3
    r = Scaler.from_dict(json.loads(json.dumps(s.to_dict())))
    assert np.array_equal(r.transform(x), z)
    np.testing.assert_allclose(r.inverse_transform(z), x, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_constant_by_rounding_scales_by_its_size(kind):
    # sklearn's standard took a variance within its error bound for constant and divided by 1: 1e30 + 1e15 * noise
    # centred to inputs of ±1e15, which saturate every gate; below 1e-12 of its size a column reads as constant
    x = 1e30 + np.random.default_rng(0).normal(size=(3000, 1)) * 1e15
    z = Scaler(kind).fit(x).transform(x)
    assert np.abs(z).max() < 1e-12
    flat = Scaler(kind).fit(np.full((5, 1), 2e-6))
    assert flat.transform(np.array([[4e-6]])).item() == pytest.approx(1.0)   # a step of its own size: 1


def test_fit_refuses_anything_but_rows_of_columns_and_takes_a_single_row():
    for bad in (np.arange(3.0), np.empty((0, 2))):                       # one series not as [N, 1]; no rows
        with pytest.raises(LstmkitError, match=r"Expected a non-empty \[N, C\] array to fit the scaler"):
            Scaler("minmax").fit(bad)
    one = Scaler("standard").fit(np.array([[4.0, -2.0]]))                # one row: every column constant
    np.testing.assert_allclose(one.transform(np.array([[8.0, 2.0]])), [[(8 - 4) / 4, (2 + 2) / 2]])


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_an_all_zero_column_is_divided_by_one(kind):
    s = Scaler(kind).fit(np.column_stack([np.zeros(4), np.arange(4.0)]))
    z = s.transform(np.array([[3.0, 0.0]]))
    assert z[0, 0] == 3.0 and np.isfinite(z).all()


def test_one_row_of_columns_is_an_array_of_any_leading_shape():
    """[..., C] takes no leading axis too: a single row of C values scales as the row of a [1, C] array."""
    s = Scaler("minmax").fit(np.array([[0.0, -1.0], [10.0, 1.0]]))
    np.testing.assert_allclose(s.transform(np.array([5.0, 0.0])), [0.5, 0.5])
    np.testing.assert_allclose(s.inverse_transform(np.array([0.5, 0.5])), [5.0, 0.0])
    assert repr(s) == "Scaler('minmax', n_columns=2)" and repr(Scaler("none")) == "Scaler('none')"


def test_constant_columns_reads_a_column_as_spread_or_size_does():
    from lstmkit.data.scaling import constant_columns, spread_or_size
    rng = np.random.default_rng(0)
    a = np.column_stack([np.full(5, 7.0), np.zeros(5), 1e30 + rng.normal(size=5) * 1e15,
                         rng.normal(size=5) * 1e-16, np.arange(5.0)])
    expected = [True, True, True, False, False]
    assert constant_columns(a).tolist() == expected
    spread, size = np.ptp(a, axis=0), np.abs(a).max(0)
    assert (spread_or_size(spread, size) != spread).tolist() == [True, True, True, False, False]
