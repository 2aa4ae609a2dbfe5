"""Prepared domains: storage in the cache, and the API that keeps target 3D away from training.

A domain is a set of *views* (one sequence seen by one camera). Its arrays, over all N frames:
``joints3d`` [N, 17, 3] camera frame, metres (NaN where the dataset lacks a canonical joint),
``joints2d`` [N, 17, 2] pixels, ``view`` [N] view index, ``frame`` [N] frame index in the
sequence. Per view V: intrinsics [V, 4] (fx fy cx cy, px), distortion [V, 5], image size [V, 2],
camera rotation [V, 3, 3] (camera-to-world) and centre [V, 3] (z-up world, metres). ``meta.json``
holds the rest (names, splits, sources, the rig text, counts).

Target domains hand out their adaptation split as :class:`Keypoints2D`, a type with no 3D field:
target 3D is reachable only through :meth:`Domain.evaluation` and the explicitly named
:meth:`Domain.oracle_training`.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from poseda.errors import PosedaInputError
from poseda.fileio import clean_stale_temporaries, temporary_folder
from poseda.skeleton.layouts import CANONICAL, JointLayout, experiment_joints

FORMAT_VERSION = 1
FRAME_ARRAYS = ("joints3d", "joints2d", "view", "frame")
VIEW_ARRAYS = ("intrinsics", "distortion", "image_size", "cam_rotation", "cam_centre")
#: per-frame arrays a domain may have: ``joints3d_universal`` [N, 17, 3], a dataset's own
#: universal-skeleton ground truth (MPI-INF-3DHP's ``univ_annot3``)
OPTIONAL_FRAME_ARRAYS = ("joints3d_universal",)


@dataclass
class Keypoints2D:
    """2D keypoints with the intrinsics of the camera that saw them. No 3D, by construction."""

    joints2d: np.ndarray  # [N, J, 2] pixels
    intrinsics: np.ndarray  # [N, 4] fx fy cx cy (per frame)
    image_size: np.ndarray  # [N, 2] W H
    distortion: np.ndarray  # [N, 5]
    view: np.ndarray  # [N]
    layout: JointLayout
    protocol: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.joints2d)


@dataclass
class Poses:
    """2D-3D pairs with cameras: source training data, or a domain's evaluation split."""

    joints3d: np.ndarray  # [N, J, 3] camera frame, metres
    joints2d: np.ndarray  # [N, J, 2] pixels
    intrinsics: np.ndarray  # [N, 4]
    image_size: np.ndarray  # [N, 2]
    distortion: np.ndarray  # [N, 5]
    view: np.ndarray  # [N]
    frame: np.ndarray  # [N]
    subject: np.ndarray  # [N] str
    action: np.ndarray  # [N] str
    layout: JointLayout
    protocol: dict = field(default_factory=dict)
    #: the dataset's own universal-skeleton ground truth where it has one (MPI-INF-3DHP's
    #: ``univ_annot3``), else None and :func:`poseda.data.universal.universal_poses` makes it
    joints3d_universal: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.joints3d)

    def take(self, rows) -> "Poses":
        """The frames ``rows`` (indices or a boolean mask) of every per-frame array."""
        rows = np.asarray(rows)
        per_frame = {k: getattr(self, k)[rows] for k in ("joints3d", "joints2d", "intrinsics", "image_size", "distortion",
                                                         "view", "frame", "subject", "action")}
        univ = None if self.joints3d_universal is None else self.joints3d_universal[rows]
        return Poses(**per_frame, layout=self.layout, protocol=dict(self.protocol), joints3d_universal=univ)


class _View(BaseModel):
    model_config = ConfigDict(extra="allow")
    sequence: str
    subject: str
    action: str
    split: str


class DomainMeta(BaseModel):
    """What ``meta.json`` must hold for a domain to be read (other keys are descriptions)."""

    model_config = ConfigDict(extra="allow")
    name: str
    role: Literal["source", "target"]
    fps: float = Field(gt=0, allow_inf_nan=False)
    joint_mask: list[bool] = Field(min_length=17, max_length=17)
    views: list[_View] = Field(min_length=1)
    splits: dict[str, str]
    train_split: str | None = None
    eval_split: str | None = None
    adapt_split: str | None = None


