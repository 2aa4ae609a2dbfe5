import numpy as np
import pytest
import torch
from scipy.linalg import orthogonal_procrustes
from scipy.spatial import procrustes as scipy_procrustes
from scipy.spatial.transform import Rotation

from poseda.metrics import (
    AUC_THRESHOLDS_MM,
    Protocol,
    auc,
    body_size,
    evaluate,
    joint_errors,
    mpjpe,
    n_mpjpe,
    pa_mpjpe,
    pck,
    procrustes_align,
)

rng = np.random.default_rng(1)
PROTO = Protocol("h36m17", 17, "ground truth", 1, False, "test", "unit")


def _pa_independent(p, g):
    """Similarity Procrustes with SciPy's orthogonal_procrustes, sample by sample."""
    out = []
    for a, b in zip(p, g):
        a0, b0 = a - a.mean(0), b - b.mean(0)
        r, s = orthogonal_procrustes(a0, b0)
        if np.linalg.det(r) < 0:  # no reflections: redo with the sign fixed
            u, sv, vt = np.linalg.svd(a0.T @ b0)
            d = np.sign(np.linalg.det(u @ vt))
            r = u @ np.diag([1, 1, d]) @ vt
            s = (sv * [1, 1, d]).sum()
        scale = s / (a0 ** 2).sum()
        out.append(np.linalg.norm(scale * a0 @ r + b.mean(0) - b, axis=1).mean())
    return float(np.mean(out))


def test_pa_mpjpe_matches_scipy():
    g = rng.normal(size=(40, 17, 3))
    p = g + rng.normal(scale=0.2, size=g.shape)
    assert pa_mpjpe(p, g) == pytest.approx(_pa_independent(p, g), rel=1e-9)


def test_procrustes_disparity_matches_scipy_spatial():
    # scipy.spatial.procrustes standardises both sets; its disparity is the squared error of the
    # aligned, standardised sets. Recompute it from our alignment.
    g = rng.normal(size=(17, 3))
    p = g @ Rotation.random(random_state=3).as_matrix() * 2.3 + 1.0 + rng.normal(scale=0.1, size=g.shape)
    _, _, disparity = scipy_procrustes(g, p)
    aligned = procrustes_align(torch.from_numpy(p[None]), torch.from_numpy(g[None]))[0].numpy()
    g0 = g - g.mean(0)
    ours = ((aligned - g.mean(0) - g0) ** 2).sum() / (g0 ** 2).sum()
    assert ours == pytest.approx(disparity, rel=1e-9)


def test_pa_removes_similarity_exactly():
    g = rng.normal(size=(5, 16, 3))
    r = Rotation.random(5, random_state=2).as_matrix()
    p = np.einsum("nij,nkj->nki", r, g) * 0.7 + rng.normal(size=(5, 1, 3))
    assert pa_mpjpe(p, g) < 1e-10
    assert mpjpe(p, g) > 0.1


def test_hand_worked_mpjpe_nmpjpe():
    g = np.array([[[0, 0, 0], [1, 0, 0], [0, 2, 0]]], float)
    p = np.array([[[5, 5, 5], [7, 5, 5], [5, 9, 5]]], float)  # root-aligned: 2x the gt
    # root-aligned errors: 0, 1, 2 -> mean 1
    assert mpjpe(p, g) == pytest.approx(1.0)
    assert n_mpjpe(p, g) == pytest.approx(0.0, abs=1e-12)
    assert pa_mpjpe(p, g) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(joint_errors(p, g).numpy(), [[0, 1, 2]])


def test_pck_strict_and_auc_by_hand():
    e = torch.tensor([0.0, 149.999, 150.0, 200.0])
    assert pck(e) == pytest.approx(50.0)
    assert len(AUC_THRESHOLDS_MM) == 31 and AUC_THRESHOLDS_MM[-1] == 150
    # errors 0 and 150: PCK at t is 50% for t in 5..150 (0 < t, 150 not < 150), 0% at t=0
    assert auc(torch.tensor([0.0, 150.0])) == pytest.approx(np.mean([0] + [50] * 30))
    e2 = rng.uniform(0, 200, 1000)
    assert auc(e2) == pytest.approx(np.mean([(e2 < t).mean() * 100 for t in range(0, 151, 5)]))


def test_evaluate_report_carries_protocol_and_groups():
    g = rng.normal(size=(30, 17, 3)) * 0.3
    p = g + rng.normal(scale=0.05, size=g.shape)
    acts = np.array(["walk"] * 10 + ["sit"] * 20)
    names = [f"j{i}" for i in range(17)]
    rep = evaluate(p, g, PROTO, names, acts)
    assert rep.overall["MPJPE"] == pytest.approx(mpjpe(p, g) * 1000)
    assert rep.per_action["walk"]["MPJPE"] == pytest.approx(mpjpe(p[:10], g[:10]) * 1000)
    assert rep.per_joint["j0"]["MPJPE"] == 0
    md = rep.to_markdown()
    assert "joints h36m17 (17)" in md and "2D ground truth" in md and "1-frame input" in md and "flip test off" in md
    assert rep.to_csv().splitlines()[0].startswith("protocol,")


def test_body_size_is_the_summed_bones_of_predictions_and_truth():
    from poseda.skeleton.layouts import H36M17

    g = torch.as_tensor(rng.normal(size=(20, 17, 3)) * 0.3)
    size = body_size(1.1 * g, g, H36M17.parents)  # every bone 10% longer: MPJPE grows, the aligned errors do not
    assert size["ratio"] == pytest.approx(1.1) and size["predicted_mm"] == pytest.approx(1.1 * size["true_mm"])
    rep = evaluate(1.1 * g, g, PROTO, list(H36M17.joints))
    assert rep.overall["PA-MPJPE"] == pytest.approx(0, abs=1e-6) and rep.overall["MPJPE"] > 10
    rep.extra["body_size"] = size
    assert "Body size (summed bone length, median): predicted" in rep.to_markdown() and "ratio 1.100" in rep.to_markdown()
    assert rep.to_dict()["body_size"]["ratio"] == pytest.approx(1.1)
