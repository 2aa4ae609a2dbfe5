"""The ``paper`` preset end to end on round-tripped domains: Human3.6M exported as VideoPose3D's
files, cmu-3dhp written as MPI-INF-3DHP's test and training files and the tiny hand-held target as
3DPW pickles, each imported by ``poseda data import`` under the names the preset requires; a tiny
schedule. Without the imports the preset stops in one line naming the command."""
import pytest
from typer.testing import CliRunner

from poseda.benchmark import Benchmark, load_preset, write_table
from poseda.benchmark.preset import PerBackbone
from poseda.cli import app
from poseda.data.cache import load_domain
from poseda.domains.export import export_domain

from ..domains.test_importers import _one_view_per_subject
from ..licensed import write_3dhp_test_set, write_3dhp_training_set, write_3dpw

pytestmark = pytest.mark.data
TINY = dict(pretrain={"train.epochs": 1, "data.samples_per_epoch": 2048, "train.batch_size": 128,
                      "train.val_samples": 500},
            adapt={"train.epochs": 1, "data.samples_per_epoch": 512, "train.batch_size": 128, "lpa.hidden": 32,
                   "train.val_samples": 500},
            # narrow models: this test checks the pipeline, and full-width checkpoints take 1.5 GB of disk
            per_backbone={"simple_baseline": PerBackbone(pretrain={"model.options.width": 64}),
                          "videopose3d_1": PerBackbone(pretrain={"model.options.channels": 64})})


def test_paper_preset_needs_its_imports_then_runs(prepared_cache, tiny_target, tmp_path):
    run = CliRunner().invoke
    cache = tmp_path / "cache"
    r = run(app, ["benchmark", "--preset", "paper", "--out", str(tmp_path / "out"), "--cache", str(cache)])
    assert r.exit_code == 2 and r.output.count("\n") == 1, r.output
    assert "h36m-vp3d: not in the cache" in r.output and "poseda data import h36m-vp3d h36m-vp3d data_3d_h36m.npz" in r.output

    files = [p for p in export_domain(load_domain("h36m", prepared_cache), "videopose3d", tmp_path / "vp3d",
                                      subjects=["S1", "S11"]).files if p.suffix == ".npz"]
    cmu = load_domain("cmu-3dhp", prepared_cache)
    write_3dhp_test_set(cmu, tmp_path / "mpi_inf_3dhp_test_set", _one_view_per_subject(cmu))
    write_3dhp_training_set(cmu, tmp_path / "mpi_inf_3dhp")
    write_3dpw(load_domain("tiny-target", tiny_target), tmp_path / "3DPW", {"train": "train", "test": "test"})
    for args in (["h36m-vp3d", "h36m-vp3d", *map(str, files)],
                 ["mpi-inf-3dhp", "mpi-inf-3dhp", str(tmp_path / "mpi_inf_3dhp_test_set"), str(tmp_path / "mpi_inf_3dhp")],
                 ["3dpw", "3dpw", str(tmp_path / "3DPW")]):
        r = run(app, ["data", "import", *args, "--cache", str(cache)])
        assert r.exit_code == 0, r.output
    preset = load_preset("paper").model_copy(update=TINY)
    bench = Benchmark(preset, tmp_path / "out", cache, "cpu", progress=False, echo=lambda s: None)
    results = bench.run()
    assert len(results) == 2 * 2 * 6
    md = write_table(bench, results)["markdown"].read_text()
    assert "**mpi-inf-3dhp** (joints h36m16 (16), 2D ground truth, 1-frame input, flip test on" in md
    assert "| MPJPE-U | PCK-U | AUC-U |" in md  # protocol A from the imported univ_annot3
    assert "*published on mpi-inf-3dhp*" in md and "| GPA + LPA (PoseDA) | - | 61.3 | 92.1 | - | PoseDA (Chai et al., ICCV 2023) |" in md
    assert "*published on 3dpw*" in md and "55.3" in md
    u = [r for r in results if r["target"] == "mpi-inf-3dhp"][0]["universal"]["protocol"]["skeleton"]
    assert u == "universal (MPI-INF-3DHP's univ_annot3)"
