"""The camera of a keypoint file: intrinsics from what the user knows.

The intrinsics are the user's (a focal length and principal point in pixels, or a horizontal
field of view) or the default: focal length = the image diagonal in pixels, principal point at
the image centre. The diagonal default is CLIFF's (Li et al., ECCV 2022) for unknown cameras; it
is a horizontal field of view of 44 degrees for 4:3 images and 47 degrees for 16:9 ones
(Human3.6M's cameras: 47 degrees).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from poseda.errors import PosedaInputError


@dataclass(frozen=True)
class Camera:
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    source: str

    @property
    def k(self) -> np.ndarray:
        return np.array([self.fx, self.fy, self.cx, self.cy])

    def to_dict(self) -> dict:
        return {"fx_px": self.fx, "fy_px": self.fy, "cx_px": self.cx, "cy_px": self.cy, "image_size": [self.width, self.height],
                "horizontal_fov_deg": math.degrees(2 * math.atan(self.width / (2 * self.fx))), "source": self.source}


def make_camera(image_size: tuple[int, int], focal: float | None = None, fov_deg: float | None = None,
                center: tuple[float, float] | None = None) -> Camera:
    """Intrinsics from what the user knows: a focal length in pixels, or a horizontal field of
    view, or nothing (focal length = image diagonal); principal point default the image centre."""
    w, h = image_size
    if w <= 0 or h <= 0:
        raise PosedaInputError("--image-size", f"must be positive, got {w}x{h}")
    if focal is not None and fov_deg is not None:
        raise PosedaInputError("--fov", "give a focal length or a field of view, not both")
    if focal is not None:
        if not focal > 0:
            raise PosedaInputError("--focal", f"must be positive, got {focal}")
        f, src = float(focal), "user focal length"
    elif fov_deg is not None:
        if not 0 < fov_deg < 180:
            raise PosedaInputError("--fov", f"must be between 0 and 180 degrees, got {fov_deg}")
        f, src = w / (2 * math.tan(math.radians(fov_deg) / 2)), f"user horizontal field of view {fov_deg:g} deg"
    else:
        f, src = math.hypot(w, h), "default: focal length = image diagonal"
    cx, cy = center if center is not None else (w / 2, h / 2)
    if center is None:
        src += ", principal point at the image centre"
    return Camera(f, f, float(cx), float(cy), int(w), int(h), src)


def file_camera(det, path, image_size: tuple[int, int] | None = None, focal: float | None = None,
                fov_deg: float | None = None, center: tuple[float, float] | None = None) -> Camera:
    """The camera of a keypoint file: its image size from the file or ``image_size`` (which must
    agree when both are known), then :func:`make_camera`."""
    if image_size is None and det.image_size is None:
        raise PosedaInputError(path, "does not say the image size: pass --image-size WIDTHxHEIGHT")
    if image_size is not None and det.image_size is not None and tuple(image_size) != tuple(det.image_size):
        raise PosedaInputError("--image-size", f"{image_size[0]}x{image_size[1]} differs from the "
                                               f"{det.image_size[0]}x{det.image_size[1]} that {path} states")
    return make_camera(tuple(image_size or det.image_size), focal, fov_deg, center)
