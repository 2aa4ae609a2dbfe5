"""The methods that train on adversarially augmented poses (:mod:`poseda.adapt.lpa`): LPA,
PoseDA (GPA + LPA) and the PoseAug-style generalisation baseline.

One step, all batched, with one lifter forward on the concatenated source and augmented batches:

1. the source batch (windows for temporal lifters), mirrored at random with its camera, placed by
   GPA against random target poses (``gpa_lpa``) or left where its camera saw it;
2. the augmentor turns the centre frame and noise into transformation parameters applied to the
   whole window; the result is placed by GPA (``gpa_lpa``) or at its original place, and projected;
3. augmentor loss = adversarial (anchor 2D + KCS 3D) + penalties + hardness feedback, and its step;
4. discriminator loss = least-squares GAN on real poses vs. the fakes, and their step (each
   discriminator scores fakes and real poses in one call, shared with the augmentor's loss);
5. the lifter's loss = error on the (placed) source batch + ``adapt.aug_weight`` x error on the
   augmented poses (the engine takes its step).

The bone-angle band and the feedback term are judged on each process's share of the batch.
Collapse is checked every epoch on the epoch's means (over every process).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from poseda.adapt.gpa import gpa_place
from poseda.adapt.lpa import (
    KCSDiscriminator3D,
    PoseAugmentor,
    PoseDiscriminator2D,
    apply_augmentation,
    augmentation_penalty,
    bone_angle_change,
    bone_groups,
    feedback_loss,
    lsgan_d,
    lsgan_g,
)
from poseda.adapt.methods.base import AdaptationMethod, register_method
from poseda.errors import PosedaInputError, RunStopped
from poseda.geometry.camera import project
from poseda.train.engine import epoch_seed
from poseda.train.method import pose_errors

FIGURES = ("source_err_mm", "aug_err_mm", "d_loss", "bone_angle_change_deg", "param_saturation", "param_spread",
           "d2_accuracy", "length_change", "rotation_x_deg", "rotation_y_deg", "rotation_z_deg")


class AdaptationCollapsed(RunStopped):
    """The adversarial augmentation collapsed and ``lpa.on_collapse`` is ``stop``."""


class AdversarialAugmentation(AdaptationMethod):
    """The shared step; subclasses choose where poses are placed and what the anchor
    discriminator takes as real."""

    augments = True
    settings = ("lpa",)
    figures = FIGURES
    #: GPA places the source batch and the augmented poses (else: where their own camera saw them)
    place_with_gpa = False
    #: the anchor discriminator's real 2D: "target" poses, or the "source"'s own (PoseAug-style)
    real_2d = "target"

    def setup(self, trainer) -> None:
        super().setup(trainer)
        cfg, lc = trainer.cfg, trainer.cfg.lpa
        self.lc = lc
        bones = [trainer.layout.joints[j] for j in bone_groups(trainer.layout)[0]]
        bad = [n for n in lc.definition_bones if n not in bones]
        if bad:
            raise PosedaInputError("lpa.definition_bones", f"{bad} name no bone of {trainer.layout.name} (a bone is named by its "
                                                           f"child joint: {', '.join(bones)})")
        self.band = (math.radians(lc.angle_band_deg[0]), math.radians(lc.angle_band_deg[1]))
        g = torch.Generator().manual_seed(epoch_seed(cfg.run.seed, -1, "lpa-init"))
        with torch.random.fork_rng(devices=[]):  # the lifter's initialisation stays what it was
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=g)))
            self.augmentor = PoseAugmentor(trainer.layout, lc.noise_dim, lc.hidden, lc.max_bone_angle_deg,
                                           lc.length_range, tuple(lc.max_rotation_deg), lc.joint_shift_m,
                                           tuple(lc.shift_joints)).to(trainer.device)
            self.d2 = PoseDiscriminator2D(trainer.layout, lc.hidden, trainer.codec.root).to(trainer.device)
            self.d3 = KCSDiscriminator3D(trainer.layout, lc.hidden).to(trainer.device)
        self.opt_g = torch.optim.Adam(self.augmentor.parameters(), lr=lc.lr, betas=(0.5, 0.999))
        self.discriminators = nn.ModuleDict({"d2": self.d2, "d3": self.d3})
        self.opt_d = torch.optim.Adam(self.discriminators.parameters(), lr=lc.d_lr, betas=(0.5, 0.999))
        self.collapse_events: list[dict] = []

    def state(self):
        return {"augmentor": (self.augmentor, self.opt_g), "discriminators": (self.discriminators, self.opt_d)}

    def record(self) -> dict:
        return {"collapse": self.collapse_events} if self.collapse_events else {}

    def load_record(self, record: dict) -> None:
        self.collapse_events = list(record.get("collapse", []))

    def step(self, batch):
        t, lc = self.trainer, self.lc
        root, c = t.codec.root, t.receptive_field // 2
        bg, b = batch.global_size, len(batch)
        p3, y, x = batch.pose3d, batch.y, batch.x
        if self.place_with_gpa:
            a2d, a_k = self.anchors(bg, x[:, c])
            placed, x = gpa_place(p3, a2d, a_k, root, size=self.gpa_size, ray=self.gpa_ray)
            y_src = self.placed_labels(placed, y)
        else:
            y_src = y
        # -- augment, place, project
        noise = t.share(torch.randn(bg, lc.noise_dim, generator=t.rng)).to(t.device)
        params = self.augmentor(y, noise)
        rel = p3 - p3[..., root : root + 1, :]
        aug = apply_augmentation(rel, params, t.layout, root, lc.bone_frame, lc.keep_size, lc.size_from,
                                 tuple(lc.definition_bones))  # [B,T,J,3] root-relative
        if self.place_with_gpa:
            own2d = project(aug[:, c] + p3[:, c, root : root + 1], batch.intrinsics) if self.pairing == "similar" else None
            a2d, a_k = self.anchors(bg, own2d)
            at = aug + p3[..., root : root + 1, :] if self.gpa_ray else aug  # turning needs the ray it was seen along
            placed_aug, x_aug = gpa_place(at, a2d, a_k, root, size=self.gpa_size, ray=self.gpa_ray)
        else:  # the source pose's own place and camera
            placed_aug, x_aug = None, project(aug + p3[..., root : root + 1, :], batch.intrinsics[:, None])
        y_aug = aug[:, c]  # the augmentor's penalties and the 3D discriminator see it unturned
        y_aug_lift = y_aug if placed_aug is None else self.placed_labels(placed_aug, y_aug)
        # -- the lifter on source and augmented batches at once; the augmentor's feedback term
        #    needs gradients through the lifter, so the augmented inputs stay attached then
        use_fb, use_d3 = lc.w_feedback > 0, lc.w_adv_3d > 0
        xs, ys = [x, x_aug if use_fb else x_aug.detach()], [y_src, y_aug_lift if use_fb else y_aug_lift.detach()]
        extra = self.extra_pairs(batch)
        if extra is not None:
            xs.append(extra[0])
            ys.append(extra[1])
        pred = t.lift(torch.cat(xs))
        err = pose_errors(pred.float(), torch.cat(ys), root)
        err_src, err_aug = err[:b].mean(), err[b : 2 * b].mean()
        # -- each discriminator scores the fakes and the real poses in one call; the augmentor's
        #    loss and the discriminators' use the same scores (both before either network steps)
        fake2d = t.observe(x_aug[:, c])  # the target's joint definitions, as the lifter sees it
        if self.real_2d == "source":
            real2d = t.observe(t.train_set.inputs[t.draw_frames(bg, t.rng)])
        else:
            real2d, _ = self.anchors(bg)
        f2, r2 = self.d2(torch.cat([fake2d, real2d])).split([b, len(real2d)])
        if use_d3:
            real3d = t.train_set.targets[t.draw_frames(bg, t.rng)]
            f3, r3 = self.d3(torch.cat([y_aug, real3d])).split([b, len(real3d)])
        # -- augmentor: fool the discriminators, stay in the band, be hard but not too hard
        angle = bone_angle_change(y, y_aug, t.layout)
        pen_angle, pen_len = augmentation_penalty(angle, params.length_ratio, self.band)
        loss_g = lc.w_adv_2d * lsgan_g(f2) + lc.w_angle * pen_angle + lc.w_length * pen_len
        if params.joint_shift is not None:  # joint definitions: pulled towards none
            loss_g = loss_g + lc.w_shift * (params.joint_shift / lc.joint_shift_m).pow(2).mean()
        if use_d3:
            loss_g = loss_g + lc.w_adv_3d * lsgan_g(f3)
        if use_fb:
            loss_g = loss_g + lc.w_feedback * feedback_loss(err_aug, err_src, lc.hard_ratio)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward(inputs=list(self.augmentor.parameters()), retain_graph=True)  # the scores serve loss_d too
        t.average_gradients(self.augmentor.parameters())
        if t.cfg.train.grad_clip:
            nn.utils.clip_grad_norm_(self.augmentor.parameters(), t.cfg.train.grad_clip)
        self.opt_g.step()
        # -- discriminators: real poses vs. the fakes, whose gradient stops at the discriminators
        #    (nothing here reaches the augmentor or the lifter)
        loss_d = lsgan_d(r2, f2)
        if use_d3:
            loss_d = loss_d + lsgan_d(r3, f3)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward(inputs=list(self.discriminators.parameters()))
        t.average_gradients(self.discriminators.parameters())
        self.opt_d.step()
        with torch.no_grad():
            rot = params.global_rot.detach().abs().mean(0)
            stats = {"source_err": err_src, "aug_err": err_aug, "d_loss": loss_d, "bone_angle_change": angle.mean(),
                     "param_saturation": (torch.tanh(params.raw).abs() > 0.98).float().mean(),
                     "param_spread": params.raw.std(0).mean(),
                     "d2_accuracy": 0.5 * ((r2 > 0.5).float().mean() + (f2 < 0.5).float().mean()),
                     "length_change": params.length_ratio.sub(1).abs().mean(),
                     "rotation_x": rot[0], "rotation_y": rot[1], "rotation_z": rot[2]}
        loss = err_src + t.cfg.adapt.aug_weight * err_aug
        if extra is not None:
            stats["extra_err"] = err[2 * b :].mean()
            loss = loss + extra[2] * stats["extra_err"]
        return loss, stats

    def extra_pairs(self, batch) -> tuple[torch.Tensor, torch.Tensor, float] | None:
        """More pairs for the step's one lifter forward: (inputs [n, T, J, 2], root-relative
        labels [n, J, 3], the weight of their mean error in the lifter's loss); none here."""
        return None

    def epoch_figures(self, epoch, m):
        figures = {"source_err_mm": m["source_err"] * 1000, "aug_err_mm": m["aug_err"] * 1000, "d_loss": m["d_loss"],
                   "bone_angle_change_deg": math.degrees(m["bone_angle_change"]), "param_saturation": m["param_saturation"],
                   "param_spread": m["param_spread"], "d2_accuracy": m["d2_accuracy"], "length_change": m["length_change"],
                   **{f"rotation_{a}_deg": math.degrees(m[f"rotation_{a}"]) for a in "xyz"}}
        self._check_collapse(epoch, figures)
        return figures

    def _check_collapse(self, epoch: int, st: dict) -> None:
        """Collapse signs, judged on the epoch's means: the augmentor's outputs pinned at their
        bounds, no spread across the batch (it ignores pose and noise), or a discriminator that
        tells every fake from every real pose."""
        lc = self.lc
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
            self.collapse_events.append({"epoch": epoch + 1, "reasons": reasons})
            if self.trainer.dist.main:
                print(f"warning: augmentation collapse in epoch {epoch + 1}: {'; '.join(reasons)}", flush=True)
            if lc.on_collapse == "stop":
                raise AdaptationCollapsed(f"epoch {epoch + 1}: {'; '.join(reasons)}")


@register_method
class LPA(AdversarialAugmentation):
    name = "lpa"
    label = "LPA"
    description = "source pairs plus augmented poses at their own place and camera, judged against real target 2D"
    reads_target_2d = True


@register_method
class PoseDA(AdversarialAugmentation):
    name = "gpa_lpa"
    label = "GPA + LPA (PoseDA)"
    description = "PoseDA: GPA-placed source pairs plus GPA-placed augmented poses, judged against real target 2D"
    reads_target_2d = True
    place_with_gpa = True
    settings = ("lpa", "gpa")


@register_method
class PoseAugStyle(AdversarialAugmentation):
    name = "poseaug"
    label = "PoseAug-style"
    description = "generalisation baseline: like lpa, but the discriminator's real 2D is the source's (no target)"
    real_2d = "source"
