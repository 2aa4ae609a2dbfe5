"""How long ``--adapt`` takes for a clip of 10 s, 1 min and 5 min (one person, 30 frames/s) on this
machine: :func:`poseda.adapt.footage.adapt_to_keypoints` with its default schedule, the bundled
lifter and the bundled CMU motion, median of ``--runs`` runs.

    POSEDA_CACHE=... python benchmarks/bench_adapt_footage.py [--runs 3] [--seconds 10 60 300]

The clips' 2D is recorded motion: consecutive frames of ``cmu-3dhp``'s adaptation split (its 2D ground
truth, one camera at a time, written as COCO-17 keypoints), cut to the length asked for.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from poseda.adapt.footage import adapt_to_keypoints  # noqa: E402
from poseda.data.cache import (
    cache_root,  # noqa: E402
    load_domain,  # noqa: E402
)
from poseda.domains.footage import FootageFile  # noqa: E402
from poseda.keypoints.formats import COCO17, keypoints_from_h36m  # noqa: E402
from poseda.skeleton.layouts import H36M17  # noqa: E402


def clip_files(folder: Path, frames: int) -> list[FootageFile]:
    """``frames`` frames of one person: cmu-3dhp views one after another, each its own file and camera."""
    a2 = load_domain("cmu-3dhp", cache_root(None)).adaptation(H36M17)
    view, kp = np.asarray(a2.view), np.asarray(a2.joints2d)
    out, left = [], frames
    for v in np.unique(view):
        rows = np.flatnonzero(view == v)[:left]
        path = folder / f"view{v}.npz"
        coco = keypoints_from_h36m(COCO17, kp[rows])
        np.savez(path, keypoints=coco, frames=np.arange(len(rows)), image_size=np.asarray(a2.image_size)[rows[0]])
        c = np.asarray(a2.intrinsics)[rows[0]]
        out.append(FootageFile(path, focal=float(c[0]), center=(float(c[2]), float(c[3]))))
        left -= len(rows)
        if left <= 0:
            break
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", nargs="+", type=float, default=[10, 60, 300])
    args = ap.parse_args()
    print("| clip | tracked frames | schedule | adapt s (median) | runs |")
    print("|---|---|---|---|---|")
    for sec in args.seconds:
        frames = int(sec * 30)
        times = []
        for r in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                files = clip_files(Path(tmp), frames)
                t = time.perf_counter()
                done = adapt_to_keypoints(files, None, Path(tmp) / "work", fps=30.0, seed=r, joints="coco17")
                times.append(time.perf_counter() - t)
        e, s = done.epochs, done.samples
        print(f"| {sec:g} s at 30 fps | {done.frames} | {e} x {s:,} | {statistics.median(times):.0f} | "
              f"{', '.join(f'{t:.0f}' for t in times)} |", flush=True)


if __name__ == "__main__":
    main()
