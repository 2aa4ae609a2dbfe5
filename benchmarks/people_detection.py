"""Finding every person in real footage: recall, precision and speed of ``poseda detect``'s
detectors against people boxed by hand (``benchmarks/people_boxes.json``: 43 frames of three real
clips that Debian and PyPI packages ship; where to get each, and its licence, are in that file).

    python benchmarks/people_detection.py --footage DIR            # DIR holds the three clips
    python benchmarks/people_detection.py --footage DIR --ids ids.png  # also: the tracks drawn, for counting switches

A detection counts as a person found when its box overlaps a hand-drawn one by IoU >= 0.5 (each
hand-drawn box found at most once, detections taken by falling score); a detection that covers
an *ignore* box (a person less than half visible) by more than half of its own area counts neither
way; every other detection is a false one. Speed: the whole detector (boxes and keypoints, 2
threads) on vtest's frames scaled to 1280 x 720 (each holds up to 9 people), median of ``--repeats``
passes, and the people per frame it found.

Identity over time: ``poseda detect`` over every frame of ``vtest.avi`` (the detector and its
follower, ``poseda.keypoints.follow``), and the same detections tracked by pose alone
(``poseda.keypoints.tracks.assign_ids``, what a file without ids gets); the script prints the tracks'
lengths and the broken tracks, split into those after frames where the detector missed the person
(the detector's share) and those while it found them (the tracker's). ``--ids out.png`` draws the
follower's ids on frames 100-336, every 4th, four to a sheet (``out-00.png``...), on which identity
switches were counted by eye (docs: Results).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from poseda.keypoints.people import PeopleDetector, box_iou  # noqa: E402

BOXES = Path(__file__).resolve().parent / "people_boxes.json"


def read_frames(path: Path, wanted: set[int] | None = None) -> dict[int, np.ndarray]:
    """RGB frames of a video by number (all, or only ``wanted``)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        sys.exit(f"{path}: cannot be opened as a video (see {BOXES.name} for where to get it)")
    out, k = {}, 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if wanted is None or k in wanted:
            out[k] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        k += 1
    cap.release()
    return out


def match(boxes: np.ndarray, scores: np.ndarray, truth: np.ndarray, ignore: np.ndarray) -> tuple[int, int, int]:
    """(found, false, missed) for one frame."""
    order = np.argsort(-scores)
    iou = box_iou(boxes[order], truth) if len(truth) else np.zeros((len(order), 0))
    used = np.zeros(len(truth), bool)
    found = false = 0
    for i, b in enumerate(boxes[order]):
        cand = np.where(used, -1, iou[i]) if len(truth) else np.zeros(0)
        if len(cand) and cand.max() >= 0.5:
            used[cand.argmax()] = True
            found += 1
            continue
        if len(ignore):
            lo, hi = np.maximum(b[:2], ignore[:, :2]), np.minimum(b[2:], ignore[:, 2:])
            inter = np.prod(np.clip(hi - lo, 0, None), -1)
            if (inter > 0.5 * np.prod(b[2:] - b[:2])).any():
                continue
        false += 1
    return found, false, int((~used).sum())


def mediapipe_boxes(max_people: int):
    """Today's MediaPipe search (``--detector mediapipe``) as boxes around its landmarks."""
    import mediapipe as mp

    from poseda.keypoints.detect import _box, _people, _quiet_native_stderr

    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, min_detection_confidence=0.5)

    def run(rgb):
        h, w = rgb.shape[:2]
        with _quiet_native_stderr():
            people = _people(pose, rgb, max_people, max_people)
        boxes = np.array([_box(lm, w, h, grow=0.05) for lm in people], np.float32).reshape(-1, 4)
        return boxes, np.ones(len(boxes), np.float32)
    return run


