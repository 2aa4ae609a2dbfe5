"""Lift tracked 2D keypoints to 3D with a checkpoint, and write the result with its units.

Coordinates. Inputs are pixels; they are normalised exactly as in training (x / W * 2 - 1,
y / W * 2 - H / W; :class:`poseda.data.codec.PoseCodec`). Outputs are metres in the camera frame
(x right, y down, z forward), root-relative (the Pelvis row is zero). With ``absolute`` the root's
camera-frame position is added, from the same weak-perspective reasoning GPA uses
(:func:`poseda.geometry.camera.weak_perspective_root`): the depth at which the lifted pose, seen through the camera,
is as large as the detected 2D pose, z = (fx * 3D width + fy * 3D height) / (2 * 2D box size),
and x, y from the root's pixel through the camera. Its scale comes from the lifter's bone lengths
(the training set's adults): a child or a crop of the body gives a biased depth.

Camera: :mod:`poseda.keypoints.camera` (the user's intrinsics, or the image diagonal as the
focal length).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.errors import PosedaInputError
from poseda.fileio import atomic_write, check_output, refuse_existing
from poseda.geometry.camera import weak_perspective_root
from poseda.inference import device_kind, load_lifter, predict
from poseda.keypoints.camera import Camera, file_camera
from poseda.keypoints.readers import read_keypoints
from poseda.keypoints.tracks import Track, build_tracks
from poseda.lift.options import LiftOptions
from poseda.lift.quality import describe, measure
from poseda.lift.smoothing import smooth_runs
from poseda.models.bundled import checkpoint_label, resolve_checkpoint
from poseda.skeleton.layouts import JointLayout
from poseda.version import __version__

OUTPUT_SUFFIXES = (".json", ".npz", ".csv", ".bvh", ".trc")
CAMERA_FRAME = "camera frame: x right, y down, z forward, origin at the camera centre"


@dataclass
class Lifted:
    """The lifted frames of every track, one row per (track, frame)."""

    joints: tuple[str, ...]
    track: np.ndarray  # [N]
    segment: np.ndarray  # [N]
    frame: np.ndarray  # [N]
    detected: np.ndarray  # [N] bool
    joints3d: np.ndarray  # [N, J, 3] metres, camera frame, root-relative
    keypoints2d: np.ndarray  # [N, J, 2] the (filled) 2D input, pixels
    filled: np.ndarray  # [N, J] bool
    root: np.ndarray | None = None  # [N, 3] absolute root, metres, camera frame
    meta: dict = field(default_factory=dict)
    world: np.ndarray | None = None  # [N, J, 3] every joint in the scene's world frame (z up, metres): --world
    contact: np.ndarray | None = None  # [N, 2] bool: left, right foot on the ground (with world)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def parents(self) -> tuple[int, ...]:
        """Each joint's parent: as the lift recorded them (the lifter's layout), else those of
        Human3.6M-17 for these joint names (outputs written before parents were recorded)."""
        from poseda.skeleton.layouts import H36M17

        return tuple(self.meta.get("parents") or H36M17.subset(tuple(self.joints)).parents)

    def people(self) -> list[tuple[int, int]]:
        """(track, segment) pairs in order."""
        seen = dict.fromkeys(zip(self.track.tolist(), self.segment.tolist()))
        return list(seen)


def lift_tracks(model: torch.nn.Module, layout: JointLayout, tracks: list[Track], camera: Camera, flip_test: bool = True,
                absolute: bool = False, device: str | torch.device = "cpu", batch_size: int = 4096,
                codec: PoseCodec = PoseCodec()) -> Lifted:
    """Every frame of every track through the lifter at once. Temporal lifters see windows
    padded by repeating each track's first and last frame (as in training and evaluation)."""
    if not tracks:
        raise PosedaInputError("input", "no person to lift")
    lens = np.array([len(t.frames) for t in tracks])
    kp = np.concatenate([t.keypoints for t in tracks]).astype(np.float64)
    n = len(kp)
    size = np.tile(np.array([camera.width, camera.height], np.float64), (n, 1))
    x = codec.encode_2d(kp, size).to(device)
    first = np.repeat(np.cumsum(lens) - lens, lens)
    last = np.repeat(np.cumsum(lens) - 1, lens)
    data = DeviceSet(x, None, torch.as_tensor(first, device=device), torch.as_tensor(last, device=device), layout, {})
    model.to(device)
    pred = predict(model, data, flip_test=flip_test, batch_size=batch_size, codec=codec)
    root = None
    if absolute:
        k = codec.encode_intrinsics(np.tile(camera.k, (n, 1)), size).to(device)
        root = weak_perspective_root(pred, x, k, codec.root).cpu().numpy().astype(np.float64)
    return Lifted(tuple(layout.joints),
                  np.repeat([t.id for t in tracks], lens), np.repeat([t.segment for t in tracks], lens),
                  np.concatenate([t.frames for t in tracks]), np.concatenate([t.detected for t in tracks]),
                  pred.cpu().numpy().astype(np.float64), kp, np.concatenate([t.filled for t in tracks]), root)


