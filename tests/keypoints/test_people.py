"""Every person in a frame (poseda.keypoints.people): the decoding, and the bundled models on real footage."""
import json
from pathlib import Path

import numpy as np
import pytest

from poseda.keypoints.people import (
    DETECTOR_SIZE,
    REG_BINS,
    STRIDES,
    PeopleDetector,
    box_iou,
    decode_heads,
    non_max_suppression,
    tile_origins,
)

cv2 = pytest.importorskip("cv2")
pytest.importorskip("onnxruntime")
BOXES = json.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "people_boxes.json").read_text())["clips"]


def test_iou_and_suppression_keep_the_best_of_overlapping_boxes():
    a = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 40]], np.float32)
    np.testing.assert_allclose(box_iou(a, a[:1])[:, 0], [1.0, 50 / 150, 0.0])
    keep = non_max_suppression(np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 40]], np.float32), np.array([0.5, 0.9, 0.7]))
    assert keep.tolist() == [1, 2]  # the weaker of the two overlapping boxes goes


def test_heads_decode_to_the_box_their_bins_say():
    """One cell of the stride-16 head sure of a person, its four sides peaked on bins 2, 3, 4, 5
    strides: the box is the cell's centre minus/plus those distances (softmax expectation)."""
    scores = [np.zeros(((DETECTOR_SIZE // s) ** 2, 80), np.float32) for s in STRIDES]
    regs = [np.zeros(((DETECTOR_SIZE // s) ** 2, 4 * REG_BINS), np.float32) for s in STRIDES]
    side = DETECTOR_SIZE // 16
    cell = 7 * side + 11  # row 7, column 11
    scores[1][cell, 0] = 0.9
    scores[1][cell + 1, 3] = 0.9  # another class: not a person
    logits = np.full((4, REG_BINS), -50.0, np.float32)
    logits[np.arange(4), [2, 3, 4, 5]] = 50.0
    regs[1][cell] = logits.reshape(-1)
    boxes, sc = decode_heads(scores, regs, 0.4)
    cx, cy = 11.5 * 16, 7.5 * 16
    np.testing.assert_allclose(boxes, [[cx - 32, cy - 48, cx + 64, cy + 80]], atol=1e-3)
    np.testing.assert_allclose(sc, [0.9])


def test_tiles_overlap_and_cover_the_frame():
    tiles = tile_origins(1920, 1080, 2)
    assert len(tiles) == 4
    covered = np.zeros((1080, 1920), bool)
    for x, y, w, h in tiles:
        covered[y:y + h, x:x + w] = True
    assert covered.all() and tiles[0][2] > 960 and tiles[0][3] > 540


def _frames(path, wanted):
    cap, out, k = cv2.VideoCapture(str(path)), {}, 0
    while len(out) < len(wanted):
        ok, bgr = cap.read()
        assert ok, f"{path} ends before frame {max(wanted)}"
        if k in wanted:
            out[k] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        k += 1
    return out


def test_finds_both_people_of_real_footage_with_their_keypoints_on_them(real_clip):
    """Sports2D's demo clip, frames where both people are in view (boxes drawn by hand in
    benchmarks/people_boxes.json): each is found (IoU >= 0.5), nothing else is, and at least 14 of
    each person's 17 keypoints lie inside their hand-drawn box."""
    spec = BOXES["sports2d_demo.mp4"]
    wanted = [51, 74, 189]
    frames = _frames(real_clip, set(wanted))
    find = PeopleDetector()
    for f in wanted:
        truth = np.array(spec["people"][str(f)], np.float32)
        p = find(frames[f])
        assert len(p) == len(truth), f"frame {f}: {len(p)} people found, {len(truth)} there"
        iou = box_iou(p.boxes, truth)
        assert (iou.max(0) >= 0.5).all(), f"frame {f}: {np.round(iou, 2)}"
        for i, j in enumerate(iou.argmax(1)):
            x0, y0, x1, y1 = truth[j] + [-10, -10, 10, 10]
            kp = p.keypoints[i]
            inside = (kp[:, 0] >= x0) & (kp[:, 0] <= x1) & (kp[:, 1] >= y0) & (kp[:, 1] <= y1)
            assert inside.sum() >= 14, f"frame {f}, person {i}: {inside.sum()} keypoints inside"


def test_a_stretched_frame_loses_the_people_of_a_wide_video(real_clip):
    """Why frames are letterboxed: squeezed into the square input, the same people score lower."""
    frame = _frames(real_clip, {74})[74]
    kept = PeopleDetector(threshold=0.2)._boxes_in(frame)[1].max()
    squeezed = PeopleDetector(threshold=0.2, fit="stretch")._boxes_in(frame)[1]
    assert kept > 0.6 and (squeezed.max() if len(squeezed) else 0.0) < kept - 0.2


def test_detect_writes_a_coco_file_that_lift_reads(real_clip, tmp_path):
    from poseda.keypoints.detect import detect_keypoints
    from poseda.keypoints.readers import read_keypoints

    n, found = detect_keypoints(real_clip, tmp_path / "kp.json", max_frames=8)
    assert (n, found) == (8, 8)
    doc = json.loads((tmp_path / "kp.json").read_text())
    assert doc["info"]["fps"] == 30 and doc["info"]["source"] == "sports2d_demo.mp4" and str(real_clip.parent) not in json.dumps(doc)
    assert [im["id"] for im in doc["images"]] == list(range(8)) and doc["categories"][0]["keypoints"][0] == "nose"
    det = read_keypoints(tmp_path / "kp.json")
    assert det.file_format == "coco" and det.image_size == (1768, 994) and sorted(set(det.frame.tolist())) == list(range(8))
    assert len(det) >= 8 and np.isfinite(det.keypoints).all()
    assert (det.person >= 0).all() and len(set(det.person[det.frame < 8].tolist())) == 1  # one man, one track id
