"""MPI-INF-3DHP readers (licensed data the user supplies; we do not ship it).

Three layouts are read, all mapped into the canonical Human3.6M-17 layout (missing joints NaN,
3D in metres, 2D in pixels):

(a) PoseAug's test npz (``test_3dhp.npz``, the 2,929 frames of protocol A). As PoseAug's
    ``data_extra/prepare_data_3dhp.py`` writes it from SPIN's ``mpi_inf_3dhp_valid.npz``: plain
    arrays ``pose3d`` [N, 16, 3] (``univ_annot3``, metres, root-relative) and ``pose2d``
    [N, 16, 2] in *normalised screen units* (x / W * 2 - 1, y / W * 2 - H / W, the image size of
    each frame's sequence: TS1-TS4 2048 x 2048, TS5-TS6 1920 x 1080; the file does not say
    which), both in Human3.6M's 16-joint order without Neck/Nose (:data:`H36M16_NAMES`). Also
    read: a 17-joint variant in MPI-INF-3DHP's test order (:data:`MPI_INF_3DHP_17_NAMES`,
    millimetres, pixels), optional ``camera_param`` and ``valid`` [N]. A joint that is NaN in
    every frame is a joint the file lacks. Read by :func:`read_3dhp_test_npz`.

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

(d) The training set's ``S<k>/Seq<m>/annot.mat`` (MAT v5; a v7.3 copy is read too): cell arrays
    ``annot2`` and ``annot3`` of one cell per camera (14), each [N, 56] / [N, 84], i.e. the 28
    joints of :data:`MPI_INF_3DHP_28_NAMES` flattened (pixels / millimetres, camera frame), and
    ``frames`` [N, 1]. With it ``camera.calibration`` (the Skeletool text format: a header line,
    then per camera the lines ``name``, ``sensor``, ``size``, ``animated``, ``intrinsic`` (a 4 x 4
    matrix, row-major, pixels), ``extrinsic`` (4 x 4, row-major, world-to-camera ``[R | T]`` with T
    in millimetres) and ``radial``). Read by :func:`read_3dhp_train_annot` and
    :func:`read_3dhp_calibration`.

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
from poseda.errors import PosedaInputError, malformed_input
from poseda.safe_pickle import load_object_npz, npz_keys
from poseda.skeleton.layouts import H36M16, dataset_mapping

#: MPI-INF-3DHP joint name of each canonical joint, the same in the 17 test and the 28 training joints
TO_H36M = dict(Pelvis="pelvis", RHip="right_hip", RKnee="right_knee", RAnkle="right_ankle", LHip="left_hip",
               LKnee="left_knee", LAnkle="left_ankle", Spine="spine", Thorax="neck", Head="head_top",
               LShoulder="left_shoulder", LElbow="left_elbow", LWrist="left_wrist",
               RShoulder="right_shoulder", RElbow="right_elbow", RWrist="right_wrist")

MPI_INF_3DHP_17_NAMES = (
    "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
    "left_ankle", "pelvis", "spine", "head",
)
MPI3DHP_FROM_17 = dataset_mapping(
    "mpi-inf-3dhp-17", MPI_INF_3DHP_17_NAMES,
    TO_H36M,
    "MPI-INF-3DHP's 17 test joints. No Neck/Nose (left missing). 3DHP 'neck' is used as the canonical "
    "Thorax, as PoseAug does; Head is 'head_top'; the 3DHP 'head' joint (head centre) is unused.",
)

H36M16_NAMES = H36M16.joints
H36M16_FROM_16 = dataset_mapping(
    "h36m16", H36M16_NAMES, {n: n for n in H36M16_NAMES},
    "Human3.6M's 17 joints without Neck/Nose, in their order (PoseAug's test_3dhp.npz: from SPIN's "
    "3DHP joints, Thorax is 3DHP's neck and Head its head top).",
)

MPI_INF_3DHP_28_NAMES = (
    "spine3", "spine4", "spine2", "spine", "pelvis", "neck", "head", "head_top", "left_clavicle", "left_shoulder",
    "left_elbow", "left_wrist", "left_hand", "right_clavicle", "right_shoulder", "right_elbow", "right_wrist",
    "right_hand", "left_hip", "left_knee", "left_ankle", "left_foot", "left_toe", "right_hip", "right_knee",
    "right_ankle", "right_foot", "right_toe",
)
MPI3DHP_FROM_28 = dataset_mapping(
    "mpi-inf-3dhp-28", MPI_INF_3DHP_28_NAMES,
    TO_H36M,
    "MPI-INF-3DHP's 28 training joints, mapped as the 17 test joints are (the test set's 17 are these "
    "28's pelvis, hips, knees, ankles, spine, neck, head, head_top, shoulders, elbows, wrists): Thorax "
    "is 3DHP's neck, Head its head top, Spine its 'spine'; no Neck/Nose.",
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
def read_3dhp_test_npz(path: Path, units: str | None = None, order: str = "mpi_inf_3dhp") -> MPI3DHPSamples:
    """PoseAug's ``test_3dhp.npz`` -> :class:`MPI3DHPSamples` (see the module doc, layout (a)).

    16 joints: PoseAug's file. ``joints2d`` then holds normalised screen units and
    ``extra["screen_normalised"]`` is True. 17 joints: ``order`` is 'mpi_inf_3dhp' (the dataset's
    17 test joints, the default) or 'h36m17' (already canonical), 2D in pixels. ``units`` is the
    unit of ``pose3d`` ('mm' or 'm'; default metres for 16 joints, millimetres for 17).
    """
    if units is not None and units not in UNITS:
        raise PosedaInputError(path, f"unknown units {units!r} (use {', '.join(UNITS)})")
    if order not in ("mpi_inf_3dhp", "h36m17"):
        raise PosedaInputError(path, f"unknown joint order {order!r} (use 'mpi_inf_3dhp' or 'h36m17')")
    keys = npz_keys(path)
    for k in ("pose3d", "pose2d"):
        if k not in keys:
            raise PosedaInputError(path, f"no array {k!r} (has {', '.join(keys) or 'none'})")
    raw3 = np.asarray(load_object_npz(path, "pose3d"))
    nj = raw3.shape[1] if raw3.ndim == 3 and raw3.shape[1] in (16, 17) else 17
    p3 = numeric_array(path, "pose3d", raw3, (None, nj, 3), finite=False, nonempty=False)
    n = len(p3)
    p2 = numeric_array(path, "pose2d", load_object_npz(path, "pose2d"), (n, nj, 2), finite=False, nonempty=False)
    valid = _valid_mask(path, "valid", load_object_npz(path, "valid"), n) if "valid" in keys else np.ones(n, bool)
    if nj == 16:
        mapping, scale = H36M16_FROM_16, UNITS[units or "m"]
    elif order == "mpi_inf_3dhp":
        mapping, scale = MPI3DHP_FROM_17, UNITS[units or "mm"]
    else:
        mapping, scale = None, UNITS[units or "mm"]
    used = [i for i in (mapping.source if mapping else range(17)) if i >= 0]
    # a joint no canonical joint takes (3DHP's head centre), or one absent from every frame, may be NaN
    used = [i for i in used if not (np.isnan(p3[:, i]).all() and np.isnan(p2[:, i]).all())]
    _finite(path, "pose3d", p3[:, used], valid)
    _finite(path, "pose2d", p2[:, used], valid)
    cam = load_object_npz(path, "camera_param") if "camera_param" in keys else None
    j3, j2 = (mapping.apply(p3), mapping.apply(p2)) if mapping else (p3.copy(), p2.copy())
    extra = {k: load_object_npz(path, k) for k in keys if k not in ("pose3d", "pose2d", "valid", "camera_param")}
    extra["screen_normalised"] = nj == 16
    return MPI3DHPSamples(j3 * scale, j2, valid, camera_param=cam, extra=extra)


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
                        a = np.asarray(v[()]).T  # column-major on disk: reverse the axes
                        if a.dtype == object:  # a cell array: one reference per cell
                            cells = np.empty(a.shape, dtype=object)
                            for ix in np.ndindex(a.shape):
                                cells[ix] = np.asarray(f[a[ix]][()]).T
                            a = cells
                        out[k] = a
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



# ---------------------------------------------------------------- (d) training set

TRAIN_CAMERAS = 14
TRAIN_IMAGE_SIZE = (2048, 2048)


@dataclass
class MPI3DHPCamera:
    """One camera of ``camera.calibration``: ``intrinsics`` (fx, fy, cx, cy) pixels, ``image_size``
    (W, H), ``rotation`` world-to-camera [3, 3] and ``translation`` metres (X_cam = R X + t)."""

    name: str
    intrinsics: np.ndarray
    image_size: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray


@malformed_input("MPI-INF-3DHP camera.calibration", 0)
def read_3dhp_calibration(path: Path) -> dict[int, MPI3DHPCamera]:
    """``camera.calibration`` -> {camera index: :class:`MPI3DHPCamera`} (see the module doc, (d))."""
    path = Path(path)
    if not path.is_file():
        raise PosedaInputError(path, "file not found")
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise PosedaInputError(path, f"cannot read as text ({e.__class__.__name__})") from None
    cams: dict[int, dict] = {}
    current = None
    for no, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        key, values = parts[0], parts[1:]
        if key == "name":
            try:
                current = int(values[0])
            except (IndexError, ValueError):
                raise PosedaInputError(path, f"line {no}: 'name' must be followed by a camera number") from None
            if current in cams:
                raise PosedaInputError(path, f"line {no}: camera {current} appears twice")
            cams[current] = {}
        elif key in ("size", "intrinsic", "extrinsic"):
            if current is None:
                raise PosedaInputError(path, f"line {no}: {key!r} before the first 'name'")
            try:
                cams[current][key] = np.asarray([float(v) for v in values])
            except ValueError:
                raise PosedaInputError(path, f"line {no}: {key} holds a value that is not a number") from None
    if not cams:
        raise PosedaInputError(path, "no camera ('name' lines) found: not a camera.calibration file")
    out = {}
    for c, d in cams.items():
        for key, n in (("size", 2), ("intrinsic", 16), ("extrinsic", 16)):
            if key not in d or d[key].shape != (n,) or not np.isfinite(d[key]).all():
                raise PosedaInputError(path, f"camera {c}: {key} must be {n} finite numbers")
        k, e = d["intrinsic"].reshape(4, 4), d["extrinsic"].reshape(4, 4)
        if k[0, 0] <= 0 or k[1, 1] <= 0 or (d["size"] <= 0).any():
            raise PosedaInputError(path, f"camera {c}: focal lengths and image size must be positive")
        r = e[:3, :3]
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-3) or np.linalg.det(r) < 0:
            raise PosedaInputError(path, f"camera {c}: the extrinsic rotation is not a rotation")
        out[c] = MPI3DHPCamera(str(c), np.array([k[0, 0], k[1, 1], k[0, 2], k[1, 2]]), d["size"], r, e[:3, 3] / 1000.0)
    return out


@dataclass
class MPI3DHPTrainSequence:
    """One training sequence: per camera index, ``joints2d`` [N, 17, 2] pixels and ``joints3d``
    [N, 17, 3] metres in that camera's frame (canonical joints, Neck NaN); ``frames`` [N]."""

    joints2d: dict[int, np.ndarray]
    joints3d: dict[int, np.ndarray]
    frames: np.ndarray


