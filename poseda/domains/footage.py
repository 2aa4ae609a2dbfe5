"""A target domain from your own footage: 2D keypoint files and the camera's intrinsics, no 3D.

PoseDA needs only the target's 2D poses and intrinsics, so a lifter can be adapted to a user's
own cameras, subjects and keypoint detector. :func:`build_footage` reads keypoint files with
the keypoint readers (:mod:`poseda.keypoints`: COCO, OpenPose, MediaPipe JSON, npz, CSV), converts
them to the canonical joints, tracks people and fills short gaps
(:func:`poseda.keypoints.tracks.build_tracks`),
and writes a prepared target domain whose only split is the adaptation split. Each track segment
becomes a view, and every file has its own camera (the same ``--focal`` / ``--fov`` / ``--center``
rule, applied to that file's image size).

Only frames where the person was detected are kept (joints missing in such a frame are
interpolated in time, and counted in the report). ``joints3d`` holds NaN: the domain has no
evaluation split, and :meth:`Domain.evaluation` says so.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poseda.data.cache import prepared
from poseda.data.domain import write_domain
from poseda.errors import PosedaInputError
from poseda.fileio import safe_name
from poseda.keypoints.camera import file_camera
from poseda.keypoints.options import KeypointReading, check_track_options
from poseda.keypoints.readers import read_keypoints
from poseda.keypoints.tracks import build_tracks
from poseda.skeleton.layouts import CANONICAL

ADAPT_SPLIT = "adapt"


@dataclass
class FootageFile:
    """One keypoint file (or folder) with its own camera; unset fields take the call's defaults."""

    path: str | Path
    focal: float | None = None
    fov_deg: float | None = None
    center: tuple[float, float] | None = None
    image_size: tuple[int, int] | None = None


@dataclass
class FootageReport:
    files: int = 0
    views: int = 0
    frames: int = 0
    filled_joints: int = 0
    lines: list[str] = field(default_factory=list)
    formats: set[str] = field(default_factory=set)  # the keypoint formats read (their names)


def _file_key(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def build_footage(name: str, keypoint_files: list[str | Path | FootageFile], cache: Path,
                  reading: KeypointReading | None = None, min_frames: int = 1, fps: float = 30.0) -> tuple[Path, FootageReport]:
    """Write target domain ``name`` into ``cache`` from keypoint files (or folders); returns its
    folder and a report. ``reading`` (the format, joint order, camera and tracking; defaults
    without it) applies to every file, and its camera unless a :class:`FootageFile` gives its own.
    Nothing is written unless every file can be used."""
    r = reading or KeypointReading()
    safe_name(name, "domain name")
    from poseda.domains.builders import BUILTIN

    if name in BUILTIN:
        raise PosedaInputError(name, "is a built-in domain name; choose another")
    meta_path = prepared(cache, name) / "meta.json"
    if meta_path.exists():
        try:
            has_3d = json.loads(meta_path.read_text()).get("has_3d", True)
        except (ValueError, AttributeError, OSError):  # unreadable: treat it as a domain to keep
            has_3d = True
        if has_3d:
            raise PosedaInputError(name, f"names a prepared domain with 3D ({meta_path.parent}); choose another name")
    if not keypoint_files:
        raise PosedaInputError("keypoints", "no keypoint file given")
    check_track_options(r.min_score, r.max_gap, min_frames)
    if not (np.isfinite(fps) and 0 < fps <= 10000):
        raise PosedaInputError("--fps", f"must be a finite number above 0 and at most 10000, got {fps}")
    rep = FootageReport()
    views, chunks, per_view = [], {k: [] for k in ("joints2d", "view", "frame")}, {k: [] for k in ("intrinsics", "image_size")}
    cameras, fmts = [], set()
    files = [f if isinstance(f, FootageFile) else FootageFile(f) for f in keypoint_files]
    for f in files:
        path = Path(f.path)
        size = f.image_size or r.image_size
        det = read_keypoints(path, r.file_format, r.joints)
        if len(det) == 0:
            raise PosedaInputError(path, "holds no people (no detections in any frame)")
        own = f.focal is not None or f.fov_deg is not None
        camera = file_camera(det, path, size, f.focal if own else r.focal, f.fov_deg if own else r.fov,
                             f.center if f.center is not None else r.center)
        tracks, trep = build_tracks(det, CANONICAL, min_score=r.min_score, max_gap=r.max_gap, min_frames=min_frames)
        rep.lines += [f"{path}: {line}" for line in trep.lines("tracked")]
        fmts.add(det.fmt.description)
        rep.formats.add(det.fmt.name)
        cameras.append({"file": str(path), **camera.to_dict()})
        for t in tracks:
            keep = t.detected
            vid = len(views)
            views.append(dict(sequence=f"{path.name}/track{t.id}" + (f"-{t.segment}" if t.segment else ""),
                              subject=f"track{t.id}", action=path.stem, split=ADAPT_SPLIT, camera=str(len(cameras) - 1),
                              frames=int(keep.sum()), file=str(path)))
            chunks["joints2d"].append(t.keypoints[keep].astype(np.float32))
            chunks["frame"].append(t.frames[keep].astype(np.int32))
            chunks["view"].append(np.full(int(keep.sum()), vid, np.int32))
            per_view["intrinsics"].append(camera.k)
            per_view["image_size"].append(np.array([camera.width, camera.height], np.float64))
            rep.filled_joints += int(t.filled[keep].sum())
        rep.files += 1
    if not views:
        raise PosedaInputError("keypoints", "no person could be tracked in any file: " + " | ".join(rep.lines))
    j2d = np.concatenate(chunks["joints2d"])
    n, v = len(j2d), len(views)
    arrays = {
        "joints3d": np.full((n, CANONICAL.num_joints, 3), np.nan, np.float32),  # no 3D: footage
        "joints2d": j2d, "view": np.concatenate(chunks["view"]), "frame": np.concatenate(chunks["frame"]),
        "intrinsics": np.stack(per_view["intrinsics"]), "image_size": np.stack(per_view["image_size"]),
        "distortion": np.zeros((v, 5)),
        "cam_rotation": np.full((v, 3, 3), np.nan), "cam_centre": np.full((v, 3), np.nan),  # unknown extrinsics
    }
    key = hashlib.sha256("|".join([_file_key(Path(f.path)) for f in files] + [repr(cameras), str(r.min_score),
                                                                                  str(r.max_gap), str(min_frames)]).encode())
    meta = dict(name=name, role="target", fps=float(fps), joint_mask=[True] * CANONICAL.num_joints,
                joint_names=list(CANONICAL.joints),
                joint_mapping=dict(dataset="footage", notes="converted from " + "; ".join(sorted(fmts))),
                splits={ADAPT_SPLIT: "adaptation (2D only): every detected frame of every track"},
                train_split=None, eval_split=None, adapt_split=ADAPT_SPLIT, views=views, frames_dropped=0,
                frames_total=int(n), sources={"keypoints": [str(f.path) for f in files]}, cameras=cameras,
                has_3d=False, min_score=r.min_score, max_gap=r.max_gap, build_key=key.hexdigest()[:16],
                **{"2d_source": "keypoint files: " + "; ".join(sorted(fmts))})
    rep.views, rep.frames = v, n
    folder = write_domain(prepared(cache, name), meta, arrays)
    return folder, rep
