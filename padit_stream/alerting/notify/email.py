"""Email over SMTP with the standard library (``smtplib`` in a worker thread), plain,
STARTTLS or implicit TLS, with optional login (password from ``password_env``)."""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from padit_stream.alerting.config import EmailConfig, secret_from_env
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify.base import DeliveryError, Notifier
from padit_stream.schema import rfc3339

__all__ = ["EmailNotifier", "email_message"]


def email_message(
    notification: Notification, config: EmailConfig, now: float | None = None
) -> EmailMessage | None:
    """The message for one notification (``None`` if this integration has nothing to say).

    The ``Message-ID`` derives from the notification id, so a resend after a lost reply
    is recognisable as the same message.
    """
    alerts = list(notification.alerts) if config.send_resolved else notification.firing
    if not alerts:
        return None
    firing = [a for a in alerts if a.status == "firing"]
    status = f"FIRING:{len(firing)}" if firing else "RESOLVED"
    labels = " ".join(f"{k}={v}" for k, v in notification.group_labels.items())
    msg = EmailMessage()
    msg["Subject"] = f"{config.subject_prefix} [{status}] {labels}".strip()
    msg["From"] = config.from_
    msg["To"] = ", ".join(config.to)
    msg["Date"] = formatdate(notification.created_at if now is None else now, usegmt=True)
    digest = hashlib.sha256(notification.id.encode()).hexdigest()[:24]
    msg["Message-ID"] = f"<{digest}@padit.alerting>"
    msg["X-PADIT-Group-Key"] = notification.group_key
    lines = [f"{len(firing)} firing, {len(alerts) - len(firing)} resolved.", ""]
    for alert in alerts:
        lines += [
            f"[{alert.status.upper()}] {alert.severity}: {alert.title}",
            f"  {alert.description}",
            f"  source: {alert.source_id}  metric: {alert.metric_name}  score: {alert.score:.3f}",
            f"  started: {rfc3339(alert.starts_at)}"
            + (f"  ended: {rfc3339(alert.ends_at)}" if alert.ends_at is not None else ""),
            f"  alert id: {alert.alert_id}  fingerprint: {alert.fingerprint}",
        ]
        if alert.generator_url:
            lines.append(f"  details: {alert.generator_url}")
        lines.append("")
    msg.set_content("\n".join(lines))
    return msg


class EmailNotifier(Notifier):
    """Sends one email per notification to every address of ``to``."""

    kind = "email"

    def __init__(self, name: str, config: EmailConfig) -> None:
        super().__init__(name, config.send_resolved)
        self.config = config
        host, _, port = config.smarthost.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.password = (
            secret_from_env(config.password_env, f"{name}.password_env")
            if config.password_env
            else None
        )

    def render(self, notification: Notification) -> list[Any]:
        msg = email_message(notification, self.config)
        return [] if msg is None else [msg]

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.ca_file)

    def _send_blocking(self, msg: EmailMessage) -> None:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.tls:
            smtp = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=cfg.hello,
                timeout=cfg.timeout,
                context=self._ssl_context(),
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, local_hostname=cfg.hello, timeout=cfg.timeout)
        with smtp:
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=self._ssl_context())
                smtp.ehlo()
            if cfg.auth_username is not None and self.password is not None:
                smtp.login(cfg.auth_username, self.password)
            smtp.send_message(msg)

    async def send(self, message: Any, now: float) -> None:
        assert isinstance(message, EmailMessage)
        try:
            await asyncio.to_thread(self._send_blocking, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            retryable = all(400 <= code < 500 for code in codes)
            raise DeliveryError(
                f"{self.name}: recipients refused: {exc.recipients}", retryable
            ) from exc
        except smtplib.SMTPResponseException as exc:
            retryable = 400 <= exc.smtp_code < 500
            raise DeliveryError(
                f"{self.name}: SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Connection refused, reset, timeout, TLS failure: the server may come back.
            raise DeliveryError(f"{self.name}: {type(exc).__name__}: {exc}", True) from exc
