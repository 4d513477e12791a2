"""Array-likes handed to an estimator, as numpy arrays that mean what the user meant.

    masked_as_missing(data)     a masked array's masked cells as missing (NaN, or None in text)
    tensor_as_array(data)       a torch tensor on any device, with or without gradients, as numpy
    plain_array(data)           either of those as its numpy array; anything else as it is
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.errors import LstmkitError

__all__ = ["masked_as_missing", "tensor_as_array", "plain_array"]


def masked_as_missing(data: Any) -> Any:
    """``data`` with a numpy masked array's masked cells as missing values: NaN in numbers (as
    pandas reads a masked array), None in anything else; anything that is not a masked array as
    it is. ``np.asarray`` keeps the values under the mask (often a -999 placeholder), and those
    were read as data."""
    if not np.ma.isMaskedArray(data):
        return data
    mask, values = np.ma.getmaskarray(data), np.ma.getdata(data)
    if not mask.any():
        return values
    out = values.astype(np.float64 if values.dtype.kind in "biuf" else object)
    out[mask] = np.nan if out.dtype == np.float64 else None
    return out


def tensor_as_array(data: Any) -> np.ndarray:
    """A torch tensor (any device, with or without gradients) as a numpy array; bfloat16, which
    numpy has no type for, as float32. A tensor without data (device ``meta``) or one that cannot
    be copied to the CPU is an error naming its device."""
    device = getattr(data.device, "type", str(data.device))
    try:
        cpu = data.detach().cpu()
        return (cpu.float() if str(cpu.dtype) == "torch.bfloat16" else cpu).numpy()
    except (NotImplementedError, RuntimeError) as e:
        raise LstmkitError(f"the {device} tensor could not be copied to the CPU ({str(e).splitlines()[0][:80]})",
                           "pass a tensor that holds values, e.g. x.to('cpu') of a computed tensor, or a numpy array") from None


def plain_array(data: Any) -> Any:
    """A torch tensor or a masked array as the numpy array it stands for (:func:`tensor_as_array`,
    :func:`masked_as_missing`); anything else (tables, lists, plain arrays, paths) as it is."""
    if hasattr(data, "detach") and hasattr(data, "cpu"):
        data = tensor_as_array(data)
    return masked_as_missing(data)
