"""Domains from licensed datasets the user owns, one importer per kind (``poseda data import``).

An importer reads the files exactly as their publishers (or the field's standard preprocessing
scripts) distribute them and returns a domain's ``meta`` and arrays; :func:`import_domain` writes
it into the cache atomically, so a malformed or truncated file leaves nothing there. Every choice
an importer makes (splits, cameras, frames kept, joints, ground truth) is written into the
domain's metadata under ``imported`` and shows in ``poseda data stats``.

A new kind is an :class:`Importer` given to :func:`register_importer`: in a plugin
(``examples/csv_views_import.py``), or built in as one new module here plus its line in :data:`BUILTIN`.
"""
from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from poseda.errors import PosedaInputError
from poseda.registry import Registry

#: the built-in importers' modules (imported when the registry is first used)
BUILTIN = ("poseda.domains.importers.h36m_vp3d", "poseda.domains.importers.mpi_inf_3dhp", "poseda.domains.importers.pw3d")


@dataclass(frozen=True)
class Importer:
    """One kind of licensed dataset. ``build(paths, options)`` returns ``(meta, arrays)`` as the
    builders of :mod:`poseda.domains.builders` do (without ``name``); ``options`` holds only keys of
    ``defaults``, already merged with them."""

    kind: str
    summary: str
    files: str  # what PATHS are, one line for the help
    build: Callable[[list[Path], dict], tuple[dict, dict]]
    defaults: dict = field(default_factory=dict)
    option_help: dict = field(default_factory=dict)


#: kind -> importer (``poseda data import KIND``); the built-in kinds are registered on first use (:func:`importers`)
IMPORTERS: Registry[Importer] = Registry("dataset kind", "register_importer", about=lambda imp: imp.summary)
_builtins_loaded = False


class ViewCollector:
    """Collects views (one sequence seen by one camera) into a domain's arrays, sorted by (split,
    sequence, camera) so the order of the input files never matters."""

    def __init__(self):
        self.views, self.per_view, self.frames = [], [], []
        self.total = self.dropped = 0  # frames considered and left out (recorded in the metadata)

    def add(self, view: dict, cam: dict, j3: np.ndarray, j2: np.ndarray, frame: np.ndarray, univ: np.ndarray | None = None):
        self.total += len(j3)
        if not len(j3):
            return
        view = dict(view, frames=int(len(j3)))
        self.views.append(view)
        self.per_view.append(cam)
        self.frames.append((j3, j2, frame, univ))

    def arrays(self, with_universal: bool) -> dict[str, np.ndarray]:
        order = sorted(range(len(self.views)), key=lambda i: (self.views[i]["split"], self.views[i]["sequence"], self.views[i]["camera"]))
        self.views = [self.views[i] for i in order]
        frames = [self.frames[i] for i in order]
        per_view = [self.per_view[i] for i in order]
        out = {"joints3d": np.concatenate([f[0] for f in frames]).astype(np.float32),
               "joints2d": np.concatenate([f[1] for f in frames]).astype(np.float32),
               "view": np.concatenate([np.full(len(f[0]), v, np.int32) for v, f in enumerate(frames)]),
               "frame": np.concatenate([f[2] for f in frames]).astype(np.int32)}
        if with_universal:
            out["joints3d_universal"] = np.concatenate([f[0] if f[3] is None else f[3] for f in frames]).astype(np.float32)
        for k in ("intrinsics", "distortion", "image_size", "cam_rotation", "cam_centre"):
            out[k] = np.stack([np.asarray(c[k], np.float64) for c in per_view])
        return out



def importers() -> Registry[Importer]:
    """Every registered importer: the built-in kinds first (imported on the first call), then plugins'."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True  # first, for the built-in modules' own register_importer calls
        for module in BUILTIN:
            importlib.import_module(module)
    return IMPORTERS


def register_importer(importer: Importer) -> Importer:
    """Make ``importer`` the one of ``poseda data import KIND`` for its ``kind`` (a plugin calls
    this; a built-in kind is one module in :data:`BUILTIN`)."""
    if not isinstance(importer, Importer) or not callable(importer.build):
        raise PosedaInputError("register_importer", f"{importer!r} is not a poseda.domains.importers.Importer with a build function")
    return importers().register(importer.kind, importer)


def fact(rel: str, options: dict) -> Path:
    """A packaged published fact (``cameras/h36m.json`` ...), or the data root's copy when the
    data root (``--data-root`` / $POSEDA_DATA) has one."""
    from importlib import resources

    from poseda.domains.mirror import ENV_DATA, fact_file

    raw = options.get("data_root") or os.environ.get(ENV_DATA)
    if raw and Path(raw).is_dir():
        return fact_file(Path(raw), rel)
    return Path(str(resources.files("poseda.domains.facts") / rel))


def _describe_files(paths: list[Path]) -> list[dict]:
    """Each input file's name, size and SHA-256 prefix (folders: the files read inside)."""
    out = []
    for p in paths:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out.append({"file": str(p), "bytes": p.stat().st_size, "sha256": h.hexdigest()[:16]})
    return out


def import_domain(kind: str, name: str, paths: list[str | Path], cache: Path, options: dict | None = None) -> Path:
    """Build domain ``name`` of ``kind`` from ``paths`` and write it to ``cache/name``."""
    from poseda.data.domain import write_domain
    from poseda.domains.builders import BUILTIN as BUILTIN_DOMAINS
    from poseda.fileio import safe_name

    imp = importers().lookup(kind, "KIND")
    safe_name(name, "NAME")
    if name in BUILTIN_DOMAINS:
        raise PosedaInputError("NAME", f"{name!r} is a built-in domain's name; choose another (e.g. {kind!r})")
    options = {k: v for k, v in (options or {}).items() if v is not None}
    unknown = [k for k in options if k not in imp.defaults]
    if unknown:
        opts = ", ".join("--" + k.replace("_", "-") for k in imp.defaults) or "none"
        raise PosedaInputError("--" + unknown[0].replace("_", "-"), f"is not an option of kind {kind} (its options: {opts})")
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.exists():
            raise PosedaInputError(p, "not found")
    opts = dict(imp.defaults, **options)
    try:
        meta, arrays = imp.build(paths, opts)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        if isinstance(e, PosedaInputError) or imp.build.__module__ in BUILTIN:
            raise
        # a plugin's importer meeting files it did not expect: one line naming them
        raise PosedaInputError("PATHS", f"malformed {kind} files ({type(e).__name__}: {(str(e).splitlines() or [''])[0][:120]})") from None
    read = meta.pop("files_read", [])
    meta = dict(meta, name=name, imported=dict(kind=kind, options=opts, files=_describe_files([Path(p) for p in read]),
                                               **meta.pop("imported", {})))
    return write_domain(Path(cache) / name, meta, arrays)
