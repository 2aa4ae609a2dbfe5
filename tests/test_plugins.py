"""User code through plugins: a user's lifter through every command (train -> adapt -> evaluate ->
lift -> export), a new adaptation method in one file (trains, resumes bit for bit, appears in a
benchmark table), and plugins that cannot be loaded named in one line."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from poseda.errors import PosedaInputError
from poseda.plugins import load_plugin

from .checkpoints import weights as checkpoint_weights

REPO = Path(__file__).resolve().parents[1]
OWN_LIFTER = str(REPO / "examples" / "own_lifter.py")
SCALED_GPA = str(REPO / "examples" / "scaled_gpa.py")
TARGET_FITS = str(REPO / "examples" / "target_fits.py")
QUICK = ["train.progress=false", "train.val_samples=500", "eval.batch_size=1024", "lpa.hidden=32"]


def cli(*args, plugin=None, cwd=None):
    pre = ["--plugin", plugin] if plugin is not None else []
    return subprocess.run([sys.executable, "-m", "poseda.cli", *pre, *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=dict(os.environ, OMP_NUM_THREADS="2"))


def _one_line(r, *needles):
    assert r.returncode == 2, r.stdout[-1000:] + r.stderr[-2000:]
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.data
def test_own_lifter_through_train_adapt_evaluate_lift_export(tiny_target, tmp_path):
    from tests.lift.helpers import walking, write_coco

    cache = f"data.cache={tiny_target}"
    r = cli("train", "-c", str(REPO / "examples" / "own_lifter.yaml"), cache, "data.source=tiny", "data.joints=h36m16",
            f"run.dir={tmp_path / 'gru'}", "train.epochs=1", "train.batch_size=128", "data.samples_per_epoch=2048",
            "data.val_percent=50", "model.options.hidden=32", "model.options.frames=5", *QUICK, plugin=OWN_LIFTER)
    assert r.returncode == 0, r.stderr[-3000:]
    rec = json.loads((tmp_path / "gru" / "best.json").read_text())
    assert rec["model"] == {"name": "gru", "options": {"frames": 5, "hidden": 32}, "class": "own_lifter:GRULifter",
                            "plugin": OWN_LIFTER, "receptive_field": 5}
    r = cli("adapt", str(tmp_path / "gru" / "best"), "-t", "tiny-target", "-m", "gpa_lpa", cache, f"run.dir={tmp_path / 'ad'}",
            "train.epochs=1", "data.samples_per_epoch=512", "train.batch_size=64", *QUICK, plugin=OWN_LIFTER)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "domain tiny-target" in r.stdout and "5-frame input" in r.stdout
    ad = str(tmp_path / "ad" / "best")
    r = cli("evaluate", "-c", ad, "-d", "tiny-target", "--cache", str(tiny_target), "--out", str(tmp_path / "ev"), plugin=OWN_LIFTER)
    assert r.returncode == 0 and "joints h36m16 (16) / 2D ground truth / 5-frame input" in r.stdout, r.stderr[-3000:]
    write_coco(tmp_path / "k.json", walking(12))
    r = cli("lift", str(tmp_path / "k.json"), "-c", ad, "-o", str(tmp_path / "o.npz"), "--image-size", "480x640", plugin=OWN_LIFTER)
    assert r.returncode == 0, r.stderr[-3000:]
    with np.load(tmp_path / "o.npz") as z:
        assert z["joints3d"].shape == (12, 16, 3) and np.isfinite(z["joints3d"]).all()
        assert json.loads(str(z["meta"]))["model"]["name"] == "gru"
    r = cli("export", "-c", ad, "--onnx", str(tmp_path / "gru.onnx"), plugin=OWN_LIFTER)
    assert r.returncode == 0 and "onnxruntime vs PyTorch: max |difference|" in r.stdout, r.stderr[-3000:]
    assert "UserWarning" not in r.stderr
    # without the plugin, every command says in one line what to load
    for args in (["evaluate", "-c", ad, "-d", "tiny-target", "--cache", str(tiny_target)], ["export", "-c", ad, "--onnx", str(tmp_path / "x.onnx")],
                 ["lift", str(tmp_path / "k.json"), "-c", ad, "-o", str(tmp_path / "x.npz"), "--image-size", "480x640"],
                 ["adapt", ad, "-t", "tiny-target", cache, f"run.dir={tmp_path / 'x'}"]):
        _one_line(cli(*args), "was made with the lifter 'gru' (own_lifter:GRULifter)", f"--plugin {OWN_LIFTER}")
    assert not (tmp_path / "x.onnx").exists() and not (tmp_path / "x.npz").exists() and not (tmp_path / "x").exists()


def _adapt(ckpt, cache, run_dir, method, *extra, resume=False):
    from poseda.adapt.adapter import Adapter, adapt_config

    cfg = adapt_config(ckpt, "tiny-target", method, [f"data.cache={cache}", f"run.dir={run_dir}", "train.epochs=2",
                                                     "data.samples_per_epoch=1024", "train.batch_size=128", *QUICK, *extra])
    a = Adapter(cfg, resume=resume)
    a.fit()
    return a


@pytest.fixture(scope="module")
def source_ckpt(tiny_target, tmp_path_factory):
    from poseda.config import load_config
    from poseda.train.engine import Trainer
    from tests.train.conftest import tiny_overrides

    run = tmp_path_factory.mktemp("src") / "run"
    Trainer(load_config("simple_baseline", tiny_overrides(tiny_target, run, **{"train.epochs": 1, "data.joints": "h36m16"}))).fit()
    return run / "best"


@pytest.mark.data
def test_a_method_in_one_file_trains_resumes_and_matches_its_special_case(source_ckpt, tiny_target, tmp_path):
    load_plugin(SCALED_GPA)
    from poseda.adapt.methods import METHODS, ORIGIN

    assert METHODS["gpa_scaled"].reads_target_2d and ORIGIN["gpa_scaled"] == SCALED_GPA

    def weights(run):
        return checkpoint_weights(run)

    def same(a, b):
        return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    a = _adapt(source_ckpt, tiny_target, tmp_path / "a", "gpa_scaled", "adapt.options.gpa_scaled.size=1.3")
    assert a.final_report().protocol.domain == "tiny-target"
    rec = json.loads((tmp_path / "a" / "last.json").read_text())
    assert rec["adaptation"]["method"] == "gpa_scaled" and rec["config"]["adapt"]["options"] == {"gpa_scaled": {"size": 1.3}}
    assert "source_err_mm" in (tmp_path / "a" / "metrics.csv").read_text().splitlines()[0]
    # one epoch, stop, resume: bit for bit
    _adapt(source_ckpt, tiny_target, tmp_path / "b", "gpa_scaled", "adapt.options.gpa_scaled.size=1.3", "train.epochs=1")
    _adapt(source_ckpt, tiny_target, tmp_path / "b", "gpa_scaled", "adapt.options.gpa_scaled.size=1.3", resume=True)
    assert same(weights(tmp_path / "a"), weights(tmp_path / "b"))
    # size 1 is GPA: the plugin runs through exactly the loop, batches and random draws of the built-in method
    _adapt(source_ckpt, tiny_target, tmp_path / "one", "gpa_scaled")
    _adapt(source_ckpt, tiny_target, tmp_path / "gpa", "gpa")
    assert same(weights(tmp_path / "one"), weights(tmp_path / "gpa"))
    assert not same(weights(tmp_path / "a"), weights(tmp_path / "gpa"))
    # its options are checked against its declaration before any work
    for extra, needle in [
            ("adapt.options.gpa_scaled.sise=2", r"adapt.options.gpa_scaled.sise: is not an option of method gpa_scaled \(its options: size\)"),
            ("adapt.options.gpa_scaled.size=big", "adapt.options.gpa_scaled.size: must be a float like its default 1.0"),
            ("adapt.options.gpa_scaled=2", "adapt.options.gpa_scaled: must be a mapping"),
            ("adapt.options.magic.size=2", "adapt.options.magic: names no registered method")]:
        with pytest.raises(PosedaInputError, match=needle):
            _adapt(source_ckpt, tiny_target, tmp_path / "bad", "gpa_scaled", extra)
    with pytest.raises(PosedaInputError, match="adapt.options.gpa.size: is not an option of method gpa "):
        _adapt(source_ckpt, tiny_target, tmp_path / "bad", "gpa", "adapt.options.gpa.size=2")
    # another method's options are not this one's business
    _adapt(source_ckpt, tiny_target, tmp_path / "gpa-too", "gpa", "adapt.options.gpa_scaled.size=1.3", "train.epochs=1")
    assert not (tmp_path / "bad").exists()


@pytest.mark.data
def test_target_fits_train_on_the_target_2d_and_from_a_later_epoch_are_poseda_until_then(source_ckpt, tiny_target, tmp_path):
    load_plugin(TARGET_FITS)
    from poseda.models.checkpoint import load_checkpoint

    a = _adapt(source_ckpt, tiny_target, tmp_path / "fit", "gpa_lpa_fit", "adapt.options.gpa_lpa_fit.steps=5")
    _, rec = load_checkpoint(tmp_path / "fit" / "best")
    assert 0 < rec["metrics"]["fit_err_mm"] < 1e4 and np.isfinite(a.final_report().overall["MPJPE"])  # a 1-epoch tiny lifter: far off
    # fits that start after the last epoch leave PoseDA's run bit for bit: the hook adds nothing when unused
    _adapt(source_ckpt, tiny_target, tmp_path / "never", "gpa_lpa_fit", "adapt.options.gpa_lpa_fit.from_epoch=3")
    _adapt(source_ckpt, tiny_target, tmp_path / "poseda", "gpa_lpa")
    never, poseda, fit = checkpoint_weights(tmp_path / "never"), checkpoint_weights(tmp_path / "poseda"), checkpoint_weights(tmp_path / "fit")
    assert all(torch.equal(v, poseda[k]) for k, v in never.items())
    assert not all(torch.equal(v, poseda[k]) for k, v in fit.items())
    for extra, needle in [("adapt.options.gpa_lpa_fit.frames=2", r"adapt.options.gpa_lpa_fit.frames: must lie in \[0.0, 1.0\], got 2.0"),
                          ("adapt.options.gpa_lpa_fit.input=mine", "adapt.options.gpa_lpa_fit.input: must be target")]:
        with pytest.raises(PosedaInputError, match=needle):
            _adapt(source_ckpt, tiny_target, tmp_path / "bad", "gpa_lpa_fit", extra)


PRESET = """
backbones: [simple_baseline]
seeds: [0]
targets: [tiny-target]
methods: [source, gpa, gpa_scaled, oracle]
source: tiny
pretrain: {train.epochs: 1, data.samples_per_epoch: 2048, train.batch_size: 128, model.options.width: 64,
           data.val_percent: 50, train.val_samples: 1000}
