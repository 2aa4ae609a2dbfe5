"""A new importer in one file: a domain from plain CSV files, one per view, and a ``domain.json``
that says what they are: the layout ``examples/csv_views_export.py`` writes, and one that any tool
(a motion-capture export, a spreadsheet, a script of yours) can write by hand.

``poseda data import csv-views NAME FOLDER`` reads ``FOLDER/domain.json``:

- ``role`` (``source`` or ``target``), ``fps``, ``splits`` (split name -> what it is for) and
  ``train_split`` / ``eval_split`` / ``adapt_split`` (which split trains a source, evaluates, adapts);
- ``joints``: the names of the joints the CSV files hold, among the 17 Human3.6M joints
  (Pelvis, RHip, ... Head; the others are left out of the domain);
- ``views``: one per CSV file: ``file``, ``sequence``, ``subject``, ``action``, ``split``,
  ``camera``, and the camera: ``intrinsics`` fx, fy, cx, cy (pixels), ``image_size`` W, H, and
  optionally ``distortion`` k1, k2, k3, p1, p2 (default none), ``cam_rotation`` camera to world
  3x3 and ``cam_centre`` metres (default unknown).

Each CSV has a header and one row per frame: ``frame``, ``<joint>_x``, ``_y``, ``_z`` (camera
frame, metres; empty for a 2D-only target) and ``<joint>_u``, ``_v`` (pixels) for every joint.

    poseda --plugin examples/csv_views_import.py data import csv-views mydomain exported/cmu-3dhp
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from poseda.domains.importers import Importer, ViewCollector, register_importer
from poseda.errors import PosedaInputError
from poseda.skeleton.layouts import CANONICAL


def _floats(cells: list[str]) -> list[float]:
    return [float(c) if c.strip() else np.nan for c in cells]


def build(paths: list[Path], options: dict) -> tuple[dict, dict]:
    if len(paths) != 1 or not (paths[0] / "domain.json").is_file():
        raise PosedaInputError("PATHS", "give one folder holding domain.json and its CSV files")
    folder = paths[0]
    d = json.loads((folder / "domain.json").read_text())
    joints = list(d["joints"])
    unknown = [j for j in joints if j not in CANONICAL.joints]
    if unknown:
        raise PosedaInputError(folder / "domain.json", f"joints {', '.join(unknown)} are not Human3.6M joints "
                                                       f"({', '.join(CANONICAL.joints)})")
    cols = CANONICAL.indices(joints)
    acc = ViewCollector()
    for view in d["views"]:
        path = folder / view["file"]
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        want = ["frame", *(f"{j}_{c}" for j in joints for c in "xyz"), *(f"{j}_{c}" for j in joints for c in "uv")]
        if rows[0] != want:
            raise PosedaInputError(path, f"header must be {', '.join(want[:4])} ... {want[-1]} (frame, 3D, 2D of each joint)")
        values = np.array([_floats(r[1:]) for r in rows[1:]]).reshape(len(rows) - 1, len(want) - 1)
        j3 = np.full((len(values), CANONICAL.num_joints, 3), np.nan)
        j2 = np.full((len(values), CANONICAL.num_joints, 2), np.nan)
        j3[:, cols] = values[:, : 3 * len(joints)].reshape(len(values), len(joints), 3)
        j2[:, cols] = values[:, 3 * len(joints):].reshape(len(values), len(joints), 2)
        camera = {"intrinsics": view["intrinsics"], "image_size": view["image_size"],
                  "distortion": view.get("distortion", [0.0] * 5), "cam_rotation": view.get("cam_rotation", np.full((3, 3), np.nan)),
                  "cam_centre": view.get("cam_centre", [np.nan] * 3)}
        acc.add({k: str(view[k]) for k in ("sequence", "subject", "action", "split", "camera")}, camera, j3, j2,
                np.array([int(r[0]) for r in rows[1:]]))
    arrays = acc.arrays(with_universal=False)  # sorts the views by split, sequence, camera
    mask = np.isin(np.arange(CANONICAL.num_joints), cols)
    meta = dict(role=d["role"], fps=float(d["fps"]), joint_mask=mask.tolist(), joint_names=list(CANONICAL.joints),
                splits=d["splits"], train_split=d.get("train_split"), eval_split=d.get("eval_split"),
                adapt_split=d.get("adapt_split"), views=acc.views, has_3d=bool(d.get("has_3d", True)),
                frames_total=acc.total, frames_dropped=0, sources={"csv-views": str(folder)},
                files_read=[folder / "domain.json", *(folder / v["file"] for v in d["views"])])
    meta["imported"] = dict(exported_from=d.get("name"), views=len(acc.views))
    return meta, arrays


register_importer(Importer(
    kind="csv-views", summary="plain CSV files, one per view, with a domain.json (examples/csv_views_import.py)",
    files="a folder holding domain.json and its CSV files", build=build))
