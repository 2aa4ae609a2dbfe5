"""Epoch data on the device: windows and chunks of frames (consecutive or spaced), clamped to their view."""
import numpy as np
import pytest
import torch

from poseda.data.device import DeviceSet, view_bounds
from poseda.skeleton.layouts import H36M17


def _frames(view):
    s, e = view_bounds(np.asarray(view))
    n = len(view)
    inputs = torch.arange(n, dtype=torch.float32)[:, None, None].expand(n, 1, 2)
    return DeviceSet(inputs, None, torch.as_tensor(s), torch.as_tensor(e), H36M17, {}), s, e


def test_windows_clamp_to_their_view():
    view = np.array([0, 0, 0, 1, 1, 2])
    s, e = view_bounds(view)
    np.testing.assert_array_equal(s, [0, 0, 0, 3, 3, 5])
    np.testing.assert_array_equal(e, [2, 2, 2, 4, 4, 5])
    inputs = torch.arange(6, dtype=torch.float32)[:, None, None].expand(6, 1, 2)
    ds = DeviceSet(inputs, None, torch.as_tensor(s), torch.as_tensor(e), H36M17, {})
    w = ds.windows(torch.tensor([0, 3, 5]), 5)[..., 0, 0]
    torch.testing.assert_close(w, torch.tensor([[0.0, 0, 0, 1, 2], [3, 3, 3, 4, 4], [5, 5, 5, 5, 5]]))


@pytest.mark.parametrize("step", [1, 3])
def test_chunks_stay_in_their_view_and_match_the_windows(step):
    view = [0] * 20 + [1] * 3 + [2] * 14
    ds, s, e = _frames(view)
    idx = torch.arange(len(view))
    chunk, frames = 5, 7
    span = (chunk - 1) * step + 1
    win, out, valid = ds.chunk_index(idx, chunk, frames, step)
    assert win.shape == (len(view), span + frames - 1) and out.shape == valid.shape == (len(view), chunk)
    # every run starts at or before its anchor, stays in the anchor's view, its frames `step` apart
    assert (out[:, 0] <= idx).all()
    assert (out >= torch.as_tensor(s)[:, None]).all() and (out <= torch.as_tensor(e)[:, None]).all()
    assert (out[valid.all(1)].diff(dim=1) == step).all()
    # runs are full wherever the view is long enough; a shorter view masks the frames past its end
    length = torch.as_tensor(e - s + 1)
    torch.testing.assert_close(valid.sum(1), torch.clamp((length - 1) // step + 1, max=chunk))
    assert valid[torch.as_tensor(np.asarray(view) == 1)].sum(1).tolist() == [(2 // step) + 1] * 3
    # output k of a run sees exactly the window centred on its frame (edge padding included)
    for k in range(chunk):
        ok = valid[:, k]
        torch.testing.assert_close(win[ok, k * step : k * step + frames], ds.window_index(out[ok, k], frames))
    # anchors near a view's end move back rather than cross into the next view
    assert out[19].tolist() == list(range(20 - span, 20, step)) and out[20].tolist()[0] == 20
