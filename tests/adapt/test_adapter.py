"""Adaptation on small real domains: every registered method runs through the one training loop,
the target's 3D cannot influence adaptation, runs are reproducible, collapse is reported."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from poseda.adapt.adapter import Adapter, adapt_config
from poseda.adapt.methods import METHODS, AdaptationCollapsed
from poseda.config import load_config
from poseda.data.domain import Domain, Keypoints2D
from poseda.errors import PosedaInputError
from poseda.models.checkpoint import load_checkpoint
from poseda.train.engine import Trainer

from ..checkpoints import same, weights
from ..train.conftest import tiny_overrides

QUICK = ["train.progress=false", "train.epochs=1", "data.samples_per_epoch=2048", "train.batch_size=128",
         "train.val_samples=1000", "eval.batch_size=1024", "lpa.hidden=32"]


@pytest.fixture(scope="module")
def source_ckpt(tiny_target, tmp_path_factory) -> Path:
    """A tiny SimpleBaseline trained on the tiny source, on the joints it shares with the target."""
    run = tmp_path_factory.mktemp("src") / "run"
    cfg = load_config("simple_baseline", tiny_overrides(tiny_target, run, **{"train.epochs": 1, "data.joints": "h36m16"}))
    t = Trainer(cfg)
    t.fit()
    return run / "best"


def _adapt(ckpt, cache, run_dir, method, *extra):
    cfg = adapt_config(ckpt, "tiny-target", method, [f"data.cache={cache}", f"run.dir={run_dir}", *QUICK, *extra])
    a = Adapter(cfg)
    a.fit()
    return a


@pytest.mark.parametrize("method", METHODS)
def test_every_method_adapts_and_reports_on_the_target(method, source_ckpt, tiny_target, tmp_path):
    a = _adapt(source_ckpt, tiny_target, tmp_path / method, method)
    rep = a.final_report()
    assert rep.protocol.domain == "tiny-target" and rep.protocol.joints == "h36m16"
    assert np.isfinite(rep.overall["MPJPE"])
    _, rec = load_checkpoint(tmp_path / method / "best")
    assert rec["adaptation"]["method"] == method and rec["adaptation"]["target"] == "tiny-target"
    assert rec["config"]["adapt"]["init"] == str(source_ckpt)
    for name in ("report.md", "report.csv", "report.json", "config.yaml", "metrics.csv"):
        assert (tmp_path / method / name).is_file()
    if method in ("lpa", "gpa_lpa", "poseaug"):
        rows = (tmp_path / method / "metrics.csv").read_text().splitlines()
        assert any(",epoch," in r for r in rows)
        assert 0 <= rec["metrics"]["d2_accuracy"] <= 1 and rec["metrics"]["bone_angle_change_deg"] > 0
    if method != "oracle":  # no target labels: the last epoch's weights are kept
        best, last = weights(tmp_path / method, "best"), weights(tmp_path / method, "last")
        assert all(torch.equal(v, last[k]) for k, v in best.items())


def _weights(run_dir):
    return weights(run_dir)


def test_target_3d_cannot_reach_adaptation(source_ckpt, tiny_target, tmp_path, monkeypatch):
    """Replace the target's 3D by NaN in a copy of its cache: adaptation gives bit-identical
    weights. And the 3D accessors are never called while adapting."""
    blind = tmp_path / "cache"
    blind.mkdir()
    shutil.copytree(tiny_target / "tiny-target", blind / "tiny-target")
    shutil.copytree(tiny_target / "tiny", blind / "tiny")
    j3 = np.load(blind / "tiny-target" / "joints3d.npy")
    np.save(blind / "tiny-target" / "joints3d.npy", np.full_like(j3, np.nan))

    def guarded(name):
        orig = getattr(Domain, name)

        def call(self, *a, **k):
            if self.role == "target":
                raise AssertionError(f"adaptation asked {self.name} for its 3D ({name})")
            return orig(self, *a, **k)

        return call

    with monkeypatch.context() as m:
        for name in ("evaluation", "oracle_training", "training"):
            m.setattr(Domain, name, guarded(name))
        _adapt(source_ckpt, blind, tmp_path / "blind", "gpa_lpa")
    _adapt(source_ckpt, tiny_target, tmp_path / "seen", "gpa_lpa")
    a, b = _weights(tmp_path / "blind"), _weights(tmp_path / "seen")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert "joints3d" not in Keypoints2D.__dataclass_fields__


def test_adaptation_is_reproducible_from_its_seed(source_ckpt, tiny_target, tmp_path):
    _adapt(source_ckpt, tiny_target, tmp_path / "a", "gpa_lpa", "run.seed=5")
    _adapt(source_ckpt, tiny_target, tmp_path / "b", "gpa_lpa", "run.seed=5")
    _adapt(source_ckpt, tiny_target, tmp_path / "c", "gpa_lpa", "run.seed=6")
    a, b, c = (_weights(tmp_path / x) for x in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_resume_continues_an_adaptation_bit_for_bit(source_ckpt, tiny_target, tmp_path):
    """Two epochs in one go equal one epoch, stop, resume: lifter, augmentor, both
    discriminators and their optimisers are restored."""
    _adapt(source_ckpt, tiny_target, tmp_path / "a", "gpa_lpa", "train.epochs=2")
    _adapt(source_ckpt, tiny_target, tmp_path / "b", "gpa_lpa", "train.epochs=1")
    rec = json.loads((tmp_path / "b" / "last.json").read_text())
    assert set(rec["parts"]) == {"augmentor", "discriminators"} and all(p["epoch"] == 0 for p in rec["parts"].values())
    with pytest.raises(PosedaInputError, match="already holds a run"):
        _adapt(source_ckpt, tiny_target, tmp_path / "b", "gpa_lpa", "train.epochs=2")

    def cfg(method, *extra):
        return adapt_config(source_ckpt, "tiny-target", method,
                            [f"data.cache={tiny_target}", f"run.dir={tmp_path / 'b'}", *QUICK, *extra])

    with pytest.raises(PosedaInputError, match="holds a gpa_lpa run to tiny-target, not lpa"):
        Adapter(cfg("lpa", "train.epochs=2"), resume=True)
    # a save interrupted after writing its tensors (before its record): files no record names are left,
    # and resume takes the last complete checkpoint and removes them
    stray = [tmp_path / "b" / f"last.{'0' * 12}.safetensors", tmp_path / "b" / f"last-augmentor.{'1' * 12}.safetensors"]
    for p in stray:
        p.write_bytes(b"half")
    r = Adapter(cfg("gpa_lpa", "train.epochs=2"), resume=True)
    assert r.start_epoch == 1 and not any(p.exists() for p in stray)
    r.fit()
    for part in (None, "augmentor", "discriminators"):
        assert same(weights(tmp_path / "a", part=part), weights(tmp_path / "b", part=part)), part
    # the previous epoch's files are gone once the new record commits: one checkpoint per stem
    assert len(list((tmp_path / "b").glob("last.*.safetensors"))) == 1
    assert len(list((tmp_path / "b").glob("last-augmentor.*.safetensors"))) == 1


def test_chunks_are_refused_where_adaptation_needs_single_frames(source_ckpt, tiny_target, tmp_path):
    with pytest.raises(PosedaInputError, match="train.chunk: gpa_lpa trains on single output frames"):
        _adapt(source_ckpt, tiny_target, tmp_path / "c", "gpa_lpa", "train.chunk=4")


def test_collapse_is_detected_recorded_and_can_stop_the_run(source_ckpt, tiny_target, tmp_path):
    """A far too high augmentor learning rate drives its outputs to their bounds."""
    bad = ["lpa.lr=5.0", "lpa.d_lr=5.0"]
    a = _adapt(source_ckpt, tiny_target, tmp_path / "warn", "gpa_lpa", *bad)
    _, rec = load_checkpoint(tmp_path / "warn" / "best")
    events = rec["adaptation"]["collapse"]
    assert events and events[0]["epoch"] == 1 and any("bounds" in r for r in events[0]["reasons"])
    assert a.method.collapse_events == events
    with pytest.raises(AdaptationCollapsed, match="bounds"):
        _adapt(source_ckpt, tiny_target, tmp_path / "stop", "gpa_lpa", *bad, "lpa.on_collapse=stop")


def test_bad_adaptation_settings_are_named(source_ckpt, tiny_target, tmp_path):
    with pytest.raises(PosedaInputError, match="--method: unknown method .magic."):
        _adapt(source_ckpt, tiny_target, tmp_path / "x", "magic")
    cfg = adapt_config(source_ckpt, "tiny", "gpa", [f"data.cache={tiny_target}", f"run.dir={tmp_path / 'y'}", *QUICK])
    with pytest.raises(PosedaInputError, match="not a target"):
        Adapter(cfg)
    rec = json.loads(Path(str(source_ckpt) + ".json").read_text())
    assert rec["layout"]["name"] == "h36m16"


def test_adapting_from_scratch(tiny_target, tmp_path):
    cfg = load_config("simple_baseline", [f"data.cache={tiny_target}", "data.source=tiny", f"run.dir={tmp_path / 's'}",
                                          "adapt.method=gpa_lpa", "adapt.target=tiny-target", "model.options.width=64",
                                          "data.val_percent=50", *QUICK])
    a = Adapter(cfg)
    assert a.layout.name == "h36m16"  # the joints source and target share
    a.fit()
    assert np.isfinite(a.final_report().overall["MPJPE"])


def test_library_example_runs_gpa_and_lpa_around_its_own_loop(tiny_target, capsys):
    from tests.examples import load_example

    rep = load_example("adapt_own_loop").main(["--source", "tiny", "--target", "tiny-target", "--cache", str(tiny_target), "--steps", "30",
                    "--batch", "64"])
    assert rep.protocol.domain == "tiny-target" and np.isfinite(rep.overall["MPJPE"])
    assert "step 0: lifter" in capsys.readouterr().out


def test_joint_definitions_adapt_and_default_off_is_unchanged(source_ckpt, tiny_target, tmp_path):
    """lpa.joint_shift_m > 0 trains an augmentor with the fourth transformation; its saved
    augmentor has the extra outputs. Setting the shift to 0 is the run without it, bit for bit."""
    a = _adapt(source_ckpt, tiny_target, tmp_path / "shift", "gpa_lpa", "lpa.joint_shift_m=0.05")
    assert np.isfinite(a.final_report().overall["MPJPE"])
    assert a.method.augmentor.n_shift == 4 and a.method.augmentor.head.out_features == 15 * 3 + 9 + 3 + 12
    _adapt(source_ckpt, tiny_target, tmp_path / "off", "gpa_lpa")
    _adapt(source_ckpt, tiny_target, tmp_path / "zero", "gpa_lpa", "lpa.joint_shift_m=0.0")
    off, zero = weights(tmp_path / "off"), weights(tmp_path / "zero")
    assert all(torch.equal(v, zero[k]) for k, v in off.items())


@pytest.mark.parametrize("variant", [["gpa.depth=typical"], ["gpa.pairing=similar", "gpa.candidates=16"],
                                     ["gpa.orientation=ray"]])
def test_gpa_variants_adapt(variant, source_ckpt, tiny_target, tmp_path):
    for method in ("gpa", "gpa_lpa"):
        a = _adapt(source_ckpt, tiny_target, tmp_path / method, method, *variant)
        assert np.isfinite(a.final_report().overall["MPJPE"])
        if "gpa.depth=typical" in variant:
            assert 0.5 < a.method.gpa_size < 1.5  # a body's mean extent, metres
        if "gpa.orientation=ray" in variant:  # the lifter learns the turned pose, root-relative
            assert a.method.gpa_ray and a.method.gpa.ray
            from poseda.adapt.gpa import gpa_place

            pose = torch.tensor([[[0.1, 0.0, 4.0], [0.3, -0.8, 4.1], [0.0, 0.9, 3.9]]]).repeat(2, 1, 1)
            anchor = torch.tensor([[[0.6, 0.5], [0.7, 0.2], [0.6, 0.8]]]).repeat(2, 1, 1)
            placed, _ = gpa_place(pose, anchor, torch.tensor([[2.0, 2.0, 0.0, 0.0]]).repeat(2, 1), ray=True)
            labels = a.method.placed_labels(placed, pose - pose[:, :1])
            assert torch.allclose(labels, placed - placed[:, :1]) and not torch.allclose(labels, pose - pose[:, :1])


def test_the_targets_keypoint_format_defines_every_2d_the_lifter_and_discriminator_see(source_ckpt, tiny_target, tmp_path,
                                                                                       monkeypatch):
    """adapt.keypoints=coco17: the lifter's inputs and the 2D discriminator's fakes have COCO-17's
    Pelvis (mid-hips), Spine and Thorax (mid-shoulders); an unknown format is refused before any
    work; h36m17 (the lifters' own joints) changes nothing, bit for bit."""
    with pytest.raises(PosedaInputError, match="adapt.keypoints: unknown keypoint format 'coco99'"):
        _adapt(source_ckpt, tiny_target, tmp_path / "bad", "gpa_lpa", "adapt.keypoints=coco99")
    assert not (tmp_path / "bad").exists()
    from poseda.adapt.lpa import PoseDiscriminator2D

    seen, judged = [], []
    lift, judge = Trainer.lift, PoseDiscriminator2D.forward

    def spy_lift(self, x):
        seen.append(self.observe(x).detach())
        return lift(self, x)

    def spy_judge(self, x):
        judged.append(x[: len(x) // 2].detach())  # the fakes come first
        return judge(self, x)

    monkeypatch.setattr(Trainer, "lift", spy_lift)
    monkeypatch.setattr(PoseDiscriminator2D, "forward", spy_judge)
    a = _adapt(source_ckpt, tiny_target, tmp_path / "coco", "gpa_lpa", "adapt.keypoints=coco17")
    lay = a.layout
    x = torch.cat([s.reshape(-1, lay.num_joints, 2) for s in seen + judged])
    hips, shoulders = x[:, lay.indices(["LHip", "RHip"])].mean(1), x[:, lay.indices(["LShoulder", "RShoulder"])].mean(1)
    torch.testing.assert_close(x[:, lay.index("Pelvis")], hips)
    torch.testing.assert_close(x[:, lay.index("Thorax")], shoulders)
    torch.testing.assert_close(x[:, lay.index("Spine")], (hips + shoulders) / 2)
    assert json.loads((tmp_path / "coco" / "best.json").read_text())["config"]["adapt"]["keypoints"] == "coco17"
    monkeypatch.undo()
    _adapt(source_ckpt, tiny_target, tmp_path / "off", "gpa_lpa")
    _adapt(source_ckpt, tiny_target, tmp_path / "h36m", "gpa_lpa", "adapt.keypoints=h36m17")
    off, same_joints = weights(tmp_path / "off"), weights(tmp_path / "h36m")
    assert all(torch.equal(v, same_joints[k]) for k, v in off.items())


def test_limbs_size_and_definition_bones_adapt_and_unknown_bones_are_named(source_ckpt, tiny_target, tmp_path):
    a = _adapt(source_ckpt, tiny_target, tmp_path / "limbs", "gpa_lpa", "lpa.size_from=limbs", "lpa.definition_bones=[LHip,RHip]")
    assert np.isfinite(a.final_report().overall["MPJPE"])
    with pytest.raises(PosedaInputError, match=r"lpa.definition_bones: \['Pelvis'\] name no bone of h36m16"):
        _adapt(source_ckpt, tiny_target, tmp_path / "root", "gpa_lpa", "lpa.definition_bones=[Pelvis]")
