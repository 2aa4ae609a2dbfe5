"""The cross-domain benchmark: a typed preset (:mod:`~poseda.benchmark.preset`), the resumable
runner (:mod:`~poseda.benchmark.runner`), the table (:mod:`~poseda.benchmark.table`), the
preset's acceptance checks (:mod:`~poseda.benchmark.checks`) and plots
(:mod:`~poseda.benchmark.plots`)."""
from poseda.benchmark.checks import run_checks
from poseda.benchmark.preset import Check, Preset, load_preset, parse_preset
from poseda.benchmark.runner import Benchmark, settings_changed
from poseda.benchmark.table import aggregate, to_csv, to_markdown, write_table

__all__ = ["Benchmark", "Check", "Preset", "aggregate", "load_preset", "parse_preset", "run_checks", "settings_changed",
           "to_csv", "to_markdown", "write_table"]
