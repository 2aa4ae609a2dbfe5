"""The universal-skeleton convention of MPI-INF-3DHP's protocol A, for any target domain.

MPI-INF-3DHP's protocol-A ground truth (``univ_annot3``) is every subject's 3D rescaled to the
height of a universal (Human3.6M) skeleton, so its headline MPJPE does not count body size; the
2D inputs are unchanged. :func:`universal_poses` applies the same rule to any evaluation split:

- a subject's *height* is the sum of the median lengths of the bones along its body: ankle-knee
  and knee-hip (the mean of both sides), the pelvis above the hips' midpoint, pelvis-spine,
  spine-thorax and thorax-head (:func:`skeleton_height`). Bone lengths do not depend on the pose,
  so the height does not either;
- the reference height is Human3.6M's, measured the same way on its training split
  (:data:`HUMAN36M_HEIGHT_M`, 1.564 m);
- every subject's ground-truth 3D is scaled about its root joint by reference / own height.
  Predictions are compared with it unchanged.

A "subject" is what the domain's views call one (an actor, or for the built-in 3DHP-style
targets a motion clip or style, each performed by one actor). Joint definitions enter the height
(CMU's pelvis sits 10 cm above its hips, Bandai Namco's head joint is the base of the skull), as
they enter MPI-INF-3DHP's own rescaling.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from poseda.data.domain import Poses
from poseda.skeleton.layouts import JointLayout

CHAIN = (("LAnkle", "LKnee"), ("LKnee", "LHip"), ("RAnkle", "RKnee"), ("RKnee", "RHip"), ("Pelvis", "Spine"),
         ("Spine", "Thorax"), ("Thorax", "Head"))


def skeleton_height(joints3d: np.ndarray, layout: JointLayout) -> float:
    """The body height of poses [N, J, 3] in ``layout`` (metres) from the median lengths of the
    bones of :data:`CHAIN`, legs averaged over both sides, plus the pelvis's height above the hips'
    midpoint (pelvis-thorax directly for a layout without a spine joint).

    >>> from poseda.skeleton.layouts import H36M17
    >>> p = np.zeros((1, 17, 3))
    >>> for name, y in [("LAnkle", 0.9), ("RAnkle", 0.9), ("LKnee", 0.5), ("RKnee", 0.5), ("Spine", -0.25),
    ...                 ("Thorax", -0.5), ("Head", -0.7)]:
    ...     p[0, H36M17.index(name), 1] = y
    >>> p[0, H36M17.index("LHip"), 0], p[0, H36M17.index("RHip"), 0] = 0.1, -0.1
    >>> round(skeleton_height(p, H36M17), 3)  # legs 0.4 + 0.51, torso 0.25 + 0.25 + 0.2
    1.61
    """
    j = np.asarray(joints3d, np.float64)
    ix = layout.index

    def bone(a, b):
        return float(np.nanmedian(np.linalg.norm(j[:, ix(a)] - j[:, ix(b)], axis=-1)))

    legs = (bone("LAnkle", "LKnee") + bone("LKnee", "LHip") + bone("RAnkle", "RKnee") + bone("RKnee", "RHip")) / 2
    mid = (j[:, ix("LHip")] + j[:, ix("RHip")]) / 2
    pelvis = float(np.nanmedian(np.linalg.norm(j[:, ix("Pelvis")] - mid, axis=-1)))
    spine = bone("Pelvis", "Spine") + bone("Spine", "Thorax") if "Spine" in layout.joints else bone("Pelvis", "Thorax")
    return legs + pelvis + spine + bone("Thorax", "Head")


#: Human3.6M's height by :func:`skeleton_height`, measured on the built-in ``h36m`` domain's training
#: split (S1 S5 S6 S7 S8, every frame); tests/data/test_universal.py measures it again. All subjects of
#: the exponential-map copy share one skeleton; the chain's joints that span several bones of it
#: (pelvis-spine) bend a little with the pose, which moves one subject's value by up to 2.4%.
HUMAN36M_HEIGHT_M = 1.5636


def reference_height() -> float:
    """The height every subject is scaled to: :data:`HUMAN36M_HEIGHT_M`."""
    return HUMAN36M_HEIGHT_M


def universal_poses(poses: Poses, reference: float | None = None) -> Poses:
    """``poses`` with every subject's 3D scaled about its root to the reference height (see the
    module doc); the 2D, cameras and everything else unchanged, and the protocol says so. Poses
    that carry a dataset's own universal ground truth (``joints3d_universal``: MPI-INF-3DHP's
    ``univ_annot3``) get that instead, unless a ``reference`` height is asked for."""
    if poses.joints3d_universal is not None and reference is None:  # the dataset's own (MPI-INF-3DHP's univ_annot3)
        rule = poses.protocol.get("universal_ground_truth", "the dataset's own universal-skeleton ground truth")
        return replace(poses, joints3d=np.asarray(poses.joints3d_universal, poses.joints3d.dtype),
                       protocol=dict(poses.protocol, skeleton=f"universal ({rule})"))
    reference = reference_height() if reference is None else reference
    out = np.array(poses.joints3d, np.float64, copy=True)
    root = out[:, :1]
    scales = {}
    for subject in np.unique(poses.subject):
        rows = poses.subject == subject
        height = skeleton_height(out[rows], poses.layout)
        scales[str(subject)] = reference / height
        out[rows] = root[rows] + (out[rows] - root[rows]) * scales[str(subject)]
    protocol = dict(poses.protocol, skeleton=f"universal (each subject scaled to Human3.6M's height, {reference:.3f} m)",
                    universal_scales=scales)
    return replace(poses, joints3d=out.astype(poses.joints3d.dtype), protocol=protocol)
