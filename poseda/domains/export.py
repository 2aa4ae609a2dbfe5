"""Any prepared domain in the files VideoPose3D and PoseAug read, at the places they read them,
so that their own code, unchanged, loads, trains on and evaluates poseda's benchmark.

``export_domain(domain, fmt, out)`` treats ``out`` as the peer's checkout (or any folder laid out
like one) and writes, all files or none, and never over a file that exists unless ``force``:

``videopose3d`` (``run.py`` reads ``data/data_3d_<D>.npz`` and ``data/data_2d_<D>_<K>.npz`` for
``-d D -k K``), by what the domain is:

- **Human3.6M** (the built-in ``h36m``, or an imported one: Human3.6M's subjects and its four
  cameras, in VideoPose3D's order, with the published calibration VideoPose3D has in its code):
  ``data/data_3d_h36m.npz`` with ``positions_3d`` ``{subject: {action: float32 [T, 32, 3]}}``,
  metres, world frame, the 32 raw Human3.6M joints as ``prepare_data_h36m.py`` writes them, and
  ``data/data_2d_h36m_gt.npz`` with ``positions_2d`` ``{subject: {action: [4 x float32 [T, 17,
  2]]}}`` pixels and ``metadata`` as VideoPose3D's ``h36m`` layout. The 15 joints VideoPose3D
  removes on loading (:data:`STATIC_32`) are not in a prepared domain: each holds the position of
  its nearest kept ancestor (listed in ``metadata['filled_joints']``; VideoPose3D, PoseAug and
  poseda drop them). Actions are named as VideoPose3D names them (``Directions 1``, ``Photo 2``,
  ``WalkDog 1``: :func:`vp3d_action`); the trial number is the motion-capture copy's, not the
  Human3.6M video's. Run with ``-d h36m -k gt``.
- **HumanEva-I** (the built-in ``humaneva``: cameras C1-C3, ``Train/`` and ``Validate/`` chunks):
  ``data/data_3d_humaneva15.npz`` and ``data/data_2d_humaneva15_gt.npz`` exactly as
  ``prepare_data_humaneva.py`` writes them: subjects ``Train/S1`` ... ``Validate/S3``, actions
  ``Walking 1 chunk0`` ..., VideoPose3D's ``humaneva15`` joint order. Run with ``-d humaneva15 -k
  gt -str Train/S1,Train/S2,Train/S3 -ste Validate/S1,Validate/S2,Validate/S3``.
- **Any other domain with 3D** (``cmu-3dhp``, ``bandai-wild``, custom and imported ones):
  VideoPose3D has no loader for them, so the files carry their own cameras and skeleton, and
  ``common/poseda_dataset.py`` (:mod:`poseda.domains.vp3d_dataset`, ours) loads them once ``run.py``
  has the three-line branch its docstring gives. ``data/data_3d_poseda-<name>.npz``:
  ``positions_3d`` ``{subject: {action: float32 [T, J, 3]}}`` world frame, ``cameras``
  ``{subject: [one dict: id, intrinsics [fx, fy, cx, cy] px, distortion [k1, k2, k3, p1, p2],
  image_size [W, H], rotation 3x3 camera-to-world, centre m]}``, ``metadata`` (``fps``,
  ``joints``, ``parents``, ``keypoints_symmetry`` ...); ``data/data_2d_poseda-<name>_gt.npz``.
  A subject is one view (``SEQUENCE/CAMERA``), so every frame of every view is kept.
- **A domain without 3D** (``poseda data footage``): VideoPose3D's in-the-wild layout,
  ``data/data_2d_custom_<name>.npz`` (``positions_2d`` ``{video: {"custom": [float32 [T, J, 2]]}}``,
  ``metadata`` with ``video_metadata``), for ``-d custom -k <name> --render --viz-subject VIDEO``.

Beside the files, ``data/<D>.args`` holds the ``run.py`` arguments that select them (``-d``,
``-k``, ``-str``, ``-ste``: the domain's training split, else its adaptation split, and its
evaluation split), so ``python run.py $(cat data/<D>.args) ...`` runs on them.

``poseaug`` (PoseAug trains only on Human3.6M, ``data/data_3d_h36m.npz`` and
``data/data_2d_h36m_gt.npz`` with ``-k gt``, and evaluates cross-dataset only on
``data_extra/test_set/test_3dhp.npz``):

- a Human3.6M domain: the same 32-joint 3D file, and the 2D in PoseAug's 16 joints (without
  Neck/Nose, as its ``prepare_data_h36m.py`` makes them);
- any other domain with 3D: its evaluation split as ``data_extra/test_set/test_3dhp.npz``, the
  layout of PoseAug's ``prepare_data_3dhp.py``: ``pose3d`` [N, 16, 3] metres, root-relative,
  scaled to the universal skeleton (:mod:`poseda.data.universal`, as 3DHP's ``univ_annot3``) and
  ``pose2d`` [N, 16, 2] normalised screen units (x / W * 2 - 1, y / W * 2 - H / W), Human3.6M's
  16 joints (:data:`poseda.skeleton.layouts.H36M16`). A domain without Spine (HumanEva) gets it
  at :data:`SPINE_T` of the way from Pelvis to Thorax (the Human3.6M median), listed in the
  file's ``filled_joints``; any other missing joint is refused. Extra keys, which PoseAug does not
  read: ``pose3d_real``, ``pose2d_px``, ``image_size``, ``intrinsics``, ``subject``, ``sequence``,
  ``frame``, ``domain``, ``filled_joints``.

No file holds NaN: an export that would is refused in one line.

Another format is a function that makes the files, registered with :func:`register_export_format`
(a plugin: ``examples/csv_views_export.py``); :func:`export_domain` checks and writes them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from poseda.data.domain import Domain
from poseda.errors import PosedaInputError
from poseda.fileio import refuse_existing, staged_files
from poseda.registry import Registry
from poseda.skeleton.layouts import CANONICAL, H36M16, H36M_EXPMAP32_NAMES, HUMANEVA15_NAMES, HUMANEVA_FROM_15, JointLayout
from poseda.version import __version__

#: the files of one export format: ``make(domain, name, subjects) -> (files, how)``, ``files`` {path
#: relative to ``--out``: arrays (a dict, written as .npz) | text (str) | bytes}, ``how`` lines that say how to use them
MakeFiles = Callable[[Domain, str | None, list[str] | None], tuple[dict[Path, object], list[str]]]
#: name -> export format (``poseda data export --format``)
FORMATS: Registry[MakeFiles] = Registry("format", "register_export_format")


def register_export_format(name: str, make: MakeFiles | None = None):
    """Make ``make(domain, name, subjects) -> (files, how)`` the export format ``name`` of ``poseda
    data export --format`` and :func:`export_domain` (which writes ``files``, all or none, never over
    an existing file unless ``--force``). Works as a decorator."""
    return FORMATS.register(name) if make is None else FORMATS.register(name, make)

# -- facts of the peers' loaders (their published file layouts) -------------------------------------
#: Human3.6M's four cameras in the order VideoPose3D and PoseAug list them
H36M_CAMERAS = ("54138969", "55011271", "58860488", "60457274")
H36M_SUBJECTS = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")
#: the parents of the 32 raw Human3.6M joints (VideoPose3D's ``h36m_skeleton``)
PARENTS_32 = (-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12, 16, 17, 18, 19, 20, 19, 22, 12, 24, 25, 26, 27, 28,
              27, 30)
#: the 17 of them VideoPose3D keeps (canonical order); the other 15 are removed on loading
KEPT_32 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
STATIC_32 = tuple(j for j in range(32) if j not in KEPT_32)
#: VideoPose3D's (and PoseAug's) action names for the motion-capture copy's lower-case ones
H36M_ACTIONS = {"directions": "Directions", "discussion": "Discussion", "eating": "Eating", "greeting": "Greeting",
                "phoning": "Phoning", "posing": "Posing", "purchases": "Purchases", "sitting": "Sitting",
                "sittingdown": "SittingDown", "smoking": "Smoking", "takingphoto": "Photo", "waiting": "Waiting",
                "walking": "Walking", "walkingdog": "WalkDog", "walkingtogether": "WalkTogether"}
HUMANEVA_CAMERAS = ("C1", "C2", "C3")
#: the parents of VideoPose3D's humaneva15 joints (its ``humaneva_skeleton``)
HUMANEVA_PARENTS = (-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1)
#: where Human3.6M's Spine sits on the Pelvis -> Thorax segment: the median over every 50th frame
#: of the built-in h36m domain (0.4755; the joint lies 33 mm off the segment at the median)
SPINE_T = 0.4755
POSEAUG_TEST = Path("data_extra/test_set/test_3dhp.npz")
#: the camera tables the peers hard-code must match the domain's cameras to this (metres, radians)
CAMERA_TOLERANCE = (1e-3, 2e-3)


def _object(obj) -> np.ndarray:
    a = np.empty((), dtype=object)
    a[()] = obj
    return a


def vp3d_action(sequence_action: str) -> str:
    """VideoPose3D's name of a Human3.6M action: the motion-capture copy's ``walkingdog_2`` is
    ``WalkDog 2``; a name already in VideoPose3D's form is kept.

    >>> vp3d_action("takingphoto_1"), vp3d_action("sittingdown_2"), vp3d_action("Directions 1")
    ('Photo 1', 'SittingDown 2', 'Directions 1')
    """
    m = re.fullmatch(r"([a-z]+)_(\d+)", sequence_action)
    if m and m[1] in H36M_ACTIONS:
        return f"{H36M_ACTIONS[m[1]]} {m[2]}"
    return sequence_action


def _key(text: str) -> str:
    """A subject or action name usable in run.py's comma-separated lists and in a shell."""
    return re.sub(r"[^A-Za-z0-9_./-]", "_", text)


