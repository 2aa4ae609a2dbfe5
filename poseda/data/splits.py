"""Fixed splits by a hash of a name: a domain's 80/20 clip split, and the source sequences held
out from training for checkpoint selection. A name always lands on the same side, on every
machine and whatever else the domain holds."""
from __future__ import annotations

import hashlib

import numpy as np


def hash_split(name: str, test_percent: int = 20) -> str:
    """A fixed split by a hash of the name: 'test' for about ``test_percent`` % of names.

    >>> hash_split("walk_01", 20), hash_split("walk_01", 100), hash_split("walk_01", 0)
    ('train', 'test', 'train')
    """
    h = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 100
    return "test" if h < test_percent else "train"


def held_out(sequences, percent: int) -> np.ndarray:
    """[N] bool: the frames whose sequence name falls in the held-out ``percent`` % (one hash per
    distinct name, so a sequence is never split between the two sides). When the hash holds out
    none of two or more names although ``percent`` > 0 (few sequences, as 3DPW's), the name with
    the smallest hash is held out, so that validation never comes out empty.

    >>> held_out(["a", "a", "b"], 5).tolist()
    [False, False, True]
    """
    seq = np.asarray(sequences).astype(str)
    names = np.unique(seq)
    out = [s for s in names if hash_split(str(s), int(percent)) == "test"]
    if not out and percent > 0 and len(names) >= 2:
        out = [min(names, key=lambda s: hashlib.sha256(str(s).encode()).hexdigest())]
    return np.isin(seq, out)
