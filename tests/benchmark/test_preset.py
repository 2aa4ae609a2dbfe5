"""Presets: the built-in ones load, and every malformed one is refused in one line naming the key."""
import pytest

from poseda.benchmark import load_preset
from poseda.errors import PosedaInputError

from .test_runner import PRESET


def test_bad_presets_are_named(tmp_path):
    with pytest.raises(PosedaInputError, match="unknown preset"):
        load_preset("quickest")
    (tmp_path / "p.yaml").write_text(PRESET.replace("methods:", "method:"))
    with pytest.raises(PosedaInputError, match="p.yaml: methods: Field required"):
        load_preset(str(tmp_path / "p.yaml"))
    (tmp_path / "p.yaml").write_text(PRESET.replace("gpa_lpa", "poseda", 1))
    with pytest.raises(PosedaInputError, match="unknown method 'poseda'"):
        load_preset(str(tmp_path / "p.yaml"))
    assert load_preset("quick").methods == ["source", "gpa", "lpa", "gpa_lpa", "poseaug", "oracle"]
    assert load_preset("full").seeds == [0, 1, 2]
    assert [c.rule for c in load_preset("quick").checks][:5] == ["gap_closed", "ratio", "gain", "gain", "ordering"]


@pytest.mark.parametrize("change,message", [
    (("seeds: [0]", "seeds: [abc]"), "seeds.0: Input should be a valid integer"),
    (("seeds: [0]", "seeds: [0, 0]"), "seeds: seeds must be distinct non-negative integers"),
    (("seeds: [0]", "seeds: []"), "seeds: List should have at least 1 item"),
    (("source: tiny", "source: 5"), "source: Input should be a valid string"),
    (("seeds: [0]", "seeds: [0]\nextra: 1"), "extra: unknown key"),
    (("checks:", "checks:\n  - {rule: ratio, method: gpa_lpa}"), "needs a 'baseline'"),
    (("checks:", "checks:\n  - {rule: ratio, method: gpa_lpa, baseline: gpa, at_least: 1, at_most: 2}"),
     "give at most one goal"),
    (("checks:", "checks:\n  - {rule: gain, method: gpa_lpa, baseline: gpa, at_least: lots}"), "must be a number"),
    (("checks:", "checks:\n  - {rule: ratio, method: gpa_lpa, baseline: gpa, targets: [humaneva]}"),
     "names target 'humaneva', which is not in targets"),
    (("checks:", "checks:\n  - {rule: ordering, methods: [source, magic]}"), "unknown method 'magic'"),
    (("checks:", "checks:\n  - {rule: best, method: gpa}"), "checks.0.rule: Input should be"),
])
def test_malformed_presets_are_one_line(tmp_path, change, message):
    text = PRESET.replace(*change)
    assert text != PRESET
    (tmp_path / "p.yaml").write_text(text)
    with pytest.raises(PosedaInputError) as e:
        load_preset(str(tmp_path / "p.yaml"))
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("text,message", [("5", "a preset is a YAML mapping"), ("- a\n- b", "a preset is a YAML mapping"),
                                          ("a: [", "not valid YAML")])
def test_presets_that_are_not_mappings(tmp_path, text, message):
    (tmp_path / "p.yaml").write_text(text)
    with pytest.raises(PosedaInputError, match=message):
        load_preset(str(tmp_path / "p.yaml"))


def test_a_run_folder_named_like_the_preset_does_not_shadow_it(tmp_path, monkeypatch):
    (tmp_path / "full").mkdir()  # e.g. poseda benchmark --preset full --out full
    monkeypatch.chdir(tmp_path)
    assert load_preset("full").backbones == ["simple_baseline", "videopose3d_1", "videopose3d_27"]


def test_every_built_in_preset_loads_and_names_how_to_build_its_custom_targets():
    from importlib import resources

    names = sorted(p.name[:-5] for p in resources.files("poseda.configs.benchmark").iterdir() if p.name.endswith(".yaml"))
    assert {"quick", "full", "generality", "views", "rules", "fit"} <= set(names)
    builtin = {"h36m", "humaneva", "cmu-3dhp", "bandai-wild"}
    for name in names:
        preset = load_preset(name)
        for target in preset.targets:
            assert target in builtin or target in (preset.requires or {}), (name, target)
    assert "--rig overhead" in load_preset("views").requires["bandai-overhead"]
