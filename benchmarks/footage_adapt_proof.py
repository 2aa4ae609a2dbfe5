"""Does ``--adapt`` help? Targets with 3D truth run as footage, through the code a video takes.

    POSEDA_CACHE=... python benchmarks/footage_adapt_proof.py [--targets cmu-3dhp bandai-wild humaneva]
        [--seeds 0 1 2] [--checkpoint default|open] [--frames 5000] [--format coco17]

Diagnosis options (docs/results.md, "Adapting to one video"): ``--rig handheld`` (one camera per
source sequence), ``--no-definitions`` (train on the source skeleton's own joint definitions),
``--method gpa``, ``--set lpa.max_rotation_deg=[10,10,5]`` (any ``poseda adapt`` override),
``--cmu-pelvis`` (keep the source motion's own pelvis instead of its mid-hips).

For each target and seed: the target's *adaptation* split 2D (ground truth, pixels) is written per
camera in a detector's format (``--format``, COCO-17 by default) and given to
:func:`poseda.adapt.footage.adapt_to_keypoints` (what ``poseda demo --adapt`` and ``poseda lift
--adapt`` call) with the bundled CMU motion and the default schedule; each camera keeps its true
intrinsics. Then the *evaluation* split (other subjects / sequences), written the same way, is
lifted by ``poseda lift``'s code (absolute root, true camera, single frame windows of the clip,
flip test on) with the checkpoint and with the adapted lifter. Errors in mm over ``--frames``
evenly spaced frames on the lifter's joints that the target has (16; 14 for ``humaneva``, which
has no spine or neck: those are filled half way between their neighbours for the 2D only): MPJPE,
PA-MPJPE, and MPJPE-U (every subject's
truth scaled to Human3.6M's height, docs/conventions.md). The 3D truth is never used to adapt.
Note: ``cmu-3dhp`` evaluates on CMU's test split, and the bundled motion is CMU's training split
(the same actions, other takes; the ``open`` lifter learnt from those training takes too), so its source motion is closer to that target than to the others.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lift_accuracy import lifted_per_camera, write_per_camera  # noqa: E402

from poseda.adapt.footage import adapt_to_keypoints  # noqa: E402
from poseda.data.cache import (
    cache_root,  # noqa: E402
    load_domain,  # noqa: E402
)
from poseda.data.universal import universal_poses  # noqa: E402
from poseda.domains.footage import FootageFile  # noqa: E402
from poseda.inference import load_lifter  # noqa: E402
from poseda.keypoints.formats import FORMATS  # noqa: E402
from poseda.metrics import mpjpe, pa_mpjpe  # noqa: E402
from poseda.skeleton.layouts import H36M17  # noqa: E402

#: joints a target may lack, and how they are filled for the 2D (never scored): half way between
FILL = {"Neck": ("Thorax", "Head"), "Spine": ("Pelvis", "Thorax")}


def h36m17(arrays: list[np.ndarray], layout) -> list[np.ndarray]:
    """Arrays in the target's ``layout`` as Human3.6M-17, a missing Neck or Spine put half way
    between its neighbours (the COCO nose is made from the Neck; filled joints are not scored)."""
    out = []
    for a in arrays:
        full = np.full(a.shape[:1] + (17,) + a.shape[2:], np.nan)
        full[:, H36M17.indices(layout.joints)] = a
        for name, (u, v) in FILL.items():
            if name not in layout.joints:
                full[:, H36M17.index(name)] = (full[:, H36M17.index(u)] + full[:, H36M17.index(v)]) / 2
        out.append(full)
    return out


def scores(checkpoint, fmt, kp, gt, gt_u, k, size, view, scored: tuple[str, ...]) -> dict:
    _, _, layout = load_lifter(checkpoint)
    names = [n for n in layout.joints if n in scored]
    keep, mine = H36M17.indices(names), layout.indices(names)
    pred, truth, truth_u = [], [], []
    for rows, joints3d, _ in lifted_per_camera(checkpoint, fmt, kp, k, size, view):
        pred.append(joints3d[:, mine])
        truth.append(gt[rows][:, keep])
        truth_u.append(gt_u[rows][:, keep])
    pred, truth, truth_u = map(np.concatenate, (pred, truth, truth_u))
    rel, rel_u = truth - truth[:, :1], truth_u - truth_u[:, :1]
    return {"MPJPE": 1000 * mpjpe(pred, rel), "PA-MPJPE": 1000 * pa_mpjpe(pred, rel), "MPJPE-U": 1000 * mpjpe(pred, rel_u)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", nargs="+", default=["cmu-3dhp", "bandai-wild", "humaneva"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--checkpoint", default="default")
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--format", default="coco17")
    ap.add_argument("--match-bones", action="store_true", help="give the source motion the lifter's own bones first")
    ap.add_argument("--method", default="gpa_lpa", help="the adaptation method (diagnosis; --adapt runs gpa_lpa)")
    ap.add_argument("--set", nargs="*", default=[], help="poseda adapt overrides (diagnosis), e.g. lpa.max_rotation_deg=[10,10,5]")
    ap.add_argument("--no-definitions", action="store_true", help="train on the source's own joint definitions (diagnosis)")
    ap.add_argument("--cmu-pelvis", action="store_true", help="keep the source motion's own pelvis, not its mid-hips (diagnosis)")
    ap.add_argument("--rig", default=None, help="the rig that sees the source motion (default: adapt_to_keypoints')")
    args = ap.parse_args()
    fmt = FORMATS[args.format]
    how = ("" if args.method == "gpa_lpa" else f"{args.method}, ") + "".join(f"{o}, " for o in args.set) + (
        "source definitions, " if args.no_definitions else "") + ("CMU's pelvis, " if args.cmu_pelvis else "")
    cache = cache_root(None)
    print(f"protocol: 2D ground truth written as {fmt.description}; evaluation split, {args.frames} evenly spaced frames; "
          f"absolute root, true intrinsics, flip test on; lifter joints; mm")
    print("| target | seed | lifter | MPJPE | PA-MPJPE | MPJPE-U | adapt s |")
    print("|---|---|---|---|---|---|---|")
    for target in args.targets:
        dom = load_domain(target, cache)
        layout = dom.layout
        ev = dom.evaluation(layout)
        ev_u = universal_poses(ev)
        pick = np.unique(np.linspace(0, len(ev.joints2d) - 1, min(args.frames, len(ev.joints2d))).astype(int))
        kp, gt, gt_u = h36m17([np.asarray(ev.joints2d)[pick], np.asarray(ev.joints3d)[pick], np.asarray(ev_u.joints3d)[pick]], layout)
        k, size, view = np.asarray(ev.intrinsics)[pick], np.asarray(ev.image_size)[pick], np.asarray(ev.view)[pick]
        scored = tuple(layout.joints)
        base = scores(args.checkpoint, fmt, kp, gt, gt_u, k, size, view, scored)
        print(f"| {target} | - | {args.checkpoint} | {base['MPJPE']:.1f} | {base['PA-MPJPE']:.1f} | {base['MPJPE-U']:.1f} | - |",
              flush=True)
        a2 = dom.adaptation(layout)
        a2_2d = h36m17([np.asarray(a2.joints2d)], layout)[0]
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                tmp = Path(tmp)
                files = write_per_camera(tmp, fmt, a2_2d, np.asarray(a2.intrinsics), np.asarray(a2.image_size),
                                         np.asarray(a2.view), "adapt")
                footage = [FootageFile(p, focal=float(c[0]), center=(float(c[2]), float(c[3])), image_size=(int(c[4]), int(c[5])))
                           for p, _, c in files]
                t0 = time.perf_counter()
                done = adapt_to_keypoints(footage, None if args.checkpoint == "default" else args.checkpoint, tmp / "work",
                                          fps=dom.fps, seed=seed, joints=fmt.name, match_bones=args.match_bones,
                                          method=args.method, overrides=args.set,
                                          definitions=not args.no_definitions, mid_hips=not args.cmu_pelvis, **({"rig": args.rig} if args.rig else {}))
                seconds = time.perf_counter() - t0
                s = scores(done.checkpoint, fmt, kp, gt, gt_u, k, size, view, scored)
            print(f"| {target} | {seed} | {args.checkpoint} + --adapt ({how}{done.epochs} x {done.samples:,}) | {s['MPJPE']:.1f} | "
                  f"{s['PA-MPJPE']:.1f} | {s['MPJPE-U']:.1f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
