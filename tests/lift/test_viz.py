import numpy as np
import pytest
from PIL import Image, ImageSequence

from poseda.errors import PosedaInputError
from poseda.keypoints.options import KeypointReading
from poseda.lift.lifting import lift_file, read_lifted
from poseda.lift.options import LiftOptions
from poseda.lift.viz import render_frame, render_sequence
from tests.lift.helpers import SIZE, untrained_checkpoint, walking, write_coco


@pytest.fixture(scope="module")
def lifted(tmp_path_factory):
    d = tmp_path_factory.mktemp("viz")
    ckpt = untrained_checkpoint(d / "sb")
    write_coco(d / "k.json", walking(12))
    lift_file(LiftOptions(keypoints=d / "k.json", out=d / "o.npz", checkpoint=ckpt, reading=KeypointReading(image_size=SIZE)))
    return read_lifted(d / "o.npz")


def _not_blank(rgb: np.ndarray):
    """Both panels hold drawn strokes in colour (red / blue limbs), not just a white page."""
    rgb = rgb.astype(int)
    w = rgb.shape[1]
    for half in (rgb[:, : w // 2], rgb[:, w // 2 :]):
        red = (half[..., 0] > 150) & (half[..., 2] < 100)
        blue = (half[..., 2] > 120) & (half[..., 0] < 80)
        assert red.sum() > 30 and blue.sum() > 30


def test_png_of_one_frame(lifted, tmp_path):
    path = render_frame(lifted, tmp_path / "f.png", frame=5)
    im = Image.open(path)
    assert im.size == (800, 400)
    _not_blank(np.asarray(im.convert("RGB")))
    with pytest.raises(PosedaInputError, match="frame 99 is not in track 0"):
        render_frame(lifted, tmp_path / "g.png", frame=99)
    with pytest.raises(PosedaInputError, match="no track 3"):
        render_frame(lifted, tmp_path / "g.png", track=3)
    assert not (tmp_path / "g.png").exists()


def test_gif_has_every_frame_and_they_move(lifted, tmp_path):
    path, n = render_sequence(lifted, tmp_path / "s.gif", stride=2)
    assert n == 6
    im = Image.open(path)
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    assert len(frames) == 6 and frames[0].shape == (320, 640, 3)
    _not_blank(frames[0])
    assert np.abs(frames[0].astype(int) - frames[3].astype(int)).sum() > 0


def test_mp4_opens_with_the_right_frame_count(lifted, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path, n = render_sequence(lifted, tmp_path / "s.mp4", max_frames=8, fps=10)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for f in reader]
    assert n == 8 and len(frames) == 8 and tuple(meta["size"]) == (640, 320)
    _not_blank(frames[-1])
    with pytest.raises(PosedaInputError, match=".gif or .mp4"):
        render_sequence(lifted, tmp_path / "s.avi")
