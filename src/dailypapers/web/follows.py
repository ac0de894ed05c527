"""Follows, and "Why is this here" on For you (what feeds it, and the member's corrections).

| route                          | what                                                              |
|--------------------------------|-------------------------------------------------------------------|
| GET  /follows                  | the member's follows, a form to follow an author by name           |
| POST /follows                  | follow: kind (author, org), name; back to `next`                   |
| POST /follows/remove           | unfollow: kind, name (every spelling of that author); back to `next` |
| GET  /for-you/why              | the topics, follows and upvotes that feed For you, and the corrections |
| POST /for-you/why/upvote       | arxiv_id, use=0 (stop using it: it stays an upvote) or use=1       |
| POST /for-you/why/topic        | topic: drop it from the member's topics                            |
| POST /for-you/why/reset        | use every upvote again                                             |
| GET/POST /api/follows, DELETE /api/follows/{id} | the same in the JSON API (web/follows_openapi.py) |

The follow buttons of the shared organization pages are a region (``<!--dp:follow:org:NAME-->``)
that web/personal.py renders again for a member, who then sees "Following" and "Unfollow".
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dailypapers.community.follows import MAX_FOLLOWS, NAME_CHARS
from dailypapers.errors import Invalid
from dailypapers.models import Follow, User
from dailypapers.web.api import iso
from dailypapers.web.auth import current_user
from dailypapers.web.flash import Flash, clear_flash, flash_redirect, take_flash
from dailypapers.web.library_api import member_call
from dailypapers.web.requests import (
    form_data,
    json_or_form,
    login_redirect,
    path_int,
    private_page,
    rate_limit,
    safe_next,
    sent_text,
    services,
)

NO_STORE = {"Cache-Control": "no-store"}
KIND_LABELS = {"author": "author", "org": "organization"}


def _page(request: Request, template: str, context: dict) -> Response:
    ctx = {"notice": take_flash(request), "kind_labels": KIND_LABELS, "max_follows": MAX_FOLLOWS, **context}
    return clear_flash(request, private_page(request, template, ctx))


async def _member_form(request: Request, default_next: str) -> tuple[User | None, dict[str, str], str]:
    user = await current_user(request)
    form = await form_data(request)
    return user, form, safe_next(form.get("next"), default_next)


# -- follows -----------------------------------------------------------------------------------
async def follows_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/follows")
    mine = await run_in_threadpool(services(request).follows.mine, user)
    return _page(request, "follows/follows.html", {"title": "Follows", "follows": mine, "user": user})


async def follow(request: Request) -> Response:
    user, form, back = await _member_form(request, "/follows")
    if user is None:
        return login_redirect(request, back)
    await rate_limit(request, "vote", account=user.id)
    try:
        f, new = await run_in_threadpool(services(request).follows.follow, user, form.get("kind"), form.get("name"))
    except Invalid as e:
        return flash_redirect(request, back, Flash(str(e), kind="error"))
    text = (f"You follow {f.name}: their new papers come to For you and your digests." if new
            else f"You already follow {f.name}.")
    return flash_redirect(request, back, Flash(text))


async def unfollow(request: Request) -> Response:
    user, form, back = await _member_form(request, "/follows")
    if user is None:
        return login_redirect(request, back)
    await rate_limit(request, "vote", account=user.id)
    name = form.get("name", "")
    gone = await run_in_threadpool(services(request).follows.unfollow, user, form.get("kind"), name)
    text = f"You no longer follow {name}." if gone else f"You did not follow {name}."
    return flash_redirect(request, back, Flash(text))


# -- "Why is this here" ------------------------------------------------------------------------
async def why_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/for-you/why")
    sources = await run_in_threadpool(services(request).foryou.sources, user)
    return _page(request, "follows/why.html", {"title": "Why is this here: what feeds For you", "sources": sources,
                                               "user": user, "nav": "for_you"})


async def why_upvote(request: Request) -> Response:
    user, form, back = await _member_form(request, "/for-you/why")
    if user is None:
        return login_redirect(request, back)
    use = form.get("use") == "1"
    await run_in_threadpool(services(request).foryou.use_upvote, user, form.get("arxiv_id", ""), use)
    text = ("For you uses that upvote again." if use else
            "For you no longer uses that upvote (it is still your upvote).")
    return flash_redirect(request, back, Flash(text))


async def why_topic(request: Request) -> Response:
    user, form, back = await _member_form(request, "/for-you/why")
    if user is None:
        return login_redirect(request, back)
    topic = form.get("topic", "")
    dropped = await run_in_threadpool(services(request).foryou.drop_topic, user, topic)
    return flash_redirect(request, back, Flash(f"Dropped the topic “{topic}”." if dropped else "No such topic."))


async def why_reset(request: Request) -> Response:
    user, form, back = await _member_form(request, "/for-you/why")
    if user is None:
        return login_redirect(request, back)
    n = await run_in_threadpool(services(request).foryou.reset, user)
    return flash_redirect(request, back, Flash(f"Reset: For you uses all your upvotes again ({n} restored)."))


# -- JSON API ------------------------------------------------------------------------------------
def follow_json(f: Follow) -> dict:
    return {"id": f.id, "kind": f.kind, "name": f.name, "key": f.key, "createdAt": iso(f.created_at)}


@member_call
async def api_list(request: Request, user: User) -> Response:
    mine = await run_in_threadpool(services(request).follows.mine, user)
    return JSONResponse([follow_json(f) for f in mine], headers=NO_STORE)


@member_call
async def api_add(request: Request, user: User) -> Response:
    data = await json_or_form(request)
    kind, name = data.get("kind"), sent_text(data, "name", NAME_CHARS)
    if not isinstance(kind, str) or not isinstance(name, str):
        raise Invalid("kind and name are strings")
    f, new = await run_in_threadpool(services(request).follows.follow, user, kind, name)
    return JSONResponse(follow_json(f), status_code=201 if new else 200, headers=NO_STORE)


@member_call
async def api_remove(request: Request, user: User) -> Response:
    await run_in_threadpool(services(request).follows.unfollow_id, user, path_int(request.path_params["fid"]))
    return Response(status_code=204, headers=NO_STORE)


__all__ = ["follows_page", "follow", "unfollow", "why_page", "why_upvote", "why_topic", "why_reset", "api_list",
           "api_add", "api_remove", "follow_json", "KIND_LABELS"]
