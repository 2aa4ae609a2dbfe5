"""Errors that carry a one-line message for the user.

Every reader and builder raises :class:`PosedaInputError` for bad input. The CLI turns it into
one line on standard error and exit code 2, with no traceback.
"""
from __future__ import annotations

from pathlib import Path


class PosedaInputError(ValueError):
    """Bad input: a file or argument that cannot be used, and why."""

    def __init__(self, where: str | Path, problem: str):
        self.where = str(where).replace("\n", "\\n")  # a file name with a line break stays on one line
        self.problem = " ".join(str(problem).split())  # so does a message that quotes a multi-line one
        super().__init__(f"{self.where}: {self.problem}")


class PosedaInputErrors(PosedaInputError):
    """Several problems found at once, before any work (every missing upstream file, say): the CLI
    prints each line as its own error."""

    def __init__(self, lines: list[str]):
        self.lines = [" ".join(str(line).split()) for line in lines]
        super().__init__("input", "; ".join(self.lines))


class RunStopped(RuntimeError):
    """A run stopped itself on a condition the user asked it to stop on (e.g. a collapsed
    augmentation with ``lpa.on_collapse=stop``). The CLI prints it in one line, exit code 1."""


_MALFORMED = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError, UnicodeError)


def malformed_input(what: str, where: int | str = 0):
    """Decorate a reader so that a file of an unexpected structure, which none of its own checks
    named, is still one :class:`PosedaInputError` ("malformed <what>") naming the file: ``where``
    is the position or name of the argument that names it."""
    import functools

    def decorate(read):
        @functools.wraps(read)
        def wrapper(*args, **kwargs):
            try:
                return read(*args, **kwargs)
            except PosedaInputError:
                raise
            except _MALFORMED as e:
                name = kwargs.get(where) if isinstance(where, str) else (args[where] if len(args) > where else "input")
                detail = (str(e).splitlines() or [""])[0][:100]
                raise PosedaInputError(name, f"malformed {what} ({type(e).__name__}: {detail})") from None

        return wrapper

    return decorate
