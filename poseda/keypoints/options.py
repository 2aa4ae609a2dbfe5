"""How keypoint files are read, which camera saw them and how people are tracked: the option
group that ``poseda lift`` and ``poseda data footage`` share (:mod:`poseda.options`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Optional

from poseda.errors import PosedaInputError
from poseda.options import Opt, check_number, parse_pair

#: the most frames a person may be missing inside one track
MAX_GAP = 10000

Focal = Annotated[Optional[float], Opt("--focal", help="Focal length in pixels (default: the image diagonal).")]
Fov = Annotated[Optional[float], Opt("--fov", help="Horizontal field of view in degrees, instead of --focal.")]
MinScore = Annotated[float, Opt("--min-score", help="Joints scored below this are missing and filled in time.")]
MaxGap = Annotated[int, Opt("--max-gap", help="Frames a person may be undetected before the track ends.")]


def check_track_options(min_score: float, max_gap: int, min_frames: int = 1) -> None:
    """Refuse tracking options out of range, naming the command-line option (callers check before
    reading any file; :func:`poseda.keypoints.tracks.build_tracks` checks again for library use)."""
    if not 0 <= min_score <= 1:  # also refuses NaN
        raise PosedaInputError("--min-score", f"must be between 0 and 1, got {min_score}")
    if not 0 <= max_gap <= MAX_GAP:
        raise PosedaInputError("--max-gap", f"must be 0 or more frames, at most {MAX_GAP}, got {max_gap}")
    if min_frames < 1:
        raise PosedaInputError("min_frames", f"must be 1 or more, got {min_frames}")


def check_camera(focal: float | None, fov: float | None) -> None:
    check_number(focal, "--focal", 0, 1e6, low_open=True)
    check_number(fov, "--fov", 0, 179, low_open=True)


@dataclass
class KeypointReading:
    """The keypoint files' format and joint order, the camera's intrinsics, and the tracking."""

    file_format: Annotated[str, Opt("--format", help="auto, coco (also AlphaPose), openpose, mediapipe, mmpose, "
                                                     "videopose3d (data_2d_custom npz), npz, csv, or one a plugin "
                                                     "registers ('poseda methods' lists them).")] = "auto"
    joints: Annotated[Optional[str], Opt("--joints", help="Joint order of .npz / .csv arrays: h36m17 (default), "
                                                          "coco17, body25, coco18, mediapipe33, halpe26, or one a "
                                                          "plugin registers.")] = None
    image_size: Annotated[Optional[tuple[int, int]], Opt("--image-size", cli=str, help="WIDTHxHEIGHT in pixels (when the "
                                                         "keypoint files do not say).")] = None
    focal: Focal = None
    fov: Fov = None
    center: Annotated[Optional[tuple[float, float]], Opt("--center", cli=str, help="Principal point cx,cy in pixels "
                                                                                  "(default: image centre).")] = None
    min_score: MinScore = 0.3
    max_gap: MaxGap = 10

    def __post_init__(self):
        size = parse_pair(self.image_size, "--image-size")
        check_camera(self.focal, self.fov)
        check_track_options(self.min_score, self.max_gap)
        self.image_size = (int(size[0]), int(size[1])) if size else None
        self.center = parse_pair(self.center, "--center", -1e5, 1e5)


__all__ = ["KeypointReading", "Focal", "Fov", "MinScore", "MaxGap", "MAX_GAP", "check_camera", "check_track_options"]
