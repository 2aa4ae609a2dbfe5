"""The preset's acceptance checks, measured on an aggregated table (see
:mod:`poseda.benchmark.preset` for the rules)."""
from __future__ import annotations

import numpy as np

from poseda.benchmark.preset import Check, Preset


def _label(method: str, preset: Preset | None = None) -> str:
    """A method's label in tables; a preset's variant: its own label, or the method's with its overrides."""
    from poseda.adapt.methods import METHODS

    if preset is not None and method in preset.variants:
        v = preset.variants[method]
        if v.label:
            return v.label
        if v.select is not None:
            return f"chosen from the 2D among {', '.join(_label(r, preset) for r in v.select)}"
        return f"{_label(v.method or v.of, preset)} ({', '.join(f'{k}={x}' for k, x in v.overrides.items())})"
    return METHODS[method].label if method in METHODS else method


def find(rows: list[dict], target: str, backbone: str, method: str) -> dict | None:
    """The aggregated row of (``target``, ``backbone``, ``method``), or None."""
    return next((r for r in rows if (r["target"], r["backbone"], r["method"]) == (target, backbone, method)), None)


def gap_closed(value: float, start: float, end: float) -> float:
    """The share (%) of the way from ``start`` (e.g. source only) to ``end`` (the oracle) that
    ``value`` covers; NaN when the two ends are equal.

    >>> gap_closed(80.0, 100.0, 50.0)
    40.0
    """
    return 100 * (start - value) / (start - end) if start != end else float("nan")


def _met(value: float, goal: tuple[str, float] | None, unit: str = "") -> str:
    if goal is None:
        return " (reference)"
    op, v = goal
    ok = {">=": value >= v, "<=": value <= v, ">": value > v, "<": value < v}[op]
    return f" (goal {op} {v:g}{unit}): {'met' if ok else 'not met'}"


def _one(check: Check, rows: dict[str, dict], gap: list[str], preset: Preset | None = None) -> str | None:
    """The sentence of ``check`` on one (target, backbone), or None when a row it needs is missing."""
    k = check.metric
    on = "" if k == "MPJPE" else f" on {k}"
    if any(k not in r for r in rows.values()):  # a protocol-A metric of a target evaluated without it
        return None
    if check.rule == "ordering":
        if not all(m in rows for m in check.methods):
            return None
        vals = [rows[m][k] for m in check.methods]
        ok = all(a > b for a, b in zip(vals, vals[1:]))
        return (f"ordering {' > '.join(_label(m, preset) for m in check.methods)}{on} ({' > '.join(f'{v:.1f}' for v in vals)}): "
                f"{'met' if ok else 'not met'}")
    m = rows.get(check.method)
    if m is None:
        return None
    if check.rule == "gap_closed":
        s, o = rows.get(gap[0]), rows.get(gap[1])
        if s is None or o is None or not s[k] > o[k]:
            return None
        x = gap_closed(m[k], s[k], o[k])
        return f"{_label(check.method, preset)} closes {x:.0f}% of the {_label(gap[0], preset)} to {_label(gap[1], preset)} gap{on}{_met(x, check.goal, '%')}"
    b = rows.get(check.baseline)
    if b is None:
        return None
    if check.rule == "worst_seed":
        a, c = m.get(f"{k}_by_seed", {}), b.get(f"{k}_by_seed", {})
        seeds = sorted(set(a) & set(c))
        if not seeds:
            return None
        d = np.array([a[s] - c[s] for s in seeds])
        worst = int(d.argmax())
        spread = f", mean {d.mean():+.1f} +- {d.std(ddof=1):.1f}" if len(d) > 1 else ""
        return (f"{_label(check.method, preset)} worse than {_label(check.baseline, preset)}{on} by at most {d[worst]:+.1f} mm over "
                f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} (seed {seeds[worst]}; per-seed differences {d.min():+.1f} to {d.max():+.1f}{spread}); "
                f"collapse warned in {m.get('collapse', 0)} of {m.get('seeds', len(seeds))} runs{_met(float(d[worst]), check.goal, ' mm')}")
    if check.rule == "ratio":
        r = m[k] / b[k]
        return f"{_label(check.method, preset)} / {_label(check.baseline, preset)} = {r:.3f}{on}{_met(r, check.goal)}"
    g = 100 * (1 - m[k] / b[k])
    return (f"{_label(check.method, preset)} better than {_label(check.baseline, preset)} by {g:.1f}%{on} "
            f"({m[k]:.1f} vs {b[k]:.1f}){_met(g, check.goal, '%')}")


def run_checks(rows: list[dict], preset: Preset) -> list[str]:
    """One line per check, target and backbone, in the preset's order of checks."""
    out = []
    for target in dict.fromkeys(r["target"] for r in rows):
        for backbone in dict.fromkeys(r["backbone"] for r in rows if r["target"] == target):
            by_method = {r["method"]: r for r in rows if (r["target"], r["backbone"]) == (target, backbone)}
            for check in preset.checks:
                if check.targets is not None and target not in check.targets:
                    continue
                line = _one(check, by_method, preset.gap, preset)
                if line is not None:
                    out.append(f"{target} / {backbone}: {line}")
    return out
