"""How plausible a lift is, measured without any 3D truth: what a person with only a video can check.

- **Bone-length stability**: a person's bones do not change length. Per track (at least
  :data:`MIN_FRAMES` frames) and bone, the coefficient of variation (deviation / mean) of its
  length over the frames; reported as the median over bones and tracks, and the worst bone.
- **2D reprojection**: the lifted pose, placed where it best fits (per frame, the translation that
  minimises the reprojection error through the stated camera, solved linearly) or at the lift's own
  absolute root, projected back: the distance to the 2D keypoints that were seen (not filled), in
  pixels and as a share of the person's 2D height.
- **Foot sliding**: with a world frame (``--world``), how far each foot moves per frame while it is
  on the ground (centimetres).
- **Jitter**: the acceleration of the root-relative joints between consecutive frames (m/s^2).

:func:`measure` returns a dict (stored in a lift output's metadata as ``quality``) and
:func:`describe` one line of it.
"""
from __future__ import annotations

import numpy as np

from poseda.lift.scene import _track_rows, sliding_m

MIN_FRAMES = 10  # a track shorter than this says little about its bones or its jitter


def runs(track: np.ndarray, segment: np.ndarray, frame: np.ndarray) -> list[np.ndarray]:
    """Row indices of each run of consecutive frames of one track segment, in frame order."""
    key = track * (int(segment.max(initial=0)) + 1) + segment
    return [r for rows in _track_rows(key, frame) for r in np.split(rows, np.flatnonzero(np.diff(frame[rows]) != 1) + 1)]


def bone_variation(joints3d: np.ndarray, parents: tuple[int, ...], rows: list[np.ndarray]) -> np.ndarray:
    """[runs, bones] coefficient of variation of each bone's length in each run of at least
    :data:`MIN_FRAMES` frames (bones: every joint with a parent)."""
    child = np.array([j for j, p in enumerate(parents) if p >= 0])
    parent = np.array([parents[j] for j in child])
    out = []
    for r in rows:
        if len(r) < MIN_FRAMES:
            continue
        length = np.linalg.norm(joints3d[r][:, child] - joints3d[r][:, parent], axis=-1)  # [T, bones]
        out.append(length.std(0) / np.maximum(length.mean(0), 1e-6))
    return np.array(out).reshape(-1, len(child))


