"""What VideoPose3D's ``run.py`` and PoseAug's data preparation, training step and ``evaluate()``
do with the files they read, written here from their published file layouts and loading steps (not
their code), so that the tests run them on ``poseda data export`` output without the peers
installed. Each step fails the way the peer fails: an index past the joints it keeps
(``IndexError``), a subject or dataset name it has no camera for (``KeyError``), a missing
subject or action, a camera count or frame count that disagrees (``AssertionError``), 2D of
another joint count (``RuntimeError`` from a reshape), NaN in an evaluation file
(``LinAlgError`` from the Procrustes SVD).

The peers' camera tables are the published calibrations they hard-code, which poseda packages
(``poseda/domains/facts/cameras``); their Human3.6M projection is the dataset's distortion model.
"""
from __future__ import annotations

import importlib.util
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from poseda.datasets.calibration import read_h36m_cameras, read_humaneva_extrinsics

FACTS = Path(__file__).resolve().parents[2] / "poseda" / "domains" / "facts" / "cameras"
H36M_PARENTS_32 = [-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12, 16, 17, 18, 19, 20, 19, 22, 12, 24, 25, 26, 27,
                   28, 27, 30]
H36M_LEFT_32 = [6, 7, 8, 9, 10, 16, 17, 18, 19, 20, 21, 22, 23]
H36M_RIGHT_32 = [1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29, 30, 31]
#: VideoPose3D removes these of the 32 (``remove_static_joints``); PoseAug also removes 14 (Neck/Nose)
VP3D_REMOVED = [4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31]
POSEAUG_REMOVED = sorted(VP3D_REMOVED + [14])
HUMANEVA_PARENTS = [-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1]
HUMANEVA_LEFT, HUMANEVA_RIGHT = [2, 3, 4, 8, 9, 10], [5, 6, 7, 11, 12, 13]
POSEAUG_TRAIN, POSEAUG_TEST = ["S1", "S5", "S6", "S7", "S8"], ["S9", "S11"]


# -- the pieces both peers share (MocapDataset, Skeleton, cameras) ----------------------------------
class Skeleton:
    def __init__(self, parents, left, right):
        self.parents, self.left, self.right = list(parents), list(left), list(right)

    def remove_joints(self, removed: list[int]) -> list[int]:
        """Drop ``removed``; a kept joint hangs from its nearest kept ancestor; returns the kept."""
        kept = [j for j in range(len(self.parents)) if j not in removed]
        new = {j: k for k, j in enumerate(kept)}
        parents = []
        for j in kept:
            p = self.parents[j]
            while p in removed:
                p = self.parents[p]
            parents.append(new[p] if p >= 0 else -1)
        self.parents = parents
        self.left = [new[j] for j in self.left if j in new]
        self.right = [new[j] for j in self.right if j in new]
        return kept

    def num_joints(self) -> int:
        return len(self.parents)


def _normalised_camera(rot, centre, size, intrinsics=None, distortion=None) -> dict:
    w, h = int(size[0]), int(size[1])
    cam = {"R": np.asarray(rot, np.float64), "t": np.asarray(centre, np.float64), "res_w": w, "res_h": h}
    if intrinsics is not None:
        fx, fy, cx, cy = intrinsics
        cam["intrinsic"] = np.array([fx / w * 2, fy / w * 2, cx / w * 2 - 1, cy / w * 2 - h / w, *distortion], np.float64)
    return cam


def h36m_cameras() -> dict[str, list[dict]]:
    """VideoPose3D's and PoseAug's Human3.6M camera table: per subject, its 4 cameras."""
    cams = read_h36m_cameras(FACTS / "h36m.json")
    return {s: [_normalised_camera(c["rotation"][k], c["centre"][k], c["image_size"][k], c["intrinsics"][k], c["distortion"][k])
                for k in range(4)] for s, c in cams.items()}


def humaneva_cameras() -> dict[str, list[dict]]:
    """VideoPose3D's HumanEva table: the extrinsics of S1-S3 under each split prefix, 640 x 480."""
    ext = read_humaneva_extrinsics(FACTS / "humaneva-i.json")
    out = {}
    for subject, cams in ext.items():
        for prefix in ("Train/", "Validate/", "Unlabeled/Train/", "Unlabeled/Validate/", "Unlabeled/"):
            out[prefix + subject] = [_normalised_camera(c["rotation"], c["centre"], (640, 480)) for c in cams]
    return out


