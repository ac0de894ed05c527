"""Sending email: an SMTP mailer, a console mailer for development, and templates.

Each email is a folder of templates (subject.txt, body.txt, body.html) plus a
context; render_email() turns them into a multipart message. Mailers raise
TemporaryMailError for 4xx replies (retry later) and PermanentMailError for
5xx replies (the address is failing).
"""

from __future__ import annotations

import smtplib
import ssl
import sys
import threading
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol, TextIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


class MailError(Exception):
    pass


class TemporaryMailError(MailError):
    """A 4xx reply or a connection problem: try again later."""


class PermanentMailError(MailError):
    """A 5xx reply: this address does not take our mail."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...
    def close(self) -> None: ...


def check_header_value(value: str, what: str) -> str:
    """Header injection guard: no CR or LF may reach a header."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} must not contain line breaks")
    return value


class TemplateMail:
    """Renders a template folder: <name>/subject.txt, body.txt and body.html."""

    def __init__(self, root: Path):
        self.root = root
        self.text_env = Environment(
            loader=FileSystemLoader(root), autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True
        )
        self.html_env = Environment(
            loader=FileSystemLoader(root), autoescape=select_autoescape(["html"]), undefined=StrictUndefined
        )

    def render(
        self,
        name: str,
        context: dict[str, Any],
        *,
        to: str,
        sender: str,
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        subject = " ".join(self.text_env.get_template(f"{name}/subject.txt").render(context).split())
        text = self.text_env.get_template(f"{name}/body.txt").render(context)
        html = self.html_env.get_template(f"{name}/body.html").render(context)
        msg = EmailMessage()
        msg["Subject"] = check_header_value(subject, "subject")
        msg["From"] = check_header_value(sender, "from address")
        msg["To"] = check_header_value(to, "recipient")
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or "localhost")
        for key, value in (headers or {}).items():
            msg[key] = check_header_value(value, key)
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg


class ConsoleMailer:
    """Prints messages instead of sending them (development)."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            body = message.get_body(("plain",))
            print(f"--- mail to {message['To']}: {message['Subject']}", file=self.stream)
            print(body.get_content() if body else message.as_string(), file=self.stream)

    def send_raw(self, sender: str, recipients: list[str], data: bytes) -> None:
        from email import message_from_bytes, policy

        self.send(message_from_bytes(data, policy=policy.default))

    def close(self) -> None:
        pass


class SMTPMailer:
    """One reused SMTP connection, reopened when the server drops it."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        security: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ):
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout
        self._conn: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                conn.starttls(context=context)
        if self.user:
            conn.login(self.user, self.password or "")
        return conn

    def send(self, message: EmailMessage) -> None:
        sender = parseaddr(message["From"])[1]
        recipients = [addr for _, addr in getaddresses(message.get_all("To", []))]
        # SMTP wants CRLF line ends; smtplib does not fix them in bytes.
        self.send_raw(sender, recipients, message.as_bytes(policy=message.policy.clone(linesep="\r\n")))

    def send_raw(self, sender: str, recipients: list[str], data: bytes) -> None:
        """Send pre-rendered MIME bytes (digests render their own: the email package costs ~5 ms)."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None:
                        self._conn = self._connect()
                    self._conn.sendmail(sender, recipients, data)
                    return
                except smtplib.SMTPServerDisconnected:
                    self._conn = None
                    if attempt == 2:
                        raise TemporaryMailError("the SMTP server closed the connection") from None
                except smtplib.SMTPRecipientsRefused as e:
                    code, reply = next(iter(e.recipients.values()))
                    raise _classify(code, reply) from None
                except smtplib.SMTPResponseException as e:
                    if e.smtp_code == 421:  # the server is closing this connection
                        self._conn = None
                    raise _classify(e.smtp_code, e.smtp_error) from None
                except (OSError, smtplib.SMTPException) as e:
                    self._conn = None
                    raise TemporaryMailError(f"cannot reach the SMTP server: {e}") from None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                self._conn = None


def _classify(code: int, reply: bytes | str) -> MailError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 400 <= code < 500:
        return TemporaryMailError(f"{code} {text}")
    return PermanentMailError(f"{code} {text}")


def mailer_from_settings(settings) -> Mailer:
    if not settings.smtp_host:
        return ConsoleMailer()
    return SMTPMailer(
        settings.smtp_host,
        settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_password,
    )
