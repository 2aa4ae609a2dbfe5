"""Source-supervised training of any lifter.

The epoch's data lives on the training device; batches are drawn by index from a seeded
permutation (no per-sample Python); temporal lifters with ``forward_sequence`` can train on runs of
``train.chunk`` output frames per window, consecutive (VideoPose3D's ``--stride``) or
``train.chunk_step`` apart, which shares the convolutions between the run's frames; ``train.init``
starts from a checkpoint's weights (a temporal VideoPose3D from a single-frame one); flip
augmentation, gradient clipping, an exponential learning-rate schedule, bf16 autocast on CUDA,
periodic validation on held-out source sequences with best-checkpoint selection, TensorBoard and
CSV logs, and ``resume`` that reproduces an uninterrupted run bit for bit on the CPU. Under
``torchrun`` it trains with DDP (NCCL on GPUs, gloo on CPUs): every rank draws the same
permutation and takes its share of each global batch.
"""
from __future__ import annotations

import csv
import hashlib
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from omegaconf import DictConfig
from torch import nn

from poseda.config import save_config, to_dict
from poseda.data.builders import hash_split
from poseda.data.codec import PoseCodec
from poseda.data.mirror import cache_root
from poseda.data.prepare import load_domain
from poseda.errors import PosedaInputError
from poseda.models import build_lifter, check_lifter
from poseda.skeleton.layouts import JOINT_SETS, JointLayout
from poseda.train.checkpoint import layout_record, load_checkpoint, load_init, restore, save_checkpoint
from poseda.train.data import device_split
from poseda.train.evaluate import evaluate_split, predict


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device_kind: str) -> DistInfo:
    """Join the process group when started by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_kind == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def _epoch_seed(seed: int, epoch: int, what: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{epoch}:{what}".encode()).digest()[:7], "little")


def pose_errors(pred: torch.Tensor, target: torch.Tensor, root: int = 0) -> torch.Tensor:
    """[B] mean per-joint position error (metres) of each root-aligned prediction."""
    pred = pred - pred[:, root : root + 1]
    return (pred - target).norm(dim=-1).mean(-1)


def pose_loss(pred: torch.Tensor, target: torch.Tensor, root: int = 0) -> torch.Tensor:
    """Mean per-joint position error (metres) of root-aligned predictions."""
    return pose_errors(pred, target, root).mean()


def device_kind(want: str, where: str = "--device") -> str:
    """'auto' | 'cpu' | 'cuda' -> 'cpu' or 'cuda'; asking for a GPU that is not there is an input
    error naming ``where``."""
    want = str(want)
    if want not in ("auto", "cpu", "cuda"):
        raise PosedaInputError(where, f"must be auto, cpu or cuda, got {want!r}")
    kind = ("cuda" if torch.cuda.is_available() else "cpu") if want == "auto" else want
    if kind == "cuda" and not torch.cuda.is_available():
        raise PosedaInputError(where, "cuda requested but no GPU is available")
    return kind


class SequenceForward(nn.Module):
    """``model.forward_sequence`` as a module's forward, so DDP can wrap chunked training."""

    def __init__(self, model: nn.Module, step: int = 1):
        super().__init__()
        self.model, self.step = model, step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_sequence(x, step=self.step) if self.step > 1 else self.model.forward_sequence(x)


