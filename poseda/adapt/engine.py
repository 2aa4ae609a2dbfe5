"""Adaptation of a lifter to a target domain: PoseDA (GPA + LPA) and its baselines, one engine.

Methods (``adapt.method``):

========== ===========================================================================================
source     the lifter keeps training on source pairs only (the same steps as every method: a fair
           source-only baseline)
gpa        source poses placed by GPA against random target 2D poses, projected with the target
           poses' own cameras
lpa        source pairs plus augmented poses at their original place and camera; the augmentor is
           judged by the anchor discriminator against real target 2D (no GPA)
gpa_lpa    PoseDA: GPA-placed source pairs plus augmented poses placed by GPA, judged against real
           target 2D
poseaug    generalisation baseline (PoseAug-style): like ``lpa`` but the discriminator's real 2D
           comes from the source, so nothing of the target is used
oracle     supervised training on the target's own 3D (adaptation split) and its 2D: an upper bound
========== ===========================================================================================

The target's 3D never reaches adaptation: the target is read through
:meth:`~poseda.data.domain.Domain.adaptation`, which returns :class:`Keypoints2D` (no 3D field);
only ``oracle`` asks for :meth:`~poseda.data.domain.Domain.oracle_training`, by name. Because no
target label is available to select a checkpoint, adapted runs keep their last epoch.

One step (all batched, one lifter forward on the concatenated source and augmented batches):
1. a source batch (windows for temporal lifters), mirrored at random with its camera;
2. GPA pairs it with a fresh random draw of target 2D poses and their cameras;
3. the augmentor turns the centre frame and noise into transformation parameters applied to the
   whole window, the result is placed (GPA, or its original place) and projected;
4. augmentor loss = adversarial (anchor 2D + KCS 3D) + penalties + hardness feedback;
   discriminator loss = least-squares GAN on real vs. detached fakes;
   lifter loss = error on the (placed) source batch + ``aug_weight`` x error on augmented poses.

Under ``torchrun`` every method runs with DDP: each process takes its share of every global
batch and draws the global batch's noise, anchors and real samples from one shared stream; the
lifter's gradients are averaged by DDP, the augmentor's and discriminators' by one all-reduce
each, so N processes follow the single-process run (test). The bone-angle band and the feedback
term are judged on each process's share of the batch. ``--resume`` continues a run: the
augmentor, discriminators and their optimisers are saved beside ``last``.
"""
from __future__ import annotations

import math
import time

import torch
import torch.distributed as dist
from torch import nn

from poseda.adapt.gpa import GlobalPositionAlignment, draw_anchors, gpa_place
from poseda.adapt.lpa import (
    KCSDiscriminator3D,
    PoseAugmentor,
    PoseDiscriminator2D,
    apply_augmentation,
    augmentation_penalty,
    bone_angle_change,
    feedback_loss,
    lsgan_d,
    lsgan_g,
)
from poseda.data.mirror import cache_root
from poseda.data.prepare import load_domain
from poseda.errors import PosedaInputError
from poseda.geometry.camera import project
from poseda.skeleton.layouts import JOINT_SETS, protocol_joints
from poseda.train.checkpoint import load_checkpoint, load_init, restore, save_checkpoint
from poseda.train.data import device_split
from poseda.train.engine import Trainer, _epoch_seed, pose_errors

METHODS = ("source", "gpa", "lpa", "gpa_lpa", "poseaug", "oracle")
USES_TARGET_2D = {"gpa", "lpa", "gpa_lpa"}  # methods that read the target's 2D
AUGMENTS = {"lpa", "gpa_lpa", "poseaug"}


class AdaptationCollapsed(RuntimeError):
    """The adversarial augmentation collapsed and ``lpa.on_collapse`` is ``stop``."""


