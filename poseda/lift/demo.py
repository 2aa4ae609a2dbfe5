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
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable

from poseda.errors import PosedaInputError
from poseda.fileio import refuse_existing, staged_files
from poseda.keypoints.detect import VIDEO_SUFFIXES, detect_keypoints, video_info
from poseda.keypoints.options import KeypointReading
from poseda.lift.html import write_html
from poseda.lift.lifting import Lifted, lift_file, write_bvh, write_trc
from poseda.lift.options import DemoOptions, LiftOptions
from poseda.lift.overlay import render_overlay
from poseda.lift.smoothing import DEMO_SMOOTHING


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


def run_demo(options: DemoOptions, adapt_with: Callable | None = None) -> DemoResult:
    """Run every stage on ``options.video``; see the module doc. Every output is written into a
    temporary folder inside ``options.out`` and moved into place only when all stages have
    succeeded; a file that already exists there is refused, before any work, unless ``force``.

    ``adapt_with`` (``poseda demo --adapt`` passes :func:`poseda.adapt.footage.adapt_to_keypoints`)
    adapts the lifter to the video's own 2D after detection: the clip is lifted with both lifters,
    and the adapted one is kept unless its measures without 3D truth (:mod:`poseda.lift.quality`)
    are clearly worse; the adapted checkpoint is written as ``NAME-adapted`` either way."""
    o = options
    video, out, suffix = o.video, o.out, o.suffix
    if video.suffix.lower() not in VIDEO_SUFFIXES:
        raise PosedaInputError(video, f"is not a video ({', '.join(VIDEO_SUFFIXES)})")
    fps, _, _ = video_info(video)
    paths = demo_paths(video, out, suffix)
    planned = [paths["keypoints"], paths["lifted"]] + ([paths["video"]] if o.render else []) + \
        ([paths["trc"]] if o.trc else []) + ([paths["html"]] if o.html else [])
    if adapt_with is not None:
        planned += [paths["adapted"], *sorted(out.glob(f"{glob.escape(video.stem)}-adapted.*.safetensors"))]
    if o.bvh:
        planned += [paths["bvh"], *sorted(out.glob(f"{glob.escape(video.stem)}-person*.bvh"))]
    refuse_existing(planned, o.force)
    with staged_files(out, o.force) as stage:
        res = _stages(o, demo_paths(video, stage, suffix), fps, adapt_with)
    res.files = {k: [out / p.relative_to(stage) for p in v] for k, v in res.files.items()}
    return res


def _stages(o: DemoOptions, paths: dict[str, Path], fps: float, adapt_with=None) -> DemoResult:
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    frames, _ = detect_keypoints(o.video, paths["keypoints"], max_frames=o.max_frames, min_confidence=o.min_confidence,
                                 max_people=o.max_people, progress=o.progress, detector=o.detector, tiles=o.tiles)
    seconds["detect"] = time.perf_counter() - t
    report: list[str] = []
    reading = KeypointReading(focal=o.focal, fov=o.fov, min_score=o.min_score, max_gap=o.max_gap)

    def lift(ckpt, dest):
        options = LiftOptions(keypoints=paths["keypoints"], out=dest, checkpoint=ckpt, reading=reading, absolute=o.absolute,
                              flip_test=o.flip_test, device=o.device, smoothing=o.smoothing, fps=fps, world=o.world)
        try:
            return lift_file(options)
        except PosedaInputError as e:
            if not (o.world and e.where == "--world"):
                raise
            lifted, lines = lift_file(replace(options, world=False, force=True))
            return lifted, lines + [f"no world frame: {e.problem}"]

    checkpoint = o.checkpoint
    if adapt_with is not None:
        t = time.perf_counter()
        adapt = partial(adapt_with, fps=fps, focal=o.focal, fov_deg=o.fov, device=o.device, progress=o.progress)
        checkpoint, adapt_lines = _adapt(adapt, lift, paths, checkpoint)
        report += adapt_lines
        seconds["adapt"] = time.perf_counter() - t
    t = time.perf_counter()
    lifted, lift_report = lift(checkpoint, paths["lifted"])
    report = lift_report + report
    seconds["lift"] = time.perf_counter() - t
    files = {"keypoints": [paths["keypoints"]], "lifted": [paths["lifted"]]}
    if o.bvh:
        t = time.perf_counter()
        files["bvh"] = write_bvh(lifted, paths["bvh"], fps)  # into the staging folder: nothing there to keep
        seconds["bvh"] = time.perf_counter() - t
    if o.trc:
        t = time.perf_counter()
        files["trc"] = write_trc(lifted, paths["trc"], fps, together=True)
        seconds["trc"] = time.perf_counter() - t
    if o.html:
        t = time.perf_counter()
        files["html"] = [write_html(lifted, paths["html"], fps, title=o.video.name)]
        seconds["html"] = time.perf_counter() - t
    if o.render:
        t = time.perf_counter()
        path, _ = render_overlay(o.video, lifted, paths["video"], fps, max_frames=o.max_frames, progress=o.progress)
        files["video"] = [path]
        seconds["render"] = time.perf_counter() - t
    if adapt_with is not None and paths["adapted"].exists():
        files["adapted"] = [paths["adapted"]]
    return DemoResult(lifted, files, seconds, frames, fps, report)


def adapted_lifter(adapt: Callable, keypoints: Path, checkpoint, stem: Path) -> tuple[Path | None, list[str]]:
    """``adapt(keypoints, checkpoint, work)`` (:func:`poseda.adapt.footage.adapt_to_keypoints` with
    its camera and device bound) in a temporary folder, the adapted lifter copied to ``stem``:
    -> (``stem``, the adaptation's report lines), or (None, ["not adapted: why"]) when the clip
    cannot be adapted to (too few frames, a diverged run)."""
    import tempfile

    from poseda.inference import copy_lifter

    with tempfile.TemporaryDirectory(prefix="poseda-adapt-") as work:
        try:
            done = adapt(keypoints, checkpoint, Path(work))
        except PosedaInputError as e:
            return None, [f"not adapted: {e.problem}"]
        copy_lifter(done.checkpoint, stem)
    return stem, done.lines


def _adapt(adapt: Callable, lift, paths, checkpoint) -> tuple[object, list[str]]:
    """Adapt to the clip, lift with both lifters, keep the adapted one unless it is clearly worse.
    Returns (the checkpoint to lift with, report lines)."""
    import tempfile

    from poseda.lift.quality import WORSE_FACTOR, clearly_worse, describe

    # into the staging folder: whole or not at all
    adapted, lines = adapted_lifter(adapt, paths["keypoints"], checkpoint, paths["adapted"].with_suffix(""))
    if adapted is None:
        return checkpoint, lines
    with tempfile.TemporaryDirectory(prefix="poseda-compare-") as work:
        before, _ = lift(checkpoint, Path(work) / "before.json")
        after, _ = lift(adapted, Path(work) / "after.json")
    qb, qa = before.meta["quality"], after.meta["quality"]
    lines = lines + [f"before adapting, {describe(qb)}", f"after adapting, {describe(qa)}"]
    worse = clearly_worse(qb, qa)
    if worse:
        lines.append(f"kept the un-adapted lift: adapting made {', '.join(w.split('_median')[0] for w in worse)} more than "
                     f"{WORSE_FACTOR:g} times (and noticeably) worse (the adapted checkpoint is still written)")
        return checkpoint, lines
    return adapted, lines


__all__ = ["DemoResult", "run_demo", "demo_paths", "adapted_lifter", "DEMO_SMOOTHING"]
