"""poseda's version: the one place it is written (pyproject.toml reads it from here; checkpoints,
prepared domains and exports record it). A module of its own at the bottom of the layers, so any
module may import it without importing the package root."""
__version__ = "0.1.0"
