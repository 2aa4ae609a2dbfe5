"""Kept so that code written from the earlier examples (``from poseda.data.mirror import
cache_root``) keeps working: the cache folder is :mod:`poseda.data.cache`, the raw data folder
:mod:`poseda.domains.mirror`. New code imports those."""
from poseda.data.cache import cache_root

__all__ = ["cache_root"]