@dataclass
class Exported:
    """What :func:`export_domain` wrote, and how to run the peer on it."""

    files: list[Path]
    how: list[str] = field(default_factory=list)


# -- selecting and pairing views ---------------------------------------------------------------------
class _Views:
    def __init__(self, domain: Domain, subjects: list[str] | None):
        self.d = domain
        view_of = np.asarray(domain.arrays["view"])
        self.frames = np.asarray(domain.arrays["frame"])
        self.starts = np.searchsorted(view_of, np.arange(len(domain.views)))
        self.ends = np.searchsorted(view_of, np.arange(len(domain.views)), side="right")
        self.kept = [v for v, view in enumerate(domain.views) if subjects is None or view["subject"] in subjects]
        if not self.kept:
            raise PosedaInputError("--subject", f"domain {domain.name} has no subject {', '.join(subjects or [])} "
                                                f"(has {', '.join(sorted({v['subject'] for v in domain.views}))})")
        self.by_seq: dict[str, list[int]] = {}
        for v in self.kept:
            self.by_seq.setdefault(domain.views[v]["sequence"], []).append(v)

    def rows(self, v: int) -> np.ndarray:
        return np.arange(self.starts[v], self.ends[v])

    def common(self, vs: list[int]) -> tuple[np.ndarray, list[np.ndarray], int]:
        """The frames every view of ``vs`` has, their rows in each view, and the frames left out."""
        common = self.frames[self.starts[vs[0]]:self.ends[vs[0]]]
        for v in vs[1:]:
            common = np.intersect1d(common, self.frames[self.starts[v]:self.ends[v]])
        rows = [self.starts[v] + np.searchsorted(self.frames[self.starts[v]:self.ends[v]], common) for v in vs]
        return common, rows, sum(self.ends[v] - self.starts[v] for v in vs) - len(common) * len(vs)

    def joints(self, key: str, rows: np.ndarray, layout: JointLayout) -> np.ndarray:
        return np.asarray(self.d.arrays[key][rows][:, CANONICAL.indices(layout.joints)], np.float64)

    def world(self, v: int, rows: np.ndarray, layout: JointLayout) -> np.ndarray:
        """The 3D of ``rows`` of view ``v`` in the world frame: X = R X_cam + t."""
        xc = self.joints("joints3d", rows, layout)
        rot, centre = np.asarray(self.d.arrays["cam_rotation"][v]), np.asarray(self.d.arrays["cam_centre"][v])
        return xc @ rot.T + centre if np.isfinite(rot).all() and np.isfinite(centre).all() else xc


