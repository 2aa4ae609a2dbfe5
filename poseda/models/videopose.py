"""VideoPose3D (Pavllo et al., CVPR 2019): temporal convolutions over 2D keypoint sequences.

Blocks of (conv width w with dilation, BN, ReLU, dropout, 1x1 conv, BN, ReLU, dropout) with
residual connections; the receptive field is the product of the filter widths: [3, 3, 3] -> 27,
[3, 3, 3, 3] -> 81, [3, 3, 3, 3, 3] -> 243, and [1, 1, 1] is the single-frame form.

The same weights run two ways: for training on one output frame per window, each convolution
uses stride = width and no dilation (the paper's optimised training model: no wasted
computation); on a whole sequence (``forward_sequence``), dilated convolutions give every frame.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from poseda.skeleton.layouts import JointLayout


class VideoPose3D(nn.Module):
    def __init__(self, layout: JointLayout, filter_widths=(3, 3, 3), channels: int = 1024, dropout: float = 0.25,
                 norm: str = "batch"):
        super().__init__()
        self.layout = layout
        self.filter_widths = tuple(int(w) for w in filter_widths)
        if any(w % 2 == 0 for w in self.filter_widths):
            raise ValueError("filter widths must be odd")
        rf = 1
        for w in self.filter_widths:
            rf *= w
        self.receptive_field = rf
        j = layout.num_joints
        mk_norm = (lambda c: nn.BatchNorm1d(c, momentum=0.1)) if norm == "batch" else (lambda c: nn.GroupNorm(1, c))
        self.expand = nn.Conv1d(2 * j, channels, self.filter_widths[0], bias=False)
        self.expand_bn = mk_norm(channels)
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        for w in self.filter_widths[1:]:
            self.convs.append(nn.Conv1d(channels, channels, w, bias=False))
            self.bns.append(mk_norm(channels))
            self.convs.append(nn.Conv1d(channels, channels, 1, bias=False))
            self.bns.append(mk_norm(channels))
        self.drop = nn.Dropout(dropout)
        self.shrink = nn.Conv1d(channels, 3 * j, 1)

    def _run(self, x: torch.Tensor, dilated: bool) -> torch.Tensor:
        # x: [B, C, L]
        w0 = self.filter_widths[0]
        x = F.conv1d(x, self.expand.weight, stride=1 if dilated else w0)
        x = self.drop(F.relu(self.expand_bn(x)))
        dil = w0
        for i, w in enumerate(self.filter_widths[1:]):
            pad = (w - 1) * dil // 2
            if dilated:
                res = x[:, :, pad : x.shape[2] - pad]
                y = F.conv1d(x, self.convs[2 * i].weight, dilation=dil)
            else:
                res = x[:, :, w // 2 :: w]
                y = F.conv1d(x, self.convs[2 * i].weight, stride=w)
            y = self.drop(F.relu(self.bns[2 * i](y)))
            y = self.drop(F.relu(self.bns[2 * i + 1](self.convs[2 * i + 1](y))))
            x = res + y
            dil *= w
        return self.shrink(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, J, 2] (T = receptive field) -> [B, J, 3]."""
        b, t, j, _ = x.shape
        y = self._run(x.reshape(b, t, 2 * j).transpose(1, 2), dilated=False)
        return y[:, :, 0].reshape(b, j, 3)

    def forward_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """[B, L + T - 1, J, 2] -> [B, L, J, 3]: every frame of a padded sequence."""
        b, n, j, _ = x.shape
        y = self._run(x.reshape(b, n, 2 * j).transpose(1, 2), dilated=True)
        return y.transpose(1, 2).reshape(b, -1, j, 3)
