"""The runtime data layer: prepared domains as arrays (:mod:`~poseda.data.domain`) and where they
live (:mod:`~poseda.data.cache`), the codec that normalises poses for the lifters
(:mod:`~poseda.data.codec`), training and evaluation frames on the device
(:mod:`~poseda.data.device`), splits (:mod:`~poseda.data.splits`) and the universal-skeleton
ground truth (:mod:`~poseda.data.universal`): what a training step, an evaluation or a lift touches.

Building domains (``poseda data ...``) is :mod:`poseda.domains`, above this package; nothing here
imports it.
"""
