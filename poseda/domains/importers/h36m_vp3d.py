"""Human3.6M from VideoPose3D's npz files, as a source domain (kind ``h36m-vp3d``).

PATHS: ``data_3d_h36m.npz`` and one 2D file, ``data_2d_h36m_gt.npz`` (ground truth) or a
detector's (``data_2d_h36m_cpn_ft_h36m_dbb.npz``, ``data_2d_h36m_detectron_ft_h36m.npz``, ...):
layouts in :mod:`poseda.datasets.h36m_npz`. Which file is which is read from their keys.

- Cameras: the four real Human3.6M cameras of the packaged calibration
  (``poseda/domains/facts/cameras/h36m.json``; a ``cameras/h36m.json`` in the data root overrides it),
  with each subject's extrinsics and the lens distortion; the 3D is taken from the world frame into
  each camera's frame with them. The 2D is the file's (not re-projected).
- Splits: train S1 S5 S6 S7 S8 (source training), test S9 S11 (evaluation), as in every
  Human3.6M paper; other subjects in the files are left out and listed in the metadata.
- 2D longer than 3D (some detector files) is cut to the 3D length, as VideoPose3D does; each cut
  is listed. Every frame is kept (50 fps, no subsampling).
- The 2D source (``ground truth`` or ``detected (<name>)``) comes from the 2D file's name
  (``data_2d_h36m_<name>.npz``) and goes into every report's protocol line.
- A 3D file written by ``poseda data export`` (17 joints, with ``metadata``) keeps its frame
  numbers and splits, so an exported domain comes back frame for frame.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from poseda.datasets.calibration import read_h36m_cameras
from poseda.datasets.h36m_npz import CAMERAS, read_h36m_2d, read_h36m_3d, trim_2d_to_3d
from poseda.domains.builders import H36M_FPS, H36M_TEST, H36M_TRAIN
from poseda.domains.importers import Importer, fact, register_importer
from poseda.errors import PosedaInputError
from poseda.geometry.camera import world_to_camera
from poseda.safe_pickle import load_object_npz, npz_keys
from poseda.skeleton.layouts import CANONICAL, H36M_FROM_32


def _files(paths: list[Path]) -> tuple[Path, Path]:
    three, two = [], []
    for p in paths:
        if p.is_dir():
            raise PosedaInputError(p, "is a folder: give the two npz files (data_3d_h36m.npz and a data_2d_h36m_*.npz)")
        keys = npz_keys(p)
        if "positions_3d" in keys:
            three.append(p)
        elif "positions_2d" in keys:
            two.append(p)
        else:
            raise PosedaInputError(p, f"neither a VideoPose3D 3D file (positions_3d) nor a 2D file (positions_2d); has {', '.join(keys) or 'nothing'}")
    if len(three) != 1 or len(two) != 1:
        raise PosedaInputError("PATHS", f"give one data_3d_h36m.npz and one data_2d_h36m_*.npz (got {len(three)} 3D and {len(two)} 2D)")
    return three[0], two[0]


def source_2d(path: Path) -> str:
    """``ground truth`` or ``detected (<detector>)`` from a VideoPose3D 2D file's name.

    >>> source_2d(Path("data_2d_h36m_cpn_ft_h36m_dbb.npz")), source_2d(Path("data_2d_h36m_gt.npz"))
    ('detected (cpn_ft_h36m_dbb)', 'ground truth')
    """
    m = re.fullmatch(r"data_2d_.+?_(gt|[a-z0-9]+(?:_[a-z0-9]+)*)\.npz", path.name)
    detector = m.group(1) if m else path.stem
    if m and path.name.startswith("data_2d_h36m_"):
        detector = path.name[len("data_2d_h36m_"):-4]
    return "ground truth" if detector == "gt" or detector.endswith("_gt") else f"detected ({detector})"


def _export_meta(path: Path) -> dict:
    if "metadata" not in npz_keys(path):
        return {}
    meta = load_object_npz(path, "metadata")
    return meta if isinstance(meta, dict) else {}


def build(paths: list[Path], options: dict) -> tuple[dict, dict]:
    from poseda.domains.builders import DomainAccumulator, Motion, _meta

    path3, path2 = _files(paths)
    pos3 = read_h36m_3d(path3)
    pos2, _meta2 = read_h36m_2d(path2)
    exported = _export_meta(path3)
    frame_numbers = exported.get("frames", {}) if isinstance(exported.get("frames"), dict) else {}
    calibration = fact("cameras/h36m.json", options)
    cams = read_h36m_cameras(calibration)
    use = {s: ("train" if s in H36M_TRAIN else "test") for s in pos3 if s in H36M_TRAIN + H36M_TEST}
    left_out = sorted(s for s in pos3 if s not in use)
    for split in ("train", "test"):
        if split not in use.values():
            want = H36M_TRAIN if split == "train" else H36M_TEST
            raise PosedaInputError(path3, f"no {split} subject ({' '.join(want)}) in the file (has {' '.join(sorted(pos3))})")
    for s in use:
        if s not in cams:
            raise PosedaInputError(calibration, f"no calibration for subject {s}")
        if list(cams[s]["ids"]) != list(CAMERAS):
            raise PosedaInputError(calibration, f"{s}: cameras {cams[s]['ids']}, expected {list(CAMERAS)} (VideoPose3D's order)")
    pos2, cuts = trim_2d_to_3d({s: pos3[s] for s in use}, pos2, path2)
    acc = DomainAccumulator()
    for subj in sorted(use):
        c = cams[subj]
        rot, centre = torch.from_numpy(c["rotation"]), torch.from_numpy(c["centre"])
        for act in sorted(pos3[subj]):
            world = pos3[subj][act]
            frames = np.asarray(frame_numbers.get(f"{subj}/{act}", np.arange(len(world))))
            if frames.shape != (len(world),):
                raise PosedaInputError(path3, f"metadata: frames of {subj}/{act} do not match its {len(world)} 3D frames")
            action = re.sub(r"[ _]\d+$", "", act)
            motion = Motion(f"{subj}/{act}", subj, action, use[subj], world, frames)
            x = torch.from_numpy(world)
            views = []
            for k, cam in enumerate(CAMERAS):
                xc = world_to_camera(x, rot[k], centre[k]).numpy()
                views.append(dict(camera=cam, joints3d=xc, joints2d=pos2[subj][act][k], frame=frames, total=len(frames),
                                  intrinsics=c["intrinsics"][k], image_size=c["image_size"][k], distortion=c["distortion"][k],
                                  cam_rotation=c["rotation"][k], cam_centre=c["centre"][k]))
            acc.add(motion, views)
    acc.order()
    two_d = source_2d(path2)
    splits = {"train": "source training (" + " ".join(s for s in H36M_TRAIN if s in use) + ")",
              "test": "evaluation (" + " ".join(s for s in H36M_TEST if s in use) + ")"}
    meta = _meta("", "source", H36M_FPS, H36M_FROM_32, acc, splits, "train", "test", "train",
                 {"3d": path3.name, "2d": path2.name, "cameras": "cameras/h36m.json (packaged unless the data root has one)"},
                 cameras="the 4 real Human3.6M cameras of the published calibration, with distortion and each subject's extrinsics",
                 **{"2d_source": two_d})
    meta["files_read"] = [path3, path2]
    meta["imported"] = dict(subjects_left_out=left_out, trimmed=[f"{t.subject}/{t.action} camera {t.camera}: "
                                                                    f"{t.frames_2d} -> {t.frames_3d}" for t in cuts],
                            frames="every frame (50 fps)", joints=f"{CANONICAL.num_joints} (Human3.6M's usual 17)")
    return meta, acc.arrays()


register_importer(Importer(
    kind="h36m-vp3d", summary="Human3.6M from VideoPose3D's data_3d_h36m.npz + a data_2d_h36m_*.npz (source domain)",
    files="data_3d_h36m.npz and data_2d_h36m_gt.npz (or a detector's 2D file)", build=build,
    defaults={"data_root": None}, option_help={"data_root": "data root whose cameras/h36m.json overrides the packaged one"}))
