"""What ``poseda lift`` costs in accuracy: the joint conversions of each keypoint format, the
default camera, and the weak-perspective absolute root, measured on a domain with 3D truth.

    POSEDA_CACHE=... python benchmarks/lift_accuracy.py CHECKPOINT [--domain h36m] [--frames 20000] [--contiguous]

The evaluation split's ground-truth 2D (pixels) is written per camera as a keypoint file in each
format (Human3.6M-17 itself, COCO-17, OpenPose BODY_25, MediaPipe 33; made by
:func:`poseda.keypoints.formats.keypoints_from_h36m`), lifted by :func:`poseda.lift.lifting.lift_file`
with the camera's true intrinsics and with the default ones (focal length = image diagonal), and
compared with the 3D truth: MPJPE and PA-MPJPE (mm, root-relative, the checkpoint's joint set,
single-frame input, flip test on) and the absolute root's error (median distance in m, median
|depth error| / depth).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from poseda.data.cache import cache_root, load_domain
from poseda.inference import load_lifter
from poseda.keypoints.formats import BODY25, COCO17, H36M17_FORMAT, MEDIAPIPE33, keypoints_from_h36m
from poseda.keypoints.options import KeypointReading
from poseda.lift.lifting import lift_file
from poseda.lift.options import LiftOptions
from poseda.metrics import mpjpe, pa_mpjpe
from poseda.skeleton.layouts import H36M17

LIMBS = ("RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow",
         "RWrist")


def evaluation_frames(domain: str, frames: int, contiguous: bool = False):
    """Evenly spaced evaluation frames of ``domain`` (H36M-17 joints), or with ``contiguous`` the
    first consecutive frames of every view (for temporal lifters): 2D, 3D truth, intrinsics,
    image sizes, views."""
    poses = load_domain(domain, cache_root(None)).evaluation(H36M17)
    if contiguous:
        view = np.asarray(poses.view)
        per = -(-frames // len(np.unique(view)))
        pick = np.concatenate([np.flatnonzero(view == v)[:per] for v in np.unique(view)])
    else:
        pick = np.unique(np.linspace(0, len(poses.joints2d) - 1, min(frames, len(poses.joints2d))).astype(int))
    return (np.asarray(poses.joints2d)[pick], np.asarray(poses.joints3d)[pick], np.asarray(poses.intrinsics)[pick],
            np.asarray(poses.image_size)[pick], np.asarray(poses.view)[pick])


def write_per_camera(folder: Path, fmt, kp, k, size, view, stem: str) -> list[tuple[Path, np.ndarray, np.ndarray]]:
    """One keypoint npz per camera (views become separate tracks: their frame numbers are far
    apart); returns (file, the rows it holds, the camera row fx fy cx cy W H)."""
    cams = np.unique(np.concatenate([k, size], 1), axis=0)
    out = []
    for i, cam in enumerate(cams):
        rows = np.flatnonzero((np.concatenate([k, size], 1) == cam).all(1))
        frames = rows + 100 * np.cumsum(np.r_[0, np.diff(view[rows]) != 0])
        path = Path(folder) / f"{stem}-{fmt.name}-cam{i}.npz"
        np.savez(path, keypoints=keypoints_from_h36m(fmt, kp[rows]), frames=frames, image_size=cam[4:6])
        out.append((path, rows, cam))
    return out


def lifted_per_camera(checkpoint, fmt, kp, k, size, view, true_camera: bool = True) -> list[tuple[np.ndarray, ...]]:
    """The frames of each camera written in ``fmt`` and lifted with ``poseda lift``'s code (with
    the camera's true intrinsics, or the default camera): per camera, (the rows of ``kp``, the
    lifted 3D and absolute roots of the detected frames in frame order)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for path, rows, cam in write_per_camera(Path(tmp), fmt, kp, k, size, view, "eval"):
            reading = KeypointReading(joints=fmt.name, focal=float(cam[0]) if true_camera else None,
                                      center=(float(cam[2]), float(cam[3])) if true_camera else None)
            lifted, _ = lift_file(LiftOptions(keypoints=path, out=Path(tmp) / "out.npz", checkpoint=checkpoint,
                                              reading=reading, absolute=True, force=True))
            order = np.argsort(lifted.frame)
            detected = lifted.detected[order]
            out.append((rows, lifted.joints3d[order][detected], lifted.root[order][detected]))
    return out


def lift_and_score(checkpoint, fmt, kp, gt, k, size, view, true_camera: bool = True) -> dict:
    """Lift the frames written in ``fmt`` with ``poseda lift``'s code; MPJPE / PA-MPJPE (mm) on
    the checkpoint's joints and the absolute root's errors."""
    _, _, layout = load_lifter(checkpoint)
    keep = H36M17.indices(layout.joints)
    pred, root, truth, truth_root = [], [], [], []
    for rows, joints3d, roots in lifted_per_camera(checkpoint, fmt, kp, k, size, view, true_camera):
        pred.append(joints3d)
        root.append(roots)
        truth.append(gt[rows][:, keep])
        truth_root.append(gt[rows][:, 0])
    pred, root, truth, truth_root = map(np.concatenate, (pred, root, truth, truth_root))
    rel = truth - truth[:, :1]
    # the 12 limb joints every keypoint format shares, both centred on their hips' midpoint: the
    # error without the pelvis / spine / thorax / head, whose definitions differ between datasets
    limbs = [layout.index(n) for n in LIMBS]
    hips = [layout.index("LHip"), layout.index("RHip")]
    pl, tl = pred[:, limbs] - pred[:, hips].mean(1, keepdims=True), rel[:, limbs] - rel[:, hips].mean(1, keepdims=True)
    return {"mpjpe": 1000 * mpjpe(pred, rel), "pa_mpjpe": 1000 * pa_mpjpe(pred, rel), "limbs_mpjpe": 1000 * mpjpe(pl, tl),
            "root_m": float(np.median(np.linalg.norm(root - truth_root, axis=-1))),
            "depth": float(np.median(np.abs(root[:, 2] - truth_root[:, 2]) / truth_root[:, 2]))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--domain", default="h36m")
    ap.add_argument("--frames", type=int, default=20000, help="evenly spaced evaluation frames (all if fewer)")
    ap.add_argument("--contiguous", action="store_true", help="the first frames of every view instead, consecutive "
                                                               "(for a temporal lifter)")
    args = ap.parse_args()
    _, rec, layout = load_lifter(args.checkpoint)
    kp, gt, k, size, view = evaluation_frames(args.domain, args.frames, args.contiguous)
    cams = np.unique(np.concatenate([k, size], 1), axis=0)
    print(f"{args.domain} evaluation split, {len(kp)} frames, {len(cams)} cameras; checkpoint {args.checkpoint} "
          f"({rec['model']['name']}, {layout.name}, {rec['model']['receptive_field']}-frame input"
          f"{', consecutive frames of each view' if args.contiguous else ''}); ground-truth 2D converted to each format; "
          "flip test on")
    print("| keypoints | camera | MPJPE mm | PA-MPJPE mm | root error m (median) | depth error (median) |")
    print("|---|---|---|---|---|---|")
    for fmt in (H36M17_FORMAT, COCO17, BODY25, MEDIAPIPE33):
        for true_camera in (True, False):
            r = lift_and_score(args.checkpoint, fmt, kp, gt, k, size, view, true_camera)
            print(f"| {fmt.name} | {'true' if true_camera else 'default'} | {r['mpjpe']:.1f} | {r['pa_mpjpe']:.1f} | "
                  f"{r['root_m']:.3f} | {100 * r['depth']:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
