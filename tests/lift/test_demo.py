"""poseda demo: a video in, the 2D, the 3D, BVH and an MP4 out; the multi-person search; bad input."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.keypoints.detect import _people
from poseda.lift.lifting import read_lifted
from tests.lift.helpers import STANDING, render_mannequin, untrained_checkpoint

cv2 = pytest.importorskip("cv2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
pytest.importorskip("mediapipe")


class _Landmarks:
    def __init__(self, lm):
        self.landmark = [type("P", (), dict(x=x, y=y, z=0.0, visibility=1.0))() for x, y in lm]


class FakePose:
    """Finds the brightest solid square left in the image (one per call), like MediaPipe finds one
    person; squares side by side hide each other (it returns nobody when two are in view), as
    MediaPipe's detector does with two people of the same size."""

    def __init__(self, hide_pairs: bool):
        self.hide_pairs, self.calls = hide_pairs, 0

    def process(self, img):
        self.calls += 1
        mask = img[..., 0] > 200
        cols = np.flatnonzero(mask.any(0))
        if cols.size == 0:
            return type("R", (), dict(pose_landmarks=None))()
        groups = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
        if self.hide_pairs and len(groups) > 1:
            return type("R", (), dict(pose_landmarks=None))()
        g = groups[0]
        rows = np.flatnonzero(mask[:, g].any(1))
        h, w = mask.shape
        pts = [((g[0] + (g[-1] - g[0]) * i / 32) / w, (rows[0] + (rows[-1] - rows[0]) * (i % 5) / 4) / h) for i in range(33)]
        return type("R", (), dict(pose_landmarks=_Landmarks(pts)))()


def _squares(xs, w=400, h=200):
    img = np.zeros((h, w, 3), np.uint8)
    for x in xs:
        img[50:150, x:x + 40] = 255
    return img


def test_people_are_found_one_after_another_by_covering_each():
    pose = FakePose(hide_pairs=False)
    found = _people(pose, _squares([30, 170, 320]), 4)
    assert len(found) == 3 and pose.calls == 4  # three people, then one search that finds nobody
    assert np.allclose(sorted(f[:, 0].mean() * 400 for f in found), [49.5, 189.5, 339.5])
    assert len(_people(FakePose(False), _squares([30, 170, 320]), 2)) == 2  # at most max_people


def test_people_hiding_each_other_are_found_in_the_halves():
    pose = FakePose(hide_pairs=True)
    found = _people(pose, _squares([40, 300]), 4)
    assert np.allclose(sorted(f[:, 0].mean() * 400 for f in found), [59.5, 319.5])
    assert _people(FakePose(True), np.zeros((200, 400, 3), np.uint8), 4) == []


def _clip(path, frames=12, size=(480, 640), fps=24):
    w = imageio_ffmpeg.write_frames(str(path), size, fps=fps, macro_block_size=16)
    w.send(None)
    for t in range(frames):
        w.send(np.ascontiguousarray(render_mannequin(STANDING + [3 * t - 15, 0], size=size)))
    w.close()
    return path


def cli(*args):
    return subprocess.run([sys.executable, "-m", "poseda.cli", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, MPLBACKEND="Agg"))


