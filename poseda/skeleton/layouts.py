"""Joint layouts: the canonical Human3.6M 17-joint layout, each dataset's mapping into it,
and the joint sets an experiment runs on.

A layout is data: names, parents, left/right pairs. Datasets map into the canonical layout with
an explicit *missing* (-1) for joints they do not have; an experiment uses the intersection of
its source and target joint sets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from poseda.errors import PosedaInputError


@dataclass(frozen=True)
class JointLayout:
    name: str
    joints: tuple[str, ...]
    parents: tuple[int, ...]

    def __post_init__(self):
        if len(self.joints) != len(self.parents):
            raise ValueError(f"layout {self.name}: {len(self.joints)} names, {len(self.parents)} parents")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, name: str) -> int:
        try:
            return self.joints.index(name)
        except ValueError:
            raise PosedaInputError(f"layout {self.name}", f"unknown joint name {name!r}") from None

    def indices(self, names: Sequence[str]) -> list[int]:
        return [self.index(n) for n in names]

    @property
    def left(self) -> tuple[int, ...]:
        return tuple(i for i, n in enumerate(self.joints) if n.startswith("L") and "R" + n[1:] in self.joints)

    @property
    def right(self) -> tuple[int, ...]:
        return tuple(self.joints.index("R" + self.joints[i][1:]) for i in self.left)

    @property
    def flip_permutation(self) -> list[int]:
        """Index map that swaps left and right joints (for flip augmentation / flip test)."""
        perm = list(range(self.num_joints))
        for a, b in zip(self.left, self.right):
            perm[a], perm[b] = b, a
        return perm

    @property
    def bones(self) -> list[tuple[int, int]]:
        return [(p, j) for j, p in enumerate(self.parents) if p >= 0]

    def subset(self, names: Sequence[str], name: str | None = None) -> "JointLayout":
        """Keep ``names`` (in this layout's order); a kept joint whose parent is dropped hangs from
        its nearest kept ancestor."""
        keep = [j for j in range(self.num_joints) if self.joints[j] in set(names)]
        missing = set(names) - set(self.joints)
        if missing:
            raise PosedaInputError(f"layout {self.name}", f"unknown joint name(s) {sorted(missing)}")
        pos = {j: k for k, j in enumerate(keep)}
        parents = []
        for j in keep:
            p = self.parents[j]
            while p >= 0 and p not in pos:
                p = self.parents[p]
            parents.append(pos[p] if p >= 0 else -1)
        if parents.count(-1) != 1:
            raise PosedaInputError(f"layout {self.name}", "a joint subset must keep the root joint")
        return JointLayout(name or f"{self.name}-{len(keep)}", tuple(self.joints[j] for j in keep), tuple(parents))


H36M17 = JointLayout(
    "h36m17",
    ("Pelvis", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Spine", "Thorax", "Neck",
     "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist"),
    (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
)
CANONICAL = H36M17
ROOT = 0

# The 16-joint set of PoseAug / PoseDA (Human3.6M 17 without Neck/Nose); MPI-INF-3DHP's test set
# and the cmu-3dhp / bandai-wild targets use it.
H36M16 = H36M17.subset([n for n in H36M17.joints if n != "Neck"], "h36m16")
# The 15 joints HumanEva-I has (no Spine, no Neck).
HUMANEVA15 = H36M17.subset([n for n in H36M17.joints if n not in ("Spine", "Neck")], "humaneva15")

JOINT_SETS = {"h36m17": H36M17, "h36m16": H36M16, "humaneva15": HUMANEVA15}


@dataclass(frozen=True)
class DatasetMapping:
    """How one dataset's joint array maps into the canonical layout.

    ``source`` lists, for each canonical joint, the index of the dataset joint that plays its
    role, or -1 where the dataset has no such joint. ``notes`` documents each choice.
    """

    dataset: str
    source_joints: tuple[str, ...]
    source: tuple[int, ...]
    notes: str = ""

    def __post_init__(self):
        if len(self.source) != CANONICAL.num_joints:
            raise ValueError(f"{self.dataset}: mapping must list {CANONICAL.num_joints} entries")

    @property
    def mask(self) -> np.ndarray:
        """[17] bool: which canonical joints this dataset has."""
        return np.asarray(self.source) >= 0

    @property
    def present(self) -> tuple[str, ...]:
        return tuple(n for n, s in zip(CANONICAL.joints, self.source) if s >= 0)

    def apply(self, arr: np.ndarray) -> np.ndarray:
        """[..., J_src, C] -> [..., 17, C]; missing joints are NaN."""
        idx = np.asarray(self.source)
        out = np.take(arr, np.maximum(idx, 0), axis=-2).astype(np.result_type(arr.dtype, np.float32))
        out[..., idx < 0, :] = np.nan
        return out


def dataset_mapping(dataset: str, source_joints: Sequence[str], pairs: dict[str, str], notes: str) -> DatasetMapping:
    src = [source_joints.index(pairs[n]) if n in pairs else -1 for n in CANONICAL.joints]
    return DatasetMapping(dataset, tuple(source_joints), tuple(src), notes)


H36M_EXPMAP32_NAMES = (
    "Hip", "RHip", "RKnee", "RFoot", "RToeBase", "RToeSite", "LHip", "LKnee", "LFoot", "LToeBase",
    "LToeSite", "SpineBase", "Spine", "Thorax", "Neck/Nose", "Head", "LShoulderAnchor", "LShoulder",
    "LElbow", "LWrist", "LHand", "LHandThumb", "LThumbSite", "LWristEnd", "RShoulderAnchor",
    "RShoulder", "RElbow", "RWrist", "RHand", "RHandThumb", "RThumbSite", "RWristEnd",
)
H36M_FROM_32 = dataset_mapping(
    "h36m-expmap-32", H36M_EXPMAP32_NAMES,
    dict(Pelvis="Hip", RHip="RHip", RKnee="RKnee", RAnkle="RFoot", LHip="LHip", LKnee="LKnee",
         LAnkle="LFoot", Spine="Spine", Thorax="Thorax", Neck="Neck/Nose", Head="Head",
         LShoulder="LShoulder", LElbow="LElbow", LWrist="LWrist", RShoulder="RShoulder",
         RElbow="RElbow", RWrist="RWrist"),
    "the usual 17 of the 32 raw Human3.6M joints (indices 0,1,2,3,6,7,8,12,13,14,15,17,18,19,25,26,27)",
)

# CMU 38-joint tree of the motion-prediction export. Names are ours, identified from the tree and
# the rest offsets (left = +x in the ASF rest pose, checked on walking: facing = (LHip - RHip) x up
# points along the direction of travel). See tests/skeleton/test_layouts.py.
CMU38_NAMES = (
    "root", "lhipjoint", "lhip", "lknee", "lankle", "ltoe", "ltoe_end", "rhipjoint", "rhip", "rknee",
    "rankle", "rtoe", "rtoe_end", "lowerback", "upperback", "thorax", "lowerneck", "neck", "headbase",
    "headtop", "lclavicle", "lshoulder", "lelbow", "lwrist", "lhand", "lfingers", "lfingers_end",
    "lthumb", "lthumb_end", "rclavicle", "rshoulder", "relbow", "rwrist", "rhand", "rfingers",
    "rfingers_end", "rthumb", "rthumb_end",
)
CMU_FROM_38 = dataset_mapping(
    "cmu-expmap-38", CMU38_NAMES,
    dict(Pelvis="root", RHip="rhip", RKnee="rknee", RAnkle="rankle", LHip="lhip", LKnee="lknee",
         LAnkle="lankle", Spine="upperback", Thorax="thorax", Neck="neck",
         Head="headtop", LShoulder="lshoulder", LElbow="lelbow", LWrist="lwrist",
         RShoulder="rshoulder", RElbow="relbow", RWrist="rwrist"),
    "Pelvis is the CMU root, about 10 cm above the hip joints (Human3.6M's sits between them). "
    "The template's thorax segment (joint 16) has zero length, so shoulders, neck and head sit about 12 cm "
    "lower relative to the pelvis than on a real body; kept as the upstream data has it. "
    "Spine is the upper end of the lower back segment (about 12 cm above the root); Thorax is where the clavicles attach; Head is the "
    "top of the head segment.",
)

BANDAI_NAMES = (
    "joint_Root", "Hips", "Spine", "Chest", "Neck", "Head", "Shoulder_L", "UpperArm_L", "LowerArm_L",
    "Hand_L", "Shoulder_R", "UpperArm_R", "LowerArm_R", "Hand_R", "UpperLeg_L", "LowerLeg_L",
    "Foot_L", "Toes_L", "UpperLeg_R", "LowerLeg_R", "Foot_R", "Toes_R",
)
BANDAI_FROM_BVH = dataset_mapping(
    "bandai-namco-bvh", BANDAI_NAMES,
    dict(Pelvis="Hips", RHip="UpperLeg_R", RKnee="LowerLeg_R", RAnkle="Foot_R", LHip="UpperLeg_L",
         LKnee="LowerLeg_L", LAnkle="Foot_L", Spine="Chest", Thorax="Neck", Head="Head",
         LShoulder="UpperArm_L", LElbow="LowerArm_L", LWrist="Hand_L", RShoulder="UpperArm_R",
         RElbow="LowerArm_R", RWrist="Hand_R"),
    "No Neck/Nose joint. Spine is Chest (about 25 cm above the hips, where Human3.6M's Spine sits); "
    "Thorax is the base of the neck; Head is the head joint at the base of the skull, not the top "
    "of the head as in Human3.6M: part of the real joint-definition gap.",
)

HUMANEVA15_NAMES = (
    "pelvis", "thorax", "lshoulder", "lelbow", "lwrist", "rshoulder", "relbow", "rwrist", "lhip",
    "lknee", "lankle", "rhip", "rknee", "rankle", "head",
)
HUMANEVA_FROM_15 = dataset_mapping(
    "humaneva15", HUMANEVA15_NAMES,
    dict(Pelvis="pelvis", RHip="rhip", RKnee="rknee", RAnkle="rankle", LHip="lhip", LKnee="lknee",
         LAnkle="lankle", Thorax="thorax", Head="head", LShoulder="lshoulder", LElbow="lelbow",
         LWrist="lwrist", RShoulder="rshoulder", RElbow="relbow", RWrist="rwrist"),
    "VideoPose3D's humaneva15 order; no Spine and no Neck/Nose.",
)

# The MPI-INF-3DHP 17 test joints (in the dataset's own order) and the SPIN / H36M orders are in
# poseda.datasets.mpi_inf_3dhp; 3DPW's SMPL 24 joints in poseda.datasets.pw3d.

MAPPINGS = {m.dataset: m for m in (H36M_FROM_32, CMU_FROM_38, BANDAI_FROM_BVH, HUMANEVA_FROM_15)}


def experiment_joints(*masks: np.ndarray) -> JointLayout:
    """The canonical joints present in every domain (intersection of their masks) as a layout.

    Named after the known sets (h36m17, h36m16, humaneva15) when it matches one.
    """
    keep = np.logical_and.reduce([np.asarray(m, bool) for m in masks])
    names = [n for n, k in zip(CANONICAL.joints, keep) if k]
    for layout in JOINT_SETS.values():
        if list(layout.joints) == names:
            return layout
    return CANONICAL.subset(names)


# Targets evaluated on a fixed joint set by their protocol rather than on everything they share
# with the source: cmu-3dhp is modelled on MPI-INF-3DHP, whose cross-dataset protocol (PoseAug,
# PoseDA) uses the 16 joints of Human3.6M without Neck/Nose, although CMU has a neck.
PROTOCOL_JOINTS = {"cmu-3dhp": "h36m16"}


def protocol_joints(target: str, *masks: np.ndarray) -> JointLayout:
    """The joint set an experiment on ``target`` runs on: its protocol's set when it has one (and
    every domain has those joints), else the joints all domains share."""
    shared = experiment_joints(*masks)
    name = PROTOCOL_JOINTS.get(target)
    if name is not None and set(JOINT_SETS[name].joints) <= set(shared.joints):
        return JOINT_SETS[name]
    return shared
