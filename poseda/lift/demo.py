"""From a video to 3D in one call: detect, track, lift, smooth, write, render (``poseda demo``).

Stages, each timed: **detect** (every person: :mod:`poseda.keypoints.people` by default, or
MediaPipe Pose for one close person; both bundled),
**lift** (read the keypoints back, track, fill, lift with the checkpoint, by default the bundled
lifter, and smooth), **write** (the 3D file, and BVH per person if asked) and **render** (the MP4
of :mod:`poseda.lift.overlay`). Outputs go to ``out`` (a folder), named after the video:
``NAME.keypoints.json`` (the 2D), ``NAME.3d.json`` (the lift output; ``.npz`` / ``.csv`` by
``suffix``), ``NAME.mp4``, ``NAME.html`` (the scene in 3D, :mod:`poseda.lift.html`), and if asked
``NAME.bvh`` / ``NAME-person<k>.bvh`` and ``NAME.trc`` (OpenSim markers). The outputs are written together: into a temporary
folder, moved into ``out`` only when every stage succeeded, so a failed stage leaves nothing; a
file the user already has there is kept unless ``force`` (``--force``).
"""
from __future__ import annotations

import glob
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from poseda.errors import PosedaInputError
from poseda.fileio import refuse_existing, staged_files
from poseda.keypoints.detect import VIDEO_SUFFIXES, detect_keypoints, video_info
from poseda.lift.html import write_html
from poseda.lift.lifting import Lifted, lift_file, write_bvh, write_trc
from poseda.lift.overlay import render_overlay
from poseda.lift.smoothing import Smoothing

#: the demo's filter: measured best on Human3.6M's test sequences for clean and noisy 2D alike
#: (``benchmarks/smoothing.py``; docs: Footage, "Smoothing")
DEMO_SMOOTHING = Smoothing("savgol", window=17, order=2)


@dataclass
class DemoResult:
    lifted: Lifted
    files: dict[str, list[Path]]
    seconds: dict[str, float]  # stage -> wall seconds
    frames: int  # video frames read
    fps: float
    report: list[str] = field(default_factory=list)

    def timing_line(self) -> str:
        total = sum(self.seconds.values())
        parts = ", ".join(f"{k} {v:.1f} s ({self.frames / v:.0f} frames/s)" if v > 0 else f"{k} 0 s"
                          for k, v in self.seconds.items())
        return f"{self.frames} frames in {total:.1f} s: {parts}"


def demo_paths(video: Path, out: Path, suffix: str = ".json") -> dict[str, Path]:
    name = video.stem
    return {"keypoints": out / f"{name}.keypoints.json", "lifted": out / f"{name}.3d{suffix}", "video": out / f"{name}.mp4",
            "bvh": out / f"{name}.bvh", "trc": out / f"{name}.trc", "html": out / f"{name}.html",
            "adapted": out / f"{name}-adapted.json"}


def run_demo(video: str | Path, out: str | Path, checkpoint: str | Path | None = None, max_people: int | None = None,
             max_frames: int | None = None, smoothing: Smoothing | None = None, focal: float | None = None,
             fov_deg: float | None = None, absolute: bool = True, bvh: bool = False, render: bool = True,
             suffix: str = ".json", min_confidence: float | None = None, min_score: float = 0.3, max_gap: int = 10,
             flip_test: bool = True, device: str = "cpu", progress: bool = False, force: bool = False,
             world: bool = True, trc: bool = False, html: bool = True, detector: str = "people", tiles: int = 1,
             adapt_with: Callable | None = None) -> DemoResult:
    """Run every stage on ``video``; see the module doc. Every output is written into a temporary
    folder inside ``out`` and moved into place only when all stages have succeeded; a file that
    already exists in ``out`` is refused, before any work, unless ``force``.

    ``adapt_with`` (``poseda demo --adapt`` passes :func:`poseda.adapt.footage.adapt_to_keypoints`)
    adapts the lifter to the video's own 2D after detection: the clip is lifted with both lifters,
    and the adapted one is kept unless its measures without 3D truth (:mod:`poseda.lift.quality`)
    are clearly worse; the adapted checkpoint is written as ``NAME-adapted`` either way."""
    video, out = Path(video), Path(out)
    smoothing = DEMO_SMOOTHING if smoothing is None else smoothing
    if video.suffix.lower() not in VIDEO_SUFFIXES:
        raise PosedaInputError(video, f"is not a video ({', '.join(VIDEO_SUFFIXES)})")
    if suffix not in (".json", ".npz", ".csv"):
        raise PosedaInputError("--format", f"the 3D file is .json, .npz or .csv, got {suffix!r}")
    fps, _, _ = video_info(video)
    paths = demo_paths(video, out, suffix)
    planned = [paths["keypoints"], paths["lifted"]] + ([paths["video"]] if render else []) + ([paths["trc"]] if trc else []) + ([paths["html"]] if html else [])
    if adapt_with is not None:
        planned += [paths["adapted"], *sorted(out.glob(f"{glob.escape(video.stem)}-adapted.*.safetensors"))]
    if bvh:
        planned += [paths["bvh"], *sorted(out.glob(f"{glob.escape(video.stem)}-person*.bvh"))]
    refuse_existing(planned, force)
    with staged_files(out, force) as stage:
        res = _stages(video, stage, demo_paths(video, stage, suffix), fps, checkpoint, max_people, max_frames, smoothing, focal,
                      fov_deg, absolute, bvh, render, min_confidence, min_score, max_gap, flip_test, device, progress, world, trc, html,
                      (detector, tiles), adapt_with)
    res.files = {k: [out / p.relative_to(stage) for p in v] for k, v in res.files.items()}
    return res


