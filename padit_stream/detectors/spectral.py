"""Spectral residual (Ren et al., KDD 2019, the detector behind Azure's anomaly service)."""

from __future__ import annotations

from collections import deque

import numpy as np

from padit_stream.detectors._stats import squash
from padit_stream.detectors.base import Detector, Observation, Verdict

__all__ = ["SpectralResidualDetector"]


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
        avg: Width of the moving average over the log spectrum.
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

    def __init__(
        self, window: int = 64, extend: int = 5, avg: int = 3, ratio_half: float = 3.0
    ) -> None:
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
        m = min(5, len(x) - 1)
        # Average slope from the newest point back to each of the m before it.
        grads = (x[-1] - x[-1 - np.arange(1, m + 1)]) / np.arange(1, m + 1)
        nxt = x[-m] + grads.mean() * m
        x = np.concatenate([x, np.full(self.extend, nxt)])
        spec = np.fft.fft(x - x.mean())
        amp = np.abs(spec)
        log_amp = np.log(amp + 1e-8)
        kernel = np.ones(self.avg) / self.avg
        smooth = np.convolve(log_amp, kernel, mode="same")
        resid = np.exp(log_amp - smooth)
        sal = np.abs(np.fft.ifft(resid * spec / (amp + 1e-8)))
        n = len(self._buf)
        base = float(sal[:n].mean())
        if base <= 0.0:
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
