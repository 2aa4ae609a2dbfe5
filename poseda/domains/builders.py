"""Builders of the built-in domains (docs: README "Built-in benchmark") and of custom domains.

Every domain is real recorded motion. What is simulated is only the cameras, from rig files
that follow the published calibrations of real datasets; all draws are seeded per sequence name,
so a domain is the same on every machine and in any build order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from poseda.data.splits import hash_split
from poseda.datasets.bvh import BvhMotion, bvh_fk, read_bvh
from poseda.datasets.calibration import read_h36m_cameras, read_humaneva_extrinsics
from poseda.datasets.expmap import cmu_expmap_fk, h36m_expmap_fk, read_cmu_expmap, read_h36m_expmap
from poseda.datasets.humaneva import read_humaneva
from poseda.datasets.skeleton_template import load_skeleton_template
from poseda.domains.mirror import Archive, fact_file, require_file
from poseda.domains.rig import Rig, load_rig, sample_cameras, sequence_rng
from poseda.errors import PosedaInputError
from poseda.geometry.camera import fit_intrinsics, project, world_to_camera
from poseda.geometry.rotations import axis_angle_to_matrix
from poseda.skeleton.layouts import BANDAI_FROM_BVH, CANONICAL, CMU_FROM_38, H36M_FROM_32, HUMANEVA_FROM_15, DatasetMapping

CMU_UNITS_TO_M = 0.0254 / 0.45  # ASF header: length 0.45, inches
# The CMU export states no frame rate. Walking at 120 Hz gives 1.2 m/s and about 1.9 steps/s,
# running 2.8 m/s (tests/domains/test_motion_data.py checks this on the real files); so 120 Hz, the
# rate CMU records at. We keep every 4th frame: 30 Hz.
CMU_FPS = 120.0
CMU_STRIDE = 4
H36M_FPS = 50.0
H36M_TRAIN = ("S1", "S5", "S6", "S7", "S8")
H36M_TEST = ("S9", "S11")
H36M_ACTIONS = ("directions", "discussion", "eating", "greeting", "phoning", "posing", "purchases", "sitting",
                "sittingdown", "smoking", "takingphoto", "waiting", "walking", "walkingdog", "walkingtogether")
# Trials missing from the public exponential-map copy (shared data README, "Gaps").
H36M_KNOWN_GAPS = frozenset(
    "S5/directions_1 S5/discussion_1 S5/discussion_2 S5/sittingdown_1 S5/waiting_1 S5/waiting_2 "
    "S7/discussion_1 S7/discussion_2 S7/phoning_1 S7/sitting_1 S7/sittingdown_1 S7/sittingdown_2 "
    "S7/smoking_1 S7/smoking_2 S7/waiting_1 S7/waiting_2 S9/discussion_1 S9/discussion_2 S9/smoking_1 "
    "S9/smoking_2 S11/sittingdown_1".split()
)
TILT_DRIFT_SIGMA_S = 2.0
MIN_DEPTH_M = 1.0
SEED = 2023


@dataclass
class Motion:
    """One sequence of world motion: canonical joints in a z-up world, metres, floor at z = 0."""

    name: str
    subject: str
    action: str
    split: str
    joints: np.ndarray  # [T, 17, 3] (NaN for missing joints)
    frame: np.ndarray  # [T] frame index in the source file


def yup_to_zup(p: np.ndarray) -> np.ndarray:
    """(x, y, z) with y up -> (x, -z, y) with z up (a rotation, handedness kept)."""
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], -1)


def place_on_floor(world_yup: np.ndarray, floor_percentile: float = 1.0) -> np.ndarray:
    """Shift a y-up sequence so its floor (a low percentile of the lowest joint) is at y = 0 and
    its horizontal path is centred on the origin; returns z-up."""
    p = world_yup.copy()
    lowest = np.nanmin(p[..., 1], -1)  # missing joints (NaN) are ignored
    p[..., 1] -= np.percentile(lowest, floor_percentile)
    root = p[:, 0, [0, 2]]
    centre = (root.min(0) + root.max(0)) / 2
    p[..., 0] -= centre[0]
    p[..., 2] -= centre[1]
    return yup_to_zup(p)


# ---------------------------------------------------------------------------------------------
# cameras -> views

def _views_from_cameras(motion: Motion, k: np.ndarray, size: np.ndarray, dist: np.ndarray, rot: np.ndarray,
                        centre: np.ndarray, cam_names: list[str], distortion_model: str,
                        joints2d: list[np.ndarray] | None = None, drop_invalid: bool = True):
    """Project one motion into each camera; yields per-view dicts. Frames where a joint is
    behind or closer than MIN_DEPTH_M, or outside the image, are dropped (synthetic cameras)."""
    x = torch.from_numpy(motion.joints)
    out = []
    for c in range(len(k)):
        xc = world_to_camera(x, torch.from_numpy(rot[c]), torch.from_numpy(centre[c]))
        if joints2d is None:
            uv = project(xc, torch.from_numpy(k[c]), torch.from_numpy(dist[c]), distortion_model).numpy()
        else:
            uv = joints2d[c]
        xc = xc.numpy()
        ok = np.ones(len(xc), bool)
        if drop_invalid:
            present = ~np.isnan(xc[0, :, 0])
            z = xc[:, present, 2]
            u, v = uv[:, present, 0], uv[:, present, 1]
            ok = (z > MIN_DEPTH_M).all(1) & (u >= 0).all(1) & (u < size[c, 0]).all(1) & (v >= 0).all(1) & (v < size[c, 1]).all(1)
        out.append(dict(camera=cam_names[c], joints3d=xc[ok], joints2d=uv[ok], frame=motion.frame[ok], total=len(ok),
                        intrinsics=k[c], image_size=size[c], distortion=dist[c], cam_rotation=rot[c], cam_centre=centre[c]))
    return out


class DomainAccumulator:
    """Collects views and writes the domain's arrays."""

    def __init__(self):
        self.views: list[dict] = []
        self.chunks: dict[str, list[np.ndarray]] = {k: [] for k in ("joints3d", "joints2d", "view", "frame")}
        self.per_view: dict[str, list[np.ndarray]] = {k: [] for k in ("intrinsics", "distortion", "image_size", "cam_rotation", "cam_centre")}
        self.dropped = 0
        self.total = 0

    def add(self, motion: Motion, views: list[dict]):
        for v in views:
            self.total += v["total"]
            self.dropped += v["total"] - len(v["joints3d"])
            if len(v["joints3d"]) == 0:
                continue
            vid = len(self.views)
            self.views.append(dict(sequence=motion.name, subject=motion.subject, action=motion.action,
                                   split=motion.split, camera=v["camera"], frames=int(len(v["joints3d"]))))
            self.chunks["joints3d"].append(v["joints3d"].astype(np.float32))
            self.chunks["joints2d"].append(np.asarray(v["joints2d"], np.float32))
            self.chunks["view"].append(np.full(len(v["joints3d"]), vid, np.int32))
            self.chunks["frame"].append(np.asarray(v["frame"], np.int32))
            for key in self.per_view:
                self.per_view[key].append(np.asarray(v[key], np.float64))

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.views:
            raise PosedaInputError("domain", "no frame survived preparation (every view was empty)")
        out = {k: np.concatenate(v) for k, v in self.chunks.items()}
        out.update({k: np.stack(v) for k, v in self.per_view.items()})
        return out

    def order(self):
        """Sort views by (split, sequence, camera) so the build order never matters."""
        keys = sorted(range(len(self.views)), key=lambda i: (self.views[i]["split"], self.views[i]["sequence"], self.views[i]["camera"]))
        self.views = [self.views[i] for i in keys]
        for k in self.chunks:
            self.chunks[k] = [self.chunks[k][i] for i in keys]
        for new in range(len(keys)):
            self.chunks["view"][new] = np.full_like(self.chunks["view"][new], new)
        for k in self.per_view:
            self.per_view[k] = [self.per_view[k][i] for i in keys]


