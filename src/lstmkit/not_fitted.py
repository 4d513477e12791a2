"""The error of a model used before ``fit`` or ``load``: an :class:`~lstmkit.errors.LstmkitError`
(one line, problem and fix, exit code 2 from the CLI) that is also scikit-learn's ``NotFittedError``,
so ``except NotFittedError`` and scikit-learn's own checks (``check_is_fitted``, meta-estimators)
read it as scikit-learn's estimators' own.

Imported only when the error is raised: scikit-learn takes about a second to load.
"""
from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFitted

from lstmkit.errors import LstmkitError

__all__ = ["NotFittedError"]


class NotFittedError(LstmkitError, _SklearnNotFitted):
    """``this Forecaster is not fitted yet — call fit(...) or Forecaster.load(run)``; also a
    ``ValueError`` and an ``AttributeError``, as scikit-learn's is."""
