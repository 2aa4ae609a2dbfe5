"""The ``poseda`` command line.

Bad input prints one line naming the file or argument and the problem, and exits with code 2;
nothing is written. Every command checks its arguments, its inputs and where it will write before
it starts any work; whatever still goes wrong with a file later (a full disk, a folder that is
removed meanwhile) is one line too. A run that stops itself on a condition the user asked for
(``lpa.on_collapse=stop``) exits with code 1.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from typer.core import TyperGroup

from poseda.errors import PosedaInputError, RunStopped
from poseda.models.bundled import resolve_checkpoint

#: --debug: let an unexpected exception's traceback through (set by the main callback)
_DEBUG = False

# typer carries its own copy of click; its exceptions' base class, found from a public one
_USAGE_ERRORS = tuple(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _Group(TyperGroup):
    """Every error of every command in one line: input errors and OS errors exit 2, a run that
    stopped itself exits 1, and click's own usage errors lose their usage block."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PosedaInputError as e:
            _fail(e)
        except RunStopped as e:
            typer.echo(f"poseda: stopped: {type(e).__name__}: {e}", err=True)
            raise typer.Exit(1) from None
        except OSError as e:  # a file that could not be read or written after the checks
            where = f"{e.filename}: " if e.filename else ""
            typer.echo(f"poseda: error: {where}{e.strerror or e}", err=True)
            raise typer.Exit(2) from None
        except MemoryError:
            typer.echo("poseda: error: out of memory (reduce batch sizes, model sizes or the data)", err=True)
            raise typer.Exit(2) from None
        except SystemExit as e:  # user code (a plugin's lifter or method) that called sys.exit()
            typer.echo(f"poseda: error: code loaded with --plugin called sys.exit({e.code!r}) during "
                       f"'poseda {ctx.invoked_subcommand}': stopped", err=True)
            raise typer.Exit(2) from None
        except (*_USAGE_ERRORS, typer.Exit, typer.Abort):  # click's own: handled in main()
            raise
        except Exception as e:  # the last resort: one line, never a traceback, unless --debug
            if _DEBUG:
                raise
            inputs = [a for a in self._argv if not a.startswith("-") and a != ctx.invoked_subcommand and Path(a).exists()]
            detail = (str(e).splitlines() or [""])[0][:160]
            on = f" on {', '.join(inputs[:3])}" if inputs else ""
            typer.echo(f"poseda: error: unexpected {type(e).__name__} in 'poseda {ctx.invoked_subcommand}'{on}: {detail} "
                       "(a bug: please report it with what 'poseda --debug ...' prints)", err=True)
            raise typer.Exit(2) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        self._argv = [str(a) for a in (sys.argv[1:] if args is None else args)]  # to name the inputs of a failed command
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _USAGE_ERRORS as e:  # a missing or malformed option: one line, not the usage block
            if type(e).__name__ == "NoArgsIsHelpError":
                e.show()
                rv = e.exit_code
            else:
                typer.echo(f"poseda: error: {e.format_message()}", err=True)
                rv = 2
        except typer.Abort:
            typer.echo("poseda: aborted", err=True)
            rv = 1
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False, help="poseda: domain adaptation for 3D pose lifters (PoseDA).")
data_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                       help="Prepare the benchmark domains and look at their statistics.")
app.add_typer(data_app, name="data")

DATA_HELP = "Raw data folder (upstream files); default $POSEDA_DATA."
CACHE_HELP = "Prepared-array cache; default $POSEDA_CACHE, else ~/.cache/poseda."

# options shared by the commands that read keypoint files (poseda lift, poseda data footage)
CHECKPOINT_OPTION = typer.Option(None, "--checkpoint", "-c", help="A lifter checkpoint (.json / .safetensors / stem, trained "
                                  "or adapted) or a bundled name: 'default' (Human3.6M, non-commercial) or 'open' (CMU only, "
                                  "commercial use allowed); default: 'default'.")
KEYPOINT_FORMAT_OPTION = typer.Option("auto", "--format", help="auto, coco (also AlphaPose), openpose, mediapipe, mmpose, "
                                                                "videopose3d (data_2d_custom npz), npz or csv.")
JOINTS_OPTION = typer.Option(None, "--joints", help="Joint order of .npz / .csv arrays: h36m17 (default), "
                                                    "coco17, body25, coco18, mediapipe33 or halpe26.")
IMAGE_SIZE_OPTION = typer.Option(None, "--image-size", help="WIDTHxHEIGHT in pixels (when the keypoint files do not say).")
FOCAL_OPTION = typer.Option(None, "--focal", help="Focal length in pixels (default: the image diagonal).")
FOV_OPTION = typer.Option(None, "--fov", help="Horizontal field of view in degrees, instead of --focal.")
CENTER_OPTION = typer.Option(None, "--center", help="Principal point cx,cy in pixels (default: image centre).")
SMOOTH_OPTION = typer.Option("none", "--smooth", help="Temporal filter of each track's 3D: none, one-euro or savgol.")
MIN_CUTOFF_OPTION = typer.Option(1.0, "--min-cutoff", help="One-Euro: cut-off at rest, Hz (lower = smoother).")
BETA_OPTION = typer.Option(0.5, "--beta", help="One-Euro: how fast the cut-off rises with speed (higher = less lag).")
D_CUTOFF_OPTION = typer.Option(1.0, "--d-cutoff", help="One-Euro: cut-off of the speed estimate, Hz.")
WINDOW_OPTION = typer.Option(17, "--window", help="Savitzky-Golay: window in frames (odd).")
ORDER_OPTION = typer.Option(2, "--order", help="Savitzky-Golay: polynomial order.")
MIN_SCORE_OPTION = typer.Option(0.3, "--min-score", help="Joints scored below this are missing and filled in time.")
MAX_GAP_OPTION = typer.Option(10, "--max-gap", help="Frames a person may be undetected before the track ends.")
FORCE_OPTION = typer.Option(False, "--force", help="Replace output files that already exist (kept otherwise).")


def _fail(e: Exception) -> None:
    typer.echo(f"poseda: error: {e}", err=True)
    raise typer.Exit(2)


