"""Build issue 18's generality target ``h36m-broadcast``: the motion of Human3.6M's held-out
subjects S9 and S11 (never in source training) seen by the ``broadcast`` rig (two long-lens
cameras high in a stand, one wide camera on the ground; poseda/domains/rigs/broadcast.yaml). It was
designed before any of issue 18's measurements, and it is run once with the full method table.

    POSEDA_CACHE=... python scripts/make_generality_target.py [--name h36m-broadcast]

Steps: the prepared ``h36m`` domain's S9 and S11 sequences in world coordinates (one per subject
and action, from the first camera's view), written as npz motion files, then ``poseda data
custom``'s builder with the rig (role target; adaptation / evaluation clips split by a hash of the
file name; 50 fps). Needs ``poseda data prepare -d h36m`` first.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from poseda.data.cache import cache_root, load_domain
from poseda.data.domain import write_domain
from poseda.domains.builders import build_custom
from poseda.datasets.h36m_npz import INDICES_17_OF_32
from poseda.domains.export import export_domain
from poseda.domains.rig import load_rig
from poseda.safe_pickle import load_object_npz


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", default="h36m-broadcast")
    ap.add_argument("--seed", type=int, default=2023)
    args = ap.parse_args()
    cache = cache_root(None)
    h36m = load_domain("h36m", cache)
    with tempfile.TemporaryDirectory() as tmp:
        # the world-frame 3D of every S9/S11 sequence, as VideoPose3D's file holds it
        export_domain(h36m, "videopose3d", Path(tmp) / "vp3d", subjects=["S9", "S11"])
        pos = load_object_npz(Path(tmp) / "vp3d" / "data" / "data_3d_h36m.npz", "positions_3d")
        folder = Path(tmp) / "motion"
        n = 0
        for subject, actions in pos.items():
            for action, joints in actions.items():
                out = folder / subject / f"{action.replace(' ', '_')}.npz"
                out.parent.mkdir(parents=True, exist_ok=True)
                np.savez(out, joints3d=np.asarray(joints, np.float64)[:, list(INDICES_17_OF_32)])  # VideoPose3D's 32 -> 17
                n += 1
        sample = np.asarray(next(iter(next(iter(pos.values())).values())), np.float64)
        spread = np.ptp(sample, axis=1).mean(0)  # per axis: the body's mean extent over frames
        up = "y" if spread[1] > spread[2] else "z"  # the body is tallest along the vertical axis
        meta, arrays = build_custom(args.name, folder, load_rig("broadcast"), role="target", seed=args.seed, fps=50.0,
                                    units_to_m=1.0, up=up)
    write_domain(cache / args.name, meta, arrays)
    print(f"{args.name}: {len(arrays['joints3d'])} frames, {len(meta['views'])} views from {n} S9/S11 sequences -> {cache / args.name}")


if __name__ == "__main__":
    main()
