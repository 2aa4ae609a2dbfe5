"""The prepared built-in domains (real data): design facts, the target API, stats and plots."""
import numpy as np
import pytest

from poseda.data.cache import load_domain
from poseda.data.domain import Keypoints2D, Poses
from poseda.domains.stats import domain_stats, plot_stats, stats_table
from poseda.errors import PosedaInputError

pytestmark = pytest.mark.data


def test_h36m_source(prepared_cache):
    d = load_domain("h36m", prepared_cache)
    assert d.role == "source" and d.fps == 50
    train = d.training()
    assert set(np.unique(train.subject)) == {"S1", "S5", "S6", "S7", "S8"}
    test = d.evaluation()
    assert set(np.unique(test.subject)) == {"S9", "S11"}
    assert len(train) + len(test) == len(d) > 1_500_000
    assert train.layout.name == "h36m17"
    # the real cameras: depth and 2D scale like the original dataset
    assert 4.5 < np.median(test.joints3d[:, 0, 2]) < 5.8
    s = domain_stats(d, max_frames=50_000).summary()
    assert s["scale"][0] == pytest.approx(0.43, abs=0.03)  # paper supplement: 0.43 / 0.10
    assert s["root_x"][0] == pytest.approx(0.06, abs=0.04)
    assert s["root_y"][0] == pytest.approx(-0.16, abs=0.04)


def test_target_api_hides_3d(prepared_cache):
    for name in ("humaneva", "cmu-3dhp", "bandai-wild"):
        d = load_domain(name, prepared_cache)
        assert d.role == "target"
        adapt = d.adaptation()
        assert isinstance(adapt, Keypoints2D) and not isinstance(adapt, Poses)
        assert not any("3d" in f.lower() for f in vars(adapt))
        with pytest.raises(PosedaInputError, match="target domain"):
            d.training()
        ev = d.evaluation()
        assert isinstance(ev, Poses) and len(ev) > 0
        assert set(np.asarray([v["split"] for v in d.views])) == set(d.splits)
        oracle = d.oracle_training()
        assert len(oracle) == len(adapt)
        assert np.isfinite(ev.joints3d).all() and np.isfinite(adapt.joints2d).all()


def test_joint_sets(prepared_cache):
    assert load_domain("humaneva", prepared_cache).layout.name == "humaneva15"
    assert load_domain("bandai-wild", prepared_cache).layout.name == "h36m16"
    assert load_domain("cmu-3dhp", prepared_cache).layout.name == "h36m17"


def test_humaneva_real_2d_and_fitted_intrinsics(prepared_cache):
    d = load_domain("humaneva", prepared_cache)
    fits = d.meta["intrinsics_fit"]
    med = np.median([v["median_reprojection_px"] for v in fits.values()])
    assert med < 1.2  # the fitted pinhole reproduces the real 2D to about 1 px
    ev = d.evaluation()
    assert set(np.unique(ev.subject)) == {"S1", "S2", "S3"}
    assert ev.protocol["2d"].startswith("ground truth")


def test_bandai_split_is_by_clip_hash(prepared_cache):
    d = load_domain("bandai-wild", prepared_cache)
    seqs = {}
    for v in d.views:
        seqs[v["sequence"]] = v["split"]
    share = np.mean([s == "test" for s in seqs.values()])
    assert 0.12 < share < 0.28
    portrait = np.asarray(d.arrays["image_size"])[:, 0] < np.asarray(d.arrays["image_size"])[:, 1]
    assert 0.15 < portrait.mean() < 0.45


def test_gap_is_visible_and_plots_written(prepared_cache, tmp_path):
    stats = [domain_stats(load_domain(n, prepared_cache), max_frames=30_000)
             for n in ("h36m", "humaneva", "cmu-3dhp", "bandai-wild")]
    summ = {s.name: s.summary() for s in stats}
    for target in ("cmu-3dhp", "bandai-wild"):
        # pitch spread and root y differ from the fixed Human3.6M cameras
        assert summ[target]["cam_pitch"][1] > 3 * summ["h36m"]["cam_pitch"][1]
        assert abs(summ[target]["root_y"][0] - summ["h36m"]["root_y"][0]) > 0.08
    table = stats_table(stats)
    assert table.count("\n") == 5
    paths = plot_stats(stats, tmp_path)
    from PIL import Image

    for p in paths:
        im = np.asarray(Image.open(p).convert("L"))
        assert im.shape[0] > 500 and im.std() > 10  # not blank


def test_reload_is_memory_mapped(prepared_cache):
    d = load_domain("h36m", prepared_cache)
    assert isinstance(d.arrays["joints3d"], np.memmap)


def test_skeleton_table_shows_where_joint_definitions_differ(prepared_cache):
    from poseda.domains.stats import SEGMENTS, skeleton_table

    names = ("h36m", "humaneva", "cmu-3dhp", "bandai-wild")
    table = skeleton_table([load_domain(n, prepared_cache) for n in names], max_frames=5000)
    rows = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[2:-1]] for r in table.splitlines()[2:]}
    assert set(rows) == set(names) and all(len(v) == len(SEGMENTS) + 1 for v in rows.values())
    cell = {n: dict(zip([*SEGMENTS, "above"], v)) for n, v in rows.items()}
    # the Human3.6M pelvis sits between the hips; CMU's about 10 cm above them
    assert abs(float(cell["h36m"]["above"])) < 1 and 7 < float(cell["cmu-3dhp"]["above"]) < 14
    # hip width: Human3.6M's hip joints sit far wider apart than HumanEva's or Bandai's
    assert float(cell["h36m"]["hip width"]) > 2 * float(cell["humaneva"]["hip width"])
    # real limb lengths of adults everywhere
    for n in names:
        assert 35 < float(cell[n]["thigh"]) < 50 and 20 < float(cell[n]["upper arm"]) < 35


def test_a_builder_revision_makes_prepared_copies_stale(monkeypatch):
    """A builder that changes what it makes bumps its revision: only its own prepared copies go
    stale, and the keys of builders never revised stay what they were."""
    import hashlib

    from poseda.domains import builders, prepare
    from poseda.version import __version__

    old = hashlib.sha256(f"h36m:{__version__}:fp:{builders.SEED}".encode()).hexdigest()[:16]
    assert prepare.build_key("h36m", "fp") == old
    before = prepare.build_key("cmu-handheld", "fp")
    monkeypatch.setitem(builders.REVISION, "cmu-handheld", builders.REVISION["cmu-handheld"] + 1)
    assert prepare.build_key("cmu-handheld", "fp") != before and prepare.build_key("h36m", "fp") == old
