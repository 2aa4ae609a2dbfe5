"""People tracked over frames, and missing joints filled in (and reported).

- Ids the file carries (OpenPose ``person_id``, COCO ``track_id`` / AlphaPose ``idx``, array
  columns) are kept. Without ids, a frame with one person continues the single track; with
  several people, detections are matched to the tracks of the previous frames by the Hungarian
  method on their mean joint distance, from where each track's pose is predicted to be (moved on
  by its velocity), relative to the track's size (a match must cost less than ``max_dist`` body
  sizes); unmatched detections start new tracks and a track unseen for more than
  ``max_gap`` frames ends. A file that holds every n-th frame only (frame numbers with a common
  step, as a detector run with a stride writes) is tracked in steps of n.
- A track is a dense run of frames. A joint whose score is below ``min_score`` (or that is absent)
  is *missing*; missing joints, and frames inside a track where the person was not detected, are
  filled by linear interpolation in time between the nearest confident observations, held
  constant beyond the first and last. Every filled value is flagged in the output. A joint never
  above ``min_score`` in a track is taken from its own low-confidence detections (up to
  :data:`MAX_WEAK_JOINTS` such joints, reported); one never detected at all, or more such joints,
  drop the track (reported).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from poseda.errors import PosedaInputError
from poseda.keypoints.options import check_track_options
from poseda.keypoints.readers import Detections
from poseda.skeleton.layouts import JointLayout

#: added to a track's matching cost per frame it has not been seen (a fraction of a body size)
STALE_COST = 0.05  # frames a person may be missing inside one track
#: joints a track may have below ``min_score`` in every frame and still be kept, their
#: low-confidence positions used (small, distant people: wrists are rarely sure)
MAX_WEAK_JOINTS = 4
MAX_TRACK_VALUES = 2 * 10**8  # frames x joints of all tracks together (about 3 GB of pixels, flags and scores)


@dataclass
class Track:
    id: int
    frames: np.ndarray  # [T] consecutive frame numbers
    keypoints: np.ndarray  # [T, J, 2] pixels in the lifter's layout, filled
    scores: np.ndarray  # [T, J] converted scores (0 where missing)
    filled: np.ndarray  # [T, J] bool: interpolated or held, not observed
    detected: np.ndarray  # [T] bool: the person was detected in this frame
    segment: int = 0  # parts of one id separated by a gap longer than max_gap


@dataclass
class TrackReport:
    tracks: int = 0
    frames: int = 0
    filled_per_joint: dict[str, int] = field(default_factory=dict)
    undetected_frames: int = 0
    dropped: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)  # tracks kept with joints never above min_score
    step: int = 1  # the file holds every step-th frame

    def lines(self, done: str = "lifted") -> list[str]:
        out = [f"{self.tracks} track(s), {self.frames} frame(s) {done}"
               + (f" (the file holds one frame in {self.step}: temporal windows step by {self.step} frames)" if self.step > 1 else "")]
        if self.undetected_frames:
            out.append(f"{self.undetected_frames} frame(s) inside tracks without a detection: interpolated")
        filled = {k: v for k, v in self.filled_per_joint.items() if v}
        if filled:
            total = self.frames or 1
            out.append("missing or low-confidence joints filled in time: " +
                       ", ".join(f"{k} {v} ({100 * v / total:.1f}%)" for k, v in sorted(filled.items(), key=lambda kv: -kv[1])))
        out += [f"low confidence kept: {w}" for w in self.weak]
        out += [f"dropped: {d}" for d in self.dropped]
        return out


def _pose_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[A, J, 2] x [B, J, 2] -> [A, B] mean distance over the joints both have, relative to
    the size of a (mean of its box width and height)."""
    d = np.linalg.norm(a[:, None] - b[None], axis=-1)  # [A, B, J]
    both = np.isfinite(d)
    mean = np.where(both, d, 0).sum(-1) / np.maximum(both.sum(-1), 1)
    ext = np.nanmax(a, 1) - np.nanmin(a, 1)
    size = np.maximum(np.nan_to_num(ext.mean(-1), nan=1.0), 1.0)
    return np.where(both.any(-1), mean / size[:, None], np.inf)


