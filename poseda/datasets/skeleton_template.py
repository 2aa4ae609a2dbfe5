"""Skeleton templates (parents + rest offsets) for the exponential-map motion files."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseda.errors import PosedaInputError, malformed_input


@dataclass(frozen=True)
class SkeletonTemplate:
    name: str
    parents: tuple[int, ...]
    offsets: np.ndarray  # [J, 3] in the template's units, parent frame
    units_to_m: float

    @property
    def num_joints(self) -> int:
        return len(self.parents)


@malformed_input("skeleton template", 0)
def load_skeleton_template(path: str | Path, units_to_m: float) -> SkeletonTemplate:
    """Read a skeleton template JSON (keys ``name``, ``parents``, ``offsets_in_parent_frame``)."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise PosedaInputError(path, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PosedaInputError(path, f"not valid JSON ({e})") from None
    for key in ("parents", "offsets_in_parent_frame"):
        if key not in d:
            raise PosedaInputError(path, f"missing field '{key}'")
    parents = tuple(int(p) for p in d["parents"])
    offsets = np.asarray(d["offsets_in_parent_frame"], dtype=np.float64)
    if offsets.shape != (len(parents), 3):
        raise PosedaInputError(path, f"offsets have shape {offsets.shape}, expected ({len(parents)}, 3)")
    if any(p >= j for j, p in enumerate(parents)):
        raise PosedaInputError(path, "parents are not topologically ordered")
    if not np.isfinite(offsets).all():
        raise PosedaInputError(path, "offsets contain NaN or infinite values")
    return SkeletonTemplate(d.get("name", path.stem), parents, offsets, units_to_m)
