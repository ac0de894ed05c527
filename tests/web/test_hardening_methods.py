"""Issue 16, TRACE and ``Allow``: no route ever answers TRACE (it would echo the request), and every 405
names every method its path's routes take, the same as /openapi.json documents (web/guard.py). The
router alone named only its first matching route's methods (TRACE /login: "GET, HEAD", not POST).
Real HTTP through the app (httpx over ASGI), over the whole route table."""

from __future__ import annotations

import re

from starlette.routing import Route

from dailypapers.web.routes import route_table
from dailypapers.web.security import CORS_PREFIXES

MARK = "echo-me-6b1f"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "2608.19880", path)


def allow(r) -> set[str]:
    return {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}


def test_trace_is_refused_on_every_route_and_its_allow_names_what_the_path_takes(client):
    routes = [r for r in route_table() if isinstance(r, Route)]
    paths = sorted({concrete(r.path) for r in routes})
    assert len(paths) > 100
    for path in paths:
        r = client.request("TRACE", path, headers={"X-Mark": MARK}, content=MARK.encode())
        assert r.status_code == 405, (path, r.status_code)
        assert MARK not in r.text, path
        taken = set().union(*(route.methods or () for route in routes if route.path_regex.match(path)))
        assert allow(r) == taken, (path, allow(r), taken)
        # every method it names is taken: a write without a CSRF token is refused (403), not a 405
        for method in sorted(allow(r) & set(WRITES)):
            assert client.request(method, path).status_code != 405, (path, method)


def test_every_405_agrees_with_the_openapi_document(client):
    doc = client.get("/openapi.json").json()
    for path, operations in doc["paths"].items():
        documented = {m.upper() for m in operations if m.upper() in ("GET", *WRITES)}
        for method in ("TRACE", "OPTIONS", "GET", *WRITES):
            if method in documented or (method == "OPTIONS" and path.startswith(CORS_PREFIXES)):
                continue  # a CORS preflight (web/security.py)
            r = client.request(method, concrete(path))
            assert r.status_code == 405, (method, path, r.status_code)
            assert allow(r) - {"HEAD"} == documented, (method, path, allow(r), documented)


def test_a_get_on_a_path_of_writes_alone_names_all_of_them(client):
    r = client.get("/api/reading/2608.19880")  # PUT and DELETE, two routes
    assert r.status_code == 405 and allow(r) == {"PUT", "DELETE"}
    r = client.request("OPTIONS", "/login")  # not a CORS path: no preflight
    assert r.status_code == 405 and allow(r) == {"GET", "HEAD", "POST"}


def test_a_get_on_an_action_under_a_paper_is_its_405_not_the_paper_page(client):
    # The paper routes' {arxiv_id:path} took "2608.19880/upvote" as an id: GET was the page's 404,
    # and every other method's 405 named GET and HEAD, which the path does not take.
    actions = [r for r in route_table() if isinstance(r, Route) and re.match(r"^(/api)?/papers/\{arxiv_id:path\}/",
                                                                              r.path)]
    assert len(actions) >= 5
    for route in actions:
        for arxiv_id in ("2608.19880", "hep-th/9901001"):
            path = route.path.replace("{arxiv_id:path}", arxiv_id)
            taken = set().union(*(r.methods or () for r in actions if r.path == route.path))
            for method in ("GET", "TRACE"):
                if method in taken:
                    continue
                r = client.request(method, path)
                assert r.status_code == 405 and allow(r) == taken, (method, path, r.status_code, allow(r))
    r = client.get("/api/papers/submit")
    assert r.status_code == 405 and allow(r) == {"POST"}
    # the page and the API still take every id, old-style ones with their slash too (not held here: 404)
    assert client.get("/papers/2608.19880").status_code == 200
    assert client.get("/api/papers/2608.19880").json()["id"] == "2608.19880"
    assert client.get("/papers/hep-th/9901001").status_code == 404
    assert client.get("/api/papers/hep-th/9901001").status_code == 404
    assert client.get("/papers/2608.19880/save").status_code != 405
