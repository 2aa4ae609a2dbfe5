"""Adapting to your own footage, measured: a footage domain made from a target's 2D keypoints in a
detector's format, PoseDA adaptation to it, and the 3D error of ``poseda lift`` on the target's
evaluation split given in the same format.

    POSEDA_CACHE=... python benchmarks/footage_adaptation.py SOURCE_CKPT [--target cmu-3dhp]
        [--format coco17] [--epochs 2] [--samples 60000] [--frames 5000] [--compare CKPT ...]
        [--out DIR (keep the adapted run)] [--adapted CKPT (reuse one, skip steps 1-2)]

1. The target's *adaptation* split 2D (ground truth, pixels) is written per camera as keypoint
   files in ``--format`` (made by :func:`poseda.keypoints.formats.keypoints_from_h36m`), and
   :func:`poseda.domains.footage.build_footage` turns them into a 2D-only target domain with each
   file's true intrinsics; the 3D truth is not written.
2. ``SOURCE_CKPT`` is adapted to it with GPA + LPA (``--epochs`` x ``--samples``, the quick
   preset's schedule by default), exactly as ``poseda adapt SOURCE_CKPT -t <footage>`` does.
3. The *evaluation* split (other subjects / sequences) is written in the same format and lifted
   by ``poseda lift``'s code with the true camera; MPJPE / PA-MPJPE in mm against the 3D truth
   (single frame, flip test on), and the MPJPE of the 12 limb joints every format shares, centred
   on the hips' midpoint (pelvis, spine, thorax and head are defined differently by every dataset
   and detector, and 2D in a detector's format cannot teach the target's 3D definitions of them).
   Rows: the source checkpoint, the footage-adapted one, and any
   ``--compare`` checkpoints (for example the benchmark's GPA + LPA adapted on the target's own
   2D), each also on the target's native 2D.

The footage domain and the adapted run go to a temporary cache (the source domain is linked in).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from lift_accuracy import evaluation_frames, lift_and_score, write_per_camera

from poseda.adapt.adapter import Adapter, adapt_config
from poseda.data.cache import cache_root, load_domain
from poseda.domains.footage import FootageFile, build_footage
from poseda.keypoints.formats import FORMATS, H36M17_FORMAT
from poseda.keypoints.options import KeypointReading
from poseda.skeleton.layouts import H36M17


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source_checkpoint")
    ap.add_argument("--target", default="cmu-3dhp")
    ap.add_argument("--format", default="coco17", help=f"keypoint format of the footage ({', '.join(FORMATS)})")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--samples", type=int, default=60000, help="source samples per adaptation epoch")
    ap.add_argument("--frames", type=int, default=5000, help="evenly spaced evaluation frames")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare", nargs="*", default=[], help="more checkpoints to lift the same files with")
    ap.add_argument("--out", help="keep the adapted run here (default: a temporary folder)")
    ap.add_argument("--adapted", help="an already adapted checkpoint: skip building the footage and adapting")
    args = ap.parse_args()
    fmt = FORMATS[args.format]
    cache = cache_root(None)
    target = load_domain(args.target, cache)
    ckpt_rec = json.loads(Path(str(args.source_checkpoint).removesuffix(".json") + ".json").read_text())
    source = ckpt_rec["config"]["data"]["source"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "cache").mkdir()
        (tmp / "cache" / source).symlink_to(Path(cache, source).resolve())
        run = Path(args.out) if args.out else tmp / "adapted"
        if args.adapted is None:
            adapt(args, fmt, target, tmp, run)
        # 3. lift the evaluation split in the footage's format (and natively) with the true cameras
        kp, gt, k, size, view = evaluation_frames(args.target, args.frames)
        print(f"\n{args.target} evaluation split, {len(kp)} frames; ground-truth 2D; single frame, flip test on; "
              f"true intrinsics; MPJPE / PA-MPJPE / limbs-12 MPJPE (hip-centred) in mm")
        print(f"| checkpoint | {fmt.name} input | native H36M-17 input |")
        print("|---|---|---|")
        rows = [("source only: " + str(args.source_checkpoint), args.source_checkpoint),
                (f"GPA + LPA on the {fmt.name} footage", args.adapted or run / "best")] + [(c, c) for c in args.compare]
        for label, ckpt in rows:
            a = lift_and_score(ckpt, fmt, kp, gt, k, size, view)
            b = lift_and_score(ckpt, H36M17_FORMAT, kp, gt, k, size, view)
            print(f"| {label} | {a['mpjpe']:.1f} / {a['pa_mpjpe']:.1f} / {a['limbs_mpjpe']:.1f} | "
                  f"{b['mpjpe']:.1f} / {b['pa_mpjpe']:.1f} / {b['limbs_mpjpe']:.1f} |", flush=True)


def adapt(args, fmt, target, tmp: Path, run: Path) -> None:
    """Steps 1 and 2: the footage domain in ``tmp``/cache, and the adaptation into ``run``."""
    # 1. footage from the adaptation split, one file per camera, true intrinsics, no 3D
    k2 = target.adaptation(H36M17)
    files = write_per_camera(tmp, fmt, np.asarray(k2.joints2d), np.asarray(k2.intrinsics), np.asarray(k2.image_size),
                             np.asarray(k2.view), "adapt")
    name = f"{args.target}-{fmt.name}-footage"
    _, rep = build_footage(name, [FootageFile(p, focal=float(c[0]), center=(float(c[2]), float(c[3])),
                                              image_size=(int(c[4]), int(c[5]))) for p, _, c in files],
                           tmp / "cache", KeypointReading(joints=fmt.name), fps=target.fps)
    print(f"footage {name}: {rep.frames} frames, {rep.views} tracks, {len(files)} cameras "
          f"(from {args.target}'s adaptation split 2D written as {fmt.description})")
    # 2. PoseDA adaptation to it
    cfg = adapt_config(args.source_checkpoint, name, "gpa_lpa", [
        f"data.cache={tmp / 'cache'}", f"run.dir={run}", f"run.seed={args.seed}", f"train.epochs={args.epochs}",
        f"data.samples_per_epoch={args.samples}", "train.progress=false"])
    t0 = time.perf_counter()
    Adapter(cfg).fit()
    print(f"adapted in {time.perf_counter() - t0:.0f} s: poseda adapt {args.source_checkpoint} -t {name} -m gpa_lpa "
          f"train.epochs={args.epochs} data.samples_per_epoch={args.samples}")


if __name__ == "__main__":
    main()
