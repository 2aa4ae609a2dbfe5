"""Speed and memory of data preparation and reloading.

    python benchmarks/bench_data.py --data-root ../shared/data [--repeats 3]

Prints, for each repeat, the wall time and peak resident memory of `poseda data prepare --force`
over the whole mirror (a fresh process each time, so peak memory is the prepare's own), and the
time to reload all four prepared domains and touch every array (a fresh process each time).
Quotes medians. Goals (issue 2): prepare < 180 s and < 4 GB; reload < 5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

RELOAD = r"""
import json, sys, time
import numpy as np
t = time.perf_counter()
from poseda.data.cache import load_domain
n = 0
for name in ("h36m", "humaneva", "cmu-3dhp", "bandai-wild"):
    d = load_domain(name, sys.argv[1])
    for k, a in d.arrays.items():
        n += int(np.asarray(a).sum() != 0.5)  # read every byte
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def run_measured(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall time and peak RSS (GB) of a child process (Linux: wait4 resource usage)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024 / 1024, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", default=os.environ.get("POSEDA_DATA", "../shared/data"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="poseda-bench-")
    env = dict(os.environ, POSEDA_CACHE=cache, POSEDA_DATA=args.data_root)
    prep, mem, reload = [], [], []
    for i in range(args.repeats):
        wall, rss, _ = run_measured([sys.executable, "-m", "poseda.cli", "data", "prepare", "--force"], env)
        prep.append(wall)
        mem.append(rss)
        print(f"prepare run {i + 1}: {wall:.1f} s, peak RSS {rss:.2f} GB", flush=True)
    for i in range(args.repeats):
        _, _, out = run_measured([sys.executable, "-c", RELOAD, cache], env)
        reload.append(json.loads(out.strip().splitlines()[-1])["seconds"])
        print(f"reload run {i + 1}: {reload[-1]:.2f} s (all four domains, every array read)", flush=True)
    print(f"median prepare: {statistics.median(prep):.1f} s (goal < 180 s); "
          f"median peak memory: {statistics.median(mem):.2f} GB (goal < 4 GB); "
          f"median reload: {statistics.median(reload):.2f} s (goal < 5 s); cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
