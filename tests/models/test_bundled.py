"""The bundled lifter: small, documented, loadable by name and used when no checkpoint is given."""
import json
from pathlib import Path

import numpy as np

from poseda.inference import load_lifter
from poseda.models.bundled import BUNDLED, FOLDER, bundled_stem, resolve_checkpoint
from poseda.models.checkpoint import load_record


def test_the_default_lifter_is_small_and_says_what_it_saw_and_its_licences():
    files = [p for p in FOLDER.iterdir() if p.name.startswith(BUNDLED["default"])]
    assert {p.suffix for p in files} == {".json", ".safetensors"}
    assert sum(p.stat().st_size for p in files) <= 10_000_000
    rec = load_record("default")
    assert rec["model"]["name"] == "videopose3d" and rec["model"]["receptive_field"] == 27
    assert rec["layout"]["name"] == "h36m16" and "optimizer" not in rec
    info = rec["bundled"]
    assert any("Human3.6M" in x for x in info["licences"]) and any("CC BY-NC" in x for x in info["licences"])
    assert info["made_by"][1].startswith("poseda adapt -c footage -m gpa -t bandai-wild")
    model, rec, layout = load_lifter("default")
    assert model.receptive_field == 27 and layout.num_joints == 16


def test_the_open_lifter_saw_only_cmu_motion_and_says_it_may_be_used_commercially():
    files = [p for p in FOLDER.iterdir() if p.name.startswith(BUNDLED["open"])]
    assert {p.suffix for p in files} == {".json", ".safetensors"}
    assert sum(p.stat().st_size for p in files) <= 10_000_000
    rec = load_record("open")
    default = load_record("default")
    assert rec["model"] == default["model"] and rec["layout"] == default["layout"]  # the same network, other data
    assert rec["source"] == "cmu-handheld" and rec["config"]["data"]["source"] == "cmu-handheld"
    assert not rec.get("adaptation") and rec["config"]["train"]["init"] is None  # from scratch, no target's 2D
    info = rec["bundled"]
    text = json.dumps(info)
    assert "commercial use" in text and "CMU" in text and "Human3.6M" not in text and "Bandai" not in text
    assert info["made_by"] == ["poseda data prepare -d cmu-handheld", "poseda train -c open run.out=runs",
                               "python scripts/bundle_lifter.py runs/open/best --name open"]
    from omegaconf import OmegaConf

    from poseda.config import load_config

    made = OmegaConf.to_container(load_config("open"))  # the config named in made_by is the one the record holds
    quiet = {"progress": None}  # the progress bar was off when it was made: nothing else differs
    assert made["model"] == rec["config"]["model"] and made["train"] | quiet == rec["config"]["train"] | quiet
    assert made["data"] | {"cache": None} == rec["config"]["data"] | {"cache": None}
    model, _, layout = load_lifter("open")
    assert model.receptive_field == 27 and layout.num_joints == 16


def test_names_resolve_to_the_package_unless_a_file_of_that_name_is_here(tmp_path, monkeypatch):
    assert resolve_checkpoint(None) == bundled_stem("default") == resolve_checkpoint("default")
    assert resolve_checkpoint("open") == bundled_stem("open") != bundled_stem("default")
    assert resolve_checkpoint("runs/x/best") == Path("runs/x/best")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default.json").write_text(json.dumps({}))
    assert resolve_checkpoint("default") == Path("default")


def test_lift_without_a_checkpoint_uses_the_bundled_lifter(tmp_path):
    import subprocess
    import sys

    from poseda.lift.lifting import read_lifted
    from tests.lift.helpers import walking, write_coco

    write_coco(tmp_path / "k.json", walking(30))
    r = subprocess.run([sys.executable, "-m", "poseda.cli", "lift", str(tmp_path / "k.json"), "-o", str(tmp_path / "o.json"),
                        "--image-size", "480x640"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "videopose3d, 27 frame(s)" in r.stdout
    lifted = read_lifted(tmp_path / "o.json")
    assert lifted.meta["model"]["checkpoint"] == "bundled:default"  # no folder of this machine in the file
    # a standing person is taller than wide and upright (y down in the camera frame: head above the ankles)
    p = lifted.joints3d.mean(0)
    names = list(lifted.joints)
    assert p[names.index("Head"), 1] < p[names.index("Pelvis"), 1] < p[names.index("RAnkle"), 1]
    height = p[names.index("RAnkle"), 1] - p[names.index("Head"), 1]
    assert 1.2 < height < 2.0 and np.isfinite(lifted.joints3d).all()


def test_adapt_starts_from_the_bundled_lifter_by_name(tiny_target, tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "poseda.cli", "adapt", "default", "-t", "tiny-target", "-m", "gpa",
                        f"data.cache={tiny_target}", "data.source=tiny", "data.val_percent=50", f"run.out={tmp_path}",
                        "train.epochs=1", "data.samples_per_epoch=256", "train.batch_size=64", "train.progress=false",
                        "train.val_samples=200", "eval.batch_size=1024"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    run = tmp_path / "default-gpa-tiny-target"
    rec = load_record(run / "best")
    assert rec["model"]["receptive_field"] == 27 and rec["config"]["adapt"]["init"] == "default"