def world_to_camera(x: np.ndarray, cam: dict) -> np.ndarray:
    return (x - cam["t"]) @ cam["R"]


def normalize_screen(x: np.ndarray, w: int, h: int) -> np.ndarray:
    return x / w * 2 - np.array([1, h / w])


def project_to_2d(x_cam: np.ndarray, intrinsic: np.ndarray) -> np.ndarray:
    """Human3.6M's projection with radial (k1..k3) and tangential (p1, p2) distortion, in
    normalised screen units, as VideoPose3D computes its ground-truth 2D."""
    f, c, k, p = intrinsic[:2], intrinsic[2:4], intrinsic[4:7], intrinsic[7:9]
    xx = np.clip(x_cam[..., :2] / x_cam[..., 2:], -1, 1)
    r2 = (xx ** 2).sum(-1, keepdims=True)
    radial = 1 + (k * np.concatenate([r2, r2 ** 2, r2 ** 3], -1)).sum(-1, keepdims=True)
    tan = (p * xx).sum(-1, keepdims=True)
    return f * (xx * (radial + tan) + p * r2) + c


def mpjpe(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b), axis=-1).mean())


def p_mpjpe(predicted: np.ndarray, target: np.ndarray) -> float:
    """MPJPE after a similarity Procrustes alignment, with the SVD of every frame (PoseAug's
    evaluate() computes it so; a NaN anywhere stops the SVD)."""
    mx, my = target.mean(1, keepdims=True), predicted.mean(1, keepdims=True)
    x0, y0 = target - mx, predicted - my
    nx = np.sqrt((x0 ** 2).sum((1, 2), keepdims=True))
    ny = np.sqrt((y0 ** 2).sum((1, 2), keepdims=True))
    x0, y0 = x0 / nx, y0 / ny
    u, s, vt = np.linalg.svd(np.matmul(x0.transpose(0, 2, 1), y0))
    v = vt.transpose(0, 2, 1)
    r = np.matmul(v, u.transpose(0, 2, 1))
    sign = np.sign(np.linalg.det(r))[:, None]
    v[:, :, -1] *= sign
    s[:, -1] *= sign[:, 0]
    r = np.matmul(v, u.transpose(0, 2, 1))
    a = s.sum(1, keepdims=True)[..., None] * nx / ny
    t = mx - a * np.matmul(my, r)
    return mpjpe(a * np.matmul(predicted, r) + t, target)


