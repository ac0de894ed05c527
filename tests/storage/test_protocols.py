"""Both stores (SQLite and PostgreSQL) implement every narrow protocol, with the protocol's signatures."""

import inspect

import pytest

from dailypapers.storage import protocols

PROTOCOLS = [
    obj for obj in vars(protocols).values()
    if inspect.isclass(obj) and obj.__module__ == protocols.__name__ and getattr(obj, "_is_protocol", False)
]


def members(proto) -> set[str]:
    found: set[str] = set()
    for cls in proto.__mro__:
        if cls.__module__ == protocols.__name__:
            found |= {name for name in [*vars(cls), *vars(cls).get("__annotations__", {})]
                      if not name.startswith("_")}
    return found


def test_store_is_every_protocol_together():
    narrow = [p for p in PROTOCOLS if p is not protocols.Store]
    assert members(protocols.Store) == set().union(*(members(p) for p in narrow))


@pytest.mark.parametrize("proto", PROTOCOLS, ids=lambda p: p.__name__)
def test_the_store_has_the_same_signatures(proto, store):
    for name in members(proto):
        assert hasattr(store, name), name
        want = getattr(proto, name, None)
        if not callable(want):
            continue  # a data member (content_writes)
        got = inspect.signature(getattr(type(store), name))
        assert list(got.parameters) == list(inspect.signature(want).parameters), name
        defaults = {k: p.default for k, p in got.parameters.items()}
        assert defaults == {k: p.default for k, p in inspect.signature(want).parameters.items()}, name
