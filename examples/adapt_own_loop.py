"""PoseDA around your own lifter and your own training loop (no CLI, no poseda engine).

What poseda gives you here: the data (source 2D-3D pairs with cameras, target 2D with its
intrinsics and no 3D), GPA (``GlobalPositionAlignment``), the LPA augmentor, its two
discriminators and losses. What stays yours: the lifter, the optimiser and the loop. One step:

1. draw a source batch: root-relative 3D ``y`` and the camera-frame root, so ``y + root`` is the
   pose where the source camera saw it;
2. LPA: the augmentor turns ``y`` and noise into bone-angle, bone-length and rotation
   parameters; ``apply_augmentation`` makes the augmented pose;
3. GPA: both poses are placed against fresh random target 2D poses and projected with those
   poses' own cameras: the lifter's inputs;
4. the augmentor learns to fool the anchor discriminator (real target 2D) within its bounds;
   the discriminator learns to tell them apart; the lifter learns from both batches.

    python examples/adapt_own_loop.py --source h36m --target cmu-3dhp --steps 2000
"""
from __future__ import annotations

import argparse
import math

import torch
from torch import nn

from poseda.adapt import (
    GlobalPositionAlignment,
    PoseAugmentor,
    PoseDiscriminator2D,
    apply_augmentation,
    augmentation_penalty,
    lsgan_d,
    lsgan_g,
)
from poseda.adapt.lpa import bone_angle_change
from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.inference import evaluate_split
from poseda.skeleton.layouts import protocol_joints


class TinyLifter(nn.Module):
    """Your model: any nn.Module with ``receptive_field``, ``layout`` and [B,T,J,2] -> [B,J,3]."""

    def __init__(self, layout, hidden: int = 512):
        super().__init__()
        self.layout, self.receptive_field = layout, 1
        j = layout.num_joints
        self.net = nn.Sequential(nn.Linear(2 * j, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 3 * j))

    def forward(self, x):
        b = x.shape[0]
        return self.net(x[:, 0].reshape(b, -1)).view(b, -1, 3)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="h36m")
    ap.add_argument("--target", default="cmu-3dhp")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    codec = PoseCodec()
    source, target = load_domain(args.source, cache_root(args.cache)), load_domain(args.target, cache_root(args.cache))
    layout = protocol_joints(args.target, source.joint_mask, target.joint_mask)
    src = DeviceSet.from_split(source.training(layout), codec)  # 2D, root-relative 3D, roots, cameras
    tgt = DeviceSet.from_split(target.adaptation(layout), codec)  # 2D and intrinsics: no 3D exists here
    gpa = GlobalPositionAlignment(tgt.inputs, tgt.intrinsics)

    lifter = TinyLifter(layout)
    augmentor = PoseAugmentor(layout, noise_dim=16, hidden=128, max_bone_angle_deg=45, length_range=0.3)
    disc = PoseDiscriminator2D(layout, hidden=128)
    opt = torch.optim.Adam(lifter.parameters(), lr=1e-3)
    opt_g = torch.optim.Adam(augmentor.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.999))
    band = (math.radians(1), math.radians(8))

    for step in range(args.steps):
        idx = torch.randint(len(src), (args.batch,), generator=gen)
        y, root = src.targets[idx], src.roots[idx]
        # LPA: parameters, then the augmented pose (root-relative)
        params = augmentor(y, torch.randn(args.batch, 16, generator=gen))
        y_aug = apply_augmentation(y, params, layout)
        # GPA: place both against fresh target 2D poses, project with those poses' cameras
        _, x, _ = gpa(y + root[:, None], gen)
        _, x_aug, _ = gpa(y_aug, gen)
        # augmentor step: fool the anchor discriminator, stay inside the bone-angle band
        pen_angle, pen_len = augmentation_penalty(bone_angle_change(y, y_aug, layout), params.length_ratio, band)
        loss_g = lsgan_g(disc(x_aug)) + 5 * pen_angle + pen_len
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        # discriminator step: real target 2D vs. augmented projections
        real, _, _ = gpa.anchors(args.batch, gen)
        loss_d = lsgan_d(disc(real), disc(x_aug.detach()))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # your lifter's step on both batches
        pred = lifter(torch.cat([x, x_aug.detach()])[:, None])
        pred = pred - pred[:, :1]
        loss = (pred - torch.cat([y, y_aug.detach()])).norm(dim=-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 0:
            print(f"step {step}: lifter {loss.item() * 1000:.1f} mm, D {loss_d.item():.3f}, G {loss_g.item():.3f}")

    report = evaluate_split(lifter, target.evaluation(layout), flip_test=True)  # target 3D: for the metric only
    print(report.to_markdown().split("**per action**")[0])
    return report


if __name__ == "__main__":
    main()
