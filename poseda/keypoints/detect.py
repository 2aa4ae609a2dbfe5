"""2D keypoints from images or a video with MediaPipe Pose (an optional extra:
``pip install 'poseda[detect]'``).

MediaPipe 0.10.14 ships the BlazePose *full* landmark model and the person detector inside its
wheel (``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``), so nothing is downloaded:
poseda only uses that model (``model_complexity=1``; the lite and heavy ones would be fetched from
the internet). It finds one person per frame. The output is the MediaPipe JSON that
:func:`poseda.keypoints.readers.read_keypoints` reads: MediaPipe's own normalised landmarks
(x / W, y / H, relative depth z) with their visibility as the score, and the image size.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from poseda.errors import PosedaInputError
from poseda.fileio import atomic_write

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def _mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging: warnings and up only
    try:
        import mediapipe as mp
    except ImportError:
        raise PosedaInputError("poseda detect", "needs MediaPipe: pip install 'poseda[detect]'") from None
    return mp


@contextlib.contextmanager
def _quiet_native_stderr():
    """MediaPipe's C++ code (TFLite, absl) writes INFO and W lines straight to file descriptor 2,
    past Python; they are silenced while it runs so the command's own output stays readable."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _frames(source: Path, every: int, max_frames: int | None):
    """(frame number, RGB uint8 image) for an image, a folder of images or a video."""
    import cv2

    if source.is_dir():
        files = sorted(f for f in source.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise PosedaInputError(source, f"folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        nums = [re.findall(r"\d+", f.stem) for f in files]
        numbered = all(nums) and len({int(n[-1]) for n in nums}) == len(files)
        items = [(int(n[-1]) if numbered else k, f) for k, (n, f) in enumerate(zip(nums, files))]
    elif source.suffix.lower() in IMAGE_SUFFIXES:
        items = [(0, source)]
    elif source.suffix.lower() in VIDEO_SUFFIXES:
        cap = cv2.VideoCapture(str(source))
        if not cap.isOpened():
            raise PosedaInputError(source, "cannot be opened as a video")
        k = 0
        try:
            while max_frames is None or k < max_frames * every:
                ok, bgr = cap.read()
                if not ok:
                    break
                if k % every == 0:
                    yield k, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                k += 1
        finally:
            cap.release()
        if k == 0:
            raise PosedaInputError(source, "video has no readable frames")
        return
    else:
        raise PosedaInputError(source, f"is not an image ({', '.join(IMAGE_SUFFIXES)}), a video "
                                       f"({', '.join(VIDEO_SUFFIXES)}) or a folder of images")
    for k, (num, f) in enumerate(items[::every]):
        if max_frames is not None and k >= max_frames:
            break
        bgr = cv2.imread(str(f))
        if bgr is None:
            raise PosedaInputError(f, "cannot be read as an image")
        yield num, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def detect_keypoints(source: str | Path, out: str | Path, every: int = 1, max_frames: int | None = None,
                     min_confidence: float = 0.5) -> tuple[int, int]:
    """Run MediaPipe Pose on ``source`` and write MediaPipe JSON to ``out``. Returns (frames
    read, frames with a person). No person in any frame is an input error (nothing is written)."""
    source, out = Path(source), Path(out)
    if out.suffix.lower() != ".json":
        raise PosedaInputError(out, "keypoints are written as .json")
    if not source.exists():
        raise PosedaInputError(source, "does not exist")
    if every < 1:
        raise PosedaInputError("--every", f"must be at least 1, got {every}")
    mp = _mediapipe()
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)  # protobuf 4, inside MediaPipe
    video = source.suffix.lower() in VIDEO_SUFFIXES
    frames, size, n = [], None, 0
    with _quiet_native_stderr(), mp.solutions.pose.Pose(static_image_mode=not video, model_complexity=1, smooth_landmarks=video,
                                min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence) as pose:
        for num, rgb in _frames(source, every, max_frames):
            h, w = rgb.shape[:2]
            if size is None:
                size = (w, h)
            elif size != (w, h):
                raise PosedaInputError(source, f"frame {num} is {w}x{h}, earlier frames {size[0]}x{size[1]}: one size per run")
            n += 1
            res = pose.process(rgb)
            people = []
            if res.pose_landmarks is not None:
                lm = np.array([[p.x, p.y, p.z, p.visibility] for p in res.pose_landmarks.landmark])
                people.append({"id": 0, "landmarks": np.round(lm, 6).tolist()})
            frames.append({"frame": int(num), "people": people})
    found = sum(1 for f in frames if f["people"])
    if found == 0:
        raise PosedaInputError(source, f"no person found in {n} frame(s)")
    doc = {"format": "mediapipe-pose-33", "detector": f"MediaPipe Pose {mp.__version__} (BlazePose full, bundled)",
           "image_size": list(size), "coordinates": "normalized", "source": str(source), "frames": frames}
    atomic_write(out, lambda tmp: Path(tmp).write_text(json.dumps(doc)))
    return n, found