def _number(value, option: str, low: float | None = None, high: float | None = None, low_open: bool = False) -> None:
    """Refuse a non-finite number, or one outside [low, high] ((low, high] with ``low_open``)."""
    if value is None:
        return
    ok = math.isfinite(value) and (low is None or (value > low if low_open else value >= low)) and (high is None or value <= high)
    if not ok:
        lo = "" if low is None else (f"above {low:g}" if low_open else f"at least {low:g}")
        hi = "" if high is None else f"at most {high:g}"
        raise PosedaInputError(option, f"must be a finite number {' and '.join(s for s in (lo, hi) if s)}, got {value}")


def _size(text: Optional[str], option: str, low: float = 1, high: float = 20000) -> Optional[tuple[float, float]]:
    """'WxH' or 'W,H' -> (W, H), each a finite number in [low, high]."""
    if text is None:
        return None
    parts = text.replace("x", ",").split(",")
    try:
        a, b = (float(v) for v in parts)
    except ValueError:
        raise PosedaInputError(option, f"expected two numbers like 1920x1080 or 960,540, got {text!r}") from None
    for v in (a, b):
        if not (math.isfinite(v) and low <= v <= high):
            raise PosedaInputError(option, f"values must be finite, from {low:g} to {high:g}, got {text!r}")
    return a, b


def _camera_options(image_size, focal, fov, center, min_score, max_gap):
    size = _size(image_size, "--image-size")
    _number(focal, "--focal", 0, 1e6, low_open=True)
    _number(fov, "--fov", 0, 179, low_open=True)
    from poseda.keypoints.tracks import check_track_options

    check_track_options(min_score, max_gap)
    return (int(size[0]), int(size[1])) if size else None, _size(center, "--center", -1e5, 1e5)


def _methods_help() -> str:
    """The registered adaptation methods (built-in and plugins'), for ``--method``'s help."""
    from poseda.adapt.methods import METHODS

    return "; ".join(f"{n}: {c.description}" for n, c in METHODS.items())


@app.callback()
def _main(
    ctx: typer.Context,
    plugin: List[str] = typer.Option([], "--plugin", help="A .py file or module that registers lifters or adaptation "
                                                          "methods; repeatable (also $POSEDA_PLUGINS)."),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an unexpected error (to report a bug)."),
):
    """Unsupervised domain adaptation for 2D-to-3D human pose lifters (PoseDA)."""
    from poseda.plugins import load_plugins

    global _DEBUG
    _DEBUG = debug

    load_plugins(plugin)
    if ctx.invoked_subcommand == "adapt":  # the method list is read from the registry, plugins' included
        cmd = ctx.command.get_command(ctx, "adapt")
        for param in cmd.params:
            if param.name == "method":
                param.help = f"The adaptation method (default gpa_lpa). {_methods_help()}."