def _meta(name, role, fps, mapping: DatasetMapping, acc: DomainAccumulator, splits: dict, train_split, eval_split,
          adapt_split, sources: dict, **extra) -> dict:
    return dict(name=name, role=role, fps=fps, joint_mask=mapping.mask.tolist(), joint_names=list(CANONICAL.joints),
                joint_mapping=dict(dataset=mapping.dataset, source_index=list(mapping.source), notes=mapping.notes),
                splits=splits, train_split=train_split, eval_split=eval_split, adapt_split=adapt_split,
                views=acc.views, frames_dropped=acc.dropped, frames_total=acc.total, sources=sources, **extra)


# ---------------------------------------------------------------------------------------------
# h36m

def h36m_world_motion(values: np.ndarray, template, fps: float = H36M_FPS) -> np.ndarray:
    """Human3.6M expmap sequence -> [T, 32, 3] metres, y up, standing on the floor.

    The integrated root orientation drifts in tilt (the pelvis of a walking subject ends up
    leaning 25-40 degrees), so its slow part is removed: the body-up axis is low-pass filtered
    (Gaussian, TILT_DRIFT_SIGMA_S) and the rotation taking the filtered axis to vertical is
    applied. Heading and fast tilt are kept. The root height puts the lowest joint on the floor
    in every frame; the horizontal path is the integrated one.
    """
    fk = h36m_expmap_fk(values, template)
    rot, local, path = fk["root_rot"], fk["local"], fk["root_pos"]
    up = rot[:, :, 1]
    slow = gaussian_filter1d(up, TILT_DRIFT_SIGMA_S * fps, axis=0, mode="nearest")
    slow /= np.linalg.norm(slow, axis=1, keepdims=True)
    # minimal rotation taking `slow` to +y, batched (Rodrigues with axis slow x y)
    y = np.array([0.0, 1.0, 0.0])
    axis = np.cross(slow, y)
    s = np.linalg.norm(axis, axis=1, keepdims=True)
    c = slow @ y
    angle = np.arctan2(s[:, 0], c)
    axis = np.where(s > 1e-12, axis / np.maximum(s, 1e-12), 0)
    corr = axis_angle_to_matrix(torch.from_numpy(axis * angle[:, None])).numpy()
    rot = corr @ rot
    body = np.einsum("tij,tkj->tki", rot, local)
    world = body.copy()
    world[..., 0] += path[:, None, 0]
    world[..., 2] += path[:, None, 2]
    world[..., 1] -= body[..., 1].min(1, keepdims=True)
    return world


