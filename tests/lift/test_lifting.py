import csv
import json

import numpy as np
import pytest
import torch
from torch import nn

from poseda.errors import PosedaInputError
from poseda.geometry.camera import project
from poseda.keypoints.camera import make_camera
from poseda.keypoints.options import KeypointReading
from poseda.keypoints.tracks import Track
from poseda.lift.lifting import lift_file, lift_tracks, read_lifted
from poseda.lift.options import LiftOptions
from poseda.models import build_lifter
from poseda.skeleton.layouts import H36M17
from tests.lift.helpers import SIZE, untrained_checkpoint, walking, write_coco


class FixedPose(nn.Module):
    """A lifter (the interface of poseda.models.base) that always answers the same 3D pose."""

    receptive_field = 1
    layout = H36M17

    def __init__(self, pose):
        super().__init__()
        self.register_buffer("pose", torch.as_tensor(pose, dtype=torch.float32))

    def forward(self, x):
        return self.pose.expand(x.shape[0], -1, -1)



def _opts(checkpoint, keypoints, out, size=SIZE, **options) -> LiftOptions:
    return LiftOptions(keypoints=keypoints, out=out, checkpoint=checkpoint, reading=KeypointReading(image_size=size), **options)

def _track(kp, tid=0):
    t = len(kp)
    return Track(tid, np.arange(t), kp, np.ones(kp.shape[:2]), np.zeros(kp.shape[:2], bool), np.ones(t, bool))


def test_absolute_root_from_weak_perspective_matches_the_true_position():
    """A pose placed at a known position and projected with a known camera: the lifted root
    comes back close to where it was (weak perspective: within a few percent in depth)."""
    g = torch.Generator().manual_seed(0)
    rel = torch.randn(17, 3, generator=g) * 0.15
    rel[:, 1] = torch.linspace(-0.8, 0.9, 17)  # a tall, thin body: 1.7 m
    rel -= rel[0].clone()
    cam = make_camera((1000, 1000), focal=1100, center=(480, 520))
    roots = torch.tensor([[0.3, 0.2, 4.0], [-0.8, 0.1, 6.5], [0.0, -0.1, 3.0]])
    k = torch.tensor(cam.k, dtype=torch.float32)
    kp = project(rel[None] + roots[:, None], k.expand(3, 4)).numpy().astype(np.float64)
    lifted = lift_tracks(FixedPose(rel), H36M17, [_track(kp)], cam, flip_test=False, absolute=True)
    np.testing.assert_allclose(lifted.joints3d, rel.expand(3, -1, -1).numpy(), atol=1e-6)
    err = np.abs(lifted.root - roots.numpy())
    assert (err[:, 2] / roots[:, 2].numpy()).max() < 0.05
    assert err[:, :2].max() < 0.05


def test_temporal_windows_stay_inside_each_track():
    torch.manual_seed(0)
    model = build_lifter("videopose3d", H36M17, filter_widths=[3, 3]).eval()
    a, b = walking(7), walking(5, start=(30, 10))
    cam = make_camera(SIZE)
    both = lift_tracks(model, H36M17, [_track(a, 0), _track(b, 1)], cam, flip_test=False)
    alone = lift_tracks(model, H36M17, [_track(b, 1)], cam, flip_test=False)
    np.testing.assert_allclose(both.joints3d[both.track == 1], alone.joints3d, atol=1e-5)
    # the first frame's window is the first frame repeated (edge padding), as in training
    x = torch.as_tensor(((a / SIZE[0]) * 2 - [1, SIZE[1] / SIZE[0]]), dtype=torch.float32)
    win = x[np.clip(np.arange(-4, 5), 0, 6)][None]
    with torch.no_grad():
        ref = model(win)[0]
    np.testing.assert_allclose(both.joints3d[0], (ref - ref[0]).numpy(), atol=1e-5)
    assert np.allclose(both.joints3d[:, 0], 0)


def test_outputs_round_trip_with_names_units_and_nothing_half_written(tmp_path):
    ckpt = untrained_checkpoint(tmp_path / "sb")
    write_coco(tmp_path / "k.json", np.concatenate([walking(6), walking(6, start=(0, 300))]), frames=list(range(6)) * 2,
               ids=[0] * 6 + [1] * 6)
    outs = {}
    for suffix in (".npz", ".json", ".csv"):
        lifted, report = lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / f"o{suffix}", absolute=True))
        outs[suffix] = lifted
    assert report[0] == "2 track(s), 12 frame(s) lifted"
    back_npz, back_json = read_lifted(tmp_path / "o.npz"), read_lifted(tmp_path / "o.json")
    for back in (back_npz, back_json):
        assert back.joints == H36M17.joints and back.meta["units"] == "metres" and "camera frame" in back.meta["coordinates"]
        np.testing.assert_allclose(back.joints3d, outs[".npz"].joints3d, atol=1e-4)
        np.testing.assert_allclose(back.root, outs[".npz"].root, atol=1e-4)
        assert back.track.tolist() == [0] * 6 + [1] * 6
    meta = back_json.meta
    assert meta["camera"]["source"].startswith("default: focal length = image diagonal")
    assert meta["input"]["keypoints"] == "coco17" and meta["model"]["joint_set"] == "h36m17"
    lines = (tmp_path / "o.csv").read_text().splitlines()
    assert lines[0].startswith("# poseda lift: ") and json.loads(lines[0][15:])["units"] == "metres"
    header = next(csv.reader([lines[1]]))
    assert header[:6] == ["track", "segment", "frame", "detected", "Pelvis_x_m", "Pelvis_y_m"] and header[-4] == "root_x_m"
    assert len(lines) == 2 + 12
    with pytest.raises(PosedaInputError, match="unknown output type '.txt'"):
        lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / "o.txt"))
    with pytest.raises(PosedaInputError, match="pass --image-size"):
        lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / "x.npz", size=None))
    assert not (tmp_path / "x.npz").exists()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    before = sorted(p.name for p in tmp_path.iterdir())
    import poseda.lift.lifting as lifting

    orig = lifting.np.savez_compressed
    lifting.np.savez_compressed = boom
    try:
        with pytest.raises(RuntimeError):  # replacing the earlier output (--force) and failing half-way
            lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / "o.npz", force=True))
    finally:
        lifting.np.savez_compressed = orig
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # old output kept, no temporary left
    assert read_lifted(tmp_path / "o.npz").joints3d.shape == (12, 17, 3)


