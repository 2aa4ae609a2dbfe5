import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from poseda.geometry.rotations import (
    axis_angle_to_matrix,
    cumulative_matmul,
    euler_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    quaternion_to_matrix,
    rotation_between,
)

rng = np.random.default_rng(0)


def test_axis_angle_matches_scipy():
    r = rng.normal(size=(100, 3))
    r[0] = 0
    r[1] = 1e-9
    ours = axis_angle_to_matrix(torch.from_numpy(r)).numpy()
    np.testing.assert_allclose(ours, Rotation.from_rotvec(r).as_matrix(), atol=1e-12)


def test_axis_angle_gradient_is_finite_at_zero_angle():
    """An augmentor whose rotation bound is 0 (lpa.max_rotation_deg: [0, 0, 0]) outputs exact
    zeros; the training loss became nan through the square root's infinite slope there."""
    r = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    (axis_angle_to_matrix(r) @ torch.ones(3, dtype=torch.float64)).sum().backward()
    assert torch.isfinite(r.grad).all()
    x = torch.tensor([[1e-4, -2e-4, 3e-4]], dtype=torch.float64, requires_grad=True)  # and the slope is right nearby
    assert torch.autograd.gradcheck(axis_angle_to_matrix, (x,))


def test_axis_angle_round_trip():
    r = rng.normal(size=(100, 3))
    r = r / np.linalg.norm(r, axis=1, keepdims=True) * rng.uniform(0, 3.1, (100, 1))
    back = matrix_to_axis_angle(axis_angle_to_matrix(torch.from_numpy(r))).numpy()
    np.testing.assert_allclose(back, r, atol=1e-9)


def test_quaternion_matches_scipy_and_round_trips():
    q = rng.normal(size=(50, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    m = quaternion_to_matrix(torch.from_numpy(q)).numpy()
    np.testing.assert_allclose(m, Rotation.from_quat(q[:, [1, 2, 3, 0]]).as_matrix(), atol=1e-12)
    q2 = matrix_to_quaternion(torch.from_numpy(m)).numpy()
    np.testing.assert_allclose(np.abs((q2 * q).sum(1)), 1, atol=1e-12)


@pytest.mark.parametrize("order", ["ZXY", "XYZ", "ZYX", "YXZ"])
def test_euler_matches_scipy_intrinsic(order):
    a = rng.uniform(-3, 3, size=(30, 3))
    ours = euler_to_matrix(torch.from_numpy(a), order).numpy()
    np.testing.assert_allclose(ours, Rotation.from_euler(order.upper(), a).as_matrix(), atol=1e-12)


def test_cumulative_matmul_equals_loop():
    m = axis_angle_to_matrix(torch.from_numpy(rng.normal(size=(37, 3))))
    out = cumulative_matmul(m)
    acc = torch.eye(3, dtype=m.dtype)
    for t in range(37):
        acc = m[t] @ acc
        torch.testing.assert_close(out[t], acc)


def test_rotation_between_turns_a_onto_b_about_their_common_normal():
    a = torch.as_tensor(rng.normal(size=(200, 3)))
    b = torch.as_tensor(rng.normal(size=(200, 3)))
    r = rotation_between(a, b)
    turned = (r @ a[..., None])[..., 0]
    torch.testing.assert_close(turned / turned.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True))
    torch.testing.assert_close(r @ r.transpose(-1, -2), torch.eye(3, dtype=r.dtype).expand(200, 3, 3))
    normal = torch.linalg.cross(a, b)  # the axis is unmoved: the smallest such rotation
    torch.testing.assert_close((r @ normal[..., None])[..., 0], normal)
    angle = torch.acos(torch.nn.functional.cosine_similarity(a, b, dim=-1))
    torch.testing.assert_close(matrix_to_axis_angle(r).norm(dim=-1), angle)
    torch.testing.assert_close(rotation_between(a, 3 * a), torch.eye(3, dtype=r.dtype).expand(200, 3, 3))
