"""A benchmark preset: what to run and what to check, as a typed schema checked before any work.

A preset (``poseda/configs/benchmark/<name>.yaml`` or a user's YAML file) lists backbones
(lifter configs), seeds, targets and methods, the overrides of the source pretraining and of the
adaptation schedule, the two methods that bound the "gap closed" column, and the acceptance
checks printed under the table. Every target and threshold lives in the preset, none in code.

A check compares a method with a baseline on one metric (default MPJPE), on every target or on
those it names:

- ``ratio``: method / baseline, e.g. ``{rule: ratio, method: gpa_lpa, baseline: source, at_most: 0.8}``;
- ``gain``: how much better the method is, in % of the baseline (``above: 0`` = it beats it);
- ``gap_closed``: the share of the ``gap`` (source only -> oracle) the method closes, in %;
- ``ordering``: ``methods`` strictly decreasing in the metric;
- ``worst_seed``: the most the method is worse than the baseline on one seed, in the metric's
  unit (mm), seed against the same seed (both start from that seed's source lifter); printed with
  the spread of the per-seed differences and how many of the method's runs warned of collapse.

A goal is one of ``at_least``, ``at_most``, ``above``, ``below``; a check without one is printed
for reference. ``universal`` lists the targets also evaluated against the universal-skeleton
ground truth (MPI-INF-3DHP's protocol A: :mod:`poseda.data.universal`); their tables gain the
columns MPJPE-U, PCK-U and AUC-U, which checks may name as metrics.

``variants`` name a method run with other settings, so one table compares them: ``variants:
{gpa_ray: {method: gpa, label: "GPA, ray", overrides: {gpa.orientation: ray}}}`` and then
``gpa_ray`` in ``methods`` (and in checks) like any method. A variant's overrides come after the
preset's ``adapt`` ones; its runs have their own folder. A variant ``of`` another row trains
nothing: it evaluates that row's lifters with its own ``eval.fit_steps`` / ``eval.fit_prior``
(the estimates fitted onto the target's 2D at test time): ``{gpa_lpa_ray_fit: {of: gpa_lpa_ray,
label: "GPA + LPA, ray, fitted", overrides: {eval.fit_steps: 40}}}``. A variant that ``select``s
among rows trains nothing either: for each backbone, seed and target it is the row whose lifter's
estimates of the target's adaptation 2D agree best with that 2D
(:func:`poseda.inference.disagreement_2d`; no target 3D is read to choose), e.g. GPA's rule chosen
per target: ``{gpa_auto: {select: [gpa, gpa_ray], label: "GPA, rule chosen from the 2D"}}``.

``per_backbone`` adds overrides for one backbone after the preset's ``pretrain`` and ``adapt``
ones: ``per_backbone: {videopose3d_27: {pretrain: {model.options.channels: 512}}}``.

``requires`` maps a domain the preset needs to the command that makes it (an import of a licensed
dataset): when it is not in the cache the benchmark stops before any work with one line naming
that command. ``published`` lists figures from the literature, printed under each target's table
beside ours, each with its source and protocol.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from poseda.errors import PosedaInputError

METRICS = ("MPJPE", "PA-MPJPE", "N-MPJPE", "PCK", "AUC")
#: the same figures against the universal-skeleton ground truth (protocol A, :mod:`poseda.data.universal`)
UNIVERSAL_METRICS = ("MPJPE-U", "PCK-U", "AUC-U")
GOALS = {"at_least": ">=", "at_most": "<=", "above": ">", "below": "<"}
#: the settings a variant of another row may change: how its lifters are evaluated
EVAL_ONLY = ("eval.fit_steps", "eval.fit_prior")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Check(_Strict):
    rule: Literal["ratio", "gain", "gap_closed", "ordering", "worst_seed"]
    method: str | None = None
    baseline: str | None = None
    methods: list[str] | None = None
    metric: Literal["MPJPE", "PA-MPJPE", "N-MPJPE", "PCK", "AUC", "MPJPE-U", "PCK-U", "AUC-U"] = "MPJPE"
    targets: list[str] | None = None
    at_least: float | None = None
    at_most: float | None = None
    above: float | None = None
    below: float | None = None

    @field_validator("at_least", "at_most", "above", "below", mode="before")
    @classmethod
    def _number(cls, v):
        if isinstance(v, bool) or (v is not None and not isinstance(v, (int, float))):
            raise ValueError("must be a number")
        return None if v is None else float(v)

    @model_validator(mode="after")
    def _shape(self):
        goals = [k for k in GOALS if getattr(self, k) is not None]
        if len(goals) > 1:
            raise ValueError(f"give at most one goal, not {', '.join(goals)}")
        if self.rule == "ordering":
            if not self.methods or len(self.methods) < 2 or self.method or self.baseline:
                raise ValueError("an ordering check takes 'methods' (two or more) and nothing else to compare")
            if goals:
                raise ValueError("an ordering check has no goal value")
        else:
            if not self.method or self.methods:
                raise ValueError(f"a {self.rule} check takes 'method'" + (" and 'baseline'" if self.rule != "gap_closed" else ""))
            if (self.rule == "gap_closed") == (self.baseline is not None):
                raise ValueError("gap_closed compares with the preset's 'gap' and takes no baseline" if self.baseline
                                 else f"a {self.rule} check needs a 'baseline'")
        return self

    @property
    def goal(self) -> tuple[str, float] | None:
        """(operator, value), or None for a check printed for reference."""
        return next(((op, getattr(self, k)) for k, op in GOALS.items() if getattr(self, k) is not None), None)

    def names(self) -> list[str]:
        return list(self.methods or [m for m in (self.method, self.baseline) if m])


class Published(_Strict):
    """One published result: a method's figures on a target, with where they come from."""

    target: str
    method: str  # as the paper names it
    backbone: str = "-"
    source: str  # the paper (and table)
    protocol: str = ""
    values: dict[Literal["MPJPE", "PA-MPJPE", "N-MPJPE", "PCK", "AUC", "MPJPE-U", "PCK-U", "AUC-U"], float] = Field(min_length=1)
    approximate: bool = False  # read off a figure or rounded in the source ("about")

    @field_validator("values", mode="before")
    @classmethod
    def _numbers(cls, v):
        if isinstance(v, dict) and any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in v.values()):
            raise ValueError("published values must be numbers")
        return {k: float(x) for k, x in v.items()} if isinstance(v, dict) else v


