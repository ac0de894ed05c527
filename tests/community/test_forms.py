"""Forms tell assistive technology what went wrong: hints tied to their fields, the field at fault
marked invalid and focused on load (no JavaScript needed), over real HTTP."""

from __future__ import annotations

import re

from community_helpers import STRONG, csrf


def field(page: str, field_id: str) -> str:
    m = re.search(rf'<input id="{field_id}"[^>]*>', page)
    assert m, page[:2000]
    return m.group(0)


def described_by(tag: str) -> list[str]:
    m = re.search(r'aria-describedby="([^"]+)"', tag)
    return m.group(1).split() if m else []


def test_signup_hints_are_tied_to_their_fields(env):
    page = env.client().get("/signup").text
    for field_id in ("name", "password"):
        tag = field(page, field_id)
        [hint] = described_by(tag)
        assert re.search(rf'<p class="hint" id="{hint}">[^<]+</p>', page)
        assert "aria-invalid" not in tag and "autofocus" not in tag
    assert described_by(field(page, "email")) == []


def test_a_failed_signup_marks_the_field_at_fault_and_focuses_it(env):
    c = env.client()
    r = c.post("/signup", data={"email": "ada@example.org", "name": "ada", "password": "password1",
                                "csrf_token": csrf(c, "/signup")})
    assert r.status_code == 400
    error = re.search(r'<p class="error" role="alert" id="form-error" tabindex="-1">([^<]+)</p>', r.text)
    assert error, r.text[:3000]
    password = field(r.text, "password")
    assert 'aria-invalid="true"' in password and "autofocus" in password
    assert described_by(password) == ["form-error", "password-hint"]
    for other in ("email", "name"):
        assert "aria-invalid" not in field(r.text, other) and "autofocus" not in field(r.text, other)
    # What was typed (but not the password) is kept.
    assert 'value="ada@example.org"' in field(r.text, "email") and 'value="ada"' in field(r.text, "name")
    assert "value=" not in password


def test_a_bad_name_marks_the_name(env):
    c = env.client()
    r = c.post("/signup", data={"email": "ada@example.org", "name": "admin", "password": STRONG,
                                "csrf_token": csrf(c, "/signup")})
    assert r.status_code == 400 and "reserved" in r.text
    name = field(r.text, "name")
    assert 'aria-invalid="true"' in name and "autofocus" in name
    assert described_by(name) == ["form-error", "name-hint"]
    assert "aria-invalid" not in field(r.text, "password")


def test_a_failed_login_marks_both_fields_and_focuses_the_first(env):
    env.member("ada")
    c = env.client()
    r = c.post("/login", data={"email": "ada@example.org", "password": "not-the-password", "csrf_token": csrf(c),
                               "next": "/"})
    assert r.status_code == 400 and "Wrong email or password." in r.text
    email, password = field(r.text, "email"), field(r.text, "password")
    assert 'aria-invalid="true"' in email and 'aria-invalid="true"' in password
    assert described_by(email) == ["form-error"] and described_by(password) == ["form-error"]
    assert "autofocus" in email and "autofocus" not in password
    assert len(re.findall(r"\bautofocus\b", r.text)) == 1


def test_a_wrong_current_password_in_settings_marks_that_field(env):
    env.member("ada")
    c = env.client()
    token = env.login(c, "ada")
    r = c.post("/settings/password", data={"current": "nope-nope-nope", "password": "another-strong-pass-42",
                                           "csrf_token": token})
    assert r.status_code == 400
    current, new = field(r.text, "cur"), field(r.text, "new")
    assert 'aria-invalid="true"' in current and "autofocus" in current
    assert described_by(current) == ["password-error"] and 'id="password-error"' in r.text
    assert "aria-invalid" not in new and described_by(new) == ["new-hint"]
