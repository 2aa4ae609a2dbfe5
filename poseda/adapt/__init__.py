"""PoseDA adaptation: GPA (:mod:`poseda.adapt.gpa`), LPA (:mod:`poseda.adapt.lpa`), the registered
methods that use them (:mod:`poseda.adapt.methods`) and the :class:`Adapter` that runs a method
in the training loop (:mod:`poseda.adapt.adapter`)."""
from poseda.adapt.adapter import Adapter, adapt_config
from poseda.adapt.gpa import GlobalPositionAlignment, draw_anchors, gpa_place
from poseda.adapt.lpa import (
    KCSDiscriminator3D,
    PoseAugmentor,
    PoseDiscriminator2D,
    apply_augmentation,
    augmentation_penalty,
    feedback_loss,
    kcs_features,
    lsgan_d,
    lsgan_g,
)
from poseda.adapt.methods import METHODS, AdaptationCollapsed, AdaptationMethod, register_method

__all__ = ["Adapter", "adapt_config", "METHODS", "AdaptationCollapsed", "AdaptationMethod", "register_method",
           "GlobalPositionAlignment", "draw_anchors", "gpa_place", "KCSDiscriminator3D", "PoseAugmentor",
           "PoseDiscriminator2D", "apply_augmentation", "augmentation_penalty", "feedback_loss", "kcs_features", "lsgan_d",
           "lsgan_g"]
