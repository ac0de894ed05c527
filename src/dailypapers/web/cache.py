"""The in-process cache of rendered responses, and how a cached entry goes out.

Rendered pages (and API answers, feeds) are reused for a few seconds, keyed by what was asked and
the store's content version, so the busiest page (/) costs a dict lookup. A cached page that holds
a CSRF field is stored with a placeholder and personalized on the way out; its gzip is spliced
around the visitor's token instead of being recompressed.

Level 1, asked for what is served once or twice (search pages and answers, a member's own copy of
a page), deflates with ISA-L (python-isal) rather than zlib: on a 66 KB search page about a
quarter of zlib's CPU (0.12 against 0.5 ms), and 1% smaller (BENCHMARKS.md, issue 13). Higher
levels, for pages served thousands of times, stay with zlib: its level 6 is 14% smaller than any
of ISA-L's.

An entry over 1 KB keeps its gzip only, not its body as well: a search page is 64 KB of HTML and 12
KB of gzip, so the 512 entries a worker keeps hold ~6 MB of search pages instead of ~39 MB. Every
browser and HTTP library asks for gzip; a client that does not, and a member's own copy of a page
(made from the shared body), get the body inflated again: 0.1-0.15 ms for a search page.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import struct
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from isal import igzip, isal_zlib
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.web.security import CSRF_PLACEHOLDER, csrf_token

PAGE_TTL = 5.0  # seconds a rendered page is reused (within one store version)
CACHE_ENTRIES = 512
CACHE_BYTES = 64 * 1024 * 1024  # bodies and their gzip; the setting page_cache_mb
ENTRY_OVERHEAD = 1024  # the entry, its key and headers, roughly
RENDER_THREADS = 3  # threads per process rendering cache misses (see PageCache.__init__)
FAST_LEVEL = 1  # the gzip level that ISA-L makes (see the module's docstring)


@dataclass
class CacheEntry:
    raw: bytes | None  # the body, kept for entries too small to gzip (see `body`)
    gz: bytes | None
    etag: str
    status: int
    personalized: bool
    expires: float
    extra: dict | None = None  # headers to send with it (e.g. Link)
    gz_parts: list[bytes] | None = None  # personalized pages: deflated pieces around the token
    vote_ids: tuple[str, ...] = ()  # papers with an upvote button on the page (web/personal.py)
    part_sums: list[tuple[int, int]] | None = None  # CRC-32 and length of each piece gz_parts deflates
    follows: bool = False  # the page has follow buttons (web/personal.py)

    @property
    def body(self) -> bytes:
        """The body: kept when small, else inflated from the gzip on each call."""
        if self.raw is not None:
            return self.raw
        if self.gz is not None:
            return igzip.decompress(self.gz)
        assert self.gz_parts is not None  # make_entry keeps one of the three
        return CSRF_PLACEHOLDER.encode().join(isal_zlib.decompress(p + _DEFLATE_END, wbits=-15)
                                              for p in self.gz_parts)

    @property
    def size(self) -> int:
        """Bytes held, for the cache's bound."""
        return (len(self.raw or b"") + len(self.gz or b"") + sum(len(p) for p in self.gz_parts or ())
                + ENTRY_OVERHEAD)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_DEFLATE_END = b"\x03\x00"  # an empty final block


def _deflate_piece(data: bytes, level: int = 6) -> bytes:
    """Raw deflate blocks ending byte-aligned (sync flush), so pieces can be concatenated."""
    if level == FAST_LEVEL:
        fast = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
        return fast.compress(data) + fast.flush(isal_zlib.Z_SYNC_FLUSH)
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def gzip_bytes(body: bytes, level: int) -> bytes:
    """`body` gzipped (mtime 0, so the same body gives the same bytes): level 1 by ISA-L."""
    if level == FAST_LEVEL:
        return igzip.compress(body, level, mtime=0)
    return gzip.compress(body, level, mtime=0)


def _stored_block(data: bytes) -> bytes:
    """A non-final stored (uncompressed) deflate block: how the per-visitor token goes in."""
    out = []
    for i in range(0, len(data), 65535):
        chunk = data[i : i + 65535]
        out.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(out)


def personalized_gzip(parts: list[bytes], token: bytes, sums: list[tuple[int, int]]) -> bytes:
    """gzip of the pieces joined by `token`, without the pieces: `parts` are their deflated blocks,
    `sums` their CRC-32s and lengths, which give the whole body's by combination."""
    pieces = [_GZIP_HEADER]
    tok = _stored_block(token)
    tok_crc = zlib.crc32(token)
    crc, size = sums[0]
    for i, part in enumerate(parts):
        if i:
            pieces.append(tok)
            part_crc, part_len = sums[i]
            crc = isal_zlib.crc32_combine(isal_zlib.crc32_combine(crc, tok_crc, len(token)), part_crc, part_len)
            size += len(token) + part_len
        pieces.append(part)
    pieces.append(_DEFLATE_END)
    pieces.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(pieces)


