"""poseda: unsupervised domain adaptation for 2D-to-3D human pose lifters (PoseDA, ICCV 2023)."""
from poseda.version import __version__ as __version__  # re-exported: poseda.__version__


def __getattr__(name: str):
    """``poseda.Lifter`` (:class:`poseda.lift.api.Lifter`) and ``poseda.adapt_to_keypoints``
    (:func:`poseda.adapt.footage.adapt_to_keypoints`: PoseDA on one video's own 2D), imported on
    first use so that ``import poseda`` stays light."""
    if name == "Lifter":
        from poseda.lift.api import Lifter

        return Lifter
    if name == "adapt_to_keypoints":
        from poseda.adapt.footage import adapt_to_keypoints

        return adapt_to_keypoints
    raise AttributeError(f"module 'poseda' has no attribute {name!r}")
