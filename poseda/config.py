"""Run configs: YAML files in the package (``poseda/configs``) or the user's, merged over the
defaults, with ``key.sub=value`` command-line overrides (OmegaConf). Every run saves its
resolved config.

A typed schema (:class:`RunSchema`, pydantic) checks every section's types and ranges before any
data is loaded or any file is written: positive sizes and epochs, finite learning rates, known
choices, safe names. A bad value is one line naming the key, the value and what is allowed; a
value the command line gave as text (``train.lr=1e-3``) is converted to its key's type.
"""
from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError

from poseda.errors import PosedaInputError
from poseda.fileio import SAFE_NAME


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    return v


def _not_bool(v):
    if isinstance(v, bool):
        raise ValueError("must be a number, not true or false")
    return v


def _name(v: str) -> str:
    if not SAFE_NAME.fullmatch(v) or v in (".", ".."):
        raise ValueError("must be a safe name (letters, digits, '.', '_', '+', '-'; starting with a letter or digit; no '/')")
    return v


def _band(v: list[float]) -> list[float]:
    if v[0] > v[1]:
        raise ValueError(f"low {v[0]} is above high {v[1]}")
    return v


# numbers the command line gave as text ("1e-3") become floats; integers and booleans must be what they say
Finite = Annotated[float, BeforeValidator(_not_bool), AfterValidator(_finite)]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Name = Annotated[str, AfterValidator(_name)]
Count = Annotated[Int, Field(ge=1, le=10**9)]
Angle = Annotated[Finite, Field(ge=0, le=180)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunSection(_Section):
    name: Name = "run"
    seed: Annotated[Int, Field(ge=0, lt=2**63)] = 0
    out: str = "runs"
    dir: str | None = None


class DataSection(_Section):
    source: str = "h36m"
    cache: str | None = None
    joints: Literal["h36m17", "h36m16", "humaneva15"] | None = None
    val_percent: Annotated[Int, Field(ge=1, le=99)] = 5
    samples_per_epoch: Count | None = None


class ModelSection(_Section):
    name: Annotated[str, Field(min_length=1)] = "simple_baseline"
    options: dict[str, Any] = Field(default_factory=dict)


class TrainSection(_Section):
    epochs: Annotated[Int, Field(ge=1, le=100000)] = 20
    batch_size: Annotated[Int, Field(ge=1, le=2**24)] = 1024
    chunk: Annotated[Int, Field(ge=1, le=4096)] = 1
    chunk_step: Annotated[Int, Field(ge=1, le=4096)] = 1
    init: str | None = None
    optimizer: Literal["adam", "adamw"] = "adam"
    lr: Annotated[Finite, Field(gt=0, le=10)] = 1e-3
    lr_decay: Annotated[Finite, Field(gt=0, le=1)] = 0.95
    weight_decay: Annotated[Finite, Field(ge=0, le=10)] = 0.0
    grad_clip: Annotated[Finite, Field(ge=0)] = 1.0
    flip_augment: Bool = True
    amp: Literal["auto"] | Bool = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: Annotated[Int, Field(ge=1, le=1024)] | None = None
    eval_every: Annotated[Int, Field(ge=1)] = 1
    val_samples: Count | None = 20000
    log_every: Annotated[Int, Field(ge=1)] = 50
    progress: Bool = True


#: the bounds of a test-time fit's steps and prior weight (``eval.fit_steps``, ``eval.fit_prior``, ``--fit-steps``)
FIT_STEPS = (0, 10000)
FIT_PRIOR = (0.0, 1000.0)


class EvalSection(_Section):
    flip_test: Bool = True
    batch_size: Annotated[Int, Field(ge=1, le=2**24)] = 4096
    fit_steps: Annotated[Int, Field(ge=FIT_STEPS[0], le=FIT_STEPS[1])] = 0
    fit_prior: Annotated[Finite, Field(ge=FIT_PRIOR[0], le=FIT_PRIOR[1])] = 0.1


class AdaptSection(_Section):
    method: str | None = None
    target: Name | None = None
    init: str | None = None
    keypoints: str | None = None
    aug_weight: Annotated[Finite, Field(ge=0, le=1e3)] = 1.0
    options: dict[str, Any] = Field(default_factory=dict)


class GPASection(_Section):
    depth: Literal["box", "typical"] = "box"
    pairing: Literal["random", "similar"] = "random"
    orientation: Literal["camera", "ray"] = "camera"
    candidates: Annotated[Int, Field(ge=2, le=4096)] = 64


class LPASection(_Section):
    noise_dim: Annotated[Int, Field(ge=1, le=4096)] = 16
    hidden: Annotated[Int, Field(ge=1, le=65536)] = 256
    max_bone_angle_deg: Angle = 45.0
    bone_frame: Literal["body", "camera"] = "body"
    length_range: Annotated[Finite, Field(ge=0, lt=1)] = 0.5
    keep_size: Bool = True
    size_from: Literal["all", "limbs"] = "all"
    definition_bones: Annotated[list[str], Field(max_length=64)] = []
    max_rotation_deg: Annotated[list[Angle], Field(min_length=3, max_length=3)] = [40.0, 30.0, 15.0]
    angle_band_deg: Annotated[list[Angle], Field(min_length=2, max_length=2), AfterValidator(_band)] = [1.0, 8.0]
    hard_ratio: Annotated[Finite, Field(gt=0, le=100)] = 1.3
    w_adv_2d: Annotated[Finite, Field(ge=0, le=1e3)] = 1.0
    w_adv_3d: Annotated[Finite, Field(ge=0, le=1e3)] = 0.1
    w_angle: Annotated[Finite, Field(ge=0, le=1e3)] = 5.0
    w_length: Annotated[Finite, Field(ge=0, le=1e3)] = 1.0
    w_feedback: Annotated[Finite, Field(ge=0, le=1e3)] = 0.0
    joint_shift_m: Annotated[Finite, Field(ge=0, le=0.5)] = 0.0
    shift_joints: Annotated[list[str], Field(max_length=64)] = ["Pelvis", "LHip", "RHip", "Thorax", "Head"]
    w_shift: Annotated[Finite, Field(ge=0, le=1e3)] = 1.0
    lr: Annotated[Finite, Field(gt=0, le=10)] = 1e-3
    d_lr: Annotated[Finite, Field(gt=0, le=10)] = 1e-3
    collapse_saturation: Annotated[Finite, Field(ge=0, le=1)] = 0.5
    collapse_spread: Annotated[Finite, Field(ge=0)] = 1e-4
    collapse_d_accuracy: Annotated[Finite, Field(ge=0, le=1)] = 0.98
    on_collapse: Literal["warn", "stop"] = "warn"


class RunSchema(_Section):
    """Every key a run config may set, with its type and range (``defaults.yaml`` gives the values)."""

    run: RunSection
    data: DataSection
    model: ModelSection
    train: TrainSection
    eval: EvalSection
    adapt: AdaptSection
    gpa: GPASection
    lpa: LPASection


def _one_line(e: ValidationError, where: str = "") -> str:
    err = e.errors()[0]
    key = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("function-after", "literal[")))
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    return f"{where}{key}: {msg}" + ("" if isinstance(got, (dict, list)) or err["type"] == "missing" else f" (got {got!r})")


