"""Readers for the 2D keypoint files people have, into one :class:`Detections` table.

Supported (the format is recognised from the content; ``fmt`` forces one):

- **COCO keypoint JSON** (``coco``): a list of detections ``{"image_id", "keypoints": [x, y, s] * 17,
  "score"?, "track_id"? | "idx"?, "category_id"?}`` as COCO result files and most detectors write
  them (MMPose, Detectron2, AlphaPose, ViTPose), or a COCO dataset dict with ``"annotations"``
  and ``"images"`` (whose width/height give the image size). A folder of such files, one per frame,
  also works. Integer ``image_id`` is the frame number; file-name ids use the number in the name.
- **OpenPose JSON** (``openpose``): one ``{"people": [{"pose_keypoints_2d": [...]}]}`` file per
  frame (a folder of ``*_keypoints.json``, frame number from the file name), BODY_25 (75 values) or
  COCO-18 (54). Undetected joints are (0, 0, 0) upstream and become missing.
- **MediaPipe / BlazePose 33** (``mediapipe``): ``{"format": "mediapipe-pose-33", "image_size": [W, H],
  "coordinates": "normalized" | "pixels", "frames": [{"frame": i, "people": [{"landmarks":
  [[x, y, z, visibility], ...]}]}]}``, what ``poseda detect`` writes: MediaPipe's own normalised
  landmarks (x / W, y / H) and visibility as the score.
- **AlphaPose** (``coco``): its result list is COCO's with ``"idx"`` as the track id; Halpe-26
  (78 values) and Halpe-136 / COCO-WholeBody (their body keypoints) are recognised by size.
- **MMPose predictions** (``mmpose``): what ``--save-predictions`` writes, ``{"meta_info",
  "instance_info": [{"frame_id", "instances": [{"keypoints": [[x, y], ...], "keypoint_scores"}]}]}``
  or the bare list; for one image, the list of instances. COCO-17, Halpe-26 or whole-body by count.
- **VideoPose3D custom 2D** (``videopose3d``): ``data_2d_custom_NAME.npz`` from its
  ``prepare_data_2d_custom.py`` (one video per file; COCO order, pixels, the video's w and h).
- **Arrays** (``npz`` / ``csv``), Human3.6M 17-joint order unless ``joints`` says otherwise: an
  npz with ``keypoints`` [T, J, 2 | 3] or [T, P, J, 2 | 3] (the third channel is the score; P
  people with ids 0..P-1; NaN rows are absent), optional ``scores``, ``frames``, ``image_size``; a
  CSV with a header, optional ``frame`` and ``person`` columns, then x, y (and optionally score) per
  joint in order, one row per person and frame.

Every problem raises :class:`~poseda.errors.PosedaInputError` naming the file and what is wrong.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

from poseda.errors import PosedaInputError, malformed_input
from poseda.keypoints.formats import BODY25, COCO17, COCO18, HALPE26, MEDIAPIPE33, KeypointFormat, keypoint_format
from poseda.registry import Registry

#: keypoint counts of COCO-style result lists -> (format, how many leading keypoints are the body)
COCO_SIZES = {17: (COCO17, 17), 26: (HALPE26, 26), 133: (COCO17, 17), 136: (HALPE26, 26)}
COCO_SIZE_NAMES = "17 (COCO), 26 (Halpe), 133 (COCO-WholeBody) or 136 (Halpe full body)"
MAX_COORDINATE_PX = 1e6  # a keypoint farther than this from the image origin is garbage, not a pixel
MAX_FRAME = 10**9  # frame numbers from 0 to this (about 1 year at 30 fps)
MAX_IMAGE_SIZE = 100000
_MALFORMED = (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError)


@dataclass
class Detections:
    """Every detected person in every frame, one row each."""

    frame: np.ndarray  # [N] int frame number
    person: np.ndarray  # [N] int track id from the file, -1 where the file has none
    keypoints: np.ndarray  # [N, J, 2] pixels, NaN where missing
    scores: np.ndarray  # [N, J] confidence (1 where the file has none, 0 where missing)
    fmt: KeypointFormat
    image_size: tuple[int, int] | None  # (W, H) when the file says
    source: str
    file_format: str

    def __len__(self) -> int:
        return len(self.frame)


def _frame_number(name: str, fallback: int) -> int:
    """The frame number in a file name (the last group of digits), else ``fallback``."""
    stem = Path(str(name)).name
    stem = re.sub(r"_keypoints$", "", Path(stem).stem) if stem.endswith(".json") else Path(stem).stem
    nums = re.findall(r"\d+", stem)
    return int(nums[-1]) if nums else fallback


def _load_json(path: Path):
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise PosedaInputError(path, f"cannot read: {e}") from None
    if not text.strip():
        raise PosedaInputError(path, "is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise PosedaInputError(path, f"malformed JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None


def _triples(values, where: str, what: str, fmts: dict[int, KeypointFormat]) -> tuple[np.ndarray, np.ndarray, KeypointFormat]:
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise PosedaInputError(where, f"{what} must be a list of numbers") from None
    if arr.size not in fmts:
        expected = " or ".join(f"{k} ({f.description}, {f.num_joints} joints x 3)" for k, f in fmts.items())
        raise PosedaInputError(where, f"{what} has {arr.size} values, expected {expected}")
    fmt = fmts[arr.size]
    arr = arr.reshape(fmt.num_joints, 3)
    return arr[:, :2], arr[:, 2], fmt


def _detect_kind(obj, path: Path) -> str:
    if isinstance(obj, dict) and "instance_info" in obj:
        return "mmpose"
    if isinstance(obj, list) and obj and isinstance(obj[0], dict) and ("instances" in obj[0] or "keypoint_scores" in obj[0]):
        return "mmpose"
    if isinstance(obj, dict) and "people" in obj:
        return "openpose"
    if isinstance(obj, dict) and (obj.get("format") == "mediapipe-pose-33" or "frames" in obj):
        return "mediapipe"
    if isinstance(obj, dict) and "annotations" in obj:
        return "coco"
    if isinstance(obj, list) and (not obj or (isinstance(obj[0], dict) and "keypoints" in obj[0])):
        return "coco"
    raise PosedaInputError(path, "unknown keypoint JSON: expected COCO / AlphaPose detections (a list with 'keypoints'), "
                                 "a COCO dict with 'annotations', OpenPose ('people'), MediaPipe ('frames') or MMPose "
                                 "predictions ('instance_info', or a list of {'frame_id', 'instances'})")


def _body_triples(values, where: str) -> tuple[np.ndarray, np.ndarray, KeypointFormat]:
    """A COCO-style flat [x, y, s] * K list of any size in :data:`COCO_SIZES`: the body part."""
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise PosedaInputError(where, "'keypoints' must be a list of numbers") from None
    if arr.size % 3 or arr.size // 3 not in COCO_SIZES:
        raise PosedaInputError(where, f"'keypoints' has {arr.size} values, expected 3 x {COCO_SIZE_NAMES} keypoints")
    fmt, body = COCO_SIZES[arr.size // 3]
    arr = arr[: 3 * body].reshape(body, 3)
    return arr[:, :2], arr[:, 2], fmt


def _mmpose_rows(obj, path: Path, frame_hint: int):
    """MMPose's saved predictions: ``{"meta_info", "instance_info": [...]}`` or the bare list;
    items are ``{"frame_id", "instances": [...]}`` (video) or instances themselves (one image).
    An instance is ``{"keypoints": [[x, y], ...], "keypoint_scores": [...], "track_id"?}``."""
    items = obj["instance_info"] if isinstance(obj, dict) else obj
    if not isinstance(items, list):
        raise PosedaInputError(path, "'instance_info' must be a list")
    if items and isinstance(items[0], dict) and "instances" not in items[0]:
        items = [{"frame_id": frame_hint, "instances": items}]
    rows, fmt = [], COCO17
    for k, it in enumerate(items):
        where = f"{path} (entry {k})"
        if not isinstance(it, dict) or not isinstance(it.get("instances"), list):
            raise PosedaInputError(where, "must be {'frame_id': n, 'instances': [...]}")
        frame = _int(it.get("frame_id", k), where, "'frame_id'")
        for i, inst in enumerate(it["instances"]):
            w = f"{where} (instance {i})"
            if not isinstance(inst, dict) or "keypoints" not in inst:
                raise PosedaInputError(w, "has no 'keypoints'")
            try:
                xy = np.asarray(inst["keypoints"], np.float64)
                sc = np.asarray(inst.get("keypoint_scores", np.ones(len(xy))), np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise PosedaInputError(w, "'keypoints' and 'keypoint_scores' must be numbers") from None
            if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] not in COCO_SIZES:
                raise PosedaInputError(w, f"'keypoints' has shape {list(xy.shape)}, expected [K, 2] with K {COCO_SIZE_NAMES}")
            if len(sc) != len(xy):
                raise PosedaInputError(w, f"'keypoint_scores' has {len(sc)} values for {len(xy)} keypoints")
            this, body = COCO_SIZES[len(xy)]
            if rows and this is not fmt:
                raise PosedaInputError(w, f"has {this.description} keypoints but earlier instances have {fmt.description}")
            fmt = this
            pid = inst.get("track_id", -1)
            pid = _int(pid, w, "'track_id'", -1, 2**31)
            rows.append((frame, pid, xy[:body].copy(), sc[:body].copy()))
    return rows, fmt, None


def _coco_rows(obj, path: Path, frame_hint: int | None):
    images = {}
    size = None
    if isinstance(obj, dict):
        if not isinstance(obj.get("images", []), list):
            raise PosedaInputError(path, "'images' must be a list")
        for k, im in enumerate(obj.get("images", [])):
            if isinstance(im, dict) and "id" in im and isinstance(im["id"], (int, str)):
                images[im["id"]] = (k, im)
        anns = obj["annotations"]
        if not isinstance(anns, list):
            raise PosedaInputError(path, "'annotations' must be a list")
    else:
        anns = obj
    rows, fmt = [], None
    for i, a in enumerate(anns):
        where = f"{path} (detection {i})"
        if not isinstance(a, dict) or "keypoints" not in a:
            raise PosedaInputError(where, "has no 'keypoints'")
        if a.get("category_id", 1) != 1:
            continue
        xy, s, this = _body_triples(a["keypoints"], where)
        if fmt is not None and this is not fmt:
            raise PosedaInputError(where, f"has {this.description} keypoints but earlier detections have {fmt.description}")
        fmt = this
        img = a.get("image_id", frame_hint)
        if img in images:
            frame, im = images[img]
            frame = _frame_number(im.get("file_name", ""), frame) if not isinstance(img, int) else img
            if "width" in im and "height" in im:
                this = (_int(im["width"], where, "image 'width'", 1, MAX_IMAGE_SIZE),
                        _int(im["height"], where, "image 'height'", 1, MAX_IMAGE_SIZE))
                if size is not None and this != size:
                    raise PosedaInputError(where, f"image {img!r} is {this[0]}x{this[1]}, others {size[0]}x{size[1]}: "
                                                  "one image size per file (one camera)")
                size = this
        elif isinstance(img, (int, np.integer)) and not isinstance(img, bool):
            frame = _int(img, where, "image_id (the frame)")
        elif isinstance(img, str):
            frame = _frame_number(img, -1)
            if frame < 0:
                raise PosedaInputError(where, f"image_id {img!r} has no frame number")
        else:
            raise PosedaInputError(where, "has no 'image_id' (the frame)")
        pid = a.get("track_id", a.get("idx", -1))
        if isinstance(pid, list):
            pid = pid[0] if pid else -1
        pid = _int(pid, where, "track id", -1, 2**31)
        rows.append((_int(frame, where, "frame"), pid, xy, s))
    return rows, fmt or COCO17, size


def _openpose_rows(obj, path: Path, frame: int):
    if not isinstance(obj.get("people"), list):
        raise PosedaInputError(path, "'people' must be a list")
    rows, fmt = [], BODY25
    for i, p in enumerate(obj["people"]):
        where = f"{path} (person {i})"
        if not isinstance(p, dict) or "pose_keypoints_2d" not in p:
            raise PosedaInputError(where, "has no 'pose_keypoints_2d'")
        xy, s, fmt = _triples(p["pose_keypoints_2d"], where, "'pose_keypoints_2d'", {75: BODY25, 54: COCO18})
        xy[s <= 0] = np.nan  # OpenPose writes (0, 0, 0) for joints it did not find
        pid = p.get("person_id", -1)
        pid = pid[0] if isinstance(pid, list) and pid else pid
        pid = _int(pid, where, "person_id", -1, 2**31) if isinstance(pid, (int, float)) and not isinstance(pid, bool) else -1
        rows.append((frame, pid, xy, s))
    return rows, fmt, None


def _mediapipe_rows(obj, path: Path):
    size = obj.get("image_size")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                              and 1 <= v <= MAX_IMAGE_SIZE for v in size)):
        raise PosedaInputError(path, f"MediaPipe keypoints need 'image_size': [width, height] in pixels (1 to {MAX_IMAGE_SIZE})")
    coords = obj.get("coordinates", "normalized")
    if coords not in ("normalized", "pixels"):
        raise PosedaInputError(path, f"'coordinates' must be 'normalized' or 'pixels', got {coords!r}")
    if not isinstance(obj.get("frames"), list):
        raise PosedaInputError(path, "'frames' must be a list")
    scale = np.array(size, np.float64) if coords == "normalized" else np.ones(2)
    rows = []
    for k, fr in enumerate(obj["frames"]):
        if not isinstance(fr, dict) or not isinstance(fr.get("people", []), list):
            raise PosedaInputError(f"{path} (frame entry {k})", "must be {'frame': n, 'people': [...]}")
        frame = _int(fr.get("frame", k), f"{path} (frame entry {k})", "'frame'")
        for i, p in enumerate(fr.get("people", [])):
            where = f"{path} (frame entry {k}, person {i})"
            lm = p.get("landmarks") if isinstance(p, dict) else None
            try:
                arr = np.asarray(lm, np.float64)
            except (TypeError, ValueError):
                raise PosedaInputError(where, "'landmarks' must be numbers") from None
            if arr.ndim != 2 or arr.shape[0] != 33 or arr.shape[1] < 2:
                raise PosedaInputError(where, f"'landmarks' has shape {arr.shape}, expected 33 rows of [x, y, z, visibility]")
            s = arr[:, 3] if arr.shape[1] >= 4 else np.ones(33)
            rows.append((frame, _int(p.get("id", -1), where, "'id'", -1, 2**31), arr[:, :2] * scale, s))
    return rows, MEDIAPIPE33, (int(size[0]), int(size[1]))


def _json_rows(path: Path, kind: str, frame_hint: int):
    obj = _load_json(path)
    found = _detect_kind(obj, path)
    if kind not in ("auto", found):
        raise PosedaInputError(path, f"looks like {found} keypoints, not {kind}")
    try:
        if found == "openpose":
            return (*_openpose_rows(obj, path, frame_hint), found)
        if found == "mediapipe":
            return (*_mediapipe_rows(obj, path), found)
        if found == "mmpose":
            return (*_mmpose_rows(obj, path, frame_hint), found)
        return (*_coco_rows(obj, path, frame_hint), found)
    except PosedaInputError:
        raise
    except _MALFORMED as e:  # a field of the wrong type that no specific check named
        raise PosedaInputError(path, f"malformed {found} keypoints ({type(e).__name__}: {str(e)[:120]})") from None


def _int(value, where: str, what: str, low: int = 0, high: int = MAX_FRAME) -> int:
    """An integer field (a JSON number without a fraction) from ``low`` to ``high``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and np.isfinite(value) \
        and float(value).is_integer() and low <= value <= high
    if not ok:
        raise PosedaInputError(where, f"{what} must be an integer from {low} to {high}, got {value!r}")
    return int(value)


