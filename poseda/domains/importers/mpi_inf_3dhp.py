"""MPI-INF-3DHP as a target domain (kind ``mpi-inf-3dhp``).

PATHS are the dataset's folders or files, as the publishers and the field's preprocessing scripts
distribute them; what each is, is read from its name and contents (layouts in
:mod:`poseda.datasets.mpi_inf_3dhp`):

Evaluation set, one of:

- the test set's folder (``mpi_inf_3dhp_test_set/TS1 .. TS6/annot_data.mat``): every frame its
  ``valid_frame`` marks (about 24,000), with ``annot3`` (real size) as the domain's 3D
  (protocol C's ground truth) and ``univ_annot3`` as its universal-skeleton ground truth (the
  MPJPE-U / PCK-U / AUC-U columns: protocol A's rescaling). The intrinsics are the published ones
  (``poseda/domains/facts/cameras/mpi-inf-3dhp-test.json``: TS1-TS4 2048 x 2048, TS5-TS6
  1920 x 1080); the test cameras' extrinsics are not published (NaN).
- SPIN's ``mpi_inf_3dhp_valid.npz``: the 2,929 frames of protocol A (``univ_annot3`` only: the
  real-size and universal columns are then the same figures). The sequence of each frame (hence
  its intrinsics and image size) comes from its image name.
- PoseAug's ``test_3dhp.npz``: the same 2,929 frames, 2D in normalised screen units without the
  image size; they are stored in a nominal 2 x 2 pixel image, which gives the lifter exactly the
  normalised 2D PoseAug gives it, and without intrinsics (such a domain cannot be adapted on:
  adaptation needs the training set).

Adaptation 2D (``--adapt-on``):

- ``train`` (default): the training set (``S1 .. S8/Seq1, Seq2/annot.mat`` with
  ``camera.calibration``), the cameras the literature uses (SPIN's extraction: 0, 1, 2, 4, 5, 6,
  7, 8; ``--train-cameras``), every ``--train-stride``-th frame (default 10, as SPIN keeps) with
  every joint inside the 2048 x 2048 image. Its 3D (``annot3``) is kept for the oracle only.
- ``test``: the evaluation set's own 2D (transductive adaptation, as some papers do). The domain's
  splits then say ``transductive``, and so does every report's split.

Joints: 3DHP's 17 (test) or 28 (training) joints map to 16 canonical ones (no Neck/Nose; Thorax is
3DHP's neck, Head its head top), so experiments run on h36m16, protocol A's joint set.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from poseda.datasets.calibration import read_mpi_inf_3dhp_test_intrinsics
from poseda.datasets.mpi_inf_3dhp import (
    H36M16_FROM_16,
    MPI3DHP_FROM_17,
    TRAIN_IMAGE_SIZE,
    read_3dhp_annot_mat,
    read_3dhp_calibration,
    read_3dhp_spin_npz,
    read_3dhp_test_npz,
    read_3dhp_train_annot,
)
from poseda.domains.importers import Importer, ViewCollector, fact, register_importer
from poseda.errors import PosedaInputError
from poseda.safe_pickle import npz_keys
from poseda.skeleton.layouts import CANONICAL

FPS = {"TS1-TS4": 25.0, "TS5-TS6": 50.0}
TRAIN_FPS = 25.0
SPIN_TRAIN_CAMERAS = (0, 1, 2, 4, 5, 6, 7, 8)
NAN_ROT, NAN_CENTRE = np.full((3, 3), np.nan), np.full(3, np.nan)


def _group(ts: str) -> str:
    return "TS1-TS4" if ts in ("TS1", "TS2", "TS3", "TS4") else "TS5-TS6"


def find_inputs(paths: list[Path]) -> dict[str, list[Path]]:
    """The evaluation and training files among ``paths`` (folders are searched)."""
    found: dict[str, list[Path]] = {"ts": [], "spin": [], "poseaug": [], "train": []}
    for p in paths:
        files = sorted(p.rglob("*")) if p.is_dir() else [p]
        for f in files:
            if f.name == "annot_data.mat" and re.fullmatch(r"TS[1-6]", f.parent.name):
                found["ts"].append(f)
            elif f.name == "annot.mat" and re.fullmatch(r"Seq\d+", f.parent.name) and re.fullmatch(r"S\d+", f.parent.parent.name):
                found["train"].append(f)
            elif f.suffix == ".npz" and not p.is_dir() or f.suffix == ".npz" and f.name in ("test_3dhp.npz", "mpi_inf_3dhp_valid.npz"):
                keys = npz_keys(f)
                if {"imgname", "part", "S"} <= set(keys):
                    found["spin"].append(f)
                elif {"pose3d", "pose2d"} <= set(keys):
                    found["poseaug"].append(f)
                elif not p.is_dir():
                    raise PosedaInputError(f, "not an MPI-INF-3DHP file this importer reads (SPIN's mpi_inf_3dhp_valid.npz "
                                              f"or PoseAug's test_3dhp.npz); has {', '.join(keys) or 'nothing'}")
            elif not p.is_dir():
                raise PosedaInputError(f, "not an MPI-INF-3DHP file this importer reads (TS*/annot_data.mat, "
                                          "S*/Seq*/annot.mat, mpi_inf_3dhp_valid.npz, test_3dhp.npz)")
    return found


def _test_camera(intr: dict, ts: str) -> dict:
    g = intr[_group(ts)]
    return dict(intrinsics=g["intrinsics"], image_size=g["image_size"], distortion=np.zeros(5), cam_rotation=NAN_ROT,
                cam_centre=NAN_CENTRE)


def _add_ts(acc: ViewCollector, files: list[Path], intr: dict, split: str) -> str:
    seen = set()
    for f in sorted(files, key=lambda f: f.parent.name):
        ts = f.parent.name
        if ts in seen:
            raise PosedaInputError(f, f"{ts} given twice")
        seen.add(ts)
        real = read_3dhp_annot_mat(f, ts, which_3d="annot3")
        univ = read_3dhp_annot_mat(f, ts, which_3d="univ_annot3")
        keep = np.flatnonzero(real.valid)
        acc.total += len(real.valid) - len(keep)
        acc.dropped += len(real.valid) - len(keep)
        acc.add(dict(sequence=ts, subject=ts, action="test", split=split, camera=_group(ts)), _test_camera(intr, ts),
                real.joints3d[keep], real.joints2d[keep], keep, univ.joints3d[keep])
    return (f"every valid frame (valid_frame) of {' '.join(sorted(seen))}; 3D: annot3 (real size), "
            "universal ground truth: univ_annot3")


def _add_spin(acc: ViewCollector, path: Path, intr: dict, split: str) -> str:
    s = read_3dhp_spin_npz(path)
    ts_of, frame_of = [], []
    for i, name in enumerate(s.image_names):
        m = re.search(r"(TS[1-6])/.*?(\d+)\.\w+$", name)
        if not m:
            raise PosedaInputError(path, f"imgname[{i}] {name!r} names no test sequence (TS1-TS6) and frame")
        ts_of.append(m.group(1))
        frame_of.append(int(m.group(2)) - 1)
    ts_of, frame_of = np.asarray(ts_of), np.asarray(frame_of)
    used = [CANONICAL.index(n) for n in MPI3DHP_FROM_17.present]
    bad = ~np.isfinite(s.joints3d[:, used]).all((1, 2)) | ~np.isfinite(s.joints2d[:, used]).all((1, 2))
    if bad.any():
        raise PosedaInputError(path, f"{int(bad.sum())} frame(s) lack some of the 16 joints (confidence 0), first {int(np.argmax(bad))}")
    for ts in sorted(set(ts_of)):
        rows = np.flatnonzero(ts_of == ts)
        acc.add(dict(sequence=ts, subject=ts, action="test", split=split, camera=_group(ts)), _test_camera(intr, ts),
                s.joints3d[rows], s.joints2d[rows], frame_of[rows], s.joints3d[rows])
    return f"SPIN's {len(s.joints3d)} protocol-A frames (univ_annot3 only: real-size and universal columns are the same)"


def _add_poseaug(acc: ViewCollector, path: Path, split: str) -> tuple[str, bool]:
    s = read_3dhp_test_npz(path)
    ex = s.extra
    n = len(s.joints3d)
    univ = s.joints3d
    real = np.asarray(ex["pose3d_real"], np.float64) if "pose3d_real" in ex else None
    has_px = all(k in ex for k in ("pose2d_px", "image_size", "intrinsics"))
    if has_px:  # written by 'poseda data export --format poseaug': pixels and cameras travel with it
        j2 = H36M16_FROM_16.apply(np.asarray(ex["pose2d_px"], np.float64))
        size, intr = np.asarray(ex["image_size"], np.float64), np.asarray(ex["intrinsics"], np.float64)
    elif s.extra.get("screen_normalised"):
        j2 = s.joints2d + 1.0  # pixels of a nominal 2 x 2 image: re-normalising gives the file's values back
        size, intr = np.full((n, 2), 2.0), np.full((n, 4), np.nan)
    else:
        raise PosedaInputError(path, "a 17-joint test file in pixels names no image size: use SPIN's "
                                     "mpi_inf_3dhp_valid.npz or the TS*/annot_data.mat files instead")
    j3 = s.joints3d if real is None else H36M16_FROM_16.apply(real)
    subject = np.asarray(ex["subject"]).astype(str) if "subject" in ex and np.asarray(ex["subject"]).shape == (n,) else np.full(n, "test_3dhp")
    frame = np.asarray(ex["frame"]).astype(np.int64) if "frame" in ex and np.asarray(ex["frame"]).shape == (n,) else np.arange(n)
    keep = s.valid
    for subj in sorted(set(subject)):
        rows = np.flatnonzero((subject == subj) & keep)
        cams = np.c_[size[rows], np.nan_to_num(intr[rows], nan=-1.0)]  # one view per camera within the subject
        _, first, group = np.unique(cams, axis=0, return_index=True, return_inverse=True)
        for g, u in enumerate(np.argsort(first)):
            rs = rows[group.reshape(-1) == u]
            cam = dict(intrinsics=intr[rs[0]], image_size=size[rs[0]], distortion=np.zeros(5), cam_rotation=NAN_ROT,
                       cam_centre=NAN_CENTRE)
            acc.add(dict(sequence=subj, subject=subj, action="test", split=split, camera=f"camera{g}"), cam,
                    j3[rs], j2[rs], frame[rs], univ[rs])
    what = (f"PoseAug's test_3dhp.npz layout, {int(keep.sum())} frames; univ_annot3"
            + (" with the real-size 3D beside it" if real is not None else " only: real-size and universal columns are the same")
            + ("" if has_px else "; 2D kept in normalised screen units (nominal 2 x 2 image), no intrinsics"))
    return what, has_px


def _add_train(acc: ViewCollector, files: list[Path], cameras: tuple[int, ...], stride: int, split: str) -> str:
    w, h = TRAIN_IMAGE_SIZE
    kept = total = 0
    for f in sorted(files):
        seq, subj = f.parent.name, f.parent.parent.name
        calib_path = f.parent / "camera.calibration"
        if not calib_path.is_file():
            raise PosedaInputError(calib_path, f"not found: {subj}/{seq} needs its camera.calibration beside annot.mat")
        calib = read_3dhp_calibration(calib_path)
        ann = read_3dhp_train_annot(f, list(cameras))
        for c in cameras:
            if c not in calib:
                raise PosedaInputError(calib_path, f"no camera {c} (has {', '.join(map(str, sorted(calib)))})")
            cam = calib[c]
            j2, j3 = ann.joints2d[c], ann.joints3d[c]
            used = [CANONICAL.index(n) for n in MPI3DHP_FROM_17.present]
            u = j2[:, used]
            inside = ((u[..., 0] >= 0) & (u[..., 0] < w) & (u[..., 1] >= 0) & (u[..., 1] < h)).all(1)
            inside &= np.isfinite(j3[:, used]).all((1, 2)) & (j3[:, used, 2] > 0).all(1)
            rows = np.flatnonzero(inside & (np.arange(len(j2)) % stride == 0))
            total += len(j2)
            kept += len(rows)
            acc.total += len(j2) - len(rows)
            acc.dropped += len(j2) - len(rows)
            rot_c2w = cam.rotation.T
            centre = -(rot_c2w @ cam.translation)
            acc.add(dict(sequence=f"{subj}/{seq}", subject=subj, action=seq, split=split, camera=str(c)),
                    dict(intrinsics=cam.intrinsics, image_size=cam.image_size, distortion=np.zeros(5), cam_rotation=rot_c2w,
                         cam_centre=centre), j3[rows], j2[rows], ann.frames[rows])
    return (f"training set {len(files)} sequence(s), cameras {' '.join(map(str, cameras))}, "
            + ("every frame" if stride == 1 else f"every {stride}th frame") + f" with every joint inside the image: "
            f"{kept} of {total} frames")


def _cameras(raw) -> tuple[int, ...]:
    try:
        cams = tuple(int(c) for c in str(raw).replace(" ", "").split(",") if c != "")
    except ValueError:
        raise PosedaInputError("--train-cameras", f"must be camera numbers separated by commas (0-13), got {raw!r}") from None
    if not cams or any(not 0 <= c < 14 for c in cams) or len(set(cams)) != len(cams):
        raise PosedaInputError("--train-cameras", f"must be distinct camera numbers 0-13, got {raw!r}")
    return cams


def build(paths: list[Path], options: dict) -> tuple[dict, dict]:
    from poseda.domains.builders import _meta

    adapt_on = options["adapt_on"]
    if adapt_on not in ("train", "test"):
        raise PosedaInputError("--adapt-on", f"must be train or test, got {adapt_on!r}")
    stride = options["train_stride"]
    if isinstance(stride, bool) or not isinstance(stride, int) or not 1 <= stride <= 10000:
        raise PosedaInputError("--train-stride", f"must be a whole number from 1 to 10000, got {stride!r}")
    cameras = _cameras(options["train_cameras"])
    found = find_inputs(paths)
    eval_kinds = [k for k in ("ts", "spin", "poseaug") if found[k]]
    if not eval_kinds:
        raise PosedaInputError("PATHS", "no MPI-INF-3DHP evaluation set found: give the test set's folder "
                                        "(mpi_inf_3dhp_test_set with TS1-TS6/annot_data.mat), SPIN's "
                                        "mpi_inf_3dhp_valid.npz or PoseAug's test_3dhp.npz")
    if len(eval_kinds) > 1 or len(found["spin"]) > 1 or len(found["poseaug"]) > 1:
        given = [str(p) for k in eval_kinds for p in found[k]]
        raise PosedaInputError("PATHS", f"give one evaluation set, not {len(given)}: {', '.join(given[:4])}")
    if adapt_on == "train" and not found["train"]:
        raise PosedaInputError("PATHS", "no training sequences (S1-S8/Seq1-Seq2/annot.mat with camera.calibration) found: "
                                        "give the training set's folder, or --adapt-on test to adapt on the test set's own "
                                        "2D (transductive)")
    intr_path = fact("cameras/mpi-inf-3dhp-test.json", options)
    intr = read_mpi_inf_3dhp_test_intrinsics(intr_path)
    acc = ViewCollector()
    kind = eval_kinds[0]
    has_cameras = True
    if kind == "ts":
        frames_desc = _add_ts(acc, found["ts"], intr, "test")
        fps = FPS[_group(found["ts"][0].parent.name)]
    elif kind == "spin":
        frames_desc, fps = _add_spin(acc, found["spin"][0], intr, "test"), 25.0
    else:
        frames_desc, has_cameras = _add_poseaug(acc, found["poseaug"][0], "test")
        fps = 25.0
    if adapt_on == "train":
        adapt_desc = _add_train(acc, found["train"], cameras, stride, "train")
        splits = {"train": f"adaptation (2D only): {adapt_desc}", "test": f"evaluation: {frames_desc}"}
        adapt_split = "train"
    else:
        if not has_cameras:
            raise PosedaInputError("--adapt-on", "PoseAug's test_3dhp.npz holds no cameras: adapting on it is impossible "
                                                 "(give the TS*/annot_data.mat files or SPIN's mpi_inf_3dhp_valid.npz)")
        splits = {"test": f"evaluation and transductive adaptation (the test set's own 2D): {frames_desc}"}
        adapt_split = "test"
    arrays = acc.arrays(with_universal=True)
    meta = _meta("", "target", fps, MPI3DHP_FROM_17, acc, splits, None, "test", adapt_split,
                 {"evaluation": kind, "intrinsics": "cameras/mpi-inf-3dhp-test.json (packaged unless the data root has one)"},
                 cameras="the real MPI-INF-3DHP cameras: published test intrinsics, training calibration files",
                 universal_ground_truth="MPI-INF-3DHP's univ_annot3",
                 transductive=adapt_on == "test")
    meta["files_read"] = [*(p for k in eval_kinds for p in found[k]), *(found["train"] if adapt_on == "train" else [])]
    meta["imported"] = dict(evaluation=frames_desc, adaptation=splits[adapt_split], adapt_on=adapt_on)
    return meta, arrays


register_importer(Importer(
    kind="mpi-inf-3dhp",
    summary="MPI-INF-3DHP: test set (TS1-TS6 annot_data.mat, or the 2,929-frame protocol-A npz) + training set 2D (target)",
    files="the test set's folder (or mpi_inf_3dhp_valid.npz / test_3dhp.npz) and the training set's folder",
    build=build,
    defaults={"adapt_on": "train", "train_stride": 10, "train_cameras": ",".join(map(str, SPIN_TRAIN_CAMERAS)), "data_root": None},
    option_help={"adapt_on": "train (the training set's 2D, default) or test (transductive: the test set's own 2D)",
                 "train_stride": "keep every n-th training frame (default 10, as SPIN)",
                 "train_cameras": "training cameras, comma-separated (default SPIN's 0,1,2,4,5,6,7,8)",
                 "data_root": "data root whose cameras/mpi-inf-3dhp-test.json overrides the packaged one"}))
