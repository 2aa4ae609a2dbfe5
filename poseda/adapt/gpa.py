"""Global Position Alignment (GPA): place source 3D poses where target poses sit in the image.

Pure, batched functions (``gpa_place``, ``draw_anchors``; the weak-perspective root itself is
:func:`poseda.geometry.camera.weak_perspective_root`) and a thin module,
:class:`GlobalPositionAlignment`, that keeps a target domain's 2D poses together with their own
intrinsics on the training device. No learnable parameters.

All 2D quantities are in normalised screen units (x / W * 2 - 1, y / W * 2 - H / W) and the
intrinsics are packed ``(fx, fy, cx, cy)`` in the same units (see
:func:`poseda.geometry.camera.normalize_intrinsics`), one row per sample. The three defects of
the snippet released with the paper cannot occur here: the intrinsics are read by name from one
documented order, every sample uses its own camera row, and a target pose is always drawn
together with its own camera (one index selects both).
"""
from __future__ import annotations

import torch
from torch import nn

from poseda.geometry.camera import box_scale, project, weak_perspective_root
from poseda.geometry.rotations import rotation_between


def gpa_place(pose3d: torch.Tensor, anchor2d: torch.Tensor, k: torch.Tensor, root: int = 0,
              centre: int | None = None, size: float | None = None,
              ray: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Move source poses to the anchors' places and project them with the anchors' cameras.

    pose3d: [B, J, 3] or a window [B, T, J, 3] (camera frame, metres). A window moves rigidly:
    the translation is computed from its centre frame (``centre``, default T // 2) so the
    motion inside the window is kept. Returns (placed 3D, its 2D) with the input's leading
    shape; the 2D is in the units of ``k``.

    The placed pose's root projects onto the anchor's root, and its 2D box is as large as the
    anchor's (up to perspective). With ``size`` (metres; the ``typical`` depth rule) the depth is
    the one at which a body of that mean extent fills the anchor's box, whatever this pose's own
    extent, so a crouched pose paired with a standing anchor keeps a standing person's depth.

    The paper translates the pose, so it keeps its orientation in the camera frame and the camera
    sees it along another ray: moved down the image, a body is seen more from above. With ``ray``
    (the ``gpa.orientation=ray`` rule) the pose first turns about the camera centre, by the
    smallest rotation that takes its root's ray onto the anchor's, and then moves along that ray:
    the camera sees it from the same angle as in the source, as if it had panned to it. The pose
    must then be where its camera saw it (a root-relative pose has no ray).

    >>> from poseda.geometry.camera import box_scale
    >>> pose = torch.tensor([[[0.0, 0.0, 5.0], [0.2, 0.9, 5.1], [-0.2, -0.8, 4.9]]])  # root first
    >>> anchor = torch.tensor([[[0.3, 0.1], [0.35, 0.3], [0.25, -0.1]]])
    >>> placed, p2d = gpa_place(pose, anchor, torch.tensor([[2.0, 2.0, 0.0, 0.0]]))
    >>> p2d[0, 0], round(box_scale(p2d).item() / box_scale(anchor).item(), 2)
    (tensor([0.3000, 0.1000]), 0.98)
    >>> _, q2d = gpa_place(pose, anchor, torch.tensor([[2.0, 2.0, 0.0, 0.0]]), ray=True)
    >>> q2d[0, 0], round(box_scale(q2d).item() / box_scale(anchor).item(), 2)
    (tensor([0.3000, 0.1000]), 1.0)
    """
    window = pose3d.dim() == 4
    p = pose3d if window else pose3d[:, None]
    c = p.shape[1] // 2 if centre is None else centre
    if ray:  # turn about the camera centre so the root's ray becomes the anchor's
        fx, fy, cx, cy = k.unbind(-1)
        ray_to = torch.stack([(anchor2d[:, root, 0] - cx) / fx, (anchor2d[:, root, 1] - cy) / fy, torch.ones_like(fx)], -1)
        turn = rotation_between(p[:, c, root], ray_to)  # [B, 3, 3]
        p = torch.einsum("bij,btkj->btki", turn, p)
    ref = p[:, c]
    shift = weak_perspective_root(ref, anchor2d, k, root, size=size) - ref[:, root]  # [B, 3]
    placed = p + shift[:, None, None, :]
    if ray:  # a body turned towards an oblique ray is stretched in the image: one step along the ray, back to
        # the size the depth rule meant (its weak-perspective size at this depth: the anchor's box under the box rule)
        r, ext = placed[:, c, root], placed[:, c].amax(-2) - placed[:, c].amin(-2)
        meant = (fx * ext[:, 0] + fy * ext[:, 1]) / (2 * r[:, 2])
        grow = box_scale(project(placed[:, c], k)) / meant.clamp_min(1e-3)
        placed = placed + (r * (grow[:, None] - 1))[:, None, None, :]
    p2d = project(placed, k[:, None])
    return (placed, p2d) if window else (placed[:, 0], p2d[:, 0])


def shape_features(p2d: torch.Tensor, root: int = 0) -> torch.Tensor:
    """[..., J, 2] -> [..., 2J] root-centred 2D divided by its box size: a pose's 2D shape,
    whatever its place and size in the image."""
    centred = p2d - p2d[..., root : root + 1, :]
    return (centred / box_scale(p2d).clamp_min(1e-4)[..., None, None]).flatten(-2)


def most_similar(source2d: torch.Tensor, candidates2d: torch.Tensor, root: int = 0) -> torch.Tensor:
    """[B, J, 2] source 2D and [B, M, J, 2] candidate target 2D -> [B] the index of the candidate
    whose 2D shape (:func:`shape_features`) is nearest each source pose's, batched.

    >>> src = torch.tensor([[[0.0, 0.0], [0.0, 1.0]]])
    >>> cand = torch.tensor([[[[0.0, 0.0], [1.0, 0.0]], [[5.0, 5.0], [5.0, 7.0]]]])  # sideways; upright, elsewhere
    >>> most_similar(src, cand)
    tensor([1])
    """
    d = (shape_features(candidates2d, root) - shape_features(source2d, root)[:, None]).square().sum(-1)
    return d.argmin(-1)


def draw_anchors(n_batch: int, n_targets: int, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Fresh random pairing for one batch: [n_batch] indices into the target set, uniform with
    replacement (so a batch may be larger than the target set). One index selects a target pose
    *and* its camera."""
    return torch.randint(n_targets, (n_batch,), generator=generator).to(device)


class GlobalPositionAlignment(nn.Module):
    """GPA against one target set: target 2D [N, J, 2] and their intrinsics [N, 4] (normalised)
    live as buffers on the module's device. ``forward(pose3d, generator)`` pairs each source
    pose with a fresh random target pose and returns (placed 3D, projected 2D, anchor index)."""

    def __init__(self, target2d: torch.Tensor, target_k: torch.Tensor, root: int = 0, ray: bool = False):
        super().__init__()
        if target2d.shape[0] != target_k.shape[0]:
            raise ValueError(f"{target2d.shape[0]} target poses but {target_k.shape[0]} camera rows")
        if target2d.shape[0] == 0:
            raise ValueError("GPA needs at least one target pose")
        self.register_buffer("target2d", target2d, persistent=False)
        self.register_buffer("target_k", target_k, persistent=False)
        self.root, self.ray = root, ray

    def __len__(self) -> int:
        return self.target2d.shape[0]

    def anchors(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(target 2D [n, J, 2], their intrinsics [n, 4], indices [n]) for a fresh random draw."""
        idx = draw_anchors(n, len(self), generator, self.target2d.device)
        return self.target2d[idx], self.target_k[idx], idx

    def forward(self, pose3d: torch.Tensor, generator: torch.Generator | None = None):
        a2d, k, idx = self.anchors(pose3d.shape[0], generator)
        placed, p2d = gpa_place(pose3d, a2d, k, self.root, ray=self.ray)
        return placed, p2d, idx
