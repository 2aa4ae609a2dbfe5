"""The training engine on a small real source domain: learning, checkpoints, exact resume,
run directory contents, and a user's own model."""
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from poseda.config import load_config
from poseda.errors import PosedaInputError
from poseda.inference import load_lifter
from poseda.models.checkpoint import load_checkpoint, weights_path
from poseda.train.engine import Trainer

from ..checkpoints import weights as checkpoint_weights
from .conftest import tiny_overrides

pytestmark = pytest.mark.data


def _weights(run_dir, name="last"):
    return checkpoint_weights(run_dir, name)


def test_training_learns_and_writes_the_run(tiny_cache, tmp_path):
    run = tmp_path / "run"
    cfg = load_config("simple_baseline", tiny_overrides(tiny_cache, run, **{"train.epochs": 3}))
    t = Trainer(cfg)
    first = t.validate()
    t.fit()
    assert t.best < first * 0.7
    rep = t.final_report()
    assert rep.protocol.domain == "tiny" and rep.protocol.flip_test is True and rep.protocol.frames == 1
    for f in ("config.yaml", "best.json", "last.json", "metrics.csv", "report.md", "report.csv"):
        assert (run / f).is_file(), f
    assert any((run / "tensorboard").iterdir())
    rec = json.loads((run / "best.json").read_text())
    assert rec["layout"]["joints"][0] == "Pelvis" and rec["codec"]["root"] == 0 and rec["poseda_version"]
    assert "val_mpjpe_mm" in (run / "metrics.csv").read_text().splitlines()[0]
    # a checkpoint rebuilds without the training code's objects
    model, rec, layout = load_lifter(run / "best.json")
    assert layout.name == "h36m16" and model.receptive_field == 1
    with pytest.raises(PosedaInputError, match="already holds a run"):
        Trainer(cfg)


