"""Any prepared domain in the file layouts of VideoPose3D and PoseAug, so that they and their
descendants can run on poseda's public cross-domain benchmark.

``videopose3d`` writes two files, named as VideoPose3D names its datasets' files:

``data_3d_<NAME>.npz``
    ``positions_3d``: object dict ``{subject: {action: float32 [T, J, 3]}}``, metres, world frame
    (every view of a sequence shares it; camera frame = R^T (X - t) with the camera below).
    ``cameras``: object dict ``{subject: {action: [one dict per camera, in the order of
    positions_2d: {"id": str, "intrinsics": [fx, fy, cx, cy] px, "distortion": [k1, k2, k3, p1, p2],
    "image_size": [W, H], "rotation": 3x3 camera-to-world, "centre": [x, y, z] m}]}}``.
    ``metadata``: object dict ``{"domain", "role", "fps", "joints": [names], "layout_name",
    "splits": {"subject/action": split}, "frames": {"subject/action": int [T] frame numbers},
    "train_split", "eval_split", "adapt_split", "frames_left_out", "exported_by"}``.
    ``layout_name`` is ``"h36m"`` (VideoPose3D's name) for the 17 Human3.6M joints, else the joint set.
``data_2d_<NAME>_gt.npz``
    ``positions_2d``: object dict ``{subject: {action: [float32 [T, J, 2] per camera]}}``, pixels.
    ``metadata``: object dict ``{"layout_name", "num_joints", "keypoints_symmetry": [[left], [right]],
    "joints": [names], "video_metadata": {"subject/action/camera": {"w": W, "h": H}}}``.

A sequence keeps the frames that every one of its cameras kept (VideoPose3D pairs each 3D frame
with every camera's 2D); how many frames that leaves out is in ``metadata["frames_left_out"]``.
Actions are the domain's sequence names without the subject's prefix. A domain without 3D (footage)
writes the 2D file only.

``poseaug`` writes the same two files (PoseAug trains on VideoPose3D's layout) and the evaluation
split in the layout of PoseAug's ``test_3dhp.npz``, as ``test_<NAME>.npz``: ``pose3d`` [N, 16, 3]
metres, root-relative, scaled to the universal skeleton (:mod:`poseda.data.universal`, as 3DHP's
``univ_annot3``; a domain's own universal ground truth where it has one) and ``pose2d`` [N, 16, 2]
in normalised screen units (x / W * 2 - 1, y / W * 2 - H / W), both in Human3.6M's 16 joints
without Neck/Nose (:data:`poseda.skeleton.layouts.H36M16`; a joint the domain lacks is NaN in every
frame). PoseAug reads only these two; the file adds ``pose3d_real`` (the same at real size),
``pose2d_px`` (pixels), ``image_size`` [N, 2], ``intrinsics`` [N, 4] and ``subject``, ``sequence``,
``frame`` [N].

``subjects`` (``--subject`` on the command line) keeps only the named subjects.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from poseda import __version__
from poseda.data.domain import Domain
from poseda.errors import PosedaInputError
from poseda.fileio import atomic_write
from poseda.skeleton.layouts import CANONICAL

FORMATS = ("videopose3d", "poseaug")


def _object(obj) -> np.ndarray:
    a = np.empty((), dtype=object)
    a[()] = obj
    return a


def videopose3d_arrays(domain: Domain, subjects: list[str] | None = None) -> tuple[dict | None, dict]:
    """The two files' arrays (the 3D file's, or None for a domain without 3D, and the 2D file's)."""
    layout = domain.layout
    canon_cols = CANONICAL.indices(layout.joints)
    view_of = np.asarray(domain.arrays["view"])
    frames = np.asarray(domain.arrays["frame"])
    starts = np.searchsorted(view_of, np.arange(len(domain.views)))
    ends = np.searchsorted(view_of, np.arange(len(domain.views)), side="right")
    by_seq: dict[str, list[int]] = {}
    for v, view in enumerate(domain.views):
        if subjects is None or view["subject"] in subjects:
            by_seq.setdefault(view["sequence"], []).append(v)
    if not by_seq:
        raise PosedaInputError("--subject", f"domain {domain.name} has no subject {', '.join(subjects or [])} "
                                            f"(has {', '.join(sorted({v['subject'] for v in domain.views}))})")
    pos3, pos2, cams, splits, video, frame_ids = {}, {}, {}, {}, {}, {}
    left_out = 0
    j3, j2 = domain.arrays["joints3d"], domain.arrays["joints2d"]
    for seq, vs in by_seq.items():
        vs = sorted(vs, key=lambda v: domain.views[v]["camera"])
        subject = domain.views[vs[0]]["subject"]
        action = seq[len(subject) + 1:] if seq.startswith(subject + "/") else seq
        common = frames[starts[vs[0]]:ends[vs[0]]]
        for v in vs[1:]:
            common = np.intersect1d(common, frames[starts[v]:ends[v]])
        left_out += sum(ends[v] - starts[v] for v in vs) - len(common) * len(vs)
        if len(common) == 0:
            continue
        rows = [starts[v] + np.searchsorted(frames[starts[v]:ends[v]], common) for v in vs]
        pos2.setdefault(subject, {})[action] = [np.asarray(j2[r][:, canon_cols], np.float32) for r in rows]
        for v in vs:
            size = np.asarray(domain.arrays["image_size"][v])
            video[f"{subject}/{action}/{domain.views[v]['camera']}"] = {"w": int(size[0]), "h": int(size[1])}
        splits[f"{subject}/{action}"] = domain.views[vs[0]]["split"]
        frame_ids[f"{subject}/{action}"] = common.astype(np.int64)
        if domain.has_3d:
            v0 = vs[0]
            rot, centre = np.asarray(domain.arrays["cam_rotation"][v0]), np.asarray(domain.arrays["cam_centre"][v0])
            xc = np.asarray(j3[rows[0]][:, canon_cols], np.float64)
            world = xc @ rot.T + centre if np.isfinite(rot).all() else xc  # X = R X_cam + t
            pos3.setdefault(subject, {})[action] = world.astype(np.float32)
            cams.setdefault(subject, {})[action] = [
                {"id": domain.views[v]["camera"], "intrinsics": np.asarray(domain.arrays["intrinsics"][v]).tolist(),
                 "distortion": np.asarray(domain.arrays["distortion"][v]).tolist(),
                 "image_size": np.asarray(domain.arrays["image_size"][v]).tolist(),
                 "rotation": np.asarray(domain.arrays["cam_rotation"][v]).tolist(),
                 "centre": np.asarray(domain.arrays["cam_centre"][v]).tolist()} for v in vs]
    left = [layout.joints.index(n) for n in layout.joints if n.startswith("L") and "R" + n[1:] in layout.joints]
    right = [layout.joints.index("R" + layout.joints[i][1:]) for i in left]
    layout_name = "h36m" if layout.num_joints == CANONICAL.num_joints else layout.name  # VideoPose3D's name for these 17
    meta2 = {"layout_name": layout_name, "num_joints": layout.num_joints, "keypoints_symmetry": [left, right],
             "joints": list(layout.joints), "video_metadata": video}
    arrays2 = {"positions_2d": _object(pos2), "metadata": _object(meta2)}
    if not domain.has_3d:
        return None, arrays2
    meta3 = {"domain": domain.name, "role": domain.role, "fps": domain.fps, "joints": list(layout.joints),
             "layout_name": layout_name, "splits": splits, "frames": frame_ids, "train_split": domain.meta.get("train_split"),
             "eval_split": domain.meta.get("eval_split"), "adapt_split": domain.meta.get("adapt_split"),
             "frames_left_out": int(left_out), "exported_by": f"poseda {__version__}"}
    return {"positions_3d": _object(pos3), "cameras": _object(cams), "metadata": _object(meta3)}, arrays2


