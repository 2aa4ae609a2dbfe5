"""Camera rigs described in YAML, and seeded sampling of cameras from them.

A rig file lists camera *groups*. Every field is checked; a wrong or unknown field is reported
as one line naming the file and the field. Schema (ranges are ``[low, high]``, drawn uniformly):

    name: my-rig
    groups:
      - name: chest                # free text
        count: 4                   # cameras drawn from this group per sequence
        image_size: [2048, 2048]   # W, H in pixels
        focal_px: [1500, 1500]     # focal length range (square pixels)
        principal_point_px: [1017.4, 1043.0]   # optional; default the image centre
        portrait_prob: 0.0         # chance of swapping W and H (a phone held upright)
        distance_m: [3.5, 5.5]     # horizontal distance from the subject's path centre
        height_m: [1.2, 1.5]       # camera centre above the floor
        aim_height_m: [0.9, 1.1]   # the camera looks at this height above the path centre
        azimuth_deg: [0, 180]      # optional fixed azimuths, one per camera; default uniform
        azimuth_jitter_deg: 15     # added to fixed azimuths
        offcentre_deg: [0, 0]      # yaw/pitch of the aim away from the subject (off-centre framing)
        roll_deg: 0                # absolute roll drawn from [-roll, roll]
        fit_subject_m: 0           # if > 0: focal length and distance are redrawn together until
                                   # a subject this tall fits the image height (framing)

Azimuths are measured from a per-sequence random phase, so the body's heading relative to the
cameras varies between sequences.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import yaml

from poseda.errors import PosedaInputError, malformed_input
from poseda.fileio import check_input
from poseda.geometry.camera import look_at
from poseda.geometry.rotations import axis_rotation

_GROUP_FIELDS = {
    "name": str, "count": int, "image_size": list, "focal_px": list, "principal_point_px": list,
    "portrait_prob": float, "distance_m": list, "height_m": list, "aim_height_m": list,
    "azimuth_deg": list, "azimuth_jitter_deg": float, "offcentre_deg": list, "roll_deg": float,
    "fit_subject_m": float,
}
_REQUIRED = ("count", "image_size", "focal_px", "distance_m", "height_m", "aim_height_m")


@dataclass(frozen=True)
class CameraGroup:
    name: str
    count: int
    image_size: tuple[int, int]
    focal_px: tuple[float, float]
    principal_point_px: tuple[float, float] | None
    portrait_prob: float
    distance_m: tuple[float, float]
    height_m: tuple[float, float]
    aim_height_m: tuple[float, float]
    azimuth_deg: tuple[float, ...] | None
    azimuth_jitter_deg: float
    offcentre_deg: tuple[float, float]
    roll_deg: float
    fit_subject_m: float = 0.0


@dataclass(frozen=True)
class Rig:
    name: str
    groups: tuple[CameraGroup, ...]
    text: str  # the YAML as read, saved with every prepared domain

    @property
    def num_cameras(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


# what a camera rig can sensibly hold: anything outside is a typo, not a camera
LIMITS = {"image_size": (1, 20000), "focal_px": (1, 1e6), "principal_point_px": (-1e5, 1e5), "distance_m": (0.05, 1e4),
          "height_m": (-1e3, 1e4), "aim_height_m": (-1e3, 1e4), "azimuth_deg": (-3600, 3600), "offcentre_deg": (-90, 90)}
MAX_CAMERAS = 256


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _range(where: str, field: str, value, n: int = 2, positive: bool = False, ordered: bool = True) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != n or not all(_number(v) for v in value):
        raise PosedaInputError(where, f"field '{field}' must be a list of {n} finite numbers, got {value!r}")
    vals = tuple(float(v) for v in value)
    if ordered and n == 2 and vals[0] > vals[1]:
        raise PosedaInputError(where, f"field '{field}': low {vals[0]} is above high {vals[1]}")
    if positive and min(vals) <= 0:
        raise PosedaInputError(where, f"field '{field}' must be positive, got {value!r}")
    lo, hi = LIMITS.get(field, (-math.inf, math.inf))
    if min(vals) < lo or max(vals) > hi:
        raise PosedaInputError(where, f"field '{field}' must lie in [{lo:g}, {hi:g}], got {value!r}")
    return vals


@malformed_input("rig file", 1)
def parse_rig(text: str, where: str) -> Rig:
    try:
        d = yaml.safe_load(text)
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        raise PosedaInputError(where, f"not valid YAML{f' (line {line + 1})' if line is not None else ''}") from None
    if not isinstance(d, dict):
        raise PosedaInputError(where, "a rig file must be a mapping with 'name' and 'groups'")
    unknown = set(d) - {"name", "groups", "description", "source"}
    if unknown:
        raise PosedaInputError(where, f"unknown field(s) {sorted(unknown)} (allowed: name, groups, description, source)")
    groups = d.get("groups")
    if not isinstance(groups, list) or not groups:
        raise PosedaInputError(where, "field 'groups' must be a non-empty list")
    out = []
    for gi, g in enumerate(groups):
        gw = f"{where}: groups[{gi}]"
        if not isinstance(g, dict):
            raise PosedaInputError(gw, "must be a mapping")
        unknown = set(g) - set(_GROUP_FIELDS)
        if unknown:
            raise PosedaInputError(gw, f"unknown field(s) {sorted(unknown)}")
        for f in _REQUIRED:
            if f not in g:
                raise PosedaInputError(gw, f"missing field '{f}'")
        count = g["count"]
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_CAMERAS:
            raise PosedaInputError(gw, f"field 'count' must be an integer from 1 to {MAX_CAMERAS}, got {count!r}")
        size = _range(gw, "image_size", g["image_size"], positive=True, ordered=False)
        if "azimuth_deg" in g:
            az = g["azimuth_deg"]
            if not isinstance(az, list) or len(az) != count:
                raise PosedaInputError(gw, f"field 'azimuth_deg' must list {count} numbers (one per camera), got {az!r}")
            azimuth = _range(gw, "azimuth_deg", az, n=count, ordered=False)
        else:
            azimuth = None
        scalars = {}
        for f, default in (("portrait_prob", 0.0), ("azimuth_jitter_deg", 0.0), ("roll_deg", 0.0), ("fit_subject_m", 0.0)):
            v = g.get(f, default)
            if not _number(v) or not 0 <= v <= 1e4:
                raise PosedaInputError(gw, f"field '{f}' must be a finite number from 0 to 10000, got {v!r}")
            scalars[f] = float(v)
        if scalars["portrait_prob"] > 1:
            raise PosedaInputError(gw, "field 'portrait_prob' must be in [0, 1]")
        pp = None
        if "principal_point_px" in g:
            pp = _range(gw, "principal_point_px", g["principal_point_px"], ordered=False)
        out.append(
            CameraGroup(
                name=str(g.get("name", f"group{gi}")), count=count, image_size=(int(size[0]), int(size[1])),
                focal_px=_range(gw, "focal_px", g["focal_px"], positive=True), principal_point_px=pp,
                portrait_prob=scalars["portrait_prob"], distance_m=_range(gw, "distance_m", g["distance_m"], positive=True),
                height_m=_range(gw, "height_m", g["height_m"]), aim_height_m=_range(gw, "aim_height_m", g["aim_height_m"]),
                azimuth_deg=azimuth, azimuth_jitter_deg=scalars["azimuth_jitter_deg"],
                offcentre_deg=_range(gw, "offcentre_deg", g.get("offcentre_deg", [0, 0])), roll_deg=scalars["roll_deg"],
                fit_subject_m=scalars["fit_subject_m"],
            )
        )
    if sum(g.count for g in out) > MAX_CAMERAS:
        raise PosedaInputError(where, f"the groups hold {sum(g.count for g in out)} cameras, more than {MAX_CAMERAS}")
    name = d.get("name", Path(where).stem)
    return Rig(str(name), tuple(out), text)


def load_rig(path_or_name: str | Path) -> Rig:
    """A rig from a YAML file, or a built-in rig by name (``mpi-inf-3dhp``, ``handheld``, ``handheld-16``, ``broadcast``, ``overhead``, ``ground``)."""
    p = Path(path_or_name)
    if p.suffix in (".yaml", ".yml") or p.exists() or p.is_symlink():
        check_input(p, "file", "rig file")
        try:
            text = p.read_text()
        except UnicodeDecodeError:
            raise PosedaInputError(p, "is not a text (YAML) file") from None
        return parse_rig(text, str(p))
    res = resources.files("poseda.domains.rigs") / f"{path_or_name}.yaml"
    if not res.is_file():
        raise PosedaInputError(str(path_or_name), "unknown built-in rig and no such file")
    return parse_rig(res.read_text(), f"poseda/domains/rigs/{path_or_name}.yaml")


def sequence_rng(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on the seed and a sequence's name (not on build order)."""
    h = int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "little")
    return np.random.default_rng(h)


