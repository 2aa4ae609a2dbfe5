"""A new export format in one file: any prepared domain as plain CSV files, one per view, that a
spreadsheet, pandas or R reads without poseda.

``poseda data export DOMAIN --format csv-views --out DIR`` writes into ``DIR/NAME/`` (``--name``,
default the domain's name):

- ``<sequence>.<camera>.csv`` for each view (``/`` in a sequence's name becomes ``~``): a
  header, then one row per frame: ``frame``, then ``<joint>_x``, ``<joint>_y``, ``<joint>_z`` for
  every joint the domain has (camera frame, metres, the camera looking along +z; empty for a
  domain without 3D), then ``<joint>_u``, ``<joint>_v`` (pixels);
- ``domain.json``: the domain's role, frame rate, splits (what each is for, which one trains,
  adapts and evaluates), joint names, and each view: its file, sequence, subject, action, split
  and camera (``intrinsics`` fx, fy, cx, cy in pixels, ``distortion`` k1, k2, k3, p1, p2,
  ``image_size`` W, H, ``cam_rotation`` camera to world 3x3, ``cam_centre`` metres; NaN where
  the domain does not know them).

Values are written with 9 significant digits, so float32 arrays read back bit for bit
(``examples/csv_views_import.py`` imports such a folder as a domain again).

    poseda --plugin examples/csv_views_export.py data export cmu-3dhp --format csv-views --out exported
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from poseda.data.domain import Domain
from poseda.domains.export import register_export_format
from poseda.skeleton.layouts import CANONICAL


def view_file(sequence: str, camera: str) -> str:
    return f"{sequence.replace('/', '~')}.{camera}.csv"


def _number(x: float) -> str:
    return "" if np.isnan(x) else f"{x:.9g}"


@register_export_format("csv-views")
def csv_views(domain: Domain, name: str | None, subjects: list[str] | None) -> tuple[dict[Path, object], list[str]]:
    """plain CSV files, one per view (frame, 3D in metres, 2D in pixels), and domain.json with the splits and cameras"""
    a, layout = domain.arrays, domain.layout
    cols = CANONICAL.indices(layout.joints)
    view_of = np.asarray(a["view"])
    folder = Path(name or domain.name)
    files: dict[Path, object] = {}
    views = []
    for v, view in enumerate(domain.views):
        if subjects is not None and view["subject"] not in subjects:
            continue
        rows = np.flatnonzero(view_of == v)
        j3, j2 = np.asarray(a["joints3d"][rows][:, cols]), np.asarray(a["joints2d"][rows][:, cols])
        text = io.StringIO()
        w = csv.writer(text, lineterminator="\n")
        w.writerow(["frame", *(f"{j}_{c}" for j in layout.joints for c in "xyz"), *(f"{j}_{c}" for j in layout.joints for c in "uv")])
        for f, p3, p2 in zip(np.asarray(a["frame"][rows]), j3.reshape(len(rows), -1), j2.reshape(len(rows), -1)):
            w.writerow([int(f), *map(_number, p3), *map(_number, p2)])
        files[folder / view_file(view["sequence"], view["camera"])] = text.getvalue()
        views.append({"file": view_file(view["sequence"], view["camera"]),
                      **{k: view[k] for k in ("sequence", "subject", "action", "split", "camera")},
                      **{k: np.asarray(a[k][v], np.float64).tolist() for k in ("intrinsics", "distortion", "image_size",
                                                                               "cam_rotation", "cam_centre")}})
    meta = {k: domain.meta.get(k) for k in ("name", "role", "fps", "splits", "train_split", "eval_split", "adapt_split")}
    meta.update(has_3d=domain.has_3d, joints=list(layout.joints), views=views)
    files[folder / "domain.json"] = json.dumps(meta, indent=1)
    return files, [f"{len(views)} views of {domain.name} as CSV in {folder}/ (domain.json says what each file is)"]
