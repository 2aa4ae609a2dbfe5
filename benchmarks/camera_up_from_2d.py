"""How well the 2D alone tells which way is up in a target's camera: the vertical vanishing point
of the body axes, per view, against the camera's true up direction.

    POSEDA_CACHE=... python benchmarks/camera_up_from_2d.py bandai-overhead bandai-ground bandai-wild cmu-3dhp

A GPA rule that stood every source body upright in the target camera's world (issue 30: one rule
for every view, from steep top-down to ground level) would need this direction. People stand
upright, so in one camera their body axes (mid-ankle -> head) all point at the vertical vanishing
point: each axis and the camera centre span a plane, and the up direction (camera frame) is the
direction closest to lying in all of them (the smallest eigenvector of the summed outer products
of the planes' unit normals, reweighted a few times against outliers such as a bow). Printed per
domain: the angle between that estimate and the camera's true up (from its rotation), median and
80th / 95th percentiles over views, and the median elevation of up out of the image plane, true
and estimated (degrees). The truth is read for the diagnosis only.
"""
from __future__ import annotations

import argparse

import numpy as np

from poseda.data.cache import cache_root, load_domain
from poseda.skeleton.layouts import CANONICAL


def up_direction(joints2d: np.ndarray, k: np.ndarray, rounds: int = 5) -> np.ndarray:
    """[T, 17, 2] pixels of one camera (canonical joints) and its (fx, fy, cx, cy) -> unit up
    direction in camera coordinates (x right, y down, z forward)."""
    fx, fy, cx, cy = k

    def ray(p):
        return np.stack([(p[..., 0] - cx) / fx, (p[..., 1] - cy) / fy, np.ones(p.shape[:-1])], -1)

    feet = ray((joints2d[:, CANONICAL.index("RAnkle")] + joints2d[:, CANONICAL.index("LAnkle")]) / 2)
    head = ray(joints2d[:, CANONICAL.index("Head")])
    n = np.cross(feet, head)
    n = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    w = np.ones(len(n))
    for _ in range(rounds):
        d = np.linalg.eigh((n * w[:, None]).T @ n)[1][:, 0]
        r = np.abs(n @ d)
        s = 1.5 * np.median(r) + 1e-6
        w = np.where(r < s, 1.0, s / r)
    return d if d @ (head - feet).mean(0) > 0 else -d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("domains", nargs="+")
    ap.add_argument("--min-frames", type=int, default=10)
    args = ap.parse_args()
    for name in args.domains:
        d = load_domain(name, cache_root(None))
        view = np.asarray(d.arrays["view"])
        j2d, k, rot = (np.asarray(d.arrays[a]) for a in ("joints2d", "intrinsics", "cam_rotation"))
        err, elev_true, elev_est = [], [], []
        for v in range(len(d.views)):
            rows = np.flatnonzero(view == v)
            if len(rows) < args.min_frames or not np.isfinite(rot[v]).all():
                continue
            est = up_direction(j2d[rows], k[v])
            true = rot[v].T @ np.array([0.0, 0.0, 1.0])  # camera-to-world rotation, z-up world
            err.append(np.degrees(np.arccos(np.clip(est @ true, -1, 1))))
            elev_true.append(np.degrees(np.arcsin(-true[2])))
            elev_est.append(np.degrees(np.arcsin(-est[2])))
        err = np.asarray(err)
        print(f"{name}: {len(err)} views; up direction off by {np.median(err):.1f} deg median, {np.percentile(err, 80):.1f} "
              f"(80%), {np.percentile(err, 95):.1f} (95%); camera pitch {np.median(elev_true):+.1f} deg true, "
              f"{np.median(elev_est):+.1f} estimated (median over views; + looks down)")


if __name__ == "__main__":
    main()
