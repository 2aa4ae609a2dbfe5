"""A generic BVH reader and batched forward kinematics.

Supports any hierarchy, any rotation order per joint, and joints with or without position
channels (a joint's position channels, when present, replace its OFFSET as the local
translation, the usual BVH reading). Angles are degrees; positions are in the file's units.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from poseda.datasets.text import parse_float_table
from poseda.errors import PosedaInputError, malformed_input
from poseda.geometry.kinematics import forward_kinematics
from poseda.geometry.rotations import euler_to_matrix

_CHANNELS = {"Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation"}


@dataclass
class BvhMotion:
    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # [J, 3]
    channels: list[list[str]]
    motion: np.ndarray  # [T, C] all channels, file order
    frame_time: float
    end_sites: dict[int, np.ndarray]  # joint index -> end-site offset

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"joint {name!r} not in BVH (has {', '.join(self.names)})") from None


@malformed_input("BVH file", 1)
def read_bvh(data: bytes | str, where: str) -> BvhMotion:
    """Parse a BVH file's text. Raises PosedaInputError naming ``where`` for malformed input."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise PosedaInputError(where, "not a text file") from None
    head, sep, tail = data.partition("MOTION")
    if not sep:
        raise PosedaInputError(where, "no MOTION section (truncated or not a BVH file)")
    tokens = head.split()
    if not tokens or tokens[0] != "HIERARCHY":
        raise PosedaInputError(where, "does not start with HIERARCHY")
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    end_sites: dict[int, np.ndarray] = {}
    stack: list[int] = []
    i = 1
    pending: int | None = None  # joint whose '{' comes next; -2 for an end site
    in_end = False
    try:
        while i < len(tokens):
            t = tokens[i]
            if t in ("ROOT", "JOINT"):
                names.append(tokens[i + 1])
                parents.append(stack[-1] if stack else -1)
                offsets.append([0.0, 0.0, 0.0])
                channels.append([])
                pending = len(names) - 1
                i += 2
            elif t == "End":
                if tokens[i + 1] != "Site":
                    raise ValueError("'End' not followed by 'Site'")
                in_end = True
                pending = -2
                i += 2
            elif t == "{":
                if pending is None:
                    raise ValueError("unexpected '{'")
                stack.append(pending)
                pending = None
                i += 1
            elif t == "}":
                if not stack:
                    raise ValueError("unbalanced '}'")
                top = stack.pop()
                if top == -2:
                    in_end = False
                i += 1
            elif t == "OFFSET":
                vals = [float(x) for x in tokens[i + 1 : i + 4]]
                if len(vals) != 3:
                    raise ValueError("OFFSET needs 3 numbers")
                if in_end:
                    end_sites[stack[-2]] = np.asarray(vals)
                else:
                    offsets[stack[-1]] = vals
                i += 4
            elif t == "CHANNELS":
                n = int(tokens[i + 1])
                ch = tokens[i + 2 : i + 2 + n]
                unknown = [c for c in ch if c not in _CHANNELS]
                if unknown or len(ch) != n:
                    raise ValueError(f"bad CHANNELS {ch}")
                channels[stack[-1]] = ch
                i += 2 + n
            else:
                raise ValueError(f"unexpected token {t!r}")
    except (ValueError, IndexError) as e:
        raise PosedaInputError(where, f"malformed HIERARCHY: {e}") from None
    if stack:
        raise PosedaInputError(where, "malformed HIERARCHY: unbalanced braces")
    if not names:
        raise PosedaInputError(where, "no joints in HIERARCHY")
    m = re.match(r"\s*Frames:\s*(\d+)\s*Frame Time:\s*([0-9.eE+-]+)\s*\n(.*)", tail, re.S)
    if not m:
        raise PosedaInputError(where, "MOTION section lacks 'Frames:' / 'Frame Time:' lines")
    nframes, frame_time = int(m.group(1)), float(m.group(2))
    if not frame_time > 0:
        raise PosedaInputError(where, f"Frame Time must be positive, got {frame_time}")
    ncols = sum(len(c) for c in channels)
    motion = parse_float_table(m.group(3), ncols, where, sep=" ") if ncols else np.zeros((nframes, 0))
    if motion.shape[0] != nframes:
        raise PosedaInputError(where, f"header says {nframes} frames but {motion.shape[0]} follow (truncated?)")
    return BvhMotion(names, parents, np.asarray(offsets, dtype=np.float64), channels, motion, frame_time, end_sites)


def bvh_fk(bvh: BvhMotion) -> np.ndarray:
    """Forward kinematics -> joint positions [T, J, 3] in the file's units and axes."""
    motion = torch.from_numpy(bvh.motion)
    t = motion.shape[0]
    nj = len(bvh.names)
    trans = torch.from_numpy(bvh.offsets).expand(t, nj, 3).clone()
    rot = torch.eye(3, dtype=torch.float64).repeat(t, nj, 1, 1)
    col = 0
    # group joints by rotation order so each group converts in one batched call
    by_order: dict[str, tuple[list[int], list[list[int]]]] = {}
    for j, ch in enumerate(bvh.channels):
        pos_cols = {c[0]: col + k for k, c in enumerate(ch) if c.endswith("position")}
        rot_ch = [(c[0], col + k) for k, c in enumerate(ch) if c.endswith("rotation")]
        col += len(ch)
        if pos_cols:
            for a, axis in enumerate("XYZ"):
                if axis in pos_cols:
                    trans[:, j, a] = motion[:, pos_cols[axis]]
        if rot_ch:
            order = "".join(a for a, _ in rot_ch)
            js, cols = by_order.setdefault(order, ([], []))
            js.append(j)
            cols.append([c for _, c in rot_ch])
    for order, (js, cols) in by_order.items():
        ang = torch.deg2rad(motion[:, torch.as_tensor(cols)])  # [T, n, k]
        if len(order) < 3:  # pad partial orders with zero rotations
            order = order + "".join(a for a in "XYZ" if a not in order)[: 3 - len(order)]
            ang = torch.cat([ang, torch.zeros(t, len(js), 3 - ang.shape[-1], dtype=ang.dtype)], -1)
        rot[:, js] = euler_to_matrix(ang, order)
    root = trans[:, 0].clone()
    trans[:, 0] = 0
    pos, _ = forward_kinematics(rot, trans, bvh.parents, root_pos=root)
    return pos.numpy()


def read_bvh_file(path: str | Path) -> BvhMotion:
    path = Path(path)
    try:
        return read_bvh(path.read_bytes(), str(path))
    except FileNotFoundError:
        raise PosedaInputError(path, "file not found") from None
