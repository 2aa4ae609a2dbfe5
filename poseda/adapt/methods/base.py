"""The registry of adaptation methods, and what methods that read the target share."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

import torch
from omegaconf import DictConfig, OmegaConf

from poseda.adapt.gpa import GlobalPositionAlignment, draw_anchors, most_similar
from poseda.data.device import device_split
from poseda.errors import PosedaInputError
from poseda.registry import Registry
from poseda.train.method import Method, TrainingLoop

if TYPE_CHECKING:
    from poseda.data.domain import Domain

#: name -> method class, in registration order (the order of tables and help)
METHODS: Registry[type[Method]] = Registry("method", "register_method", about=lambda cls: cls.description)
#: which plugin registered a name (None: built in, or registered by code that imported poseda)
ORIGIN = METHODS.origins


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator: make an adaptation method available by its ``name`` to ``poseda adapt
    -m``, presets and the library. Its declarations are checked here."""
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise PosedaInputError("register_method", f"{cls!r} is not a poseda.train.method.Method subclass")
    if not cls.label:
        raise PosedaInputError("register_method", f"{cls.__name__} declares no label")
    for key, value in cls.options.items():
        if not (isinstance(key, str) and key.isidentifier()) or not isinstance(value, (bool, int, float, str)):
            raise PosedaInputError("register_method", f"{cls.__name__}.options: {key!r} must name a bool, int, float or string default")
    return METHODS.register(cls.name, cls)


def method_class(name: str, where: str = "adapt.method") -> type[Method]:
    return METHODS.lookup(name, where)


def method_options(cls: type[Method], given: dict | None, where: str = "adapt.options") -> dict[str, Any]:
    """The method's declared options with the values ``given`` for it (``adapt.options.<method>.<key>``,
    so one config or preset can hold options for several methods) over their defaults. A section
    for no registered method, an unknown key, or a value of another type than its default's is
    refused."""
    if isinstance(given, DictConfig):
        given = OmegaConf.to_container(given, resolve=True)
    given = dict(given or {})
    for name, section in given.items():
        if name not in METHODS:
            raise PosedaInputError(f"{where}.{name}", f"names no registered method (options go in {where}.<method>.<key>; "
                                                      f"methods: {', '.join(METHODS)})")
        if not isinstance(section, dict):
            raise PosedaInputError(f"{where}.{name}", f"must be a mapping of {name}'s options, got {section!r}")
    resolved = {name: _resolve(METHODS[name], section, where) for name, section in given.items()}  # every section is checked
    return resolved.get(cls.name) or dict(cls.options)


def _resolve(cls: type[Method], section: dict, where: str) -> dict[str, Any]:
    out = dict(cls.options)
    for key, value in section.items():
        if key not in out:
            known = ", ".join(cls.options) or "none"
            raise PosedaInputError(f"{where}.{cls.name}.{key}", f"is not an option of method {cls.name} (its options: {known})")
        default = out[key]
        ok = isinstance(value, type(default)) and not (isinstance(value, bool) and not isinstance(default, bool))
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if isinstance(value, float) and not math.isfinite(value):
            ok = False
        if not ok:
            raise PosedaInputError(f"{where}.{cls.name}.{key}", f"must be a {type(default).__name__} like its default "
                                                                f"{default!r}, got {value!r}")
        out[key] = value
    return out


class AdaptationLoop(TrainingLoop, Protocol):
    """The loop of ``poseda adapt`` (:class:`poseda.adapt.Adapter`): a training loop that also holds
    the target domain, of which a method reads only the 2D and intrinsics of its adaptation split."""

    target: Domain


class AdaptationMethod(Method):
    """A method of ``poseda adapt``: keeps its last epoch (no target labels to select with) and,
    when it reads the target's 2D, keeps those poses with their own cameras on the device."""

    keeps_best = False

    def setup(self, trainer: AdaptationLoop) -> None:
        super().setup(trainer)
        self.options = method_options(type(self), trainer.cfg.adapt.get("options"))
        self.gpa = None
        self.gpa_size = None  # the typical depth rule's body size (metres); None: the paper's box rule
        gc = trainer.cfg.get("gpa") or {}
        self.pairing, self.candidates = gc.get("pairing", "random"), int(gc.get("candidates", 64))
        self.gpa_ray = gc.get("orientation", "camera") == "ray"
        if self.reads_target_2d:  # 2D + intrinsics only: Keypoints2D has no 3D field
            _, tset = device_split(trainer.target, "adaptation", trainer.layout, trainer.codec, trainer.device)
            self.gpa = GlobalPositionAlignment(tset.inputs, tset.intrinsics, trainer.codec.root, self.gpa_ray)
            if gc.get("depth", "box") == "typical":
                self.gpa_size = typical_size(trainer.train_set.targets)

    def anchors(self, n: int, source2d: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's share of ``n`` random target 2D poses, each with its own intrinsics,
        from the epoch's shared stream. With ``gpa.pairing=similar`` and this share's source 2D
        [b, J, 2], each source pose gets the target pose whose 2D shape is nearest its own among
        ``gpa.candidates`` random ones."""
        t = self.trainer
        if self.pairing == "similar" and source2d is not None:
            cand = t.share(draw_anchors(n * self.candidates, len(self.gpa), t.rng, t.device).view(n, self.candidates))
            pick = most_similar(source2d, self.gpa.target2d[cand], t.codec.root)
            i = cand.gather(1, pick[:, None])[:, 0]
        else:
            i = t.share(draw_anchors(n, len(self.gpa), t.rng, t.device))
        return self.gpa.target2d[i], self.gpa.target_k[i]

    def placed_labels(self, placed: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The 3D labels of GPA-placed poses: ``labels`` unchanged under the paper's rule (a
        translation keeps root-relative 3D), the placed centre frame made root-relative when the
        pose turned with its ray (``gpa.orientation=ray``)."""
        if not self.gpa_ray:
            return labels
        p = placed[:, placed.shape[1] // 2] if placed.dim() == 4 else placed  # a window's centre frame
        root = self.trainer.codec.root
        return p - p[..., root : root + 1, :]


def typical_size(targets: torch.Tensor) -> float:
    """The median mean extent (dx + dy) / 2 in metres of root-relative source poses [N, J, 3]:
    the body size of GPA's ``typical`` depth rule."""
    ext = targets.amax(-2) - targets.amin(-2)
    return float(((ext[:, 0] + ext[:, 1]) / 2).median())
