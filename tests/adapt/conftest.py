from pathlib import Path

import pytest

from poseda.data.builders import build_custom
from poseda.data.domain import write_domain
from poseda.data.mirror import Archive
from poseda.data.rig import load_rig


@pytest.fixture(scope="session")
def tiny_target(tiny_cache, tmp_path_factory, data_root) -> Path:
    """A small real target domain beside the tiny source: other Bandai Namco clips (dances,
    guides, calls, slashes, dashes) seen by the hand-held rig. Returns the cache folder."""
    motion = tmp_path_factory.mktemp("tiny-target-motion")
    n = 0
    for name, data in Archive(data_root, "bandai-namco-1.tar.xz", "bandai-namco-1").iter_members(
            "bandai-namco-1/data/dataset-1_[cdgs]*_*.bvh"):
        (motion / Path(name).name).write_bytes(data)
        n += 1
        if n == 12:
            break
    meta, arrays = build_custom("tiny-target", motion, load_rig("handheld"), role="target", fps=30.0)
    write_domain(tiny_cache / "tiny-target", meta, arrays)
    return tiny_cache
