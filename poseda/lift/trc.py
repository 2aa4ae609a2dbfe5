"""Lifted 3D as OpenSim marker files (TRC), as Pose2Sim and Sports2D write them for OpenSim's
scaling and inverse kinematics.

**The format** (OpenSim's ``.trc``, tab-separated text): a first line ``PathFileType 4 (X/Y/Z)
NAME``; a line of keys ``DataRate CameraRate NumFrames NumMarkers Units OrigDataRate
OrigDataStartFrame OrigNumFrames`` and a line of their values; a line ``Frame# Time`` followed by
the marker names, each followed by two empty columns; a line of coordinate labels ``X1 Y1 Z1 X2
...`` under them; then one line per frame: the frame number (from 1), the time in seconds and
three numbers per marker, empty where a marker is not seen in that frame.

**Axes and units** as OpenSim expects them: metres, Y up, X forward, Z to the right. From the
scene's world (``--world``: x along the camera's right, y away from the camera, z up) a point
(x, y, z) is written (y, z, x): a proper rotation, so left stays left. Without a world, the
camera frame with the absolute root (``--absolute``; x right, y down, z forward) is written
(z, -y, x).

**People**: one file per person (markers named as the lifter's joints), or every person in one
file (markers ``P<track>_<joint>``, empty while that person is not tracked), all on the frames of
the clip.
"""
from __future__ import annotations

import numpy as np

from poseda.errors import PosedaInputError

#: world (x camera-right, y away, z up) -> OpenSim (X forward, Y up, Z right)
WORLD_TO_OPENSIM = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
#: camera (x right, y down, z forward) -> OpenSim
CAMERA_TO_OPENSIM = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])


def trc_text(points: np.ndarray, markers: list[str], frames: np.ndarray, fps: float, name: str) -> str:
    """TRC text of ``points`` [T, M, 3] (OpenSim axes, metres; NaN where a marker is not seen) at
    clip frames ``frames`` [T] (consecutive or not; time = frame / fps)."""
    points = np.asarray(points, np.float64)
    if points.ndim != 3 or points.shape[1:] != (len(markers), 3) or len(points) != len(frames):
        raise PosedaInputError("trc", f"needs [frames, {len(markers)}, 3] positions for {len(frames)} frames, got {points.shape}")
    if not (0 < fps <= 10000):
        raise PosedaInputError("--fps", f"must be above 0 and at most 10000, got {fps}")
    if np.isinf(points).any():
        raise PosedaInputError("trc", "positions must be finite (NaN only where a marker is not seen)")
    if any("\t" in m or "\n" in m or not m for m in markers):
        raise PosedaInputError("trc", "marker names must be non-empty and hold no tab or line break")
    n, m = points.shape[:2]
    first = int(frames[0]) + 1 if n else 1
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{name}",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
             f"{fps:g}\t{fps:g}\t{n}\t{m}\tm\t{fps:g}\t{first}\t{n}",
             "Frame#\tTime\t" + "\t".join(f"{k}\t\t" for k in markers).rstrip("\t") + "\t\t",
             "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, m + 1)),
             ""]
    text = np.where(np.isnan(points), "", np.char.mod("%.5f", np.nan_to_num(points)).astype(object)).astype(str)
    for f, row in zip(frames, text):
        lines.append(f"{int(f) + 1}\t{int(f) / fps:.5f}\t" + "\t".join(row.reshape(-1)))
    return "\n".join(lines) + "\n"


def opensim_points(lifted, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of a lift output in OpenSim's axes: from its world frame, else from the camera
    frame with the absolute root; a lift with neither is one line."""
    if lifted.world is not None:
        return lifted.world[rows] @ WORLD_TO_OPENSIM.T
    if lifted.root is not None:
        return (lifted.joints3d[rows] + lifted.root[rows][:, None]) @ CAMERA_TO_OPENSIM.T
    raise PosedaInputError("trc", "markers need positions, not only a root-relative pose: lift with --world (or --absolute)")


def trc_files(lifted, path, fps: float, together: bool) -> dict:
    """{path: text} of the TRC file(s): every person in ``path`` (``together``), else one file per
    person named as the BVH files are (:func:`poseda.lift.bvh.bvh_paths`)."""
    from pathlib import Path

    from poseda.lift.bvh import bvh_paths

    path = Path(path)
    joints = list(lifted.joints)
    if together:
        frames = np.unique(lifted.frame)
        people = lifted.people()
        pts = np.full((len(frames), len(people) * len(joints), 3), np.nan)
        names = []
        for k, (tr, seg) in enumerate(people):
            r = np.flatnonzero((lifted.track == tr) & (lifted.segment == seg))
            pts[np.searchsorted(frames, lifted.frame[r]), k * len(joints):(k + 1) * len(joints)] = opensim_points(lifted, r)
            names += [f"P{tr}{f'-{seg}' if seg else ''}_{j}" for j in joints]
        return {path: trc_text(pts, names, frames, fps, path.name)}
    out = {}
    for (tr, seg), p in bvh_paths(lifted, path).items():
        r = np.flatnonzero((lifted.track == tr) & (lifted.segment == seg))
        r = r[np.argsort(lifted.frame[r], kind="stable")]
        out[p] = trc_text(opensim_points(lifted, r), joints, lifted.frame[r], fps, p.name)
    return out