@dataclass
class SampledCameras:
    """Cameras of one sequence: arrays over C cameras."""

    intrinsics: np.ndarray  # [C, 4] fx fy cx cy, pixels
    image_size: np.ndarray  # [C, 2] W H
    rotation: np.ndarray  # [C, 3, 3] camera-to-world
    centre: np.ndarray  # [C, 3] world, metres (z up)
    group: list[str]


def sample_cameras(rig: Rig, rng: np.random.Generator, centre: np.ndarray) -> SampledCameras:
    """Draw every camera of ``rig`` around a subject whose path is centred at ``centre`` (x, y on
    the floor, z = 0), in a z-up world. Vectorised over the cameras of each group."""
    phase = rng.uniform(0, 360)
    ks, sizes, rots, eyes, names = [], [], [], [], []
    for g in rig.groups:
        n = g.count
        def u(r, n=n):
            return rng.uniform(r[0], r[1], n)

        if g.azimuth_deg is None:
            az = rng.uniform(0, 360, n)
        else:
            az = np.asarray(g.azimuth_deg) + rng.uniform(-g.azimuth_jitter_deg, g.azimuth_jitter_deg, n)
        az = np.deg2rad(az + phase)
        dist, height, aim, f = u(g.distance_m), u(g.height_m), u(g.aim_height_m), u(g.focal_px)
        w, h = g.image_size
        portrait = rng.uniform(0, 1, n) < g.portrait_prob
        size = np.where(portrait[:, None], [h, w], [w, h]).astype(np.float64)
        if g.fit_subject_m > 0:  # redraw focal length and distance together until the subject fits
            for _ in range(1000):
                bad = f * g.fit_subject_m / dist > size[:, 1]
                if not bad.any():
                    break
                k = int(bad.sum())
                f[bad] = rng.uniform(g.focal_px[0], g.focal_px[1], k)
                dist[bad] = rng.uniform(g.distance_m[0], g.distance_m[1], k)
            else:
                raise PosedaInputError(f"rig {rig.name}", f"group {g.name}: no focal length / distance in the ranges frames a "
                                                          f"{g.fit_subject_m} m subject")
        eye = np.stack([centre[0] + dist * np.cos(az), centre[1] + dist * np.sin(az), height], 1)
        target = np.stack([np.full(n, centre[0]), np.full(n, centre[1]), aim], 1)
        r = look_at(torch.from_numpy(eye), torch.from_numpy(target))
        # off-centre framing: turn the camera away from the subject by an angle drawn from
        # offcentre_deg (either side) in yaw, and up to half of its high end in pitch
        lo, hi = g.offcentre_deg
        yaw = torch.from_numpy(np.deg2rad(rng.choice([-1.0, 1.0], n) * rng.uniform(lo, hi, n)))
        pitch = torch.from_numpy(np.deg2rad(rng.uniform(-0.5, 0.5, n) * hi))
        roll = torch.from_numpy(np.deg2rad(rng.uniform(-g.roll_deg, g.roll_deg, n)))
        r = r @ axis_rotation("y", yaw) @ axis_rotation("x", pitch) @ axis_rotation("z", roll)
        if g.principal_point_px is None:
            c = size / 2
        else:
            c = np.where(portrait[:, None], np.asarray(g.principal_point_px)[::-1], np.asarray(g.principal_point_px))
        ks.append(np.stack([f, f, c[:, 0], c[:, 1]], 1))
        sizes.append(size)
        rots.append(r.numpy())
        eyes.append(eye)
        names += [g.name] * n
    return SampledCameras(np.concatenate(ks), np.concatenate(sizes), np.concatenate(rots), np.concatenate(eyes), names)


def camera_height_pitch(rotation: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera height above the floor (m) and pitch of the optical axis (degrees, positive looks
    up) in a z-up world."""
    fwd = rotation[..., :, 2]
    return centre[..., 2], np.degrees(np.arcsin(np.clip(fwd[..., 2], -1, 1)))


def rig_summary(rig: Rig) -> str:
    parts = [f"{g.count}x {g.name} {g.image_size[0]}x{g.image_size[1]} f{g.focal_px[0]:g}-{g.focal_px[1]:g}" for g in rig.groups]
    return f"{rig.name}: " + ", ".join(parts)

