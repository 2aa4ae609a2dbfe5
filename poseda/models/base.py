"""The lifter interface.

A lifter is a plain ``nn.Module`` with two attributes and one forward signature:

- ``receptive_field``: the number of input frames T (odd; 1 for single-frame models);
- ``layout``: the :class:`~poseda.skeleton.layouts.JointLayout` of its joints;
- ``forward(x)``: ``x`` is ``[B, T, J, 2]`` 2D keypoints in normalised screen units (see
  :class:`poseda.data.codec.PoseCodec`), the output ``[B, J, 3]`` root-relative 3D of the centre
  frame in metres, camera frame.

Optionally ``forward_sequence(x)`` maps a whole padded sequence ``[B, L + T - 1, J, 2]`` to
``[B, L, J, 3]`` at once (temporal convolutions use it for fast evaluation).

Normalisation is not the model's business: it lives in the codec, with the data.
"""
from __future__ import annotations

import torch
from torch import nn

from poseda.skeleton.layouts import JointLayout


def check_lifter(model: nn.Module) -> tuple[int, JointLayout]:
    """Validate that ``model`` follows the interface; returns (receptive_field, layout)."""
    rf = getattr(model, "receptive_field", None)
    layout = getattr(model, "layout", None)
    if not isinstance(rf, int) or rf < 1 or rf % 2 == 0:
        raise TypeError(f"{type(model).__name__}: 'receptive_field' must be a positive odd int, got {rf!r}")
    if not isinstance(layout, JointLayout):
        raise TypeError(f"{type(model).__name__}: 'layout' must be a JointLayout, got {type(layout).__name__}")
    p = next(model.parameters(), None)
    device = p.device if p is not None else torch.device("cpu")
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(2, rf, layout.num_joints, 2, device=device))
    model.train(was)
    if tuple(out.shape) != (2, layout.num_joints, 3):
        raise TypeError(f"{type(model).__name__}: forward of [2, {rf}, {layout.num_joints}, 2] gave {tuple(out.shape)}, "
                        f"expected (2, {layout.num_joints}, 3)")
    return rf, layout


def graph_adjacency(layout: JointLayout, self_loops: bool = True) -> torch.Tensor:
    """[J, J] 0/1 adjacency of the skeleton (bones both ways, optionally the diagonal)."""
    a = torch.zeros(layout.num_joints, layout.num_joints)
    for p, c in layout.bones:
        a[p, c] = a[c, p] = 1
    if self_loops:
        a += torch.eye(layout.num_joints)
    return a
