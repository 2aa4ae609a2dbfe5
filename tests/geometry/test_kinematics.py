import math

import torch

from poseda.geometry.kinematics import bone_lengths, forward_kinematics, tree_levels
from poseda.geometry.rotations import axis_rotation


def test_chain_by_hand():
    # root at (1, 0, 0); joint 1 offset (0, 1, 0); joint 2 offset (0, 1, 0) from 1.
    parents = [-1, 0, 1]
    offsets = torch.tensor([[0.0, 0, 0], [0, 1, 0], [0, 1, 0]], dtype=torch.float64)
    rot = torch.eye(3, dtype=torch.float64).repeat(1, 3, 1, 1)
    rot[0, 0] = axis_rotation("z", torch.tensor(math.pi / 2, dtype=torch.float64))  # root turns y into -x
    rot[0, 1] = axis_rotation("z", torch.tensor(-math.pi / 2, dtype=torch.float64))  # joint 1 turns back
    pos, glob = forward_kinematics(rot, offsets, parents, root_pos=torch.tensor([[1.0, 0, 0]], dtype=torch.float64))
    torch.testing.assert_close(pos[0], torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 1, 0]], dtype=torch.float64))
    torch.testing.assert_close(glob[0, 2], torch.eye(3, dtype=torch.float64))


def test_levels_and_bone_lengths_invariant_to_rotation():
    parents = [-1, 0, 1, 1, 0, 4]
    assert tree_levels(parents) == [[0], [1, 4], [2, 3, 5]]
    offsets = torch.randn(6, 3, dtype=torch.float64)
    rot = axis_rotation("x", torch.randn(10, 6, dtype=torch.float64)) @ axis_rotation("y", torch.randn(10, 6, dtype=torch.float64))
    pos, _ = forward_kinematics(rot, offsets, parents)
    bl = bone_lengths(pos, parents)
    torch.testing.assert_close(bl, offsets[1:].norm(dim=-1).expand(10, 5))
