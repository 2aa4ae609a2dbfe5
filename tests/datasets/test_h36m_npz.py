"""VideoPose3D Human3.6M npz readers, on small files written here in the documented layout."""
import os

import numpy as np
import pytest

from poseda.datasets.h36m_npz import CAMERAS, INDICES_17_OF_32, KEYPOINTS_SYMMETRY, read_h36m_2d, read_h36m_3d, trim_2d_to_3d
from poseda.errors import PosedaInputError

META = {"layout_name": "h36m", "num_joints": 17, "keypoints_symmetry": [list(s) for s in KEYPOINTS_SYMMETRY]}


def _obj(d):
    a = np.empty((), dtype=object)
    a[()] = d
    return a


def _raw3d(t, seed):
    # joint j at frame f: x = j, y = f, z = seed, so every value says where it came from
    a = np.zeros((t, 32, 3))
    a[..., 0] = np.arange(32)
    a[..., 1] = np.arange(t)[:, None]
    a[..., 2] = seed
    return a


def _write3d(path, d):
    np.savez(path, positions_3d=_obj(d))
    return path


def _write2d(path, d, meta=META):
    np.savez(path, positions_2d=_obj(d), metadata=_obj(meta))
    return path


def _views(t, seed):
    return [np.full((t, 17, 2), seed * 10 + c, dtype=np.float32) + np.arange(17)[:, None] for c in range(4)]


def test_read_3d_maps_32_to_canonical(tmp_path):
    p = _write3d(tmp_path / "data_3d_h36m.npz", {"S1": {"Walking 1": _raw3d(5, 1), "Eating": _raw3d(3, 2)},
                                                  "S9": {"Posing": _raw3d(4, 9)}})
    d = read_h36m_3d(p)
    assert sorted(d) == ["S1", "S9"] and sorted(d["S1"]) == ["Eating", "Walking 1"]
    a = d["S1"]["Walking 1"]
    assert a.shape == (5, 17, 3) and a.dtype == np.float64
    np.testing.assert_array_equal(a[0, :, 0], INDICES_17_OF_32)
    np.testing.assert_array_equal(a[:, 0, 1], np.arange(5))
    assert (d["S9"]["Posing"][..., 2] == 9).all()
    assert INDICES_17_OF_32 == (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


def test_read_2d_and_metadata(tmp_path):
    p = _write2d(tmp_path / "data_2d_h36m_gt.npz", {"S1": {"Walking 1": _views(5, 1)}})
    pos, meta = read_h36m_2d(p)
    assert meta["layout_name"] == "h36m" and meta["num_joints"] == 17
    assert meta["keypoints_symmetry"] == [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]
    views = pos["S1"]["Walking 1"]
    assert len(views) == len(CAMERAS) == 4
    for c, v in enumerate(views):
        assert v.shape == (5, 17, 2)
        np.testing.assert_array_equal(v[2, :, 0], 10 + c + np.arange(17))
    # VideoPose3D's prepare_data_h36m.py writes its ground-truth file's metadata without layout_name
    plain = {"num_joints": 17, "keypoints_symmetry": META["keypoints_symmetry"]}
    _, meta = read_h36m_2d(_write2d(tmp_path / "vp3d_gt.npz", {"S1": {"Walking 1": _views(5, 1)}}, plain))
    assert meta["num_joints"] == 17 and "layout_name" not in meta


def test_trim_2d_to_3d_reports_cuts(tmp_path):
    d3 = read_h36m_3d(_write3d(tmp_path / "a.npz", {"S1": {"Walking 1": _raw3d(5, 1), "Eating": _raw3d(3, 1)}}))
    views = _views(5, 1)
    views[2] = np.concatenate([views[2], views[2][:2]])  # 7 frames for one camera
    d2, _ = read_h36m_2d(_write2d(tmp_path / "b.npz", {"S1": {"Walking 1": views, "Eating": _views(3, 1),
                                                              "Extra": _views(2, 1)}}))
    out, cuts = trim_2d_to_3d(d3, d2)
    assert [len(v) for v in out["S1"]["Walking 1"]] == [5, 5, 5, 5]
    assert "Extra" not in out["S1"]
    assert len(cuts) == 1 and (cuts[0].subject, cuts[0].action, cuts[0].camera) == ("S1", "Walking 1", CAMERAS[2])
    assert (cuts[0].frames_2d, cuts[0].frames_3d) == (7, 5)
    short = {"S1": {"Walking 1": _views(4, 1), "Eating": _views(3, 1)}}
    with pytest.raises(PosedaInputError, match="fewer than"):
        trim_2d_to_3d(d3, short)
    with pytest.raises(PosedaInputError, match="no 2D for S1/Eating"):
        trim_2d_to_3d(d3, {"S1": {"Walking 1": _views(5, 1)}})


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(PosedaInputError, match="file not found"):
        read_h36m_3d(tmp_path / "nope.npz")
    p = _write3d(tmp_path / "full.npz", {"S1": {"A": _raw3d(50, 1)}})
    raw = p.read_bytes()
    half = tmp_path / "half.npz"
    half.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PosedaInputError, match="half.npz"):
        read_h36m_3d(half)
    p2 = _write2d(tmp_path / "full2d.npz", {"S1": {"A": _views(50, 1)}})
    raw = p2.read_bytes()
    half2 = tmp_path / "half2d.npz"
    half2.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PosedaInputError, match="half2d.npz"):
        read_h36m_2d(half2)


