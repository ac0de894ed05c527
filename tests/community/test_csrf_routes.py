"""Every POST route of the whole app refuses a request without a CSRF token (403), and GET changes
nothing: the community's GET routes are read-only."""

from __future__ import annotations

import re

from starlette.routing import Route


def post_routes(app):
    for route in app.routes:
        if isinstance(route, Route) and route.methods and "POST" in route.methods:
            yield route


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: {"arxiv_id": "2104.00001", "token_id": "1", "comment_id": "1",
                                                   "action": "pin"}.get(m.group(1), "x"), path)


def test_every_post_route_needs_a_csrf_token(env):
    env.paper("2104.00001")
    env.member("ada")
    routes = list(post_routes(env.app))
    paths = {r.path for r in routes}
    for expected in ("/login", "/signup", "/logout", "/papers/{arxiv_id:path}/upvote", "/papers/submit",
                     "/papers/{arxiv_id:path}/comments", "/curate/{action}", "/settings/tokens"):
        assert expected in paths
    c = env.client()
    env.login(c, "ada")  # a logged-in browser: cookies present, token absent
    checked = 0
    exempt = []
    for route in routes:
        path = concrete(route.path)
        if any(p.search(path) for p in env.app.state.csrf.exempt):
            # Documented exemptions (RFC 8058 one-click unsubscribe from a digest or an alert: mail
            # providers POST without cookies); they carry their own signed token, so without one
            # they still do nothing.
            exempt.append(route.path)
            assert c.post(path, data={"x": "1"}).status_code in (400, 403, 404)
            continue
        for kwargs in ({"data": {"x": "1"}}, {"json": {"x": 1}}, {}):
            r = c.post(path, **kwargs)
            assert r.status_code == 403, (route.path, kwargs, r.status_code)
        # A wrong token, and a token from another visitor, are refused too.
        assert c.post(path, data={"csrf_token": "0" * 64}).status_code == 403
        checked += 1
    assert checked + len(exempt) == len(routes) and checked >= 20
    # the two RFC 8058 one-click endpoints: a digest's, and a saved-search alert's
    assert sorted(exempt) == ["/unsubscribe/alert", "/unsubscribe/one-click"], exempt
    assert env.store.read("SELECT COUNT(*) FROM votes")[0][0] == 0
    assert env.store.read("SELECT COUNT(*) FROM api_tokens")[0][0] == 0


def test_api_routes_skip_csrf_only_with_an_authorization_header(env):
    env.paper("2104.00001")
    c = env.client()
    r = c.post("/api/papers/2104.00001/upvote")
    assert r.status_code == 403  # no token, no Authorization: CSRF applies
    r = c.post("/api/papers/2104.00001/upvote", headers={"Authorization": "Bearer dp_invalid"})
    assert r.status_code == 401  # exempt from CSRF, but the token must be valid


def test_get_routes_change_nothing(env):
    env.paper("2104.00001")
    env.member("ada")
    c = env.client()
    env.login(c, "ada")
    before = env.store.read("SELECT (SELECT COUNT(*) FROM votes), (SELECT COUNT(*) FROM comments), "
                            "(SELECT COUNT(*) FROM listings), (SELECT COUNT(*) FROM api_tokens)")
    for route in env.app.routes:
        if isinstance(route, Route) and "GET" in (route.methods or ()) and route.path.startswith(
                ("/papers/2", "/signup", "/login", "/verify", "/reset", "/settings", "/u/", "/papers/submit",
                 "/comments", "/curate", "/papers/top", "/papers/{arxiv_id:path}")):
            c.get(concrete(route.path))
    for path in ("/papers/2104.00001/upvote", "/papers/2104.00001/comments", "/logout", "/verify?token=x"):
        c.get(path)
    after = env.store.read("SELECT (SELECT COUNT(*) FROM votes), (SELECT COUNT(*) FROM comments), "
                           "(SELECT COUNT(*) FROM listings), (SELECT COUNT(*) FROM api_tokens)")
    assert before == after
    assert c.get("/settings").status_code == 200  # GET /logout did not log out
