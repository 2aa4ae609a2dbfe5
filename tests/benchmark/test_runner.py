"""The benchmark runner on the tiny real domains: every method, the table, plots, resume."""
import json

import numpy as np
import pytest
import yaml
from PIL import Image

from poseda.adapt.methods import METHODS
from poseda.benchmark import Benchmark, load_preset, write_table
from poseda.benchmark import runner as bm
from poseda.errors import PosedaInputError

PRESET = """
backbones: [simple_baseline]
seeds: [0]
targets: [tiny-target]
methods: [source, gpa, lpa, gpa_lpa, poseaug, oracle]
source: tiny
pretrain: {train.epochs: 1, data.samples_per_epoch: 4096, train.batch_size: 128, model.options.width: 64,
           data.val_percent: 50, train.val_samples: 1000}
adapt: {train.epochs: 1, data.samples_per_epoch: 1024, train.batch_size: 128, lpa.hidden: 32, data.val_percent: 50,
        train.val_samples: 1000}
universal: [tiny-target]
checks:
  - {rule: ratio, method: gpa_lpa, baseline: source, at_most: 0.8}
  - {rule: ordering, methods: [source, gpa, gpa_lpa]}
  - {rule: ratio, method: gpa_lpa, baseline: source, metric: MPJPE-U}
"""


def _not_blank(path):
    a = np.asarray(Image.open(path).convert("L"))
    return a.std() > 5


def test_benchmark_runs_every_method_writes_the_table_and_resumes(tiny_target, tmp_path, monkeypatch):
    (tmp_path / "tiny.yaml").write_text(PRESET)
    preset = load_preset(str(tmp_path / "tiny.yaml"))
    out = tmp_path / "out"
    bench = Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None)
    results = bench.run()
    assert len(results) == 6 and {r["method"] for r in results} == set(preset.methods)
    paths = write_table(bench, results)
    md = paths["markdown"].read_text()
    for m in preset.methods:
        assert f"| {METHODS[m].label} | simple_baseline |" in md
    assert "joints h36m16 (16), 2D ground truth, 1-frame input, flip test on" in md
    assert "**checks**" in md and "tiny-target / simple_baseline: ordering source only > GPA > GPA + LPA (PoseDA) (" in md
    assert "tiny-target / simple_baseline: GPA + LPA (PoseDA) / source only = " in md
    # protocol A beside the real size: the universal-skeleton columns and a check on them
    assert "| MPJPE-U | PCK-U | AUC-U | gap closed |" in md and " on MPJPE-U (reference)" in md
    ev = json.loads((out / "adapt" / "simple_baseline-s0" / "tiny-target" / "gpa" / "eval-tiny-target.json").read_text())
    assert ev["universal"]["protocol"]["skeleton"].startswith("universal") and ev["universal"]["overall"]["MPJPE"] > 0
    rows = (out / "table.csv").read_text().splitlines()
    assert len(rows) == 7 and rows[0].startswith("target,backbone,method")
    for png in ("bars-tiny-target.png", "per-joint-tiny-target.png", "gpa-stats-tiny-target.png"):
        assert _not_blank(out / "plots" / png)
    # source-only and PoseAug never read the target: trained once per joint set
    assert (out / "adapt" / "simple_baseline-s0" / "h36m16" / "source" / "eval-tiny-target.json").exists()
    assert (out / "adapt" / "simple_baseline-s0" / "tiny-target" / "gpa_lpa" / "eval-tiny-target.json").exists()

    # resume: a finished table trains nothing; a lost evaluation is redone from its checkpoint;
    # an interrupted adaptation (no done.json) is run again, and only that one
    calls = []
    real = bm.Benchmark.cell

    def spy(self, b, s, t, m):
        calls.append(m)
        return real(self, b, s, t, m)

    monkeypatch.setattr(bm.Benchmark, "cell", spy)
    from poseda.adapt.adapter import Adapter

    trained = []
    real_fit = Adapter.fit
    monkeypatch.setattr(Adapter, "fit", lambda self: trained.append(self.method.name) or real_fit(self))
    again = Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None).run()
    assert trained == [] and [r["overall"] for r in again] == [r["overall"] for r in results]
    gpa_dir = out / "adapt" / "simple_baseline-s0" / "tiny-target" / "gpa"
    (gpa_dir / "eval-tiny-target.json").unlink()
    (gpa_dir / "done.json").unlink()
    (out / "adapt" / "simple_baseline-s0" / "tiny-target" / "oracle" / "eval-tiny-target.json").unlink()
    # a saved config from before a key existed counts that key at its default: nothing is redone
    saved = out / "adapt" / "simple_baseline-s0" / "tiny-target" / "lpa" / "config.yaml"
    old_cfg = yaml.safe_load(saved.read_text())
    del old_cfg["train"]["chunk"]
    saved.write_text(yaml.safe_dump(old_cfg))
    said = []
    Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=said.append).run()
    assert trained == ["gpa"]  # the interrupted one continues from its last epoch
    assert [s for s in said if "resuming" in s] == ["[adapt] simple_baseline seed 0: GPA -> tiny-target (resuming)"]
    assert not any("[redo]" in s for s in said)
    assert json.loads((gpa_dir / "eval-tiny-target.json").read_text())["method"] == "gpa"

    # changed settings: an augmentation setting redoes exactly the methods that augment, and says why;
    # a moved benchmark folder is still valid
    trained.clear()
    said = []
    moved = tmp_path / "moved"
    out.rename(moved)
    changed = load_preset(str(tmp_path / "tiny.yaml"))
    changed.adapt["lpa.length_range"] = 0.4
    Benchmark(changed, moved, tiny_target, "cpu", progress=False, echo=said.append).run()
    assert sorted(trained) == ["gpa_lpa", "lpa", "poseaug"]
    assert sum("[redo]" in s and "(lpa.length_range)" in s for s in said) == 3
    # a run that started from another source checkpoint (the source was retrained since) is redone
    trained.clear()
    done = moved / "adapt" / "simple_baseline-s0" / "tiny-target" / "oracle" / "done.json"
    d = json.loads(done.read_text())
    assert len(d["source_sha256"]) == 64
    done.write_text(json.dumps(dict(d, source_sha256="0" * 64)))
    Benchmark(changed, moved, tiny_target, "cpu", progress=False, echo=said.append).run()
    assert trained == ["oracle"] and "the source checkpoint (retrained)" in said[-2]


