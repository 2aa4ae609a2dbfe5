"""Lifters that travel with the package, usable by name wherever a checkpoint is asked for.

``default`` is what ``poseda lift``, ``demo``, ``evaluate`` and ``export`` use when no checkpoint
is given, and what ``poseda adapt default -t TARGET`` (or ``train.init=default``) starts from; it
learnt from Human3.6M and Bandai Namco data, both non-commercial. ``open`` (``-c open``) is the
same network trained on CMU motion capture alone, whose terms allow commercial use. Each
is an ordinary checkpoint (a JSON record and its safetensors file) in this folder; its record
names the command that made it, the data it saw and those data's licences. A file or checkpoint
of the same name in the working folder wins over a bundled name.
"""
from __future__ import annotations

from pathlib import Path

from poseda.registry import Registry

FOLDER = Path(__file__).resolve().parent
#: bundled name -> checkpoint stem in this folder
BUNDLED: Registry[str] = Registry("bundled lifter", "BUNDLED", pluggable=False)
BUNDLED.register("default", "footage-vp27-h36m16", about="VideoPose3D-27 from Human3.6M and Bandai Namco data (non-commercial)")
BUNDLED.register("open", "open-vp27-h36m16", about="the same network from CMU motion capture alone (commercial use allowed)")


def bundled_stem(name: str) -> Path:
    """The checkpoint stem of a bundled lifter."""
    return FOLDER / BUNDLED[name]


def checkpoint_label(path: str | Path) -> str:
    """How an output names the checkpoint that made it, without the machine's folders:
    ``bundled:<name>`` for a bundled lifter, else the file's name.

    >>> checkpoint_label(bundled_stem("default")), checkpoint_label("/home/me/runs/sb16/best")
    ('bundled:default', 'best')
    """
    p = Path(path)
    return next((f"bundled:{n}" for n in BUNDLED if p == bundled_stem(n)), p.name)


def resolve_checkpoint(path: str | Path | None) -> Path:
    """``None`` -> the default lifter; a bundled name that is not a file here -> its stem in the
    package; anything else unchanged."""
    if path is None:
        return bundled_stem("default")
    p = Path(path)
    if str(path) in BUNDLED and not p.exists() and not p.with_suffix(".json").exists():
        return bundled_stem(str(path))
    return p
