"""One world from the people: the pieces on exact data, and the whole estimate on synthetic scenes
of real motion capture seen by known cameras (``tests/lift/scenes.py``), lifted by the bundled
lifter from jittered 2D. The figures over many scenes: ``benchmarks/scene_accuracy.py``."""
import math

import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.lift.scene import ANKLE_HEIGHT_M, estimate_scene, fit_ground, foot_contacts, lock_feet, sliding_m
from poseda.skeleton.layouts import CANONICAL

from .scenes import camera_rotation, clips, lift_scene, make_scene, person_distances

JOINTS = tuple(CANONICAL.joints)


def test_fit_ground_recovers_a_plane_despite_outliers():
    rng = np.random.default_rng(0)
    n = np.array([0.1, -0.9, -0.4])
    n /= np.linalg.norm(n)
    d = 4.0
    pts = rng.uniform(-5, 5, (300, 3)) + np.array([0, 0, 12])
    pts -= ((pts @ n + d)[:, None]) * n  # onto the plane
    pts += rng.normal(0, 0.01, pts.shape)
    pts[:30] += n * rng.uniform(0.5, 2, (30, 1))  # feet in the air
    fn, fd, w = fit_ground(pts)
    assert math.degrees(math.acos(fn @ n)) < 0.5 and abs(fd - d) < 0.02 and (w[:30] < 0.1).all()


def test_camera_rotation_looks_down_by_the_pitch():
    r = camera_rotation(30.0)
    fwd = r[2]
    assert math.degrees(math.asin(-fwd[2])) == pytest.approx(30.0) and np.allclose(r @ r.T, np.eye(3))
    assert r[1] @ np.array([0, 0, 1.0]) < 0  # the image's down is the world's down


