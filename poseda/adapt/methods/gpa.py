"""GPA alone: source poses placed where random target poses sit and projected with those poses'
own cameras (:func:`poseda.adapt.gpa.gpa_place`)."""
from __future__ import annotations

from poseda.adapt.gpa import gpa_place
from poseda.adapt.methods.base import AdaptationMethod, register_method
from poseda.train.method import pose_errors


@register_method
class GPA(AdaptationMethod):
    name = "gpa"
    label = "GPA"
    description = "source poses moved by GPA to where random target poses sit, projected with their cameras"
    reads_target_2d = True
    settings = ("gpa",)
    figures = ("source_err_mm",)

    def step(self, batch):
        t = self.trainer
        a2d, a_k = self.anchors(batch.global_size, batch.x[:, t.receptive_field // 2])
        placed, x = gpa_place(batch.pose3d, a2d, a_k, t.codec.root, size=self.gpa_size, ray=self.gpa_ray)
        y = self.placed_labels(placed, batch.y)
        loss = pose_errors(t.lift(x).float(), y, t.codec.root).mean()
        return loss, {"source_err": loss}

    def epoch_figures(self, epoch, means):
        return {"source_err_mm": means["source_err"] * 1000}
