import numpy as np
import torch

from poseda.geometry.camera import (
    camera_to_world,
    denormalize_screen,
    distort,
    fit_intrinsics,
    look_at,
    normalize_intrinsics,
    normalize_screen,
    project,
    world_to_camera,
)
from poseda.geometry.rotations import quaternion_to_matrix

D = torch.float64


def test_project_by_hand():
    x = torch.tensor([[[1.0, -0.5, 2.0]]], dtype=D)
    k = torch.tensor([[1000.0, 900.0, 500.0, 400.0]], dtype=D)
    uv = project(x, k)
    torch.testing.assert_close(uv, torch.tensor([[[1000 * 0.5 + 500, 900 * -0.25 + 400]]], dtype=D))


def test_opencv_distortion_by_hand():
    xy = torch.tensor([[0.1, 0.2]], dtype=D)
    dist = torch.tensor([0.1, 0.01, 0.001, 0.002, 0.003], dtype=D)
    x, y, r2 = 0.1, 0.2, 0.05
    radial = 1 + 0.1 * r2 + 0.01 * r2**2 + 0.001 * r2**3
    xd = x * radial + 2 * 0.002 * x * y + 0.003 * (r2 + 2 * x * x)
    yd = y * radial + 0.002 * (r2 + 2 * y * y) + 2 * 0.003 * x * y
    torch.testing.assert_close(distort(xy, dist, "opencv"), torch.tensor([[xd, yd]], dtype=D))


def test_h36m_distortion_by_hand():
    # Human3.6M's own form: XX * (radial + p1 y + p2 x) + [p2, p1] r^2
    xy = torch.tensor([[0.1, -0.2]], dtype=D)
    dist = torch.tensor([-0.2, 0.24, -0.003, -0.001, -0.0014], dtype=D)
    x, y = 0.1, -0.2
    r2 = x * x + y * y
    radial = 1 - 0.2 * r2 + 0.24 * r2**2 - 0.003 * r2**3
    tan = -0.001 * y - 0.0014 * x
    expect = [x * (radial + tan) - 0.0014 * r2, y * (radial + tan) - 0.001 * r2]
    torch.testing.assert_close(distort(xy, dist, "h36m"), torch.tensor([expect], dtype=D))


def test_world_camera_round_trip_and_convention():
    q = torch.tensor([0.1407, -0.1501, -0.7552, 0.6223], dtype=D)
    r = quaternion_to_matrix(q)
    t = torch.tensor([1.8, 4.9, 1.5], dtype=D)
    x = torch.randn(7, 3, dtype=D)
    xc = world_to_camera(x, r, t)
    torch.testing.assert_close(xc, ((x - t) @ r), msg="R^T (X - t)")
    torch.testing.assert_close(camera_to_world(xc, r, t), x)


def test_normalised_units_are_consistent():
    size = torch.tensor([1920.0, 1080.0], dtype=D)
    k = torch.tensor([1500.0, 1500.0, 950.0, 530.0], dtype=D)
    x = torch.randn(20, 3, dtype=D) + torch.tensor([0, 0, 5.0], dtype=D)
    uv = project(x, k)
    uvn = normalize_screen(uv, size)
    torch.testing.assert_close(project(x, normalize_intrinsics(k, size)), uvn)
    torch.testing.assert_close(denormalize_screen(uvn, size), uv)
    corners = normalize_screen(torch.tensor([[0.0, 0.0], [1920.0, 1080.0]], dtype=D), size)
    torch.testing.assert_close(corners, torch.tensor([[-1.0, -1080 / 1920], [1.0, 1080 / 1920]], dtype=D))


def test_fit_intrinsics_recovers_known_camera():
    k = torch.tensor([770.0, 765.0, 320.0, 240.0], dtype=D)
    x = torch.randn(500, 3, dtype=D) + torch.tensor([0, 0, 4.0], dtype=D)
    uv = project(x, k) + torch.randn(500, 2, dtype=D) * 0.5
    torch.testing.assert_close(fit_intrinsics(x, uv), k, atol=0.5, rtol=0.01)


def test_look_at_points_at_target_with_image_y_down():
    eye = torch.tensor([4.0, 0.0, 1.5], dtype=D)
    target = torch.tensor([0.0, 0.0, 1.0], dtype=D)
    r = look_at(eye, target)
    xc = world_to_camera(torch.stack([target, target + torch.tensor([0, 0, 0.5], dtype=D)]), r, eye)
    assert abs(xc[0, 0]) < 1e-12 and abs(xc[0, 1]) < 1e-12 and xc[0, 2] > 0
    assert xc[1, 1] < 0  # a point above the target is higher in the image (smaller y)
    np.testing.assert_allclose((r.T @ r).numpy(), np.eye(3), atol=1e-12)
