"""One world for everyone in a clip: the ground, the camera and each person's path on it,
estimated from the people themselves when the camera is not known.

Inputs: the lifted poses of every person (root-relative, camera frame, metres), their 2D keypoints
and the camera's intrinsics. The steps, each a function below:

1. **Where each person is, first guess**: the weak-perspective root (GPA's rule,
   :func:`poseda.geometry.camera.weak_perspective_root`): the depth at which the lifted body, of
   the lifter's adult size (the body-height prior), is as large as its 2D box.
2. **The ground, first guess**: a plane through the lower ankle of every person in every frame,
   fitted robustly (:func:`fit_ground`), an ankle sitting :data:`ANKLE_HEIGHT_M` above the floor.
   Its normal is the world's up; its distance from the camera centre is the camera's height; the
   angle of the optical axis below the horizon is its pitch.
3. **Refined**: pitch, roll and height are then fitted together so that every person's lower
   ankle lies on the floor where its 2D ray meets it and their head, at the lifted body's height
   above it, lands on the 2D head (:func:`refine_ground`). The focal length is the user's or the
   default (the image diagonal): estimating it from the people was tried two ways and was off by
   30% to 180% on synthetic scenes (docs/footage.md), so it is not done. People who cover too
   little ground to tilt a plane (:data:`MIN_FEET_SPREAD_M`) get a ground square to their bodies.
4. **Feet on the floor**: each person hangs from their lower ankle, placed where its 2D ray meets
   the plane :data:`ANKLE_HEIGHT_M` above the floor; the path is smoothed in time.
5. **Contacts and sliding**: a foot is on the ground where it is within :data:`CONTACT_HEIGHT_M`
   of the floor and moves slower than :data:`CONTACT_SPEED_MS`; while it is, the person's
   horizontal position is corrected so that the foot stays where it landed (the correction is
   interpolated between contacts), which removes the sliding that per-frame depth noise causes.

The world frame: metres, z up (the ground's normal), origin on the ground below the camera, x the
camera's right along the ground, y = z x x (away from the camera); the camera sits at (0, 0, height).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from poseda.errors import PosedaInputError
from poseda.geometry.camera import weak_perspective_root

#: height of the ankle joint above the floor when the foot is flat: the median of the lower ankle
#: over the Bandai Namco (0.117 m) and CMU (0.09-0.11 m) clips of the built-in domains, whose floor
#: is their toes' level
ANKLE_HEIGHT_M = 0.10
#: a foot is on the ground below this height above the floor and this horizontal speed
CONTACT_HEIGHT_M = 0.06
CONTACT_SPEED_MS = 0.6
#: the fitted ground is refused when the median head lands farther than this from the 2D head (in
#: body heights: the head is not straight above the ankle in a stride; 0.07-0.15 on the 24 synthetic
#: scenes of benchmarks/scene_accuracy.py, with the true and the default focal length)
MAX_HEAD_MISFIT = 0.3
#: feet must cover an area at least this wide (metres, both ways) for the ground's tilt to be fitted
MIN_FEET_SPREAD_M = 0.7
WORLD_FRAME = ("world frame: metres, z up (normal of the estimated ground), origin on the ground below the camera, "
               "x along the camera's right, y = z x x (away from the camera)")


@dataclass
class Scene:
    """The ground and camera of a clip, and every person's motion in one world frame."""

    up: np.ndarray  # [3] the ground's normal in the camera frame (unit, towards the camera)
    height_m: float  # the camera centre's distance above the ground
    focal_px: float
    focal_source: str
    rotation: np.ndarray  # [3, 3]: X_world = rotation @ (X_cam - origin_cam)
    origin_cam: np.ndarray  # [3] the world origin in the camera frame
    joints: np.ndarray  # [N, J, 3] every row's joints in the world frame
    contact: np.ndarray  # [N, 2] bool: left, right ankle on the ground
    report: list[str] = field(default_factory=list)

    @property
    def pitch_deg(self) -> float:
        """How far the optical axis points below the horizon (degrees; negative: above)."""
        return -math.degrees(math.asin(float(np.clip(self.up[2], -1, 1))))

    @property
    def roll_deg(self) -> float:
        """The camera's roll: the angle of its x axis to the ground (degrees)."""
        return math.degrees(math.asin(float(np.clip(self.up[0], -1, 1))))

    def camera_meta(self) -> dict:
        return {"height_m": round(self.height_m, 4), "pitch_deg": round(self.pitch_deg, 3), "roll_deg": round(self.roll_deg, 3),
                "focal_px": round(self.focal_px, 2), "focal_source": self.focal_source,
                "rotation_world_from_camera": np.round(self.rotation, 6).tolist(),
                "position_m": [0.0, 0.0, round(self.height_m, 4)], "frame": WORLD_FRAME,
                "ankle_height_m": ANKLE_HEIGHT_M}


