"""The worker process: Faust's worker, with a shutdown that always completes.

A worker stuck in its own shutdown (a flush waiting for a broker that is gone, a component
that ignores cancellation) keeps answering ``/health`` and holds its partitions' state:
a liveness probe would keep that zombie in service. So once a shutdown starts (SIGTERM,
SIGINT, or a crash of any component), a watchdog thread gives it ``shutdown_timeout``
seconds: at half time the batch sender stops retrying (what was not sent is read again
from the uncommitted input by the next owner), and at the end the process exits at once
with a non-zero status, for its supervisor to restart it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import faust

__all__ = ["PaditWorker", "Watchdog"]

logger = logging.getLogger(__name__)

#: Exit status when the watchdog ends a shutdown that did not complete in time.
EXIT_FORCED = 70


class Watchdog:
    """Ends the process if a shutdown has not completed ``timeout`` seconds after it began.

    Args:
        timeout: seconds from :meth:`arm` to the forced exit.
        on_half_time: called (from the watchdog thread) at half the timeout.
        exit: how the process ends (``os._exit``; tests pass a recorder).
    """

    def __init__(
        self,
        timeout: float,
        on_half_time: Callable[[], None] = lambda: None,
        exit: Callable[[int], Any] = os._exit,
    ) -> None:
        self.timeout = timeout
        self.on_half_time = on_half_time
        self._exit = exit
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.reason = ""

    @property
    def armed(self) -> bool:
        return self._thread is not None

    def arm(self, reason: str) -> None:
        """Start the countdown (once; later calls keep the first deadline)."""
        with self._lock:
            if self._thread is not None:
                return
            self.reason = reason
            self._thread = threading.Thread(
                target=self._run, name="padit-shutdown-watchdog", daemon=True
            )
            self._thread.start()
        logger.info("shutdown (%s): the process ends within %.0f s", reason, self.timeout)

    def _run(self) -> None:
        time.sleep(self.timeout / 2)
        try:
            self.on_half_time()
        except Exception:
            logger.exception("shutdown watchdog: half-time hook failed")
        time.sleep(self.timeout / 2)
        logger.critical(
            "shutdown (%s) did not complete within %.0f s: exiting now", self.reason, self.timeout
        )
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):  # a broken handler must not stop the exit
                handler.flush()
        sys.stderr.flush()
        self._exit(EXIT_FORCED)


class PaditWorker(faust.Worker):
    """Faust's worker; a signal arms the app's shutdown watchdog before stopping."""

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        app.padit_worker = self

    def _schedule_shutdown(self, signal: signal.Signals) -> None:
        watchdog: Watchdog | None = getattr(self.app, "watchdog", None)
        if watchdog is not None:
            watchdog.arm(f"signal {signal.name}")
        super()._schedule_shutdown(signal)

    def request_shutdown(self) -> None:
        """Stop as on SIGTERM (from inside the process, e.g. after a crash)."""
        self._schedule_shutdown(signal.SIGTERM)
