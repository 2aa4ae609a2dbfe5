"""A spatial-temporal transformer lifter of the PoseFormer / MixSTE family.

Every (frame, joint) is a token. Blocks alternate spatial attention (across the joints of a
frame) and temporal attention (across the frames of a joint), as in MixSTE; learnable joint and
frame position embeddings; pre-norm layers with GELU. The centre frame's tokens are regressed to
3D. With one frame it is a spatial (joint-token) transformer.
"""
from __future__ import annotations

import torch
from torch import nn

from poseda.skeleton.layouts import JointLayout


def _layer(dim, heads, mlp_ratio, dropout):
    return nn.TransformerEncoderLayer(dim, heads, int(dim * mlp_ratio), dropout, activation="gelu",
                                      batch_first=True, norm_first=True)


class PoseTransformer(nn.Module):
    #: the options a config may set, with their ranges (checked before anything is built)
    option_ranges = {"frames": (1, 729), "dim": (1, 4096), "depth": (1, 64), "heads": (1, 64), "mlp_ratio": (0.0, 64.0),
                     "dropout": (0.0, 1.0)}

    def __init__(self, layout: JointLayout, frames: int = 1, dim: int = 128, depth: int = 4, heads: int = 8,
                 mlp_ratio: float = 2.0, dropout: float = 0.1):
        super().__init__()
        if frames < 1 or frames % 2 == 0:
            raise ValueError("frames must be a positive odd number")
        self.layout = layout
        self.receptive_field = frames
        j = layout.num_joints
        self.embed = nn.Linear(2, dim)
        self.joint_pos = nn.Parameter(torch.zeros(1, 1, j, dim))
        self.frame_pos = nn.Parameter(torch.zeros(1, frames, 1, dim))
        nn.init.trunc_normal_(self.joint_pos, std=0.02)
        nn.init.trunc_normal_(self.frame_pos, std=0.02)
        self.spatial = nn.ModuleList(_layer(dim, heads, mlp_ratio, dropout) for _ in range(depth))
        self.temporal = nn.ModuleList(_layer(dim, heads, mlp_ratio, dropout) for _ in range(depth)) if frames > 1 else None
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 3)

    def _run(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, J, 2] -> [B, T, J, dim]
        b, t, j, _ = x.shape
        h = self.embed(x) + self.joint_pos + self.frame_pos[:, :t]
        for i, sp in enumerate(self.spatial):
            h = sp(h.reshape(b * t, j, -1)).view(b, t, j, -1)
            if self.temporal is not None:
                h = self.temporal[i](h.transpose(1, 2).reshape(b * j, t, -1)).view(b, j, t, -1).transpose(1, 2)
        return self.norm(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._run(x)
        return self.head(h[:, h.shape[1] // 2])
