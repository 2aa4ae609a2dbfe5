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


def test_videopose_spaced_outputs_equal_the_dense_sequence():
    # forward_sequence(x, step) gives every step-th frame of the dense sequence: strided below the
    # step, dilated above it; step 1 is the dense form and step = receptive field the training form
    m = build_lifter("videopose3d", H36M17, filter_widths=[3, 3, 3], channels=16).eval()
    assert m.sequence_steps == (1, 3, 9, 27)
    seq = torch.randn(2, 60 + 26, 17, 2)
    with torch.no_grad():
        full = m.forward_sequence(seq)
        for step in m.sequence_steps:
            n = (60 - 1) // step + 1
            part = m.forward_sequence(seq[:, : (n - 1) * step + 27], step=step)
            torch.testing.assert_close(part, full[:, : (n - 1) * step + 1 : step], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(m(seq[:, 5:32]), full[:, 5], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="step 2"):
        m.forward_sequence(seq, step=2)


@pytest.mark.parametrize("widths", [[3, 3, 3], [3, 3, 3, 3]], ids=["wider", "wider-and-deeper"])
def test_videopose_inflates_a_single_frame_lifter(widths):
    # a temporal VideoPose3D started from a single-frame one of the same channel width predicts
    # what it did from the centre frame (exactly, or within a fraction of a millimetre when blocks
    # are added), and still has every tap and block free to learn
    one = build_lifter("videopose3d", H36M17, filter_widths=[1, 1, 1], channels=16)
    with torch.no_grad():  # non-trivial BatchNorm statistics and affine terms
        for mod in one.modules():
            if isinstance(mod, nn.BatchNorm1d):
                mod.running_mean.uniform_(-0.5, 0.5), mod.running_var.uniform_(0.5, 2)
                mod.weight.uniform_(0.5, 2), mod.bias.uniform_(-0.5, 0.5)
    wide = build_lifter("videopose3d", H36M17, filter_widths=widths, channels=16)
    state = wide.inflate_state(one.state_dict())
    wide.load_state_dict(state)
    one.eval(), wide.eval()
    rf = wide.receptive_field
    x = torch.randn(4, rf, 17, 2)
    with torch.no_grad():
        tol = 1e-5 if len(widths) == 3 else 1e-3  # metres
        torch.testing.assert_close(wide(x), one(x[:, rf // 2 : rf // 2 + 1]), atol=tol, rtol=0)
    assert state["convs.0.weight"].shape == (16, 16, 3) and state["convs.0.weight"][:, :, [0, 2]].abs().sum() == 0
    wide.train()
    wide(x).sum().backward()
    assert wide.convs[0].weight.grad[:, :, 0].abs().sum() > 0  # the new taps learn
    if len(widths) == 4:  # the added block starts as an identity whose last BatchNorm scale learns
        assert (state["bns.5.weight"] == 1e-4).all() and (wide.bns[5].weight.grad != 0).float().mean() > 0.5


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
