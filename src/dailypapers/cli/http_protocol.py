"""The HTTP protocol `serve` runs: uvicorn's httptools protocol with the limits it lacks.

uvicorn closes an idle keep-alive connection after a response, but waits without limit for the
first request on a new connection, for slow headers and for a slow body, and takes request
headers of any size. Here, per connection:

* the request line and headers must arrive within ``header_timeout`` seconds of the connection
  opening or of the previous response (a new connection that sends nothing is closed; one that
  sent part of a request gets 408);
* they may be at most ``max_header_bytes`` long (431, then the connection closes);
* once the headers are in, the whole body must arrive within ``body_timeout`` seconds, or the
  connection closes (the handler sees the client go away: web/errors.py logs one line).

Behind a reverse proxy these also bound what the proxy may hold open (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dailypapers.config import Settings


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float
    body_timeout: float
    max_header_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(settings.header_timeout, settings.body_timeout, settings.max_header_bytes)


def _raw_response(status: int, reason: str) -> bytes:
    body = f"{status} {reason}\n".encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body


class GuardedHttpProtocol(HttpToolsProtocol):
    limits: ClassVar[ConnectionLimits] = ConnectionLimits(10.0, 60.0, 16384)  # `for_settings` sets them

    @classmethod
    def for_settings(cls, settings: Settings) -> type[GuardedHttpProtocol]:
        return type("GuardedHttpProtocol", (cls,), {"limits": ConnectionLimits.of(settings)})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = self.limits
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = True
        self._head_bytes = 0
        self._refused = False  # a 431 was sent: nothing more is parsed on this connection

    def _refuse(self, status: int, reason: str) -> None:
        self._disarm()
        self._refused = True
        self.transport.write(_raw_response(status, reason))
        self.transport.close()

    # -- the timers ---------------------------------------------------------------------------
    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, what: str) -> None:
        self._deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        if what == "head" and self._head_bytes:
            self.transport.write(_raw_response(408, "Request Timeout"))
        # A body that stopped coming: closing makes the handler's receive() see a disconnect.
        self.transport.close()

    def _start_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._arm(self._guard.header_timeout, "head")

    # -- uvicorn's hooks ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self._guard.max_header_bytes and not self.transport.is_closing():
            self._refuse(431, "Request Header Fields Too Large")

    def on_headers_complete(self) -> None:
        self._in_head = False
        # Exact size of what was parsed (a single read may have held more than the cap).
        size = len(self.url) + sum(len(k) + len(v) + 4 for k, v in self.headers)
        if size > self._guard.max_header_bytes:
            self._refuse(431, "Request Header Fields Too Large")
            return
        self._arm(self._guard.body_timeout, "body")
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_head()


__all__ = ["GuardedHttpProtocol", "ConnectionLimits"]
