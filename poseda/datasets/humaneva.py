"""HumanEva-I in the VideoPose3D npz layout.

``data_3d_humaneva15.npz``: ``positions_3d`` = {"Train/S1": {"Walking 1 chunk0": [T, 15, 3]}, ...}
(metres, world). ``data_2d_humaneva15_gt.npz``: ``positions_2d`` = same keys -> list of 3 arrays
[T, 15, 2] (pixels, cameras C1, C2, C3), and ``metadata`` (layout name, keypoint symmetry).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseda.datasets.checks import numeric_array
from poseda.errors import PosedaInputError, malformed_input
from poseda.safe_pickle import load_object_npz

NUM_JOINTS = 15
IMAGE_SIZE = (640, 480)


@dataclass
class HumanEva:
    positions_3d: dict[str, dict[str, np.ndarray]]
    positions_2d: dict[str, dict[str, list[np.ndarray]]]
    image_size: tuple[int, int] = IMAGE_SIZE


@malformed_input("HumanEva-I file", 0)
def read_humaneva(path_3d: Path, path_2d: Path) -> HumanEva:
    d3 = load_object_npz(path_3d, "positions_3d")
    d2 = load_object_npz(path_2d, "positions_2d")
    if not isinstance(d3, dict) or not isinstance(d2, dict):
        raise PosedaInputError(path_3d, "positions_3d / positions_2d must be dictionaries")
    p3, p2 = {}, {}
    for subj, acts in d3.items():
        if subj not in d2:
            raise PosedaInputError(path_2d, f"no 2D for {subj}")
        p3[subj], p2[subj] = {}, {}
        for act, arr in acts.items():
            a3 = numeric_array(path_3d, f"{subj}/{act}", arr, (None, NUM_JOINTS, 3))
            views = d2[subj].get(act)
            if views is None or len(views) != 3:
                raise PosedaInputError(path_2d, f"{subj}/{act}: expected 2D for 3 cameras")
            a2 = [numeric_array(path_2d, f"{subj}/{act}[{c}]", v, (None, NUM_JOINTS, 2)) for c, v in enumerate(views)]
            if any(len(v) != len(a3) for v in a2):
                raise PosedaInputError(path_2d, f"{subj}/{act}: 2D and 3D frame counts differ")
            p3[subj][act] = a3.astype(np.float64)
            p2[subj][act] = [v.astype(np.float64) for v in a2]
    return HumanEva(p3, p2)


