"""A member's data and account (community/account_data.py): download everything, change the email
address, delete the account.

* GET  /settings/export.json          the member's data as one JSON file (a download; changes nothing)
* GET  /api/account/export            the same, with an API token
* POST /settings/email                password + new address: a confirmation link goes to the new address
* GET  /settings/email/confirm        the link: shows a button (link scanners GET)
* POST /settings/email/confirm        changes the address; the old one gets a notice
* GET  /settings/delete               what deleting does, and the password form
* POST /settings/delete               deletes the account and ends this session
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.errors import Invalid
from dailypapers.web.accounts import fields_at_fault, message, render, settings_page
from dailypapers.web.auth import api_member, clear_session_cookie, current_user
from dailypapers.web.requests import form_data, login_redirect, rate_limit, services


def _download(request: Request, user, data: dict) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=1).encode()
    name = services(request).account_data.export_filename(user)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


async def export(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    data = await run_in_threadpool(services(request).account_data.export, user)
    return _download(request, user, data)


async def api_export(request: Request) -> Response:
    user = await api_member(request)
    if isinstance(user, Response):
        return user
    data = await run_in_threadpool(services(request).account_data.export, user)
    return _download(request, user, data)


async def email_change(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings")
    form = await form_data(request)
    await rate_limit(request, "reset", account=user.id)  # it sends mail, like a reset
    try:
        text = await run_in_threadpool(services(request).account_data.request_email_change, user,
                                       form.get("current", ""), form.get("email", ""))
    except Invalid as e:
        field = "ecur" if e.field == "current" else "enew"
        return await settings_page(request, extra={"email_error": str(e), "email_field": field,
                                                   "email_value": form.get("email", "")[:254]}, status=400)
    return message(request, "Check your email", text, link=("/settings", "Back to your settings"))


async def email_confirm_page(request: Request) -> Response:
    await current_user(request)
    token = request.query_params.get("token", "")
    try:
        user, new = await run_in_threadpool(services(request).account_data.check_email_change, token)
    except Invalid as e:
        return message(request, "Change your email address", str(e), status=400)
    return render(request, "email_confirm.html", {"title": "Confirm your new email address", "token": token,
                                                  "user": user, "new_email": new})


async def email_confirm(request: Request) -> Response:
    form = await form_data(request)
    await rate_limit(request, "reset")
    try:
        user = await run_in_threadpool(services(request).account_data.confirm_email_change, form.get("token", ""))
    except Invalid as e:
        return message(request, "Change your email address", str(e), status=400)
    return message(request, "Email address changed", f"Your account {user.name} now uses {user.email}. "
                   "We told the old address.", link=("/settings", "Your settings"))


async def delete_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings/delete")
    return render(request, "delete_account.html", {"title": "Delete your account", "user": user})


async def delete(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/settings/delete")
    form = await form_data(request)
    await rate_limit(request, "login", account=user.email.lower())  # a password guess, like a login
    try:
        await run_in_threadpool(services(request).account_data.delete, user, form.get("password", ""))
    except Invalid as e:
        return render(request, "delete_account.html", {"title": "Delete your account", "user": user,
                                                       "error": str(e), "invalid": fields_at_fault(e)}, status=400)
    request.scope["community_user"] = None  # the page after is a visitor's
    response = message(request, "Account deleted", f"The account {user.name} is deleted. Thank you for "
                       "reading with us.", link=("/", "Today's papers"))
    clear_session_cookie(response, request)
    return response


__all__ = ["export", "api_export", "email_change", "email_confirm_page", "email_confirm", "delete_page", "delete"]
