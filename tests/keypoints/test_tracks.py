import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.keypoints.readers import read_keypoints
from poseda.keypoints.tracks import assign_ids, build_tracks, fill_missing
from poseda.skeleton.layouts import H36M16, H36M17
from tests.lift.helpers import walking, write_coco

H = {n: i for i, n in enumerate(H36M17.joints)}


def test_fill_missing_interpolates_linearly_and_holds_the_ends():
    t = np.arange(6, dtype=float)
    kp = np.stack([np.stack([t, 2 * t], -1), np.stack([t, -t], -1)], 1)  # [6, 2, 2]
    valid = np.ones((6, 2), bool)
    valid[[0, 2, 3], 0] = False
    valid[[4, 5], 1] = False
    noisy = kp.copy()
    noisy[~valid] = 99.0
    out, seen = fill_missing(noisy, valid)
    np.testing.assert_allclose(out[1:, 0], kp[1:, 0])  # inner gap: exactly linear
    np.testing.assert_allclose(out[0, 0], kp[1, 0])  # before the first observation: held
    np.testing.assert_allclose(out[4:, 1], np.repeat(kp[3:4, 1], 2, 0))  # after the last: held
    assert seen.all()
    _, seen = fill_missing(noisy, np.zeros((6, 2), bool))
    assert not seen.any()


def test_two_people_without_ids_are_tracked_through_shuffled_order(tmp_path):
    a = walking(12, start=(-120, 0), step=(4, 0))
    b = walking(12, start=(120, 0), step=(-4, 1))
    rng = np.random.default_rng(0)
    poses, frames, truth = [], [], []
    for t in range(12):
        for who in rng.permutation(2):
            poses.append((a, b)[who][t])
            frames.append(t)
            truth.append(who)
    det = read_keypoints(write_coco(tmp_path / "two.json", np.stack(poses), frames=frames))
    ids = assign_ids(det)
    truth = np.asarray(truth)[np.lexsort((np.zeros(len(frames)), frames))]
    assert len(np.unique(ids)) == 2
    for who in (0, 1):  # each true person keeps one id
        assert len(np.unique(ids[truth == who])) == 1
    tracks, rep = build_tracks(det, H36M17)
    assert len(tracks) == 2 and rep.frames == 24 and not rep.dropped
    for tr in tracks:
        step = np.abs(np.diff(tr.keypoints[:, H["Pelvis"], 0]))
        assert step.max() < 5  # no jumps between the two people


def test_gaps_low_scores_and_missing_people_are_filled_and_reported(tmp_path):
    poses = walking(20)
    keep = [t for t in range(20) if t not in (5, 6)]  # the person is not detected in frames 5 and 6
    scores = np.ones((len(keep), 17))
    scores[3, 15] = 0.1  # left ankle (COCO 15) unsure in frame 3
    det = read_keypoints(write_coco(tmp_path / "gap.json", poses[keep], frames=keep, scores=scores))
    tracks, rep = build_tracks(det, H36M16, min_score=0.3)
    (tr,) = tracks
    assert tr.frames.tolist() == list(range(20)) and tr.detected.sum() == 18 and not tr.detected[5:7].any()
    la = H36M16.index("LAnkle")
    assert tr.filled[3, la] and tr.filled[3].sum() == 1 and tr.filled[5:7].all()
    truth = poses[:, H36M17.indices(H36M16.joints)]
    np.testing.assert_allclose(tr.keypoints[3, la], (truth[2, la] + truth[4, la]) / 2)
    # frames 5-6 interpolated between 4 and 7: the pelvis moves linearly, 3 px a frame
    np.testing.assert_allclose(tr.keypoints[4:8, 0, 0], truth[4:8, 0, 0], atol=1e-9)
    assert rep.undetected_frames == 2 and rep.filled_per_joint["LAnkle"] == 1
    assert any("LAnkle 1" in line for line in rep.lines())


def test_a_joint_never_seen_drops_the_track_and_long_gaps_split_it(tmp_path):
    poses = walking(6)
    scores = np.ones((6, 17))
    scores[:, 16] = 0.0  # right ankle never seen
    det = read_keypoints(write_coco(tmp_path / "noankle.json", poses, scores=scores))
    tracks, rep = build_tracks(det, H36M17)
    assert tracks == [] and "RAnkle never detected" in rep.dropped[0]
    frames = [0, 1, 2, 30, 31]
    det = read_keypoints(write_coco(tmp_path / "split.json", walking(5), frames=frames))
    tracks, rep = build_tracks(det, H36M17, max_gap=10)
    assert [t.frames.tolist() for t in tracks] == [[0, 1, 2], [30, 31]] and [t.segment for t in tracks] == [0, 1]


def test_a_file_with_every_third_frame_steps_by_three(tmp_path):
    frames = [30, 33, 36, 42]  # 39 missing: one sampled frame without a detection
    det = read_keypoints(write_coco(tmp_path / "every3.json", walking(4), frames=frames))
    (tr,), rep = build_tracks(det, H36M17)
    assert tr.frames.tolist() == [30, 33, 36, 39, 42] and tr.detected.tolist() == [True, True, True, False, True]
    assert rep.step == 3 and "one frame in 3" in rep.lines()[0] and rep.undetected_frames == 1


def test_tracking_options_out_of_range_are_refused_by_name(tmp_path):
    det = read_keypoints(write_coco(tmp_path / "k.json", walking(4)))
    for kwargs, needle in [({"min_score": 1.2}, "--min-score: must be between 0 and 1, got 1.2"),
                           ({"min_score": -0.1}, "--min-score"), ({"max_gap": -1}, "--max-gap: must be 0 or more"),
                           ({"min_frames": 0}, "min_frames: must be 1 or more")]:
        with pytest.raises(PosedaInputError, match=needle):
            build_tracks(det, H36M17, **kwargs)
    (tr,), _ = build_tracks(det, H36M17, min_score=1.0, max_gap=0)  # the range ends are allowed
    assert len(tr.frames) == 4


def test_a_joint_never_sure_keeps_the_track_with_its_own_positions(tmp_path):
    """A distant person's wrist is rarely above the score threshold: its low-confidence positions
    are used and reported, instead of losing the person; too many such joints still drop it."""
    poses = walking(6)
    scores = np.ones((6, 17))
    scores[:, [9, 10]] = 0.1  # both wrists (COCO 9, 10) unsure in every frame
    det = read_keypoints(write_coco(tmp_path / "wrists.json", poses, scores=scores))
    (tr,), rep = build_tracks(det, H36M17, min_score=0.3)
    wrists = H36M17.indices(["LWrist", "RWrist"])
    np.testing.assert_allclose(tr.keypoints[:, wrists], poses[:, wrists])
    assert tr.filled[:, wrists].all() and not rep.dropped and "LWrist, RWrist below score 0.3" in rep.weak[0]
    assert any(line.startswith("low confidence kept: track 0") for line in rep.lines())
    scores[:, 5:11] = 0.1  # six joints never sure: not a usable person
    det = read_keypoints(write_coco(tmp_path / "arms.json", poses, scores=scores))
    tracks, rep = build_tracks(det, H36M17, min_score=0.3)
    assert tracks == [] and "never detected with score >= 0.3" in rep.dropped[0]