def build_h36m(root: Path, progress: Callable[[int], None] = lambda n: None) -> tuple[dict, dict]:
    template = load_skeleton_template(fact_file(root, "skeletons/h36m-expmap-32.json"), 1e-3)
    cams = read_h36m_cameras(fact_file(root, "cameras/h36m.json"))
    archive = Archive(root, "h36m-expmap.tar.xz", "h3.6m")
    acc = DomainAccumulator()
    seen = set()
    pat = re.compile(r"h3\.6m/dataset/(S\d+)/([a-z]+)_(\d)\.txt$")
    for name, data in archive.iter_members("h3.6m/dataset/S*/*.txt"):
        m = pat.search(name)
        if not m or m.group(1) not in H36M_TRAIN + H36M_TEST:
            continue
        subj, action, trial = m.groups()
        seen.add(f"{subj}/{action}_{trial}")
        values = read_h36m_expmap(data, archive.where(name))
        world = place_world_h36m(values, template, cams, subj)
        motion = Motion(f"{subj}/{action}_{trial}", subj, action, "train" if subj in H36M_TRAIN else "test",
                        H36M_FROM_32.apply(world), np.arange(len(world)))
        c = cams[subj]
        acc.add(motion, _views_from_cameras(motion, c["intrinsics"], c["image_size"], c["distortion"], c["rotation"],
                                            c["centre"], c["ids"], "h36m"))
        progress(1)
    expected = {f"{s}/{a}_{t}" for s in H36M_TRAIN + H36M_TEST for a in H36M_ACTIONS for t in (1, 2)} - H36M_KNOWN_GAPS
    missing = sorted(expected - seen)
    if missing:
        raise PosedaInputError(archive.location, f"{len(missing)} expected file(s) missing, first h3.6m/dataset/{missing[0]}.txt")
    acc.order()
    meta = _meta("h36m", "source", H36M_FPS, H36M_FROM_32, acc, {"train": "source training (S1 S5 S6 S7 S8)",
                 "test": "evaluation (S9 S11)"}, "train", "test", "train",
                 {"motion": "h36m-expmap.tar.xz", "cameras": "cameras/h36m.json"},
                 cameras="the 4 real Human3.6M cameras with distortion and each subject's extrinsics",
                 placement="recentred on the capture-area centre, feet on the floor, tilt drift removed "
                           f"(sigma {TILT_DRIFT_SIGMA_S} s)")
    return meta, acc.arrays()