def evaluate(name: str, find, clips: dict, footage: Path) -> dict:
    rows = {}
    for clip, spec in clips.items():
        frames = read_frames(footage / clip, {int(f) for f in spec["people"]})
        tot = np.zeros(3, int)
        for f, people in spec["people"].items():
            boxes, scores = find(frames[int(f)])
            tot += match(boxes, scores, np.array(people, np.float32).reshape(-1, 4),
                         np.array(spec["ignore"].get(f, []), np.float32).reshape(-1, 4))
        rows[clip] = tot
    allc = sum(rows.values())
    for clip, (tp, fp, fn) in list(rows.items()) + [("all", allc)]:
        print(f"{name:44s} {clip:32s} people {tp + fn:4d} found {tp:4d} false {fp:3d}  recall {tp / max(1, tp + fn):.3f}  "
              f"precision {tp / max(1, tp + fp):.3f}", flush=True)
    return rows


def speed(find_all, frames: list[np.ndarray], repeats: int) -> tuple[float, float]:
    import cv2

    big = [cv2.resize(f, (1280, 720), interpolation=cv2.INTER_LINEAR) for f in frames]
    find_all(big[0])
    runs, people = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        people = sum(len(find_all(f)) for f in big)
        runs.append(len(big) / (time.perf_counter() - t))
    return statistics.median(runs), people / len(big)