# -- pure pieces --------------------------------------------------------------------------------------
def body_up(rel: np.ndarray, layout_joints: tuple[str, ...]) -> np.ndarray:
    """[N, J, 3] root-relative poses -> [N, 3] unit vectors from the ankles' midpoint to the head."""
    j = {n: i for i, n in enumerate(layout_joints)}
    up = rel[:, j["Head"]] - (rel[:, j["LAnkle"]] + rel[:, j["RAnkle"]]) / 2
    return up / np.linalg.norm(up, axis=-1, keepdims=True).clip(1e-9)


def fit_ground(points: np.ndarray, iterations: int = 10, scale_m: float = 0.1) -> tuple[np.ndarray, float, np.ndarray]:
    """A plane n . X + d = 0 through ``points`` [M, 3] (camera frame, the camera above it: d > 0),
    by least squares reweighted with Tukey's biweight (``scale_m``: the inliers' spread). Returns
    (n, d, weights)."""
    w = np.ones(len(points))
    n, d = np.array([0.0, -1.0, 0.0]), 1.0
    for _ in range(iterations):
        c = (w[:, None] * points).sum(0) / w.sum()
        cov = ((points - c) * w[:, None]).T @ (points - c)
        n = np.linalg.eigh(cov)[1][:, 0]
        d = -float(n @ c)
        if d < 0:
            n, d = -n, -d
        r = points @ n + d
        u = r / (4.685 * max(scale_m, 1.4826 * np.median(np.abs(r - np.median(r)))))
        w = np.where(np.abs(u) < 1, (1 - u ** 2) ** 2, 0.0)
        if w.sum() < 3:
            break
    return n, d, w


def weak_roots(rel: np.ndarray, uv: np.ndarray, k: np.ndarray) -> np.ndarray:
    """[N, J, 3] root-relative poses, [N, J, 2] pixels, intrinsics [4] -> [N, 3] roots (camera frame)."""
    kk = torch.as_tensor(np.tile(k, (len(rel), 1)), dtype=torch.float64)
    return weak_perspective_root(torch.as_tensor(rel), torch.as_tensor(uv), kk).numpy()


def lower_ankle(rel: np.ndarray, up: np.ndarray, layout_joints: tuple[str, ...]) -> np.ndarray:
    """[N] the index (into the joints) of each row's ankle that is lower along ``up``."""
    la, ra = layout_joints.index("LAnkle"), layout_joints.index("RAnkle")
    return np.where(rel[:, la] @ up <= rel[:, ra] @ up, la, ra)


