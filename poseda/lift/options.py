"""The options of the footage commands (``poseda lift``, ``demo``, ``viz``, ``detect``, ``export``):
one object each, which the command line fills from its flags and Python code with keywords
(:mod:`poseda.options`); :mod:`poseda.lift.commands` runs them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Optional

from poseda.errors import PosedaInputError
from poseda.keypoints.options import Focal, Fov, KeypointReading, MaxGap, MinScore, check_camera, check_track_options
from poseda.lift.smoothing import DEMO_SMOOTHING, Smoothing
from poseda.options import Arg, Checkpoint, Device, FlipTest, Force, Opt, Progress, check_at_least_one, check_number

Detector = Annotated[str, Opt("--detector", help="people: every person at any size (NanoDet + MoveNet, bundled); "
                                                 "mediapipe: one close person (MediaPipe Pose).")]
Tiles = Annotated[int, Opt("--tiles", help="With 'people': also search N x N overlapping tiles, for people a few dozen "
                                           "pixels tall in a large frame (slower; 1: the whole frame only).")]
MinConfidence = Annotated[Optional[float], Opt("--min-confidence", help="The detector's confidence a person needs "
                                                                       "(default 0.4 with 'people', 0.5 with 'mediapipe').")]
MaxFrames = Annotated[Optional[int], Opt("--max-frames", help="Stop after this many frames (default: all).")]


@dataclass(kw_only=True)
class LiftOptions:
    """Lift 2D keypoints of your own footage to 3D (metres, camera frame); .bvh writes animation."""

    keypoints: Annotated[Path, Arg("2D keypoints: COCO / OpenPose / MediaPipe / AlphaPose / MMPose JSON (file or folder), "
                                   "VideoPose3D custom .npz, .npz or .csv.")]
    out: Annotated[Path, Opt("--out", "-o", help="Output .json, .npz, .csv (3D in metres, joint names inside), .bvh "
                                                 "(animation) or .trc (OpenSim markers).")]
    checkpoint: Checkpoint = None
    reading: KeypointReading = field(default_factory=KeypointReading)
    absolute: Annotated[bool, Opt("--absolute", help="Also estimate the root's camera-frame position (weak "
                                                     "perspective).")] = False
    flip_test: FlipTest = True
    device: Device = "cpu"
    smoothing: Smoothing = field(default_factory=Smoothing)
    fps: Annotated[float, Opt("--fps", help="Frame rate of the keypoints (for the One-Euro filter and BVH).")] = 30.0
    angles: Annotated[bool, Opt("--angles", help="Add each joint's flexion angle (degrees) to a .csv output.")] = False
    world: Annotated[bool, Opt("--world", help="Put everyone in one world on the ground estimated from them (z up, "
                                               "metres; camera height and pitch, foot contacts).")] = False
    together: Annotated[bool, Opt("--trc-together", help="A .trc output: every person in one file (markers "
                                                         "P<track>_<joint>), not one file each.")] = False
    adapt: Annotated[bool, Opt("--adapt", help="Adapt the lifter to these keypoints first (GPA + LPA from the bundled "
                                               "CMU motion); the adapted lifter is written as OUT-adapted.")] = False
    force: Force = False

    def __post_init__(self):
        self.keypoints, self.out = Path(self.keypoints), Path(self.out)
        check_number(self.fps, "--fps", 0, 10000, low_open=True)


@dataclass(kw_only=True)
class DemoOptions:
    """A video to 3D in one step: detect, track, lift (bundled lifter), smooth, write, render."""

    video: Annotated[Path, Arg("A video (.mp4, .mov, .avi, .mkv, .webm, .m4v).")]
    out: Annotated[Path, Opt("--out", "-o", help="Output folder (default ./poseda-demo).")] = Path("poseda-demo")
    checkpoint: Checkpoint = None
    detector: Detector = "people"
    max_people: Annotated[Optional[int], Opt("--max-people", help="At most this many people per frame (default: 64 with "
                                                                  "'people', 4 with 'mediapipe', whose 1 is its tracking "
                                                                  "mode).")] = None
    tiles: Tiles = 1
    max_frames: MaxFrames = None
    focal: Focal = None
    fov: Fov = None
    smoothing: Smoothing = field(default_factory=lambda: DEMO_SMOOTHING)
    bvh: Annotated[bool, Opt("--bvh", help="Also write each person's motion as BVH (Blender, MotionBuilder, Maya).")] = False
    trc: Annotated[bool, Opt("--trc", help="Also write everyone's joints as OpenSim markers (NAME.trc, metres, Y up).")] = False
    html: Annotated[bool, Opt("--html/--no-html", help="Write NAME.html: the scene in 3D in any browser, offline (orbit, "
                                                       "zoom, play, frame slider).")] = True
    render: Annotated[bool, Opt("--render/--no-render", help="Write the MP4 (2D over the video beside the 3D view).")] = True
    file_format: Annotated[str, Opt("--format", help="The 3D file: json, npz or csv.")] = "json"
    min_confidence: MinConfidence = None
    min_score: MinScore = 0.3
    max_gap: MaxGap = 10
    progress: Progress = True
    device: Device = "cpu"
    world: Annotated[bool, Opt("--world/--no-world", help="Everyone in one world on the ground estimated from the people "
                                                          "(z up, metres), with foot contacts.")] = True
    adapt: Annotated[bool, Opt("--adapt", help="Adapt the lifter to this video's own 2D first (GPA + LPA from the bundled "
                                               "CMU motion; 76 s for a minute of video on 2 cores); writes NAME-adapted, "
                                               "reusable with -c.")] = False
    force: Force = False
    absolute: bool = True  # the root's camera-frame position (the world frame needs it)
    flip_test: bool = True

    def __post_init__(self):
        self.video, self.out = Path(self.video), Path(self.out)
        check_at_least_one(self.max_frames, "--max-frames")
        if self.file_format not in ("json", "npz", "csv"):
            raise PosedaInputError("--format", f"must be json, npz or csv, got {self.file_format!r}")
        check_camera(self.focal, self.fov)
        check_track_options(self.min_score, self.max_gap)
        check_number(self.min_confidence, "--min-confidence", 0, 1)
        if self.max_people is None and self.detector == "mediapipe":
            self.max_people = 4

    @property
    def suffix(self) -> str:
        """The 3D file's suffix."""
        return "." + self.file_format


