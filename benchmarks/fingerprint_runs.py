"""Fingerprint what training and adaptation produce, to show that a change of code changed no result.

Runs a fixed set of small trainings and adaptations through the ``poseda`` command line of
whatever poseda the Python in use imports: SimpleBaseline with and without ``--resume``, chunked
VideoPose3D training with spaced runs, SemGCN, every adaptation method, GPA + LPA with the
feedback term, camera-frame bone rotations and ``keep_size=false``, a resumed adaptation, a
temporal lifter adapted on windows, and chunked oracle training. It writes the SHA-256 of every
weights file the runs leave and the overall figures of every evaluation report to a JSON file.
Run it at two commits and compare:

    git worktree add /tmp/before HEAD~1
    (cd /tmp && PYTHONPATH=/tmp/before python /path/to/benchmarks/fingerprint_runs.py before.json --data-root ../shared/data)
    python benchmarks/fingerprint_runs.py after.json --data-root ../shared/data
    python benchmarks/fingerprint_runs.py --compare before.json after.json

(run the first from outside the repository, so that ``PYTHONPATH`` and not the working tree
decides which poseda is imported). The source and target domains are small real ones, built with
``poseda data custom`` from Bandai Namco clips: 8 clips seen by the MPI-INF-3DHP rig as the source,
12 others seen by the hand-held rig as the target. About a minute and a half on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def cli(*args) -> str:
    r = subprocess.run([sys.executable, "-m", "poseda.cli", *args], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"failed: poseda {' '.join(args)}\n{r.stderr[-3000:]}")
    return r.stdout


def make_domains(data_root: Path, cache: Path, work: Path) -> None:
    for name, pattern, count, rig, role in [("tiny", "dataset-1_b*_*.bvh", 8, "mpi-inf-3dhp", "source"),
                                            ("tiny-target", "dataset-1_[cdgs]*_*.bvh", 12, "handheld", "target")]:
        motion = work / f"motion-{name}"
        motion.mkdir(parents=True, exist_ok=True)
        with tarfile.open(data_root / "bandai-namco-1.tar.xz") as tf:
            n = 0
            for m in tf:
                if fnmatch.fnmatch(m.name, f"bandai-namco-1/data/{pattern}"):
                    (motion / Path(m.name).name).write_bytes(tf.extractfile(m).read())
                    n += 1
                    if n == count:
                        break
        cli("data", "custom", name, "--motion", str(motion), "--rig", rig, "--role", role, "--fps", "30", "--cache", str(cache))


def run_all(cache: Path, work: Path) -> None:
    common = [f"data.cache={cache}", "data.source=tiny", "data.val_percent=50", "train.progress=false",
              "train.val_samples=1000", "eval.batch_size=1024", "data.joints=h36m16"]
    sb = ["train.batch_size=128", "data.samples_per_epoch=4096", "model.options.width=64"]
    cli("train", "-c", "simple_baseline", *common, *sb, f"run.dir={work}/sb", "train.epochs=2")
    cli("train", "-c", "simple_baseline", *common, *sb, f"run.dir={work}/sb-r", "train.epochs=1")
    cli("train", "-c", "simple_baseline", *common, *sb, f"run.dir={work}/sb-r", "train.epochs=2", "--resume")
    cli("train", "-c", "videopose3d_27", *common, f"run.dir={work}/vp27c", "train.epochs=1", "train.batch_size=128",
        "data.samples_per_epoch=2048", "model.options.channels=32", "train.chunk=4", "train.chunk_step=3")
    cli("train", "-c", "videopose3d_27", *common, f"run.dir={work}/vp27", "train.epochs=1", "train.batch_size=64",
        "data.samples_per_epoch=1024", "model.options.channels=32")
    cli("train", "-c", "semgcn", *common, f"run.dir={work}/gcn", "train.epochs=1", "train.batch_size=128",
        "data.samples_per_epoch=2048")
    quick = ["train.progress=false", "train.epochs=2", "data.samples_per_epoch=1024", "train.batch_size=128",
             "train.val_samples=1000", "eval.batch_size=1024", "lpa.hidden=32", f"data.cache={cache}"]
    for m in ["source", "gpa", "lpa", "gpa_lpa", "poseaug", "oracle"]:
        cli("adapt", f"{work}/sb/best", "-t", "tiny-target", "-m", m, *quick, f"run.dir={work}/a-{m}")
    cli("adapt", f"{work}/sb/best", "-t", "tiny-target", "-m", "gpa_lpa", *quick, "lpa.w_feedback=0.5", "lpa.bone_frame=camera",
        "lpa.keep_size=false", f"run.dir={work}/a-fb")
    cli("adapt", f"{work}/sb/best", "-t", "tiny-target", "-m", "gpa_lpa", *quick, "train.epochs=1", f"run.dir={work}/a-res")
    cli("adapt", f"{work}/sb/best", "-t", "tiny-target", "-m", "gpa_lpa", *quick, f"run.dir={work}/a-res", "--resume")
    cli("adapt", f"{work}/vp27/best", "-t", "tiny-target", "-m", "gpa_lpa", *quick, "train.batch_size=32",
        "data.samples_per_epoch=256", f"run.dir={work}/a-vp27")
    cli("adapt", f"{work}/vp27/best", "-t", "tiny-target", "-m", "oracle", *quick, "train.batch_size=64", "train.chunk=4",
        "data.samples_per_epoch=512", f"run.dir={work}/a-vp27-oracle")


def fingerprint(work: Path) -> dict:
    """SHA-256 of every checkpoint's tensors (and of each of its parts), keyed by the run and the
    checkpoint's stem, whatever the files are called; and every report's overall figures."""
    out = {}
    for js in sorted(work.rglob("*.json")):
        try:
            rec = json.loads(js.read_text())
        except ValueError:
            continue
        if not isinstance(rec, dict) or rec.get("format") != "poseda-checkpoint-1":
            continue
        key = str(js.relative_to(work).with_suffix(""))
        out[key + ".safetensors"] = hashlib.sha256((js.parent / rec["weights_file"]).read_bytes()).hexdigest()
        for name, part in rec.get("parts", {}).items():  # a method's networks, saved with last since the one-loop refactor
            out[f"{key}-{name}.safetensors"] = hashlib.sha256((js.parent / part["weights_file"]).read_bytes()).hexdigest()
    out.update({str(p.relative_to(work)): json.loads(p.read_text())["overall"] for p in sorted(work.rglob("report.json"))})
    return out


def compare(a: Path, b: Path) -> int:
    x, y = json.loads(a.read_text()), json.loads(b.read_text())
    differ = [k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
    for k in differ:
        print(f"differs: {k}: {str(x.get(k))[:70]} | {str(y.get(k))[:70]}")
    print(f"{len(x)} and {len(y)} entries; {len(differ)} differ")
    return 1 if differ else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, help="the JSON file to write")
    ap.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    ap.add_argument("--work", type=Path, help="where the runs go (default: a temporary folder)")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two fingerprints instead")
    args = ap.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if args.out is None:
        ap.error("give the output file, or --compare A B")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        cache = work / "cache"
        make_domains(args.data_root.resolve(), cache, work)
        runs = work / "runs"
        run_all(cache, runs)
        fp = fingerprint(runs)
    args.out.write_text(json.dumps(fp, indent=1))
    print(f"{len(fp)} weight files and reports -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