class Trainer:
    def __init__(self, cfg: DictConfig, model: nn.Module | None = None, resume: bool = False):
        self.cfg = cfg
        tc = cfg.train
        kind = device_kind(tc.device, "train.device")
        self.dist = init_distributed(kind)
        self.device = torch.device(f"cuda:{self.dist.local_rank}" if kind == "cuda" else "cpu")
        if kind == "cuda":
            torch.cuda.set_device(self.device)
        if tc.threads:
            torch.set_num_threads(int(tc.threads))
        self.amp = (kind == "cuda") if tc.amp == "auto" else bool(tc.amp)
        self.codec = PoseCodec()
        self.run_dir = Path(cfg.run.dir or Path(cfg.run.out) / cfg.run.name)
        if self.dist.main and not resume and (self.run_dir / "last.json").exists():
            raise PosedaInputError(self.run_dir, "already holds a run: pass --resume to continue it, or another run.dir")
        # data
        view, self.train_set = self._setup_data()
        seq = np.asarray([v["sequence"] for v in self.domain.views])[view]
        uniq = np.unique(seq)
        val_seqs = {s for s in uniq if hash_split(str(s), int(cfg.data.val_percent)) == "test"}
        is_val = np.isin(seq, list(val_seqs))
        self.train_idx = torch.as_tensor(np.flatnonzero(~is_val), device=self.device)
        val_idx = np.flatnonzero(is_val)
        if cfg.train.val_samples and len(val_idx) > cfg.train.val_samples:
            val_idx = np.sort(np.random.default_rng(cfg.run.seed).choice(val_idx, int(cfg.train.val_samples), replace=False))
        self.val_idx = torch.as_tensor(val_idx, device=self.device)
        if len(self.train_idx) == 0 or len(self.val_idx) == 0:
            raise PosedaInputError("data.val_percent", "leaves no training or no validation sequences")
        # model
        torch.manual_seed(cfg.run.seed)
        self.init_record: dict = {}
        if model is None:
            model = build_lifter(cfg.model.name, self.layout, **to_dict(cfg.model.options))
            self.model_record = {"name": cfg.model.name, "options": to_dict(cfg.model.options)}
        else:  # a user's own module: recorded by its class, rebuilt by the user
            self.model_record = {"name": f"custom:{type(model).__module__}.{type(model).__qualname__}", "options": {}}
        self._init_weights(model)
        rf, mlayout = check_lifter(model)
        if mlayout.joints != self.layout.joints:
            raise PosedaInputError("model", f"lifter layout {mlayout.name} differs from the data's {self.layout.name}")
        self.model = model.to(self.device)
        self.receptive_field = rf
        self.chunk = int(tc.chunk)
        if self.chunk < 1:
            raise PosedaInputError("train.chunk", f"must be at least 1, got {self.chunk}")
        if self.chunk > 1 and not hasattr(model, "forward_sequence"):
            raise PosedaInputError("train.chunk", f"{self.chunk} needs a lifter with forward_sequence "
                                                  f"({type(model).__name__} has none); use 1")
        if int(tc.batch_size) % self.chunk:
            raise PosedaInputError("train.chunk", f"{self.chunk} does not divide train.batch_size {tc.batch_size}")
        self.chunk_step = int(tc.chunk_step)
        steps = tuple(getattr(model, "sequence_steps", (1,)))
        if self.chunk_step != 1 and (self.chunk == 1 or self.chunk_step not in steps):
            why = "needs train.chunk > 1" if self.chunk == 1 else f"must be one of {type(model).__name__}'s sequence_steps {steps}"
            raise PosedaInputError("train.chunk_step", f"{self.chunk_step} {why}")
        if self.dist.world > 1 and kind == "cuda":
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        trained = SequenceForward(self.model, self.chunk_step) if self.chunk > 1 else self.model
        if self.dist.world > 1:
            self.ddp = nn.parallel.DistributedDataParallel(trained, device_ids=[self.device] if kind == "cuda" else None)
        else:
            self.ddp = trained
        opt = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}.get(tc.optimizer)
        if opt is None:
            raise PosedaInputError("train.optimizer", f"unknown optimizer {tc.optimizer!r} (adam, adamw)")
        self.optimizer = opt(self.model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.optimizer, gamma=tc.lr_decay)
        self.start_epoch = 0
        self.best = math.inf
        self.step = 0
        self.select_best = True  # keep the checkpoint with the best validation error (else the last)
        self.extra_record: dict = {}
        self.epoch_stats: dict = {}  # per-epoch figures a subclass adds to the metrics
        self.csv_fields = ["epoch", "step", "split", "lr", "loss_mm", "samples_per_s", "val_mpjpe_mm", "seconds"]
        self._setup_extra()
        if resume:
            self._resume()
        if self.dist.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            save_config(cfg, self.run_dir / "config.yaml")

    # -- hooks (the adaptation engine overrides them) -----------------------------------------
    def _setup_data(self):
        """Set ``self.domain`` (whose views the split comes from) and ``self.layout``; return the
        training pairs' view index and their :class:`DeviceSet` (validation sequences are split
        off by the caller)."""
        cfg = self.cfg
        domain = load_domain(cfg.data.source, cache_root(cfg.data.cache))
        if domain.role != "source":
            raise PosedaInputError("data.source", f"{domain.name} is a target domain; train on a source domain")
        self.layout = self._joint_set(domain.layout)
        self.domain = self.eval_domain = domain
        return device_split(domain, "training", self.layout, self.codec, self.device)

    def _joint_set(self, default: JointLayout) -> JointLayout:
        """``data.joints`` by name, or ``default`` when it is null."""
        name = self.cfg.data.joints
        if name is None:
            return default
        if name not in JOINT_SETS:
            raise PosedaInputError("data.joints", f"unknown joint set {name!r} (known: {', '.join(JOINT_SETS)})")
        return JOINT_SETS[name]

    def _init_weights(self, model: nn.Module) -> None:
        """Called on a freshly built lifter before it moves to the device: ``train.init`` starts it
        from a checkpoint's weights (a temporal VideoPose3D also from a single-frame one)."""
        if self.cfg.train.init:
            sha = load_init(model, self.cfg.train.init, self.layout)
            self.init_record = {"init": {"path": str(self.cfg.train.init), "sha256": sha}}

    def _setup_extra(self) -> None:
        """Called once the lifter and its optimiser exist."""

    def _save_extra_state(self, epoch: int) -> None:
        """Called on the main process before ``last`` is written (``last.json`` commits an epoch)."""

    # -- checkpoints ---------------------------------------------------------------------------
    def record(self, epoch: int, metrics: dict) -> dict:
        return dict(config=to_dict(self.cfg), layout=layout_record(self.layout), codec=self.codec.to_dict(),
                    model=dict(self.model_record, receptive_field=self.receptive_field),
                    epoch=epoch, step=self.step, best_val_mpjpe_mm=self.best, metrics=metrics,
                    source=self.domain.name, **self.init_record, **self.extra_record)

    def _resume(self) -> dict:
        """Restore the lifter, its optimiser and schedule from ``last``; returns its record."""
        last = self.run_dir / "last"
        if not last.with_suffix(".json").exists():
            raise PosedaInputError(self.run_dir, "nothing to resume (no last.json)")
        tensors, rec = load_checkpoint(last)
        restore(self.model, tensors, rec, self.optimizer, self.scheduler)
        self.start_epoch = rec["epoch"] + 1
        self.best = rec["best_val_mpjpe_mm"]
        self.step = rec["step"]
        return rec

    # -- training ------------------------------------------------------------------------------
    def _batches(self, epoch: int):
        """Global batches of train indices, identical on every rank, and the flip mask."""
        g = torch.Generator().manual_seed(_epoch_seed(self.cfg.run.seed, epoch, "perm"))
        perm = self.train_idx[torch.randperm(len(self.train_idx), generator=g).to(self.device)]
        # with chunks, each index anchors `chunk` output frames: an epoch keeps its number of frames
        frames = int(self.cfg.data.samples_per_epoch or len(perm))
        perm = perm[: frames // self.chunk]
        flips = torch.rand(len(perm), generator=g).to(self.device) < 0.5
        bs = int(self.cfg.train.batch_size) // self.chunk
        n = len(perm) // bs  # drop the last partial batch: the same on one process or many
        for b in range(n):
            sl = slice(b * bs, (b + 1) * bs)
            yield perm[sl], flips[sl]

    def _train_epoch(self, epoch: int, log):
        tc = self.cfg.train
        torch.manual_seed(_epoch_seed(self.cfg.run.seed, epoch, "dropout") + self.dist.rank)
        self.ddp.train()
        from tqdm import tqdm

        batches = list(self._batches(epoch))
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{tc.epochs}", unit="batch", leave=False,
                   disable=not (tc.progress and self.dist.main))
        t0, seen = time.perf_counter(), 0
        loss_sum = torch.zeros((), device=self.device)  # summed on the device: no sync per step
        for idx, flip in bar:
            idx, flip = idx[self.dist.rank :: self.dist.world], flip[self.dist.rank :: self.dist.world]
            valid = None
            if self.chunk > 1:  # x [B, (chunk - 1) * step + T, J, 2] -> pred, y [B, chunk, J, 3]
                win, out, valid = self.train_set.chunk_index(idx, self.chunk, self.receptive_field, self.chunk_step)
                x, y = self.train_set.inputs[win], self.train_set.targets[out]
            else:  # x [B, T, J, 2] -> pred, y [B, J, 3]
                x, y = self.train_set.windows(idx, self.receptive_field), self.train_set.targets[idx]
            if tc.flip_augment:
                f = flip.view(-1, *[1] * (x.dim() - 1))
                x = torch.where(f, self.codec.flip_2d(x, self.layout), x)
                y = torch.where(f.view(-1, *[1] * (y.dim() - 1)), self.codec.flip_3d(y, self.layout), y)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                pred = self.ddp(x)
            if valid is None:
                loss = pose_loss(pred.float(), y)
            else:  # mean over the frames inside their view (no boolean indexing: no device sync)
                err = pose_errors(pred.float().flatten(0, 1), y.flatten(0, 1)) * valid.flatten()
                loss = err.sum() / valid.sum()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if tc.grad_clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), tc.grad_clip)
            self.optimizer.step()
            self.step += 1
            seen += len(idx) * self.chunk * self.dist.world
            loss_sum += loss.detach() * len(idx) * self.chunk
            if self.step % int(tc.log_every) == 0:
                loss_val = float(loss.detach())
                rate = seen / (time.perf_counter() - t0)
                bar.set_postfix(loss_mm=f"{loss_val * 1000:.1f}", samples_s=f"{rate:.0f}")
                log(epoch, "train", {"loss_mm": loss_val * 1000, "samples_per_s": rate})
        return float(loss_sum) / max(1, seen / self.dist.world) * 1000, seen / (time.perf_counter() - t0)

    def validate(self) -> float:
        pred = predict(self.model, self.train_set, self.val_idx, flip_test=False, codec=self.codec,
                       batch_size=int(self.cfg.eval.batch_size))
        return float((pred - self.train_set.targets[self.val_idx]).norm(dim=-1).mean()) * 1000

    def fit(self) -> dict:
        tc = self.cfg.train
        writer, csv_file = None, None
        rows = []

        def log(epoch, split, values):
            if not self.dist.main:
                return
            row = dict(epoch=epoch + 1, step=self.step, split=split, lr=self.optimizer.param_groups[0]["lr"], **values)
            rows.append(row)
            if writer is not None:
                for k, v in values.items():
                    writer.add_scalar(f"{split}/{k}", v, self.step)

        if self.dist.main:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=self.step if self.step else None)
            csv_path = self.run_dir / "metrics.csv"
            new = not csv_path.exists()
            csv_file = open(csv_path, "a", newline="")
            w = csv.DictWriter(csv_file, self.csv_fields, extrasaction="ignore")
            if new:
                w.writeheader()
        summary = {}
        try:
            for epoch in range(self.start_epoch, int(tc.epochs)):
                t0 = time.perf_counter()
                loss_mm, rate = self._train_epoch(epoch, log)
                self.scheduler.step()
                metrics = {"train_loss_mm": loss_mm, "train_samples_per_s": rate, **self.epoch_stats}
                if self.dist.main and ((epoch + 1) % int(tc.eval_every) == 0 or epoch + 1 == int(tc.epochs)):
                    val = self.validate()
                    metrics["val_mpjpe_mm"] = val
                    log(epoch, "val", {"val_mpjpe_mm": val, "seconds": time.perf_counter() - t0})
                    if val < self.best or not self.select_best:
                        self.best = min(self.best, val)
                        save_checkpoint(self.run_dir / "best", self.model, self.record(epoch, metrics))
                if self.dist.main:
                    self._save_extra_state(epoch)
                    save_checkpoint(self.run_dir / "last", self.model, self.record(epoch, metrics), self.optimizer, self.scheduler)
                    for r in rows:
                        w.writerow(r)
                    rows.clear()
                    csv_file.flush()
                    print(f"epoch {epoch + 1}/{tc.epochs}: train loss {loss_mm:.1f} mm, "
                          f"{rate:.0f} samples/s" + (f", val MPJPE {metrics['val_mpjpe_mm']:.1f} mm" if "val_mpjpe_mm" in metrics else "")
                          + f" ({time.perf_counter() - t0:.0f} s)", flush=True)
                if self.dist.world > 1:
                    dist.barrier()
                summary = metrics
        finally:
            if writer is not None:
                writer.close()
            if csv_file is not None:
                csv_file.close()
        return summary

    def final_report(self, flip_test: bool | None = None):
        """Evaluate the kept checkpoint on the evaluation split (the source's, or the target's when
        adapting); write report.md/.csv/.json."""
        if not self.dist.main:
            return None
        tensors, rec = load_checkpoint(self.run_dir / "best")
        restore(self.model, tensors, rec)
        flip = self.cfg.eval.flip_test if flip_test is None else flip_test
        rep = evaluate_split(self.model, self.eval_domain.evaluation(self.layout), flip, int(self.cfg.eval.batch_size),
                             self.device, self.codec)
        write_report(rep, self.run_dir / "report")
        return rep


def write_report(rep, stem: Path) -> None:
    import json

    from poseda.fileio import atomic_write as _atomic_write

    stem = Path(stem)
    _atomic_write(stem.with_suffix(".md"), lambda t: Path(t).write_text(rep.to_markdown()))
    _atomic_write(stem.with_suffix(".csv"), lambda t: Path(t).write_text(rep.to_csv()))
    _atomic_write(stem.with_suffix(".json"), lambda t: Path(t).write_text(json.dumps(rep.to_dict(), indent=1)))


def lifter_from_checkpoint(path) -> tuple[nn.Module, dict, JointLayout]:
    """Rebuild a built-in lifter from a checkpoint (no code is unpickled)."""
    from poseda.train.checkpoint import layout_from_record

    tensors, rec = load_checkpoint(path)
    layout = layout_from_record(rec["layout"])
    if rec["model"]["name"].startswith("custom:"):
        raise PosedaInputError(path, f"holds a user model ({rec['model']['name'][7:]}): build it and load the weights "
                                     "with poseda.train.checkpoint.load_checkpoint + restore")
    model = build_lifter(rec["model"]["name"], layout, **rec["model"]["options"])
    restore(model, tensors, rec)
    model.eval()
    return model, rec, layout
