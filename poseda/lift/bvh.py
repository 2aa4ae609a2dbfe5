"""Lifted 3D as BVH motion for animation tools, and joint angles for biomechanics.

**The BVH skeleton.** One hierarchy per person, the lifter's own joints and parents (for the
bundled lifter: Human3.6M's 16 joints, Pelvis the root), in **centimetres, y up**, the person
facing +z in the rest pose, which is a T-pose: legs straight down, spine, neck and head straight
up, hips and shoulders sideways, arms out sideways (the person's right on -x). Bone lengths are
each bone's median length over the track, constant in every frame. Every joint has the channels
``Zrotation Xrotation Yrotation`` (degrees, the order CMU's and Bandai Namco's files use), the
root also ``Xposition Yposition Zposition``. Blender's importer (File > Import > Motion Capture
(.bvh)), Autodesk MotionBuilder and Maya, and most retargeting tools read this layout.

**From positions to rotations** (batched over frames; no per-frame Python loop). Axes: the
camera frame (x right, y down, z forward) becomes x, -y, -z. For a joint with one child the
rotation is the smallest one that turns its parent's frame so the rest bone points along the
observed bone (no twist is invented); for a joint with several children (the pelvis, the thorax)
it is the least-squares rotation (Kabsch) of its rest bones onto the observed ones. Leaves keep
their parent's rotation. So the file reproduces every bone's direction exactly where a joint has
one child, and within the fit where a joint has several (the pelvis's spine bone against its hip
line, the thorax's neck against its shoulders, which the rest pose holds rigid); how far the
read-back positions are from the lifted ones is measured in the tests and docs.

**Root.** In the scene's world (``poseda lift --world``, the demo) every person moves on the
estimated floor (y = 0 is the ground; the world's z up becomes y up, its y becomes -z), all in one
frame. Else, with an absolute root (``poseda lift --absolute``) the root moves as estimated in the
camera frame; else the root stays above the origin at a height that puts the track's lowest joint
on the floor (y = 0).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from poseda.errors import PosedaInputError

ROTATION_CHANNELS = "Zrotation Xrotation Yrotation"
CM = 100.0
END_SITE_CM = 5.0


def _to_yup(p: np.ndarray) -> np.ndarray:
    """Camera frame (x right, y down, z forward) metres -> y-up centimetres (x, -y, -z)."""
    return np.asarray(p, np.float64) * np.array([1.0, -1.0, -1.0]) * CM


def rest_direction(name: str) -> np.ndarray:
    """The T-pose direction of the bone that ends at joint ``name`` (y up, facing +z, the
    person's right on -x)."""
    n = name.lower()
    side = -1.0 if name[:1] == "R" else 1.0 if name[:1] == "L" else 0.0
    if side and any(k in n for k in ("hip", "shoulder", "elbow", "wrist", "hand", "clavicle")):
        return np.array([side, 0.0, 0.0])
    if any(k in n for k in ("knee", "ankle", "foot", "toe", "heel")):
        return np.array([0.0, -1.0, 0.0])
    return np.array([0.0, 1.0, 0.0])


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[..., 3, 3] the smallest rotations taking unit vectors a onto unit vectors b."""
    v = np.cross(a, b)
    c = np.sum(a * b, -1)[..., None, None]
    k = np.zeros(v.shape[:-1] + (3, 3))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 0] = -v[..., 2], v[..., 1], v[..., 2]
    k[..., 1, 2], k[..., 2, 0], k[..., 2, 1] = -v[..., 0], -v[..., 1], v[..., 0]
    eye = np.broadcast_to(np.eye(3), k.shape)
    r = eye + k + k @ k / np.maximum(1.0 + c, 1e-9)
    # opposite vectors: a half turn about any axis perpendicular to a
    opp = (c[..., 0, 0] < -1 + 1e-9)
    if opp.any():
        axis = np.cross(a[opp], np.array([1.0, 0.0, 0.0]))
        small = np.linalg.norm(axis, axis=-1) < 1e-6
        axis[small] = np.cross(a[opp][small], np.array([0.0, 1.0, 0.0]))
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        r[opp] = 2 * axis[..., :, None] * axis[..., None, :] - np.eye(3)
    return r


def _kabsch(rest: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """[T, 3, 3] rotations R minimising sum |R rest_k - seen_k|^2; rest [K, 3], seen [T, K, 3]."""
    h = np.einsum("ki,tkj->tij", rest, seen)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    fix = np.ones(u.shape[:-2] + (3,))
    fix[..., 2] = d
    return np.swapaxes(vt, -1, -2) @ (fix[..., :, None] * np.swapaxes(u, -1, -2))


def bvh_skeleton(parents: tuple[int, ...], names: tuple[str, ...]) -> tuple[list[str], list[int], list[int]]:
    """The BVH hierarchy of a joint layout: its joints, plus a zero-length *link* joint between a
    joint with several children and each of them (named ``<parent>To<child>``, like CMU's
    ``LHipJoint``), so every bone has a rotation of its own and the file reproduces every bone's
    direction. Returns (names, parent of each, the layout joint each sits on)."""
    nj = len(names)
    kids = [sum(1 for c in range(nj) if parents[c] == j) for j in range(nj)]
    out_names, out_parents, src, node = [], [], [], {}
    for j in range(nj):
        p = parents[j]
        parent = -1 if p < 0 else node[p]
        if p >= 0 and kids[p] >= 2:
            out_names.append(f"{names[p]}To{names[j]}")
            out_parents.append(node[p])
            src.append(p)
            parent = len(out_names) - 1
        node[j] = len(out_names)
        out_names.append(names[j])
        out_parents.append(parent)
        src.append(j)
    return out_names, out_parents, src


def solve_rotations(joints: np.ndarray, parents: tuple[int, ...], names: tuple[str, ...]
                    ) -> tuple[list[str], list[int], np.ndarray, np.ndarray]:
    """joints [T, J, 3] (y up, centimetres) -> the BVH hierarchy (names, parents), rest offsets
    [N, 3] and local rotations [T, N, 3, 3] of its N joints (:func:`bvh_skeleton`). Offsets use
    each bone's median length; see the module doc for the rule per joint."""
    t = len(joints)
    bnames, bparents, src = bvh_skeleton(parents, names)
    n = len(bnames)
    link = [bnames[k] != names[src[k]] for k in range(n)]
    children = [[c for c in range(n) if bparents[c] == k] for k in range(n)]
    # the layout joint a node's bone leads to: itself, or through a link, the link's child
    end = [children[k][0] if link[k] else k for k in range(n)]
    offsets = np.zeros((n, 3))
    for k in range(1, n):
        if not link[k]:
            j = src[k]
            length = np.median(np.linalg.norm(joints[:, j] - joints[:, parents[j]], axis=-1))
            offsets[k] = rest_direction(names[j]) * length
    glob = np.zeros((t, n, 3, 3))
    local = np.zeros((t, n, 3, 3))
    for k in range(n):  # parents come before children
        parent = glob[:, bparents[k]] if bparents[k] >= 0 else np.broadcast_to(np.eye(3), (t, 3, 3))
        kids = children[k]
        if not kids:
            g = parent
        else:
            ends = [src[end[c]] for c in kids]
            seen = joints[:, ends] - joints[:, src[k]][:, None]
            seen = seen / np.maximum(np.linalg.norm(seen, axis=-1, keepdims=True), 1e-9)
            rest = np.stack([rest_direction(names[e]) for e in ends])
            if len(kids) == 1:
                carried = np.einsum("tij,j->ti", parent, rest[0])
                g = _rotation_between(carried, seen[:, 0]) @ parent
            else:
                g = _kabsch(rest, seen)
        glob[:, k] = g
        local[:, k] = np.swapaxes(parent, -1, -2) @ g
    return bnames, bparents, offsets, local


def bvh_text(joints3d: np.ndarray, parents: tuple[int, ...], names: tuple[str, ...], fps: float,
             root: np.ndarray | None = None, world: bool = False) -> str:
    """BVH text for one track: ``joints3d`` [T, J, 3] root-relative metres in the camera frame,
    ``root`` [T, 3] its absolute camera-frame position or None (see the module doc); with
    ``world``, ``joints3d`` are absolute positions in a z-up world (metres), kept as they are."""
    from scipy.spatial.transform import Rotation

    joints3d = np.asarray(joints3d, np.float64)
    if joints3d.ndim != 3 or joints3d.shape[-1] != 3 or len(joints3d) == 0:
        raise PosedaInputError("bvh", f"needs [frames, joints, 3] positions, got shape {joints3d.shape}")
    if not np.isfinite(joints3d).all():
        bad = sorted({names[j] for j in np.nonzero(~np.isfinite(joints3d).all(-1))[1]})
        raise PosedaInputError("bvh", f"joint(s) {', '.join(bad)} are missing in some frames: a BVH needs every joint in "
                                      "every frame")
    if not (0 < fps <= 10000):
        raise PosedaInputError("--fps", f"must be above 0 and at most 10000, got {fps}")
    if [j for j in range(len(parents)) if parents[j] < 0] != [0] or any(parents[j] >= j for j in range(1, len(parents))):
        raise PosedaInputError("bvh", "the joint layout must be one tree rooted at its first joint")
    if world:  # z-up world metres -> y-up centimetres: (x, z, -y), a proper rotation; kept where it is
        p = joints3d[..., [0, 2, 1]] * np.array([1.0, 1.0, -1.0]) * CM
    else:
        p = _to_yup(joints3d)
        if root is not None:
            base = _to_yup(root)
        else:
            base = np.zeros((len(p), 3))
            base[:, 1] = -(p[..., 1] - p[:, :1, 1]).min()
        p = p - p[:, :1] + base[:, None]
    bnames, bparents, offsets, local = solve_rotations(p, parents, names)
    n = len(bnames)
    euler = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_euler("ZXY", degrees=True).reshape(len(p), n, 3)
    children = [[c for c in range(n) if bparents[c] == k] for k in range(n)]
    lines = ["HIERARCHY"]
    order: list[int] = []

    def emit(k: int, depth: int) -> None:
        order.append(k)
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if bparents[k] < 0 else 'JOINT'} {bnames[k]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {offsets[k, 0]:.6f} {offsets[k, 1]:.6f} {offsets[k, 2]:.6f}")
        lines.append(f"{pad}  CHANNELS {'6 Xposition Yposition Zposition ' if bparents[k] < 0 else '3 '}{ROTATION_CHANNELS}")
        for c in children[k]:
            emit(c, depth + 1)
        if not children[k]:
            e = rest_direction(bnames[k]) * END_SITE_CM
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {e[0]:.6f} {e[1]:.6f} {e[2]:.6f}", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {len(p)}", f"Frame Time: {1.0 / fps:.8f}"]
    values = np.concatenate([p[:, 0], euler[:, order].reshape(len(p), -1)], 1)
    body = "\n".join(" ".join(f"{v:.5f}" for v in row) for row in values)
    return "\n".join(lines) + "\n" + body + "\n"


