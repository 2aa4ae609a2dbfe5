"""Reading the tensors of a run's checkpoints in tests (their files are named after their content)."""
from pathlib import Path

from poseda.models.checkpoint import load_checkpoint, load_part


def weights(run_dir, stem: str = "last", part: str | None = None) -> dict:
    """The lifter's tensors of checkpoint ``run_dir/stem``, or those of one of its parts."""
    tensors, rec = load_checkpoint(Path(run_dir) / stem)
    return load_part(Path(run_dir) / stem, rec, part)[0] if part else tensors


def same(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
