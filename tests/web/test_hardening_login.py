"""Issue 16, class 4: an attack on a victim's password from many addresses reaches the per-account login
limit, and must not lock the owner out of the browser they log in from (OWASP's device cookies:
web/security.py, community/ratelimit.Limits.check_login). Real HTTP through the app (httpx over ASGI)."""

from __future__ import annotations

import pytest
from webapp import Client, make_app

from dailypapers.web.security import DEVICE_COOKIE

PASSWORD = "correct horse battery staple"
# Tight limits so a few requests show them; the test client's peer (127.0.0.1) is a trusted proxy
# here, so X-Forwarded-For names each request's client address.
LIMITS = {"rate_login": "3/300", "rate_login_account": "6/900", "trusted_proxies": "127.0.0.1"}


@pytest.fixture()
def site(fresh_data_dir):
    app, services = make_app(fresh_data_dir, **LIMITS)
    services.accounts.create_user("victim@example.org", "victim", PASSWORD, verified=True, check_strength=False)
    services.accounts.create_user("mallory@example.org", "mallory", PASSWORD, verified=True, check_strength=False)
    clients: list[Client] = []

    def browser() -> Client:
        clients.append(Client(app))
        return clients[-1]

    yield browser
    for c in clients:
        c.close()
    services.store.close()


def login(client: Client, email: str, password: str, address: str):
    token = Client.csrf(client.get("/login"))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       headers={"X-Forwarded-For": address})


def attack(browser, email: str = "victim@example.org") -> None:
    """Wrong passwords from seven addresses, each under its own limit, together over the account's."""
    for i in range(7):
        login(browser(), email, "wrong guess", f"192.0.2.{i + 1}")


def test_the_owners_own_browser_still_logs_in_during_an_attack_from_many_addresses(site):
    owner = site()
    assert login(owner, "victim@example.org", PASSWORD, "198.51.100.7").status_code == 303
    assert DEVICE_COOKIE in owner.http.cookies
    owner.post("/logout", data={"csrf_token": Client.csrf(owner.get("/settings"))})
    attack(site)
    # a new browser meets the per-account limit: that is what stops the attack
    r = login(site(), "victim@example.org", PASSWORD, "198.51.100.8")
    assert r.status_code == 429 and "for this account" in r.text
    # the owner's browser, even from a new address, is not held by it
    assert login(owner, "victim@example.org", PASSWORD, "203.0.113.50").status_code == 303


def test_a_device_cookie_counts_only_for_its_own_account_and_has_its_own_limit(site):
    mallory = site()
    assert login(mallory, "mallory@example.org", PASSWORD, "198.51.100.9").status_code == 303
    attack(site)
    # Mallory's device cookie, issued for her account, does not lift the victim's per-account limit
    assert login(mallory, "victim@example.org", PASSWORD, "198.51.100.9").status_code == 429
    # nor does a forged one
    forged = site()
    forged.http.cookies.set(DEVICE_COOKIE, mallory.http.cookies[DEVICE_COOKIE].split(".")[0] + "." + "0" * 64)
    assert login(forged, "victim@example.org", PASSWORD, "198.51.100.10").status_code == 429
    # guesses from a trusted browser are limited per browser, whatever address they come from
    codes = [login(mallory, "mallory@example.org", "wrong", f"203.0.113.{i}").status_code for i in range(4)]
    assert codes == [400, 400, 400, 429]
