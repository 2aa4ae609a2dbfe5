"""Adapting to one video's own 2D (poseda.adapt.footage), on real footage."""
import json

import numpy as np
import pytest
import torch

from poseda.adapt.footage import MAX_SAMPLES, MIN_FRAMES, MIN_SAMPLES, NotAdapted, adapt_to_keypoints, schedule
from poseda.inference import load_lifter

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def clip_keypoints(real_clip, tmp_path_factory):
    """The first 90 frames of Sports2D's demo clip through ``poseda detect``."""
    from poseda.keypoints.detect import detect_keypoints

    path = tmp_path_factory.mktemp("kp") / "clip.keypoints.json"
    detect_keypoints(real_clip, path, max_frames=90)
    return path


def test_the_schedule_grows_with_the_clip_within_bounds():
    """40 samples a tracked frame, 20,000 to 200,000 in all, epochs of at most the source once."""
    assert schedule(10, 8211) == (3, 6667) and 3 * 6667 >= MIN_SAMPLES
    assert schedule(10**6, 8211) == (25, 8000) and 25 * 8000 == MAX_SAMPLES
    assert schedule(1800, 8211) == (9, 8000)  # a minute of one person at 30 frames/s: 72,000 samples


def test_a_clip_is_adapted_to_from_the_bundled_motion(clip_keypoints, tmp_path):
    done = adapt_to_keypoints(clip_keypoints, None, tmp_path / "work", fps=30.0, samples=2000, epochs=1)
    assert done.frames >= MIN_FRAMES and done.epochs == 1 and done.samples == 2000
    assert "source motion: bundled cmu" in done.lines[0]
    rec = json.loads(done.checkpoint.with_suffix(".json").read_text())
    assert rec["adaptation"]["method"] == "gpa_lpa" and rec["adaptation"]["target"] == "clip"
    assert rec["config"]["data"]["source"].startswith("cmu-motion-")
    adapted, _, _ = load_lifter(done.checkpoint)
    base, _, _ = load_lifter("default")
    diff = [float((a - b).abs().max()) for a, b in zip(adapted.state_dict().values(), base.state_dict().values())
            if torch.is_floating_point(a)]
    assert max(diff) > 0 and np.isfinite(diff).all()  # it moved from the bundled lifter, and stayed finite


def test_the_open_lifter_is_adapted_through_the_python_api(clip_keypoints, tmp_path):
    """docs/footage.md, Python: ``poseda.adapt_to_keypoints`` then ``Lifter.load`` of the result."""
    import poseda

    done = poseda.adapt_to_keypoints(clip_keypoints, "open", tmp_path / "work", fps=30.0, samples=1000, epochs=1)
    assert json.loads(done.checkpoint.with_suffix(".json").read_text())["config"]["adapt"]["init"] == "open"
    lifter = poseda.Lifter.load(done.checkpoint)
    doc = json.loads(clip_keypoints.read_text())
    first = min(a["track_id"] for a in doc["annotations"])
    kp = np.array([a["keypoints"] for a in doc["annotations"] if a["track_id"] == first], dtype=float).reshape(-1, 17, 3)
    size = (doc["images"][0]["width"], doc["images"][0]["height"])
    xyz = lifter.lift(kp, image_size=size)
    assert xyz.shape == (len(kp), 16, 3) and np.isfinite(xyz).all()


def test_too_few_frames_are_not_adapted_to(clip_keypoints, tmp_path):
    doc = json.loads(clip_keypoints.read_text())
    keep = {im["id"] for im in doc["images"][:20]}
    doc["images"] = [im for im in doc["images"] if im["id"] in keep]
    doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] in keep]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(doc))
    with pytest.raises(NotAdapted, match=f"fewer than {MIN_FRAMES}: lifted without adapting"):
        adapt_to_keypoints(short, None, tmp_path / "work", fps=30.0)
