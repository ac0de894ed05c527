"""Comments: add on a paper page, one comment's page, edit/delete (author), hide/unhide (curators)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.community.accounts import require_member
from dailypapers.errors import Forbidden, NotFound
from dailypapers.web.auth import current_user
from dailypapers.web.flash import Flash, flash_redirect
from dailypapers.web.requests import (
    form_data,
    login_redirect,
    path_int,
    private_page,
    rate_limit,
    redirect,
    services,
)


async def comment_add(request: Request) -> Response:
    user = await current_user(request)
    svc = services(request)
    arxiv_id = svc.papers.canonical_id(request.path_params["arxiv_id"])
    if user is None:
        return login_redirect(request, f"/papers/{arxiv_id}#comments")
    form = await form_data(request)
    user = require_member(user, what="comment")
    await rate_limit(request, "comment", account=user.id)
    comment = await run_in_threadpool(svc.comments.add, user, arxiv_id, form.get("body", ""))
    return redirect(f"/papers/{arxiv_id}#comment-{comment.id}")


async def comment_page(request: Request) -> Response:
    user = await current_user(request)
    comment_id = path_int(request.path_params["comment_id"])
    comment = await run_in_threadpool(services(request).comments.get, comment_id)
    if comment.hidden_at is not None and not (user and (user.is_curator or user.id == comment.user_id)):
        raise NotFound("no such comment")
    return private_page(request, "community/comment.html", {
        "title": "Comment", "comment": comment, "user": user, "own": bool(user and user.id == comment.user_id),
        "curator": bool(user and user.is_curator and user.verified)})


async def _comment_action(request: Request, action: str) -> Response:
    user = await current_user(request)
    comment_id = path_int(request.path_params["comment_id"])
    if user is None:
        return login_redirect(request, f"/comments/{comment_id}")
    form = await form_data(request)
    service = services(request).comments
    if action == "edit":
        await rate_limit(request, "comment", account=user.id)
        comment = await run_in_threadpool(service.edit, user, comment_id, form.get("body", ""))
    elif action == "delete":
        comment = await run_in_threadpool(service.delete, user, comment_id)
        # said next to the comments, where the page opens (#comments), not at the top
        return flash_redirect(request, f"/papers/{comment.arxiv_id}#comments",
                              Flash("Comment deleted.", field="comment-body"))
    else:
        comment = await run_in_threadpool(service.hide, user, comment_id, action == "hide")
    return redirect(f"/papers/{comment.arxiv_id}#comments")


async def comment_edit(request: Request) -> Response:
    return await _comment_action(request, "edit")


async def comment_delete_page(request: Request) -> Response:
    """GET: ask first (the POST it shows deletes); only the author gets this far."""
    user = await current_user(request)
    comment_id = path_int(request.path_params["comment_id"])
    if user is None:
        return login_redirect(request, f"/comments/{comment_id}/delete")
    comment = await run_in_threadpool(services(request).comments.get, comment_id)
    if comment.user_id != user.id:
        raise Forbidden("You can only delete your own comments.")
    return private_page(request, "community/comment_delete.html", {"title": "Delete this comment?",
                                                                    "comment": comment})


async def comment_delete(request: Request) -> Response:
    return await _comment_action(request, "delete")


async def comment_hide(request: Request) -> Response:
    return await _comment_action(request, "hide")


async def comment_unhide(request: Request) -> Response:
    return await _comment_action(request, "unhide")


__all__ = ["comment_add", "comment_page", "comment_edit", "comment_delete", "comment_delete_page", "comment_hide",
           "comment_unhide"]