def test_bvh_per_person_angles_in_csv_and_smoothing(tmp_path):
    from poseda.datasets.bvh import bvh_fk, read_bvh_file
    from poseda.lift.smoothing import Smoothing

    ckpt = untrained_checkpoint(tmp_path / "sb")
    write_coco(tmp_path / "k.json", np.concatenate([walking(8), walking(8, start=(0, 300))]), frames=list(range(8)) * 2,
               ids=[0] * 8 + [4] * 8)
    lifted, _ = lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / "m.bvh", fps=25.0))
    assert sorted(p.name for p in tmp_path.glob("*.bvh")) == ["m-person0.bvh", "m-person4.bvh"]
    b = read_bvh_file(tmp_path / "m-person4.bvh")
    assert abs(b.fps - 25.0) < 1e-6 and b.motion.shape[0] == 8
    p = bvh_fk(b)[:, [b.names.index(n) for n in H36M17.joints]] / 100 * np.array([1, -1, -1])
    mine = lifted.joints3d[lifted.track == 4]
    bones = lambda q: np.linalg.norm(q[:, 1:] - q[:, list(H36M17.parents[1:])], axis=-1)  # noqa: E731
    assert np.allclose(bones(p), np.median(bones(mine), 0), atol=1e-4)  # the lifted track's median bone lengths
    lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / "a.csv", angles=True))
    header = (tmp_path / "a.csv").read_text().splitlines()[1].split(",")
    assert "RKnee_flexion_deg" in header and "LElbow_flexion_deg" in header
    rough, _ = lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / "r.npz"))
    smooth, _ = lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / "s.npz",
                                smoothing=Smoothing("savgol", window=5, order=1)))
    acc = lambda q: np.abs(np.diff(q[:8], 2, axis=0)).mean()  # noqa: E731
    assert acc(smooth.joints3d) < acc(rough.joints3d) and read_lifted(tmp_path / "s.npz").meta["smoothing"]["window"] == 5
    assert np.allclose(smooth.joints3d[:, 0], 0)
    with pytest.raises(PosedaInputError, match="--fps"):
        lift_file(_opts(ckpt, tmp_path / "k.json", tmp_path / "f.npz", fps=0.0))


def test_lifter_api_lifts_an_array_and_fills_missing_joints(tmp_path):
    from poseda import Lifter
    from poseda.keypoints.formats import COCO17, keypoints_from_h36m

    ckpt = untrained_checkpoint(tmp_path / "sb")
    lifter = Lifter.load(ckpt)
    kp = keypoints_from_h36m(COCO17, walking(10))
    xyz = lifter.lift(kp, image_size=SIZE)
    assert xyz.shape == (10, 17, 3) and np.isfinite(xyz).all() and np.allclose(xyz[:, 0], 0)
    lifted, _ = lift_file(_opts(ckpt, write_coco(tmp_path / "k.json", walking(10)), tmp_path / "o.npz"))
    assert np.allclose(xyz, lifted.joints3d, atol=1e-6)  # the same as poseda lift on the same keypoints
    holed = kp.copy()
    holed[3, 5] = np.nan
    assert np.isfinite(lifter.lift(holed, image_size=SIZE)).all()
    with pytest.raises(PosedaInputError, match="keypoints"):
        lifter.lift(kp[:, :10], image_size=SIZE)


def test_bvh_of_a_person_whose_joints_are_never_seen_is_one_line(tmp_path):
    import subprocess
    import sys

    ckpt = untrained_checkpoint(tmp_path / "sb")
    scores = np.ones((6, 17))
    scores[:, [15, 16]] = 0.0  # COCO ankles never seen (the feet are out of the picture)
    write_coco(tmp_path / "k.json", walking(6), scores=scores)
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "lift", str(tmp_path / "k.json"), "-c", str(ckpt), "-o",
                        str(tmp_path / "m.bvh"), "--image-size", "480x640"], capture_output=True, text=True)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "Ankle" in lines[0] and "no person could be lifted" in lines[0], r.stderr
    assert not list(tmp_path.glob("*.bvh"))
