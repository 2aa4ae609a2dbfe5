"""The one training loop: source training, and adaptation by any registered method.

:class:`Trainer` owns the epoch loop: a seeded permutation of the training frames (no per-sample
Python), each process's share of every global batch under ``torchrun`` (DDP: NCCL on GPUs, gloo
on CPUs), windows gathered on the device, flip augmentation, bf16 autocast on CUDA, the lifter's
optimiser step with gradient clipping and an exponential learning-rate schedule, periodic
validation on held-out source sequences, TensorBoard and CSV logs, and checkpoints with a
``resume`` that reproduces an uninterrupted run bit for bit on the CPU. What the lifter learns
from is a :class:`~poseda.train.method.Method`: :class:`~poseda.train.method.Supervised` for
``poseda train``, the registered adaptation methods (:mod:`poseda.adapt.methods`) for
``poseda adapt``.

Temporal lifters with ``forward_sequence`` can train on runs of ``train.chunk`` output frames per
window, consecutive (VideoPose3D's ``--stride``) or ``train.chunk_step`` apart, which shares the
convolutions between the run's frames; ``train.init`` starts from a checkpoint's weights (a
temporal VideoPose3D from a single-frame one).
"""
from __future__ import annotations

import csv
import hashlib
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from omegaconf import DictConfig
from torch import nn

from poseda.config import check_config, run_dir, save_config, to_dict
from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import device_split
from poseda.data.splits import held_out
from poseda.errors import PosedaInputError
from poseda.inference import device_kind, evaluate_split, predict
from poseda.models import build_lifter, check_lifter, lifter_factory, lifter_record
from poseda.models.base import check_options
from poseda.models.checkpoint import (
    clean_checkpoint_files,
    layout_record,
    load_checkpoint,
    load_init,
    load_part,
    restore,
    save_checkpoint,
)
from poseda.skeleton.layouts import JOINT_SETS, JointLayout
from poseda.train.method import Batch, Method, Supervised

# the name of the per-epoch random stream methods draw from (noise, anchors, real samples); the
# name is part of the seed, so it stays what it was when runs were first made
METHOD_STREAM = "adapt"


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(kind: str) -> DistInfo:
    """Join the process group when started by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if kind == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def epoch_seed(seed: int, epoch: int, what: str) -> int:
    """The seed of the random stream ``what`` in ``epoch`` of a run seeded ``seed`` (epoch -1: set-up).

    >>> epoch_seed(0, 0, "perm") == epoch_seed(0, 0, "perm") != epoch_seed(0, 1, "perm")
    True
    """
    return int.from_bytes(hashlib.sha256(f"{seed}:{epoch}:{what}".encode()).digest()[:7], "little")


class TrainingDiverged(PosedaInputError):
    """The loss became non-finite; the run stops before saving anything of that epoch."""


class SequenceForward(nn.Module):
    """``model.forward_sequence`` as a module's forward, so DDP can wrap chunked training."""

    def __init__(self, model: nn.Module, step: int = 1):
        super().__init__()
        self.model, self.step = model, step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_sequence(x, step=self.step) if self.step > 1 else self.model.forward_sequence(x)


