"""Batched fitting of 3D poses to 2D keypoints under known cameras.

:func:`fit_to_keypoints` keeps each pose's bone lengths and moves its bone directions and its
root so that its projection lands on the keypoints, staying near the directions it started from
(a monocular fit cannot tell a bone leaning towards the camera from one leaning away; the start
decides, the prior keeps it). Every pose of the batch is fitted at once by a fixed number of
Adam steps: no per-pose loop, the same cost whatever the poses.
"""
from __future__ import annotations

from typing import Sequence

import torch

from poseda.geometry.camera import box_scale, project, weak_perspective_root
from poseda.geometry.kinematics import bone_vectors, joints_from_bones


def fit_to_keypoints(pose3d: torch.Tensor, keypoints: torch.Tensor, k: torch.Tensor, parents: Sequence[int],
                     root: int = 0, steps: int = 40, lr: float = 0.01, prior: float = 0.1,
                     lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit poses [B, J, 3] (any translation; e.g. a lifter's root-relative output) to 2D
    keypoints [B, J, 2] seen by cameras ``k`` [B, 4] (fx, fy, cx, cy, in the keypoints' units).

    The fitted pose has the start's bone lengths (or ``lengths`` [B, J], each joint's bone to its
    parent; the root's entry is unused) and minimises, per pose, the mean squared distance of its
    projected joints to the keypoints divided by the keypoints' box size (so a small, far person
    counts as much as a near one) plus ``prior`` x the mean squared change of its unit bone
    directions. It starts at the depth where it is as large as the keypoints' box
    (:func:`~poseda.geometry.camera.weak_perspective_root`). Gradients do not flow back to the
    inputs. Returns (fitted poses in the camera frame [B, J, 3], their relative reprojection
    error [B]: the root-mean-square distance over the box size).

    An arm whose elbow was estimated 10 cm too high is fitted onto keypoints that show it
    straight; the bones keep their lengths:

    >>> from poseda.geometry.kinematics import bone_lengths
    >>> parents = [-1, 0, 1]
    >>> true = torch.tensor([[[0.0, 0.0, 4.0], [0.3, 0.0, 4.0], [0.6, 0.0, 4.0]]])
    >>> k = torch.tensor([[2.0, 2.0, 0.0, 0.0]])
    >>> start = true - torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 0.0]])
    >>> round(float(fit_to_keypoints(start, project(true, k), k, parents, steps=0)[1][0]), 2)  # before
    0.25
    >>> fitted, err = fit_to_keypoints(start, project(true, k), k, parents, steps=100, prior=0.0)
    >>> float(err[0]) < 0.01
    True
    >>> torch.allclose(bone_lengths(fitted, parents), bone_lengths(start, parents))
    True
    """
    with torch.no_grad():
        start = pose3d.detach().float()
        bones = bone_vectors(start, parents)
        length = bones.norm(dim=-1) if lengths is None else lengths.detach().float()
        d0 = bones / bones.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        r0 = weak_perspective_root(joints_from_bones(d0 * length[..., None], parents), keypoints, k, root)
        scale = box_scale(keypoints).clamp_min(1e-3)[:, None, None]
    d = d0.clone().requires_grad_(True)
    log_z = r0[:, 2].log().clone().requires_grad_(True)  # the root's depth, and its ray (x / z, y / z)
    ray = (r0[:, :2] / r0[:, 2:]).clone().requires_grad_(True)
    opt = torch.optim.Adam([d, log_z, ray], lr=lr)

    def pose() -> torch.Tensor:
        z = log_z.exp()[:, None]
        unit = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        return joints_from_bones(unit * length[..., None], parents, torch.cat([ray * z, z], -1)), unit

    with torch.enable_grad():
        for _ in range(steps):
            x, unit = pose()
            rep = ((project(x, k) - keypoints) / scale).square().sum(-1).mean(-1)
            loss = rep + prior * (unit - d0).square().sum(-1).mean(-1)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
    with torch.no_grad():
        x, _ = pose()
        err = ((project(x, k) - keypoints) / scale).square().sum(-1).mean(-1).sqrt()
    return x, err


__all__ = ["fit_to_keypoints"]
