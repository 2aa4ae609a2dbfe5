"""Make the bundled source motion set, ``poseda/domains/motion/cmu-train.npz``, from the CMU motion
capture in the data mirror (its training split only: the ``cmu-3dhp`` benchmark target evaluates on
the test split, which the bundled set must not contain).

    python scripts/make_source_motion.py --data-root ../shared/data

CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu): "free for all uses"; the data may be
used in commercial products but not resold as data. The file holds 3D joint positions only.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from poseda.domains.builders import cmu_motions  # noqa: E402
from poseda.domains.bundled_motion import FOLDER, pack_motions  # noqa: E402
from poseda.fileio import atomic_write  # noqa: E402


def build(root: Path) -> dict[str, np.ndarray]:
    return pack_motions([m for m in cmu_motions(root) if m.split == "train"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", type=Path, required=True)
    args = ap.parse_args()
    arrays = build(args.data_root)
    out = FOLDER / "cmu-train.npz"
    atomic_write(out, lambda tmp: np.savez_compressed(tmp, **arrays))
    print(f"{out}: {len(arrays['names'])} sequences, {len(arrays['joints'])} frames, {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
