"""The cost of GPA's placement under each orientation rule, per batch.

    python benchmarks/bench_gpa.py [--batch 256] [--repeats 7] [--threads 1]

Times :func:`poseda.adapt.gpa.gpa_place` on random camera-frame poses (16 joints), single frames
and 27-frame windows, with the paper's rule (``gpa.orientation=camera``: a translation) and with
``ray`` (a turn about the camera centre, a translation and one size correction). Prints the median
of ``--repeats`` timings of 200 calls each, and the ratio, measured in one run.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from poseda.adapt.gpa import gpa_place


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    b = args.batch
    anchors = torch.rand(b, 16, 2, generator=g) * 0.4 - 0.2
    k = torch.tensor([[2.2, 2.2, 0.01, -0.02]]).repeat(b, 1)
    print("| input | paper (camera), ms | ray, ms | ray / paper |")
    print("|---|---|---|---|")
    for name, shape in [("single frames", (b, 16, 3)), ("27-frame windows", (b, 27, 16, 3))]:
        pose = torch.randn(*shape, generator=g) * 0.3 + torch.tensor([0.2, -0.3, 4.5])
        ms = {}
        for ray in (False, True):
            runs = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                for _ in range(200):
                    gpa_place(pose, anchors, k, ray=ray)
                runs.append((time.perf_counter() - t) / 200 * 1e3)
            ms[ray] = statistics.median(runs)
        print(f"| {name}, batch {b} | {ms[False]:.3f} | {ms[True]:.3f} | {ms[True] / ms[False]:.2f} |")


if __name__ == "__main__":
    main()
