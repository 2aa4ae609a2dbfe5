"""2D keypoint formats written by common detectors, and their conversion into the lifter layout.

A :class:`KeypointFormat` is data: its joint names and, for each of the 17 Human3.6M joints
(:data:`poseda.skeleton.layouts.H36M17`), the source joints whose mean plays its role, with a
note on each choice. The conversion is one matrix product (batched over any leading shape); a
converted joint's score is the *lowest* score of the joints it is made from, so a joint built from
an unseen hip is itself unseen.

Conversions into Human3.6M-17, joint by joint (the rows of :func:`conversion_table`):

| H36M joint | COCO-17 | OpenPose BODY_25 | MediaPipe / BlazePose 33 | AlphaPose Halpe-26 |
|---|---|---|---|---|
| Pelvis | mean of the hips | MidHip | mean of the hips | hip |
| R/L Hip | hip | hip | hip | hip |
| R/L Knee | knee | knee | knee | knee |
| R/L Ankle | ankle | ankle | ankle | ankle |
| Spine | mean of hips and shoulders | mean of MidHip and Neck | mean of hips and shoulders | mean of hip and neck |
| Thorax | mean of the shoulders | Neck | mean of the shoulders | neck |
| Neck | nose | Nose | nose | nose |
| Head | mean of the eyes | mean of the eyes | mean of the eyes | head (top of the head) |
| shoulders, elbows, wrists | direct | direct | direct | direct |

Human3.6M's Spine sits about half way between pelvis and thorax and its "Neck/Nose" joint near the
nose, so those are close; its Head joint is near the top of the head, which no 2D detector
outputs except Halpe-26 (its ``head`` point): elsewhere the eyes' midpoint is the usual stand-in
and sits a few centimetres lower. OpenPose's
COCO-18 model is converted like COCO-17 with its Neck as the thorax.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from poseda.errors import PosedaInputError
from poseda.registry import Registry
from poseda.skeleton.layouts import H36M17, JointLayout


@dataclass(frozen=True)
class KeypointFormat:
    name: str
    description: str
    joints: tuple[str, ...]
    to_h36m: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def matrix(self) -> np.ndarray:
        """[17, J] averaging weights: row i mixes the source joints of H36M joint i."""
        w = np.zeros((H36M17.num_joints, self.num_joints))
        for i, name in enumerate(H36M17.joints):
            src = self.to_h36m[name]
            for s in src:
                w[i, self.joints.index(s)] += 1.0 / len(src)
        return w

    def definitions(self, layout: JointLayout) -> np.ndarray:
        """[L, L] how this format defines ``layout``'s joints in terms of the others: row ``l``
        rebuilds joint ``l`` from the joints the format builds it from, where every one of them is a
        joint of the layout too (COCO-17's Pelvis is the midpoint of the hips); a joint the format
        gives directly, or from points the layout lacks (the eyes), keeps its own row of the identity.
        Applied to a skeleton's 2D, it gives the 2D this format's conversion would give: what
        ``poseda adapt``'s ``adapt.keypoints`` feeds the lifter in training.

        >>> w = FORMATS["coco17"].definitions(H36M17)
        >>> [H36M17.joints[j] for j in np.flatnonzero(w[H36M17.index("Pelvis")])], float(w[H36M17.index("Head")].sum())
        (['RHip', 'LHip'], 1.0)
        """
        direct = {src[0]: name for name, src in self.to_h36m.items() if len(src) == 1}  # format point -> H36M joint
        w = np.eye(layout.num_joints)
        for i, name in enumerate(layout.joints):
            built = [direct.get(s) for s in self.to_h36m.get(name, (name,))]
            if len(built) > 1 and all(b in layout.joints and b != name for b in built):
                w[i] = 0.0
                for b in built:
                    w[i, layout.index(b)] += 1.0 / len(built)
        return w

    def sources(self) -> np.ndarray:
        """[17, K] indices of each H36M joint's source joints (repeated to width K)."""
        k = max(len(v) for v in self.to_h36m.values())
        return np.array([[self.joints.index(s) for s in (v * k)[:k]] for v in (self.to_h36m[n] for n in H36M17.joints)])

    def to_layout(self, keypoints: np.ndarray, scores: np.ndarray, layout: JointLayout = H36M17
                  ) -> tuple[np.ndarray, np.ndarray]:
        """keypoints [..., J, 2] and scores [..., J] -> the ``layout``'s joints (a subset of
        Human3.6M-17 by name): ([..., L, 2], [..., L]). A missing source joint (NaN position) has
        score 0 and makes every joint built from it score 0."""
        kp = np.asarray(keypoints, np.float64)
        sc = np.where(np.isfinite(kp).all(-1), np.asarray(scores, np.float64), 0.0)
        sc = np.nan_to_num(sc, nan=0.0)
        keep = H36M17.indices(layout.joints)
        w = self.matrix()[keep]
        out = np.einsum("lj,...jc->...lc", w, np.nan_to_num(kp))
        out_sc = sc[..., self.sources()[keep]].min(-1)
        out[out_sc <= 0] = np.nan
        return out, out_sc


def _limbs(fmt_name) -> dict[str, tuple[str, ...]]:
    """The directly mapped limb joints: H36M name -> source name via ``fmt_name(side, part)``."""
    parts = {"Hip": "hip", "Knee": "knee", "Ankle": "ankle", "Shoulder": "shoulder", "Elbow": "elbow", "Wrist": "wrist"}
    out = {}
    for side, word in (("R", "right"), ("L", "left")):
        for h36m, part in parts.items():
            out[side + h36m] = (fmt_name(word, part),)
    return out


COCO17_JOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                 "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
                 "right_knee", "left_ankle", "right_ankle")
