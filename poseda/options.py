"""A command's options: one typed object, shared by the command line and the Python API.

Each command's options are a dataclass in its own package whose fields say how the command line
spells them, beside the value they set::

    @dataclass
    class VizOptions:
        lifted: Annotated[Path, Arg("A 'poseda lift' output (.npz or .json).")]
        out: Annotated[Path, Opt("--out", "-o", help="The picture to write.")]
        stride: Annotated[int, Opt("--stride", help="Draw every n-th frame.")] = 1

:mod:`poseda.cli` builds every command's parameters from these fields and nothing else, so a flag
is declared once; Python code builds the same object with keywords (``VizOptions(path, out=...)``)
and calls the same function the command calls. A field whose type is itself such a dataclass (a
*group*, like the smoothing filter) adds its own fields to the command line; a field with neither
:class:`Opt` nor :class:`Arg` is for Python callers only. The checks of a value alone run when the
object is made (``__post_init__``), and name the option, so the command line and the API refuse
the same values with the same one line.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

from poseda.errors import PosedaInputError


class Arg:
    """A positional command-line argument; ``cli`` is the type the command line reads, when the
    field holds something else once parsed."""

    def __init__(self, help: str, cli: type | None = None):
        self.help, self.cli = help, cli


class Opt:
    """A command-line option: its spellings (``"--out", "-o"``, or ``"--flip-test/--no-flip-test"``)
    and help; ``cli`` as for :class:`Arg`."""

    def __init__(self, *decls: str, help: str, cli: type | None = None):
        self.decls, self.help, self.cli = decls, help, cli


def check_number(value, option: str, low: float | None = None, high: float | None = None, low_open: bool = False) -> None:
    """Refuse a non-finite number, or one outside [low, high] ((low, high] with ``low_open``); None passes."""
    if value is None:
        return
    ok = math.isfinite(value) and (low is None or (value > low if low_open else value >= low)) and (high is None or value <= high)
    if not ok:
        lo = "" if low is None else (f"above {low:g}" if low_open else f"at least {low:g}")
        hi = "" if high is None else f"at most {high:g}"
        raise PosedaInputError(option, f"must be a finite number {' and '.join(s for s in (lo, hi) if s)}, got {value}")


def parse_pair(value, option: str, low: float = 1, high: float = 20000) -> tuple[float, float] | None:
    """'WxH' or 'W,H' (or a pair already) -> (W, H), each a finite number in [low, high]; None passes."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            a, b = (float(v) for v in value.replace("x", ",").split(","))
        except ValueError:
            raise PosedaInputError(option, f"expected two numbers like 1920x1080 or 960,540, got {value!r}") from None
    else:
        try:
            a, b = (float(v) for v in value)
        except (TypeError, ValueError):
            raise PosedaInputError(option, f"expected two numbers, got {value!r}") from None
    for v in (a, b):
        if not (math.isfinite(v) and low <= v <= high):
            raise PosedaInputError(option, f"values must be finite, from {low:g} to {high:g}, got {value!r}")
    return a, b


def check_at_least_one(value: int | None, option: str) -> None:
    """Refuse a count below 1; None passes."""
    if value is not None and value < 1:
        raise PosedaInputError(option, f"must be at least 1, got {value}")


# options that several commands share, declared once
CACHE_HELP = "Prepared-array cache; default $POSEDA_CACHE, else ~/.cache/poseda."
Cache = Annotated[Optional[Path], Opt("--cache", help=CACHE_HELP)]
DataRoot = Annotated[Optional[Path], Opt("--data-root", help="Raw data folder (upstream files); default $POSEDA_DATA.")]
Force = Annotated[bool, Opt("--force", help="Replace output files that already exist (kept otherwise).")]
Checkpoint = Annotated[Optional[Path], Opt(
    "--checkpoint", "-c", help="A lifter checkpoint (.json / .safetensors / stem, trained or adapted) or a bundled name: "
    "'default' (Human3.6M, non-commercial) or 'open' (CMU only, commercial use allowed); default: 'default'.")]
Device = Annotated[str, Opt("--device", help="cpu or cuda")]
FlipTest = Annotated[bool, Opt("--flip-test/--no-flip-test", help="Average with the mirrored input.")]
Progress = Annotated[bool, Opt("--progress/--no-progress", help="Progress bars.")]

__all__ = ["Arg", "Opt", "check_number", "parse_pair", "check_at_least_one", "Cache", "DataRoot", "Force", "Checkpoint",
           "Device", "FlipTest", "Progress", "CACHE_HELP"]
