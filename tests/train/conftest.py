from pathlib import Path

import pytest

from poseda.data.builders import build_custom
from poseda.data.domain import write_domain
from poseda.data.mirror import Archive
from poseda.data.rig import load_rig


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory, data_root) -> Path:
    """A small real source domain: 8 Bandai Namco clips seen by the 8-camera rig (about 10k frames)."""
    base = tmp_path_factory.mktemp("tiny")
    motion = base / "motion"
    motion.mkdir()
    n = 0
    for name, data in Archive(data_root, "bandai-namco-1.tar.xz", "bandai-namco-1").iter_members(
            "bandai-namco-1/data/dataset-1_b*_*.bvh"):
        (motion / Path(name).name).write_bytes(data)
        n += 1
        if n == 8:
            break
    meta, arrays = build_custom("tiny", motion, load_rig("mpi-inf-3dhp"), role="source", fps=30.0)
    write_domain(base / "cache" / "tiny", meta, arrays)
    return base / "cache"


def tiny_overrides(cache: Path, run_dir: Path, **extra) -> list[str]:
    """Overrides for a quick run on the tiny domain; a key set to None is dropped."""
    ov = {
        "data.source": "tiny", "data.cache": str(cache), "data.val_percent": 50, "run.dir": str(run_dir),
        "train.epochs": 2, "train.batch_size": 128, "train.progress": False, "train.val_samples": 2000,
        "model.options.width": 64, "eval.batch_size": 1024,
    }
    ov.update(extra)
    return [f"{k}={v}" for k, v in ov.items() if v is not None]
