import csv
import json

import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.keypoints.formats import BODY25, COCO17, COCO18, MEDIAPIPE33
from poseda.keypoints.readers import read_keypoints
from tests.lift.helpers import STANDING, body25_from_h36m, coco_from_h36m, mediapipe_from_h36m, walking, write_coco


def test_coco_result_list_with_track_ids(tmp_path):
    poses = walking(4)
    det = read_keypoints(write_coco(tmp_path / "dets.json", np.concatenate([poses, poses + [0, 200]]),
                                    frames=[0, 1, 2, 3] * 2, ids=[7] * 4 + [9] * 4))
    assert det.fmt is COCO17 and det.file_format == "coco" and det.image_size is None
    assert len(det) == 8 and det.frame.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and det.person.tolist() == [7, 9] * 4
    np.testing.assert_allclose(det.keypoints[0], coco_from_h36m(poses[0]))


def test_coco_dataset_dict_gives_image_size_and_frame_numbers(tmp_path):
    kp = np.concatenate([coco_from_h36m(STANDING), 2 * np.ones((17, 1))], 1)
    kp[3] = 0  # COCO ground truth: v = 0 is "not labelled"
    obj = {"images": [{"id": "a", "file_name": "clip_000012.jpg", "width": 480, "height": 640}],
           "annotations": [{"image_id": "a", "category_id": 1, "keypoints": kp.reshape(-1).tolist()},
                           {"image_id": "a", "category_id": 2, "keypoints": [0] * 51}]}
    (tmp_path / "gt.json").write_text(json.dumps(obj))
    det = read_keypoints(tmp_path / "gt.json")
    assert len(det) == 1 and det.frame.tolist() == [12] and det.image_size == (480, 640)
    assert det.scores[0, 3] == 0 and det.scores[0, 0] == 2
    obj["images"].append({"id": "b", "file_name": "clip_000013.jpg", "width": 640, "height": 480})
    obj["annotations"].append(dict(obj["annotations"][0], image_id="b"))
    (tmp_path / "two.json").write_text(json.dumps(obj))
    with pytest.raises(PosedaInputError, match="one image size per file"):
        read_keypoints(tmp_path / "two.json")


def test_openpose_folder_body25_and_coco18(tmp_path):
    for f in range(3):
        people = []
        for k, shift in enumerate((0, 150)):
            kp = np.concatenate([body25_from_h36m(STANDING + shift + 2 * f), np.full((25, 1), 0.8)], 1)
            if f == 1 and k == 0:
                kp[4] = 0  # OpenPose writes (0, 0, 0) for a joint it missed
            people.append({"person_id": [-1], "pose_keypoints_2d": kp.reshape(-1).tolist()})
        (tmp_path / f"run_{f:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    det = read_keypoints(tmp_path)
    assert det.fmt is BODY25 and det.file_format == "openpose" and len(det) == 6
    assert det.frame.tolist() == [0, 0, 1, 1, 2, 2] and (det.person == -1).all()
    missed = (det.frame == 1) & np.isnan(det.keypoints[:, 4, 0])
    assert missed.sum() == 1 and det.scores[missed, 4] == 0
    kp18 = np.concatenate([np.ones((18, 2)) * 10, np.ones((18, 1))], 1)
    (tmp_path / "c18.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": kp18.reshape(-1).tolist()}]}))
    assert read_keypoints(tmp_path / "c18.json").fmt is COCO18


def test_mediapipe_json_normalised_to_pixels(tmp_path):
    lm = mediapipe_from_h36m(STANDING) / [480, 640]
    rows = np.concatenate([lm, np.zeros((33, 1)), np.full((33, 1), 0.9)], 1)
    doc = {"format": "mediapipe-pose-33", "image_size": [480, 640], "coordinates": "normalized",
           "frames": [{"frame": 0, "people": [{"id": 0, "landmarks": rows.tolist()}]}, {"frame": 1, "people": []}]}
    (tmp_path / "mp.json").write_text(json.dumps(doc))
    det = read_keypoints(tmp_path / "mp.json")
    assert det.fmt is MEDIAPIPE33 and det.image_size == (480, 640) and len(det) == 1
    np.testing.assert_allclose(det.keypoints[0], mediapipe_from_h36m(STANDING))
    np.testing.assert_allclose(det.scores[0], 0.9)


