"""Adaptation methods as plug-ins of the training loop.

A method is a :class:`~poseda.train.method.Method` subclass registered with
:func:`register_method`; it declares its label, whether it reads the target's 2D, whether it
augments, the config sections and options it reads, and implements ``step(batch) -> (loss,
figures)``. :class:`~poseda.train.engine.Trainer` runs everything else. The built-in methods:

| method | what the lifter learns from |
|---|---|
| `source` | source pairs only, for as many steps as every method (a fair source-only baseline) |
| `gpa` | source poses placed by GPA against random target 2D poses, projected with those poses' own cameras |
| `lpa` | source pairs plus augmented poses at their original place and camera; the augmentor is judged by the anchor discriminator against real target 2D (no GPA) |
| `gpa_lpa` | PoseDA: GPA-placed source pairs plus augmented poses placed by GPA, judged against real target 2D |
| `poseaug` | generalisation baseline (PoseAug-style): like `lpa`, but the discriminator's real 2D comes from the source, so nothing of the target is used |
| `oracle` | supervised training on the target's own 3D (adaptation split) and its 2D: an upper bound |

A new method is one file (a class with ``@register_method``) loaded by ``--plugin`` or imported
by your code; ``examples/scaled_gpa.py`` is a complete one.
"""
from poseda.adapt.methods.base import METHODS, ORIGIN, AdaptationMethod, method_class, method_options, register_method

# the built-in methods register themselves on import, in the order of help and listings
# isort: off
from poseda.adapt.methods import source, gpa, lpa, oracle  # noqa: F401
# isort: on
from poseda.adapt.methods.lpa import AdaptationCollapsed

__all__ = ["METHODS", "ORIGIN", "AdaptationMethod", "AdaptationCollapsed", "method_class", "method_options",
           "register_method"]
