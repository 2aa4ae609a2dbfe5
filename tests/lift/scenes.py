"""Synthetic multi-person scenes with a known camera: real motion capture (the built-in
``bandai-wild`` and ``cmu-3dhp`` domains' walking, running and dashing clips, in their z-up world
with the floor at z = 0) placed at chosen spots on one floor with chosen headings, seen by a camera
of chosen height, pitch and focal length, and projected to ground-truth 2D. The bundled lifter
lifts that 2D; :mod:`poseda.lift.scene` must then recover the camera and the people's places.
Used by ``tests/lift/test_scene.py`` and ``benchmarks/scene_accuracy.py``."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from poseda.skeleton.layouts import CANONICAL, JointLayout

WALKS = {"bandai-wild": ("walk", "walk-back", "walk-left", "walk-right", "dash", "run"), "cmu-3dhp": ("walking", "running"),
         "h36m": ("walking", "walkingdog", "walkingtogether")}
#: Human3.6M's test subjects only (the bundled lifter trained on the others)
H36M_SUBJECTS = ("S9", "S11")


@dataclass
class SceneTruth:
    height_m: float
    pitch_deg: float
    focal_px: float
    image_size: tuple[int, int]
    rotation: np.ndarray  # [3, 3] camera from world
    centre: np.ndarray  # [3] camera centre, world
    world: list[np.ndarray]  # per person [T, 17, 3] world joints (canonical order; NaN where missing)
    uv: list[np.ndarray]  # per person [T, 17, 2] pixels
    fps: float

    def to_camera(self, x: np.ndarray) -> np.ndarray:
        return (x - self.centre) @ self.rotation.T


def camera_rotation(pitch_deg: float, yaw_deg: float = 0.0) -> np.ndarray:
    """Camera-from-world rotation of a camera looking along +y turned by ``yaw`` and pitched down."""
    p, y = math.radians(pitch_deg), math.radians(yaw_deg)
    fwd = np.array([math.sin(y) * math.cos(p), math.cos(y) * math.cos(p), -math.sin(p)])
    right = np.array([math.cos(y), -math.sin(y), 0.0])
    down = np.cross(fwd, right)
    return np.stack([right, down, fwd])


def clips(cache, frames: int, domains=tuple(WALKS)) -> list[np.ndarray]:
    """World motion [frames, 17, 3] of every walking-like clip at least ``frames`` long, one per
    sequence. Human3.6M's clips (test subjects, 50 fps, every 5th frame taken to 10 fps... no: every
    frame) are lifted so that the lower ankle sits at its median :data:`ANKLE_HEIGHT_M` above the
    floor: the domain puts the lowest joint on z = 0, which is the ankle, not the sole."""
    from poseda.data.cache import load_domain
    from poseda.lift.scene import ANKLE_HEIGHT_M

    out = []
    for name in domains:
        actions = WALKS[name]
        d = load_domain(name, cache)
        view = np.asarray(d.arrays["view"])
        seen = set()
        for v, info in enumerate(d.views):
            if info["action"] not in actions or info["sequence"] in seen or info["frames"] < frames:
                continue
            if name == "h36m" and info["subject"] not in H36M_SUBJECTS:
                continue
            seen.add(info["sequence"])
            rows = np.flatnonzero(view == v)[:frames]
            if not np.all(np.diff(np.asarray(d.arrays["frame"])[rows]) == 1):
                continue
            x = np.asarray(d.arrays["joints3d"][rows], np.float64)
            w = x @ np.asarray(d.arrays["cam_rotation"][v]).T + np.asarray(d.arrays["cam_centre"][v])
            if name == "h36m":
                w[..., 2] += ANKLE_HEIGHT_M - np.median(np.minimum(w[:, 3, 2], w[:, 6, 2]))
            out.append(w)
    return out


def make_scene(motions: list[np.ndarray], seed: int, people: int = 6, height_m: float = 6.0, pitch_deg: float = 25.0,
               focal_px: float = 900.0, image_size=(1280, 720), fps: float = 30.0) -> SceneTruth:
    """``people`` of ``motions`` on one floor, each centred on a random spot that the camera sees,
    with a random heading; the camera at ``height_m`` above the floor's origin, pitched down."""
    rng = np.random.default_rng(seed)
    rot = camera_rotation(pitch_deg)
    centre = np.array([0.0, 0.0, height_m])
    w, h = image_size
    world, uv = [], []
    picks = rng.choice(len(motions), size=people, replace=len(motions) < people)
    for i in picks:
        m = motions[i].copy()
        for _ in range(200):
            heading = rng.uniform(0, 2 * math.pi)
            c, s = math.cos(heading), math.sin(heading)
            r = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
            # a spot on the floor that a random pixel of the image's lower middle sees
            pix = np.array([rng.uniform(0.15, 0.85) * w, rng.uniform(0.4, 0.95) * h])
            ray = rot.T @ np.array([(pix[0] - w / 2) / focal_px, (pix[1] - h / 2) / focal_px, 1.0])
            if ray[2] >= -1e-6:
                continue
            spot = centre - ray * (centre[2] / ray[2])
            spot[2] = 0.0
            placed = (m - np.r_[np.nanmean(m[:, 0, :2], 0), 0.0]) @ r.T + spot
            cam = (placed - centre) @ rot.T
            z = cam[..., 2]
            p = focal_px * cam[..., :2] / z[..., None] + np.array([w / 2, h / 2])
            ok = np.nan_to_num(z, nan=2.0) > 1.0
            inside = ((p[..., 0] > 0) & (p[..., 0] < w) & (p[..., 1] > 0) & (p[..., 1] < h)) | np.isnan(p[..., 0])
            if ok.all() and inside.all():
                world.append(placed)
                uv.append(p)
                break
    return SceneTruth(height_m, pitch_deg, focal_px, image_size, rot, centre, world, uv, fps)