# ---------------------------------------------------------------------------------------------- output files

def check_suffix(path: Path) -> str:
    """The lift output's suffix, or an input error naming the path and the suffixes known."""
    s = path.suffix.lower()
    if s not in OUTPUT_SUFFIXES:
        raise PosedaInputError(path, f"unknown output type {s or '(none)'!r}: use {', '.join(OUTPUT_SUFFIXES)}")
    return s


def write_bvh(lifted: Lifted, path: str | Path, fps: float, force: bool = True) -> list[Path]:
    """One BVH file per person (:mod:`poseda.lift.bvh`, named by :func:`~poseda.lift.bvh.bvh_paths`);
    every file is made before any is written, and each is written to a temporary file and renamed.
    Without ``force``, a file that exists is refused before any is written."""
    from poseda.lift.bvh import bvh_paths, bvh_text

    path = Path(path)
    names, parents = tuple(lifted.joints), lifted.parents
    texts = {}
    for (tr, seg), p in bvh_paths(lifted, path).items():
        r = np.flatnonzero((lifted.track == tr) & (lifted.segment == seg))
        r = r[np.argsort(lifted.frame[r], kind="stable")]
        try:
            if lifted.world is not None:  # the scene's world: every person in one frame, feet on its floor
                texts[p] = bvh_text(lifted.world[r], parents, names, fps, world=True)
            else:
                texts[p] = bvh_text(lifted.joints3d[r], parents, names, fps, None if lifted.root is None else lifted.root[r])
        except PosedaInputError as e:
            raise PosedaInputError(path, f"person {tr}: {e.problem}") from None
    refuse_existing(texts, force)
    return [atomic_write(p, lambda tmp, t=t: Path(tmp).write_text(t)) for p, t in texts.items()]


def write_trc(lifted: Lifted, path: str | Path, fps: float, together: bool = False, force: bool = True) -> list[Path]:
    """OpenSim marker files (:mod:`poseda.lift.trc`): every person in ``path`` (``together``), else
    one per person named as the BVH files; all are made before any is written."""
    from poseda.lift.trc import trc_files

    texts = trc_files(lifted, Path(path), fps, together)
    refuse_existing(texts, force)
    return [atomic_write(p, lambda tmp, t=t: Path(tmp).write_text(t)) for p, t in texts.items()]


