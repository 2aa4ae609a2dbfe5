import numpy as np
import pytest
import torch

from poseda.datasets.bvh import bvh_fk, read_bvh
from poseda.errors import PosedaInputError
from poseda.geometry.kinematics import forward_kinematics
from poseda.geometry.rotations import axis_angle_to_matrix
from poseda.lift.bvh import bvh_skeleton, bvh_text, joint_angles
from poseda.skeleton.layouts import H36M16, H36M17

# bone lengths (m) of a skeleton in Human3.6M's joint order, pointing as in a standing person
# (camera frame: y down), for motion whose bone lengths are constant
_DIRS = {"RHip": (-0.13, 0, 0), "RKnee": (0, 0.45, 0), "RAnkle": (0, 0.44, 0), "LHip": (0.13, 0, 0), "LKnee": (0, 0.45, 0),
         "LAnkle": (0, 0.44, 0), "Spine": (0, -0.23, 0.02), "Thorax": (0, -0.25, -0.02), "Neck": (0, -0.1, -0.05),
         "Head": (0, -0.12, 0), "LShoulder": (0.15, 0.0, 0), "LElbow": (0, 0.28, 0), "LWrist": (0, 0.25, 0),
         "RShoulder": (-0.15, 0.0, 0), "RElbow": (0, 0.28, 0), "RWrist": (0, 0.25, 0)}


def moving_skeleton(layout, frames: int = 40, seed: int = 0) -> np.ndarray:
    """[T, J, 3] root-relative metres, camera frame: smooth random joint rotations of a fixed skeleton."""
    g = torch.Generator().manual_seed(seed)
    offsets = torch.tensor([(0.0, 0.0, 0.0)] + [_DIRS[n] for n in layout.joints[1:]], dtype=torch.float64)
    phase = torch.rand(1, len(layout.joints), 3, generator=g, dtype=torch.float64) * 6
    t = torch.arange(frames, dtype=torch.float64)[:, None, None]
    aa = 0.6 * torch.sin(t / 7 + phase)
    pos, _ = forward_kinematics(axis_angle_to_matrix(aa), offsets, layout.parents)
    return (pos - pos[:, :1]).numpy()


def read_back(text: str, layout) -> np.ndarray:
    b = read_bvh(text, "test.bvh")
    p = bvh_fk(b)[:, [b.names.index(n) for n in layout.joints]] / 100 * np.array([1, -1, -1])
    return p - p[:, :1]


@pytest.mark.parametrize("layout", [H36M16, H36M17])
def test_bvh_reproduces_positions_of_constant_length_motion(layout):
    """Every bone's direction is kept (a link joint per child of the pelvis and thorax) and its
    length is constant here, so poseda's own BVH reader gives the positions back to 0.01 mm."""
    x = moving_skeleton(layout)
    back = read_back(bvh_text(x, layout.parents, layout.joints, 30.0), layout)
    assert np.abs(back - x).max() < 1e-5


def test_varying_bone_lengths_become_their_median_and_directions_stay():
    x = moving_skeleton(H36M16, 30, seed=3)
    stretch = 1 + 0.05 * np.sin(np.arange(30) / 3)[:, None, None]
    y = x * stretch  # every bone 0-5% longer or shorter from frame to frame
    back = read_back(bvh_text(y, H36M16.parents, H36M16.joints, 30.0), H36M16)
    bones = lambda p: p[:, 1:] - p[:, list(H36M16.parents[1:])]  # noqa: E731
    lb, ly = np.linalg.norm(bones(back), axis=-1), np.linalg.norm(bones(y), axis=-1)
    assert np.allclose(lb, np.median(ly, axis=0), atol=1e-6)  # constant, the median
    cos = (bones(back) * bones(y)).sum(-1) / (lb * ly)
    assert cos.min() > 1 - 1e-9  # same directions


def test_file_layout_and_root_on_the_floor():
    x = moving_skeleton(H36M16, 10)
    text = bvh_text(x, H36M16.parents, H36M16.joints, 25.0)
    names, parents, _ = bvh_skeleton(H36M16.parents, H36M16.joints)
    assert "PelvisToRHip" in names and "ThoraxToLShoulder" in names and len(names) == 16 + 6
    b = read_bvh(text, "t.bvh")
    assert b.names == names and b.parents == parents and abs(b.fps - 25.0) < 1e-6
    assert all(ch[-3:] == ["Zrotation", "Xrotation", "Yrotation"] for ch in b.channels)
    y = bvh_fk(b)[..., 1]
    assert abs(y.min()) < 1e-4 and (y >= -1e-4).all()  # the lowest joint of the clip touches y = 0 (cm)
    root = np.tile([[0.5, -0.2, 4.0]], (10, 1))
    p = bvh_fk(read_bvh(bvh_text(x, H36M16.parents, H36M16.joints, 25.0, root=root), "t.bvh"))
    assert np.allclose(p[:, 0], root * [100, -100, -100])  # the absolute root, in cm, y up


def test_missing_joints_and_bad_layouts_are_refused():
    x = moving_skeleton(H36M16, 5)
    x[2, 3] = np.nan
    with pytest.raises(PosedaInputError, match="RAnkle are missing"):
        bvh_text(x, H36M16.parents, H36M16.joints, 30.0)
    with pytest.raises(PosedaInputError, match="--fps"):
        bvh_text(moving_skeleton(H36M16, 5), H36M16.parents, H36M16.joints, 0.0)
    with pytest.raises(PosedaInputError, match="shape"):
        bvh_text(np.zeros((0, 16, 3)), H36M16.parents, H36M16.joints, 30.0)


def test_joint_angles_are_flexion_in_degrees():
    x = moving_skeleton(H36M16, 4)
    x[:, H36M16.index("RAnkle")] = x[:, H36M16.index("RKnee")] + [0.0, 0.44, 0.0]
    x[:, H36M16.index("RKnee")] = x[:, H36M16.index("RHip")] + [0.0, 0.45, 0.0]
    x[:, H36M16.index("RAnkle")] = x[:, H36M16.index("RKnee")] + [0.0, 0.0, 0.44]  # a right angle at the knee
    names, deg = joint_angles(x, H36M16.parents, H36M16.joints)
    assert "RKnee_flexion_deg" in names and "Pelvis_flexion_deg" not in names
    assert np.allclose(deg[:, names.index("RKnee_flexion_deg")], 90.0)