def _cameras_match(d: Domain, vs: list[int], table: dict, subject: str) -> bool:
    """Whether views ``vs`` have the calibration a peer hard-codes for ``subject`` (``table``:
    ids, rotation [C, 3, 3] camera-to-world, centre [C, 3] metres)."""
    if subject not in table or [d.views[v]["camera"] for v in vs] != list(table[subject]["ids"]):
        return False
    rot = np.asarray(d.arrays["cam_rotation"])[vs]
    centre = np.asarray(d.arrays["cam_centre"])[vs]
    if not (np.isfinite(rot).all() and np.isfinite(centre).all()):
        return False
    angle = np.arccos(np.clip((np.einsum("cij,cij->c", rot, table[subject]["rotation"]) - 1) / 2, -1, 1))
    return bool(np.abs(centre - table[subject]["centre"]).max() < CAMERA_TOLERANCE[0] and angle.max() < CAMERA_TOLERANCE[1])


def _packaged(rel: str) -> Path:
    from importlib import resources

    return Path(str(resources.files("poseda.domains.facts") / rel))


def peer_kind(domain: Domain, views: _Views) -> str:
    """``h36m``, ``humaneva``, ``generic`` (3D, no peer loader) or ``footage`` (no 3D)."""
    from poseda.datasets.calibration import read_h36m_cameras, read_humaneva_extrinsics

    if not domain.has_3d:
        return "footage"
    names = set(domain.layout.joints)
    seqs = views.by_seq
    if names == set(CANONICAL.joints) and {domain.views[vs[0]]["subject"] for vs in seqs.values()} <= set(H36M_SUBJECTS):
        table = read_h36m_cameras(_packaged("cameras/h36m.json"))
        if all(_cameras_match(domain, sorted(vs, key=lambda v: H36M_CAMERAS.index(domain.views[v]["camera"])
                                             if domain.views[v]["camera"] in H36M_CAMERAS else -1),
                              table, domain.views[vs[0]]["subject"]) for vs in seqs.values()):
            return "h36m"
    if set(HUMANEVA_FROM_15.present) <= names and all(
            re.fullmatch(r"(Train|Validate)/S[123]/.+", s) for s in seqs):
        ext = read_humaneva_extrinsics(_packaged("cameras/humaneva-i.json"))
        table = {s: {"ids": [c["id"] for c in cams], "rotation": np.stack([c["rotation"] for c in cams]),
                     "centre": np.stack([c["centre"] for c in cams])} for s, cams in ext.items()}
        if all(_cameras_match(domain, sorted(vs, key=lambda v: domain.views[v]["camera"]), table, s.split("/")[1])
               for s, vs in seqs.items()):
            return "humaneva"
    return "generic"


