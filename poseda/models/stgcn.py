"""ST-GCN for lifting (Yan et al., AAAI 2018; as used for 3D pose by Cai et al., ICCV 2019).

Spatial graph convolution with the distance partition of each joint's neighbourhood (itself,
neighbours closer to the root, neighbours farther from it), one transform per partition and a
learnable importance per edge; followed by a temporal convolution over frames. Temporal widths
(valid, dilated like VideoPose3D) set the receptive field: [] is the single-frame form,
[3, 3, 3] sees 27 frames.
"""
from __future__ import annotations

import torch
from torch import nn

from poseda.skeleton.layouts import JointLayout


def distance_partitions(layout: JointLayout) -> torch.Tensor:
    """[3, J, J]: self links, links towards the root, links away from it; each normalised by the
    receiving joint's degree."""
    j = layout.num_joints
    depth = [0] * j
    for k, p in enumerate(layout.parents):
        depth[k] = 0 if p < 0 else depth[p] + 1
    a = torch.zeros(3, j, j, device="cpu")  # on the CPU also while a model is sized on "meta"
    a[0] = torch.eye(j, device="cpu")
    for p, c in layout.bones:
        a[1, c, p] = 1  # c receives from its parent (closer to the root)
        a[2, p, c] = 1  # p receives from its child (farther)
    deg = a.sum(0).sum(1, keepdim=True)
    return a / deg


class _STBlock(nn.Module):
    def __init__(self, cin, cout, parts: torch.Tensor, t_width: int, t_dil: int, dropout: float):
        super().__init__()
        self.k = parts.shape[0]
        self.register_buffer("parts", parts, persistent=False)
        self.importance = nn.Parameter(torch.ones_like(parts))
        self.spatial = nn.Conv2d(cin, cout * self.k, 1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.temporal = nn.Conv2d(cout, cout, (t_width, 1), dilation=(t_dil, 1))
        self.bn2 = nn.BatchNorm2d(cout)
        self.drop = nn.Dropout(dropout)
        self.res = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)
        self.cut = (t_width - 1) * t_dil // 2

    def forward(self, x):  # [B, C, T, J]
        b, _, t, j = x.shape
        y = self.spatial(x).view(b, self.k, -1, t, j)
        y = torch.einsum("bkctv,kwv->bctw", y, self.parts * self.importance)
        y = torch.relu(self.bn1(y))
        y = self.drop(self.bn2(self.temporal(y)))
        r = self.res(x)
        if self.cut:
            r = r[:, :, self.cut : t - self.cut]
        return torch.relu(y + r)


class STGCN(nn.Module):
    #: the options a config may set, with their ranges (checked before anything is built)
    option_ranges = {"channels": (1, 8192), "blocks": (1, 64), "temporal_widths": [(1, 27)], "dropout": (0.0, 1.0)}

    def __init__(self, layout: JointLayout, channels: int = 128, blocks: int = 4, temporal_widths=(), dropout: float = 0.1):
        super().__init__()
        self.layout = layout
        widths = list(temporal_widths) + [1] * max(0, blocks - len(temporal_widths))
        if len(widths) != blocks:
            raise ValueError(f"{len(temporal_widths)} temporal widths for {blocks} blocks")
        rf, dil, dils = 1, 1, []
        for w in widths:
            dils.append(dil)
            rf *= w
            dil *= w
        self.receptive_field = rf
        parts = distance_partitions(layout)
        self.in_bn = nn.BatchNorm1d(2 * layout.num_joints)
        self.blocks = nn.ModuleList(
            _STBlock(2 if i == 0 else channels, channels, parts, w, d, dropout) for i, (w, d) in enumerate(zip(widths, dils))
        )
        self.head = nn.Conv2d(channels, 3, 1)

    def _run(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, J, 2] -> [B, T', J, 3]
        b, t, j, _ = x.shape
        x = self.in_bn(x.reshape(b, t, 2 * j).transpose(1, 2)).view(b, j, 2, t).permute(0, 2, 3, 1)
        for blk in self.blocks:
            x = blk(x)
        return self.head(x).permute(0, 2, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)[:, 0]

    def forward_sequence(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)
