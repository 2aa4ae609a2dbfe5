"""A new keypoint format and file reader in one file: DeepLabCut's CSV output, for people labelled
with the 14 joints of the Leeds Sports Pose set (LSP-14).

DeepLabCut (``deeplabcut.analyze_videos(..., save_as_csv=True)``) writes one CSV per video: three
header rows, ``scorer`` (the network), ``bodyparts`` (each name three times) and ``coords`` (``x``,
``y``, ``likelihood``), then one row per frame, the frame number first; a multi-animal project has
a fourth header row, ``individuals``, before ``bodyparts``. An undetected point is an empty cell.

The bodyparts are those a project names in its ``config.yaml``. This reader maps them to the joints
of ``--joints`` by name: ``lsp14`` (registered here: right_ankle, right_knee, right_hip, left_hip,
left_knee, left_ankle, right_wrist, right_elbow, right_shoulder, left_shoulder, left_elbow,
left_wrist, neck, head_top) by default, or any other registered format, e.g. ``coco17`` for a
project labelled with COCO's names. Other bodyparts are ignored. Each individual is one person.

    poseda --plugin examples/deeplabcut_keypoints.py lift videoDLC_resnet50.csv --format deeplabcut --image-size 1920x1080 -o pose3d.npz
    poseda --plugin examples/deeplabcut_keypoints.py data footage myclip videoDLC_resnet50.csv --format deeplabcut --image-size 1920x1080

How LSP-14 makes the 17 Human3.6M joints the lifters read: the limbs directly; Pelvis is the mean
of the hips, Thorax of the shoulders, Spine of both; Head is the head top; Human3.6M's Neck/Nose
joint, near the nose, is taken a third of the way from LSP's neck (the top of the neck) to the head
top.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from poseda.errors import PosedaInputError
from poseda.keypoints.formats import KeypointFormat, keypoint_format, register_keypoint_format
from poseda.keypoints.readers import Detections, register_keypoint_reader

LSP14_JOINTS = ("right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "right_wrist", "right_elbow",
                "right_shoulder", "left_shoulder", "left_elbow", "left_wrist", "neck", "head_top")
_LIMBS = {f"{s}{part.capitalize()}": (f"{side}_{part}",) for s, side in (("R", "right"), ("L", "left"))
          for part in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")}
LSP14 = register_keypoint_format(KeypointFormat(
    "lsp14", "Leeds Sports Pose 14 joints (LSP; DeepLabCut projects labelled with them)", LSP14_JOINTS,
    dict(Pelvis=("left_hip", "right_hip"), Spine=("left_hip", "right_hip", "left_shoulder", "right_shoulder"),
         Thorax=("left_shoulder", "right_shoulder"), Neck=("neck", "neck", "head_top"), Head=("head_top",), **_LIMBS)))


@register_keypoint_reader("deeplabcut")
def read_deeplabcut_csv(path: Path, joints: str | None) -> Detections:
    """DeepLabCut's CSV (single- or multi-animal), its bodyparts named as the joints of --joints (default lsp14)"""
    fmt = keypoint_format(joints or "lsp14")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = {r[0]: r for r in rows[:4] if r and r[0] in ("scorer", "individuals", "bodyparts", "coords")}
    if "bodyparts" not in header or "coords" not in header:
        raise PosedaInputError(path, "not a DeepLabCut CSV (its header rows 'scorer', 'bodyparts', 'coords')")
    parts, coords = header["bodyparts"], header["coords"]
    people = header.get("individuals", ["", *["single"] * (len(parts) - 1)])
    names = list(dict.fromkeys(people[1:]))
    column = {(people[c], parts[c], coords[c]): c for c in range(1, len(parts))}
    missing = [j for j in fmt.joints if (names[0], j, "x") not in column]
    if missing:
        raise PosedaInputError(path, f"has no bodypart {', '.join(missing)} of {fmt.name} (its bodyparts: "
                                     f"{', '.join(dict.fromkeys(parts[1:]))}); use --joints for another format")
    data = [r for r in rows[len(header):] if r]
    if not data:
        raise PosedaInputError(path, "has no frames (no row after the header)")
    values = np.array([[float(v) if v.strip() else np.nan for v in r[1:]] for r in data]).reshape(len(data), -1)
    frame, person, kp, score = [], [], [], []
    for p, who in enumerate(names):
        cols = np.array([[column[(who, j, c)] - 1 for c in ("x", "y", "likelihood")] for j in fmt.joints])  # [J, 3]
        xys = values[:, cols]  # [T, J, 3]
        seen = np.isfinite(xys[..., :2]).all(-1).any(-1)
        frame += [int(r[0]) for r, s in zip(data, seen) if s]
        person += [p] * int(seen.sum())
        kp.append(xys[seen, :, :2])
        score.append(xys[seen, :, 2])
    return Detections(np.asarray(frame, np.int64), np.asarray(person, np.int64), np.concatenate(kp), np.concatenate(score),
                      fmt, None, str(path), "deeplabcut")
