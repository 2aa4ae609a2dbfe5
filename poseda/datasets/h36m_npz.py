"""Human3.6M in the VideoPose3D npz layout (files the user prepares; we do not ship them).

``data_3d_h36m.npz``
    ``positions_3d``: a 0-d object array holding a dict
    ``{subject ('S1', 'S5', ...): {action name ('Directions 1', ...): float [T, 32, 3]}}``.
    The 32 joints are the raw Human3.6M motion-capture joints, in metres, in the world frame
    (a file with 17 joints, as ``poseda data export`` writes, is taken as already in the canonical
    order). :func:`read_h36m_3d` keeps the usual 17 of them (indices 0,1,2,3,6,7,8,12,13,14,15,17,18,19,
    25,26,27, already in the canonical order; see ``poseda.skeleton.layouts.H36M_FROM_32``).

``data_2d_h36m_<name>.npz`` (``_gt``, ``_cpn_ft_h36m_dbb``, ``_detectron_ft_h36m``, ...)
    ``positions_2d``: object dict ``{subject: {action: [4 arrays float [T, 17, 2]]}}`` in
    pixels, one array per camera in the order of :data:`CAMERAS`; the 17 joints are already in
    the canonical Human3.6M-17 order.
    ``metadata``: object dict ``{'layout_name': 'h36m', 'num_joints': 17,
    'keypoints_symmetry': [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}`` (a detector's file;
    VideoPose3D's ``prepare_data_h36m.py`` writes its ground-truth file without ``layout_name``).

Some detector files hold a few frames more 2D than 3D for some sequences; VideoPose3D cuts the
2D to the 3D length. :func:`trim_2d_to_3d` does the same and reports what it cut.

Both object arrays are read through :mod:`poseda.safe_pickle` (no arbitrary
unpickling). Every problem is raised as :class:`~poseda.errors.PosedaInputError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseda.datasets.checks import numeric_array
from poseda.errors import PosedaInputError, malformed_input
from poseda.safe_pickle import load_object_npz
from poseda.skeleton.layouts import H36M_FROM_32

CAMERAS = ("54138969", "55011271", "58860488", "60457274")
# (width, height) in pixels of each camera's video.
IMAGE_SIZES = {"54138969": (1000, 1002), "55011271": (1000, 1000), "58860488": (1000, 1000), "60457274": (1000, 1002)}
RAW_JOINTS = 32
NUM_JOINTS = 17
INDICES_17_OF_32 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
KEYPOINTS_SYMMETRY = ([4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16])
MAPPING = H36M_FROM_32
assert MAPPING.source == INDICES_17_OF_32


def _dict(where, key: str, obj) -> dict:
    if not isinstance(obj, dict):
        raise PosedaInputError(where, f"{key}: expected a dictionary, found {type(obj).__name__}")
    if not obj:
        raise PosedaInputError(where, f"{key}: empty")
    return obj


@malformed_input("VideoPose3D Human3.6M 3D file", 0)
def read_h36m_3d(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """``data_3d_h36m.npz`` -> ``{subject: {action: float64 [T, 17, 3]}}`` (metres, world frame,
    canonical 17 joints; the file holds 32 raw joints or the canonical 17)."""
    d = _dict(path, "positions_3d", load_object_npz(path, "positions_3d"))
    out: dict[str, dict[str, np.ndarray]] = {}
    for subj, acts in d.items():
        acts = _dict(path, f"positions_3d[{subj!r}]", acts)
        out[str(subj)] = {}
        for act, arr in acts.items():
            a = np.asarray(arr) if isinstance(arr, np.ndarray) else arr
            joints = a.shape[1] if isinstance(a, np.ndarray) and a.ndim == 3 and a.shape[1] == NUM_JOINTS else RAW_JOINTS
            a = numeric_array(path, f"{subj}/{act}", arr, (None, joints, 3))
            out[str(subj)][str(act)] = (MAPPING.apply(a) if joints == RAW_JOINTS else a).astype(np.float64)
    return out


@malformed_input("VideoPose3D Human3.6M 2D file", 0)
def read_h36m_2d(path: Path) -> tuple[dict[str, dict[str, list[np.ndarray]]], dict]:
    """``data_2d_h36m_<name>.npz`` -> ``(positions_2d, metadata)``.

    ``positions_2d[subject][action]`` is a list of 4 float64 arrays [T, 17, 2] (pixels), one
    per camera in :data:`CAMERAS` order. ``metadata`` is the file's dictionary, checked to
    describe the 17-joint ``h36m`` layout.
    """
    meta = _dict(path, "metadata", load_object_npz(path, "metadata"))
    for k in ("num_joints", "keypoints_symmetry"):
        if k not in meta:
            raise PosedaInputError(path, f"metadata: missing {k!r}")
    if meta.get("layout_name", "h36m") != "h36m":  # VideoPose3D's own ground-truth file has no layout_name
        raise PosedaInputError(path, f"metadata: layout_name {meta['layout_name']!r}, expected 'h36m'")
    if int(meta["num_joints"]) != NUM_JOINTS:
        raise PosedaInputError(path, f"metadata: num_joints {meta['num_joints']}, expected {NUM_JOINTS}")
    try:
        sym = [[int(i) for i in side] for side in meta["keypoints_symmetry"]]
    except (TypeError, ValueError):
        raise PosedaInputError(path, "metadata: keypoints_symmetry must be two lists of joint indices") from None
    if len(sym) != 2 or sorted(sym[0]) != sorted(KEYPOINTS_SYMMETRY[0]) or sorted(sym[1]) != sorted(KEYPOINTS_SYMMETRY[1]):
        raise PosedaInputError(path, f"metadata: keypoints_symmetry {sym} is not Human3.6M-17's {list(map(list, KEYPOINTS_SYMMETRY))}")
    meta = dict(meta, keypoints_symmetry=sym, num_joints=int(meta["num_joints"]))

    d = _dict(path, "positions_2d", load_object_npz(path, "positions_2d"))
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    for subj, acts in d.items():
        acts = _dict(path, f"positions_2d[{subj!r}]", acts)
        out[str(subj)] = {}
        for act, views in acts.items():
            if isinstance(views, np.ndarray) and (views.dtype == object and views.ndim == 1 or views.ndim == 4):
                views = list(views)
            if not isinstance(views, (list, tuple)) or len(views) != len(CAMERAS):
                raise PosedaInputError(path, f"{subj}/{act}: expected a list of {len(CAMERAS)} camera arrays")
            out[str(subj)][str(act)] = [numeric_array(path, f"{subj}/{act}[camera {CAMERAS[c]}]", v, (None, NUM_JOINTS, 2))
                                        for c, v in enumerate(views)]
    return out, meta


@dataclass(frozen=True)
class Trimmed:
    """One cut made by :func:`trim_2d_to_3d`."""

    subject: str
    action: str
    camera: str
    frames_2d: int
    frames_3d: int


def trim_2d_to_3d(positions_3d: dict[str, dict[str, np.ndarray]],
                  positions_2d: dict[str, dict[str, list[np.ndarray]]],
                  where: str | Path = "2D detections") -> tuple[dict[str, dict[str, list[np.ndarray]]], list[Trimmed]]:
    """Cut each camera's 2D to its 3D sequence's length, as VideoPose3D does.

    Returns the trimmed 2D (only the subjects and actions that have 3D) and the list of cuts.
    2D shorter than 3D, or a 3D sequence with no 2D, is a PosedaInputError.
    """
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    cuts: list[Trimmed] = []
    for subj, acts in positions_3d.items():
        if subj not in positions_2d:
            raise PosedaInputError(where, f"no 2D for subject {subj}")
        out[subj] = {}
        for act, a3 in acts.items():
            if act not in positions_2d[subj]:
                raise PosedaInputError(where, f"no 2D for {subj}/{act}")
            n = len(a3)
            views = []
            for c, v in enumerate(positions_2d[subj][act]):
                cam = CAMERAS[c] if c < len(CAMERAS) else str(c)
                if len(v) < n:
                    raise PosedaInputError(where, f"{subj}/{act} camera {cam}: {len(v)} 2D frames, fewer than the {n} 3D frames")
                if len(v) > n:
                    cuts.append(Trimmed(subj, act, cam, len(v), n))
                views.append(v[:n])
            out[subj][act] = views
    return out, cuts
