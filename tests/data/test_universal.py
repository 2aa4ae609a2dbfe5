"""The universal-skeleton ground truth (MPI-INF-3DHP's protocol A) on the built-in domains."""
import numpy as np
import pytest

from poseda.data.universal import HUMAN36M_HEIGHT_M, skeleton_height, universal_poses
from poseda.skeleton.layouts import H36M16

pytestmark = pytest.mark.data


def test_the_reference_is_human36m_training_height(prepared_cache):
    from poseda.data.cache import load_domain

    train = load_domain("h36m", prepared_cache).training(H36M16)
    assert skeleton_height(train.joints3d, H36M16) == pytest.approx(HUMAN36M_HEIGHT_M, abs=5e-4)


@pytest.mark.parametrize("name", ["cmu-3dhp", "bandai-wild"])
def test_every_subject_is_scaled_to_the_reference_and_2d_is_unchanged(prepared_cache, name):
    from poseda.data.cache import load_domain

    real = load_domain(name, prepared_cache).evaluation(H36M16)
    univ = universal_poses(real)
    assert np.array_equal(univ.joints2d, real.joints2d) and np.array_equal(univ.intrinsics, real.intrinsics)
    for s in np.unique(real.subject):
        rows = real.subject == s
        assert skeleton_height(univ.joints3d[rows], H36M16) == pytest.approx(HUMAN36M_HEIGHT_M, rel=1e-5)
        # a uniform scale about the root: directions from the root are kept
        a = real.joints3d[rows] - real.joints3d[rows][:, :1]
        b = univ.joints3d[rows] - univ.joints3d[rows][:, :1]
        k = univ.protocol["universal_scales"][str(s)]
        np.testing.assert_allclose(b, a * k, rtol=1e-5, atol=1e-6)
    assert univ.protocol["skeleton"].startswith("universal") and "skeleton" not in real.protocol
    assert 1.05 < np.median(list(univ.protocol["universal_scales"].values())) < 1.4  # smaller bodies than Human3.6M's