def ground_from_feet(rel, uv, k, joints) -> tuple[np.ndarray, float, float, np.ndarray]:
    """The plane of the lower ankles (shifted down by the ankle height) under the weak-perspective
    roots: (normal, camera height, the feet's spread across the ground, the roots [N, 3]). Feet
    that do not cover an area (:data:`MIN_FEET_SPREAD_M` across) cannot tilt a plane: then the
    ground is square to the bodies' median up direction (the lifter's upright)."""
    root = weak_roots(rel, uv, k)
    up0 = _median_direction(body_up(rel, joints))
    feet = root + rel[np.arange(len(rel)), lower_ankle(rel, up0, joints)]
    spread = feet_spread(feet)
    if spread < MIN_FEET_SPREAD_M:
        return up0, -float(np.median(feet @ up0)) + ANKLE_HEIGHT_M, spread, root
    n, d, _ = fit_ground(feet)
    return n, d + ANKLE_HEIGHT_M, spread, root  # the floor lies the ankle height below the ankles' plane


def feet_spread(feet: np.ndarray) -> float:
    """The smaller of the two widths (2 standard deviations) of the feet's positions across the ground."""
    c = feet - feet.mean(0)
    return 2 * float(np.sqrt(max(np.linalg.eigvalsh(c.T @ c / max(len(c), 1))[1], 0.0)))


def _median_direction(v: np.ndarray) -> np.ndarray:
    m = np.median(v, axis=0)
    return m / np.linalg.norm(m)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """A running median then a running mean (``window`` frames, odd) along the first axis."""
    from scipy.ndimage import median_filter, uniform_filter1d

    if len(values) < 3:
        return values
    w = max(1, min(window, len(values) - (1 - len(values) % 2)))
    return uniform_filter1d(median_filter(values, size=(w,) + (1,) * (values.ndim - 1), mode="nearest"), w, axis=0,
                            mode="nearest")


def foot_contacts(world: np.ndarray, fps: float, joints: tuple[str, ...]) -> np.ndarray:
    """[T, J, 3] one person's world joints (frames in order) -> [T, 2] bool contacts (left, right)."""
    out = np.zeros((len(world), 2), bool)
    for s, name in enumerate(("LAnkle", "RAnkle")):
        p = world[:, joints.index(name)]
        height = p[:, 2] - ANKLE_HEIGHT_M
        v = np.zeros(len(p))
        if len(p) > 1:
            step = np.linalg.norm(np.diff(p[:, :2], axis=0), axis=-1) * fps
            v = np.concatenate([[step[0]], (step[1:] + step[:-1]) / 2, [step[-1]]]) if len(step) > 1 else np.r_[step, step]
        out[:, s] = (height < CONTACT_HEIGHT_M) & (v < CONTACT_SPEED_MS)
    return out


def lock_feet(world: np.ndarray, contact: np.ndarray, joints: tuple[str, ...]) -> np.ndarray:
    """Shift one person's frames horizontally so that a foot on the ground stays where it landed:
    the correction of a contact frame is (the contact's mean position - the foot's), averaged over
    the feet in contact, and interpolated linearly between contact frames."""
    corr = np.zeros((len(world), 2))
    count = np.zeros(len(world))
    for s, name in enumerate(("LAnkle", "RAnkle")):
        p = world[:, joints.index(name), :2]
        c = contact[:, s]
        edges = np.flatnonzero(np.diff(np.r_[0, c.astype(int), 0]))
        for a, b in zip(edges[::2], edges[1::2]):
            anchor = p[a:b].mean(0)
            corr[a:b] += anchor - p[a:b]
            count[a:b] += 1
    have = count > 0
    if not have.any():
        return world
    corr[have] /= count[have, None]
    t = np.arange(len(world))
    full = np.stack([np.interp(t, t[have], corr[have, i]) for i in range(2)], -1)
    out = world.copy()
    out[..., :2] += full[:, None]
    return out


def sliding_m(world: np.ndarray, contact: np.ndarray, joints: tuple[str, ...]) -> np.ndarray:
    """Horizontal movement of each foot between consecutive frames in which it is on the ground."""
    out = []
    for s, name in enumerate(("LAnkle", "RAnkle")):
        p = world[:, joints.index(name), :2]
        both = contact[1:, s] & contact[:-1, s]
        out.append(np.linalg.norm(np.diff(p, axis=0), axis=-1)[both])
    return np.concatenate(out) if out else np.zeros(0)


