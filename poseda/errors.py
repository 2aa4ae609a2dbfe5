"""Errors that carry a one-line message for the user.

Every reader and builder raises :class:`PosedaInputError` for bad input. The CLI turns it into
one line on standard error and exit code 2, with no traceback.
"""
from __future__ import annotations

from pathlib import Path


class PosedaInputError(ValueError):
    """Bad input: a file or argument that cannot be used, and why."""

    def __init__(self, where: str | Path, problem: str):
        self.where = str(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")


class RunStopped(RuntimeError):
    """A run stopped itself on a condition the user asked it to stop on (e.g. a collapsed
    augmentation with ``lpa.on_collapse=stop``). The CLI prints it in one line, exit code 1."""
