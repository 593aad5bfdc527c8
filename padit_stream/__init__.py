"""PADIT stream job: anomaly detection over network metrics with Faust.

Importing this package does not import Faust: the pure parts (``padit_stream.core``,
``padit_stream.detectors``, ``padit_stream.evaluation``) are usable without a broker.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
