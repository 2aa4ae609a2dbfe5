"""2D keypoints from images or a video (an optional extra: ``pip install 'poseda[detect]'``).

Two detectors, both with their models inside the installed packages, so nothing is downloaded:

- ``people`` (default): every person, at any size, in the frame (:mod:`poseda.keypoints.people`:
  NanoDet-g finds the people, MoveNet Lightning gives each one's 17 COCO keypoints; bundled ONNX
  run by onnxruntime), followed over frames by place, motion and clothing colours
  (:mod:`poseda.keypoints.follow`). Written as a COCO keypoint file with track ids.
- ``mediapipe``: MediaPipe 0.10.14's BlazePose *full* model from its wheel
  (``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``; ``model_complexity=1``, the
  lite and heavy ones would be fetched from the internet), 33 landmarks, for one person who
  fills the frame (its tracking mode). It finds one person per call; more are searched for by
  covering each one found and searching again (``max_people``), which misses people who are
  small or far away (docs: Results, "Finding every person"). Written as MediaPipe JSON:
  normalised landmarks (x / W, y / H, relative depth z) with their visibility as the score.

:func:`poseda.keypoints.readers.read_keypoints` reads both.
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
from poseda.keypoints.people import box_iou

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
        if boxes and box_iou(np.array([box], float), np.array(boxes, float)).max() > 0.5:
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


#: the detectors ``poseda detect`` and ``poseda demo`` offer; ``people`` is the default
DETECTORS = ("people", "mediapipe")
#: (box or detection confidence, people per frame) when the caller gives none
DEFAULTS = {"people": (0.4, 64), "mediapipe": (0.5, 1)}


def detect_keypoints(source: str | Path, out: str | Path, every: int = 1, max_frames: int | None = None,
                     min_confidence: float | None = None, max_people: int | None = None, progress: bool = False,
                     detector: str = "people", tiles: int = 1) -> tuple[int, int]:
    """Find people in ``source`` and write their 2D keypoints to ``out`` (JSON). Returns (frames
    read, frames with a person). No person in any frame is an input error (nothing is written).

    ``detector`` ``people`` (default): every person at any size (:mod:`poseda.keypoints.people`,
    bundled NanoDet-g + MoveNet Lightning), written as a COCO keypoint file (``images`` with the
    frame size, ``annotations`` with 17 keypoints, box and score per person). ``mediapipe``:
    MediaPipe Pose, for one close person (fastest with ``max_people`` 1: MediaPipe's tracking mode
    in a video, its own landmark smoothing); with more, every frame is searched for up to that many
    people (:func:`_people`), and poseda's tracker links them over frames.
    ``min_confidence`` and ``max_people`` default to the detector's (:data:`DEFAULTS`)."""
    source, out = Path(source), Path(out)
    if detector not in DETECTORS:
        raise PosedaInputError("--detector", f"unknown detector {detector!r} (known: {', '.join(DETECTORS)})")
    min_confidence = DEFAULTS[detector][0] if min_confidence is None else min_confidence
    max_people = DEFAULTS[detector][1] if max_people is None else max_people
    if out.suffix.lower() != ".json":
        raise PosedaInputError(out, "keypoints are written as .json")
    if not source.exists():
        raise PosedaInputError(source, "does not exist")
    if every < 1:
        raise PosedaInputError("--every", f"must be at least 1, got {every}")
    if not 1 <= max_people <= 64:
        raise PosedaInputError("--max-people", f"must be from 1 to 64, got {max_people}")
    if not 0 < min_confidence < 1:
        raise PosedaInputError("--min-confidence", f"must be between 0 and 1, got {min_confidence}")
    if tiles != 1 and detector != "people":
        raise PosedaInputError("--tiles", "applies to the 'people' detector only")
    video = source.suffix.lower() in VIDEO_SUFFIXES
    fps, total = (video_info(source)[:2] if video else (None, 0))
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    from tqdm import tqdm

    # MediaPipe's native logging is silenced on file descriptor 2 while it runs; the bar writes to a copy of it
    sys.stderr.flush()
    bar_file = os.fdopen(os.dup(2), "w")
    bar = tqdm(total=total // every if total else None, desc="detect", unit="frame", disable=None if progress else True,
               file=bar_file, leave=False)
    frames: list = []
    with bar_file, bar:
        if detector == "people":
            size, n, name = _detect_people(source, every, max_frames, min_confidence, max_people, tiles, frames, bar)
        else:
            size, n, name = _detect_mediapipe(source, every, max_frames, min_confidence, max_people, video, frames, bar)
    found = sum(1 for f in frames if f["people"])
    if found == 0:
        raise PosedaInputError(source, f"no person found in {n} frame(s)")
    doc = _coco_document(frames, size, name, source, fps) if detector == "people" else _mediapipe_document(frames, size, name, source, fps)
    atomic_write(out, lambda tmp: Path(tmp).write_text(json.dumps(doc)))
    return n, found