def write_lifted(lifted: Lifted, path: str | Path, fps: float = 30.0, angles: bool = False, force: bool = True,
                 together: bool = False) -> Path:
    """JSON, NPZ, CSV, BVH or TRC by the file's suffix; joint names, units and frame are in every
    file (BVH: :func:`write_bvh`; TRC: :func:`write_trc`, everyone in one file if ``together``).
    ``angles`` adds each joint's flexion angle to a CSV. Written to a temporary file and renamed,
    so a failed run leaves nothing half-written; without ``force`` an existing file is refused."""
    path = Path(path)
    s = check_suffix(path)
    if s == ".bvh":
        return write_bvh(lifted, path, fps, force)[0]
    if s == ".trc":
        return write_trc(lifted, path, fps, together, force)[0]
    refuse_existing([path], force)
    meta = dict(lifted.meta, joints=list(lifted.joints), units="metres", coordinates=CAMERA_FRAME,
                joints3d="root-relative (the first joint, Pelvis, is the origin)",
                root="absolute root position" if lifted.root is not None else "not computed (use --absolute)",
                world_joints=((lifted.meta.get("world") or {}).get("frame") if lifted.world is not None
                              else "not computed (use --world)"))
    if s == ".npz":
        arrays = dict(track=lifted.track, segment=lifted.segment, frame=lifted.frame, detected=lifted.detected,
                      joints3d=lifted.joints3d.astype(np.float32), keypoints2d=lifted.keypoints2d.astype(np.float32),
                      filled=lifted.filled, joint_names=np.array(lifted.joints), meta=np.array(json.dumps(meta)))
        if lifted.root is not None:
            arrays["root"] = lifted.root.astype(np.float32)
        if lifted.world is not None:
            arrays["world"] = lifted.world.astype(np.float32)
            arrays["contact"] = lifted.contact
        return atomic_write(path, lambda tmp: np.savez_compressed(tmp, **arrays))
    if s == ".json":
        people = []
        for tr, seg in lifted.people():
            r = (lifted.track == tr) & (lifted.segment == seg)
            p = {"track": tr, "segment": seg, "frames": lifted.frame[r].tolist(), "detected": lifted.detected[r].tolist(),
                 "joints3d_m": np.round(lifted.joints3d[r], 5).tolist(),
                 "keypoints2d_px": np.round(lifted.keypoints2d[r], 2).tolist(),
                 "filled": [[lifted.joints[j] for j in np.flatnonzero(f)] for f in lifted.filled[r]]}
            if lifted.root is not None:
                p["root_m"] = np.round(lifted.root[r], 5).tolist()
            if lifted.world is not None:
                p["world_m"] = np.round(lifted.world[r], 5).tolist()
                p["contact_left_right"] = lifted.contact[r].astype(int).tolist()
            people.append(p)
        return atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps({"meta": meta, "people": people})))
    buf = io.StringIO()
    w = csv.writer(buf)
    buf.write("# poseda lift: " + json.dumps(meta) + "\n")
    cols = ["track", "segment", "frame", "detected"] + [f"{n}_{a}_m" for n in lifted.joints for a in "xyz"]
    if lifted.root is not None:
        cols += ["root_x_m", "root_y_m", "root_z_m"]
    flat = np.round(lifted.joints3d.reshape(len(lifted), -1), 5)
    if lifted.root is not None:
        flat = np.concatenate([flat, np.round(lifted.root, 5)], 1)
    if lifted.world is not None:
        cols += [f"world_{n}_{a}_m" for n in lifted.joints for a in "xyz"] + ["contact_left", "contact_right"]
        flat = np.concatenate([flat, np.round(lifted.world.reshape(len(lifted), -1), 5), lifted.contact.astype(float)], 1)
    if angles:
        from poseda.lift.bvh import joint_angles

        names, values = joint_angles(lifted.joints3d, lifted.parents, tuple(lifted.joints))
        cols += names
        flat = np.concatenate([flat, np.round(values, 2)], 1)
    w.writerow(cols + ["filled_joints"])
    names = np.array(lifted.joints)
    for i in range(len(lifted)):
        w.writerow([lifted.track[i], lifted.segment[i], lifted.frame[i], int(lifted.detected[i]), *flat[i].tolist(),
                    ";".join(names[lifted.filled[i]])])
    return atomic_write(path, lambda tmp: Path(tmp).write_text(buf.getvalue()))