class Adapter(Trainer):
    """Adapts a lifter to ``cfg.adapt.target`` with ``cfg.adapt.method``; see the module doc."""

    def __init__(self, cfg, model: nn.Module | None = None, resume: bool = False):
        method = cfg.adapt.method
        if method not in METHODS:
            raise PosedaInputError("adapt.method", f"unknown method {method!r} (known: {', '.join(METHODS)})")
        if not cfg.adapt.target:
            raise PosedaInputError("adapt.target", "no target domain given")
        if int(cfg.train.chunk) > 1 and method not in ("source", "oracle"):
            raise PosedaInputError("train.chunk", f"{method} trains on single output frames; chunks are for source and oracle")
        self.method = method
        self.init_sha256 = None  # the source checkpoint's weights, recorded so a resume can check them
        super().__init__(cfg, model=model, resume=resume)

    # -- data ------------------------------------------------------------------------------------
    def _setup_data(self):
        cfg = self.cfg
        cache = cache_root(cfg.data.cache)
        source = load_domain(cfg.data.source, cache)
        target = load_domain(cfg.adapt.target, cache)
        if source.role != "source":
            raise PosedaInputError("data.source", f"{source.name} is a target domain; adapt from a source domain")
        if target.role != "target":
            raise PosedaInputError("adapt.target", f"{target.name} is a source domain, not a target")
        self.layout = self._joint_set(protocol_joints(target.name, source.joint_mask, target.joint_mask))
        self.source, self.target, self.eval_domain = source, target, target
        if self.method == "oracle":
            self.domain = target
            return device_split(target, "oracle_training", self.layout, self.codec, self.device)
        self.domain = source
        return device_split(source, "training", self.layout, self.codec, self.device)

    def _init_weights(self, model: nn.Module) -> None:
        if self.cfg.train.init:
            raise PosedaInputError("train.init", "an adaptation starts from adapt.init (poseda adapt's checkpoint argument)")
        if self.cfg.adapt.init:
            self.init_sha256 = load_init(model, self.cfg.adapt.init, self.layout)

    def _setup_extra(self) -> None:
        cfg, lc = self.cfg, self.cfg.lpa
        self.select_best = self.method == "oracle"  # no target labels to select adapted weights with
        self.extra_record = {"adaptation": {"method": self.method, "target": self.target.name,
                                            "init": str(self.cfg.adapt.init) if self.cfg.adapt.init else None,
                                            "init_sha256": self.init_sha256}}
        self.gpa = None
        if self.method in USES_TARGET_2D:
            _, tset = device_split(self.target, "adaptation", self.layout, self.codec, self.device)  # 2D + intrinsics only
            self.gpa = GlobalPositionAlignment(tset.inputs, tset.intrinsics, self.codec.root)
        self.augmentor = None
        if self.method in AUGMENTS:
            g = torch.Generator().manual_seed(_epoch_seed(cfg.run.seed, -1, "lpa-init"))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(torch.randint(2**62, (1,), generator=g)))
                self.augmentor = PoseAugmentor(self.layout, lc.noise_dim, lc.hidden, lc.max_bone_angle_deg,
                                               lc.length_range, tuple(lc.max_rotation_deg)).to(self.device)
                self.d2 = PoseDiscriminator2D(self.layout, lc.hidden, self.codec.root).to(self.device)
                self.d3 = KCSDiscriminator3D(self.layout, lc.hidden).to(self.device)
            self.opt_g = torch.optim.Adam(self.augmentor.parameters(), lr=lc.lr, betas=(0.5, 0.999))
            self.discriminators = nn.ModuleDict({"d2": self.d2, "d3": self.d3})
            self.opt_d = torch.optim.Adam(self.discriminators.parameters(), lr=lc.d_lr, betas=(0.5, 0.999))
        self.collapse_events: list[dict] = []
        self.csv_fields = self.csv_fields + ["source_err_mm", "aug_err_mm", "d_loss", "bone_angle_change_deg",
                                             "param_saturation", "param_spread", "d2_accuracy", "length_change",
                                             "rotation_x_deg", "rotation_y_deg", "rotation_z_deg"]

    def final_report(self, flip_test: bool | None = None):
        """The target evaluation, or None for a target without 3D (footage from keypoint files)."""
        if not self.eval_domain.has_3d:
            return None
        return super().final_report(flip_test)

    # -- resume: the augmentor and discriminators are saved beside ``last`` ------------------------
    def _extra_parts(self):
        if self.augmentor is None:
            return []
        return [("last-augmentor", self.augmentor, self.opt_g), ("last-discriminators", self.discriminators, self.opt_d)]

    def _save_extra_state(self, epoch: int) -> None:
        for stem, module, opt in self._extra_parts():
            save_checkpoint(self.run_dir / stem, module, {"epoch": epoch, "part": stem}, opt)

    def _resume(self) -> dict:
        rec = super()._resume()
        ad = rec.get("adaptation") or {}
        if (ad.get("method"), ad.get("target")) != (self.method, self.target.name):
            raise PosedaInputError(self.run_dir, f"holds a {ad.get('method')} run to {ad.get('target')}, "
                                                 f"not {self.method} to {self.target.name}")
        self.collapse_events = list(ad.get("collapse", []))
        if self.collapse_events:
            self.extra_record["adaptation"]["collapse"] = self.collapse_events
        for stem, module, opt in self._extra_parts():
            tensors, part = load_checkpoint(self.run_dir / stem)
            if part.get("epoch") != rec["epoch"]:
                raise PosedaInputError(self.run_dir / stem, f"is from epoch {part.get('epoch', -1) + 1} but last.json from "
                                                            f"epoch {rec['epoch'] + 1} (interrupted while saving): start the run again")
            restore(module, tensors, part, opt)
        return rec

    # -- one epoch ---------------------------------------------------------------------------------
    def _source_batch(self, idx: torch.Tensor, flip: torch.Tensor):
        """Windows of inputs [B,T,J,2], absolute camera-frame 3D [B,T,J,3], centre targets
        [B,J,3] and the source cameras [B,4], mirrored where ``flip``."""
        ts, rf = self.train_set, self.receptive_field
        win = ts.window_index(idx, rf)
        x = ts.inputs[win]
        p3 = ts.targets[win] + ts.roots[win][..., None, :]
        y = ts.targets[idx]
        k = ts.intrinsics[idx]
        if self.cfg.train.flip_augment:
            f = flip[:, None, None, None]
            x = torch.where(f, self.codec.flip_2d(x, self.layout), x)
            p3 = torch.where(f, self.codec.flip_3d(p3, self.layout), p3)
            y = torch.where(f[:, 0], self.codec.flip_3d(y, self.layout), y)
            k = torch.where(flip[:, None], self.codec.flip_intrinsics(k), k)
        return x, p3, y, k

    def _train_epoch(self, epoch: int, log):
        if self.method in ("source", "oracle"):
            return super()._train_epoch(epoch, log)
        from tqdm import tqdm

        tc, lc = self.cfg.train, self.cfg.lpa
        torch.manual_seed(_epoch_seed(self.cfg.run.seed, epoch, "dropout") + self.dist.rank)
        # one random stream on every rank: each draws the global batch's noise, anchors and real
        # samples and keeps its share, so N processes follow the single-process run
        gen = torch.Generator().manual_seed(_epoch_seed(self.cfg.run.seed, epoch, "adapt"))
        self.ddp.train()
        batches = list(self._batches(epoch))
        bar = tqdm(batches, desc=f"{self.method} epoch {epoch + 1}/{tc.epochs}", unit="batch", leave=False,
                   disable=not (tc.progress and self.dist.main))
        root, c = self.codec.root, self.receptive_field // 2
        band = (math.radians(lc.angle_band_deg[0]), math.radians(lc.angle_band_deg[1]))
        stats = torch.zeros(11, device=self.device)  # summed on the device: no sync per step
        t0, seen, n_steps = time.perf_counter(), 0, 0
        for idx, flip in bar:
            bg = len(idx)  # the global batch; this rank's share is [rank :: world]
            idx, flip = self._share(idx), self._share(flip)
            b = len(idx)
            x, p3, y, k_src = self._source_batch(idx, flip)
            if self.gpa is not None and self.method != "lpa":
                a2d, a_k = self._anchors(bg, gen)
                _, x = gpa_place(p3, a2d, a_k, root)
            if self.augmentor is None:  # gpa only
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                    pred = self.ddp(x)
                loss = pose_errors(pred.float(), y, root).mean()
                self._lifter_step(loss)
                stats[0] += loss.detach() * b
            else:
                # -- augment, place, project
                noise = self._share(torch.randn(bg, lc.noise_dim, generator=gen)).to(self.device)
                params = self.augmentor(y, noise)
                rel = p3 - p3[..., root : root + 1, :]
                aug = apply_augmentation(rel, params, self.layout, root, lc.bone_frame, lc.keep_size)  # [B,T,J,3] root-relative
                if self.method == "gpa_lpa":
                    a2d, a_k = self._anchors(bg, gen)
                    _, x_aug = gpa_place(aug, a2d, a_k, root)
                else:  # lpa / poseaug: the source pose's own place and camera
                    x_aug = project(aug + p3[..., root : root + 1, :], k_src[:, None])
                y_aug = aug[:, c]
                # -- lifter on source and augmented batches at once; the augmentor's feedback term
                #    needs gradients through the lifter, so the augmented inputs stay attached then
                use_fb, use_d3 = lc.w_feedback > 0, lc.w_adv_3d > 0
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                    pred = self.ddp(torch.cat([x, x_aug if use_fb else x_aug.detach()]))
                err = pose_errors(pred.float(), torch.cat([y, y_aug if use_fb else y_aug.detach()]), root)
                err_src, err_aug = err[:b].mean(), err[b:].mean()
                # -- augmentor: fool the discriminators, stay in the band, be hard but not too hard
                fake2d = x_aug[:, c]
                angle = bone_angle_change(y, y_aug, self.layout)
                pen_angle, pen_len = augmentation_penalty(angle, params.length_ratio, band)
                loss_g = lc.w_adv_2d * lsgan_g(self.d2(fake2d)) + lc.w_angle * pen_angle + lc.w_length * pen_len
                if use_d3:
                    loss_g = loss_g + lc.w_adv_3d * lsgan_g(self.d3(y_aug))
                if use_fb:
                    loss_g = loss_g + lc.w_feedback * feedback_loss(err_aug, err_src, lc.hard_ratio)
                self.opt_g.zero_grad(set_to_none=True)
                loss_g.backward(inputs=list(self.augmentor.parameters()), retain_graph=use_fb)
                self._average_grads(self.augmentor.parameters())
                if tc.grad_clip:
                    nn.utils.clip_grad_norm_(self.augmentor.parameters(), tc.grad_clip)
                self.opt_g.step()
                # -- lifter
                loss = err_src + self.cfg.adapt.aug_weight * err_aug
                self._lifter_step(loss)
                # -- discriminators on real poses vs. detached fakes
                if self.method == "poseaug":
                    real2d = self.train_set.inputs[self._draw(bg, gen)]
                else:
                    real2d, _ = self._anchors(bg, gen)
                r2, f2 = self.d2(real2d), self.d2(fake2d.detach())
                loss_d = lsgan_d(r2, f2)
                if use_d3:
                    real3d = self.train_set.targets[self._draw(bg, gen)]
                    loss_d = loss_d + lsgan_d(self.d3(real3d), self.d3(y_aug.detach()))
                self.opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                self._average_grads(self.discriminators.parameters())
                self.opt_d.step()
                with torch.no_grad():
                    sat = (torch.tanh(params.raw).abs() > 0.98).float().mean()
                    spread = params.raw.std(0).mean()
                    acc2 = 0.5 * ((r2 > 0.5).float().mean() + (f2 < 0.5).float().mean())
                    stats += torch.stack([err_src.detach() * b, err_aug.detach() * b, loss_d.detach() * b,
                                          angle.mean().detach() * b, sat * b, spread * b, acc2 * b,
                                          params.length_ratio.sub(1).abs().mean().detach() * b,
                                          *(params.global_rot.detach().abs().mean(0) * b)])
            self.step += 1
            n_steps += 1
            seen += b * self.dist.world
            if self.step % int(tc.log_every) == 0:
                rate = seen / (time.perf_counter() - t0)
                bar.set_postfix(loss_mm=f"{float(loss.detach()) * 1000:.1f}", samples_s=f"{rate:.0f}")
                log(epoch, "train", {"loss_mm": float(loss.detach()) * 1000, "samples_per_s": rate})
        if self.dist.world > 1:  # every rank judges collapse on the same, global figures
            dist.all_reduce(stats)
        s = (stats / max(1, seen)).tolist()
        self.epoch_stats = {"source_err_mm": s[0] * 1000}
        if self.augmentor is not None:
            self.epoch_stats.update(aug_err_mm=s[1] * 1000, d_loss=s[2], bone_angle_change_deg=math.degrees(s[3]),
                                    param_saturation=s[4], param_spread=s[5], d2_accuracy=s[6], length_change=s[7],
                                    rotation_x_deg=math.degrees(s[8]), rotation_y_deg=math.degrees(s[9]),
                                    rotation_z_deg=math.degrees(s[10]))
            self._check_collapse(epoch)
        log(epoch, "adapt", self.epoch_stats)
        return s[0] * 1000, seen / (time.perf_counter() - t0)

    def _share(self, t: torch.Tensor) -> torch.Tensor:
        """This rank's share of a global batch."""
        return t[self.dist.rank :: self.dist.world]

    def _draw(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """This rank's share of ``n`` random source training frames."""
        return self.train_idx[self._share(torch.randint(len(self.train_idx), (n,), generator=gen)).to(self.device)]

    def _anchors(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's share of ``n`` random target 2D poses, each with its own intrinsics."""
        i = self._share(draw_anchors(n, len(self.gpa), gen, self.device))
        return self.gpa.target2d[i], self.gpa.target_k[i]

    def _average_grads(self, params) -> None:
        """Average the augmentor's or discriminators' gradients over the ranks (the lifter's go
        through DDP); one all-reduce of the flattened gradients."""
        if self.dist.world == 1:
            return
        grads = [p.grad for p in params if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.dist.world
        for g, v in zip(grads, torch.split(flat, [g.numel() for g in grads])):
            g.copy_(v.view_as(g))

    def _lifter_step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward(inputs=list(self.model.parameters()))
        if self.cfg.train.grad_clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.train.grad_clip)
        self.optimizer.step()

    def _check_collapse(self, epoch: int) -> None:
        """Collapse signs, judged on the epoch's means: the augmentor's outputs pinned at their
        bounds, no spread across the batch (it ignores pose and noise), or a discriminator that
        tells every fake from every real pose."""
        lc, st = self.cfg.lpa, self.epoch_stats
        reasons = []
        if not all(math.isfinite(v) for v in st.values()):
            reasons.append("non-finite losses")
        if st["param_saturation"] > lc.collapse_saturation:
            reasons.append(f"{st['param_saturation']:.0%} of the augmentation parameters sit at their bounds")
        if st["param_spread"] < lc.collapse_spread:
            reasons.append(f"augmentation parameters do not vary across the batch (spread {st['param_spread']:.2e})")
        if st["d2_accuracy"] > lc.collapse_d_accuracy:
            reasons.append(f"the anchor discriminator separates real from augmented 2D {st['d2_accuracy']:.1%} of the time")
        if reasons:
            event = {"epoch": epoch + 1, "reasons": reasons}
            self.collapse_events.append(event)
            self.extra_record["adaptation"]["collapse"] = self.collapse_events
            if self.dist.main:
                print(f"warning: augmentation collapse in epoch {epoch + 1}: {'; '.join(reasons)}", flush=True)
            if lc.on_collapse == "stop":
                raise AdaptationCollapsed(f"epoch {epoch + 1}: {'; '.join(reasons)}")


def adapt_config(checkpoint, target: str, method: str, overrides: list[str] = (), config: str = "adapt"):
    """The run config of an adaptation that starts from ``checkpoint``: defaults <- ``config``
    (the adaptation schedule) <- the checkpoint's own model and data sections <- the adaptation
    settings <- ``overrides``."""
    from pathlib import Path

    from poseda.config import load_config

    _, rec = load_checkpoint(checkpoint)
    if rec["model"]["name"].startswith("custom:"):
        raise PosedaInputError(checkpoint, "holds a user model: adapt it through the library API (poseda.adapt.Adapter)")
    data = dict(rec["config"]["data"])
    data["joints"] = rec["layout"]["name"] if rec["layout"]["name"] in JOINT_SETS else None
    extra = {"model": rec["config"]["model"], "data": data}
    stem = Path(str(checkpoint))
    return load_config(config, [f"adapt.method={method}", f"adapt.target={target}", f"adapt.init={checkpoint}",
                                f"run.name={stem.parent.name}-{method}-{target}", *overrides], extra=extra)


__all__ = ["Adapter", "AdaptationCollapsed", "METHODS", "adapt_config"]
