"""End-to-end speed of ``poseda lift`` on a long single-person sequence (goal: 10,000 frames read,
lifted and written in under 10 s on the 2-core CPU, with SimpleBaseline or single-frame
VideoPose3D).

    POSEDA_CACHE=... python benchmarks/bench_lift.py [--frames 10000] [--repeats 5] [--device cpu]

The sequence is real: consecutive Human3.6M test frames (S9, S11) of the prepared ``h36m``
domain as one camera saw them, written as a COCO-17 detection JSON (made by
:func:`poseda.keypoints.formats.keypoints_from_h36m`, scores 0.9) and as an H36M-17 npz. The
lifters have their default sizes and random weights (the speed does not depend on the weights).
For every case the median of ``--repeats`` in-process runs of :func:`poseda.lift.lifting.lift_file`
is printed (read + track + lift + write), and once the wall time of the full ``poseda lift``
command, which adds starting Python and importing PyTorch.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from poseda.config import load_config, to_dict
from poseda.data.cache import cache_root, load_domain
from poseda.inference import save_lifter
from poseda.keypoints.formats import COCO17, keypoints_from_h36m
from poseda.keypoints.options import KeypointReading
from poseda.lift.lifting import lift_file
from poseda.lift.options import LiftOptions
from poseda.models import build_lifter
from poseda.skeleton.layouts import H36M17


def sequence(frames: int) -> tuple[np.ndarray, tuple[int, int]]:
    """[frames, 17, 2] pixels: consecutive evaluation frames of h36m (views concatenated)."""
    poses = load_domain("h36m", cache_root(None)).evaluation(H36M17)
    kp = np.asarray(poses.joints2d[:frames], np.float64)
    if len(kp) < frames:
        raise SystemExit(f"h36m has only {len(kp)} evaluation frames")
    w, h = np.asarray(poses.image_size[0])
    return kp, (int(w), int(h))


def checkpoint(folder: Path, config: str) -> Path:
    """The built-in config's lifter at its default size, random weights."""
    cfg = load_config(config)
    options = to_dict(cfg.model.options)
    return save_lifter(folder / config, build_lifter(cfg.model.name, H36M17, **options), cfg.model.name, options, "benchmark")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--configs", nargs="+", default=["simple_baseline", "videopose3d_1"])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.manual_seed(0)
    kp, size = sequence(args.frames)
    print(f"{args.frames} frames, one person, image {size[0]}x{size[1]}, device {args.device}, "
          f"{torch.get_num_threads()} threads; medians of {args.repeats} runs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        coco = np.concatenate([keypoints_from_h36m(COCO17, kp), np.full((len(kp), 17, 1), 0.9)], -1)
        dets = [{"image_id": i, "category_id": 1, "keypoints": np.round(c, 2).reshape(-1).tolist(), "score": 0.9}
                for i, c in enumerate(coco)]
        (tmp / "coco.json").write_text(json.dumps(dets))
        np.savez(tmp / "h36m.npz", keypoints=kp, image_size=np.array(size))
        cases = [("coco.json", ".npz", True), ("coco.json", ".json", True), ("h36m.npz", ".csv", True),
                 ("coco.json", ".npz", False)]
        print("| lifter | input | output | flip test | in-process s (median) | frames/s | CLI wall s |")
        print("|---|---|---|---|---|---|---|")
        for config in args.configs:
            ckpt = checkpoint(tmp, config)
            for src, suffix, flip in cases:
                times = []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    lift_file(LiftOptions(keypoints=tmp / src, out=tmp / f"out{suffix}", checkpoint=ckpt, flip_test=flip,
                                          reading=KeypointReading(image_size=size), device=args.device, force=True))
                    times.append(time.perf_counter() - t0)
                med = statistics.median(times)
                cmd = [sys.executable, "-m", "poseda.cli", "lift", str(tmp / src), "-c", str(ckpt), "-o", str(tmp / f"cli{suffix}"),
                       "--image-size", f"{size[0]}x{size[1]}", "--device", args.device]
                if not flip:
                    cmd.append("--no-flip-test")
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                wall = time.perf_counter() - t0
                print(f"| {config} | {src} | {suffix} | {'on' if flip else 'off'} | {med:.2f} | {args.frames / med:,.0f} | {wall:.2f} |",
                      flush=True)


if __name__ == "__main__":
    main()
