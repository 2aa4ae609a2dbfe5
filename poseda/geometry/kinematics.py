"""Batched forward kinematics for joint trees (torch, column-vector convention)."""
from __future__ import annotations

from typing import Sequence

import torch


def tree_levels(parents: Sequence[int]) -> list[list[int]]:
    """Group joints by depth so that each level's parents are in earlier levels."""
    depth = []
    for j, p in enumerate(parents):
        if p >= j:
            raise ValueError(f"parents must be topologically ordered: joint {j} has parent {p}")
        depth.append(0 if p < 0 else depth[p] + 1)
    levels: list[list[int]] = [[] for _ in range(max(depth) + 1)]
    for j, d in enumerate(depth):
        levels[d].append(j)
    return levels


def forward_kinematics(
    local_rot: torch.Tensor,
    offsets: torch.Tensor,
    parents: Sequence[int],
    root_pos: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Global joint positions and rotations from local rotations.

    local_rot: [..., J, 3, 3] rotation of each joint relative to its parent.
    offsets:   [J, 3] or [..., J, 3] translation of each joint in its parent's frame
               (the root's entry is added to ``root_pos``).
    root_pos:  [..., 3] root position, or None for the origin.
    Returns (positions [..., J, 3], global rotations [..., J, 3, 3]).
    One batched step per tree level: no loop over frames.
    """
    batch = local_rot.shape[:-3]
    n = local_rot.shape[-3]
    if len(parents) != n:
        raise ValueError(f"{len(parents)} parents for {n} joints")
    offsets = offsets.to(local_rot.dtype).expand(*batch, n, 3)
    pos = torch.zeros(*batch, n, 3, dtype=local_rot.dtype, device=local_rot.device)
    rot = torch.zeros(*batch, n, 3, 3, dtype=local_rot.dtype, device=local_rot.device)
    par = torch.as_tensor(list(parents))
    for level in tree_levels(parents):
        idx = torch.as_tensor(level)
        p = par[idx]
        if (p < 0).all():
            rot[..., idx, :, :] = local_rot[..., idx, :, :]
            base = offsets[..., idx, :]
            pos[..., idx, :] = base if root_pos is None else base + root_pos[..., None, :]
            continue
        if (p < 0).any():
            raise ValueError("only joint trees with roots at the first level are supported")
        prot = rot[..., p, :, :]
        rot[..., idx, :, :] = prot @ local_rot[..., idx, :, :]
        pos[..., idx, :] = pos[..., p, :] + (prot @ offsets[..., idx, :, None])[..., 0]
    return pos, rot


def bone_lengths(positions: torch.Tensor, parents: Sequence[int]) -> torch.Tensor:
    """[..., J, 3] -> [..., J-#roots] distances from every non-root joint to its parent."""
    child = [j for j, p in enumerate(parents) if p >= 0]
    par = [parents[j] for j in child]
    return (positions[..., child, :] - positions[..., par, :]).norm(dim=-1)


def bone_vectors(positions: torch.Tensor, parents: Sequence[int]) -> torch.Tensor:
    """[..., J, 3] -> [..., J, 3] each joint minus its parent (zero for roots)."""
    par = torch.as_tensor([max(p, 0) for p in parents], device=positions.device)
    is_root = torch.as_tensor([p < 0 for p in parents], device=positions.device)
    b = positions - positions[..., par, :]
    return torch.where(is_root[:, None], torch.zeros_like(b), b)


def joints_from_bones(bones: torch.Tensor, parents: Sequence[int], root_pos: torch.Tensor | None = None) -> torch.Tensor:
    """Inverse of :func:`bone_vectors`: sum bone vectors [..., J, 3] down the tree, one batched
    step per tree level. Roots are placed at ``root_pos`` [..., 3] (default the origin)."""
    pos = torch.zeros_like(bones)
    par = torch.as_tensor(list(parents))
    for level in tree_levels(parents):
        idx = torch.as_tensor(level)
        p = par[idx]
        if (p < 0).all():
            if root_pos is not None:
                pos[..., idx, :] = root_pos[..., None, :].expand(*bones.shape[:-2], len(level), 3)
            continue
        pos[..., idx, :] = pos[..., p, :] + bones[..., idx, :]
    return pos
