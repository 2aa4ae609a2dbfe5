"""Files and names, so that nothing is ever half-written, lost or written where it should not be.

- :func:`atomic_write` writes a temporary file beside the target (same suffix, so writers that
  look at the extension behave) and renames it into place; the temporary's name carries the
  writing process's id, so :func:`clean_stale_temporaries` can remove what a killed process left.
- :func:`safe_name` checks a name that becomes a folder (a domain, a run): no separators, not
  ``.`` or ``..``, not empty.
- :func:`check_input` and :func:`check_output` look at a path before any work starts: an input
  that is missing, a link loop, unreadable or of the wrong kind, and an output that is an input,
  is of the wrong kind, or cannot be written, are each one line naming the path.
- :func:`refuse_existing` keeps a file the user already has unless they pass ``--force``;
  :func:`staged_files` writes a group of files (an export, a demo's outputs) all or none.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from poseda.errors import PosedaInputError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
# temporaries: ".<stem>.<pid>.<random><suffix>" for files, ".<name>.<pid>.<random>.tmp" for folders
_TEMPORARY = re.compile(r"\.(?P<stem>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]{6,}(?:\.[^.]*)?$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[str], object]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path`` and rename it to ``path``; on any
    error the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.{os.getpid()}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the permissions open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def temporary_folder(target: Path) -> Path:
    """A new empty folder beside ``target`` that :func:`clean_stale_temporaries` recognises."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files and folders in ``folder`` that a process which no longer runs
    left behind (killed while writing); returns what was removed."""
    folder = Path(folder)
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _TEMPORARY.fullmatch(p.name)
        if m is None or _alive(int(m["pid"])):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """A matplotlib figure as ``path`` (the format by its suffix), written whole or not at all."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi))


def safe_name(name, what: str = "name") -> str:
    """``name`` if it can name a folder inside another one: letters, digits, ``.``, ``_``, ``+``
    and ``-``, starting with a letter or digit, at most 128 characters (so never empty, ``.``,
    ``..``, hidden, or with a separator).

    >>> safe_name("cmu-3dhp"), safe_name("my_clips.v2")
    ('cmu-3dhp', 'my_clips.v2')
    >>> safe_name("../x", "domain name")
    Traceback (most recent call last):
    poseda.errors.PosedaInputError: domain name: '../x' is not a usable name (letters, digits, '.', '_', '+', '-'; starting with a letter or digit; no '/')
    """
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name) or name in (".", ".."):
        raise PosedaInputError(what, f"{name!r} is not a usable name (letters, digits, '.', '_', '+', '-'; "
                                     "starting with a letter or digit; no '/')")
    return name


def _stat(path: Path, what: str, output: bool = False):
    try:
        return path.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise PosedaInputError(path, "is a loop of symbolic links") from None
        if e.errno == errno.ENOENT:
            if path.is_symlink():
                raise PosedaInputError(path, f"is a symbolic link to a missing {what}") from None
            return None
        if e.errno == errno.ENOTDIR:
            raise PosedaInputError(path, "cannot be written: a part of its path is a file, not a folder" if output
                                   else "does not exist (a part of the path is a file, not a folder)") from None
        if e.errno == errno.EACCES:
            raise PosedaInputError(path, "cannot be read (permission denied)") from None
        raise PosedaInputError(path, f"cannot be used ({e.strerror})") from None


def check_input(path: str | Path, kind: str = "file", what: str | None = None) -> Path:
    """``path`` if it exists, is a ``kind`` ("file", "dir" or "any") and can be read."""
    path = Path(path)
    what = what or {"file": "file", "dir": "folder"}.get(kind, "file or folder")
    st = _stat(path, what)
    if st is None:
        raise PosedaInputError(path, f"{what} does not exist")
    is_dir = stat.S_ISDIR(st.st_mode)
    if kind == "file" and is_dir:
        raise PosedaInputError(path, f"is a folder, not a {what}")
    if kind == "dir" and not is_dir:
        raise PosedaInputError(path, f"is a file, not a {what}")
    if not os.access(path, os.R_OK | (os.X_OK if is_dir else 0)):
        raise PosedaInputError(path, "cannot be read (permission denied)")
    return path


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output(path: str | Path, inputs: Iterable[str | Path] = (), kind: str = "file", what: str = "output") -> Path:
    """``path`` if it can be written as a ``kind`` ("file" or "dir") without touching any of
    ``inputs``: not one of them (nor a folder holding one, for a folder output), not of the other
    kind where it exists, and inside a folder that exists or can be made and is writable."""
    path = Path(path)
    for i in inputs:
        i = Path(i)
        if _same(path, i) or (kind == "dir" and i.exists() and path.exists() and _inside(i, path)):
            raise PosedaInputError(path, f"the {what} would overwrite the input {i}: choose another path")
    st = _stat(path, "path", output=True)
    if st is not None:
        is_dir = stat.S_ISDIR(st.st_mode)
        if kind == "file" and is_dir:
            raise PosedaInputError(path, f"is a folder: the {what} is a file")
        if kind == "dir" and not is_dir:
            raise PosedaInputError(path, f"is a file: the {what} is a folder")
        if not os.access(path if is_dir else path.parent, os.W_OK | os.X_OK):
            raise PosedaInputError(path, "cannot be written (permission denied)")
        return path
    parent = path.parent
    while True:  # the first part of the path that exists must be a writable folder
        st = _stat(parent, "folder")
        if st is not None:
            break
        if parent == parent.parent:
            break
        parent = parent.parent
    if st is None or not stat.S_ISDIR(st.st_mode):
        raise PosedaInputError(path, f"cannot be written: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PosedaInputError(path, f"cannot be written: {parent} is not writable (permission denied)")
    return path


def refuse_existing(paths: Iterable[str | Path], force: bool, what: str = "output") -> None:
    """Refuse, in one line, to replace a file that already exists unless ``force`` (``--force``):
    poseda never overwrites a file of the user's without being told to."""
    if force:
        return
    for p in paths:
        p = Path(p)
        if p.exists() or p.is_symlink():
            raise PosedaInputError(p, f"already exists: pass --force to replace this {what}")


@contextmanager
def staged_files(out: str | Path, force: bool = False):
    """Write a group of files as one: yields a temporary folder beside ``out``'s contents; when the
    block ends without error, every file written into it moves to the same relative place under
    ``out``, and on any error nothing moves and the temporary folder is removed. A destination
    that exists is refused (before any move) unless ``force``."""
    out = Path(out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    stage = temporary_folder(out / "staged")
    try:
        yield stage
        files = sorted(p for p in stage.rglob("*") if p.is_file())
        dests = [out / p.relative_to(stage) for p in files]
        refuse_existing(dests, force)
        for src, dest in zip(files, dests):
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not any(out.iterdir()):
            out.rmdir()  # a folder this call made and could not fill
        raise
    shutil.rmtree(stage, ignore_errors=True)


def _inside(child: Path, folder: Path) -> bool:
    try:
        child.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
