"""Running a preset: targets x backbones x methods x seeds, resumable.

For every backbone, seed and joint set the source lifter is trained once; every method then
starts from that checkpoint with the same schedule (``source`` continues on source data for the
same number of steps). Methods that never read the target (declared ``target_free``: source
only, PoseAug-style) are trained once per joint set and evaluated on every target that shares it.

Every finished piece leaves a file behind (a pretraining's ``done.json``, an adaptation's
``done.json``, an evaluation's ``eval-<target>.json``); running the same command again skips
them, continues an interrupted pretraining from its last epoch and an interrupted adaptation whose
settings and source checkpoint are unchanged. A finished run whose settings no longer match what
the preset and the current defaults resolve to (its saved ``config.yaml`` differs in anything that
decides the result, or the source checkpoint it started from was retrained) is redone, and the
command says which settings changed: a resumed table never mixes runs made with different
settings.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import yaml

from poseda.benchmark.preset import Preset
from poseda.errors import PosedaInputError

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
    decide the result of a pretraining (``method`` None) or of an adaptation by ``method``: a
    config section that only other methods declare (``lpa`` for the augmenting ones) does not."""
    from poseda.adapt.methods import METHODS
    from poseda.config import default_values, to_dict

    saved = run / "config.yaml"
    if not saved.exists():
        return []
    skip = list(VOLATILE)
    own = set(METHODS[method].settings) if method else set()
    skip += [f"{s}." for s in {s for cls in METHODS.values() for s in cls.settings} - own]
    if method is None:
        skip.append("adapt.")
    elif METHODS[method].target_free:
        skip.append("adapt.target")  # never read; one run serves every target of its joint set
    # a key added after the run was saved counts at its default (new keys default to the old behaviour)
    old = {**_flat(default_values()), **_flat(yaml.safe_load(saved.read_text()) or {})}
    new = _flat(to_dict(cfg))
    own_options = f"adapt.options.{method}."

    def decides(k: str) -> bool:  # another method's options do not decide this run
        return not any(k == s or k.startswith(s) for s in skip) and (not k.startswith("adapt.options.") or k.startswith(own_options))

    return sorted(k for k in set(old) | set(new) if decides(k) and old.get(k) != new.get(k))


def _describe(keys: list[str], n: int = 4) -> str:
    return ", ".join(keys[:n]) + (f" and {len(keys) - n} more" if len(keys) > n else "")


def _overrides(d: dict) -> list[str]:
    return [f"{k}={json.dumps(v) if isinstance(v, (list, dict)) else v}" for k, v in d.items()]


def _write_json(path: Path, obj) -> None:
    from poseda.fileio import atomic_write

    atomic_write(Path(path), lambda t: Path(t).write_text(json.dumps(obj, indent=1, default=float)))


