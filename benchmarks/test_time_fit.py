"""What fitting a lifter's estimates onto the target's own 2D keypoints changes, at test time.

    POSEDA_CACHE=... python benchmarks/test_time_fit.py -d cmu-3dhp CHECKPOINT [CHECKPOINT ...]
    POSEDA_CACHE=... python benchmarks/test_time_fit.py -d humaneva --steps 40 --prior 0.1 0.01 CHECKPOINT

For every checkpoint, on the domain's evaluation split (ground-truth 2D, flip test on): MPJPE,
N-MPJPE and PA-MPJPE (mm) of the lifter's root-relative estimates, and of the same estimates
after :func:`poseda.geometry.fitting.fit_to_keypoints` moved them onto the 2D keypoints under
each frame's camera, their bone lengths kept (so body size does not change), for each ``--prior``
weight (how strongly the bone directions stay where the lifter put them). The fit reads the 2D and
the intrinsics only, as adaptation does; the 3D is read to score. Also the median relative
reprojection error (RMS distance / 2D box size) before and after, and the seconds the fit took.
"""
from __future__ import annotations

import argparse
import time

import torch

from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.inference import fit_estimates, load_lifter, predict
from poseda.metrics import mpjpe, n_mpjpe, pa_mpjpe


def _row(ck, prior, pred, gt, err, seconds) -> None:
    p = pred.cpu().numpy()
    figures = [1000 * f(p, gt) for f in (mpjpe, n_mpjpe, pa_mpjpe)]
    print(f"| {ck} | {prior} | " + " | ".join(f"{x:.1f}" for x in figures) + f" | {float(err.median()):.3f} | {seconds} |",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("-d", "--domain", required=True)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--prior", type=float, nargs="+", default=[0.1])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    domain = load_domain(args.domain, cache_root(None))
    codec = PoseCodec()
    print(f"{args.domain} evaluation split, ground-truth 2D, flip test on; fit: {args.steps} Adam steps, bone lengths kept")
    print("| checkpoint | prior | MPJPE | N-MPJPE | PA-MPJPE | reprojection error / box | fit s |")
    print("|---|---|---|---|---|---|---|")
    for ck in args.checkpoints:
        model, _, layout = load_lifter(ck)
        data = DeviceSet.from_split(domain.evaluation(layout), codec, args.device)
        with torch.no_grad():
            pred = predict(model.to(args.device), data, flip_test=True, codec=codec)
        gt = data.targets.cpu().numpy()
        _, before = fit_estimates(pred, data, 0, codec=codec)

        _row(ck, "(no fit)", pred, gt, before, "-")
        for prior in args.prior:
            t0 = time.perf_counter()
            p, err = fit_estimates(pred, data, args.steps, prior, codec)
            _row(ck, prior, p, gt, err, f"{time.perf_counter() - t0:.1f}")
    return 0


if __name__ == "__main__":
    main()
