"""Security proofs not covered by test_security.py, test_hostile_input.py and
tests/community/test_accounts.py: headers on every kind of answer (the guard's, the CSRF refusal,
errors), HSTS only with an https (production) base URL, no secret in the logs, and secrets compared
in constant time (by inspection: the comparisons are the code's, read here)."""

from __future__ import annotations

import inspect
import logging
import re

from webapp import Client, make_app

from dailypapers.community import accounts as accounts_mod
from dailypapers.config import Settings
from dailypapers.web import security as security_mod
from dailypapers.web.security import CSP, security_headers

PASSWORD = "saffron-kayak-lantern-7"


def test_every_kind_of_answer_carries_the_headers(fresh_data_dir):
    app, services = make_app(fresh_data_dir, rate_search="1/60")
    c = Client(app)
    try:
        answers = {
            "page": c.get("/"), "404": c.get("/no/such/page"), "405": c.request("PUT", "/"),
            "csrf 403": c.post("/login", data={"email": "a@b.org", "password": "x"}),
            "413": c.post("/login", content=b"x" * (2 * 1024 * 1024),
                          headers={"Content-Type": "application/x-www-form-urlencoded"}),
            "api 401": c.post("/api/collections", json={"name": "x"}, headers={"Authorization": "Bearer dp_nope"}),
            "static": c.get("/static/style.css"),
        }
        c.get("/papers/search?q=a")
        answers["429"] = c.get("/papers/search?q=b")
        for what, r in answers.items():
            h = r.headers
            assert h.get("content-security-policy") == CSP, what
            assert h.get("x-content-type-options") == "nosniff", what
            assert h.get("referrer-policy") == "strict-origin-when-cross-origin", what
            assert h.get("x-frame-options") == "DENY", what
            assert "strict-transport-security" not in h, what
        assert answers["429"].status_code == 429 and answers["413"].status_code == 413
    finally:
        c.close()
        services.store.close()


def test_hsts_only_with_an_https_base_url_which_production_requires():
    assert b"strict-transport-security" not in dict(security_headers(False))
    assert dict(security_headers(True))[b"strict-transport-security"].startswith(b"max-age=31536000")
    production = Settings(environment="production", secret_key="k" * 32, base_url="https://papers.example.org")
    production.check()
    assert security_mod.is_https(production.public_url)
    assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP


def test_no_secret_reaches_the_logs(fresh_data_dir, caplog):
    """Login (right and wrong), a password reset and its link, an API token's creation and use,
    logout: no password, session id, CSRF token, reset link token or API token in any log record."""
    app, services = make_app(fresh_data_dir)
    c = Client(app)
    secrets: list[str] = [PASSWORD, "wrong-" + PASSWORD]
    try:
        with caplog.at_level(logging.DEBUG):
            user = services.accounts.create_user("ada@example.org", "ada", PASSWORD, verified=True)
            token = Client.csrf(c.get("/login"))
            c.post("/login", data={"email": "ada@example.org", "password": "wrong-" + PASSWORD, "csrf_token": token})
            r = c.post("/login", data={"email": "ada@example.org", "password": PASSWORD, "csrf_token": token})
            assert r.status_code == 303
            session = c.http.cookies["dp_session"]
            csrf = Client.csrf(c.get("/settings"))
            secrets += [session, csrf, c.http.cookies["dp_csrf"]]
            _, api_token = services.accounts.create_api_token(user, "script")
            secrets.append(api_token)
            assert c.get("/api/reading", headers={"Authorization": f"Bearer {api_token}"}).status_code == 200
            c.get("/api/reading", headers={"Authorization": "Bearer dp_" + "x" * 32})
            link = services.accounts.reset_link(user)
            secrets.append(link.split("token=", 1)[1])
            c.post("/reset", data={"email": "ada@example.org", "csrf_token": csrf})
            c.post("/logout", data={"csrf_token": csrf})
            if services.accounts.mail is not None:
                services.accounts.mail.join()
        logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
        for secret in secrets:
            assert secret not in logged, secret[:6]
    finally:
        c.close()
        services.store.close()


def test_secrets_are_compared_in_constant_time():
    """Every comparison of a secret is hmac.compare_digest / secrets.compare_digest, or a lookup by
    its SHA-256 (sessions, API tokens: the database holds only the hash, so the comparison leaks
    nothing about the token)."""
    csrf_valid = inspect.getsource(security_mod.CSRF.valid)
    assert "hmac.compare_digest" in csrf_valid and "==" not in csrf_valid
    reset = inspect.getsource(accounts_mod.AccountService.check_reset_token)
    assert "compare_digest" in reset
    for method in (accounts_mod.AccountService.session_user, accounts_mod.AccountService.token_user):
        source = inspect.getsource(method)
        assert re.search(r"sha256\((token|raw)\)", source), method.__name__
    # signed links use itsdangerous, whose signature check is hmac.compare_digest
    import itsdangerous.signer

    assert "hmac.compare_digest" in inspect.getsource(itsdangerous.signer.SigningAlgorithm.verify_signature)