COCO17 = KeypointFormat(
    "coco17", "COCO-17 keypoints (detectors trained on COCO: Detectron2, MMPose, ViTPose, AlphaPose, YOLO-pose)",
    COCO17_JOINTS,
    dict(Pelvis=("left_hip", "right_hip"), Spine=("left_hip", "right_hip", "left_shoulder", "right_shoulder"),
         Thorax=("left_shoulder", "right_shoulder"), Neck=("nose",), Head=("left_eye", "right_eye"),
         **_limbs(lambda side, part: f"{side}_{part}")),
)

BODY25_JOINTS = ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip", "RHip",
                 "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar", "LBigToe", "LSmallToe",
                 "LHeel", "RBigToe", "RSmallToe", "RHeel")
_OPENPOSE_LIMBS = _limbs(lambda side, part: side[0].upper() + part.capitalize())
BODY25 = KeypointFormat(
    "body25", "OpenPose BODY_25", BODY25_JOINTS,
    dict(Pelvis=("MidHip",), Spine=("MidHip", "Neck"), Thorax=("Neck",), Neck=("Nose",), Head=("LEye", "REye"),
         **_OPENPOSE_LIMBS),
)

COCO18_JOINTS = ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee",
                 "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar")
COCO18 = KeypointFormat(
    "coco18", "OpenPose COCO-18", COCO18_JOINTS,
    dict(Pelvis=("LHip", "RHip"), Spine=("LHip", "RHip", "Neck", "Neck"), Thorax=("Neck",), Neck=("Nose",),
         Head=("LEye", "REye"), **_OPENPOSE_LIMBS),
)

MEDIAPIPE33_JOINTS = ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
                      "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
                      "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
                      "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
                      "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
                      "left_foot_index", "right_foot_index")
MEDIAPIPE33 = KeypointFormat(
    "mediapipe33", "MediaPipe / BlazePose 33 pose landmarks", MEDIAPIPE33_JOINTS,
    dict(COCO17.to_h36m),
)

HALPE26_JOINTS = COCO17_JOINTS + ("head", "neck", "hip", "left_big_toe", "right_big_toe", "left_small_toe",
                                  "right_small_toe", "left_heel", "right_heel")
HALPE26 = KeypointFormat(
    "halpe26", "Halpe-26 keypoints (AlphaPose's halpe26 models: COCO-17 plus head top, neck, hip and feet)",
    HALPE26_JOINTS,
    dict(COCO17.to_h36m, Pelvis=("hip",), Spine=("hip", "neck"), Thorax=("neck",), Head=("head",)),
)

H36M17_FORMAT = KeypointFormat(
    "h36m17", "Human3.6M 17 joints (the lifters' own order)", H36M17.joints,
    {n: (n,) for n in H36M17.joints},
)

#: name -> keypoint format (the joints of ``--joints``, ``adapt.keypoints`` and the readers)
FORMATS: Registry[KeypointFormat] = Registry("keypoint format", "register_keypoint_format", about=lambda f: f.description)