def _checked(lifted: Lifted, path: Path) -> Lifted:
    """A lift output whose arrays agree with each other and hold finite 3D."""
    n, j = len(lifted.frame), len(lifted.joints)
    shapes = {"track": (n,), "segment": (n,), "detected": (n,), "joints3d": (n, j, 3), "keypoints2d": (n, j, 2), "filled": (n, j)}
    for name, shape in shapes.items():
        if tuple(np.shape(getattr(lifted, name))) != shape:
            raise PosedaInputError(path, f"is not a poseda lift output ('{name}' has shape {np.shape(getattr(lifted, name))}, "
                                         f"expected {shape})")
    if not np.isfinite(lifted.joints3d).all():
        raise PosedaInputError(path, "holds non-finite 3D joints")
    if (lifted.world is None) != (lifted.contact is None):
        raise PosedaInputError(path, "is not a poseda lift output (world joints without contacts, or the reverse)")
    if lifted.world is not None:
        if np.shape(lifted.world) != (n, j, 3) or np.shape(lifted.contact) != (n, 2):
            raise PosedaInputError(path, f"is not a poseda lift output ('world' has shape {np.shape(lifted.world)}, "
                                         f"'contact' {np.shape(lifted.contact)})")
        if not np.isfinite(lifted.world).all():
            raise PosedaInputError(path, "holds non-finite world joints")
        lifted.contact = np.asarray(lifted.contact).astype(bool)
    if not isinstance(lifted.meta, dict):
        raise PosedaInputError(path, "is not a poseda lift output (its metadata is not a mapping)")
    return lifted


def read_lifted(path: str | Path) -> Lifted:
    """Read a ``poseda lift`` output (.npz or .json) back; anything else is one line naming it."""
    import zipfile

    from poseda.fileio import check_input

    path = Path(path)
    s = check_suffix(path)
    check_input(path, "file", "lift output")
    if s in (".csv", ".bvh", ".trc"):
        raise PosedaInputError(path, f"{s[1:].upper()} outputs are for other tools; visualise the .npz or .json output")
    try:
        if s == ".npz":
            if not zipfile.is_zipfile(path):
                raise PosedaInputError(path, "is not a poseda lift output (not an npz file)")
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                root = z["root"].astype(np.float64) if "root" in z.files else None
                world = z["world"].astype(np.float64) if "world" in z.files else None
                contact = z["contact"] if "contact" in z.files else None
                return _checked(Lifted(tuple(str(n) for n in z["joint_names"]), z["track"], z["segment"], z["frame"],
                                       z["detected"], z["joints3d"].astype(np.float64), z["keypoints2d"].astype(np.float64),
                                       z["filled"], root, meta, world, contact), path)
        obj = json.loads(path.read_text())
        joints = tuple(obj["meta"]["joints"])
        rows = {k: [] for k in ("track", "segment", "frame", "detected", "joints3d", "kp", "filled", "root", "world", "contact")}
        for p in obj["people"]:
            t = len(p["frames"])
            rows["track"] += [p["track"]] * t
            rows["segment"] += [p["segment"]] * t
            rows["frame"] += p["frames"]
            rows["detected"] += p["detected"]
            rows["joints3d"] += p["joints3d_m"]
            rows["kp"] += p["keypoints2d_px"]
            rows["filled"] += [[n in f for n in joints] for f in p["filled"]]
            rows["root"] += p.get("root_m", [])
            rows["world"] += p.get("world_m", [])
            rows["contact"] += p.get("contact_left_right", [])
        root = np.asarray(rows["root"], np.float64) if rows["root"] else None
        world = np.asarray(rows["world"], np.float64).reshape(-1, len(joints), 3) if rows["world"] else None
        contact = np.asarray(rows["contact"], bool).reshape(-1, 2) if rows["contact"] else None
        return _checked(Lifted(joints, np.asarray(rows["track"], np.int64), np.asarray(rows["segment"], np.int64),
                               np.asarray(rows["frame"], np.int64), np.asarray(rows["detected"], bool),
                               np.asarray(rows["joints3d"], np.float64).reshape(-1, len(joints), 3),
                               np.asarray(rows["kp"], np.float64).reshape(-1, len(joints), 2),
                               np.asarray(rows["filled"], bool).reshape(-1, len(joints)), root, obj["meta"], world, contact),
                        path)
    except PosedaInputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, OSError, RecursionError,
            zipfile.BadZipFile, EOFError) as e:
        raise PosedaInputError(path, f"is not a poseda lift output ({type(e).__name__}: {str(e)[:100]})") from None