def test_demo_writes_2d_3d_bvh_and_a_video_at_the_clips_rate(tmp_path):
    clip = _clip(tmp_path / "walk.mp4")
    ck = untrained_checkpoint(tmp_path / "sb16", joints="h36m16")
    r = cli("demo", clip, "--detector", "mediapipe", "-o", tmp_path / "out", "-c", ck, "--bvh", "--no-progress", "--max-people", "2")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["walk.3d.json", "walk.bvh", "walk.html", "walk.keypoints.json", "walk.mp4"]
    assert "12 frames at 24 fps" in r.stdout and "smoothing: Savitzky-Golay" in r.stdout and "frames/s" in r.stdout
    assert "quality without 3D truth: bone lengths vary" in r.stdout
    kp = json.loads((out / "walk.keypoints.json").read_text())
    assert kp["fps"] == 24 and kp["image_size"] == [480, 640]
    lifted = read_lifted(out / "walk.3d.json")
    assert lifted.joints == tuple(n for n in lifted.meta["joints"]) and len(lifted) >= 10
    assert lifted.root is not None and lifted.meta["smoothing"]["kind"] == "savgol" and lifted.meta["fps"] == 24
    assert lifted.meta["quality"]["reprojection_placement"] == "the lift's absolute root" and lifted.meta["quality"]["jitter_ms2_median"] >= 0
    cap = cv2.VideoCapture(str(out / "walk.mp4"))
    assert cap.get(cv2.CAP_PROP_FPS) == 24 and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    ok, frame = cap.read()
    assert ok and frame.shape[1] == 480 + 640 and frame.shape[0] == 640  # the video beside a square 3D panel
    assert np.abs(frame[:, :480].astype(int) - render_mannequin(STANDING + [-15, 0])[..., ::-1]).mean() < 12
    r = cli("demo", clip, "--detector", "mediapipe", "-o", tmp_path / "short", "-c", ck, "--no-progress", "--max-frames", "5", "--no-render",
            "--format", "npz", "--smooth", "none")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "short").iterdir()) == ["walk.3d.npz", "walk.html", "walk.keypoints.json"]
    assert read_lifted(tmp_path / "short" / "walk.3d.npz").frame.max() <= 4


def _one_line(r, *needles):
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_bad_videos_are_one_line_and_leave_nothing(tmp_path):
    ck = untrained_checkpoint(tmp_path / "sb16", joints="h36m16")
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00 ftypisom" + os.urandom(2000))
    _one_line(cli("demo", tmp_path / "broken.mp4", "-o", tmp_path / "o1", "-c", ck, "--no-progress"), "broken.mp4")
    empty = tmp_path / "empty.mp4"
    w = imageio_ffmpeg.write_frames(str(empty), (320, 240), fps=10, macro_block_size=16)
    w.send(None)
    for _ in range(5):
        w.send(np.full((240, 320, 3), 180, np.uint8))
    w.close()
    _one_line(cli("demo", empty, "-o", tmp_path / "o2", "-c", ck, "--no-progress"), "empty.mp4", "no person found in 5 frame")
    _one_line(cli("demo", tmp_path / "none.mp4", "-o", tmp_path / "o3", "--no-progress"), "none.mp4")
    (tmp_path / "notes.txt").write_text("hello")
    _one_line(cli("demo", tmp_path / "notes.txt", "-o", tmp_path / "o4", "--no-progress"), "notes.txt", "not a video")
    _one_line(cli("demo", empty, "-o", tmp_path / "o5", "--smooth", "kalman"), "--smooth")
    _one_line(cli("demo", empty, "-o", tmp_path / "o6", "--max-people", "0", "-c", ck, "--no-progress"), "--max-people")
    for k in range(1, 7):
        assert not (tmp_path / f"o{k}").exists()
    with pytest.raises(PosedaInputError, match="cannot be opened"):
        from poseda.keypoints.detect import video_info

        video_info(tmp_path / "broken.mp4")