def _loaded(tmp_path, preset_text: str, name: str):
    """The preset ``preset_text``, written to ``tmp_path/name`` and loaded as the CLI loads a file."""
    (tmp_path / name).write_text(preset_text)
    return load_preset(str(tmp_path / name))


def _refused(tmp_path, preset_text: str, msg: str) -> None:
    """The preset ``preset_text`` is refused on loading, in a line matching ``msg``."""
    (tmp_path / "bad.yaml").write_text(preset_text)
    with pytest.raises(PosedaInputError, match=msg):
        load_preset(str(tmp_path / "bad.yaml"))


VARIANT = PRESET.replace("methods: [source, gpa, lpa, gpa_lpa, poseaug, oracle]", """methods: [source, gpa, gpa_ray]
variants:
  gpa_ray: {method: gpa, label: "GPA, ray", overrides: {gpa.orientation: ray}}""").replace(
    "  - {rule: ratio, method: gpa_lpa, baseline: source, at_most: 0.8}\n  - {rule: ordering, methods: [source, gpa, gpa_lpa]}\n",
    "  - {rule: gain, method: gpa_ray, baseline: gpa}\n")


def test_a_variant_runs_its_method_with_its_overrides_in_the_same_table(tiny_target, tmp_path, monkeypatch):
    preset = _loaded(tmp_path, VARIANT, "v.yaml")
    out = tmp_path / "out"
    results = Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None).run()
    assert [r["method"] for r in results] == ["source", "gpa", "gpa_ray"]
    runs = out / "adapt" / "simple_baseline-s0" / "tiny-target"
    assert yaml.safe_load((runs / "gpa_ray" / "config.yaml").read_text())["gpa"]["orientation"] == "ray"
    assert yaml.safe_load((runs / "gpa" / "config.yaml").read_text())["gpa"]["orientation"] == "camera"
    assert results[1]["overall"] != results[2]["overall"]
    md = write_table(Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None), results)["markdown"].read_text()
    assert "| GPA, ray | simple_baseline |" in md and "tiny-target / simple_baseline: GPA, ray better than GPA by" in md
    # bad variants stop before any work, in one line naming the preset's section
    for bad, msg in [('gpa: {method: gpa, overrides: {gpa.orientation: ray}}', "has the name of a registered method"),
                     ('gpa_ray: {method: nope, overrides: {gpa.orientation: ray}}', "unknown method 'nope'"),
                     ('gpa_ray: {method: gpa, overrides: {}}', "overrides")]:
        _refused(tmp_path, VARIANT.replace('gpa_ray: {method: gpa, label: "GPA, ray", overrides: {gpa.orientation: ray}}', bad), msg)
    (tmp_path / "bad.yaml").write_text(VARIANT.replace("gpa.orientation: ray", "gpa.orientation: sideways"))
    with pytest.raises(PosedaInputError, match="variants.gpa_ray: .*gpa.orientation"):
        Benchmark(load_preset(str(tmp_path / "bad.yaml")), tmp_path / "o2", tiny_target, "cpu", progress=False, echo=lambda s: None)
    assert not (tmp_path / "o2").exists()