class Variant(_Strict):
    """A registered method with other settings, under its own name in the table; or, with ``of``,
    another row's trained lifters evaluated with other ``eval.*`` settings (no training); or, with
    ``select``, per seed and target the one of those rows whose lifter agrees best with the
    target's 2D (no training, no 3D read to choose)."""

    method: str | None = None
    of: str | None = None
    select: list[str] | None = Field(default=None, min_length=2)
    label: str | None = None
    overrides: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self):
        if sum(x is not None for x in (self.method, self.of, self.select)) != 1:
            raise ValueError("give one of: a method to run, of (the row whose lifters it evaluates), "
                             "select (the rows it chooses among)")
        if self.select is not None:
            if self.overrides:
                raise ValueError("a variant that selects among rows has no overrides of its own")
            if len(set(self.select)) != len(self.select):
                raise ValueError("select names each row once")
            return self
        if not self.overrides:
            raise ValueError("overrides: give at least one setting")
        if self.of is not None:
            bad = [k for k in self.overrides if k not in EVAL_ONLY]
            if bad:
                raise ValueError(f"a variant 'of' another row changes only {', '.join(EVAL_ONLY)}, not {', '.join(bad)}")
        return self


class PerBackbone(_Strict):
    """Overrides for one backbone only, after the preset's own (e.g. a narrower temporal model)."""

    pretrain: dict[str, object] = Field(default_factory=dict)
    adapt: dict[str, object] = Field(default_factory=dict)


class Preset(_Strict):
    name: str = ""
    backbones: list[str] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    targets: list[str] = Field(min_length=1)
    methods: list[str] = Field(min_length=1)
    source: str = "h36m"
    flip_test: bool = True
    pretrain: dict[str, object] = Field(default_factory=dict)
    adapt: dict[str, object] = Field(default_factory=dict)
    gap: list[str] = Field(default_factory=lambda: ["source", "oracle"], min_length=2, max_length=2)
    universal: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    requires: dict[str, str] = Field(default_factory=dict)
    published: list[Published] = Field(default_factory=list)
    variants: dict[str, Variant] = Field(default_factory=dict)
    per_backbone: dict[str, PerBackbone] = Field(default_factory=dict)

    def overrides(self, section: str, backbone: str) -> dict:
        """The ``pretrain`` or ``adapt`` overrides for one backbone: the preset's, then the backbone's own."""
        own = self.per_backbone.get(backbone)
        return {**getattr(self, section), **(getattr(own, section) if own else {})}

    def base(self, name: str) -> str:
        """The registered method behind a method or variant name."""
        if name not in self.variants:
            return name
        v = self.variants[name]
        return v.method if v.method is not None else self.base(v.of if v.of is not None else v.select[0])

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v):
        if any(s < 0 for s in v) or len(set(v)) != len(v):
            raise ValueError("seeds must be distinct non-negative integers")
        return v

    @field_validator("backbones", "targets", "methods")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v) or any(not s for s in v):
            raise ValueError("must be distinct non-empty names")
        return v