def assign_ids(det: Detections, max_dist: float = 0.5, max_gap: int = 10) -> np.ndarray:
    """[N] track id per detection (the file's ids when every row has one).

    Each track keeps its last pose and its velocity (the mean joint step per frame, smoothed); a
    frame's detections are matched to the tracks seen within ``max_gap`` frames by the Hungarian
    method on :func:`_pose_distance` from the pose moved on by the velocity to this frame (people
    walking past each other stay apart), and a match must cost less than ``max_dist``. Unmatched
    detections start new tracks."""
    if len(det) == 0 or (det.person >= 0).all():
        return det.person.copy()
    frames, starts = np.unique(det.frame, return_index=True)
    counts = np.diff(np.append(starts, len(det)))
    if counts.max() == 1:
        return np.zeros(len(det), np.int64)
    ids = np.full(len(det), -1, np.int64)
    last_pose: list[np.ndarray] = []
    velocity: list[np.ndarray] = []  # pixels per frame, [2]
    last_seen: list[int] = []
    for f, s, c in zip(frames, starts, counts):
        rows = np.arange(s, s + c)
        active = [t for t in range(len(last_pose)) if f - last_seen[t] <= max_gap + 1]
        matched = set()
        if active:
            predicted = np.stack([last_pose[t] + velocity[t] * (f - last_seen[t]) for t in active])
            cost = _pose_distance(predicted, det.keypoints[rows])
            # choosing between tracks, one matched in the previous frame wins over one that lost
            # the person for a while; whether a match is close enough is the distance alone
            stale = STALE_COST * (f - np.array([last_seen[t] for t in active]) - 1)[:, None]
            r, k = linear_sum_assignment(np.where(np.isfinite(cost), cost + stale, 1e9))
            for ti, di in zip(r, k):
                if cost[ti, di] < max_dist:
                    t = active[ti]
                    pose = det.keypoints[rows[di]]
                    both = np.isfinite(pose).all(-1) & np.isfinite(last_pose[t]).all(-1)
                    if both.any():
                        step = (pose[both] - last_pose[t][both]).mean(0) / (f - last_seen[t])
                        velocity[t] = 0.5 * velocity[t] + 0.5 * step
                    ids[rows[di]] = t
                    last_pose[t] = np.where(np.isfinite(pose), pose, last_pose[t])
                    last_seen[t] = f
                    matched.add(di)
        for di in range(c):
            if di not in matched:
                ids[rows[di]] = len(last_pose)
                last_pose.append(det.keypoints[rows[di]].copy())
                velocity.append(np.zeros(2))
                last_seen.append(f)
    return ids


