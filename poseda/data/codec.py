"""How poses are presented to a lifter (normalisation lives with the data, not the model).

Inputs: 2D keypoints in normalised screen units (x / W * 2 - 1, y / W * 2 - H / W), the same
coordinates GPA works in. Targets: 3D joints in metres in the camera frame, relative to the root
joint (the root row is zero). Flipping mirrors the image horizontally (x -> -x in normalised
screen units, X -> -X in 3D) and swaps left and right joints; it is exact for a principal point
at the image centre and a close approximation otherwise (the usual flip augmentation / test).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from poseda.geometry.camera import normalize_intrinsics, normalize_screen
from poseda.skeleton.layouts import JointLayout


@dataclass(frozen=True)
class PoseCodec:
    root: int = 0
    name: str = "screen-normalised-2d/root-relative-3d-m"

    def encode_2d(self, joints2d, image_size) -> torch.Tensor:
        """Pixels [N, J, 2] with image sizes [N, 2] -> normalised screen units.

        >>> PoseCodec().encode_2d([[[0.0, 0.0], [500.0, 500.0]]], [[1000.0, 1000.0]])
        tensor([[[-1., -1.],
                 [ 0.,  0.]]])
        """
        uv = torch.as_tensor(np.asarray(joints2d), dtype=torch.float64)
        size = torch.as_tensor(np.asarray(image_size), dtype=torch.float64)
        return normalize_screen(uv, size).float()

    def encode_intrinsics(self, intrinsics, image_size) -> torch.Tensor:
        """(fx, fy, cx, cy) in pixels [N, 4] with image sizes [N, 2] -> normalised screen units."""
        k = torch.as_tensor(np.asarray(intrinsics), dtype=torch.float64)
        size = torch.as_tensor(np.asarray(image_size), dtype=torch.float64)
        return normalize_intrinsics(k, size).float()

    @staticmethod
    def flip_intrinsics(k: torch.Tensor) -> torch.Tensor:
        """The camera of the mirrored image (cx -> -cx in normalised units), so that projecting a
        flipped 3D pose with it gives the flipped 2D."""
        return k * torch.tensor([1.0, 1.0, -1.0, 1.0], dtype=k.dtype, device=k.device)

    def encode_3d(self, joints3d) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(joints3d), dtype=torch.float32)
        return x - x[:, self.root : self.root + 1]

    @staticmethod
    def flip_2d(x: torch.Tensor, layout: JointLayout) -> torch.Tensor:
        """The mirrored image's 2D: x -> -x and left and right joints swapped.

        >>> from poseda.skeleton.layouts import H36M17
        >>> x = torch.zeros(1, 17, 2)
        >>> x[0, H36M17.index("RWrist")] = torch.tensor([0.3, 0.1])
        >>> PoseCodec.flip_2d(x, H36M17)[0, H36M17.index("LWrist")]
        tensor([-0.3000,  0.1000])
        """
        y = x[..., layout.flip_permutation, :].clone()
        y[..., 0] = -y[..., 0]
        return y

    @staticmethod
    def flip_3d(x: torch.Tensor, layout: JointLayout) -> torch.Tensor:
        y = x[..., layout.flip_permutation, :].clone()
        y[..., 0] = -y[..., 0]
        return y

    def to_dict(self) -> dict:
        return asdict(self)
