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
def site_and_services(fresh_data_dir):
    app, services = make_app(fresh_data_dir, **LIMITS)
    services.accounts.create_user("victim@example.org", "victim", PASSWORD, verified=True, check_strength=False)
    services.accounts.create_user("mallory@example.org", "mallory", PASSWORD, verified=True, check_strength=False)
    clients: list[Client] = []

    def browser() -> Client:
        clients.append(Client(app))
        return clients[-1]

    yield browser, services
    for c in clients:
        c.close()
    services.store.close()


@pytest.fixture()
def site(site_and_services):
    return site_and_services[0]


@pytest.fixture()
def services_of_site(site_and_services):
    return site_and_services[1]


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


# A device cookie is revoked by a password change or reset: it is signed with a value that changes with
# the password (AccountService.device_secret), so whoever kept a copy loses the per-device throttle.
def test_a_password_reset_revokes_the_device_cookies_issued_before_it(site, services_of_site):
    owner = site()
    assert login(owner, "victim@example.org", PASSWORD, "198.51.100.7").status_code == 303
    owner.post("/logout", data={"csrf_token": Client.csrf(owner.get("/settings"))})
    accounts = services_of_site.accounts
    user = accounts.find("victim@example.org")
    token = accounts.reset_link(user).split("token=", 1)[1]
    accounts.reset_password(token, "a new passphrase for the victim")
    attack(site)
    # the cookie from before the reset is now one more browser under the per-account limit
    r = login(owner, "victim@example.org", "a new passphrase for the victim", "203.0.113.50")
    assert r.status_code == 429 and "for this account" in r.text


def test_a_password_change_revokes_old_device_cookies_and_renews_the_changing_browsers(site):
    owner = site()
    assert login(owner, "victim@example.org", PASSWORD, "198.51.100.7").status_code == 303
    thief = site()  # a copy of the cookie, taken before the change
    thief.http.cookies.set(DEVICE_COOKIE, owner.http.cookies[DEVICE_COOKIE])
    new = "a new passphrase for the victim"
    r = owner.post("/settings/password", data={"current": PASSWORD, "password": new,
                                               "csrf_token": Client.csrf(owner.get("/settings"))})
    assert r.status_code == 303
    owner.post("/logout", data={"csrf_token": Client.csrf(owner.get("/settings"))})
    attack(site)
    r = login(thief, "victim@example.org", "a guess", "203.0.113.60")
    assert r.status_code == 429 and "for this account" in r.text
    # the browser that changed the password got a new cookie, and keeps its own limit
    assert login(owner, "victim@example.org", new, "203.0.113.50").status_code == 303
