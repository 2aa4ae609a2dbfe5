from pathlib import Path


def tiny_overrides(cache: Path, run_dir: Path, **extra) -> list[str]:
    """Overrides for a quick run on the tiny domain; a key set to None is dropped."""
    ov = {
        "data.source": "tiny", "data.cache": str(cache), "data.val_percent": 50, "run.dir": str(run_dir),
        "train.epochs": 2, "train.batch_size": 128, "train.progress": False, "train.val_samples": 2000,
        "model.options.width": 64, "eval.batch_size": 1024,
    }
    ov.update(extra)
    return [f"{k}={v}" for k, v in ov.items() if v is not None]
