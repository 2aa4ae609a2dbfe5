"""MPI-INF-3DHP readers (licensed data the user supplies; we do not ship it).

Three layouts are read, all mapped into the canonical Human3.6M-17 layout (missing joints NaN,
3D in metres, 2D in pixels):

(a) PoseAug-style test npz (``test_3dhp.npz``): plain arrays ``pose3d`` [N, 17, 3] (the
    ``univ_annot3`` test poses, millimetres) and ``pose2d`` [N, 17, 2] (pixels), both in
    MPI-INF-3DHP's 17-joint test order (:data:`MPI_INF_3DHP_17_NAMES`); optional
    ``camera_param`` and ``valid`` [N]. Read by :func:`read_3dhp_test_npz`.

(b) SPIN-style validation npz (``mpi_inf_3dhp_valid.npz``): ``imgname`` [N] str, ``center``
    [N, 2], ``scale`` [N], ``part`` [N, 24, 3] (x, y in pixels, visibility) and ``S`` [N, 24, 4]
    (x, y, z in metres, confidence), in SPIN's 24-joint order (:data:`SPIN24_NAMES`). Joints
    with visibility / confidence 0 become NaN. Read by :func:`read_3dhp_spin_npz`.

(c) The test set's per-sequence ``TS<k>/annot_data.mat``: ``annot2`` [N, 1, 17, 2], ``annot3``
    [N, 1, 17, 3], ``univ_annot3`` [N, 1, 17, 3] (millimetres), ``valid_frame`` [N, 1] (or
    [1, N]) and ``activity_annotation``. TS1-TS4 are MATLAB v7.3 files (HDF5: read with h5py;
    MATLAB is column-major, so every array appears with its axes reversed, e.g. ``annot3`` as
    [3, 17, 1, N]); TS5-TS6 are MAT v5 files (scipy.io.loadmat). The format is detected with
    ``h5py.is_hdf5``. Read by :func:`read_3dhp_annot_mat`.

Joint correspondence (see :data:`MPI3DHP_FROM_17`, :data:`SPIN_FROM_24`): 3DHP has no joint for
Human3.6M's Neck/Nose, and its ``neck`` plays the role of the canonical Thorax (as in PoseAug);
its ``head_top`` is the canonical Head; its ``head`` joint (centre of the head) is not used.

Every problem is raised as :class:`~poseda.errors.PosedaInputError`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from poseda.datasets.checks import numeric_array
from poseda.datasets.safe_pickle import load_object_npz, npz_keys
from poseda.errors import PosedaInputError, malformed_input
from poseda.skeleton.layouts import dataset_mapping

MPI_INF_3DHP_17_NAMES = (
    "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
    "left_ankle", "pelvis", "spine", "head",
)
MPI3DHP_FROM_17 = dataset_mapping(
    "mpi-inf-3dhp-17", MPI_INF_3DHP_17_NAMES,
    dict(Pelvis="pelvis", RHip="right_hip", RKnee="right_knee", RAnkle="right_ankle", LHip="left_hip",
         LKnee="left_knee", LAnkle="left_ankle", Spine="spine", Thorax="neck", Head="head_top",
         LShoulder="left_shoulder", LElbow="left_elbow", LWrist="left_wrist",
         RShoulder="right_shoulder", RElbow="right_elbow", RWrist="right_wrist"),
    "MPI-INF-3DHP's 17 test joints. No Neck/Nose (left missing). 3DHP 'neck' is used as the canonical "
    "Thorax, as PoseAug does; Head is 'head_top'; the 3DHP 'head' joint (head centre) is unused.",
)

SPIN24_NAMES = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "right_wrist",
    "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist", "neck_lsp",
    "head_top_lsp", "pelvis_mpii", "thorax_mpii", "spine_h36m", "jaw_h36m", "head_h36m", "nose",
    "left_eye", "right_eye", "left_ear", "right_ear",
)
SPIN_FROM_24 = dataset_mapping(
    "spin-24", SPIN24_NAMES,
    dict(Pelvis="pelvis_mpii", RHip="right_hip", RKnee="right_knee", RAnkle="right_ankle",
         LHip="left_hip", LKnee="left_knee", LAnkle="left_ankle", Spine="spine_h36m",
         Thorax="thorax_mpii", Neck="nose", Head="head_top_lsp", LShoulder="left_shoulder",
         LElbow="left_elbow", LWrist="left_wrist", RShoulder="right_shoulder",
         RElbow="right_elbow", RWrist="right_wrist"),
    "SPIN's 24 joints. Canonical Neck (Human3.6M's Neck/Nose) <- SPIN nose: a fair match, but "
    "MPI-INF-3DHP does not annotate the nose, so in 3DHP files it has confidence 0 and reads as NaN. "
    "Pelvis and Thorax are the MPII joints, Spine the H36M one, Head the LSP head top.",
)

UNITS = {"mm": 1e-3, "m": 1.0}


@dataclass
class MPI3DHPSamples:
    """Frames of MPI-INF-3DHP in the canonical layout.

    ``joints3d`` [N, 17, 3] metres and ``joints2d`` [N, 17, 2] pixels (NaN for missing joints),
    ``valid`` [N] bool (frames to evaluate on). The optional fields depend on the layout read.
    """

    joints3d: np.ndarray
    joints2d: np.ndarray
    valid: np.ndarray
    sequence: str | None = None
    image_names: list[str] | None = None
    center: np.ndarray | None = None
    scale: np.ndarray | None = None
    camera_param: object = None
    activity: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- helpers


def _finite(where, key: str, arr: np.ndarray, rows: np.ndarray | None = None) -> None:
    sel = arr if rows is None else arr[rows]
    if not np.isfinite(sel).all():
        raise PosedaInputError(where, f"{key}: contains NaN or infinite values" + ("" if rows is None else " in valid frames"))


def _valid_mask(where, key: str, arr, n: int) -> np.ndarray:
    a = np.asarray(arr)
    if a.dtype == object or a.size != n:
        raise PosedaInputError(where, f"{key}: shape {a.shape}, expected {n} per-frame flags")
    try:
        a = a.reshape(n).astype(np.float64)
    except (TypeError, ValueError):
        raise PosedaInputError(where, f"{key}: not numeric flags") from None
    if not np.isfinite(a).all():
        raise PosedaInputError(where, f"{key}: contains NaN")
    return a != 0


# ---------------------------------------------------------------- (a) PoseAug test npz

@malformed_input("MPI-INF-3DHP test file", 0)
def read_3dhp_test_npz(path: Path, units: str = "mm", order: str = "mpi_inf_3dhp") -> MPI3DHPSamples:
    """PoseAug-style ``test_3dhp.npz`` -> :class:`MPI3DHPSamples`.

    ``units`` is the unit of ``pose3d`` ('mm', PoseAug's, or 'm'). ``order`` is the joint order
    of the arrays: 'mpi_inf_3dhp' (the dataset's 17 test joints, the default) or 'h36m17' for a
    file already converted to the canonical order.
    """
    if units not in UNITS:
        raise PosedaInputError(path, f"unknown units {units!r} (use {', '.join(UNITS)})")
    if order not in ("mpi_inf_3dhp", "h36m17"):
        raise PosedaInputError(path, f"unknown joint order {order!r} (use 'mpi_inf_3dhp' or 'h36m17')")
    keys = npz_keys(path)
    for k in ("pose3d", "pose2d"):
        if k not in keys:
            raise PosedaInputError(path, f"no array {k!r} (has {', '.join(keys) or 'none'})")
    p3 = numeric_array(path, "pose3d", load_object_npz(path, "pose3d"), (None, 17, 3), finite=False, nonempty=False)
    n = len(p3)
    p2 = numeric_array(path, "pose2d", load_object_npz(path, "pose2d"), (n, 17, 2), finite=False, nonempty=False)
    valid = _valid_mask(path, "valid", load_object_npz(path, "valid"), n) if "valid" in keys else np.ones(n, bool)
    _finite(path, "pose3d", p3, valid)
    _finite(path, "pose2d", p2, valid)
    cam = load_object_npz(path, "camera_param") if "camera_param" in keys else None
    if order == "mpi_inf_3dhp":
        j3, j2 = MPI3DHP_FROM_17.apply(p3), MPI3DHP_FROM_17.apply(p2)
    else:
        j3, j2 = p3.copy(), p2.copy()
    extra = {k: load_object_npz(path, k) for k in keys if k not in ("pose3d", "pose2d", "valid", "camera_param")}
    return MPI3DHPSamples(j3 * UNITS[units], j2, valid, camera_param=cam, extra=extra)


# ---------------------------------------------------------------- (b) SPIN npz

@malformed_input("MPI-INF-3DHP file", 0)
def read_3dhp_spin_npz(path: Path) -> MPI3DHPSamples:
    """SPIN-style ``mpi_inf_3dhp_valid.npz`` -> :class:`MPI3DHPSamples`.

    Joints with 3D confidence 0 (2D visibility 0) are NaN in ``joints3d`` (``joints2d``);
    ``valid`` marks the frames with at least one confident 3D joint.
    """
    keys = npz_keys(path)
    for k in ("imgname", "center", "scale", "part", "S"):
        if k not in keys:
            raise PosedaInputError(path, f"no array {k!r} (has {', '.join(keys) or 'none'})")
    s = numeric_array(path, "S", load_object_npz(path, "S"), (None, 24, 4), finite=False, nonempty=False)
    n = len(s)
    part = numeric_array(path, "part", load_object_npz(path, "part"), (n, 24, 3), finite=False, nonempty=False)
    center = numeric_array(path, "center", load_object_npz(path, "center"), (n, 2), finite=False, nonempty=False)
    scale = numeric_array(path, "scale", load_object_npz(path, "scale"), (n,), finite=False, nonempty=False)
    names = np.asarray(load_object_npz(path, "imgname"))
    if names.shape != (n,):
        raise PosedaInputError(path, f"imgname: shape {names.shape}, expected [{n}]")
    for k, a in (("S", s), ("part", part), ("center", center), ("scale", scale)):
        _finite(path, k, a)
    conf3, vis2 = s[..., 3] > 0, part[..., 2] > 0
    j3 = np.where(conf3[..., None], s[..., :3], np.nan)
    j2 = np.where(vis2[..., None], part[..., :2], np.nan)
    valid = conf3[:, [i for i in SPIN_FROM_24.source if i >= 0]].any(axis=1)
    return MPI3DHPSamples(SPIN_FROM_24.apply(j3), SPIN_FROM_24.apply(j2), valid,
                          image_names=[str(x) for x in names], center=center, scale=scale)


# ---------------------------------------------------------------- (c) annot_data.mat

def _read_mat(path: Path) -> tuple[dict, str]:
    """The arrays of a MAT file in MATLAB's own axis order, and the format read ('v7.3' / 'v5')."""
    path = Path(path)
    if not path.is_file():
        raise PosedaInputError(path, "file not found")
    try:
        is_h5 = h5py.is_hdf5(str(path))
    except OSError as e:
        raise PosedaInputError(path, f"cannot open ({e})") from None
    if is_h5:
        out = {}
        try:
            with h5py.File(path, "r") as f:
                for k, v in f.items():
                    if isinstance(v, h5py.Dataset) and not k.startswith("#"):
                        out[k] = np.asarray(v[()]).T  # column-major on disk: reverse the axes
        except PosedaInputError:
            raise
        except Exception as e:  # truncated / corrupt HDF5 (OSError, KeyError, RuntimeError, ...)
            raise PosedaInputError(path, f"corrupt or truncated MATLAB v7.3 (HDF5) file ({e.__class__.__name__}: {e})") from None
        return out, "v7.3"
    try:
        d = scipy.io.loadmat(str(path))
    except Exception as e:  # MatReadError, ValueError, zlib errors, ... on corrupt / truncated files
        raise PosedaInputError(path, f"not a readable MAT file ({e.__class__.__name__}: {e})") from None
    return {k: v for k, v in d.items() if not k.startswith("__")}, "v5"


@malformed_input("MPI-INF-3DHP annotation file", 0)
def read_3dhp_annot_mat(path: Path, sequence: str | None = None, which_3d: str = "univ_annot3") -> MPI3DHPSamples:
    """One test sequence's ``annot_data.mat`` (v7.3 or v5) -> :class:`MPI3DHPSamples`.

    ``which_3d`` picks ``univ_annot3`` (default, the universal skeleton used for evaluation) or
    ``annot3``; both are millimetres and converted to metres. ``valid`` is ``valid_frame``.
    Non-finite values are tolerated only in frames that are not valid. ``sequence`` defaults to
    the name of the file's folder (``TS1`` ...).
    """
    path = Path(path)
    if which_3d not in ("univ_annot3", "annot3"):
        raise PosedaInputError(path, f"which_3d must be 'univ_annot3' or 'annot3', not {which_3d!r}")
    d, _fmt = _read_mat(path)
    for k in ("annot2", which_3d, "valid_frame"):
        if k not in d:
            raise PosedaInputError(path, f"missing variable {k!r} (has {', '.join(sorted(d)) or 'none'})")
    a3 = numeric_array(path, which_3d, d[which_3d], (None, 1, 17, 3), finite=False, nonempty=False)[:, 0]
    n = len(a3)
    a2 = numeric_array(path, "annot2", d["annot2"], (n, 1, 17, 2), finite=False, nonempty=False)[:, 0]
    vf = np.asarray(d["valid_frame"])
    if vf.ndim != 2 or 1 not in vf.shape:
        raise PosedaInputError(path, f"valid_frame: shape {vf.shape}, expected [N, 1] or [1, N]")
    valid = _valid_mask(path, "valid_frame", vf, n)
    _finite(path, which_3d, a3, valid)
    _finite(path, "annot2", a2, valid)
    act = None
    if "activity_annotation" in d:
        act = np.asarray(d["activity_annotation"])
        if act.size == n and act.dtype != object:
            act = act.reshape(n)
    return MPI3DHPSamples(MPI3DHP_FROM_17.apply(a3) * 1e-3, MPI3DHP_FROM_17.apply(a2), valid,
                          sequence=sequence or path.parent.name, activity=act)

