import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.keypoints.formats import BODY25, COCO17, COCO18, FORMATS, MEDIAPIPE33, conversion_table, keypoint_format
from poseda.skeleton.layouts import H36M16, H36M17, HUMANEVA15
from tests.lift.helpers import STANDING, body25_from_h36m, coco_from_h36m, mediapipe_from_h36m

H = {n: i for i, n in enumerate(H36M17.joints)}
LIMBS = [s + p for s in "LR" for p in ("Hip", "Knee", "Ankle", "Shoulder", "Elbow", "Wrist")]


@pytest.mark.parametrize("fmt,make", [(COCO17, coco_from_h36m), (BODY25, body25_from_h36m), (MEDIAPIPE33, mediapipe_from_h36m)])
def test_limbs_copied_and_derived_joints_documented(fmt, make):
    kp = make(STANDING)
    out, sc = fmt.to_layout(kp, np.ones(fmt.num_joints))
    for j in LIMBS:
        np.testing.assert_allclose(out[H[j]], STANDING[H[j]])
    hips = (STANDING[H["LHip"]] + STANDING[H["RHip"]]) / 2
    shoulders = (STANDING[H["LShoulder"]] + STANDING[H["RShoulder"]]) / 2
    np.testing.assert_allclose(out[H["Pelvis"]], hips if fmt is not BODY25 else STANDING[H["Pelvis"]])
    thorax = shoulders if fmt is not BODY25 else STANDING[H["Thorax"]]
    np.testing.assert_allclose(out[H["Thorax"]], thorax)
    np.testing.assert_allclose(out[H["Spine"]], (out[H["Pelvis"]] + out[H["Thorax"]]) / 2)
    np.testing.assert_allclose(out[H["Neck"]], STANDING[H["Neck"]])  # the nose
    np.testing.assert_allclose(out[H["Head"]], STANDING[H["Head"]])  # between the eyes
    assert (sc == 1).all()


def test_every_format_is_complete_and_weights_average():
    for f in FORMATS.values():
        w = f.matrix()
        assert w.shape == (17, f.num_joints)
        np.testing.assert_allclose(w.sum(1), 1)
        assert set(f.to_h36m) == set(H36M17.joints)
    assert "| Pelvis | mean(left_hip, right_hip) | MidHip |" in conversion_table()
    with pytest.raises(PosedaInputError, match="unknown keypoint format 'yolo'"):
        keypoint_format("yolo")


def test_scores_take_the_weakest_source_and_missing_propagates():
    kp = coco_from_h36m(STANDING)
    sc = np.ones(17)
    sc[COCO17.joints.index("left_hip")] = 0.2
    kp[COCO17.joints.index("right_shoulder")] = np.nan
    out, osc = COCO17.to_layout(kp, sc)
    assert osc[H["Pelvis"]] == pytest.approx(0.2) and osc[H["LHip"]] == pytest.approx(0.2)
    assert osc[H["Spine"]] == 0 and osc[H["Thorax"]] == 0 and osc[H["RShoulder"]] == 0
    assert np.isnan(out[H["Thorax"]]).all() and np.isnan(out[H["RShoulder"]]).all()
    assert np.isfinite(out[H["LShoulder"]]).all() and osc[H["RElbow"]] == 1


def test_subset_layouts_and_batches():
    kp = np.stack([coco_from_h36m(STANDING), coco_from_h36m(STANDING + 5)])[None]  # [1, 2, 17, 2]
    out16, _ = COCO17.to_layout(kp, np.ones((1, 2, 17)), H36M16)
    out15, _ = COCO17.to_layout(kp, np.ones((1, 2, 17)), HUMANEVA15)
    full, _ = COCO17.to_layout(kp, np.ones((1, 2, 17)))
    assert out16.shape == (1, 2, 16, 2) and out15.shape == (1, 2, 15, 2)
    np.testing.assert_allclose(out16, full[..., H36M17.indices(H36M16.joints), :])
    np.testing.assert_allclose(full[0, 1] - full[0, 0], 5)
    assert COCO18.num_joints == 18