def test_outputs_are_kept_unless_forced_and_a_failed_stage_leaves_nothing(tmp_path):
    import torch

    from poseda.inference import save_lifter
    from poseda.models import build_lifter
    from poseda.skeleton.layouts import JOINT_SETS

    clip = _clip(tmp_path / "walk.mp4")
    ck = untrained_checkpoint(tmp_path / "sb16", joints="h36m16")
    out = tmp_path / "out"
    out.mkdir()
    (out / "walk.3d.json").write_text("a file of the user's")
    (out / "notes.txt").write_text("kept")
    _one_line(cli("demo", clip, "--detector", "mediapipe", "-o", out, "-c", ck, "--no-progress", "--no-render"), "walk.3d.json", "already exists",
              "--force")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "walk.3d.json"]
    assert (out / "walk.3d.json").read_text() == "a file of the user's"
    r = cli("demo", clip, "--detector", "mediapipe", "-o", out, "-c", ck, "--no-progress", "--no-render", "--force")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "walk.3d.json", "walk.html", "walk.keypoints.json"]
    lifted = read_lifted(out / "walk.3d.json")
    assert lifted.meta["input"]["file"] == "walk.keypoints.json"
    for name in ("walk.3d.json", "walk.keypoints.json", "walk.html"):  # no folder of this machine in any output
        assert str(tmp_path) not in (out / name).read_text(), name
    # the lift stage fails after detection has written the 2D: nothing of the run is left
    m = build_lifter("simple_baseline", JOINT_SETS["h36m16"], width=32)
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(float("nan"))
    save_lifter(tmp_path / "nan", m, "simple_baseline", {"width": 32})
    _one_line(cli("demo", clip, "--detector", "mediapipe", "-o", tmp_path / "fail", "-c", tmp_path / "nan", "--no-progress"), "non-finite")
    assert not (tmp_path / "fail").exists()
    (tmp_path / "fail").mkdir()
    _one_line(cli("demo", clip, "--detector", "mediapipe", "-o", tmp_path / "fail", "-c", tmp_path / "nan", "--no-progress"), "non-finite")
    assert list((tmp_path / "fail").iterdir()) == []


def test_demo_adapts_to_a_real_clip_and_the_adapted_lifter_is_reusable(real_clip, tmp_path):
    out = tmp_path / "out"
    r = cli("demo", real_clip, "-o", out, "--adapt", "--max-frames", "90", "--no-render", "--no-html", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "adapted (gpa_lpa) to the clip's own 2D" in r.stdout and "before adapting, quality" in r.stdout
    assert "after adapting, quality" in r.stdout and "adapt " in r.stdout.splitlines()[-1]
    names = sorted(p.name for p in out.iterdir())
    assert "sports2d_demo-adapted.json" in names and any(n.startswith("sports2d_demo-adapted.") and n.endswith(".safetensors")
                                                          for n in names)
    r = cli("lift", out / "sports2d_demo.keypoints.json", "-c", out / "sports2d_demo-adapted", "-o", tmp_path / "again.json")
    assert r.returncode == 0, r.stderr
    assert read_lifted(tmp_path / "again.json").meta["model"]["adapted_to"] == "clip"


def test_a_failed_or_worse_adaptation_keeps_the_unadapted_lift(real_clip, tmp_path):
    from poseda.adapt.footage import Adaptation, NotAdapted
    from poseda.lift.demo import run_demo
    from poseda.lift.options import DemoOptions

    def diverges(*args, **kwargs):
        raise NotAdapted("--adapt", "stopped: the training loss became nan in epoch 1")

    res = run_demo(DemoOptions(video=real_clip, out=tmp_path / "a", max_frames=40, render=False, html=False, progress=False), diverges)
    assert "not adapted: stopped: the training loss became nan in epoch 1" in res.report and "adapted" not in res.files
    assert not list((tmp_path / "a").glob("*adapted*"))

    def untrained(keypoints, checkpoint, work, fps, **kwargs):  # an 'adaptation' that returns a random lifter
        return Adaptation(untrained_checkpoint(work / "random", name="videopose3d", joints="h36m16"), 40, 1, 1, 0.0, ["adapted"])

    res = run_demo(DemoOptions(video=real_clip, out=tmp_path / "b", max_frames=40, render=False, html=False, progress=False), untrained)
    assert any(line.startswith("kept the un-adapted lift: adapting made") for line in res.report), res.report
    assert res.lifted.meta["model"]["checkpoint"] == "bundled:default" and res.files["adapted"]