def place_world_h36m(values, template, cams, subj) -> np.ndarray:
    """A Human3.6M sequence placed in the subject's capture area: z-up world, metres."""
    world = yup_to_zup(h36m_world_motion(values, template))
    path = world[:, 0, :2]
    world[..., :2] -= (path.min(0) + path.max(0)) / 2
    world += cams[subj]["area_centre"]
    return world


# ---------------------------------------------------------------------------------------------
# synthetic-camera targets

def build_from_motions(name, role, fps, mapping, motions: Iterable[Motion], rig: Rig, seed: int, sources: dict,
                       splits: dict, train_split, eval_split, adapt_split, progress=lambda n: None, **extra):
    """A domain (meta, arrays) from world motions, every sequence seen by cameras drawn from ``rig``
    (seeded by the sequence's name)."""
    acc = DomainAccumulator()
    for motion in motions:
        cams = sample_cameras(rig, sequence_rng(seed, motion.name), np.zeros(2))
        dist = np.zeros((len(cams.intrinsics), 5))
        names = [f"{g}{i}" for i, g in enumerate(cams.group)]
        acc.add(motion, _views_from_cameras(motion, cams.intrinsics, cams.image_size, dist, cams.rotation,
                                            cams.centre, names, "opencv"))
        progress(1)
    acc.order()
    meta = _meta(name, role, fps, mapping, acc, splits, train_split, eval_split, adapt_split, sources,
                 rig=rig.text, rig_name=rig.name, seed=seed, **extra)
    return meta, acc.arrays()


def cmu_motions(root: Path) -> Iterable[Motion]:
    template = load_skeleton_template(fact_file(root, "skeletons/cmu-expmap-38.json"), CMU_UNITS_TO_M)
    archive = Archive(root, "cmu-expmap.tar.xz", "cmu")
    pat = re.compile(r"cmu/(train|test)/([a-z_]+)/([a-z_]+)_(\d+)\.txt$")
    for name, data, m in archive.iter_matching("cmu/*/*/*.txt", pat, "CMU motion files (cmu/{train,test}/<action>/<action>_<n>.txt)"):
        split, action, _, num = m.groups()
        values = read_cmu_expmap(data, archive.where(name))[::CMU_STRIDE]
        world = place_on_floor(cmu_expmap_fk(values, template))
        yield Motion(f"{split}/{action}_{num}", f"{action}_{num}", action, split, CMU_FROM_38.apply(world),
                     np.arange(len(world)) * CMU_STRIDE)


def build_cmu_3dhp(root: Path, progress=lambda n: None, seed: int = SEED, rig: Rig | None = None):
    rig = rig or load_rig("mpi-inf-3dhp")
    return build_from_motions("cmu-3dhp", "target", CMU_FPS / CMU_STRIDE, CMU_FROM_38, cmu_motions(root), rig, seed,
                           {"motion": "cmu-expmap.tar.xz", "intrinsics": "cameras/mpi-inf-3dhp-test.json (in the rig)"},
                           {"train": "adaptation (2D only)", "test": "evaluation"}, None, "test", "train", progress,
                           cameras="8 cameras modelled on MPI-INF-3DHP (rig mpi-inf-3dhp)")


