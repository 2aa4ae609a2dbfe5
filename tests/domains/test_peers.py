"""``poseda data export`` read by what VideoPose3D and PoseAug do with their files
(:mod:`tests.domains.peers`): every built-in domain loads, trains one step and evaluates, the
HumanEva export is the upstream file itself, and each way the old exports failed is caught.

With ``POSEDA_VIDEOPOSE3D`` or ``POSEDA_POSEAUG`` set to a checkout of the peer, the peer's own,
unchanged code runs on the exports too (skipped otherwise: nothing is fetched)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from poseda.cli import app
from poseda.data.cache import load_domain
from poseda.domains.export import POSEAUG_TEST, SPINE_T, export_domain
from poseda.domains.footage import FootageFile, build_footage
from poseda.safe_pickle import load_object_npz
from poseda.skeleton.layouts import H36M16
from tests.lift.helpers import walking, write_coco

from .peers import run_poseaug, run_videopose3d

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def domains(prepared_cache):
    return {n: load_domain(n, prepared_cache) for n in ("h36m", "humaneva", "cmu-3dhp", "bandai-wild")}


def _args(out: Path, name: str) -> str:
    return (out / "data" / f"{name}.args").read_text()


def test_videopose3d_runs_on_human36m(domains, tmp_path):
    h36m = domains["h36m"]
    done = export_domain(h36m, "videopose3d", tmp_path, subjects=["S1", "S9"])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in done.files) == [
        "data/data_2d_h36m_gt.npz", "data/data_3d_h36m.npz", "data/h36m.args"]
    pos3 = load_object_npz(tmp_path / "data" / "data_3d_h36m.npz", "positions_3d")
    assert {a.shape[1] for acts in pos3.values() for a in acts.values()} == {32}
    assert "Photo 1" in pos3["S1"] and "WalkDog 2" in pos3["S9"] and "takingphoto_1" not in pos3["S1"]
    run = run_videopose3d(tmp_path, _args(tmp_path, "h36m"))
    assert run.in_joints == run.out_joints == 17 and np.isfinite(run.loss)
    kept = [v for v, view in enumerate(h36m.views) if view["subject"] in ("S1", "S9")]
    meta = load_object_npz(tmp_path / "data" / "data_3d_h36m.npz", "metadata")
    frames = sum(h36m.views[v]["frames"] for v in kept) - meta["frames_left_out"]
    assert run.train_frames + run.test_frames == frames
    # grouped as VideoPose3D groups Human3.6M's actions (S9 lacks discussion and smoking upstream)
    assert set(run.mpjpe_by_action) == {"Directions", "Eating", "Greeting", "Phoning", "Photo", "Posing", "Purchases", "Sitting",
                                        "SittingDown", "Waiting", "Walking", "WalkDog", "WalkTogether"}
    assert all(np.isfinite(list(run.mpjpe_by_action.values())))
    # the 3D through VideoPose3D's own camera table and projection lands on the 2D. The 2D is
    # Human3.6M's own projection; VideoPose3D's reimplementation orders the tangential terms
    # otherwise (x gets p1 r^2, not p2 r^2), which moves points near the image corners by up to 1.1 px
    median, worst = run.reprojection_px
    assert median < 0.1 and worst < 1.5


def test_videopose3d_humaneva_export_is_the_upstream_file(domains, tmp_path, data_root):
    export_domain(domains["humaneva"], "videopose3d", tmp_path)
    for kind, key in (("3d_humaneva15", "positions_3d"), ("2d_humaneva15_gt", "positions_2d")):
        ours = load_object_npz(tmp_path / "data" / f"data_{kind}.npz", key)
        upstream = load_object_npz(data_root / "humaneva-i" / f"data_{kind}.npz", key)
        assert ours.keys() == upstream.keys() and all(ours[s].keys() == upstream[s].keys() for s in upstream)
        for s in upstream:
            for a in upstream[s]:
                np.testing.assert_allclose(np.asarray(ours[s][a]), np.asarray(upstream[s][a]), atol=1e-6)
    ours, upstream = (load_object_npz(p, "metadata") for p in (tmp_path / "data" / "data_2d_humaneva15_gt.npz",
                                                                data_root / "humaneva-i" / "data_2d_humaneva15_gt.npz"))
    assert {k: ours[k] for k in upstream} == upstream
    run = run_videopose3d(tmp_path, _args(tmp_path, "humaneva15"))
    assert run.in_joints == run.out_joints == 15 and np.isfinite(run.loss)
    assert run.train_frames + run.test_frames == len(domains["humaneva"])  # every frame of every camera
    assert set(run.mpjpe_by_action) == {"Box", "Gestures", "Jog", "ThrowCatch", "Walking"}
    walking = run_videopose3d(tmp_path, _args(tmp_path, "humaneva15") + " -a Walking")
    assert set(walking.mpjpe_by_action) == {"Walking"} and walking.train_frames < run.train_frames


@pytest.mark.parametrize("name", ["cmu-3dhp", "bandai-wild"])
def test_videopose3d_runs_on_the_other_targets_with_poseda_dataset(domains, tmp_path, name):
    d = domains[name]
    done = export_domain(d, "videopose3d", tmp_path)
    assert tmp_path / "common" / "poseda_dataset.py" in done.files and any("elif args.dataset.startswith('poseda')" in h
                                                                         for h in done.how)
    args = _args(tmp_path, f"poseda-{name}")
    with pytest.raises(KeyError, match="Invalid dataset"):  # run.py as published knows no such dataset
        run_videopose3d(tmp_path, args)
    run = run_videopose3d(tmp_path, args, patched=True)
    assert run.in_joints == run.out_joints == d.layout.num_joints and np.isfinite(run.loss)
    # every frame of every view: the training split (oracle) and the evaluation split
    assert run.train_frames == len(d.oracle_training()) and run.test_frames == len(d.evaluation())
    assert run.reprojection_px[1] < 0.01
    assert set(run.mpjpe_by_action) == {v["action"] for v in d.views if v["split"] == d.meta["eval_split"]}


def test_videopose3d_in_the_wild_layout_for_footage(tmp_path):
    k = write_coco(tmp_path / "clip.json", walking(30), frames=np.arange(30))
    build_footage("clips", [FootageFile(k, focal=800.0, image_size=(480, 640))], tmp_path / "cache")
    d = load_domain("clips", tmp_path / "cache")
    done = export_domain(d, "videopose3d", tmp_path / "vp3d")
    assert [p.name for p in done.files] == ["custom_clips.args", "data_2d_custom_clips.npz"]
    run = run_videopose3d(tmp_path / "vp3d", _args(tmp_path / "vp3d", "custom_clips") + " --render")
    assert run.test_frames == 30 and run.in_joints == 17


def test_poseaug_trains_on_human36m_and_evaluates_each_target(domains, tmp_path):
    done = export_domain(domains["h36m"], "poseaug", tmp_path, subjects=["S1", "S9", "S11"])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in done.files) == ["data/data_2d_h36m_gt.npz", "data/data_3d_h36m.npz"]
    meta2 = load_object_npz(tmp_path / "data" / "data_2d_h36m_gt.npz", "metadata")
    assert meta2["num_joints"] == 16 and meta2["keypoints_symmetry"] == [[4, 5, 6, 10, 11, 12], [1, 2, 3, 13, 14, 15]]
    for name in ("cmu-3dhp", "bandai-wild", "humaneva"):
        d = domains[name]
        export_domain(d, "poseaug", tmp_path, force=True)
        run = run_poseaug(tmp_path, s1only=True)
        assert np.isfinite([run.loss, run.target_mpjpe, run.target_p_mpjpe]).all(), name
        assert run.target_frames == len(d.evaluation()) and run.train_frames > 0 and run.h36m_test_frames > 0
        with np.load(tmp_path / POSEAUG_TEST) as z:
            assert str(z["domain"]) == name
            filled = list(z["filled_joints"])
            assert np.isfinite(z["pose3d"]).all() and np.isfinite(z["pose2d"]).all()
        assert filled == (["Spine"] if name == "humaneva" else [])
    # HumanEva's Spine: at SPINE_T of the way from Pelvis to Thorax, in 3D
    with np.load(tmp_path / POSEAUG_TEST) as z:
        p, s, t = (z["pose3d_real"][:, H36M16.index(n)] for n in ("Pelvis", "Spine", "Thorax"))
        np.testing.assert_allclose(s, p + SPINE_T * (t - p), atol=1e-9)


def test_each_failure_of_the_old_exports_is_caught(domains, tmp_path):
    """The layouts poseda wrote before fail in the emulated peers as they failed in the real ones."""
    h36m = domains["h36m"]
    export_domain(h36m, "videopose3d", tmp_path / "ok", subjects=["S1", "S9"])
    data = tmp_path / "ok" / "data"
    pos3 = load_object_npz(data / "data_3d_h36m.npz", "positions_3d")
    old = tmp_path / "old17"
    shutil.copytree(tmp_path / "ok", old)
    np.savez(old / "data" / "data_3d_h36m.npz", positions_3d=np.array({s: {a: p[:, :17] for a, p in acts.items()}
                                                                         for s, acts in pos3.items()}, dtype=object))
    with pytest.raises(IndexError):  # remove_joints on 17 joints
        run_videopose3d(old, _args(old, "h36m"))
    # HumanEva keyed by plain subjects: no camera for 'S1'
    export_domain(domains["humaneva"], "videopose3d", tmp_path / "he")
    p = tmp_path / "he" / "data" / "data_3d_humaneva15.npz"
    pos = load_object_npz(p, "positions_3d")
    np.savez(p, positions_3d=np.array({k.split("/")[1] + ("" if k.startswith("Train") else "v"): v for k, v in pos.items()},
                                      dtype=object))
    with pytest.raises(KeyError, match="S1"):
        run_videopose3d(tmp_path / "he", _args(tmp_path / "he", "humaneva15"))
    # PoseAug with 17-joint 2D: its reshape to [B, 1, 16, 2] fails
    export_domain(h36m, "poseaug", tmp_path / "pa", subjects=["S1", "S9", "S11"])
    export_domain(domains["cmu-3dhp"], "poseaug", tmp_path / "pa")
    two17 = tmp_path / "pa17"
    shutil.copytree(tmp_path / "pa", two17)
    shutil.copy(tmp_path / "ok" / "data" / "data_2d_h36m_gt.npz", two17 / "data" / "data_2d_h36m_gt.npz")
    export_domain(h36m, "videopose3d", tmp_path / "s11", subjects=["S11"])
    k2 = load_object_npz(two17 / "data" / "data_2d_h36m_gt.npz", "positions_2d")
    k2.update(load_object_npz(tmp_path / "s11" / "data" / "data_2d_h36m_gt.npz", "positions_2d"))
    np.savez(two17 / "data" / "data_2d_h36m_gt.npz", positions_2d=np.array(k2, dtype=object),
             metadata=np.array(load_object_npz(data / "data_2d_h36m_gt.npz", "metadata"), dtype=object))
    with pytest.raises(RuntimeError, match="invalid for input"):
        run_poseaug(two17, s1only=True)
    # a NaN joint in the evaluation file stops the Procrustes SVD
    nan = tmp_path / "pa" / POSEAUG_TEST
    with np.load(nan) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["pose3d"][:, H36M16.index("Spine")] = np.nan
    np.savez(nan, **arrays)
    with pytest.raises(np.linalg.LinAlgError):
        run_poseaug(tmp_path / "pa", s1only=True)
    # any dataset but h36m: PoseAug has no loader
    with pytest.raises(KeyError, match="Invalid dataset"):
        run_poseaug(tmp_path / "pa", dataset="humaneva15")


def test_export_refuses_what_no_peer_can_read_and_keeps_existing_files(domains, tmp_path, prepared_cache):
    run = CliRunner().invoke
    out = tmp_path / "vp"
    r = run(app, ["data", "export", "humaneva", "--out", str(out), "--cache", str(prepared_cache)])
    assert r.exit_code == 0 and "humaneva15.args" in r.output, r.output
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    cases = [(["humaneva", "--out", str(out)], "already exists: pass --force"),
             (["humaneva", "--out", str(tmp_path / "x"), "--name", "h36m"], "--name: 'h36m': VideoPose3D's run.py loads"),
             (["cmu-3dhp", "--out", str(tmp_path / "x"), "--name", "cmu"], "starting with 'poseda'"),
             (["h36m", "--format", "poseaug", "--out", str(tmp_path / "x"), "--name", "a"], "--name does not apply"),
             (["humaneva", "--out", str(tmp_path / "x"), "--subject", "S9"], "--subject: domain humaneva has no subject S9"),
             (["humaneva", "--out", str(tmp_path / "x"), "--format", "mat"], "--format: unknown format 'mat'"),
             (["humaneva", "--out", str(tmp_path / "x"), "--name", "../x"], "--name: '../x' is not a usable name")]
    for args, msg in cases:
        r = run(app, ["data", "export", *args, "--cache", str(prepared_cache)])
        assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, (args, r.output)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before and not (tmp_path / "x").exists()
    r = run(app, ["data", "export", "humaneva", "--out", str(out), "--force", "--cache", str(prepared_cache)])
    assert r.exit_code == 0, r.output
    # the dataset class is written once and kept when it is the same; a user's edited copy is kept
    r = run(app, ["data", "export", "bandai-wild", "--out", str(out), "--cache", str(prepared_cache)])
    assert r.exit_code == 0, r.output
    r = run(app, ["data", "export", "cmu-3dhp", "--out", str(out), "--cache", str(prepared_cache)])
    assert r.exit_code == 0 and "poseda_dataset.py" not in r.output, r.output
    (out / "common" / "poseda_dataset.py").write_text("# edited\n")
    r = run(app, ["data", "export", "cmu-3dhp", "--out", str(out), "--name", "poseda-cmu2", "--cache", str(prepared_cache)])
    assert r.exit_code == 2 and "poseda_dataset.py: already exists" in r.stderr
    assert (out / "common" / "poseda_dataset.py").read_text() == "# edited\n" and not (out / "data" / "data_3d_poseda-cmu2.npz").exists()


# -- the peers' own code, when a checkout is given ---------------------------------------------------
def _checkout(var: str, tmp_path: Path) -> Path:
    src = os.environ.get(var)
    if not src:
        pytest.skip(f"{var} not set (a checkout of the peer's repository)")
    dst = tmp_path / "checkout"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.gif", "checkpoint*", "data_extra/test_set/*.npz"))
    return dst


@pytest.mark.peer
def test_videopose3d_own_run_py(domains, tmp_path):
    root = _checkout("POSEDA_VIDEOPOSE3D", tmp_path)
    export_domain(domains["humaneva"], "videopose3d", root, force=True)
    r = subprocess.run([sys.executable, "run.py", *_args(root, "humaneva15").split(), "-a", "Walking", "-e", "1", "-arc", "3,3",
                        "-c", str(tmp_path / "ck")], cwd=root, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0 and "Protocol #1   (MPJPE) action-wise average" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]


@pytest.mark.peer
def test_poseaug_own_run_baseline(domains, tmp_path):
    root = _checkout("POSEDA_POSEAUG", tmp_path)
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PoseAug's run_baseline.py asks for CUDA")
    export_domain(domains["h36m"], "poseaug", root, subjects=["S1", "S9", "S11"], force=True)
    export_domain(domains["cmu-3dhp"], "poseaug", root, force=True)
    r = subprocess.run([sys.executable, "run_baseline.py", "--s1only", "True", "--epochs", "1", "--posenet_name", "mlp",
                        "--checkpoint", str(tmp_path / "ck")], cwd=root, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
