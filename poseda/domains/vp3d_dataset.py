# SPDX-License-Identifier: MIT
# Part of poseda (https://pypi.org/project/poseda/), written for it; copied by
# `poseda data export DOMAIN --format videopose3d` into a VideoPose3D checkout as common/poseda_dataset.py.
"""A VideoPose3D dataset class for any domain that ``poseda data export --format videopose3d``
writes under a name starting with ``poseda`` (``data/data_3d_poseda-NAME.npz`` and
``data/data_2d_poseda-NAME_gt.npz``): its cameras, joints and skeleton come from the files, not
from tables in code, so every domain of poseda's benchmark (``cmu-3dhp``, ``bandai-wild``, your
own) trains and evaluates in VideoPose3D's ``run.py``.

``run.py`` knows three dataset names (``h36m``, ``humaneva*``, ``custom*``). Add this branch
beside them, before its ``else: raise KeyError('Invalid dataset')``::

    elif args.dataset.startswith('poseda'):
        from common.poseda_dataset import PosedaDataset
        dataset = PosedaDataset(dataset_path)

then run ``python run.py $(cat data/poseda-NAME.args) ...`` (the file holds ``-d``, ``-k``, and
the training and test subjects). Each subject of these files is one sequence seen by one camera
(``SEQUENCE/CAMERA``), because VideoPose3D keeps one camera list per subject and every view of
these domains has its own camera.

The class needs only NumPy. It offers what ``run.py``, its generators and its visualisation use:
``subjects()``, ``[subject][action]`` (``positions`` in metres, world frame; ``cameras``),
``cameras()`` (per subject a list of camera dicts in VideoPose3D's conventions: ``orientation``
quaternion w, x, y, z camera-to-world, ``translation`` metres, ``res_w``, ``res_h``, normalised
``center`` and ``focal_length``, ``radial_distortion``, ``tangential_distortion`` and the
9-vector ``intrinsic``), ``skeleton()`` (``parents()``, ``joints_left()``, ``joints_right()``,
``num_joints()``, ``children()``, ``has_children()``), ``fps()`` and ``supports_semi_supervised()``.
"""
import numpy as np


def _quaternion(r):
    """A 3x3 rotation matrix as a unit quaternion (w, x, y, z), w >= 0."""
    r = np.asarray(r, dtype=np.float64)
    m = np.array([[r[0, 0] + r[1, 1] + r[2, 2], r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]],
                  [r[2, 1] - r[1, 2], r[0, 0] - r[1, 1] - r[2, 2], r[0, 1] + r[1, 0], r[0, 2] + r[2, 0]],
                  [r[0, 2] - r[2, 0], r[0, 1] + r[1, 0], r[1, 1] - r[0, 0] - r[2, 2], r[1, 2] + r[2, 1]],
                  [r[1, 0] - r[0, 1], r[0, 2] + r[2, 0], r[1, 2] + r[2, 1], r[2, 2] - r[0, 0] - r[1, 1]]]) / 3.0
    w, v = np.linalg.eigh(m)
    q = v[:, np.argmax(w)]
    return (q if q[0] >= 0 else -q).astype(np.float32)


class PosedaSkeleton:
    """The joint tree of an exported domain (names, parents, left and right joints)."""

    def __init__(self, joints, parents, joints_left, joints_right):
        self._joints = list(joints)
        self._parents = np.asarray(parents, dtype=np.int64)
        self._joints_left = list(joints_left)
        self._joints_right = list(joints_right)
        self._children = [[j for j, p in enumerate(self._parents) if p == i] for i in range(len(self._parents))]

    def num_joints(self):
        return len(self._parents)

    def parents(self):
        return self._parents

    def joints_left(self):
        return self._joints_left

    def joints_right(self):
        return self._joints_right

    def joint_names(self):
        return self._joints

    def children(self):
        return self._children

    def has_children(self):
        return np.array([len(c) > 0 for c in self._children])


class PosedaDataset:
    """``data_3d_poseda-NAME.npz`` as a VideoPose3D ``MocapDataset``."""

    def __init__(self, path, remove_static_joints=True):
        with np.load(path, allow_pickle=True) as f:
            positions = f["positions_3d"].item()
            cameras = f["cameras"].item()
            self.metadata = f["metadata"].item()
        meta = self.metadata
        self._fps = meta["fps"]
        self._skeleton = PosedaSkeleton(meta["joints"], meta["parents"], *meta["keypoints_symmetry"])
        self._cameras = {}
        self._data = {}
        for subject, actions in positions.items():
            self._cameras[subject] = [self._camera(c) for c in cameras[subject]]
            self._data[subject] = {action: {"positions": np.asarray(p, dtype=np.float32), "cameras": self._cameras[subject]}
                                   for action, p in actions.items()}

    @staticmethod
    def _camera(c):
        w, h = (int(v) for v in c["image_size"])
        fx, fy, cx, cy = (float(v) for v in c["intrinsics"])
        k1, k2, k3, p1, p2 = (float(v) for v in c["distortion"])
        cam = {"id": c["id"], "res_w": w, "res_h": h, "azimuth": 0,
               "orientation": _quaternion(c["rotation"]),
               "translation": np.asarray(c["centre"], dtype=np.float32),
               "center": np.array([cx / w * 2 - 1, cy / w * 2 - h / w], dtype=np.float32),
               "focal_length": np.array([fx / w * 2, fy / w * 2], dtype=np.float32),
               "radial_distortion": np.array([k1, k2, k3], dtype=np.float32),
               "tangential_distortion": np.array([p1, p2], dtype=np.float32)}
        cam["intrinsic"] = np.concatenate([cam["focal_length"], cam["center"], cam["radial_distortion"],
                                           cam["tangential_distortion"]])
        return cam

    def __getitem__(self, key):
        return self._data[key]

    def subjects(self):
        return self._data.keys()

    def fps(self):
        return self._fps

    def skeleton(self):
        return self._skeleton

    def cameras(self):
        return self._cameras

    def supports_semi_supervised(self):
        return True
