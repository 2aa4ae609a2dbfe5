"""Shared checks of arrays read from files: one place for the shape / finiteness messages."""
from __future__ import annotations

import numpy as np

from poseda.errors import PosedaInputError


def numeric_array(where, key: str, arr, shape: tuple, finite: bool = True, nonempty: bool = True) -> np.ndarray:
    """``arr`` as float64, checked against ``shape`` (None = any size on that axis, shown as T).

    Raises PosedaInputError naming ``where`` and ``key`` for a non-numeric array, a wrong shape,
    an empty first axis (``nonempty``) and NaN or infinite values (``finite``).
    """
    try:
        a = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise PosedaInputError(where, f"{key}: not a numeric array") from None
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape, strict=False)):
        want = ", ".join("T" if s is None else str(s) for s in shape)
        raise PosedaInputError(where, f"{key}: shape {a.shape}, expected [{want}]")
    if nonempty and a.ndim and len(a) == 0:
        raise PosedaInputError(where, f"{key}: no frames")
    if finite and not np.isfinite(a).all():
        raise PosedaInputError(where, f"{key}: contains NaN or infinite values")
    return a