# -- VideoPose3D ------------------------------------------------------------------------------------
def _symmetry(layout: JointLayout) -> list[list[int]]:
    return [list(layout.left), list(layout.right)]


def _multicamera(views: _Views, cameras: tuple[str, ...], name_of, world_of, layout2d: JointLayout):
    """The per-sequence arrays of a multi-camera dataset whose loader hard-codes its cameras:
    {subject: {action: 3D}} (``world_of(view, rows)``), {subject: {action: [2D per camera]}} in
    ``cameras`` order, video sizes, frame numbers and source sequences by "subject/action", and
    the frames left out (those not every camera has)."""
    d = views.d
    pos3, pos2, video, frames, names = {}, {}, {}, {}, {}
    left_out = 0
    for seq, vs in sorted(views.by_seq.items()):
        vs = sorted(vs, key=lambda v: cameras.index(d.views[v]["camera"]))
        subject, action = name_of(seq, d.views[vs[0]])
        common, rows, lost = views.common(vs)
        left_out += lost
        if not len(common):
            continue
        pos3.setdefault(subject, {})[action] = world_of(vs[0], rows[0]).astype(np.float32)
        pos2.setdefault(subject, {})[action] = [views.joints("joints2d", r, layout2d).astype(np.float32) for r in rows]
        for v in vs:
            w, h = (int(x) for x in d.arrays["image_size"][v])
            video[f"{subject}/{action}/{d.views[v]['camera']}"] = {"w": w, "h": h}
        frames[f"{subject}/{action}"] = common.astype(np.int64)
        names[f"{subject}/{action}"] = seq
    return pos3, pos2, video, frames, names, left_out


