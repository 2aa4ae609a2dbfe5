"""Lifters: the interface (:mod:`poseda.models.base`), five backbones, and the registry that
builds a lifter by name: a built-in one, or one a plugin registered (:mod:`poseda.plugins`)."""
from __future__ import annotations

import sys
from typing import Any, Callable

import torch
from torch import nn

from poseda.errors import PosedaInputError
from poseda.models.base import check_lifter, check_options
from poseda.models.semgcn import SemGCN
from poseda.models.simple_baseline import SimpleBaseline
from poseda.models.stgcn import STGCN
from poseda.models.transformer import PoseTransformer
from poseda.models.videopose import VideoPose3D
from poseda.registry import Registry, qualified_name
from poseda.skeleton.layouts import JointLayout

#: name -> lifter class (or factory) taking ``layout`` and keyword options
LIFTERS: Registry[Callable[..., nn.Module]] = Registry("lifter", "register_lifter")
for _name, _cls in (("simple_baseline", SimpleBaseline), ("videopose3d", VideoPose3D), ("semgcn", SemGCN), ("stgcn", STGCN),
                    ("transformer", PoseTransformer)):
    LIFTERS.register(_name, _cls)
#: which plugin registered a name (None: built in, or registered by code that imported poseda)
ORIGIN = LIFTERS.origins


def register_lifter(name: str, factory: Callable[..., nn.Module] | None = None):
    """Make a lifter class (taking ``layout`` and keyword options) buildable by name, so configs
    (``model.name``), checkpoints and every command can use it. Works as a decorator:

    >>> @register_lifter("doc_example")
    ... class Zero(nn.Module):
    ...     def __init__(self, layout):
    ...         super().__init__()
    ...         self.layout, self.receptive_field = layout, 1
    >>> LIFTERS["doc_example"] is Zero, LIFTERS.origin("doc_example")
    (True, None)
    >>> LIFTERS.unregister("doc_example")
    """
    return LIFTERS.register(name) if factory is None else LIFTERS.register(name, factory)


def lifter_factory(name: str, where: str = "model.name") -> Callable[..., nn.Module]:
    """The factory for ``name``: a registered name, or ``module:Class`` of a module that is
    already imported (by a plugin). Nothing is imported here."""
    if isinstance(name, str) and ":" in name:
        mod, _, qual = name.partition(":")
        obj = sys.modules.get(mod)
        for part in qual.split("."):
            obj = getattr(obj, part, None) if obj is not None else None
        if obj is not None:
            return obj
        raise PosedaInputError(where, f"lifter {name!r}: module {mod!r} is not loaded; load it with --plugin "
                                      f"(poseda imports user code only when asked)")
    return LIFTERS.lookup(name, where)


#: the largest lifter built: 1e9 parameters and buffers (4 GB in float32); anything larger is a typo in its options
MAX_SIZE = 1_000_000_000


def _size_on_meta(factory, layout: JointLayout, options: dict) -> int | None:
    """The number of parameter and buffer values the lifter would have, counted without
    allocating them (built on the "meta" device); None for a lifter that cannot be built there."""
    try:
        with torch.device("meta"):
            probe = factory(layout, **options)
    except (TypeError, ValueError):
        raise
    except Exception:  # data-dependent construction that meta tensors cannot run: size it for real
        return None
    return sum(t.numel() for t in (*probe.parameters(), *probe.buffers()))


def build_lifter(name: str, layout: JointLayout, **options: Any) -> nn.Module:
    """The lifter registered as ``name`` with ``options``, checked against the interface. Its
    size is counted before anything is allocated, and a lifter of more than :data:`MAX_SIZE`
    values is refused."""
    factory = lifter_factory(name)
    check_options(name, factory, options)
    try:
        size = _size_on_meta(factory, layout, options)
        if size is not None and size > MAX_SIZE:
            raise PosedaInputError("model.options", f"{name} with {options} would hold {size / 1e6:,.0f}M values "
                                                    f"({size * 4 / 2**30:,.0f} GiB), more than the {MAX_SIZE / 1e6:,.0f}M allowed")
        model = factory(layout, **options)
    except PosedaInputError:
        raise
    except MemoryError:
        raise PosedaInputError("model.options", f"{name} with {options} does not fit in memory") from None
    except Exception as e:  # whatever the lifter's constructor says about options it cannot take
        raise PosedaInputError("model", f"bad options for {name} {options}: {type(e).__name__}: "
                                        f"{(str(e).splitlines() or [''])[0]}") from None
    try:
        check_lifter(model)
    except TypeError as e:
        raise PosedaInputError("model", str(e)) from None
    return model


def lifter_record(model: nn.Module, name: str, options: dict) -> dict:
    """How a checkpoint names ``model`` so :func:`build_lifter` rebuilds it: ``name`` and
    ``options`` when ``name`` builds the model's class, else the name its class is registered
    under (or ``module:Class``) with no options. ``class`` and ``plugin`` say where it came from."""
    cls = type(model)
    try:
        built_by_name = lifter_factory(name) is cls
    except PosedaInputError:
        built_by_name = False
    if not built_by_name:
        name = next((n for n, f in LIFTERS.items() if f is cls), qualified_name(cls))
        options = {}
    rec = {"name": name, "options": dict(options)}
    if name not in _BUILTIN:
        rec.update({"class": qualified_name(cls), "plugin": LIFTERS.origin(name)})
    return rec


_BUILTIN = frozenset(LIFTERS)

__all__ = ["LIFTERS", "build_lifter", "register_lifter", "lifter_factory", "lifter_record", "check_lifter", "SimpleBaseline",
           "VideoPose3D", "SemGCN", "STGCN", "PoseTransformer"]
