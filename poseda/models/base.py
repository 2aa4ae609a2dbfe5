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

import math

import torch
from torch import nn

from poseda.errors import PosedaInputError
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


def check_options(name: str, factory, options: dict) -> None:
    """Refuse options outside a lifter's declared ``option_ranges`` (a lifter without the
    declaration is not checked here), before anything is built. A range is ``(low, high)`` (an
    int or a finite float, as the bounds are), a set of allowed strings, or ``[(low, high)]`` for a
    list of up to 16 integers.

    >>> from poseda.models.simple_baseline import SimpleBaseline
    >>> check_options("simple_baseline", SimpleBaseline, {"width": 10**7})
    Traceback (most recent call last):
    poseda.errors.PosedaInputError: model.options.width: simple_baseline's width must be an integer from 1 to 16384, got 10000000
    """
    ranges = getattr(factory, "option_ranges", None) or {}
    for key, value in options.items():
        spec = ranges.get(key)
        if spec is None:
            continue
        where, what = f"model.options.{key}", f"{name}'s {key}"
        if isinstance(spec, set):
            if value not in spec:
                raise PosedaInputError(where, f"{what} must be one of {', '.join(sorted(spec))}, got {value!r}")
        elif isinstance(spec, list):
            lo, hi = spec[0]
            ok = isinstance(value, (list, tuple)) and len(value) <= 16 and all(
                isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi for v in value)
            if not ok:
                raise PosedaInputError(where, f"{what} must be a list of up to 16 integers from {lo} to {hi}, got {value!r}")
        else:
            lo, hi = spec
            if isinstance(lo, int):
                ok = isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
                kind = "an integer"
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and lo <= value <= hi
                kind = "a number"
            if not ok:
                raise PosedaInputError(where, f"{what} must be {kind} from {lo:g} to {hi:g}, got {value!r}")


def graph_adjacency(layout: JointLayout, self_loops: bool = True) -> torch.Tensor:
    """[J, J] 0/1 adjacency of the skeleton (bones both ways, optionally the diagonal)."""
    a = torch.zeros(layout.num_joints, layout.num_joints, device="cpu")  # on the CPU also while a model is sized on "meta"
    for p, c in layout.bones:
        a[p, c] = a[c, p] = 1
    if self_loops:
        a += torch.eye(layout.num_joints, device="cpu")
    return a
