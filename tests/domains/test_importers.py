"""Importers of licensed datasets, tested by round trip: public domains written in the licensed
layouts (tests/licensed.py), imported, and compared with the domain they came from: the same
frames, 2D within 1e-6 px, 3D within float32 rounding, and the same metrics for one checkpoint
(an untrained but fixed lifter: the comparison is of the data, not of the model)."""
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from poseda.cli import app
from poseda.data.cache import load_domain
from poseda.data.universal import universal_poses
from poseda.domains.export import H36M_CAMERAS, POSEAUG_TEST, export_domain
from poseda.domains.importers import import_domain, importers
from poseda.errors import PosedaInputError
from poseda.inference import evaluate_split, load_lifter
from poseda.safe_pickle import load_object_npz
from poseda.skeleton.layouts import H36M16

from ..licensed import write_3dhp_test_set, write_3dhp_training_set, write_3dpw
from ..lift.helpers import untrained_checkpoint

pytestmark = pytest.mark.data


def _same_views(a, b, match: dict, joints=None, renumbered=(), atol_2d=1e-6):
    """Views ``match`` {(sequence, camera) in b: view in a} hold the same frames, 2D, 3D, cameras.
    Sequences ``renumbered`` come from a layout without frame numbers (TS files): 0, 1, 2, ..."""
    va, vb = np.asarray(a.arrays["view"]), np.asarray(b.arrays["view"])
    cols = None if joints is None else [i for i, n in enumerate(a.meta["joint_names"]) if n in joints]
    assert len(match) == len(b.views)
    for v, view in enumerate(b.views):
        u = match[(view["sequence"], view["camera"])]
        ra, rb = np.flatnonzero(va == u), np.flatnonzero(vb == v)
        want = np.arange(len(ra)) if view["sequence"] in renumbered else np.asarray(a.arrays["frame"])[ra]
        np.testing.assert_array_equal(np.asarray(b.arrays["frame"])[rb], want)
        j2a, j2b = np.asarray(a.arrays["joints2d"])[ra][:, cols], np.asarray(b.arrays["joints2d"])[rb][:, cols]
        np.testing.assert_allclose(j2b, j2a, rtol=0, atol=atol_2d)
        j3a, j3b = np.asarray(a.arrays["joints3d"])[ra][:, cols], np.asarray(b.arrays["joints3d"])[rb][:, cols]
        np.testing.assert_allclose(j3b, j3a, rtol=0, atol=2e-6)
        for k in ("intrinsics", "image_size"):
            np.testing.assert_allclose(np.asarray(b.arrays[k][v]), np.asarray(a.arrays[k][u]), rtol=1e-12)


def _npz(exported) -> list[Path]:
    """The npz files of an export (the 2D file, then the 3D file)."""
    return [p for p in exported.files if p.suffix == ".npz"]


