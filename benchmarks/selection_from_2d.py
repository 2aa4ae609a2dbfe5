"""Can a target's 2D alone tell which adapted lifter is better? Scores that read no 3D, beside MPJPE.

    POSEDA_CACHE=... python benchmarks/selection_from_2d.py -d humaneva CHECKPOINT [CHECKPOINT ...]

Unsupervised domain adaptation has no target 3D to choose a setting with. This prints, for every
checkpoint, scores computed on the target's *adaptation* split (its 2D keypoints and intrinsics,
what adaptation itself reads), flip test on:

- ``reproj``: median relative reprojection error (RMS distance / 2D box size, in %) of the
  estimate placed at its best depth and fitted for 40 steps with the bones' directions held
  (:func:`poseda.inference.fit_estimates`, prior 10: the root moves, the pose hardly does);
- ``move``: :func:`poseda.inference.disagreement_2d`, the mean per-joint distance (mm) by which
  the test-time fit (40 steps, prior 0.1, bone lengths kept) moves the estimate to make it agree
  with the 2D (what the benchmark's ``select`` rows choose by);
- ``flip``: mean per-joint distance (mm) between the estimate of the 2D and the mirrored estimate
  of the mirrored 2D (half of what the flip test averages away);
- ``jitter``: median per-joint acceleration (mm per frame^2) of the single-frame estimates over
  consecutive frames of one view (a lifter unsure of a joint's depth swaps its answer from frame
  to frame);

and, to judge the scores, MPJPE (mm) on the evaluation split (ground-truth 2D, flip test on), and
each score's Spearman rank correlation with it over the checkpoints given.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from scipy.stats import spearmanr

from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.inference import disagreement_2d, fit_estimates, load_lifter, predict
from poseda.metrics import mpjpe

SCORES = ("reproj", "move", "flip", "jitter")


def scores(model, adapt, frame: np.ndarray, codec: PoseCodec) -> dict[str, float]:
    data = DeviceSet.from_split(adapt, codec)
    with torch.no_grad():
        plain = predict(model, data, codec=codec)
        mirrored = codec.flip_3d(predict(model, DeviceSet(codec.flip_2d(data.inputs, data.layout), None, data.start,
                                                          data.end, data.layout, data.protocol), codec=codec),
                                 data.layout)
        mirrored = mirrored - mirrored[:, codec.root : codec.root + 1]
    pred = (plain + mirrored) / 2
    _, rep = fit_estimates(pred, data, 40, 10.0, codec)
    # consecutive frames of one view, equally spaced
    i = torch.arange(1, len(data) - 1)
    same = (data.start[i] == data.start[i - 1]) & (data.end[i] == data.end[i + 1])
    f = torch.as_tensor(frame)
    same &= (f[i + 1] - f[i]) == (f[i] - f[i - 1])
    i = i[same]
    acc = (pred[i + 1] - 2 * pred[i] + pred[i - 1]).norm(dim=-1)
    return {"reproj": 100 * float(rep.median()), "move": 1000 * disagreement_2d(model, adapt, codec=codec),
            "flip": 1000 * float((plain - mirrored).norm(dim=-1).mean() / 2), "jitter": 1000 * float(acc.median())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("-d", "--domain", required=True)
    args = ap.parse_args()
    domain = load_domain(args.domain, cache_root(None))
    codec = PoseCodec()
    print(f"{args.domain}: scores on the adaptation split (2D + intrinsics only, flip test on); "
          "MPJPE on the evaluation split (ground-truth 2D, 1 frame, flip test on)")
    print("| checkpoint | MPJPE | " + " | ".join(SCORES) + " |")
    print("|---|---|" + "---|" * len(SCORES))
    rows = []
    for ck in args.checkpoints:
        model, _, layout = load_lifter(ck)
        adapt = domain.adaptation(layout)
        frame = np.asarray(domain.arrays["frame"][domain.frames_of(adapt.protocol["split"])])
        s = scores(model, adapt, frame, codec)
        ev = DeviceSet.from_split(domain.evaluation(layout), codec)
        with torch.no_grad():
            err = 1000 * mpjpe(predict(model, ev, flip_test=True, codec=codec).numpy(), ev.targets.numpy())
        rows.append((err, s))
        print(f"| {ck} | {err:.1f} | " + " | ".join(f"{s[k]:.2f}" for k in SCORES) + " |", flush=True)
    if len(rows) > 2:
        err = [r[0] for r in rows]
        print("Spearman rank correlation with MPJPE: "
              + ", ".join(f"{k} {spearmanr(err, [r[1][k] for r in rows])[0]:+.2f}" for k in SCORES))
    return 0


if __name__ == "__main__":
    main()
