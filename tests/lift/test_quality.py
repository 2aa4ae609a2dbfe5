"""Measures of a lift that need no 3D truth (poseda.lift.quality)."""
import numpy as np

from poseda.lift.lifting import Lifted
from poseda.lift.quality import bone_variation, describe, fit_translation, jitter, measure, reprojection, runs
from poseda.skeleton.layouts import H36M17

K = np.array([1000.0, 1000.0, 640.0, 360.0])  # fx, fy, cx, cy


def _pose(rng):
    """A root-relative 17-joint body of about 1.7 m (a fixed random perturbation of a T-ish pose)."""
    base = np.zeros((17, 3))
    for j, p in enumerate(H36M17.parents):
        if p >= 0:
            base[j] = base[p] + rng.normal(0, 0.2, 3) * [1, 1, 0.3] + [0, -0.1 if j > 6 else 0.1, 0]
    return base - base[0]


def _project(p):
    return np.stack([K[0] * p[..., 0] / p[..., 2] + K[2], K[1] * p[..., 1] / p[..., 2] + K[3]], -1)


def test_the_translation_that_puts_a_pose_on_its_pixels_is_found_exactly():
    rng = np.random.default_rng(0)
    rel = np.stack([_pose(rng) for _ in range(5)])
    t = np.array([[0.3, -0.2, 4.0], [-1.0, 0.5, 6.5], [2.0, 0.0, 9.0], [0.0, 0.0, 3.0], [-0.5, 1.0, 12.0]])
    uv = _project(rel + t[:, None])
    np.testing.assert_allclose(fit_translation(rel, uv, K, np.ones((5, 17))), t, atol=1e-6)
    px, share = reprojection(rel, uv, K, np.ones((5, 17), bool))
    assert px.max() < 1e-6 and share.max() < 1e-8
    noisy = uv + rng.normal(0, 2.0, uv.shape)  # 2 px of noise: about 2 px of reprojection error
    px, _ = reprojection(rel, noisy, K, np.ones((5, 17), bool))
    assert 1.0 < np.median(px) < 3.0
    np.testing.assert_allclose(reprojection(rel, uv, K, np.ones((5, 17), bool), root=t)[0], 0, atol=1e-6)


def test_rigid_motion_keeps_bones_and_a_growing_bone_is_seen():
    rng = np.random.default_rng(1)
    pose = _pose(rng)
    angles = np.linspace(0, 1.5, 30)
    rot = np.stack([[[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]] for a in angles])
    moving = np.einsum("tij,kj->tki", rot, pose)
    rows = runs(np.zeros(30, int), np.zeros(30, int), np.arange(30))
    assert len(rows) == 1 and np.abs(bone_variation(moving, H36M17.parents, rows)).max() < 1e-9
    stretched = moving.copy()
    knee, ankle = H36M17.index("RKnee"), H36M17.index("RAnkle")
    stretched[:, ankle] = moving[:, knee] + (moving[:, ankle] - moving[:, knee]) * np.linspace(0.8, 1.2, 30)[:, None]
    cv = bone_variation(stretched, H36M17.parents, rows)[0]
    child = [j for j, p in enumerate(H36M17.parents) if p >= 0]
    assert cv[child.index(ankle)] > 0.1 and np.delete(cv, child.index(ankle)).max() < 1e-9


def test_jitter_is_the_acceleration_and_runs_break_at_gaps():
    t = np.arange(20) / 25.0
    x = np.zeros((20, 17, 3))
    x[..., 0] = (0.5 * 2.0 * t ** 2)[:, None]  # 2 m/s^2 along x
    rows = runs(np.zeros(20, int), np.zeros(20, int), np.r_[np.arange(10), np.arange(30, 40)])
    assert [len(r) for r in rows] == [10, 10]  # a gap in the frames starts a new run
    np.testing.assert_allclose(jitter(x, rows, 25.0), 2.0, rtol=1e-6)
    np.testing.assert_allclose(jitter(x[:, :, :] * 0 + 1.0, rows, 25.0), 0.0)


def test_measure_reports_each_part_on_a_clean_lift():
    rng = np.random.default_rng(2)
    pose = _pose(rng)
    n = 40
    rel = np.repeat(pose[None], n, 0)
    root = np.stack([np.linspace(-1, 1, n), np.zeros(n), np.full(n, 5.0)], 1)
    uv = _project(rel + root[:, None])
    lifted = Lifted(tuple(H36M17.joints), np.zeros(n, int), np.zeros(n, int), np.arange(n), np.ones(n, bool), rel, uv,
                    np.zeros((n, 17), bool), root=None, meta={"parents": list(H36M17.parents)})
    q = measure(lifted, K, 25.0)
    assert q["bone_length_cv_median"] < 1e-9 and q["reprojection_px_median"] < 1e-6 and q["jitter_ms2_median"] < 1e-9
    assert q["foot_sliding_cm_median"] is None and q["tracks_measured"] == 1
    line = describe(q)
    assert line.startswith("quality without 3D truth: bone lengths vary 0.0%") and "reprojection 0.0 px" in line
    assert "too few frames" in describe(measure(Lifted(tuple(H36M17.joints), np.zeros(1, int), np.zeros(1, int), np.zeros(1, int),
                                                       np.zeros(1, bool), rel[:1], uv[:1], np.ones((1, 17), bool)), K, 25.0))


def test_a_lift_is_clearly_worse_only_by_a_factor_and_a_noticeable_amount():
    """The demo's guard for --adapt: vtest's jitter going 0.1 -> 0.2 m/s^2 (twice, but invisible) is
    not worse; a reprojection going 5.6% -> 9.8% of the body's height is, and so is a lost measure."""
    from poseda.lift.quality import clearly_worse

    before = {"bone_length_cv_median": 0.076, "reprojection_of_height_median": 0.056, "jitter_ms2_median": 0.1}
    assert clearly_worse(before, {**before, "jitter_ms2_median": 0.2}) == []
    assert clearly_worse(before, {**before, "jitter_ms2_median": 1.2}) == ["jitter_ms2_median"]
    assert clearly_worse(before, {**before, "reprojection_of_height_median": 0.098}) == ["reprojection_of_height_median"]
    assert clearly_worse(before, {**before, "reprojection_of_height_median": 0.08}) == []  # under 1.5 times
    assert clearly_worse(before, {**before, "bone_length_cv_median": None}) == ["bone_length_cv_median"]
    assert clearly_worse({"jitter_ms2_median": None}, {"jitter_ms2_median": 3.0}) == []  # nothing to compare with