def _mpjpe(ck, poses) -> float:
    model, _, _ = load_lifter(ck)
    return evaluate_split(model, poses, flip_test=True).overall["MPJPE"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    w = tmp_path_factory.mktemp("ck")
    return {"h36m17": untrained_checkpoint(w / "sb17", width=64), "h36m16": untrained_checkpoint(w / "sb16", joints="h36m16", width=64)}


def test_registry_lists_the_three_kinds():
    assert {"h36m-vp3d", "mpi-inf-3dhp", "3dpw"} <= set(importers())


# ------------------------------------------------------------------ Human3.6M (VideoPose3D npz)

def test_h36m_round_trip_through_videopose3d_files(prepared_cache, tmp_path, checkpoints):
    h36m = load_domain("h36m", prepared_cache)
    files = _npz(export_domain(h36m, "videopose3d", tmp_path / "vp3d", subjects=["S1", "S11"]))
    assert [f.name for f in files] == ["data_2d_h36m_gt.npz", "data_3d_h36m.npz"]
    r = CliRunner().invoke(app, ["data", "import", "h36m-vp3d", "h36m-vp3d", *map(str, files), "--cache", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    back = load_domain("h36m-vp3d", tmp_path / "c")
    assert back.role == "source" and back.meta["2d_source"] == "ground truth" and back.splits["train"].endswith("(S1)")
    # the files name actions as VideoPose3D does ('S1/Photo 1'); the metadata gives the domain's name
    original = load_object_npz(files[1], "metadata")["sequences"]
    by = {(view["sequence"], view["camera"]): u for u, view in enumerate(h36m.views) if view["subject"] in ("S1", "S11")}
    _same_views(h36m, back, {(s, c): by[(original[s], c)] for s in original for c in H36M_CAMERAS})
    a = h36m.evaluation()
    a = a.take(a.subject == "S11")
    b = back.evaluation()
    assert len(a) == len(b) > 0
    assert _mpjpe(checkpoints["h36m17"], b) == pytest.approx(_mpjpe(checkpoints["h36m17"], a), abs=1e-3)


def test_h36m_detected_2d_is_named_and_trimmed(prepared_cache, tmp_path):
    h36m = load_domain("h36m", prepared_cache)
    two, three = _npz(export_domain(h36m, "videopose3d", tmp_path, subjects=["S5", "S9"]))
    pos = load_object_npz(two, "positions_2d")
    act = sorted(pos["S9"])[0]
    pos["S9"][act] = [np.concatenate([v, v[-3:]]) for v in pos["S9"][act]]  # a detector file with 3 frames more
    meta = load_object_npz(two, "metadata")
    det = tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz"
    np.savez(det, positions_2d=np.array(pos, dtype=object), metadata=np.array(meta, dtype=object))
    folder = import_domain("h36m-vp3d", "h36m-cpn", [three, det], tmp_path / "c")
    d = load_domain(folder)
    assert d.meta["2d_source"] == "detected (cpn_ft_h36m_dbb)"
    assert len(d.meta["imported"]["trimmed"]) == 4 and d.evaluation().protocol["2d"] == "detected (cpn_ft_h36m_dbb)"


# ------------------------------------------------------------------ MPI-INF-3DHP

@pytest.fixture(scope="module")
def cmu(prepared_cache):
    return load_domain("cmu-3dhp", prepared_cache)


def _one_view_per_subject(d) -> list[int]:
    """An evaluation view per subject whose camera is TS1-TS4's (2048 px) for four, TS5-TS6's for two."""
    by = {}
    for v, view in enumerate(d.views):
        if view["split"] == d.meta["eval_split"]:
            by.setdefault(view["subject"], []).append(v)
    size = np.asarray(d.arrays["image_size"])
    return [next(v for v in vs if size[v, 0] == (2048 if i < 4 else 1920)) for i, (_, vs) in enumerate(sorted(by.items()))]


def test_3dhp_round_trip_through_test_and_training_files(cmu, tmp_path, checkpoints):
    views = _one_view_per_subject(cmu)
    ts = write_3dhp_test_set(cmu, tmp_path / "mpi_inf_3dhp_test_set", views)
    train = write_3dhp_training_set(cmu, tmp_path / "train", v73=(0, 5))
    r = CliRunner().invoke(app, ["data", "import", "mpi-inf-3dhp", "mpi-inf-3dhp", str(tmp_path / "mpi_inf_3dhp_test_set"),
                                 str(tmp_path / "train"), "--train-stride", "1", "--cache", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    back = load_domain("mpi-inf-3dhp", tmp_path / "c")
    assert back.layout.name == "h36m16" and back.meta["frames_dropped"] >= len(ts)  # one invalid frame per TS file
    match = {(name, back.views[v]["camera"]): u for v in range(len(back.views)) for name, u in ts.items()
             if back.views[v]["sequence"] == name}
    match.update({k: u for k, u in train.items()})
    _same_views(cmu, back, match, joints=H36M16.joints, renumbered=set(ts))
    # evaluation: the same MPJPE (annot3) and MPJPE-U (univ_annot3 against poseda's universal rule)
    a = cmu.evaluation(H36M16)
    a = a.take(np.isin(a.view, views))
    b = back.evaluation()
    ck = checkpoints["h36m16"]
    assert _mpjpe(ck, b) == pytest.approx(_mpjpe(ck, a), abs=1e-3)
    ub = universal_poses(b)
    assert ub.protocol["skeleton"] == "universal (MPI-INF-3DHP's univ_annot3)"
    ua = universal_poses(cmu.evaluation(H36M16))
    assert _mpjpe(ck, ub) == pytest.approx(_mpjpe(ck, ua.take(np.isin(ua.view, views))), abs=1e-3)


def test_3dhp_round_trip_through_poseaug_test_file(cmu, tmp_path, checkpoints):
    files = export_domain(cmu, "poseaug", tmp_path / "pa").files
    test = tmp_path / "pa" / POSEAUG_TEST
    assert files == [test] and test.name == "test_3dhp.npz"
    with np.load(test) as z:
        assert z["pose3d"].shape[1:] == (16, 3) and z["pose2d"].shape[1:] == (16, 2)
        assert np.abs(z["pose2d"]).max() < 2  # normalised screen units, as PoseAug stores them
        np.testing.assert_allclose(z["pose3d"][:, 0], 0, atol=1e-12)  # root-relative
        plain = {k: z[k] for k in ("pose3d", "pose2d")}
    write_3dhp_training_set(cmu, tmp_path / "train")
    ck = checkpoints["h36m16"]
    want = _mpjpe(ck, universal_poses(cmu.evaluation(H36M16)))
    full = load_domain(import_domain("mpi-inf-3dhp", "a", [test, tmp_path / "train"], tmp_path / "c"))
    assert len(full.evaluation()) == len(cmu.evaluation())
    assert _mpjpe(ck, universal_poses(full.evaluation())) == pytest.approx(want, abs=1e-3)
    assert _mpjpe(ck, full.evaluation()) == pytest.approx(_mpjpe(ck, cmu.evaluation(H36M16)), abs=1e-3)
    # PoseAug's own file has only pose3d and pose2d (normalised): the lifter sees the same input
    np.savez(tmp_path / "test_3dhp.npz", **plain)
    bare = load_domain(import_domain("mpi-inf-3dhp", "b", [tmp_path / "test_3dhp.npz", tmp_path / "train"], tmp_path / "c"))
    assert _mpjpe(ck, bare.evaluation()) == pytest.approx(want, abs=1e-3)
    with pytest.raises(PosedaInputError, match="no cameras"):
        import_domain("mpi-inf-3dhp", "c", [tmp_path / "test_3dhp.npz"], tmp_path / "c", {"adapt_on": "test"})


# ------------------------------------------------------------------ 3DPW

def test_3dpw_round_trip_through_sequence_pickles(tiny_target, tmp_path, checkpoints):
    d = load_domain("tiny-target", tiny_target)
    stems = write_3dpw(d, tmp_path / "3DPW", {"train": "train", "test": "test"})
    back = load_domain(import_domain("3dpw", "3dpw", [tmp_path / "3DPW"], tmp_path / "c"))
    match = {(s, "actor0"): v for s, v in stems.items()}
    # 3DPW has no ground-truth 2D of its joints: the importer projects the 3D, which the domain
    # stores in float32, so the 2D agrees to float32 rounding at 1000 px (1e-4 px), not 1e-6
    _same_views(d, back, match, joints=H36M16.joints, atol_2d=5e-4)
    assert back.layout.name == "h36m16"
    ck = checkpoints["h36m16"]
    assert _mpjpe(ck, back.evaluation()) == pytest.approx(_mpjpe(ck, d.evaluation(H36M16)), abs=1e-3)
    tr = load_domain(import_domain("3dpw", "3dpw-t", [tmp_path / "3DPW"], tmp_path / "c", {"adapt_on": "test"}))
    assert tr.meta["transductive"] and tr.meta["adapt_split"] == "test" and "transductive" in tr.splits["test"]
    assert tr.evaluation().protocol["split"] == "test (transductive: also adapted on)"


# ------------------------------------------------------------------ bad licensed files

def _truncate(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes()[: len(src.read_bytes()) // 2])
    return dst


def test_malformed_licensed_files_give_one_line_and_leave_no_domain(cmu, tiny_target, prepared_cache, tmp_path):
    h36m = load_domain("h36m", prepared_cache)
    two, three = _npz(export_domain(h36m, "videopose3d", tmp_path / "vp", subjects=["S1", "S11"]))
    write_3dhp_test_set(cmu, tmp_path / "ok" / "test", _one_view_per_subject(cmu))
    write_3dpw(load_domain("tiny-target", tiny_target), tmp_path / "ok" / "3DPW", {"train": "train", "test": "test"})
    pkl = sorted((tmp_path / "ok" / "3DPW").rglob("*.pkl"))[0]
    bad = tmp_path / "bad"
    no_key = bad / "nokey" / "data_3d_h36m.npz"
    no_key.parent.mkdir(parents=True)
    np.savez(no_key, other=np.zeros(3))
    evil = bad / "evil" / "sequenceFiles" / "test" / "x.pkl"
    evil.parent.mkdir(parents=True)
    evil.write_bytes(pickle.dumps({"sequence": "x", "jointPositions": [np.zeros((2, 72))], "cam_poses": np.zeros((2, 4, 4)),
                                   "cam_intrinsics": np.eye(3), "campose_valid": [np.ones(2)],
                                   "img_frame_ids": zipfile.ZipFile}, protocol=2))
    calib = bad / "calib" / "S1" / "Seq1"
    write_3dhp_training_set(cmu, bad / "calib")
    (calib / "camera.calibration").write_text("Skeletool Camera Calibration File V1.0\nname 0\n  intrinsic 1 2 three\n")
    cases = {
        "truncated 3D npz": ["h36m-vp3d", str(_truncate(three, bad / "t" / "data_3d_h36m.npz")), str(two)],
        "truncated 2D npz": ["h36m-vp3d", str(three), str(_truncate(two, bad / "t2" / "data_2d_h36m_gt.npz"))],
        "npz without positions": ["h36m-vp3d", str(no_key), str(two)],
        "two 3D files": ["h36m-vp3d", str(three), str(three)],
        "truncated v7.3 mat": ["mpi-inf-3dhp", str(_truncate(tmp_path / "ok" / "test" / "TS1" / "annot_data.mat",
                                                              bad / "m73" / "TS1" / "annot_data.mat").parent.parent), "--adapt-on", "test"],
        "truncated v5 mat": ["mpi-inf-3dhp", str(_truncate(tmp_path / "ok" / "test" / "TS5" / "annot_data.mat",
                                                            bad / "m5" / "TS5" / "annot_data.mat").parent.parent), "--adapt-on", "test"],
        "bad camera.calibration": ["mpi-inf-3dhp", str(tmp_path / "ok" / "test"), str(bad / "calib")],
        "truncated 3DPW pickle": ["3dpw", str(_truncate(pkl, bad / "p" / "sequenceFiles" / "test" / pkl.name)), "--adapt-on", "test"],
        "3DPW pickle with code": ["3dpw", str(evil), "--adapt-on", "test"],
        "no test set": ["mpi-inf-3dhp", str(bad / "calib")],
        "option of another kind": ["3dpw", str(tmp_path / "ok" / "3DPW"), "--train-stride", "2"],
        "bad stride": ["mpi-inf-3dhp", str(tmp_path / "ok" / "test"), "--adapt-on", "test", "--train-stride", "0"],
    }
    cache = tmp_path / "cache"
    for what, args in cases.items():
        r = CliRunner().invoke(app, ["data", "import", args[0], "dom", *args[1:], "--cache", str(cache)])
        lines = r.output.strip().splitlines()
        assert r.exit_code == 2 and len(lines) == 1 and lines[0].startswith("poseda: error: "), (what, r.output)
        assert "Traceback" not in r.output
        assert not (cache / "dom").exists() and not [p for p in cache.glob("*") if p.name != "dom"] if cache.exists() else True, what