FITTED = VARIANT.replace("methods: [source, gpa, gpa_ray]", "methods: [source, gpa, gpa_fit]").replace(
    'gpa_ray: {method: gpa, label: "GPA, ray", overrides: {gpa.orientation: ray}}',
    'gpa_fit: {of: gpa, label: "GPA, fitted", overrides: {eval.fit_steps: 20}}').replace(
    "method: gpa_ray, baseline: gpa", "method: gpa_fit, baseline: gpa")


def test_a_variant_of_another_row_evaluates_its_lifters_with_a_test_time_fit_and_trains_nothing(tiny_target, tmp_path,
                                                                                                  monkeypatch):
    preset = _loaded(tmp_path, FITTED, "f.yaml")
    out = tmp_path / "out"
    trained = []
    results = Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=trained.append).run()
    assert [r["method"] for r in results] == ["source", "gpa", "gpa_fit"]
    assert sum("[adapt]" in s for s in trained) == 2  # source and gpa; the fitted row trains nothing
    gpa, fitted = results[1], results[2]
    assert fitted["protocol"]["fit"] == "20 steps, prior 0.1, bone lengths kept" and gpa["protocol"]["fit"] == ""
    assert fitted["overall"]["MPJPE"] != gpa["overall"]["MPJPE"]
    assert fitted["universal"]["protocol"]["fit"] and "fitted to the 2D: 20 steps" in (
        out / "adapt" / "simple_baseline-s0" / "tiny-target" / "gpa_fit" / "report-tiny-target.md").read_text()
    assert not (out / "adapt" / "simple_baseline-s0" / "tiny-target" / "gpa_fit" / "best.json").exists()
    # cached while its row's lifter is unchanged; evaluated again when that lifter changes
    calls = []
    real = bm.Benchmark._evaluate
    monkeypatch.setattr(bm.Benchmark, "_evaluate", lambda self, *a: calls.append(a[0]) or real(self, *a))
    assert Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None).run() == results and calls == []
    rec = out / "adapt" / "simple_baseline-s0" / "tiny-target" / "gpa_fit" / "eval-tiny-target.json"
    rec.write_text(json.dumps(dict(json.loads(rec.read_text()), weights_sha256="0" * 64)))
    Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None).run()
    assert [c.parent.name for c in calls] == ["gpa"]
    md = write_table(Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None), results)["markdown"].read_text()
    assert "| GPA, fitted | simple_baseline |" in md
    # a variant of another row changes only how it is evaluated, and names a row that trains
    for bad, msg in [("gpa_fit: {of: gpa, overrides: {gpa.orientation: ray}}", "changes only eval.fit_steps, eval.fit_prior"),
                     ("gpa_fit: {of: gpa, method: gpa, overrides: {eval.fit_steps: 20}}", "give one of"),
                     ("gpa_fit: {of: nope, overrides: {eval.fit_steps: 20}}", "of names 'nope'")]:
        _refused(tmp_path, FITTED.replace('gpa_fit: {of: gpa, label: "GPA, fitted", overrides: {eval.fit_steps: 20}}', bad), msg)


