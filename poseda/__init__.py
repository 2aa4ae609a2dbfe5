"""poseda: unsupervised domain adaptation for 2D-to-3D human pose lifters (PoseDA, ICCV 2023)."""
__version__ = "0.1.0"
