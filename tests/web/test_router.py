"""web/router.py: the router that tries only the routes sharing a path's first segment picks, for
every path of the route table, the route Starlette's loop over every route would pick."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Match, Mount, Route, Router

from dailypapers.web.router import SegmentRouter, first_segment, literal_segment
from dailypapers.web.routes import route_table

METHODS = ("GET", "POST", "DELETE")
FILLS = ("2401.00001", "2026-11-30", "x")


def paths_of(route) -> set[str]:
    """Paths the route should take (each parameter filled a few ways), and near misses around them."""
    template = route.path + ("/css/site.css" if isinstance(route, Mount) else "")
    filled = {re.sub(r"\{[^}]*\}", fill, template) for fill in FILLS}
    near = {p + suffix for p in filled for suffix in ("/", "/upvote", "/comments", ".xml", "x")}
    return filled | near | {p.rstrip("/") + "/" for p in filled} | {"/" + p.strip("/").upper() for p in filled}


def starlette_pick(routes, scope) -> tuple[object, list]:
    """Starlette's own loop: the first full match, and every route matching the path alone."""
    full, partial = None, []
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL and full is None:
            full = route
        elif match is Match.PARTIAL:
            partial.append(route)
    return full, partial


def test_every_path_of_the_table_gets_the_route_starlettes_loop_gets():
    table = route_table()
    router = SegmentRouter(table)
    plain = Router(table)
    paths = set().union(*(paths_of(r) for r in table)) | {"/", "", "/nowhere", "//", "/papers//upvote"}
    checked = 0
    for path in sorted(paths):
        for method in METHODS:
            scope = {"type": "http", "method": method, "path": path, "root_path": ""}
            expected_full, expected_partial = starlette_pick(plain.routes, scope)
            got_full, got_partial = starlette_pick(router.candidates(path), scope)
            assert got_full is expected_full, (method, path)
            assert got_partial == expected_partial, (method, path)
            checked += expected_full is not None
    assert checked > 500  # the fills really reach the routes


@pytest.mark.parametrize(("path", "segment"), [
    ("/papers/{arxiv_id:path}", "papers"),
    ("/papers", "papers"),
    ("/", ""),
    ("/{anything}", None),
    ("/papers{suffix}", None),
    ("/feeds/{name}.xml", "feeds"),
])
def test_a_route_is_filed_under_its_literal_first_segment(path, segment):
    assert literal_segment(Route(path, lambda r: None)) == segment


def test_routes_without_a_literal_first_segment_are_tried_for_every_path():
    anywhere = Route("/{slug}", lambda r: None)
    papers = Route("/papers/{id}", lambda r: None)
    api = Route("/api/{x}", lambda r: None)
    router = SegmentRouter([papers, anywhere, api])
    assert router.candidates("/papers/1") == [papers, anywhere]
    assert router.candidates("/api/1") == [anywhere, api]
    assert router.candidates("/other") == [anywhere]
    assert first_segment("/api/papers/1") == "api" and first_segment("/") == ""
