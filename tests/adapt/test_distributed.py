"""Adaptation under torchrun (gloo, CPU): two processes that each take half of every global
batch, and draw the global batch's noise, anchors and real samples from one shared stream, reach
the single-process weights of the lifter, the augmentor and both discriminators."""
import os
import subprocess
import sys

import pytest
import torch

from poseda.adapt.adapter import Adapter, adapt_config
from poseda.config import load_config
from poseda.train.engine import Trainer

from ..checkpoints import weights
from ..train.conftest import tiny_overrides

pytestmark = pytest.mark.data

ADAPT = ["train.progress=false", "train.epochs=2", "data.samples_per_epoch=2048", "train.batch_size=128",
         "train.val_samples=1000", "eval.batch_size=1024", "lpa.hidden=32"]


def test_lpa_under_two_gloo_processes_matches_one(tiny_target, tmp_path):
    src = tmp_path / "src"
    Trainer(load_config("simple_baseline", tiny_overrides(tiny_target, src, **{
        "train.epochs": 1, "data.joints": "h36m16", "model.options.norm": "layer", "model.options.dropout": 0.0}))).fit()
    common = [f"data.cache={tiny_target}", *ADAPT]
    single = tmp_path / "single"
    Adapter(adapt_config(src / "best", "tiny-target", "gpa_lpa", [f"run.dir={single}", *common])).fit()
    ddp = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "poseda.cli",
           "adapt", str(src / "best"), "-t", "tiny-target", "-m", "gpa_lpa", f"run.dir={ddp}", *common, "train.device=cpu"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    for part in (None, "augmentor", "discriminators"):
        a, b = weights(single, part=part), weights(ddp, part=part)
        assert a.keys() == b.keys()
        for k in a:
            torch.testing.assert_close(a[k], b[k], atol=1e-4, rtol=1e-3, msg=f"{part}: {k}")
    assert (ddp / "report.md").is_file()