def poseaug_test_arrays(domain: Domain, subjects: list[str] | None = None) -> dict[str, np.ndarray]:
    """The evaluation split in PoseAug's ``test_3dhp.npz`` layout (see the module doc)."""
    from poseda.data.codec import PoseCodec
    from poseda.data.universal import universal_poses
    from poseda.skeleton.layouts import H36M16

    real = domain.evaluation()
    if subjects is not None:
        real = real.take(np.isin(real.subject, subjects))
    univ = universal_poses(real)
    have = [n for n in H36M16.joints if n in real.layout.joints]
    cols = [H36M16.index(n) for n in have]
    src = real.layout.indices(have)

    def to16(a: np.ndarray) -> np.ndarray:
        out = np.full((len(a), 16, a.shape[-1]), np.nan)
        out[:, cols] = a[:, src]
        return out

    root = real.layout.index("Pelvis")
    codec = PoseCodec()
    return {"pose3d": to16(univ.joints3d - univ.joints3d[:, root:root + 1]),
            "pose2d": to16(codec.encode_2d(real.joints2d, real.image_size).double().numpy()),
            "pose3d_real": to16(real.joints3d - real.joints3d[:, root:root + 1]), "pose2d_px": to16(real.joints2d),
            "image_size": real.image_size, "intrinsics": real.intrinsics, "subject": real.subject.astype(str),
            "sequence": np.asarray([domain.views[v]["sequence"] for v in real.view]), "frame": real.frame}


def export_domain(domain: Domain, fmt: str, out: Path, name: str | None = None,
                  subjects: list[str] | None = None) -> list[Path]:
    """Write ``domain`` (only ``subjects`` if given) in ``fmt`` into folder ``out``; returns the
    files written (each whole or not at all: all arrays are made before the first file is written)."""
    if fmt not in FORMATS:
        raise PosedaInputError("--format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    name = name or domain.name
    three, two = videopose3d_arrays(domain, subjects)
    files = {Path(out) / f"data_2d_{name}_gt.npz": two}
    if three is not None:
        files[Path(out) / f"data_3d_{name}.npz"] = three
    if fmt == "poseaug":
        if not domain.has_3d:
            raise PosedaInputError(domain.name, "has no 3D: PoseAug's test layout needs it (export as videopose3d)")
        test = poseaug_test_arrays(domain, subjects)
        if not len(test["pose3d"]):
            raise PosedaInputError("--subject", f"no frame of the evaluation split of {domain.name} is left to export")
        files[Path(out) / f"test_{name}.npz"] = test
    Path(out).mkdir(parents=True, exist_ok=True)
    for path, arrays in files.items():
        atomic_write(path, lambda tmp, a=arrays: np.savez_compressed(tmp, **a))
    return sorted(files)
