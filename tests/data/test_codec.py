import numpy as np
import torch

from poseda.data.codec import PoseCodec
from poseda.skeleton.layouts import H36M17


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
