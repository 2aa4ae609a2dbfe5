"""2D keypoints from images or a video with MediaPipe Pose (an optional extra:
``pip install 'poseda[detect]'``).

MediaPipe 0.10.14 ships the BlazePose *full* landmark model and the person detector inside its
wheel (``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``), so nothing is downloaded:
poseda only uses that model (``model_complexity=1``; the lite and heavy ones would be fetched from
the internet). That solution finds one person per call; several people are found by covering
each one found and searching again (``max_people``). The output is the MediaPipe JSON that
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


def video_info(source: str | Path) -> tuple[float, int, tuple[int, int]]:
    """(frames per second, frame count as the container states it, (width, height)) of a video;
    a file that cannot be opened as one is an input error."""
    import cv2

    with _quiet_native_stderr():  # FFmpeg's own complaint about a broken file goes to fd 2
        cap = cv2.VideoCapture(str(source))
    try:
        if not cap.isOpened():
            raise PosedaInputError(source, "cannot be opened as a video (not a video file, or a codec OpenCV lacks)")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()
    if not (0 < fps < 1000) or not np.isfinite(fps):
        fps = 30.0  # containers without a rate (some image sequences): the usual camera rate
    return fps, count, size


def _box(lm: np.ndarray, w: int, h: int, grow: float = 0.15) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1) around the landmarks MediaPipe saw, grown by ``grow`` per side."""
    seen = lm[lm[:, 3] > 0.3] if (lm[:, 3] > 0.3).sum() >= 4 else lm
    x, y = seen[:, 0] * w, seen[:, 1] * h
    gx, gy = grow * (x.max() - x.min()) + 4, grow * (y.max() - y.min()) + 4
    return (int(max(0, x.min() - gx)), int(max(0, y.min() - gy)), int(min(w, x.max() + gx + 1)), int(min(h, y.max() + gy + 1)))


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _landmarks(pose, img: np.ndarray) -> np.ndarray | None:
    res = pose.process(img)
    if res.pose_landmarks is None:
        return None
    return np.array([[p.x, p.y, p.z, p.visibility] for p in res.pose_landmarks.landmark])


#: the overlapping halves searched when the whole frame gives fewer people than expected
TILES = ((0.0, 0.6), (0.4, 1.0))


def _people(pose, rgb: np.ndarray, max_people: int, expect: int = 1) -> list[np.ndarray]:
    """Up to ``max_people`` landmark sets [33, 4] (x, y normalised to the whole frame) in one
    image. MediaPipe's bundled solution finds one person per call, so each person found is
    covered by their box in the image's mean colour and the search repeats until nobody more is
    found (or the same person again). Two people of the same size can hide each other from its
    detector, so when the frame gives fewer than ``expect`` (the previous frame's count) or
    nobody, its two overlapping halves (:data:`TILES`) are searched once more each."""
    h, w = rgb.shape[:2]
    img, found, boxes = rgb, [], []

    def add(lm: np.ndarray) -> bool:
        nonlocal img
        box = _box(lm, w, h)
        if any(_iou(box, b) > 0.5 for b in boxes):
            return False
        found.append(lm)
        boxes.append(box)
        if len(found) < max_people:  # cover this person before searching again
            img = img.copy() if img is rgb else img
            img[box[1]:box[3], box[0]:box[2]] = rgb[::8, ::8].reshape(-1, 3).mean(0).astype(np.uint8)
        return True

    while len(found) < max_people:
        lm = _landmarks(pose, img)
        if lm is None or not add(lm):
            break
    if len(found) < max_people and (not found or len(found) < expect):
        for a, b in TILES:
            if len(found) >= max_people:
                break
            x0, x1 = int(a * w), int(b * w)
            lm = _landmarks(pose, np.ascontiguousarray(img[:, x0:x1]))
            if lm is not None:
                lm[:, 0] = (lm[:, 0] * (x1 - x0) + x0) / w
                add(lm)
    return found


def detect_keypoints(source: str | Path, out: str | Path, every: int = 1, max_frames: int | None = None,
                     min_confidence: float = 0.5, max_people: int = 1, progress: bool = False) -> tuple[int, int]:
    """Run MediaPipe Pose on ``source`` and write MediaPipe JSON to ``out``. Returns (frames
    read, frames with a person). No person in any frame is an input error (nothing is written).

    With ``max_people`` 1 a video runs in MediaPipe's tracking mode (its own landmark smoothing);
    with more, every frame is searched for up to that many people (:func:`_people`), about one
    detector pass more per frame than people found, and poseda's tracker links them over frames."""
    source, out = Path(source), Path(out)
    if out.suffix.lower() != ".json":
        raise PosedaInputError(out, "keypoints are written as .json")
    if not source.exists():
        raise PosedaInputError(source, "does not exist")
    if every < 1:
        raise PosedaInputError("--every", f"must be at least 1, got {every}")
    if not 1 <= max_people <= 64:
        raise PosedaInputError("--max-people", f"must be from 1 to 64, got {max_people}")
    mp = _mediapipe()
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)  # protobuf 4, inside MediaPipe
    video = source.suffix.lower() in VIDEO_SUFFIXES
    fps, total = (video_info(source)[:2] if video else (None, 0))
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    tracking = video and max_people == 1
    frames, size, n, expect = [], None, 0, 1
    from tqdm import tqdm

    # MediaPipe's native logging is silenced on file descriptor 2 while it runs; the bar writes to a copy of it
    sys.stderr.flush()
    bar_file = os.fdopen(os.dup(2), "w")
    bar = tqdm(total=total // every if total else None, desc="detect", unit="frame", disable=None if progress else True,
               file=bar_file, leave=False)
    with bar_file, bar, _quiet_native_stderr(), mp.solutions.pose.Pose(
            static_image_mode=not tracking, model_complexity=1, smooth_landmarks=tracking,
            min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence) as pose:
        for num, rgb in _frames(source, every, max_frames):
            h, w = rgb.shape[:2]
            if size is None:
                size = (w, h)
            elif size != (w, h):
                raise PosedaInputError(source, f"frame {num} is {w}x{h}, earlier frames {size[0]}x{size[1]}: one size per run")
            n += 1
            people = [{"landmarks": np.round(lm, 6).tolist()} for lm in _people(pose, rgb, max_people, expect)]
            expect = max(1, len(people))
            if tracking:
                for p in people:
                    p["id"] = 0
            frames.append({"frame": int(num), "people": people})
            bar.update(1)
    found = sum(1 for f in frames if f["people"])
    if found == 0:
        raise PosedaInputError(source, f"no person found in {n} frame(s)")
    doc = {"format": "mediapipe-pose-33", "detector": f"MediaPipe Pose {mp.__version__} (BlazePose full, bundled)",
           "image_size": list(size), "coordinates": "normalized", "source": Path(source).name, "frames": frames}
    if fps is not None:
        doc["fps"] = fps
    atomic_write(out, lambda tmp: Path(tmp).write_text(json.dumps(doc)))
    return n, found
