"""Adapt a lifter to one video's own 2D, with nothing else: ``poseda demo VIDEO --adapt``.

The keypoint file of the video (what ``poseda detect`` wrote) becomes a 2D-only target domain
(:func:`poseda.domains.footage.build_footage`, with the camera the lift will use), the bundled
motion (:mod:`poseda.domains.bundled_motion`, CMU, 3D only) seen by 16 phone-like cameras per
sequence (rig ``handheld-16``) becomes the source domain, and GPA + LPA (``gpa_lpa``) fine-tunes
the lifter from its checkpoint, exactly as ``poseda adapt`` does, in a private cache and run
folder. Every 2D the lifter and the 2D discriminator see in training gets the joint definitions
of the clip's keypoint format (``adapt.keypoints``: COCO-17's pelvis is the midpoint of the
hips), as the lift will give them, and the source's 3D pelvis is the midpoint of its hips too;
without that, the augmentor bends the source bodies until their skeleton's joints look like the
detector's, and the lifter learns those bent bodies (measured: docs, Results, "Adapting to one
video"). The schedule scales with the clip (:func:`schedule`); a clip with
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
#: training samples per tracked frame of the clip, and the bounds of the whole adaptation
SAMPLES_PER_FRAME = 40
MIN_SAMPLES, MAX_SAMPLES = 20_000, 200_000
#: the learning rate falls by this much over the whole adaptation (as ``poseda adapt``'s 4 epochs at 0.8)
LR_FALL = 0.8 ** 4
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


def schedule(frames: int, source_frames: int) -> tuple[int, int]:
    """(epochs, samples per epoch) for a clip of ``frames`` tracked frames: 40 training samples a
    frame, 20,000 to 200,000 in all, in epochs of at most every source frame once
    (benchmarks/bench_adapt_footage.py measures the time)."""
    total = int(min(MAX_SAMPLES, max(MIN_SAMPLES, SAMPLES_PER_FRAME * frames)))
    epochs = -(-total // max(source_frames, 1))
    return epochs, -(-total // epochs)


def lifter_bones(checkpoint, footage_folder: Path) -> dict[str, float]:
    """Median bone lengths (metres, by child joint name) of the lifter's own 3D for every frame of
    a footage domain: the body proportions it already gives these people. Only bones the canonical
    skeleton has too (same child, same parent: a 16-joint lifter's thorax-head is not one)."""
    import numpy as np
    import torch

    from poseda.data.cache import load_domain
    from poseda.data.codec import PoseCodec
    from poseda.data.device import device_split
    from poseda.inference import load_lifter, predict

    model, rec, layout = load_lifter(checkpoint or "default")
    from poseda.skeleton.layouts import CANONICAL

    codec = PoseCodec()
    _, data = device_split(load_domain(footage_folder), "adaptation", layout, codec, "cpu")
    with torch.no_grad():
        pred = predict(model, data, codec=codec).numpy()
    canon = {n: CANONICAL.joints[p] for n, p in zip(CANONICAL.joints, CANONICAL.parents) if p >= 0}
    return {name: float(np.median(np.linalg.norm(pred[:, j] - pred[:, p], axis=-1)))
            for j, (name, p) in enumerate(zip(layout.joints, layout.parents)) if p >= 0 and canon.get(name) == layout.joints[p]}


@dataclass(kw_only=True)
class FootageAdaptation:
    """How :func:`adapt_to_keypoints` adapts: the clip's frame rate, camera and keypoint order, and
    the training. ``joints`` names the joint order of array files (as ``poseda lift --joints``).
    With ``match_bones`` the source motion first gets the bone lengths the lifter itself gives
    the clip's people (:func:`lifter_bones`); measured, it helps the aligned errors but not the
    real-size ones, so it is off by default (docs: Results, "Adapting to one video").
    ``definitions=False`` (measured there too), or files in more than one keypoint format, keep
    the source's own joint definitions in training. ``mid_hips`` (on) moves the source's pelvis to
    the midpoint of its hips, Human3.6M's convention, which the lifters' joints (``h36m16``)
    follow; CMU's own pelvis sits about 11 cm above it, and a lifter adapted on it measures every
    joint from there (measured there too). ``overrides`` are ``poseda adapt``'s
    (``lpa.max_rotation_deg=[10,10,5]``), applied last; ``samples`` and ``epochs`` replace the
    schedule's (:func:`schedule`)."""

    fps: float = 30.0
    focal: float | None = None
    fov_deg: float | None = None
    joints: str | None = None
    seed: int = 0
    source_motion: str = "cmu"
    rig: str = "handheld-16"
    device: str = "cpu"
    progress: bool = False
    samples: int | None = None
    epochs: int | None = None
    match_bones: bool = False
    method: str = METHOD
    overrides: list[str] | tuple[str, ...] = ()
    definitions: bool = True
    mid_hips: bool = True


def adapt_to_keypoints(keypoints: str | Path | list, checkpoint: str | Path | None, work: str | Path,
                       options: FootageAdaptation | None = None, **settings) -> Adaptation:
    """Adapt ``checkpoint`` (None: the bundled default) to the people of ``keypoints`` (one file, or
    a list of files or :class:`~poseda.domains.footage.FootageFile` with their own cameras); every file
    goes into ``work`` (a cache and a run folder). ``options`` say how (:class:`FootageAdaptation`);
    keywords are its fields, for short calls (``adapt_to_keypoints(k, None, work, fps=25.0)``).
    See the module doc."""
    import time

    from poseda.adapt.adapter import Adapter, adapt_config
    from poseda.data.cache import load_domain, prepared
    from poseda.data.domain import write_domain
    from poseda.domains.bundled_motion import file_digest, motion_file, motion_source
    from poseda.domains.footage import build_footage
    from poseda.keypoints.options import KeypointReading
    from poseda.train.engine import TrainingDiverged

    o = options if options is not None else FootageAdaptation(**settings)
    if options is not None and settings:
        raise PosedaInputError("adapt_to_keypoints", "give the options object or its fields as keywords, not both")
    t0 = time.perf_counter()
    work = Path(work)
    cache = work / "cache"
    target = "clip"
    files = list(keypoints) if isinstance(keypoints, (list, tuple)) else [keypoints]
    folder, rep = build_footage(target, files, cache, KeypointReading(joints=o.joints, focal=o.focal, fov=o.fov_deg), fps=o.fps)
    if rep.frames < MIN_FRAMES:
        raise NotAdapted("--adapt", f"the clip has {rep.frames} tracked frame(s), fewer than {MIN_FRAMES}: lifted without adapting")
    lengths = lifter_bones(checkpoint, folder) if o.match_bones else None
    source = (f"{o.source_motion}-motion-{file_digest(motion_file(o.source_motion))}-{o.rig}" + ("-matched" if lengths else "")
              + ("-midhips" if o.mid_hips else ""))
    if lengths or not (prepared(cache, source) / "meta.json").is_file():
        meta, arrays = motion_source(o.source_motion, rig=o.rig, seed=2023, domain=source, lengths=lengths, mid_hips=o.mid_hips)
        write_domain(prepared(cache, source), meta, arrays)
    e, s = schedule(rep.frames, len(load_domain(prepared(cache, source))))
    e, s = o.epochs or e, o.samples or s
    cfg = adapt_config(checkpoint or "default", target, o.method,
                       [f"data.source={source}", f"data.cache={cache}", f"run.out={work / 'runs'}", "run.name=adapted",
                        f"train.epochs={e}", f"data.samples_per_epoch={s}", f"train.lr_decay={LR_FALL ** (1 / e):.6f}",
                        f"run.seed={o.seed}", f"train.device={o.device}",
                        f"train.progress={str(o.progress).lower()}"]
                       + ([f"adapt.keypoints={next(iter(rep.formats))}"] if o.definitions and len(rep.formats) == 1 else [])
                       + list(o.overrides))
    quiet = contextlib.redirect_stdout(io.StringIO()) if not o.progress else contextlib.nullcontext()
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
    lines = [f"adapted ({o.method}) to the clip's own 2D: {rep.frames} tracked frames in {rep.views} "
             f"track segment(s), source motion: bundled {o.source_motion}; {e} epoch(s) x {s:,} samples in {seconds:.0f} s"]
    return Adaptation(best, rep.frames, s, e, seconds, lines)


__all__ = ["adapt_to_keypoints", "FootageAdaptation", "schedule", "NotAdapted", "Adaptation", "MIN_FRAMES"]
