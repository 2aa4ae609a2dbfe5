"""MPI-INF-3DHP readers, on small files written here in the documented layouts."""
import os

import h5py
import numpy as np
import pytest
import scipy.io

from poseda.datasets.mpi_inf_3dhp import (
    MPI3DHP_FROM_17,
    MPI_INF_3DHP_17_NAMES,
    SPIN24_NAMES,
    SPIN_FROM_24,
    read_3dhp_annot_mat,
    read_3dhp_spin_npz,
    read_3dhp_test_npz,
)
from poseda.errors import PosedaInputError
from poseda.skeleton.layouts import CANONICAL

from ..licensed import write_v73

# canonical joint -> index in the 3DHP 17 test order, as documented
EXPECT_3DHP = dict(Pelvis=14, RHip=8, RKnee=9, RAnkle=10, LHip=11, LKnee=12, LAnkle=13, Spine=15, Thorax=1,
                   Head=0, LShoulder=5, LElbow=6, LWrist=7, RShoulder=2, RElbow=3, RWrist=4)
EXPECT_SPIN = dict(Pelvis=14, RHip=2, RKnee=1, RAnkle=0, LHip=3, LKnee=4, LAnkle=5, Spine=16, Thorax=15, Neck=19,
                   Head=13, LShoulder=9, LElbow=10, LWrist=11, RShoulder=8, RElbow=7, RWrist=6)


def _coded(n, j, c):
    """[n, j, c]: value = 1000 * frame + 10 * joint + channel, so each entry says where it came from."""
    return (1000.0 * np.arange(n)[:, None, None] + 10.0 * np.arange(j)[None, :, None] + np.arange(c)).astype(np.float64)


def _expected_idx(expect):
    return [expect.get(n, -1) for n in CANONICAL.joints]


def test_mappings_follow_the_documented_orders():
    assert MPI3DHP_FROM_17.source == tuple(_expected_idx(EXPECT_3DHP))
    assert SPIN_FROM_24.source == tuple(_expected_idx(EXPECT_SPIN))
    assert MPI_INF_3DHP_17_NAMES[14] == "pelvis" and MPI_INF_3DHP_17_NAMES[1] == "neck"
    assert len(SPIN24_NAMES) == 24 and SPIN24_NAMES[19] == "nose"
    assert not MPI3DHP_FROM_17.mask[CANONICAL.index("Neck")]
    assert "Thorax" in MPI3DHP_FROM_17.notes


def _check_mapped(j, raw, expect, scale=1.0):
    for k, name in enumerate(CANONICAL.joints):
        if name in expect:
            np.testing.assert_allclose(j[:, k], raw[:, expect[name]] * scale, rtol=0, atol=1e-12)
        else:
            assert np.isnan(j[:, k]).all()


# ------------------------------------------------------------ (a) PoseAug npz

def test_poseaug_npz(tmp_path):
    p3, p2 = _coded(4, 17, 3), _coded(4, 17, 2) + 0.5
    np.savez(tmp_path / "test_3dhp.npz", pose3d=p3, pose2d=p2)
    s = read_3dhp_test_npz(tmp_path / "test_3dhp.npz")
    assert s.joints3d.shape == (4, 17, 3) and s.joints2d.shape == (4, 17, 2)
    _check_mapped(s.joints3d, p3, EXPECT_3DHP, 1e-3)  # mm -> m
    _check_mapped(s.joints2d, p2, EXPECT_3DHP)
    assert s.valid.all() and s.camera_param is None

    np.savez(tmp_path / "b.npz", pose3d=p3, pose2d=p2, valid=np.array([1, 0, 1, 1]),
             camera_param=np.array([1500.0, 1500.0, 1024.0, 1024.0]))
    s = read_3dhp_test_npz(tmp_path / "b.npz")
    np.testing.assert_array_equal(s.valid, [True, False, True, True])
    np.testing.assert_array_equal(s.camera_param, [1500.0, 1500.0, 1024.0, 1024.0])
    s = read_3dhp_test_npz(tmp_path / "b.npz", units="m", order="h36m17")
    np.testing.assert_array_equal(s.joints3d, p3)


