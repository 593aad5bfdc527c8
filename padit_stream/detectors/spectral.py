"""Spectral residual (Ren et al., KDD 2019, the detector behind Azure's anomaly service)."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from padit_stream.detectors._stats import squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.space import FloatParam, IntParam, Param

__all__ = ["SpectralResidualDetector"]


def _trailing_mean(values: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    """Mean of each value and the ``n - 1`` before it (fewer at the start), as in the paper."""
    c = np.cumsum(values)
    out = c.copy()
    out[n:] = c[n:] - c[:-n]
    out[n:] /= n
    out[:n] /= np.arange(1, min(n, len(values)) + 1)
    return out


class SpectralResidualDetector(Detector):
    """Saliency of the newest value in the spectral-residual map of the recent window.

    The log amplitude spectrum minus its local average (the "spectral residual") keeps what
    is unexpected in the window; transformed back with the original phases it gives a
    saliency map whose peaks are the unusual points. The window is padded with a few
    extrapolated points so the newest value is not at the edge of the transform.

    Costs one FFT pair per row (tens of microseconds): not part of the default composite.

    Args:
        window: Past values in the transform.
        extend: Extrapolated points appended after the newest value.
        avg: Width of the trailing moving average over the log spectrum.
        score_window: Saliencies before the newest one that its ratio is taken against.
        ratio_half: Saliency ratio ``(S - mean S) / mean S`` that scores 0.5.

    Example:
        >>> d = SpectralResidualDetector(window=32)
        >>> for i in range(40):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 4)})
        >>> d.score_one({"timestamp": 40.0, "value": 40.0}) > d.score_one(
        ...     {"timestamp": 40.0, "value": 0.0})
        True
    """

    name = "spectral_residual"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "window": IntParam(16, 256, log=True),
        "avg": IntParam(1, 9),
        "score_window": IntParam(5, 100, log=True),
        "ratio_half": FloatParam(0.5, 20.0, log=True),
    }

    def __init__(
        self,
        window: int = 64,
        extend: int = 5,
        avg: int = 3,
        score_window: int = 21,
        ratio_half: float = 3.0,
    ) -> None:
        self.score_window = score_window
        self.window = window
        self.extend = extend
        self.avg = avg
        self.ratio_half = ratio_half
        self._buf: deque[float] = deque(maxlen=window)

    def _ratio(self, v: float) -> float:
        if len(self._buf) < max(8, self.avg + 2):
            return 0.0
        x = np.fromiter(self._buf, dtype=np.float64, count=len(self._buf))
        x = np.append(x, v)
        # The paper's extrapolation, from the points before the newest one (so an outlier in
        # the newest point does not leak into the padding): summed slopes to the last of them.
        prev = x[-7:-1]
        k = len(prev)
        last = prev[-1]
        slopes = (last - prev[:-1]) / (k - 1 - np.arange(k - 1))
        nxt = float(prev[1] + slopes.sum()) if k > 2 else float(last)
        x = np.concatenate([x, np.full(self.extend, nxt)])
        spec = np.fft.fft(x)
        amp = np.abs(spec)
        amp[amp < 1e-8] = 1e-8
        log_amp = np.log(amp)
        resid = np.exp(log_amp - _trailing_mean(log_amp, self.avg))
        sal = np.abs(np.fft.ifft(spec * (resid / amp)))
        n = len(self._buf)
        lo = max(0, n - self.score_window)
        base = float(sal[lo:n].mean())
        if base <= 1e-12:
            return 0.0
        return max(0.0, (float(sal[n]) - base) / base)

    def learn_one(self, x: Observation) -> None:
        self._buf.append(float(x["value"]))

    def score_one(self, x: Observation) -> float:
        return squash(self._ratio(float(x["value"])), self.ratio_half)

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        r = self._ratio(v)
        return Verdict(
            squash(r, self.ratio_half),
            {
                "value": v,
                "saliency_ratio": r,
                "ratio_half": self.ratio_half,
                "window": len(self._buf),
                "rule": "score = r / (r + ratio_half), r = (S - mean S) / mean S",
            },
        )