def _h36m_files(views: _Views, pose_joints: JointLayout) -> tuple[dict, dict, dict]:
    """(3D file, 2D file, metadata of the sequences) of a Human3.6M domain; 2D in ``pose_joints``."""
    def name_of(seq, view):
        subject = view["subject"]
        return subject, vp3d_action(seq[len(subject) + 1:] if seq.startswith(subject + "/") else seq)

    def world32(v, rows):
        world17 = views.world(v, rows, CANONICAL)
        out = np.empty((len(world17), 32, 3))
        out[:, list(KEPT_32)] = world17
        for j in STATIC_32:  # the nearest kept ancestor's position
            a = PARENTS_32[j]
            while a not in KEPT_32:
                a = PARENTS_32[a]
            out[:, j] = out[:, a]
        return out

    pos3, pos2, video, frames, names, left_out = _multicamera(views, H36M_CAMERAS, name_of, world32, pose_joints)
    filled = {H36M_EXPMAP32_NAMES[j]: "position of its nearest kept ancestor" for j in STATIC_32}
    meta3 = _meta3(views.d, frames, names, left_out, joints=list(H36M_EXPMAP32_NAMES), layout_name="h36m32",
                   filled_joints=filled)
    meta2 = {"layout_name": "h36m" if pose_joints.num_joints == 17 else pose_joints.name, "num_joints": pose_joints.num_joints,
             "keypoints_symmetry": _symmetry(pose_joints), "joints": list(pose_joints.joints), "video_metadata": video}
    return {"positions_3d": _object(pos3), "metadata": _object(meta3)}, {"positions_2d": _object(pos2), "metadata": _object(meta2)}, meta3


def _humaneva_files(views: _Views) -> tuple[dict, dict, dict]:
    # the canonical joints in VideoPose3D's humaneva15 order, with its humaneva_skeleton's parents
    cols = tuple(CANONICAL.joints[HUMANEVA_FROM_15.source.index(i)] for i in range(len(HUMANEVA15_NAMES)))
    he = JointLayout("humaneva15-vp3d", cols, HUMANEVA_PARENTS)

    def name_of(seq, view):
        split, subject, action = seq.split("/", 2)
        return f"{split}/{subject}", action

    pos3, pos2, video, frames, names, left_out = _multicamera(views, HUMANEVA_CAMERAS, name_of,
                                                              lambda v, rows: views.world(v, rows, he), he)
    meta3 = _meta3(views.d, frames, names, left_out, joints=list(HUMANEVA15_NAMES), layout_name="humaneva15")
    meta2 = {"layout_name": "humaneva15", "num_joints": 15, "keypoints_symmetry": [[2, 3, 4, 8, 9, 10], [5, 6, 7, 11, 12, 13]],
             "joints": list(HUMANEVA15_NAMES), "video_metadata": video}
    return {"positions_3d": _object(pos3), "metadata": _object(meta3)}, {"positions_2d": _object(pos2), "metadata": _object(meta2)}, meta3


def _camera(d: Domain, v: int) -> dict:
    a = d.arrays
    return {"id": d.views[v]["camera"], "intrinsics": np.asarray(a["intrinsics"][v]).tolist(),
            "distortion": np.asarray(a["distortion"][v]).tolist(), "image_size": np.asarray(a["image_size"][v]).tolist(),
            "rotation": np.asarray(a["cam_rotation"][v]).tolist(), "centre": np.asarray(a["cam_centre"][v]).tolist()}


def _generic_files(views: _Views) -> tuple[dict, dict, dict]:
    d = views.d
    layout = d.layout
    pos3, pos2, cams, video, frames, names = {}, {}, {}, {}, {}, {}
    for v in views.kept:
        view = d.views[v]
        subject, action = _key(f"{view['sequence']}/{view['camera']}"), _key(view["action"]) or "motion"
        if subject in pos3:
            raise PosedaInputError(f"domain {d.name}", f"two views are both named {subject!r} once made usable in run.py")
        rows = views.rows(v)
        if not len(rows):
            continue
        pos3[subject] = {action: views.world(v, rows, layout).astype(np.float32)}
        pos2[subject] = {action: [views.joints("joints2d", rows, layout).astype(np.float32)]}
        cams[subject] = [_camera(d, v)]
        w, h = (int(x) for x in d.arrays["image_size"][v])
        video[f"{subject}/{action}/{view['camera']}"] = {"w": w, "h": h}
        frames[f"{subject}/{action}"] = views.frames[rows].astype(np.int64)
        names[f"{subject}/{action}"] = view["sequence"]
    meta3 = _meta3(d, frames, names, 0, joints=list(layout.joints), layout_name=layout.name, parents=list(layout.parents),
                   keypoints_symmetry=_symmetry(layout))
    meta2 = {"layout_name": layout.name, "num_joints": layout.num_joints, "keypoints_symmetry": _symmetry(layout),
             "joints": list(layout.joints), "video_metadata": video}
    return ({"positions_3d": _object(pos3), "cameras": _object(cams), "metadata": _object(meta3)},
            {"positions_2d": _object(pos2), "metadata": _object(meta2)}, meta3)


