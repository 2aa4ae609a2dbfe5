import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.skeleton.layouts import (
    BANDAI_FROM_BVH,
    CANONICAL,
    CMU_FROM_38,
    H36M16,
    H36M_FROM_32,
    HUMANEVA15,
    HUMANEVA_FROM_15,
    experiment_joints,
)


def test_canonical_layout_structure():
    assert CANONICAL.num_joints == 17 and CANONICAL.joints[0] == "Pelvis"
    assert [CANONICAL.joints[i] for i in CANONICAL.left] == ["LHip", "LKnee", "LAnkle", "LShoulder", "LElbow", "LWrist"]
    perm = CANONICAL.flip_permutation
    assert perm[CANONICAL.index("LHip")] == CANONICAL.index("RHip") and perm[0] == 0
    assert sorted(perm) == list(range(17))


def test_subsets_reparent_and_known_sets():
    assert H36M16.num_joints == 16 and "Neck" not in H36M16.joints
    assert H36M16.parents[H36M16.index("Head")] == H36M16.index("Thorax")
    assert HUMANEVA15.num_joints == 15
    assert HUMANEVA15.parents[HUMANEVA15.index("Thorax")] == HUMANEVA15.index("Pelvis")


def test_intersections_of_the_benchmark():
    h36m = H36M_FROM_32.mask
    assert experiment_joints(h36m, CMU_FROM_38.mask).name == "h36m17"
    assert experiment_joints(h36m, BANDAI_FROM_BVH.mask) is H36M16
    assert experiment_joints(h36m, HUMANEVA_FROM_15.mask) is HUMANEVA15


def test_mapping_marks_missing_joints_nan():
    arr = np.arange(15 * 2, dtype=float).reshape(1, 15, 2)
    out = HUMANEVA_FROM_15.apply(arr)
    assert out.shape == (1, 17, 2)
    assert np.isnan(out[0, CANONICAL.index("Spine")]).all() and np.isnan(out[0, CANONICAL.index("Neck")]).all()
    np.testing.assert_array_equal(out[0, CANONICAL.index("Head")], arr[0, 14])
    assert H36M_FROM_32.source == (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


def test_unknown_joint_name_is_a_clear_error():
    with pytest.raises(PosedaInputError, match="unknown joint name 'Nose'"):
        CANONICAL.index("Nose")
    with pytest.raises(PosedaInputError, match="unknown joint name"):
        CANONICAL.subset(["Pelvis", "Tail"])


def test_protocol_joints():
    from poseda.skeleton.layouts import CANONICAL, H36M16, H36M17, protocol_joints

    full = np.ones(CANONICAL.num_joints, bool)
    assert protocol_joints("cmu-3dhp", full, full) is H36M16  # MPI-INF-3DHP protocol: 16 joints
    assert protocol_joints("my-target", full, full) is H36M17  # no protocol: everything shared
    no_thorax = full.copy()
    no_thorax[CANONICAL.index("Thorax")] = False
    assert "Thorax" not in protocol_joints("cmu-3dhp", full, no_thorax).joints
