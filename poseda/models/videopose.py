"""VideoPose3D (Pavllo et al., CVPR 2019): temporal convolutions over 2D keypoint sequences.

Blocks of (conv width w with dilation, BN, ReLU, dropout, 1x1 conv, BN, ReLU, dropout) with
residual connections; the receptive field is the product of the filter widths: [3, 3, 3] -> 27,
[3, 3, 3, 3] -> 81, [3, 3, 3, 3, 3] -> 243, and [1, 1, 1] is the single-frame form.

The same weights run three ways: for training on one output frame per window, each convolution
uses stride = width and no dilation (the paper's optimised training model: no wasted
computation); on a whole sequence (``forward_sequence``), dilated convolutions give every frame;
and ``forward_sequence(x, step)`` gives every ``step``-th frame, strided below that spacing and
dilated above it, so runs of frames ``step`` apart share their upper layers.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from poseda.skeleton.layouts import JointLayout

IDENTITY_SCALE = 1e-4  # last BatchNorm scale of a block added by inflate_state


class VideoPose3D(nn.Module):
    #: the options a config may set, with their ranges (checked before anything is built)
    option_ranges = {"filter_widths": [(1, 9)], "channels": (1, 16384), "dropout": (0.0, 1.0), "norm": {"batch", "group"}}

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
        # output spacings forward_sequence can share work at: the products of the leading widths
        steps = [1]
        for w in self.filter_widths:
            steps.append(steps[-1] * w)
        self.sequence_steps = tuple(sorted(set(steps)))
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

    def _run(self, x: torch.Tensor, step: int) -> torch.Tensor:
        """x [B, C, L] -> [B, 3J, L'] at output frames ``step`` apart (``step`` in ``sequence_steps``).

        A layer of width w whose dilation d (in frames) is below ``step`` runs with stride w on
        its own grid, one at or above ``step`` runs dilated by d / step on the step grid: step 1 is
        the dilated sequence form, step = receptive field the strided one-frame training form."""
        d, grid = 1, 1  # the layer's dilation in frames; frames per position of x
        layers = [(self.filter_widths[0], self.expand.weight, self.expand_bn, None, None)]
        layers += [(w, self.convs[2 * i].weight, self.bns[2 * i], self.convs[2 * i + 1], self.bns[2 * i + 1])
                   for i, w in enumerate(self.filter_widths[1:])]
        for w, weight, bn, pointwise, bn2 in layers:
            out_grid = min(d * w, step) if d < step else step
            stride, dil = out_grid // grid, d // grid
            y = self.drop(F.relu(bn(F.conv1d(x, weight, stride=stride, dilation=dil))))
            if pointwise is None:  # the expanding layer has no residual
                x = y
            else:
                c = (w // 2) * dil
                res = x[:, :, c : c + stride * (y.shape[2] - 1) + 1 : stride]
                x = res + self.drop(F.relu(bn2(pointwise(y))))
            d, grid = d * w, out_grid
        return self.shrink(x)

    def inflate_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The weights of a narrower or shallower VideoPose3D of the same width in channels (a
        single-frame one, say) made to fit this one, so that it predicts exactly what that one did
        (from the centre frame) and learns the rest from there:

        - a kernel of fewer taps goes into the centre taps, the other taps start at zero;
        - blocks the other lifter lacks come after its own and start as near-identities: their
          own initial weights, with the scale of their last BatchNorm at ``IDENTITY_SCALE`` (not
          zero: the ReLU after it would pass no gradient and the block would stay dead), so the
          prediction moves by a fraction of a millimetre."""
        out = dict(state)
        have = sum(1 for k in state if k.startswith("convs.") and k.endswith(".weight")) // 2
        for name, p in self.state_dict().items():
            v = state.get(name)
            if v is None and (name.startswith("convs.") or name.startswith("bns.")) and int(name.split(".")[1]) >= 2 * have:
                i = int(name.split(".")[1])
                new = name == f"bns.{i}.weight" and i % 2 == 1
                out[name] = torch.full_like(p, IDENTITY_SCALE) if new else p.detach().clone()
            elif v is not None and v.dim() == 3 and p.dim() == 3 and v.shape[:2] == p.shape[:2] \
                    and v.shape[2] < p.shape[2] and v.shape[2] % 2 == 1:
                w = torch.zeros_like(p)
                c, h = p.shape[2] // 2, v.shape[2] // 2
                w[:, :, c - h : c + h + 1] = v
                out[name] = w
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, J, 2] (T = receptive field) -> [B, J, 3]."""
        b, t, j, _ = x.shape
        y = self._run(x.reshape(b, t, 2 * j).transpose(1, 2), step=self.receptive_field)
        return y[:, :, 0].reshape(b, j, 3)

    def forward_sequence(self, x: torch.Tensor, step: int = 1) -> torch.Tensor:
        """[B, (L - 1) * step + T, J, 2] -> [B, L, J, 3]: the output frames ``step`` apart of a
        padded sequence (every frame for step 1). ``step`` must be in ``sequence_steps``."""
        if step not in self.sequence_steps:
            raise ValueError(f"step {step} is not one of {self.sequence_steps}")
        b, n, j, _ = x.shape
        y = self._run(x.reshape(b, n, 2 * j).transpose(1, 2), step=step)
        return y.transpose(1, 2).reshape(b, -1, j, 3)
