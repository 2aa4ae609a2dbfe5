"""A 2D-only target domain from keypoint files: what it holds, what it refuses, and adapting to it."""
import json
import shutil

import numpy as np
import pytest

from poseda.data.cache import load_domain
from poseda.domains.footage import FootageFile, build_footage
from poseda.errors import PosedaInputError
from poseda.keypoints.options import KeypointReading
from poseda.skeleton.layouts import CANONICAL
from tests.lift.helpers import walking, write_coco


def _two_files(tmp_path):
    a = write_coco(tmp_path / "a.json", walking(40), frames=np.arange(40))
    # the second clip misses frames 10-12 (no detection) and its person is low-scored at the right wrist
    frames = np.r_[0:10, 13:30]
    scores = np.ones((len(frames), 17))
    scores[::2, 10] = 0.1  # COCO right wrist
    b = write_coco(tmp_path / "b.json", walking(30, start=(5.0, 20.0))[frames], frames=frames, scores=scores)
    return a, b


def test_footage_domain_holds_2d_and_each_files_camera_only(tmp_path):
    a, b = _two_files(tmp_path)
    cache = tmp_path / "cache"
    folder, rep = build_footage("mine", [FootageFile(a, focal=800.0, image_size=(480, 640)),
                                         FootageFile(b, fov_deg=60.0, image_size=(640, 480))], cache)
    d = load_domain("mine", cache)
    assert d.role == "target" and not d.has_3d and rep.files == 2 and rep.views == 2
    k = d.adaptation()
    # only detected frames are kept: 40 + 27
    assert len(k) == rep.frames == 67 and k.layout.joints == CANONICAL.joints
    np.testing.assert_array_equal(np.unique(k.view), [0, 1])
    np.testing.assert_allclose(k.intrinsics[k.view == 0][0], [800, 800, 240, 320])
    f60 = 640 / (2 * np.tan(np.radians(30)))
    np.testing.assert_allclose(k.intrinsics[k.view == 1][0], [f60, f60, 320, 240])
    np.testing.assert_array_equal(k.image_size[k.view == 1][0], [640, 480])
    # the pelvis is the hips' midpoint of the COCO file; the low-scored wrists were filled in time
    lhip, rhip = CANONICAL.index("LHip"), CANONICAL.index("RHip")
    np.testing.assert_allclose(k.joints2d[:, 0], (k.joints2d[:, lhip] + k.joints2d[:, rhip]) / 2, atol=1e-3)
    assert rep.filled_joints > 0 and any("RWrist" in line for line in rep.lines)
    assert k.protocol["2d"].startswith("keypoint files: COCO")
    with pytest.raises(PosedaInputError, match="has no 3D .*no evaluation split"):
        d.evaluation()
    with pytest.raises(PosedaInputError, match="has no 3D"):
        d.oracle_training()
    # the domain-gap table has its 2D quantities and '-' for what needs 3D or extrinsics
    from poseda.domains.stats import domain_stats, stats_table

    row = stats_table([domain_stats(d)]).splitlines()[-1].split("|")[1:-1]
    assert row[0].strip() == "mine" and "/" in row[4] and [c.strip() for c in row[-3:]] == ["-", "-", "-"]
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["cameras"][1]["horizontal_fov_deg"] == pytest.approx(60.0) and meta["has_3d"] is False