class PageCache:
    """Entries by key, and the threads that render misses (each key at most once at a time).

    Bounded both ways, least recently stored out first: `size` entries and `max_bytes` of bodies
    with their gzip (an API answer is a few KB, a week page hundreds), so a worker's memory does
    not follow the variety of what is asked."""

    def __init__(self, ttl: float = PAGE_TTL, size: int = CACHE_ENTRIES, threads: int = RENDER_THREADS,
                 max_bytes: int = CACHE_BYTES):
        self.ttl = ttl
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[Any, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[Any, asyncio.Future] = {}
        # Renders (and the searches inside them) are CPU work under the GIL: a few threads keep up
        # with the cores, and misses queue in order instead of 40 threads slicing the same cores
        # (A/B with `bench/bench_web.py --only search`, 2 cores, 16 connections: p99 120-140 ms
        # with 3 threads, 160-250 ms with 40.)
        # Other blocking work (mail, password hashing) keeps Starlette's own pool.
        self._render_pool = ThreadPoolExecutor(threads, thread_name_prefix="dailypapers-render")

    def get(self, key) -> CacheEntry | None:
        entry = self._data.get(key)
        if entry is None or entry.expires < time.monotonic():
            return None
        return entry

    def peek(self, key) -> CacheEntry | None:
        """The entry even if it has expired (to serve while a fresh one renders)."""
        return self._data.get(key)

    def put(self, key, entry: CacheEntry) -> None:
        size = entry.size
        if size > self.max_bytes:
            return  # larger than the whole cache: served, not kept
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self._data[key] = entry
            self.bytes += size
            while len(self._data) > self.size or self.bytes > self.max_bytes:
                _, dropped = self._data.popitem(last=False)
                self.bytes -= dropped.size

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    async def entry(self, key, work: Callable[[], CacheEntry]) -> CacheEntry:
        """The cached entry for this key, rendering it at most once at a time per process.

        A miss renders in a worker thread while concurrent requests for the same key wait for that
        one render (no stampede). An expired entry (same content version: the key holds it) is still
        served while one background render refreshes it.
        """
        entry = self.peek(key)
        if entry is not None and entry.expires >= time.monotonic():
            return entry
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.get_running_loop().run_in_executor(self._render_pool, work)
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._rendered, key))
        if entry is not None:
            return entry
        return await asyncio.shield(task)

    def _rendered(self, key, task: asyncio.Future) -> None:
        self._inflight.pop(key, None)
        if task.cancelled():
            return
        if task.exception() is None:
            self.put(key, task.result())


def make_entry(body: bytes, status: int = 200, ttl: float = PAGE_TTL, level: int = 6) -> CacheEntry:
    """A cache entry, gzipped once at `level` (the default suits pages served many times)."""
    personalized = CSRF_PLACEHOLDER.encode() in body
    big = len(body) > 1024
    gz = gzip_bytes(body, level) if big and not personalized else None
    parts = sums = None
    if big and personalized:
        pieces = body.split(CSRF_PLACEHOLDER.encode())
        parts = [_deflate_piece(p, level) for p in pieces]
        sums = [(zlib.crc32(p), len(p)) for p in pieces]
    etag = 'W/"' + hashlib.sha1(body).hexdigest()[:20] + '"'
    return CacheEntry(None if big else body, gz, etag, status, personalized, time.monotonic() + ttl,
                      gz_parts=parts, part_sums=sums)


def etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in header.split(","))


def entry_response(request: Request, entry: CacheEntry, media_type: str, cache_control: str,
                   extra_headers: dict[str, str] | None = None) -> Response:
    gz, etag, cache = entry.gz, entry.etag, cache_control
    wants_gzip = "gzip" in request.headers.get("accept-encoding", "")
    token = b""
    if entry.personalized:
        # The page holds this visitor's CSRF token: never shared, revalidated every time (ETag -> 304).
        token = csrf_token(request).encode()
        etag = etag[:-1] + "-" + hashlib.sha1(token).hexdigest()[:8] + '"'
        cache = "private, max-age=0, must-revalidate"
        if entry.gz_parts and entry.part_sums and wants_gzip:
            gz = personalized_gzip(entry.gz_parts, token, entry.part_sums)
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    if extra_headers:
        headers.update(extra_headers)
    if entry.status == 200 and etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    if gz is not None and wants_gzip:
        headers["Content-Encoding"] = "gzip"
        return Response(gz, status_code=entry.status, media_type=media_type, headers=headers)
    body = entry.body
    if entry.personalized:
        body = body.replace(CSRF_PLACEHOLDER.encode(), token)
    return Response(body, status_code=entry.status, media_type=media_type, headers=headers)


__all__ = [
    "PAGE_TTL", "CACHE_BYTES", "CACHE_ENTRIES", "CacheEntry", "PageCache", "make_entry", "etag_matches",
    "entry_response", "personalized_gzip", "gzip_bytes",
]
