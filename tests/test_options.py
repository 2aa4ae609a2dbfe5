"""The options objects (poseda.options) and the command line made from them: one flag per field,
group defaults per command, and the same refusal from the command line and from Python."""
import dataclasses

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from poseda.cli import app
from poseda.errors import PosedaInputError
from poseda.keypoints.options import KeypointReading
from poseda.lift.options import DemoOptions, LiftOptions
from poseda.lift.smoothing import DEMO_SMOOTHING, Smoothing
from poseda.options import Arg, Opt, check_number, parse_pair


def _params(*path):
    cmd = get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return {p.name: p for p in cmd.params}


def test_every_field_is_one_flag_and_groups_add_theirs():
    lift = _params("lift")
    assert lift["image_size"].opts == ["--image-size"] and lift["image_size"].bare_type() == "str"  # text on the line
    assert lift["kind"].opts == ["--smooth"] and lift["kind"].default == "none"  # the Smoothing group's field
    assert _params("demo")["kind"].default == DEMO_SMOOTHING.kind == "savgol"  # the demo's own default for the group
    assert lift["keypoints"].required and lift["keypoints"].param_type_name == "argument"
    assert lift["out"].required and set(lift["out"].opts) == {"-o", "--out"}
    fields = {f.name for f in dataclasses.fields(LiftOptions)} - {"reading", "smoothing"}
    fields |= {f.name for f in dataclasses.fields(KeypointReading)} | {f.name for f in dataclasses.fields(Smoothing)}
    assert set(lift) == fields  # nothing declared twice, nothing left out
    assert "absolute" not in _params("demo")  # a field without Opt is the Python API's only


def test_the_command_line_and_python_refuse_the_same_values_alike(tmp_path):
    kp, out = tmp_path / "k.json", tmp_path / "o.json"
    kp.write_text("{}")
    cases = [(["--fps", "0"], lambda: LiftOptions(keypoints=kp, out=out, fps=0.0)),
             (["--image-size", "640"], lambda: KeypointReading(image_size="640")),
             (["--min-score", "2"], lambda: KeypointReading(min_score=2.0)),
             (["--smooth", "savgol", "--window", "4"], lambda: Smoothing("savgol", window=4))]
    for flags, make in cases:
        r = CliRunner().invoke(app, ["lift", str(kp), "-o", str(out), *flags])
        assert r.exit_code == 2 and r.output.count("\n") == 1, r.output
        with pytest.raises(PosedaInputError) as e:
            make()
        assert r.output.strip() == f"poseda: error: {e.value}"
    assert not out.exists()


def test_python_takes_parsed_values_and_text_alike():
    assert KeypointReading(image_size="640x480").image_size == KeypointReading(image_size=(640, 480)).image_size == (640, 480)
    assert KeypointReading(center="1.5,2").center == (1.5, 2.0)
    assert DemoOptions(video="v.mp4", detector="mediapipe").max_people == 4  # the default that depends on the detector
    assert parse_pair(None, "--x") is None and parse_pair((3, 4), "--x") == (3.0, 4.0)
    with pytest.raises(PosedaInputError, match="--x: expected two numbers"):
        parse_pair("3", "--x")
    check_number(None, "--y", 0, 1)
    with pytest.raises(PosedaInputError, match=r"--y: must be a finite number above 0 and at most 1, got nan"):
        check_number(float("nan"), "--y", 0, 1, low_open=True)


def test_options_and_arguments_carry_their_spelling():
    o = Opt("--out", "-o", help="where")
    assert o.decls == ("--out", "-o") and o.help == "where" and o.cli is None
    assert Arg("a file", cli=str).cli is str


def test_extra_arguments_become_overrides():
    from poseda.adapt.commands import AdaptOptions

    o = AdaptOptions(checkpoint="train.epochs=1", target="humaneva")  # no checkpoint: the first word is an override
    assert o.checkpoint is None and o.overrides == ["train.epochs=1"]
    with pytest.raises(PosedaInputError, match="--method: unknown method 'nope'"):
        AdaptOptions(target="humaneva", method="nope")
