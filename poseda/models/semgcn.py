"""SemGCN (Zhao et al., CVPR 2019): semantic graph convolutions on the skeleton.

Each layer learns a weight for every edge of the skeleton graph (softmax-normalised over a
joint's neighbours) and uses one transform for a joint itself and another for its neighbours.
Residual blocks of two graph convolutions with batch normalisation and ReLU; single frame.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from poseda.models.base import graph_adjacency
from poseda.skeleton.layouts import JointLayout


class SemGraphConv(nn.Module):
    def __init__(self, cin: int, cout: int, adj: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(torch.empty(2, cin, cout))
        nn.init.xavier_uniform_(self.w.data, gain=1.414)
        self.register_buffer("mask", adj > 0, persistent=False)
        self.e = nn.Parameter(torch.ones(int((adj > 0).sum())))
        self.bias = nn.Parameter(torch.empty(cout).uniform_(-1 / math.sqrt(cout), 1 / math.sqrt(cout)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, J, C]
        h0 = x @ self.w[0]
        h1 = x @ self.w[1]
        logits = torch.full(self.mask.shape, -1e9, dtype=x.dtype, device=x.device)
        logits = logits.masked_scatter(self.mask, self.e.to(x.dtype))
        adj = torch.softmax(logits, dim=1)
        eye = torch.eye(adj.shape[0], dtype=x.dtype, device=x.device)
        return (adj * eye) @ h0 + (adj * (1 - eye)) @ h1 + self.bias


class _GConvBN(nn.Module):
    def __init__(self, cin, cout, adj, dropout):
        super().__init__()
        self.conv = SemGraphConv(cin, cout, adj)
        self.bn = nn.BatchNorm1d(cout)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        y = self.conv(x)
        return self.drop(torch.relu(self.bn(y.transpose(1, 2)).transpose(1, 2)))


class SemGCN(nn.Module):
    #: the options a config may set, with their ranges (checked before anything is built)
    option_ranges = {"hidden": (1, 8192), "blocks": (1, 64), "dropout": (0.0, 1.0)}

    def __init__(self, layout: JointLayout, hidden: int = 128, blocks: int = 4, dropout: float = 0.0):
        super().__init__()
        self.layout = layout
        self.receptive_field = 1
        adj = graph_adjacency(layout)
        self.inp = _GConvBN(2, hidden, adj, dropout)
        self.blocks = nn.ModuleList(nn.Sequential(_GConvBN(hidden, hidden, adj, dropout), _GConvBN(hidden, hidden, adj, dropout))
                                    for _ in range(blocks))
        self.out = SemGraphConv(hidden, 3, adj)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x[:, x.shape[1] // 2])
        for blk in self.blocks:
            h = h + blk(h)
        return self.out(h)