def _one_step(inputs: np.ndarray, targets: np.ndarray, out_joints: int, reshape=None):
    """One optimiser step of a small linear lifter on these pairs: (the loss, which must be finite,
    and the lifter, a function of a batch of 2D poses)."""
    torch.manual_seed(0)
    x = torch.from_numpy(np.ascontiguousarray(inputs, np.float32))
    y = torch.from_numpy(np.ascontiguousarray(targets, np.float32))
    if reshape is not None:
        x = x.view(*reshape(len(x)))
    model = torch.nn.Linear(x[0].numel(), out_joints * 3)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    pred = model(x.reshape(len(x), -1)).view(len(x), out_joints, 3)
    loss = (pred - (y - y[:, :1])).norm(dim=-1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()

    def lift(poses2d) -> torch.Tensor:
        with torch.no_grad():
            b = torch.as_tensor(np.asarray(poses2d, np.float32))
            return model(b.reshape(len(b), -1)).view(len(b), out_joints, 3)

    return loss.item(), lift


# -- VideoPose3D's run.py, up to its training loop, one step, and its evaluation --------------------
@dataclass
class VideoPose3DRun:
    train_frames: int
    test_frames: int
    in_joints: int
    out_joints: int
    loss: float
    mpjpe_by_action: dict[str, float]
    #: (median, max) distance in pixels of the 3D through the peer's camera from the 2D file (where the
    #: peer's camera table has intrinsics), else None
    reprojection_px: tuple[float, float] | None
    subjects: list[str] = field(default_factory=list)


def _parse(argv: list[str]) -> dict:
    names = {"-d": "dataset", "-k": "keypoints", "-str": "subjects_train", "-ste": "subjects_test", "-a": "actions",
             "--viz-subject": "viz_subject",
             "--viz-action": "viz_action", "--viz-camera": "viz_camera"}
    args = {"dataset": "h36m", "keypoints": "cpn_ft_h36m_dbb", "subjects_train": "S1,S5,S6,S7,S8", "subjects_test": "S9,S11",
            "actions": "*", "render": False}
    it = iter(argv)
    for a in it:
        if a == "--render":
            args["render"] = True
        elif a in names:
            args[names[a]] = next(it)
    return args


class _Dataset:
    """A MocapDataset: ``data[subject][action]`` = {positions, cameras}, ``cameras[subject]``."""

    def __init__(self, skeleton: Skeleton, cameras: dict, data: dict):
        self.skeleton, self.cameras, self.data = skeleton, cameras, data

    def remove_joints(self, removed: list[int]) -> None:
        kept = self.skeleton.remove_joints(removed)
        for acts in self.data.values():
            for a in acts.values():
                if "positions" in a:
                    a["positions"] = a["positions"][:, kept]


def _load_3d(path: Path, cameras: dict) -> dict:
    positions = np.load(path, allow_pickle=True)["positions_3d"].item()
    return {s: {a: {"positions": p, "cameras": cameras[s]} for a, p in acts.items()} for s, acts in positions.items()}


def videopose3d_dataset(root: Path, dataset: str, keypoints: str, patched: bool = False):
    """run.py's choice of dataset class by name; ``patched``: with poseda's three-line branch."""
    path = root / "data" / f"data_3d_{dataset}.npz"
    if dataset == "h36m":
        d = _Dataset(Skeleton(H36M_PARENTS_32, H36M_LEFT_32, H36M_RIGHT_32), h36m_cameras(), {})
        d.data = _load_3d(path, d.cameras)
        d.remove_joints(VP3D_REMOVED)
        return d
    if dataset.startswith("humaneva"):
        d = _Dataset(Skeleton(HUMANEVA_PARENTS, HUMANEVA_LEFT, HUMANEVA_RIGHT), humaneva_cameras(), {})
        d.data = _load_3d(path, d.cameras)
        return d
    if dataset.startswith("custom"):
        z = np.load(root / "data" / f"data_2d_{dataset}_{keypoints}.npz", allow_pickle=True)
        res = z["metadata"].item()["video_metadata"]
        cams = {v: [{"res_w": r["w"], "res_h": r["h"]}] for v, r in res.items()}
        d = _Dataset(Skeleton(H36M_PARENTS_32, H36M_LEFT_32, H36M_RIGHT_32), cams, {v: {"custom": {"cameras": c}} for v, c in cams.items()})
        d.remove_joints(VP3D_REMOVED)
        return d
    if patched and dataset.startswith("poseda"):
        spec = importlib.util.spec_from_file_location("poseda_dataset", root / "common" / "poseda_dataset.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ds = module.PosedaDataset(str(path))
        sk = ds.skeleton()
        cams = {s: [{"R": _matrix(c["orientation"]), "t": np.asarray(c["translation"], np.float64), "res_w": c["res_w"],
                     "res_h": c["res_h"], "intrinsic": np.asarray(c["intrinsic"], np.float64)} for c in cs]
                for s, cs in ds.cameras().items()}
        assert sk.num_joints() == len(sk.parents()) and len(sk.joints_left()) == len(sk.joints_right())
        data = {s: {a: {"positions": ds[s][a]["positions"], "cameras": cams[s]} for a in ds[s]} for s in ds.subjects()}
        return _Dataset(Skeleton(sk.parents(), sk.joints_left(), sk.joints_right()), cams, data)
    raise KeyError("Invalid dataset")


def _matrix(q) -> np.ndarray:
    w, x, y, z = (float(v) for v in q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def run_videopose3d(root: Path, argv: list[str] | str, patched: bool = False) -> VideoPose3DRun:
    """run.py's data preparation, ``fetch``, model shapes, one training step with its flip
    augmentation, and its action-wise evaluation (by ``action.split(' ')[0]``)."""
    args = _parse(shlex.split(argv) if isinstance(argv, str) else argv)
    ds = videopose3d_dataset(root, args["dataset"], args["keypoints"], patched)
    for acts in ds.data.values():
        for a in acts.values():
            if "positions" in a:
                a["positions_3d"] = []
                for cam in a["cameras"]:
                    p = world_to_camera(a["positions"], cam)
                    p[:, 1:] -= p[:, :1]
                    a["positions_3d"].append(p)
    z = np.load(root / "data" / f"data_2d_{args['dataset']}_{args['keypoints']}.npz", allow_pickle=True)
    meta = z["metadata"].item()
    kps_left, kps_right = list(meta["keypoints_symmetry"][0]), list(meta["keypoints_symmetry"][1])
    keypoints = z["positions_2d"].item()
    for subject, acts in ds.data.items():
        assert subject in keypoints, f"Subject {subject} is missing from the 2D detections dataset"
        for action, a in acts.items():
            assert action in keypoints[subject], f"Action {action} of subject {subject} is missing from the 2D detections dataset"
            if "positions_3d" not in a:
                continue
            for c in range(len(keypoints[subject][action])):
                n = a["positions_3d"][c].shape[0]
                assert keypoints[subject][action][c].shape[0] >= n
                keypoints[subject][action][c] = keypoints[subject][action][c][:n]
            assert len(keypoints[subject][action]) == len(a["positions_3d"])
    for subject, acts in keypoints.items():
        for views in acts.values():
            for c, kps in enumerate(views):
                cam = ds.cameras[subject][c]
                views[c] = normalize_screen(np.asarray(kps, np.float64), cam["res_w"], cam["res_h"])
    # the 2D file and the 3D file agree through the peer's own cameras (where it has intrinsics)
    dist = []
    for subject, acts in ds.data.items():
        for action, a in acts.items():
            for c, cam in enumerate(a.get("cameras", []) if "positions" in a else []):
                if "intrinsic" in cam and c < len(keypoints[subject][action]):
                    uv = project_to_2d(world_to_camera(a["positions"], cam), cam["intrinsic"])
                    dist.append(np.linalg.norm(uv - keypoints[subject][action][c], axis=-1).ravel() * cam["res_w"] / 2)
    worst = (float(np.median(np.concatenate(dist))), float(np.concatenate(dist).max())) if dist else None

    action_filter = None if args["actions"] == "*" else args["actions"].split(",")

    def fetch(subjects):
        p3, p2, acts = [], [], []
        for s in subjects:
            for action in keypoints[s].keys():
                if action_filter is not None and not any(action.startswith(a) for a in action_filter):
                    continue
                views = keypoints[s][action]
                if s in ds.cameras:
                    assert len(ds.cameras[s]) == len(views), "Camera count mismatch"
                p2 += views
                acts += [action] * len(views)
                if "positions_3d" in ds.data[s][action]:
                    assert len(ds.data[s][action]["positions_3d"]) == len(views), "Camera count mismatch"
                    p3 += ds.data[s][action]["positions_3d"]
        return p3, p2, acts

    subjects_test = [args["viz_subject"]] if args["render"] else args["subjects_test"].split(",")
    p3_valid, p2_valid, acts_valid = fetch(subjects_test)
    in_joints, out_joints = p2_valid[0].shape[-2], ds.skeleton.num_joints()
    if args["render"]:
        _ = keypoints[args["viz_subject"]][args["viz_action"]][int(args.get("viz_camera", 0))]
        return VideoPose3DRun(0, sum(len(v) for v in p2_valid), in_joints, out_joints, float("nan"), {}, worst, list(keypoints))
    p3_train, p2_train, _ = fetch(args["subjects_train"].split(","))
    x2, x3 = np.concatenate(p2_train), np.concatenate(p3_train)
    # the generator's flip augmentation indexes joints with the files' and the skeleton's lists
    flip2, flip3 = x2.copy(), x3.copy()
    flip2[:, :, 0] *= -1
    flip2[:, kps_left + kps_right] = flip2[:, kps_right + kps_left]
    flip3[:, :, 0] *= -1
    flip3[:, ds.skeleton.left + ds.skeleton.right] = flip3[:, ds.skeleton.right + ds.skeleton.left]
    step = np.linspace(0, len(x2) - 1, min(len(x2), 2048)).astype(int)
    loss, lift = _one_step(np.concatenate([x2[step], flip2[step]]), np.concatenate([x3[step], flip3[step]]), out_joints)
    by_action: dict[str, list[float]] = {}
    for p3, p2, action in zip(p3_valid, p2_valid, acts_valid):
        pred = lift(p2).numpy()
        by_action.setdefault(action.split(" ")[0], []).append(mpjpe(pred - pred[:, :1], p3 - p3[:, :1]) * 1000)
    return VideoPose3DRun(len(x2), sum(len(v) for v in p2_valid), in_joints, out_joints, loss,
                          {k: float(np.mean(v)) for k, v in by_action.items()}, worst, list(keypoints))


# -- PoseAug: data_preparation, one training step, evaluate() on data_extra/test_set/test_3dhp.npz ---
@dataclass
class PoseAugRun:
    train_frames: int
    h36m_test_frames: int
    target_frames: int
    loss: float
    target_mpjpe: float
    target_p_mpjpe: float


def run_poseaug(root: Path, dataset: str = "h36m", keypoints: str = "gt", s1only: bool = False) -> PoseAugRun:
    """PoseAug's data preparation (Human3.6M only, 16 joints), one step of its baseline training
    (inputs viewed as [B, 1, 16, 2]) and its evaluate() with the flip test on the 3DHP file."""
    if dataset != "h36m":
        raise KeyError("Invalid dataset")
    ds = _Dataset(Skeleton(H36M_PARENTS_32, H36M_LEFT_32, H36M_RIGHT_32), h36m_cameras(), {})
    ds.data = _load_3d(root / "data" / "data_3d_h36m.npz", ds.cameras)
    ds.remove_joints(POSEAUG_REMOVED)
    for acts in ds.data.values():  # read_3d_data: camera frame, not root-relative
        for a in acts.values():
            a["positions_3d"] = [world_to_camera(a["positions"], cam) for cam in a["cameras"]]
    z = np.load(root / "data" / f"data_2d_h36m_{keypoints}.npz", allow_pickle=True)
    kp = z["positions_2d"].item()
    for subject, acts in kp.items():  # create_2d_data
        for views in acts.values():
            for c, kps in enumerate(views):
                cam = ds.cameras[subject][c]
                views[c] = normalize_screen(np.asarray(kps, np.float64), cam["res_w"], cam["res_h"])

    def fetch(subjects):
        p3, p2, acts = [], [], []
        for s in subjects:
            for action in kp[s].keys():
                views = kp[s][action]
                p2 += views
                acts += [[action.split(" ")[0]] * len(v) for v in views]
                if "positions_3d" in ds.data[s][action]:
                    assert len(ds.data[s][action]["positions_3d"]) == len(views), "Camera count mismatch"
                    p3 += ds.data[s][action]["positions_3d"]
        p3, p2 = np.concatenate(p3), np.concatenate(p2)  # PoseDataSet
        assert p3.shape[0] == p2.shape[0] == sum(len(a) for a in acts)
        return p3, p2

    x3, x2 = fetch(["S1"] if s1only else POSEAUG_TRAIN)
    v3, _ = fetch(POSEAUG_TEST)
    step = np.linspace(0, len(x2) - 1, min(len(x2), 1024)).astype(int)
    loss, lift = _one_step(x2[step], x3[step], 16, reshape=lambda b: (b, 1, 16, 2))
    with np.load(root / "data_extra" / "test_set" / "test_3dhp.npz") as t:  # no pickles allowed
        pose3d, pose2d = np.concatenate([t["pose3d"]]), np.concatenate([t["pose2d"]])  # PoseBuffer
    assert pose3d.shape[0] == pose2d.shape[0]
    inputs = torch.from_numpy(np.asarray(pose2d, np.float32))
    left, right = [4, 5, 6, 10, 11, 12], [1, 2, 3, 13, 14, 15]  # evaluate()'s flip test, fixed indices
    flipped = inputs.clone()
    flipped[:, :, 0] *= -1
    flipped[:, left + right] = flipped[:, right + left]
    out_flip = lift(flipped.view(len(inputs), 1, 16, 2))
    out_flip[:, :, 0] *= -1
    out_flip[:, left + right] = out_flip[:, right + left]
    out = (lift(inputs.view(len(inputs), 1, 16, 2)) + out_flip) / 2
    target = torch.from_numpy(np.asarray(pose3d, np.float32))
    target, out = (target - target[:, :1]).numpy(), (out - out[:, :1]).numpy()
    return PoseAugRun(len(x2), len(v3), len(pose3d), loss, mpjpe(out, target) * 1000,
                      p_mpjpe(out.astype(np.float64), target.astype(np.float64)) * 1000)
