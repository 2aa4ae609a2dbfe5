"""What ``poseda train`` and ``poseda evaluate`` do, behind their options objects
(:mod:`poseda.options`); :mod:`poseda.cli` only parses the flags into them and reports through
``echo``."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Callable, List, Optional

from poseda.errors import PosedaInputError
from poseda.options import Cache, Checkpoint, FlipTest, Force, Opt

Echo = Callable[[str], None]


def config_inputs(cfg) -> list[Path]:
    """The files and folders a run reads, which its run folder must not overwrite."""
    from poseda.data.cache import cache_root

    out = [cache_root(cfg.data.cache)]
    for key in (cfg.train.init, cfg.adapt.init):
        if key:
            out += [Path(str(key)), Path(str(key)).parent]
    return out


@dataclass(kw_only=True)
class TrainOptions:
    """Train a lifter on a source domain. Extra arguments are overrides: key.sub=value."""

    config: Annotated[str, Opt("--config", "-c", help="A built-in config name or a YAML file.")] = "simple_baseline"
    resume: Annotated[bool, Opt("--resume", help="Continue the run in run.dir from its last checkpoint.")] = False
    overrides: List[str] = field(default_factory=list)  # key.sub=value: the command line's extra arguments


def train_command(o: TrainOptions, echo: Echo = print) -> None:
    from poseda.config import load_config, run_dir
    from poseda.fileio import check_output
    from poseda.train.engine import Trainer

    cfg = load_config(o.config, list(o.overrides))
    check_output(run_dir(cfg), config_inputs(cfg), "dir", "run folder")
    trainer = Trainer(cfg, resume=o.resume)
    if trainer.dist.main:
        echo(f"run {trainer.run_dir}: {cfg.model.name} on {cfg.data.source} ({trainer.layout.name}), "
             f"{len(trainer.train_idx)} training / {len(trainer.val_idx)} validation frames, device {trainer.device}")
    trainer.fit()
    rep = trainer.final_report()
    if rep is not None:
        echo(rep.to_markdown().split("**per action**")[0].strip())
        echo(f"report: {trainer.run_dir / 'report.md'}")
    elif trainer.dist.main:
        echo(f"{cfg.data.source} has no evaluation split: not evaluated; checkpoints in {trainer.run_dir}")


@dataclass(kw_only=True)
class EvaluateOptions:
    """Evaluate a checkpoint on a domain's evaluation split: MPJPE, PA-MPJPE, N-MPJPE, PCK, AUC."""

    checkpoint: Checkpoint = None
    domain: Annotated[str, Opt("--domain", "-d", help="A prepared domain to evaluate on (its evaluation split).")]
    flip_test: FlipTest = True
    out: Annotated[Optional[Path], Opt("--out", help="Where to write report.md / .csv / .json.")] = None
    cache: Cache = None
    device: Annotated[str, Opt("--device", help="cpu or cuda")] = "cpu"
    universal: Annotated[bool, Opt("--universal", help="Also against each subject's 3D scaled to Human3.6M's height "
                                                       "(MPI-INF-3DHP's protocol A).")] = False
    fit_steps: Annotated[int, Opt("--fit-steps", help="Fit each estimate onto its 2D keypoints under its camera in this "
                                                      "many steps, bone lengths kept (0: the lifter's own estimates).")] = 0
    fit_prior: Annotated[float, Opt("--fit-prior", help="How strongly the fit keeps the lifter's bone directions.")] = 0.1
    force: Force = False


def evaluate_command(o: EvaluateOptions, echo: Echo = print) -> None:
    from poseda.config import FIT_PRIOR, FIT_STEPS
    from poseda.data.cache import cache_root, load_domain
    from poseda.fileio import check_output, refuse_existing
    from poseda.inference import device_kind, evaluate_split, load_lifter
    from poseda.models.bundled import resolve_checkpoint

    device = device_kind(o.device)
    for flag, value, (lo, hi) in (("--fit-steps", o.fit_steps, FIT_STEPS), ("--fit-prior", o.fit_prior, FIT_PRIOR)):
        if not (math.isfinite(value) and lo <= value <= hi):
            raise PosedaInputError(flag, f"must lie in [{lo:g}, {hi:g}], got {value}")
    checkpoint = resolve_checkpoint(o.checkpoint)
    d = load_domain(o.domain, cache_root(o.cache))
    stem = (o.out or Path(checkpoint).parent) / (f"eval-{d.name}" + (f"-fit{o.fit_steps}" if o.fit_steps else ""))
    folder = check_output(stem.parent, [], "dir", "report folder")
    stems = [stem] + ([stem.with_name(f"{stem.name}-universal")] if o.universal else [])
    for suffix in (".md", ".csv", ".json"):
        check_output(stem.with_suffix(suffix), [checkpoint, Path(checkpoint).with_suffix(".json")], "file", "report")
        refuse_existing([r.with_suffix(suffix) for r in stems], o.force, "report")
    model, rec, layout = load_lifter(checkpoint)
    model.to(device)
    poses = d.evaluation(layout)
    fit = {"fit_steps": o.fit_steps, "fit_prior": o.fit_prior}
    reports = {stem: evaluate_split(model, poses, o.flip_test, device=device, **fit).check_finite(checkpoint)}
    if o.universal:
        from poseda.data.universal import universal_poses

        reports[stems[1]] = evaluate_split(model, universal_poses(poses), o.flip_test, device=device, **fit).check_finite(checkpoint)
    folder.mkdir(parents=True, exist_ok=True)
    for path, rep in reports.items():
        echo(rep.to_markdown())
        rep.write(path)
        echo(f"written: {path}.md, {path}.csv, {path}.json")


__all__ = ["TrainOptions", "train_command", "EvaluateOptions", "evaluate_command", "config_inputs"]
