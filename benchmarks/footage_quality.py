"""``--adapt`` on real footage, where no 3D truth exists: the measures a user can check
(:mod:`poseda.lift.quality`) before and after adapting, for each bundled lifter.

    python benchmarks/footage_quality.py --footage DIR [--lifters default open] [--seeds 0] [--cmu-pelvis]

DIR holds real clips that nobody here made (the three of ``benchmarks/people_boxes.json``, which
says where to get each and its licence: OpenCV's ``vtest.avi``, Sports2D's ``demo.mp4`` saved as
``sports2d_demo.mp4``, Pose2Sim's ``pose2sim_multiperson_cam01.mp4``). Each clip is detected once
(``poseda detect``'s default people detector), then, per lifter, lifted as ``poseda demo`` lifts it
(savgol smoothing, one world, default camera: the clips' lenses are not known) without adapting,
and again after :func:`poseda.adapt.footage.adapt_to_keypoints` on the clip's own keypoints with
the default schedule. Printed: a markdown table of bone-length variation (median over bones and
tracks), reprojection (median, share of the body's 2D height), foot sliding in contact and
jitter, with the adaptation's time; ``worse`` names the measures ``poseda demo --adapt`` would
have refused (more than 1.5 times the un-adapted value and by a noticeable amount,
:func:`poseda.lift.quality.clearly_worse`).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from poseda.adapt.footage import NotAdapted, adapt_to_keypoints  # noqa: E402
from poseda.errors import PosedaInputError  # noqa: E402
from poseda.keypoints.detect import detect_keypoints, video_info  # noqa: E402
from poseda.lift.lifting import lift_file  # noqa: E402
from poseda.lift.options import LiftOptions  # noqa: E402
from poseda.lift.quality import clearly_worse  # noqa: E402
from poseda.lift.smoothing import DEMO_SMOOTHING  # noqa: E402

CLIPS = ("vtest.avi", "sports2d_demo.mp4", "pose2sim_multiperson_cam01.mp4")
KEYS = ("bone_length_cv_median", "reprojection_of_height_median", "foot_sliding_cm_median", "jitter_ms2_median")


def quality(checkpoint, keypoints: Path, out: Path, fps: float) -> dict:
    options = LiftOptions(keypoints=keypoints, out=out, checkpoint=checkpoint, smoothing=DEMO_SMOOTHING, fps=fps,
                          absolute=True, world=True)
    try:
        lifted, _ = lift_file(options)
    except PosedaInputError as e:  # no ground under these people: the camera frame, as the demo does
        if e.where != "--world":
            raise
        lifted, _ = lift_file(replace(options, world=False, force=True))
    return lifted.meta["quality"]


def cells(q: dict) -> str:
    def f(k, scale=1.0, digits=1):
        return "-" if q.get(k) is None else f"{scale * q[k]:.{digits}f}"

    return (f"{f('bone_length_cv_median', 100)}% | {f('reprojection_of_height_median', 100)}% | "
            f"{f('foot_sliding_cm_median')} | {f('jitter_ms2_median')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--footage", type=Path, required=True)
    ap.add_argument("--clips", nargs="+", default=list(CLIPS))
    ap.add_argument("--lifters", nargs="+", default=["default", "open"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--cmu-pelvis", action="store_true", help="keep the source motion's own pelvis (as before the change)")
    args = ap.parse_args()
    print("protocol: real clips, no 3D truth; people detector; lifted as poseda demo (savgol 17, world, default camera,"
          " flip test on); medians over tracks of >= 10 frames")
    print("| clip | lifter | bone length CV | reprojection (of height) | foot sliding cm/frame | jitter m/s^2 | adapt s | worse |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for clip in args.clips:
            video = args.footage / clip
            if not video.is_file():
                sys.exit(f"{video}: not found (benchmarks/people_boxes.json says where to get it)")
            fps, _, _ = video_info(video)
            kp = tmp / f"{video.stem}.keypoints.json"
            detect_keypoints(video, kp)
            for lifter in args.lifters:
                before = quality(lifter, kp, tmp / f"{video.stem}-{lifter}.json", fps)
                print(f"| {clip} | {lifter} | {cells(before)} | - | |", flush=True)
                for seed in args.seeds:
                    t = time.perf_counter()
                    try:
                        done = adapt_to_keypoints(kp, lifter, tmp / f"work-{video.stem}-{lifter}-{seed}", fps=fps, seed=seed,
                                                  mid_hips=not args.cmu_pelvis)
                    except NotAdapted as e:
                        print(f"| {clip} | {lifter} + --adapt (seed {seed}) | not adapted: {e.problem} | | | | | |", flush=True)
                        continue
                    seconds = time.perf_counter() - t
                    after = quality(done.checkpoint, kp, tmp / f"{video.stem}-{lifter}-{seed}-adapted.json", fps)
                    worse = [k.split("_median")[0] for k in clearly_worse(before, after)]
                    print(f"| {clip} | {lifter} + --adapt (seed {seed}, {done.epochs} x {done.samples:,}) | {cells(after)} | "
                          f"{seconds:.0f} | {', '.join(worse) or 'none'} |", flush=True)


if __name__ == "__main__":
    main()
