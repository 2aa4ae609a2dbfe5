"""Epoch data on the training device, and batched window gathering.

:class:`DeviceSet` holds a split's encoded inputs (and targets, for labelled sets) as tensors on
one device. Temporal windows are gathered by index in one call: each frame's window is clamped
to its own view (edge padding, as VideoPose3D pads sequences), so no per-sample Python runs.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from poseda.data.codec import PoseCodec
from poseda.data.domain import Keypoints2D, Poses
from poseda.skeleton.layouts import JointLayout


def view_bounds(view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For frames grouped by view (contiguous runs), the first and last index of each frame's run."""
    view = np.asarray(view)
    n = len(view)
    change = np.flatnonzero(np.diff(view) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]]) - 1
    run = np.repeat(np.arange(len(starts)), np.diff(np.concatenate([starts, [n]])))
    return starts[run], ends[run]


@dataclass
class DeviceSet:
    inputs: torch.Tensor  # [N, J, 2] normalised screen units
    targets: torch.Tensor | None  # [N, J, 3] root-relative metres (None for 2D-only sets)
    start: torch.Tensor  # [N] first index of the frame's view
    end: torch.Tensor  # [N] last index
    layout: JointLayout
    protocol: dict
    actions: np.ndarray | None = None
    intrinsics: torch.Tensor | None = None  # [N, 4] fx fy cx cy of each frame's camera, normalised screen units
    roots: torch.Tensor | None = None  # [N, 3] camera-frame root position (labelled sets)

    @classmethod
    def from_split(cls, data: Poses | Keypoints2D, codec: PoseCodec, device: torch.device | str = "cpu") -> "DeviceSet":
        s, e = view_bounds(data.view)
        labelled = isinstance(data, Poses)
        targets = codec.encode_3d(data.joints3d).to(device) if labelled else None
        roots = torch.as_tensor(np.asarray(data.joints3d[:, codec.root]), dtype=torch.float32, device=device) if labelled else None
        return cls(codec.encode_2d(data.joints2d, data.image_size).to(device), targets,
                   torch.as_tensor(s, device=device), torch.as_tensor(e, device=device), data.layout, dict(data.protocol),
                   getattr(data, "action", None), codec.encode_intrinsics(data.intrinsics, data.image_size).to(device), roots)

    def __len__(self) -> int:
        return len(self.inputs)

    def window_index(self, idx: torch.Tensor, frames: int) -> torch.Tensor:
        """[B] frame indices -> [B, frames] indices of the windows centred on them, clamped to their view."""
        if frames == 1:
            return idx[:, None]
        half = frames // 2
        off = torch.arange(-half, half + 1, device=idx.device)
        return (idx[:, None] + off).clamp(self.start[idx][:, None], self.end[idx][:, None])

    def chunk_index(self, idx: torch.Tensor, chunk: int, frames: int, step: int = 1
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Runs of ``chunk`` output frames ``step`` apart for ``forward_sequence`` training
        (VideoPose3D's ``--stride`` for step 1): each anchor in ``idx`` [B] starts a run, moved back
        so the run stays inside its view. Returns the input indices [B, (chunk - 1) * step + frames]
        (edge-padded like :meth:`windows`), the output frames [B, chunk] and a mask [B, chunk] that
        is False past the end of a view shorter than the run."""
        start, end = self.start[idx], self.end[idx]
        span = (chunk - 1) * step + 1
        first = torch.maximum(torch.minimum(idx, end - span + 1), start)
        out = first[:, None] + torch.arange(chunk, device=idx.device) * step
        valid = out <= end[:, None]
        half = frames // 2
        win = (first[:, None] - half + torch.arange(span + frames - 1, device=idx.device))
        return win.clamp(start[:, None], end[:, None]), out.clamp(max=end[:, None]), valid

    def windows(self, idx: torch.Tensor, frames: int) -> torch.Tensor:
        """[B] frame indices -> [B, frames, J, 2] inputs centred on them, clamped to their view."""
        if frames == 1:
            return self.inputs[idx][:, None]
        return self.inputs[self.window_index(idx, frames)]


_SPLITS: OrderedDict = OrderedDict()
SPLIT_CACHE_SIZE = 4


def device_split(domain, split: str, layout: JointLayout, codec: PoseCodec, device: torch.device | str = "cpu"
                 ) -> tuple[np.ndarray, DeviceSet]:
    """``domain.<split>(layout)`` (training, adaptation, evaluation or oracle_training) encoded on
    ``device``, with its per-frame view index. The last few are kept in memory, so the runs of a
    benchmark in one process load and encode the source once. The tensors are shared: read-only."""
    key = (str(domain.folder), domain.meta.get("build_key", domain.meta.get("num_frames")), split, layout.joints,
           str(device), codec)
    if key in _SPLITS:
        _SPLITS.move_to_end(key)
        return _SPLITS[key]
    data = getattr(domain, split)(layout)
    value = (np.asarray(data.view), DeviceSet.from_split(data, codec, device))
    _SPLITS[key] = value
    while len(_SPLITS) > SPLIT_CACHE_SIZE:
        _SPLITS.popitem(last=False)
    return value