adapt: {train.epochs: 1, data.samples_per_epoch: 1024, train.batch_size: 128, data.val_percent: 50, train.val_samples: 1000,
        adapt.options: {gpa_scaled: {size: 1.2}}}
checks:
  - {rule: gain, method: gpa_scaled, baseline: gpa}
"""


@pytest.mark.data
def test_a_plugin_method_appears_in_the_benchmark_table(tiny_target, tmp_path):
    (tmp_path / "p.yaml").write_text(PRESET)
    args = ["benchmark", "--preset", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "out"), "--cache", str(tiny_target),
            "--no-progress", "--device", "cpu"]
    _one_line(cli(*args), "unknown method 'gpa_scaled'")
    r = cli(*args, plugin=SCALED_GPA)
    assert r.returncode == 0, r.stderr[-3000:]
    md = (tmp_path / "out" / "table.md").read_text()
    assert "| GPA, scaled size | simple_baseline |" in md and "| GPA | simple_baseline |" in md
    assert "- tiny-target / simple_baseline: GPA, scaled size better than GPA by" in md
    r = cli("methods", plugin=SCALED_GPA)
    assert "gpa_scaled" in r.stdout and f"[plugin {SCALED_GPA}]" in r.stdout and "adapt.options.gpa_scaled.size=1.0" in r.stdout


def test_plugins_that_cannot_be_loaded_are_one_line(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('my bug')\n")
    (tmp_path / "clash.py").write_text("from poseda.models import register_lifter\n"
                                       "register_lifter('simple_baseline', lambda layout: None)\n")
    (tmp_path / "bad-name.py").write_text("")
    for spec, needle in [(str(tmp_path / "nothing.py"), "no such Python file"), ("no_such_module_xyz", "no such module"),
                         (str(tmp_path / "broken.py"), "failed to import: RuntimeError: my bug"),
                         (str(tmp_path / "clash.py"), "lifter name 'simple_baseline' is taken"),
                         (str(tmp_path / "bad-name.py"), "file name: must be a Python identifier"),
                         ("/etc/hostname", "a plugin file must be a .py file"), (".", "nor a module name"), ("", "empty plugin name")]:
        _one_line(cli("methods", plugin=spec), "--plugin", needle)
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "methods"], capture_output=True, text=True, cwd=REPO,
                       env=dict(os.environ, POSEDA_PLUGINS=SCALED_GPA))
    assert r.returncode == 0 and "gpa_scaled" in r.stdout, r.stderr


def test_loading_a_plugin_twice_is_harmless():
    a, b = load_plugin(OWN_LIFTER), load_plugin(OWN_LIFTER)
    from poseda.models import LIFTERS

    assert a is b and LIFTERS["gru"] is a.GRULifter


# -- keypoint formats, importers and export formats as plugins, through the real CLI ---------------
DEEPLABCUT = str(REPO / "examples" / "deeplabcut_keypoints.py")
CSV_EXPORT = str(REPO / "examples" / "csv_views_export.py")
CSV_IMPORT = str(REPO / "examples" / "csv_views_import.py")
#: LSP-14's joints as Human3.6M's
LSP_FROM_H36M = {"right_ankle": "RAnkle", "right_knee": "RKnee", "right_hip": "RHip", "left_hip": "LHip", "left_knee": "LKnee",
                 "left_ankle": "LAnkle", "right_wrist": "RWrist", "right_elbow": "RElbow", "right_shoulder": "RShoulder",
                 "left_shoulder": "LShoulder", "left_elbow": "LElbow", "left_wrist": "LWrist", "neck": "Thorax", "head_top": "Head"}


def _invoke(*args):
    from typer.testing import CliRunner

    from poseda.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def _write_deeplabcut(path: Path, poses: np.ndarray) -> Path:
    """DeepLabCut's CSV (scorer, bodyparts, coords rows) of H36M poses [T, 17, 2] in LSP-14 names;
    frame 3's left wrist undetected (empty cells)."""
    from poseda.skeleton.layouts import H36M17

    parts = list(LSP_FROM_H36M)
    lines = [",".join(["scorer"] + ["DLC_resnet50_walkDec1shuffle1_100000"] * 3 * len(parts)),
             ",".join(["bodyparts"] + [p for p in parts for _ in range(3)]),
             ",".join(["coords"] + ["x", "y", "likelihood"] * len(parts))]
    for t, pose in enumerate(poses):
        cells = []
        for p in parts:
            x, y = pose[H36M17.index(LSP_FROM_H36M[p])]
            cells += ["", "", ""] if (t, p) == (3, "left_wrist") else [f"{x:.3f}", f"{y:.3f}", "0.95"]
        lines.append(",".join([str(t), *cells]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_keypoint_format_and_reader_in_one_file_lift_and_build_a_footage_domain(tmp_path):
    from poseda.data.cache import load_domain
    from poseda.skeleton.layouts import H36M17
    from tests.lift.helpers import untrained_checkpoint, walking

    poses = walking(12)
    csv = _write_deeplabcut(tmp_path / "walkDLC_resnet50.csv", poses)
    limbs = [H36M17.index(s + p) for s in "LR" for p in ("Hip", "Knee", "Ankle", "Shoulder", "Elbow", "Wrist")]
    ck = untrained_checkpoint(tmp_path / "sb")
    r = _invoke("--plugin", DEEPLABCUT, "lift", csv, "--format", "deeplabcut", "-c", ck, "-o", tmp_path / "o.npz",
                "--image-size", "480x640")
    assert r.exit_code == 0, r.output
    with np.load(tmp_path / "o.npz") as z:
        meta = json.loads(str(z["meta"]))
        assert meta["input"]["file_format"] == "deeplabcut" and meta["input"]["keypoints"] == "lsp14"
        assert z["joints3d"].shape == (12, 17, 3) and np.isfinite(z["joints3d"]).all()
        assert z["filled"][3, H36M17.index("LWrist")] and z["filled"].sum() == 1  # the undetected wrist, filled in time
        keep = np.arange(12) != 3
        np.testing.assert_allclose(z["keypoints2d"][keep][:, limbs], poses[keep][:, limbs], atol=1e-3)
        head, thorax = poses[:, H36M17.index("Head")], poses[:, H36M17.index("Thorax")]
        np.testing.assert_allclose(z["keypoints2d"][:, H36M17.index("Neck")], thorax + (head - thorax) / 3, atol=1e-3)
    r = _invoke("--plugin", DEEPLABCUT, "data", "footage", "walk", csv, "--format", "deeplabcut", "--image-size", "480x640",
                "--cache", tmp_path / "c")
    assert r.exit_code == 0, r.output
    d = load_domain("walk", tmp_path / "c")
    assert len(d) == 12 and not d.has_3d
    np.testing.assert_allclose(np.asarray(d.arrays["joints2d"])[keep][:, limbs], poses[keep][:, limbs], atol=1e-3)
    r = _invoke("--plugin", DEEPLABCUT, "lift", csv, "--format", "deeplabcat", "-c", ck, "-o", tmp_path / "x.npz")
    assert r.exit_code == 2 and "--format: unknown format 'deeplabcat' (did you mean 'deeplabcut'?" in r.output
    r = _invoke("--plugin", DEEPLABCUT, "lift", csv, "--format", "deeplabcut", "--joints", "coco17", "-c", ck, "-o", tmp_path / "x.npz",
                "--image-size", "480x640")
    assert r.exit_code == 2 and "has no bodypart nose, left_eye" in r.output and not (tmp_path / "x.npz").exists()


@pytest.mark.data
def test_an_export_format_and_an_importer_in_one_file_each_round_trip_a_domain(tiny_target, tmp_path):
    from poseda.data.cache import load_domain

    r = _invoke("--plugin", CSV_EXPORT, "data", "export", "tiny-target", "--format", "csv-views", "--out", tmp_path / "out",
                "--cache", tiny_target)
    assert r.exit_code == 0, r.output
    a = load_domain("tiny-target", tiny_target)
    folder = tmp_path / "out" / "tiny-target"
    assert sorted(p.name for p in folder.iterdir()) == sorted(["domain.json", *(f"{v['sequence'].replace('/', '~')}."
                                                                                 f"{v['camera']}.csv" for v in a.views)])
    r = _invoke("--plugin", CSV_IMPORT, "data", "import", "csv-views", "tiny-back", folder, "--cache", tmp_path / "c")
    assert r.exit_code == 0, r.output
    b = load_domain("tiny-back", tmp_path / "c")
    assert b.meta["imported"]["kind"] == "csv-views" and len(b.meta["imported"]["files"]) == len(a.views) + 1
    assert (b.role, b.fps, b.splits, b.layout.joints, len(b)) == (a.role, a.fps, a.splits, a.layout.joints, len(a))
    view = {(v["sequence"], v["camera"]): i for i, v in enumerate(a.views)}
    for v, bv in enumerate(b.views):  # view for view, bit for bit
        u = view[(bv["sequence"], bv["camera"])]
        assert {k: bv[k] for k in ("subject", "action", "split")} == {k: a.views[u][k] for k in ("subject", "action", "split")}
        ra, rb = (np.flatnonzero(np.asarray(d.arrays["view"]) == i) for d, i in ((a, u), (b, v)))
        for k in ("frame", "joints3d", "joints2d"):
            np.testing.assert_array_equal(np.asarray(b.arrays[k])[rb], np.asarray(a.arrays[k])[ra])
        for k in ("intrinsics", "distortion", "image_size", "cam_rotation", "cam_centre"):
            np.testing.assert_array_equal(np.asarray(b.arrays[k])[v], np.asarray(a.arrays[k])[u])
    r = _invoke("--plugin", CSV_IMPORT, "data", "import", "csv-views", "tiny-bad", tmp_path / "out", "--cache", tmp_path / "c")
    assert r.exit_code == 2 and "PATHS: give one folder holding domain.json" in r.output
