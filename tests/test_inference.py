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
