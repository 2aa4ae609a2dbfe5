"""3DPW as a target domain (kind ``3dpw``).

PATHS: the dataset's folder (or its ``sequenceFiles`` folder, or sequence pickles): the pickles
under ``sequenceFiles/test`` are the evaluation set, those under ``sequenceFiles/train`` the
adaptation set (``--adapt-on test`` adapts on the test pickles' own 2D instead: transductive);
``validation`` is not used. Layout: :mod:`poseda.datasets.pw3d`.

- Every actor of every sequence is one view (subject ``<sequence>/<actor>``).
- 3D: SMPL's regressed joint positions (``jointPositions``) taken into the camera frame with each
  frame's own extrinsics (``cam_poses``: the camera is hand-held and moves), mapped joint by joint
  to 16 canonical joints (:data:`poseda.datasets.pw3d.PW3D_FROM_SMPL24`: Pelvis pelvis, hips, knees,
  ankles, shoulders, elbows, wrists by name, Spine spine2, Thorax neck, Head head; no Neck/Nose).
- 2D: those joints projected with the sequence's intrinsics (ground-truth 2D, as PoseDA uses).
- Frames: those ``campose_valid`` marks with every joint in front of the camera; the rest are
  counted in ``frames_dropped``. 30 fps, no subsampling.
- Image size: 1080 x 1920 (portrait) when the principal point's y exceeds its x, else 1920 x 1080.
- Camera extrinsics change every frame, so the domain's per-view camera pose is left NaN.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from poseda.datasets.pw3d import PW3D_FROM_SMPL24, read_3dpw
from poseda.domains.importers import Importer, ViewCollector, register_importer
from poseda.errors import PosedaInputError
from poseda.skeleton.layouts import CANONICAL

FPS = 30.0
SPLITS = ("train", "validation", "test")


def find_sequences(paths: list[Path]) -> dict[str, list[Path]]:
    """{3DPW split: pickles} among ``paths`` (a folder is searched for sequenceFiles/<split>/*.pkl;
    a pickle's split is its folder's name)."""
    found: dict[str, list[Path]] = {s: [] for s in SPLITS}
    for p in paths:
        files = sorted(p.rglob("*.pkl")) if p.is_dir() else [p]
        for f in files:
            if f.suffix != ".pkl":
                raise PosedaInputError(f, "not a 3DPW sequence pickle (sequenceFiles/<split>/<sequence>.pkl)")
            if f.parent.name not in SPLITS:
                if p.is_dir():
                    continue
                raise PosedaInputError(f, f"its folder must be one of 3DPW's splits ({', '.join(SPLITS)}), not {f.parent.name!r}")
            if f not in found[f.parent.name]:
                found[f.parent.name].append(f)
    return found


def image_size(intrinsics: np.ndarray) -> tuple[int, int]:
    """(W, H) of a 3DPW video from its principal point.

    >>> image_size(np.array([1961.9, 1969.2, 540.0, 960.0]))
    (1080, 1920)
    """
    return (1080, 1920) if intrinsics[3] > intrinsics[2] else (1920, 1080)


def build(paths: list[Path], options: dict) -> tuple[dict, dict]:
    from poseda.domains.builders import _meta

    adapt_on = options["adapt_on"]
    if adapt_on not in ("train", "test"):
        raise PosedaInputError("--adapt-on", f"must be train or test, got {adapt_on!r}")
    found = find_sequences(paths)
    if not found["test"]:
        raise PosedaInputError("PATHS", "no 3DPW test sequences (sequenceFiles/test/*.pkl) found")
    if adapt_on == "train" and not found["train"]:
        raise PosedaInputError("PATHS", "no 3DPW train sequences (sequenceFiles/train/*.pkl) found: give the dataset's "
                                        "folder, or --adapt-on test to adapt on the test set's own 2D (transductive)")
    used = [CANONICAL.index(n) for n in PW3D_FROM_SMPL24.present]
    acc = ViewCollector()
    counts = {}
    for split in ("test", "train") if adapt_on == "train" else ("test",):
        names = set()
        for f in found[split]:
            s = read_3dpw(f)
            if s.sequence in names:
                raise PosedaInputError(f, f"sequence {s.sequence} given twice")
            names.add(s.sequence)
            size = image_size(s.intrinsics)
            for a, actor in enumerate(s.actors):
                ok = actor.valid & np.isfinite(actor.joints2d[:, used]).all((1, 2)) & (actor.joints3d[:, used, 2] > 0).all(1)
                rows = np.flatnonzero(ok)
                acc.total += len(ok) - len(rows)
                acc.dropped += len(ok) - len(rows)
                acc.add(dict(sequence=s.sequence, subject=f"{s.sequence}/actor{a}", action=s.sequence.rsplit("_", 1)[0],
                             split=split, camera=f"actor{a}", gender=actor.gender),
                        dict(intrinsics=s.intrinsics, image_size=np.asarray(size, float), distortion=np.zeros(5),
                             cam_rotation=np.full((3, 3), np.nan), cam_centre=np.full(3, np.nan)),
                        actor.joints3d[rows], actor.joints2d[rows], s.frame_ids[rows])
        counts[split] = len(names)
    if not acc.views:
        raise PosedaInputError("PATHS", "no valid frame in any 3DPW sequence")
    ev = f"evaluation: {counts['test']} test sequence(s), every valid frame (campose_valid, joints in front of the camera)"
    if adapt_on == "train":
        splits = {"train": f"adaptation (2D only): {counts['train']} train sequence(s), every valid frame", "test": ev}
    else:
        splits = {"test": ev + "; also transductive adaptation (the test set's own 2D)"}
    meta = _meta("", "target", FPS, PW3D_FROM_SMPL24, acc, splits, None, "test", adapt_on,
                 {"sequences": "sequenceFiles/{train,test}/*.pkl"},
                 cameras="3DPW's hand-held phone camera: per-sequence intrinsics, per-frame extrinsics applied",
                 transductive=adapt_on == "test")
    meta["files_read"] = [*found["test"], *(found["train"] if adapt_on == "train" else [])]
    meta["imported"] = dict(evaluation=splits["test"], adapt_on=adapt_on,
                            joints="SMPL joint positions mapped to 16 canonical joints (see PW3D_FROM_SMPL24)")
    return meta, acc.arrays(with_universal=False)


register_importer(Importer(
    kind="3dpw", summary="3DPW: test sequences for evaluation, train sequences' 2D for adaptation (target)",
    files="the dataset's folder (sequenceFiles/{train,test}/*.pkl) or sequence pickles", build=build,
    defaults={"adapt_on": "train"},
    option_help={"adapt_on": "train (the train sequences' 2D, default) or test (transductive: the test set's own 2D)"}))
