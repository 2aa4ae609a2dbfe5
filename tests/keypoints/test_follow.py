"""People followed over frames by place, motion and clothing colours (poseda.keypoints.follow)."""
import numpy as np
import pytest

from poseda.keypoints.follow import Follower, appearance, look_distance

cv2 = pytest.importorskip("cv2")

RED, BLUE, GREY, GREEN = (200, 30, 30), (30, 40, 200), (120, 120, 120), (30, 160, 40)


def _person(img, box, top, bottom):
    x0, y0, x1, y1 = box
    mid = (y0 + y1) // 2
    img[y0:mid, x0:x1] = top
    img[mid:y1, x0:x1] = bottom


def test_clothes_tell_people_apart():
    img = np.full((200, 300, 3), 90, np.uint8)
    boxes = np.array([[10, 20, 50, 180], [110, 20, 150, 180], [210, 20, 250, 180]], np.float32)
    for b, (top, bottom) in zip(boxes.astype(int), [(RED, BLUE), (RED, BLUE), (BLUE, RED)]):
        _person(img, b, top, bottom)
    looks = appearance(img, boxes)
    assert looks.shape == (3, 64) and np.allclose(looks.reshape(3, 2, 32).sum(-1), 1)
    d = look_distance(looks, looks)
    assert d[0, 1] < 0.05 and d[0, 2] > 0.9  # same clothes / shirt and trousers swapped


def test_two_people_walking_past_each_other_keep_their_ids():
    """Two people cross at 10 px a frame, the second nearer the camera (lower and in front): while
    it hides the first (boxes overlapping by IoU > 0.3) the detector sees only the front one.
    Motion and clothes keep each one's id through the crossing."""
    from poseda.keypoints.people import box_iou

    follow = Follower()
    seen = {0: set(), 1: set()}
    for f in range(30):
        img = np.full((220, 400, 3), 90, np.uint8)
        boxes = np.array([[50 + 10 * f, 20, 90 + 10 * f, 180], [340 - 10 * f, 40, 380 - 10 * f, 200]], np.float32)
        for who in (0, 1):  # the front person drawn last
            _person(img, boxes[who].astype(int), *[(RED, BLUE), (GREEN, GREY)][who])
        order = [1] if box_iou(boxes[:1], boxes[1:])[0, 0] > 0.3 else ([1, 0] if f % 2 else [0, 1])
        ids = follow(f, boxes[order], appearance(img, boxes[order]))
        for who, i in zip(order, ids):
            seen[who].add(int(i))
    assert [len(seen[0]), len(seen[1])] == [1, 1] and seen[0] != seen[1]


def test_a_person_hidden_for_a_while_gets_their_id_back_and_a_stranger_does_not():
    follow = Follower(max_gap=25)
    img = np.full((200, 400, 3), 90, np.uint8)
    box = np.array([[100, 20, 140, 180]], np.float32)
    _person(img, box[0].astype(int), RED, BLUE)
    first = follow(0, box, appearance(img, box))
    follow(1, box + [4, 0, 4, 0], appearance(img, box))
    back = box + [60, 0, 60, 0]  # 15 frames behind a sign, then 60 px on, as they were walking
    img2 = np.full((200, 400, 3), 90, np.uint8)
    _person(img2, back[0].astype(int), RED, BLUE)
    assert follow(16, back, appearance(img2, back))[0] == first[0]
    img3 = np.full((200, 400, 3), 90, np.uint8)
    _person(img3, (back[0] + [4, 0, 4, 0]).astype(int), GREEN, GREY)  # someone else where they were
    assert follow(17, back + [4, 0, 4, 0], appearance(img3, back + [4, 0, 4, 0]))[0] != first[0]


def test_a_frame_without_people_is_nothing_to_follow():
    follow = Follower()
    img = np.zeros((50, 50, 3), np.uint8)
    assert follow(0, np.zeros((0, 4), np.float32), appearance(img, np.zeros((0, 4)))).shape == (0,)
    box = np.array([[10, 10, 20, 40]], np.float32)
    assert follow(1, box, appearance(img, box)).tolist() == [0]