def test_poseaug_npz_bad_input(tmp_path):
    p3, p2 = _coded(4, 17, 3), _coded(4, 17, 2)
    with pytest.raises(PosedaInputError, match="file not found"):
        read_3dhp_test_npz(tmp_path / "missing.npz")
    np.savez(tmp_path / "full.npz", pose3d=_coded(200, 17, 3), pose2d=_coded(200, 17, 2))
    raw = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "half.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PosedaInputError, match="half.npz"):
        read_3dhp_test_npz(tmp_path / "half.npz")
    np.savez(tmp_path / "nokey.npz", pose3d=p3)
    with pytest.raises(PosedaInputError, match="no array 'pose2d'"):
        read_3dhp_test_npz(tmp_path / "nokey.npz")
    np.savez(tmp_path / "shape.npz", pose3d=p3[:, :15], pose2d=p2)
    with pytest.raises(PosedaInputError, match=r"pose3d: shape \(4, 15, 3\)"):
        read_3dhp_test_npz(tmp_path / "shape.npz")
    np.savez(tmp_path / "mixed.npz", pose3d=p3[:, :16], pose2d=p2)  # PoseAug's 16 joints need 16 in 2D too
    with pytest.raises(PosedaInputError, match=r"pose2d: shape \(4, 17, 2\), expected \[4, 16, 2\]"):
        read_3dhp_test_npz(tmp_path / "mixed.npz")
    np.savez(tmp_path / "count.npz", pose3d=p3, pose2d=p2[:3])
    with pytest.raises(PosedaInputError, match="pose2d: shape"):
        read_3dhp_test_npz(tmp_path / "count.npz")
    bad = p3.copy()
    bad[1, 3, 0] = np.nan
    np.savez(tmp_path / "nan.npz", pose3d=bad, pose2d=p2)
    with pytest.raises(PosedaInputError, match="NaN"):
        read_3dhp_test_npz(tmp_path / "nan.npz")
    # NaN in a frame marked invalid is tolerated
    np.savez(tmp_path / "nan_invalid.npz", pose3d=bad, pose2d=p2, valid=np.array([1, 0, 1, 1]))
    assert np.isnan(read_3dhp_test_npz(tmp_path / "nan_invalid.npz").joints3d[1]).any()
    np.savez(tmp_path / "valid.npz", pose3d=p3, pose2d=p2, valid=np.ones(5))
    with pytest.raises(PosedaInputError, match="valid"):
        read_3dhp_test_npz(tmp_path / "valid.npz")


# ------------------------------------------------------------ (b) SPIN npz

def _spin(n=3):
    s = _coded(n, 24, 4) * 1e-3
    s[..., 3] = 1.0
    s[:, 17:, 3] = 0.0  # jaw, head, nose, eyes, ears: not annotated in 3DHP
    part = _coded(n, 24, 3)
    part[..., 2] = 1.0
    part[:, 19:, 2] = 0.0
    return dict(imgname=np.array([f"mpi_inf_3dhp_test_set/TS1/imageSequence/img_{i:06d}.jpg" for i in range(n)]),
                center=np.full((n, 2), 1024.0), scale=np.full(n, 7.5), part=part, S=s)


def test_spin_npz(tmp_path):
    d = _spin()
    np.savez(tmp_path / "mpi_inf_3dhp_valid.npz", **d)
    s = read_3dhp_spin_npz(tmp_path / "mpi_inf_3dhp_valid.npz")
    expect_no_neck = {k: v for k, v in EXPECT_SPIN.items() if k != "Neck"}
    _check_mapped(s.joints3d, d["S"][..., :3], expect_no_neck)  # nose has confidence 0 -> NaN
    _check_mapped(s.joints2d, d["part"][..., :2], expect_no_neck)
    assert s.valid.all()
    assert s.image_names[2].endswith("img_000002.jpg")
    np.testing.assert_array_equal(s.scale, 7.5)
    d["S"][:, 19, 3] = 1.0
    d["S"][1, :, 3] = 0.0
    np.savez(tmp_path / "b.npz", **d)
    s = read_3dhp_spin_npz(tmp_path / "b.npz")
    np.testing.assert_array_equal(s.joints3d[0, CANONICAL.index("Neck")], d["S"][0, 19, :3])
    np.testing.assert_array_equal(s.valid, [True, False, True])


