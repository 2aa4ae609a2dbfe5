"""Throughput of every backbone: model-only training steps on random tensors, the full training
loop on real data (h36m), and inference at batch 1 and 1024.

    POSEDA_CACHE=... python benchmarks/bench_lifters.py [--configs simple_baseline videopose3d_1 ...]
        [--repeats 3] [--device cpu|cuda] [--chunk 64 8:27]

Model-only = forward, loss, backward and optimiser step on one pre-made random batch. The
training loop = the engine's epoch code (index draw, window gather, flip augmentation, the same
step) over real prepared data. Prints medians of the repeats and the loop / model-only ratio
measured in the same run (goal: >= 0.8). Temporal lifters with ``forward_sequence`` get a row
for each ``--chunk`` form, trained with ``train.chunk`` (``C``: runs of C consecutive output
frames; ``C:S``: runs of C frames S apart, ``train.chunk_step``); model-only then times
``forward_sequence`` on random runs of the same shape.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from poseda.config import load_config
from poseda.train.engine import Trainer
from poseda.train.method import pose_loss

DEFAULT = ["simple_baseline", "videopose3d_1", "videopose3d_27", "videopose3d_243", "semgcn", "stgcn", "stgcn_27",
           "transformer", "transformer_27"]


def model_only(trainer: Trainer, batch: int, steps: int) -> float:
    m, opt = trainer.model, trainer.optimizer
    j, c, s, rf = trainer.layout.num_joints, trainer.chunk, trainer.chunk_step, trainer.receptive_field
    if c > 1:  # runs of c output frames s apart: [B/c, (c - 1) * s + T, J, 2] -> [B/c, c, J, 3]
        x = torch.randn(batch // c, (c - 1) * s + rf, j, 2, device=trainer.device)
        y = torch.randn(batch // c * c, j, 3, device=trainer.device) * 0.3
        fwd = trainer.ddp
    else:
        x = torch.randn(batch, rf, j, 2, device=trainer.device)
        y = torch.randn(batch, j, 3, device=trainer.device) * 0.3
        fwd = m
    m.train()

    def step():
        with torch.autocast(trainer.device.type, dtype=torch.bfloat16, enabled=trainer.amp):
            pred = fwd(x)
        loss = pose_loss(pred.float().reshape(-1, j, 3), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()

    step()  # warm-up
    _sync(trainer.device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(trainer.device)
    return batch * steps / (time.perf_counter() - t0)


def loop(trainer: Trainer, batch: int, steps: int, epoch: int) -> float:
    trainer.cfg.data.samples_per_epoch = batch * (steps + 1)
    trainer.cfg.train.batch_size = batch
    trainer._train_epoch(epoch, lambda *a: None)  # warm-up epoch
    _sync(trainer.device)
    trainer.cfg.data.samples_per_epoch = batch * steps
    t0 = time.perf_counter()
    trainer._train_epoch(epoch + 1, lambda *a: None)
    _sync(trainer.device)
    return batch * steps / (time.perf_counter() - t0)


@torch.no_grad()
def inference(trainer: Trainer, batch: int, seconds: float = 1.0) -> float:
    m = trainer.model.eval()
    x = torch.randn(batch, trainer.receptive_field, trainer.layout.num_joints, 2, device=trainer.device)
    m(x)
    _sync(trainer.device)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        m(x)
        n += batch
    _sync(trainer.device)
    return n / (time.perf_counter() - t0)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", nargs="*", default=DEFAULT)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--temporal-batch", type=int, default=128, help="batch for models with more than one input frame")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--chunk", nargs="*", default=["64"],
                    help="extra rows for lifters with forward_sequence (batch --batch frames): C = train.chunk C of "
                         "consecutive frames, C:S = chunk C with train.chunk_step S; none = no extra rows")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}")
    print("| config | frames | params (M) | batch | model-only samples/s | training loop samples/s | loop / model | "
          "inference b=1 samples/s | inference b=1024 samples/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    forms = [tuple(int(v) for v in (f.split(":") + ["1"])[:2]) for f in args.chunk]
    rows = [(name, form) for name in args.configs for form in [(1, 1)] + forms]
    for name, (chunk, step) in rows:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = load_config(name, [f"run.dir={tmp}/run", f"train.device={args.device}", "train.progress=false"])
            t = Trainer(cfg)
            rf = t.receptive_field
            if chunk > 1 and (rf == 1 or not hasattr(t.model, "forward_sequence")
                              or step not in getattr(t.model, "sequence_steps", (1,))):
                continue
            if chunk > 1:
                cfg.train.batch_size, cfg.train.chunk, cfg.train.chunk_step = args.batch, chunk, step
                t = Trainer(cfg)
            batch = args.batch if rf == 1 or chunk > 1 else args.temporal_batch
            steps = args.steps if rf == 1 else max(2, args.steps // 2)
            mo, lo, ratio = [], [], []
            for r in range(args.repeats):
                a = model_only(t, batch, steps)
                b = loop(t, batch, steps, 2 * r)
                mo.append(a)
                lo.append(b)
                ratio.append(b / a)
            i1, ibig = ("(same model)", "") if chunk > 1 else (f"{inference(t, 1):.0f}", f"{inference(t, 1024):.0f}")
            params = sum(p.numel() for p in t.model.parameters()) / 1e6
            label = name if chunk == 1 else f"{name}, chunk {chunk}" + (f" step {step}" if step > 1 else "")
            print(f"| {label} | {rf} | {params:.2f} | {batch} | {statistics.median(mo):.0f} | {statistics.median(lo):.0f} | "
                  f"{statistics.median(ratio):.2f} | {i1} | {ibig} |", flush=True)


if __name__ == "__main__":
    main()
