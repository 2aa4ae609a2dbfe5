"""3DPW sequence files (licensed data the user supplies; we do not ship it).

``sequenceFiles/{train,validation,test}/<sequence>.pkl`` are Python-2 pickles of a dict; they
are read with ``latin1`` encoding through the restricted unpickler of
:mod:`poseda.safe_pickle` (only arrays and plain containers are built). Keys used:

``sequence`` (str), ``genders`` (list per actor), ``betas``, ``poses`` (list per actor
[T, 72]), ``trans`` (list per actor [T, 3]), ``jointPositions`` (list per actor [T, 72]: the 24
SMPL joints x 3, world frame, metres), ``poses2d`` (list per actor [T, 3, 18]: OpenPose
COCO-18 x, y, confidence), ``cam_poses`` [T, 4, 4] (world-to-camera extrinsics, so
``X_cam = R X + t``), ``cam_intrinsics`` [3, 3], ``campose_valid`` (list per actor [T]) and
``img_frame_ids`` [T]. Other keys are ignored.

:func:`read_3dpw` returns, per actor, the joints in the camera frame mapped from SMPL's 24
into the canonical 17 (:data:`PW3D_FROM_SMPL24`), their projection with the intrinsics
(pixels), the per-frame valid mask and the raw OpenPose 2D. SMPL joints are joint centres
regressed from the body mesh; they do not sit where Human3.6M's motion-capture joints sit (the
hips in particular are wider and lower), a part of the gap between the datasets.
Images are 1080 wide and 1920 high (portrait): :data:`IMAGE_SIZE`.

Every problem is raised as :class:`~poseda.errors.PosedaInputError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from poseda.datasets.checks import numeric_array
from poseda.errors import PosedaInputError, malformed_input
from poseda.geometry.camera import project, world_to_camera
from poseda.safe_pickle import safe_loads
from poseda.skeleton.layouts import dataset_mapping

IMAGE_SIZE = (1080, 1920)  # (width, height), portrait
SMPL24_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hand", "right_hand",
)
PW3D_FROM_SMPL24 = dataset_mapping(
    "3dpw-smpl24", SMPL24_NAMES,
    dict(Pelvis="pelvis", RHip="right_hip", RKnee="right_knee", RAnkle="right_ankle", LHip="left_hip",
         LKnee="left_knee", LAnkle="left_ankle", Spine="spine2", Thorax="neck", Head="head",
         LShoulder="left_shoulder", LElbow="left_elbow", LWrist="left_wrist",
         RShoulder="right_shoulder", RElbow="right_elbow", RWrist="right_wrist"),
    "SMPL's 24 regressed joint centres: Spine is spine2, Thorax is SMPL neck, Head is SMPL head "
    "(centre of the head, not its top); no Neck/Nose. SMPL hips sit wider and lower than "
    "Human3.6M's.",
)


@dataclass
class PW3DActor:
    """One actor of a 3DPW sequence. ``joints3d`` [T, 17, 3] metres in the camera frame (canonical,
    Neck NaN); ``joints2d`` [T, 17, 2] pixels (NaN behind the camera); ``valid`` [T] bool
    (``campose_valid``); ``smpl_joints3d`` [T, 24, 3] camera frame; ``openpose2d`` [T, 3, 18] raw."""

    joints3d: np.ndarray
    joints2d: np.ndarray
    valid: np.ndarray
    smpl_joints3d: np.ndarray
    openpose2d: np.ndarray | None
    gender: str | None = None


@dataclass
class PW3DSequence:
    sequence: str
    actors: list[PW3DActor]
    intrinsics: np.ndarray  # fx, fy, cx, cy
    cam_poses: np.ndarray  # [T, 4, 4] world to camera
    frame_ids: np.ndarray  # [T]
    image_size: tuple[int, int] = IMAGE_SIZE


def _per_actor(where, d: dict, key: str, n_actors: int | None) -> list:
    v = d[key]
    if isinstance(v, np.ndarray) and v.dtype != object:
        v = list(v)
    if not isinstance(v, (list, tuple, np.ndarray)):
        raise PosedaInputError(where, f"{key}: expected one entry per actor, found {type(v).__name__}")
    if n_actors is not None and len(v) != n_actors:
        raise PosedaInputError(where, f"{key}: {len(v)} actors, but jointPositions has {n_actors}")
    return list(v)


@malformed_input("3DPW sequence file", 0)
def read_3dpw(path: Path) -> PW3DSequence:
    """One 3DPW ``<sequence>.pkl`` -> :class:`PW3DSequence` (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise PosedaInputError(path, "file not found")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise PosedaInputError(path, f"cannot read ({e})") from None
    d = safe_loads(raw, str(path), encoding="latin1")
    if not isinstance(d, dict):
        raise PosedaInputError(path, f"expected a dictionary, found {type(d).__name__}")
    for k in ("sequence", "jointPositions", "cam_poses", "cam_intrinsics", "campose_valid", "img_frame_ids"):
        if k not in d:
            raise PosedaInputError(path, f"missing key {k!r}")

    cam_poses = numeric_array(path, "cam_poses", d["cam_poses"], (None, 4, 4))
    n = len(cam_poses)
    k = numeric_array(path, "cam_intrinsics", d["cam_intrinsics"], (3, 3), finite=False, nonempty=False)
    if not np.isfinite(k).all() or k[0, 0] <= 0 or k[1, 1] <= 0:
        raise PosedaInputError(path, "cam_intrinsics: focal lengths must be finite and positive")
    intr = np.array([k[0, 0], k[1, 1], k[0, 2], k[1, 2]])
    frame_ids = numeric_array(path, "img_frame_ids", d["img_frame_ids"], (n,), finite=False, nonempty=False).astype(np.int64)

    joints = _per_actor(path, d, "jointPositions", None)
    if not joints:
        raise PosedaInputError(path, "jointPositions: no actors")
    valids = _per_actor(path, d, "campose_valid", len(joints))
    poses2d = _per_actor(path, d, "poses2d", len(joints)) if "poses2d" in d else [None] * len(joints)
    genders = _per_actor(path, d, "genders", len(joints)) if "genders" in d else [None] * len(joints)

    actors = []
    for a in range(len(joints)):
        jp = numeric_array(path, f"jointPositions[{a}]", joints[a], (n, 72))
        v = numeric_array(path, f"campose_valid[{a}]", valids[a], (n,))
        op = None
        if poses2d[a] is not None:
            op = numeric_array(path, f"poses2d[{a}]", poses2d[a], (n, 3, 18), finite=False, nonempty=False)
        smpl_cam = extrinsics_to_camera(jp.reshape(n, 24, 3), cam_poses)
        j3 = PW3D_FROM_SMPL24.apply(smpl_cam)
        j2 = project_or_nan(j3, intr)
        g = genders[a]
        actors.append(PW3DActor(j3, j2, v != 0, smpl_cam, op, None if g is None else str(g)))
    seq = d["sequence"]
    return PW3DSequence(str(seq) if seq is not None else path.stem, actors, intr, cam_poses, frame_ids)


def extrinsics_to_camera(points: np.ndarray, cam_poses: np.ndarray) -> np.ndarray:
    """[T, J, 3] world points with 3DPW's world-to-camera [T, 4, 4] matrices (X_cam = R X + t).

    In poseda's convention the camera-to-world rotation is R^T and the centre is -R^T t."""
    r, t = cam_poses[:, :3, :3], cam_poses[:, :3, 3]
    r_c2w = np.swapaxes(r, 1, 2)
    centre = -(r_c2w @ t[:, :, None])[..., 0]
    return world_to_camera(torch.from_numpy(points), torch.from_numpy(r_c2w), torch.from_numpy(centre)).numpy()


def project_or_nan(points_cam: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """Pinhole projection (fx, fy, cx, cy); joints at or behind the camera plane give NaN."""
    uv = project(torch.from_numpy(points_cam), torch.from_numpy(np.asarray(intrinsics, np.float64))).numpy()
    uv[points_cam[..., 2] <= 0] = np.nan
    return uv
