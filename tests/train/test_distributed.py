"""DDP through torchrun with the gloo backend on the CPU: two processes reach the same weights as
one process with the same global batch (batch-independent normalisation, no dropout)."""
import os
import subprocess
import sys

import pytest
import torch

from poseda.config import load_config
from poseda.train.engine import Trainer

from ..checkpoints import weights
from .conftest import tiny_overrides

pytestmark = pytest.mark.data


@pytest.mark.parametrize("config,extra", [
    ("simple_baseline", {"model.options.norm": "layer"}),
    # chunked temporal training: DDP wraps forward_sequence
    ("videopose3d_27", {"model.options.norm": "group", "model.options.width": None, "model.options.channels": 32,
                        "train.chunk": 8}),
], ids=["single-frame", "chunked-temporal"])
def test_two_gloo_processes_match_one(tiny_cache, tmp_path, config, extra):
    extra = {"train.epochs": 2, "model.options.dropout": 0.0, "train.batch_size": 128, **extra}
    single = tmp_path / "single"
    Trainer(load_config(config, tiny_overrides(tiny_cache, single, **extra))).fit()
    ddp = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "poseda.cli",
           "train", "-c", config, *tiny_overrides(tiny_cache, ddp, **extra), "train.device=cpu"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = weights(single), weights(ddp)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=2e-5, rtol=1e-4, msg=k)
    assert (ddp / "report.md").is_file()
