"""The one Registry every registry is: read like a dict, written by register (a bad or taken name
refused in one line naming the registry), looked up with the closest name, each entry's plugin
recorded, and one line per entry for listings."""
import subprocess
import sys
from pathlib import Path

import pytest

from poseda.errors import PosedaInputError
from poseda.plugins import load_plugin
from poseda.registry import Registry


def test_register_lookup_and_describe():
    r = Registry("colour", "register_colour")
    assert r.register("red", (255, 0, 0), about="stop") == (255, 0, 0)

    @r.register("blue")
    def blue():
        """The sky's colour.

        More text that a listing leaves out."""

    assert list(r) == ["red", "blue"] and r["blue"] is blue and "red" in r and len(r) == 2 and dict(r.items())["red"] == (255, 0, 0)
    assert r.describe() == ["red   stop", "blue  The sky's colour."]
    assert r.lookup("red", "--colour") == (255, 0, 0)
    with pytest.raises(PosedaInputError, match=r"^--colour: unknown colour 'bleu' \(did you mean 'blue'\?; known: red, blue; "
                                               r"a plugin can register more\)$"):
        r.lookup("bleu", "--colour")
    with pytest.raises(PosedaInputError, match=r"^colour: unknown colour 'zzz' \(known: red, blue; a plugin"):
        r.lookup("zzz")
    with pytest.raises(PosedaInputError, match=r"^colour: unknown colour None"):
        r.lookup(None)
    closed = Registry("shape", "SHAPES", pluggable=False)
    closed.register("square", 4)
    with pytest.raises(PosedaInputError, match=r"known: square\)$"):
        closed.lookup("circle")
    with pytest.raises(TypeError):
        r["green"] = 1  # read-only: only register adds


def test_bad_and_taken_names_are_refused_naming_the_registry():
    r = Registry("colour", "register_colour")
    r.register("red", 1)
    for bad in ("", "-red", "dark red", "a:b", "a.b", None, 3):
        with pytest.raises(PosedaInputError, match=r"^register_colour: bad colour name"):
            r.register(bad, 2)
    with pytest.raises(PosedaInputError, match=r"^register_colour: colour name 'red' is taken \(by poseda\)$"):
        r.register("red", 2)
    r.register("red", 1)  # the same entry again replaces itself
    with pytest.raises(PosedaInputError, match=r"is taken \(by tests.test_registry:test_bad_and_taken"):
        r.register("green", test_bad_and_taken_names_are_refused_naming_the_registry)
        r.register("green", test_register_lookup_and_describe)
    r.unregister("green")
    assert "green" not in r and r.origin("green") is None


def test_the_plugin_that_registered_a_name_is_its_origin(tmp_path):
    from poseda.keypoints.formats import FORMATS

    plugin = tmp_path / "yellow_format.py"
    plugin.write_text("from poseda.keypoints.formats import H36M17_FORMAT, KeypointFormat, register_keypoint_format\n"
                      "register_keypoint_format(KeypointFormat('yellow17', 'H36M by another name', H36M17_FORMAT.joints, "
                      "H36M17_FORMAT.to_h36m))\n")
    try:
        load_plugin(str(plugin))
        load_plugin(str(plugin.parent / "." / plugin.name))  # the same file again, under another name: harmless
        assert FORMATS.origin("yellow17") == str(plugin.parent / "." / plugin.name) and FORMATS.origin("coco17") is None
        assert FORMATS.origins["yellow17"] == FORMATS.origin("yellow17")
        assert FORMATS.describe()[-1].endswith(f"H36M by another name [plugin {FORMATS.origin('yellow17')}]")
    finally:
        FORMATS.unregister("yellow17")


def test_built_ins_imported_while_a_plugin_loads_stay_built_in():
    """The plugin below is the first to import the keypoint formats: coco17 is still poseda's, lsp14 the plugin's."""
    plugin = str(Path(__file__).resolve().parents[1] / "examples" / "deeplabcut_keypoints.py")
    code = ("import sys; from poseda.plugins import load_plugin; assert 'poseda.keypoints.formats' not in sys.modules; "
            f"load_plugin({plugin!r}); from poseda.keypoints.formats import FORMATS; from poseda.keypoints.readers import FILE_FORMATS; "
            "print(FORMATS.origin('coco17'), FILE_FORMATS.origin('auto'), FORMATS.origin('lsp14'), FILE_FORMATS.origin('deeplabcut'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.split() == ["None", "None", plugin, plugin], r.stderr[-2000:]


def test_every_registry_is_one():
    from poseda.adapt.methods import METHODS
    from poseda.domains.export import FORMATS as EXPORT_FORMATS
    from poseda.domains.importers import importers
    from poseda.keypoints.formats import FORMATS
    from poseda.keypoints.readers import FILE_FORMATS
    from poseda.models import LIFTERS
    from poseda.models.bundled import BUNDLED

    registries = [LIFTERS, METHODS, FORMATS, FILE_FORMATS, importers(), EXPORT_FORMATS, BUNDLED]
    assert all(isinstance(r, Registry) for r in registries)
    assert all(r.describe() and all(line.split("  ", 1)[1].strip() for line in r.describe()) for r in registries)
    with pytest.raises(PosedaInputError, match=r"^model.name: unknown lifter 'semgnc' \(did you mean 'semgcn'\?"):
        LIFTERS.lookup("semgnc", "model.name")