class Domain:
    """A prepared domain, loaded from the cache (memory-mapped: reloading is fast)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        meta_path = self.folder / "meta.json"
        try:
            self.meta = json.loads(meta_path.read_text())
        except FileNotFoundError:
            raise PosedaInputError(self.folder, "not a prepared domain (no meta.json): run 'poseda data prepare'") from None
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise PosedaInputError(meta_path, "corrupt meta.json: delete the folder and prepare again") from None
        if not isinstance(self.meta, dict) or self.meta.get("format_version") != FORMAT_VERSION:
            raise PosedaInputError(meta_path, "not a prepared domain of this format version: prepare again")
        try:
            DomainMeta.model_validate(self.meta)
        except ValidationError as e:
            err = e.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            raise PosedaInputError(meta_path, f"corrupt meta.json ({key}: {err['msg']}): prepare again") from None
        self.arrays: dict[str, np.ndarray] = {}
        for name in FRAME_ARRAYS + VIEW_ARRAYS:
            p = self.folder / f"{name}.npy"
            try:
                self.arrays[name] = np.load(p, mmap_mode="r", allow_pickle=False)
            except (FileNotFoundError, ValueError, OSError) as e:
                raise PosedaInputError(p, f"missing or corrupt prepared array ({e.__class__.__name__}): prepare again") from None
        for name in OPTIONAL_FRAME_ARRAYS:
            p = self.folder / f"{name}.npy"
            if p.is_file():
                try:
                    self.arrays[name] = np.load(p, mmap_mode="r", allow_pickle=False)
                except (ValueError, OSError) as e:
                    raise PosedaInputError(p, f"corrupt prepared array ({e.__class__.__name__}): prepare again") from None
        n = len(self.arrays["joints3d"])
        if any(len(self.arrays[k]) != n for k in FRAME_ARRAYS + OPTIONAL_FRAME_ARRAYS if k in self.arrays):
            raise PosedaInputError(self.folder, "prepared arrays disagree in length: prepare again")

    # -- description -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def role(self) -> str:
        return self.meta["role"]

    @property
    def fps(self) -> float:
        return float(self.meta["fps"])

    @property
    def joint_mask(self) -> np.ndarray:
        return np.asarray(self.meta["joint_mask"], bool)

    @property
    def layout(self) -> JointLayout:
        """The canonical joints this domain has."""
        return experiment_joints(self.joint_mask)

    @property
    def views(self) -> list[dict]:
        return self.meta["views"]

    @property
    def has_3d(self) -> bool:
        """False for domains built from 2D keypoint files only (``poseda data footage``)."""
        return bool(self.meta.get("has_3d", True))

    def _need_3d(self, what: str) -> None:
        if not self.has_3d:
            raise PosedaInputError(f"domain {self.name}", f"has no 3D (built from 2D keypoint files): no {what}")

    @property
    def splits(self) -> dict[str, str]:
        """Split name -> what it is for (e.g. {'train': 'source training', 'test': 'evaluation'})."""
        return self.meta["splits"]

    def __len__(self) -> int:
        return len(self.arrays["joints3d"])

    def __repr__(self) -> str:
        return f"Domain({self.name!r}, role={self.role}, frames={len(self)}, views={len(self.views)})"

    # -- selection ---------------------------------------------------------------------------
    def frames_of(self, split: str) -> np.ndarray:
        if split not in self.splits:
            raise PosedaInputError(f"domain {self.name}", f"unknown split {split!r} (has {', '.join(self.splits)})")
        in_split = np.asarray([v["split"] == split for v in self.views])
        return np.flatnonzero(in_split[np.asarray(self.arrays["view"])])

    def _select(self, idx: np.ndarray, layout: JointLayout | None, with_3d: bool):
        layout = layout or self.layout
        missing = [n for n in layout.joints if not self.joint_mask[CANONICAL.index(n)]]
        if missing:
            raise PosedaInputError(f"domain {self.name}", f"has no joint(s) {missing}")
        cols = CANONICAL.indices(layout.joints)
        view = np.asarray(self.arrays["view"][idx])
        per_view = {k: np.asarray(self.arrays[k])[view] for k in ("intrinsics", "image_size", "distortion")}
        j2d = np.asarray(self.arrays["joints2d"][idx][:, cols])
        proto = {"domain": self.name, "joints": layout.name, "num_joints": layout.num_joints,
                 "2d": self.meta.get("2d_source", "ground truth")}
        if "universal_ground_truth" in self.meta:
            proto["universal_ground_truth"] = self.meta["universal_ground_truth"]
        if not with_3d:
            return Keypoints2D(j2d, per_view["intrinsics"], per_view["image_size"], per_view["distortion"], view, layout, proto)
        subj = np.asarray([v["subject"] for v in self.views])[view]
        act = np.asarray([v["action"] for v in self.views])[view]
        univ = np.asarray(self.arrays["joints3d_universal"][idx][:, cols]) if "joints3d_universal" in self.arrays else None
        return Poses(np.asarray(self.arrays["joints3d"][idx][:, cols]), j2d, per_view["intrinsics"], per_view["image_size"],
                     per_view["distortion"], view, np.asarray(self.arrays["frame"][idx]), subj, act, layout, proto, univ)

    # -- the API by role ---------------------------------------------------------------------
    def training(self, layout: JointLayout | None = None) -> Poses:
        """Source training pairs (source domains only)."""
        if self.role != "source":
            raise PosedaInputError(f"domain {self.name}", "is a target domain: its 3D is not for training "
                                   "(use adaptation() for its 2D, or oracle_training() for the oracle upper bound)")
        p = self._select(self.frames_of(self.meta["train_split"]), layout, True)
        p.protocol["split"] = self.meta["train_split"]
        return p

    def adaptation(self, layout: JointLayout | None = None) -> Keypoints2D:
        """A target's adaptation split: 2D keypoints and intrinsics only."""
        split = self.meta["adapt_split"] if self.role == "target" else self.meta["train_split"]
        k = self._select(self.frames_of(split), layout, False)
        k.protocol["split"] = split
        return k

    def evaluation(self, layout: JointLayout | None = None) -> Poses:
        """The evaluation split, with 3D (for metrics only)."""
        self._need_3d("evaluation split")
        p = self._select(self.frames_of(self.meta["eval_split"]), layout, True)
        p.protocol["split"] = self.meta["eval_split"] + (" (transductive: also adapted on)" if self.meta.get("transductive") else "")
        return p

    def oracle_training(self, layout: JointLayout | None = None) -> Poses:
        """A target's own 3D on its adaptation split: only for the oracle upper bound."""
        self._need_3d("oracle training")
        split = self.meta["adapt_split"] if self.role == "target" else self.meta["train_split"]
        p = self._select(self.frames_of(split), layout, True)
        p.protocol["split"] = split + " (oracle: target 3D)"
        return p


def write_domain(folder: Path, meta: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write a prepared domain atomically: everything goes to a temporary folder beside
    ``folder`` which is renamed into place only when complete. What a killed writer left in the
    cache is removed first."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    missing = set(FRAME_ARRAYS + VIEW_ARRAYS) - set(arrays)
    if missing:
        raise ValueError(f"write_domain: missing arrays {sorted(missing)}")
    bad = [k for k, a in arrays.items() if np.issubdtype(np.asarray(a).dtype, np.floating) and np.isinf(a).any()]
    if bad:
        raise PosedaInputError(folder.name, f"the domain's {', '.join(bad)} hold infinite values: nothing written")
    clean_stale_temporaries(folder.parent)
    tmp = temporary_folder(folder)
    try:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        meta = dict(meta, format_version=FORMAT_VERSION, num_frames=int(len(arrays["joints3d"])))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.{os.getpid()}.replaced")
            folder.rename(old)
        tmp.rename(folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
