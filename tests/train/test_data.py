"""Epoch data on the device: windows and chunks of consecutive frames, clamped to their view."""
import numpy as np
import torch

from poseda.skeleton.layouts import H36M17
from poseda.train.data import DeviceSet, view_bounds


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


def test_chunks_stay_in_their_view_and_match_the_windows():
    view = [0] * 20 + [1] * 3 + [2] * 11
    ds, s, e = _frames(view)
    idx = torch.arange(len(view))
    chunk, frames = 5, 7
    win, out, valid = ds.chunk_index(idx, chunk, frames)
    assert win.shape == (len(view), chunk + frames - 1) and out.shape == valid.shape == (len(view), chunk)
    # every run starts at or before its anchor, stays in the anchor's view, and is consecutive
    assert (out[:, 0] <= idx).all()
    assert (out >= torch.as_tensor(s)[:, None]).all() and (out <= torch.as_tensor(e)[:, None]).all()
    # runs are full wherever the view is long enough; view 1 (3 frames) masks the frames past its end
    short = torch.as_tensor(np.asarray(view) == 1)
    assert valid[~short].all() and (valid[short].sum(1) == 3).all()
    # output k of a run sees exactly the window centred on its frame (edge padding included)
    for k in range(chunk):
        ok = valid[:, k]
        torch.testing.assert_close(win[ok, k : k + frames], ds.window_index(out[ok, k], frames))
    # anchors near a view's end move back rather than cross into the next view
    assert out[19].tolist() == [15, 16, 17, 18, 19] and out[20].tolist()[:3] == [20, 21, 22]
