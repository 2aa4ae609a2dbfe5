"""Lifting a user's own footage: keypoint files in (:mod:`~poseda.lift.readers`), people tracked
and missing joints filled (:mod:`~poseda.lift.tracks`), 3D out with units and camera
(:mod:`~poseda.lift.lifting`), pictures (:mod:`~poseda.lift.viz`), ONNX export
(:mod:`~poseda.lift.export`) and an optional bundled 2D detector (:mod:`~poseda.lift.detect`)."""
