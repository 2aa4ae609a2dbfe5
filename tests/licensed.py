"""Public domains written in the layouts of the licensed datasets (Human3.6M's VideoPose3D npz,
MPI-INF-3DHP's test and training files, 3DPW's pickles), so that their importers can be tested
by round trip: no licensed file exists on these machines."""
from __future__ import annotations

import pickle
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from poseda.data.universal import universal_poses
from poseda.datasets.mpi_inf_3dhp import MPI3DHP_FROM_17, MPI3DHP_FROM_28
from poseda.datasets.pw3d import PW3D_FROM_SMPL24
from poseda.skeleton.layouts import CANONICAL


def to_dataset(canon: np.ndarray, mapping, num: int, fill: int | None = None) -> np.ndarray:
    """Canonical [N, 17, C] (NaN where missing) -> a dataset's [N, num, C]; joints no canonical
    joint maps to get joint ``fill``'s values (finite, as in the real files), else NaN."""
    out = np.full((len(canon), num, canon.shape[-1]), np.nan)
    for k, src in enumerate(mapping.source):
        if src >= 0:
            out[:, src] = canon[:, k]
    if fill is not None:
        empty = [j for j in range(num) if j not in set(mapping.source)]
        out[:, empty] = canon[:, [fill]]
    return out


def canonical(domain, rows, key: str) -> np.ndarray:
    """Rows of a domain's frame array in all 17 canonical joints (the domain's NaN kept)."""
    return np.asarray(domain.arrays[key][rows], np.float64)


