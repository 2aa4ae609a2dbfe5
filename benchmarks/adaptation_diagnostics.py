"""Why an adapted lifter misses on a target: its torso's pitch and length, and its body size,
against the truth.

    POSEDA_CACHE=... python benchmarks/adaptation_diagnostics.py -d cmu-3dhp CHECKPOINT [CHECKPOINT ...]
    POSEDA_CACHE=... python benchmarks/adaptation_diagnostics.py --truth h36m cmu-3dhp     # the data's own torsos
    POSEDA_CACHE=... python benchmarks/adaptation_diagnostics.py -d bandai-wild --bones CHECKPOINT [...]   # every bone

For every checkpoint, on the target's evaluation split (ground-truth 2D, flip test on): MPJPE,
N-MPJPE (scale-aligned) and PA-MPJPE in mm; the torso's pitch in the camera frame (the angle of
the Pelvis -> Thorax direction out of the image plane, arcsin of its component towards the
camera, degrees; positive = top of the torso leaning away from the camera, as seen from a camera
looking down), predicted and true, and their mean difference; and the mean Pelvis -> Thorax
length, predicted and true (cm); and the body size: the summed length of all bones, predicted and
true (cm). A target whose skeleton defines a shorter torso (CMU: 23 cm against Human3.6M's 49)
shows up here as a torso the lifter tilts to make it look short; a target with smaller actors
(Bandai) as a body size the lifter cannot learn from 2D. With ``--bones``, the median length of
every bone (left and right together; each bone named by its child joint), predicted / true, in cm.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from poseda.adapt.lpa import bone_groups
from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.geometry.kinematics import bone_lengths
from poseda.inference import load_lifter, predict
from poseda.metrics import mpjpe, n_mpjpe, pa_mpjpe, summed_bones


def torso(p: np.ndarray, joints: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Pitch (degrees) and length (m) of the Pelvis -> Thorax vector of [N, J, 3] camera-frame poses."""
    v = p[:, joints.index("Thorax")] - p[:, joints.index("Pelvis")]
    length = np.linalg.norm(v, axis=-1)
    return np.degrees(np.arcsin(np.clip(-v[:, 2] / length, -1, 1))), length


def bone_sum(p: np.ndarray, layout) -> np.ndarray:
    """[N] summed bone length (m) of [N, J, 3] poses (:func:`poseda.metrics.summed_bones`)."""
    return summed_bones(p, layout.parents).numpy()


def median_bones(p: np.ndarray, layout) -> dict[str, float]:
    """Median length (m) of each bone group of [N, J, 3] poses, a left bone and its right mirror together."""
    bones, groups = bone_groups(layout)  # the non-root joints in order: bone_lengths' columns
    lengths = bone_lengths(torch.from_numpy(np.asarray(p, np.float64)), layout.parents).numpy()
    out = {}
    for g in sorted(set(groups)):
        cols = [i for i, k in enumerate(groups) if k == g]
        name = layout.joints[bones[cols[0]]]
        out[name[1:] if len(cols) > 1 else name] = float(np.median(lengths[:, cols]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="*")
    ap.add_argument("-d", "--domain")
    ap.add_argument("--truth", nargs="+", default=[], help="print the true torso pitch and length of these domains' "
                                                           "training (source) or evaluation (target) split")
    ap.add_argument("--bones", action="store_true", help="also every bone's median length, predicted / true")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    from poseda.skeleton.layouts import experiment_joints

    for name in args.truth:
        d = load_domain(name, cache_root(None))
        layout = experiment_joints(d.joint_mask)
        split = d.training(layout) if d.role == "source" else d.evaluation(layout)
        joints3d = np.asarray(split.joints3d, np.float64)
        pitch, length = torso(joints3d, layout.joints)
        size = bone_sum(joints3d, layout)
        print(f"{name} ({'training' if d.role == 'source' else 'evaluation'} split, {len(pitch)} frames, joints "
              f"{layout.name}): torso pitch {pitch.mean():.1f} +- {pitch.std():.1f} deg, length {100 * length.mean():.1f} cm; "
              f"summed bone length {100 * size.mean():.0f} cm (median {100 * np.median(size):.0f})")
    if not args.checkpoints:
        return
    if args.domain is None:
        ap.error("-d/--domain is needed with checkpoints")
    domain = load_domain(args.domain, cache_root(None))
    print(f"{args.domain} evaluation split, ground-truth 2D, flip test on")
    print("| checkpoint | MPJPE | N-MPJPE | PA-MPJPE | torso pitch pred / true (deg) | pitch bias | torso length pred / true (cm) "
          "| bone sum pred / true (cm) |")
    print("|---|---|---|---|---|---|---|---|")
    for ck in args.checkpoints:
        model, _, layout = load_lifter(ck)
        data = DeviceSet.from_split(domain.evaluation(layout), PoseCodec(), args.device)
        with torch.no_grad():
            pred = predict(model.to(args.device), data, flip_test=True).cpu().numpy()
        gt = data.targets.cpu().numpy()
        (pp, pl), (gp, gl) = torso(pred, layout.joints), torso(gt, layout.joints)
        print(f"| {ck} | {1000 * mpjpe(pred, gt):.1f} | {1000 * n_mpjpe(pred, gt):.1f} | {1000 * pa_mpjpe(pred, gt):.1f} | "
              f"{pp.mean():.1f} / {gp.mean():.1f} | {pp.mean() - gp.mean():+.1f} | {100 * pl.mean():.1f} / {100 * gl.mean():.1f} | "
              f"{100 * bone_sum(pred, layout).mean():.0f} / {100 * bone_sum(gt, layout).mean():.0f} |",
              flush=True)
        if args.bones:
            pb, gb = median_bones(pred, layout), median_bones(gt, layout)
            print("  bones (cm, predicted / true): " + ", ".join(f"{k} {100 * pb[k]:.1f} / {100 * gb[k]:.1f}" for k in pb), flush=True)


if __name__ == "__main__":
    main()
