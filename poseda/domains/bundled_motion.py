"""A source motion set that travels with the package: 3D poses anyone may use, commercially too.

``poseda/domains/motion/cmu-train.npz`` holds the training split of the CMU Graphics Lab motion
capture in the data mirror (the ``cmu-expmap`` copy: 7 of its 8 actions, washwindow has no
training file), as Human3.6M-style canonical joints (:data:`poseda.skeleton.layouts.CANONICAL`) in a z-up world, metres, standing on the floor,
at 30 frames/s, stored as float16 (under a millimetre of rounding for a body within 20 m). CMU's
terms: free for research and commercial use; the data itself may not be resold (``NOTICE.md``
beside the file). Made by ``python scripts/make_source_motion.py --data-root ../shared/data``.

:func:`motion_source` turns it into a source domain (2D-3D pairs) by seeing every sequence with
cameras drawn from a rig (by default ``handheld``: phone-like footage), as the built-in domains
are made; no data folder is needed.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from poseda.domains.builders import CMU_LICENCE, Motion, build_from_motions, mid_hip_pelvis
from poseda.domains.rig import load_rig
from poseda.errors import PosedaInputError
from poseda.skeleton.layouts import CANONICAL, CMU_FROM_38

FOLDER = Path(__file__).resolve().parent / "motion"
#: bundled motion name -> file in :data:`FOLDER`
BUNDLED_MOTION = {"cmu": "cmu-train.npz"}
FPS = 30.0


def motion_file(name: str) -> Path:
    if name not in BUNDLED_MOTION:
        raise PosedaInputError("--source-motion", f"unknown bundled motion {name!r} (known: {', '.join(BUNDLED_MOTION)})")
    return FOLDER / BUNDLED_MOTION[name]


def pack_motions(motions: list[Motion]) -> dict[str, np.ndarray]:
    """Motions -> the arrays of a bundled motion file (joints float16, sequence starts and names)."""
    lengths = [len(m.joints) for m in motions]
    return {"joints": np.concatenate([m.joints for m in motions]).astype(np.float16),
            "starts": np.cumsum([0] + lengths[:-1]).astype(np.int64),
            "names": np.array([m.name for m in motions]), "actions": np.array([m.action for m in motions]),
            "joint_names": np.array(CANONICAL.joints), "fps": np.array(FPS)}


def load_motion(name: str = "cmu") -> list[Motion]:
    """The bundled motion as :class:`~poseda.domains.builders.Motion` sequences (float64)."""
    path = motion_file(name)
    with np.load(path, allow_pickle=False) as z:
        joints = z["joints"].astype(np.float64)
        starts, names, actions = z["starts"], [str(n) for n in z["names"]], [str(a) for a in z["actions"]]
        if tuple(str(n) for n in z["joint_names"]) != CANONICAL.joints:
            raise PosedaInputError(path, "joints are not poseda's canonical 17: rebuild it with scripts/make_source_motion.py")
    ends = list(starts[1:]) + [len(joints)]
    return [Motion(n, n.split("/")[-1], a, "train", joints[s:e], np.arange(e - s)) for n, a, s, e in zip(names, actions, starts, ends)]


def retarget(joints: np.ndarray, lengths: dict[str, float]) -> np.ndarray:
    """[N, 17, 3] canonical poses with each bone (named by its child joint) set to ``lengths``
    (metres) and its direction kept, rebuilt from the pelvis outwards; bones not named keep their
    length times the median ratio of those named. Feet stay on the floor: every pose is moved so
    that its lowest point keeps its height."""
    parents = CANONICAL.parents
    child = [j for j, p in enumerate(parents) if p >= 0]
    own = {j: np.linalg.norm(joints[:, j] - joints[:, parents[j]], axis=-1) for j in child}
    named = [j for j in child if CANONICAL.joints[j] in lengths]
    ratio = float(np.median([lengths[CANONICAL.joints[j]] / max(float(np.median(own[j])), 1e-6) for j in named])) if named else 1.0
    out = joints.copy()
    for j in child:  # parents come before their children in the canonical order
        p = parents[j]
        d = joints[:, j] - joints[:, p]
        unit = d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
        length = lengths.get(CANONICAL.joints[j], None)
        out[:, j] = out[:, p] + unit * (length if length is not None else own[j][:, None] * ratio)
    out[..., 2] += (joints[..., 2].min(-1) - out[..., 2].min(-1))[:, None]
    return out


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def motion_source(name: str = "cmu", rig: str = "handheld", seed: int = 2023, domain: str | None = None,
                  lengths: dict[str, float] | None = None, mid_hips: bool = False) -> tuple[dict, dict]:
    """A source domain (meta, arrays) from a bundled motion seen by cameras drawn from ``rig``;
    with ``lengths`` (bone name -> metres) every body is first given those bones (:func:`retarget`);
    with ``mid_hips`` its pelvis is the midpoint of the hips (:func:`mid_hip_pelvis`)."""
    rig_ = load_rig(rig)
    path = motion_file(name)
    domain = domain or f"{name}-motion"
    motions = load_motion(name)
    if lengths:
        motions = [replace(m, joints=retarget(m.joints, lengths)) for m in motions]
    if mid_hips:
        motions = [replace(m, joints=mid_hip_pelvis(m.joints)) for m in motions]
    # the label names the file where it first shipped (poseda/data/motion/): a domain's metadata,
    # hence what records it, stays the same; the sha256 identifies the file
    meta, arrays = build_from_motions(domain, "source", FPS, CMU_FROM_38, motions, rig_, seed,
                                      {"motion": f"bundled: poseda/data/motion/{path.name} (sha256 {file_digest(path)})"},
                                      {"train": "training"}, "train", None, None,
                                      cameras=f"rig {rig_.name}", licence=CMU_LICENCE,
                                      bone_lengths_m=lengths)
    return meta, arrays


__all__ = ["BUNDLED_MOTION", "load_motion", "pack_motions", "motion_source", "motion_file", "retarget", "mid_hip_pelvis"]
