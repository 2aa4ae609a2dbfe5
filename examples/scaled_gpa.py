"""A new adaptation method in one file: GPA that places each source pose ``size`` times as large as
the target pose it is paired with (``size`` 1 is GPA itself).

A method declares what it is (label, whether it reads the target's 2D, whether it augments, its
options) and implements one step; poseda's training loop does everything else: the seeded
batches, DDP, flips, the lifter's optimiser step, logging, checkpoints and ``--resume``. Load the
file as a plugin and the method is everywhere a built-in one is: ``poseda adapt -m``, benchmark
presets, ``poseda methods``.

    poseda --plugin examples/scaled_gpa.py adapt runs/sb16/best -t cmu-3dhp -m gpa_scaled adapt.options.gpa_scaled.size=1.2
    poseda --plugin examples/scaled_gpa.py benchmark --preset my_preset.yaml   # methods: [source, gpa, gpa_scaled, oracle]

A ``size`` above 1 asks the lifter to see every target pose as if it were closer than GPA puts it:
a quick way to measure how much GPA's depth rule matters on a target.
"""
from __future__ import annotations

from poseda.adapt.gpa import gpa_place
from poseda.adapt.methods import AdaptationMethod, register_method
from poseda.train.method import pose_errors


@register_method
class ScaledGPA(AdaptationMethod):
    name = "gpa_scaled"
    label = "GPA, scaled size"
    description = "GPA, but each source pose appears adapt.options.gpa_scaled.size times as large as its target pose"
    reads_target_2d = True
    options = {"size": 1.0}
    figures = ("source_err_mm",)

    def step(self, batch):
        t, root = self.trainer, self.trainer.codec.root
        a2d, a_k = self.anchors(batch.global_size)  # target 2D poses, each with its own camera
        if self.options["size"] != 1:  # the target box, scaled about its root joint
            a2d = a2d[:, root : root + 1] + (a2d - a2d[:, root : root + 1]) * self.options["size"]
        _, x = gpa_place(batch.pose3d, a2d, a_k, root)  # the source windows placed and projected
        loss = pose_errors(t.lift(x).float(), batch.y, root).mean()
        return loss, {"source_err": loss}

    def epoch_figures(self, epoch, means):
        return {"source_err_mm": means["source_err"] * 1000}
