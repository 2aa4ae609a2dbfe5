"""Where prepared domains live (the cache folder) and loading one: what training, adaptation,
evaluation and the benchmark read at run time. Building a domain into the cache is
:mod:`poseda.domains` (``poseda data prepare``: :func:`poseda.domains.prepare.prepare_domain`)."""
from __future__ import annotations

import os
from pathlib import Path

from poseda.data.domain import Domain
from poseda.errors import PosedaInputError

ENV_CACHE = "POSEDA_CACHE"


def cache_root(arg: str | os.PathLike | None = None) -> Path:
    """The prepared-array cache: the argument, else $POSEDA_CACHE, else the user cache folder."""
    raw = arg if arg is not None else os.environ.get(ENV_CACHE)
    if raw:
        return Path(raw).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "poseda"


def prepared(cache: Path, name: str) -> Path:
    return Path(cache) / name


def load_domain(name_or_path: str | Path, cache: Path | None = None) -> Domain:
    """A prepared domain by name (from the cache) or by folder."""
    p = Path(name_or_path)
    if not str(name_or_path):
        raise PosedaInputError("domain", "empty domain name")
    if cache is not None and not p.is_absolute() and not (p / "meta.json").exists():
        p = prepared(cache, str(name_or_path))
    if not (p / "meta.json").exists():
        raise PosedaInputError(str(name_or_path), f"domain not prepared (no {p / 'meta.json'}): run 'poseda data prepare'")
    return Domain(p)
