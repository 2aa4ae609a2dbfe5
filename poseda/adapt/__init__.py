"""PoseDA adaptation: GPA (:mod:`poseda.adapt.gpa`), LPA (:mod:`poseda.adapt.lpa`), the engine
that runs every method (:mod:`poseda.adapt.engine`) and the benchmark (:mod:`poseda.adapt.benchmark`)."""
from poseda.adapt.gpa import GlobalPositionAlignment, box_scale, draw_anchors, gpa_place, gpa_root
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

__all__ = ["GlobalPositionAlignment", "box_scale", "draw_anchors", "gpa_place", "gpa_root", "KCSDiscriminator3D",
           "PoseAugmentor", "PoseDiscriminator2D", "apply_augmentation", "augmentation_penalty", "feedback_loss",
           "kcs_features", "lsgan_d", "lsgan_g"]