def write_v73(path: Path, arrays: dict) -> Path:
    """MATLAB v7.3 as MATLAB writes it: HDF5 behind a 512-byte header, axes reversed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w", userblock_size=512) as f:
        for k, v in arrays.items():
            f.create_dataset(k, data=np.ascontiguousarray(np.asarray(v).T))
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .")
    return path


def write_3dhp_test_set(domain, folder: Path, views: list[int]) -> dict[str, int]:
    """Views of a 3DHP-style evaluation split as ``TS1 .. TS<k>/annot_data.mat``: TS1-TS4 as MAT
    v7.3, TS5-TS6 as MAT v5, as the dataset ships them. ``annot3`` is the view's 3D, ``univ_annot3``
    its subject's universal-skeleton 3D, and one extra frame marked invalid (garbage) is appended
    to each, so the importer must use ``valid_frame``. Returns {TS name: view}."""
    ev = domain.evaluation()
    univ = universal_poses(ev)
    rows_all = domain.frames_of(domain.meta["eval_split"])
    out = {}
    for t, v in enumerate(views, 1):
        ts = f"TS{t}"
        sel = np.flatnonzero(ev.view == v)
        canon3 = canonical(domain, rows_all[sel], "joints3d")
        canon2 = canonical(domain, rows_all[sel], "joints2d")
        cu = np.full_like(canon3, np.nan)
        cu[:, CANONICAL.indices(ev.layout.joints)] = univ.joints3d[sel]
        a3 = to_dataset(canon3, MPI3DHP_FROM_17, 17, fill=CANONICAL.index("Head")) * 1000
        u3 = to_dataset(cu, MPI3DHP_FROM_17, 17, fill=CANONICAL.index("Head")) * 1000
        a2 = to_dataset(canon2, MPI3DHP_FROM_17, 17, fill=CANONICAL.index("Head"))
        n = len(a3)
        arrays = dict(annot2=np.concatenate([a2, np.full((1, 17, 2), np.nan)])[:, None],
                      annot3=np.concatenate([a3, np.full((1, 17, 3), 1e9)])[:, None],
                      univ_annot3=np.concatenate([u3, np.full((1, 17, 3), np.nan)])[:, None],
                      valid_frame=np.r_[np.ones(n), 0][:, None], activity_annotation=np.ones((n + 1, 1)))
        path = folder / ts / "annot_data.mat"
        if t <= 4:
            write_v73(path, arrays)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            scipy.io.savemat(path, arrays)
        out[ts] = v
    return out


def write_3dhp_training_set(domain, folder: Path, cameras=(0, 1, 2, 4, 5, 6, 7, 8), v73: tuple[int, ...] = ()) -> dict[str, str]:
    """A domain's adaptation split as MPI-INF-3DHP's training set: one ``S<i>/Seq1`` per sequence
    with ``annot.mat`` (14 camera cells of 28 joints; the domain's cameras in cells ``cameras``,
    NaN where a camera lost a frame) and ``camera.calibration``. Sequences ``v73`` (indices) are
    written as MAT v7.3 cell arrays. Returns {("S<i>/Seq1", camera cell as str): the domain's view}."""
    split = domain.meta["adapt_split"]
    views = [v for v in range(len(domain.views)) if domain.views[v]["split"] == split]
    by_seq: dict[str, list[int]] = {}
    for v in views:
        by_seq.setdefault(domain.views[v]["sequence"], []).append(v)
    view_of = np.asarray(domain.arrays["view"])
    frame_of = np.asarray(domain.arrays["frame"])
    out = {}
    for i, (_seq, vs) in enumerate(sorted(by_seq.items()), 1):
        vs = sorted(vs, key=lambda v: domain.views[v]["camera"])
        assert len(vs) <= len(cameras)
        rows = {v: np.flatnonzero(view_of == v) for v in vs}
        frames = np.unique(np.concatenate([frame_of[r] for r in rows.values()]))
        n = len(frames)
        cells2 = np.empty((14, 1), dtype=object)
        cells3 = np.empty((14, 1), dtype=object)
        calib = ["Skeletool Camera Calibration File V1.0"]
        for c in range(14):
            j2, j3 = np.full((n, 28, 2), np.nan), np.full((n, 28, 3), np.nan)
            k, size = np.array([1500.0, 1500.0, 1024.0, 1024.0]), np.array([2048.0, 2048.0])
            rot, centre = np.eye(3), np.zeros(3)
            if c in cameras and cameras.index(c) < len(vs):
                v = vs[cameras.index(c)]
                out[(f"S{i}/Seq1", str(c))] = v
                r = rows[v]
                at = np.searchsorted(frames, frame_of[r])
                j2[at] = to_dataset(canonical(domain, r, "joints2d"), MPI3DHP_FROM_28, 28, fill=0)
                j3[at] = to_dataset(canonical(domain, r, "joints3d"), MPI3DHP_FROM_28, 28, fill=0) * 1000
                k, size = np.asarray(domain.arrays["intrinsics"][v]), np.asarray(domain.arrays["image_size"][v])
                rot, centre = np.asarray(domain.arrays["cam_rotation"][v]), np.asarray(domain.arrays["cam_centre"][v])
            cells2[c, 0], cells3[c, 0] = j2.reshape(n, 56), j3.reshape(n, 84)
            r_w2c = rot.T
            t_mm = -(r_w2c @ centre) * 1000
            intr = np.array([[k[0], 0, k[2], 0], [0, k[1], k[3], 0], [0, 0, 1, 0], [0, 0, 0, 1]])
            ext = np.eye(4)
            ext[:3, :3], ext[:3, 3] = r_w2c, t_mm
            calib += [f"name          {c}", "  sensor      10 10", f"  size        {size[0]:g} {size[1]:g}", "  animated    0",
                      "  intrinsic   " + " ".join(f"{x:.17g}" for x in intr.ravel()) + " ",
                      "  extrinsic   " + " ".join(f"{x:.17g}" for x in ext.ravel()) + " ", "  radial      0"]
        seq_dir = folder / f"S{i}" / "Seq1"
        seq_dir.mkdir(parents=True, exist_ok=True)
        arrays = dict(annot2=cells2, annot3=cells3, frames=frames[:, None].astype(float), cameras=np.arange(14)[None])
        if i - 1 in v73:
            _write_v73_cells(seq_dir / "annot.mat", arrays)
        else:
            scipy.io.savemat(seq_dir / "annot.mat", arrays)
        (seq_dir / "camera.calibration").write_text("\n".join(calib) + "\n")
    return out


def _write_v73_cells(path: Path, arrays: dict) -> None:
    """MAT v7.3 with cell arrays: object datasets of references into a '#refs#' group."""
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        for k, v in arrays.items():
            v = np.asarray(v)
            if v.dtype == object:
                ds = f.create_dataset(k, shape=v.T.shape, dtype=h5py.ref_dtype)
                for ix in np.ndindex(v.shape):
                    cell = refs.create_dataset(f"{k}_{'_'.join(map(str, ix))}", data=np.ascontiguousarray(np.asarray(v[ix]).T))
                    ds[ix[::-1]] = cell.ref
            else:
                f.create_dataset(k, data=np.ascontiguousarray(v.T))
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .")


def write_3dpw(domain, folder: Path, split_names: dict[str, str]) -> dict[str, int]:
    """Every view of a domain as a 3DPW sequence pickle (Python 2 style: protocol 2, latin1
    strings) in ``folder/sequenceFiles/<3dpw split>/``: one actor, the SMPL joints in the world
    frame (canonical joints placed at their SMPL counterparts, the rest at the pelvis), the view's
    camera as per-frame ``cam_poses`` and ``cam_intrinsics``. ``split_names`` maps the domain's
    splits to 3DPW's (train, validation, test). Returns {pickle stem: view}."""
    view_of = np.asarray(domain.arrays["view"])
    out = {}
    for v, view in enumerate(domain.views):
        rows = np.flatnonzero(view_of == v)
        xc = canonical(domain, rows, "joints3d")
        rot, centre = np.asarray(domain.arrays["cam_rotation"][v]), np.asarray(domain.arrays["cam_centre"][v])
        world = xc @ rot.T + centre
        smpl = to_dataset(world, PW3D_FROM_SMPL24, 24, fill=0)
        n = len(rows)
        r_w2c = rot.T
        pose = np.eye(4)
        pose[:3, :3], pose[:3, 3] = r_w2c, -(r_w2c @ centre)
        k = np.asarray(domain.arrays["intrinsics"][v])
        stem = f"{view['sequence'].replace('/', '_')}_{view['camera']}"
        d = {"sequence": stem, "genders": ["m"], "jointPositions": [smpl.reshape(n, 72)],
             "cam_poses": np.repeat(pose[None], n, 0), "cam_intrinsics": np.array([[k[0], 0, k[2]], [0, k[1], k[3]], [0, 0, 1]]),
             "campose_valid": [np.ones(n)], "img_frame_ids": np.asarray(domain.arrays["frame"][rows]),
             "poses2d": [np.zeros((n, 3, 18))], "betas": [np.zeros(10)], "poses": [np.zeros((n, 72))], "trans": [np.zeros((n, 3))]}
        path = folder / "sequenceFiles" / split_names[view["split"]] / f"{stem}.pkl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(d, protocol=2))
        out[stem] = v
    return out
