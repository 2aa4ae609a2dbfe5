import torch

from poseda.geometry.camera import project
from poseda.geometry.fitting import fit_to_keypoints
from poseda.geometry.kinematics import bone_lengths, bone_vectors, joints_from_bones
from poseda.skeleton.layouts import JOINT_SETS

LAYOUT = JOINT_SETS["h36m16"]


def _scene(n: int, seed: int = 0):
    """n random 16-joint bodies 3-8 m in front of cameras with their own focal lengths and
    principal points, and the same bodies with every joint moved by 3-6 cm."""
    g = torch.Generator().manual_seed(seed)
    bones = torch.randn(n, 16, 3, generator=g) * 0.15
    bones[:, 0] = 0
    root = torch.stack([torch.rand(n, generator=g) - 0.5, torch.rand(n, generator=g) - 0.5,
                        3 + 5 * torch.rand(n, generator=g)], -1)
    true = joints_from_bones(bones, LAYOUT.parents, root)
    k = torch.stack([1.5 + torch.rand(n, generator=g), 1.5 + torch.rand(n, generator=g),
                     0.1 * torch.randn(n, generator=g), 0.1 * torch.randn(n, generator=g)], -1)
    noisy = true + torch.randn(n, 16, 3, generator=g) * 0.045
    return true, noisy, k


def test_fit_lands_on_the_keypoints_and_keeps_bone_lengths():
    true, noisy, k = _scene(64)
    kp = project(true, k)
    rel = noisy - noisy[:, :1]  # a lifter's root-relative estimate: the fit finds the depth itself
    _, before = fit_to_keypoints(rel, kp, k, LAYOUT.parents, steps=0)
    fitted, after = fit_to_keypoints(rel, kp, k, LAYOUT.parents)
    assert after.median() < 0.6 * before.median()  # lengths from the noisy estimate: it cannot land exactly
    torch.testing.assert_close(bone_lengths(fitted, LAYOUT.parents), bone_lengths(rel, LAYOUT.parents), atol=1e-5, rtol=1e-5)
    assert fitted[..., 2].min() > 0  # in front of the camera


def test_given_lengths_are_used():
    true, noisy, k = _scene(8)
    lengths = torch.zeros(8, 16)
    lengths[:, 1:] = 0.2
    fitted, _ = fit_to_keypoints(noisy, project(true, k), k, LAYOUT.parents, steps=5, lengths=lengths)
    torch.testing.assert_close(bone_lengths(fitted, LAYOUT.parents), lengths[:, 1:], atol=1e-5, rtol=1e-5)


def test_batched_equals_one_at_a_time_and_no_gradient_reaches_the_inputs():
    true, noisy, k = _scene(6, seed=1)
    kp = project(true, k)
    start = noisy.clone().requires_grad_(True)
    together, err = fit_to_keypoints(start, kp, k, LAYOUT.parents, steps=10)
    assert not together.requires_grad and start.grad is None
    for i in range(6):
        alone, e = fit_to_keypoints(noisy[i : i + 1], kp[i : i + 1], k[i : i + 1], LAYOUT.parents, steps=10)
        torch.testing.assert_close(alone[0], together[i], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(e[0], err[i], atol=1e-5, rtol=1e-4)


def test_a_strong_prior_keeps_the_start_directions():
    true, noisy, k = _scene(16, seed=2)
    kp = project(true, k)
    free, _ = fit_to_keypoints(noisy, kp, k, LAYOUT.parents, prior=0.0)
    held, _ = fit_to_keypoints(noisy, kp, k, LAYOUT.parents, prior=100.0)

    def turn(p):  # mean change of the unit bone directions from the start
        a, b = bone_vectors(p, LAYOUT.parents)[:, 1:], bone_vectors(noisy, LAYOUT.parents)[:, 1:]
        return (a / a.norm(dim=-1, keepdim=True) - b / b.norm(dim=-1, keepdim=True)).norm(dim=-1).mean()

    assert turn(held) < 0.2 * turn(free)
