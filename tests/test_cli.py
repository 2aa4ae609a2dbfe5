"""The command line: prepare, stats, custom domains, and bad input (one line, exit 2)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.data


def run(*args, env=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "poseda.cli", *args], capture_output=True, text=True, env=e)


def _one_line_error(r, *needles):
    code = r.returncode if hasattr(r, "returncode") else r.exit_code
    assert code == 2, r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def _mirror(tmp_path, data_root, skip=()):
    root = tmp_path / "mirror"
    root.mkdir(parents=True)
    for p in data_root.iterdir():
        if p.name not in skip:
            (root / p.name).symlink_to(p)
    return root


def test_prepare_and_stats(tmp_path, data_root):
    cache = tmp_path / "cache"
    r = run("data", "prepare", "--domain", "humaneva", "--domain", "cmu-3dhp", "--cache", str(cache),
            env={"POSEDA_DATA": str(data_root)})
    assert r.returncode == 0, r.stderr
    assert "humaneva: built" in r.stdout and (cache / "cmu-3dhp" / "meta.json").is_file()
    r = run("data", "prepare", "--domain", "humaneva", "--cache", str(cache), "--data-root", str(data_root))
    assert "humaneva: up to date" in r.stdout
    r = run("data", "stats", "--cache", str(cache), "-d", "humaneva", "-d", "cmu-3dhp", "--out", str(tmp_path / "s"))
    assert r.returncode == 0, r.stderr
    assert "| humaneva |" in r.stdout and (tmp_path / "s" / "cmu-3dhp.png").stat().st_size > 10_000
    assert (tmp_path / "s" / "overview.png").is_file()


def test_missing_data_root_and_missing_file(tmp_path, data_root):
    r = run("data", "prepare", "--data-root", str(tmp_path / "nowhere"), "--cache", str(tmp_path / "c"))
    _one_line_error(r, "nowhere", "does not exist")
    env = {k: v for k, v in os.environ.items() if k != "POSEDA_DATA"}
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "data", "prepare"], capture_output=True, text=True, env=env)
    _one_line_error(r, "--data-root", "POSEDA_DATA")
    root = _mirror(tmp_path, data_root, skip=("cmu-expmap.tar.xz",))
    r = run("data", "prepare", "--data-root", str(root), "--cache", str(tmp_path / "c"), "-d", "cmu-3dhp")
    _one_line_error(r, "cmu-expmap.tar.xz", "(or its extracted folder cmu/): missing, needed by cmu-3dhp", "data/cmu")
    assert not (tmp_path / "c" / "cmu-3dhp").exists()
    # every missing upstream file at once, one line each, with where it comes from
    bare = _mirror(tmp_path / "bare", data_root, skip=[p.name for p in data_root.iterdir()])
    r = run("data", "prepare", "--data-root", str(bare), "--cache", str(tmp_path / "c"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 5 and "Traceback" not in r.stderr, r.stderr
    for needle in ("h36m-expmap.tar.xz", "cmu-expmap.tar.xz", "bandai-namco-1.tar.xz", "data_3d_humaneva15.npz",
                   "data_2d_humaneva15_gt.npz"):
        assert sum(needle in ln for ln in lines) == 1, needle
    assert all(ln.startswith("poseda: error: ") and ("github.com" in ln or "Sigal" in ln or "DMGNN" in ln or "repository" in ln)
               for ln in lines)
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_prepare_needs_only_the_upstream_downloads(tmp_path, data_root, prepared_cache):
    """Without cameras/ and skeletons/ in the data root, the packaged calibrations and templates
    give bit-identical domains; one domain alone can be prepared."""
    import json

    import numpy as np

    root = _mirror(tmp_path, data_root, skip=("cameras", "skeletons"))
    cache = tmp_path / "c"
    r = run("data", "prepare", "--data-root", str(root), "--cache", str(cache))
    assert r.returncode == 0, r.stderr
    for name in ("h36m", "humaneva", "cmu-3dhp", "bandai-wild"):
        a, b = cache / name, prepared_cache / name
        ma, mb = (json.loads((x / "meta.json").read_text()) for x in (a, b))
        skip = {"build_key", "data_root"}
        assert {k: v for k, v in ma.items() if k not in skip} == {k: v for k, v in mb.items() if k not in skip}, name
        for f in sorted(b.glob("*.npy")):
            assert np.array_equal(np.load(a / f.name), np.load(f), equal_nan=True), (name, f.name)
    only = tmp_path / "only"
    r = run("data", "prepare", "--data-root", str(root), "--cache", str(only), "-d", "humaneva")
    assert r.returncode == 0 and sorted(p.name for p in only.iterdir()) == ["humaneva"], r.stderr


def test_corrupt_files_leave_nothing_half_written(tmp_path, data_root):
    root = _mirror(tmp_path, data_root, skip=("humaneva-i", "bandai-namco-1.tar.xz"))
    (root / "humaneva-i").mkdir()
    src = data_root / "humaneva-i"
    (root / "humaneva-i" / "data_2d_humaneva15_gt.npz").symlink_to(src / "data_2d_humaneva15_gt.npz")
    raw = (src / "data_3d_humaneva15.npz").read_bytes()
    (root / "humaneva-i" / "data_3d_humaneva15.npz").write_bytes(raw[: len(raw) // 3])
    xz = (data_root / "bandai-namco-1.tar.xz").read_bytes()
    (root / "bandai-namco-1.tar.xz").write_bytes(xz[: len(xz) // 2])
    cache = tmp_path / "c"
    r = run("data", "prepare", "--data-root", str(root), "--cache", str(cache), "-d", "humaneva")
    _one_line_error(r, "data_3d_humaneva15.npz", "not an npz file")
    r = run("data", "prepare", "--data-root", str(root), "--cache", str(cache), "-d", "bandai-wild")
    _one_line_error(r, "bandai-namco-1.tar.xz", "corrupt or truncated")
    assert not cache.exists() or not any(cache.iterdir()), list(cache.iterdir())


def test_unknown_domain_and_stats_before_prepare(tmp_path, data_root):
    r = run("data", "prepare", "--data-root", str(data_root), "--cache", str(tmp_path / "c"), "-d", "mpii")
    _one_line_error(r, "--domain", "unknown domain 'mpii'")
    r = run("data", "stats", "--cache", str(tmp_path / "c"), "-d", "h36m")
    _one_line_error(r, "h36m", "poseda data prepare")


BVH_DIR = "bandai-namco-1/data"


def _custom_motion(tmp_path, data_root, n=4):
    from poseda.domains.mirror import Archive

    folder = tmp_path / "motion"
    folder.mkdir()
    for i, (name, data) in enumerate(Archive(data_root, "bandai-namco-1.tar.xz", "bandai-namco-1").iter_members(
            "bandai-namco-1/data/dataset-1_bow_*.bvh")):
        (folder / Path(name).name).write_bytes(data)
        if i + 1 == n:
            break
    return folder


def test_custom_domain_and_its_errors(tmp_path, data_root):
    folder = _custom_motion(tmp_path, data_root)
    cache = tmp_path / "c"
    r = run("data", "custom", "mine", "--motion", str(folder), "--rig", "handheld", "--cache", str(cache))
    assert r.returncode == 0, r.stderr
    from poseda.data.cache import load_domain

    d = load_domain("mine", cache)
    assert d.role == "target" and len(d) > 100 and d.layout.name == "h36m16"
    rig = tmp_path / "rig.yaml"
    rig.write_text("name: r\ngroups:\n  - count: 1\n    image_size: [640, 480]\n    focal_px: [500, 500]\n"
                   "    distance_m: [3, 4]\n    height_m: [1, 1.5]\n    aim_hieght_m: [1, 1]\n")
    r = run("data", "custom", "x", "--motion", str(folder), "--rig", str(rig), "--cache", str(cache))
    _one_line_error(r, "rig.yaml", "aim_hieght_m")
    jm = tmp_path / "map.yaml"
    jm.write_text("Pelvis: Hips\nNose: Head\n")
    r = run("data", "custom", "x", "--motion", str(folder), "--rig", "handheld", "--joint-map", str(jm), "--cache", str(cache))
    _one_line_error(r, "unknown canonical joint name 'Nose'")
    bad = folder / "broken.bvh"
    bad.write_bytes((folder / sorted(p.name for p in folder.iterdir())[0]).read_bytes()[:5000])
    r = run("data", "custom", "x", "--motion", str(folder), "--rig", "handheld", "--cache", str(cache))
    _one_line_error(r, "broken.bvh")
    assert not (cache / "x").exists()


def test_bad_values_in_an_extracted_mirror(tmp_path, data_root):
    """A mirror holding the extracted folders: NaN and wrong column counts name the file."""
    root = _mirror(tmp_path, data_root, skip=("h36m-expmap.tar.xz", "cmu-expmap.tar.xz"))
    h36m = root / "h3.6m" / "dataset" / "S1"
    h36m.mkdir(parents=True)
    row = ",".join(["0.0"] * 99)
    (h36m / "directions_1.txt").write_text(row + "\n" + row.replace("0.0", "nan", 7) + "\n")
    cmu = root / "cmu" / "train" / "walking"
    cmu.mkdir(parents=True)
    (cmu / "walking_1.txt").write_text(",".join(["0.0"] * 117) + "\n" + ",".join(["0.0"] * 100) + "\n")
    cache = tmp_path / "c"
    r = run("data", "prepare", "--data-root", str(root), "--cache", str(cache), "-d", "h36m")
    _one_line_error(r, "mirror/h3.6m/dataset/S1/directions_1.txt:", "line 2, column 1", "NaN")
    r = run("data", "prepare", "--data-root", str(root), "--cache", str(cache), "-d", "cmu-3dhp")
    _one_line_error(r, "walking_1.txt", "line 2 has 100 columns, expected 117")
    # a folder mirror with a valid file but the rest of Human3.6M missing
    (h36m / "directions_1.txt").write_text(row + "\n" + row + "\n")
    r = run("data", "prepare", "--data-root", str(root), "--cache", str(cache), "-d", "h36m")
    _one_line_error(r, "expected file(s) missing", "h3.6m/dataset/S1/directions_2.txt")
    assert not cache.exists() or not any(cache.iterdir())


def test_adapt_and_benchmark_commands(tiny_target, tmp_path):
    """poseda train on the tiny source, then poseda adapt from its checkpoint, and the errors."""
    cache = str(tiny_target)
    common = ["train.progress=false", "train.epochs=1", "data.samples_per_epoch=2048", "train.batch_size=128",
              "train.val_samples=1000", "data.val_percent=50"]
    r = run("train", "-c", "simple_baseline", "data.source=tiny", f"data.cache={cache}", "data.joints=h36m16",
            "model.options.width=64", f"run.dir={tmp_path / 'src'}", *common)
    assert r.returncode == 0, r.stderr
    ckpt = str(tmp_path / "src" / "best")
    r = run("adapt", ckpt, "-t", "tiny-target", "-m", "gpa_lpa", f"data.cache={cache}", f"run.dir={tmp_path / 'ad'}",
            "lpa.hidden=32", *common)
    assert r.returncode == 0, r.stderr
    assert "domain tiny-target / split" in r.stdout and "joints h36m16 (16)" in r.stdout
    assert (tmp_path / "ad" / "best.json").is_file() and (tmp_path / "ad" / "report.md").is_file()
    # every adaptation run is also scored against the target's 2D alone, kept beside the run
    kept = json.loads((tmp_path / "ad" / "disagreement-tiny-target.json").read_text())
    assert f"disagreement with tiny-target's 2D: {kept['mm']:.2f} mm" in r.stdout and kept["mm"] > 0
    # --resume continues the run in its folder (here for one more epoch)
    r = run("adapt", ckpt, "-t", "tiny-target", "-m", "gpa_lpa", f"data.cache={cache}", f"run.dir={tmp_path / 'ad'}",
            "lpa.hidden=32", *common, "train.epochs=2", "--resume")
    assert r.returncode == 0, r.stderr
    assert "epoch 2/2" in r.stdout and "epoch 1/2" not in r.stdout
    _one_line_error(run("adapt", ckpt, "-t", "tiny-target", f"data.cache={cache}", f"run.dir={tmp_path / 'z'}",
                        "--resume"), "nothing to resume")
    _one_line_error(run("adapt", ckpt, "-t", "tiny-target", "-m", "magic", f"data.cache={cache}",
                        f"run.dir={tmp_path / 'x'}"), "--method", "unknown method 'magic'")
    _one_line_error(run("adapt", ckpt, "-t", "tiny", f"data.cache={cache}", f"run.dir={tmp_path / 'y'}"),
                    "adapt.target", "not a target")
    _one_line_error(run("adapt", str(tmp_path / "nothing"), "-t", "tiny-target"), "nothing")
    _one_line_error(run("adapt", ckpt, "-t", "tiny-target", f"data.cache={cache}", "lpa.wrong=1"), "lpa.wrong")
    _one_line_error(run("benchmark", "--preset", "quickest"), "--preset", "unknown preset")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_lift_viz_export_detect_end_to_end(tmp_path):
    from tests.lift.helpers import STANDING, render_mannequin, untrained_checkpoint, walking, write_coco

    ckpt = untrained_checkpoint(tmp_path / "sb")
    write_coco(tmp_path / "k.json", walking(10))
    r = run("lift", str(tmp_path / "k.json"), "-c", str(ckpt), "-o", str(tmp_path / "o.npz"), "--image-size", "480x640", "--absolute",
            "--fov", "60")
    assert r.returncode == 0, r.stderr
    assert "COCO-17" in r.stdout and "60.0 deg horizontal" in r.stdout and "1 track(s), 10 frame(s) lifted" in r.stdout
    r = run("viz", str(tmp_path / "o.npz"), "-o", str(tmp_path / "f.png"), "--frame", "3")
    assert r.returncode == 0 and (tmp_path / "f.png").stat().st_size > 10000, r.stderr
    r = run("viz", str(tmp_path / "o.npz"), "-o", str(tmp_path / "s.gif"), "--max-frames", "4")
    assert r.returncode == 0 and "4 frames" in r.stdout, r.stderr
    r = run("export", "-c", str(ckpt), "--onnx", str(tmp_path / "m.onnx"))
    assert r.returncode == 0 and "onnxruntime vs PyTorch: max |difference|" in r.stdout, r.stderr
    pytest.importorskip("mediapipe")
    cv2 = pytest.importorskip("cv2")
    cv2.imwrite(str(tmp_path / "person.png"), render_mannequin(STANDING)[..., ::-1])
    r = run("detect", str(tmp_path / "person.png"), "-o", str(tmp_path / "mp.json"), "--detector", "mediapipe")
    assert r.returncode == 0 and "people in 1 of 1 frame(s)" in r.stdout, r.stderr
    r = run("detect", str(tmp_path / "person.png"), "-o", str(tmp_path / "mp2.json"), "--detector", "mediapipe", "--max-people", "3", "--no-progress")
    assert r.returncode == 0 and len(json.loads((tmp_path / "mp2.json").read_text())["frames"][0]["people"]) == 1, r.stderr
    r = run("lift", str(tmp_path / "mp.json"), "-c", str(ckpt), "-o", str(tmp_path / "mp.csv"))
    assert r.returncode == 0 and "MediaPipe / BlazePose 33" in r.stdout, r.stderr


def test_lift_bad_input_is_one_line_and_writes_nothing(tmp_path):
    import json

    import numpy as np

    from tests.lift.helpers import untrained_checkpoint, walking, write_coco

    ckpt = str(untrained_checkpoint(tmp_path / "sb"))
    good = str(write_coco(tmp_path / "k.json", walking(3)))
    (tmp_path / "short.json").write_text(json.dumps([{"image_id": 0, "keypoints": [1] * 45}]))
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "bad.json").write_text("{\"people\": [")
    (tmp_path / "nobody.json").write_text("[]")
    np.savez(tmp_path / "j.npz", keypoints=np.zeros((3, 16, 2)))
    out = str(tmp_path / "o.npz")
    cases = [
        (("lift", str(tmp_path / "short.json"), "-c", ckpt, "-o", out, "--image-size", "480x640"), ("short.json", "45 values")),
        (("lift", str(tmp_path / "empty.json"), "-c", ckpt, "-o", out, "--image-size", "480x640"), ("empty.json", "is empty")),
        (("lift", str(tmp_path / "bad.json"), "-c", ckpt, "-o", out, "--image-size", "480x640"), ("bad.json", "malformed JSON")),
        (("lift", str(tmp_path / "nobody.json"), "-c", ckpt, "-o", out, "--image-size", "480x640"), ("nobody.json", "holds no people")),
        (("lift", str(tmp_path / "j.npz"), "-c", ckpt, "-o", out, "--image-size", "480x640"), ("j.npz", "has 16 joints, expected 17")),
        (("lift", good, "-c", ckpt, "-o", out, "--format", "yaml", "--image-size", "480x640"), ("--format", "unknown format 'yaml'")),
        (("lift", good, "-c", ckpt, "-o", out), ("k.json", "--image-size")),
        (("lift", good, "-c", ckpt, "-o", out, "--image-size", "big"), ("--image-size", "two numbers")),
        (("lift", good, "-c", ckpt, "-o", str(tmp_path / "o.txt"), "--image-size", "480x640"), ("o.txt", "unknown output type")),
        (("lift", good, "-c", str(tmp_path / "none"), "-o", out, "--image-size", "480x640"), ("none",)),
        (("lift", good, "-c", ckpt, "-o", out, "--image-size", "480x640", "--device", "tpu"), ("--device", "auto, cpu or cuda")),
        (("lift", good, "-c", ckpt, "-o", out, "--image-size", "480x640", "--min-score", "1.5"), ("--min-score", "between 0 and 1")),
        (("lift", good, "-c", ckpt, "-o", out, "--image-size", "480x640", "--max-gap", "-1"), ("--max-gap", "0 or more")),
        (("viz", good, "-o", str(tmp_path / "v.png")), ("k.json", "not a poseda lift output")),
        (("export", "-c", ckpt, "--onnx", str(tmp_path / "m.pt")), ("m.pt", ".onnx")),
    ]
    from typer.testing import CliRunner

    from poseda.cli import app

    runner = CliRunner()
    for args, needles in cases:  # in-process: the commands themselves turn bad input into one line and exit code 2
        r = runner.invoke(app, list(args))
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
        _one_line_error(r, *needles)
    before = sorted(["sb.json", Path(json.loads((tmp_path / "sb.json").read_text())["weights_file"]).name, "k.json", "short.json",
                     "empty.json", "bad.json", "nobody.json", "j.npz"])
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    pytest.importorskip("mediapipe")
    from PIL import Image

    Image.new("RGB", (320, 240), (200, 200, 200)).save(tmp_path / "blank.png")
    _one_line_error(run("detect", str(tmp_path / "blank.png"), "-o", str(tmp_path / "d.json")), "blank.png", "no person found")
    assert not (tmp_path / "d.json").exists()


def test_benchmark_command_runs_only_the_seeds_asked(tiny_target, tmp_path):
    from typer.testing import CliRunner

    from poseda.cli import app

    (tmp_path / "p.yaml").write_text("""
backbones: [simple_baseline]
seeds: [0, 1, 2]
targets: [tiny-target]
methods: [source, gpa]
source: tiny
pretrain: {train.epochs: 1, data.samples_per_epoch: 2048, train.batch_size: 128, model.options.width: 32,
           data.val_percent: 50, train.val_samples: 500}
adapt: {train.epochs: 1, data.samples_per_epoch: 512, train.batch_size: 128, data.val_percent: 50, train.val_samples: 500}
""")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["benchmark", "--preset", str(tmp_path / "p.yaml"), "--out", str(out), "--cache",
                                 str(tiny_target), "--device", "cpu", "--no-progress", "--seed", "1"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (out / "adapt").iterdir()) == ["simple_baseline-s1"]
    assert "seeds 1." in (out / "table.md").read_text()
    r = CliRunner().invoke(app, ["benchmark", "--preset", str(tmp_path / "p.yaml"), "--out", str(out), "--cache",
                                 str(tiny_target), "--backbone", "videopose3d_1"])
    _one_line_error(r, "--backbone", "videopose3d_1 not in the preset (it has simple_baseline)")
