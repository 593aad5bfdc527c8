"""The topics PADIT declares: the feedback topic is compacted, one partition."""

from __future__ import annotations

from typing import Any

from padit_stream.settings import Settings
from padit_stream.topics import create_topics


class _App:
    def topic(self, *names: str, **kw: Any) -> dict[str, Any]:
        return {"name": names[0], **kw}


def test_feedback_topic_is_compacted_and_owned() -> None:
    topics = create_topics(_App(), Settings())
    fb = topics.feedback
    assert fb["name"] == "padit.feedback.v1"
    assert fb["compacting"] is True
    assert fb["partitions"] == 1
    assert fb in topics.all()
    assert not topics.metrics["compacting"]
