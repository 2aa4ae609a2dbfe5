"""How well ``poseda.lift.scene`` recovers the camera and the people's places from the people
alone: synthetic scenes of real motion capture (``tests/lift/scenes.py``) with known cameras, 2D
projected and jittered by ``--noise`` px, lifted by the bundled lifter, then estimated.

    POSEDA_CACHE=... python benchmarks/scene_accuracy.py --scenes 12 --noise 1.5

Per scene: camera height error (%), pitch error (degrees), the error of every distance between two
people's mean positions (%), contacts against the motion capture's own (precision, recall), and
sliding: how far each estimated foot moves per frame while the motion capture has it on the ground.
Summaries are medians over scenes (and the worst scene), for each motion source, with the true focal
length given and with the default (image diagonal) instead, and how many scenes meet all four
targets of issue 27: camera height within 10%, pitch within 3 degrees, every distance between
people within 10%, sliding under 2 cm per frame.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from poseda.data.cache import cache_root  # noqa: E402
from poseda.lift.scene import estimate_scene, foot_contacts  # noqa: E402
from poseda.skeleton.layouts import CANONICAL  # noqa: E402
from tests.lift.scenes import clips, lift_scene, make_scene, person_distances  # noqa: E402


def evaluate(truth, noise: float, seed: int, known_focal: bool) -> dict:
    rel, uv, track, frame, joints, k = lift_scene(truth, noise_px=noise, seed=seed, focal_px=truth.focal_px if known_focal else None)
    sc = estimate_scene(rel, uv, track, frame, joints, k, truth.fps, "given" if known_focal else "default")
    est = [sc.joints[track == i][:, 0, :2].mean(0) for i in range(len(truth.world))]
    tru = [w[:, 0, :2].mean(0) for w in truth.world]
    dist = np.abs(person_distances(est) / person_distances(tru) - 1) * 100
    names = tuple(CANONICAL.joints)
    tp = fp = fn = 0
    slide = []
    for i, w in enumerate(truth.world):
        rows = np.flatnonzero(track == i)
        rows = rows[np.argsort(frame[rows])]
        true_c = foot_contacts(w, truth.fps, names)
        est_c = sc.contact[rows]
        tp += int((true_c & est_c).sum())
        fp += int((~true_c & est_c).sum())
        fn += int((true_c & ~est_c).sum())
        for s, name in enumerate(("LAnkle", "RAnkle")):
            p = sc.joints[rows, joints.index(name), :2]
            both = true_c[1:, s] & true_c[:-1, s]
            slide.append(np.linalg.norm(np.diff(p, axis=0), axis=-1)[both])
    slide = np.concatenate(slide) * 100
    return {"height": (sc.height_m / truth.height_m - 1) * 100, "pitch": sc.pitch_deg - truth.pitch_deg, "roll": sc.roll_deg,
            "dist_median": float(np.median(dist)), "dist_max": float(dist.max()),
            "precision": tp / max(tp + fp, 1) * 100, "recall": tp / max(tp + fn, 1) * 100,
            "slide_mean": float(slide.mean()), "slide_median": float(np.median(slide))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=12)
    ap.add_argument("--people", type=int, default=6)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--noise", type=float, default=1.5, help="2D jitter, pixels (standard deviation)")
    ap.add_argument("--cache", default=None)
    args = ap.parse_args()
    cache = cache_root(args.cache)
    sources = {"Human3.6M S9, S11": ("h36m",), "Bandai Namco + CMU": ("bandai-wild", "cmu-3dhp")}
    keys = ["height", "pitch", "roll", "dist_median", "dist_max", "precision", "recall", "slide_mean", "slide_median"]
    print(f"{args.scenes} scenes per row, {args.people} people, {args.frames} frames at 30 fps, 2D jitter {args.noise} px; "
          "medians over scenes [worst scene]")
    print("| motion | focal | height err % | pitch err deg | roll deg | distance err % (median, max) | contact precision / "
          "recall % | sliding cm/frame (mean, median) | scenes meeting all four targets |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, domains in sources.items():
        motions = clips(cache, args.frames, domains)
        rng = np.random.default_rng(2026)
        scenes = []
        while len(scenes) < args.scenes:  # a camera that sees too little floor for everyone is drawn again
            h, p, f = rng.uniform(2.5, 10.0), rng.uniform(8.0, 40.0), rng.uniform(700.0, 2000.0)
            t = make_scene(motions, len(scenes), people=args.people, height_m=h, pitch_deg=p, focal_px=f, image_size=(1280, 720))
            if len(t.world) == args.people:
                scenes.append(t)
        for known in (True, False):
            rows = [evaluate(t, args.noise, i, known) for i, t in enumerate(scenes)]
            m = {k: np.median([r[k] for r in rows]) for k in keys}
            worst = {k: max((r[k] for r in rows), key=abs) for k in keys}
            met = sum(abs(r["height"]) < 10 and abs(r["pitch"]) < 3 and r["dist_max"] < 10 and r["slide_mean"] < 2 for r in rows)
            print(f"| {label} | {'true' if known else 'default (diagonal)'} | {m['height']:+.1f} [{worst['height']:+.1f}] | "
                  f"{m['pitch']:+.2f} [{worst['pitch']:+.2f}] | {m['roll']:+.2f} [{worst['roll']:+.2f}] | "
                  f"{m['dist_median']:.1f}, {m['dist_max']:.1f} [{worst['dist_max']:.1f}] | {m['precision']:.0f} / {m['recall']:.0f} | "
                  f"{m['slide_mean']:.2f}, {m['slide_median']:.2f} [{worst['slide_mean']:.2f}] | {met} of {len(rows)} |")
            sys.stdout.flush()
    print(f"scenes: camera 2.5-10 m high, pitched 8-40 deg down, focal 700-2000 px, 1280x720; command: "
          f"python benchmarks/scene_accuracy.py --scenes {args.scenes} --people {args.people} --frames {args.frames} "
          f"--noise {args.noise}")


if __name__ == "__main__":
    main()
