"""``poseda data export``: the values in the files (their loading by the peers is
tests/domains/test_peers.py): PoseAug's evaluation file against poseda's own evaluation split, and
the 3D and 2D files against the domain, frame for frame."""
import numpy as np
import pytest
from typer.testing import CliRunner

from poseda.cli import app
from poseda.data.cache import load_domain
from poseda.data.codec import PoseCodec
from poseda.data.universal import universal_poses
from poseda.domains.export import POSEAUG_TEST, vp3d_action
from poseda.safe_pickle import load_object_npz
from poseda.skeleton.layouts import CANONICAL, H36M16

pytestmark = pytest.mark.data


def test_poseaug_evaluation_file_is_the_evaluation_split(prepared_cache, tmp_path):
    r = CliRunner().invoke(app, ["data", "export", "bandai-wild", "--format", "poseaug", "--out", str(tmp_path),
                                 "--cache", str(prepared_cache)])
    assert r.exit_code == 0, r.output
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*.npz")] == [POSEAUG_TEST]
    ev = load_domain("bandai-wild", prepared_cache).evaluation(H36M16)
    with np.load(tmp_path / POSEAUG_TEST) as z:  # PoseAug reads it without allow_pickle
        assert z["pose3d"].shape == (len(ev), 16, 3) and z["pose2d"].shape == (len(ev), 16, 2)
        u = universal_poses(ev).joints3d
        np.testing.assert_allclose(z["pose3d"], u - u[:, :1], atol=1e-6)
        np.testing.assert_allclose(z["pose3d_real"], ev.joints3d - ev.joints3d[:, :1], atol=1e-6)
        np.testing.assert_allclose(z["pose2d"], PoseCodec().encode_2d(ev.joints2d, ev.image_size).numpy(), atol=1e-6)
        np.testing.assert_array_equal(z["frame"], ev.frame)


@pytest.mark.parametrize("name", ["h36m", "cmu-3dhp"])
def test_videopose3d_files_hold_the_domain_frame_for_frame(prepared_cache, tmp_path, name):
    d = load_domain(name, prepared_cache)
    subjects = ["S11"] if name == "h36m" else None
    args = ["--subject", "S11"] if subjects else []
    r = CliRunner().invoke(app, ["data", "export", name, "--out", str(tmp_path), "--cache", str(prepared_cache), *args])
    assert r.exit_code == 0, r.output
    dname = "h36m" if name == "h36m" else f"poseda-{name}"
    pos3 = load_object_npz(tmp_path / "data" / f"data_3d_{dname}.npz", "positions_3d")
    pos2 = load_object_npz(tmp_path / "data" / f"data_2d_{dname}_gt.npz", "positions_2d")
    meta = load_object_npz(tmp_path / "data" / f"data_3d_{dname}.npz", "metadata")
    cols = CANONICAL.indices(d.layout.joints)
    checked = 0
    for v, view in enumerate(d.views):
        if subjects and view["subject"] not in subjects:
            continue
        rows = np.flatnonzero(np.asarray(d.arrays["view"]) == v)
        if name == "h36m":
            subject, action = view["subject"], vp3d_action(view["sequence"].split("/", 1)[1])
            cam = ("54138969", "55011271", "58860488", "60457274").index(view["camera"])
        else:
            subject, action, cam = f"{view['sequence']}/{view['camera']}", view["action"], 0
        frames = meta["frames"][f"{subject}/{action}"]
        keep = np.isin(d.arrays["frame"][rows], frames)
        assert meta["sequences"][f"{subject}/{action}"] == view["sequence"]
        np.testing.assert_allclose(pos2[subject][action][cam], d.arrays["joints2d"][rows[keep]][:, cols], atol=1e-3)
        world = np.asarray(pos3[subject][action], np.float64)
        world = world[:, [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]] if name == "h36m" else world
        rot, centre = d.arrays["cam_rotation"][v], d.arrays["cam_centre"][v]
        np.testing.assert_allclose((world - centre) @ rot, d.arrays["joints3d"][rows[keep]][:, cols], atol=2e-5)
        checked += int(keep.sum())
    assert checked == sum(len(a) * len(pos2[s][k]) for s, acts in pos3.items() for k, a in acts.items())
