"""Batched rotation conversions (torch). Column-vector convention: v' = R @ v.

All functions accept any leading batch shape and keep the input dtype and device.
"""
from __future__ import annotations

import torch


def skew(v: torch.Tensor) -> torch.Tensor:
    """[..., 3] -> [..., 3, 3] cross-product matrix, skew(a) @ b = a x b."""
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack([o, -z, y, z, o, -x, -y, x, o], dim=-1).reshape(*v.shape[:-1], 3, 3)


def axis_angle_to_matrix(r: torch.Tensor) -> torch.Tensor:
    """Exponential map / axis-angle [..., 3] -> rotation matrix [..., 3, 3] (Rodrigues).

    Stable at zero angle: uses the Taylor series of sin(t)/t and (1 - cos t)/t^2 there.
    """
    theta2 = (r * r).sum(-1, keepdim=True)[..., None]  # [..., 1, 1]
    small = theta2 < 1e-12
    # the square root only of angles away from zero: its gradient at zero is infinite, and
    # torch.where passes inf * 0 = nan back through the branch it did not take
    safe_t = torch.where(small, torch.ones_like(theta2), theta2).sqrt()
    a = torch.where(small, 1 - theta2 / 6, torch.sin(safe_t) / safe_t)
    b = torch.where(small, 0.5 - theta2 / 24, (1 - torch.cos(safe_t)) / (safe_t * safe_t))
    k = skew(r)
    eye = torch.eye(3, dtype=r.dtype, device=r.device).expand(k.shape)
    return eye + a * k + b * (k @ k)


def rotation_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[..., 3], [..., 3] -> [..., 3, 3] the smallest rotation that turns direction ``a`` into
    direction ``b`` (about the axis a x b; lengths are ignored). Not defined for opposite
    directions (any axis would do; the identity's neighbourhood is where it is used).

    >>> r = rotation_between(torch.tensor([0.0, 0.0, 2.0]), torch.tensor([1.0, 0.0, 1.0]))
    >>> (r @ torch.tensor([0.0, 0.0, 1.0])).mul(2 ** 0.5).round(decimals=4)
    tensor([1., 0., 1.])
    """
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    axis = torch.linalg.cross(a, b)
    sin = axis.norm(dim=-1, keepdim=True)
    angle = torch.atan2(sin, (a * b).sum(-1, keepdim=True))
    return axis_angle_to_matrix(axis / sin.clamp_min(1e-12) * angle)


def matrix_to_axis_angle(m: torch.Tensor) -> torch.Tensor:
    """Rotation matrix [..., 3, 3] -> axis-angle [..., 3]; angle in [0, pi]."""
    q = matrix_to_quaternion(m)
    w = q[..., :1].clamp(-1, 1)
    xyz = q[..., 1:]
    s = xyz.norm(dim=-1, keepdim=True)
    angle = 2 * torch.atan2(s, w)
    factor = torch.where(s > 1e-12, angle / s.clamp_min(1e-12), 2 / w.clamp_min(1e-12))
    return xyz * factor


def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Unit quaternion (w, x, y, z) [..., 4] -> rotation matrix [..., 3, 3]. Normalises first."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    m = torch.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ],
        dim=-1,
    )
    return m.reshape(*q.shape[:-1], 3, 3)


def matrix_to_quaternion(m: torch.Tensor) -> torch.Tensor:
    """Rotation matrix [..., 3, 3] -> unit quaternion (w, x, y, z) with w >= 0."""
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # four candidate solutions, pick the best-conditioned one per element
    cand = torch.stack(
        [
            torch.stack([1 + m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01], -1),
            torch.stack([m21 - m12, 1 + m00 - m11 - m22, m01 + m10, m02 + m20], -1),
            torch.stack([m02 - m20, m01 + m10, 1 - m00 + m11 - m22, m12 + m21], -1),
            torch.stack([m10 - m01, m02 + m20, m12 + m21, 1 - m00 - m11 + m22], -1),
        ],
        dim=-2,
    )  # [..., 4, 4]
    diag = torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    best = diag.argmax(-1)
    q = torch.gather(cand, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def axis_rotation(axis: str, angle: torch.Tensor) -> torch.Tensor:
    """Rotation by ``angle`` (radians, any shape) about the 'x', 'y' or 'z' axis -> [..., 3, 3]."""
    c, s = torch.cos(angle), torch.sin(angle)
    o, i = torch.zeros_like(angle), torch.ones_like(angle)
    rows = {
        "x": [i, o, o, o, c, -s, o, s, c],
        "y": [c, o, s, o, i, o, -s, o, c],
        "z": [c, -s, o, s, c, o, o, o, i],
    }[axis.lower()]
    return torch.stack(rows, -1).reshape(*angle.shape, 3, 3)


def euler_to_matrix(angles: torch.Tensor, order: str) -> torch.Tensor:
    """Intrinsic Euler angles [..., 3] (radians) in ``order`` (e.g. 'ZXY', as in BVH channels)
    -> ``R = R_order[0](a0) @ R_order[1](a1) @ R_order[2](a2)``."""
    if len(order) != 3:
        raise ValueError(f"Euler order must have 3 axes, got {order!r}")
    m = axis_rotation(order[0], angles[..., 0])
    m = m @ axis_rotation(order[1], angles[..., 1])
    return m @ axis_rotation(order[2], angles[..., 2])


def cumulative_matmul(m: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Prefix products along ``dim``: out[t] = m[t] @ m[t-1] @ ... @ m[0].

    A Hillis-Steele scan: log2(T) batched matmuls instead of a Python loop over T.
    """
    out = m.movedim(dim, 0).clone()
    n = out.shape[0]
    k = 1
    while k < n:
        out = torch.cat([out[:k], out[k:] @ out[:-k]], 0)
        k *= 2
    return out.movedim(0, dim)


def yaw_pitch_roll_from_matrix_zup(r: torch.Tensor):
    """Heading (about +z), pitch and roll of a z-up frame's rotation R (columns = body axes).

    Used for camera statistics: for a camera-to-world rotation whose third column is the optical
    axis, pitch is the elevation of the optical axis above the horizon (positive looks up).
    """
    fwd = r[..., :, 2]
    yaw = torch.atan2(fwd[..., 1], fwd[..., 0])
    pitch = torch.asin(fwd[..., 2].clamp(-1, 1))
    # roll: angle of the camera's x axis (image right) out of the horizontal plane
    right = r[..., :, 0]
    roll = torch.asin(right[..., 2].clamp(-1, 1))
    return yaw, pitch, roll
