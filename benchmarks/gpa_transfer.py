"""Which difference between the source and a target makes a GPA-trained lifter lose: controlled
transfers of the source's held-out poses towards the target, one difference at a time.

    POSEDA_CACHE=... python benchmarks/gpa_transfer.py -t humaneva \\
        "source only=RUN/adapt/simple_baseline-s0/humaneva15/source/best" \\
        "GPA=RUN/adapt/simple_baseline-s0/humaneva/gpa/best" [more LABEL=CHECKPOINT ...]

Every checkpoint is evaluated (flip test on, MPJPE / PA-MPJPE in mm and the knees, ankles and
head) on these sets, made here from 3D with the target's own cameras:

1. the source's evaluation split (held-out subjects), as recorded;
2. the same poses placed by GPA (the paper's rule) on random target 2D poses of the adaptation
   split, each projected with its anchor's camera: the target's image positions, sizes and
   cameras, the source's people and motion;
3. as 2, with every bone set to the target's mean length (directions kept, parents first);
4. the poses of 3 whose *view elevation* lies in the target's 10th-90th percentile range: the
   angle of the camera above the body's horizontal plane seen from the pelvis, 90 degrees minus
   the angle between the Pelvis -> Thorax direction and the ray to the camera;
5. the target's evaluation split, as recorded;
6. the target's evaluation 3D placed by GPA on random target anchors (its pairing of pose and
   image position broken).

The target's 3D is read for this diagnosis only (bone lengths, elevation range, sets 5 and 6).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from poseda.adapt.gpa import gpa_place
from poseda.data.cache import cache_root, load_domain
from poseda.data.codec import PoseCodec
from poseda.inference import load_lifter
from poseda.metrics import pa_mpjpe

SHOWN = ("RKnee", "LKnee", "RAnkle", "LAnkle", "Head")


def view_elevation(p: np.ndarray, joints: tuple[str, ...], root: int = 0) -> np.ndarray:
    """[N] degrees: the camera's elevation above the body's horizontal plane, seen from the root."""
    up = p[:, joints.index("Thorax")] - p[:, root]
    up = up / np.linalg.norm(up, axis=-1, keepdims=True)
    ray = -p[:, root] / np.linalg.norm(p[:, root], axis=-1, keepdims=True)
    return 90 - np.degrees(np.arccos(np.clip((up * ray).sum(-1), -1, 1)))


def bone_lengths(p: np.ndarray, bones) -> np.ndarray:
    return np.stack([np.linalg.norm(p[:, c] - p[:, q], axis=-1) for q, c in bones], 1)


def retarget(p: np.ndarray, bones, lengths: np.ndarray) -> np.ndarray:
    """Every bone of [N, J, 3] poses set to ``lengths`` [B], directions kept (bones parents first)."""
    out = p.copy()
    for (q, c), n in zip(bones, lengths):
        d = p[:, c] - p[:, q]
        out[:, c] = out[:, q] + d / np.linalg.norm(d, axis=-1, keepdims=True) * n
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", metavar="LABEL=CHECKPOINT")
    ap.add_argument("-t", "--target", required=True)
    ap.add_argument("--source", default="h36m")
    ap.add_argument("--frames", type=int, default=20000, help="source evaluation frames drawn (seeded)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    codec, cache = PoseCodec(), cache_root(None)
    models, layout = {}, None
    for item in args.checkpoints:
        label, _, path = item.rpartition("=")
        model, _, lay = load_lifter(path)
        if layout is not None and lay.joints != layout.joints:
            ap.error(f"{path}: joints {lay.name}, the others {layout.name}")
        models[label or path], layout = model.eval(), lay
    joints, bones = tuple(layout.joints), list(layout.bones)
    src, tgt = load_domain(args.source, cache), load_domain(args.target, cache)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    ev = src.evaluation(layout)
    ev = ev.take(np.sort(rng.choice(len(ev), min(args.frames, len(ev)), replace=False)))
    te = tgt.evaluation(layout)
    ad = tgt.adaptation(layout)
    a2d, ak = codec.encode_2d(ad.joints2d, ad.image_size), codec.encode_intrinsics(ad.intrinsics, ad.image_size)

    def place(p3: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        i = torch.randint(len(a2d), (len(p3),), generator=gen)
        placed, p2d = gpa_place(torch.as_tensor(p3, dtype=torch.float32), a2d[i], ak[i], codec.root)
        return p2d, placed.numpy().astype(np.float64)

    def row(name: str, x2d: torch.Tensor, p3: np.ndarray) -> None:
        y = torch.as_tensor(p3 - p3[:, codec.root : codec.root + 1], dtype=torch.float32)
        cells = []
        for model in models.values():
            with torch.no_grad():
                x = x2d[:, None]
                pred = (model(x) + codec.flip_3d(model(codec.flip_2d(x, layout)), layout)) / 2
                pred = pred - pred[:, codec.root : codec.root + 1]
            err = 1000 * (pred - y).norm(dim=-1)
            shown = " ".join(f"{int(round(err[:, joints.index(j)].mean().item()))}" for j in SHOWN if j in joints)
            cells.append(f"{err.mean():.1f} / {1000 * pa_mpjpe(pred.numpy(), y.numpy()):.1f} ({shown})")
        print(f"| {name} | {len(p3)} | " + " | ".join(cells) + " |", flush=True)

    print(f"{args.source} -> {args.target}, joints {layout.name}, flip test on; per checkpoint: MPJPE / PA-MPJPE mm "
          f"({' '.join(j for j in SHOWN if j in joints)})")
    print("| set | frames | " + " | ".join(models) + " |")
    print("|---|---|" + "---|" * len(models))
    s3 = ev.joints3d.astype(np.float64)
    row(f"1. {args.source} held-out, as recorded", codec.encode_2d(ev.joints2d, ev.image_size), s3)
    x2, p2 = place(s3)
    row(f"2. placed by GPA on {args.target}", x2, p2)
    t3 = te.joints3d.astype(np.float64)
    x3, p3 = place(retarget(s3, bones, bone_lengths(t3, bones).mean(0)))
    row(f"3. as 2, {args.target}'s bone lengths", x3, p3)
    lo, hi = np.percentile(view_elevation(t3, joints), [10, 90])
    keep = (lambda e: (e >= lo) & (e <= hi))(view_elevation(p3, joints))
    row(f"4. as 3, view elevation {lo:.0f}-{hi:.0f} deg", x3[torch.as_tensor(keep)], p3[keep])
    row(f"5. {args.target} evaluation, as recorded", codec.encode_2d(te.joints2d, te.image_size), t3)
    x6, p6 = place(t3)
    row(f"6. {args.target} evaluation 3D placed by GPA on random {args.target} 2D", x6, p6)
    for name, p in [(f"{args.source} held-out", s3), (f"{args.source} placed (set 2)", p2), (f"{args.target}", t3)]:
        e = view_elevation(p, joints)
        print(f"view elevation, {name}: {e.mean():.1f} +- {e.std():.1f} deg (10th-90th percentile "
              f"{np.percentile(e, 10):.1f} to {np.percentile(e, 90):.1f})")


if __name__ == "__main__":
    main()