#: CMU's terms, as every domain made from its motion records them
CMU_LICENCE = "CMU Graphics Lab motion capture: free for research and commercial use, no resale of the data itself"


def mid_hip_pelvis(joints: np.ndarray) -> np.ndarray:
    """[..., 17, 3] canonical poses with the pelvis moved to the midpoint of the hips (Human3.6M's
    convention, which h36m16 lifters and COCO's mid-hips follow; CMU's root sits 108 mm above its
    hip joints)."""
    out = joints.copy()
    out[..., CANONICAL.index("Pelvis"), :] = joints[..., CANONICAL.indices(["LHip", "RHip"]), :].mean(-2)
    return out


def build_cmu_handheld(root: Path, progress=lambda n: None, seed: int = SEED, rig: Rig | None = None):
    """A source domain anyone may train on, commercially too: CMU's training split (the motion of
    ``poseda/domains/motion/cmu-train.npz``) seen by 16 phone-like cameras per sequence (rig
    ``handheld-16``), its pelvis at the midpoint of the hips (:func:`mid_hip_pelvis`). The open
    bundled lifter is trained on it (``poseda/configs/open.yaml``)."""
    rig = rig or load_rig("handheld-16")
    motions = (replace(m, joints=mid_hip_pelvis(m.joints))
               for m in cmu_motions(root) if m.split == "train")
    return build_from_motions("cmu-handheld", "source", CMU_FPS / CMU_STRIDE, CMU_FROM_38, motions, rig, seed,
                              {"motion": "cmu-expmap.tar.xz (train/ only)"}, {"train": "source training"}, "train", None,
                              None, progress, cameras="16 hand-held style cameras per sequence (rig handheld-16)",
                              pelvis="midpoint of the hips (CMU's root moved 108 mm down to it)",
                              licence=CMU_LICENCE)


def _bvh_motion(bvh: BvhMotion, mapping: DatasetMapping, units_to_m: float, name: str, subject: str, action: str,
                split: str) -> Motion:
    pos = bvh_fk(bvh) * units_to_m
    joints = np.stack([pos[:, bvh.index(n)] for n in mapping.source_joints], 1)
    world = place_on_floor(joints)
    return Motion(name, subject, action, split, mapping.apply(world), np.arange(len(world)))


def bandai_motions(root: Path) -> Iterable[Motion]:
    archive = Archive(root, "bandai-namco-1.tar.xz", "bandai-namco-1")
    pat = re.compile(r"dataset-1_([a-z-]+)_([a-z-]+)_(\d+)\.bvh$")
    for name, data, m in archive.iter_matching("bandai-namco-1/data/*.bvh", pat, "BVH clips (bandai-namco-1/data/*.bvh)"):
        content, style, _ = m.groups()
        fname = Path(name).name
        bvh = read_bvh(data, archive.where(name))
        try:
            motion = _bvh_motion(bvh, BANDAI_FROM_BVH, 0.01, Path(name).stem, style, content, hash_split(fname))
        except KeyError as e:
            raise PosedaInputError(archive.where(name), str(e.args[0])) from None
        yield motion


def build_bandai_wild(root: Path, progress=lambda n: None, seed: int = SEED, rig: Rig | None = None):
    rig = rig or load_rig("handheld")
    return build_from_motions("bandai-wild", "target", 30.0, BANDAI_FROM_BVH, bandai_motions(root), rig, seed,
                           {"motion": "bandai-namco-1.tar.xz"}, {"train": "adaptation (2D only), 80% of clips",
                           "test": "evaluation, 20% of clips by a hash of the file name"}, None, "test", "train", progress,
                           cameras="one hand-held style camera per clip (rig handheld)")


