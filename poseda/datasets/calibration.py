"""Readers for the camera calibration JSON files (Human3.6M, HumanEva-I, MPI-INF-3DHP test)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from poseda.errors import PosedaInputError, malformed_input
from poseda.geometry.camera import capture_centre
from poseda.geometry.rotations import quaternion_to_matrix


def _load(path: Path) -> dict:
    try:
        d = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PosedaInputError(path, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PosedaInputError(path, f"not valid JSON ({e})") from None
    if not isinstance(d, dict):
        raise PosedaInputError(path, "expected a JSON object")
    return d


def _vec(path, field, value, n) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64) if isinstance(value, list) else None
    if arr is None or arr.shape != (n,) or not np.isfinite(arr).all():
        raise PosedaInputError(path, f"field '{field}' must be {n} finite numbers, got {value!r}")
    return arr


def _pose(path, where, e) -> tuple[np.ndarray, np.ndarray]:
    try:
        q = _vec(path, f"{where}.orientation_quaternion_wxyz", e["orientation_quaternion_wxyz"], 4)
        t = _vec(path, f"{where}.translation_mm", e["translation_mm"], 3) / 1000.0
    except KeyError as k:
        raise PosedaInputError(path, f"{where}: missing field {k.args[0]!r}") from None
    if not 0.9 < np.linalg.norm(q) < 1.1:
        raise PosedaInputError(path, f"{where}: orientation quaternion is not unit length")
    return quaternion_to_matrix(torch.from_numpy(q)).numpy(), t


@malformed_input("Human3.6M calibration", 0)
def read_h36m_cameras(path: Path) -> dict[str, dict]:
    """Human3.6M calibration -> per subject: ids, intrinsics [4, 4] (fx fy cx cy), distortion
    [4, 5] (k1 k2 k3 p1 p2), image_size [4, 2], rotation [4, 3, 3] camera-to-world, centre [4, 3]
    in metres (z-up world), and the capture-area centre on the floor."""
    d = _load(path)
    try:
        intr = {c["id"]: c for c in d["intrinsics"]}
        per_subject = d["extrinsics_per_subject"]
    except (KeyError, TypeError) as e:
        raise PosedaInputError(path, f"missing or malformed field {e}") from None
    out = {}
    for subj, exts in per_subject.items():
        if all(not e for e in exts):  # S2-S4 have no published calibration (empty entries)
            continue
        ids, ks, dists, sizes, rots, cents = [], [], [], [], [], []
        for i, e in enumerate(exts):
            cid = e.get("camera_id")
            if cid not in intr:
                raise PosedaInputError(path, f"{subj}[{i}]: camera_id {cid!r} has no intrinsics")
            c = intr[cid]
            try:
                f = _vec(path, f"{cid}.focal_length_px", c["focal_length_px"], 2)
                pp = _vec(path, f"{cid}.principal_point_px", c["principal_point_px"], 2)
                k = _vec(path, f"{cid}.radial_distortion_k1k2k3", c["radial_distortion_k1k2k3"], 3)
                p = _vec(path, f"{cid}.tangential_distortion_p1p2", c["tangential_distortion_p1p2"], 2)
                size = _vec(path, f"{cid}.image_size", c["image_size"], 2)
            except KeyError as kk:
                raise PosedaInputError(path, f"camera {cid}: missing field {kk.args[0]!r}") from None
            r, t = _pose(path, f"{subj}[{i}]", e)
            ids.append(cid)
            ks.append(np.concatenate([f, pp]))
            dists.append(np.concatenate([k, p]))
            sizes.append(size)
            rots.append(r)
            cents.append(t)
        rot, cen = np.stack(rots), np.stack(cents)
        out[subj] = dict(ids=ids, intrinsics=np.stack(ks), distortion=np.stack(dists), image_size=np.stack(sizes),
                         rotation=rot, centre=cen, area_centre=capture_centre(rot, cen))
    return out


@malformed_input("HumanEva-I calibration", 0)
def read_humaneva_extrinsics(path: Path) -> dict[str, list[dict]]:
    """HumanEva-I extrinsics -> per subject a list of {id, rotation, centre (m)} for C1, C2, C3."""
    d = _load(path)
    try:
        per_subject = d["extrinsics_per_subject"]
    except KeyError:
        raise PosedaInputError(path, "missing field 'extrinsics_per_subject'") from None
    out = {}
    for subj, exts in per_subject.items():
        cams = []
        for i, e in enumerate(exts):
            r, t = _pose(path, f"{subj}[{i}]", e)
            cams.append(dict(id=e.get("camera_id", f"C{i + 1}"), rotation=r, centre=t))
        out[subj] = cams
    return out


@malformed_input("MPI-INF-3DHP intrinsics", 0)
def read_mpi_inf_3dhp_test_intrinsics(path: Path) -> dict[str, dict]:
    """MPI-INF-3DHP test intrinsics -> {'TS1-TS4': {image_size, intrinsics (fx fy cx cy)}, ...}."""
    d = _load(path)
    out = {}
    for name, s in d.get("sequences", {}).items():
        f = _vec(path, f"{name}.focal_length_px", s.get("focal_length_px"), 2)
        pp = _vec(path, f"{name}.principal_point_px", s.get("principal_point_px"), 2)
        out[name] = dict(image_size=_vec(path, f"{name}.image_size", s.get("image_size"), 2), intrinsics=np.concatenate([f, pp]))
    if not out:
        raise PosedaInputError(path, "no 'sequences' listed")
    return out