def _upright(pitch: float, roll: float) -> np.ndarray:
    """The ground's normal in the camera frame (x right, y down, z forward) of a camera pitched
    down by ``pitch`` and rolled by ``roll`` (radians)."""
    return np.array([math.sin(roll) * math.cos(pitch), -math.cos(roll) * math.cos(pitch), -math.sin(pitch)])


def refine_ground(rel, uv, k, joints, n0, d0) -> tuple[np.ndarray, float, float, bool]:
    """Pitch, roll and camera height that put every person's lower ankle on the floor and their
    head where the 2D shows it, their height being the lifted body's height along the normal (the
    body-height prior), by robust least squares on the head residuals in units of each person's 2D
    height, starting from the plane (n0, d0). Returns (n, d, the median head misfit in body
    heights, whether pitch or roll ended at their bounds)."""
    from scipy.optimize import least_squares

    head, la, ra = joints.index("Head"), joints.index("LAnkle"), joints.index("RAnkle")
    rows = np.arange(len(rel))
    size = np.linalg.norm(uv[:, head] - (uv[:, la] + uv[:, ra]) / 2, axis=-1).clip(1.0)
    f, cx, cy = k[0], k[2], k[3]

    def residuals(x):
        n, d = _upright(x[0], x[1]), math.exp(x[2])
        a = np.where(rel[:, la] @ n <= rel[:, ra] @ n, la, ra)
        foot2d = uv[rows, a]
        ray = np.stack([(foot2d[:, 0] - cx) / f, (foot2d[:, 1] - cy) / f, np.ones(len(rows))], -1)
        denom = ray @ n
        t = (ANKLE_HEIGHT_M - d) / np.where(np.abs(denom) < 1e-6, -1e-6, denom)
        foot = ray * t[:, None]
        tall = (rel[:, head] - rel[rows, a]) @ n
        top = foot + tall[:, None] * n
        z = np.maximum(top[:, 2], 1e-3)
        proj = np.stack([f * top[:, 0] / z + cx, f * top[:, 1] / z + cy], -1)
        return ((proj - uv[:, head]) / size[:, None]).ravel()

    pitch0 = math.asin(float(np.clip(-n0[2], -1, 1)))
    roll0 = math.asin(float(np.clip(n0[0] / max(math.cos(pitch0), 1e-6), -1, 1)))
    lo, hi = [math.radians(-30), math.radians(-45), math.log(0.3)], [math.radians(89), math.radians(45), math.log(200.0)]
    x0 = np.clip([pitch0, roll0, math.log(max(d0, 0.3))], np.array(lo) + 1e-6, np.array(hi) - 1e-6)
    sol = least_squares(residuals, x0, loss="soft_l1", f_scale=0.05, x_scale="jac", bounds=(lo, hi))
    misfit = float(np.median(np.linalg.norm(sol.fun.reshape(-1, 2), axis=-1)))
    at_bound = bool(np.any(np.abs(sol.x[:2] - np.array(lo[:2])) < 0.02) or np.any(np.abs(sol.x[:2] - np.array(hi[:2])) < 0.02))
    return _upright(sol.x[0], sol.x[1]), math.exp(sol.x[2]), misfit, at_bound


def _track_rows(track: np.ndarray, frame: np.ndarray) -> list[np.ndarray]:
    """Each track's rows, in frame order."""
    out = []
    for t in np.unique(track):
        rows = np.flatnonzero(track == t)
        out.append(rows[np.argsort(frame[rows], kind="stable")])
    return out


