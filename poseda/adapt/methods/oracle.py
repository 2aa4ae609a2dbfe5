"""The oracle: the target's own 3D, an upper bound for every adaptation method."""
from __future__ import annotations

from poseda.adapt.methods.base import register_method
from poseda.train.method import Supervised


@register_method
class Oracle(Supervised):
    """Supervised training on the target's own 3D (its adaptation split) and 2D: an upper bound,
    not an adaptation. The only method that sees target 3D, through ``Domain.oracle_training``."""

    name = "oracle"
    label = "oracle (target 3D)"
    description = "the target's own 3D with its 2D: an upper bound, not an adaptation"
    trains_on = "target"