def check_config(cfg: DictConfig) -> DictConfig:
    """``cfg`` with every value checked against :class:`RunSchema` and converted to its key's
    type; the first problem is one line naming the key, the value and what is allowed."""
    try:
        checked = RunSchema.model_validate(OmegaConf.to_container(cfg, resolve=True))
    except ValidationError as e:
        raise PosedaInputError("config", _one_line(e)) from None
    except OmegaConfBaseException as e:
        raise PosedaInputError("config", f"cannot resolve: {str(e).splitlines()[0]}") from None
    out = OmegaConf.create(checked.model_dump(mode="json"))
    OmegaConf.set_struct(out, True)
    OmegaConf.set_struct(out.model.options, False)
    OmegaConf.set_struct(out.adapt.options, False)
    return out


def builtin_configs() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("poseda.configs").iterdir() if p.name.endswith(".yaml")
                  and p.name != "defaults.yaml")


def _read(name_or_path: str) -> DictConfig:
    p = Path(name_or_path)
    try:
        if p.suffix in (".yaml", ".yml") or p.is_file():
            from poseda.fileio import check_input

            check_input(p, "file", "config file")
            cfg = OmegaConf.load(p)
        else:
            res = resources.files("poseda.configs") / f"{name_or_path}.yaml"
            if not res.is_file():
                raise PosedaInputError(name_or_path, f"unknown config (built-in: {', '.join(builtin_configs())}) and no such file")
            cfg = OmegaConf.create(res.read_text())
    except OmegaConfBaseException as e:
        raise PosedaInputError(name_or_path, f"bad config: {e}".splitlines()[0]) from None
    except PosedaInputError:
        raise
    except Exception as e:  # yaml errors, binary files
        raise PosedaInputError(name_or_path, f"not valid YAML ({e.__class__.__name__})") from None
    if not isinstance(cfg, DictConfig):
        raise PosedaInputError(name_or_path, "a config is a YAML mapping of sections (run, data, model, train, ...)")
    return cfg


def load_config(name_or_path: str, overrides: list[str] = (), extra: dict | None = None) -> DictConfig:
    """defaults.yaml <- the named config <- ``extra`` (e.g. a checkpoint's model and data) <-
    overrides, checked against the schema. Unknown keys in the config or the overrides are
    errors (a typo must not be silently ignored)."""
    base = OmegaConf.create((resources.files("poseda.configs") / "defaults.yaml").read_text())
    OmegaConf.set_struct(base, True)
    OmegaConf.set_struct(base.model.options, False)  # a lifter's own options are open
    OmegaConf.set_struct(base.adapt.options, False)  # so are a method's (checked against its declaration)
    try:
        cfg = OmegaConf.merge(base, _read(name_or_path))
        if extra:
            cfg = OmegaConf.merge(cfg, OmegaConf.create(extra))
    except OmegaConfBaseException as e:
        raise PosedaInputError(name_or_path, f"unknown or bad key: {str(e).splitlines()[0]}") from None
    for ov in overrides:
        if "=" not in ov:
            raise PosedaInputError(ov, "an override must look like key.sub=value")
        try:
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist([ov]))
        except OmegaConfBaseException as e:
            raise PosedaInputError(ov, f"bad override: {str(e).splitlines()[0]}") from None
    return check_config(cfg)


def default_values() -> dict:
    """defaults.yaml as a plain dict: the value of every key a run config may set."""
    return yaml.safe_load((resources.files("poseda.configs") / "defaults.yaml").read_text())


def run_dir(cfg: DictConfig) -> Path:
    """Where a run keeps its files: ``run.dir``, else ``run.out/run.name``."""
    return Path(cfg.run.dir or Path(cfg.run.out) / cfg.run.name)


def save_config(cfg: DictConfig, path: Path) -> None:
    from poseda.fileio import atomic_write as _atomic_write

    _atomic_write(Path(path), lambda tmp: Path(tmp).write_text(OmegaConf.to_yaml(cfg, resolve=True)))


def to_dict(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(cfg, resolve=True)
