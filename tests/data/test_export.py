"""``poseda data export``: a prepared domain in VideoPose3D's and PoseAug's npz layouts, with the
keys those projects read (their loaders take ``positions_3d`` / ``positions_2d`` / ``metadata`` and
``pose3d`` / ``pose2d``)."""
import numpy as np
import pytest
from typer.testing import CliRunner

from poseda.cli import app
from poseda.data.codec import PoseCodec
from poseda.data.prepare import load_domain
from poseda.data.universal import universal_poses
from poseda.safe_pickle import load_object_npz
from poseda.skeleton.layouts import H36M16

pytestmark = pytest.mark.data


def test_videopose3d_and_poseaug_layouts(prepared_cache, tmp_path):
    r = CliRunner().invoke(app, ["data", "export", "bandai-wild", "--format", "poseaug", "--out", str(tmp_path),
                                 "--name", "bandai", "--cache", str(prepared_cache)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data_2d_bandai_gt.npz", "data_3d_bandai.npz", "test_bandai.npz"]
    d = load_domain("bandai-wild", prepared_cache)
    pos3 = load_object_npz(tmp_path / "data_3d_bandai.npz", "positions_3d")
    pos2 = load_object_npz(tmp_path / "data_2d_bandai_gt.npz", "positions_2d")
    meta2 = load_object_npz(tmp_path / "data_2d_bandai_gt.npz", "metadata")
    meta3 = load_object_npz(tmp_path / "data_3d_bandai.npz", "metadata")
    cams = load_object_npz(tmp_path / "data_3d_bandai.npz", "cameras")
    # every subject/action: one 3D array, one 2D array per camera of the same length
    frames = 0
    for subj, acts in pos3.items():
        for act, a3 in acts.items():
            assert a3.dtype == np.float32 and a3.shape[1:] == (d.layout.num_joints, 3)
            assert len(pos2[subj][act]) == len(cams[subj][act]) >= 1
            assert all(v.shape == (len(a3), d.layout.num_joints, 2) for v in pos2[subj][act])
            frames += len(a3) * len(pos2[subj][act])
    assert frames + meta3["frames_left_out"] == len(d)
    left, right = meta2["keypoints_symmetry"]
    assert [meta2["joints"][i] for i in left] == ["L" + meta2["joints"][i][1:] for i in right]
    assert meta2["num_joints"] == d.layout.num_joints and meta3["splits"] and meta3["exported_by"].startswith("poseda")
    # PoseAug's test layout: 16 joints, metres root-relative (universal skeleton), normalised 2D
    ev = d.evaluation(H36M16)
    with np.load(tmp_path / "test_bandai.npz") as z:
        assert z["pose3d"].shape == (len(ev), 16, 3) and z["pose2d"].shape == (len(ev), 16, 2)
        u = universal_poses(ev).joints3d
        np.testing.assert_allclose(z["pose3d"], u - u[:, :1], atol=1e-6)
        np.testing.assert_allclose(z["pose3d_real"], ev.joints3d - ev.joints3d[:, :1], atol=1e-6)
        np.testing.assert_allclose(z["pose2d"], PoseCodec().encode_2d(ev.joints2d, ev.image_size).numpy(), atol=1e-6)


def test_export_subject_and_errors(prepared_cache, tmp_path):
    run = CliRunner().invoke
    r = run(app, ["data", "export", "humaneva", "--out", str(tmp_path / "a"), "--subject", "S2", "--cache", str(prepared_cache)])
    assert r.exit_code == 0, r.output
    assert set(load_object_npz(tmp_path / "a" / "data_3d_humaneva.npz", "positions_3d")) == {"S2"}
    for args, msg in [(["--subject", "S9"], "--subject: domain humaneva has no subject S9"),
                      (["--format", "mat"], "--format: unknown format 'mat'"),
                      (["--name", "../x"], "--name: '../x' is not a usable name")]:
        r = run(app, ["data", "export", "humaneva", "--out", str(tmp_path / "b"), *args, "--cache", str(prepared_cache)])
        assert r.exit_code == 2 and r.output.strip().splitlines() == [r.output.strip()] and msg in r.output, r.output
        assert not (tmp_path / "b").exists() or not list((tmp_path / "b").iterdir())
