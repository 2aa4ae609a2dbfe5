"""Pose metrics with their protocol record.

Errors are in millimetres for inputs in metres (``scale=1000``). Every result carries a
:class:`Protocol`: joint set, 2D source, input frames, flip test, split, domain.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = np.arange(0, 151, 5, dtype=np.float64)  # 31 thresholds 0..150


@dataclass(frozen=True)
class Protocol:
    joints: str  # joint set name, e.g. "h36m16"
    num_joints: int
    source_2d: str  # "ground truth" or the detector
    frames: int  # input window (1 = single frame)
    flip_test: bool
    split: str
    domain: str = ""
    skeleton: str = "real"  # or the universal-skeleton rule the ground truth was scaled by (protocol A)
    fit: str = ""  # how the estimates were fitted onto the 2D keypoints at test time ("" = not)

    def line(self) -> str:
        return (f"domain {self.domain or '?'} / split {self.split} / joints {self.joints} ({self.num_joints}) / "
                f"2D {self.source_2d} / {self.frames}-frame input / flip test {'on' if self.flip_test else 'off'}"
                + ("" if self.skeleton == "real" else f" / skeleton {self.skeleton}")
                + (f" / fitted to the 2D: {self.fit}" if self.fit else ""))


def _t(x) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def root_align(x: torch.Tensor, root: int = 0) -> torch.Tensor:
    return x - x[..., root : root + 1, :]


def joint_errors(pred, gt, root: int = 0) -> torch.Tensor:
    """[N, J, 3] -> [N, J] Euclidean errors after aligning the roots (MPJPE's per-joint terms)."""
    p, g = _t(pred).double(), _t(gt).double()
    return (root_align(p, root) - root_align(g, root)).norm(dim=-1)


def procrustes_align(pred, gt) -> torch.Tensor:
    """Similarity (rotation, translation, uniform scale) alignment of pred to gt, batched via SVD
    (Umeyama). Reflections are excluded. [N, J, 3] -> aligned pred."""
    p, g = _t(pred).double(), _t(gt).double()
    mp, mg = p.mean(-2, keepdim=True), g.mean(-2, keepdim=True)
    p0, g0 = p - mp, g - mg
    cov = p0.transpose(-1, -2) @ g0  # [N, 3, 3]
    u, s, vt = torch.linalg.svd(cov)
    d = torch.sign(torch.linalg.det(u @ vt))
    fix = torch.ones_like(s)
    fix[..., -1] = d
    r = u @ torch.diag_embed(fix) @ vt  # p0 @ r ~ g0
    scale = (s * fix).sum(-1) / (p0 * p0).sum((-1, -2)).clamp_min(1e-12)
    return scale[..., None, None] * (p0 @ r) + mg


def scale_align(pred, gt, root: int = 0) -> torch.Tensor:
    """Root-aligned pred scaled by the least-squares factor to gt (N-MPJPE)."""
    p, g = root_align(_t(pred).double(), root), root_align(_t(gt).double(), root)
    s = (p * g).sum((-1, -2)) / (p * p).sum((-1, -2)).clamp_min(1e-12)
    return s[..., None, None] * p


def mpjpe(pred, gt, root: int = 0) -> float:
    """Mean per-joint position error after aligning the roots, in the inputs' units.

    >>> gt = torch.tensor([[[0.0, 0, 0], [0, 1, 0], [1, 1, 0]]])
    >>> mpjpe(gt + torch.tensor([5.0, 0, 0]), gt)  # a translation is no error
    0.0
    >>> round(mpjpe(gt + torch.tensor([[[0, 0, 0], [0, 0, 0], [0, 0, 0.3]]]), gt), 6)  # one joint 0.3 off
    0.1
    """
    return float(joint_errors(pred, gt, root).mean())


def pa_mpjpe(pred, gt) -> float:
    """MPJPE after a similarity Procrustes alignment (rotation, translation, scale; no reflection).

    >>> gt = torch.tensor([[[0.0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 2, 1]]])
    >>> rot = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    >>> round(pa_mpjpe(2 * gt @ rot + 3, gt), 6)  # rotated, scaled, moved: no error left
    0.0
    """
    g = _t(gt).double()
    return float((procrustes_align(pred, g) - g).norm(dim=-1).mean())


def n_mpjpe(pred, gt, root: int = 0) -> float:
    g = root_align(_t(gt).double(), root)
    return float((scale_align(pred, gt, root) - g).norm(dim=-1).mean())


def summed_bones(poses, parents) -> torch.Tensor:
    """[N] each pose's summed bone length (the units of ``poses`` [N, J, 3]): the body's size,
    which MPJPE at real size charges and the aligned errors do not.

    >>> summed_bones(torch.tensor([[[0.0, 0, 0], [0, 0.3, 0.4], [0, 0.3, 1.4]]]), (-1, 0, 1))
    tensor([1.5000], dtype=torch.float64)
    """
    p = _t(poses).double()
    child = [j for j, q in enumerate(parents) if q >= 0]
    return (p[:, child] - p[:, [parents[j] for j in child]]).norm(dim=-1).sum(-1)


def body_size(pred, gt, parents, scale: float = 1000.0) -> dict[str, float]:
    """The medians of the predicted and true summed bone lengths (mm) and of their per-pose ratio."""
    ps, gs = summed_bones(pred, parents), summed_bones(gt, parents)
    return {"predicted_mm": float(ps.median() * scale), "true_mm": float(gs.median() * scale),
            "ratio": float((ps / gs.clamp_min(1e-9)).median())}


def pck(errors_mm, threshold: float = PCK_THRESHOLD_MM) -> float:
    """Percentage of joints with error strictly below ``threshold`` (all joints, root included).

    >>> pck([0.0, 149.9, 150.0, 300.0])
    50.0
    """
    e = _t(errors_mm).double()
    return float((e < threshold).double().mean() * 100)


def auc(errors_mm) -> float:
    """Mean PCK over the 31 thresholds 0, 5, ..., 150 mm (percent). PCK counts errors strictly
    below a threshold, so the 0 mm threshold counts nothing: a perfect prediction scores 30/31.

    >>> round(auc([0.0, 0.0]), 2), auc([1000.0]), round(auc([72.0]), 2)
    (96.77, 0.0, 51.61)
    """
    e = _t(errors_mm).double().reshape(-1)
    return float(np.mean([pck(e, t) for t in AUC_THRESHOLDS_MM]))


METRICS = ("MPJPE", "PA-MPJPE", "N-MPJPE", "PCK", "AUC")


def _all(pred: torch.Tensor, gt: torch.Tensor, scale: float) -> dict[str, float]:
    err = joint_errors(pred, gt) * scale
    return {
        "MPJPE": float(err.mean()),
        "PA-MPJPE": pa_mpjpe(pred, gt) * scale,
        "N-MPJPE": n_mpjpe(pred, gt) * scale,
        "PCK": pck(err),
        "AUC": auc(err),
    }


@dataclass
class Report:
    protocol: Protocol
    overall: dict[str, float]
    per_action: dict[str, dict[str, float]]
    per_joint: dict[str, dict[str, float]]
    num_samples: int
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(protocol=asdict(self.protocol), overall=self.overall, per_action=self.per_action,
                    per_joint=self.per_joint, num_samples=self.num_samples, **self.extra)

    def to_markdown(self) -> str:
        out = [f"Protocol: {self.protocol.line()}; {self.num_samples} samples; errors in mm, PCK@150 mm and AUC in %", ""]
        size = self.extra.get("body_size")
        if size:
            out += [f"Body size (summed bone length, median): predicted {size['predicted_mm']:.0f} mm, true "
                    f"{size['true_mm']:.0f} mm, ratio {size['ratio']:.3f}", ""]
        for title, rows in (("overall", {"all": self.overall}), ("per action", self.per_action), ("per joint", self.per_joint)):
            cols = list(next(iter(rows.values())).keys()) if rows else list(METRICS)
            out += [f"**{title}**", "", "| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
            out += [f"| {k} | " + " | ".join(f"{v[c]:.2f}" for c in cols) + " |" for k, v in rows.items()]
            out.append("")
        return "\n".join(out)

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["protocol", self.protocol.line()])
        w.writerow(["group", "name", *METRICS])
        w.writerow(["overall", "all", *(f"{self.overall[m]:.4f}" for m in METRICS)])
        for k, v in self.per_action.items():
            w.writerow(["action", k, *(f"{v[m]:.4f}" for m in METRICS)])
        for k, v in self.per_joint.items():
            w.writerow(["joint", k, *(f"{v.get(m, float('nan')):.4f}" for m in METRICS)])
        return buf.getvalue()

    def check_finite(self, where) -> "Report":
        """Refuse a report with a non-finite figure (a lifter that outputs NaN is not a result)."""
        bad = [k for k, v in self.overall.items() if not np.isfinite(v)]
        if bad:
            from poseda.errors import PosedaInputError

            raise PosedaInputError(where, f"gives non-finite {', '.join(bad)} on {self.protocol.domain}: its predictions are "
                                          "not finite numbers")
        return self

    def write(self, stem: str | Path) -> list[Path]:
        """``stem``.md, .csv and .json, each written whole or not at all."""
        from poseda.fileio import atomic_write

        stem = Path(stem)
        texts = {".md": self.to_markdown(), ".csv": self.to_csv(), ".json": json.dumps(self.to_dict(), indent=1)}
        return [atomic_write(stem.with_suffix(k), lambda t, v=v: Path(t).write_text(v)) for k, v in texts.items()]


def evaluate(pred, gt, protocol: Protocol, joint_names, actions=None, scale: float = 1000.0) -> Report:
    """All metrics overall, per action (mean over the action's samples) and per joint.

    pred, gt: [N, J, 3] in metres (``scale`` converts to mm). Per-joint rows give each metric for that
    joint (PA-MPJPE and N-MPJPE per joint use the whole-pose alignment).
    """
    p, g = _t(pred).double(), _t(gt).double()
    if p.shape != g.shape or p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"pred {tuple(p.shape)} and gt {tuple(g.shape)} must both be [N, J, 3]")
    if len(joint_names) != p.shape[1]:
        raise ValueError(f"{len(joint_names)} joint names for {p.shape[1]} joints")
    overall = _all(p, g, scale)
    per_action = {}
    if actions is not None:
        actions = np.asarray(actions)
        for a in sorted(set(actions.tolist())):
            m = torch.from_numpy(actions == a)
            per_action[str(a)] = _all(p[m], g[m], scale)
    err = joint_errors(p, g) * scale
    pa_err = (procrustes_align(p, g) - g).norm(dim=-1) * scale
    n_err = (scale_align(p, g) - root_align(g)).norm(dim=-1) * scale
    per_joint = {
        name: {"MPJPE": float(err[:, j].mean()), "PA-MPJPE": float(pa_err[:, j].mean()), "N-MPJPE": float(n_err[:, j].mean()),
               "PCK": pck(err[:, j]), "AUC": auc(err[:, j])}
        for j, name in enumerate(joint_names)
    }
    return Report(protocol, overall, per_action, per_joint, int(p.shape[0]))
