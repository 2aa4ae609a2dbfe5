"""Lifters: the interface (:mod:`poseda.models.base`) and five backbones, built by name."""
from __future__ import annotations

from typing import Any, Callable

from torch import nn

from poseda.errors import PosedaInputError
from poseda.models.base import check_lifter
from poseda.models.semgcn import SemGCN
from poseda.models.simple_baseline import SimpleBaseline
from poseda.models.stgcn import STGCN
from poseda.models.transformer import PoseTransformer
from poseda.models.videopose import VideoPose3D
from poseda.skeleton.layouts import JointLayout

LIFTERS: dict[str, Callable[..., nn.Module]] = {
    "simple_baseline": SimpleBaseline,
    "videopose3d": VideoPose3D,
    "semgcn": SemGCN,
    "stgcn": STGCN,
    "transformer": PoseTransformer,
}


def register_lifter(name: str, factory: Callable[..., nn.Module]) -> None:
    """Make a user's lifter class (taking ``layout`` and keyword options) buildable by name."""
    LIFTERS[name] = factory


def build_lifter(name: str, layout: JointLayout, **options: Any) -> nn.Module:
    if name not in LIFTERS:
        raise PosedaInputError("model.name", f"unknown lifter {name!r} (known: {', '.join(LIFTERS)})")
    try:
        model = LIFTERS[name](layout, **options)
    except TypeError as e:
        raise PosedaInputError("model", f"bad options for {name}: {e}") from None
    check_lifter(model)
    return model


__all__ = ["LIFTERS", "build_lifter", "register_lifter", "check_lifter", "SimpleBaseline", "VideoPose3D", "SemGCN",
           "STGCN", "PoseTransformer"]
