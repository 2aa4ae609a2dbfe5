import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.keypoints.detect import detect_keypoints
from poseda.keypoints.readers import read_keypoints
from poseda.skeleton.layouts import H36M17
from tests.lift.helpers import SIZE, STANDING, render_mannequin

pytest.importorskip("mediapipe")
cv2 = pytest.importorskip("cv2")

LIMBS = H36M17.indices([s + p for s in "LR" for p in ("Hip", "Knee", "Shoulder", "Elbow")])


def _write(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def test_finds_the_drawn_person_where_it_was_drawn(tmp_path):
    """MediaPipe's bundled model on a flat-coloured mannequin: hips, knees, shoulders and elbows
    land within 40 px of where they were drawn (the person is about 400 px tall)."""
    img = _write(tmp_path / "person.png", render_mannequin(STANDING))
    n, found = detect_keypoints(img, tmp_path / "kp.json", detector="mediapipe")
    assert (n, found) == (1, 1)
    det = read_keypoints(tmp_path / "kp.json")
    assert det.file_format == "mediapipe" and det.image_size == SIZE and len(det) == 1
    kp, sc = det.fmt.to_layout(det.keypoints, det.scores)
    err = np.linalg.norm(kp[0, LIMBS] - STANDING[LIMBS], axis=-1)
    assert err.max() < 40 and (sc[0, LIMBS] > 0.5).all()


def test_video_and_image_folder_and_no_person(tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    frames = [render_mannequin(STANDING + [4 * t - 12, 0]) for t in range(6)]
    w = imageio_ffmpeg.write_frames(str(tmp_path / "clip.mp4"), SIZE, fps=10, macro_block_size=16)
    w.send(None)
    for f in frames:
        w.send(np.ascontiguousarray(f))
    w.close()
    n, found = detect_keypoints(tmp_path / "clip.mp4", tmp_path / "v.json", detector="mediapipe")
    det = read_keypoints(tmp_path / "v.json")
    assert n == 6 and found >= 5 and det.frame.max() == 5
    (tmp_path / "imgs").mkdir()
    for t in (3, 7):
        _write(tmp_path / "imgs" / f"frame_{t:04d}.jpg", frames[t % 6])
    n, found = detect_keypoints(tmp_path / "imgs", tmp_path / "f.json", detector="mediapipe")
    assert n == 2 and sorted(read_keypoints(tmp_path / "f.json").frame.tolist()) == [3, 7]
    blank = _write(tmp_path / "blank.png", np.full((SIZE[1], SIZE[0], 3), 200, np.uint8))
    with pytest.raises(PosedaInputError, match="no person found in 1 frame"):
        detect_keypoints(blank, tmp_path / "none.json")
    assert not (tmp_path / "none.json").exists()
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(PosedaInputError, match="cannot be read as an image"):
        detect_keypoints(tmp_path / "broken.jpg", tmp_path / "none.json")
