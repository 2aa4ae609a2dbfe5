"""Cost of one adaptation epoch against one source-training epoch of the same backbone, on the
same device and the same real data (h36m source, a built-in target).

    POSEDA_CACHE=... python benchmarks/bench_adapt.py [--configs simple_baseline videopose3d_1]
        [--target cmu-3dhp] [--methods source gpa gpa_lpa poseaug] [--repeats 3] [--device cpu|cuda]

An epoch is the same number of source samples for every method (``--samples``). For each
repeat, the source-training epoch and every method's epoch are timed back to back in this
process, so the ratio (adaptation seconds / source seconds) is measured within one run; the
medians over repeats are printed (goals: at most 3x for GPA + LPA, at most 2x in issue 18).

The row ``floor: source training, 2x rows`` is source training with twice the batch and twice the
samples: the same steps as an augmenting method's epoch, and the same lifter work in each (a
forward and a backward over the source batch and the augmented one together). Its ratio is what
an augmenting method would cost if the augmentor, GPA and the discriminators were free.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from poseda.adapt.adapter import Adapter
from poseda.config import load_config
from poseda.train.engine import Trainer

FLOOR = "floor: source training, 2x rows"


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def epoch_seconds(trainer: Trainer, samples: int, epoch: int) -> float:
    trainer.cfg.data.samples_per_epoch = samples
    _sync(trainer.device)
    t0 = time.perf_counter()
    trainer._train_epoch(epoch, lambda *a: None)
    _sync(trainer.device)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", nargs="*", default=["simple_baseline", "videopose3d_1"])
    ap.add_argument("--target", default="cmu-3dhp")
    ap.add_argument("--methods", nargs="*", default=["source", "gpa", "lpa", "gpa_lpa", "poseaug"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples", type=int, default=51200, help="source samples per timed epoch")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, target {args.target}, "
          f"{args.samples} samples per epoch, batch {args.batch}, medians of {args.repeats} repeats")
    print("| backbone | method | epoch s | samples/s | epoch / source-training epoch |")
    print("|---|---|---|---|---|")
    for name in args.configs:
        with tempfile.TemporaryDirectory() as tmp:
            common = [f"train.device={args.device}", "train.progress=false", f"train.batch_size={args.batch}",
                      "data.joints=h36m16"]
            runners = {"source training": Trainer(load_config(name, [f"run.dir={tmp}/src", *common]))}
            floor = [f"train.device={args.device}", "train.progress=false", f"train.batch_size={2 * args.batch}",
                     "data.joints=h36m16"]
            runners[FLOOR] = Trainer(load_config(name, [f"run.dir={tmp}/floor", *floor]))
            for m in args.methods:
                cfg = load_config(name, [f"run.dir={tmp}/{m}", *common, f"adapt.method={m}", f"adapt.target={args.target}"])
                runners[m] = Adapter(cfg)
            scale = {k: 2 if k == FLOOR else 1 for k in runners}  # the floor: twice the rows per step, same steps
            for k, r in runners.items():  # warm-up
                epoch_seconds(r, args.batch * 4 * scale[k], 0)
            secs = {k: [] for k in runners}
            for rep in range(args.repeats):
                for k, r in runners.items():
                    secs[k].append(epoch_seconds(r, args.samples * scale[k], rep + 1))
            base = secs["source training"]
            for k, s in secs.items():
                ratio = statistics.median(a / b for a, b in zip(s, base))
                med = statistics.median(s)
                print(f"| {name} | {k} | {med:.2f} | {args.samples * scale[k] / med:.0f} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
