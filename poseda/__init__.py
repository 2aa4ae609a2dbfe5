"""poseda: unsupervised domain adaptation for 2D-to-3D human pose lifters (PoseDA, ICCV 2023)."""
__version__ = "0.1.0"


def __getattr__(name: str):
    """``poseda.Lifter`` (:class:`poseda.lift.api.Lifter`), imported on first use so that
    ``import poseda`` stays light."""
    if name == "Lifter":
        from poseda.lift.api import Lifter

        return Lifter
    raise AttributeError(f"module 'poseda' has no attribute {name!r}")