def test_resume_is_bit_exact(tiny_cache, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    Trainer(load_config("simple_baseline", tiny_overrides(tiny_cache, a, **{"train.epochs": 3}))).fit()
    Trainer(load_config("simple_baseline", tiny_overrides(tiny_cache, b, **{"train.epochs": 2}))).fit()
    resumed = Trainer(load_config("simple_baseline", tiny_overrides(tiny_cache, b, **{"train.epochs": 3})), resume=True)
    assert resumed.start_epoch == 2
    resumed.fit()
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_chunked_temporal_training_learns_and_resumes_exactly(tiny_cache, tmp_path):
    def cfg(run, **extra):
        return load_config("videopose3d_27", tiny_overrides(tiny_cache, run, **{
            "model.options.width": None, "model.options.channels": 32, "train.chunk": 8, "train.lr": 3e-3, **extra}))

    a, b = tmp_path / "a", tmp_path / "b"
    t = Trainer(cfg(a, **{"train.epochs": 3}))
    first = t.validate()
    t.fit()
    assert t.best < first * 0.7
    # an epoch still covers about every training frame once: batch_size / chunk runs per batch
    batches = list(t._batches(0))
    assert all(len(i) == 128 // 8 for i, _ in batches)
    assert len(t.train_idx) - 128 < len(batches) * 128 <= len(t.train_idx)
    Trainer(cfg(b, **{"train.epochs": 2})).fit()
    Trainer(cfg(b, **{"train.epochs": 3}), resume=True).fit()
    wa, wb = _weights(a), _weights(b)
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    with pytest.raises(PosedaInputError, match="train.chunk: 4 needs a lifter with forward_sequence"):
        Trainer(load_config("simple_baseline", tiny_overrides(tiny_cache, tmp_path / "c", **{"train.chunk": 4})))
    with pytest.raises(PosedaInputError, match="train.chunk: 3 does not divide train.batch_size 128"):
        Trainer(cfg(tmp_path / "d", **{"train.chunk": 3}))
    # runs of frames 9 apart (VideoPose3D's upper layers shared, lower ones strided) learn too
    t = Trainer(cfg(tmp_path / "e", **{"train.epochs": 2, "train.chunk_step": 9}))
    first = t.validate()
    t.fit()
    assert t.best < first * 0.7
    with pytest.raises(PosedaInputError, match=r"train.chunk_step: 2 must be one of VideoPose3D's sequence_steps \(1, 3, 9, 27\)"):
        Trainer(cfg(tmp_path / "f", **{"train.chunk_step": 2}))
    with pytest.raises(PosedaInputError, match="train.chunk_step: 3 needs train.chunk > 1"):
        Trainer(cfg(tmp_path / "g", **{"train.chunk": 1, "train.chunk_step": 3}))


def test_training_starts_from_a_checkpoint_and_inflates_a_single_frame_one(tiny_cache, tmp_path):
    def cfg(name, run, **extra):
        return load_config(name, tiny_overrides(tiny_cache, run, **{
            "model.options.width": None, "model.options.channels": 32, "train.epochs": 1, **extra}))

    one = Trainer(cfg("videopose3d_1", tmp_path / "one"))
    one.fit()
    init = tmp_path / "one" / "best.json"
    sha = json.loads(init.read_text())["weights_sha256"]
    # the 27-frame lifter starts where the single-frame one ended: same validation error
    t = Trainer(cfg("videopose3d_27", tmp_path / "t", **{"train.init": init}))
    one_best = Trainer(cfg("videopose3d_1", tmp_path / "again", **{"train.init": init}))
    assert t.validate() == pytest.approx(one_best.validate(), abs=1e-3)
    t.fit()
    rec = json.loads((tmp_path / "t" / "last.json").read_text())
    assert rec["init"] == {"path": str(init), "sha256": sha}
    # what does not fit is refused in one line naming the file
    with pytest.raises(PosedaInputError, match=r"one/best.json: weights do not fit this lifter \(videopose3d .*channels"):
        Trainer(cfg("videopose3d_27", tmp_path / "u", **{"train.init": init, "model.options.channels": 16}))
    with pytest.raises(PosedaInputError, match="weights do not fit this lifter"):
        Trainer(load_config("simple_baseline", tiny_overrides(tiny_cache, tmp_path / "v", **{"train.init": init})))


def test_torn_checkpoint_is_detected(tiny_cache, tmp_path):
    run = tmp_path / "r"
    Trainer(load_config("simple_baseline", tiny_overrides(tiny_cache, run, **{"train.epochs": 1}))).fit()
    weights_file = weights_path(run / "best")
    raw = bytearray(weights_file.read_bytes())
    raw[-5] ^= 0xFF
    weights_file.write_bytes(bytes(raw))
    with pytest.raises(PosedaInputError, match="do not match their record"):
        load_checkpoint(run / "best")


class MyLifter(nn.Module):
    """A user's own lifter: a plain nn.Module with the two attributes of the interface."""

    def __init__(self, layout, frames=3):
        super().__init__()
        self.layout = layout
        self.receptive_field = frames
        j = layout.num_joints
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(frames * j * 2, 128), nn.ReLU(), nn.Linear(128, j * 3))

    def forward(self, x):
        return self.net(x).view(x.shape[0], -1, 3)


def test_a_users_own_model_trains_and_its_checkpoint_names_its_class(tiny_cache, tmp_path):
    """An nn.Module instance trains through the engine; its checkpoint records the class, which
    rebuilds while its module is loaded and is refused, naming what to load, where it is not."""
    import subprocess
    import sys

    from poseda.skeleton.layouts import H36M16

    cfg = load_config("simple_baseline", tiny_overrides(tiny_cache, tmp_path / "u", **{"model.options.width": None}))
    t = Trainer(cfg, model=MyLifter(H36M16))
    first = t.validate()
    t.fit()
    assert t.best < first
    assert t.final_report().protocol.frames == 3
    model, rec, _ = load_lifter(tmp_path / "u" / "best")
    assert rec["model"]["name"] == rec["model"]["class"] == "tests.train.test_engine:MyLifter"
    assert rec["model"]["options"] == {} and rec["model"]["plugin"] is None
    assert type(model) is MyLifter and torch.equal(model.net[1].weight, t.model.net[1].weight)
    # another process has not imported the module: one line says how to load it
    cmd = [sys.executable, "-m", "poseda.cli", "evaluate", "-c", str(tmp_path / "u" / "best"), "-d", "tiny", "--cache", str(tiny_cache)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert r.returncode == 2 and ("was made with the lifter 'tests.train.test_engine:MyLifter', which nothing loaded here "
                                  "defines: load its module with --plugin tests.train.test_engine") in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run([*cmd[:3], "--plugin", "tests.train.test_engine", *cmd[3:]], capture_output=True, text=True,
                       cwd=Path(__file__).parents[2])
    assert r.returncode == 0, r.stderr[-2000:]
    assert "joints h36m16 (16) / 2D ground truth / 3-frame input" in r.stdout


def test_the_documented_example_runs(tiny_cache, tmp_path):
    from tests.examples import load_example

    rep = load_example("own_lifter").main(["--source", "tiny", "--joints", "h36m16", "--cache", str(tiny_cache), "--epochs", "1",
                    "--run-dir", str(tmp_path / "ex"), "data.val_percent=50", "train.batch_size=128", "train.progress=false",
                    "train.val_samples=1000"])
    assert rep.protocol.frames == 9 and rep.overall["MPJPE"] > 0


def test_cli_train_and_evaluate(tiny_cache, tmp_path):
    import subprocess
    import sys

    run = tmp_path / "cli"
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "train", "-c", "semgcn",
                        *tiny_overrides(tiny_cache, run, **{"train.epochs": 1, "model.options.hidden": 16,
                                                               "model.options.width": None}),
                        ], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "joints h36m16 (16) / 2D ground truth / 1-frame input / flip test on" in r.stdout
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "evaluate", "-c", str(run / "best.json"), "-d", "tiny",
                        "--cache", str(tiny_cache), "--no-flip-test", "--out", str(tmp_path / "ev")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "flip test off" in r.stdout and (tmp_path / "ev" / "eval-tiny.csv").is_file()
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "evaluate", "-c", str(run / "best.json"), "-d", "tiny",
                        "--cache", str(tiny_cache), "--fit-steps", "10", "--out", str(tmp_path / "ev")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "flip test on / fitted to the 2D: 10 steps, prior 0.1, bone lengths kept" in r.stdout
    assert (tmp_path / "ev" / "eval-tiny-fit10.csv").is_file()  # beside the lifter's own figures, not over them
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "train", "-c", "semgcn", "train.epochz=1"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "train.epochz=1" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "evaluate", "-c", str(tmp_path / "none.json"), "-d", "tiny",
                        "--cache", str(tiny_cache)], capture_output=True, text=True)
    assert r.returncode == 2 and "checkpoint record does not exist" in r.stderr


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tiny_cache, tmp_path, monkeypatch):
    from poseda.train.engine import TrainingDiverged
    from poseda.train.method import Supervised

    run = tmp_path / "nan"
    cfg = load_config("simple_baseline", tiny_overrides(tiny_cache, run, **{"train.epochs": 3}))
    real = Supervised.step
    calls = []

    def diverge(self, batch):  # the loss turns NaN half way through the second epoch
        calls.append(1)
        loss, figures = real(self, batch)
        return (loss * float("nan") if self.trainer.start_epoch == 0 and len(calls) > 1.5 * steps else loss), figures

    t = Trainer(cfg)
    steps = sum(1 for _ in t._batches(0))
    monkeypatch.setattr(Supervised, "step", diverge)
    with pytest.raises(TrainingDiverged, match="the training loss became nan in epoch 2; the last good checkpoint is kept"):
        t.fit()
    rec = json.loads((run / "last.json").read_text())
    assert rec["epoch"] == 0  # epoch 1 is the last good one, and resume continues from it
    monkeypatch.setattr(Supervised, "step", real)
    again = Trainer(load_config("simple_baseline", tiny_overrides(tiny_cache, run, **{"train.epochs": 3})), resume=True)
    assert again.start_epoch == 1
    again.fit()


def test_a_source_without_an_evaluation_split_trains_and_says_so(tmp_path):
    """The open lifter's source (all of the bundled CMU motion is for training) has no evaluation
    split: the run ends with its checkpoints and one line, not an error."""
    import subprocess
    import sys

    from poseda.data.cache import prepared
    from poseda.data.domain import write_domain
    from poseda.domains.bundled_motion import motion_source

    cache = tmp_path / "cache"
    meta, arrays = motion_source("cmu", rig="handheld", domain="cmu-motion")
    assert meta["eval_split"] is None
    write_domain(prepared(cache, "cmu-motion"), meta, arrays)
    run = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "train", "-c", "simple_baseline", f"data.cache={cache}",
                        "data.source=cmu-motion", "data.joints=h36m16", f"run.dir={run}", "train.epochs=1",
                        "data.samples_per_epoch=512", "train.batch_size=256", "train.val_samples=256",
                        "train.progress=false", "model.options.width=64"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "cmu-motion has no evaluation split: not evaluated" in r.stdout
    assert (run / "best.json").is_file() and not (run / "report.md").exists()