SELECT = VARIANT.replace("methods: [source, gpa, gpa_ray]", "methods: [source, gpa, gpa_ray, gpa_auto]").replace(
    'overrides: {gpa.orientation: ray}}', 'overrides: {gpa.orientation: ray}}\n  gpa_auto: {select: [gpa, gpa_ray]}').replace(
    "  - {rule: gain, method: gpa_ray, baseline: gpa}\n",
    "  - {rule: worst_seed, method: gpa_auto, baseline: gpa, at_most: 0}\n  - {rule: worst_seed, method: gpa_auto, baseline: gpa_ray}\n")


def test_a_variant_that_selects_takes_the_row_that_agrees_best_with_the_target_2d(tiny_target, tmp_path, monkeypatch):
    from poseda.data.cache import load_domain
    from poseda.inference import disagreement_2d, load_lifter

    preset = _loaded(tmp_path, SELECT, "s.yaml")
    out = tmp_path / "out"
    said = []
    results = Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=said.append).run()
    assert [r["method"] for r in results] == ["source", "gpa", "gpa_ray", "gpa_auto"]
    assert sum("[adapt]" in s for s in said) == 3  # the selecting row trains nothing
    # its choice: the row whose lifter's estimates of the target's adaptation 2D move least when fitted onto it
    runs = out / "adapt" / "simple_baseline-s0" / "tiny-target"
    target = load_domain("tiny-target", tiny_target)
    mine = {}
    for row in ("gpa", "gpa_ray"):
        model, _, layout = load_lifter(runs / row / "best")
        mine[row] = 1000 * disagreement_2d(model, target.adaptation(layout))
    auto = results[3]
    assert auto["disagreement_mm"] == pytest.approx(mine) and mine["gpa"] != mine["gpa_ray"]
    chosen = min(mine, key=mine.get)
    assert auto["selected"] == chosen and auto["overall"] == results[["gpa", "gpa_ray"].index(chosen) + 1]["overall"]
    assert auto["universal"] == results[["gpa", "gpa_ray"].index(chosen) + 1]["universal"]
    assert any(s.startswith("[select] simple_baseline seed 0, tiny-target: ") for s in said)
    # kept beside each run: a second run scores nothing, a retrained lifter is scored again
    calls = []
    import poseda.inference as inf
    real_score = inf.disagreement_2d
    monkeypatch.setattr(inf, "disagreement_2d", lambda *a, **k: calls.append(1) or real_score(*a, **k))
    assert Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None).run() == results and calls == []
    kept = runs / "gpa" / "disagreement-tiny-target.json"
    kept.write_text(json.dumps(dict(json.loads(kept.read_text()), weights_sha256="0" * 64)))
    again = Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None).run()[3]
    assert calls == [1] and {k: v for k, v in again.items() if k != "seconds"} == {k: v for k, v in auto.items() if k != "seconds"}
    md = write_table(Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None), results)["markdown"].read_text()
    label = "GPA" if chosen == "gpa" else "GPA, ray"
    assert f"| chosen from the 2D among GPA, GPA, ray (chose {label}) | simple_baseline |" in md
    assert "chosen from the 2D among GPA, GPA, ray worse than GPA by at most" in md
    # it chooses among rows of the table that train, and has no settings of its own
    line = "gpa_auto: {select: [gpa, gpa_ray]}"
    for bad, msg in [("gpa_auto: {select: [gpa, gpa_ray], overrides: {gpa.orientation: ray}}", "no overrides of its own"),
                     ("gpa_auto: {select: [gpa]}", "select"),
                     ("gpa_auto: {select: [gpa, nope]}", "select names 'nope'"),
                     ("gpa_auto: {select: [gpa, lpa]}", "selects among lpa, which methods does not list"),
                     ("gpa_auto: {select: [gpa, gpa_ray], method: gpa}", "give one of")]:
        _refused(tmp_path, SELECT.replace(line, bad), msg)


