"""Readers and forward kinematics for the Human3.6M and CMU exponential-map motion files.

Human3.6M (``h3.6m/dataset/S*/<action>_<trial>.txt``): 99 floats a frame. values[0:3] is the
root translation since the previous frame and values[3:6] the root rotation since the previous
frame, both in the previous frame's root coordinates; values[3+3j:6+3j] is joint j's local
rotation. CMU (``cmu/{train,test}/<action>/<action>_<n>.txt``): 117 floats a frame, values[0:3]
the absolute root position, then 38 exponential-map triples (joint 0's is absolute).

The templates compose row-vector style (p_child = offset . R_parent + p_parent,
R_child = R_local . R_parent); that equals column-vector composition with the transposed
matrices, which is what we do. Output positions are in metres in the template's y-up frame.
"""
from __future__ import annotations

import numpy as np
import torch

from poseda.datasets.skeleton_template import SkeletonTemplate
from poseda.datasets.text import parse_float_table
from poseda.errors import malformed_input
from poseda.geometry.kinematics import forward_kinematics
from poseda.geometry.rotations import axis_angle_to_matrix, cumulative_matmul

H36M_EXPMAP_COLUMNS = 99
CMU_EXPMAP_COLUMNS = 117


@malformed_input("Human3.6M exponential-map file", 1)
def read_h36m_expmap(data: bytes | str, where: str) -> np.ndarray:
    """Parse one Human3.6M exponential-map file -> [T, 99] float64."""
    return parse_float_table(data, H36M_EXPMAP_COLUMNS, where)


@malformed_input("CMU exponential-map file", 1)
def read_cmu_expmap(data: bytes | str, where: str) -> np.ndarray:
    """Parse one CMU exponential-map file -> [T, 117] float64."""
    return parse_float_table(data, CMU_EXPMAP_COLUMNS, where)


def _local_rotations(values: torch.Tensor, num_joints: int) -> torch.Tensor:
    """[T, 3 + 3J] -> [T, J, 3, 3] column-vector local rotations (transpose of the row form)."""
    r = values[:, 3 : 3 + 3 * num_joints].reshape(-1, num_joints, 3)
    return axis_angle_to_matrix(r).transpose(-1, -2)


def integrate_root(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Human3.6M root deltas -> absolute root rotations [T, 3, 3] (column form) and positions
    [T, 3] (template units).

    Row form: R[t] = D[t] . R[t-1], T[t] = T[t-1] + R[t-1]^T d[t] (d in previous root frame).
    Column form (C = R^T): C[t] = C[t-1] @ D[t]^T, T[t] = T[t-1] + C[t-1] d[t].
    Both are parallel prefix scans; no Python loop over frames.
    """
    delta_rows = axis_angle_to_matrix(values[:, 3:6])  # row-form deltas D[t]
    rot_rows = cumulative_matmul(delta_rows)  # R[t] = D[t] ... D[0]
    rot = rot_rows.transpose(-1, -2)
    prev = torch.cat([torch.eye(3, dtype=values.dtype)[None], rot[:-1]], 0)
    steps = (prev @ values[:, 0:3, None])[..., 0]
    return rot, torch.cumsum(steps, 0)


def h36m_expmap_fk(values: np.ndarray, template: SkeletonTemplate) -> dict[str, np.ndarray]:
    """Forward kinematics of one Human3.6M exponential-map sequence.

    Returns ``local`` [T, 32, 3]: joints relative to the root, in the root's frame whose heading
    and tilt are not applied (the body's own pose); ``root_rot`` [T, 3, 3] the integrated root
    orientation; ``root_pos`` [T, 3] the integrated root path; ``world`` [T, 32, 3] with both
    applied. Metres, y up.
    """
    v = torch.from_numpy(values)
    loc = _local_rotations(v, template.num_joints)
    loc[:, 0] = torch.eye(3, dtype=v.dtype)  # root orientation handled by integration
    offs = torch.from_numpy(template.offsets) * template.units_to_m
    local, _ = forward_kinematics(loc, offs, template.parents)
    root_rot, root_pos = integrate_root(v)
    root_pos = root_pos * template.units_to_m
    world = (root_rot[:, None] @ local[..., None])[..., 0] + root_pos[:, None]
    return {"local": local.numpy(), "root_rot": root_rot.numpy(), "root_pos": root_pos.numpy(), "world": world.numpy()}


def cmu_expmap_fk(values: np.ndarray, template: SkeletonTemplate) -> np.ndarray:
    """Forward kinematics of one CMU exponential-map sequence -> [T, 38, 3] metres, y up."""
    v = torch.from_numpy(values)
    loc = _local_rotations(v, template.num_joints)
    offs = torch.from_numpy(template.offsets) * template.units_to_m
    root = v[:, 0:3] * template.units_to_m
    pos, _ = forward_kinematics(loc, offs, template.parents, root_pos=root)
    return pos.numpy()
