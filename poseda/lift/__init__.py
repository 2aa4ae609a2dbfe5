"""Lifting a user's own footage: tracked keypoints (:mod:`poseda.keypoints`) to 3D with units and
camera (:mod:`~poseda.lift.lifting`), pictures (:mod:`~poseda.lift.viz`) and ONNX export
(:mod:`~poseda.lift.export`)."""