def register_keypoint_format(fmt: KeypointFormat) -> KeypointFormat:
    """Make ``fmt`` known by its name to ``--joints`` (array files), ``adapt.keypoints`` and
    readers. Each of the 17 Human3.6M joints must be made from joints of the format."""
    if not isinstance(fmt, KeypointFormat):
        raise PosedaInputError("register_keypoint_format", f"{fmt!r} is not a poseda.keypoints.formats.KeypointFormat")
    missing = [n for n in H36M17.joints if not fmt.to_h36m.get(n)]
    problems = [f"no source joints for {', '.join(missing)}"] if missing else []
    problems += [f"{n} is not a Human3.6M joint ({', '.join(H36M17.joints)})" for n in fmt.to_h36m if n not in H36M17.joints]
    problems += [f"{n} is made from {s!r}, not one of its joints" for n, src in fmt.to_h36m.items() for s in src if s not in fmt.joints]
    if len(set(fmt.joints)) != len(fmt.joints):
        problems.append("a joint name repeats")
    if problems:
        raise PosedaInputError("register_keypoint_format", f"format {fmt.name!r}: {'; '.join(problems)}")
    return FORMATS.register(fmt.name, fmt)


for _fmt in (H36M17_FORMAT, COCO17, BODY25, COCO18, MEDIAPIPE33, HALPE26):
    register_keypoint_format(_fmt)


def keypoint_format(name: str, where: str = "--joints") -> KeypointFormat:
    return FORMATS.lookup(name, where)


def conversion_table() -> str:
    """Markdown table: how each Human3.6M joint is made in each format (for the docs)."""
    fmts = [COCO17, BODY25, COCO18, MEDIAPIPE33, HALPE26]
    rows = ["| H36M joint | " + " | ".join(f.name for f in fmts) + " |", "|---" * (len(fmts) + 1) + "|"]
    for n in H36M17.joints:
        cells = []
        for f in fmts:
            src = f.to_h36m[n]
            uniq = list(dict.fromkeys(src))
            cells.append(uniq[0] if len(uniq) == 1 and len(src) == 1 else "mean(" + ", ".join(src) + ")")
        rows.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def keypoints_from_h36m(fmt: KeypointFormat, h36m: np.ndarray, face_px: float = 8.0) -> np.ndarray:
    """Detector-like keypoints in ``fmt`` made from Human3.6M-17 positions [..., 17, 2] (pixels), for
    tests and benchmarks that measure what a format's conversion costs. Limbs are copied; the nose
    is the Neck/Nose joint; eyes sit ``face_px`` left and right of the head joint and ears about
    twice as far; hands and feet points sit on the wrists and ankles; OpenPose's Neck and MidHip
    are the H36M Thorax and Pelvis. The inverse of :meth:`KeypointFormat.to_layout` on the limbs."""
    p = np.asarray(h36m, np.float64)
    j = {n: p[..., i, :] for i, n in enumerate(H36M17.joints)}
    head, off = j["Head"], np.array([face_px, 0.0])
    ear = np.array([2.2 * face_px, 0.5 * face_px])
    named = {"nose": j["Neck"], "left_eye": head + off, "right_eye": head - off, "left_ear": head + ear,
             "right_ear": head + ear * [-1, 1], "neck": j["Thorax"], "mid_hip": j["Pelvis"], "hip": j["Pelvis"], "head": head}
    for side, s in (("left", "L"), ("right", "R")):
        for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            named[f"{side}_{part}"] = j[s + part.capitalize()]
        for extra, base in (("eye_inner", "eye"), ("eye_outer", "eye"), ("pinky", "wrist"), ("index", "wrist"), ("thumb", "wrist"),
                            ("heel", "ankle"), ("foot_index", "ankle"), ("big_toe", "ankle"), ("small_toe", "ankle")):
            named[f"{side}_{extra}"] = named[f"{side}_{base}"]
    named["mouth_left"] = named["mouth_right"] = named["nose"]
    openpose = {"Nose": "nose", "Neck": "neck", "MidHip": "mid_hip", "REye": "right_eye", "LEye": "left_eye", "REar": "right_ear",
                "LEar": "left_ear", "LBigToe": "left_big_toe", "LSmallToe": "left_small_toe", "LHeel": "left_heel",
                "RBigToe": "right_big_toe", "RSmallToe": "right_small_toe", "RHeel": "right_heel"}
    for side, word in (("R", "right"), ("L", "left")):
        for part in ("Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle"):
            openpose[side + part] = f"{word}_{part.lower()}"
    if fmt is H36M17_FORMAT:
        return p.copy()
    return np.stack([named[openpose.get(n, n)] for n in fmt.joints], -2)
