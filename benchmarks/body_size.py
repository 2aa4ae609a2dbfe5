"""Body size per method: how long the adapted lifters make the bodies they predict.

For every cell of a finished ``poseda benchmark`` run folder (``OUT/adapt/<backbone>-s<seed>/
<group>/<method>/eval-<target>.json``), its checkpoint is evaluated again on the target's
evaluation split, as the benchmark evaluates it (same flip test), and the median summed bone
length of the predictions is printed beside the truth's, with MPJPE at real size and PA-MPJPE.
A ratio above 1 is a lifter that grew the bodies (issue 30: GPA + LPA worse than GPA at real size
on ``bandai-wild`` while better aligned).

    POSEDA_CACHE=... python benchmarks/body_size.py poseda-benchmark/quick
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from poseda.data.cache import cache_root, load_domain
from poseda.inference import evaluate_split, load_lifter


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="a finished benchmark run folder (poseda benchmark --out)")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--targets", nargs="*", default=None, help="only these targets")
    args = ap.parse_args()
    cache = cache_root(args.cache)
    rows, domains = [], {}
    for result in sorted(args.out.glob("adapt/*/*/*/eval-*.json")):
        cell = json.loads(result.read_text())
        target = cell["target"]
        if args.targets and target not in args.targets:
            continue
        model, _, layout = load_lifter(result.parent / "best")
        domain = domains.setdefault(target, load_domain(target, cache))
        rep = evaluate_split(model, domain.evaluation(layout), cell["protocol"]["flip_test"])
        size = rep.extra["body_size"]
        rows.append((target, cell["backbone"], cell["seed"], cell["method"], rep.overall["MPJPE"], rep.overall["PA-MPJPE"],
                     size["predicted_mm"], size["true_mm"], size["ratio"]))
        if abs(rep.overall["MPJPE"] - cell["overall"]["MPJPE"]) > 0.05:
            print(f"note: {result}: MPJPE {rep.overall['MPJPE']:.2f} here, {cell['overall']['MPJPE']:.2f} in the run")
    print(f"protocol: {rep.protocol.line()} (the last cell's; every cell as its benchmark evaluated it)" if rows else "no cells")
    print("| target | backbone | seed | method | MPJPE | PA-MPJPE | predicted size mm | true size mm | size ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows):
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.1f} | {r[5]:.1f} | {r[6]:.0f} | {r[7]:.0f} | {r[8]:.3f} |")


if __name__ == "__main__":
    main()