def test_footage_refuses_bad_input_and_writes_nothing(tmp_path, tiny_cache):
    a, _ = _two_files(tmp_path)
    cache = tmp_path / "cache"
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(PosedaInputError, match="bad.json"):
        build_footage("mine", [a, bad], cache, KeypointReading(image_size=(480, 640)))
    assert not (cache / "mine").exists()
    with pytest.raises(PosedaInputError, match="does not say the image size"):
        build_footage("mine", [a], cache)
    with pytest.raises(PosedaInputError, match="built-in domain name"):
        build_footage("h36m", [a], cache, KeypointReading(image_size=(480, 640)))
    with pytest.raises(PosedaInputError, match="names a prepared domain with 3D"):
        build_footage("tiny", [a], tiny_cache, KeypointReading(image_size=(480, 640)))
    with pytest.raises(PosedaInputError, match="--min-score: must be between 0 and 1, got -0.1"):
        build_footage("mine", [a], cache, KeypointReading(image_size=(480, 640), min_score=-0.1))
    with pytest.raises(PosedaInputError, match="--max-gap: must be 0 or more frames"):
        build_footage("mine", [a], cache, KeypointReading(image_size=(480, 640), max_gap=-2))
    assert not (cache / "mine").exists()
    # a footage domain can be rebuilt under its own name
    build_footage("mine", [a], cache, KeypointReading(image_size=(480, 640)))
    _, rep = build_footage("mine", [a, a], cache, KeypointReading(image_size=(480, 640)))
    assert len(load_domain("mine", cache).adaptation()) == rep.frames == 80


@pytest.mark.data
def test_adapting_to_footage_through_the_cli(tiny_target, tmp_path):
    """Footage made from the tiny target's own 2D (converted to COCO-17), then poseda adapt to it:
    no evaluation is attempted, the adapted checkpoint is written and lifts."""
    import subprocess
    import sys

    from poseda.adapt.adapter import Adapter, adapt_config
    from poseda.config import load_config
    from poseda.train.engine import Trainer
    from tests.train.conftest import tiny_overrides

    cache = tmp_path / "cache"
    shutil.copytree(tiny_target / "tiny", cache / "tiny")
    src = tmp_path / "src"
    Trainer(load_config("simple_baseline", tiny_overrides(cache, src, **{"train.epochs": 1}))).fit()
    k = load_domain("tiny-target", tiny_target).adaptation()
    assert k.layout.name == "h36m16"  # Bandai has no nose: put one between thorax and head for the COCO file
    nose = CANONICAL.index("Neck")
    p17 = np.insert(k.joints2d, nose, (k.joints2d[:, nose - 1] + k.joints2d[:, nose]) / 2, axis=1)
    files = []
    for v in np.unique(k.view)[:6]:
        rows = k.view == v
        files.append(write_coco(tmp_path / f"view{v}.json", p17[rows], frames=np.arange(rows.sum())))
    fx, fy, cx, cy = k.intrinsics[0]
    w, h = k.image_size[0].astype(int)
    run = [sys.executable, "-m", "poseda.cli"]
    r = subprocess.run([*run, "data", "footage", "my-clips", *map(str, files), "--image-size", f"{w}x{h}", "--focal", str(fx),
                        "--center", f"{cx},{cy}", "--cache", str(cache)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "no 3D" in r.stdout and "6 track(s) from 6 file(s)" in r.stdout
    r = subprocess.run([*run, "adapt", str(src / "best"), "-t", "my-clips", "-m", "gpa_lpa", f"data.cache={cache}",
                        f"run.dir={tmp_path / 'ad'}", "train.progress=false", "train.epochs=1", "data.samples_per_epoch=2048",
                        "train.batch_size=128", "lpa.hidden=32", "train.val_samples=1000"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "no evaluation: my-clips has no 3D" in r.stdout and (tmp_path / "ad" / "best.json").is_file()
    rec = json.loads((tmp_path / "ad" / "best.json").read_text())
    assert rec["adaptation"]["target"] == "my-clips" and rec["adaptation"]["method"] == "gpa_lpa"
    r = subprocess.run([*run, "lift", str(files[0]), "-c", str(tmp_path / "ad" / "best"), "-o", str(tmp_path / "out.npz"),
                        "--image-size", f"{w}x{h}", "--focal", str(fx)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    from poseda.lift.lifting import read_lifted

    meta = read_lifted(tmp_path / "out.npz").meta["model"]
    assert meta["adapted_to"] == "my-clips" and meta["adaptation"] == "gpa_lpa"
    # the oracle needs the target's 3D: refused in one line
    cfg = adapt_config(src / "best", "my-clips", "oracle", [f"data.cache={cache}", f"run.dir={tmp_path / 'or'}",
                                                           "train.progress=false"])
    with pytest.raises(PosedaInputError, match="my-clips: has no 3D"):
        Adapter(cfg)