def _meta3(d: Domain, frames: dict, names: dict, left_out: int, **extra) -> dict:
    """The 3D file's metadata: where each sequence comes from and which subjects each split has."""
    split_of_seq = {v["sequence"]: v["split"] for v in d.views}
    splits = {key: split_of_seq[seq] for key, seq in names.items()}
    subjects: dict[str, list[str]] = {}
    for key, split in splits.items():
        subject = key.rsplit("/", 1)[0]
        if subject not in subjects.setdefault(split, []):
            subjects[split].append(subject)
    return {"domain": d.name, "role": d.role, "fps": d.fps, "splits": splits, "subjects": subjects, "frames": frames,
            "sequences": names, "train_split": d.meta.get("train_split"), "eval_split": d.meta.get("eval_split"),
            "adapt_split": d.meta.get("adapt_split"), "frames_left_out": int(left_out), "exported_by": f"poseda {__version__}",
            **extra}


def _footage_file(views: _Views) -> dict:
    d = views.d
    layout = d.layout
    pos2, video = {}, {}
    for v in views.kept:
        name = _key(f"{d.views[v]['sequence']}/{d.views[v]['camera']}")
        rows = views.rows(v)
        pos2[name] = {"custom": [views.joints("joints2d", rows, layout).astype(np.float32)]}
        w, h = (int(x) for x in d.arrays["image_size"][v])
        video[name] = {"w": w, "h": h}
    meta = {"layout_name": "h36m" if layout.num_joints == 17 else layout.name, "num_joints": layout.num_joints,
            "keypoints_symmetry": _symmetry(layout), "joints": list(layout.joints), "video_metadata": video}
    return {"positions_2d": _object(pos2), "metadata": _object(meta)}


def _split_subjects(meta3: dict, d: Domain) -> tuple[list[str], list[str]]:
    train = d.meta.get("train_split") or d.meta.get("adapt_split")
    return meta3["subjects"].get(train, []), meta3["subjects"].get(d.meta.get("eval_split"), [])


def _args(dataset: str, keypoints: str, train: list[str], test: list[str]) -> str:
    parts = [f"-d {dataset}", f"-k {keypoints}"]
    if train:
        parts.append("-str " + ",".join(train))
    if test:
        parts.append("-ste " + ",".join(test))
    return " ".join(parts) + "\n"


