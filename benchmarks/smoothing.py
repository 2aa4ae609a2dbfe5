"""What temporal smoothing of the lifted 3D buys: MPJPE and acceleration error on Human3.6M's test
sequences (S9, S11, every frame of every camera), with and without a filter, on clean and noisy 2D.

    POSEDA_CACHE=... python benchmarks/smoothing.py [-c CHECKPOINT ...] [--noise 0 5 10] [--frames 60000]

For each checkpoint (default: the bundled lifter) the evaluation split's ground-truth 2D, and the
same 2D with Gaussian noise of the given standard deviation in pixels added independently to every
joint of every frame (a jittery detector), are lifted (flip test on); each camera's sequence is
then filtered along time by :mod:`poseda.lift.smoothing` exactly as ``poseda lift --smooth`` does.
Printed per row: MPJPE (mm, root-relative, the checkpoint's joint set) and acceleration error
(mm per frame squared, |a_pred - a_true| with a[t] = x[t-1] - 2 x[t] + x[t+1]) at the domain's
50 fps. ``--frames`` takes the first frames of each sequence up to that total (sequences stay whole).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.inference import load_lifter, predict
from poseda.lift.smoothing import Smoothing, acceleration_error, smooth_runs

FILTERS = [Smoothing(), Smoothing("one-euro", 1.0, 0.5), Smoothing("one-euro", 0.5, 0.5), Smoothing("one-euro", 2.0, 1.0),
           Smoothing("savgol", window=9, order=2), Smoothing("savgol", window=17, order=2)]


def sequences(domain: str, layout, frames: int):
    poses = load_domain(domain, cache_root(None)).evaluation(layout)
    view = np.asarray(poses.view)
    keep = np.flatnonzero(np.cumsum(np.ones(len(view))) <= frames)
    end = keep[-1] + 1
    end = np.flatnonzero(view == view[end - 1])[-1] + 1  # whole sequences
    return poses.take(np.arange(end)), float(load_domain(domain, cache_root(None)).meta.get("fps", 50.0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-c", "--checkpoint", action="append", help="Checkpoint(s); default: the bundled lifter 'default'.")
    ap.add_argument("--domain", default="h36m")
    ap.add_argument("--noise", type=float, nargs="+", default=[0.0, 5.0, 10.0], help="2D noise, pixels (std).")
    ap.add_argument("--frames", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    codec = PoseCodec()
    for ckpt in args.checkpoint or ["default"]:
        model, rec, layout = load_lifter(ckpt)
        poses, fps = sequences(args.domain, layout, args.frames)
        view = np.asarray(poses.view)
        order = np.arange(len(view))
        truth = np.asarray(poses.joints3d, np.float64)
        truth = truth - truth[:, :1]
        print(f"\n{ckpt} ({rec['model']['name']}, {model.receptive_field}-frame input, {layout.name}); {args.domain} "
              f"evaluation split, {len(view)} frames in {len(np.unique(view))} sequences at {fps:g} fps, flip test on")
        print("| 2D | filter | MPJPE mm | accel. error mm/frame^2 |")
        print("|---|---|---|---|")
        rng = np.random.default_rng(args.seed)
        for noise in args.noise:
            p2d = np.asarray(poses.joints2d, np.float64) + (rng.normal(0, noise, poses.joints2d.shape) if noise else 0)
            noisy = poses.take(np.arange(len(view)))
            noisy.joints2d = p2d
            data = DeviceSet.from_split(noisy, codec)
            pred = predict(model, data, flip_test=True, codec=codec).numpy().astype(np.float64)
            for how in FILTERS:
                out = smooth_runs(pred, view, order, fps, how)
                out = out - out[:, :1]
                err = np.linalg.norm(out - truth, axis=-1).mean() * 1000
                acc = np.mean([acceleration_error(out[view == v], truth[view == v]) for v in np.unique(view)]) * 1000
                label = "ground truth" if noise == 0 else f"GT + {noise:g} px noise"
                print(f"| {label} | {how.describe()} | {err:.1f} | {acc:.2f} |")


if __name__ == "__main__":
    main()
