import torch

from poseda.adapt.gpa import GlobalPositionAlignment, draw_anchors, gpa_place
from poseda.geometry.camera import box_scale, project, weak_perspective_root


def _poses(b, j=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    p = torch.randn(b, j, 3, generator=g, dtype=torch.float64) * torch.tensor([0.25, 0.5, 0.2], dtype=torch.float64)
    return p + torch.tensor([0.3, -0.2, 4.0], dtype=torch.float64)


def _targets(b, j=16, seed=1):
    g = torch.Generator().manual_seed(seed)
    k = torch.stack([1.4 + torch.rand(b, generator=g), 1.1 + 0.5 * torch.rand(b, generator=g),  # fx != fy
                     0.2 * torch.rand(b, generator=g) - 0.1, 0.3 * torch.rand(b, generator=g) - 0.35], 1).double()
    p2d = torch.rand(b, j, 2, generator=g, dtype=torch.float64) * 0.3 + torch.rand(b, 1, 2, generator=g) - 0.5
    return p2d, k


def test_root_lands_on_the_anchor_root_and_depth_follows_the_formula():
    pose = _poses(64)
    a2d, k = _targets(64)
    root = weak_perspective_root(pose, a2d, k)
    fx, fy, cx, cy = k.unbind(-1)
    ext = pose.amax(1) - pose.amin(1)
    s = box_scale(a2d)
    torch.testing.assert_close(root[:, 2], (fx * ext[:, 0] + fy * ext[:, 1]) / (2 * s))
    placed, p2d = gpa_place(pose, a2d, k)
    # the placed root projects exactly onto the anchor's root, with every sample's own camera
    torch.testing.assert_close(p2d[:, 0], a2d[:, 0])
    torch.testing.assert_close(project(placed, k), p2d)
    # the pose keeps its shape: a pure translation
    torch.testing.assert_close(placed - placed[:, :1], pose - pose[:, :1])


def test_placed_pose_has_the_target_scale():
    """Round trip: the projection's 2D box size matches the target's (up to perspective)."""
    pose = _poses(256)
    a2d, k = _targets(256)
    _, p2d = gpa_place(pose, a2d, k)
    ratio = box_scale(p2d) / box_scale(a2d)
    assert (ratio.median() - 1).abs() < 0.05
    assert ((ratio - 1).abs() < 0.25).float().mean() > 0.95


def test_intrinsics_order_is_fx_fy_cx_cy():
    """Defect 1 of the released snippet: (cx, cy, fx, fy) documented, (fx, fy, cx, cy) read."""
    pose = _poses(1)
    a2d = torch.tensor([[[0.1, -0.2]] + [[0.3, 0.4]] * 15], dtype=torch.float64)
    k = torch.tensor([[2.0, 1.5, 0.05, -0.4]], dtype=torch.float64)
    root = weak_perspective_root(pose, a2d, k)
    # the root ray goes through (u - cx) / fx, (v - cy) / fy
    torch.testing.assert_close(root[0, :2] / root[0, 2], torch.tensor([(0.1 - 0.05) / 2.0, (-0.2 + 0.4) / 1.5],
                                                                       dtype=torch.float64))


def test_each_sample_uses_its_own_focal_length():
    """Defect 2: the snippet used the first sample's focal length for the whole batch."""
    pose = _poses(1).expand(3, -1, -1).clone()
    a2d, _ = _targets(1)
    a2d = a2d.expand(3, -1, -1).clone()
    k = torch.tensor([[1.0, 1.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0], [4.0, 4.0, 0.0, 0.0]], dtype=torch.float64)
    root = weak_perspective_root(pose, a2d, k)
    torch.testing.assert_close(root[1, 2] / root[0, 2], torch.tensor(2.0, dtype=torch.float64))
    torch.testing.assert_close(root[2, 2] / root[0, 2], torch.tensor(4.0, dtype=torch.float64))
    placed, p2d = gpa_place(pose, a2d, k)
    torch.testing.assert_close(p2d[:, 0], a2d[:, 0])


def test_target_poses_are_drawn_with_their_own_cameras():
    """Defect 3: the snippet shuffled the target 2D without its cameras. Give every target pose
    a distinct camera whose principal point sits on its root: only a pose drawn with its own
    camera places the source root on the optical axis."""
    n = 50
    a2d, k = _targets(n)
    k[:, 2:] = a2d[:, 0]  # cx, cy = the pose's own root
    gpa = GlobalPositionAlignment(a2d, k)
    pose = _poses(400)
    placed, p2d, idx = gpa(pose, torch.Generator().manual_seed(3))
    assert len(torch.unique(idx)) > 30  # a fresh random pairing
    torch.testing.assert_close(placed[:, 0, :2], torch.zeros(400, 2, dtype=torch.float64), atol=1e-9, rtol=0)
    torch.testing.assert_close(p2d[:, 0], a2d[idx, 0])
    # fresh pairings per batch, reproducible from the generator
    _, _, idx2 = gpa(pose, torch.Generator().manual_seed(3))
    _, _, idx3 = gpa(pose, torch.Generator().manual_seed(4))
    assert torch.equal(idx, idx2) and not torch.equal(idx, idx3)


def test_windows_move_rigidly_with_the_centre_frame():
    pose = _poses(8 * 5).reshape(8, 5, 16, 3)
    a2d, k = _targets(8)
    placed, p2d = gpa_place(pose, a2d, k)
    assert placed.shape == (8, 5, 16, 3) and p2d.shape == (8, 5, 16, 2)
    torch.testing.assert_close(p2d[:, 2, 0], a2d[:, 0])
    shift = placed - pose
    torch.testing.assert_close(shift, shift[:, :1, :1].expand_as(shift))


def test_draw_anchors_allows_batches_larger_than_the_target_set():
    idx = draw_anchors(1000, 7, torch.Generator().manual_seed(0))
    assert idx.shape == (1000,) and idx.min() >= 0 and idx.max() < 7


def test_typical_depth_ignores_the_pose_own_extent():
    from poseda.adapt.gpa import gpa_place

    k = torch.tensor([[2.0, 2.0, 0.0, 0.0]]).repeat(2, 1)
    standing = torch.tensor([[0.0, 0.0, 0.0], [0.2, -0.9, 0.0], [-0.2, 0.8, 0.0]])
    crouched = standing * torch.tensor([1.0, 0.5, 1.0])
    anchor = torch.tensor([[[0.1, 0.1], [0.2, -0.3], [0.0, 0.45]]]).repeat(2, 1, 1)
    box, _ = gpa_place(torch.stack([standing, crouched]), anchor, k)
    typical, p2d = gpa_place(torch.stack([standing, crouched]), anchor, k, size=1.05)
    assert box[1, 0, 2] < 0.7 * box[0, 0, 2]  # the paper's rule pulls the crouched pose closer
    assert torch.allclose(typical[0, 0, 2], typical[1, 0, 2])  # the typical rule puts both at one depth
    assert torch.allclose(p2d[:, 0], anchor[:, 0])  # on the anchor's root either way


def test_similar_pairing_picks_the_nearest_shape_among_candidates():
    from poseda.adapt.gpa import most_similar, shape_features

    g = torch.Generator().manual_seed(0)
    cands = torch.randn(4, 8, 5, 2, generator=g)
    src = cands[torch.arange(4), torch.tensor([3, 0, 7, 5])] * 2.5 + 1.0  # the same shapes, moved and scaled
    assert most_similar(src, cands).tolist() == [3, 0, 7, 5]
    assert torch.allclose(shape_features(src), shape_features(src * 3 - 2), atol=1e-5)


def test_ray_orientation_keeps_the_view_of_the_body():
    """``ray``: the pose turns with its viewing ray, so the camera sees it from the angle it had
    in the source (the angle between each bone and the root's ray is kept), while the paper's
    translation keeps its camera-frame orientation; both land on the anchor's root."""
    pose = _poses(64)
    a2d, k = _targets(64)
    moved, m2d = gpa_place(pose, a2d, k)
    turned, p2d = gpa_place(pose, a2d, k, ray=True)
    torch.testing.assert_close(p2d[:, 0], a2d[:, 0])
    off = lambda q2d: (box_scale(q2d) / box_scale(a2d) - 1).abs()  # noqa: E731  (size missed, up to perspective)
    assert off(p2d).median() < 0.06 and off(p2d).median() < 1.5 * off(m2d).median()

    def view(p):  # cosine of each joint's offset from the root against the root's ray
        rel, ray = p - p[:, :1], p[:, :1] / p[:, :1].norm(dim=-1, keepdim=True)
        return (rel * ray).sum(-1) / rel.norm(dim=-1).clamp_min(1e-9)

    torch.testing.assert_close(view(turned)[:, 1:], view(pose)[:, 1:])
    assert (view(moved)[:, 1:] - view(pose)[:, 1:]).abs().max() > 0.05
    rel = lambda p: p - p[:, :1]  # noqa: E731
    torch.testing.assert_close(rel(moved), rel(pose))
    torch.testing.assert_close(rel(turned).norm(dim=-1), rel(pose).norm(dim=-1))  # a rigid turn


def test_ray_orientation_labels_follow_the_turn():
    """The lifter's label under ``ray`` is the turned pose: its projection is the 2D it is fed."""
    pose = _poses(8 * 5).reshape(8, 5, 16, 3)
    a2d, k = _targets(8)
    placed, p2d = gpa_place(pose, a2d, k, ray=True)
    torch.testing.assert_close(project(placed, k[:, None]), p2d)
    torch.testing.assert_close(p2d[:, 2, 0], a2d[:, 0])


def test_ray_orientation_keeps_the_typical_depth_rule():
    """Under ``ray`` with the typical depth rule the pose keeps the typical rule's size (its own
    extent at the typical body's depth), not the anchor's box."""
    pose = _poses(64)
    a2d, k = _targets(64)
    _, moved2d = gpa_place(pose, a2d, k, size=2.0)  # a typical body twice these poses' size: half the box
    _, turned2d = gpa_place(pose, a2d, k, size=2.0, ray=True)
    assert (box_scale(turned2d) / box_scale(moved2d) - 1).abs().median() < 0.1
    assert (box_scale(turned2d) / box_scale(a2d)).median() < 0.7  # not pulled back to the anchor's box
