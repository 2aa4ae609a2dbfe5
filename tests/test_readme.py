"""The README is the front door: at most 12 KB, and its Python recipe runs exactly as written."""
import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_is_at_most_12_kb():
    assert README.stat().st_size <= 12 * 1024


def test_the_python_recipe_runs_as_written(tmp_path, monkeypatch, real_clip):
    pytest.importorskip("onnxruntime")
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    cv2 = pytest.importorskip("cv2")
    from poseda.keypoints.formats import COCO17, keypoints_from_h36m
    from tests.lift.helpers import walking

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    recipe = next(b for b in blocks if "from poseda import Lifter" in b)
    assert len(recipe.strip().splitlines()) <= 5
    monkeypatch.chdir(tmp_path)
    cap = cv2.VideoCapture(str(real_clip))  # the first 20 frames of a real clip: a man on a block
    w = imageio_ffmpeg.write_frames(str(tmp_path / "my_video.mp4"), (1768, 994), fps=30, macro_block_size=2)
    w.send(None)
    for _ in range(20):
        w.send(np.ascontiguousarray(cv2.cvtColor(cap.read()[1], cv2.COLOR_BGR2RGB)))
    w.close()
    scope = {"keypoints": keypoints_from_h36m(COCO17, walking(20) * 2)}  # a person walking in a 1920x1080 picture
    exec(compile(recipe, "README.md", "exec"), scope)
    assert scope["xyz"].shape == (20, 16, 3) and np.isfinite(scope["xyz"]).all()
    people = scope["people"]
    assert len(people) >= 18 and np.isfinite(people.joints3d).all()
    assert (tmp_path / "out" / "my_video.mp4").is_file() and (tmp_path / "out" / "my_video.3d.json").is_file()
