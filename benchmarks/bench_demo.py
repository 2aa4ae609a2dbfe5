"""Where the time of ``poseda demo`` goes: frames per second of each stage on a 30 s 720p clip.

    python benchmarks/bench_demo.py [--seconds 30] [--runs 3] [--max-people 1 4] [-c CHECKPOINT]

The clip is made here: a drawn mannequin (the one the detector tests use) walking across a
1280x720 picture at 30 fps, H.264. For each ``--max-people`` setting the whole demo (detect,
track + lift + smooth + write, render) runs ``--runs`` times with the bundled lifter (or
``-c``); printed are the median seconds and frames per second of each stage and each stage's
share of the whole. Two references are timed once per run as well: decoding the clip alone
(OpenCV) and MediaPipe alone on the decoded frames, so detection's own cost can be told from
reading the video.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from poseda.lift.demo import run_demo  # noqa: E402
from poseda.lift.options import DemoOptions  # noqa: E402
from poseda.lift.smoothing import Smoothing  # noqa: E402
from tests.lift.helpers import STANDING, render_mannequin  # noqa: E402

SIZE = (1280, 720)


def make_clip(path: Path, seconds: float, fps: int = 30) -> Path:
    import imageio_ffmpeg

    n = int(seconds * fps)
    poses = []
    for k in range(24):  # one stride of a walk, drawn once and reused
        p = STANDING.copy() * 1.1 + [200, -20]
        swing = 25 * np.sin(2 * np.pi * k / 24)
        p[[2, 3], 0] += swing
        p[[5, 6], 0] -= swing
        p[[13], 0] -= swing
        p[[16], 0] += swing
        poses.append(p)
    frames = [render_mannequin(p, size=SIZE) for p in poses]
    w = imageio_ffmpeg.write_frames(str(path), SIZE, fps=fps, macro_block_size=16, output_params=["-preset", "veryfast"])
    w.send(None)
    for t in range(n):
        shift = int(600 * t / n)  # walks 600 px across the picture
        w.send(np.ascontiguousarray(np.roll(frames[t % 24], shift, axis=1)))
    w.close()
    return path


def decode_only(path: Path) -> tuple[float, list]:
    import cv2

    t = time.perf_counter()
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return time.perf_counter() - t, frames


def mediapipe_only(frames: list, tracking: bool) -> float:
    import cv2
    import mediapipe as mp

    with mp.solutions.pose.Pose(static_image_mode=not tracking, model_complexity=1) as pose:
        t = time.perf_counter()
        for f in frames:
            pose.process(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-people", type=int, nargs="+", default=[1, 4])
    ap.add_argument("-c", "--checkpoint", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        clip = make_clip(tmp / "clip.mp4", args.seconds)
        print(f"clip: {SIZE[0]}x{SIZE[1]}, 30 fps, {args.seconds:g} s, made in {time.perf_counter() - t:.0f} s")
        dec, frames = decode_only(clip)
        n = len(frames)
        print(f"decode alone (OpenCV): {dec:.1f} s, {n / dec:.0f} frames/s")
        for people in args.max_people:
            mp_s = mediapipe_only(frames, tracking=people == 1)
            print(f"\n--max-people {people}: MediaPipe alone on the decoded frames ({'tracking' if people == 1 else 'static'} "
                  f"mode, one pass per frame): {mp_s:.1f} s, {n / mp_s:.0f} frames/s")
            runs = []
            for r in range(args.runs):
                res = run_demo(DemoOptions(video=clip, out=tmp / f"out{people}-{r}", checkpoint=args.checkpoint,
                                           max_people=people, detector="mediapipe", smoothing=Smoothing("savgol"), bvh=True,
                                           progress=False))
                runs.append(res.seconds)
            stages = list(runs[0])
            med = {s: statistics.median(r[s] for r in runs) for s in stages}
            total = sum(med.values())
            print(f"| stage | median s of {args.runs} | frames/s | share |")
            print("|---|---|---|---|")
            for s in stages:
                print(f"| {s} | {med[s]:.2f} | {n / med[s]:.0f} | {100 * med[s] / total:.1f}% |")
            print(f"| whole | {total:.2f} | {n / total:.1f} | 100% |")
            lifted = res.lifted
            print(f"lifted {len(lifted)} frames of {len(lifted.people())} person(s); "
                  f"lift + smoothing + BVH share: {100 * (med['lift'] + med.get('bvh', 0)) / total:.1f}%")
        del frames


if __name__ == "__main__":
    main()
