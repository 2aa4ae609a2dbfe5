"""SimpleBaseline (Martinez et al., ICCV 2017): a fully connected network of width 1024 with
two residual blocks, each two linear layers with batch normalisation, ReLU and dropout."""
from __future__ import annotations

import torch
from torch import nn

from poseda.skeleton.layouts import JointLayout


def _norm(kind: str, width: int) -> nn.Module:
    return {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}[kind](width) if kind != "none" else nn.Identity()


class _Block(nn.Module):
    def __init__(self, width: int, dropout: float, norm: str):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(width, width), _norm(norm, width), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(width, width), _norm(norm, width), nn.ReLU(inplace=True), nn.Dropout(dropout),
        )

    def forward(self, x):
        return x + self.net(x)


class SimpleBaseline(nn.Module):
    #: the options a config may set, with their ranges (checked before anything is built)
    option_ranges = {"width": (1, 16384), "blocks": (1, 64), "dropout": (0.0, 1.0), "norm": {"batch", "layer", "none"}}

    def __init__(self, layout: JointLayout, width: int = 1024, blocks: int = 2, dropout: float = 0.5, norm: str = "batch"):
        super().__init__()
        self.layout = layout
        self.receptive_field = 1
        j = layout.num_joints
        self.inp = nn.Sequential(nn.Linear(2 * j, width), _norm(norm, width), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.blocks = nn.Sequential(*[_Block(width, dropout, norm) for _ in range(blocks)])
        self.out = nn.Linear(width, 3 * j)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        y = self.out(self.blocks(self.inp(x[:, x.shape[1] // 2].reshape(b, -1))))
        return y.view(b, -1, 3)
