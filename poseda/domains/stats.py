"""What a domain gap is made of: per-domain distributions of 2D pose scale, root position in
normalised screen coordinates, root depth, camera height and pitch (the paper supplement's
distribution figure), as a table and PNG plots."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from poseda.data.domain import Domain
from poseda.domains.rig import camera_height_pitch
from poseda.fileio import save_figure
from poseda.geometry.camera import normalize_screen

QUANTITIES = {
    "scale": "2D pose scale (normalised, (w + h) / 2)",
    "root_x": "root x (normalised screen)",
    "root_y": "root y (normalised screen)",
    "root_depth": "root depth (m)",
    "cam_height": "camera height (m)",
    "cam_pitch": "camera pitch (deg, + looks up)",
}


@dataclass
class DomainStats:
    name: str
    frames: int
    views: int
    dropped: int
    values: dict[str, np.ndarray]  # per frame (camera values repeated per frame)

    def summary(self) -> dict[str, tuple[float, float]]:
        return {k: (float(np.mean(v)), float(np.std(v))) for k, v in self.values.items()}


def domain_stats(domain: Domain, max_frames: int | None = None, seed: int = 0) -> DomainStats:
    """Per-frame quantities on all frames (or a seeded subsample of ``max_frames``)."""
    n = len(domain)
    idx = np.arange(n)
    if max_frames is not None and n > max_frames:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_frames, replace=False))
    mask = domain.joint_mask
    j2d = np.asarray(domain.arrays["joints2d"][idx])[:, mask]
    j3d = np.asarray(domain.arrays["joints3d"][idx])
    view = np.asarray(domain.arrays["view"][idx])
    size = np.asarray(domain.arrays["image_size"])[view]
    uvn = normalize_screen(torch.from_numpy(j2d).double(), torch.from_numpy(size)).numpy()
    box = uvn.max(1) - uvn.min(1)
    height, pitch = camera_height_pitch(np.asarray(domain.arrays["cam_rotation"]), np.asarray(domain.arrays["cam_centre"]))
    values = {
        "scale": box.mean(1),
        "root_x": uvn[:, 0, 0],
        "root_y": uvn[:, 0, 1],
        "root_depth": j3d[:, 0, 2],
        "cam_height": height[view],
        "cam_pitch": pitch[view],
    }
    return DomainStats(domain.name, n, len(domain.views), int(domain.meta.get("frames_dropped", 0)), values)


def stats_table(stats: list[DomainStats]) -> str:
    head = "| domain | frames | views | dropped | " + " | ".join(QUANTITIES) + " |"
    rows = [head, "|---" * (4 + len(QUANTITIES)) + "|"]
    for s in stats:
        summ = s.summary()
        # '-' where a domain has no such value (footage from keypoint files: no 3D, no extrinsics)
        cells = [f"{summ[k][0]:.2f} / {summ[k][1]:.2f}" if np.isfinite(summ[k][0]) else "-" for k in QUANTITIES]
        rows.append(f"| {s.name} | {s.frames} | {s.views} | {s.dropped} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


SEGMENTS = {  # name: (joint a, joint b) of the canonical layout
    "pelvis-hip": ("Pelvis", "RHip"), "hip width": ("LHip", "RHip"), "thigh": ("RHip", "RKnee"),
    "shin": ("RKnee", "RAnkle"), "pelvis-thorax": ("Pelvis", "Thorax"), "thorax-head": ("Thorax", "Head"),
    "thorax-shoulder": ("Thorax", "RShoulder"), "upper arm": ("RShoulder", "RElbow"), "forearm": ("RElbow", "RWrist"),
}


def skeleton_table(domains: list[Domain], max_frames: int = 20000, seed: int = 0) -> str:
    """Median segment lengths (cm) per domain, plus how far the pelvis joint sits above the
    middle of the hips: where joint definitions differ between skeletons (part of the gap)."""
    from poseda.skeleton.layouts import CANONICAL

    head = "| domain | " + " | ".join(SEGMENTS) + " | pelvis above hip centre |"
    rows = [head, "|---" * (len(SEGMENTS) + 2) + "|"]
    for d in domains:
        n = len(d)
        idx = np.sort(np.random.default_rng(seed).choice(n, min(n, max_frames), replace=False))
        j = np.asarray(d.arrays["joints3d"][idx], dtype=np.float64)
        c = CANONICAL.index
        cells = []
        for a, b in SEGMENTS.values():
            v = np.linalg.norm(j[:, c(a)] - j[:, c(b)], axis=-1)
            cells.append("-" if np.isnan(v).all() else f"{100 * np.nanmedian(v):.1f}")
        mid = (j[:, c("LHip")] + j[:, c("RHip")]) / 2
        up = j[:, c("Thorax")] - mid
        up /= np.linalg.norm(up, axis=-1, keepdims=True)
        above = ((j[:, c("Pelvis")] - mid) * up).sum(-1)
        cells.append("-" if np.isnan(above).all() else f"{100 * np.nanmedian(above):.1f}")
        rows.append(f"| {d.name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    else:  # a quantity no domain of the panel has (footage: no 3D)
        ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes, color="0.5")


def plot_stats(stats: list[DomainStats], out: Path, reference: str = "h36m") -> list[Path]:
    """One PNG per domain (each quantity against the reference domain), and an overview with
    every domain overlaid. Returns the written paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    ref = next((s for s in stats if s.name == reference), None)
    written = []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    def finite(v):
        return v[np.isfinite(v)]

    def panel_edges(key, group):
        allv = np.concatenate([finite(s.values[key]) for s in group])
        if len(allv) == 0:
            return None
        lo, hi = float(allv.min()), float(allv.max())  # the full range: no pile-up at clipped edges
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        return np.linspace(lo, hi, 80)

    for s in stats:
        group = [s] if ref is None or ref is s else [ref, s]
        fig, axes = plt.subplots(2, 3, figsize=(13, 7))
        for ax, (key, label) in zip(axes.flat, QUANTITIES.items()):
            edges = panel_edges(key, group)
            for g in group:
                m, sd = g.summary()[key]
                if edges is None or not np.isfinite(m):
                    continue
                ax.hist(g.values[key], bins=edges, density=True, alpha=0.55,
                        color="0.55" if g is ref and g is not s else colors[1], label=f"{g.name}: {m:.2f} / {sd:.2f}")
            ax.set_title(label, fontsize=10)
            _legend(ax)
        fig.suptitle(f"{s.name}: {s.frames} frames, {s.views} views" + (f" (grey: {ref.name})" if ref and ref is not s else ""))
        fig.tight_layout()
        path = out / f"{s.name}.png"
        save_figure(fig, path)
        plt.close(fig)
        written.append(path)
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    for ax, (key, label) in zip(axes.flat, QUANTITIES.items()):
        edges = panel_edges(key, stats)
        for i, s in enumerate(stats):
            if edges is None or not np.isfinite(s.values[key]).all():
                continue
            ax.hist(s.values[key], bins=edges, density=True, histtype="step", linewidth=1.6,
                    color=colors[i % len(colors)], label=s.name)
        ax.set_title(label, fontsize=10)
        _legend(ax)
    fig.suptitle("domain gap: distributions per domain")
    fig.tight_layout()
    path = out / "overview.png"
    save_figure(fig, path)
    plt.close(fig)
    written.append(path)
    return written