def identity_report(footage: Path, out_png: Path | None, clip: str, spec: dict) -> None:
    """Track ids over the whole clip; the tracks' lengths; the detector's and the tracker's share
    of new tracks; optionally a sheet of the ids around each annotated frame."""
    import tempfile

    import cv2

    from poseda.keypoints.detect import detect_keypoints
    from poseda.keypoints.readers import Detections, read_keypoints
    from poseda.keypoints.tracks import assign_ids

    frames = read_frames(footage / clip)
    with tempfile.TemporaryDirectory() as tmp:  # the path 'poseda demo' takes: the file written, read back, tracked
        detect_keypoints(footage / clip, Path(tmp) / "kp.json")
        det = read_keypoints(Path(tmp) / "kp.json")
    boxes = np.concatenate([det.keypoints.min(1), det.keypoints.max(1)], 1)  # the keypoints' extent
    n_frames = len(frames)
    minutes = sum(len(v) for v in spec["people"].values()) / len(spec["people"]) * n_frames / spec["fps"] / 60
    pose_only = Detections(det.frame, np.full(len(det), -1), det.keypoints, det.scores, det.fmt, det.image_size, clip, "coco")
    for name, ids in (("follower (place, motion, clothes; the default)", det.person), ("pose only (a file without ids)", assign_ids(pose_only))):
        tracks = {t: np.flatnonzero(ids == t) for t in np.unique(ids)}
        lengths = np.array([det.frame[r[-1]] - det.frame[r[0]] + 1 for r in tracks.values()])
        # a track that begins where another ended shortly before, near the same place: a break of one
        # person's track. Its cause: the detector (frames in between without any detection there) or
        # the tracker (the person was detected in every frame, yet got a new id)
        breaks = detector_share = 0
        ends = {t: (det.frame[r[-1]], boxes[r[-1]]) for t, r in tracks.items()}
        for t, r in tracks.items():
            f0, b0 = det.frame[r[0]], boxes[r[0]]
            if f0 == 0:
                continue
            near = [u for u, (fe, be) in ends.items() if u != t and 0 <= f0 - fe <= 11 and box_iou(b0[None], be[None])[0, 0] > 0.2]
            if near:
                breaks += 1
                detector_share += (f0 - max(ends[u][0] for u in near)) > 1
        print(f"tracks over {clip}, {name}: {len(tracks)} ({np.median(lengths):.0f} frames median, {int((lengths >= 50).sum())} "
              f"of 50 frames or more); broken tracks (a new id where one ended up to 1.1 s before, overlapping it): {breaks}, "
              f"{detector_share} after frames where the detector missed the person, {breaks - detector_share} while it "
              f"found them (the tracker); about {minutes:.1f} person-minutes")
    ids = det.person
    if out_png is not None:  # frames 100-336, every 4th (0.4 s apart), 4 to a sheet: what the switches were counted on
        palette = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255), (0, 255, 255), (255, 128, 0),
                   (128, 0, 255), (0, 128, 255), (255, 255, 255)]
        tiles = []
        for f in range(100, 340, 4):
            img = cv2.cvtColor(frames[f], cv2.COLOR_RGB2BGR)
            for r in np.flatnonzero(det.frame == f):
                x0, y0, x1, y1 = boxes[r].astype(int)
                c = palette[ids[r] % len(palette)]
                cv2.rectangle(img, (x0, y0), (x1, y1), c, 2)
                cv2.putText(img, str(ids[r]), (x0, max(20, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.9, c, 2)
            img = np.ascontiguousarray(img[40:400])
            cv2.putText(img, f"f{f}", (10, 350), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 255), 3)
            tiles.append(img)
        for k in range(0, len(tiles), 4):
            t = tiles[k:k + 4]
            cv2.imwrite(str(out_png.with_name(f"{out_png.stem}-{k // 4:02d}{out_png.suffix}")),
                        np.concatenate([np.concatenate(t[:2], 1), np.concatenate(t[2:], 1)], 0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--footage", type=Path, required=True, help="folder with the clips named in people_boxes.json")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mediapipe", action="store_true", help="also today's MediaPipe search (slow)")
    ap.add_argument("--skip", default="", help="comma-separated: accuracy,speed (parts not to run)")
    ap.add_argument("--ids", type=Path, default=None, help="write a sheet of track ids on vtest's annotated frames")
    args = ap.parse_args()
    clips = json.loads(BOXES.read_text())["clips"]
    variants = {  # name: (detector, judged on its boxes alone or on the people it returns)
        "people: box 0.35, pose 0.3 (default)": (PeopleDetector(threads=2), True),
        "people: box 0.3, pose 0.3": (PeopleDetector(threshold=0.3, threads=2), True),
        "people: box 0.4, pose 0.3": (PeopleDetector(threshold=0.4, threads=2), True),
        "people: box 0.4, no pose check": (PeopleDetector(threshold=0.4, threads=2), False),
        "people: box 0.5, no pose check": (PeopleDetector(threshold=0.5, threads=2), False),
        "people: stretched frame, box 0.35, pose 0.3": (PeopleDetector(fit="stretch", threads=2), True),
        "people: + 2x2 tiles, box 0.35, pose 0.3": (PeopleDetector(tiles=2, threads=2), True),
    }
    for name, (d, pose) in variants.items():
        if "accuracy" not in args.skip:
            evaluate(name, (lambda im, d=d: (lambda p: (p.boxes, p.scores))(d(im))) if pose else d.boxes, clips, args.footage)
    if args.mediapipe:
        evaluate("mediapipe search (max 8 people)", mediapipe_boxes(8), clips, args.footage)
    vt = clips["vtest.avi"]
    by_number = read_frames(args.footage / "vtest.avi", {int(f) for f in vt["people"]})
    frames = list(by_number.values())
    crowded = [by_number[int(f)] for f, people in vt["people"].items() if len(people) >= 8]  # 8 or 9 people boxed by hand
    for name, (d, _) in variants.items() if "speed" not in args.skip else ():
        fps, per = speed(lambda im, d=d: d(im).scores, frames, args.repeats)
        print(f"speed, 1280x720, 2 threads: {name:36s} {fps:5.1f} frames/s ({per:.1f} people per frame, boxes + keypoints)")
        fps, per = speed(lambda im, d=d: d(im).scores, crowded * 4, args.repeats)
        print(f"speed, 1280x720, 2 threads, the {len(crowded)} frames with 8-9 people: {name:36s} {fps:5.1f} frames/s "
              f"({per:.1f} people per frame found)")
    if args.mediapipe:
        mp_find = mediapipe_boxes(8)
        fps, per = speed(lambda im: mp_find(im)[1], frames[:6], 1)
        print(f"speed, 1280x720: mediapipe search (max 8) {fps:5.1f} frames/s ({per:.1f} people per frame)")
    identity_report(args.footage, args.ids, "vtest.avi", vt)


if __name__ == "__main__":
    main()