def _one_size(source: Path, num: int, rgb: np.ndarray, size):
    h, w = rgb.shape[:2]
    if size is not None and size != (w, h):
        raise PosedaInputError(source, f"frame {num} is {w}x{h}, earlier frames {size[0]}x{size[1]}: one size per run")
    return (w, h)


def _detect_people(source, every, max_frames, min_confidence, max_people, tiles, frames, bar):
    from poseda.keypoints.follow import Follower, appearance
    from poseda.keypoints.people import DETECTOR_NAME, PeopleDetector

    find, follow = PeopleDetector(threshold=min_confidence, tiles=tiles), Follower()
    size, n = None, 0
    for k, (num, rgb) in enumerate(_frames(source, every, max_frames)):
        size = _one_size(source, num, rgb, size)
        n += 1
        found = find(rgb)
        keep = slice(0, min(len(found), max_people))
        ids = follow(k, found.boxes[keep], appearance(rgb, found.boxes[keep]))  # k: steps of the frames read
        frames.append({"frame": int(num), "people": [
            {"box": np.round(found.boxes[i], 1).tolist(), "score": round(float(found.scores[i]), 4), "track_id": int(ids[i]),
             "keypoints": np.round(found.keypoints[i], 2).tolist()} for i in range(len(ids))]})
        bar.update(1)
    return size, n, DETECTOR_NAME + (f", {tiles}x{tiles} tiles" if tiles > 1 else "")


def _detect_mediapipe(source, every, max_frames, min_confidence, max_people, video, frames, bar):
    mp = _mediapipe()
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)  # protobuf 4, inside MediaPipe
    tracking = video and max_people == 1
    size, n, expect = None, 0, 1
    with _quiet_native_stderr(), mp.solutions.pose.Pose(
            static_image_mode=not tracking, model_complexity=1, smooth_landmarks=tracking,
            min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence) as pose:
        for num, rgb in _frames(source, every, max_frames):
            size = _one_size(source, num, rgb, size)
            n += 1
            people = [{"landmarks": np.round(lm, 6).tolist()} for lm in _people(pose, rgb, max_people, expect)]
            expect = max(1, len(people))
            if tracking:
                for p in people:
                    p["id"] = 0
            frames.append({"frame": int(num), "people": people})
            bar.update(1)
    return size, n, f"MediaPipe Pose {mp.__version__} (BlazePose full, bundled)"


def _mediapipe_document(frames, size, name, source: Path, fps) -> dict:
    doc = {"format": "mediapipe-pose-33", "detector": name, "image_size": list(size), "coordinates": "normalized",
           "source": source.name, "frames": frames}
    if fps is not None:
        doc["fps"] = fps
    return doc


def _coco_document(frames, size, name, source: Path, fps) -> dict:
    """A COCO keypoint file: every frame an image (id = frame number, even without people), every
    person an annotation in pixels (COCO's ``bbox`` is x, y, width, height) with its ``track_id``
    (:class:`poseda.keypoints.follow.Follower`)."""
    from poseda.keypoints.formats import COCO17

    images = [{"id": f["frame"], "file_name": f"{source.stem}_{f['frame']:06d}", "width": size[0], "height": size[1]}
              for f in frames]
    anns = []
    for f in frames:
        for p in f["people"]:
            x0, y0, x1, y1 = p["box"]
            kp = p["keypoints"]
            anns.append({"id": len(anns) + 1, "image_id": f["frame"], "category_id": 1, "score": p["score"], "track_id": p["track_id"],
                         "bbox": [x0, y0, round(x1 - x0, 1), round(y1 - y0, 1)],
                         "keypoints": [v for j in kp for v in j], "num_keypoints": sum(1 for j in kp if j[2] > 0.3)})
    info = {"description": f"2D keypoints of {source.name}", "detector": name, "source": source.name}
    if fps is not None:
        info["fps"] = fps
    return {"info": info, "images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO17.joints)}]}
