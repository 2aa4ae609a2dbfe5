"""People followed from frame to frame by where they are going and what they wear.

:class:`Follower` gives each detection of :class:`~poseda.keypoints.people.PeopleDetector` a track
id while the video is read, when the pictures are still at hand: a track keeps its last box, the
velocity of the box's centre and size (smoothed), and the colours of its upper and lower body
(:func:`appearance`: hue-saturation histograms, smoothed). A frame's detections are matched to the
tracks seen in the last ``max_gap`` frames by the Hungarian method on

    cost = distance from the predicted centre / body height + |log of the height ratio|
           + APPEARANCE_WEIGHT * (1 - histogram intersection)

and a match must move less than ``max_move`` body heights (more after a gap) and look alike
(intersection distance under ``max_look``). Unmatched detections start tracks. The ids are written
into the keypoint file (COCO's ``track_id``), where the lift's tracker keeps them; a keypoint file
without ids is tracked by pose alone (:func:`poseda.keypoints.tracks.assign_ids`).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

#: hue x saturation bins of each body half's colour histogram
HUE_BINS, SAT_BINS = 8, 4
APPEARANCE_WEIGHT = 1.0


def appearance(rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """[N, 2 * HUE_BINS * SAT_BINS] colours of each box's upper (15-50% of its height) and lower
    (50-85%) body, the middle half of its width: a hue-saturation histogram per half, each summing
    to 1 (pixels too dark or too pale for a hue count in a grey bin's place: saturation bin 0)."""
    import cv2

    out = np.zeros((len(boxes), 2, HUE_BINS * SAT_BINS), np.float32)
    if not len(boxes):
        return out.reshape(0, 2 * HUE_BINS * SAT_BINS)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    h, w = rgb.shape[:2]
    for i, (x0, y0, x1, y1) in enumerate(boxes):  # a few crops per frame
        bw, bh = x1 - x0, y1 - y0
        xa, xb = int(np.clip(x0 + 0.25 * bw, 0, w - 1)), int(np.clip(x1 - 0.25 * bw, 1, w))
        for k, (a, b) in enumerate(((0.15, 0.5), (0.5, 0.85))):
            ya, yb = int(np.clip(y0 + a * bh, 0, h - 1)), int(np.clip(y0 + b * bh, 1, h))
            patch = hsv[ya:max(yb, ya + 1), xa:max(xb, xa + 1)].reshape(-1, 3).astype(np.int32)
            if not len(patch):
                continue
            sat = np.where(patch[:, 2] < 40, 0, np.minimum(patch[:, 1] * SAT_BINS // 256, SAT_BINS - 1))
            idx = np.minimum(patch[:, 0] * HUE_BINS // 180, HUE_BINS - 1) * SAT_BINS + sat
            hist = np.bincount(idx, minlength=HUE_BINS * SAT_BINS).astype(np.float32)
            out[i, k] = hist / hist.sum()
    return out.reshape(len(boxes), -1)


def look_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[A, D] x [B, D] appearances -> [A, B]: 1 - histogram intersection, averaged over the two
    body halves (0 identical colours, 1 nothing in common)."""
    halves = a.shape[-1] // (HUE_BINS * SAT_BINS)
    inter = np.minimum(a[:, None], b[None]).sum(-1) / max(halves, 1)
    return 1.0 - inter


class Follower:
    """Online track ids for the people of successive frames (``follower(frame, boxes, looks)``)."""

    def __init__(self, max_move: float = 0.6, max_look: float = 0.45, max_gap: int = 25):
        self.max_move, self.max_look, self.max_gap = max_move, max_look, max_gap
        self.box = np.zeros((0, 4))
        self.vel = np.zeros((0, 4))  # per frame: centre x, y, width, height
        self.look = np.zeros((0, 2 * HUE_BINS * SAT_BINS), np.float32)
        self.seen = np.zeros(0, np.int64)

    @staticmethod
    def _cwh(b: np.ndarray) -> np.ndarray:
        return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)

    def __call__(self, frame: int, boxes: np.ndarray, looks: np.ndarray) -> np.ndarray:
        """[N] ids of this frame's detections (boxes [N, 4] pixels, looks from :func:`appearance`)."""
        n = len(boxes)
        ids = np.full(n, -1, np.int64)
        det = self._cwh(np.asarray(boxes, np.float64).reshape(-1, 4))
        active = np.flatnonzero(frame - self.seen <= self.max_gap + 1)
        if n and len(active):
            gap = (frame - self.seen[active]).astype(np.float64)
            pred = self._cwh(self.box[active]) + self.vel[active] * np.minimum(gap, 5)[:, None]  # motion trusted 5 frames
            height = np.maximum(np.maximum(pred[:, 3:4], det[None, :, 3]), 1.0)
            move = np.linalg.norm(pred[:, None, :2] - det[None, :, :2], axis=-1) / height
            size = np.abs(np.log(np.maximum(det[None, :, 3], 1.0) / np.maximum(pred[:, None, 3], 1.0)))
            look = look_distance(self.look[active], looks)
            cost = move + size + APPEARANCE_WEIGHT * look
            allowed = (move < self.max_move * (1 + 0.1 * np.minimum(gap - 1, 10))[:, None]) & (look < self.max_look) & (size < 0.5)
            r, k = linear_sum_assignment(np.where(allowed, cost, 1e6))
            ok = allowed[r, k]
            t, d = active[r[ok]], k[ok]
            step = (det[d] - self._cwh(self.box[t])) / (frame - self.seen[t])[:, None]
            first = np.all(self.vel[t] == 0, axis=1, keepdims=True)
            self.vel[t] = np.where(first, step, 0.6 * self.vel[t] + 0.4 * step)
            self.box[t] = np.asarray(boxes, np.float64)[d]
            self.look[t] = 0.8 * self.look[t] + 0.2 * looks[d]
            self.seen[t] = frame
            ids[d] = t
        new = np.flatnonzero(ids < 0)
        ids[new] = len(self.seen) + np.arange(len(new))
        self.box = np.concatenate([self.box, np.asarray(boxes, np.float64).reshape(-1, 4)[new]])
        self.vel = np.concatenate([self.vel, np.zeros((len(new), 4))])
        self.look = np.concatenate([self.look, looks[new]])
        self.seen = np.concatenate([self.seen, np.full(len(new), frame)])
        return ids


__all__ = ["Follower", "appearance", "look_distance"]
