"""Small keypoint files in the documented upstream layouts, checkpoints of untrained lifters, and
a drawn mannequin for the detector (all made here; no data is read or downloaded)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from poseda.inference import save_lifter
from poseda.keypoints.formats import BODY25, COCO17, MEDIAPIPE33, keypoints_from_h36m
from poseda.models import build_lifter
from poseda.skeleton.layouts import H36M17, JOINT_SETS

# A person standing, facing the camera, in Human3.6M-17 order, pixels of a 480 x 640 image
# (the person's right side on the image's left).
STANDING = np.array([[240, 330], [210, 332], [205, 430], [202, 525], [270, 332], [275, 430], [278, 525],
                     [240, 270], [240, 205], [240, 185], [240, 160], [280, 210], [300, 270], [310, 330],
                     [200, 210], [180, 270], [170, 330]], float)
SIZE = (480, 640)
H = {n: i for i, n in enumerate(H36M17.joints)}


def coco_from_h36m(p: np.ndarray) -> np.ndarray:
    return keypoints_from_h36m(COCO17, p)


def body25_from_h36m(p: np.ndarray) -> np.ndarray:
    return keypoints_from_h36m(BODY25, p)


def mediapipe_from_h36m(p: np.ndarray) -> np.ndarray:
    return keypoints_from_h36m(MEDIAPIPE33, p)


def walking(frames: int, start=(0.0, 0.0), step=(3.0, 0.0)) -> np.ndarray:
    """[T, 17, 2] the standing pose sliding across the image, legs swinging."""
    t = np.arange(frames)[:, None]
    p = np.repeat(STANDING[None], frames, 0) + np.asarray(start) + t[..., None] * np.asarray(step)
    swing = 10 * np.sin(t[:, 0] / 3)
    for j in ("RKnee", "RAnkle"):
        p[:, H[j], 0] += swing
    for j in ("LKnee", "LAnkle"):
        p[:, H[j], 0] -= swing
    return p


def write_coco(path: Path, poses: np.ndarray, frames=None, ids=None, scores=None) -> Path:
    """COCO result list: one detection per pose; ``poses`` [N, 17, 2] H36M pixels."""
    dets = []
    for i, p in enumerate(poses):
        kp = np.concatenate([coco_from_h36m(p), np.ones((17, 1)) if scores is None else scores[i][:, None]], 1)
        d = {"image_id": int(frames[i]) if frames is not None else i, "category_id": 1, "keypoints": kp.reshape(-1).tolist(),
             "score": 0.9}
        if ids is not None:
            d["track_id"] = int(ids[i])
        dets.append(d)
    path.write_text(json.dumps(dets))
    return path


def untrained_checkpoint(path: Path, name: str = "simple_baseline", joints: str = "h36m17", seed: int = 0, **options) -> Path:
    import torch

    torch.manual_seed(seed)
    return save_lifter(path, build_lifter(name, JOINT_SETS[joints], **options), name, options)


def render_mannequin(p: np.ndarray, size=SIZE, dpi: int = 100) -> np.ndarray:
    """An RGB uint8 image of a flat-coloured mannequin on the H36M pose ``p`` (pixels)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w, h = size
    width_px = {1: 34, 2: 30, 3: 24, 4: 34, 5: 30, 6: 24, 7: 70, 8: 70, 9: 18, 11: 20, 12: 17, 13: 14, 14: 20, 15: 17, 16: 14}
    fig = plt.figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    fig.patch.set_facecolor((0.6, 0.7, 0.8))
    for j, parent in enumerate(H36M17.parents):
        if parent >= 0 and j in width_px:
            colour = (0.2, 0.25, 0.45) if j <= 6 else (0.75, 0.3, 0.3) if j in (7, 8, 11, 14) else (0.9, 0.75, 0.65)
            ax.plot(p[[parent, j], 0], p[[parent, j], 1], color=colour, lw=width_px[j] * 72 / dpi, solid_capstyle="round")
    ax.add_patch(plt.Circle(p[H["Head"]] + [0, 5], 24, color=(0.9, 0.75, 0.65)))
    for s in (-1, 1):
        ax.add_patch(plt.Circle(p[H["Head"]] + [8 * s, 0], 3, color="k"))
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return img
