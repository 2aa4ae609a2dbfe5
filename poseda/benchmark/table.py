"""The cross-domain table: mean and spread over seeds, the gap each method closes, Markdown and
CSV with every target's protocol line, and the preset's checks."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from poseda.benchmark.checks import _label, find, gap_closed, run_checks
from poseda.benchmark.preset import METRICS, UNIVERSAL_METRICS, Preset


def protocol_line(p: dict) -> str:
    """The protocol of a report (:class:`poseda.metrics.Protocol` as a dict) in one line."""
    return (f"joints {p['joints']} ({p['num_joints']}), 2D {p['source_2d']}, {p['frames']}-frame input, "
            f"flip test {'on' if p['flip_test'] else 'off'}, split {p['split']}")


def aggregate(results: list[dict], gap: list[str] = ("source", "oracle")) -> list[dict]:
    """Mean and spread over seeds per (target, backbone, method), with the share of the
    ``gap`` (source only -> oracle, in MPJPE) each closes."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["target"], r["backbone"], r["method"]), []).append(r)
    rows = []
    for (target, backbone, method), rs in groups.items():
        row = {"target": target, "backbone": backbone, "method": method, "seeds": len(rs),
               "protocol": protocol_line(rs[0]["protocol"])}
        for k in METRICS:
            v = np.array([r["overall"][k] for r in rs])
            row[k] = float(v.mean())
            row[f"{k}_std"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
            row[f"{k}_by_seed"] = {r["seed"]: float(r["overall"][k]) for r in rs}
        if all("universal" in r for r in rs):  # protocol A: the universal-skeleton ground truth
            for k in UNIVERSAL_METRICS:
                v = np.array([r["universal"]["overall"][k[:-2]] for r in rs])
                row[k] = float(v.mean())
                row[f"{k}_std"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
                row[f"{k}_by_seed"] = {r["seed"]: float(r["universal"]["overall"][k[:-2]]) for r in rs}
        row["collapse"] = sum(len(r.get("collapse", [])) > 0 for r in rs)
        if any("selected" in r for r in rs):  # a variant that selects: which row it chose, how often
            row["selected"] = {m: sum(r.get("selected") == m for r in rs) for m in dict.fromkeys(r.get("selected") for r in rs)}
        rows.append(row)
    for row in rows:
        start, end = (find(rows, row["target"], row["backbone"], m) for m in gap)
        row["gap_closed"] = gap_closed(row["MPJPE"], start["MPJPE"], end["MPJPE"]) if start and end else float("nan")
    return rows


def _fmt(row: dict, k: str) -> str:
    return f"{row[k]:.1f} ± {row[k + '_std']:.1f}" if row["seeds"] > 1 else f"{row[k]:.1f}"


def published_lines(preset: Preset, target: str, keys: list[str]) -> list[str]:
    """The preset's published figures for ``target`` as a table in the same columns ('-' where the
    source gives none), with their sources; nothing when there are none."""
    pub = [p for p in preset.published if p.target == target]
    if not pub:
        return []
    shown = [k for k in keys if any(k in p.values for p in pub)] + sorted({k for p in pub for k in p.values} - set(keys))
    out = [f"*published on {target}* (not run here; '~' = approximate in the source)", "",
           "| method | backbone | " + " | ".join(shown) + " | source |", "|---" * (len(shown) + 3) + "|"]
    for p in pub:
        vals = " | ".join(("~" if p.approximate else "") + f"{p.values[k]:.1f}" if k in p.values else "-" for k in shown)
        out.append(f"| {p.method} | {p.backbone} | {vals} | {p.source}{'; ' + p.protocol if p.protocol else ''} |")
    return out + [""]


def to_markdown(rows: list[dict], preset: Preset, seconds: float | None = None) -> str:
    gap = f"from {_label(preset.gap[0], preset)} to {_label(preset.gap[1], preset)}"
    lines = [f"Preset `{preset.name}`: source {preset.source}; backbones {', '.join(preset.backbones)}; "
             f"seeds {', '.join(map(str, preset.seeds))}. Mean over seeds"
             + (" ± standard deviation" if len(preset.seeds) > 1 else "")
             + "; MPJPE, PA-MPJPE and N-MPJPE (after fitting each prediction's scale) in mm, PCK@150 mm and "
             f"AUC (0-150 mm) in %; 'gap closed' = share of the MPJPE gap {gap} that the method closes.", ""]
    order = {m: i for i, m in enumerate(preset.methods)}
    for target in dict.fromkeys(r["target"] for r in rows):
        sub = [r for r in rows if r["target"] == target]
        keys = list(METRICS) + (list(UNIVERSAL_METRICS) if all("MPJPE-U" in r for r in sub) else [])
        universal = len(keys) > len(METRICS)
        lines += [f"**{target}** ({sub[0]['protocol']}"
                  + ("; -U: against each subject's 3D scaled to Human3.6M's height, MPI-INF-3DHP's protocol A" if universal else "")
                  + ")", "", "| method | backbone | " + " | ".join(keys) + " | gap closed |", "|---" * (len(keys) + 3) + "|"]
        for r in sorted(sub, key=lambda r: (r["backbone"], order.get(r["method"], len(order)))):
            flag = " (collapse warned)" if r["collapse"] else ""
            if "selected" in r:
                flag += " (chose " + ", ".join(f"{_label(m, preset)}" + (f" x{n}" if r["seeds"] > 1 else "")
                                               for m, n in r["selected"].items()) + ")"
            closed = f"{r['gap_closed']:.0f}%" if math.isfinite(r["gap_closed"]) else "-"  # a gap method not in the preset
            lines.append(f"| {_label(r['method'], preset)}{flag} | {r['backbone']} | " + " | ".join(_fmt(r, k) for k in keys)
                         + f" | {closed} |")
        lines += [""] + published_lines(preset, target, keys)
    found = run_checks(rows, preset)
    if found:
        lines += ["**checks**", ""] + [f"- {c}" for c in found] + [""]
    if seconds is not None:
        lines.append(f"Compute time of the runs in this table: {seconds / 60:.1f} min.")
    return "\n".join(lines) + "\n"


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    keys = ["target", "backbone", "method", "seeds", *[x for k in (*METRICS, *UNIVERSAL_METRICS) for x in (k, f"{k}_std")],
            "gap_closed", "collapse", "protocol"]
    w = csv.DictWriter(buf, keys, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{r[k]:.4f}" if isinstance(r.get(k), float) else r.get(k, "")) for k in keys})
    return buf.getvalue()


def write_table(bench, results: list[dict]) -> dict[str, Path]:
    """``table.md``, ``table.csv`` and ``plots/`` of a :class:`~poseda.benchmark.runner.Benchmark`."""
    from poseda.benchmark.plots import gpa_distributions, plot_gpa_distributions, plot_table
    from poseda.fileio import atomic_write
    from poseda.skeleton.layouts import JOINT_SETS

    rows = aggregate(results, bench.preset.gap)
    seconds = sum({bench.run_key(r["backbone"], r["seed"], r["target"], r["method"]): r["seconds"] for r in results}.values())
    # the pretrainings this table's runs started from (the folder may hold other presets' and seeds')
    used = {bench.pretrain_dir(r["backbone"], bench.joints[r["target"]], r["seed"]) / "done.json" for r in results}
    seconds += sum(json.loads(p.read_text())["seconds"] for p in used if p.exists())
    md = to_markdown(rows, bench.preset, seconds)
    paths = {"markdown": bench.out / "table.md", "csv": bench.out / "table.csv"}
    atomic_write(paths["markdown"], lambda t: Path(t).write_text(md))
    atomic_write(paths["csv"], lambda t: Path(t).write_text(to_csv(rows)))
    plot_table(rows, results, bench.out / "plots", bench.preset.methods, bench.preset)
    for target in bench.preset.targets:
        path = bench.out / "plots" / f"gpa-stats-{target}.png"
        if not path.exists():
            d = gpa_distributions(bench.domains[bench.preset.source], bench.domains[target], JOINT_SETS[bench.joints[target]])
            plot_gpa_distributions(d, target, bench.out / "plots")
    paths["plots"] = bench.out / "plots"
    return paths
