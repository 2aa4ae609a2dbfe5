"""Every person in a frame, at any size: a person detector, then 17 COCO keypoints per person.

Two bundled ONNX models (``poseda/keypoints/bundled/``, see its ``NOTICE.md``; made by
``scripts/convert_detectors.py``), run by onnxruntime on the CPU:

- **NanoDet-g** (RangiLyu, Apache-2.0), a COCO object detector, of which the *person* class is
  kept. The frame is letterboxed into 416 x 416 (BGR, normalised by its training mean and deviation);
  its three heads (strides 8, 16, 32) give per-cell class scores and box sides as distributions
  over 11 bins (generalised focal loss), decoded here in one batched step per head, then
  non-maximum suppression. A frame much larger than the model's input can also be searched in
  overlapping tiles (``tiles``), for people a few dozen pixels tall.
- **MoveNet SinglePose Lightning v4** (Google, Apache-2.0) on each person's box: a square crop,
  1.25 times the box's longer side, resized to 192 x 192; 17 COCO keypoints (y, x, score).

Measured on real footage (``benchmarks/people_detection.py``; docs: Results, "Finding every
person"): recall and precision against hand-counted boxes, and the frame rate on 2 cores.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseda.errors import PosedaInputError

BUNDLED = Path(__file__).resolve().parent / "bundled"
DETECTOR_FILE = BUNDLED / "nanodet-g.onnx"
POSE_FILE = BUNDLED / "movenet-lightning.onnx"
DETECTOR_SIZE = 416
POSE_SIZE = 192
#: NanoDet's input normalisation, per BGR channel (its training configuration)
BGR_MEAN = np.array([103.53, 116.28, 123.675], np.float32)
BGR_STD = np.array([57.375, 57.12, 58.395], np.float32)
STRIDES = (8, 16, 32)
REG_BINS = 11  # box sides as distributions over 0..10 strides
PERSON = 0  # COCO class index
CROP_SCALE = 1.25  # MoveNet's crop: this times the box's longer side
#: box score above which a person counts, and the mean keypoint score the person's pose then needs
#: (a box on a traffic cone or a stone gets a pose of scores around 0.15, people 0.4 and more):
#: chosen on real footage, benchmarks/people_detection.py
BOX_THRESHOLD = 0.35
MIN_POSE_SCORE = 0.3
NMS_IOU = 0.5
DETECTOR_NAME = "NanoDet-g 416 + MoveNet Lightning v4 (bundled ONNX)"


@dataclass
class People:
    """The people found in one frame, by falling box score."""

    boxes: np.ndarray  # [N, 4] x0, y0, x1, y1 pixels
    scores: np.ndarray  # [N] box score
    keypoints: np.ndarray  # [N, 17, 3] x, y pixels and score, COCO order

    def __len__(self) -> int:
        return len(self.scores)


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise PosedaInputError("--detector people", "needs onnxruntime: pip install 'poseda[detect]'") from None
    return onnxruntime


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[A, 4] x [B, 4] boxes (x0, y0, x1, y1) -> [A, B] intersection over union."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), -1)
    area = lambda x: np.prod(np.clip(x[:, 2:] - x[:, :2], 0, None), -1)  # noqa: E731
    union = area(a)[:, None] + area(b)[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU) -> np.ndarray:
    """Indices of the boxes kept, by falling score: a box overlapping a kept one by more than
    ``iou`` is dropped. The overlaps are computed once, [N, N]."""
    order = np.argsort(-scores, kind="stable")
    over = box_iou(boxes[order], boxes[order]) > iou
    keep = np.ones(len(order), bool)
    for i in range(len(order)):  # N is tens of boxes after the score threshold
        if keep[i]:
            keep[i + 1:] &= ~over[i, i + 1:]
    return order[keep]


def decode_heads(scores: list[np.ndarray], regs: list[np.ndarray], threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """NanoDet's heads -> person boxes in the 416 x 416 input and their scores. ``scores[k]`` is
    [cells, 80] (after the sigmoid), ``regs[k]`` [cells, 4 * 11] for stride ``STRIDES[k]``; a box
    side is the expectation of its softmax over the bins, in strides, from the cell's centre."""
    boxes, out = [], []
    for cls, reg, stride in zip(scores, regs, STRIDES):
        side = DETECTOR_SIZE // stride
        keep = np.flatnonzero(cls[:, PERSON] > threshold)
        if not len(keep):
            continue
        logits = reg[keep].reshape(-1, 4, REG_BINS)
        p = np.exp(logits - logits.max(-1, keepdims=True))
        dist = (p / p.sum(-1, keepdims=True)) @ np.arange(REG_BINS, dtype=np.float32) * stride  # [K, 4] left, top, right, bottom
        centre = np.stack([(keep % side + 0.5) * stride, (keep // side + 0.5) * stride], 1)
        boxes.append(np.concatenate([centre - dist[:, :2], centre + dist[:, 2:]], 1))
        out.append(cls[keep, PERSON])
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    return np.concatenate(boxes), np.concatenate(out)


def tile_origins(width: int, height: int, tiles: int) -> list[tuple[int, int, int, int]]:
    """(x0, y0, w, h) of ``tiles`` x ``tiles`` overlapping windows over the frame, each a quarter
    larger than an even split, so that a person on a seam is whole in one of them."""
    w, h = min(width, int(np.ceil(1.25 * width / tiles))), min(height, int(np.ceil(1.25 * height / tiles)))
    xs = np.linspace(0, width - w, tiles).astype(int)
    ys = np.linspace(0, height - h, tiles).astype(int)
    return [(int(x), int(y), w, h) for y in ys for x in xs]


class PeopleDetector:
    """Boxes and keypoints of every person in an RGB frame (``detector(rgb) -> People``).

    ``threshold`` is the box score a person needs; ``tiles`` > 1 also searches that many
    overlapping windows per side (merged with the whole frame's boxes); ``threads`` is
    onnxruntime's thread count (default: the CPU's cores). ``min_pose_score``: the mean keypoint
    score a person's pose needs (things that look like a person to the box detector do not get a
    confident pose). ``fit`` is how a frame meets the
    detector's square input: ``letterbox`` (default; the longer side scaled to 416, shapes kept)
    or ``stretch`` (each side scaled on its own; people in a wide frame are squeezed and missed:
    docs, Results)."""

    def __init__(self, threshold: float = BOX_THRESHOLD, tiles: int = 1, threads: int | None = None, fit: str = "letterbox",
                 min_pose_score: float = MIN_POSE_SCORE):
        if not 0 < threshold < 1:
            raise PosedaInputError("--min-confidence", f"must be between 0 and 1, got {threshold}")
        if fit not in ("letterbox", "stretch"):
            raise PosedaInputError("fit", f"must be 'letterbox' or 'stretch', got {fit!r}")
        if not 1 <= tiles <= 4:
            raise PosedaInputError("--tiles", f"must be from 1 to 4, got {tiles}")
        ort = _onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        for f in (DETECTOR_FILE, POSE_FILE):
            if not f.is_file():
                raise PosedaInputError(f, "bundled detector weights are missing: reinstall poseda")
        self.detector = ort.InferenceSession(str(DETECTOR_FILE), options, providers=["CPUExecutionProvider"])
        self.pose = ort.InferenceSession(str(POSE_FILE), options, providers=["CPUExecutionProvider"])
        outs = self.detector.get_outputs()
        cells = {(DETECTOR_SIZE // s) ** 2: k for k, s in enumerate(STRIDES)}
        self._cls = [o.name for o in sorted((o for o in outs if o.shape[-1] == 80), key=lambda o: cells[o.shape[1]])]
        self._reg = [o.name for o in sorted((o for o in outs if o.shape[-1] == 4 * REG_BINS), key=lambda o: cells[o.shape[1]])]
        self._det_input = self.detector.get_inputs()[0].name
        self._pose_input = self.pose.get_inputs()[0].name
        self.threshold, self.tiles, self.fit, self.min_pose_score = threshold, tiles, fit, min_pose_score

    def _boxes_in(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        h, w = rgb.shape[:2]
        if self.fit == "stretch":  # each side to 416: people of a wide or tall frame are squeezed
            sx, sy = DETECTOR_SIZE / w, DETECTOR_SIZE / h
            x = cv2.resize(rgb, (DETECTOR_SIZE, DETECTOR_SIZE), interpolation=cv2.INTER_AREA)
        else:  # the longer side to 416, the rest padded with the mean colour: shapes kept
            sx = sy = DETECTOR_SIZE / max(w, h)
            x = np.empty((DETECTOR_SIZE, DETECTOR_SIZE, 3), np.uint8)
            x[:] = BGR_MEAN[::-1].round().astype(np.uint8)
            nw, nh = min(DETECTOR_SIZE, round(w * sx)), min(DETECTOR_SIZE, round(h * sy))
            x[:nh, :nw] = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
        x = ((x[:, :, ::-1].astype(np.float32) - BGR_MEAN) / BGR_STD).transpose(2, 0, 1)[None]  # BGR, normalised
        res = self.detector.run(self._cls + self._reg, {self._det_input: np.ascontiguousarray(x)})
        boxes, scores = decode_heads([r[0] for r in res[:3]], [r[0] for r in res[3:]], self.threshold)
        return boxes / np.array([sx, sy, sx, sy], np.float32), scores

    def boxes(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[N, 4] person boxes (pixels) and [N] scores, after non-maximum suppression."""
        h, w = rgb.shape[:2]
        boxes, scores = self._boxes_in(rgb)
        if self.tiles > 1:
            parts, part_scores = [boxes], [scores]
            for x0, y0, tw, th in tile_origins(w, h, self.tiles):
                b, s = self._boxes_in(np.ascontiguousarray(rgb[y0:y0 + th, x0:x0 + tw]))
                parts.append(b + np.array([x0, y0, x0, y0], np.float32))
                part_scores.append(s)
            boxes, scores = np.concatenate(parts), np.concatenate(part_scores)
        keep = non_max_suppression(boxes, scores)
        return np.clip(boxes[keep], 0, [w, h, w, h]), scores[keep]

    def keypoints(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """[N, 17, 3] COCO keypoints (x, y pixels, score) of the person in each box."""
        import cv2

        out = np.zeros((len(boxes), 17, 3), np.float32)
        for i, (x0, y0, x1, y1) in enumerate(boxes):  # one crop per person: the model takes one image
            scale = POSE_SIZE / max(CROP_SCALE * max(x1 - x0, y1 - y0), 1.0)
            shift = POSE_SIZE / 2 - scale * np.array([(x0 + x1) / 2, (y0 + y1) / 2])
            warp = np.array([[scale, 0, shift[0]], [0, scale, shift[1]]], np.float32)
            crop = cv2.warpAffine(rgb, warp, (POSE_SIZE, POSE_SIZE), flags=cv2.INTER_LINEAR)
            yxs = self.pose.run(None, {self._pose_input: crop[None].astype(np.int32)})[0].reshape(17, 3)
            out[i, :, 0] = (yxs[:, 1] * POSE_SIZE - shift[0]) / scale
            out[i, :, 1] = (yxs[:, 0] * POSE_SIZE - shift[1]) / scale
            out[i, :, 2] = yxs[:, 2]
        return out

    def __call__(self, rgb: np.ndarray) -> People:
        """The people in the frame: boxes above ``threshold`` whose pose has a mean keypoint score
        of at least ``min_pose_score``."""
        boxes, scores = self.boxes(rgb)
        kp = self.keypoints(rgb, boxes)
        keep = kp[:, :, 2].mean(1) >= self.min_pose_score
        return People(boxes[keep], scores[keep], kp[keep])


__all__ = ["People", "PeopleDetector", "box_iou", "non_max_suppression", "decode_heads", "tile_origins", "DETECTOR_NAME"]