class Trainer:
    """Trains ``model`` (or the lifter ``cfg.model`` names) with ``method`` (default: supervised
    source training) on the data :meth:`_setup_data` chooses; :class:`poseda.adapt.Adapter`
    chooses source and target domains instead."""

    def __init__(self, cfg: DictConfig, model: nn.Module | None = None, resume: bool = False,
                 method: Method | None = None):
        self.cfg = cfg = check_config(cfg)  # types and ranges, before any data is read
        self.method = method or Supervised()
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
        self.input_map: torch.Tensor | None = None  # see observe()
        self.run_dir = run_dir(cfg)
        if self.dist.main:  # what an interrupted save left behind (the last complete checkpoint stays)
            for stem in ("last", "best"):
                clean_checkpoint_files(self.run_dir / stem)
        if self.dist.main and not resume and (self.run_dir / "last.json").exists():
            raise PosedaInputError(self.run_dir, "already holds a run: pass --resume to continue it, or another run.dir")
        if model is None:  # the lifter's options against its declared ranges, before any data is read
            check_options(cfg.model.name, lifter_factory(cfg.model.name), to_dict(cfg.model.options))
        # data: the training pairs, with source sequences held out for validation
        view, self.train_set = self._setup_data()
        is_val = held_out(np.asarray([v["sequence"] for v in self.domain.views])[view], int(cfg.data.val_percent))
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
        self.model_record = lifter_record(model, cfg.model.name, to_dict(cfg.model.options))
        self._init_weights(model)
        rf, mlayout = check_lifter(model)
        if mlayout.joints != self.layout.joints:
            raise PosedaInputError("model", f"lifter layout {mlayout.name} differs from the data's {self.layout.name}")
        self.model = model.to(self.device)
        self.receptive_field = rf
        self._check_chunks(model)
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
        self.rng = torch.Generator()  # the method's random stream, reseeded every epoch
        self.csv_fields = ["epoch", "step", "split", "lr", "loss_mm", "samples_per_s", "val_mpjpe_mm", "seconds",
                           *self.method.figures]
        self.method.setup(self)
        if resume:
            self._resume()
        if self.dist.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            save_config(cfg, self.run_dir / "config.yaml")

    # -- what a subclass chooses ------------------------------------------------------------------
    def _setup_data(self):
        """Set ``self.domain`` (whose views the validation split comes from), ``self.eval_domain``
        and ``self.layout``; return the training pairs' view index and their
        :class:`~poseda.data.device.DeviceSet`."""
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

    def run_record(self) -> dict:
        """What every checkpoint of the run records about where it started."""
        return dict(self.init_record)

    def _check_chunks(self, model: nn.Module) -> None:
        tc = self.cfg.train
        self.chunk, self.chunk_step = int(tc.chunk), int(tc.chunk_step)
        if self.chunk < 1:
            raise PosedaInputError("train.chunk", f"must be at least 1, got {self.chunk}")
        if self.chunk > 1 and not self.method.chunked:
            raise PosedaInputError("train.chunk", f"{self.method.name} trains on single output frames; train.chunk > 1 is "
                                                  "for supervised training (poseda train, and the source and oracle methods)")
        if self.chunk > 1 and not hasattr(model, "forward_sequence"):
            raise PosedaInputError("train.chunk", f"{self.chunk} needs a lifter with forward_sequence "
                                                  f"({type(model).__name__} has none); use 1")
        if int(tc.batch_size) % self.chunk:
            raise PosedaInputError("train.chunk", f"{self.chunk} does not divide train.batch_size {tc.batch_size}")
        steps = tuple(getattr(model, "sequence_steps", (1,)))
        if self.chunk_step != 1 and (self.chunk == 1 or self.chunk_step not in steps):
            why = "needs train.chunk > 1" if self.chunk == 1 else f"must be one of {type(model).__name__}'s sequence_steps {steps}"
            raise PosedaInputError("train.chunk_step", f"{self.chunk_step} {why}")

    # -- checkpoints ---------------------------------------------------------------------------
    def record(self, epoch: int, metrics: dict) -> dict:
        return dict(config=to_dict(self.cfg), layout=layout_record(self.layout), codec=self.codec.to_dict(),
                    model=dict(self.model_record, receptive_field=self.receptive_field),
                    epoch=epoch, step=self.step, best_val_mpjpe_mm=self.best, metrics=metrics,
                    source=self.domain.name, **self.run_record())

    def _save_last(self, epoch: int, metrics: dict) -> None:
        """``last``: the lifter, its optimiser and schedule and the method's own networks, committed
        together by one record."""
        parts = {key: (module, opt, {"epoch": epoch, "part": key}) for key, (module, opt) in self.method.state().items()}
        save_checkpoint(self.run_dir / "last", self.model, self.record(epoch, metrics), self.optimizer, self.scheduler, parts)

    def _resume(self) -> dict:
        """Restore the lifter, its optimiser and schedule, and the method's networks, from
        ``last``; returns its record."""
        last = self.run_dir / "last"
        if not last.with_suffix(".json").exists():
            raise PosedaInputError(self.run_dir, "nothing to resume (no last.json)")
        tensors, rec = load_checkpoint(last)
        self._check_resume(rec)
        where = last.with_suffix(".json")
        restore(self.model, tensors, rec, self.optimizer, self.scheduler, where)
        self.start_epoch = rec["epoch"] + 1
        self.best = rec["best_val_mpjpe_mm"]
        self.step = rec["step"]
        for key, (module, opt) in self.method.state().items():
            part_tensors, part = load_part(last, rec, key)
            restore(module, part_tensors, part, opt, where=f"{where} ({key})")
        return rec

    def _check_resume(self, rec: dict) -> None:
        """Refuse to continue a run that ``rec`` (``last``'s record) says is another kind of run."""

    # -- training ------------------------------------------------------------------------------
    def lift(self, x: torch.Tensor) -> torch.Tensor:
        """The training forward (DDP-wrapped, autocast on CUDA) of 2D inputs as :meth:`observe` gives them."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            return self.ddp(self.observe(x))

    def observe(self, x: torch.Tensor) -> torch.Tensor:
        """2D inputs [..., J, 2] with the joint definitions of the keypoints the lifter will be
        given (``input_map``, [J, J], set by adaptation to a detector's format); unchanged without."""
        return x if self.input_map is None else torch.einsum("lj,...jc->...lc", self.input_map, x)

    def share(self, t: torch.Tensor) -> torch.Tensor:
        """This process's share of a global batch."""
        return t[self.dist.rank :: self.dist.world]

    def draw_frames(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """This process's share of ``n`` random training frames (indices into ``train_set``)."""
        return self.train_idx[self.share(torch.randint(len(self.train_idx), (n,), generator=generator)).to(self.device)]

    def average_gradients(self, params) -> None:
        """Average the gradients of a method's own networks over the processes (the lifter's go
        through DDP): one all-reduce of the flattened gradients."""
        if self.dist.world == 1:
            return
        grads = [p.grad for p in params if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.dist.world
        for g, v in zip(grads, torch.split(flat, [g.numel() for g in grads])):
            g.copy_(v.view_as(g))

    def _batches(self, epoch: int):
        """Global batches of train indices, identical on every rank, and the flip mask."""
        g = torch.Generator().manual_seed(epoch_seed(self.cfg.run.seed, epoch, "perm"))
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

    def _lifter_step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward(inputs=list(self.model.parameters()))
        if self.cfg.train.grad_clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.train.grad_clip)
        self.optimizer.step()

    def _train_epoch(self, epoch: int, log) -> tuple[float, float, dict]:
        """One epoch: (mean loss in mm, samples per second, the method's figures)."""
        from tqdm import tqdm

        tc = self.cfg.train
        self.epoch = epoch
        torch.manual_seed(epoch_seed(self.cfg.run.seed, epoch, "dropout") + self.dist.rank)
        # one stream on every rank: each draws what the global batch needs and keeps its share, so
        # N processes follow the single-process run
        self.rng = torch.Generator().manual_seed(epoch_seed(self.cfg.run.seed, epoch, METHOD_STREAM))
        self.ddp.train()
        batches = list(self._batches(epoch))
        name = "" if isinstance(self.method, Supervised) else f"{self.method.name} "
        bar = tqdm(batches, desc=f"{name}epoch {epoch + 1}/{tc.epochs}", unit="batch", leave=False,
                   disable=not (tc.progress and self.dist.main))
        t0, seen = time.perf_counter(), 0
        sums: torch.Tensor | None = None  # the loss and the method's figures, summed on the device: no sync per step
        keys: list[str] = []
        for idx, flip in bar:
            batch = Batch(self, self.share(idx), self.share(flip), len(idx))
            loss, stats = self.method.step(batch)
            self._lifter_step(loss)
            self.step += 1
            w = batch.frames
            seen += w * self.dist.world
            if sums is None:
                keys = list(stats)
                sums = torch.zeros(1 + len(keys), device=self.device)
            sums += torch.stack([loss.detach(), *(stats[k].detach() for k in keys)]) * w
            if self.step % int(tc.log_every) == 0:
                loss_val = float(loss.detach())
                rate = seen / (time.perf_counter() - t0)
                bar.set_postfix(loss_mm=f"{loss_val * 1000:.1f}", samples_s=f"{rate:.0f}")
                log(epoch, "train", {"loss_mm": loss_val * 1000, "samples_per_s": rate})
        rate = seen / (time.perf_counter() - t0)
        if sums is None:
            raise PosedaInputError("train.batch_size", f"{tc.batch_size} is larger than the epoch's "
                                                       f"{min(len(self.train_idx), int(self.cfg.data.samples_per_epoch or 1e18))} frames")
        if self.dist.world > 1:  # every rank judges the epoch on the same, global figures
            dist.all_reduce(sums)
        means = (sums / max(1, seen)).tolist()
        figures = self.method.epoch_figures(epoch, dict(zip(keys, means[1:])))
        if figures:
            log(epoch, "epoch", figures)
        return means[0] * 1000, rate, figures

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
                loss_mm, rate, figures = self._train_epoch(epoch, log)
                if not math.isfinite(loss_mm):  # nothing of this epoch is kept: last stays the last good one
                    raise TrainingDiverged(self.run_dir, f"the training loss became {loss_mm} in epoch {epoch + 1}; the last "
                                                         "good checkpoint is kept: lower train.lr, or check the data")
                self.scheduler.step()
                metrics = {"train_loss_mm": loss_mm, "train_samples_per_s": rate, **figures}
                if self.dist.main and ((epoch + 1) % int(tc.eval_every) == 0 or epoch + 1 == int(tc.epochs)):
                    val = self.validate()
                    metrics["val_mpjpe_mm"] = val
                    log(epoch, "val", {"val_mpjpe_mm": val, "seconds": time.perf_counter() - t0})
                    if val < self.best or not self.method.keeps_best:
                        self.best = min(self.best, val)
                        save_checkpoint(self.run_dir / "best", self.model, self.record(epoch, metrics))
                if self.dist.main:
                    self._save_last(epoch, metrics)
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
        adapting); write report.md/.csv/.json. None on the other processes, for a domain without
        3D (footage from keypoint files) and for a source with no evaluation split (``cmu-handheld``,
        bundled motion: all of it is for training)."""
        if not self.dist.main or not self.eval_domain.has_3d or not self.eval_domain.meta.get("eval_split"):
            return None
        tensors, rec = load_checkpoint(self.run_dir / "best")
        restore(self.model, tensors, rec)
        flip = self.cfg.eval.flip_test if flip_test is None else flip_test
        ec = self.cfg.eval
        rep = evaluate_split(self.model, self.eval_domain.evaluation(self.layout), flip, int(ec.batch_size), self.device,
                             self.codec, int(ec.get("fit_steps", 0)), float(ec.get("fit_prior", 0.1)))
        rep.write(self.run_dir / "report")
        return rep