@data_app.command("prepare")
def prepare_cmd(
    data_root: Optional[Path] = typer.Option(None, "--data-root", help=DATA_HELP),
    cache: Optional[Path] = typer.Option(None, "--cache", help=CACHE_HELP),
    domain: List[str] = typer.Option([], "--domain", "-d", help="Domain(s) to prepare; default all built-in."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if an up-to-date copy is cached."),
):
    """Build the built-in domains from the raw data (once), into the cache; -d h36m alone is enough to train a lifter."""
    from tqdm import tqdm

    from poseda.data.cache import cache_root
    from poseda.domains.builders import BUILTIN
    from poseda.domains.mirror import data_root as resolve_root
    from poseda.domains.mirror import missing_upstream
    from poseda.domains.prepare import EXPECTED_STEPS, prepare_domain, source_fingerprint
    from poseda.fileio import check_output

    root = resolve_root(data_root)
    cache_dir = check_output(cache_root(cache), [root], "dir", "cache")
    names = domain or list(BUILTIN)
    for n in names:
        if n not in BUILTIN:
            raise PosedaInputError("--domain", f"unknown domain {n!r} (built-in: {', '.join(BUILTIN)})")
    missing = missing_upstream(root, names)
    if missing:  # every missing file at once, one line each, before any work
        for line in missing:
            typer.echo(f"poseda: error: {line}", err=True)
        raise typer.Exit(2)
    fp = source_fingerprint(root)
    for n in names:
        t0 = time.perf_counter()
        with tqdm(total=EXPECTED_STEPS.get(n), desc=f"{n:12s}", unit="seq", leave=True, file=sys.stderr, disable=None) as bar:
            folder, built = prepare_domain(n, root, cache_dir, force=force, progress=bar.update, fingerprint=fp)
        typer.echo(f"{n}: {'built' if built else 'up to date'} in {time.perf_counter() - t0:.1f} s -> {folder}")


@data_app.command("custom")
def custom_cmd(
    name: str = typer.Argument(..., help="Name of the new domain."),
    motion: Path = typer.Option(..., "--motion", help="Folder of motion files (.bvh, or .npz with joints3d [T,17,3])."),
    rig: str = typer.Option(..., "--rig", help="Rig YAML file (or a built-in rig: mpi-inf-3dhp, handheld, broadcast)."),
    role: str = typer.Option("target", "--role", help="'target' (2D-only adaptation split) or 'source'."),
    joint_map: Optional[Path] = typer.Option(None, "--joint-map", help="YAML 'CanonicalJoint: file joint' for BVH skeletons."),
    units: Optional[float] = typer.Option(None, "--units", help="Metres per file unit (default: guessed from body height)."),
    up: str = typer.Option("auto", "--up", help="Vertical axis of the files: y, z or auto (BVH: y)."),
    fps: float = typer.Option(30.0, "--fps", help="Frame rate of the motion."),
    seed: int = typer.Option(2023, "--seed", help="Seed of the camera draws."),
    cache: Optional[Path] = typer.Option(None, "--cache", help=CACHE_HELP),
):
    """Build a domain from your own motion folder and rig file."""
    from poseda.data.cache import cache_root
    from poseda.data.domain import write_domain
    from poseda.domains.builders import BUILTIN, build_custom, load_joint_map
    from poseda.domains.rig import load_rig
    from poseda.fileio import check_input, check_output, safe_name

    safe_name(name, "domain name")
    if name in BUILTIN:
        raise PosedaInputError(name, "is a built-in domain name; choose another")
    if up not in ("auto", "y", "z"):
        raise PosedaInputError("--up", f"must be y, z or auto, got {up!r}")
    if role not in ("source", "target"):
        raise PosedaInputError("--role", f"must be source or target, got {role!r}")
    _number(fps, "--fps", 0, 10000, low_open=True)
    _number(units, "--units", 0, 1e3, low_open=True)
    if not 0 <= seed < 2**63:
        raise PosedaInputError("--seed", f"must be from 0 to 2**63 - 1, got {seed}")
    check_input(motion, "dir", "motion folder")
    cache_dir = cache_root(cache)
    check_output(cache_dir / name, [motion], "dir", "domain")
    r = load_rig(rig)
    jm = load_joint_map(joint_map) if joint_map else None
    meta, arrays = build_custom(name, motion, r, role=role, seed=seed, fps=fps, joint_map=jm, units_to_m=units, up=up)
    folder = write_domain(cache_dir / name, meta, arrays)
    typer.echo(f"{name}: {len(arrays['joints3d'])} frames, {len(meta['views'])} views -> {folder}")


@data_app.command("footage")
def footage_cmd(
    name: str = typer.Argument(..., help="Name of the new target domain (then: poseda adapt CKPT -t NAME)."),
    keypoints: List[Path] = typer.Argument(..., help="Keypoint files or folders: COCO / OpenPose / MediaPipe JSON, .npz, .csv."),
    file_format: str = KEYPOINT_FORMAT_OPTION,
    joints: Optional[str] = JOINTS_OPTION,
    image_size: Optional[str] = IMAGE_SIZE_OPTION,
    focal: Optional[float] = FOCAL_OPTION,
    fov: Optional[float] = FOV_OPTION,
    center: Optional[str] = CENTER_OPTION,
    min_score: float = MIN_SCORE_OPTION,
    max_gap: int = MAX_GAP_OPTION,
    fps: float = typer.Option(30.0, "--fps", help="Frame rate of the footage."),
    cache: Optional[Path] = typer.Option(None, "--cache", help=CACHE_HELP),
):
    """Build a 2D-only target domain from your own keypoint files and camera, to adapt a lifter to."""
    from poseda.data.cache import cache_root
    from poseda.domains.footage import build_footage
    from poseda.fileio import check_input, check_output, safe_name

    safe_name(name, "domain name")
    size, centre = _camera_options(image_size, focal, fov, center, min_score, max_gap)
    _number(fps, "--fps", 0, 10000, low_open=True)
    for k in keypoints:
        check_input(k, "any", "keypoint file or folder")
    cache_dir = cache_root(cache)
    check_output(cache_dir / name, keypoints, "dir", "domain")
    folder, rep = build_footage(name, list(keypoints), cache_dir, file_format, joints, size, focal, fov, centre, min_score,
                                max_gap, fps=fps)
    for line in rep.lines:
        typer.echo(line)
    typer.echo(f"{name}: {rep.frames} frames in {rep.views} track(s) from {rep.files} file(s), "
               f"{rep.filled_joints} joint values filled in time, no 3D -> {folder}")
    typer.echo(f"next: poseda adapt CHECKPOINT -t {name}")


@data_app.command("import")
def import_cmd(
    kind: str = typer.Argument(..., help="h36m-vp3d, mpi-inf-3dhp or 3dpw ('poseda data import --help' lists them)."),
    name: str = typer.Argument(..., help="Name of the new domain (e.g. the kind's name)."),
    paths: list[Path] = typer.Argument(..., help="The dataset's files or folders, as its publishers distribute them."),
    adapt_on: Optional[str] = typer.Option(None, "--adapt-on", help="Targets: train (default) or test (transductive)."),
    train_stride: Optional[int] = typer.Option(None, "--train-stride", help="mpi-inf-3dhp: every n-th training frame (10)."),
    train_cameras: Optional[str] = typer.Option(None, "--train-cameras", help="mpi-inf-3dhp: training cameras (0,1,2,4,5,6,7,8)."),
    data_root_opt: Optional[Path] = typer.Option(None, "--data-root", help="A data root whose cameras/*.json override the packaged calibrations."),
    cache: Optional[Path] = typer.Option(None, "--cache", help=CACHE_HELP),
):
    """Make a domain from a licensed dataset you own (Human3.6M, MPI-INF-3DHP, 3DPW): docs/data.md."""
    from poseda.data.cache import cache_root, load_domain
    from poseda.domains.importers import import_domain, importers
    from poseda.fileio import check_output

    if kind not in importers():
        raise PosedaInputError("KIND", f"unknown kind {kind!r} (known: {', '.join(importers())})")
    cache_dir = cache_root(cache)
    check_output(cache_dir / name, list(paths), "dir", "domain")
    options = dict(adapt_on=adapt_on, train_stride=train_stride, train_cameras=train_cameras,
                   data_root=str(data_root_opt) if data_root_opt else None)
    folder = import_domain(kind, name, paths, cache_dir, options)
    d = load_domain(folder)
    typer.echo(f"{name}: {len(d)} frames, {len(d.views)} views ({d.role}) -> {folder}")
    for split, what in d.splits.items():
        typer.echo(f"  {split}: {what}")
    typer.echo(f"next: poseda data stats --domain {name}" if d.role == "target" else f"next: poseda train data.source={name}")


@data_app.command("export")
def data_export_cmd(
    domain: str = typer.Argument(..., help="A prepared domain (built-in, custom, footage or imported)."),
    file_format: str = typer.Option("videopose3d", "--format", help="videopose3d or poseaug."),
    out: Path = typer.Option(..., "--out", help="The peer's checkout (files go to its data/ and data_extra/ folders)."),
    name: Optional[str] = typer.Option(None, "--name", help="VideoPose3D's dataset name (-d NAME; default h36m, "
                                                            "humaneva15 or poseda-DOMAIN)."),
    subject: Optional[list[str]] = typer.Option(None, "--subject", help="Only this subject (repeatable)."),
    force: bool = FORCE_OPTION,
    cache: Optional[Path] = typer.Option(None, "--cache", help=CACHE_HELP),
):
    """Write a domain where VideoPose3D's or PoseAug's own code reads it (docs/data.md)."""
    from poseda.data.cache import cache_root, load_domain
    from poseda.domains.export import FORMATS, export_domain
    from poseda.fileio import check_output, safe_name

    if file_format not in FORMATS:
        raise PosedaInputError("--format", f"unknown format {file_format!r} (known: {', '.join(FORMATS)})")
    if name is not None:
        safe_name(name, "--name")
    cache_dir = cache_root(cache)
    check_output(out, [cache_dir], "dir", "export folder")
    d = load_domain(domain, cache_dir)
    done = export_domain(d, file_format, out, name, subject or None, force=force)
    for path in done.files:
        typer.echo(f"written: {path}")
    for line in done.how:
        typer.echo(line)


@data_app.command("stats")
def stats_cmd(
    cache: Optional[Path] = typer.Option(None, "--cache", help=CACHE_HELP),
    domain: List[str] = typer.Option([], "--domain", "-d", help="Domain(s); default the four built-in ones."),
    out: Path = typer.Option(Path("poseda-stats"), "--out", help="Folder for the PNG plots and the table."),
    force: bool = FORCE_OPTION,
):
    """Print the domain-gap table and write PNG plots per domain."""
    from poseda.data.cache import cache_root, load_domain
    from poseda.domains.builders import BUILTIN
    from poseda.domains.stats import QUANTITIES, domain_stats, plot_stats, skeleton_table, stats_table
    from poseda.fileio import check_output, refuse_existing, staged_files

    cache_dir = cache_root(cache)
    check_output(out, [cache_dir], "dir", "statistics folder")
    refuse_existing([out / "stats.md"], force)
    names = domain or list(BUILTIN)
    domains = [load_domain(n, cache_dir) for n in names]
    stats = [domain_stats(d) for d in domains]
    table = stats_table(stats)
    typer.echo("mean / std per domain (all frames; normalised screen units: x / W * 2 - 1, y / W * 2 - H / W)")
    typer.echo(table)
    bones = skeleton_table(domains)
    typer.echo("\nskeletons: median segment lengths in cm (right side), 20k frames per domain")
    typer.echo(bones)
    table = table + "\n\nSkeletons (median segment lengths, cm):\n\n" + bones
    legend = "\n".join(f"- {k}: {v}" for k, v in QUANTITIES.items())
    with staged_files(out, force) as stage:
        paths = [out / p.relative_to(stage) for p in plot_stats(stats, stage)]
        (stage / "stats.md").write_text(table + "\n\n" + legend + "\n")
    typer.echo(f"plots: {', '.join(str(p) for p in paths)}")


def _config_inputs(cfg) -> list[Path]:
    """The files and folders a run reads, which its run folder must not overwrite."""
    from poseda.data.cache import cache_root

    out = [cache_root(cfg.data.cache)]
    for key in (cfg.train.init, cfg.adapt.init):
        if key:
            out += [Path(str(key)), Path(str(key)).parent]
    return out


DETECTOR_OPTION = typer.Option("people", "--detector", help="people: every person at any size (NanoDet + MoveNet, "
                                                            "bundled); mediapipe: one close person (MediaPipe Pose).")
TILES_OPTION = typer.Option(1, "--tiles", help="With 'people': also search N x N overlapping tiles, for people a few "
                                                "dozen pixels tall in a large frame (slower; 1: the whole frame only).")
MIN_CONFIDENCE_OPTION = typer.Option(None, "--min-confidence", help="The detector's confidence a person needs (default "
                                                                    "0.4 with 'people', 0.5 with 'mediapipe').")

@app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": False})
def train_cmd(
    ctx: typer.Context,
    config: str = typer.Option("simple_baseline", "--config", "-c", help="A built-in config name or a YAML file."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in run.dir from its last checkpoint."),
):
    """Train a lifter on a source domain. Extra arguments are overrides: key.sub=value."""
    from poseda.config import load_config, run_dir
    from poseda.fileio import check_output
    from poseda.train.engine import Trainer

    cfg = load_config(config, list(ctx.args))
    check_output(run_dir(cfg), _config_inputs(cfg), "dir", "run folder")
    trainer = Trainer(cfg, resume=resume)
    if trainer.dist.main:
        typer.echo(f"run {trainer.run_dir}: {cfg.model.name} on {cfg.data.source} ({trainer.layout.name}), "
                   f"{len(trainer.train_idx)} training / {len(trainer.val_idx)} validation frames, device {trainer.device}")
    trainer.fit()
    rep = trainer.final_report()
    if rep is not None:
        typer.echo(rep.to_markdown().split("**per action**")[0].strip())
        typer.echo(f"report: {trainer.run_dir / 'report.md'}")
    elif trainer.dist.main:
        typer.echo(f"{cfg.data.source} has no evaluation split: not evaluated; checkpoints in {trainer.run_dir}")


@app.command("adapt", context_settings={"allow_extra_args": True, "ignore_unknown_options": False})
def adapt_cmd(
    ctx: typer.Context,
    checkpoint: Optional[Path] = typer.Argument(None, help="Source checkpoint to adapt, or a bundled lifter's name "
                                                       "(default, open); omit to train from scratch."),
    target: str = typer.Option(..., "--target", "-t", help="Target domain: only its 2D keypoints and intrinsics are used."),
    method: str = typer.Option("gpa_lpa", "--method", "-m", help="The adaptation method (default gpa_lpa; see poseda methods)."),
    config: Optional[str] = typer.Option(None, "--config", "-c",
                                         help="Schedule config (default 'adapt'); with no checkpoint, the model config."),
    resume: bool = typer.Option(False, "--resume", help="Continue the adaptation in its run folder from its last epoch."),
):
    """Adapt a lifter to a target domain and evaluate it there. Extra arguments: key.sub=value overrides."""
    from poseda.adapt.adapter import Adapter, adapt_config
    from poseda.adapt.methods import method_class
    from poseda.config import load_config, run_dir
    from poseda.fileio import check_output, safe_name

    safe_name(target, "--target")
    method_class(method, "--method")
    overrides = list(ctx.args)
    if checkpoint is not None and "=" in str(checkpoint) and not Path(checkpoint).exists():
        overrides.insert(0, str(checkpoint))  # no checkpoint: the first argument is already an override
        checkpoint = None
    if checkpoint is not None:
        cfg = adapt_config(checkpoint, target, method, overrides, config or "adapt")
    else:
        cfg = load_config(config or "simple_baseline", [f"adapt.method={method}", f"adapt.target={target}",
                                                        f"run.name={Path(config or 'simple_baseline').stem}-{method}-{target}",
                                                        *overrides])
    check_output(run_dir(cfg), _config_inputs(cfg), "dir", "run folder")
    adapter = Adapter(cfg, resume=resume)
    if adapter.dist.main:
        typer.echo(f"run {adapter.run_dir}: {method} from {checkpoint or 'scratch'} ({cfg.model.name}), "
                   f"{cfg.data.source} -> {target} ({adapter.layout.name}), device {adapter.device}"
                   + (f", {adapter.dist.world} processes" if adapter.dist.world > 1 else ""))
    adapter.fit()
    rep = adapter.final_report()
    if rep is not None:  # the main process evaluates
        typer.echo(rep.to_markdown().split("**per action**")[0].strip())
        typer.echo(f"checkpoint: {adapter.run_dir / 'best'}.json; report: {adapter.run_dir / 'report.md'}")
    elif adapter.dist.main:
        typer.echo(f"no evaluation: {target} has no 3D (built from keypoint files); "
                   f"checkpoint: {adapter.run_dir / 'best'}.json (use it with poseda lift)")


@app.command("benchmark")
def benchmark_cmd(
    preset: str = typer.Option("quick", "--preset", "-p", help="quick, full, or a preset YAML file."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run folder (default poseda-benchmark/<preset>); "
                                                          "an existing one is resumed."),
    cache: Optional[Path] = typer.Option(None, "--cache", help=CACHE_HELP),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
    seeds: List[int] = typer.Option([], "--seed", help="Run (or tabulate) only these seeds of the preset; repeatable."),
    backbones: List[str] = typer.Option([], "--backbone", help="Only these of the preset's backbones; repeatable."),
):
    """Run the cross-domain table (targets x backbones x methods x seeds); resumes a partial run."""
    from poseda.benchmark import Benchmark, load_preset, write_table
    from poseda.data.cache import cache_root
    from poseda.fileio import check_output
    from poseda.inference import device_kind

    device_kind(device)
    p = load_preset(preset)
    if seeds:
        unknown = [s for s in seeds if s not in p.seeds]
        if unknown:
            raise PosedaInputError("--seed", f"{', '.join(map(str, unknown))} not in the preset (it has "
                                             f"{', '.join(map(str, p.seeds))})")
        p.seeds = list(dict.fromkeys(seeds))
    if backbones:
        unknown = [b for b in backbones if b not in p.backbones]
        if unknown:
            raise PosedaInputError("--backbone", f"{', '.join(unknown)} not in the preset (it has {', '.join(p.backbones)})")
        p.backbones = list(dict.fromkeys(backbones))
    out = out or Path("poseda-benchmark") / p.name
    inputs = [cache_root(cache)] + ([Path(preset)] if Path(preset).is_file() else [])
    check_output(out, inputs, "dir", "benchmark folder")
    bench = Benchmark(p, out, cache, device, progress, echo=typer.echo)
    t0 = time.perf_counter()
    results = bench.run()
    paths = write_table(bench, results)
    typer.echo(paths["markdown"].read_text())
    typer.echo(f"written: {paths['markdown']}, {paths['csv']}, plots in {paths['plots']} "
               f"(this invocation: {(time.perf_counter() - t0) / 60:.1f} min)")


@app.command("evaluate")
def evaluate_cmd(
    checkpoint: Optional[Path] = CHECKPOINT_OPTION,
    domain: str = typer.Option(..., "--domain", "-d", help="A prepared domain to evaluate on (its evaluation split)."),
    flip_test: bool = typer.Option(True, "--flip-test/--no-flip-test", help="Average with the mirrored input."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write report.md / .csv / .json."),
    cache: Optional[Path] = typer.Option(None, "--cache", help=CACHE_HELP),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda"),
    universal: bool = typer.Option(False, "--universal", help="Also against each subject's 3D scaled to Human3.6M's height "
                                                              "(MPI-INF-3DHP's protocol A)."),
    force: bool = FORCE_OPTION,
):
    """Evaluate a checkpoint on a domain's evaluation split: MPJPE, PA-MPJPE, N-MPJPE, PCK, AUC."""
    from poseda.data.cache import cache_root, load_domain
    from poseda.fileio import check_output, refuse_existing
    from poseda.inference import device_kind, evaluate_split, load_lifter

    device = device_kind(device)
    checkpoint = resolve_checkpoint(checkpoint)
    d = load_domain(domain, cache_root(cache))
    stem = (out or Path(checkpoint).parent) / f"eval-{d.name}"
    folder = check_output(stem.parent, [], "dir", "report folder")
    reports = [stem] + ([stem.with_name(f"{stem.name}-universal")] if universal else [])
    for suffix in (".md", ".csv", ".json"):
        check_output(stem.with_suffix(suffix), [checkpoint, Path(checkpoint).with_suffix(".json")], "file", "report")
        refuse_existing([r.with_suffix(suffix) for r in reports], force, "report")
    model, rec, layout = load_lifter(checkpoint)
    model.to(device)
    poses = d.evaluation(layout)
    reports = {stem: evaluate_split(model, poses, flip_test, device=device).check_finite(checkpoint)}
    if universal:
        from poseda.data.universal import universal_poses

        ustem = stem.with_name(f"{stem.name}-universal")
        reports[ustem] = evaluate_split(model, universal_poses(poses), flip_test, device=device).check_finite(checkpoint)
    folder.mkdir(parents=True, exist_ok=True)
    for path, rep in reports.items():
        typer.echo(rep.to_markdown())
        rep.write(path)
        typer.echo(f"written: {path}.md, {path}.csv, {path}.json")


@app.command("lift")
def lift_cmd(
    keypoints: Path = typer.Argument(..., help="2D keypoints: COCO / OpenPose / MediaPipe / AlphaPose / MMPose JSON (file or "
                                               "folder), VideoPose3D custom .npz, .npz or .csv."),
    checkpoint: Optional[Path] = CHECKPOINT_OPTION,
    out: Path = typer.Option(..., "--out", "-o", help="Output .json, .npz, .csv (3D in metres, joint names inside), .bvh "
                                                      "(animation) or .trc (OpenSim markers)."),
    file_format: str = KEYPOINT_FORMAT_OPTION,
    joints: Optional[str] = JOINTS_OPTION,
    image_size: Optional[str] = IMAGE_SIZE_OPTION,
    focal: Optional[float] = FOCAL_OPTION,
    fov: Optional[float] = FOV_OPTION,
    center: Optional[str] = CENTER_OPTION,
    absolute: bool = typer.Option(False, "--absolute", help="Also estimate the root's camera-frame position (weak perspective)."),
    min_score: float = MIN_SCORE_OPTION,
    max_gap: int = MAX_GAP_OPTION,
    flip_test: bool = typer.Option(True, "--flip-test/--no-flip-test", help="Average with the mirrored input."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda"),
    smooth: str = SMOOTH_OPTION,
    min_cutoff: float = MIN_CUTOFF_OPTION,
    beta: float = BETA_OPTION,
    d_cutoff: float = D_CUTOFF_OPTION,
    window: int = WINDOW_OPTION,
    order: int = ORDER_OPTION,
    fps: float = typer.Option(30.0, "--fps", help="Frame rate of the keypoints (for the One-Euro filter and BVH)."),
    angles: bool = typer.Option(False, "--angles", help="Add each joint's flexion angle (degrees) to a .csv output."),
    world: bool = typer.Option(False, "--world", help="Put everyone in one world on the ground estimated from them "
                                                      "(z up, metres; camera height and pitch, foot contacts)."),
    together: bool = typer.Option(False, "--trc-together", help="A .trc output: every person in one file (markers "
                                                                 "P<track>_<joint>), not one file each."),
    adapt: bool = typer.Option(False, "--adapt", help="Adapt the lifter to these keypoints first (GPA + LPA from the bundled "
                                                      "CMU motion); the adapted lifter is written as OUT-adapted."),
    force: bool = FORCE_OPTION,
):
    """Lift 2D keypoints of your own footage to 3D (metres, camera frame); .bvh writes animation."""
    from poseda.fileio import check_input, check_output, refuse_existing
    from poseda.lift.lifting import check_suffix, lift_file

    size, centre = _camera_options(image_size, focal, fov, center, min_score, max_gap)
    checkpoint = resolve_checkpoint(checkpoint)
    check_input(keypoints, "any", "keypoint file or folder")
    check_output(out, [keypoints, checkpoint, Path(checkpoint).with_suffix(".json")], "file", "output")
    check_suffix(out)  # before any work (--adapt trains first)
    refuse_existing([out], force)
    t0 = time.perf_counter()
    from poseda.lift.smoothing import Smoothing

    smoothing = Smoothing(smooth, min_cutoff, beta, d_cutoff, window, order)
    if adapt:
        checkpoint = _adapt_before_lift(keypoints, checkpoint, out, fps, focal, fov, device, force)
    lifted, report = lift_file(checkpoint, keypoints, out, file_format, joints, size, focal, fov, centre, absolute, min_score,
                               max_gap, flip_test, device, smoothing=smoothing, fps=fps, angles=angles, force=force,
                               world=world, together=together)
    cam = lifted.meta["camera"]
    typer.echo(f"{keypoints}: {lifted.meta['input']['keypoint_description']} -> {lifted.meta['model']['joint_set']} "
               f"({lifted.meta['model']['name']}, {lifted.meta['model']['receptive_field']} frame(s), "
               f"flip test {'on' if flip_test else 'off'})")
    typer.echo(f"camera: f = {cam['fx_px']:.1f} px, centre ({cam['cx_px']:.1f}, {cam['cy_px']:.1f}), "
               f"{cam['horizontal_fov_deg']:.1f} deg horizontal ({cam['source']})")
    for line in report:
        typer.echo(line)
    if smoothing.kind != "none":
        typer.echo(f"smoothed: {smoothing.describe()} at {fps:g} fps")
    what = ("BVH, centimetres, y up" if out.suffix.lower() == ".bvh" else "OpenSim markers, metres, Y up"
            if out.suffix.lower() == ".trc" else
            f"metres, camera frame{', with absolute root' if absolute else ''}{', and the world frame (z up)' if world else ''}")
    typer.echo(f"written: {out} ({what}) in {time.perf_counter() - t0:.2f} s")


def _adapt_before_lift(keypoints, checkpoint, out: Path, fps, focal, fov, device, force) -> Path:
    """``poseda lift --adapt``: adapt to the keypoints, write the lifter as OUT-adapted, return it
    (or the given checkpoint, with the reason printed, when the clip cannot be adapted to)."""
    import tempfile

    from poseda.adapt.footage import adapt_to_keypoints
    from poseda.fileio import refuse_existing
    from poseda.inference import copy_lifter

    stem = out.with_name(out.name.split(".")[0] + "-adapted")
    refuse_existing([stem.with_suffix(".json")], force)
    with tempfile.TemporaryDirectory(prefix="poseda-adapt-") as work:
        try:
            done = adapt_to_keypoints(keypoints, checkpoint, Path(work), fps, focal=focal, fov_deg=fov, device=device,
                                      progress=True)
        except PosedaInputError as e:
            typer.echo(f"not adapted: {e.problem}")
            return checkpoint
        copy_lifter(done.checkpoint, stem)
    for line in done.lines:
        typer.echo(line)
    typer.echo(f"written: {stem}.json (the adapted lifter; use it again with -c {stem})")
    return stem


def _footage_adapter():
    from poseda.adapt.footage import adapt_to_keypoints

    return adapt_to_keypoints


@app.command("demo")
def demo_cmd(
    video: Path = typer.Argument(..., help="A video (.mp4, .mov, .avi, .mkv, .webm, .m4v)."),
    out: Path = typer.Option(Path("poseda-demo"), "--out", "-o", help="Output folder (default ./poseda-demo)."),
    checkpoint: Optional[Path] = CHECKPOINT_OPTION,
    detector: str = DETECTOR_OPTION,
    max_people: Optional[int] = typer.Option(None, "--max-people", help="At most this many people per frame (default: 64 "
                                                                      "with 'people', 4 with 'mediapipe', whose 1 is its "
                                                                      "tracking mode)."),
    tiles: int = TILES_OPTION,
    max_frames: Optional[int] = typer.Option(None, "--max-frames", help="Stop after this many frames (default: all)."),
    focal: Optional[float] = FOCAL_OPTION,
    fov: Optional[float] = FOV_OPTION,
    smooth: str = typer.Option("savgol", "--smooth", help="Temporal filter of each track's 3D: savgol, one-euro or none."),
    min_cutoff: float = MIN_CUTOFF_OPTION,
    beta: float = BETA_OPTION,
    d_cutoff: float = D_CUTOFF_OPTION,
    window: int = WINDOW_OPTION,
    order: int = ORDER_OPTION,
    bvh: bool = typer.Option(False, "--bvh", help="Also write each person's motion as BVH (Blender, MotionBuilder, Maya)."),
    trc: bool = typer.Option(False, "--trc", help="Also write everyone's joints as OpenSim markers (NAME.trc, metres, Y up)."),
    html: bool = typer.Option(True, "--html/--no-html", help="Write NAME.html: the scene in 3D in any browser, offline "
                                                              "(orbit, zoom, play, frame slider)."),
    render: bool = typer.Option(True, "--render/--no-render", help="Write the MP4 (2D over the video beside the 3D view)."),
    file_format: str = typer.Option("json", "--format", help="The 3D file: json, npz or csv."),
    min_confidence: Optional[float] = MIN_CONFIDENCE_OPTION,
    min_score: float = MIN_SCORE_OPTION,
    max_gap: int = MAX_GAP_OPTION,
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda"),
    world: bool = typer.Option(True, "--world/--no-world", help="Everyone in one world on the ground estimated from the "
                                                                 "people (z up, metres), with foot contacts."),
    adapt: bool = typer.Option(False, "--adapt", help="Adapt the lifter to this video's own 2D first (GPA + LPA from the "
                                                      "bundled CMU motion; 76 s for a minute of video on 2 cores); writes "
                                                      "NAME-adapted, reusable with -c."),
    force: bool = FORCE_OPTION,
):
    """A video to 3D in one step: detect, track, lift (bundled lifter), smooth, write, render."""
    from poseda.fileio import check_input
    from poseda.lift.demo import demo_paths, run_demo
    from poseda.lift.smoothing import Smoothing

    check_input(video, "file", "video")
    if max_frames is not None and max_frames < 1:
        raise PosedaInputError("--max-frames", f"must be at least 1, got {max_frames}")
    if file_format not in ("json", "npz", "csv"):
        raise PosedaInputError("--format", f"must be json, npz or csv, got {file_format!r}")
    _camera_options(None, focal, fov, None, min_score, max_gap)
    _number(min_confidence, "--min-confidence", 0, 1)
    if max_people is None and detector == "mediapipe":
        max_people = 4
    smoothing = Smoothing(smooth, min_cutoff, beta, d_cutoff, window, order)
    from poseda.fileio import check_output

    check_output(out, [video], "dir", "output folder")
    for p in demo_paths(video, out, "." + file_format).values():
        check_output(p, [video], "file", "output")
    res = run_demo(video, out, checkpoint, max_people, max_frames, smoothing, focal, fov, bvh=bvh, render=render,
                   suffix="." + file_format, min_confidence=min_confidence, min_score=min_score, max_gap=max_gap,
                   device=device, progress=progress, force=force, world=world, trc=trc, html=html, detector=detector,
                   tiles=tiles, adapt_with=_footage_adapter() if adapt else None)
    meta = res.lifted.meta
    typer.echo(f"{video}: {res.frames} frames at {res.fps:g} fps; {meta['input']['keypoint_description']} -> "
               f"{meta['model']['joint_set']} ({meta['model']['name']}, {meta['model']['receptive_field']} frame(s), "
               f"flip test on); smoothing: {meta['smoothing']['description']}")
    for line in res.report:
        typer.echo(line)
    for kind, paths in res.files.items():
        typer.echo(f"written ({kind}): " + ", ".join(str(p) for p in paths))
    typer.echo(res.timing_line())


@app.command("viz")
def viz_cmd(
    lifted: Path = typer.Argument(..., help="A 'poseda lift' output (.npz or .json)."),
    out: Path = typer.Option(..., "--out", "-o", help=".png (one frame), .gif or .mp4 (the sequence), or .html (every "
                                                      "person in 3D in a browser: orbit, zoom, play)."),
    frame: Optional[int] = typer.Option(None, "--frame", help="Frame number for a .png (default the first)."),
    track: Optional[int] = typer.Option(None, "--track", help="Which person (default the first track)."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frames per second of an animation (default: the lift "
                                                            "output's rate, else 25; divided by --stride)."),
    stride: int = typer.Option(1, "--stride", help="Draw every n-th frame of an animation."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", help="At most this many frames in an animation "
                                                                        "(default: all)."),
    force: bool = FORCE_OPTION,
):
    """Draw the 2D input beside the 3D skeleton: a PNG of one frame or a GIF / MP4 of a track."""
    from poseda.fileio import check_input, check_output, refuse_existing
    from poseda.lift.lifting import read_lifted
    from poseda.lift.viz import ANIMATION_SUFFIXES, render_frame, render_sequence

    _number(fps, "--fps", 0, 1000, low_open=True)
    if stride < 1 or (max_frames is not None and max_frames < 1):
        raise PosedaInputError("--stride" if stride < 1 else "--max-frames", "must be at least 1")
    check_input(lifted, "file", "lift output")
    check_output(out, [lifted], "file", "picture")
    refuse_existing([out], force)
    data = read_lifted(lifted)
    if out.suffix.lower() == ".html":
        from poseda.lift.html import write_html

        typer.echo(f"written: {write_html(data, out, fps or float(data.meta.get('fps') or 25.0))} (open it in a browser)")
    elif out.suffix.lower() in ANIMATION_SUFFIXES:
        fps = fps or float(data.meta.get("fps") or 25.0) / stride
        path, n = render_sequence(data, out, track, fps, stride, max_frames)
        typer.echo(f"written: {path} ({n} frames at {fps:g} fps)")
    else:
        typer.echo(f"written: {render_frame(data, out, frame, track)}")


@app.command("detect")
def detect_cmd(
    source: Path = typer.Argument(..., help="An image, a folder of images, or a video."),
    out: Path = typer.Option(..., "--out", "-o", help="Keypoints .json for 'poseda lift' (COCO keypoints with 'people', "
                                                      "MediaPipe's 33 landmarks with 'mediapipe')."),
    detector: str = DETECTOR_OPTION,
    every: int = typer.Option(1, "--every", help="Use every n-th frame."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", help="Stop after this many frames."),
    min_confidence: Optional[float] = MIN_CONFIDENCE_OPTION,
    max_people: Optional[int] = typer.Option(None, "--max-people", help="At most this many people per frame (default: 64 "
                                                                      "with 'people'; 1 with 'mediapipe', its tracking "
                                                                      "mode in a video)."),
    tiles: int = TILES_OPTION,
    progress: bool = typer.Option(True, "--progress/--no-progress", help="A progress bar."),
    force: bool = FORCE_OPTION,
):
    """Detect every person's 2D keypoints (bundled models, no download; pip install 'poseda[detect]')."""
    from poseda.fileio import check_input, check_output, refuse_existing
    from poseda.keypoints.detect import detect_keypoints

    if every < 1:
        raise PosedaInputError("--every", f"must be at least 1, got {every}")
    if max_frames is not None and max_frames < 1:
        raise PosedaInputError("--max-frames", f"must be at least 1, got {max_frames}")
    _number(min_confidence, "--min-confidence", 0, 1)
    check_input(source, "any", "image, folder or video")
    check_output(out, [source], "file", "keypoint file")
    refuse_existing([out], force)
    t0 = time.perf_counter()
    n, found = detect_keypoints(source, out, every, max_frames, min_confidence, max_people, progress, detector, tiles)
    typer.echo(f"{source}: people in {found} of {n} frame(s) -> {out} ({time.perf_counter() - t0:.1f} s)")


@app.command("export")
def export_cmd(
    checkpoint: Optional[Path] = CHECKPOINT_OPTION,
    onnx_path: Path = typer.Option(..., "--onnx", help="The .onnx file to write."),
    check: bool = typer.Option(True, "--check/--no-check", help="Compare with PyTorch through onnxruntime."),
    force: bool = FORCE_OPTION,
):
    """Export a lifter to ONNX (dynamic batch; joint names and input normalisation in its metadata)."""
    from poseda.fileio import check_output, refuse_existing
    from poseda.inference import load_lifter
    from poseda.lift.export import export_onnx

    if onnx_path.suffix.lower() != ".onnx":
        raise PosedaInputError(onnx_path, "the ONNX file must end in .onnx")
    checkpoint = resolve_checkpoint(checkpoint)
    check_output(onnx_path, [checkpoint, Path(checkpoint).with_suffix(".json")], "file", "ONNX file")
    refuse_existing([onnx_path], force, "ONNX file")
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise PosedaInputError("--onnx", "needs onnx and onnxscript: pip install 'poseda[onnx]'") from None
    model, rec, layout = load_lifter(checkpoint)
    if check:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            check = False
            typer.echo("not checked: onnxruntime is not installed (pip install 'poseda[onnx]')")
    path, diff = export_onnx(model, onnx_path, rec, check=check)
    typer.echo(f"written: {path} ({rec['model']['name']}, {layout.name}, {model.receptive_field} frame(s); "
               f"input keypoints2d [batch, {model.receptive_field}, {layout.num_joints}, 2] normalised screen units)")
    if diff is not None:
        typer.echo(f"onnxruntime vs PyTorch: max |difference| {diff * 1000:.2e} mm on random inputs")


@app.command("methods")
def methods_cmd():
    """List the registered adaptation methods and lifters, with what each declares."""
    from poseda.adapt.methods import METHODS
    from poseda.adapt.methods import ORIGIN as METHOD_ORIGIN
    from poseda.models import LIFTERS
    from poseda.models import ORIGIN as LIFTER_ORIGIN

    typer.echo("adaptation methods (poseda adapt -m NAME; a preset's methods):")
    for name, cls in METHODS.items():
        flags = [f"target 2D: {'yes' if cls.reads_target_2d else 'no'}", f"trains on: {cls.trains_on}",
                 f"augments: {'yes' if cls.augments else 'no'}", f"keeps: {'best' if cls.keeps_best else 'last'} epoch"]
        if cls.settings:
            flags.append(f"settings: {', '.join(cls.settings)}")
        if cls.options:
            flags.append("options: " + ", ".join(f"adapt.options.{name}.{k}={v!r}" for k, v in cls.options.items()))
        origin = f" [plugin {METHOD_ORIGIN[name]}]" if METHOD_ORIGIN.get(name) else ""
        typer.echo(f"  {name:10s} {cls.label}{origin}: {cls.description}")
        typer.echo(f"  {'':10s} {'; '.join(flags)}")
    typer.echo("lifters (model.name):")
    for name, f in LIFTERS.items():
        origin = f" [plugin {LIFTER_ORIGIN[name]}]" if LIFTER_ORIGIN.get(name) else ""
        typer.echo(f"  {name:16s} {getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', f)}{origin}")


def main():
    app()


if __name__ == "__main__":
    main()
