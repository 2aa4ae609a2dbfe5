"""Predicting with a lifter over a split and scoring it with its protocol."""
from __future__ import annotations

import numpy as np
import torch

from poseda.data.codec import PoseCodec
from poseda.data.domain import Poses
from poseda.metrics import Protocol, Report, evaluate
from poseda.train.data import DeviceSet


@torch.no_grad()
def predict(model: torch.nn.Module, data: DeviceSet, idx: torch.Tensor | None = None, flip_test: bool = False,
            batch_size: int = 4096, codec: PoseCodec = PoseCodec()) -> torch.Tensor:
    """Root-relative 3D for frames ``idx`` (default all): [N, J, 3] on the data's device."""
    was = model.training
    model.eval()
    rf = model.receptive_field
    if idx is None:
        idx = torch.arange(len(data), device=data.inputs.device)
    out = []
    for b in range(0, len(idx), batch_size):
        x = data.windows(idx[b : b + batch_size], rf)
        y = model(x)
        if flip_test:
            y = (y + codec.flip_3d(model(codec.flip_2d(x, data.layout)), data.layout)) / 2
        out.append(y - y[:, codec.root : codec.root + 1])
    model.train(was)
    return torch.cat(out) if out else torch.zeros(0, data.layout.num_joints, 3)


def evaluate_split(model: torch.nn.Module, poses: Poses, flip_test: bool = True, batch_size: int = 4096,
                   device: str | torch.device = "cpu", codec: PoseCodec = PoseCodec()) -> Report:
    """MPJPE / PA-MPJPE / N-MPJPE / PCK / AUC of ``model`` on ``poses``, per action and joint."""
    data = DeviceSet.from_split(poses, codec, device)
    pred = predict(model, data, flip_test=flip_test, batch_size=batch_size, codec=codec).float().cpu()
    gt = data.targets.cpu()
    proto = Protocol(joints=poses.layout.name, num_joints=poses.layout.num_joints,
                     source_2d=poses.protocol.get("2d", "ground truth"), frames=model.receptive_field,
                     flip_test=flip_test, split=poses.protocol.get("split", "?"), domain=poses.protocol.get("domain", "?"))
    return evaluate(pred.numpy(), gt.numpy(), proto, list(poses.layout.joints), np.asarray(poses.action))
