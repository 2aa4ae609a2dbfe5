"""Forward kinematics and joint mappings on the real motion files."""
import numpy as np
import pytest
import torch

from poseda.datasets.bvh import bvh_fk, read_bvh
from poseda.datasets.expmap import cmu_expmap_fk, h36m_expmap_fk, read_cmu_expmap, read_h36m_expmap
from poseda.datasets.skeleton_template import load_skeleton_template
from poseda.domains.builders import BANDAI_FROM_BVH, CMU_FPS, CMU_UNITS_TO_M, H36M_FROM_32, h36m_world_motion, yup_to_zup
from poseda.domains.mirror import Archive
from poseda.geometry.kinematics import bone_lengths
from poseda.skeleton.layouts import CANONICAL, CMU_FROM_38


def _member(root, archive, folder, name):
    for _, data in Archive(root, archive, folder).iter_members(name):
        return data
    raise AssertionError(name)


def _facing_cos(joints, fps, lhip, rhip, up_axis=1):
    """cos between facing = (LHip - RHip) x up and the horizontal velocity of the root."""
    up = np.eye(3)[up_axis]
    facing = np.cross(joints[:, lhip] - joints[:, rhip], up)
    vel = np.gradient(joints[:, 0], axis=0) * fps
    horiz = [a for a in range(3) if a != up_axis]
    f, v = facing[:, horiz], vel[:, horiz]
    speed = np.linalg.norm(v, axis=1)
    moving = speed > 0.3
    cos = (f * v).sum(1) / np.linalg.norm(f, axis=1) / np.maximum(speed, 1e-9)
    return float(np.median(cos[moving])), float(np.median(speed[moving]))


@pytest.mark.data
def test_h36m_walking(data_root):
    t = load_skeleton_template(data_root / "skeletons/h36m-expmap-32.json", 1e-3)
    vals = read_h36m_expmap(_member(data_root, "h36m-expmap.tar.xz", "h3.6m", "h3.6m/dataset/S1/walking_1.txt"), "S1/walking_1")
    fk = h36m_expmap_fk(vals, t)
    bl = bone_lengths(torch.from_numpy(fk["world"]), t.parents)
    assert float(bl.std(0).max()) < 1e-5  # constant to 0.01 mm
    j = H36M_FROM_32.apply(h36m_world_motion(vals, t))
    cos, speed = _facing_cos(j, 50.0, CANONICAL.index("LHip"), CANONICAL.index("RHip"))
    assert cos > 0.9 and 0.4 < speed < 2.0
    # upright after drift removal: pelvis->thorax within 25 degrees of vertical in 95% of frames
    torso = j[:, CANONICAL.index("Thorax")] - j[:, 0]
    tilt = np.degrees(np.arccos(torso[:, 1] / np.linalg.norm(torso, axis=1)))
    assert np.percentile(tilt, 95) < 25
    # feet on the floor
    assert np.abs(np.nanmin(j[..., 1], axis=1)).max() < 0.1
    head_height = j[:, CANONICAL.index("Head"), 1]
    assert 1.4 < np.median(head_height) < 1.9


@pytest.mark.data
def test_cmu_walking_mapping_and_frame_rate(data_root):
    t = load_skeleton_template(data_root / "skeletons/cmu-expmap-38.json", CMU_UNITS_TO_M)
    vals = read_cmu_expmap(_member(data_root, "cmu-expmap.tar.xz", "cmu", "cmu/train/walking/walking_1.txt"), "walking_1")
    p = cmu_expmap_fk(vals, t)
    assert float(bone_lengths(torch.from_numpy(p), t.parents).std(0).max()) < 1e-9
    j = CMU_FROM_38.apply(p)
    cos, speed = _facing_cos(j, CMU_FPS, CANONICAL.index("LHip"), CANONICAL.index("RHip"))
    assert cos > 0.9, "left/right of the CMU mapping"
    # at the assumed 120 Hz the walk is a normal human walking speed
    assert 0.9 < speed < 1.7
    # cadence: the ankles' fore-aft separation crosses zero twice per stride
    la, ra = j[:, CANONICAL.index("LAnkle")], j[:, CANONICAL.index("RAnkle")]
    vel = np.gradient(j[:, 0], axis=0)
    d = ((la - ra)[:, [0, 2]] * vel[:, [0, 2]]).sum(1)
    steps = np.count_nonzero(np.diff(np.sign(d)) != 0)
    assert 1.4 < steps / (len(d) / CMU_FPS) < 2.4  # steps per second
    up = j[:, CANONICAL.index("Head")] - j[:, 0]
    assert np.median(up[:, 1] / np.linalg.norm(up, axis=1)) > 0.95  # upright, y up


@pytest.mark.data
def test_bandai_walk(data_root):
    bvh = read_bvh(_member(data_root, "bandai-namco-1.tar.xz", "bandai-namco-1",
                           "bandai-namco-1/data/dataset-1_walk_normal_001.bvh"), "walk")
    assert bvh.fps == pytest.approx(30, abs=1e-3) and len(bvh.names) == 22
    p = bvh_fk(bvh) / 100
    parents = bvh.parents
    bl = bone_lengths(torch.from_numpy(p), parents)
    hips = bvh.index("Hips")
    keep = [k for k, j in enumerate(j for j, pa in enumerate(parents) if pa >= 0) if j != hips]  # root->Hips is a translation
    assert float(bl[:, keep].std(0).max()) < 1e-4
    j = BANDAI_FROM_BVH.apply(p)
    cos, speed = _facing_cos(j, 30.0, CANONICAL.index("LHip"), CANONICAL.index("RHip"))
    assert cos > 0.9 and 0.8 < speed < 1.8
    torso = j[:, CANONICAL.index("Thorax")] - j[:, 0]
    assert np.median(torso[:, 1] / np.linalg.norm(torso, axis=1)) > 0.95  # upright, y up


def test_yup_to_zup_is_a_rotation():
    p = np.random.default_rng(0).normal(size=(4, 3))
    q = yup_to_zup(p)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), np.linalg.norm(p, axis=1))
    np.testing.assert_allclose(q[:, 2], p[:, 1])
