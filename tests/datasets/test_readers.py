"""Readers of the upstream formats: malformed input gives one clear PosedaInputError."""
import io
import json

import numpy as np
import pytest

from poseda.datasets.bvh import bvh_fk, read_bvh
from poseda.datasets.calibration import read_h36m_cameras, read_humaneva_extrinsics
from poseda.datasets.expmap import read_cmu_expmap, read_h36m_expmap
from poseda.datasets.humaneva import read_humaneva
from poseda.datasets.skeleton_template import load_skeleton_template
from poseda.errors import PosedaInputError

ROW = ",".join(["0.1"] * 99)


def test_expmap_good_and_bad():
    assert read_h36m_expmap(ROW + "\n" + ROW + "\n", "f.txt").shape == (2, 99)
    with pytest.raises(PosedaInputError, match=r"f.txt: line 2 has 98 columns, expected 99"):
        read_h36m_expmap(ROW + "\n" + ",".join(["0.1"] * 98), "f.txt")
    with pytest.raises(PosedaInputError, match=r"line 1, column 5: value is nan"):
        read_h36m_expmap(ROW.replace("0.1,0.1,0.1,0.1,0.1", "0.1,0.1,0.1,0.1,nan", 1), "f.txt")
    with pytest.raises(PosedaInputError, match="line 1: a value is not a number"):
        read_h36m_expmap(ROW.replace("0.1", "abc", 1), "f.txt")
    with pytest.raises(PosedaInputError, match="empty file"):
        read_h36m_expmap("\n\n", "f.txt")
    with pytest.raises(PosedaInputError, match="not a text file"):
        read_cmu_expmap(b"\xff\xfe\x00garbage", "f.txt")
    with pytest.raises(PosedaInputError, match="expected 117"):
        read_cmu_expmap(ROW, "c.txt")


BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Leg
  {
    OFFSET 0 -40 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 -40 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.033333
0 90 0 0 0 0 0 0 0
1 90 0 90 0 0 0 0 0
"""


def test_bvh_by_hand():
    b = read_bvh(BVH, "t.bvh")
    assert b.names == ["Hips", "Leg"] and b.parents == [-1, 0]
    p = bvh_fk(b)
    np.testing.assert_allclose(p[0], [[0, 90, 0], [0, 50, 0]], atol=1e-9)
    # frame 1: root rotated 90 degrees about z: the leg (down, -y) swings to +x
    np.testing.assert_allclose(p[1], [[1, 90, 0], [41, 90, 0]], atol=1e-9)
    np.testing.assert_allclose(b.end_sites[1], [0, -40, 0])


@pytest.mark.parametrize("text,msg", [
    (BVH.split("MOTION")[0], "no MOTION section"),
    (BVH.replace("Frames: 2", "Frames: 3"), "header says 3 frames but 2 follow"),
    (BVH.replace("0 0 0 0 0 0\n1 90", "0 0 0 0 0\n1 90"), "line 1 has 8 columns, expected 9"),
    (BVH.replace("CHANNELS 3 Zrotation", "CHANNELS 3 Wrotation"), "malformed HIERARCHY"),
    (BVH.replace("  }\n}\nMOTION", "  }\nMOTION"), "unbalanced braces"),
    (BVH.replace("1 90 0 90", "1 nan 0 90"), "NaN or infinite"),
])
def test_bvh_bad_input(text, msg):
    with pytest.raises(PosedaInputError, match=msg) as e:
        read_bvh(text, "bad.bvh")
    assert str(e.value).startswith("bad.bvh: ")


def test_calibration_files(tmp_path, data_root):
    cams = read_h36m_cameras(data_root / "cameras/h36m.json")
    assert sorted(cams) == ["S1", "S11", "S5", "S6", "S7", "S8", "S9"]
    c = cams["S1"]
    assert c["intrinsics"].shape == (4, 4) and c["distortion"].shape == (4, 5)
    # cameras about 1.5 m high, 4-6 m from the capture-area centre
    assert np.all(np.abs(c["centre"][:, 2] - 1.55) < 0.2)
    assert np.all(np.linalg.norm(c["centre"][:, :2] - c["area_centre"][:2], axis=1) > 3.5)
    he = read_humaneva_extrinsics(data_root / "cameras/humaneva-i.json")
    assert len(he["S1"]) == 3
    d = json.loads((data_root / "cameras/h36m.json").read_text())
    d["intrinsics"][0]["focal_length_px"] = [1145.0]
    bad = tmp_path / "h36m.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(PosedaInputError, match="focal_length_px' must be 2 finite numbers"):
        read_h36m_cameras(bad)
    bad.write_text("{ not json")
    with pytest.raises(PosedaInputError, match="not valid JSON"):
        read_h36m_cameras(bad)


def test_skeleton_template_errors(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"parents": [-1, 0], "offsets_in_parent_frame": [[0, 0, 0]]}))
    with pytest.raises(PosedaInputError, match=r"offsets have shape \(1, 3\), expected \(2, 3\)"):
        load_skeleton_template(p, 1.0)
    with pytest.raises(PosedaInputError, match="file not found"):
        load_skeleton_template(tmp_path / "none.json", 1.0)


def _save_obj(path, **arrays):
    np.savez(path, **{k: np.array(v, dtype=object) if isinstance(v, dict) else v for k, v in arrays.items()})


def test_humaneva_npz_good_and_bad(tmp_path):
    p3d = {"Train/S1": {"Walking 1 chunk0": np.zeros((4, 15, 3), np.float32)}}
    p2d = {"Train/S1": {"Walking 1 chunk0": [np.zeros((4, 15, 2), np.float32)] * 3}}
    a, b = tmp_path / "3d.npz", tmp_path / "2d.npz"
    np.savez(a, positions_3d=np.array(p3d, dtype=object))
    np.savez(b, positions_2d=np.array(p2d, dtype=object))
    he = read_humaneva(a, b)
    assert he.positions_3d["Train/S1"]["Walking 1 chunk0"].shape == (4, 15, 3)
    # truncated file
    t = tmp_path / "trunc.npz"
    t.write_bytes(a.read_bytes()[: len(a.read_bytes()) // 2])
    with pytest.raises(PosedaInputError, match="trunc.npz: not an npz file"):
        read_humaneva(t, b)
    # wrong joint count
    np.savez(a, positions_3d=np.array({"Train/S1": {"Walking 1 chunk0": np.zeros((4, 14, 3))}}, dtype=object))
    with pytest.raises(PosedaInputError, match=r"shape \(4, 14, 3\), expected \[T, 15, 3\]"):
        read_humaneva(a, b)
    # NaN
    bad = np.zeros((4, 15, 3))
    bad[2, 3, 1] = np.nan
    np.savez(a, positions_3d=np.array({"Train/S1": {"Walking 1 chunk0": bad}}, dtype=object))
    with pytest.raises(PosedaInputError, match="NaN"):
        read_humaneva(a, b)
    # missing key
    np.savez(a, other=np.zeros(3))
    with pytest.raises(PosedaInputError, match="no array 'positions_3d'"):
        read_humaneva(a, b)


def test_npz_objects_are_not_unpickled_blindly(tmp_path):
    import os
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": ()})
    buf.write(pickle.dumps(Evil()))
    import zipfile

    p = tmp_path / "evil.npz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("positions_3d.npy", buf.getvalue())
    with pytest.raises(PosedaInputError, match="refusing to load posix.system|refusing to load os.system|refusing"):
        read_humaneva(p, p)
