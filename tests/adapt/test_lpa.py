import math

import torch

from poseda.adapt.lpa import (
    AugmentationParams,
    KCSDiscriminator3D,
    PoseAugmentor,
    PoseDiscriminator2D,
    apply_augmentation,
    augmentation_penalty,
    body_parts,
    bone_angle_change,
    bone_groups,
    feedback_loss,
    kcs_features,
    lsgan_d,
    lsgan_g,
    size_bones,
)
from poseda.geometry.kinematics import bone_lengths
from poseda.geometry.rotations import axis_angle_to_matrix
from poseda.skeleton.layouts import H36M16, H36M17, HUMANEVA15

L = H36M16


def _pose(b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    p = torch.randn(b, L.num_joints, 3, generator=g) * 0.3
    return p - p[:, :1]


def _params(b, bone_rot=None, ratio=None, rot=None):
    nb = len(bone_groups(L)[0])
    return AugmentationParams(torch.zeros(b, nb, 3) if bone_rot is None else bone_rot,
                              torch.ones(b, nb) if ratio is None else ratio,
                              torch.zeros(b, 3) if rot is None else rot, torch.zeros(b, 1))


def test_bone_groups_pair_left_and_right():
    bones, groups = bone_groups(L)
    names = [L.joints[j] for j in bones]
    assert groups[names.index("LKnee")] == groups[names.index("RKnee")]
    assert groups[names.index("LWrist")] == groups[names.index("RWrist")]
    assert groups[names.index("Spine")] != groups[names.index("Head")]
    parts = body_parts(L)
    assert sorted(i for p in parts for i in p) == list(range(len(bones)))
    assert len(parts) == 5
    assert len(body_parts(HUMANEVA15)) == 5 and len(body_parts(H36M17)) == 5


def test_identity_parameters_leave_the_pose_unchanged():
    p = _pose()
    torch.testing.assert_close(apply_augmentation(p, _params(4), L), p, atol=1e-6, rtol=0)


def test_bone_length_ratios_scale_exactly_those_bones():
    p = _pose()
    ratio = 0.8 + 0.4 * torch.rand(4, len(bone_groups(L)[0]))
    out = apply_augmentation(p, _params(4, ratio=ratio), L)
    torch.testing.assert_close(bone_lengths(out, L.parents), bone_lengths(p, L.parents) * ratio)


def test_bone_rotation_changes_directions_not_lengths_and_global_rotation_is_rigid():
    p = _pose()
    nb = len(bone_groups(L)[0])
    rot = torch.zeros(4, nb, 3)
    rot[:, 3, 0] = 0.3  # one bone, 0.3 rad about x
    out = apply_augmentation(p, _params(4, bone_rot=rot), L)
    torch.testing.assert_close(bone_lengths(out, L.parents), bone_lengths(p, L.parents))
    change = bone_angle_change(p, out, L)
    assert (change[:, [i for i in range(nb) if i != 3]] < 1e-3).all()
    assert (change[:, 3] <= 0.3 + 1e-5).all() and (change[:, 3] > 0).all()
    g = torch.tensor([[0.2, -0.5, 0.1]]).expand(4, 3)
    out = apply_augmentation(p, _params(4, rot=g), L)
    torch.testing.assert_close(out, p @ axis_angle_to_matrix(g).transpose(1, 2), atol=1e-6, rtol=0)
    assert out[:, 0].abs().max() < 1e-6


def test_windows_get_the_same_transformation_in_every_frame():
    p = _pose(4 * 3).reshape(4, 3, L.num_joints, 3)
    aug = PoseAugmentor(L, noise_dim=4, hidden=32)
    for prm in aug.head.parameters():
        torch.nn.init.normal_(prm, std=0.5)
    params = aug(p[:, 1], torch.randn(4, 4))
    out = apply_augmentation(p, params, L)
    for t in range(3):
        torch.testing.assert_close(out[:, t], apply_augmentation(p[:, t], params, L))


def test_augmentor_outputs_stay_inside_their_bounds_and_start_near_identity():
    aug = PoseAugmentor(L, noise_dim=8, hidden=64, max_bone_angle_deg=10, length_range=0.2, max_rotation_deg=(30, 20, 5))
    p = _pose(256)
    params = aug(p, torch.randn(256, 8))
    assert params.bone_rot.abs().max() < 0.1  # starts close to the identity
    for prm in aug.head.parameters():
        torch.nn.init.normal_(prm, std=10.0)
    params = aug(p, torch.randn(256, 8))
    assert params.bone_rot.abs().max() <= math.radians(10) + 1e-6
    assert params.length_ratio.min() >= 0.8 - 1e-6 and params.length_ratio.max() <= 1.2 + 1e-6
    assert (params.global_rot.abs().amax(0) <= torch.tensor([math.radians(a) for a in (30, 20, 5)]) + 1e-6).all()
    bones, groups = bone_groups(L)
    names = [L.joints[j] for j in bones]
    torch.testing.assert_close(params.length_ratio[:, names.index("LElbow")], params.length_ratio[:, names.index("RElbow")])


def test_kcs_features_ignore_scale_and_see_bone_directions():
    p = _pose(8)
    d = KCSDiscriminator3D(L, hidden=32)
    f = kcs_features(p, L, d.parts)
    torch.testing.assert_close(kcs_features(2.5 * p, L, d.parts), f)
    assert d(p).shape == (8,)
    rot = torch.zeros(8, len(bone_groups(L)[0]), 3)
    rot[:, 0, 1] = 0.5
    assert (kcs_features(apply_augmentation(p, _params(8, bone_rot=rot), L), L, d.parts) - f).abs().max() > 1e-2


def test_anchor_discriminator_sees_structure_not_place_or_size():
    d = PoseDiscriminator2D(L, hidden=32)
    p2d = torch.randn(8, L.num_joints, 2)
    torch.testing.assert_close(d(p2d), d(3.0 * p2d + torch.tensor([0.4, -0.2])))


def test_losses():
    ones, zeros = torch.ones(5), torch.zeros(5)
    assert float(lsgan_d(ones, zeros)) == 0 and float(lsgan_g(ones)) == 0
    assert float(lsgan_d(zeros, ones)) == 1 and float(lsgan_g(zeros)) == 1
    band = (math.radians(2), math.radians(8))
    inside, _ = augmentation_penalty(torch.full((4, 5), math.radians(5)), torch.ones(4, 5), band)
    below, _ = augmentation_penalty(torch.zeros(4, 5), torch.ones(4, 5), band)
    above, length = augmentation_penalty(torch.full((4, 5), math.radians(10)), torch.full((4, 5), 1.1), band)
    assert float(inside) == 0 and below > 0 and above > 0
    assert abs(float(length) - 0.01) < 1e-6
    assert float(feedback_loss(torch.tensor(0.06), torch.tensor(0.04), 1.5)) < 1e-6
    assert float(feedback_loss(torch.tensor(0.04), torch.tensor(0.04), 1.5)) > 0.4


def test_keep_size_changes_proportions_not_the_summed_bone_length():
    p = _pose()
    ratio = 0.8 + 0.4 * torch.rand(4, len(bone_groups(L)[0]))
    out = apply_augmentation(p, _params(4, ratio=ratio), L, keep_size=True)
    before, after = bone_lengths(p, L.parents), bone_lengths(out, L.parents)
    torch.testing.assert_close(after.sum(-1), before.sum(-1))
    rel = after / before
    torch.testing.assert_close(rel / rel[:, :1], ratio / ratio[:, :1])


def test_keep_size_from_the_limbs_keeps_their_summed_length_and_frees_the_rest():
    """``lpa.size_from=limbs``: the thighs, shins, upper arms and forearms keep their summed
    length; hips, spine, head and shoulders take their ratios as they are, rescaled like the limbs."""
    for layout in (H36M16, HUMANEVA15):
        g = torch.Generator().manual_seed(1)
        p = torch.randn(3, layout.num_joints, 3, generator=g) * 0.3
        p = p - p[:, :1]
        nb = len(bone_groups(layout)[0])
        ratio = 0.6 + 0.8 * torch.rand(3, nb, generator=g)
        params = AugmentationParams(torch.zeros(3, nb, 3), ratio, torch.zeros(3, 3), torch.zeros(3, 1))
        out = apply_augmentation(p, params, layout, keep_size=True, size_from="limbs")
        limbs = size_bones(layout, "limbs")
        names = {layout.joints[bone_groups(layout)[0][i]] for i in limbs}
        assert names == {"LKnee", "RKnee", "LAnkle", "RAnkle", "LElbow", "RElbow", "LWrist", "RWrist"}, names
        before, after = bone_lengths(p, layout.parents), bone_lengths(out, layout.parents)
        torch.testing.assert_close(after[:, limbs].sum(-1), before[:, limbs].sum(-1))
        rel = after / before  # every bone's ratio times one common factor per pose
        torch.testing.assert_close(rel / rel[:, :1], ratio / ratio[:, :1])
    assert size_bones(H36M16, "all") == list(range(len(bone_groups(H36M16)[0])))


def test_definition_bones_move_their_joint_and_leave_its_children():
    """``lpa.definition_bones=[LHip, RHip]``: hips half as far from the pelvis, knees and ankles
    where they were; without it the whole leg comes in with the hip."""
    p = _pose()
    nb = len(bone_groups(L)[0])
    ratio = torch.ones(4, nb)
    hips = [i for i, j in enumerate(bone_groups(L)[0]) if L.joints[j] in ("LHip", "RHip")]
    ratio[:, hips] = 0.5
    legs = [L.index(n) for n in ("LKnee", "RKnee", "LAnkle", "RAnkle")]
    out = apply_augmentation(p, _params(4, ratio=ratio), L, definition_bones=("LHip", "RHip"))
    for n in ("LHip", "RHip"):
        torch.testing.assert_close(out[:, L.index(n)], 0.5 * p[:, L.index(n)])  # root-relative: halfway to the pelvis
    torch.testing.assert_close(out[:, legs], p[:, legs])
    others = [j for j in range(L.num_joints) if L.joints[j] not in ("LHip", "RHip")]
    torch.testing.assert_close(out[:, others], p[:, others])
    chained = apply_augmentation(p, _params(4, ratio=ratio), L)
    assert (chained[:, legs] - p[:, legs]).norm(dim=-1).min() > 1e-3


def test_body_frame_rotations_follow_the_body():
    """Expressed in the body's axes, the same parameters give the same change to a rotated body."""
    p = _pose(2)
    rot = torch.zeros(2, len(bone_groups(L)[0]), 3)
    rot[:, :, 2] = 0.2
    prm = _params(2, bone_rot=rot)
    turn = axis_angle_to_matrix(torch.tensor([0.0, 1.2, 0.3]))
    a = apply_augmentation(p @ turn.T, prm, L, frame="body")
    b = apply_augmentation(p, prm, L, frame="body") @ turn.T
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    c = apply_augmentation(p @ turn.T, prm, L, frame="camera")
    assert (c - b).abs().max() > 1e-2


def test_joint_definitions_move_a_joint_in_body_axes_and_leave_its_children():
    from poseda.adapt.lpa import body_frame, shift_groups

    pose = _pose(3)
    joints, groups, signs = shift_groups(L, ["Pelvis", "LHip", "RHip", "Thorax", "Head", "Neck"])
    assert [L.joints[j] for j in joints] == ["Pelvis", "LHip", "RHip", "Thorax", "Head"]  # h36m16 has no Neck
    assert groups == [0, 1, 1, 2, 3] and signs == [1.0, 1.0, -1.0, 1.0, 1.0]
    d = torch.tensor([0.03, -0.02, 0.01])
    p = _params(3)
    p.joint_shift, p.shift_joints = torch.stack([d, d * torch.tensor([-1.0, 1, 1])])[None].expand(3, 2, 3), \
        (L.index("LHip"), L.index("RHip"))
    out = apply_augmentation(pose, p, L)
    axes = body_frame(pose, L)
    for name, sign in (("LHip", 1.0), ("RHip", -1.0)):
        moved = out[:, L.index(name)] - pose[:, L.index(name)]
        assert torch.allclose(moved, axes @ (d * torch.tensor([sign, 1, 1])), atol=1e-6)  # in body axes, mirrored
    others = [j for j in range(L.num_joints) if L.joints[j] not in ("LHip", "RHip")]
    assert torch.allclose(out[:, others], pose[:, others], atol=1e-6)  # knees, ankles and the rest stay
    p.joint_shift, p.shift_joints = d[None, None].expand(3, 1, 3), (0,)  # the pelvis itself
    out = apply_augmentation(pose, p, L)
    assert torch.allclose(out[:, 0], torch.zeros(3, 3)) and torch.allclose(out[:, 1:], pose[:, 1:] - (axes @ d)[:, None], atol=1e-6)


def test_joint_definition_shifts_are_bounded_and_off_by_default():
    import pytest

    from poseda.errors import PosedaInputError

    off = PoseAugmentor(L)
    on = PoseAugmentor(L, joint_shift_m=0.05, shift_joints=("Pelvis", "LHip", "RHip", "Thorax", "Head"))
    assert on.head.out_features == off.head.out_features + 3 * 4  # pelvis, hips (shared), thorax, head
    x, z = _pose(64), torch.randn(64, 16) * 50
    with torch.no_grad():
        on.head.weight.mul_(1e4)
        params = on(x, z)
        assert off(x, z).joint_shift is None
    assert params.joint_shift.shape == (64, 5, 3) and params.joint_shift.abs().max() <= 0.05 + 1e-7
    assert torch.allclose(params.joint_shift[:, 1, 0], -params.joint_shift[:, 2, 0])  # left and right mirrored
    with pytest.raises(PosedaInputError, match="lpa.shift_joints"):
        PoseAugmentor(L, joint_shift_m=0.05, shift_joints=("Nose",))
