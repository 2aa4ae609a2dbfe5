import pytest
import torch
from torch import nn

from poseda.config import builtin_configs, load_config, to_dict
from poseda.errors import PosedaInputError
from poseda.models import LIFTERS, build_lifter, check_lifter
from poseda.skeleton.layouts import H36M16, H36M17, HUMANEVA15

SMALL = {
    "simple_baseline": dict(width=64),
    "videopose3d": dict(filter_widths=[3, 3], channels=32),
    "semgcn": dict(hidden=16, blocks=2),
    "stgcn": dict(channels=16, blocks=3, temporal_widths=[3, 3]),
    "transformer": dict(frames=9, dim=16, depth=2, heads=2),
}


@pytest.mark.parametrize("name", sorted(LIFTERS))
@pytest.mark.parametrize("layout", [H36M17, H36M16, HUMANEVA15], ids=lambda l: l.name)
def test_every_backbone_follows_the_interface(name, layout):
    m = build_lifter(name, layout, **SMALL[name])
    rf, lay = check_lifter(m)
    assert lay is layout
    x = torch.randn(5, rf, layout.num_joints, 2)
    y = m(x)
    assert y.shape == (5, layout.num_joints, 3)
    y.sum().backward()
    assert all(p.grad is not None for p in m.parameters() if p.requires_grad)


def test_receptive_fields():
    assert build_lifter("videopose3d", H36M17, filter_widths=[3, 3, 3, 3, 3], channels=8).receptive_field == 243
    assert build_lifter("videopose3d", H36M17, filter_widths=[3, 3, 3, 3], channels=8).receptive_field == 81
    assert build_lifter("videopose3d", H36M17, filter_widths=[1, 1, 1], channels=8).receptive_field == 1
    assert build_lifter("stgcn", H36M17, channels=8, blocks=4, temporal_widths=[3, 3, 3]).receptive_field == 27


@pytest.mark.parametrize("name", ["videopose3d", "stgcn"])
def test_sequence_path_equals_windows(name):
    m = build_lifter(name, H36M17, **SMALL[name]).eval()
    rf = m.receptive_field
    seq = torch.randn(2, 30 + rf - 1, 17, 2)
    with torch.no_grad():
        full = m.forward_sequence(seq)
        win = torch.stack([m(seq[:, i : i + rf]) for i in range(30)], 1)
    torch.testing.assert_close(full, win, atol=1e-5, rtol=1e-5)


def test_temporal_models_use_context():
    m = build_lifter("videopose3d", H36M17, **SMALL["videopose3d"]).eval()
    x = torch.randn(1, m.receptive_field, 17, 2)
    x2 = x.clone()
    x2[:, 0] += 1.0  # change only the first frame of the window
    with torch.no_grad():
        assert not torch.allclose(m(x), m(x2))


def test_bad_lifters_are_refused():
    class NoLayout(nn.Module):
        receptive_field = 1

        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="layout"):
        check_lifter(NoLayout())
    with pytest.raises(PosedaInputError, match="unknown lifter 'mlp'"):
        build_lifter("mlp", H36M17)
    with pytest.raises(PosedaInputError, match="bad options for simple_baseline"):
        build_lifter("simple_baseline", H36M17, widht=3)


@pytest.mark.parametrize("name", builtin_configs())
def test_builtin_configs_build(name):
    cfg = load_config(name)
    opts = to_dict(cfg.model.options)
    # shrink the widest options so the test stays small; the structure is what is checked
    for k in ("channels", "width", "hidden", "dim"):
        if k in opts:
            opts[k] = 16
    if "heads" in opts:
        opts["heads"] = 2
    m = build_lifter(cfg.model.name, H36M17, **opts)
    assert m.receptive_field in (1, 27, 81, 243)


def test_config_overrides_and_typos():
    cfg = load_config("simple_baseline", ["train.epochs=3", "model.options.width=32"])
    assert cfg.train.epochs == 3 and cfg.model.options.width == 32
    with pytest.raises(PosedaInputError, match="train.epochz=3"):
        load_config("simple_baseline", ["train.epochz=3"])
    with pytest.raises(PosedaInputError, match="unknown config"):
        load_config("no-such-config")
