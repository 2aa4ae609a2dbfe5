"""Where GPA puts source poses, against where the target's people really are.

    POSEDA_CACHE=... python benchmarks/gpa_diagnostics.py -t humaneva [-t cmu-3dhp ...] [--pairs 200000]

GPA pairs each source pose with a random target 2D pose and moves it so that its root lands on
the target's root and its 2D box is as large as the target's box (the paper's ``box`` depth
rule), or as deep as a body of the source's median size would need to be to fill that box
(``typical``). For random pairs (source: the training split of ``--source``; target: the target's
adaptation split, whose 3D is read here for the diagnosis only) this prints:

- the root depth (m) GPA gives, under each rule, against the target's true root depth
  (median and 10th-90th percentiles), and the median ratio placed / true depth of the *same*
  anchor: how far from the camera GPA puts people compared with where the target's person stood;
- how that ratio depends on the source pose's own extent (crouched poses: the lowest quartile of
  (dx + dy) / 2, against the highest): the box rule brings a small pose close to the camera, so
  its projection carries more perspective than any target pose;
- the perspective strength of the projected poses: the relative depth spread of the body,
  (max z - min z) / root z, median, placed vs target truth.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from poseda.adapt.gpa import gpa_place
from poseda.adapt.methods.base import typical_size
from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.skeleton.layouts import JOINT_SETS


def pct(x: np.ndarray) -> str:
    q = np.percentile(x, [10, 50, 90])
    return f"{q[1]:.2f} ({q[0]:.2f}-{q[2]:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-t", "--target", action="append", required=True)
    ap.add_argument("--source", default="h36m")
    ap.add_argument("--pairs", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    codec = PoseCodec()
    src = load_domain(args.source, cache_root(None))
    for name in args.target:
        tgt = load_domain(name, cache_root(None))
        layout = JOINT_SETS["humaneva15"] if name == "humaneva" else JOINT_SETS["h36m16"]
        s = DeviceSet.from_split(src.training(layout), codec)
        truth = tgt.oracle_training(layout)  # 3D of the adaptation split: for this diagnosis only
        t = DeviceSet.from_split(truth, codec)
        g = torch.Generator().manual_seed(args.seed)
        i = torch.randint(len(s), (args.pairs,), generator=g)
        j = torch.randint(len(t), (args.pairs,), generator=g)
        pose = s.targets[i] + s.roots[i][:, None]
        size = typical_size(s.targets)
        true_z = t.roots[j][:, 2].numpy()
        ext = (s.targets[i].amax(1) - s.targets[i].amin(1))
        extent = ((ext[:, 0] + ext[:, 1]) / 2).numpy()
        lo, hi = np.percentile(extent, [25, 75])
        tz = (t.targets + t.roots[:, None])[:, :, 2]
        true_spread = ((tz.amax(1) - tz.amin(1)) / t.roots[:, 2]).numpy()
        print(f"\n{args.source} -> {name} ({layout.name}), {args.pairs} random pairs; typical body size {size:.3f} m; "
              f"target's true root depth {pct(true_z)} m")
        print("| rule | placed depth m | placed / true depth (same anchor) | crouched (lowest 25% extent) | "
              "tall (highest 25%) | perspective spread placed | target's own |")
        print("|---|---|---|---|---|---|---|")
        for rule, sz in (("box (paper)", None), ("typical", size)):
            placed, _ = gpa_place(pose, t.inputs[j], t.intrinsics[j], codec.root, size=sz)
            z = placed[:, codec.root, 2].numpy()
            ratio = z / true_z
            pz = placed[..., 2]
            spread = ((pz.amax(1) - pz.amin(1)) / placed[:, codec.root, 2]).numpy()
            print(f"| {rule} | {pct(z)} | {pct(ratio)} | {np.median(ratio[extent <= lo]):.2f} | "
                  f"{np.median(ratio[extent >= hi]):.2f} | {np.median(spread):.3f} | {np.median(true_spread):.3f} |")


if __name__ == "__main__":
    main()