def test_spin_npz_bad_input(tmp_path):
    with pytest.raises(PosedaInputError, match="file not found"):
        read_3dhp_spin_npz(tmp_path / "x.npz")
    d = _spin()
    del d["S"]
    np.savez(tmp_path / "a.npz", **d)
    with pytest.raises(PosedaInputError, match="no array 'S'"):
        read_3dhp_spin_npz(tmp_path / "a.npz")
    d = _spin()
    d["part"] = d["part"][:, :17]
    np.savez(tmp_path / "b.npz", **d)
    with pytest.raises(PosedaInputError, match="part: shape"):
        read_3dhp_spin_npz(tmp_path / "b.npz")
    d = _spin()
    d["S"][0, 0, 0] = np.nan
    np.savez(tmp_path / "c.npz", **d)
    with pytest.raises(PosedaInputError, match="S: contains NaN"):
        read_3dhp_spin_npz(tmp_path / "c.npz")
    np.savez(tmp_path / "full.npz", **_spin(300))
    raw = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "half.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PosedaInputError, match="half.npz"):
        read_3dhp_spin_npz(tmp_path / "half.npz")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_object_array_in_npz_is_refused(tmp_path):
    d = _spin()
    d["imgname"] = np.array([_Evil()] * 3, dtype=object)
    np.savez(tmp_path / "evil.npz", **d)
    with pytest.raises(PosedaInputError, match="refusing to load"):
        read_3dhp_spin_npz(tmp_path / "evil.npz")


# ------------------------------------------------------------ (c) annot_data.mat

def _annot(n=5):
    return dict(annot2=_coded(n, 17, 2)[:, None], annot3=_coded(n, 17, 3)[:, None] + 0.25,
                univ_annot3=_coded(n, 17, 3)[:, None], valid_frame=np.array([[1], [1], [0], [1], [1]], float)[:n],
                activity_annotation=np.arange(n, dtype=float)[:, None])


def test_annot_mat_v73_transposed(tmp_path):
    d = _annot()
    (tmp_path / "TS1").mkdir()
    p = write_v73(tmp_path / "TS1" / "annot_data.mat", d)
    with h5py.File(p, "r") as f:
        assert f["annot3"].shape == (3, 17, 1, 5)  # as in the real files
    s = read_3dhp_annot_mat(p)
    assert s.sequence == "TS1"
    _check_mapped(s.joints3d, d["univ_annot3"][:, 0], EXPECT_3DHP, 1e-3)
    _check_mapped(s.joints2d, d["annot2"][:, 0], EXPECT_3DHP)
    np.testing.assert_array_equal(s.valid, [True, True, False, True, True])
    np.testing.assert_array_equal(s.activity, np.arange(5))
    s = read_3dhp_annot_mat(p, sequence="X", which_3d="annot3")
    assert s.sequence == "X"
    _check_mapped(s.joints3d, d["annot3"][:, 0], EXPECT_3DHP, 1e-3)


def test_annot_mat_v5(tmp_path):
    d = _annot()
    (tmp_path / "TS5").mkdir()
    p = tmp_path / "TS5" / "annot_data.mat"
    scipy.io.savemat(p, d)
    s = read_3dhp_annot_mat(p)
    assert s.sequence == "TS5"
    _check_mapped(s.joints3d, d["univ_annot3"][:, 0], EXPECT_3DHP, 1e-3)
    _check_mapped(s.joints2d, d["annot2"][:, 0], EXPECT_3DHP)
    np.testing.assert_array_equal(s.valid, [True, True, False, True, True])
    d["valid_frame"] = d["valid_frame"].T  # [1, N] also accepted
    scipy.io.savemat(tmp_path / "b.mat", d)
    np.testing.assert_array_equal(read_3dhp_annot_mat(tmp_path / "b.mat").valid, [True, True, False, True, True])


