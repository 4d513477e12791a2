"""lstmkit.data.stratify: the seeded stratified split's edges, worked by hand."""
import warnings

import pytest

from lstmkit.data.stratify import stratified_split
from lstmkit.errors import LstmkitError


@pytest.mark.parametrize("frac", [0.0, 1.0, -0.1, 1.5])
def test_a_share_of_none_or_all_is_refused(frac):
    """0 held one of every class out all the same (at least one a class), 1 all but one of each."""
    with pytest.raises(LstmkitError, match="val_frac"):
        stratified_split(["a", "a", "b", "b"], frac, seed=0)


def test_classes_of_two_hold_one_out_without_a_word():
    """A class of two is no class of one: one example validates, one trains, and no warning."""
    labels = ["a", "a", "b", "b", "c", "c"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train, val = stratified_split(labels, 0.5, seed=0)
    assert sorted(labels[i] for i in val) == ["a", "b", "c"] and len(train) == 3


def test_one_of_each_class_is_held_out_up_to_twice_the_share_asked_for():
    """4 classes of 2 at val_frac 0.25: 2 rows asked for, one a class would be 4, twice that and no
    more: one of each class is held out. 5 classes of 2 at 0.2: 2 asked, 5 would be more than twice:
    2 are held out, 3 classes have none."""
    labels = [c for c in "abcd" for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, val = stratified_split(labels, 0.25, seed=0)
    assert sorted(labels[i] for i in val) == list("abcd")
    labels = [c for c in "abcde" for _ in range(2)]
    with pytest.warns(UserWarning, match="2 are held out, so 3 classes have no validation example"):
        _, val = stratified_split(labels, 0.2, seed=0)
    assert len(val) == 2 and len({labels[i] for i in val}) == 2


def test_classes_of_one_are_listed_up_to_five_then_counted():
    many = [c for c in "abc" for _ in range(4)]
    with pytest.warns(UserWarning) as five:
        stratified_split(many + ["p", "q", "r", "s", "t"], 0.25, seed=0)
    with pytest.warns(UserWarning) as six:
        stratified_split(many + ["p", "q", "r", "s", "t", "u"], 0.25, seed=0)
    assert "('p', 'q', 'r', 's', 't')" in str(five[0].message)
    assert "('p', 'q', 'r', 's', 't', ...)" in str(six[0].message)
