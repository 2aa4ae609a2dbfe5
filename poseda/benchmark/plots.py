"""Plots of a benchmark: a bar chart per target, per-joint errors, and the 2D distributions of
the source before and after GPA beside the target's."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from poseda.benchmark.checks import _label, find
from poseda.fileio import save_figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_table(rows: list[dict], results: list[dict], out: Path, methods: list[str], preset=None) -> list[Path]:
    plt = _pyplot()
    out = Path(out)
    written = []
    order = [m for m in methods if any(r["method"] == m for r in rows)]

    def finish(fig, ax, title: str, name: str):
        ax.set_ylabel("MPJPE (mm)")
        ax.set_title(title, fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        save_figure(fig, out / name)
        plt.close(fig)
        written.append(out / name)

    for target in dict.fromkeys(r["target"] for r in rows):
        sub = [r for r in rows if r["target"] == target]
        backbones = list(dict.fromkeys(r["backbone"] for r in sub))
        fig, ax = plt.subplots(figsize=(1.6 * len(order) + 2, 4))
        width = 0.8 / len(backbones)
        for i, b in enumerate(backbones):
            vals = [find(sub, target, b, m) for m in order]
            ax.bar(np.arange(len(order)) + i * width, [v["MPJPE"] if v else np.nan for v in vals], width,
                   yerr=[v["MPJPE_std"] if v else 0 for v in vals], capsize=3, label=b)
        ax.set_xticks(np.arange(len(order)) + width * (len(backbones) - 1) / 2)
        ax.set_xticklabels([_label(m, preset) for m in order], rotation=20, ha="right", fontsize=8)
        finish(fig, ax, f"{target}: {sub[0]['protocol']}", f"bars-{target}.png")
        # per-joint error, first backbone, mean over seeds
        fig, ax = plt.subplots(figsize=(9, 4))
        joints = None
        for m in order:
            rs = [r for r in results if r["target"] == target and r["method"] == m and r["backbone"] == backbones[0]]
            if not rs:
                continue
            joints = list(rs[0]["per_joint"])
            ax.plot(joints, [np.mean([r["per_joint"][j]["MPJPE"] for r in rs]) for j in joints], marker="o", label=_label(m, preset))
        if joints:
            ax.set_xticks(range(len(joints)))
            ax.set_xticklabels(joints, rotation=45, ha="right", fontsize=8)
        finish(fig, ax, f"per-joint error on {target} ({backbones[0]})", f"per-joint-{target}.png")
    return written


def gpa_distributions(source, target, layout, n: int = 20000, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """2D scale, root x and root y (normalised screen units) of source 2D, of source poses after
    GPA against ``target``, and of the target's own 2D (its adaptation split)."""
    from poseda.adapt.gpa import GlobalPositionAlignment
    from poseda.data.codec import PoseCodec
    from poseda.data.device import device_split
    from poseda.geometry.camera import box_scale

    codec = PoseCodec()
    rng = np.random.default_rng(seed)
    _, src = device_split(source, "training", layout, codec)  # already encoded by the runs of this process
    _, tgt = device_split(target, "adaptation", layout, codec)
    idx = torch.as_tensor(rng.choice(len(src), min(n, len(src)), replace=False))
    gpa = GlobalPositionAlignment(tgt.inputs, tgt.intrinsics, codec.root)
    _, placed2d, _ = gpa(src.targets[idx] + src.roots[idx][:, None], torch.Generator().manual_seed(seed))
    tidx = torch.as_tensor(rng.choice(len(tgt), min(n, len(tgt)), replace=False))

    def q(p2d):
        return {"scale": box_scale(p2d).numpy(), "root x": p2d[:, 0, 0].numpy(), "root y": p2d[:, 0, 1].numpy()}

    return {f"{source.name}": q(src.inputs[idx]), f"{source.name} after GPA": q(placed2d), f"{target.name}": q(tgt.inputs[tidx])}


def plot_gpa_distributions(dists: dict, target: str, out: Path) -> Path:
    plt = _pyplot()
    keys = list(next(iter(dists.values())))
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    for ax, k in zip(axes, keys):
        allv = np.concatenate([d[k] for d in dists.values()])
        edges = np.linspace(*np.percentile(allv, [0.5, 99.5]), 60)
        for name, d in dists.items():
            ax.hist(d[k], edges, histtype="step", density=True,
                    label=f"{name} ({np.mean(d[k]):.2f} / {np.std(d[k]):.2f})")
        ax.set_title(k, fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle(f"2D distributions before and after GPA against {target} (normalised screen units; mean / std)", fontsize=9)
    fig.tight_layout()
    path = Path(out) / f"gpa-stats-{target}.png"
    save_figure(fig, path)
    plt.close(fig)
    return path
