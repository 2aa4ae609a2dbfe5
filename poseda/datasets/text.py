"""Checked parsing of numeric text tables (the exponential-map motion files)."""
from __future__ import annotations

import warnings

import numpy as np

from poseda.errors import PosedaInputError


def parse_float_table(data: bytes | str, ncols: int, where: str, sep: str = ",") -> np.ndarray:
    """Parse a text table of floats, one row a line, exactly ``ncols`` columns.

    Raises PosedaInputError naming ``where`` (file name) for: undecodable bytes, an empty file,
    a line with the wrong number of columns (truncated file), a token that is not a number,
    and NaN or infinite values.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError as e:
            raise PosedaInputError(where, f"not a text file (byte {e.start} is not ASCII)") from None
    lines = [s for s in (ln.strip() for ln in data.splitlines()) if s]
    if not lines:
        raise PosedaInputError(where, "empty file: no frames")
    if sep.isspace():  # any run of whitespace separates
        counts = np.fromiter((len(ln.split()) for ln in lines), dtype=np.int64, count=len(lines))
    else:
        counts = np.fromiter((ln.count(sep) + 1 for ln in lines), dtype=np.int64, count=len(lines))
    bad = np.flatnonzero(counts != ncols)
    if bad.size:
        i = int(bad[0])
        raise PosedaInputError(
            where, f"line {i + 1} has {counts[i]} columns, expected {ncols} (truncated or wrong format?)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flat = np.fromstring(sep.join(lines), sep=sep, dtype=np.float64)
    except ValueError:  # numpy >= 2.3 raises where older versions stopped early
        flat = None
    if flat is None or flat.size != len(lines) * ncols:
        row = _first_bad_row(lines, sep)
        raise PosedaInputError(where, f"line {row + 1}: a value is not a number")
    table = flat.reshape(len(lines), ncols)
    finite = np.isfinite(table)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        raise PosedaInputError(where, f"line {r + 1}, column {c + 1}: value is {table[r, c]} (NaN or infinite)")
    return table


def _first_bad_row(lines: list[str], sep: str) -> int:
    """Only on the error path: find the first line with a token that is not a float."""
    for i, ln in enumerate(lines):
        try:
            [float(t) for t in (ln.split() if sep.isspace() else ln.split(sep))]
        except ValueError:
            return i
    return len(lines) - 1
