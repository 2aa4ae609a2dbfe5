"""Run configs: YAML files in the package (``poseda/configs``) or the user's, merged over the
defaults, with ``key.sub=value`` command-line overrides (OmegaConf). Every run saves its
resolved config."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from poseda.errors import PosedaInputError


def builtin_configs() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("poseda.configs").iterdir() if p.name.endswith(".yaml")
                  and p.name != "defaults.yaml")


def _read(name_or_path: str) -> DictConfig:
    p = Path(name_or_path)
    try:
        if p.suffix in (".yaml", ".yml") or p.is_file():
            if not p.is_file():
                raise PosedaInputError(p, "config file not found")
            return OmegaConf.load(p)
        res = resources.files("poseda.configs") / f"{name_or_path}.yaml"
        if not res.is_file():
            raise PosedaInputError(name_or_path, f"unknown config (built-in: {', '.join(builtin_configs())}) and no such file")
        return OmegaConf.create(res.read_text())
    except OmegaConfBaseException as e:
        raise PosedaInputError(name_or_path, f"bad config: {e}".splitlines()[0]) from None
    except Exception as e:  # yaml errors
        if isinstance(e, PosedaInputError):
            raise
        raise PosedaInputError(name_or_path, f"not valid YAML ({e.__class__.__name__})") from None


def load_config(name_or_path: str, overrides: list[str] = (), extra: dict | None = None) -> DictConfig:
    """defaults.yaml <- the named config <- ``extra`` (e.g. a checkpoint's model and data) <-
    overrides. Unknown keys in the config or the overrides are errors (a typo must not be
    silently ignored)."""
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
    return cfg


def default_values() -> dict:
    """defaults.yaml as a plain dict: the value of every key a run config may set."""
    return yaml.safe_load((resources.files("poseda.configs") / "defaults.yaml").read_text())


def save_config(cfg: DictConfig, path: Path) -> None:
    from poseda.fileio import atomic_write as _atomic_write

    _atomic_write(Path(path), lambda tmp: Path(tmp).write_text(OmegaConf.to_yaml(cfg, resolve=True)))


def to_dict(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(cfg, resolve=True)
