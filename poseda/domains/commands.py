"""What the ``poseda data ...`` commands do, each behind one options object (:mod:`poseda.options`):
``prepare``, ``custom``, ``footage``, ``import``, ``export`` and ``stats``. Each function checks
its arguments and where it will write before any work, builds, and reports through ``echo``;
:mod:`poseda.cli` only parses the flags into the options. Python code calls the same functions."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Callable, List, Optional

from poseda.errors import PosedaInputError
from poseda.keypoints.options import KeypointReading
from poseda.options import Arg, Cache, DataRoot, Force, Opt, check_number

Echo = Callable[[str], None]
Fps = Annotated[float, Opt("--fps", help="Frame rate of the motion.")]


@dataclass(kw_only=True)
class PrepareOptions:
    """Build the built-in domains from the raw data (once), into the cache; -d h36m alone is enough to train a lifter."""

    data_root: DataRoot = None
    cache: Cache = None
    domain: Annotated[List[str], Opt("--domain", "-d", help="Domain(s) to prepare; default all built-in.")] = \
        field(default_factory=list)
    force: Annotated[bool, Opt("--force", help="Rebuild even if an up-to-date copy is cached.")] = False


def prepare_command(o: PrepareOptions, echo: Echo = print) -> None:
    import sys
    import time

    from tqdm import tqdm

    from poseda.data.cache import cache_root
    from poseda.domains.builders import BUILTIN
    from poseda.domains.mirror import data_root, missing_upstream
    from poseda.domains.prepare import EXPECTED_STEPS, prepare_domain, source_fingerprint
    from poseda.errors import PosedaInputErrors
    from poseda.fileio import check_output

    root = data_root(o.data_root)
    cache_dir = check_output(cache_root(o.cache), [root], "dir", "cache")
    names = o.domain or list(BUILTIN)
    for n in names:
        if n not in BUILTIN:
            raise PosedaInputError("--domain", f"unknown domain {n!r} (built-in: {', '.join(BUILTIN)})")
    missing = missing_upstream(root, names)
    if missing:  # every missing file at once, one line each, before any work
        raise PosedaInputErrors(missing)
    fp = source_fingerprint(root)
    for n in names:
        t0 = time.perf_counter()
        with tqdm(total=EXPECTED_STEPS.get(n), desc=f"{n:12s}", unit="seq", leave=True, file=sys.stderr, disable=None) as bar:
            folder, built = prepare_domain(n, root, cache_dir, force=o.force, progress=bar.update, fingerprint=fp)
        echo(f"{n}: {'built' if built else 'up to date'} in {time.perf_counter() - t0:.1f} s -> {folder}")


@dataclass(kw_only=True)
class CustomOptions:
    """Build a domain from your own motion folder and rig file."""

    name: Annotated[str, Arg("Name of the new domain.")]
    motion: Annotated[Path, Opt("--motion", help="Folder of motion files (.bvh, or .npz with joints3d [T,17,3]).")]
    rig: Annotated[str, Opt("--rig", help="Rig YAML file (or a built-in rig: mpi-inf-3dhp, handheld, broadcast, overhead, ground).")]
    role: Annotated[str, Opt("--role", help="'target' (2D-only adaptation split) or 'source'.")] = "target"
    joint_map: Annotated[Optional[Path], Opt("--joint-map", help="YAML 'CanonicalJoint: file joint' for BVH "
                                                                 "skeletons.")] = None
    units: Annotated[Optional[float], Opt("--units", help="Metres per file unit (default: guessed from body "
                                                          "height).")] = None
    up: Annotated[str, Opt("--up", help="Vertical axis of the files: y, z or auto (BVH: y).")] = "auto"
    fps: Fps = 30.0
    seed: Annotated[int, Opt("--seed", help="Seed of the camera draws.")] = 2023
    cache: Cache = None

    def __post_init__(self):
        from poseda.fileio import safe_name

        self.motion = Path(self.motion)
        safe_name(self.name, "domain name")
        if self.up not in ("auto", "y", "z"):
            raise PosedaInputError("--up", f"must be y, z or auto, got {self.up!r}")
        if self.role not in ("source", "target"):
            raise PosedaInputError("--role", f"must be source or target, got {self.role!r}")
        check_number(self.fps, "--fps", 0, 10000, low_open=True)
        check_number(self.units, "--units", 0, 1e3, low_open=True)
        if not 0 <= self.seed < 2**63:
            raise PosedaInputError("--seed", f"must be from 0 to 2**63 - 1, got {self.seed}")


def custom_command(o: CustomOptions, echo: Echo = print) -> None:
    from poseda.data.cache import cache_root
    from poseda.data.domain import write_domain
    from poseda.domains.builders import BUILTIN, build_custom, load_joint_map
    from poseda.domains.rig import load_rig
    from poseda.fileio import check_input, check_output

    if o.name in BUILTIN:
        raise PosedaInputError(o.name, "is a built-in domain name; choose another")
    check_input(o.motion, "dir", "motion folder")
    cache_dir = cache_root(o.cache)
    check_output(cache_dir / o.name, [o.motion], "dir", "domain")
    rig = load_rig(o.rig)
    joint_map = load_joint_map(o.joint_map) if o.joint_map else None
    meta, arrays = build_custom(o.name, o.motion, rig, role=o.role, seed=o.seed, fps=o.fps, joint_map=joint_map,
                                units_to_m=o.units, up=o.up)
    folder = write_domain(cache_dir / o.name, meta, arrays)
    echo(f"{o.name}: {len(arrays['joints3d'])} frames, {len(meta['views'])} views -> {folder}")


@dataclass(kw_only=True)
class FootageOptions:
    """Build a 2D-only target domain from your own keypoint files and camera, to adapt a lifter to."""

    name: Annotated[str, Arg("Name of the new target domain (then: poseda adapt CKPT -t NAME).")]
    keypoints: Annotated[List[Path], Arg("Keypoint files or folders: COCO / OpenPose / MediaPipe JSON, .npz, .csv.")]
    reading: KeypointReading = field(default_factory=KeypointReading)
    fps: Annotated[float, Opt("--fps", help="Frame rate of the footage.")] = 30.0
    cache: Cache = None

    def __post_init__(self):
        from poseda.fileio import safe_name

        safe_name(self.name, "domain name")
        self.keypoints = [Path(k) for k in self.keypoints]
        check_number(self.fps, "--fps", 0, 10000, low_open=True)


def footage_command(o: FootageOptions, echo: Echo = print) -> None:
    from poseda.data.cache import cache_root
    from poseda.domains.footage import build_footage
    from poseda.fileio import check_input, check_output

    for k in o.keypoints:
        check_input(k, "any", "keypoint file or folder")
    cache_dir = cache_root(o.cache)
    check_output(cache_dir / o.name, o.keypoints, "dir", "domain")
    folder, rep = build_footage(o.name, o.keypoints, cache_dir, o.reading, fps=o.fps)
    for line in rep.lines:
        echo(line)
    echo(f"{o.name}: {rep.frames} frames in {rep.views} track(s) from {rep.files} file(s), "
         f"{rep.filled_joints} joint values filled in time, no 3D -> {folder}")
    echo(f"next: poseda adapt CHECKPOINT -t {o.name}")


@dataclass(kw_only=True)
class ImportOptions:
    """Make a domain from a licensed dataset you own (Human3.6M, MPI-INF-3DHP, 3DPW): docs/data.md."""

    kind: Annotated[str, Arg("h36m-vp3d, mpi-inf-3dhp, 3dpw, or one a plugin registers ('poseda methods' lists them).")]
    name: Annotated[str, Arg("Name of the new domain (e.g. the kind's name).")]
    paths: Annotated[List[Path], Arg("The dataset's files or folders, as its publishers distribute them.")]
    adapt_on: Annotated[Optional[str], Opt("--adapt-on", help="Targets: train (default) or test (transductive).")] = None
    train_stride: Annotated[Optional[int], Opt("--train-stride", help="mpi-inf-3dhp: every n-th training frame "
                                                                      "(10).")] = None
    train_cameras: Annotated[Optional[str], Opt("--train-cameras", help="mpi-inf-3dhp: training cameras "
                                                                        "(0,1,2,4,5,6,7,8).")] = None
    data_root: Annotated[Optional[Path], Opt("--data-root", help="A data root whose cameras/*.json override the "
                                                                 "packaged calibrations.")] = None
    cache: Cache = None


def import_command(o: ImportOptions, echo: Echo = print) -> None:
    from poseda.data.cache import cache_root, load_domain
    from poseda.domains.importers import import_domain, importers
    from poseda.fileio import check_output

    importers().lookup(o.kind, "KIND")
    cache_dir = cache_root(o.cache)
    check_output(cache_dir / o.name, list(o.paths), "dir", "domain")
    options = dict(adapt_on=o.adapt_on, train_stride=o.train_stride, train_cameras=o.train_cameras,
                   data_root=str(o.data_root) if o.data_root else None)
    folder = import_domain(o.kind, o.name, o.paths, cache_dir, options)
    d = load_domain(folder)
    echo(f"{o.name}: {len(d)} frames, {len(d.views)} views ({d.role}) -> {folder}")
    for split, what in d.splits.items():
        echo(f"  {split}: {what}")
    echo(f"next: poseda data stats --domain {o.name}" if d.role == "target" else f"next: poseda train data.source={o.name}")


@dataclass(kw_only=True)
class ExportOptions:
    """Write a domain where VideoPose3D's or PoseAug's own code reads it (docs/data.md)."""

    domain: Annotated[str, Arg("A prepared domain (built-in, custom, footage or imported).")]
    file_format: Annotated[str, Opt("--format", help="videopose3d, poseaug, or one a plugin registers.")] = "videopose3d"
    out: Annotated[Path, Opt("--out", help="The peer's checkout (files go to its data/ and data_extra/ folders).")]
    name: Annotated[Optional[str], Opt("--name", help="VideoPose3D's dataset name (-d NAME; default h36m, humaneva15 "
                                                      "or poseda-DOMAIN).")] = None
    subject: Annotated[Optional[List[str]], Opt("--subject", help="Only this subject (repeatable).")] = None
    force: Force = False
    cache: Cache = None

    def __post_init__(self):
        from poseda.fileio import safe_name

        self.out = Path(self.out)
        if self.name is not None:
            safe_name(self.name, "--name")


def export_command(o: ExportOptions, echo: Echo = print) -> None:
    from poseda.data.cache import cache_root, load_domain
    from poseda.domains.export import FORMATS, export_domain
    from poseda.fileio import check_output

    FORMATS.lookup(o.file_format, "--format")
    cache_dir = cache_root(o.cache)
    check_output(o.out, [cache_dir], "dir", "export folder")
    d = load_domain(o.domain, cache_dir)
    done = export_domain(d, o.file_format, o.out, o.name, o.subject or None, force=o.force)
    for path in done.files:
        echo(f"written: {path}")
    for line in done.how:
        echo(line)


@dataclass(kw_only=True)
class StatsOptions:
    """Print the domain-gap table and write PNG plots per domain."""

    cache: Cache = None
    domain: Annotated[List[str], Opt("--domain", "-d", help="Domain(s); default the four built-in ones.")] = \
        field(default_factory=list)
    out: Annotated[Path, Opt("--out", help="Folder for the PNG plots and the table.")] = Path("poseda-stats")
    force: Force = False


def stats_command(o: StatsOptions, echo: Echo = print) -> None:
    from poseda.data.cache import cache_root, load_domain
    from poseda.domains.builders import BUILTIN
    from poseda.domains.stats import QUANTITIES, domain_stats, plot_stats, skeleton_table, stats_table
    from poseda.fileio import check_output, refuse_existing, staged_files

    out = Path(o.out)
    cache_dir = cache_root(o.cache)
    check_output(out, [cache_dir], "dir", "statistics folder")
    refuse_existing([out / "stats.md"], o.force)
    domains = [load_domain(n, cache_dir) for n in (o.domain or list(BUILTIN))]
    stats = [domain_stats(d) for d in domains]
    table = stats_table(stats)
    echo("mean / std per domain (all frames; normalised screen units: x / W * 2 - 1, y / W * 2 - H / W)")
    echo(table)
    bones = skeleton_table(domains)
    echo("\nskeletons: median segment lengths in cm (right side), 20k frames per domain")
    echo(bones)
    table = table + "\n\nSkeletons (median segment lengths, cm):\n\n" + bones
    legend = "\n".join(f"- {k}: {v}" for k, v in QUANTITIES.items())
    with staged_files(out, o.force) as stage:
        paths = [out / p.relative_to(stage) for p in plot_stats(stats, stage)]
        (stage / "stats.md").write_text(table + "\n\n" + legend + "\n")
    echo(f"plots: {', '.join(str(p) for p in paths)}")


__all__ = ["PrepareOptions", "prepare_command", "CustomOptions", "custom_command", "FootageOptions", "footage_command",
           "ImportOptions", "import_command", "ExportOptions", "export_command", "StatsOptions", "stats_command"]