# -- the whole estimate --------------------------------------------------------------------------------
def estimate_scene(rel: np.ndarray, uv: np.ndarray, track: np.ndarray, frame: np.ndarray, joints: tuple[str, ...],
                   k: np.ndarray, fps: float, focal_source: str = "given", smooth_frames: int | None = None) -> Scene:
    """The ground, the camera and every row's world joints (see the module doc).

    rel [N, J, 3] root-relative lifted poses (camera frame, metres), uv [N, J, 2] their 2D (pixels),
    track [N] (a person and segment id), frame [N], k the intrinsics (fx, fy, cx, cy) in pixels
    (``focal_source`` says where their focal length came from, for the report)."""
    for name in ("Head", "LAnkle", "RAnkle"):
        if name not in joints:
            raise PosedaInputError("--world", f"needs the lifter's {name} joint (it has {', '.join(joints)})")
    if len(rel) < 10:
        raise PosedaInputError("--world", f"needs at least 10 lifted frames to find the ground, got {len(rel)}")
    rel = np.asarray(rel, np.float64)
    uv = np.asarray(uv, np.float64)
    k = np.asarray(k, np.float64).copy()
    report = []
    n0, d0, spread, weak = ground_from_feet(rel, uv, k, joints)
    if spread >= MIN_FEET_SPREAD_M:
        n, d, misfit, at_bound = refine_ground(rel, uv, k, joints, n0, d0)
        if at_bound or misfit > MAX_HEAD_MISFIT:
            raise PosedaInputError("--world", f"the people do not show one floor here (the best fit leaves heads "
                                              f"{'over 100' if misfit > 1 else f'{misfit * 100:.0f}'}% of a body from the 2D{', at the limits of pitch or roll' if at_bound else ''}): "
                                              "check the detections, or lift without --world")
    else:
        n, d = n0, d0
        report.append(f"the people cover only {spread:.1f} m of ground across: the ground is taken square to their bodies "
                      "(the lifter's upright), the camera's height from their size")
    if d <= 0.2:
        raise PosedaInputError("--world", f"the ground came out {d:.2f} m from the camera: the people do not show a floor "
                                          "(give the camera with --focal, or lift without --world)")
    # feet on the floor: the lower ankle where its 2D ray meets the plane the ankles move in, the
    # body hung from it as lifted
    a = lower_ankle(rel, n, joints)
    rows_all = np.arange(len(rel))
    ray = np.stack([(uv[rows_all, a, 0] - k[2]) / k[0], (uv[rows_all, a, 1] - k[3]) / k[1], np.ones(len(uv))], -1)
    depth = (ANKLE_HEIGHT_M - d) / (ray @ n)
    bad = ~np.isfinite(depth) | (depth <= 0.1)
    ankle_cam = ray * depth[:, None]
    root_cam = ankle_cam - rel[rows_all, a]
    root_cam[bad] = weak[bad]
    window = smooth_frames or max(3, int(round(fps / 4)) | 1)
    origin = -d * n
    ex = np.array([1.0, 0.0, 0.0]) - n[0] * n
    ex /= np.linalg.norm(ex)
    rot = np.stack([ex, np.cross(n, ex), n])
    world = np.empty_like(rel)
    contact = np.zeros((len(rel), 2), bool)
    for rows in _track_rows(track, frame):
        cam = rel[rows] + _smooth(root_cam[rows], window)[:, None]
        wj = (cam - origin) @ rot.T
        c = foot_contacts(wj, fps, joints)
        world[rows] = lock_feet(wj, c, joints)
        contact[rows] = c
    scene = Scene(n, float(d), float(k[0]), focal_source, rot, origin, world, contact, report)
    slide = np.concatenate([sliding_m(world[rows], contact[rows], joints) for rows in _track_rows(track, frame)])
    report.append(f"ground: camera {d:.2f} m above it, pitched {scene.pitch_deg:.1f} deg down, roll {scene.roll_deg:.1f} deg; "
                  f"feet on the ground in {contact.any(1).mean() * 100:.0f}% of the rows, sliding "
                  f"{np.median(slide) * 100 if len(slide) else 0:.1f} cm per frame (median)")
    return scene

