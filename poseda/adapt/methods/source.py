"""The fair source-only baseline: source pairs only, for as many steps as every method."""
from __future__ import annotations

from poseda.adapt.methods.base import register_method
from poseda.train.method import Supervised


@register_method
class SourceOnly(Supervised):
    """The lifter keeps training on source pairs for as many steps as every other method, so the
    comparison is fair; it keeps its last epoch like them."""

    name = "source"
    label = "source only"
    description = "source pairs only, for the same steps as every method (the fair source-only baseline)"
    keeps_best = False
