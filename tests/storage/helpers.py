"""Papers for the store tests."""

import datetime as dt

from dailypapers.models import Paper

T0 = dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc)


def make(n: int, **kw) -> Paper:
    base = dict(
        arxiv_id=f"2608.{n:05d}", title=f"Paper {n}", abstract=f"Abstract {n} with <b>&</b> $x^2$",
        authors=["Ada Lovelace", "Alan Turing"], version=1, categories=["cs.CL", "cs.AI"], published=T0,
    )
    base.update(kw)
    return Paper(**base)