def fit_translation(rel: np.ndarray, uv: np.ndarray, k: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """[N, 3] translation t per frame that best puts the root-relative pose ``rel`` [N, J, 3] on
    the pixels ``uv`` [N, J, 2] through the intrinsics ``k`` (fx, fy, cx, cy): u (Z + tz) = fx (X + tx) +
    cx (Z + tz), linear in t, solved by weighted least squares (``weight`` [N, J], 0 to ignore)."""
    fx, fy, cx, cy = k
    du, dv = uv[..., 0] - cx, uv[..., 1] - cy
    zeros, ones = np.zeros_like(du), np.ones_like(du)
    a = np.stack([np.stack([fx * ones, zeros, -du], -1), np.stack([zeros, fy * ones, -dv], -1)], -2)  # [N, J, 2, 3]
    b = np.stack([du * rel[..., 2] - fx * rel[..., 0], dv * rel[..., 2] - fy * rel[..., 1]], -1)  # [N, J, 2]
    w = weight[..., None, None]
    ata = np.einsum("njri,njrk->nik", a * w, a) + 1e-9 * np.eye(3)
    atb = np.einsum("njri,njr->ni", a * w, b * weight[..., None])
    return np.linalg.solve(ata, atb[..., None])[..., 0]


def reprojection(rel: np.ndarray, uv: np.ndarray, k: np.ndarray, seen: np.ndarray,
                 root: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the mean pixel distance between the projected pose and the seen 2D joints, and
    that distance over the person's 2D height. The pose is placed at ``root`` when given, else by
    :func:`fit_translation` on the seen joints."""
    t = root if root is not None else fit_translation(rel, uv, k, seen.astype(np.float64))
    p = rel + t[:, None]
    z = np.maximum(p[..., 2], 1e-3)
    fx, fy, cx, cy = k
    proj = np.stack([fx * p[..., 0] / z + cx, fy * p[..., 1] / z + cy], -1)
    err = np.linalg.norm(proj - uv, axis=-1)
    n = np.maximum(seen.sum(-1), 1)
    px = np.where(seen, err, 0).sum(-1) / n
    height = np.maximum(uv[..., 1].max(-1) - uv[..., 1].min(-1), 1.0)
    return px, px / height


def jitter(joints3d: np.ndarray, rows: list[np.ndarray], fps: float) -> np.ndarray:
    """Acceleration magnitudes (m/s^2) of every joint between consecutive frames of each run."""
    out = [np.linalg.norm(np.diff(joints3d[r], n=2, axis=0), axis=-1).reshape(-1) * fps ** 2 for r in rows if len(r) >= 3]
    return np.concatenate(out) if out else np.zeros(0)


def measure(lifted, k: np.ndarray, fps: float) -> dict:
    """The four measures of a :class:`~poseda.lift.lifting.Lifted` (see the module doc)."""
    rows = runs(lifted.track, lifted.segment, lifted.frame)
    parents = lifted.parents
    names = [n for j, n in enumerate(lifted.joints) if parents[j] >= 0]
    cv = bone_variation(lifted.joints3d, parents, rows)
    seen = lifted.detected[:, None] & ~lifted.filled
    px, rel_err = reprojection(lifted.joints3d, lifted.keypoints2d, np.asarray(k, np.float64), seen, lifted.root)
    ok = lifted.detected & (seen.sum(-1) >= 4)
    acc = jitter(lifted.joints3d, rows, fps)
    out = {
        "bone_length_cv_median": float(np.median(cv)) if cv.size else None,
        "bone_length_cv_worst": ({"bone": names[int(np.argmax(np.median(cv, 0)))], "cv": float(np.median(cv, 0).max())}
                                 if cv.size else None),
        "tracks_measured": int(len(cv)),
        "reprojection_px_median": float(np.median(px[ok])) if ok.any() else None,
        "reprojection_of_height_median": float(np.median(rel_err[ok])) if ok.any() else None,
        "reprojection_placement": "the lift's absolute root" if lifted.root is not None else "best translation per frame",
        "jitter_ms2_median": float(np.median(acc)) if acc.size else None,
        "foot_sliding_cm_median": None,
    }
    if lifted.world is not None and lifted.contact is not None:
        slide = [sliding_m(lifted.world[r], lifted.contact[r], tuple(lifted.joints)) for r in rows]
        slide = np.concatenate(slide) if slide else np.zeros(0)
        out["foot_sliding_cm_median"] = float(100 * np.median(slide)) if slide.size else None
    return out


def describe(q: dict) -> str:
    """One line for a command's report."""
    parts = []
    if q.get("bone_length_cv_median") is not None:
        w = q["bone_length_cv_worst"]
        parts.append(f"bone lengths vary {100 * q['bone_length_cv_median']:.1f}% (median; {w['bone']} {100 * w['cv']:.1f}%)")
    if q.get("reprojection_px_median") is not None:
        parts.append(f"reprojection {q['reprojection_px_median']:.1f} px ({100 * q['reprojection_of_height_median']:.1f}% "
                     "of the body's height)")
    if q.get("foot_sliding_cm_median") is not None:
        parts.append(f"feet slide {q['foot_sliding_cm_median']:.1f} cm/frame in contact")
    if q.get("jitter_ms2_median") is not None:
        parts.append(f"jitter {q['jitter_ms2_median']:.1f} m/s^2")
    return "quality without 3D truth: " + (", ".join(parts) if parts else "too few frames to measure")


#: how much a measure may grow before a lift is called clearly worse than another: more than this
#: factor *and* more than a change one would notice (one point of bone variation or of the body's
#: height in reprojection; 0.5 m/s^2 of jitter, a tenth of what smoothing removes on a 30 fps clip)
WORSE_FACTOR = 1.5
NOTICEABLE = {"bone_length_cv_median": 0.01, "reprojection_of_height_median": 0.01, "jitter_ms2_median": 0.5}


def clearly_worse(before: dict, after: dict) -> list[str]:
    """The measures (keys of :data:`NOTICEABLE`) on which the lift measured as ``after`` is clearly
    worse than ``before``: :data:`WORSE_FACTOR` times and a noticeable amount larger, or lost."""
    out = []
    for k, floor in NOTICEABLE.items():
        b, a = before.get(k), after.get(k)
        if b is not None and (a is None or (a > WORSE_FACTOR * b + 1e-9 and a - b > floor)):
            out.append(k)
    return out


__all__ = ["measure", "describe", "clearly_worse", "WORSE_FACTOR", "NOTICEABLE", "runs", "bone_variation", "fit_translation", "reprojection", "jitter"]
