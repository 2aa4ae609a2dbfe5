"""Temporal filters for lifted tracks: the One-Euro filter and the Savitzky-Golay filter.

A single-frame lifter sees every frame alone, and a detector's keypoints shake from frame to
frame, so the 3D of a track jitters even when the person stands still. Both filters run along
time within each track segment (never across two people or across a gap), batched over joints and
coordinates. Their effect on accuracy and on acceleration error is measured in
``benchmarks/smoothing.py`` (docs: Footage, "Smoothing").

- **One-Euro** (Casiez, Roussel and Vogel, CHI 2012): an exponential smoother whose cut-off
  frequency rises with speed, so slow motion is smoothed hard and fast motion lags little.
  Parameters: ``min_cutoff`` (Hz, the cut-off at rest; lower = smoother), ``beta`` (s/m for 3D in
  metres: how fast the cut-off grows with speed; higher = less lag) and ``d_cutoff`` (Hz, the
  cut-off of the speed estimate). Causal: it can run live.
- **Savitzky-Golay**: a least-squares polynomial of ``order`` fitted in a centred window of
  ``window`` frames (odd), evaluated at its centre; it keeps peaks better than a moving average.
  Not causal (it looks ``window // 2`` frames ahead).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Annotated

import numpy as np

from poseda.errors import PosedaInputError
from poseda.options import Opt

KINDS = ("none", "one-euro", "savgol")


@dataclass(frozen=True)
class Smoothing:
    """Which filter, with its parameters (defaults suit 3D in metres at video frame rates)."""

    kind: Annotated[str, Opt("--smooth", help="Temporal filter of each track's 3D: none, one-euro or savgol.")] = "none"
    min_cutoff: Annotated[float, Opt("--min-cutoff", help="One-Euro: cut-off at rest, Hz (lower = smoother).")] = 1.0
    beta: Annotated[float, Opt("--beta", help="One-Euro: how fast the cut-off rises with speed (higher = less lag).")] = 0.5
    d_cutoff: Annotated[float, Opt("--d-cutoff", help="One-Euro: cut-off of the speed estimate, Hz.")] = 1.0
    window: Annotated[int, Opt("--window", help="Savitzky-Golay: window in frames (odd).")] = 17
    order: Annotated[int, Opt("--order", help="Savitzky-Golay: polynomial order.")] = 2

    def __post_init__(self):
        if self.kind not in KINDS:
            raise PosedaInputError("--smooth", f"must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("min_cutoff", "d_cutoff"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0 < v <= 1000):
                raise PosedaInputError(f"--{name.replace('_', '-')}", f"must be above 0 and at most 1000 Hz, got {v}")
        if not (math.isfinite(self.beta) and 0 <= self.beta <= 1e6):
            raise PosedaInputError("--beta", f"must be from 0 to 1e6, got {self.beta}")
        if not (3 <= self.window <= 1001 and self.window % 2 == 1):
            raise PosedaInputError("--window", f"must be an odd number of frames from 3 to 1001, got {self.window}")
        if not (0 <= self.order < self.window):
            raise PosedaInputError("--order", f"must be from 0 to window - 1 ({self.window - 1}), got {self.order}")

    def describe(self) -> str:
        if self.kind == "one-euro":
            return f"One-Euro (min_cutoff {self.min_cutoff:g} Hz, beta {self.beta:g}, d_cutoff {self.d_cutoff:g} Hz)"
        if self.kind == "savgol":
            return f"Savitzky-Golay (window {self.window} frames, order {self.order})"
        return "none"

    def to_dict(self) -> dict:
        keep = {"one-euro": ("min_cutoff", "beta", "d_cutoff"), "savgol": ("window", "order")}.get(self.kind, ())
        return {"kind": self.kind, **{k: v for k, v in asdict(self).items() if k in keep}}


#: ``poseda demo``'s filter: measured best on Human3.6M's test sequences for clean and noisy 2D
#: alike (``benchmarks/smoothing.py``; docs: Footage, "Smoothing")
DEMO_SMOOTHING = Smoothing("savgol", window=17, order=2)


def _alpha(cutoff, dt: float):
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def one_euro(x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.5, d_cutoff: float = 1.0) -> np.ndarray:
    """One-Euro filter along the first axis of ``x`` [T, ...] sampled at ``fps``; every other
    axis is filtered at once (the loop runs over time only). The speed that sets the cut-off is
    each point's speed (the norm over the last axis), so x, y and z of a joint share one cut-off.

    >>> x = np.zeros((50, 1, 3)); x[25:] = 1.0          # a step
    >>> y = one_euro(x, fps=50, beta=0.0)
    >>> bool(0 < y[26, 0, 0] < y[40, 0, 0] < 1.0), float(y[24, 0, 0])
    (True, 0.0)
    """
    x = np.asarray(x, np.float64)
    if len(x) < 2:
        return x.copy()
    dt = 1.0 / fps
    out = np.empty_like(x)
    out[0] = prev = x[0]
    dprev = np.zeros(x.shape[1:])
    a_d = _alpha(d_cutoff, dt)
    for t in range(1, len(x)):
        d = (x[t] - prev) / dt
        dprev = a_d * d + (1 - a_d) * dprev
        speed = np.linalg.norm(dprev, axis=-1, keepdims=True)
        a = _alpha(min_cutoff + beta * speed, dt)
        prev = a * x[t] + (1 - a) * prev
        out[t] = prev
    return out


def savgol(x: np.ndarray, window: int = 9, order: int = 2) -> np.ndarray:
    """Savitzky-Golay filter along the first axis (SciPy's, with polynomial fits at the ends).
    A sequence shorter than the window is fitted in a window of its own length (odd) or left as is.

    >>> t = np.arange(20.0)[:, None]
    >>> bool(np.allclose(savgol(t ** 2, 7, 2), t ** 2))  # a quadratic passes unchanged
    True
    """
    from scipy.signal import savgol_filter

    x = np.asarray(x, np.float64)
    w = min(window, len(x) if len(x) % 2 else len(x) - 1)
    if w <= order or w < 3:
        return x.copy()
    return savgol_filter(x, w, order, axis=0, mode="interp")


def smooth(x: np.ndarray, fps: float, how: Smoothing) -> np.ndarray:
    """One sequence [T, ...] through the filter ``how`` describes."""
    if how.kind == "one-euro":
        return one_euro(x, fps, how.min_cutoff, how.beta, how.d_cutoff)
    if how.kind == "savgol":
        return savgol(x, how.window, how.order)
    return np.asarray(x, np.float64).copy()


def smooth_runs(x: np.ndarray, runs: np.ndarray, frames: np.ndarray, fps: float, how: Smoothing) -> np.ndarray:
    """Filter [N, ...] rows group by group: ``runs`` [N] labels each row's track segment and
    ``frames`` [N] its frame number; each segment is filtered in frame order on its own."""
    x = np.asarray(x, np.float64)
    out = x.copy()
    if how.kind == "none":
        return out
    runs = np.asarray(runs)
    for r in np.unique(runs):
        rows = np.flatnonzero(runs == r)
        rows = rows[np.argsort(frames[rows], kind="stable")]
        out[rows] = smooth(x[rows], fps, how)
    return out


def acceleration_error(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean over frames and joints of |a_pred - a_true| with a[t] = x[t-1] - 2 x[t] + x[t+1]
    (the acceleration error of HMMR / VIBE), in the input's units per frame squared; [T, J, 3]."""
    def acc(p):
        return p[:-2] - 2 * p[1:-1] + p[2:]
    if len(pred) < 3:
        return float("nan")
    return float(np.linalg.norm(acc(np.asarray(pred, np.float64)) - acc(np.asarray(truth, np.float64)), axis=-1).mean())