@malformed_input("MPI-INF-3DHP training annotation file", 0)
def read_3dhp_train_annot(path: Path, cameras: list[int] | None = None) -> MPI3DHPTrainSequence:
    """``S<k>/Seq<m>/annot.mat`` -> :class:`MPI3DHPTrainSequence` for ``cameras`` (default all).
    Non-finite values are kept (NaN): the importer leaves such frames out."""
    path = Path(path)
    d, _fmt = _read_mat(path)
    for k in ("annot2", "annot3"):
        if k not in d:
            raise PosedaInputError(path, f"missing variable {k!r} (has {', '.join(sorted(d)) or 'none'})")
    cells2, cells3 = np.asarray(d["annot2"], dtype=object).reshape(-1), np.asarray(d["annot3"], dtype=object).reshape(-1)
    if len(cells2) != len(cells3) or len(cells2) == 0:
        raise PosedaInputError(path, f"annot2 has {len(cells2)} cameras and annot3 {len(cells3)}")
    cameras = list(range(len(cells2))) if cameras is None else cameras
    j2, j3, n = {}, {}, None
    for c in cameras:
        if not 0 <= c < len(cells2):
            raise PosedaInputError(path, f"no camera {c} (the file has {len(cells2)})")
        a2 = numeric_array(path, f"annot2{{{c}}}", cells2[c], (None, 56), finite=False, nonempty=False)
        a3 = numeric_array(path, f"annot3{{{c}}}", cells3[c], (len(a2), 84), finite=False, nonempty=False)
        if n is not None and len(a2) != n:
            raise PosedaInputError(path, f"camera {c}: {len(a2)} frames, camera {cameras[0]} has {n}")
        n = len(a2)
        j2[c] = MPI3DHP_FROM_28.apply(a2.reshape(n, 28, 2))
        j3[c] = MPI3DHP_FROM_28.apply(a3.reshape(n, 28, 3)) * 1e-3
    frames = np.arange(n or 0)
    if "frames" in d:
        f = numeric_array(path, "frames", np.asarray(d["frames"]).reshape(-1), (n,), nonempty=False)
        frames = f.astype(np.int64)
    return MPI3DHPTrainSequence(j2, j3, frames)
