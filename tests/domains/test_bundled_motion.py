"""The bundled source motion set (poseda/domains/motion/cmu-train.npz): what it holds, that the script
remakes it from the real data, and the source domain made from it without any data folder."""
import sys
from pathlib import Path

import numpy as np

from poseda.domains.bundled_motion import load_motion, motion_file, motion_source
from poseda.geometry.camera import project
from poseda.skeleton.layouts import CANONICAL

REPO = Path(__file__).resolve().parents[2]


def test_the_file_is_small_plain_and_holds_people_standing_on_the_floor():
    path = motion_file("cmu")
    assert path.stat().st_size < 2_000_000 and (path.parent / "NOTICE.md").read_text().count("mocap.cs.cmu.edu") >= 1
    with np.load(path, allow_pickle=False) as z:  # no pickled objects
        assert z["joints"].dtype == np.float16 and float(z["fps"]) == 30.0
    motions = load_motion("cmu")
    assert len(motions) == 32 and sum(len(m.joints) for m in motions) == 8460
    assert {m.action for m in motions} == {"basketball", "basketball_signal", "directing_traffic", "jumping", "running",
                                           "soccer", "walking"}  # the training split: no test sequence
    ankles = np.concatenate([m.joints[:, CANONICAL.indices(["LAnkle", "RAnkle"]), 2].min(1) for m in motions])
    heads = np.concatenate([m.joints[:, CANONICAL.index("Head"), 2] for m in motions])
    assert abs(np.percentile(ankles, 1)) < 0.05 and 1.4 < np.median(heads) < 1.9  # on the floor, a person's height


def test_the_script_remakes_it_from_the_real_data(data_root):
    sys.path.insert(0, str(REPO / "scripts"))
    from make_source_motion import build

    fresh = build(data_root)
    with np.load(motion_file("cmu"), allow_pickle=False) as z:
        for k in ("starts", "names", "actions", "joint_names"):
            assert (z[k] == fresh[k]).all(), k
        assert np.abs(z["joints"].astype(np.float64) - fresh["joints"].astype(np.float64)).max() == 0.0


def test_a_source_domain_is_made_from_it_without_a_data_folder():
    meta, arrays = motion_source("cmu", rig="handheld")
    assert meta["role"] == "source" and "commercial" in meta["licence"] and meta["sources"]["motion"].startswith("bundled")
    n = len(arrays["joints3d"])
    assert 8000 < n <= 8460 and np.isfinite(arrays["joints3d"]).all()
    v = arrays["view"]
    k = arrays["intrinsics"][v]
    import torch

    uv = project(torch.as_tensor(arrays["joints3d"], dtype=torch.float64), torch.as_tensor(k)).numpy()
    np.testing.assert_allclose(uv, arrays["joints2d"], atol=0.05)  # the 2D is the 3D seen by the drawn cameras
    again = motion_source("cmu", rig="handheld")[1]
    assert all(np.array_equal(again[key], arrays[key]) for key in arrays)  # seeded: the same on every machine


def test_retargeting_sets_each_bone_and_keeps_its_direction_and_the_floor():
    from poseda.domains.bundled_motion import retarget

    joints = np.concatenate([m.joints for m in load_motion("cmu")[:3]])
    lengths = {"RKnee": 0.45, "LKnee": 0.45, "RAnkle": 0.44, "LAnkle": 0.44, "Spine": 0.25}
    out = retarget(joints, lengths)
    parents = CANONICAL.parents
    for name, length in lengths.items():
        j = CANONICAL.index(name)
        np.testing.assert_allclose(np.linalg.norm(out[:, j] - out[:, parents[j]], axis=-1), length, rtol=1e-9)
        a, b = out[:, j] - out[:, parents[j]], joints[:, j] - joints[:, parents[j]]
        cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
        assert cos.min() > 1 - 1e-9  # the same direction
    np.testing.assert_allclose(out[..., 2].min(-1), joints[..., 2].min(-1), atol=1e-9)  # lowest point kept


def test_the_open_lifters_source_is_this_motion_seen_by_16_phone_cameras(data_root):
    """cmu-handheld (what the open bundled lifter trains on) holds CMU's training split only, the
    same poses as the bundled file, each sequence seen by 16 different hand-held cameras, its
    pelvis at the midpoint of the hips as --adapt's source has it."""
    from poseda.domains.builders import build_cmu_handheld

    meta, arrays = build_cmu_handheld(data_root)
    assert meta["role"] == "source" and "commercial" in meta["licence"] and meta["rig_name"] == "handheld-16"
    views = meta["views"]
    assert {v["split"] for v in views} == {"train"} and len(views) == 32 * 16
    bundled = {m.name: m.joints for m in load_motion("cmu")}
    assert {v["sequence"] for v in views} == set(bundled)
    k = arrays["intrinsics"]
    assert len(k) == len(views) and len(np.unique(k[:, 0].round(3))) == len(views)  # every view its own focal length
    first = [i for i, v in enumerate(views) if v["sequence"] == views[0]["sequence"]]
    rows = arrays["view"] == first[0]
    assert rows.sum() > 100 and np.isfinite(arrays["joints3d"][rows]).all()
    j3 = arrays["joints3d"]
    pel, hips = CANONICAL.index("Pelvis"), CANONICAL.indices(["LHip", "RHip"])
    np.testing.assert_allclose(j3[:, pel], j3[:, hips].mean(1), atol=1e-5)
    assert "hips" in meta["pelvis"]


def test_the_pelvis_can_follow_human36ms_convention():
    """CMU's root sits about 11 cm above its hip joints; --adapt moves it to their midpoint, where
    Human3.6M's (and so the lifters' h36m16) pelvis is."""
    from poseda.domains.bundled_motion import mid_hip_pelvis

    joints = np.concatenate([m.joints for m in load_motion("cmu")[:4]])
    pel, hips = CANONICAL.index("Pelvis"), CANONICAL.indices(["LHip", "RHip"])
    assert 0.08 < np.median(np.linalg.norm(joints[:, pel] - joints[:, hips].mean(1), axis=-1)) < 0.14
    moved = mid_hip_pelvis(joints)
    np.testing.assert_allclose(moved[:, pel], joints[:, hips].mean(1))
    others = [j for j in range(CANONICAL.num_joints) if j != pel]
    assert np.array_equal(moved[:, others], joints[:, others])
    meta, arrays = motion_source("cmu", rig="handheld", mid_hips=True)
    j3 = arrays["joints3d"]
    np.testing.assert_allclose(j3[:, pel], j3[:, hips].mean(1), atol=1e-5)
