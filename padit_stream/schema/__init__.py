"""The records PADIT's topics carry, and their codecs: one schema for adapters and stream.

- :class:`Metric` (metrics topic): :func:`encode_metric`, :func:`decode_metric`, keyed by
  :func:`metric_key`;
- Features (features topic): :func:`encode_features`, read with :func:`decode_record`;
- :class:`Anomaly` (anomalies topic) and :class:`Alert` (alerts topic): ``encode`` /
  ``to_dict`` and ``from_dict``.

All values are compact JSON (orjson); keys are raw bytes.
"""

from padit_stream.schema.alert import (
    SEVERITY_RANK,
    Alert,
    AlertStatus,
    Anomaly,
    MuteState,
    MuteStatus,
    Severity,
    fingerprint,
    rfc3339,
)
from padit_stream.schema.features import (
    FEATURES_FIELDS,
    decode_record,
    encode_features,
    features_observation,
)
from padit_stream.schema.metric import (
    DEFAULT_LIMITS,
    MAX_JSON_DEPTH,
    DecodeLimits,
    Metric,
    decode_metric,
    encode_metric,
    metric_key,
    parse_metric_key,
    partition_for_key,
    quote,
    why_not_json,
)

__all__ = [
    "DEFAULT_LIMITS",
    "FEATURES_FIELDS",
    "MAX_JSON_DEPTH",
    "SEVERITY_RANK",
    "Alert",
    "AlertStatus",
    "Anomaly",
    "DecodeLimits",
    "Metric",
    "MuteState",
    "MuteStatus",
    "Severity",
    "decode_metric",
    "decode_record",
    "encode_features",
    "encode_metric",
    "features_observation",
    "fingerprint",
    "metric_key",
    "parse_metric_key",
    "partition_for_key",
    "quote",
    "rfc3339",
    "why_not_json",
]