TEMPORAL = PRESET.replace("backbones: [simple_baseline]", """backbones: [simple_baseline, videopose3d_27]
per_backbone:
  simple_baseline: {pretrain: {model.options.width: 64}}
  videopose3d_27: {pretrain: {model.options.channels: 32}, adapt: {train.batch_size: 64}}""").replace(
    " model.options.width: 64,", "").replace(
    "methods: [source, gpa, lpa, gpa_lpa, poseaug, oracle]", "methods: [source, gpa_lpa]").replace(
    "  - {rule: ratio, method: gpa_lpa, baseline: source, at_most: 0.8}\n  - {rule: ordering, methods: [source, gpa, gpa_lpa]}\n", "")


def test_per_backbone_overrides_reach_only_their_backbone_and_a_temporal_lifter_adapts(tiny_target, tmp_path):
    (tmp_path / "t.yaml").write_text(TEMPORAL)
    preset = load_preset(str(tmp_path / "t.yaml"))
    out = tmp_path / "out"
    results = Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None).run()
    assert [(r["backbone"], r["method"]) for r in results] == [
        ("simple_baseline", "source"), ("simple_baseline", "gpa_lpa"), ("videopose3d_27", "source"), ("videopose3d_27", "gpa_lpa")]
    cfg = {b: yaml.safe_load((out / "pretrain" / f"{b}-h36m16-s0" / "config.yaml").read_text())
           for b in ("simple_baseline", "videopose3d_27")}
    assert cfg["videopose3d_27"]["model"]["options"]["channels"] == 32 and "width" not in cfg["videopose3d_27"]["model"]["options"]
    assert cfg["simple_baseline"]["model"]["options"]["width"] == 64 and "channels" not in cfg["simple_baseline"]["model"]["options"]
    run = yaml.safe_load((out / "adapt" / "videopose3d_27-s0" / "tiny-target" / "gpa_lpa" / "config.yaml").read_text())
    assert run["train"]["batch_size"] == 64 and run["model"]["options"]["channels"] == 32
    assert yaml.safe_load((out / "adapt" / "simple_baseline-s0" / "tiny-target" / "gpa_lpa" / "config.yaml").read_text()
                          )["train"]["batch_size"] == 128
    assert results[3]["protocol"]["frames"] == 27 and np.isfinite(results[3]["overall"]["MPJPE"])
    # a table of one backbone counts the compute of its own runs and pretraining, not the folder's others
    other = out / "pretrain" / "videopose3d_27-h36m16-s0" / "done.json"
    other.write_text(json.dumps({"seconds": 6000.0}))  # 100 min that must not count
    preset.backbones = ["simple_baseline"]
    bench = Benchmark(preset, out, tiny_target, "cpu", progress=False, echo=lambda s: None)
    md = write_table(bench, results[:2])["markdown"].read_text()
    own = sum(json.loads((p / "done.json").read_text())["seconds"] for p in [
        out / "pretrain" / "simple_baseline-h36m16-s0", out / "adapt" / "simple_baseline-s0" / "h36m16" / "source",
        out / "adapt" / "simple_baseline-s0" / "tiny-target" / "gpa_lpa"])
    assert f"Compute time of the runs in this table: {own / 60:.1f} min." in md
    # a backbone the preset does not run, or a bad value, stops before any work in one line
    (tmp_path / "bad.yaml").write_text(TEMPORAL.replace("  videopose3d_27: {pretrain", "  videopose3d_81: {pretrain"))
    with pytest.raises(PosedaInputError, match="per_backbone names backbone 'videopose3d_81'"):
        load_preset(str(tmp_path / "bad.yaml"))
    (tmp_path / "bad.yaml").write_text(TEMPORAL.replace("channels: 32", "channels: -3"))
    with pytest.raises(PosedaInputError, match=r"pretrain \(with per_backbone.videopose3d_27\): .*channels"):
        Benchmark(load_preset(str(tmp_path / "bad.yaml")), tmp_path / "o2", tiny_target, "cpu", progress=False, echo=lambda s: None)
    assert not (tmp_path / "o2").exists()