def fill_missing(keypoints: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation in time of the invalid entries of [T, J, 2] (held beyond the ends),
    batched over joints. Returns (filled keypoints, [J] bool: joint seen at least once)."""
    t_len = keypoints.shape[0]
    t = np.arange(t_len)[:, None]
    prev = np.maximum.accumulate(np.where(valid, t, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(valid, t, t_len)[::-1], axis=0)[::-1]
    has_p, has_n = prev >= 0, nxt < t_len
    p, n = np.clip(prev, 0, t_len - 1), np.clip(nxt, 0, t_len - 1)
    kp_p = np.take_along_axis(keypoints, p[..., None], 0)
    kp_n = np.take_along_axis(keypoints, n[..., None], 0)
    w = np.where(has_p & has_n, (t - prev) / np.maximum(nxt - prev, 1), np.where(has_p, 0.0, 1.0))[..., None]
    out = (1 - w) * np.nan_to_num(kp_p) + w * np.nan_to_num(kp_n)
    out = np.where(valid[..., None], keypoints, out)
    return out, valid.any(0)


def build_tracks(det: Detections, layout: JointLayout, min_score: float = 0.3, max_dist: float = 0.5,
                 max_gap: int = 10, min_frames: int = 1) -> tuple[list[Track], TrackReport]:
    """Detections -> tracks in the lifter's ``layout`` with filled joints, and what was done."""
    check_track_options(min_score, max_gap, min_frames)
    ids = assign_ids(det, max_dist, max_gap)
    kp, sc = det.fmt.to_layout(det.keypoints, det.scores, layout)
    rep = TrackReport(filled_per_joint={n: 0 for n in layout.joints})
    # files that keep every n-th frame (a detector run with a stride): a track steps by n
    uniq = np.unique(det.frame)
    step = int(np.gcd.reduce(np.diff(uniq))) if len(uniq) > 1 else 1
    rep.step = step
    # a track is split where the person is gone for longer than max_gap (sampled) frames
    segments = []  # (id, part, rows, split at all)
    for tid in np.unique(ids):
        rows = np.flatnonzero(ids == tid)
        cuts = np.flatnonzero(np.diff(det.frame[rows]) > (max_gap + 1) * step) + 1
        segments += [(tid, part, seg, len(cuts) > 0) for part, seg in enumerate(np.split(rows, cuts))]
    span = sum(int(det.frame[seg[-1]] - det.frame[seg[0]]) // step + 1 for _, _, seg, _ in segments)
    if span * layout.num_joints > MAX_TRACK_VALUES:  # counted before any array is made
        raise PosedaInputError(det.source, f"its tracks would span {span:,} frames (the frame numbers leave gaps that "
                                           f"--max-gap {max_gap} fills): more than {MAX_TRACK_VALUES // layout.num_joints:,}")
    tracks = []
    for tid, part, seg, split in segments:
        f0, f1 = det.frame[seg[0]], det.frame[seg[-1]]
        t_len = (f1 - f0) // step + 1
        name = f"track {tid}" + (f" part {part}" if split else "") + f" (frames {f0}-{f1})"
        if t_len < min_frames:
            rep.dropped.append(f"{name}: shorter than {min_frames} frames")
            continue
        pos = (det.frame[seg] - f0) // step
        dense = np.full((t_len, layout.num_joints, 2), np.nan)
        dsc = np.zeros((t_len, layout.num_joints))
        dense[pos], dsc[pos] = kp[seg], sc[seg]
        detected = np.zeros(t_len, bool)
        detected[pos] = True
        valid = (dsc >= min_score) & np.isfinite(dense).all(-1)
        filled_kp, seen = fill_missing(dense, valid)
        if not seen.all():
            # a joint never above min_score but detected with some confidence: its own positions
            # are better than no person, when few joints are like that (MAX_WEAK_JOINTS)
            weak = (dsc > 0) & np.isfinite(dense).all(-1)
            rescue = ~seen & weak.any(0)
            if (~seen & ~rescue).any() or rescue.sum() > MAX_WEAK_JOINTS:
                never = [layout.joints[j] for j in np.flatnonzero(~seen)]
                rep.dropped.append(f"{name}: {', '.join(never)} never detected with score >= {min_score}")
                continue
            filled_kp, _ = fill_missing(dense, valid | (weak & rescue))
            rep.weak.append(f"{name}: {', '.join(layout.joints[j] for j in np.flatnonzero(rescue))} below score "
                            f"{min_score} in every frame, their own positions used")
        filled = ~valid
        tracks.append(Track(int(tid), np.arange(f0, f1 + 1, step), filled_kp, dsc, filled, detected, part))
        rep.frames += t_len
        rep.undetected_frames += int((~detected).sum())
        for j, n in enumerate(layout.joints):
            rep.filled_per_joint[n] += int(filled[detected, j].sum())
    rep.tracks = len(tracks)
    return tracks, rep
