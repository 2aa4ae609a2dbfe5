"""What ``poseda benchmark`` does, behind its options object (:mod:`poseda.options`);
:mod:`poseda.cli` only parses the flags into it and reports through ``echo``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Callable, List, Optional

from poseda.errors import PosedaInputError
from poseda.options import Cache, Opt, Progress

Echo = Callable[[str], None]


@dataclass(kw_only=True)
class BenchmarkOptions:
    """Run the cross-domain table (targets x backbones x methods x seeds); resumes a partial run."""

    preset: Annotated[str, Opt("--preset", "-p", help="quick, full, or a preset YAML file.")] = "quick"
    out: Annotated[Optional[Path], Opt("--out", help="Run folder (default poseda-benchmark/<preset>); an existing one "
                                                     "is resumed.")] = None
    cache: Cache = None
    device: Annotated[str, Opt("--device", help="auto, cpu or cuda")] = "auto"
    progress: Progress = True
    seeds: Annotated[List[int], Opt("--seed", help="Run (or tabulate) only these seeds of the preset; repeatable.")] = \
        field(default_factory=list)
    backbones: Annotated[List[str], Opt("--backbone", help="Only these of the preset's backbones; repeatable.")] = \
        field(default_factory=list)


def _only(wanted: list, have: list, option: str) -> list:
    """``wanted`` (in order, once each) when every one of them is in ``have``; else one line naming the rest."""
    unknown = [w for w in wanted if w not in have]
    if unknown:
        raise PosedaInputError(option, f"{', '.join(map(str, unknown))} not in the preset (it has {', '.join(map(str, have))})")
    return list(dict.fromkeys(wanted))


def benchmark_command(o: BenchmarkOptions, echo: Echo = print) -> None:
    import time

    from poseda.benchmark.preset import load_preset
    from poseda.benchmark.runner import Benchmark
    from poseda.benchmark.table import write_table
    from poseda.data.cache import cache_root
    from poseda.fileio import check_output
    from poseda.inference import device_kind

    device_kind(o.device)
    p = load_preset(o.preset)
    if o.seeds:
        p.seeds = _only(o.seeds, p.seeds, "--seed")
    if o.backbones:
        p.backbones = _only(o.backbones, p.backbones, "--backbone")
    out = o.out or Path("poseda-benchmark") / p.name
    inputs = [cache_root(o.cache)] + ([Path(o.preset)] if Path(o.preset).is_file() else [])
    check_output(out, inputs, "dir", "benchmark folder")
    bench = Benchmark(p, out, o.cache, o.device, o.progress, echo=echo)
    t0 = time.perf_counter()
    results = bench.run()
    paths = write_table(bench, results)
    echo(paths["markdown"].read_text())
    echo(f"written: {paths['markdown']}, {paths['csv']}, plots in {paths['plots']} "
         f"(this invocation: {(time.perf_counter() - t0) / 60:.1f} min)")


__all__ = ["BenchmarkOptions", "benchmark_command"]
