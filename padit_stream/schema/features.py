"""Features records (a window's features, published on the series' cadence) and the decode
of any JSON object record with its required fields; orjson keeps both off the profile."""

from __future__ import annotations

from typing import Any

import orjson

from padit_stream.core.features import FeatureSet
from padit_stream.errors import DecodeError
from padit_stream.schema.metric import why_not_json

__all__ = [
    "FEATURES_FIELDS",
    "decode_record",
    "encode_features",
    "features_observation",
]

#: Fields a Features record must have for the detectors.
FEATURES_FIELDS = ("source_id", "metric_name", "window_end", "last")


def encode_features(source_id: str, metric_name: str, features: FeatureSet) -> bytes:
    """A Features record."""
    doc: dict[str, Any] = {"source_id": source_id, "metric_name": metric_name}
    doc.update(zip(FeatureSet._fields, features, strict=True))
    return orjson.dumps(doc)


def features_observation(doc: dict[str, Any]) -> dict[str, float]:
    """What detectors see from a Features record: ``timestamp``, ``value`` and the features."""
    obs = {k: v for k, v in doc.items() if isinstance(v, int | float)}
    obs["timestamp"] = doc["window_end"]
    obs["value"] = doc["last"]
    return obs


def decode_record(data: bytes, required: tuple[str, ...]) -> dict[str, Any]:
    """Decode a JSON object and check that ``required`` fields are present.

    Raises:
        DecodeError: not a JSON object or a field is missing.
    """
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(why_not_json(data, exc)) from exc
    if not isinstance(doc, dict):
        raise DecodeError(f"expected a JSON object, got {type(doc).__name__}")
    missing = [f for f in required if f not in doc]
    if missing:
        raise DecodeError(f"missing field(s) {', '.join(missing)}")
    return doc