def _one_line(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "preset"
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    shown = "" if isinstance(got, (dict, list)) or err["type"] in ("missing", "extra_forbidden") else f" (got {got!r})"
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{where}: {msg}{shown}" + (f" and {e.error_count() - 1} more problem(s)" if e.error_count() > 1 else "")


def parse_preset(raw, name: str, where: str) -> Preset:
    """A preset from parsed YAML; every problem is one line naming ``where`` and the key. Methods
    must be registered (load plugins first) and backbones built-in configs or existing files."""
    from poseda.adapt.methods import METHODS
    from poseda.config import builtin_configs

    if not isinstance(raw, dict):
        raise PosedaInputError(where, f"a preset is a YAML mapping of keys (backbones, seeds, ...), not {type(raw).__name__}")
    try:
        preset = Preset(**{k: v for k, v in raw.items() if k != "name"}, name=name)
    except ValidationError as e:
        raise PosedaInputError(where, _one_line(e)) from None
    except TypeError as e:  # non-string keys
        raise PosedaInputError(where, f"bad preset keys ({e})") from None
    def trains(row: str) -> bool:  # a registered method, or a variant that runs one
        return row in METHODS or (row in preset.variants and preset.variants[row].method is not None)

    for v, var in preset.variants.items():
        if v in METHODS:
            raise PosedaInputError(where, f"variant {v!r} has the name of a registered method; give it another")
        for row, key in [(var.of, "of"), *((r, "select") for r in var.select or [])]:
            if row is not None and not trains(row):
                raise PosedaInputError(where, f"variant {v!r}: {key} names {row!r}, which is neither a registered method nor "
                                              "a variant that trains")
        if var.method is not None and var.method not in METHODS:
            raise PosedaInputError(where, f"variant {v!r}: unknown method {var.method!r} (known: {', '.join(METHODS)})")
    for v, var in preset.variants.items():
        if var.select is not None and v in preset.methods:
            rest = [r for r in var.select if r not in preset.methods]
            if rest:
                raise PosedaInputError(where, f"variant {v!r} selects among {', '.join(rest)}, which methods does not list "
                                              "(the table shows the rows it chooses from)")
    for m in [*preset.methods, *preset.gap, *(n for c in preset.checks for n in c.names())]:
        if m not in METHODS and m not in preset.variants:
            raise PosedaInputError(where, f"unknown method {m!r} (known: {', '.join(METHODS)}; a plugin can register more)")
    for b in preset.backbones:
        if b not in builtin_configs() and not Path(b).is_file():
            raise PosedaInputError(where, f"unknown backbone config {b!r} (built-in: {', '.join(builtin_configs())})")
    for b in preset.per_backbone:
        if b not in preset.backbones:
            raise PosedaInputError(where, f"per_backbone names backbone {b!r}, which is not in backbones {preset.backbones}")
    for c in preset.checks:
        for t in c.targets or []:
            if t not in preset.targets:
                raise PosedaInputError(where, f"a {c.rule} check names target {t!r}, which is not in targets {preset.targets}")
    for t in preset.universal:
        if t not in preset.targets:
            raise PosedaInputError(where, f"universal names target {t!r}, which is not in targets {preset.targets}")
    for t in [*(p.target for p in preset.published)]:
        if t not in preset.targets:
            raise PosedaInputError(where, f"a published figure names target {t!r}, which is not in targets {preset.targets}")
    for d in preset.requires:
        if d not in (preset.source, *preset.targets):
            raise PosedaInputError(where, f"requires names domain {d!r}, which is neither the source nor a target")
    return preset


def builtin_presets() -> list[str]:
    return sorted(x.name[:-5] for x in resources.files("poseda.configs.benchmark").iterdir() if x.name.endswith(".yaml"))


def load_preset(name_or_path: str) -> Preset:
    """A built-in preset by name, or a preset file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.is_file():
        if not p.is_file():
            raise PosedaInputError(p, "preset file not found")
        try:
            text, name = p.read_text(), p.stem
        except (OSError, UnicodeDecodeError) as e:
            raise PosedaInputError(p, f"cannot read as text ({type(e).__name__})") from None
    else:
        res = resources.files("poseda.configs.benchmark") / f"{name_or_path}.yaml"
        if not res.is_file():
            raise PosedaInputError("--preset", f"unknown preset {name_or_path!r} (built-in: {', '.join(builtin_presets())}) "
                                               "and no such file")
        text, name = res.read_text(), name_or_path
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PosedaInputError(name_or_path, f"not valid YAML ({e.__class__.__name__})") from None
    return parse_preset(raw if raw is not None else {}, name, name_or_path)
