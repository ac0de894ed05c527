"""Level 1 (search pages and answers, a member's own copy of a page) is deflated by ISA-L, the other
levels by zlib: either way the stored gzip, and the one spliced around a visitor's CSRF token,
decompress with the standard library to the very body."""

from __future__ import annotations

import gzip
import zlib

import pytest

from dailypapers.web.cache import ENTRY_OVERHEAD, gzip_bytes, make_entry, personalized_gzip
from dailypapers.web.security import CSRF_PLACEHOLDER

pytestmark = pytest.mark.sqlite_only  # no store is read

P = CSRF_PLACEHOLDER
BODIES = [
    "<p>" + "abc " * 2000 + P + " middle " * 300 + P + "</p>",
    P + "<ul>" + "".join(f"<li>row {i} ü ▲</li>" for i in range(3000)) + "</ul>" + P,  # at both ends
    "x" * 1500 + P + P + "y" * 1500,  # an empty piece between two tokens
    "<html>" + "".join(f"<p>{i * 7919 % 10007}</p>" for i in range(5000)) + "</html>",  # no token
]


@pytest.mark.parametrize("level", [1, 6])
@pytest.mark.parametrize("text", BODIES, ids=["middle", "ends", "adjacent", "no-token"])
def test_the_stored_and_spliced_gzip_decompress_to_the_body(level, text):
    body = text.encode()
    entry = make_entry(body, level=level)
    token = b"f" * 64
    if entry.personalized:
        full = body.replace(P.encode(), token)
        gz = personalized_gzip(entry.gz_parts, token, entry.part_sums)
    else:
        full, gz = body, entry.gz
    assert gz is not None
    assert gzip.decompress(gz) == full
    assert zlib.decompressobj(31).decompress(gz) == full
    assert len(gz) < len(full) / 3
    assert entry.raw is None and entry.body == body  # only the gzip is kept; the body comes back from it
    assert entry.size - ENTRY_OVERHEAD < len(body) / 3


def test_level_1_is_isa_l_and_about_as_small_as_zlibs():
    body = "".join(f'<li><a href="/papers/2608.{i:05d}">Paper {i}</a> {i * 31 % 97} upvotes</li>\n'
                   for i in range(2000)).encode()
    fast = gzip_bytes(body, 1)
    assert gzip.decompress(fast) == body
    assert fast != gzip.compress(body, 1, mtime=0)  # not zlib's stream
    assert len(fast) < len(gzip.compress(body, 1, mtime=0)) * 1.1
    assert gzip_bytes(body, 1) == fast  # the same body, the same bytes (mtime 0)
    assert gzip_bytes(body, 6) == gzip.compress(body, 6, mtime=0)
