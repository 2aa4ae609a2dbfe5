"""The demo video: every frame of the input with each person's 2D skeleton drawn over it, beside
a 3D view of everyone, written as H.264 MP4 at the input's frame rate.

Drawn with OpenCV (a few lines per person and frame, so rendering costs about as much as
decoding and encoding), encoded by the ffmpeg that ``imageio-ffmpeg`` ships.

The 3D panel shows the scene upright: with the scene's world (``--world``, the demo's default)
everyone stands on the estimated ground, seen from behind the camera and above it (``yaw_deg``
around the vertical, ``pitch_deg`` down), so a person left in the video is left in the panel too.
The view follows the people: its centre and scale fit the people in view, smoothed over about a
second (:class:`View3D`), never closer than :data:`MIN_EXTENT_M` across, over a 1 m floor grid. Each
person keeps the colour of their 2D overlay, carries an ID label (``P<track>``) and trails the
last :data:`TRAIL_S` seconds of their path on the floor. Without a world, the camera frame is
turned upright (up = -y), with the absolute root where there is one, else each person centred
on their own root and spread sideways by where they stand in the image. Right limbs are drawn
lighter, joints filled in time (not detected) hollow.
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
#: the 3D view shows at least this much of the floor across (metres)
MIN_EXTENT_M = 3.0
#: seconds of each person's path drawn on the floor behind them
TRAIL_S = 2.0


def scene_points(lifted: Lifted) -> np.ndarray:
    """[N, J, 3] every row's joints in the upright scene frame (x right, y up, z away), metres;
    the floor at y = 0 when the lift has a world."""
    if lifted.world is not None:
        return lifted.world[..., [0, 2, 1]]
    p = lifted.joints3d * np.array([1.0, -1.0, 1.0])
    if lifted.root is not None:
        return p + lifted.root[:, None] * np.array([1.0, -1.0, 1.0])
    w = float((lifted.meta.get("camera", {}).get("image_size") or [1000])[0])
    shift = (lifted.keypoints2d[:, 0, 0] / w - 0.5) * 4.0  # metres sideways, from the image position
    return p + np.stack([shift, np.zeros_like(shift), np.zeros_like(shift)], -1)[:, None]


class View3D:
    """An orthographic view of a clip's scene that follows its people: for every frame, a centre
    and a scale that fit the people in view, smoothed over ``smooth`` frames."""

    def __init__(self, points: np.ndarray, frame: np.ndarray, frames: int, size: int, yaw_deg: float = 0.0,
                 pitch_deg: float = 30.0, smooth: int = 31, floor: float | None = None):
        from scipy.ndimage import uniform_filter1d

        a, b = np.radians(yaw_deg), np.radians(pitch_deg)
        ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        rx = np.array([[1, 0, 0], [0, np.cos(b), np.sin(b)], [0, -np.sin(b), np.cos(b)]])
        self.rot = rx @ ry
        self.size = size
        self.floor = float(points[..., 1].min()) if floor is None else floor
        frames = max(frames, int(frame.max(initial=-1)) + 1, 1)
        lo = np.full((frames, 3), np.nan)
        hi = np.full((frames, 3), np.nan)
        for f in np.unique(frame):
            p = points[frame == f].reshape(-1, 3)
            lo[f], hi[f] = p.min(0), p.max(0)
        seen = np.flatnonzero(np.isfinite(lo[:, 0]))
        t = np.arange(frames)
        if len(seen):
            lo = np.stack([np.interp(t, seen, lo[seen, i]) for i in range(3)], -1)
            hi = np.stack([np.interp(t, seen, hi[seen, i]) for i in range(3)], -1)
        else:
            lo, hi = np.zeros((frames, 3)), np.ones((frames, 3))
        w = max(1, min(smooth, frames))
        lo, hi = uniform_filter1d(lo, w, axis=0, mode="nearest"), uniform_filter1d(hi, w, axis=0, mode="nearest")
        self.centre = (lo + hi) / 2
        self.centre[:, 1] = (self.floor + hi[:, 1]) / 2
        extent = np.maximum((hi - lo)[:, [0, 2]].max(1), MIN_EXTENT_M)
        self.extent = np.maximum(extent, hi[:, 1] - self.floor)
        self.scale = 0.75 * size / self.extent

    def project(self, p: np.ndarray, f: int) -> np.ndarray:
        f = min(max(f, 0), len(self.scale) - 1)
        q = (np.asarray(p) - self.centre[f]) @ self.rot.T
        return np.stack([self.size / 2 + q[..., 0] * self.scale[f], self.size / 2 - q[..., 1] * self.scale[f]], -1)

    def grid(self, f: int) -> list[np.ndarray]:
        """1 m floor lines around the view's centre at frame ``f`` (segments in scene coordinates)."""
        f = min(max(f, 0), len(self.scale) - 1)
        c, r = self.centre[f], self.extent[f]
        xs = np.arange(np.floor(c[0] - r), np.ceil(c[0] + r) + 1)
        zs = np.arange(np.floor(c[2] - r), np.ceil(c[2] + r) + 1)
        return [np.array([[x, self.floor, zs[0]], [x, self.floor, zs[-1]]]) for x in xs] + \
               [np.array([[xs[0], self.floor, z], [xs[-1], self.floor, z]]) for z in zs]


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
    # each person's path on the floor: (frame, x, floor, z) of the root, in frame order
    ground = 0.0 if lifted.world is not None else float(scene[..., 1].min(initial=0.0))
    paths = {}
    for t in colour_of:
        r = np.flatnonzero(lifted.track == t)
        r = r[np.argsort(lifted.frame[r], kind="stable")]
        paths[t] = np.column_stack([lifted.frame[r], scene[r, 0, 0], np.full(len(r), ground), scene[r, 0, 2]])
    model = lifted.meta.get("model", {}).get("name", "")
    written = 0

    def encode(tmp: Path) -> None:
        nonlocal written
        ok, frame = cap.read()
        if not ok:
            raise PosedaInputError(video, "video has no readable frames")
        h, w = frame.shape[:2]
        side = panel or h
        floor = 0.0 if lifted.world is not None else None
        view = View3D(scene, lifted.frame, total or int(lifted.frame.max(initial=0)) + 1, side, floor=floor,
                      smooth=max(3, int(round(fps))) | 1) if len(scene) else None
        trail = max(1, int(round(TRAIL_S * fps)))
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
                        for g in view.grid(k):
                            a, b = view.project(g, k)
                            cv2.line(right, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (70, 70, 70), 1, cv2.LINE_AA)
                    for r in rows_of.get(k, []):
                        tr = int(lifted.track[r])
                        col = colour_of[tr]
                        _draw_person(canvas, lifted.keypoints2d[r], parents, names, col, lifted.filled[r], max(2, h // 360))
                        past = paths[tr][(paths[tr][:, 0] > k - trail) & (paths[tr][:, 0] <= k), 1:]
                        if len(past) > 1:
                            pts = view.project(past, k).astype(np.int32)
                            cv2.polylines(right, [pts.reshape(-1, 1, 2)], False, col, 1, cv2.LINE_AA)
                        body = view.project(scene[r], k)
                        _draw_person(right, body, parents, names, col, None, max(2, side // 300))
                        top = body[np.argmin(body[:, 1])]
                        cv2.putText(right, f"P{tr}", (int(top[0]) - 8, int(top[1]) - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, col, 1,
                                    cv2.LINE_AA)
                    cv2.putText(canvas, f"frame {k}", (10, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (230, 230, 230), 1,
                                cv2.LINE_AA)
                    cv2.putText(canvas, f"3D ({model}){', 1 m grid' if lifted.world is not None else ''}", (w + 10, 24),
                                cv2.FONT_HERSHEY_SIMPLEX, 0.6, (230, 230, 230), 1, cv2.LINE_AA)
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
