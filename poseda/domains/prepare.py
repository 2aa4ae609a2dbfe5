"""Preparing the built-in domains into the cache once (reloading them fast is
:func:`poseda.data.cache.load_domain`)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from poseda.data.cache import prepared
from poseda.data.domain import write_domain
from poseda.domains.builders import BUILTIN, REVISION, SEED
from poseda.errors import PosedaInputError
from poseda.fileio import clean_stale_temporaries
from poseda.version import __version__

# rough counts of progress steps per domain (files/chunks), for the progress bar
EXPECTED_STEPS = {"h36m": 189, "humaneva": 77, "cmu-3dhp": 38, "bandai-wild": 174}


def source_fingerprint(root: Path) -> str:
    """Names, sizes and modification times of the raw files: a change triggers a rebuild."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".xz", ".json", ".npz", ".txt", ".bvh"):
            st = p.stat()
            h.update(f"{p.relative_to(root)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def build_key(name: str, fingerprint: str, seed: int = SEED) -> str:
    """What a prepared copy must match to be current: the raw files, poseda's version, the seed and
    the builder's revision (a builder that changes what it makes bumps :data:`REVISION`)."""
    revision = REVISION.get(name, 1)
    text = f"{name}:{__version__}:{fingerprint}:{seed}" + (f":r{revision}" if revision > 1 else "")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare_domain(name: str, root: Path, cache: Path, force: bool = False,
                   progress: Callable[[int], None] = lambda n: None, fingerprint: str | None = None) -> tuple[Path, bool]:
    """Build domain ``name`` from the raw folder into the cache unless an up-to-date copy is
    there. Returns (folder, built)."""
    if name not in BUILTIN:
        raise PosedaInputError("--domain", f"unknown domain {name!r} (built-in: {', '.join(BUILTIN)})")
    key = build_key(name, fingerprint or source_fingerprint(root))
    folder = prepared(cache, name)
    clean_stale_temporaries(cache)  # what a killed preparation left
    if not force and (folder / "meta.json").is_file():
        try:
            if json.loads((folder / "meta.json").read_text()).get("build_key") == key:
                return folder, False
        except (ValueError, AttributeError, OSError):  # a corrupt record: build again
            pass
    meta, arrays = BUILTIN[name](root, progress=progress)
    meta["build_key"] = key
    meta["poseda_version"] = __version__
    meta["data_root"] = str(root)
    write_domain(folder, meta, arrays)
    return folder, True
