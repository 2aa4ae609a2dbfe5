"""Access to the raw data folder (``--data-root`` / ``POSEDA_DATA``); the prepared-array cache
(``POSEDA_CACHE``) is :mod:`poseda.data.cache`.

The raw folder holds the upstream files as downloaded: archives (``h36m-expmap.tar.xz``,
``cmu-expmap.tar.xz``, ``bandai-namco-1.tar.xz``) or their extracted folders (``h3.6m/``,
``cmu/``, ``bandai-namco-1/``), plus ``humaneva-i/``, ``cameras/`` and ``skeletons/``.
"""
from __future__ import annotations

import fnmatch
import os
import re
import tarfile
from pathlib import Path
from typing import Iterator

from poseda.errors import PosedaInputError

ENV_DATA = "POSEDA_DATA"

# What each built-in domain reads from the data root, and where a user gets it: (file or archive,
# the folder it extracts to or None, what it is and where it comes from). Calibrations and
# skeleton templates travel with the package (poseda/domains/facts).
UPSTREAM = {
    "h36m": [("h36m-expmap.tar.xz", "h3.6m", "Human3.6M exponential maps, the motion-prediction copy (folder h3.6m/dataset; "
              "e.g. repository limaosen0/DMGNN, data/h3.6m; Human3.6M terms apply)")],
    "cmu-3dhp": [("cmu-expmap.tar.xz", "cmu", "CMU mocap exponential maps, the motion-prediction copy (folder cmu/; same "
                  "repository, data/cmu; CMU Graphics Lab Motion Capture Database)")],
    "bandai-wild": [("bandai-namco-1.tar.xz", "bandai-namco-1", "Bandai Namco Research Motion Dataset 1 (folder bandai-namco-1/; "
                     "github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset, CC BY-NC 4.0)")],
    "humaneva": [("humaneva-i/data_3d_humaneva15.npz", None, "HumanEva-I 3D in VideoPose3D's layout (HumanEva-I, Sigal et al., "
                  "converted with VideoPose3D's prepare_data_humaneva.py)"),
                 ("humaneva-i/data_2d_humaneva15_gt.npz", None, "HumanEva-I 2D ground truth in VideoPose3D's layout "
                  "(HumanEva-I, Sigal et al., the same conversion)")],
}
SOURCES_HELP = {archive: what for files in UPSTREAM.values() for archive, folder, what in files if folder}


def missing_upstream(root: Path, domains) -> list[str]:
    """One line per upstream file (or archive and its folder) that ``domains`` need and the data
    root lacks: its path, and what it is and where it comes from."""
    out = []
    for name in domains:
        for rel, folder, what in UPSTREAM.get(name, []):
            if (Path(root) / rel).is_file() or (folder and (Path(root) / folder).is_dir()):
                continue
            alt = f" (or its extracted folder {folder}/)" if folder else ""
            out.append(f"{Path(root) / rel}{alt}: missing, needed by {name}: {what}")
    return out


def data_root(arg: str | os.PathLike | None = None) -> Path:
    """The raw data folder: the argument, else $POSEDA_DATA. Must exist."""
    raw = arg if arg is not None else os.environ.get(ENV_DATA)
    if not raw:
        raise PosedaInputError("--data-root", f"no data folder given: pass --data-root or set {ENV_DATA}")
    from poseda.fileio import check_input

    return check_input(Path(raw).expanduser(), "dir", "data folder")


class Archive:
    """Members of one upstream archive, read from its extracted folder when present, else
    streamed from the ``.tar.xz``. Member names are relative paths like
    ``h3.6m/dataset/S1/walking_1.txt``."""

    def __init__(self, root: Path, archive: str, folder: str):
        self.root = root
        self.archive = root / archive
        self.folder = root / folder
        self.folder_name = folder
        if not self.folder.is_dir() and not self.archive.is_file():
            what = SOURCES_HELP.get(archive, archive)
            raise PosedaInputError(self.archive, f"not found (neither the archive nor the folder {folder}/): {what}")

    def where(self, name: str) -> str:
        """How to name member ``name`` in a message: its path, or archive:member."""
        return str(self.root / name) if self.folder.is_dir() else f"{self.archive}:{name}"

    @property
    def location(self) -> Path:
        return self.folder if self.folder.is_dir() else self.archive

    def iter_members(self, pattern: str) -> Iterator[tuple[str, bytes]]:
        """Yield (name, bytes) of the files matching the glob ``pattern``: sorted by name from a
        folder, in archive order from a tar (streamed once, never seeking back)."""
        if self.folder.is_dir():
            base = self.root
            for p in sorted(self.folder.rglob("*")):
                name = p.relative_to(base).as_posix()
                if p.is_file() and fnmatch.fnmatch(name, pattern):
                    yield name, p.read_bytes()
            return
        try:
            with tarfile.open(self.archive, "r:xz") as tar:
                for m in tar:
                    if m.isfile() and fnmatch.fnmatch(m.name, pattern):
                        f = tar.extractfile(m)
                        yield m.name, f.read() if f else b""
        except (tarfile.TarError, EOFError, OSError) as e:
            raise PosedaInputError(self.archive, f"corrupt or truncated archive ({e.__class__.__name__}: {e})") from None


    def iter_matching(self, pattern: str, regex: re.Pattern, what: str) -> Iterator[tuple[str, bytes, re.Match]]:
        """Members matching the glob ``pattern`` whose name ``regex`` matches, with the match;
        a PosedaInputError if there is none (``what`` describes the expected files)."""
        n = 0
        for name, data in self.iter_members(pattern):
            m = regex.search(name)
            if m:
                n += 1
                yield name, data, m
        if n == 0:
            raise PosedaInputError(self.location, f"no {what} found")


def fact_file(root: Path, rel: str) -> Path:
    """A published fact (a calibration, a skeleton template): ``root/rel`` when the data root has
    it (it overrides), else the copy packaged in :mod:`poseda.domains.facts`."""
    from importlib import resources

    own = Path(root) / rel
    if own.is_file():
        return own
    return Path(str(resources.files("poseda.domains.facts") / rel))


def require_file(root: Path, rel: str, what: str) -> Path:
    path = root / rel
    if not path.is_file():
        raise PosedaInputError(path, f"not found: {what}")
    return path
