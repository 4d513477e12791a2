"""Config checks on the time axis: a val or test part must hold one whole horizon of points."""
import pytest

from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.checks import check_part_sizes


def test_a_part_of_exactly_one_horizon_holds_one_window_and_a_shorter_one_is_refused():
    # the last window of a part of 12 points with horizon 12 is the part itself: allowed
    check_part_sizes(ForecastConfig(target=["y"], horizon=12, test_size=12, val_size=0))
    check_part_sizes(ForecastConfig(target=["y"], horizon=12, test_size=None, val_size=None))
    with pytest.raises(LstmkitError, match=r"test.size.11 is shorter than \S*horizon.12: .*test part would hold none"):
        check_part_sizes(ForecastConfig(target=["y"], horizon=12, test_size=11))
    with pytest.raises(LstmkitError, match=r"val.size.1 is shorter than \S*horizon.2:"):
        check_part_sizes(ForecastConfig(target=["y"], horizon=2, val_size=1))
