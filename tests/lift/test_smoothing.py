import numpy as np
import pytest

from poseda.errors import PosedaInputError
from poseda.lift.smoothing import Smoothing, acceleration_error, one_euro, savgol, smooth_runs


def test_filters_remove_jitter_and_keep_a_still_pose():
    rng = np.random.default_rng(0)
    still = np.tile(rng.normal(size=(1, 16, 3)), (200, 1, 1))
    noisy = still + rng.normal(0, 0.01, still.shape)
    for how in (Smoothing("one-euro"), Smoothing("savgol", window=15)):
        out = smooth_runs(noisy, np.zeros(200, int), np.arange(200), 50.0, how)
        assert acceleration_error(out, still) < 0.25 * acceleration_error(noisy, still)
        assert np.abs(out - still)[20:].mean() < 0.5 * np.abs(noisy - still)[20:].mean()
    assert np.allclose(one_euro(still, 50.0), still) and np.allclose(savgol(still, 9, 2), still)


def test_one_euro_lags_less_with_a_larger_beta():
    t = np.arange(100) / 50.0
    ramp = np.stack([t * 2.0, 0 * t, 0 * t], -1)[:, None]  # 2 m/s
    lag = {b: np.abs(one_euro(ramp, 50.0, min_cutoff=0.5, beta=b) - ramp)[50:].mean() for b in (0.0, 5.0)}
    assert lag[5.0] < 0.3 * lag[0.0]


def test_tracks_are_filtered_apart_and_in_frame_order():
    a, b = np.zeros((30, 2, 3)), np.ones((30, 2, 3))
    x = np.concatenate([a, b])
    runs = np.repeat([0, 1], 30)
    frames = np.concatenate([np.arange(30)[::-1], np.arange(30)])  # the first track listed backwards
    for kind in ("one-euro", "savgol"):
        out = smooth_runs(x, runs, frames, 30.0, Smoothing(kind))
        assert np.allclose(out, x)  # nothing leaks from one person into the other
    ramp = np.arange(30.0)[:, None, None] * np.ones((1, 2, 3))
    out = smooth_runs(ramp[::-1], np.zeros(30, int), np.arange(30)[::-1], 30.0, Smoothing("savgol", window=5, order=1))
    assert np.allclose(out, ramp[::-1])  # a line in frame order is kept exactly


@pytest.mark.parametrize("kwargs, where", [
    (dict(kind="kalman"), "--smooth"), (dict(kind="one-euro", min_cutoff=0.0), "--min-cutoff"),
    (dict(kind="one-euro", beta=float("nan")), "--beta"), (dict(kind="savgol", window=4), "--window"),
    (dict(kind="savgol", window=5, order=5), "--order"), (dict(d_cutoff=-1.0), "--d-cutoff"),
])
def test_bad_parameters_are_named(kwargs, where):
    with pytest.raises(PosedaInputError, match=where):
        Smoothing(**kwargs)


def test_acceleration_error_of_a_perfect_prediction_is_zero():
    x = np.random.default_rng(1).normal(size=(10, 3, 3))
    assert acceleration_error(x, x) == 0.0 and np.isnan(acceleration_error(x[:2], x[:2]))
