"""PoseDA adaptation: GPA (:mod:`poseda.adapt.gpa`), LPA (:mod:`poseda.adapt.lpa`), the registered
methods that use them (:mod:`poseda.adapt.methods`) and the :class:`Adapter` that runs a method
in the training loop (:mod:`poseda.adapt.adapter`).

The names below are imported on first use (``from poseda.adapt import Adapter`` works as usual),
so that importing a light module of this package, such as the command options of
:mod:`poseda.adapt.commands` that ``poseda --help`` reads, does not load the training loop."""

#: public name -> the module that defines it
_EXPORTS = {
    "Adapter": "adapter", "adapt_config": "adapter",
    "GlobalPositionAlignment": "gpa", "draw_anchors": "gpa", "gpa_place": "gpa",
    "KCSDiscriminator3D": "lpa", "PoseAugmentor": "lpa", "PoseDiscriminator2D": "lpa", "apply_augmentation": "lpa",
    "augmentation_penalty": "lpa", "feedback_loss": "lpa", "kcs_features": "lpa", "lsgan_d": "lpa", "lsgan_g": "lpa",
    "METHODS": "methods", "AdaptationCollapsed": "methods", "AdaptationMethod": "methods", "register_method": "methods",
}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'poseda.adapt' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"poseda.adapt.{_EXPORTS[name]}"), name)


def __dir__():
    return sorted([*globals(), *_EXPORTS])


__all__ = list(_EXPORTS)