# ---------------------------------------------------------------------------------------------
# humaneva: real 3D, real 2D, real extrinsics, fitted intrinsics

def humaneva_intrinsics(positions_3d, positions_2d, ext) -> dict:
    """Fit (fx, fy, cx, cy) per subject and camera from all of that subject's 3D-2D pairs."""
    out = {}
    for subj, cams in ext.items():
        keys = [k for k in positions_3d if k.endswith("/" + subj)]
        for ci, cam in enumerate(cams):
            x = np.concatenate([positions_3d[k][a] for k in keys for a in positions_3d[k]]).reshape(-1, 3)
            uv = np.concatenate([positions_2d[k][a][ci] for k in keys for a in positions_3d[k]]).reshape(-1, 2)
            xc = world_to_camera(torch.from_numpy(x)[None], torch.from_numpy(cam["rotation"]), torch.from_numpy(cam["centre"]))[0]
            kk = fit_intrinsics(xc, torch.from_numpy(uv).double())
            err = (project(xc[None], kk)[0] - torch.from_numpy(uv)).norm(dim=-1)
            out[(subj, ci)] = (kk.numpy(), float(err.median()))
    return out


def build_humaneva(root: Path, progress=lambda n: None):
    p3 = require_file(root, "humaneva-i/data_3d_humaneva15.npz", "HumanEva-I 3D (VideoPose3D layout)")
    p2 = require_file(root, "humaneva-i/data_2d_humaneva15_gt.npz", "HumanEva-I 2D ground truth")
    ext = read_humaneva_extrinsics(fact_file(root, "cameras/humaneva-i.json"))
    he = read_humaneva(p3, p2)
    fits = humaneva_intrinsics(he.positions_3d, he.positions_2d, ext)
    acc = DomainAccumulator()
    for key in sorted(he.positions_3d):
        split_name, subj = key.split("/")
        split = {"Train": "train", "Validate": "validate"}[split_name]
        for chunk in sorted(he.positions_3d[key]):
            motion = Motion(f"{key}/{chunk}", subj, chunk.split(" ")[0], split,
                            HUMANEVA_FROM_15.apply(he.positions_3d[key][chunk].astype(np.float64)),
                            np.arange(len(he.positions_3d[key][chunk])))
            cams = ext[subj]
            k = np.stack([fits[(subj, c)][0] for c in range(len(cams))])
            uv = [HUMANEVA_FROM_15.apply(he.positions_2d[key][chunk][c]) for c in range(len(cams))]
            acc.add(motion, _views_from_cameras(motion, k, np.tile(he.image_size, (len(cams), 1)).astype(float),
                                                np.zeros((len(cams), 5)), np.stack([c["rotation"] for c in cams]),
                                                np.stack([c["centre"] for c in cams]), [c["id"] for c in cams], "opencv",
                                                joints2d=uv, drop_invalid=False))
            progress(1)
    acc.order()
    fit_report = {f"{s}/C{c + 1}": {"intrinsics": v[0].round(2).tolist(), "median_reprojection_px": round(v[1], 3)}
                  for (s, c), v in sorted(fits.items())}
    meta = _meta("humaneva", "target", 60.0, HUMANEVA_FROM_15, acc, {"train": "adaptation (2D only): Train/*",
                 "validate": "evaluation: Validate/*"}, None, "validate", "train",
                 {"3d": "humaneva-i/data_3d_humaneva15.npz", "2d": "humaneva-i/data_2d_humaneva15_gt.npz",
                  "cameras": "cameras/humaneva-i.json"}, intrinsics_fit=fit_report,
                 cameras="the 3 real colour cameras: published extrinsics, intrinsics fitted to the real 2D/3D pairs",
                 **{"2d_source": "ground truth (real, annotated)"})
    return meta, acc.arrays()


# ---------------------------------------------------------------------------------------------
# custom domains from a user's motion folder

