import numpy as np
import torch

from poseda.data.codec import PoseCodec
from poseda.skeleton.layouts import H36M17
from poseda.train.data import DeviceSet, view_bounds


def test_encoding_and_flip():
    c = PoseCodec()
    uv = np.array([[[960.0, 540.0], [0.0, 0.0]]])
    enc = c.encode_2d(uv, np.array([[1920.0, 1080.0]]))
    torch.testing.assert_close(enc, torch.tensor([[[0.0, 0.0], [-1.0, -1080 / 1920]]]))
    x = torch.randn(4, 3, 17, 2)
    torch.testing.assert_close(c.flip_2d(c.flip_2d(x, H36M17), H36M17), x)
    y = torch.randn(4, 17, 3)
    f = c.flip_3d(y, H36M17)
    torch.testing.assert_close(f[:, H36M17.index("RHip"), 0], -y[:, H36M17.index("LHip"), 0])
    r = c.encode_3d(y.numpy())
    assert (r[:, 0] == 0).all()


def test_windows_clamp_to_their_view():
    view = np.array([0, 0, 0, 1, 1, 2])
    s, e = view_bounds(view)
    np.testing.assert_array_equal(s, [0, 0, 0, 3, 3, 5])
    np.testing.assert_array_equal(e, [2, 2, 2, 4, 4, 5])
    inputs = torch.arange(6, dtype=torch.float32)[:, None, None].expand(6, 1, 2)
    ds = DeviceSet(inputs, None, torch.as_tensor(s), torch.as_tensor(e), H36M17, {})
    w = ds.windows(torch.tensor([0, 3, 5]), 5)[..., 0, 0]
    torch.testing.assert_close(w, torch.tensor([[0.0, 0, 0, 1, 2], [3, 3, 3, 4, 4], [5, 5, 5, 5, 5]]))
