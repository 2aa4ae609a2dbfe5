"""Kept so that code written from the earlier docs (``from poseda.data.prepare import
load_domain``) keeps working: loading a prepared domain is :mod:`poseda.data.cache`, preparing
one is :mod:`poseda.domains.prepare`. New code imports those."""
from poseda.data.cache import load_domain

__all__ = ["load_domain"]