# -- PoseAug's evaluation file ---------------------------------------------------------------------
def poseaug_test_arrays(domain: Domain, subjects: list[str] | None = None) -> dict[str, np.ndarray]:
    """The evaluation split in PoseAug's ``test_3dhp.npz`` layout (see the module doc)."""
    from poseda.data.codec import PoseCodec
    from poseda.data.universal import universal_poses
    from poseda.geometry.camera import project

    real = domain.evaluation()
    if subjects is not None:
        real = real.take(np.isin(real.subject, subjects))
    if not len(real):
        raise PosedaInputError("--subject", f"no frame of the evaluation split of {domain.name} is left to export")
    have = set(real.layout.joints)
    filled = []
    lacking = [n for n in H36M16.joints if n not in have]
    if lacking == ["Spine"] and {"Pelvis", "Thorax"} <= have:
        filled = ["Spine"]
    elif lacking:
        raise PosedaInputError(f"domain {domain.name}", f"has no {', '.join(lacking)}: PoseAug's test file needs Human3.6M's "
                                                        "16 joints")
    univ = universal_poses(real)

    def to16(a: np.ndarray) -> np.ndarray:
        out = np.full((len(a), 16, a.shape[-1]), np.nan)
        for k, n in enumerate(H36M16.joints):
            if n in have:
                out[:, k] = a[:, real.layout.index(n)]
        if filled:
            pelvis, thorax = out[:, H36M16.index("Pelvis")], out[:, H36M16.index("Thorax")]
            out[:, H36M16.index("Spine")] = pelvis + SPINE_T * (thorax - pelvis)
        return out

    cam3d = to16(real.joints3d)
    px = to16(real.joints2d)
    if filled:  # the filled joint's 2D is its 3D seen through the view's camera
        s = H36M16.index("Spine")
        px[:, s] = project(torch.from_numpy(cam3d[:, s:s + 1]), torch.from_numpy(np.asarray(real.intrinsics, np.float64)),
                           torch.from_numpy(np.asarray(real.distortion, np.float64)))[:, 0].numpy()
    u = to16(univ.joints3d)
    out = {"pose3d": u - u[:, :1], "pose2d": PoseCodec().encode_2d(px, real.image_size).double().numpy(),
           "pose3d_real": cam3d - cam3d[:, :1], "pose2d_px": px, "image_size": real.image_size,
           "intrinsics": real.intrinsics, "subject": real.subject.astype(str),
           "sequence": np.asarray([domain.views[v]["sequence"] for v in real.view]), "frame": real.frame,
           "domain": np.asarray(domain.name), "filled_joints": np.asarray(filled, dtype=str)}
    return out


# -- writing ---------------------------------------------------------------------------------------
def _npz(arrays: dict):
    return lambda path: np.savez_compressed(path, **arrays)


def _check_finite(domain: Domain, files: dict[Path, object]) -> None:
    def walk(x, where):
        if isinstance(x, np.ndarray) and x.dtype == object and x.ndim == 0:
            walk(x[()], where)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(v, f"{where}/{k}")
        elif isinstance(x, (list, tuple)):
            for i, v in enumerate(x):
                walk(v, f"{where}[{i}]")
        elif isinstance(x, np.ndarray) and x.dtype.kind == "f" and not np.isfinite(x).all():
            raise PosedaInputError(f"domain {domain.name}", f"{where} would hold NaN or infinite values: a peer cannot read it")

    for path, arrays in files.items():
        if isinstance(arrays, dict):
            for key in ("positions_3d", "positions_2d", "pose3d", "pose2d"):
                if key in arrays:
                    walk(arrays[key], f"{path.name}:{key}")


def export_domain(domain: Domain, fmt: str, out: Path, name: str | None = None, subjects: list[str] | None = None,
                  force: bool = False) -> Exported:
    """Write ``domain`` (only ``subjects`` if given) in ``fmt`` into ``out`` laid out as the peer's
    checkout (see the module doc). Every array is made and checked before the first file is
    written; then all files are written or none, and none over an existing file unless ``force``."""
    make = FORMATS.lookup(fmt, "--format")
    out = Path(out)
    files, how = make(domain, name, subjects)
    files = {Path(rel): content for rel, content in files.items()}
    for rel, content in files.items():
        if rel.is_absolute() or ".." in rel.parts or not isinstance(content, (dict, str, bytes)):
            raise PosedaInputError(f"--format {fmt}", f"{rel}: an export writes arrays (dict), text or bytes to a path "
                                                      "inside --out")
    _check_finite(domain, files)
    refuse_existing([out / p for p, a in files.items() if not isinstance(a, bytes) or _differs(out / p, a)], force)
    written = []
    with staged_files(out, force) as stage:
        for rel, arrays in files.items():
            if isinstance(arrays, bytes):
                if not _differs(out / rel, arrays):
                    continue  # the same file is there already
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                (stage / rel).write_bytes(arrays)
            elif isinstance(arrays, str):
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                (stage / rel).write_text(arrays)
            else:
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(stage / rel, **arrays)
            written.append(out / rel)
    return Exported(sorted(written), how)


