import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path | None:
    raw = os.environ.get("POSEDA_DATA") or str(REPO.parent / "shared" / "data")
    p = Path(raw)
    return p if p.is_dir() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _data_root()
    if root is None:
        pytest.skip("real data folder not found (set POSEDA_DATA)")
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
