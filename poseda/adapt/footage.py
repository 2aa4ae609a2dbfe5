"""Adapt a lifter to one video's own 2D, with nothing else: ``poseda demo VIDEO --adapt``.

The keypoint file of the video (what ``poseda detect`` wrote) becomes a 2D-only target domain
(:func:`poseda.data.footage.build_footage`, with the camera the lift will use), the bundled
motion (:mod:`poseda.data.bundled_motion`, CMU, 3D only) becomes the source domain, and GPA + LPA
(``gpa_lpa``) fine-tunes the lifter from its checkpoint, exactly as ``poseda adapt`` does, in a
private cache and run folder. The schedule scales with the clip (:func:`schedule`); a clip with
fewer than :data:`MIN_FRAMES` tracked frames is not adapted. Returns the adapted checkpoint's
stem (``best``), or raises :class:`NotAdapted` with the reason in one line.
"""
from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from poseda.errors import PosedaInputError

#: tracked frames a clip needs before its 2D is worth adapting to
MIN_FRAMES = 60
#: samples per tracked frame and epoch, and the bounds of an epoch
SAMPLES_PER_FRAME = 20
MIN_SAMPLES, MAX_SAMPLES = 10_000, 80_000
EPOCHS = 2
METHOD = "gpa_lpa"


class NotAdapted(PosedaInputError):
    """The clip was not adapted to; ``problem`` says why (the lift goes on without it)."""


@dataclass
class Adaptation:
    checkpoint: Path  # stem of the adapted checkpoint (``.json`` + weights)
    frames: int  # tracked frames of the clip (the target)
    samples: int  # training samples per epoch
    epochs: int
    seconds: float
    lines: list[str] = field(default_factory=list)


def schedule(frames: int) -> tuple[int, int]:
    """(epochs, samples per epoch) for a clip of ``frames`` tracked frames: 20 samples a frame,
    between 10,000 and 80,000 an epoch, 2 epochs (about 80 s for a one-minute clip of one person
    at 30 frames/s on 2 CPU cores: benchmarks/bench_adapt_footage.py)."""
    return EPOCHS, int(min(MAX_SAMPLES, max(MIN_SAMPLES, SAMPLES_PER_FRAME * frames)))


def adapt_to_keypoints(keypoints: str | Path | list, checkpoint: str | Path | None, work: str | Path, fps: float,
                       focal: float | None = None, fov_deg: float | None = None, seed: int = 0,
                       source_motion: str = "cmu", rig: str = "handheld", device: str = "cpu",
                       progress: bool = False, samples: int | None = None, epochs: int | None = None,
                       joints: str | None = None) -> Adaptation:
    """Adapt ``checkpoint`` (None: the bundled default) to the people of ``keypoints`` (one file, or
    a list of files or :class:`~poseda.data.footage.FootageFile` with their own cameras); every file
    goes into ``work`` (a cache and a run folder); ``joints`` names the joint order of array files
    (as ``poseda lift --joints``). See the module doc."""
    import time

    from poseda.adapt.adapter import Adapter, adapt_config
    from poseda.data.bundled_motion import file_digest, motion_file, motion_source
    from poseda.data.domain import write_domain
    from poseda.data.footage import build_footage
    from poseda.data.prepare import prepared
    from poseda.train.engine import TrainingDiverged

    t0 = time.perf_counter()
    work = Path(work)
    cache = work / "cache"
    target = "clip"
    files = list(keypoints) if isinstance(keypoints, (list, tuple)) else [keypoints]
    folder, rep = build_footage(target, files, cache, joints=joints, focal=focal, fov_deg=fov_deg, fps=fps)
    if rep.frames < MIN_FRAMES:
        raise NotAdapted("--adapt", f"the clip has {rep.frames} tracked frame(s), fewer than {MIN_FRAMES}: lifted without adapting")
    source = f"{source_motion}-motion-{file_digest(motion_file(source_motion))}"
    if not (prepared(cache, source) / "meta.json").is_file():
        meta, arrays = motion_source(source_motion, rig=rig, seed=2023, domain=source)
        write_domain(prepared(cache, source), meta, arrays)
    e, s = schedule(rep.frames)
    e, s = epochs or e, samples or s
    cfg = adapt_config(checkpoint or "default", target, METHOD,
                       [f"data.source={source}", f"data.cache={cache}", f"run.out={work / 'runs'}", "run.name=adapted",
                        f"train.epochs={e}", f"data.samples_per_epoch={s}", f"run.seed={seed}", f"train.device={device}",
                        f"train.progress={str(progress).lower()}"])
    quiet = contextlib.redirect_stdout(io.StringIO()) if not progress else contextlib.nullcontext()
    try:
        with quiet:
            adapter = Adapter(cfg)
            summary = adapter.fit()
    except TrainingDiverged as err:
        raise NotAdapted("--adapt", f"stopped: {err.problem}") from None
    loss = summary.get("train_loss_mm", float("nan"))
    if not math.isfinite(loss):
        raise NotAdapted("--adapt", f"stopped: the training loss became {loss}")
    best = adapter.run_dir / "best"
    if not best.with_suffix(".json").is_file():
        best = adapter.run_dir / "last"
    seconds = time.perf_counter() - t0
    lines = [f"adapted ({METHOD}) to the clip's own 2D: {rep.frames} tracked frames in {rep.views} "
             f"track segment(s), source motion: bundled {source_motion}; {e} epoch(s) x {s:,} samples in {seconds:.0f} s"]
    return Adaptation(best, rep.frames, s, e, seconds, lines)


__all__ = ["adapt_to_keypoints", "schedule", "NotAdapted", "Adaptation", "MIN_FRAMES"]
