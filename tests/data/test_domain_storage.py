"""Writing and reading prepared domains: atomic writes, checks on load, custom npz motion."""
import json

import numpy as np
import pytest

from poseda.data import domain as domain_mod
from poseda.data.domain import Domain, write_domain
from poseda.domains.builders import build_custom
from poseda.domains.rig import load_rig
from poseda.errors import PosedaInputError
from poseda.skeleton.layouts import H36M16


def _tiny(n=6):
    meta = dict(name="t", role="target", fps=30.0, joint_mask=[True] * 17, splits={"train": "a", "test": "e"},
                train_split=None, eval_split="test", adapt_split="train",
                views=[dict(sequence="s", subject="s", action="a", split="train", camera="c", frames=n // 2),
                       dict(sequence="s", subject="s", action="a", split="test", camera="c", frames=n - n // 2)])
    arrays = dict(joints3d=np.random.default_rng(0).normal(size=(n, 17, 3)).astype(np.float32),
                  joints2d=np.zeros((n, 17, 2), np.float32), view=np.repeat([0, 1], [n // 2, n - n // 2]).astype(np.int32),
                  frame=np.arange(n, dtype=np.int32), intrinsics=np.ones((2, 4)), distortion=np.zeros((2, 5)),
                  image_size=np.full((2, 2), 100.0), cam_rotation=np.tile(np.eye(3), (2, 1, 1)), cam_centre=np.zeros((2, 3)))
    return meta, arrays


def test_round_trip_and_split_api(tmp_path):
    meta, arrays = _tiny()
    d = Domain(write_domain(tmp_path / "t", meta, arrays))
    assert len(d) == 6 and d.meta["num_frames"] == 6
    assert len(d.adaptation()) == 3 and len(d.evaluation()) == 3
    np.testing.assert_array_equal(d.evaluation().joints3d, arrays["joints3d"][3:])
    sub = d.evaluation(H36M16)
    assert sub.joints3d.shape == (3, 16, 3) and sub.protocol["joints"] == "h36m16"
    with pytest.raises(PosedaInputError, match="unknown split 'val'"):
        d.frames_of("val")


def test_failed_write_leaves_old_copy_and_no_temp(tmp_path, monkeypatch):
    meta, arrays = _tiny()
    write_domain(tmp_path / "t", meta, arrays)
    calls = {"n": 0}
    real_save = np.save

    def failing_save(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real_save(*a, **k)

    monkeypatch.setattr(domain_mod.np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        write_domain(tmp_path / "t", dict(meta, name="new"), arrays)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]  # no temporary folder left
    assert json.loads((tmp_path / "t" / "meta.json").read_text())["name"] == "t"  # the old copy is intact


def test_load_checks(tmp_path):
    meta, arrays = _tiny()
    folder = write_domain(tmp_path / "t", meta, arrays)
    (folder / "joints2d.npy").write_bytes(b"garbage")
    with pytest.raises(PosedaInputError, match="joints2d.npy: missing or corrupt"):
        Domain(folder)
    with pytest.raises(PosedaInputError, match="not a prepared domain"):
        Domain(tmp_path)


def test_target_api_raises_for_training(tmp_path):
    meta, arrays = _tiny()
    d = Domain(write_domain(tmp_path / "t", meta, arrays))
    with pytest.raises(PosedaInputError, match="target domain: its 3D is not for training"):
        d.training()
    assert not hasattr(d.adaptation(), "joints3d")


def test_custom_domain_from_npz_in_millimetres(tmp_path):
    """A user's own motion: [T, 17, 3] z-up in millimetres (units guessed), a source role."""
    folder = tmp_path / "motion"
    folder.mkdir()
    t = np.linspace(0, 2 * np.pi, 60)
    for k in range(5):
        pose = np.zeros((60, 17, 3))
        heights = np.array([950, 950, 500, 80, 950, 500, 80, 1150, 1400, 1500, 1650, 1400, 1150, 900, 1400, 1150, 900.0])
        lateral = np.array([0, -100, -100, -100, 100, 100, 100, 0, 0, 0, 0, 180, 200, 220, -180, -200, -220.0])
        pose[..., 0] = lateral + 300 * np.sin(t)[:, None] * (k + 1) / 5
        pose[..., 2] = heights
        np.savez(folder / f"clip{k}.npz", joints3d=pose)
    meta, arrays = build_custom("mine", folder, load_rig("handheld"), role="source", up="z")
    assert meta["role"] == "source" and meta["train_split"] == "train"
    d = Domain(write_domain(tmp_path / "mine", meta, arrays))
    j = np.asarray(d.arrays["joints3d"])
    bone = np.linalg.norm(j[:, 10] - j[:, 0], axis=-1)
    np.testing.assert_allclose(bone, 0.7, atol=1e-4)  # millimetres -> metres
    np.savez(folder / "bad.npz", joints3d=np.zeros((4, 15, 3)))
    with pytest.raises(PosedaInputError, match=r"bad.npz: joints3d has shape \(4, 15, 3\)"):
        build_custom("mine", folder, load_rig("handheld"))