class Benchmark:
    """Runs (or resumes) a preset into ``out``."""

    def __init__(self, preset: Preset, out: Path, cache: Path | None = None, device: str = "auto", progress: bool = True,
                 echo=print):
        from poseda.data.cache import cache_root, load_domain
        from poseda.skeleton.layouts import protocol_joints

        self.preset, self.out, self.device, self.progress, self.echo = preset, Path(out), device, progress, echo
        self.cache = cache_root(cache)
        for n in [preset.source, *preset.targets]:
            if n in preset.requires and not (self.cache / n / "meta.json").is_file():
                raise PosedaInputError(n, f"not in the cache {self.cache}; make it first: {preset.requires[n]}")
        self.domains = {n: load_domain(n, self.cache) for n in [preset.source, *preset.targets]}
        for t in preset.targets:
            if self.domains[t].role != "target":
                raise PosedaInputError("preset targets", f"{t} is not a target domain")
        src = self.domains[preset.source]
        self.layouts = {t: protocol_joints(t, src.joint_mask, self.domains[t].joint_mask) for t in preset.targets}
        self.joints = {t: layout.name for t, layout in self.layouts.items()}
        self._check_overrides()

    def _check_overrides(self) -> None:
        """Every override of the preset (pretrain, adapt, each variant's) against the config schema,
        before any work: a bad key or value is one line naming the preset's section. Each
        backbone's lifter is built once on the "meta" device (no memory) with its options."""
        import torch

        from poseda.config import check_config, load_config, to_dict
        from poseda.models import build_lifter

        p = self.preset
        for backbone in p.backbones:
            sections = {"pretrain": p.overrides("pretrain", backbone), "adapt": p.overrides("adapt", backbone),
                        **{f"variants.{n}": {**p.overrides("adapt", backbone), **v.overrides} for n, v in p.variants.items()}}
            for where, overrides in sections.items():
                try:
                    cfg = check_config(load_config(backbone, _overrides(overrides)))
                    if where == "pretrain":
                        with torch.device("meta"):
                            for layout in {lay.name: lay for lay in self.layouts.values()}.values():
                                build_lifter(cfg.model.name, layout, **to_dict(cfg.model.options))
                except PosedaInputError as e:
                    own = f" (with per_backbone.{backbone})" if backbone in p.per_backbone else ""
                    raise PosedaInputError(f"preset {p.name}", f"{where}{own}: {e}") from None

    # -- pieces --------------------------------------------------------------------------------
    def _common(self, run_dir: Path, seed: int) -> list[str]:
        return [f"run.dir={run_dir}", f"run.seed={seed}", f"data.cache={self.cache}", f"train.device={self.device}",
                f"train.progress={str(self.progress).lower()}", f"eval.flip_test={str(self.preset.flip_test).lower()}"]

    def pretrain_dir(self, name: str, joints: str, seed: int) -> Path:
        """The source pretraining of backbone ``name`` (its config's stem) on ``joints`` with ``seed``."""
        return self.out / "pretrain" / f"{name}-{joints}-s{seed}"

    def pretrain(self, backbone: str, joints: str, seed: int) -> Path:
        from poseda.config import load_config
        from poseda.train.engine import Trainer

        run = self.pretrain_dir(Path(backbone).stem, joints, seed)
        cfg = load_config(backbone, [*self._common(run, seed), f"data.source={self.preset.source}", f"data.joints={joints}",
                                     *_overrides(self.preset.overrides("pretrain", backbone))])
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
        Trainer(cfg, resume=resume).fit()
        _write_json(run / "done.json", {"seconds": time.perf_counter() - t0})
        return run / "best"

    def run_key(self, backbone: str, seed: int, target: str, method: str) -> tuple:
        """Which run serves a cell: target-free methods share one run per joint set."""
        from poseda.adapt.methods import METHODS

        group = self.joints[target] if METHODS[self.preset.base(method)].target_free else target
        return Path(backbone).stem, seed, group, method

    def _run_dir(self, backbone: str, seed: int, target: str, method: str) -> Path:
        b, s, group, m = self.run_key(backbone, seed, target, method)
        return self.out / "adapt" / f"{b}-s{s}" / group / m

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
        from poseda.adapt.adapter import Adapter, adapt_config
        from poseda.adapt.methods import METHODS
        from poseda.benchmark.checks import _label

        run = self._run_dir(backbone, seed, target, method)
        result = run / f"eval-{target}.json"
        joints = self.joints[target]
        if method in self.preset.variants and self.preset.variants[method].of is not None:
            return self._evaluate_of(backbone, seed, target, method)
        if method in self.preset.variants and self.preset.variants[method].select is not None:
            return self._select(backbone, seed, target, method)
        name, method = method, self.preset.base(method)  # a variant runs its method with its own overrides
        variant = self.preset.variants[name].overrides if name in self.preset.variants else {}
        ckpt = self.pretrain(backbone, joints, seed)
        source_sha = json.loads(ckpt.with_suffix(".json").read_text()).get("weights_sha256")
        cfg = adapt_config(ckpt, target, method, [*self._common(run, seed), *_overrides(self.preset.overrides("adapt", backbone)),
                                                          *_overrides(variant)])
        if (run / "done.json").exists():
            changed = settings_changed(run, cfg, method)
            started_from = json.loads((run / "done.json").read_text()).get("source_sha256", source_sha)
            if started_from != source_sha:
                changed.append("the source checkpoint (retrained)")
            if changed:
                self.echo(f"[redo] {run}: settings changed since it ran ({_describe(changed)})")
                shutil.rmtree(run)
        universal = target in self.preset.universal
        if result.exists():
            cached = json.loads(result.read_text())
            if not universal or "universal" in cached:
                return cached
        if not (run / "done.json").exists():
            resume = self._resumable(run, cfg, method, source_sha)
            if run.exists() and not resume:  # an interrupted run that cannot continue restarts from the source
                shutil.rmtree(run)
            self.echo(f"[adapt] {Path(backbone).stem} seed {seed}: {_label(name, self.preset)}"
                      + (f" ({joints}, target-free)" if METHODS[method].target_free else f" -> {target}")
                      + (" (resuming)" if resume else ""))
            t0 = time.perf_counter()
            adapter = Adapter(cfg, resume=resume)
            summary = adapter.fit()
            _write_json(run / "done.json", {"seconds": time.perf_counter() - t0, "summary": summary,
                                            "collapse": adapter.method.record().get("collapse", []),
                                            "source_sha256": source_sha})
        done = json.loads((run / "done.json").read_text())
        fit = {"fit_steps": int(cfg.eval.fit_steps), "fit_prior": float(cfg.eval.fit_prior)}
        out = self._evaluate(run / "best", run, target, fit, dict(backbone=Path(backbone).stem, seed=seed, target=target,
                                                                  method=name, seconds=done["seconds"],
                                                                  collapse=done.get("collapse", [])))
        _write_json(result, out)
        return out

    def _evaluate(self, ckpt: Path, folder: Path, target: str, fit: dict, fields: dict) -> dict:
        """A cell's figures: the lifter ``ckpt`` on the target's evaluation split (and protocol A
        on ``universal`` targets), reports written to ``folder``."""
        from poseda.inference import device_kind, evaluate_split, load_lifter

        model, rec, layout = load_lifter(ckpt)
        dev = device_kind(self.device)
        model.to(dev)
        poses = self.domains[target].evaluation(layout)
        rep = evaluate_split(model, poses, self.preset.flip_test, device=dev, **fit).check_finite(ckpt)
        rep.write(folder / f"report-{target}")
        out = dict(rep.to_dict(), **fields)
        if target in self.preset.universal:  # protocol A: the same predictions against each subject's 3D at Human3.6M's height
            from poseda.data.universal import universal_poses

            urep = evaluate_split(model, universal_poses(poses), self.preset.flip_test, device=dev, **fit).check_finite(ckpt)
            urep.write(folder / f"report-{target}-universal")
            out["universal"] = {k: v for k, v in urep.to_dict().items() if k in ("protocol", "overall", "per_joint")}
        return out

    def _evaluate_of(self, backbone: str, seed: int, target: str, name: str) -> dict:
        """A variant of another row: that row's lifter (trained first if it is missing), evaluated
        with the variant's own settings; redone when that lifter's weights changed."""
        var = self.preset.variants[name]
        base = self.cell(backbone, seed, target, var.of)
        ckpt = self._run_dir(backbone, seed, target, var.of) / "best"
        sha = json.loads(ckpt.with_suffix(".json").read_text()).get("weights_sha256")
        folder = self._run_dir(backbone, seed, target, name)
        result = folder / f"eval-{target}.json"
        if result.exists():
            cached = json.loads(result.read_text())
            if cached.get("weights_sha256") == sha and cached.get("settings") == var.overrides:
                return cached
        from poseda.config import default_values

        saved = yaml.safe_load(ckpt.with_name("config.yaml").read_text()) or {}
        ev = {**default_values()["eval"], **(saved.get("eval") or {})}  # the row's own, a run from before fits at the defaults
        fit = {key: var.overrides.get(f"eval.{key}", ev[key]) for key in ("fit_steps", "fit_prior")}
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        out = self._evaluate(ckpt, folder, target, fit, dict(backbone=Path(backbone).stem, seed=seed, target=target, method=name,
                                                              collapse=base.get("collapse", []), weights_sha256=sha,
                                                              settings=var.overrides))
        out["seconds"] = base["seconds"] + time.perf_counter() - t0  # its lifter's training, and the evaluation's fit
        _write_json(result, out)
        return out

    def disagreement(self, backbone: str, seed: int, target: str, row: str) -> dict:
        """:func:`poseda.inference.checkpoint_disagreement` of ``row``'s lifter on the target's
        adaptation split (2D and intrinsics only): ``{"mm": ..., "seconds": ...}``, kept beside the
        run and redone when its weights change."""
        from poseda.inference import checkpoint_disagreement, device_kind

        return checkpoint_disagreement(self._run_dir(backbone, seed, target, row) / "best", self.domains[target],
                                       self.preset.flip_test, device_kind(self.device))

    def _select(self, backbone: str, seed: int, target: str, name: str) -> dict:
        """A variant that selects: of its rows (each trained first if it is missing), the one whose
        lifter disagrees least with the target's adaptation 2D (:meth:`disagreement`; the first
        listed on a tie). Its figures under this variant's name, with every row's disagreement; its
        compute is the scoring (the rows' training is counted in their own rows, which the preset
        lists too)."""
        from poseda.benchmark.checks import _label

        rows = self.preset.variants[name].select
        cells = {r: self.cell(backbone, seed, target, r) for r in rows}
        score = {r: self.disagreement(backbone, seed, target, r) for r in rows}
        chosen = min(rows, key=lambda r: (score[r]["mm"], rows.index(r)))
        self.echo(f"[select] {Path(backbone).stem} seed {seed}, {target}: {_label(chosen, self.preset)} ("
                  + ", ".join(f"{_label(r, self.preset)} {score[r]['mm']:.2f} mm" for r in rows) + " from the 2D)")
        return dict(cells[chosen], method=name, selected=chosen, disagreement_mm={r: v["mm"] for r, v in score.items()},
                    seconds=sum(v["seconds"] for v in score.values()))

    def run(self) -> list[dict]:
        p = self.preset
        return [self.cell(backbone, seed, target, method)
                for seed in p.seeds for backbone in p.backbones for target in p.targets for method in p.methods]
