"""Adaptation of a lifter to a target domain: the training loop of :mod:`poseda.train.engine`
run with a registered adaptation method (:mod:`poseda.adapt.methods`) on a source and a target.

The target's 3D never reaches adaptation: the target is read through
:meth:`~poseda.data.domain.Domain.adaptation`, which returns :class:`Keypoints2D` (no 3D field);
only a method that declares ``trains_on = "target"`` (the oracle) asks for
:meth:`~poseda.data.domain.Domain.oracle_training`, by name. Because no target label is available
to select a checkpoint, adapted runs keep their last epoch.

Under ``torchrun`` every method runs with DDP: each process takes its share of every global
batch and draws the global batch's noise, anchors and real samples from one shared stream; the
lifter's gradients are averaged by DDP, a method's own networks' by one all-reduce each, so N
processes follow the single-process run (test). ``--resume`` continues a run: a method's own
networks and optimisers are saved beside ``last``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from poseda.adapt.methods import method_class, method_options
from poseda.config import load_config
from poseda.data.cache import cache_root, load_domain
from poseda.data.device import device_split
from poseda.errors import PosedaInputError
from poseda.inference import check_recorded_lifter
from poseda.keypoints.formats import keypoint_format
from poseda.models.bundled import resolve_checkpoint
from poseda.models.checkpoint import load_init, load_record
from poseda.skeleton.layouts import JOINT_SETS, protocol_joints
from poseda.train.engine import Trainer


class Adapter(Trainer):
    """Adapts a lifter to ``cfg.adapt.target`` with the method ``cfg.adapt.method``."""

    def __init__(self, cfg, model: nn.Module | None = None, resume: bool = False):
        cls = method_class(cfg.adapt.method)
        method_options(cls, cfg.adapt.get("options"))  # refused before any work starts
        if not cfg.adapt.target:
            raise PosedaInputError("adapt.target", "no target domain given")
        fmt = keypoint_format(cfg.adapt.keypoints, "adapt.keypoints") if cfg.adapt.get("keypoints") else None
        self.init_sha256 = None  # the source checkpoint's weights, recorded so a resume can check them
        super().__init__(cfg, model=model, resume=resume, method=cls())
        if fmt is not None:  # every 2D the lifter and the 2D discriminator see, as the target's format defines it
            self.input_map = torch.as_tensor(fmt.definitions(self.layout), dtype=torch.float32, device=self.device)

    def _setup_data(self):
        cfg = self.cfg
        cache = cache_root(cfg.data.cache)
        source = load_domain(cfg.data.source, cache)
        target = load_domain(cfg.adapt.target, cache)
        if source.role != "source":
            raise PosedaInputError("data.source", f"{source.name} is a target domain; adapt from a source domain")
        if target.role != "target":
            raise PosedaInputError("adapt.target", f"{target.name} is a source domain, not a target")
        self.layout = self._joint_set(protocol_joints(target.name, source.joint_mask, target.joint_mask))
        self.source, self.target, self.eval_domain = source, target, target
        if self.method.trains_on == "target":
            self.domain = target
            return device_split(target, "oracle_training", self.layout, self.codec, self.device)
        self.domain = source
        return device_split(source, "training", self.layout, self.codec, self.device)

    def _init_weights(self, model: nn.Module) -> None:
        if self.cfg.train.init:
            raise PosedaInputError("train.init", "an adaptation starts from adapt.init (poseda adapt's checkpoint argument)")
        if self.cfg.adapt.init:
            self.init_sha256 = load_init(model, self.cfg.adapt.init, self.layout)

    def run_record(self) -> dict:
        return {"adaptation": {"method": self.method.name, "target": self.target.name,
                               "init": str(self.cfg.adapt.init) if self.cfg.adapt.init else None,
                               "init_sha256": self.init_sha256, **self.method.record()}}

    def _check_resume(self, rec: dict) -> None:
        ad = rec.get("adaptation") or {}
        if (ad.get("method"), ad.get("target")) != (self.method.name, self.target.name):
            raise PosedaInputError(self.run_dir, f"holds a {ad.get('method')} run to {ad.get('target')}, "
                                                 f"not {self.method.name} to {self.target.name}")
        self.method.load_record(ad)


def adapt_config(checkpoint, target: str, method: str, overrides: list[str] = (), config: str = "adapt"):
    """The run config of an adaptation that starts from ``checkpoint``: defaults <- ``config``
    (the adaptation schedule) <- the checkpoint's own model and data sections <- the adaptation
    settings <- ``overrides``."""
    method_class(method, "--method")
    rec = load_record(checkpoint)
    check_recorded_lifter(rec, checkpoint)
    data = dict((rec.get("config") or {}).get("data") or {})  # a lifter trained elsewhere records no config
    data["joints"] = rec["layout"]["name"] if rec["layout"]["name"] in JOINT_SETS else None
    model = {"name": rec["model"]["name"], "options": rec["model"]["options"]}
    stem = Path(str(checkpoint))
    bundled = resolve_checkpoint(checkpoint) != stem  # a bundled lifter by name: runs are named after it
    label = str(checkpoint) if bundled else stem.parent.name or stem.name
    return load_config(config, [f"adapt.method={method}", f"adapt.target={target}", f"adapt.init={checkpoint}",
                                f"run.name={label}-{method}-{target}", *overrides], extra={"model": model, "data": data})


__all__ = ["Adapter", "adapt_config"]