KNOWN_BVH_MAPPINGS: dict[str, dict[str, str]] = {
    "bandai": {n: BANDAI_FROM_BVH.source_joints[i] for n, i in zip(CANONICAL.joints, BANDAI_FROM_BVH.source) if i >= 0},
    "cmu-bvh": dict(Pelvis="Hips", RHip="RightUpLeg", RKnee="RightLeg", RAnkle="RightFoot", LHip="LeftUpLeg",
                    LKnee="LeftLeg", LAnkle="LeftFoot", Spine="Spine", Thorax="Spine1", Neck="Neck1", Head="Head",
                    LShoulder="LeftArm", LElbow="LeftForeArm", LWrist="LeftHand", RShoulder="RightArm",
                    RElbow="RightForeArm", RWrist="RightHand"),
    "mixamo": dict(Pelvis="mixamorig:Hips", RHip="mixamorig:RightUpLeg", RKnee="mixamorig:RightLeg",
                   RAnkle="mixamorig:RightFoot", LHip="mixamorig:LeftUpLeg", LKnee="mixamorig:LeftLeg",
                   LAnkle="mixamorig:LeftFoot", Spine="mixamorig:Spine1", Thorax="mixamorig:Neck",
                   Head="mixamorig:Head", LShoulder="mixamorig:LeftArm", LElbow="mixamorig:LeftForeArm",
                   LWrist="mixamorig:LeftHand", RShoulder="mixamorig:RightArm", RElbow="mixamorig:RightForeArm",
                   RWrist="mixamorig:RightHand"),
}


def _bvh_mapping(bvh: BvhMotion, where: str, joint_map: dict[str, str] | None) -> DatasetMapping:
    if joint_map is None:
        for pairs in KNOWN_BVH_MAPPINGS.values():
            if all(v in bvh.names for v in pairs.values()):
                joint_map = pairs
                break
        else:
            raise PosedaInputError(where, "BVH joint names match no known skeleton (Bandai Namco, CMU BVH, Mixamo): "
                                          "pass a joint map YAML (canonical joint: BVH joint)")
    for canon, src in joint_map.items():
        if canon not in CANONICAL.joints:
            raise PosedaInputError(where, f"joint map: unknown canonical joint name {canon!r} (known: {', '.join(CANONICAL.joints)})")
        if src not in bvh.names:
            raise PosedaInputError(where, f"joint map: BVH has no joint named {src!r}")
    if "Pelvis" not in joint_map:
        raise PosedaInputError(where, "joint map must name the Pelvis (root) joint")
    src = tuple(bvh.names.index(joint_map[n]) if n in joint_map else -1 for n in CANONICAL.joints)
    return DatasetMapping("custom-bvh", tuple(bvh.names), src, "user joint map")


def guess_units_to_m(heights: np.ndarray) -> float:
    """Units of a motion from the subject's vertical extent (about 1.5-1.9 m): metres,
    centimetres, millimetres or inches."""
    extent = float(np.median(heights))
    for scale in (1.0, 0.01, 0.001, 0.0254):
        if 1.0 <= extent * scale <= 2.3:
            return scale
    raise ValueError(f"cannot tell the units: the body is {extent:g} units tall")


