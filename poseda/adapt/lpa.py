"""Local Pose Augmentation (LPA): an augmentor that outputs transformation parameters, and the
discriminators that judge its poses.

- :class:`PoseAugmentor` maps a root-relative source pose plus noise to bounded parameters of
  three predefined transformations: a rotation of every bone's direction (bone angle), a length
  ratio per bone shared by left and right limbs (bone length), and a global rotation about the
  root; and, as an option (``lpa.joint_shift_m`` > 0), a fourth: *joint definitions*, a bounded
  shift of chosen joints (pelvis, hips, thorax, head) in the body's own axes that leaves their
  children where they are, as datasets place these joints differently on the same body. No translation: placing the pose is GPA's job. :func:`apply_augmentation` applies the
  parameters to single poses or whole windows (the same parameters for every frame, so the
  motion inside a window stays smooth).
- :class:`PoseDiscriminator2D` (the *anchor discriminator*) sees 2D poses centred on the root
  and divided by their box size, so it judges pose structure; placement and scale come from GPA.
- :class:`KCSDiscriminator3D` sees the kinematic-chain-space features of a 3D pose: per body
  part, the Gram matrix of its unit bone vectors.
- Losses: least-squares GAN terms (:func:`lsgan_d`, :func:`lsgan_g`), the regulariser that keeps
  the mean bone-angle change inside a band and the length ratios near one
  (:func:`augmentation_penalty`), and the feedback term (:func:`feedback_loss`).

Where the paper is silent (network widths, bounds, band, weights) the values are named options
of the ``lpa`` config section; ``poseda/configs/defaults.yaml`` documents the defaults.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from poseda.adapt.gpa import shape_features
from poseda.errors import PosedaInputError
from poseda.geometry.kinematics import bone_vectors, joints_from_bones
from poseda.geometry.rotations import axis_angle_to_matrix
from poseda.skeleton.layouts import CANONICAL, JointLayout


def bone_groups(layout: JointLayout) -> tuple[list[int], list[int]]:
    """Non-root joints (each names the bone to its parent) and, for each, the index of its
    length group: a left bone and its right mirror share one group."""
    bones = [j for j, p in enumerate(layout.parents) if p >= 0]
    names = [layout.joints[j] for j in bones]
    keys = [n[1:] if n[:1] in "LR" and ("L" + n[1:]) in names and ("R" + n[1:]) in names else n for n in names]
    order = list(dict.fromkeys(keys))
    return bones, [order.index(k) for k in keys]


#: the bones whose lengths the datasets agree on (thigh, shin, upper arm, forearm: each named by its
#: child joint); hips, shoulders, spine and head are placed differently by every skeleton
LIMB_JOINTS = ("Knee", "Ankle", "Elbow", "Wrist")


def size_bones(layout: JointLayout, which: str = "all") -> list[int]:
    """Positions in the non-root bone list (:func:`bone_groups`) whose summed length is a pose's
    size for ``lpa.keep_size``: ``all`` bones, or only the ``limbs``.

    >>> from poseda.skeleton.layouts import H36M17
    >>> bones, _ = bone_groups(H36M17)
    >>> print(*(H36M17.joints[bones[k]] for k in size_bones(H36M17, "limbs")))
    RKnee RAnkle LKnee LAnkle LElbow LWrist RElbow RWrist
    """
    bones, _ = bone_groups(layout)
    if which == "all":
        return list(range(len(bones)))
    if which != "limbs":
        raise ValueError(f"unknown size bones {which!r} (all or limbs)")
    return [i for i, j in enumerate(bones) if any(layout.joints[j].endswith(k) for k in LIMB_JOINTS)]


def body_parts(layout: JointLayout) -> list[list[int]]:
    """Bone indices (into the non-root bone list) per part: torso, left/right arm, left/right leg."""
    bones, _ = bone_groups(layout)
    names = [layout.joints[j] for j in bones]
    parts = {"torso": [], "larm": [], "rarm": [], "lleg": [], "rleg": []}
    for i, n in enumerate(names):
        side = n[:1] if n[:1] in "LR" and len(n) > 1 and n[1].isupper() else ""
        limb = "leg" if any(k in n for k in ("Hip", "Knee", "Ankle", "Foot")) else "arm" if any(
            k in n for k in ("Shoulder", "Elbow", "Wrist", "Hand")) else ""
        key = f"{side.lower()}{limb}" if side and limb else "torso"
        parts[key].append(i)
    return [v for v in parts.values() if v]


def shift_groups(layout: JointLayout, names) -> tuple[list[int], list[int], list[float]]:
    """The joints of ``names`` that ``layout`` has, each with its group and the sign of its
    body-frame x: a left joint and its right mirror share one shift, mirrored across the body."""
    joints = [layout.index(n) for n in names if n in layout.joints]
    keys = [layout.joints[j][1:] if layout.joints[j][:1] in "LR" and layout.joints[j][1:2].isupper() else layout.joints[j]
            for j in joints]
    order = list(dict.fromkeys(keys))
    signs = [-1.0 if layout.joints[j].startswith("R") and layout.joints[j][1:2].isupper() else 1.0 for j in joints]
    return joints, [order.index(k) for k in keys], signs


@dataclass
class AugmentationParams:
    bone_rot: torch.Tensor  # [B, nb, 3] axis-angle per bone (radians, camera frame)
    length_ratio: torch.Tensor  # [B, nb] length ratio per bone (shared by left/right)
    global_rot: torch.Tensor  # [B, 3] axis-angle about the root
    raw: torch.Tensor  # [B, P] the unbounded outputs (for saturation checks)
    joint_shift: torch.Tensor | None = None  # [B, ns, 3] metres, body frame, per shifted joint (joint definitions)
    shift_joints: tuple[int, ...] = ()  # the joints joint_shift moves


class PoseAugmentor(nn.Module):
    """source pose + noise -> bounded transformation parameters."""

    def __init__(self, layout: JointLayout, noise_dim: int = 16, hidden: int = 256,
                 max_bone_angle_deg: float = 45.0, length_range: float = 0.5,
                 max_rotation_deg: tuple[float, float, float] = (40.0, 30.0, 15.0),
                 joint_shift_m: float = 0.0, shift_joints: tuple[str, ...] = ()):
        super().__init__()
        unknown = [n for n in shift_joints if n not in CANONICAL.joints]
        if joint_shift_m > 0 and unknown:
            raise PosedaInputError("lpa.shift_joints", f"unknown joint(s) {unknown} (joints: {', '.join(CANONICAL.joints)})")
        joints, sgroups, signs = shift_groups(layout, shift_joints) if joint_shift_m > 0 else ([], [], [])
        self.shift_joints = tuple(joints)
        self.n_shift = (max(sgroups) + 1) if sgroups else 0
        self.max_shift = joint_shift_m
        self.register_buffer("shift_group", torch.as_tensor(sgroups, dtype=torch.long), persistent=False)
        self.register_buffer("shift_sign", torch.as_tensor([[s, 1.0, 1.0] for s in signs]).reshape(-1, 3), persistent=False)
        self.layout = layout
        self.bones, groups = bone_groups(layout)
        self.register_buffer("groups", torch.as_tensor(groups), persistent=False)
        self.n_bones, self.n_groups = len(self.bones), max(groups) + 1
        self.noise_dim = noise_dim
        self.max_bone = math.radians(max_bone_angle_deg)
        self.length_range = length_range
        self.register_buffer("max_rot", torch.tensor([math.radians(a) for a in max_rotation_deg]), persistent=False)
        j = layout.num_joints
        self.body = nn.Sequential(nn.Linear(j * 3 + noise_dim, hidden), nn.LeakyReLU(0.2),
                                  nn.Linear(hidden, hidden), nn.LeakyReLU(0.2))
        self.head = nn.Linear(hidden, self.n_bones * 3 + self.n_groups + 3 + 3 * self.n_shift)
        nn.init.normal_(self.head.weight, std=1e-3)  # start close to the identity transformation
        nn.init.zeros_(self.head.bias)

    def forward(self, pose3d: torch.Tensor, noise: torch.Tensor) -> AugmentationParams:
        """pose3d [B, J, 3] root-relative, noise [B, noise_dim]."""
        b = pose3d.shape[0]
        raw = self.head(self.body(torch.cat([pose3d.reshape(b, -1), noise], -1)))
        nb, ng = self.n_bones * 3, self.n_groups
        bone_rot = self.max_bone * torch.tanh(raw[:, :nb]).reshape(b, self.n_bones, 3)
        ratio_g = 1 + self.length_range * torch.tanh(raw[:, nb : nb + ng])
        rot = self.max_rot * torch.tanh(raw[:, nb + ng : nb + ng + 3])
        shift = None
        if self.n_shift:
            per_group = self.max_shift * torch.tanh(raw[:, nb + ng + 3 :]).reshape(b, self.n_shift, 3)
            shift = per_group[:, self.shift_group] * self.shift_sign
        return AugmentationParams(bone_rot, ratio_g[:, self.groups], rot, raw, shift, self.shift_joints)


def body_frame(pose3d: torch.Tensor, layout: JointLayout) -> torch.Tensor:
    """[..., J, 3] -> [..., 3, 3] an orthonormal body frame per pose, as columns: x across the
    hips (right to left), y from the thorax down to the pelvis, z = x cross y. Bone-angle
    parameters expressed in this frame mean the same change whatever the body's orientation."""
    lh, rh, pel, th = (pose3d[..., layout.index(n), :] for n in ("LHip", "RHip", "Pelvis", "Thorax"))
    x = lh - rh
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    down = pel - th
    y = down - (down * x).sum(-1, keepdim=True) * x
    y = y / y.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    return torch.stack([x, y, torch.linalg.cross(x, y)], -1)


