"""Domain exceptions shared by services, the CLI and the web layer.

Services raise these; ``dailypapers.web.errors`` maps them to HTTP in one place
(Invalid -> 400, Forbidden -> 403, NotFound -> 404, TooLarge -> 413, RateLimited -> 429 with
Retry-After, Unavailable -> 503 with Retry-After).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: the message is safe to show to the user."""


class Invalid(DomainError, ValueError):
    """The input is malformed or out of range (HTTP 400).

    ``field`` names the form field at fault, when there is one, so a form can mark it.
    """

    def __init__(self, *args: object, field: str | None = None):
        super().__init__(*args)
        self.field = field


class NotFound(DomainError, LookupError):
    """The thing asked for does not exist (HTTP 404)."""


class Forbidden(DomainError):
    """The caller may not do this (HTTP 403)."""


class TooLarge(DomainError):
    """The request body is larger than the route accepts (HTTP 413); ``limit`` is that size in bytes."""

    def __init__(self, message: str = "the request body is too large", limit: int = 0):
        super().__init__(message)
        self.limit = limit


class RateLimited(DomainError):
    """Too many requests; try again after ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, message: str = "too many requests", retry_after: int = 60):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Unavailable(DomainError):
    """A service the site depends on (the database) cannot be reached just now (HTTP 503).

    Nothing was changed; the same request may succeed after ``retry_after`` seconds."""

    def __init__(self, message: str = "the database is unavailable", retry_after: int = 5):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


__all__ = ["DomainError", "Invalid", "NotFound", "Forbidden", "TooLarge", "RateLimited", "Unavailable"]
