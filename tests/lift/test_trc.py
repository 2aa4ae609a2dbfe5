"""OpenSim's TRC marker files, read back by a parser written here from the format's description
(OpenSim's documentation of ``.trc``): header keys and values, marker names each over three
columns, X/Y/Z labels, one line per frame with empty fields for unseen markers."""
import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.lift.lifting import Lifted, write_lifted
from poseda.lift.trc import WORLD_TO_OPENSIM, trc_text


def read_trc(text: str) -> dict:
    """The format as described: line 1 ``PathFileType 4 (X/Y/Z) name``; line 2 the keys; line 3
    their values; line 4 ``Frame# Time`` and a name every third column; line 5 ``X1 Y1 Z1 ...``;
    then rows (after an optional blank line) of frame number, time and 3 values per marker."""
    lines = text.split("\n")
    first = lines[0].split("\t")
    assert first[:3] == ["PathFileType", "4", "(X/Y/Z)"]
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t")))
    names_row = lines[3].split("\t")
    assert names_row[:2] == ["Frame#", "Time"]
    markers = [names_row[2 + 3 * i] for i in range((len(names_row) - 2 + 2) // 3) if 2 + 3 * i < len(names_row)]
    markers = [m for m in markers if m]
    labels = lines[4].split("\t")[2:]
    assert labels == [f"{a}{i}" for i in range(1, len(markers) + 1) for a in "XYZ"]
    rows = [ln.split("\t") for ln in lines[5:] if ln.strip()]
    frames = np.array([int(r[0]) for r in rows])
    times = np.array([float(r[1]) for r in rows])
    values = np.array([[float(v) if v != "" else np.nan for v in r[2:]] for r in rows]).reshape(len(rows), len(markers), 3)
    assert int(header["NumFrames"]) == len(rows) and int(header["NumMarkers"]) == len(markers)
    return {"header": header, "markers": markers, "frames": frames, "time": times, "xyz": values, "name": first[3]}


def _lifted(people=2, frames=5):
    rng = np.random.default_rng(0)
    joints = ("Pelvis", "LAnkle", "RAnkle", "Head")
    n = people * frames
    world = rng.normal(size=(n, 4, 3))
    track = np.repeat(np.arange(people), frames)
    frame = np.tile(np.arange(frames), people) + 10 * track  # the second person appears later
    return Lifted(joints, track, np.zeros(n, int), frame, np.ones(n, bool), rng.normal(size=(n, 4, 3)),
                  rng.normal(size=(n, 4, 2)), np.zeros((n, 4), bool), None, {}, world, np.zeros((n, 2), bool))


def test_one_file_per_person_in_opensims_axes(tmp_path):
    lifted = _lifted()
    write_lifted(lifted, tmp_path / "m.trc", fps=25.0)
    for tr in range(2):
        t = read_trc((tmp_path / f"m-person{tr}.trc").read_text())
        assert t["markers"] == ["Pelvis", "LAnkle", "RAnkle", "Head"] and t["header"]["Units"] == "m"
        assert float(t["header"]["DataRate"]) == 25.0 and t["name"] == f"m-person{tr}.trc"
        r = lifted.track == tr
        np.testing.assert_array_equal(t["frames"], lifted.frame[r] + 1)
        np.testing.assert_allclose(t["time"], lifted.frame[r] / 25.0, atol=1e-5)
        # OpenSim: Y up (the world's z), X forward (the world's y), Z right (the world's x)
        w = lifted.world[r]
        np.testing.assert_allclose(t["xyz"][..., 1], w[..., 2], atol=1e-5)
        np.testing.assert_allclose(t["xyz"][..., 0], w[..., 1], atol=1e-5)
        np.testing.assert_allclose(t["xyz"][..., 2], w[..., 0], atol=1e-5)
    assert np.linalg.det(WORLD_TO_OPENSIM) == pytest.approx(1.0)  # a rotation: left stays left


def test_everyone_in_one_file_with_gaps(tmp_path):
    lifted = _lifted()
    write_lifted(lifted, tmp_path / "all.trc", fps=30.0, together=True)
    t = read_trc((tmp_path / "all.trc").read_text())
    assert t["markers"][:4] == ["P0_Pelvis", "P0_LAnkle", "P0_RAnkle", "P0_Head"] and len(t["markers"]) == 8
    np.testing.assert_array_equal(t["frames"], np.unique(lifted.frame) + 1)
    # person 1 is unseen in person 0's frames: empty fields, read as NaN
    assert np.isnan(t["xyz"][:5, 4:]).all() and np.isfinite(t["xyz"][:5, :4]).all()
    np.testing.assert_allclose(t["xyz"][5:, 4:], lifted.world[lifted.track == 1] @ WORLD_TO_OPENSIM.T, atol=1e-5)


def test_trc_needs_positions_and_finite_values(tmp_path):
    lifted = _lifted()
    lifted.world, lifted.contact = None, None
    with pytest.raises(PosedaInputError, match="--world"):
        write_lifted(lifted, tmp_path / "m.trc", fps=30.0)
    assert not list(tmp_path.iterdir())
    with pytest.raises(PosedaInputError, match="finite"):
        trc_text(np.full((2, 1, 3), np.inf), ["a"], np.arange(2), 30.0, "x.trc")