def apply_augmentation(pose3d: torch.Tensor, params: AugmentationParams, layout: JointLayout, root: int = 0,
                       frame: str = "body", keep_size: bool = False, size_from: str = "all",
                       definition_bones: tuple[str, ...] = ()) -> torch.Tensor:
    """Root-relative poses [B, J, 3] or windows [B, T, J, 3] -> augmented, root-relative.

    ``frame`` says in which axes the bone rotations are expressed: ``body`` (each frame's
    :func:`body_frame`, so a learned change means the same for every body orientation) or
    ``camera``. The global rotation is always about the camera axes. ``keep_size`` rescales the
    length ratios of each pose so that its summed bone length is unchanged: proportions change,
    the body's size does not (size cannot be judged from 2D, where GPA sets the apparent size).
    ``size_from`` says which bones' sum is kept (:func:`size_bones`): ``all``, or the ``limbs``
    only, so that shortening a bone whose place the skeletons disagree on (hips, head) does not
    lengthen the limbs. The bones of ``definition_bones`` (each named by its child joint) change
    their length by moving that joint alone, its children staying where they were: a change of
    where a skeleton puts the joint (HumanEva's hips are 9.7 cm apart, Human3.6M's 26.6), not of
    the body (narrower hips through the bone chain would swing the thighs in with them).

    No rotation and length ratios of one leave a pose as it is; ratios of 1.1 make every bone
    10% longer (unless ``keep_size``):

    >>> from poseda.skeleton.layouts import H36M17
    >>> pose = torch.randn(2, 17, 3, generator=torch.Generator().manual_seed(0))
    >>> pose = pose - pose[:, :1]
    >>> def params(ratio):
    ...     return AugmentationParams(torch.zeros(2, 16, 3), torch.full((2, 16), ratio), torch.zeros(2, 3), torch.zeros(2, 1))
    >>> torch.allclose(apply_augmentation(pose, params(1.0), H36M17), pose, atol=1e-5)
    True
    >>> torch.allclose(apply_augmentation(pose, params(1.1), H36M17), 1.1 * pose, atol=1e-5)
    True
    >>> torch.allclose(apply_augmentation(pose, params(1.1), H36M17, keep_size=True), pose, atol=1e-5)
    True

    Narrower hips (ratio 0.5 on both hip bones) lengthen every other bone when the sum of all is
    kept, and none when the limbs' sum is kept:

    >>> p = params(1.0)
    >>> p.length_ratio[:, [0, 3]] = 0.5  # RHip, LHip
    >>> lengths = lambda q: bone_vectors(q, H36M17.parents)[:, 1:].norm(dim=-1)
    >>> ratio = lengths(apply_augmentation(pose, p, H36M17, keep_size=True)) / lengths(pose)
    >>> bool((ratio[:, [1, 2, 4, 5]] > 1.01).all())
    True
    >>> ratio = lengths(apply_augmentation(pose, p, H36M17, keep_size=True, size_from="limbs")) / lengths(pose)
    >>> torch.allclose(ratio[:, [1, 2, 4, 5]], torch.ones(2, 4)), torch.allclose(ratio[:, [0, 3]], torch.full((2, 2), 0.5))
    (True, True)
    """
    window = pose3d.dim() == 4
    p = pose3d if window else pose3d[:, None]
    bones_idx, _ = bone_groups(layout)
    vec = bone_vectors(p, layout.parents)  # [B, T, J, 3]
    rv = params.bone_rot[:, None]  # [B, 1, nb, 3]
    if frame == "body":
        rv = (body_frame(p, layout)[:, :, None] @ rv[..., None])[..., 0]  # axes to camera coordinates
    elif frame != "camera":
        raise ValueError(f"unknown bone-rotation frame {frame!r} (body or camera)")
    r_bone = axis_angle_to_matrix(rv)  # [B, T|1, nb, 3, 3]
    sel = vec[:, :, bones_idx]
    ratio = params.length_ratio[:, None]  # [B, 1, nb]
    if keep_size:
        held = size_bones(layout, size_from)
        lengths = sel.norm(dim=-1)[..., held]  # [B, T, nb] or the limbs'
        kept = ratio[..., held]
        ratio = ratio * (lengths.sum(-1, keepdim=True) / (lengths * kept).sum(-1, keepdim=True).clamp_min(1e-9))
    alone = [i for i, j in enumerate(bones_idx) if layout.joints[j] in definition_bones]
    chain = ratio
    if alone:  # those bones keep their length in the chain; their joint alone moves below
        chain = ratio.clone()
        chain[..., alone] = 1.0
    new = (r_bone @ sel[..., None])[..., 0] * chain[..., None]
    vec = vec.clone()
    vec[:, :, bones_idx] = new
    out = joints_from_bones(vec, layout.parents)
    if alone:
        js = [bones_idx[i] for i in alone]
        ps = [layout.parents[j] for j in js]
        out = out.clone()
        out[:, :, js] = out[:, :, ps] + ratio[..., alone, None] * (out[:, :, js] - out[:, :, ps])
    if params.joint_shift is not None and params.shift_joints:
        # joint definitions: each shifted joint moves in the pose's own body axes, its children stay
        # (moving the root moves every other joint the other way once re-rooted below)
        axes = body_frame(out, layout)  # [B, T, 3, 3]
        moved = (axes[:, :, None] @ params.joint_shift[:, None, :, :, None])[..., 0]  # [B, T, ns, 3]
        out = out.clone()
        out[:, :, list(params.shift_joints)] += moved
    r = axis_angle_to_matrix(params.global_rot)[:, None, None]  # [B, 1, 1, 3, 3]
    out = (r @ out[..., None])[..., 0]
    out = out - out[:, :, root : root + 1]
    return out if window else out[:, 0]


