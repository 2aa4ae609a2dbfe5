import os
from pathlib import Path

import pytest

from poseda.data.builders import build_custom
from poseda.data.domain import write_domain
from poseda.data.mirror import Archive
from poseda.data.rig import load_rig

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path | None:
    raw = os.environ.get("POSEDA_DATA") or str(REPO.parent / "shared" / "data")
    p = Path(raw)
    return p if p.is_dir() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _data_root()
    if root is None:  # a test of real data never passes by skipping it
        pytest.fail(f"real data folder not found: put it at {REPO.parent / 'shared' / 'data'} or set POSEDA_DATA")
    return root


@pytest.fixture(scope="session")
def prepared_cache(tmp_path_factory, data_root) -> Path:
    """All four built-in domains prepared once per test session (about 30 s)."""
    from poseda.data.prepare import prepare_domain, source_fingerprint

    cache = tmp_path_factory.mktemp("cache")
    fp = source_fingerprint(data_root)
    for name in ("h36m", "humaneva", "cmu-3dhp", "bandai-wild"):
        prepare_domain(name, data_root, cache, fingerprint=fp)
    return cache


def _bandai_domain(data_root, motion: Path, cache: Path, pattern: str, count: int, name: str, rig: str, role: str):
    """Build a domain from the first ``count`` Bandai Namco clips matching ``pattern``."""
    motion.mkdir(parents=True, exist_ok=True)
    members = Archive(data_root, "bandai-namco-1.tar.xz", "bandai-namco-1").iter_members(f"bandai-namco-1/data/{pattern}")
    for n, (member, data) in enumerate(members):
        (motion / Path(member).name).write_bytes(data)
        if n + 1 == count:
            break
    meta, arrays = build_custom(name, motion, load_rig(rig), role=role, fps=30.0)
    write_domain(cache / name, meta, arrays)


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory, data_root) -> Path:
    """A small real source domain: 8 Bandai Namco clips seen by the 8-camera rig (about 10k frames)."""
    base = tmp_path_factory.mktemp("tiny")
    _bandai_domain(data_root, base / "motion", base / "cache", "dataset-1_b*_*.bvh", 8, "tiny", "mpi-inf-3dhp", "source")
    return base / "cache"


@pytest.fixture(scope="session")
def tiny_target(tiny_cache, tmp_path_factory, data_root) -> Path:
    """A small real target domain beside the tiny source: other Bandai Namco clips (dances,
    guides, calls, slashes, dashes) seen by the hand-held rig. Returns the cache folder."""
    _bandai_domain(data_root, tmp_path_factory.mktemp("tiny-target") / "motion", tiny_cache, "dataset-1_[cdgs]*_*.bvh", 12,
                   "tiny-target", "handheld", "target")
    return tiny_cache
