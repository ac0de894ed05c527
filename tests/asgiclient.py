"""A synchronous client for the real ASGI app: httpx + ASGITransport, real HTTP semantics.

The event loop runs in its own thread, so it works even when another test (Playwright's
sync API) keeps a loop running in the main thread.
"""

from __future__ import annotations

import asyncio
import re
import threading

import httpx


class Client:
    def __init__(self, app, base_url: str = "http://testserver"):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url=base_url,
            follow_redirects=False,
        )

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        return self._run(self.http.request(method, url, **kwargs))

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    @staticmethod
    def csrf(page: httpx.Response) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def close(self) -> None:
        self._run(self.http.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
