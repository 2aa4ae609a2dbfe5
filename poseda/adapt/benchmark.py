"""The cross-domain table: targets x backbones x methods x seeds, resumable.

A preset (``poseda/configs/benchmark/<name>.yaml`` or a user's YAML file) lists backbones
(built-in lifter configs), seeds, targets and methods, and the overrides of the source
pretraining and of the adaptation schedule. For every backbone, seed and joint set the source
lifter is trained once; every method then starts from that checkpoint with the same schedule
(``source`` continues on source data for the same number of steps). Methods that never read the
target (``source``, ``poseaug``) are trained once per joint set and evaluated on every target
that shares it.

Every finished piece leaves a file behind (a pretraining's ``done.json``, an adaptation's
``done.json``, an evaluation's ``eval-<target>.json``); running the same command again skips
them, continues an interrupted pretraining from its last epoch and restarts an interrupted
adaptation. A finished run whose settings no longer match what the preset and the current
defaults resolve to (its saved ``config.yaml`` differs in anything that decides the result, or the
source checkpoint it started from was retrained) is redone, and the command says which settings
changed: a resumed table never mixes runs made with different settings. The table is written as Markdown and CSV with the protocol of every target, the
share of the source-only-to-oracle gap each method closes, the issue's acceptance checks, and
plots: a bar chart per target, per-joint errors, and the 2D distributions before and after GPA.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import yaml

from poseda.errors import PosedaInputError

METHOD_NAMES = {"source": "source only", "gpa": "GPA", "lpa": "LPA", "gpa_lpa": "GPA + LPA (PoseDA)",
                "poseaug": "PoseAug-style", "oracle": "oracle (target 3D)"}
TARGET_FREE = {"source", "poseaug"}  # methods that never read the target
# settings that do not change a run's result: where things are kept (a moved benchmark folder is still valid; the
# source checkpoint is compared by its weights instead), whether progress bars are drawn, the run's name
VOLATILE = ("data.cache", "train.progress", "run.name", "run.dir", "adapt.init")


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        out.update(_flat(v, key + ".") if isinstance(v, dict) else {key: v})
    return out


def settings_changed(run: Path, cfg, method: str | None) -> list[str]:
    """Dotted keys whose value in ``run``'s saved config differs from ``cfg``, among those that
    decide the result of a pretraining (``method`` None) or of an adaptation by ``method``."""
    from poseda.adapt.engine import AUGMENTS
    from poseda.config import default_values, to_dict

    saved = run / "config.yaml"
    if not saved.exists():
        return []
    skip = list(VOLATILE)
    if method is None or method not in AUGMENTS:
        skip.append("lpa.")  # the augmentation's settings matter only to the methods that augment
    if method is None:
        skip.append("adapt.")
    if method in TARGET_FREE:
        skip.append("adapt.target")  # never read; one run serves every target of its joint set
    # a key added after the run was saved counts at its default (new keys default to the old behaviour)
    old = {**_flat(default_values()), **_flat(yaml.safe_load(saved.read_text()) or {})}
    new = _flat(to_dict(cfg))
    keys = sorted(k for k in set(old) | set(new) if not any(k == s or k.startswith(s) for s in skip)
                  and old.get(k) != new.get(k))
    return keys


def _describe(keys: list[str], n: int = 4) -> str:
    return ", ".join(keys[:n]) + (f" and {len(keys) - n} more" if len(keys) > n else "")


@dataclass
class Preset:
    name: str
    backbones: list[str]
    seeds: list[int]
    targets: list[str]
    methods: list[str]
    source: str = "h36m"
    flip_test: bool = True
    pretrain: dict = field(default_factory=dict)
    adapt: dict = field(default_factory=dict)


def load_preset(name_or_path: str) -> Preset:
    from poseda.adapt.engine import METHODS
    from poseda.config import builtin_configs

    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.is_file():
        if not p.is_file():
            raise PosedaInputError(p, "preset file not found")
        text, name = p.read_text(), p.stem
    else:
        res = resources.files("poseda.configs.benchmark") / f"{name_or_path}.yaml"
        if not res.is_file():
            known = sorted(x.name[:-5] for x in resources.files("poseda.configs.benchmark").iterdir() if x.name.endswith(".yaml"))
            raise PosedaInputError("--preset", f"unknown preset {name_or_path!r} (built-in: {', '.join(known)}) and no such file")
        text, name = res.read_text(), name_or_path
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise PosedaInputError(name_or_path, f"not valid YAML ({e.__class__.__name__})") from None
    known_keys = set(Preset.__dataclass_fields__) - {"name"}
    bad = set(raw) - known_keys
    if bad:
        raise PosedaInputError(name_or_path, f"unknown preset key(s) {sorted(bad)} (known: {sorted(known_keys)})")
    for key in ("backbones", "seeds", "targets", "methods"):
        if not isinstance(raw.get(key), list) or not raw[key]:
            raise PosedaInputError(name_or_path, f"'{key}' must be a non-empty list")
    for m in raw["methods"]:
        if m not in METHODS:
            raise PosedaInputError(name_or_path, f"unknown method {m!r} (known: {', '.join(METHODS)})")
    for b in raw["backbones"]:
        if b not in builtin_configs() and not Path(b).is_file():
            raise PosedaInputError(name_or_path, f"unknown backbone config {b!r} (built-in: {', '.join(builtin_configs())})")
    return Preset(name=name, **raw)


def _overrides(d: dict) -> list[str]:
    return [f"{k}={json.dumps(v) if isinstance(v, (list, dict)) else v}" for k, v in d.items()]


def _write_json(path: Path, obj) -> None:
    from poseda.fileio import atomic_write as _atomic_write

    _atomic_write(Path(path), lambda t: Path(t).write_text(json.dumps(obj, indent=1, default=float)))


class Benchmark:
    """Runs (or resumes) a preset into ``out``."""

    def __init__(self, preset: Preset, out: Path, cache: Path | None = None, device: str = "auto", progress: bool = True,
                 echo=print):
        from poseda.data.mirror import cache_root
        from poseda.data.prepare import load_domain

        self.preset, self.out, self.device, self.progress, self.echo = preset, Path(out), device, progress, echo
        self.cache = cache_root(cache)
        self.domains = {n: load_domain(n, self.cache) for n in [preset.source, *preset.targets]}
        for t in preset.targets:
            if self.domains[t].role != "target":
                raise PosedaInputError("preset targets", f"{t} is not a target domain")
        from poseda.skeleton.layouts import protocol_joints

        src = self.domains[preset.source]
        self.joints = {t: protocol_joints(t, src.joint_mask, self.domains[t].joint_mask).name for t in preset.targets}

    # -- pieces --------------------------------------------------------------------------------
    def _common(self, run_dir: Path, seed: int) -> list[str]:
        return [f"run.dir={run_dir}", f"run.seed={seed}", f"data.cache={self.cache}", f"train.device={self.device}",
                f"train.progress={str(self.progress).lower()}", f"eval.flip_test={str(self.preset.flip_test).lower()}"]

    def pretrain(self, backbone: str, joints: str, seed: int) -> Path:
        from poseda.config import load_config
        from poseda.train.engine import Trainer

        run = self.out / "pretrain" / f"{Path(backbone).stem}-{joints}-s{seed}"
        cfg = load_config(backbone, [*self._common(run, seed), f"data.source={self.preset.source}", f"data.joints={joints}",
                                     *_overrides(self.preset.pretrain)])
        changed = settings_changed(run, cfg, None)
        if changed:
            self.echo(f"[redo] {run}: settings changed since it ran ({_describe(changed)})")
            shutil.rmtree(run)
        if (run / "done.json").exists():
            return run / "best"
        resume = (run / "last.json").exists()
        self.echo(f"[pretrain] {Path(backbone).stem} on {self.preset.source} ({joints}), seed {seed}"
                  + (" (resuming)" if resume else ""))
        t0 = time.perf_counter()
        trainer = Trainer(cfg, resume=resume)
        trainer.fit()
        _write_json(run / "done.json", {"seconds": time.perf_counter() - t0})
        return run / "best"

    def _run_dir(self, backbone: str, seed: int, target: str, method: str) -> Path:
        group = self.joints[target] if method in TARGET_FREE else target
        return self.out / "adapt" / f"{Path(backbone).stem}-s{seed}" / group / method

    @staticmethod
    def _resumable(run: Path, cfg, method: str, source_sha: str | None) -> bool:
        """An interrupted adaptation continues from its last epoch when its settings and its
        source checkpoint are unchanged."""
        last = run / "last.json"
        if not last.exists() or settings_changed(run, cfg, method):
            return False
        return (json.loads(last.read_text()).get("adaptation") or {}).get("init_sha256") == source_sha

    def cell(self, backbone: str, seed: int, target: str, method: str) -> dict:
        """The evaluation of one method on one target (runs whatever is missing)."""
        from poseda.adapt.engine import Adapter, adapt_config
        from poseda.train.engine import device_kind, lifter_from_checkpoint, write_report
        from poseda.train.evaluate import evaluate_split

        run = self._run_dir(backbone, seed, target, method)
        result = run / f"eval-{target}.json"
        joints = self.joints[target]
        ckpt = self.pretrain(backbone, joints, seed)
        source_sha = json.loads(ckpt.with_suffix(".json").read_text()).get("weights_sha256")
        cfg = adapt_config(ckpt, target, method, [*self._common(run, seed), *_overrides(self.preset.adapt)])
        if (run / "done.json").exists():
            changed = settings_changed(run, cfg, method)
            started_from = json.loads((run / "done.json").read_text()).get("source_sha256", source_sha)
            if started_from != source_sha:
                changed.append("the source checkpoint (retrained)")
            if changed:
                self.echo(f"[redo] {run}: settings changed since it ran ({_describe(changed)})")
                shutil.rmtree(run)
        if result.exists():
            return json.loads(result.read_text())
        if not (run / "done.json").exists():
            resume = self._resumable(run, cfg, method, source_sha)
            if run.exists() and not resume:  # an interrupted run that cannot continue restarts from the source
                shutil.rmtree(run)
            self.echo(f"[adapt] {Path(backbone).stem} seed {seed}: {METHOD_NAMES[method]}"
                      + (f" ({joints}, target-free)" if method in TARGET_FREE else f" -> {target}")
                      + (" (resuming)" if resume else ""))
            t0 = time.perf_counter()
            adapter = Adapter(cfg, resume=resume)
            summary = adapter.fit()
            _write_json(run / "done.json", {"seconds": time.perf_counter() - t0, "summary": summary,
                                            "collapse": adapter.collapse_events, "source_sha256": source_sha})
        model, rec, layout = lifter_from_checkpoint(run / "best")
        dev = device_kind(self.device)
        model.to(dev)
        rep = evaluate_split(model, self.domains[target].evaluation(layout), self.preset.flip_test, device=dev)
        write_report(rep, run / f"report-{target}")
        done = json.loads((run / "done.json").read_text())
        out = dict(rep.to_dict(), backbone=Path(backbone).stem, seed=seed, target=target, method=method,
                   seconds=done["seconds"], collapse=done.get("collapse", []))
        _write_json(result, out)
        return out

    def run(self) -> list[dict]:
        p = self.preset
        results = []
        for seed in p.seeds:
            for backbone in p.backbones:
                for target in p.targets:
                    for method in p.methods:
                        results.append(self.cell(backbone, seed, target, method))
        return results


# -- the table ---------------------------------------------------------------------------------
METRIC_KEYS = ("MPJPE", "PA-MPJPE", "N-MPJPE", "PCK", "AUC")


def aggregate(results: list[dict]) -> list[dict]:
    """Mean and spread over seeds per (target, backbone, method), with the gap closed."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["target"], r["backbone"], r["method"]), []).append(r)
    rows = []
    for (target, backbone, method), rs in groups.items():
        row = {"target": target, "backbone": backbone, "method": method, "seeds": len(rs),
               "protocol": _protocol_line(rs[0]["protocol"])}
        for k in METRIC_KEYS:
            v = np.array([r["overall"][k] for r in rs])
            row[k] = float(v.mean())
            row[f"{k}_std"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
        row["collapse"] = sum(len(r.get("collapse", [])) > 0 for r in rs)
        rows.append(row)
    for row in rows:
        src = _find(rows, row["target"], row["backbone"], "source")
        ora = _find(rows, row["target"], row["backbone"], "oracle")
        row["gap_closed"] = (100 * (src["MPJPE"] - row["MPJPE"]) / (src["MPJPE"] - ora["MPJPE"])
                             if src and ora and src["MPJPE"] != ora["MPJPE"] else float("nan"))
    return rows


def _find(rows, target, backbone, method):
    return next((r for r in rows if (r["target"], r["backbone"], r["method"]) == (target, backbone, method)), None)


def _protocol_line(p: dict) -> str:
    return (f"joints {p['joints']} ({p['num_joints']}), 2D {p['source_2d']}, {p['frames']}-frame input, "
            f"flip test {'on' if p['flip_test'] else 'off'}, split {p['split']}")


def checks(rows: list[dict]) -> list[str]:
    """The acceptance checks of the PoseDA issue, measured on this table."""
    out = []
    for target in dict.fromkeys(r["target"] for r in rows):
        for backbone in dict.fromkeys(r["backbone"] for r in rows if r["target"] == target):
            g = {m: _find(rows, target, backbone, m) for m in METHOD_NAMES}
            pd, src, gpa, pa = g["gpa_lpa"], g["source"], g["gpa"], g["poseaug"]
            if not (pd and src):
                continue
            name = f"{target} / {backbone}"
            if target == "humaneva" and g["oracle"]:
                ok = pd["gap_closed"] >= 40
                out.append(f"{name}: GPA + LPA closes {pd['gap_closed']:.0f}% of the source-to-oracle gap "
                           f"(goal >= 40%): {'met' if ok else 'not met'}")
            else:
                ratio = pd["MPJPE"] / src["MPJPE"]
                out.append(f"{name}: GPA + LPA / source only = {ratio:.3f} (goal <= 0.80): "
                           f"{'met' if ratio <= 0.80 else 'not met'}")
            if gpa:
                gain = 100 * (1 - pd["MPJPE"] / gpa["MPJPE"])
                out.append(f"{name}: GPA + LPA better than GPA only by {gain:.1f}% (goal >= 3%): "
                           f"{'met' if gain >= 3 else 'not met'}")
            if pa:
                out.append(f"{name}: GPA + LPA {pd['MPJPE']:.1f} vs PoseAug-style {pa['MPJPE']:.1f} mm: "
                           f"{'met' if pd['MPJPE'] < pa['MPJPE'] else 'not met'}")
            order = [g[m]["MPJPE"] for m in ("source", "gpa", "gpa_lpa") if g[m]]
            if len(order) == 3:
                ok = order[0] > order[1] > order[2]
                out.append(f"{name}: ordering source only > GPA > GPA + LPA ({' > '.join(f'{v:.1f}' for v in order)}): "
                           f"{'met' if ok else 'not met'}")
            # absolute body size cannot be learnt from 2D: the same figures once each prediction's
            # scale is fitted (N-MPJPE), for reference
            n = "N-MPJPE"
            ref = [f"GPA + LPA / source only = {pd[n] / src[n]:.3f}"]
            if gpa:
                ref.append(f"better than GPA only by {100 * (1 - pd[n] / gpa[n]):.1f}%")
            if g["oracle"] and src[n] > g["oracle"][n]:
                ref.append(f"closes {100 * (src[n] - pd[n]) / (src[n] - g['oracle'][n]):.0f}% of the gap")
            out.append(f"{name}: with body size factored out (N-MPJPE, reference): " + ", ".join(ref))
    return out


def _fmt(row: dict, k: str) -> str:
    return f"{row[k]:.1f} ± {row[k + '_std']:.1f}" if row["seeds"] > 1 else f"{row[k]:.1f}"


def to_markdown(rows: list[dict], preset: Preset, seconds: float | None = None) -> str:
    lines = [f"Preset `{preset.name}`: source {preset.source}; backbones {', '.join(preset.backbones)}; "
             f"seeds {', '.join(map(str, preset.seeds))}. Mean over seeds"
             + (" ± standard deviation" if len(preset.seeds) > 1 else "")
             + "; MPJPE, PA-MPJPE and N-MPJPE (after fitting each prediction's scale) in mm, PCK@150 mm and "
             "AUC (0-150 mm) in %; 'gap closed' = share of the source-only-to-oracle MPJPE gap the method closes.", ""]
    for target in dict.fromkeys(r["target"] for r in rows):
        sub = [r for r in rows if r["target"] == target]
        lines += [f"**{target}** ({sub[0]['protocol']})", "",
                  "| method | backbone | MPJPE | PA-MPJPE | N-MPJPE | PCK | AUC | gap closed |",
                  "|---|---|---|---|---|---|---|---|"]
        order = {m: i for i, m in enumerate(METHOD_NAMES)}
        for r in sorted(sub, key=lambda r: (r["backbone"], order[r["method"]])):
            flag = " (collapse warned)" if r["collapse"] else ""
            lines.append(f"| {METHOD_NAMES[r['method']]}{flag} | {r['backbone']} | " + " | ".join(_fmt(r, k) for k in METRIC_KEYS)
                         + f" | {r['gap_closed']:.0f}% |")
        lines.append("")
    lines += ["**checks**", ""] + [f"- {c}" for c in checks(rows)] + [""]
    if seconds is not None:
        lines.append(f"Compute time of the runs in this table: {seconds / 60:.1f} min.")
    return "\n".join(lines) + "\n"


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    keys = ["target", "backbone", "method", "seeds", *[x for k in METRIC_KEYS for x in (k, f"{k}_std")], "gap_closed",
            "collapse", "protocol"]
    w = csv.DictWriter(buf, keys, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{r[k]:.4f}" if isinstance(r[k], float) else r[k]) for k in keys})
    return buf.getvalue()


# -- plots ---------------------------------------------------------------------------------------
def plot_table(rows: list[dict], results: list[dict], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from poseda.data.stats import _save_atomic

    out = Path(out)
    written = []
    order = [m for m in METHOD_NAMES if any(r["method"] == m for r in rows)]

    def finish(fig, ax, title: str, name: str):
        ax.set_ylabel("MPJPE (mm)")
        ax.set_title(title, fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        _save_atomic(fig, out / name)
        plt.close(fig)
        written.append(out / name)

    for target in dict.fromkeys(r["target"] for r in rows):
        sub = [r for r in rows if r["target"] == target]
        backbones = list(dict.fromkeys(r["backbone"] for r in sub))
        fig, ax = plt.subplots(figsize=(1.6 * len(order) + 2, 4))
        width = 0.8 / len(backbones)
        for i, b in enumerate(backbones):
            vals = [_find(sub, target, b, m) for m in order]
            ax.bar(np.arange(len(order)) + i * width, [v["MPJPE"] if v else np.nan for v in vals], width,
                   yerr=[v["MPJPE_std"] if v else 0 for v in vals], capsize=3, label=b)
        ax.set_xticks(np.arange(len(order)) + width * (len(backbones) - 1) / 2)
        ax.set_xticklabels([METHOD_NAMES[m] for m in order], rotation=20, ha="right", fontsize=8)
        finish(fig, ax, f"{target}: {sub[0]['protocol']}", f"bars-{target}.png")
        # per-joint error, first backbone, mean over seeds
        fig, ax = plt.subplots(figsize=(9, 4))
        joints = None
        for m in order:
            rs = [r for r in results if r["target"] == target and r["method"] == m and r["backbone"] == backbones[0]]
            if not rs:
                continue
            joints = list(rs[0]["per_joint"])
            ax.plot(joints, [np.mean([r["per_joint"][j]["MPJPE"] for r in rs]) for j in joints], marker="o", label=METHOD_NAMES[m])
        if joints:
            ax.set_xticks(range(len(joints)))
            ax.set_xticklabels(joints, rotation=45, ha="right", fontsize=8)
        finish(fig, ax, f"per-joint error on {target} ({backbones[0]})", f"per-joint-{target}.png")
    return written


def gpa_distributions(source, target, layout, n: int = 20000, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """2D scale, root x and root y (normalised screen units) of source 2D, of source poses after
    GPA against ``target``, and of the target's own 2D (its adaptation split)."""
    from poseda.adapt.gpa import GlobalPositionAlignment, box_scale
    from poseda.data.codec import PoseCodec
    from poseda.train.data import device_split

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from poseda.data.stats import _save_atomic

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
    _save_atomic(fig, path)
    plt.close(fig)
    return path


def write_table(bench: Benchmark, results: list[dict]) -> dict[str, Path]:
    from poseda.fileio import atomic_write as _atomic_write

    rows = aggregate(results)
    seconds = sum({(r["backbone"], r["seed"], r["target"] if r["method"] not in TARGET_FREE else bench.joints[r["target"]],
                    r["method"]): r["seconds"] for r in results}.values())
    pre = bench.out / "pretrain"
    seconds += sum(json.loads(p.read_text())["seconds"] for p in pre.glob("*/done.json")) if pre.exists() else 0
    md = to_markdown(rows, bench.preset, seconds)
    paths = {"markdown": bench.out / "table.md", "csv": bench.out / "table.csv"}
    _atomic_write(paths["markdown"], lambda t: Path(t).write_text(md))
    _atomic_write(paths["csv"], lambda t: Path(t).write_text(to_csv(rows)))
    plots = plot_table(rows, results, bench.out / "plots")
    from poseda.skeleton.layouts import JOINT_SETS

    for target in bench.preset.targets:
        path = bench.out / "plots" / f"gpa-stats-{target}.png"
        if not path.exists():
            d = gpa_distributions(bench.domains[bench.preset.source], bench.domains[target], JOINT_SETS[bench.joints[target]])
            plots.append(plot_gpa_distributions(d, target, bench.out / "plots"))
    paths["plots"] = bench.out / "plots"
    return paths
