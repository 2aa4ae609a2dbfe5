"""The Python interface for footage: load a lifter, lift arrays of 2D keypoints or a whole video::

    from poseda import Lifter
    lifter = Lifter.load()                       # the bundled lifter; or Lifter.load("runs/x/best")
    xyz = lifter.lift(keypoints, image_size=(1920, 1080))   # [T, 17, 2|3] COCO-17 px -> [T, J, 3] m
    clip = lifter.lift_video("clip.mp4", out="clip-3d")     # detect, track, lift, smooth, MP4

Both return metres in the camera frame (x right, y down, z forward), root-relative, in the lifter's
joint order (``lifter.joints``); :meth:`Lifter.lift` treats the array as one person's consecutive
frames, exactly as ``poseda lift`` treats one track.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from poseda.errors import PosedaInputError
from poseda.inference import load_lifter
from poseda.keypoints.camera import make_camera
from poseda.keypoints.formats import keypoint_format
from poseda.keypoints.options import KeypointReading
from poseda.keypoints.readers import Detections
from poseda.keypoints.tracks import build_tracks
from poseda.lift.lifting import Lifted, lift_tracks
from poseda.lift.smoothing import Smoothing, smooth
from poseda.models.bundled import resolve_checkpoint


@dataclass
class Lifter:
    model: torch.nn.Module
    record: dict
    layout: object
    checkpoint: Path

    @classmethod
    def load(cls, checkpoint: str | Path | None = None) -> "Lifter":
        """A checkpoint (path or stem), a bundled name, or None for the bundled default."""
        path = resolve_checkpoint(checkpoint)
        model, rec, layout = load_lifter(path)
        return cls(model, rec, layout, path)

    @property
    def joints(self) -> tuple[str, ...]:
        return tuple(self.layout.joints)

    def lift(self, keypoints, image_size: tuple[int, int], joints: str = "coco17", camera: KeypointReading | None = None,
             smoothing: Smoothing | None = None, fps: float = 30.0, flip_test: bool = True) -> np.ndarray:
        """One person's frames: ``keypoints`` [T, K, 2] pixels (or [T, K, 3] with scores) in the
        ``joints`` order (coco17, halpe26, body25, coco18, mediapipe33 or h36m17) -> [T, J, 3]
        metres. ``camera``: the intrinsics and ``min_score`` (``KeypointReading(focal=1400)``;
        default: the focal length is the image diagonal). Missing joints (NaN, or scored below
        ``min_score``) are filled in time."""
        r = camera or KeypointReading()
        fmt = keypoint_format(joints, "joints")
        kp = np.asarray(keypoints, np.float64)
        if kp.ndim != 3 or kp.shape[1] != fmt.num_joints or kp.shape[2] not in (2, 3) or len(kp) == 0:
            raise PosedaInputError("keypoints", f"must be [frames, {fmt.num_joints}, 2 or 3] ({fmt.description}), "
                                                f"got shape {list(kp.shape)}")
        scores = kp[..., 2] if kp.shape[2] == 3 else np.ones(kp.shape[:2])
        det = Detections(np.arange(len(kp)), np.zeros(len(kp), np.int64), kp[..., :2].copy(), scores, fmt,
                         tuple(image_size), "array", "array")
        cam = make_camera(tuple(int(v) for v in image_size), r.focal, r.fov, r.center)
        tracks, report = build_tracks(det, self.layout, min_score=r.min_score, max_gap=len(kp))
        if len(tracks) != 1:
            raise PosedaInputError("keypoints", "no person could be lifted: " + "; ".join(report.dropped))
        out: Lifted = lift_tracks(self.model, self.layout, tracks, cam, flip_test=flip_test)
        xyz = np.full((len(kp), self.layout.num_joints, 3), np.nan)
        xyz[out.frame] = out.joints3d
        if smoothing is not None and smoothing.kind != "none":
            xyz[out.frame] = smooth(xyz[out.frame], fps, smoothing)
            xyz -= xyz[:, :1]
        return xyz

    def lift_video(self, video: str | Path, out: str | Path, adapt_with=None, **options) -> Lifted:
        """:func:`poseda.lift.demo.run_demo` with this lifter; ``options`` are
        :class:`~poseda.lift.options.DemoOptions`' (no progress bars unless ``progress=True``).
        Returns every tracked person's 3D (one row per person and frame; ``.joints3d``,
        ``.track``, ``.frame``)."""
        from poseda.lift.demo import run_demo
        from poseda.lift.options import DemoOptions

        options.setdefault("progress", False)
        return run_demo(DemoOptions(video=video, out=out, checkpoint=self.checkpoint, **options), adapt_with).lifted
