"""A method plug-in measured and not kept (issue 30, item 3): PoseDA plus target poses synthesised
from the target's own 2D. Each step, random target 2D poses are lifted by the lifter being adapted
(flip test, no gradient), the estimates are fitted onto those keypoints under the target's cameras
with their bone lengths kept (:func:`poseda.geometry.fitting.fit_to_keypoints`), and the lifter
also learns the pairs (target 2D, fitted pose), weighted by ``weight``.

    poseda --plugin examples/target_fits.py adapt CHECKPOINT -t cmu-3dhp -m gpa_lpa_fit gpa.orientation=ray
    poseda --plugin examples/target_fits.py adapt CHECKPOINT -t cmu-3dhp -m gpa_lpa_fit adapt.options.gpa_lpa_fit.input=fit

In the spirit of PoSynDA (target-like 3D poses made from what the target shows) without a
generative model: the lifter's own estimate is the prior and the 2D corrects it. On the quick
schedule it lost to PoseDA on every target it was measured on (docs/results.md, "Target poses
from the target's own 2D"): the lifter learns to agree with itself on the target, which holds back
what GPA and LPA teach it. The same fit applied at test time (``poseda evaluate --fit-steps``)
helps instead. Options: ``weight`` of the pairs' error in the lifter's loss, ``frames`` target
poses per step as a share of the batch, the fit's ``steps`` and ``prior``, ``from_epoch`` (the
first epoch with fits) and ``input`` (``target``: the target's own 2D; ``fit``: the fitted pose's
projection, single-frame lifters only).

It also shows the hook a method has for more pairs in PoseDA's one lifter forward:
``extra_pairs(batch) -> (inputs, root-relative labels, weight)``.
"""
from __future__ import annotations

import torch

from poseda.adapt.gpa import draw_anchors
from poseda.adapt.methods import method_options, register_method
from poseda.adapt.methods.lpa import PoseDA
from poseda.data.device import device_split
from poseda.errors import PosedaInputError
from poseda.geometry.camera import project
from poseda.geometry.fitting import fit_to_keypoints
from poseda.inference import predict


@register_method
class PoseDAFit(PoseDA):
    name = "gpa_lpa_fit"
    label = "GPA + LPA + target fits"
    description = ("PoseDA, plus target 2D poses paired with the lifter's own estimate fitted onto them "
                   "(bone lengths kept; refitted every step)")
    figures = (*PoseDA.figures, "fit_err_mm")
    options = {"weight": 1.0, "frames": 0.5, "steps": 40, "prior": 0.1, "from_epoch": 1, "input": "target"}
    #: each option's allowed range
    ranges = {"weight": (0.0, 100.0), "frames": (0.0, 1.0), "steps": (0, 1000), "prior": (0.0, 100.0), "from_epoch": (1, 10**6)}

    def setup(self, trainer) -> None:
        o = method_options(type(self), trainer.cfg.adapt.get("options"))
        for key, (lo, hi) in self.ranges.items():
            if not lo <= o[key] <= hi:
                raise PosedaInputError(f"adapt.options.{self.name}.{key}", f"must lie in [{lo}, {hi}], got {o[key]}")
        if o["input"] not in ("target", "fit"):
            raise PosedaInputError(f"adapt.options.{self.name}.input", f"must be target (the target's own 2D) or fit (the "
                                                                       f"fitted pose's projection), got {o['input']!r}")
        super().setup(trainer)
        if o["input"] == "fit" and trainer.receptive_field > 1:
            raise PosedaInputError(f"adapt.options.{self.name}.input", f"fit gives one frame; {trainer.cfg.model.name} sees "
                                                                       f"{trainer.receptive_field}: use target")
        _, self.target_set = device_split(trainer.target, "adaptation", trainer.layout, trainer.codec, trainer.device)

    def extra_pairs(self, batch):
        t, o, ts = self.trainer, self.options, self.target_set
        n = int(round(batch.global_size * o["frames"]))
        if n == 0 or o["weight"] == 0 or t.epoch + 1 < o["from_epoch"]:
            return None
        idx = t.share(draw_anchors(n, len(ts), t.rng, t.device))
        with torch.no_grad():
            est = predict(t.model, ts, idx, flip_test=True, codec=t.codec)
        fitted, _ = fit_to_keypoints(est, ts.inputs[idx], ts.intrinsics[idx], t.layout.parents, t.codec.root,
                                     steps=int(o["steps"]), prior=o["prior"])
        x = ts.windows(idx, t.receptive_field)
        if o["input"] == "fit":
            x = project(fitted, ts.intrinsics[idx])[:, None]
        return x, fitted - fitted[:, t.codec.root : t.codec.root + 1], o["weight"]

    def epoch_figures(self, epoch, m):
        return {**super().epoch_figures(epoch, m), "fit_err_mm": m.get("extra_err", float("nan")) * 1000}
