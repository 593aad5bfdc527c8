"""``GET /api/v1/status``: version, configuration (secrets redacted), members, partition
ownership and consumer lag per partition (every member's, merged)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from faust.web import Request, Response

from padit_stream.api.base import LOCAL_HEADER, ApiView, members
from padit_stream.cluster import local_url, readiness

__all__ = ["StatusView", "redact"]

_SECRET_KEY = re.compile(r"(password|secret|token|api_key|routing_key|credential)", re.I)
REDACTED = "<redacted>"


def redact(doc: Any) -> Any:
    """The configuration with secret values replaced and credentials cut out of URLs.

    A key naming a secret keeps its value only when it names where the secret is (an
    ``..._env`` variable or ``..._file``), never the secret itself.

    Example:
        >>> redact({"smtp": {"password": "hunter2", "password_env": "SMTP_PASSWORD"},
        ...         "url": "https://u:p@example.net/hook?token=abc"})
        {'smtp': {'password': '<redacted>', 'password_env': 'SMTP_PASSWORD'}, \
'url': 'https://example.net/hook'}
    """
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            name = str(key)
            if (
                _SECRET_KEY.search(name)
                and not name.endswith(("_env", "_file"))
                and value not in (None, "")
            ):
                out[key] = REDACTED
            elif name.endswith("url") and isinstance(value, str):
                out[key] = _bare_url(value)
            else:
                out[key] = redact(value)
        return out
    if isinstance(doc, list):
        return [redact(v) for v in doc]
    return doc


def _bare_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class StatusView(ApiView):
    """``GET /api/v1/status``."""

    async def get(self, request: Request) -> Response:
        self.params(request).done()
        if request.headers.get(LOCAL_HEADER):
            return self.answer({"worker": local_url(self.app), "lag": self._lag()})
        stream = self.stream
        tables = stream.tables.all()
        docs = await self.fan_out(
            request, lambda: {"worker": local_url(self.app), "lag": self._lag()}, tables
        )
        lag = sorted(
            (entry for doc in docs for entry in doc["lag"]),
            key=lambda e: (e["topic"], e["partition"]),
        )
        ownership = {}
        for table in tables:
            topic = table.changelog_topic.get_topic_name()
            ownership[table.name] = {
                str(url).rstrip("/"): sorted(parts.get(topic, []))
                for url, parts in self.app.router.table_metadata(table.name).items()
            }
        return self.answer(
            {
                "version": self.ctx.version,
                "worker": local_url(self.app),
                "ready": readiness(self.app),
                "config": redact(stream.settings.model_dump(mode="json")),
                "members": members(self.app, tables),
                "partitions": ownership,
                "consumer_lag": lag,
            }
        )

    def _lag(self) -> list[dict[str, Any]]:
        """Lag of this worker's assigned input partitions: end offset minus next to read."""
        topics = self.stream.topics
        inputs = {
            t.get_topic_name()
            for t in (topics.metrics, topics.features, topics.anomalies, topics.alert_events)
        }
        consumer: Any = self.app.consumer
        try:
            assigned = consumer.assignment()
        except Exception:
            return []
        me = local_url(self.app)
        out = []
        for tp in sorted(assigned):
            if tp.topic not in inputs:
                continue
            end = consumer.highwater(tp)
            # Private Faust API (guarded by tests/unit/test_faust_internals.py): the offset
            # of the last record processed and acknowledged.
            committed = consumer._committed_offset.get(tp)
            next_offset = committed + 1 if committed is not None else 0
            out.append(
                {
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "worker": me,
                    "end_offset": end,
                    "committed_offset": committed,
                    "lag": max(0, end - next_offset) if end is not None else None,
                }
            )
        return out
