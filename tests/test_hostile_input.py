"""A catalogue of malformed and extreme inputs across every command, in the five families of the
hostile-input issue: data loss and paths that escape; exit 0 on garbage; tracebacks; (crash
consistency: tests/test_crash.py); messages. Every case must exit 2 with exactly one line on
standard error, no traceback, and leave every file as it was."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from poseda.cli import app

from .lift.helpers import untrained_checkpoint, walking, write_coco

pytestmark = pytest.mark.data
REPO = Path(__file__).resolve().parents[1]


def _tree(*roots) -> dict:
    """Every file and folder under ``roots`` with its size and modification time."""
    out = {}
    for root in roots:
        for p in sorted(Path(root).rglob("*")):
            st = p.lstat()
            out[str(p)] = (st.st_size, st.st_mtime_ns, p.is_dir())
    return out


@pytest.fixture(scope="module")
def world(tiny_target, tmp_path_factory, data_root):
    """Inputs of every kind, good and bad, made once."""
    w = tmp_path_factory.mktemp("hostile")
    ck = untrained_checkpoint(w / "sb16", joints="h36m16", width=32)
    untrained_checkpoint(w / "sb17", width=32)
    write_coco(w / "k.json", walking(6))
    np.savez(w / "k.npz", keypoints=walking(6))
    # a lift output to draw
    r = CliRunner().invoke(app, ["lift", str(w / "k.json"), "-c", str(w / "sb17"), "-o", str(w / "lifted.npz"), "--image-size", "480x640"])
    assert r.exit_code == 0, r.output
    # checkpoints that are wrong in every way
    rec = json.loads((w / "sb16.json").read_text())
    for name, change in {
        "ck-list": lambda r: [r],
        "ck-nolayout": lambda r: {k: v for k, v in r.items() if k != "layout"},
        "ck-badlayout": lambda r: dict(r, layout=dict(r["layout"], parents=[0] * 16)),
        "ck-huge": lambda r: dict(r, model=dict(r["model"], options={"width": 10**7})),
        "ck-path": lambda r: dict(r, weights_file="../../etc/passwd"),
        "ck-format": lambda r: dict(r, format="other"),
        "ck-rf": lambda r: dict(r, model=dict(r["model"], receptive_field=2)),
        "ck-plugin": lambda r: dict(r, model=dict(r["model"], name="mine:Lifter")),
        "ck-shape": lambda r: dict(r, model=dict(r["model"], options={"width": 16})),  # tensors of another shape, same hash
        # each option within its range, their product 34,000M values (128 GiB): refused before anything is built
        "ck-product": lambda r: dict(r, model=dict(r["model"], options={"width": 16384, "blocks": 64})),
    }.items():
        (w / f"{name}.json").write_text(json.dumps(change(dict(rec))))
    (w / "ck-binary.json").write_bytes(os.urandom(200))
    (w / "ck-deep.json").write_text("[" * 100000 + "]" * 100000)
    # a checkpoint with NaN weights, whose record matches them
    import torch

    from poseda.inference import save_lifter
    from poseda.models import build_lifter
    from poseda.skeleton.layouts import JOINT_SETS

    m = build_lifter("simple_baseline", JOINT_SETS["h36m16"], width=32)
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(float("nan"))
    save_lifter(w / "nan", m, "simple_baseline", {"width": 32})
    # keypoint files with fields of the wrong type or absurd values
    good = json.loads((w / "k.json").read_text())
    kp = {
        "frame-abc.json": {"format": "mediapipe-pose-33", "image_size": [480, 640], "frames": [{"frame": "abc", "people": []}]},
        "images-5.json": {"annotations": good, "images": 5},
        "width-wide.json": {"annotations": [dict(good[0], image_id=1)], "images": [{"id": 1, "width": "wide", "height": 5}]},
        "pid-nan.json": [dict(d, track_id=float("nan")) for d in good],
        "huge-coords.json": [dict(d, keypoints=[1e300 if i % 3 == 0 else v for i, v in enumerate(d["keypoints"])]) for d in good],
        "huge-frames.json": [dict(d, image_id=i * 10**12) for i, d in enumerate(good)],
        # frames 10001 apart (and one at 1): --max-gap 10000 would fill 15 million frames between them
        "sparse-frames.json": [dict(good[0], image_id=f) for f in [1, *range(0, 1500 * 10001, 10001)]],
        "kp-strings.json": [dict(d, keypoints=["a"] * 51) for d in good],
        "mp-size.json": {"format": "mediapipe-pose-33", "image_size": [0, 1e300], "frames": []},
        "op-pid.json": {"people": [{"person_id": float("nan"), "pose_keypoints_2d": [1.0] * 75}]},
    }
    for name, obj in kp.items():
        (w / name).write_text(json.dumps(obj))
    (w / "random.npz").write_bytes(os.urandom(300))
    np.savez(w / "strings.npz", keypoints=np.array([["a"] * 17] * 2))
    np.savez(w / "nanframes.npz", keypoints=walking(3), frames=np.array([0, np.nan, 2]))
    np.savez(w / "pickled.npz", keypoints=np.array([{"x": 1}], dtype=object))
    (w / "loop-a.json").symlink_to(w / "loop-b.json")
    (w / "loop-b.json").symlink_to(w / "loop-a.json")
    (w / "afile").write_text("not a folder")
    for d in ("adir", "adir.npz", "folder.onnx"):
        (w / d).mkdir()
    # rigs, presets, configs, motion
    rig = (REPO / "poseda" / "domains" / "rigs" / "handheld.yaml").read_text()
    (w / "rig-nan.yaml").write_text(rig.replace("focal_px: [1000, 2200]", "focal_px: [.nan, .nan]"))
    (w / "rig-count.yaml").write_text(rig.replace("count: 1", "count: 100000000"))
    (w / "rig-binary.yaml").write_bytes(os.urandom(100))
    motion = w / "motion"
    motion.mkdir()
    from poseda.domains.mirror import Archive

    for i, (name, data) in enumerate(Archive(data_root, "bandai-namco-1.tar.xz", "bandai-namco-1")
                                     .iter_members("bandai-namco-1/data/dataset-1_bow_*.bvh")):
        (motion / Path(name).name).write_bytes(data)
        if i == 1:
            break
    preset = "backbones: [simple_baseline]\nseeds: [0]\ntargets: [tiny-target]\nmethods: [source]\nsource: tiny\n"
    (w / "preset-abc.yaml").write_text(preset.replace("seeds: [0]", "seeds: [abc]"))
    (w / "preset-number.yaml").write_text("5\n")
    (w / "preset-binary.yaml").write_bytes(os.urandom(64) + b"\xff\xfe")
    (w / "preset-target.yaml").write_text(preset.replace("tiny-target]", "tiny]"))
    (w / "cfg-list.yaml").write_text("- 1\n- 2\n")
    # a cache with a binary meta.json
    bad_cache = w / "badcache"
    (bad_cache / "broken").mkdir(parents=True)
    (bad_cache / "broken" / "meta.json").write_bytes(os.urandom(50))
    # VideoPose3D custom 2D files whose arrays hold strings, or ragged per-frame lists
    meta = {"layout_name": "coco", "num_joints": 17, "video_metadata": {"v": {"w": 640, "h": 480}}}
    for name, arr in (("vp3d-strings.npz", [np.array([["a"] * 2] * 17)]), ("vp3d-ragged.npz", [[np.zeros((17, 2)), np.zeros((5, 2))]])):
        pos = np.empty((), dtype=object)
        pos[()] = {"v": {"custom": arr}}
        md = np.empty((), dtype=object)
        md[()] = meta
        np.savez(w / name, positions_2d=pos, metadata=md)
    (w / "exits.py").write_text("import sys\nsys.exit(0)\n")
    # outputs that a user already has
    for rel in ("existing.json", "existing.png", "existing.onnx", "ev-existing/eval-tiny.md", "st-existing/stats.md",
                "vp/data/data_3d_poseda-tiny.npz", "demo/clip.keypoints.json"):
        (w / rel).parent.mkdir(parents=True, exist_ok=True)
        (w / rel).write_text("the user's")
    import imageio_ffmpeg

    clip = imageio_ffmpeg.write_frames(str(w / "clip.mp4"), (64, 64), fps=10, macro_block_size=16)
    clip.send(None)
    for _ in range(3):
        clip.send(np.zeros((64, 64, 3), np.uint8))
    clip.close()
    # a read-only place that even root cannot write into
    ro = Path("/proc/self/poseda-out")
    return {"w": w, "cache": tiny_target, "ck": ck, "bad_cache": bad_cache, "ro": ro, "motion": motion, "data_root": data_root}


def _cases(x):
    w, cache, ck = x["w"], str(x["cache"]), str(x["ck"])
    ck17 = str(w / "sb17")
    kpj, lifted = str(w / "k.json"), str(w / "lifted.npz")
    size = ["--image-size", "480x640"]
    common = [f"data.cache={cache}", "data.source=tiny", "train.progress=false", "data.val_percent=50"]

    def lift(keypoints, *extra, out="o.npz", checkpoint=ck17):
        return ["lift", str(w / keypoints) if not str(keypoints).startswith("/") else keypoints, "-c", checkpoint, "-o",
                str(w / out) if not str(out).startswith("/") else out, *extra]

    return [
        # -- 1. data loss and paths that escape
        ("data custom . wipes the cache", ["data", "custom", ".", "--motion", str(x["motion"]), "--rig", "handheld", "--cache", cache],
         ["domain name", "is not a usable name"]),
        ("data custom ''", ["data", "custom", "", "--motion", str(x["motion"]), "--rig", "handheld", "--cache", cache], ["usable name"]),
        ("data custom ../escaped", ["data", "custom", "../escaped", "--motion", str(x["motion"]), "--rig", "handheld", "--cache", cache],
         ["usable name"]),
        ("data custom a/b", ["data", "custom", "a/b", "--motion", str(x["motion"]), "--rig", "handheld", "--cache", cache], ["usable name"]),
        ("data custom ..", ["data", "custom", "..", "--motion", str(x["motion"]), "--rig", "handheld", "--cache", cache], ["usable name"]),
        ("data custom .hidden", ["data", "custom", ".hidden", "--motion", str(x["motion"]), "--rig", "handheld", "--cache", cache],
         ["usable name"]),
        ("data custom over a built-in", ["data", "custom", "h36m", "--motion", str(x["motion"]), "--rig", "handheld", "--cache", cache],
         ["built-in domain name"]),
        ("data footage .", ["data", "footage", ".", kpj, "--cache", cache], ["usable name"]),
        ("data footage ../x", ["data", "footage", "../x", kpj, "--cache", cache], ["usable name"]),
        ("lift onto its own input", lift("k.json", *size, out="k.json"), ["would overwrite the input"]),
        ("lift npz onto its own input", lift("k.npz", out="k.npz"), ["would overwrite the input"]),
        ("lift onto the checkpoint", lift("k.json", *size, out="sb17.json"), ["would overwrite the input"]),
        ("viz onto its input", ["viz", lifted, "-o", lifted], ["would overwrite the input"]),
        ("export onto a folder", ["export", "-c", ck17, "--onnx", str(w / "folder.onnx")], ["is a folder"]),
        ("detect onto its source", ["detect", kpj, "-o", kpj], ["would overwrite the input"]),
        ("train run.dir is the cache", ["train", *common, f"run.dir={cache}"], ["would overwrite the input"]),
        ("stats --out is the cache", ["data", "stats", "--cache", cache, "-d", "tiny", "--out", cache], ["would overwrite the input"]),
        ("benchmark --out is the cache", ["benchmark", "--preset", str(w / "preset-target.yaml"), "--cache", cache, "--out", cache],
         []),
        ("lift over a file the user has", lift("k.json", *size, out="existing.json"), ["existing.json", "already exists", "--force"]),
        ("viz over a file the user has", ["viz", lifted, "-o", str(w / "existing.png")], ["existing.png", "already exists"]),
        ("detect over a file the user has", ["detect", kpj, "-o", str(w / "existing.json")], ["existing.json", "already exists"]),
        ("export over a file the user has", ["export", "-c", ck17, "--onnx", str(w / "existing.onnx")], ["already exists"]),
        ("evaluate over reports the user has", ["evaluate", "-c", ck17, "-d", "tiny", "--cache", cache, "--out",
                                                str(w / "ev-existing")], ["eval-tiny.md", "already exists"]),
        ("stats over a table the user has", ["data", "stats", "--cache", cache, "-d", "tiny", "--out", str(w / "st-existing")],
         ["stats.md", "already exists"]),
        ("data export over a file the user has", ["data", "export", "tiny", "--out", str(w / "vp"), "--cache", cache],
         ["data_3d_poseda-tiny.npz", "already exists"]),
        ("demo over a file the user has", ["demo", str(w / "clip.mp4"), "-o", str(w / "demo"), "-c", ck17, "--no-progress"],
         ["clip.keypoints.json", "already exists"]),
        # -- 2. exit 0 on garbage
        ("negative batch size", ["train", *common, "train.batch_size=-256", f"run.dir={w / 'r1'}"], ["train.batch_size"]),
        ("negative samples per epoch", ["train", *common, "data.samples_per_epoch=-5", f"run.dir={w / 'r2'}"],
         ["data.samples_per_epoch"]),
        ("zero epochs", ["train", *common, "train.epochs=0", f"run.dir={w / 'r3'}"], ["train.epochs"]),
        ("chunk zero", ["train", *common, "train.chunk=0", f"run.dir={w / 'r4'}"], ["train.chunk"]),
        ("val percent 100", ["train", *common, "data.val_percent=100", f"run.dir={w / 'r5'}"], ["data.val_percent"]),
        ("negative fps custom", ["data", "custom", "x1", "--motion", str(x["motion"]), "--rig", "handheld", "--fps", "-5", "--cache", cache],
         ["--fps"]),
        ("nan fps footage", ["data", "footage", "x2", kpj, "--fps", "nan", "--cache", cache, *size], ["--fps"]),
        ("inf units", ["data", "custom", "x3", "--motion", str(x["motion"]), "--rig", "handheld", "--units", "inf", "--cache", cache],
         ["--units"]),
        ("coordinates near 1e300 in footage", ["data", "footage", "x4", str(w / "huge-coords.json"), "--cache", cache, *size],
         ["huge-coords.json", "farther than"]),
        ("coordinates near 1e300 in lift", lift("huge-coords.json", *size), ["farther than"]),
        ("NaN weights: lift", lift("k.json", *size, checkpoint=str(w / "nan")), ["non-finite weights"]),
        ("NaN weights: export", ["export", "-c", str(w / "nan"), "--onnx", str(w / "nan.onnx")], ["non-finite weights"]),
        ("NaN weights: evaluate", ["evaluate", "-c", str(w / "nan"), "-d", "tiny", "--cache", cache, "--out", str(w / "ev")],
         ["non-finite weights"]),
        ("NaN weights: adapt", ["adapt", str(w / "nan"), "-t", "tiny-target", f"data.cache={cache}", "data.source=tiny",
                                "data.val_percent=50", f"run.dir={w / 'a1'}"],
         ["non-finite"]),
        ("viz negative fps", ["viz", lifted, "-o", str(w / "v.gif"), "--fps", "-5"], ["--fps"]),
        ("viz zero stride", ["viz", lifted, "-o", str(w / "v.gif"), "--stride", "0"], ["--stride"]),
        ("lift NaN min-score", lift("k.json", *size, "--min-score", "nan"), ["--min-score"]),
        ("lift huge max-gap", lift("k.json", *size, "--max-gap", "100000000"), ["--max-gap"]),
        ("lift NaN focal", lift("k.json", *size, "--focal", "nan"), ["--focal"]),
        ("lift negative focal", lift("k.json", *size, "--focal", "-10"), ["--focal"]),
        ("lift inf focal", lift("k.json", *size, "--focal", "inf"), ["--focal"]),
        ("lift 200 degree fov", lift("k.json", *size, "--fov", "200"), ["--fov"]),
        ("lift zero image size", lift("k.json", "--image-size", "0x0"), ["--image-size"]),
        ("lift NaN image size", lift("k.json", "--image-size", "nanxnan"), ["--image-size"]),
        ("lift NaN centre", lift("k.json", *size, "--center", "nan,nan"), ["--center"]),
        ("detect every 0", ["detect", kpj, "-o", str(w / "d.json"), "--every", "0"], ["--every"]),
        ("detect max-frames 0", ["detect", kpj, "-o", str(w / "d.json"), "--max-frames", "0"], ["--max-frames"]),
        ("detect confidence 2", ["detect", kpj, "-o", str(w / "d.json"), "--min-confidence", "2"], ["--min-confidence"]),
        ("adapt aug weight nan", ["adapt", ck, "-t", "tiny-target", f"data.cache={cache}", "adapt.aug_weight=nan", f"run.dir={w / 'a2'}"],
         ["adapt.aug_weight"]),
        ("adapt negative length range", ["adapt", ck, "-t", "tiny-target", f"data.cache={cache}", "lpa.length_range=-1",
                                         f"run.dir={w / 'a3'}"], ["lpa.length_range"]),
        # -- 3. tracebacks: unwritable outputs
        ("lift into a file's folder", lift("k.json", *size, out=str(w / "afile" / "o.npz")), ["cannot be written", "not a folder"]),
        ("lift onto a folder", lift("k.json", *size, out=str(w / "adir")), ["is a folder"]),
        ("lift onto a folder.npz", lift("k.json", *size, out=str(w / "adir.npz")), ["is a folder"]),
        ("lift --adapt onto .txt", lift("k.json", *size, "--adapt", out="o.txt"), ["unknown output type"]),
        ("lift into /proc", lift("k.json", *size, out=str(x["ro"]) + ".npz"), []),
        ("viz into a file's folder", ["viz", lifted, "-o", str(w / "afile" / "v.png")], ["not a folder"]),
        ("export into a file's folder", ["export", "-c", ck17, "--onnx", str(w / "afile" / "m.onnx")], ["not a folder"]),
        ("export into /proc", ["export", "-c", ck17, "--onnx", str(x["ro"]) + ".onnx"], []),
        ("stats into a file", ["data", "stats", "--cache", cache, "-d", "tiny", "--out", str(w / "afile")], ["is a file"]),
        ("stats into /proc", ["data", "stats", "--cache", cache, "-d", "tiny", "--out", str(x["ro"])], []),
        ("prepare into a file", ["data", "prepare", "--data-root", str(x["data_root"]), "--cache", str(w / "afile"), "-d",
                                 "humaneva"], ["is a file"]),
        ("train into a file", ["train", *common, f"run.dir={w / 'afile'}"], ["is a file"]),
        ("train into /proc", ["train", *common, f"run.dir={x['ro']}"], []),
        ("benchmark into a file", ["benchmark", "--preset", str(w / "preset-target.yaml"), "--cache", cache, "--out", str(w / "afile")],
         []),
        ("evaluate into a file", ["evaluate", "-c", ck17, "-d", "tiny", "--cache", cache, "--out", str(w / "afile")], ["is a file"]),
        ("detect into a folder", ["detect", kpj, "-o", str(w / "adir")], []),
        ("custom into a file cache", ["data", "custom", "x5", "--motion", str(x["motion"]), "--rig", "handheld", "--cache",
                                      str(w / "afile")], ["not a folder"]),
        # -- 3. tracebacks: keypoint files of the wrong types
        ("frame 'abc'", lift("frame-abc.json"), ["frame-abc.json", "'frame'"]),
        ("images 5", lift("images-5.json", *size), ["images-5.json", "'images' must be a list"]),
        ("width 'wide'", lift("width-wide.json"), ["width-wide.json", "'width'"]),
        ("NaN track id", lift("pid-nan.json", *size), ["pid-nan.json", "track id"]),
        ("NaN OpenPose person id", lift("op-pid.json", *size), ["op-pid.json", "person_id"]),
        ("string keypoints", lift("kp-strings.json", *size), ["kp-strings.json"]),
        ("frame numbers beyond a year", lift("huge-frames.json", *size), ["huge-frames.json", "frame"]),
        ("frames that span a 25 GiB array", lift("sparse-frames.json", *size, "--max-gap", "10000"), ["sparse-frames.json", "span"]),
        ("absurd MediaPipe image size", lift("mp-size.json"), ["mp-size.json", "image_size"]),
        ("string arrays", lift("strings.npz", out="o2.npz"), ["strings.npz"]),
        ("VideoPose3D npz of strings", lift("vp3d-strings.npz", out="o7.npz"), ["vp3d-strings.npz", "not an array of numbers"]),
        ("VideoPose3D npz of ragged lists", lift("vp3d-ragged.npz", out="o8.npz"), ["vp3d-ragged.npz", "not an array of numbers"]),
        ("NaN frame numbers", lift("nanframes.npz", out="o3.npz"), ["nanframes.npz", "'frames'"]),
        # -- 3. tracebacks: checkpoint records of the wrong structure
        ("record that is a list", lift("k.json", *size, checkpoint=str(w / "ck-list")), ["not a checkpoint record"]),
        ("record without layout", lift("k.json", *size, checkpoint=str(w / "ck-nolayout")), ["layout"]),
        ("record with a cyclic layout", lift("k.json", *size, checkpoint=str(w / "ck-badlayout")), ["parents"]),
        ("record asking for 400 TB", lift("k.json", *size, checkpoint=str(w / "ck-huge")), ["width"]),
        ("record pointing outside", lift("k.json", *size, checkpoint=str(w / "ck-path")), ["weights_file"]),
        ("record of another format", lift("k.json", *size, checkpoint=str(w / "ck-format")), ["not a poseda checkpoint"]),
        ("record with an even receptive field", lift("k.json", *size, checkpoint=str(w / "ck-rf")), ["receptive_field"]),
        ("record naming an unloaded class", lift("k.json", *size, checkpoint=str(w / "ck-plugin")), ["--plugin"]),
        ("tensors of the wrong shape", ["export", "-c", str(w / "ck-shape"), "--onnx", str(w / "s.onnx")], ["do not fit", "shape"]),
        ("record whose options multiply to 128 GiB", lift("k.json", *size, checkpoint=str(w / "ck-product")), ["would hold"]),
        ("binary record", ["evaluate", "-c", str(w / "ck-binary"), "-d", "tiny", "--cache", cache], ["not JSON"]),
        ("record nested too deeply", ["export", "-c", str(w / "ck-deep"), "--onnx", str(w / "d.onnx")], ["ck-deep.json"]),
        # -- 3. tracebacks: configs and presets
        ("epochs abc", ["train", *common, "train.epochs=abc", f"run.dir={w / 'r6'}"], ["train.epochs", "'abc'"]),
        ("batch size 0", ["train", *common, "train.batch_size=0", f"run.dir={w / 'r7'}"], ["train.batch_size"]),
        ("lr nan", ["train", *common, "train.lr=nan", f"run.dir={w / 'r8'}"], ["train.lr", "finite"]),
        ("lr true", ["train", *common, "train.lr=true", f"run.dir={w / 'r9'}"], ["train.lr"]),
        ("unknown optimiser", ["train", *common, "train.optimizer=sgd", f"run.dir={w / 'r10'}"], ["train.optimizer"]),
        ("run name ../x", ["train", *common, "run.name=../x"], ["run.name"]),
        ("huge model width", ["train", *common, "model.options.width=10000000", f"run.dir={w / 'r11'}"], ["model.options.width"]),
        ("unknown joint set", ["train", *common, "data.joints=coco", f"run.dir={w / 'r12'}"], ["data.joints"]),
        ("config that is a list", ["train", "-c", str(w / "cfg-list.yaml"), *common], ["YAML mapping"]),
        ("config that does not exist", ["train", "-c", str(w / "none.yaml"), *common], ["does not exist"]),
        ("preset seeds [abc]", ["benchmark", "--preset", str(w / "preset-abc.yaml"), "--cache", cache, "--out", str(w / "b1")],
         ["seeds"]),
        ("preset that is a number", ["benchmark", "--preset", str(w / "preset-number.yaml"), "--out", str(w / "b2")], ["YAML mapping"]),
        ("preset that is binary", ["benchmark", "--preset", str(w / "preset-binary.yaml"), "--out", str(w / "b3")], ["preset-binary"]),
        ("preset with a source as target", ["benchmark", "--preset", str(w / "preset-target.yaml"), "--cache", cache, "--out",
                                            str(w / "b4")], ["not a target"]),
        ("benchmark seed not in preset", ["benchmark", "--preset", "quick", "--seed", "7", "--out", str(w / "b5")], ["--seed"]),
        ("adapt unknown method option", ["adapt", ck, "-t", "tiny-target", f"data.cache={cache}", "adapt.options.gpa.x=1",
                                         f"run.dir={w / 'a4'}"], ["adapt.options.gpa.x"]),
        ("adapt target ../x", ["adapt", ck, "-t", "../x", f"data.cache={cache}"], ["--target"]),
        # -- 3. tracebacks: rigs and domains
        ("rig focal NaN", ["data", "custom", "x6", "--motion", str(x["motion"]), "--rig", str(w / "rig-nan.yaml"), "--cache", cache],
         ["focal_px", "finite"]),
        ("rig count 1e8", ["data", "custom", "x7", "--motion", str(x["motion"]), "--rig", str(w / "rig-count.yaml"), "--cache", cache],
         ["count"]),
        ("binary rig", ["data", "custom", "x8", "--motion", str(x["motion"]), "--rig", str(w / "rig-binary.yaml"), "--cache", cache],
         ["rig-binary.yaml"]),
        ("binary meta.json", ["data", "stats", "--cache", str(x["bad_cache"]), "-d", "broken", "--out", str(w / "st")], ["meta.json"]),
        ("binary meta.json for footage", ["data", "footage", "broken", kpj, "--cache", str(x["bad_cache"]), *size], []),
        ("evaluate on a missing domain", ["evaluate", "-c", ck17, "-d", "nowhere", "--cache", cache], ["poseda data prepare"]),
        ("evaluate with a negative fit", ["evaluate", "-c", ck17, "-d", "tiny", "--cache", cache, "--fit-steps", "-1"],
         ["--fit-steps", "must lie in [0, 10000]"]),
        # -- 5. messages
        ("random bytes named .npz", lift("random.npz", out="o4.npz"), ["random.npz", "not an npz file"]),
        ("pickled npz", lift("pickled.npz", out="o5.npz"), ["pickled.npz", "pickled"]),
        ("symlink loop", lift("loop-a.json", *size), ["loop-a.json", "loop of symbolic links"]),
        ("data root that is a file", ["data", "prepare", "--data-root", str(w / "afile"), "--cache", str(w / "c9")],
         ["afile", "is a file, not a data folder"]),
        ("motion folder that is a file", ["data", "custom", "x9", "--motion", str(w / "afile"), "--rig", "handheld", "--cache", cache],
         ["is a file, not a motion folder"]),
        ("unknown option", ["lift", kpj, "-c", ck17, "--bogus"], ["--bogus"]),
        ("non-numeric option", ["lift", kpj, "-c", ck17, "-o", str(w / "o6.npz"), "--max-gap", "abc"], ["--max-gap"]),
        ("missing option", ["lift", kpj, "-c", ck17], ["--out"]),
        ("plugin that does not exist", ["--plugin", str(w / "none.py"), "methods"], ["--plugin"]),
        ("plugin that exits on import", ["--plugin", str(w / "exits.py"), "methods"], ["--plugin", "sys.exit(0)"]),
    ]


def test_the_catalogue_is_large_and_covers_every_command(world):
    cases = _cases(world)
    assert len(cases) >= 80
    commands = {c[1][0] if c[1][0] != "data" else f"data {c[1][1]}" for c in cases if not c[1][0].startswith("--")}
    assert {"data prepare", "data custom", "data footage", "data stats", "data export", "train", "adapt", "benchmark", "evaluate",
            "lift", "viz", "detect", "export", "demo"} <= commands


def test_every_hostile_input_is_one_line_exit_2_and_changes_nothing(world):
    runner = CliRunner()
    failures = []
    roots = [world["w"], world["cache"]]
    for name, args, needles in _cases(world):
        before = _tree(*roots)
        r = runner.invoke(app, args)
        lines = [ln for ln in (r.stderr or "").strip().splitlines() if ln.strip()]
        problem = None
        if r.exit_code != 2:
            problem = f"exit {r.exit_code} ({r.exception!r})"
        elif len(lines) != 1 or "Traceback" in r.stderr:
            problem = f"{len(lines)} lines on stderr: {r.stderr[-500:]!r}"
        elif not all(n in lines[0] for n in needles):
            problem = f"message {lines[0]!r} lacks {needles}"
        elif _tree(*roots) != before:
            changed = set(_tree(*roots).items()) ^ set(before.items())
            problem = f"files changed: {sorted(k for k, _ in changed)[:4]}"
        if problem:
            failures.append(f"{name}: {problem}")
    assert not failures, "\n".join(failures)


def test_the_real_entry_point_behaves_the_same(world):
    """A few cases through ``python -m poseda.cli`` (no in-process test runner)."""
    cases = {c[0]: c for c in _cases(world)}
    for name in ("data custom . wipes the cache", "lift onto its own input", "negative batch size", "random bytes named .npz",
                 "unknown option", "plugin that exits on import", "VideoPose3D npz of strings"):
        _, args, needles = cases[name]
        r = subprocess.run([sys.executable, "-m", "poseda.cli", *args], capture_output=True, text=True, cwd=REPO)
        lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1 and all(n in lines[0] for n in needles), (name, r.stderr)


def test_help_keeps_square_brackets():
    r = CliRunner().invoke(app, ["detect", "--help"])
    assert r.exit_code == 0 and "poseda[detect]" in r.stdout.replace("\n", " ").replace(" ", "")


def test_an_unexpected_error_is_one_line_that_says_it_is_a_bug(world, monkeypatch):
    """Whatever a reader raises that no check foresaw: one line naming the command and its input,
    exit 2; --debug lets the traceback through."""
    import poseda.keypoints.readers as readers

    def broken(*a, **k):
        raise ZeroDivisionError("a reader's own bug")

    monkeypatch.setattr(readers, "read_keypoints", broken)
    monkeypatch.setattr("poseda.lift.lifting.read_keypoints", broken)
    kpj, ck17 = str(world["w"] / "k.json"), str(world["w"] / "sb17")
    args = ["lift", kpj, "-c", ck17, "-o", str(world["w"] / "o9.json"), "--image-size", "480x640"]
    r = CliRunner().invoke(app, args)
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.stderr
    assert "unexpected ZeroDivisionError in 'poseda lift' on " + kpj in lines[0] and "a bug" in lines[0] and "--debug" in lines[0]
    r = CliRunner().invoke(app, ["--debug", *args])
    assert isinstance(r.exception, ZeroDivisionError)
    assert not (world["w"] / "o9.json").exists()
