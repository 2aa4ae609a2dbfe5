"""Pictures of a lift: the 2D input beside the 3D skeleton, for one frame (PNG) or a sequence
(GIF, or MP4 through the ffmpeg binary that ``imageio-ffmpeg`` ships).

Rendering uses matplotlib (Agg). The 3D view shows the camera frame turned upright: x to the
right, depth into the picture, up = -y. Right limbs are red, left limbs blue, the rest grey.
A sequence draws the figure once and moves the lines frame by frame.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from poseda.errors import PosedaInputError
from poseda.fileio import atomic_write
from poseda.lift.lifting import Lifted
from poseda.skeleton.layouts import H36M17

IMAGE_SUFFIXES = (".png",)
ANIMATION_SUFFIXES = (".gif", ".mp4")


def _bones(joints: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """(parent, child, colour) for the bones of a subset of Human3.6M-17, by name."""
    layout = H36M17.subset(joints) if tuple(joints) != H36M17.joints else H36M17
    out = []
    for p, c in layout.bones:
        name = layout.joints[c]
        colour = "tab:red" if name.startswith("R") else "tab:blue" if name.startswith("L") else "0.35"
        out.append((p, c, colour))
    return out


def _track_rows(lifted: Lifted, track: int | None) -> np.ndarray:
    ids = lifted.track
    if len(ids) == 0:
        raise PosedaInputError("input", "the lift output holds no frames")
    if track is None:
        track = int(ids[0])
    rows = np.flatnonzero(ids == track)
    if not len(rows):
        raise PosedaInputError("--track", f"no track {track} (tracks: {', '.join(map(str, np.unique(ids)))})")
    return rows


class _Figure:
    """One figure with a 2D and a 3D panel whose lines can be moved to any frame."""

    def __init__(self, lifted: Lifted, rows: np.ndarray, size_in: tuple[float, float] = (8.0, 4.0), dpi: int = 100):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.plt = plt
        self.lifted, self.rows = lifted, rows
        self.bones = _bones(lifted.joints)
        self.fig = plt.figure(figsize=size_in, dpi=dpi)
        cam = lifted.meta.get("camera", {})
        w, h = cam.get("image_size", [None, None])
        kp = lifted.keypoints2d[rows]
        ax2 = self.fig.add_subplot(1, 2, 1)
        if w and h:
            ax2.set_xlim(0, w)
            ax2.set_ylim(h, 0)
        else:
            lo, hi = np.nanmin(kp, (0, 1)), np.nanmax(kp, (0, 1))
            ax2.set_xlim(lo[0], hi[0])
            ax2.set_ylim(hi[1], lo[1])
        ax2.set_aspect("equal")
        ax2.set_title("2D input (pixels)", fontsize=9)
        ax2.tick_params(labelsize=7)
        ax3 = self.fig.add_subplot(1, 2, 2, projection="3d")
        pose = lifted.joints3d[rows]
        r = float(np.nanmax(np.abs(pose))) * 1.05 or 1.0
        ax3.set_xlim(-r, r)
        ax3.set_ylim(-r, r)
        ax3.set_zlim(-r, r)
        ax3.set_box_aspect((1, 1, 1))
        ax3.set_xlabel("x (m)", fontsize=7)
        ax3.set_ylabel("depth (m)", fontsize=7)
        ax3.set_zlabel("up (m)", fontsize=7)
        ax3.tick_params(labelsize=6)
        ax3.view_init(elev=15, azim=-70)
        self.title = ax3.set_title("", fontsize=9)
        self.lines2d = [ax2.plot([], [], color=c, lw=2)[0] for _, _, c in self.bones]
        self.points2d = ax2.scatter([], [], s=8, c="k")
        self.lines3d = [ax3.plot([], [], [], color=c, lw=2)[0] for _, _, c in self.bones]
        self.fig.tight_layout()

    def show(self, i: int) -> None:
        row = self.rows[i]
        kp = self.lifted.keypoints2d[row]
        p = self.lifted.joints3d[row]
        up = np.stack([p[:, 0], p[:, 2], -p[:, 1]], -1)  # x, depth, up
        for (a, b, _), l2, l3 in zip(self.bones, self.lines2d, self.lines3d):
            l2.set_data(kp[[a, b], 0], kp[[a, b], 1])
            l3.set_data_3d(up[[a, b], 0], up[[a, b], 1], up[[a, b], 2])
        self.points2d.set_offsets(kp)
        filled = int(self.lifted.filled[row].sum())
        self.title.set_text(f"3D, camera frame (m) - track {self.lifted.track[row]}, frame {self.lifted.frame[row]}"
                            + (f", {filled} joint(s) filled" if filled else ""))

    def close(self):
        self.plt.close(self.fig)


def render_frame(lifted: Lifted, out: str | Path, frame: int | None = None, track: int | None = None, dpi: int = 100) -> Path:
    """PNG of one frame (default the track's first) of one track (default the first)."""
    out = Path(out)
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise PosedaInputError(out, "a single frame is written as .png")
    rows = _track_rows(lifted, track)
    if frame is None:
        i = 0
    else:
        hit = np.flatnonzero(lifted.frame[rows] == frame)
        if not len(hit):
            fr = lifted.frame[rows]
            raise PosedaInputError("--frame", f"frame {frame} is not in track {lifted.track[rows[0]]} (frames {fr.min()}-{fr.max()})")
        i = int(hit[0])
    fig = _Figure(lifted, rows, dpi=dpi)
    try:
        fig.show(i)
        atomic_write(out, lambda tmp: fig.fig.savefig(tmp, dpi=dpi))
    finally:
        fig.close()
    return out


def render_sequence(lifted: Lifted, out: str | Path, track: int | None = None, fps: float | None = None, stride: int = 1,
                    max_frames: int | None = None, dpi: int = 80) -> tuple[Path, int]:
    """GIF or MP4 of one track, every ``stride``-th frame, at most ``max_frames`` frames (None:
    all), at ``fps`` (None: the rate the lift output records, else 25) divided by ``stride``.
    Returns the path and the number of frames written."""
    from matplotlib.animation import FFMpegWriter, PillowWriter

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in ANIMATION_SUFFIXES:
        raise PosedaInputError(out, f"an animation is written as {' or '.join(ANIMATION_SUFFIXES)}")
    if fps is None:
        fps = float(lifted.meta.get("fps") or 25.0) / stride
    if stride < 1 or (max_frames is not None and max_frames < 1) or fps <= 0:
        raise PosedaInputError("--stride/--max-frames/--fps", "must be positive")
    rows = _track_rows(lifted, track)[::stride][:max_frames]
    if suffix == ".mp4":
        import matplotlib

        try:
            import imageio_ffmpeg
        except ImportError:
            raise PosedaInputError(out, "MP4 needs the ffmpeg binary of imageio-ffmpeg: pip install 'poseda[video]' "
                                        "(or write a .gif)") from None
        matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
        writer = FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    else:
        writer = PillowWriter(fps=fps)
    fig = _Figure(lifted, rows, dpi=dpi)

    def write(tmp):
        with writer.saving(fig.fig, tmp, dpi):
            for i in range(len(rows)):
                fig.show(i)
                writer.grab_frame()

    try:
        atomic_write(out, write)
    finally:
        fig.close()
    return out, len(rows)
