"""Using a trained lifter: loading, prediction over whole sequences."""
import pytest
import torch

from poseda.data.cache import load_domain
from poseda.data.codec import PoseCodec
from poseda.data.device import DeviceSet
from poseda.inference import predict
from poseda.models import build_lifter

pytestmark = pytest.mark.data


def test_sequence_prediction_equals_windows(tiny_cache):
    d = load_domain("tiny", tiny_cache)
    data = DeviceSet.from_split(d.evaluation(), PoseCodec())
    m = build_lifter("videopose3d", d.layout, filter_widths=[3, 3, 3], channels=16).eval()
    fast = predict(m, data, flip_test=True)
    slow = predict(m, data, idx=torch.arange(len(data)), flip_test=True)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-4)


class _Lookup(torch.nn.Module):
    """A 'lifter' that answers each 2D pose with the 3D of the nearest 2D pose of a set (plus
    ``noise``): the truth when asked about that set's own frames."""

    receptive_field = 1

    def __init__(self, data: DeviceSet, noise: torch.Tensor):
        super().__init__()
        self.keys, self.values = data.inputs.flatten(1), data.targets + noise

    def forward(self, x):
        return self.values[torch.cdist(x[:, 0].flatten(1), self.keys).argmin(1)]


def test_disagreement_with_the_2d_grows_with_the_error_of_the_3d_and_reads_no_3d(tiny_cache):
    from poseda.data.domain import Keypoints2D
    from poseda.inference import disagreement_2d

    poses = load_domain("tiny", tiny_cache).evaluation()
    data = DeviceSet.from_split(poses, PoseCodec())
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(data.targets.shape, generator=g)
    noise[:, 0] = 0  # the root stays the root
    scores = [1000 * disagreement_2d(_Lookup(data, s * noise), poses, flip_test=False) for s in (0.0, 0.02, 0.05, 0.1)]
    assert scores[0] < 3 and all(a < b for a, b in zip(scores, scores[1:])), scores
    assert scores[-1] > 5 * max(scores[0], 1)
    # the same score from the 2D and intrinsics alone: a Keypoints2D holds no 3D
    k = Keypoints2D(poses.joints2d, poses.intrinsics, poses.image_size, poses.distortion, poses.view, poses.layout)
    assert 1000 * disagreement_2d(_Lookup(data, 0.05 * noise), k, flip_test=False) == pytest.approx(scores[2], abs=1e-6)