def bone_angle_change(before: torch.Tensor, after: torch.Tensor, layout: JointLayout) -> torch.Tensor:
    """[B, J, 3] twice -> [B, nb] angle (radians) between each bone's direction before and after."""
    bones_idx, _ = bone_groups(layout)
    a = bone_vectors(before, layout.parents)[..., bones_idx, :]
    b = bone_vectors(after, layout.parents)[..., bones_idx, :]
    return torch.atan2(torch.linalg.cross(a, b).norm(dim=-1) + 1e-12, (a * b).sum(-1))


class PoseDiscriminator2D(nn.Module):
    """Anchor discriminator: real target 2D vs. GPA-placed projections of augmented poses."""

    def __init__(self, layout: JointLayout, hidden: int = 256, root: int = 0):
        super().__init__()
        self.root = root
        j = layout.num_joints
        self.net = nn.Sequential(nn.Linear(j * 2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    @staticmethod
    def features(p2d: torch.Tensor, root: int = 0) -> torch.Tensor:
        return shape_features(p2d, root)

    def forward(self, p2d: torch.Tensor) -> torch.Tensor:
        return self.net(self.features(p2d, self.root))[:, 0]


def kcs_features(pose3d: torch.Tensor, layout: JointLayout, parts: list[list[int]]) -> torch.Tensor:
    """Kinematic chain space per body part: upper triangle of the Gram matrix of the part's unit
    bone vectors, concatenated over parts. [B, J, 3] -> [B, F]."""
    bones_idx, _ = bone_groups(layout)
    vec = bone_vectors(pose3d, layout.parents)[:, bones_idx]
    unit = vec / vec.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    feats = []
    for part in parts:
        u = unit[:, part]
        g = u @ u.transpose(1, 2)
        iu = torch.triu_indices(len(part), len(part), offset=1, device=g.device)
        feats.append(g[:, iu[0], iu[1]])
    feats.append((unit @ unit.transpose(1, 2)).flatten(1))  # the whole body's chain space
    return torch.cat(feats, 1)


class KCSDiscriminator3D(nn.Module):
    """3D discriminator on kinematic-chain-space features against source 3D."""

    def __init__(self, layout: JointLayout, hidden: int = 256):
        super().__init__()
        self.layout = layout
        self.parts = body_parts(layout)
        nb = len(bone_groups(layout)[0])
        dim = sum(len(p) * (len(p) - 1) // 2 for p in self.parts) + nb * nb
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, pose3d: torch.Tensor) -> torch.Tensor:
        return self.net(kcs_features(pose3d, self.layout, self.parts))[:, 0]


def lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN discriminator loss: real -> 1, fake -> 0."""
    return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()


def lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN generator loss: fake -> 1."""
    return ((fake - 1) ** 2).mean()


def augmentation_penalty(angle_change: torch.Tensor, length_ratio: torch.Tensor, band: tuple[float, float]) -> tuple[
        torch.Tensor, torch.Tensor]:
    """(bone-angle penalty, length penalty). The batch's mean bone-angle change (radians) is kept
    inside ``band`` = (low, high); length ratios are pulled towards one."""
    lo, hi = band
    mean_angle = angle_change.mean()
    angle_pen = torch.relu(lo - mean_angle) + torch.relu(mean_angle - hi)
    return angle_pen, ((length_ratio - 1) ** 2).mean()


def feedback_loss(err_aug: torch.Tensor, err_src: torch.Tensor, hard_ratio: float) -> torch.Tensor:
    """Hardness feedback: the lifter's mean error on augmented poses should be ``hard_ratio``
    times its error on the originals (harder, but not by too much). Scale-free: divided by the
    (detached) source error."""
    src = err_src.detach().clamp_min(1e-6)
    return (err_aug / src - hard_ratio).abs()