def lift_file(options: LiftOptions) -> tuple[Lifted, list[str]]:
    """Read a keypoint file, track, fill, lift with a checkpoint (None: the bundled default),
    smooth each track in time if asked (:mod:`poseda.lift.smoothing`), with ``world`` put every
    person in one world on the ground estimated from them (:mod:`poseda.lift.scene`), and write
    ``out`` (an existing file is refused, before any work, unless ``force``). Returns the result
    and the report lines (what was filled or dropped, the scene). ``options.adapt`` is
    :func:`poseda.lift.commands.lift_command`'s (it adapts first); here it is not read."""
    o, r = options, options.reading
    checkpoint, keypoints, out, fps, smoothing = resolve_checkpoint(o.checkpoint), o.keypoints, o.out, o.fps, o.smoothing
    check_suffix(out)
    check_output(out, [keypoints, checkpoint, Path(checkpoint).with_suffix(".json")], "file", "output")
    refuse_existing([out], o.force)
    device = device_kind(o.device)
    model, rec, layout = load_lifter(checkpoint)
    det = read_keypoints(keypoints, r.file_format, r.joints)
    if len(det) == 0:
        raise PosedaInputError(keypoints, "holds no people (no detections in any frame)")
    camera = file_camera(det, keypoints, r.image_size, r.focal, r.fov, r.center)
    tracks, report = build_tracks(det, layout, min_score=r.min_score, max_gap=r.max_gap)
    if not tracks:
        raise PosedaInputError(keypoints, "no person could be lifted: " + "; ".join(report.dropped))
    lifted = lift_tracks(model, layout, tracks, camera, flip_test=o.flip_test, absolute=o.absolute, device=device)
    if not np.isfinite(lifted.joints3d).all() or (lifted.root is not None and not np.isfinite(lifted.root).all()):
        raise PosedaInputError(checkpoint, "lifted these keypoints to non-finite 3D: nothing written")
    if smoothing.kind != "none":
        runs = lifted.track * (lifted.segment.max(initial=0) + 1) + lifted.segment
        lifted.joints3d = smooth_runs(lifted.joints3d, runs, lifted.frame, fps, smoothing)
        lifted.joints3d -= lifted.joints3d[:, :1]  # root-relative stays root-relative
        if lifted.root is not None:
            lifted.root = smooth_runs(lifted.root, runs, lifted.frame, fps, smoothing)
    lines = report.lines()
    world_meta = None
    if o.world:
        from poseda.lift.scene import estimate_scene

        ids = lifted.track * (lifted.segment.max(initial=0) + 1) + lifted.segment
        scene = estimate_scene(lifted.joints3d, lifted.keypoints2d, ids, lifted.frame, tuple(lifted.joints), camera.k, fps,
                               camera.source)
        lifted.world, lifted.contact = scene.joints, scene.contact
        world_meta = scene.camera_meta() | {"report": scene.report}
        lines += scene.report
    adapted = rec.get("config", {}).get("adapt", {}) or {}
    lifted.meta = {
        "poseda_version": __version__,
        "input": {"file": Path(keypoints).name, "file_format": det.file_format, "keypoints": det.fmt.name,
                  "keypoint_description": det.fmt.description, "min_score": r.min_score, "max_gap_frames": r.max_gap},
        "camera": camera.to_dict(),
        "model": {"checkpoint": checkpoint_label(checkpoint), "name": rec["model"]["name"], "receptive_field": rec["model"]["receptive_field"],
                  "joint_set": layout.name, "trained_on": rec.get("source"),
                  "adapted_to": adapted.get("target") if adapted.get("method") not in (None, "source") else None,
                  "adaptation": adapted.get("method")},
        "parents": list(layout.parents),
        "fps": fps,
        "smoothing": smoothing.to_dict() | {"description": smoothing.describe()},
        "flip_test": o.flip_test,
        "absolute_root": "weak perspective (GPA): depth from the lifted pose's extent and the 2D box" if o.absolute else None,
        "report": report.lines(),
        "world": world_meta,
    }
    lifted.meta["quality"] = measure(lifted, camera.k, fps)
    lines.append(describe(lifted.meta["quality"]))
    write_lifted(lifted, out, fps=fps, angles=o.angles, force=o.force, together=o.together)
    return lifted, lines
