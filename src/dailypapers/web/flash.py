"""One-shot messages after a POST-redirect-GET ("Pinned “Title”."): the POST sets a short-lived signed
cookie, the page it redirects to shows the message once and clears the cookie.

Signed so that nobody can make the site show text of their choosing; kept out of the URL so a
reload or a bookmark does not repeat it.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.web.requests import redirect, services
from dailypapers.web.security import cookie_kwargs

FLASH_COOKIE = "dp_flash"
MAX_AGE = 120  # seconds: long enough for a slow redirect, short enough never to surface later
MAX_TEXT = 400


@dataclass(frozen=True)
class Flash:
    text: str
    kind: str = "status"  # "status" (done) or "error" (refused)
    field: str | None = None  # the form field an error is about
    value: str = ""  # what was typed there, to fill it in again


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services(request).signing_key, salt="dailypapers.flash")


def flash_redirect(request: Request, url: str, flash: Flash) -> Response:
    """A 303 to `url` carrying `flash` for the next page."""
    response = redirect(url)
    payload = {"t": flash.text[:MAX_TEXT], "k": flash.kind, "f": flash.field, "v": flash.value[:MAX_TEXT]}
    response.set_cookie(FLASH_COOKIE, _serializer(request).dumps(payload), max_age=MAX_AGE,
                        **cookie_kwargs(services(request).settings))
    return response


def read_signed_cookie(request: Request, name: str, serializer: URLSafeTimedSerializer,
                       max_age: int) -> dict | None:
    """The payload of a short-lived signed cookie, or None when it is missing, expired or forged."""
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        data = serializer.loads(raw, max_age=max_age)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def take_flash(request: Request) -> Flash | None:
    """The message waiting for this page, if any (call clear_flash on the response)."""
    if not request.cookies.get(FLASH_COOKIE):
        return None  # most pages: no signer to build (nor, in development, the key file to read)
    data = read_signed_cookie(request, FLASH_COOKIE, _serializer(request), MAX_AGE)
    if data is None or not isinstance(data.get("t"), str):
        return None
    kind = "error" if data.get("k") == "error" else "status"
    field, value = data.get("f"), data.get("v")
    return Flash(data["t"], kind, field if isinstance(field, str) else None, value if isinstance(value, str) else "")


def clear_flash(request: Request, response: Response) -> Response:
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, **cookie_kwargs(services(request).settings))
    return response


__all__ = ["Flash", "FLASH_COOKIE", "flash_redirect", "take_flash", "clear_flash", "read_signed_cookie"]