@pytest.mark.parametrize("fmt", ["v5", "v73"])
def test_annot_mat_bad_input(tmp_path, fmt):
    def write(name, d):
        p = tmp_path / name
        if fmt == "v5":
            scipy.io.savemat(p, d)
        else:
            write_v73(p, d)
        return p

    with pytest.raises(PosedaInputError, match="file not found"):
        read_3dhp_annot_mat(tmp_path / "none.mat")
    big = _annot(5)
    big = {k: np.concatenate([v] * 40) if k != "valid_frame" else np.ones((200, 1)) for k, v in big.items()}
    full = write("full.mat", big)
    raw = full.read_bytes()
    (tmp_path / "half.mat").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PosedaInputError, match="half.mat"):
        read_3dhp_annot_mat(tmp_path / "half.mat")
    d = _annot()
    del d["univ_annot3"]
    with pytest.raises(PosedaInputError, match="missing variable 'univ_annot3'"):
        read_3dhp_annot_mat(write("nokey.mat", d))
    d = _annot()
    d["annot2"] = d["annot2"][:, :, :16]
    with pytest.raises(PosedaInputError, match="annot2: shape"):
        read_3dhp_annot_mat(write("shape.mat", d))
    d = _annot()
    d["univ_annot3"][0, 0, 4, 1] = np.nan
    with pytest.raises(PosedaInputError, match="NaN"):
        read_3dhp_annot_mat(write("nan.mat", d))
    d = _annot()
    d["univ_annot3"][2, 0, 4, 1] = np.nan  # frame 2 is not valid: tolerated
    assert np.isnan(read_3dhp_annot_mat(write("nan_invalid.mat", d)).joints3d[2]).any()
    d = _annot()
    d["valid_frame"] = np.ones((4, 1))
    with pytest.raises(PosedaInputError, match="valid_frame"):
        read_3dhp_annot_mat(write("vf.mat", d))


def test_annot_mat_garbage(tmp_path):
    (tmp_path / "g.mat").write_bytes(b"this is not a mat file at all" * 10)
    with pytest.raises(PosedaInputError, match="g.mat"):
        read_3dhp_annot_mat(tmp_path / "g.mat")


def test_poseaug_npz_as_published_16_joints(tmp_path):
    """PoseAug's own test_3dhp.npz: 16 joints in Human3.6M order, metres, 2D normalised."""
    from poseda.skeleton.layouts import H36M16

    p3, p2 = _coded(4, 16, 3) * 1e-3, _coded(4, 16, 2) * 1e-3 - 0.5
    p3[:, 3] = np.nan  # a joint absent from every frame is a joint the file lacks
    p2[:, 3] = np.nan
    np.savez(tmp_path / "test_3dhp.npz", pose3d=p3, pose2d=p2)
    s = read_3dhp_test_npz(tmp_path / "test_3dhp.npz")
    assert s.extra["screen_normalised"]
    for k, name in enumerate(H36M16.joints):
        c = CANONICAL.index(name)
        np.testing.assert_array_equal(s.joints3d[:, c], p3[:, k])
        np.testing.assert_array_equal(s.joints2d[:, c], p2[:, k])
    assert np.isnan(s.joints3d[:, CANONICAL.index("Neck")]).all()
    p3[1, 5] = np.nan  # one NaN in a present joint of a valid frame is an error
    np.savez(tmp_path / "bad.npz", pose3d=p3, pose2d=p2)
    with pytest.raises(PosedaInputError, match="pose3d: contains NaN"):
        read_3dhp_test_npz(tmp_path / "bad.npz")
