"""DDP through torchrun with the gloo backend on the CPU: two processes reach the same weights as
one process with the same global batch (batch-independent normalisation, no dropout)."""
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from poseda.config import load_config
from poseda.train.engine import Trainer

from .conftest import tiny_overrides

pytestmark = pytest.mark.data


def test_two_gloo_processes_match_one(tiny_cache, tmp_path):
    extra = {"train.epochs": 2, "model.options.norm": "layer", "model.options.dropout": 0.0, "train.batch_size": 128}
    single = tmp_path / "single"
    Trainer(load_config("simple_baseline", tiny_overrides(tiny_cache, single, **extra))).fit()
    ddp = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "poseda.cli",
           "train", "-c", "simple_baseline", *tiny_overrides(tiny_cache, ddp, **extra), "train.device=cpu"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = load_file(str(single / "last.safetensors")), load_file(str(ddp / "last.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=2e-5, rtol=1e-4, msg=k)
    assert (ddp / "report.md").is_file()