def test_arrays_npz_and_csv(tmp_path):
    poses = walking(5)
    np.savez(tmp_path / "a.npz", keypoints=poses, image_size=[480, 640])
    det = read_keypoints(tmp_path / "a.npz")
    assert det.fmt.name == "h36m17" and det.image_size == (480, 640) and det.frame.tolist() == list(range(5))
    np.testing.assert_allclose(det.keypoints, poses)
    two = np.stack([poses, poses + 100], 1)  # [T, P, J, 2]
    two[2, 1] = np.nan  # person 1 absent in frame 2
    sc = np.concatenate([two, np.full(two.shape[:3] + (1,), 0.7)], -1)
    np.savez(tmp_path / "b.npz", keypoints=sc)
    det = read_keypoints(tmp_path / "b.npz")
    assert len(det) == 9 and det.person.tolist().count(1) == 4 and np.allclose(det.scores, 0.7)
    coco = np.stack([coco_from_h36m(p) for p in poses])
    np.savez(tmp_path / "c.npz", keypoints=coco)
    assert read_keypoints(tmp_path / "c.npz", joints="coco17").fmt is COCO17
    with open(tmp_path / "k.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["frame", "person"] + [f"j{j}_{a}" for j in range(17) for a in "xy"])
        for t, p in enumerate(poses):
            w.writerow([10 + t, 3] + p.reshape(-1).tolist())
    det = read_keypoints(tmp_path / "k.csv")
    assert det.frame.tolist() == list(range(10, 15)) and (det.person == 3).all()
    np.testing.assert_allclose(det.keypoints, poses)


@pytest.mark.parametrize("name,content,needle", [
    ("empty.json", "", "is empty"),
    ("bad.json", "[{\"image_id\": 0,", "malformed JSON"),
    ("short.json", json.dumps([{"image_id": 0, "keypoints": [1.0] * 48}]), "has 48 values, expected 3 x 17 \\(COCO\\)"),
    ("other.json", json.dumps({"foo": 1}), "unknown keypoint JSON"),
    ("op.json", json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 60}]}), "has 60 values, expected 75"),
    ("mp.json", json.dumps({"format": "mediapipe-pose-33", "frames": []}), "need 'image_size'"),
    ("pose.txt", "1 2 3", "unknown keypoint file type '.txt'"),
    ("few.csv", "frame,x,y\n0,1,2\n", "has 2 value columns, expected 34 or 51"),
    ("nan.csv", "frame," + ",".join(f"c{i}" for i in range(34)) + "\n0," + ",".join(["abc"] * 34) + "\n", "non-numeric"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path, name, content, needle):
    (tmp_path / name).write_text(content)
    with pytest.raises(PosedaInputError, match=needle) as e:
        read_keypoints(tmp_path / name)
    assert name in str(e.value)


def test_bad_arrays_and_paths(tmp_path):
    np.savez(tmp_path / "j.npz", keypoints=np.zeros((4, 16, 2)))
    with pytest.raises(PosedaInputError, match="has 16 joints, expected 17"):
        read_keypoints(tmp_path / "j.npz")
    np.savez(tmp_path / "n.npz", other=np.zeros(3))
    with pytest.raises(PosedaInputError, match="has no 'keypoints'"):
        read_keypoints(tmp_path / "n.npz")
    with pytest.raises(PosedaInputError, match="does not exist"):
        read_keypoints(tmp_path / "missing.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PosedaInputError, match="no .json keypoint files"):
        read_keypoints(tmp_path / "empty")
    with pytest.raises(PosedaInputError, match="unknown format"):
        read_keypoints(tmp_path / "j.npz", file_format="yaml")