def _differs(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() != content
    except OSError:
        return True


@register_export_format("videopose3d")
def _videopose3d_files(domain: Domain, name: str | None, subjects: list[str] | None) -> tuple[dict, list[str]]:
    """VideoPose3D's run.py: data/data_3d_<D>.npz, data/data_2d_<D>_gt.npz, data/<D>.args (a domain without 3D: its custom 2D file)"""
    views = _Views(domain, subjects)
    return _videopose3d(domain, views, peer_kind(domain, views), name)


@register_export_format("poseaug")
def _poseaug_files(domain: Domain, name: str | None, subjects: list[str] | None) -> tuple[dict, list[str]]:
    """PoseAug: Human3.6M's training files, or any other domain's evaluation split as data_extra/test_set/test_3dhp.npz"""
    views = _Views(domain, subjects)
    kind = peer_kind(domain, views)
    if kind == "footage":
        raise PosedaInputError(f"domain {domain.name}", "has no 3D: PoseAug trains and evaluates against 3D (export it as "
                                                        "videopose3d for VideoPose3D's in-the-wild inference)")
    if name is not None:
        raise PosedaInputError("--name", "PoseAug reads fixed file names (data/data_3d_h36m.npz, data_extra/test_set/"
                                         "test_3dhp.npz): --name does not apply")
    if kind == "h36m":
        three, two, _ = _h36m_files(views, H36M16)
        return ({Path("data/data_3d_h36m.npz"): three, Path("data/data_2d_h36m_gt.npz"): two},
                ["PoseAug: python run_baseline.py --keypoints gt ... (its source: data/data_3d_h36m.npz, "
                 "data/data_2d_h36m_gt.npz with 16 joints)"])
    return ({POSEAUG_TEST: poseaug_test_arrays(domain, subjects)},
            [f"PoseAug evaluates every run on {POSEAUG_TEST} (hard-coded): this file is now {domain.name}'s evaluation "
             "split (16 joints, universal skeleton, flip test in its evaluate())"])


def _videopose3d(domain: Domain, views: _Views, kind: str, name: str | None) -> tuple[dict, list[str]]:
    if kind == "footage":
        dname = name or _key(domain.name)
        files = {Path(f"data/data_2d_custom_{dname}.npz"): _footage_file(views)}
        first = next(iter(files.values()))["metadata"][()]["video_metadata"]
        subject = next(iter(first))
        files[Path(f"data/custom_{dname}.args")] = f"-d custom -k {dname} --viz-subject {subject} --viz-action custom --viz-camera 0\n"
        return files, [f"VideoPose3D (in-the-wild inference): python run.py $(cat data/custom_{dname}.args) --render "
                       "--evaluate CHECKPOINT --viz-video VIDEO --viz-output OUT.mp4 (tracks: " + ", ".join(sorted(first)) + ")"]
    default = {"h36m": "h36m", "humaneva": "humaneva15", "generic": f"poseda-{_key(domain.name)}"}[kind]
    dname = name or default
    need = {"h36m": "h36m", "humaneva": "humaneva", "generic": "poseda"}[kind]
    if (kind == "h36m" and dname != "h36m") or not dname.startswith(need):
        raise PosedaInputError("--name", f"{dname!r}: VideoPose3D's run.py loads this domain only under a name "
                                         f"{'equal to' if kind == 'h36m' else 'starting with'} {need!r}")
    if kind == "h36m":
        three, two, meta3 = _h36m_files(views, CANONICAL)
    elif kind == "humaneva":
        three, two, meta3 = _humaneva_files(views)
    else:
        three, two, meta3 = _generic_files(views)
    train, test = _split_subjects(meta3, domain)
    files = {Path(f"data/data_3d_{dname}.npz"): three, Path(f"data/data_2d_{dname}_gt.npz"): two,
             Path(f"data/{dname}.args"): _args(dname, "gt", train, test)}
    how = [f"VideoPose3D: python run.py $(cat data/{dname}.args) ... (training subjects: the {domain.name} split "
           f"'{domain.meta.get('train_split') or domain.meta.get('adapt_split')}', test: '{domain.meta.get('eval_split')}')"]
    if kind == "generic":
        from importlib import resources

        files[Path("common/poseda_dataset.py")] = (resources.files("poseda.domains") / "vp3d_dataset.py").read_bytes()
        how.insert(0, "VideoPose3D has no loader for this domain: add to run.py, beside its 'custom' branch: "
                      "elif args.dataset.startswith('poseda'): from common.poseda_dataset import PosedaDataset; "
                      "dataset = PosedaDataset(dataset_path)")
    return files, how