def _from_rows(rows, fmt, size, path, kind) -> Detections:
    if not rows:
        return Detections(np.zeros(0, int), np.zeros(0, int), np.zeros((0, fmt.num_joints, 2)), np.zeros((0, fmt.num_joints)),
                          fmt, size, str(path), kind)
    frame, pid, xy, s = zip(*rows)
    return Detections(np.asarray(frame, np.int64), np.asarray(pid, np.int64), np.stack(xy), np.stack(s), fmt, size, str(path),
                      kind)


def _check_values(det: Detections) -> Detections:
    xy = det.keypoints
    bad = ~np.isfinite(xy) & ~np.isnan(xy)
    if bad.any():
        raise PosedaInputError(det.source, "keypoints contain infinite values")
    far = np.abs(np.nan_to_num(xy)) > MAX_COORDINATE_PX
    if far.any():
        raise PosedaInputError(det.source, f"keypoints lie farther than {MAX_COORDINATE_PX:g} px from the image origin "
                                           f"(e.g. {np.abs(xy[far]).max():.3g}): not pixel coordinates")
    if len(det) and (det.frame.min() < 0 or det.frame.max() > MAX_FRAME):
        raise PosedaInputError(det.source, f"frame numbers must be from 0 to {MAX_FRAME}, got {det.frame.min()} to {det.frame.max()}")
    if not np.isfinite(np.where(np.isnan(det.scores), 0, det.scores)).all():
        raise PosedaInputError(det.source, "scores contain infinite values")
    det.scores = np.where(np.isnan(xy).any(-1), 0.0, np.nan_to_num(det.scores, nan=0.0))
    order = np.lexsort((det.person, det.frame))
    for name in ("frame", "person", "keypoints", "scores"):
        setattr(det, name, getattr(det, name)[order])
    return det


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an npz file, refusing anything else (not a zip, pickled objects, bad members)."""
    import zipfile

    if not zipfile.is_zipfile(path):
        raise PosedaInputError(path, "is not an npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" in str(e):
            raise PosedaInputError(path, "holds Python objects (pickled data), which poseda does not load: save plain arrays") from None
        raise PosedaInputError(path, f"is not a readable npz file ({str(e)[:100]})") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise PosedaInputError(path, f"is not a readable npz file ({type(e).__name__})") from None


def read_arrays(path: Path, joints: str = "h36m17") -> Detections:
    """An npz or CSV of keypoints in the ``joints`` order (default Human3.6M-17)."""
    fmt = keypoint_format(joints)
    try:
        return _read_arrays(path, fmt)
    except PosedaInputError:
        raise
    except _MALFORMED as e:  # an array of the wrong kind that no specific check named
        raise PosedaInputError(path, f"malformed keypoint arrays ({type(e).__name__}: {str(e)[:120]})") from None


def _read_arrays(path: Path, fmt: KeypointFormat) -> Detections:
    if path.suffix.lower() == ".npz":
        data = _load_npz(path)
        if "keypoints" not in data:
            raise PosedaInputError(path, f"has no 'keypoints' array (found: {', '.join(data) or 'nothing'})")
        kp = np.asarray(data["keypoints"], np.float64)
        if kp.ndim == 3:
            kp = kp[:, None]
        if kp.ndim != 4 or kp.shape[-1] not in (2, 3):
            raise PosedaInputError(path, f"'keypoints' has shape {kp.shape}, expected [T, J, 2|3] or [T, P, J, 2|3]")
        if kp.shape[2] != fmt.num_joints:
            raise PosedaInputError(path, f"'keypoints' has {kp.shape[2]} joints, expected {fmt.num_joints} ({fmt.description}); "
                                         "use --joints for another order")
        t, p = kp.shape[:2]
        if "scores" in data:
            sc = np.asarray(data["scores"], np.float64).reshape(t, p, fmt.num_joints) if data["scores"].size == t * p * fmt.num_joints \
                else None
            if sc is None:
                raise PosedaInputError(path, f"'scores' has shape {data['scores'].shape}, expected {kp.shape[:3]}")
        else:
            sc = kp[..., 2] if kp.shape[-1] == 3 else np.ones(kp.shape[:3])
        frames = np.arange(t)
        if "frames" in data:
            f = np.asarray(data["frames"], np.float64).reshape(-1)
            if not (np.isfinite(f) & (f == np.round(f)) & (f >= 0) & (f <= MAX_FRAME)).all():
                raise PosedaInputError(path, f"'frames' must be integers from 0 to {MAX_FRAME}")
            frames = f.astype(np.int64)
        if len(frames) != t:
            raise PosedaInputError(path, f"'frames' has {len(frames)} entries for {t} frames")
        size = None
        if "image_size" in data:
            s = np.asarray(data["image_size"], np.float64).reshape(-1)
            if s.size != 2 or not ((s >= 1) & (s <= MAX_IMAGE_SIZE)).all():
                raise PosedaInputError(path, f"'image_size' must be [width, height] from 1 to {MAX_IMAGE_SIZE}, got {s.tolist()}")
            size = (int(s[0]), int(s[1]))
        present = np.isfinite(kp[..., :2]).any(-1).any(-1)  # [T, P]
        ti, pi = np.nonzero(present)
        det = Detections(frames[ti], pi.astype(np.int64), kp[ti, pi, :, :2], sc[ti, pi], fmt, size, str(path), "npz")
        return _check_values(det)
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise PosedaInputError(path, f"cannot read: {e}") from None
    rows = [r for r in rows if r and not r[0].startswith("#")]
    if len(rows) < 2:
        raise PosedaInputError(path, "is empty (a CSV needs a header and at least one row)")
    header = [h.strip().lower() for h in rows[0]]
    fcol = header.index("frame") if "frame" in header else None
    pcol = header.index("person") if "person" in header else None
    vcols = [i for i in range(len(header)) if i not in (fcol, pcol)]
    per = len(vcols) // fmt.num_joints if len(vcols) % fmt.num_joints == 0 else 0
    if per not in (2, 3):
        raise PosedaInputError(path, f"has {len(vcols)} value columns, expected {2 * fmt.num_joints} or {3 * fmt.num_joints} "
                                     f"(x, y[, score] for {fmt.num_joints} joints, {fmt.description}); use --joints for another order")
    try:
        vals = np.array([[float(r[i]) if r[i].strip() else np.nan for i in range(len(header))] for r in rows[1:]])
    except (ValueError, IndexError):
        raise PosedaInputError(path, "has a row with a missing or non-numeric value") from None
    kp = vals[:, vcols].reshape(len(vals), fmt.num_joints, per)
    for col, name, low in ((fcol, "frame", 0), (pcol, "person", -1)):
        if col is not None:
            c = vals[:, col]
            if not (np.isfinite(c) & (c == np.round(c)) & (c >= low) & (c <= MAX_FRAME)).all():
                raise PosedaInputError(path, f"column '{name}' must hold integers from {low} to {MAX_FRAME}")
    frames = vals[:, fcol].astype(np.int64) if fcol is not None else np.arange(len(vals))
    pid = vals[:, pcol].astype(np.int64) if pcol is not None else np.zeros(len(vals), np.int64)
    sc = kp[..., 2] if per == 3 else np.ones(kp.shape[:2])
    return _check_values(Detections(frames, pid, kp[..., :2], sc, fmt, None, str(path), "csv"))


@malformed_input("VideoPose3D custom 2D file", 0)
def read_videopose3d_custom(path: Path) -> Detections:
    """VideoPose3D's ``data_2d_custom_NAME.npz`` (its ``prepare_data_2d_custom.py``): object arrays
    ``positions_2d`` = {video: {"custom": [keypoints [T, 17, 2]]}} in COCO order, pixels, and
    ``metadata`` = {"layout_name": "coco", "num_joints": 17, "video_metadata": {video: {"w", "h"}}}.
    One video per file is lifted (one camera); frames are 0..T-1 and every score is 1."""
    from poseda.safe_pickle import load_object_npz

    pos = load_object_npz(path, "positions_2d")
    meta = load_object_npz(path, "metadata")
    if not isinstance(pos, dict) or not pos or not isinstance(meta, dict):
        raise PosedaInputError(path, "'positions_2d' and 'metadata' must be dictionaries (VideoPose3D's custom layout)")
    if meta.get("layout_name", "coco") != "coco" or meta.get("num_joints", 17) != 17:
        raise PosedaInputError(path, f"layout {meta.get('layout_name')!r} with {meta.get('num_joints')} joints: VideoPose3D "
                                     "custom files are read in the 'coco' layout with 17 joints")
    if len(pos) != 1:
        raise PosedaInputError(path, f"holds {len(pos)} videos ({', '.join(sorted(map(str, pos))[:5])}): one video (one camera) "
                                     "per lift; write each video to its own file")
    video, entry = next(iter(pos.items()))
    arr = entry.get("custom") if isinstance(entry, dict) else None
    if isinstance(arr, (list, tuple)) and len(arr) == 1:
        arr = arr[0]
    try:
        kp = np.asarray(arr, np.float64) if arr is not None else np.zeros(0)
    except (TypeError, ValueError) as e:  # strings, ragged lists, objects
        raise PosedaInputError(path, f"video {video!r}: 'custom' keypoints are not an array of numbers "
                                     f"({(str(e).splitlines() or [''])[0][:80]})") from None
    if kp.ndim != 3 or kp.shape[1:] != (17, 2):
        raise PosedaInputError(path, f"video {video!r}: 'custom' keypoints have shape {list(kp.shape)}, expected [frames, 17, 2]")
    size = None
    vm = meta.get("video_metadata", {}).get(video) if isinstance(meta.get("video_metadata"), dict) else None
    if isinstance(vm, dict) and "w" in vm and "h" in vm:
        size = (_int(vm["w"], f"{path} (video {video!r})", "'w'", 1, MAX_IMAGE_SIZE),
                _int(vm["h"], f"{path} (video {video!r})", "'h'", 1, MAX_IMAGE_SIZE))
    present = np.isfinite(kp).any(-1).any(-1)
    t = np.flatnonzero(present)
    det = Detections(t.astype(np.int64), np.zeros(len(t), np.int64), kp[t], np.ones((len(t), 17)), COCO17, size, str(path),
                     "videopose3d")
    return _check_values(det)


def _is_videopose3d_npz(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return {"positions_2d.npy", "metadata.npy"} <= set(z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _read_builtin(path: Path, joints: str | None, file_format: str) -> Detections:
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise PosedaInputError(path, "folder holds no .json keypoint files")
        rows, fmt, size, kind = [], None, None, None
        for k, f in enumerate(files):
            r, ff, s, kd = _json_rows(f, file_format, _frame_number(f.name, k))
            if kind is not None and kd != kind:
                raise PosedaInputError(f, f"is {kd} keypoints but earlier files are {kind}")
            if fmt is not None and ff is not fmt:
                raise PosedaInputError(f, f"has {ff.description} keypoints but earlier files have {fmt.description}")
            rows += r
            fmt, kind, size = ff, kd, s or size
        return _check_values(_from_rows(rows, fmt, size, path, kind))
    suffix = path.suffix.lower()
    if file_format == "videopose3d" or (file_format == "auto" and suffix == ".npz" and _is_videopose3d_npz(path)):
        if joints not in (None, "auto", "coco17"):
            raise PosedaInputError("--joints", "VideoPose3D custom files are COCO-17; --joints does not apply")
        return read_videopose3d_custom(path)
    if file_format in ("npz", "csv") or (file_format == "auto" and suffix in (".npz", ".csv")):
        return read_arrays(path, joints or "h36m17")
    if suffix != ".json" and file_format == "auto":
        raise PosedaInputError(path, f"unknown keypoint file type {suffix or '(none)'!r}: use .json (COCO, OpenPose, MediaPipe), "
                                     ".npz or .csv, or a folder of per-frame .json files")
    if joints not in (None, "auto"):
        raise PosedaInputError("--joints", "applies to .npz / .csv arrays; JSON formats declare their own joints")
    r, fmt, size, kind = _json_rows(path, file_format, _frame_number(path.name, 0))
    return _check_values(_from_rows(r, fmt, size, path, kind))


#: name -> reader ``read(path, joints) -> Detections`` (``--format`` of ``poseda lift`` and ``poseda data footage``)
FILE_FORMATS: Registry[Callable[[Path, str | None], Detections]] = Registry("format", "register_keypoint_reader")
for _name, _about in (("auto", "recognised from the file's content"), ("coco", "COCO keypoint JSON (also AlphaPose)"),
                      ("openpose", "OpenPose JSON, one file per frame"), ("mediapipe", "MediaPipe / BlazePose 33 JSON"),
                      ("mmpose", "MMPose predictions"), ("videopose3d", "VideoPose3D's data_2d_custom npz"),
                      ("npz", "keypoint arrays (npz), joints of --joints"), ("csv", "keypoint arrays (CSV), joints of --joints")):
    FILE_FORMATS.register(_name, partial(_read_builtin, file_format=_name), about=_about)
_BUILTIN = frozenset(FILE_FORMATS)


def register_keypoint_reader(name: str, read: Callable[[Path, str | None], Detections] | None = None):
    """Make ``read(path, joints) -> Detections`` the reader of ``--format name`` (``poseda lift``,
    ``poseda data footage``, :func:`read_keypoints`); ``joints`` is ``--joints`` (or None). Works
    as a decorator. What it returns is checked as every built-in reader's result is, and a file it
    cannot parse (a ``KeyError``, ``ValueError`` ... it raises) is one line naming the file."""
    return FILE_FORMATS.register(name) if read is None else FILE_FORMATS.register(name, read)


def read_keypoints(path: str | Path, file_format: str = "auto", joints: str | None = None) -> Detections:
    """Read a keypoint file or folder (see the module doc) with the reader of ``file_format``.
    ``joints`` sets the joint order of array files (default h36m17); JSON formats carry their own."""
    path = Path(path)
    read = FILE_FORMATS.lookup(file_format, "--format")
    if not path.exists():
        raise PosedaInputError(path, "does not exist")
    if file_format in _BUILTIN:
        return read(path, joints)
    try:
        det = read(path, joints)
    except _MALFORMED as e:  # a plugin's reader meeting a file it did not expect
        raise PosedaInputError(path, f"malformed {file_format} keypoints ({type(e).__name__}: {str(e)[:120]})") from None
    if not isinstance(det, Detections):
        raise PosedaInputError(path, f"the {file_format} reader returned {type(det).__name__}, not poseda.keypoints.readers.Detections")
    return _check_values(det)