def _stages(video, out, paths, fps, checkpoint, max_people, max_frames, smoothing, focal, fov_deg, absolute, bvh, render,
            min_confidence, min_score, max_gap, flip_test, device, progress, world, trc, html, detection,
            adapt_with=None) -> DemoResult:
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    frames, _ = detect_keypoints(video, paths["keypoints"], max_frames=max_frames, min_confidence=min_confidence,
                                 max_people=max_people, progress=progress, detector=detection[0], tiles=detection[1])
    seconds["detect"] = time.perf_counter() - t
    report: list[str] = []
    options = dict(focal=focal, fov_deg=fov_deg, absolute=absolute, min_score=min_score, max_gap=max_gap, flip_test=flip_test,
                   device=device, smoothing=smoothing, fps=fps)

    def lift(ckpt, dest):
        try:
            return lift_file(ckpt, paths["keypoints"], dest, world=world, **options)
        except PosedaInputError as e:
            if not (world and e.where == "--world"):
                raise
            lifted, lines = lift_file(ckpt, paths["keypoints"], dest, force=True, **options)
            return lifted, lines + [f"no world frame: {e.problem}"]

    if adapt_with is not None:
        t = time.perf_counter()
        checkpoint, adapt_lines = _adapt(adapt_with, lift, paths, checkpoint, fps, focal, fov_deg, device, progress)
        report += adapt_lines
        seconds["adapt"] = time.perf_counter() - t
    t = time.perf_counter()
    lifted, lift_report = lift(checkpoint, paths["lifted"])
    report = lift_report + report
    seconds["lift"] = time.perf_counter() - t
    files = {"keypoints": [paths["keypoints"]], "lifted": [paths["lifted"]]}
    if bvh:
        t = time.perf_counter()
        files["bvh"] = write_bvh(lifted, paths["bvh"], fps)  # into the staging folder: nothing there to keep
        seconds["bvh"] = time.perf_counter() - t
    if trc:
        t = time.perf_counter()
        files["trc"] = write_trc(lifted, paths["trc"], fps, together=True)
        seconds["trc"] = time.perf_counter() - t
    if html:
        t = time.perf_counter()
        files["html"] = [write_html(lifted, paths["html"], fps, title=video.name)]
        seconds["html"] = time.perf_counter() - t
    if render:
        t = time.perf_counter()
        path, _ = render_overlay(video, lifted, paths["video"], fps, max_frames=max_frames, progress=progress)
        files["video"] = [path]
        seconds["render"] = time.perf_counter() - t
    if adapt_with is not None and paths["adapted"].exists():
        files["adapted"] = [paths["adapted"]]
    return DemoResult(lifted, files, seconds, frames, fps, report)


def _adapt(adapt_with, lift, paths, checkpoint, fps, focal, fov_deg, device, progress) -> tuple[object, list[str]]:
    """Adapt to the clip, lift with both lifters, keep the adapted one unless it is clearly worse.
    Returns (the checkpoint to lift with, report lines)."""
    import tempfile

    from poseda.inference import copy_lifter
    from poseda.lift.quality import WORSE_FACTOR, clearly_worse, describe

    with tempfile.TemporaryDirectory(prefix="poseda-adapt-") as work:
        try:
            done = adapt_with(paths["keypoints"], checkpoint, Path(work), fps, focal=focal, fov_deg=fov_deg, device=device,
                              progress=progress)
        except PosedaInputError as e:  # too few frames, a diverged run: lift without adapting
            return checkpoint, [f"not adapted: {e.problem}"]
        copy_lifter(done.checkpoint, paths["adapted"].with_suffix(""))  # into the staging folder: whole or not at all
        before, _ = lift(checkpoint, Path(work) / "before.json")
        after, _ = lift(paths["adapted"].with_suffix(""), Path(work) / "after.json")
    qb, qa = before.meta["quality"], after.meta["quality"]
    lines = done.lines + [f"before adapting, {describe(qb)}", f"after adapting, {describe(qa)}"]
    worse = clearly_worse(qb, qa)
    if worse:
        lines.append(f"kept the un-adapted lift: adapting made {', '.join(w.split('_median')[0] for w in worse)} more than "
                     f"{WORSE_FACTOR:g} times (and noticeably) worse (the adapted checkpoint is still written)")
        return checkpoint, lines
    return paths["adapted"].with_suffix(""), lines


__all__ = ["DemoResult", "run_demo", "demo_paths", "DEMO_SMOOTHING"]