def test_bad_shapes_nan_and_missing_keys(tmp_path):
    with pytest.raises(PosedaInputError, match=r"S1/A: shape \(4, 16, 3\), expected \[T, 32, 3\]"):
        read_h36m_3d(_write3d(tmp_path / "a.npz", {"S1": {"A": np.zeros((4, 16, 3))}}))
    # 17 joints: already the canonical ones (as 'poseda data export' writes them)
    np.testing.assert_array_equal(read_h36m_3d(_write3d(tmp_path / "b17.npz", {"S1": {"A": np.ones((4, 17, 3))}}))["S1"]["A"], 1)
    bad = _raw3d(4, 1)
    bad[2, 5, 1] = np.nan
    with pytest.raises(PosedaInputError, match="NaN"):
        read_h36m_3d(_write3d(tmp_path / "b.npz", {"S1": {"A": bad}}))
    np.savez(tmp_path / "c.npz", something=np.zeros(3))
    with pytest.raises(PosedaInputError, match="no array 'positions_3d'"):
        read_h36m_3d(tmp_path / "c.npz")
    with pytest.raises(PosedaInputError, match="expected a list of 4"):
        read_h36m_2d(_write2d(tmp_path / "d.npz", {"S1": {"A": _views(3, 1)[:3]}}))
    views = _views(3, 1)
    views[1] = np.zeros((3, 16, 2))
    with pytest.raises(PosedaInputError, match="camera 55011271"):
        read_h36m_2d(_write2d(tmp_path / "e.npz", {"S1": {"A": views}}))
    views = _views(3, 1)
    views[3][0, 0, 0] = np.nan
    with pytest.raises(PosedaInputError, match="NaN"):
        read_h36m_2d(_write2d(tmp_path / "f.npz", {"S1": {"A": views}}))
    with pytest.raises(PosedaInputError, match="missing 'keypoints_symmetry'"):
        read_h36m_2d(_write2d(tmp_path / "g.npz", {"S1": {"A": _views(3, 1)}}, {"layout_name": "h36m", "num_joints": 17}))
    with pytest.raises(PosedaInputError, match="num_joints 16"):
        read_h36m_2d(_write2d(tmp_path / "h.npz", {"S1": {"A": _views(3, 1)}}, dict(META, num_joints=16)))
    np.savez(tmp_path / "i.npz", positions_2d=_obj({"S1": {"A": _views(3, 1)}}))
    with pytest.raises(PosedaInputError, match="no array 'metadata'"):
        read_h36m_2d(tmp_path / "i.npz")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_object_array_is_refused(tmp_path):
    np.savez(tmp_path / "evil.npz", positions_3d=_obj({"S1": {"A": _Evil()}}))
    with pytest.raises(PosedaInputError, match="refusing to load"):
        read_h36m_3d(tmp_path / "evil.npz")