def joint_angles(joints3d: np.ndarray, parents: tuple[int, ...], names: tuple[str, ...]
                 ) -> tuple[list[str], np.ndarray]:
    """The flexion angle at every joint with a parent and exactly one child: 180 degrees minus
    the angle between the bone into the joint and the bone out of it (0 = straight, e.g. a
    straight knee or elbow). joints3d [..., J, 3] -> (column names, [..., K] degrees)."""
    p = np.asarray(joints3d, np.float64)
    nj = len(names)
    cols, vals = [], []
    for j in range(nj):
        kids = [c for c in range(nj) if parents[c] == j]
        if parents[j] < 0 or len(kids) != 1:
            continue
        a = p[..., parents[j], :] - p[..., j, :]
        b = p[..., kids[0], :] - p[..., j, :]
        cos = np.sum(a * b, -1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)
        cols.append(f"{names[j]}_flexion_deg")
        vals.append(180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return cols, np.stack(vals, -1) if vals else np.zeros(p.shape[:-2] + (0,))


def bvh_paths(lifted, path: Path) -> dict[tuple[int, int], Path]:
    """Where each person's BVH goes: ``path`` itself for one person, else ``STEM-person<track>``
    (and ``-<segment>`` for a later part of a track) beside it; the TRC files are named alike.
    ``lifted`` is a :class:`~poseda.lift.lifting.Lifted`."""
    people = lifted.people()
    if len(people) == 1:
        return {people[0]: path}
    return {(tr, seg): path.with_name(f"{path.stem}-person{tr}{f'-{seg}' if seg else ''}{path.suffix}") for tr, seg in people}
