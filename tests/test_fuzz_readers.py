"""Property-based tests (Hypothesis): random bytes, random JSON and valid files with one field
replaced by random JSON go into every reader. A reader either returns or raises PosedaInputError,
one line naming the file; nothing else escapes."""
import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poseda.errors import PosedaInputError

from .lift.helpers import untrained_checkpoint, walking, write_coco

# 40 examples per reader in CI; POSEDA_FUZZ_EXAMPLES=1000 for a longer search
SETTINGS = settings(max_examples=int(os.environ.get("POSEDA_FUZZ_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25)
random_bytes = st.binary(max_size=400)


def _only_input_errors(call, *args):
    """Run ``call(*args)``: a result or a one-line PosedaInputError, never another exception."""
    try:
        call(*args)
    except PosedaInputError as e:
        assert "\n" not in str(e), str(e)


def _dump(obj) -> str:
    return json.dumps(obj, allow_nan=True)


def _with_field(doc, path, value):
    """A deep copy of ``doc`` with the item at ``path`` (keys and indices) replaced by ``value``."""
    doc = json.loads(_dump(doc))
    if not path:
        return value
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


def _paths(doc, prefix=()):
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out += _paths(v, (*prefix, i))
    return out


def _mutated(doc):
    """A strategy: ``doc`` with one of its items (or the whole) replaced by random JSON."""
    paths = _paths(doc)
    return st.tuples(st.sampled_from(paths), json_values).map(lambda pv: _with_field(doc, *pv))


# -- keypoint files ---------------------------------------------------------------------------------
def _coco_doc():
    from .lift.helpers import coco_from_h36m

    p = walking(2)
    return [{"image_id": i, "category_id": 1, "keypoints": np.concatenate([coco_from_h36m(q), np.ones((17, 1))], 1).ravel().tolist(),
             "track_id": 0} for i, q in enumerate(p)]


MEDIAPIPE = {"format": "mediapipe-pose-33", "image_size": [480, 640], "coordinates": "normalized",
             "frames": [{"frame": 0, "people": [{"id": 0, "landmarks": [[0.5, 0.5, 0.0, 0.9]] * 33}]}]}
OPENPOSE = {"people": [{"person_id": [-1], "pose_keypoints_2d": [100.0, 200.0, 0.9] * 25}]}
COCO_DICT = {"images": [{"id": 1, "file_name": "f_000001.jpg", "width": 640, "height": 480}],
             "annotations": [{"image_id": 1, "category_id": 1, "keypoints": [100.0, 100.0, 2.0] * 17}]}


@pytest.mark.parametrize("doc", [_coco_doc(), MEDIAPIPE, OPENPOSE, COCO_DICT], ids=["coco", "mediapipe", "openpose", "coco-dict"])
@SETTINGS
@given(data=st.data())
def test_keypoint_json_with_a_field_replaced(tmp_path, doc, data):
    from poseda.keypoints.readers import read_keypoints
    from poseda.keypoints.tracks import build_tracks
    from poseda.skeleton.layouts import H36M17

    mutated = data.draw(_mutated(doc))
    f = tmp_path / "k.json"
    f.write_text(_dump(mutated))

    def read_and_track():
        det = read_keypoints(f)
        build_tracks(det, H36M17)

    _only_input_errors(read_and_track)


@SETTINGS
@given(content=random_bytes, suffix=st.sampled_from([".json", ".npz", ".csv"]))
def test_keypoint_files_of_random_bytes(tmp_path, content, suffix):
    from poseda.keypoints.readers import read_keypoints

    f = tmp_path / f"k{suffix}"
    f.write_bytes(content)
    _only_input_errors(lambda: read_keypoints(f))


@SETTINGS
@given(doc=json_values)
def test_keypoint_json_of_random_structure(tmp_path, doc):
    from poseda.keypoints.readers import read_keypoints

    f = tmp_path / "k.json"
    f.write_text(_dump(doc))
    _only_input_errors(lambda: read_keypoints(f))


arrays = st.one_of(
    st.builds(lambda shape, fill: np.full(shape, fill), st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple),
              st.floats(allow_nan=True, allow_infinity=True)),
    st.builds(lambda s: np.array(s), st.lists(st.text(max_size=3), max_size=4)),
    st.just(np.array([{"x": 1}], dtype=object)),
)


@SETTINGS
@given(keypoints=arrays, scores=st.none() | arrays, frames=st.none() | arrays, size=st.none() | arrays)
def test_keypoint_npz_of_random_arrays(tmp_path, keypoints, scores, frames, size):
    from poseda.keypoints.readers import read_keypoints

    f = tmp_path / "k.npz"
    extra = {k: v for k, v in {"scores": scores, "frames": frames, "image_size": size}.items() if v is not None}
    np.savez(f, keypoints=keypoints, **extra)
    _only_input_errors(lambda: read_keypoints(f))


@SETTINGS
@given(rows=st.lists(st.lists(st.sampled_from(["1", "-2.5", "nan", "inf", "", "x", "1e400", "7"]), max_size=40), max_size=5),
       header=st.sampled_from(["frame,person", "frame", "", "person"]))
def test_keypoint_csv_of_random_cells(tmp_path, rows, header):
    from poseda.keypoints.readers import read_keypoints

    cols = [header] if header else []
    text = ",".join(cols + [f"v{i}" for i in range(34)]) + "\n" + "\n".join(",".join(r) for r in rows)
    f = tmp_path / "k.csv"
    f.write_text(text)
    _only_input_errors(lambda: read_keypoints(f))


# -- checkpoints, lift outputs, domains, configs, presets, rigs ----------------------------------------
@pytest.fixture(scope="module")
def checkpoint_record(tmp_path_factory):
    d = tmp_path_factory.mktemp("ck")
    untrained_checkpoint(d / "sb", width=16)
    return d, json.loads((d / "sb.json").read_text())


@SETTINGS
@given(data=st.data())
def test_checkpoint_records_with_a_field_replaced(checkpoint_record, data):
    from poseda.inference import load_lifter

    folder, rec = checkpoint_record
    small = {k: v for k, v in rec.items() if k != "config"}
    mutated = data.draw(_mutated(small))
    (folder / "m.json").write_text(_dump(mutated))
    _only_input_errors(lambda: load_lifter(folder / "m"))


@SETTINGS
@given(content=random_bytes)
def test_checkpoint_records_of_random_bytes(tmp_path, content):
    from poseda.models.checkpoint import load_checkpoint

    (tmp_path / "m.json").write_bytes(content)
    _only_input_errors(lambda: load_checkpoint(tmp_path / "m"))


@pytest.fixture(scope="module")
def lift_output(tmp_path_factory):
    from poseda.keypoints.options import KeypointReading
    from poseda.lift.lifting import lift_file
    from poseda.lift.options import LiftOptions

    d = tmp_path_factory.mktemp("lift")
    ck = untrained_checkpoint(d / "sb", width=16)
    write_coco(d / "k.json", walking(3))
    lift_file(LiftOptions(keypoints=d / "k.json", out=d / "o.json", checkpoint=ck, reading=KeypointReading(image_size=(480, 640))))
    return d, json.loads((d / "o.json").read_text())


@SETTINGS
@given(data=st.data())
def test_lift_outputs_with_a_field_replaced(lift_output, data):
    from poseda.lift.lifting import read_lifted

    folder, doc = lift_output
    mutated = data.draw(_mutated(doc))
    (folder / "m.json").write_text(_dump(mutated))
    _only_input_errors(lambda: read_lifted(folder / "m.json"))


@SETTINGS
@given(content=random_bytes, suffix=st.sampled_from([".json", ".npz"]))
def test_lift_outputs_of_random_bytes(tmp_path, content, suffix):
    from poseda.lift.lifting import read_lifted

    (tmp_path / f"m{suffix}").write_bytes(content)
    _only_input_errors(lambda: read_lifted(tmp_path / f"m{suffix}"))


@pytest.mark.data
@SETTINGS
@given(data=st.data())
def test_domain_meta_with_a_field_replaced(tiny_cache, tmp_path_factory, data):
    import shutil

    from poseda.data.domain import Domain

    folder = tmp_path_factory.mktemp("dom") / "tiny"
    shutil.copytree(tiny_cache / "tiny", folder)
    meta = json.loads((folder / "meta.json").read_text())
    small = dict(meta, views=meta["views"][:2])
    mutated = data.draw(_mutated(small))
    (folder / "meta.json").write_text(_dump(mutated))

    def load():
        d = Domain(folder)
        d.layout, d.views, d.splits, repr(d)

    _only_input_errors(load)


@SETTINGS
@given(doc=json_values, overrides=st.lists(st.sampled_from(
    ["train.epochs=abc", "train.lr=nan", "train.batch_size=-1", "lpa.angle_band_deg=[3,1]", "run.name=", "data.joints=x",
     "train.amp=maybe", "model.options={}", "adapt.options.gpa.x=1", "train.epochs=2", "eval.flip_test=1"]), max_size=3))
def test_run_configs_of_random_structure(tmp_path, doc, overrides):
    from poseda.config import load_config

    f = tmp_path / "c.yaml"
    f.write_text(_dump(doc))
    _only_input_errors(lambda: load_config(str(f), overrides))


PRESET = {"backbones": ["simple_baseline"], "seeds": [0], "targets": ["cmu-3dhp"], "methods": ["source", "gpa"],
          "checks": [{"rule": "ratio", "method": "gpa", "baseline": "source", "at_most": 0.8}]}


@SETTINGS
@given(data=st.data())
def test_presets_with_a_field_replaced(tmp_path, data):
    import yaml

    from poseda.benchmark import load_preset

    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(json.loads(_dump(data.draw(_mutated(PRESET))))))
    _only_input_errors(lambda: load_preset(str(f)))


@SETTINGS
@given(content=random_bytes)
def test_presets_rigs_and_configs_of_random_bytes(tmp_path, content):
    from poseda.benchmark import load_preset
    from poseda.config import load_config
    from poseda.domains.rig import load_rig

    f = tmp_path / "x.yaml"
    f.write_bytes(content)
    for read, arg in ((load_preset, str(f)), (load_rig, f), (load_config, str(f))):
        _only_input_errors(read, arg)


RIG = {"name": "r", "groups": [{"count": 2, "image_size": [640, 480], "focal_px": [500, 600], "distance_m": [3, 4],
                                "height_m": [1, 1.5], "aim_height_m": [1, 1], "azimuth_deg": [0, 90], "roll_deg": 3}]}


@SETTINGS
@given(data=st.data())
def test_rigs_with_a_field_replaced(data):
    import yaml

    from poseda.domains.rig import parse_rig, sample_cameras

    text = yaml.safe_dump(json.loads(_dump(data.draw(_mutated(RIG)))))

    def parse_and_sample():
        rig = parse_rig(text, "r.yaml")
        sample_cameras(rig, np.random.default_rng(0), np.zeros(3))

    _only_input_errors(parse_and_sample)


# -- the upstream dataset readers ---------------------------------------------------------------------
@SETTINGS
@given(content=random_bytes | st.text(max_size=300).map(str.encode))
def test_dataset_text_readers_of_random_content(content):
    from poseda.datasets.bvh import read_bvh
    from poseda.datasets.expmap import read_cmu_expmap, read_h36m_expmap

    for read in (read_bvh, read_h36m_expmap, read_cmu_expmap):
        _only_input_errors(read, content, "x")


@SETTINGS
@given(doc=json_values, content=random_bytes)
def test_calibration_and_template_readers(tmp_path, doc, content):
    from poseda.datasets.calibration import read_h36m_cameras, read_humaneva_extrinsics, read_mpi_inf_3dhp_test_intrinsics
    from poseda.datasets.skeleton_template import load_skeleton_template

    for name, payload in (("doc.json", _dump(doc).encode()), ("bytes.json", content)):
        f = tmp_path / name
        f.write_bytes(payload)
        for read in (read_h36m_cameras, read_humaneva_extrinsics, read_mpi_inf_3dhp_test_intrinsics,
                     lambda p: load_skeleton_template(p, 0.001)):
            _only_input_errors(read, f)


def _npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@SETTINGS
@given(content=random_bytes | st.builds(lambda a: _npz_bytes(positions_3d=a, positions_2d=a, data=a, S=a, part=a, annot3=a), arrays),
       truncate=st.booleans())
def test_dataset_npz_and_mat_readers(tmp_path, content, truncate):
    import scipy.io

    from poseda.datasets.h36m_npz import read_h36m_2d, read_h36m_3d
    from poseda.datasets.humaneva import read_humaneva
    from poseda.datasets.mpi_inf_3dhp import read_3dhp_annot_mat, read_3dhp_spin_npz, read_3dhp_test_npz, read_3dhp_train_annot

    if truncate:
        content = content[: len(content) // 2]
    f = tmp_path / "x.npz"
    f.write_bytes(content)
    m = tmp_path / "x.mat"
    m.write_bytes(content)
    for read in (read_h36m_3d, read_h36m_2d, read_3dhp_test_npz, read_3dhp_spin_npz, lambda p: read_humaneva(p, p)):
        _only_input_errors(read, f)
    _only_input_errors(lambda: read_3dhp_annot_mat(m))
    _only_input_errors(lambda: read_3dhp_train_annot(m))
    scipy.io.savemat(m, {"annot2": np.array([[np.asarray(content[:8], dtype=object)]], dtype=object), "annot3": np.zeros((1, 1))})
    _only_input_errors(lambda: read_3dhp_train_annot(m))


@SETTINGS
@given(text=st.text(max_size=400), numbers=st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=40))
def test_3dhp_camera_calibration(tmp_path, text, numbers):
    from poseda.datasets.mpi_inf_3dhp import read_3dhp_calibration

    f = tmp_path / "camera.calibration"
    for body in (text, "Skeletool Camera Calibration File V1.0\nname 0\n  size 2048 2048\n  intrinsic "
                 + " ".join(map(str, numbers[:16])) + "\n  extrinsic " + " ".join(map(str, numbers[16:])) + "\n"):
        f.write_text(body)
        _only_input_errors(read_3dhp_calibration, f)


@SETTINGS
@given(obj=json_values, content=random_bytes)
def test_3dpw_pickles(tmp_path, obj, content):
    import pickle

    from poseda.datasets.pw3d import read_3dpw

    for payload in (pickle.dumps(obj), content):
        f = tmp_path / "seq.pkl"
        f.write_bytes(payload)
        _only_input_errors(read_3dpw, f)


def test_the_fuzzers_reach_the_readers_valid_paths(tmp_path):
    """The unmutated documents are valid, so mutation starts from real inputs, not from garbage."""
    from poseda.keypoints.readers import read_keypoints

    for i, doc in enumerate([_coco_doc(), MEDIAPIPE, OPENPOSE, COCO_DICT]):
        f = tmp_path / f"{i}.json"
        f.write_text(_dump(doc))
        assert len(read_keypoints(f)) >= 1
    assert zipfile.is_zipfile(io.BytesIO(_npz_bytes(a=np.zeros(2))))


# -- VideoPose3D-layout files: valid documents with one item replaced ------------------------------
def _object(obj) -> np.ndarray:
    a = np.empty((), dtype=object)
    a[()] = obj
    return a


def _vp3d_docs() -> dict[str, dict]:
    rng = np.random.default_rng(0)
    meta17 = {"layout_name": "h36m", "num_joints": 17, "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
    return {
        "custom": {"positions_2d": {"clip": {"custom": [rng.uniform(0, 400, (5, 17, 2))]}},
                   "metadata": {"layout_name": "coco", "num_joints": 17, "keypoints_symmetry": [[1, 3], [2, 4]],
                                "video_metadata": {"clip": {"w": 640, "h": 480}}}},
        "h36m_3d": {"positions_3d": {"S1": {"Walking 1": rng.normal(size=(4, 32, 3))}}},
        "h36m_2d": {"positions_2d": {"S1": {"Walking 1": [rng.uniform(0, 900, (4, 17, 2)) for _ in range(4)]}}, "metadata": meta17},
        "humaneva_3d": {"positions_3d": {"Train/S1": {"Walking 1 chunk0": rng.normal(size=(4, 15, 3))}}},
        "humaneva_2d": {"positions_2d": {"Train/S1": {"Walking 1 chunk0": [rng.uniform(0, 600, (4, 15, 2)) for _ in range(3)]}}},
    }


def _replaced(doc, path, value):
    import copy

    doc = copy.deepcopy(doc)
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


odd_values = json_values | st.builds(lambda shape, fill: np.full(shape, fill),
                                     st.lists(st.integers(0, 4), max_size=4).map(tuple),
                                     st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=3))


@pytest.mark.parametrize("kind", list(_vp3d_docs()))
@SETTINGS
@given(data=st.data())
def test_videopose3d_layout_files_with_an_item_replaced(tmp_path, kind, data):
    from poseda.datasets.h36m_npz import read_h36m_2d, read_h36m_3d
    from poseda.datasets.humaneva import read_humaneva
    from poseda.keypoints.readers import read_keypoints

    docs = _vp3d_docs()
    doc = docs[kind]
    path = data.draw(st.sampled_from([p for p in _paths(doc) if len(p) >= 1]))
    mutated = _replaced(doc, path, data.draw(odd_values))
    f = tmp_path / "x.npz"
    np.savez(f, **{k: _object(v) for k, v in mutated.items()})
    if kind == "custom":
        _only_input_errors(lambda: read_keypoints(f))
    elif kind == "h36m_3d":
        _only_input_errors(read_h36m_3d, f)
    elif kind == "h36m_2d":
        _only_input_errors(read_h36m_2d, f)
    else:  # HumanEva needs both files: the mutated one beside a valid other
        other = tmp_path / "y.npz"
        valid = docs["humaneva_2d" if kind == "humaneva_3d" else "humaneva_3d"]
        np.savez(other, **{k: _object(v) for k, v in valid.items()})
        pair = (f, other) if kind == "humaneva_3d" else (other, f)
        _only_input_errors(read_humaneva, *pair)


def test_the_videopose3d_layout_documents_are_valid(tmp_path):
    from poseda.datasets.h36m_npz import read_h36m_2d, read_h36m_3d
    from poseda.datasets.humaneva import read_humaneva
    from poseda.keypoints.readers import read_keypoints

    files = {}
    for kind, doc in _vp3d_docs().items():
        files[kind] = tmp_path / f"{kind}.npz"
        np.savez(files[kind], **{k: _object(v) for k, v in doc.items()})
    assert len(read_keypoints(files["custom"])) == 5
    assert read_h36m_3d(files["h36m_3d"])["S1"]["Walking 1"].shape == (4, 17, 3)
    assert len(read_h36m_2d(files["h36m_2d"])[0]["S1"]["Walking 1"]) == 4
    assert read_humaneva(files["humaneva_3d"], files["humaneva_2d"]).positions_3d["Train/S1"]["Walking 1 chunk0"].shape == (4, 15, 3)
