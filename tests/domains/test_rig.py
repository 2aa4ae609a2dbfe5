import numpy as np
import pytest
import torch

from poseda.domains.rig import camera_height_pitch, load_rig, parse_rig, sample_cameras, sequence_rng
from poseda.errors import PosedaInputError
from poseda.geometry.camera import project, world_to_camera

GOOD = """
name: t
groups:
  - name: a
    count: 2
    image_size: [1920, 1080]
    focal_px: [1000, 2000]
    distance_m: [3, 5]
    height_m: [1, 2]
    aim_height_m: [0.9, 1.0]
"""


def test_builtin_rigs_load():
    r = load_rig("mpi-inf-3dhp")
    assert r.num_cameras == 8
    assert sorted(g.image_size for g in r.groups).count((2048, 2048)) == 3
    assert load_rig("handheld").num_cameras == 1


@pytest.mark.parametrize("bad,msg", [
    (GOOD.replace("focal_px", "focal"), "unknown field"),
    (GOOD.replace("count: 2", "count: -1"), "'count' must be an integer from 1 to 256"),
    (GOOD.replace("[3, 5]", "[5, 3]"), "'distance_m': low 5.0 is above high 3.0"),
    (GOOD.replace("[1000, 2000]", "[1000]"), "'focal_px' must be a list of 2 finite numbers"),
    (GOOD.replace("    aim_height_m: [0.9, 1.0]\n", ""), "missing field 'aim_height_m'"),
    ("groups: [", "not valid YAML"),
    ("name: x\n", "'groups' must be a non-empty list"),
])
def test_rig_errors_name_file_and_field(bad, msg):
    with pytest.raises(PosedaInputError, match=msg) as e:
        parse_rig(bad, "my-rig.yaml")
    assert str(e.value).startswith("my-rig.yaml")


def test_sampling_is_seeded_and_frames_the_subject():
    rig = load_rig("mpi-inf-3dhp")
    a = sample_cameras(rig, sequence_rng(7, "seq"), np.zeros(2))
    b = sample_cameras(rig, sequence_rng(7, "seq"), np.zeros(2))
    c = sample_cameras(rig, sequence_rng(8, "seq"), np.zeros(2))
    np.testing.assert_array_equal(a.rotation, b.rotation)
    assert not np.allclose(a.rotation, c.rotation)
    # a standing body at the centre (pelvis 0.95 m, head 1.7 m) is in front and inside every image
    body = torch.tensor([[0, 0, 0.95], [0, 0, 1.7], [0, 0, 0.05]], dtype=torch.float64)
    for i in range(rig.num_cameras):
        xc = world_to_camera(body, torch.from_numpy(a.rotation[i]), torch.from_numpy(a.centre[i]))
        assert (xc[:, 2] > 2.5).all()
        uv = project(xc, torch.from_numpy(a.intrinsics[i])).numpy()
        assert (uv >= 0).all() and (uv < a.image_size[i]).all()
        dist = np.linalg.norm(a.centre[i, :2])
        assert 3.5 <= dist <= 5.5
    heights = dict(zip(a.group, a.centre[:, 2]))
    assert heights["floor"] < 0.6 and heights["ceiling"] > 2.3


def test_broadcast_rig_sees_from_the_stand_and_the_ground():
    rig = load_rig("broadcast")
    assert rig.num_cameras == 3
    body = torch.tensor([[0, 0, 0.95], [0, 0, 1.7], [0, 0, 0.05]], dtype=torch.float64)
    for seed in range(5):
        cams = sample_cameras(rig, sequence_rng(seed, "clip"), np.zeros(2))
        for i in range(rig.num_cameras):
            xc = world_to_camera(body, torch.from_numpy(cams.rotation[i]), torch.from_numpy(cams.centre[i]))
            uv = project(xc, torch.from_numpy(cams.intrinsics[i])).numpy()
            assert (xc[:, 2] > 2.0).all() and (uv >= 0).all() and (uv < cams.image_size[i]).all()
        stand = [i for i, g in enumerate(cams.group) if g == "stand"]
        assert len(stand) == 2 and (cams.centre[stand, 2] >= 6.0).all()
        assert (cams.centre[[i for i, g in enumerate(cams.group) if g == "ground"], 2] <= 0.6).all()


def test_overhead_and_ground_rigs_look_steeply_down_and_up():
    """The two rigs of issue 30's GPA-rule check: what their files promise about the views."""
    body = torch.tensor([[0, 0, 0.95], [0, 0, 1.8], [0, 0, 0.05]], dtype=torch.float64)
    for name, pitch_range, height_range in (("overhead", (-81, -43), (5.0, 9.0)), ("ground", (3, 27), (0.1, 0.4))):
        rig = load_rig(name)
        pitches, seen = [], []
        for seed in range(20):
            cams = sample_cameras(rig, sequence_rng(seed, "clip"), np.zeros(2))
            height, pitch = camera_height_pitch(cams.rotation, cams.centre)
            assert ((height >= height_range[0]) & (height <= height_range[1])).all(), name
            pitches.extend(pitch)
            for i in range(rig.num_cameras):
                xc = world_to_camera(body, torch.from_numpy(cams.rotation[i]), torch.from_numpy(cams.centre[i]))
                uv = project(xc, torch.from_numpy(cams.intrinsics[i])).numpy()
                assert (xc[:, 2] > 0.5).all(), (name, seed, i)
                seen.append(bool((uv >= 0).all() and (uv < cams.image_size[i]).all()))
        assert np.mean(seen) >= 0.95, (name, np.mean(seen))  # a low camera close by may cut the feet off, rarely
        assert pitch_range[0] <= min(pitches) and max(pitches) <= pitch_range[1], (name, min(pitches), max(pitches))