def _walker(frames=60, fps=30.0, stride=0.7):
    """Ankles of a walker: each foot planted for half a step, then swung forward 2 strides."""
    t = np.arange(frames)
    world = np.zeros((frames, len(JOINTS), 3))
    period = int(fps)  # one step per foot per second
    for s, name in enumerate(("LAnkle", "RAnkle")):
        phase = (t + s * period // 2) % period
        cycle = (t + s * period // 2) // period
        swing = np.clip((phase - period / 2) / (period / 2), 0, 1)
        world[:, JOINTS.index(name), 1] = (cycle + swing) * 2 * stride
        world[:, JOINTS.index(name), 2] = ANKLE_HEIGHT_M + 0.15 * np.sin(np.pi * swing)
    return world


def test_contacts_and_foot_locking():
    world = _walker()
    c = foot_contacts(world, 30.0, JOINTS)
    assert 0.35 < c.mean() < 0.65 and c.any(1).mean() > 0.9  # each foot down about half the time, nearly always one
    # per-frame depth noise makes a planted foot slide; locking holds it where it landed
    rng = np.random.default_rng(1)
    noisy = world.copy()
    jitter = rng.normal(0, 0.03, (len(world), 1, 2))
    noisy[..., :2] += jitter
    before = sliding_m(noisy, c, JOINTS)
    after = sliding_m(lock_feet(noisy, c, JOINTS), c, JOINTS)
    assert before.mean() > 0.02 and after.mean() < before.mean() / 5


@pytest.fixture(scope="module")
def h36m_walks(prepared_cache):
    return clips(prepared_cache, 150, ("h36m",))


@pytest.mark.data
@pytest.mark.parametrize("height, pitch, focal", [(5.0, 20.0, 1000.0), (3.0, 12.0, 1400.0), (8.0, 30.0, 900.0)])
def test_the_camera_and_the_people_are_recovered(h36m_walks, height, pitch, focal):
    truth = make_scene(h36m_walks, seed=int(height), people=6, height_m=height, pitch_deg=pitch, focal_px=focal)
    assert len(truth.world) == 6
    rel, uv, track, frame, joints, k = lift_scene(truth, noise_px=1.5, seed=1, focal_px=focal)
    sc = estimate_scene(rel, uv, track, frame, joints, k, truth.fps)
    assert abs(sc.height_m / height - 1) < 0.10, sc.report
    assert abs(sc.pitch_deg - pitch) < 3.0 and abs(sc.roll_deg) < 4.0, sc.report
    est = [sc.joints[track == i][:, 0, :2].mean(0) for i in range(6)]
    tru = [w[:, 0, :2].mean(0) for w in truth.world]
    err = np.abs(person_distances(est) / person_distances(tru) - 1)
    assert np.median(err) < 0.10 and err.max() < 0.2
    # sliding while the motion capture has the foot on the ground, and the contacts found
    slide, tp, n_est = [], 0, 0
    for i, w in enumerate(truth.world):
        rows = np.flatnonzero(track == i)
        true_c = foot_contacts(w, truth.fps, JOINTS)
        tp += int((true_c & sc.contact[rows]).sum())
        n_est += int(sc.contact[rows].sum())
        for s, name in enumerate(("LAnkle", "RAnkle")):
            p = sc.joints[rows, joints.index(name), :2]
            both = true_c[1:, s] & true_c[:-1, s]
            slide.append(np.linalg.norm(np.diff(p, axis=0), axis=-1)[both])
    assert np.concatenate(slide).mean() < 0.02 and tp / n_est > 0.85
    # the world: z up, feet on the floor, the camera above the origin
    ankles = sc.joints[:, [joints.index("LAnkle"), joints.index("RAnkle")], 2]
    assert abs(np.median(ankles.min(1)) - ANKLE_HEIGHT_M) < 0.03
    cam_in_world = sc.rotation @ (np.zeros(3) - sc.origin_cam)
    np.testing.assert_allclose(cam_in_world, [0, 0, sc.height_m], atol=1e-9)


def test_too_little_to_see_a_floor_is_one_line():
    rel = np.zeros((5, len(JOINTS), 3))
    with pytest.raises(PosedaInputError, match="at least 10 lifted frames"):
        estimate_scene(rel, np.zeros((5, len(JOINTS), 2)), np.zeros(5, int), np.arange(5), JOINTS,
                       np.array([1000.0, 1000, 640, 360]), 30.0)
    with pytest.raises(PosedaInputError, match="Head"):
        estimate_scene(rel[:, :3], np.zeros((5, 3, 2)), np.zeros(5, int), np.arange(5), JOINTS[:3],
                       np.array([1000.0, 1000, 640, 360]), 30.0)


@pytest.mark.data
def test_lift_world_writes_one_world_in_every_format(h36m_walks, tmp_path):
    from typer.testing import CliRunner

    from poseda.cli import app
    from poseda.lift.lifting import read_lifted

    from .test_trc import read_trc

    truth = make_scene(h36m_walks, seed=3, people=4, height_m=4.0, pitch_deg=18.0, focal_px=1100.0)
    kp = np.full((len(truth.uv[0]), len(truth.uv), 17, 2), np.nan)
    for i, p in enumerate(truth.uv):
        kp[:, i] = p
    np.savez(tmp_path / "scene.npz", keypoints=kp, image_size=np.array(truth.image_size))
    base = ["lift", str(tmp_path / "scene.npz"), "--world", "--focal", "1100", "--fps", "30"]
    r = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "w.json")])
    assert r.exit_code == 0, r.output
    assert "ground: camera" in r.output and "world frame (z up)" in r.output
    lifted = read_lifted(tmp_path / "w.json")
    w = lifted.meta["world"]
    assert abs(w["height_m"] / 4.0 - 1) < 0.1 and abs(w["pitch_deg"] - 18.0) < 3 and "z up" in w["frame"]
    assert lifted.world.shape == lifted.joints3d.shape and lifted.contact.dtype == bool and lifted.contact.any()
    assert str(tmp_path) not in (tmp_path / "w.json").read_text()
    r = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "w.trc"), "--trc-together"])
    assert r.exit_code == 0, r.output
    t = read_trc((tmp_path / "w.trc").read_text())
    assert len(t["markers"]) == 4 * len(lifted.joints) and np.isfinite(t["xyz"]).all()
    np.testing.assert_allclose(t["xyz"][:, :len(lifted.joints), 1], lifted.world[lifted.track == 0][..., 2], atol=1e-4)
    r = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "w.bvh")])
    assert r.exit_code == 0, r.output
    from poseda.datasets.bvh import bvh_fk, read_bvh_file

    for i in range(4):
        motion = read_bvh_file(tmp_path / f"w-person{i}.bvh")
        pos = bvh_fk(motion)  # [T, joints, 3] cm, y up
        names = list(motion.names)
        feet = np.minimum(pos[:, names.index("LAnkle"), 1], pos[:, names.index("RAnkle"), 1]) / 100  # above the floor
        assert abs(np.median(feet) - ANKLE_HEIGHT_M) < 0.03
        np.testing.assert_allclose(pos[:, names.index("Pelvis"), 1] / 100, lifted.world[lifted.track == i][:, 0, 2], atol=2e-3)


@pytest.mark.data
def test_people_who_show_no_floor_are_refused_in_one_line(h36m_walks):
    """2D that no floor explains (each row's keypoints thrown somewhere else in the image): the
    fit is refused rather than a world made up."""
    truth = make_scene(h36m_walks, seed=2, people=6, height_m=5.0, pitch_deg=20.0, focal_px=1000.0)
    rel, uv, track, frame, joints, k = lift_scene(truth, focal_px=1000.0)
    rng = np.random.default_rng(0)
    scrambled = uv - uv.mean(1, keepdims=True)
    scrambled = scrambled * rng.uniform(0.2, 3.0, (len(uv), 1, 1)) + rng.uniform([0, 0], [1280, 720], (len(uv), 1, 2))
    with pytest.raises(PosedaInputError, match="do not show one floor"):
        estimate_scene(rel, scrambled, track, frame, joints, k, truth.fps)
