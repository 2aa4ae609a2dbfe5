"""A lifter's accuracy on every built-in domain (made for the bundled default lifter).

    POSEDA_CACHE=... python benchmarks/bundled_accuracy.py [-c CHECKPOINT]

For each prepared built-in domain: MPJPE and PA-MPJPE (mm) on its evaluation split, ground-truth
2D, the lifter's own input frames, flip test on, on the joints the lifter and the domain share.
Where the domain lacks a joint the lifter takes as input (HumanEva-I has no Spine), that joint's
2D is made as the keypoint formats make it (Spine: the midpoint of Pelvis and Thorax) and the
score is on the shared joints. For ``cmu-3dhp`` and ``bandai-wild`` the protocol-A figure
(each subject scaled to Human3.6M's height, :mod:`poseda.data.universal`) is printed too.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.data.universal import universal_poses
from poseda.errors import PosedaInputError
from poseda.inference import evaluate_split, load_lifter, predict
from poseda.metrics import mpjpe, pa_mpjpe

DOMAINS = ("h36m", "humaneva", "cmu-3dhp", "bandai-wild")


def shared_joint_scores(model, layout, domain, codec: PoseCodec) -> tuple[float, float, int, str]:
    """MPJPE / PA-MPJPE (mm) on the joints ``layout`` and the domain share, with a missing Spine
    input made from Pelvis and Thorax."""
    own = domain.layout
    shared = [n for n in layout.joints if n in own.joints]
    poses = domain.evaluation(own)
    made = [n for n in layout.joints if n not in own.joints]
    if set(made) - {"Spine"}:
        raise PosedaInputError(domain.name, f"lacks the input joint(s) {sorted(set(made) - {'Spine'})}")
    j2d = np.stack([poses.joints2d[:, own.index(n)] if n in own.joints else
                    (poses.joints2d[:, own.index("Pelvis")] + poses.joints2d[:, own.index("Thorax")]) / 2
                    for n in layout.joints], 1)
    inputs = poses.take(np.arange(len(j2d)))
    inputs.joints2d, inputs.layout = j2d, layout
    inputs.joints3d = np.zeros((len(j2d), layout.num_joints, 3))
    pred = predict(model, DeviceSet.from_split(inputs, codec), flip_test=True, codec=codec).numpy()
    pred = pred[:, [layout.index(n) for n in shared]]
    gt = poses.joints3d[:, [own.index(n) for n in shared]]
    gt = gt - gt[:, :1]
    return float(mpjpe(pred, gt)) * 1000, float(pa_mpjpe(pred, gt)) * 1000, len(shared), ", ".join(made)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-c", "--checkpoint", default="default")
    ap.add_argument("--domain", action="append", help="Domains (default: every built-in one prepared).")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    model, rec, layout = load_lifter(args.checkpoint)
    codec = PoseCodec()
    print(f"{args.checkpoint}: {rec['model']['name']} {rec['model'].get('options', {})}, {model.receptive_field}-frame input, "
          f"joints {layout.name}; ground-truth 2D, flip test on, each domain's evaluation split")
    print("| domain | frames | joints scored | MPJPE mm | PA-MPJPE mm | MPJPE-U mm (protocol A) |")
    print("|---|---|---|---|---|---|")
    for name in args.domain or DOMAINS:
        try:
            d = load_domain(name, cache_root(None))
        except PosedaInputError as e:
            print(f"| {name} | not prepared ({e.problem}) | | | | |")
            continue
        try:
            poses = d.evaluation(layout)
        except PosedaInputError:
            m, pa, n, made = shared_joint_scores(model, layout, d, codec)
            print(f"| {name} | {len(d.evaluation(d.layout).joints2d)} | {n} shared ({made} 2D made from Pelvis and Thorax) "
                  f"| {m:.1f} | {pa:.1f} | |")
            continue
        rep = evaluate_split(model, poses, flip_test=True)
        u = ""
        if name in ("cmu-3dhp", "bandai-wild"):
            u = f"{evaluate_split(model, universal_poses(poses), flip_test=True).overall['MPJPE']:.1f}"
        print(f"| {name} | {len(poses.joints2d)} | {layout.num_joints} | {rep.overall['MPJPE']:.1f} | "
              f"{rep.overall['PA-MPJPE']:.1f} | {u} |")


if __name__ == "__main__":
    main()
