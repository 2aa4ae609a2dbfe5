"""What ``poseda adapt`` and ``poseda methods`` do, behind their options objects
(:mod:`poseda.options`); :mod:`poseda.cli` only parses the flags into them and reports through
``echo``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Callable, List, Optional

from poseda.options import Arg, Opt

Echo = Callable[[str], None]


@dataclass(kw_only=True)
class AdaptOptions:
    """Adapt a lifter to a target domain and evaluate it there. Extra arguments: key.sub=value overrides."""

    checkpoint: Annotated[Optional[Path], Arg("Source checkpoint to adapt, or a bundled lifter's name (default, open); "
                                              "omit to train from scratch.")] = None
    target: Annotated[str, Opt("--target", "-t", help="Target domain: only its 2D keypoints and intrinsics are used.")]
    method: Annotated[str, Opt("--method", "-m", help="The adaptation method (default gpa_lpa; see poseda "
                                                      "methods).")] = "gpa_lpa"
    config: Annotated[Optional[str], Opt("--config", "-c", help="Schedule config (default 'adapt'); with no checkpoint, "
                                                                "the model config.")] = None
    resume: Annotated[bool, Opt("--resume", help="Continue the adaptation in its run folder from its last epoch.")] = False
    overrides: List[str] = field(default_factory=list)  # key.sub=value: the command line's extra arguments

    def __post_init__(self):
        from poseda.adapt.methods import method_class
        from poseda.fileio import safe_name

        safe_name(self.target, "--target")
        method_class(self.method, "--method")
        if self.checkpoint is not None and "=" in str(self.checkpoint) and not Path(self.checkpoint).exists():
            self.overrides = [str(self.checkpoint), *self.overrides]  # no checkpoint: the first argument is an override
            self.checkpoint = None


def adapt_command(o: AdaptOptions, echo: Echo = print) -> None:
    from poseda.adapt.adapter import Adapter, adapt_config
    from poseda.config import load_config, run_dir
    from poseda.fileio import check_output
    from poseda.train.commands import config_inputs

    if o.checkpoint is not None:
        cfg = adapt_config(o.checkpoint, o.target, o.method, list(o.overrides), o.config or "adapt")
    else:
        model = o.config or "simple_baseline"
        cfg = load_config(model, [f"adapt.method={o.method}", f"adapt.target={o.target}",
                                  f"run.name={Path(model).stem}-{o.method}-{o.target}", *o.overrides])
    check_output(run_dir(cfg), config_inputs(cfg), "dir", "run folder")
    adapter = Adapter(cfg, resume=o.resume)
    if adapter.dist.main:
        echo(f"run {adapter.run_dir}: {o.method} from {o.checkpoint or 'scratch'} ({cfg.model.name}), "
             f"{cfg.data.source} -> {o.target} ({adapter.layout.name}), device {adapter.device}"
             + (f", {adapter.dist.world} processes" if adapter.dist.world > 1 else ""))
    adapter.fit()
    rep = adapter.final_report()
    if rep is not None:  # the main process evaluates
        echo(rep.to_markdown().split("**per action**")[0].strip())
        echo(f"checkpoint: {adapter.run_dir / 'best'}.json; report: {adapter.run_dir / 'report.md'}")
    elif adapter.dist.main:
        echo(f"no evaluation: {o.target} has no 3D (built from keypoint files); "
             f"checkpoint: {adapter.run_dir / 'best'}.json (use it with poseda lift)")
    if adapter.dist.main and adapter.eval_domain.role == "target":
        from poseda.inference import checkpoint_disagreement

        d = checkpoint_disagreement(adapter.run_dir / "best", adapter.eval_domain, bool(cfg.eval.flip_test), adapter.device)
        echo(f"disagreement with {o.target}'s 2D: {d['mm']:.2f} mm (how far a test-time fit moves the estimates to project "
             f"onto the {d['frames']} 2D poses of its adaptation split '{d['split']}'; no 3D read; lower agrees better: "
             "compare runs on the same target, docs/adaptation.md)")


def methods_help() -> str:
    """The registered adaptation methods (built-in and plugins'), for ``--method``'s help."""
    from poseda.adapt.methods import METHODS

    return "; ".join(f"{n}: {c.description}" for n, c in METHODS.items())


def methods_command(echo: Echo = print) -> None:
    """List what is registered (built in and plugins'): adaptation methods with what each declares,
    lifters, bundled lifters, keypoint file formats and joint orders, importers, export formats."""
    from poseda.adapt.methods import METHODS
    from poseda.domains.export import FORMATS as EXPORT_FORMATS
    from poseda.domains.importers import importers
    from poseda.keypoints.formats import FORMATS as KEYPOINT_FORMATS
    from poseda.keypoints.readers import FILE_FORMATS
    from poseda.models import LIFTERS
    from poseda.models.bundled import BUNDLED

    echo("adaptation methods (poseda adapt -m NAME; a preset's methods):")
    for name, cls in METHODS.items():
        flags = [f"target 2D: {'yes' if cls.reads_target_2d else 'no'}", f"trains on: {cls.trains_on}",
                 f"augments: {'yes' if cls.augments else 'no'}", f"keeps: {'best' if cls.keeps_best else 'last'} epoch"]
        if cls.settings:
            flags.append(f"settings: {', '.join(cls.settings)}")
        if cls.options:
            flags.append("options: " + ", ".join(f"adapt.options.{name}.{k}={v!r}" for k, v in cls.options.items()))
        origin = f" [plugin {METHODS.origin(name)}]" if METHODS.origin(name) else ""
        echo(f"  {name:10s} {cls.label}{origin}: {cls.description}")
        echo(f"  {'':10s} {'; '.join(flags)}")
    echo("lifters (model.name):")
    for name, f in LIFTERS.items():
        origin = f" [plugin {LIFTERS.origin(name)}]" if LIFTERS.origin(name) else ""
        echo(f"  {name:16s} {getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', f)}{origin}")
    for title, registry in (("bundled lifters (-c NAME)", BUNDLED),
                            ("keypoint file formats (poseda lift / data footage --format)", FILE_FORMATS),
                            ("keypoint formats (--joints, adapt.keypoints)", KEYPOINT_FORMATS),
                            ("importers (poseda data import KIND)", importers()),
                            ("export formats (poseda data export --format)", EXPORT_FORMATS)):
        echo(f"{title}:")
        for line in registry.describe():
            echo(f"  {line}")


__all__ = ["AdaptOptions", "adapt_command", "methods_command", "methods_help"]