def custom_motions(folder: Path, joint_map: dict[str, str] | None, units_to_m: float | None, up: str) -> Iterable[Motion]:
    """Motions from a folder of BVH files (any skeleton with a joint map) or npz files holding
    ``joints3d`` [T, 17, 3] in the Human3.6M 17-joint order (NaN for missing joints)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".bvh", ".npz"))
    if not files:
        raise PosedaInputError(folder, "no .bvh or .npz motion files found")
    for path in files:
        rel = path.relative_to(folder).as_posix()
        if path.suffix.lower() == ".bvh":
            bvh = read_bvh(path.read_bytes(), str(path))
            mapping = _bvh_mapping(bvh, str(path), joint_map)
            pos = bvh_fk(bvh)
            joints = mapping.apply(pos)
            yup = True if up == "auto" else up == "y"
        else:
            try:
                with np.load(path, allow_pickle=False) as z:
                    joints = np.asarray(z["joints3d"], np.float64)
            except KeyError:
                raise PosedaInputError(path, "npz has no 'joints3d' array") from None
            except (ValueError, OSError) as e:
                raise PosedaInputError(path, f"not a readable npz ({e})") from None
            if joints.ndim != 3 or joints.shape[1:] != (17, 3):
                raise PosedaInputError(path, f"joints3d has shape {joints.shape}, expected [T, 17, 3] (Human3.6M 17 order)")
            if not np.isfinite(joints[:, 0]).all():
                raise PosedaInputError(path, "the Pelvis joint has NaN or infinite values")
            yup = up == "y"
        if len(joints) == 0:
            raise PosedaInputError(path, "no frames")
        vert = joints[..., 1] if yup else joints[..., 2]
        try:
            scale = units_to_m or guess_units_to_m(np.nanmax(vert, 1) - np.nanmin(vert, 1))
        except ValueError as e:
            raise PosedaInputError(path, f"{e}; pass --units") from None
        joints = joints * scale
        if not yup:  # z-up -> y-up for placement
            joints = np.stack([joints[..., 0], joints[..., 2], -joints[..., 1]], -1)
        world = place_on_floor(joints)
        name = rel.rsplit(".", 1)[0]
        yield Motion(name, name.split("/")[0], Path(rel).stem, hash_split(rel), world, np.arange(len(world)))


def load_joint_map(path: Path) -> dict[str, str]:
    import yaml

    from poseda.fileio import check_input

    check_input(path, "file", "joint map file")
    try:
        d = yaml.safe_load(Path(path).read_text())
    except (yaml.YAMLError, UnicodeDecodeError):
        raise PosedaInputError(path, "not valid YAML") from None
    if not isinstance(d, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in d.items()):
        raise PosedaInputError(path, "a joint map is a mapping 'CanonicalJoint: source joint name'")
    return d


def build_custom(name: str, folder: Path, rig: Rig, role: str = "target", seed: int = SEED, fps: float = 30.0,
                 joint_map: dict[str, str] | None = None, units_to_m: float | None = None, up: str = "auto",
                 progress=lambda n: None):
    from poseda.fileio import check_input, safe_name

    safe_name(name, "domain name")
    check_input(folder, "dir", "motion folder")
    if role not in ("source", "target"):
        raise PosedaInputError("--role", f"must be 'source' or 'target', got {role!r}")
    if not (isinstance(fps, (int, float)) and np.isfinite(fps) and 0 < fps <= 10000):
        raise PosedaInputError("--fps", f"must be a finite number above 0 and at most 10000, got {fps}")
    if units_to_m is not None and not (np.isfinite(units_to_m) and 0 < units_to_m <= 1e3):
        raise PosedaInputError("--units", f"must be a finite number of metres per unit above 0, got {units_to_m}")
    motions = list(custom_motions(Path(folder), joint_map, units_to_m, up))
    mask = np.logical_and.reduce([~np.isnan(m.joints[0, :, 0]) for m in motions])
    mapping = DatasetMapping("custom", tuple(CANONICAL.joints), tuple(i if k else -1 for i, k in enumerate(mask)), "custom")
    is_src = role == "source"
    return build_from_motions(name, role, fps, mapping, motions, rig, seed, {"motion": str(folder)},
                           {"train": "source training" if is_src else "adaptation (2D only), 80% of files",
                            "test": "evaluation, 20% of files by a hash of the name"},
                           "train" if is_src else None, "test", "train", progress, cameras=f"rig {rig.name}")


BUILTIN = {
    "h36m": build_h36m,
    "humaneva": build_humaneva,
    "cmu-3dhp": build_cmu_3dhp,
    "cmu-handheld": build_cmu_handheld,
    "bandai-wild": build_bandai_wild,
}
#: a builder's revision, bumped when it changes what it makes, so that prepared copies are rebuilt
#: (cmu-handheld 2: the pelvis at the midpoint of the hips)
REVISION = {"cmu-handheld": 2}
