"""AlphaPose (Halpe-26 and whole-body sizes), MMPose prediction JSON and VideoPose3D's custom 2D
npz, written by hand in each tool's documented layout and read back."""
import json

import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.keypoints.formats import COCO17, HALPE26, keypoints_from_h36m
from poseda.keypoints.readers import read_keypoints
from poseda.skeleton.layouts import H36M17
from tests.lift.helpers import walking

LIMBS = H36M17.indices(["RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "LShoulder", "LElbow", "LWrist", "RShoulder",
                        "RElbow", "RWrist", "Pelvis", "Thorax", "Head"])


def _alphapose(path, poses, ids, extra_joints=0):
    dets = []
    for t, p in enumerate(poses):
        for pid, q in zip(ids, p):
            kp = np.concatenate([keypoints_from_h36m(HALPE26, q), np.full((26, 1), 0.8)], 1)
            kp = np.concatenate([kp, np.zeros((extra_joints, 3))])
            dets.append({"image_id": f"{t}.jpg", "category_id": 1, "keypoints": kp.reshape(-1).tolist(), "score": 2.1,
                         "box": [0, 0, 10, 10], "idx": [pid]})
    path.write_text(json.dumps(dets))
    return path


def test_alphapose_halpe26_two_people_with_ids(tmp_path):
    a, b = walking(6), walking(6, start=(200, 0))
    det = read_keypoints(_alphapose(tmp_path / "alphapose-results.json", np.stack([a, b], 1), [3, 7]))
    assert det.fmt is HALPE26 and det.file_format == "coco" and len(det) == 12
    assert sorted(set(det.person.tolist())) == [3, 7] and det.frame.max() == 5
    kp, sc = det.fmt.to_layout(det.keypoints, det.scores)
    truth = np.where(det.person[:, None, None] == 3, a[det.frame], b[det.frame])
    assert np.abs(kp[:, LIMBS] - truth[:, LIMBS]).max() < 1e-9  # Head is Halpe's head point, Thorax its neck
    assert np.allclose(sc, 0.8)


def test_whole_body_sizes_use_their_body_keypoints(tmp_path):
    det = read_keypoints(_alphapose(tmp_path / "h136.json", walking(3)[:, None], [0], extra_joints=110))
    assert det.fmt is HALPE26 and det.keypoints.shape == (3, 26, 2)
    p = walking(2)
    coco = np.concatenate([keypoints_from_h36m(COCO17, p), np.ones((2, 17, 1))], 2)
    wb = np.concatenate([coco, np.ones((2, 116, 3))], 1)  # COCO-WholeBody: body, feet, face, hands
    (tmp_path / "wb.json").write_text(json.dumps([{"image_id": t, "keypoints": wb[t].reshape(-1).tolist()} for t in range(2)]))
    det = read_keypoints(tmp_path / "wb.json")
    assert det.fmt is COCO17 and np.allclose(det.keypoints, coco[..., :2])
    (tmp_path / "odd.json").write_text(json.dumps([{"image_id": 0, "keypoints": [1.0] * 60}]))
    with pytest.raises(PosedaInputError, match="60 values"):
        read_keypoints(tmp_path / "odd.json")


def _mmpose_instances(p, score=0.9, track=None):
    inst = {"keypoints": keypoints_from_h36m(COCO17, p).tolist(), "keypoint_scores": [score] * 17, "bbox": [[0, 0, 9, 9]],
            "bbox_score": 0.99}
    if track is not None:
        inst["track_id"] = track
    return inst


def test_mmpose_video_predictions(tmp_path):
    a, b = walking(5), walking(5, start=(220, 0))
    doc = {"meta_info": {"dataset_name": "coco", "num_keypoints": 17},
           "instance_info": [{"frame_id": t + 1, "instances": [_mmpose_instances(a[t], track=0), _mmpose_instances(b[t], track=1)]}
                             for t in range(5)]}
    (tmp_path / "results_clip.json").write_text(json.dumps(doc))
    det = read_keypoints(tmp_path / "results_clip.json")
    assert det.file_format == "mmpose" and det.fmt is COCO17 and len(det) == 10
    assert det.frame.min() == 1 and sorted(set(det.person.tolist())) == [0, 1]
    (tmp_path / "bare.json").write_text(json.dumps(doc["instance_info"]))
    assert len(read_keypoints(tmp_path / "bare.json", "mmpose")) == 10
    (tmp_path / "img_000042.json").write_text(json.dumps([_mmpose_instances(a[0])]))  # one image: a list of instances
    det = read_keypoints(tmp_path / "img_000042.json")
    assert det.frame.tolist() == [42] and (det.person == -1).all()


@pytest.mark.parametrize("instance, message", [
    ({"keypoints": [[1, 2]] * 16, "keypoint_scores": [1] * 16}, "shape \\[16, 2\\]"),
    ({"keypoints": [[1, 2]] * 17, "keypoint_scores": [1] * 3}, "3 values for 17"),
    ({"keypoint_scores": [1] * 17}, "no 'keypoints'"),
    ({"keypoints": "x" * 17}, "must be numbers|shape"),
])
def test_malformed_mmpose_is_one_line(tmp_path, instance, message):
    (tmp_path / "m.json").write_text(json.dumps([{"frame_id": 0, "instances": [instance]}]))
    with pytest.raises(PosedaInputError, match=message):
        read_keypoints(tmp_path / "m.json")


def _vp3d(path, videos, layout="coco", size=(480, 640)):
    pos = {v: {"custom": [keypoints_from_h36m(COCO17, walking(n)).astype(np.float32)]} for v, n in videos.items()}
    meta = {"layout_name": layout, "num_joints": 17, "keypoints_symmetry": [[1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]],
            "video_metadata": {v: {"w": size[0], "h": size[1]} for v in videos}}
    np.savez_compressed(path, positions_2d=pos, metadata=meta)
    return path


def test_videopose3d_custom_npz(tmp_path):
    det = read_keypoints(_vp3d(tmp_path / "data_2d_custom_myvideos.npz", {"clip.mp4": 8}))
    assert det.file_format == "videopose3d" and det.fmt is COCO17 and det.image_size == (480, 640)
    assert det.frame.tolist() == list(range(8)) and np.allclose(det.keypoints, keypoints_from_h36m(COCO17, walking(8)), atol=1e-4)
    with pytest.raises(PosedaInputError, match="holds 2 videos"):
        read_keypoints(_vp3d(tmp_path / "two.npz", {"a.mp4": 3, "b.mp4": 3}))
    with pytest.raises(PosedaInputError, match="'coco' layout"):
        read_keypoints(_vp3d(tmp_path / "h36m.npz", {"a.mp4": 3}, layout="h36m"))
    np.savez(tmp_path / "bad.npz", positions_2d={"a": {"custom": [np.zeros((3, 16, 2))]}}, metadata={"layout_name": "coco"})
    with pytest.raises(PosedaInputError, match="expected \\[frames, 17, 2\\]"):
        read_keypoints(tmp_path / "bad.npz")
    np.savez(tmp_path / "evil.npz", positions_2d=np.array([print], dtype=object), metadata={"layout_name": "coco"})
    with pytest.raises(PosedaInputError, match="positions_2d|refusing"):
        read_keypoints(tmp_path / "evil.npz")