def lift_scene(truth: SceneTruth, noise_px: float = 0.0, seed: int = 0, checkpoint=None, focal_px: float | None = None):
    """The bundled lifter (or ``checkpoint``) on the scene's 2D: (rel [N, J, 3], uv [N, J, 2],
    track [N], frame [N], joints, intrinsics used)."""
    from poseda.inference import load_lifter
    from poseda.keypoints.camera import Camera
    from poseda.keypoints.tracks import Track
    from poseda.lift.lifting import lift_tracks
    from poseda.models.bundled import resolve_checkpoint

    model, _, layout = load_lifter(resolve_checkpoint(checkpoint))
    rng = np.random.default_rng(seed)
    cols = CANONICAL.indices(layout.joints)
    tracks = []
    for i, p in enumerate(truth.uv):
        kp = p[:, cols] + rng.normal(0, noise_px, p[:, cols].shape) if noise_px else p[:, cols]
        t = len(kp)
        tracks.append(Track(i, np.arange(t), kp, np.ones((t, len(cols))), np.zeros((t, len(cols)), bool), np.ones(t, bool)))
    w, h = truth.image_size
    f = focal_px or math.hypot(w, h)
    cam = Camera(f, f, w / 2, h / 2, w, h, "scene")
    lifted = lift_tracks(model, layout, tracks, cam)
    return lifted.joints3d, lifted.keypoints2d, lifted.track, lifted.frame, tuple(layout.joints), cam.k


def person_distances(points: list[np.ndarray]) -> np.ndarray:
    """Distances between every pair of people's mean ground positions."""
    m = np.array([p for p in points])
    i, j = np.triu_indices(len(m), 1)
    return np.linalg.norm(m[i] - m[j], axis=-1)


__all__ = ["SceneTruth", "make_scene", "lift_scene", "clips", "camera_rotation", "person_distances", "JointLayout"]
