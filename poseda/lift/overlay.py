"""The demo video: every frame of the input with each person's 2D skeleton drawn over it, beside
a 3D view of everyone, written as H.264 MP4 at the input's frame rate.

Drawn with OpenCV (a few lines per person and frame, so rendering costs about as much as
decoding and encoding), encoded by the ffmpeg that ``imageio-ffmpeg`` ships. The 3D panel shows
the camera frame turned upright (up = -y), seen from ``view_yaw_deg`` to the side and
``view_pitch_deg`` above, orthographic, on a floor grid at the lowest joint of the whole clip;
its scale is fixed for the clip so nothing jumps. With an absolute root (``--absolute``, the
demo's default) people stand where they were estimated; without one each is centred on its own
root, spread sideways by where it stands in the image. Each person keeps one colour in both
panels; right limbs are drawn lighter, joints filled in time (not detected) hollow.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from poseda.errors import PosedaInputError
from poseda.fileio import atomic_write
from poseda.lift.lifting import Lifted

PALETTE = [(230, 120, 40), (40, 160, 230), (60, 200, 90), (200, 70, 200), (230, 200, 40), (90, 90, 230), (40, 220, 200),
           (200, 120, 120)]  # BGR


def scene_points(lifted: Lifted) -> np.ndarray:
    """[N, J, 3] every row's joints in the upright scene frame (x right, y up, z away), metres."""
    p = lifted.joints3d * np.array([1.0, -1.0, 1.0])
    if lifted.root is not None:
        return p + lifted.root[:, None] * np.array([1.0, -1.0, 1.0])
    w = float((lifted.meta.get("camera", {}).get("image_size") or [1000])[0])
    shift = (lifted.keypoints2d[:, 0, 0] / w - 0.5) * 4.0  # metres sideways, from the image position
    return p + np.stack([shift, np.zeros_like(shift), np.zeros_like(shift)], -1)[:, None]


class View3D:
    """A fixed orthographic view of a clip's scene: scale and centre from every frame."""

    def __init__(self, points: np.ndarray, size: int, yaw_deg: float = 30.0, pitch_deg: float = 15.0):
        a, b = np.radians(yaw_deg), np.radians(pitch_deg)
        ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
        self.rot = rx @ ry
        flat = points.reshape(-1, 3)
        self.floor = float(flat[:, 1].min())
        lo, hi = flat.min(0), flat.max(0)
        self.centre = (lo + hi) / 2
        self.centre[1] = (self.floor + hi[1]) / 2
        extent = max(float((hi - lo).max()), 1.0)
        self.size, self.scale = size, 0.8 * size / (extent * 1.2)
        xs = np.linspace(lo[0] - 0.5, hi[0] + 0.5, 7)
        zs = np.linspace(lo[2] - 0.5, hi[2] + 0.5, 7)
        self.grid = [np.array([[x, self.floor, zs[0]], [x, self.floor, zs[-1]]]) for x in xs] + \
                    [np.array([[xs[0], self.floor, z], [xs[-1], self.floor, z]]) for z in zs]

    def project(self, p: np.ndarray) -> np.ndarray:
        q = (np.asarray(p) - self.centre) @ self.rot.T
        return np.stack([self.size / 2 + q[..., 0] * self.scale, self.size / 2 - q[..., 1] * self.scale], -1)


def _draw_person(img, pts2d: np.ndarray, parents: list[int], names, colour, filled=None, thickness: int = 2) -> None:
    import cv2

    light = tuple(int(c + (255 - c) * 0.5) for c in colour)
    for j, p in enumerate(parents):
        if p < 0:
            continue
        c = light if str(names[j]).startswith("R") else colour
        a, b = pts2d[p], pts2d[j]
        if np.isfinite(a).all() and np.isfinite(b).all():
            cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), c, thickness, cv2.LINE_AA)
    for j, q in enumerate(pts2d):
        if np.isfinite(q).all():
            hollow = filled is not None and bool(filled[j])
            cv2.circle(img, (int(q[0]), int(q[1])), thickness + 1, colour, 1 if hollow else -1, cv2.LINE_AA)


def render_overlay(video: str | Path, lifted: Lifted, out: str | Path, fps: float, max_frames: int | None = None,
                   progress: bool = False, panel: int | None = None) -> tuple[Path, int]:
    """Write the demo MP4 (see the module doc); returns (path, frames written)."""
    import cv2
    import imageio_ffmpeg
    from tqdm import tqdm

    out = Path(out)
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise PosedaInputError(video, "cannot be opened as a video")
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    parents = list(lifted.parents)
    names = lifted.joints
    scene = scene_points(lifted)
    rows_of: dict[int, np.ndarray] = {}
    order = np.argsort(lifted.frame, kind="stable")
    fr = lifted.frame[order]
    starts = np.searchsorted(fr, np.unique(fr))
    for f, rows in zip(np.unique(fr), np.split(order, starts[1:])):
        rows_of[int(f)] = rows
    colour_of = {int(t): PALETTE[k % len(PALETTE)] for k, t in enumerate(np.unique(lifted.track))}
    model = lifted.meta.get("model", {}).get("name", "")
    written = 0

    def encode(tmp: Path) -> None:
        nonlocal written
        ok, frame = cap.read()
        if not ok:
            raise PosedaInputError(video, "video has no readable frames")
        h, w = frame.shape[:2]
        side = panel or h
        view = View3D(scene, side) if len(scene) else None
        width, height = w + side, max(h, side)
        width += width % 2
        height += height % 2
        writer = imageio_ffmpeg.write_frames(str(tmp), (width, height), fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                             pix_fmt_out="yuv420p", quality=6, macro_block_size=1,
                                             output_params=["-preset", "veryfast"], ffmpeg_log_level="error")
        writer.send(None)
        bar = tqdm(total=total or None, desc="render", unit="frame", disable=None if progress else True, file=sys.stderr, leave=False)
        k = 0
        try:
            with bar:
                while ok and (max_frames is None or k < max_frames):
                    canvas = np.full((height, width, 3), 24, np.uint8)
                    canvas[:h, :w] = frame
                    right = canvas[:side, w:w + side]
                    if view is not None:
                        for g in view.grid:
                            a, b = view.project(g)
                            cv2.line(right, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (70, 70, 70), 1, cv2.LINE_AA)
                    for r in rows_of.get(k, []):
                        col = colour_of[int(lifted.track[r])]
                        _draw_person(canvas, lifted.keypoints2d[r], parents, names, col, lifted.filled[r], max(2, h // 360))
                        _draw_person(right, view.project(scene[r]), parents, names, col, None, max(2, side // 300))
                    cv2.putText(canvas, f"frame {k}", (10, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (230, 230, 230), 1,
                                cv2.LINE_AA)
                    cv2.putText(canvas, f"3D ({model})", (w + 10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (230, 230, 230), 1,
                                cv2.LINE_AA)
                    writer.send(np.ascontiguousarray(canvas[..., ::-1]))
                    k += 1
                    bar.update(1)
                    ok, frame = cap.read()
        finally:
            writer.close()
        written = k

    try:
        path = atomic_write(out, lambda tmp: encode(Path(tmp)))
    finally:
        cap.release()
    return path, written