@dataclass(kw_only=True)
class VizOptions:
    """Draw the 2D input beside the 3D skeleton: a PNG of one frame or a GIF / MP4 of a track."""

    lifted: Annotated[Path, Arg("A 'poseda lift' output (.npz or .json).")]
    out: Annotated[Path, Opt("--out", "-o", help=".png (one frame), .gif or .mp4 (the sequence), or .html (every person "
                                                 "in 3D in a browser: orbit, zoom, play).")]
    frame: Annotated[Optional[int], Opt("--frame", help="Frame number for a .png (default the first).")] = None
    track: Annotated[Optional[int], Opt("--track", help="Which person (default the first track).")] = None
    fps: Annotated[Optional[float], Opt("--fps", help="Frames per second of an animation (default: the lift output's "
                                                      "rate, else 25; divided by --stride).")] = None
    stride: Annotated[int, Opt("--stride", help="Draw every n-th frame of an animation.")] = 1
    max_frames: Annotated[Optional[int], Opt("--max-frames", help="At most this many frames in an animation "
                                                                  "(default: all).")] = None
    force: Force = False

    def __post_init__(self):
        self.lifted, self.out = Path(self.lifted), Path(self.out)
        check_number(self.fps, "--fps", 0, 1000, low_open=True)
        if self.stride < 1 or (self.max_frames is not None and self.max_frames < 1):
            raise PosedaInputError("--stride" if self.stride < 1 else "--max-frames", "must be at least 1")


@dataclass(kw_only=True)
class DetectOptions:
    """Detect every person's 2D keypoints (bundled models, no download; pip install 'poseda[detect]')."""

    source: Annotated[Path, Arg("An image, a folder of images, or a video.")]
    out: Annotated[Path, Opt("--out", "-o", help="Keypoints .json for 'poseda lift' (COCO keypoints with 'people', "
                                                 "MediaPipe's 33 landmarks with 'mediapipe').")]
    detector: Detector = "people"
    every: Annotated[int, Opt("--every", help="Use every n-th frame.")] = 1
    max_frames: MaxFrames = None
    min_confidence: MinConfidence = None
    max_people: Annotated[Optional[int], Opt("--max-people", help="At most this many people per frame (default: 64 with "
                                                                  "'people'; 1 with 'mediapipe', its tracking mode in a "
                                                                  "video).")] = None
    tiles: Tiles = 1
    progress: Annotated[bool, Opt("--progress/--no-progress", help="A progress bar.")] = True
    force: Force = False

    def __post_init__(self):
        self.source, self.out = Path(self.source), Path(self.out)
        check_at_least_one(self.every, "--every")
        check_at_least_one(self.max_frames, "--max-frames")
        check_number(self.min_confidence, "--min-confidence", 0, 1)


@dataclass(kw_only=True)
class OnnxOptions:
    """Export a lifter to ONNX (dynamic batch; joint names and input normalisation in its metadata)."""

    checkpoint: Checkpoint = None
    onnx_path: Annotated[Path, Opt("--onnx", help="The .onnx file to write.")]
    check: Annotated[bool, Opt("--check/--no-check", help="Compare with PyTorch through onnxruntime.")] = True
    force: Force = False

    def __post_init__(self):
        self.onnx_path = Path(self.onnx_path)
        if self.onnx_path.suffix.lower() != ".onnx":
            raise PosedaInputError(self.onnx_path, "the ONNX file must end in .onnx")


__all__ = ["LiftOptions", "DemoOptions", "VizOptions", "DetectOptions", "OnnxOptions"]
