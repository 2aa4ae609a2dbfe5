"""3DPW sequence pickle reader, on small pickles written here in the documented layout."""
import os
import pickle

import numpy as np
import pytest

from poseda.datasets.pw3d import IMAGE_SIZE, PW3D_FROM_SMPL24, read_3dpw
from poseda.errors import PosedaInputError
from poseda.skeleton.layouts import CANONICAL

EXPECT = dict(Pelvis=0, RHip=2, RKnee=5, RAnkle=8, LHip=1, LKnee=4, LAnkle=7, Spine=6, Thorax=12, Head=15,
              LShoulder=16, LElbow=18, LWrist=20, RShoulder=17, RElbow=19, RWrist=21)
K = np.array([[1960.0, 0.0, 540.0], [0.0, 1970.0, 960.0], [0.0, 0.0, 1.0]])


def _rot_z(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _seq(t=3, actors=2):
    rng = np.random.default_rng(0)
    cam = np.tile(np.eye(4), (t, 1, 1))
    for f in range(t):
        cam[f, :3, :3] = _rot_z(0.1 * f)
        cam[f, :3, 3] = [0.1 * f, -0.2, 4.0 + f]
    joints = [rng.uniform(-1, 1, (t, 72)) for _ in range(actors)]
    return {
        "sequence": "downtown_walking_00",
        "genders": ["m", "f"][:actors],
        "betas": [rng.normal(size=10) for _ in range(actors)],
        "poses": [rng.normal(size=(t, 72)) for _ in range(actors)],
        "trans": [rng.normal(size=(t, 3)) for _ in range(actors)],
        "jointPositions": joints,
        "poses2d": [rng.uniform(0, 1000, (t, 3, 18)) for _ in range(actors)],
        "cam_poses": cam,
        "cam_intrinsics": K,
        "campose_valid": [np.array([1, 0, 1][:t], dtype=bool), np.ones(t, dtype=bool)][:actors],
        "img_frame_ids": np.arange(t) + 10,
    }


def _write(path, d):
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=2)
    return path


def test_mapping_is_the_documented_one():
    assert PW3D_FROM_SMPL24.source == tuple(EXPECT.get(n, -1) for n in CANONICAL.joints)
    assert not PW3D_FROM_SMPL24.mask[CANONICAL.index("Neck")]


def test_read_3dpw_camera_frame_and_projection(tmp_path):
    d = _seq()
    s = read_3dpw(_write(tmp_path / "downtown_walking_00.pkl", d))
    assert s.sequence == "downtown_walking_00" and s.image_size == IMAGE_SIZE == (1080, 1920)
    np.testing.assert_array_equal(s.intrinsics, [1960.0, 1970.0, 540.0, 960.0])
    np.testing.assert_array_equal(s.frame_ids, [10, 11, 12])
    assert len(s.actors) == 2 and [a.gender for a in s.actors] == ["m", "f"]
    for a, actor in enumerate(s.actors):
        world = d["jointPositions"][a].reshape(3, 24, 3)
        for f in range(3):
            r, t = d["cam_poses"][f, :3, :3], d["cam_poses"][f, :3, 3]
            cam = world[f] @ r.T + t
            np.testing.assert_allclose(actor.smpl_joints3d[f], cam, atol=1e-12)
            for k, name in enumerate(CANONICAL.joints):
                if name not in EXPECT:
                    assert np.isnan(actor.joints3d[f, k]).all() and np.isnan(actor.joints2d[f, k]).all()
                    continue
                x, y, z = cam[EXPECT[name]]
                np.testing.assert_allclose(actor.joints3d[f, k], [x, y, z], atol=1e-12)
                np.testing.assert_allclose(actor.joints2d[f, k], [1960 * x / z + 540, 1970 * y / z + 960], atol=1e-9)
        np.testing.assert_array_equal(actor.openpose2d, d["poses2d"][a])
    np.testing.assert_array_equal(s.actors[0].valid, [True, False, True])
    assert s.actors[1].valid.all()


def test_point_behind_camera_projects_to_nan(tmp_path):
    d = _seq(actors=1)
    d["jointPositions"][0][:, 2] = -100.0  # pelvis far behind the camera
    s = read_3dpw(_write(tmp_path / "a.pkl", d))
    assert np.isnan(s.actors[0].joints2d[:, 0]).all() and np.isfinite(s.actors[0].joints3d[:, 0]).all()


def test_bad_input(tmp_path):
    with pytest.raises(PosedaInputError, match="file not found"):
        read_3dpw(tmp_path / "none.pkl")
    raw = _write(tmp_path / "full.pkl", _seq(t=3)).read_bytes()
    (tmp_path / "half.pkl").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PosedaInputError, match="half.pkl"):
        read_3dpw(tmp_path / "half.pkl")
    d = _seq()
    del d["cam_poses"]
    with pytest.raises(PosedaInputError, match="missing key 'cam_poses'"):
        read_3dpw(_write(tmp_path / "a.pkl", d))
    d = _seq()
    d["jointPositions"][1] = d["jointPositions"][1][:, :69]
    with pytest.raises(PosedaInputError, match=r"jointPositions\[1\]: shape"):
        read_3dpw(_write(tmp_path / "b.pkl", d))
    d = _seq()
    d["cam_poses"] = d["cam_poses"][:2]
    with pytest.raises(PosedaInputError, match="shape"):
        read_3dpw(_write(tmp_path / "c.pkl", d))
    d = _seq()
    d["jointPositions"][0][1, 5] = np.nan
    with pytest.raises(PosedaInputError, match="NaN"):
        read_3dpw(_write(tmp_path / "d.pkl", d))
    d = _seq()
    d["campose_valid"] = d["campose_valid"][:1]
    with pytest.raises(PosedaInputError, match="campose_valid: 1 actors"):
        read_3dpw(_write(tmp_path / "e.pkl", d))
    with pytest.raises(PosedaInputError, match="expected a dictionary"):
        read_3dpw(_write(tmp_path / "f.pkl", [1, 2, 3]))
    d = _seq()
    d["cam_intrinsics"] = np.zeros((3, 3))
    with pytest.raises(PosedaInputError, match="cam_intrinsics"):
        read_3dpw(_write(tmp_path / "g.pkl", d))


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_is_refused(tmp_path):
    d = _seq()
    d["sequence"] = _Evil()
    with pytest.raises(PosedaInputError, match="refusing to load"):
        read_3dpw(_write(tmp_path / "evil.pkl", d))
    with pytest.raises(PosedaInputError, match="refusing to load"):
        read_3dpw(_write(tmp_path / "evil2.pkl", _Evil()))


def test_a_pickle_declaring_a_huge_object_is_refused_in_one_line(tmp_path):
    # found by the fuzzer: BYTEARRAY8 claiming 2**56 bytes made the unpickler raise MemoryError
    f = tmp_path / "huge.pkl"
    f.write_bytes(b"\x96\x00\x00\x00\x00\x00\x00\x00\x01")
    with pytest.raises(PosedaInputError, match="too large to build"):
        read_3dpw(f)
