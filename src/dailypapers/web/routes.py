"""The one route table, and build_app(services) -> Starlette.

Every route is listed here; so are the paths exempt from the CSRF check (besides token-authenticated
/api/ calls, which web.security exempts by rule). The expensive routes' rate limits are in
web/guard.py (RATE_LIMITED): a route that runs a search goes there too.
"""

from __future__ import annotations

import logging
import re

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from dailypapers.community.comments import render_comment
from dailypapers.community.votes import breakdown
from dailypapers.web import (
    account_data,
    accounts,
    api,
    arrivals,
    cards,
    comments,
    curation,
    errors,
    exports,
    feeds,
    follows,
    inbox,
    library,
    library_api,
    lists,
    paper,
    saved,
    saved_api,
    search,
    submissions,
    subscriptions,
    votes,
)
from dailypapers.web.guard import RATE_LIMITED, Guard
from dailypapers.web.router import SegmentRouter
from dailypapers.web.security import CSRF, SecurityMiddleware, is_https, security_headers
from dailypapers.web.site import STATIC, Site

log = logging.getLogger("dailypapers.web")

# RFC 8058 one-click unsubscribe (a digest; a saved search's alert): mail providers POST with no
# cookie and no CSRF token; the link's signed token authenticates it.
CSRF_EXEMPT = (r"^/unsubscribe/one-click$", r"^/unsubscribe/alert$")


class CachedStatic(StaticFiles):
    """Static files; URLs carry ?v=<hash of the files>, so they may be cached for a year."""

    def file_response(self, full_path, stat_result, scope, status_code=200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        query = scope.get("query_string", b"")
        response.headers["Cache-Control"] = (
            "public, max-age=31536000, immutable" if query.startswith(b"v=") else "public, max-age=3600"
        )
        return response


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


async def robots(request: Request) -> Response:
    site = request.app.state.site
    body = ("User-agent: *\nDisallow: /papers/search\nDisallow: /feeds/search\n"
            f"Sitemap: {site.base_url}/feeds/daily.xml\n")
    return PlainTextResponse(body, headers={"Cache-Control": "public, max-age=86400"})


async def favicon(request: Request) -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def papers_index(request: Request) -> Response:
    return RedirectResponse("/", status_code=302)


class CatchAll(Route):
    """A route whose {arxiv_id:path} would also take the longer paths of other routes: it leaves them
    the paths `leave` matches, so GET /papers/{id}/upvote is the upvote route's 405 (Allow: POST),
    not the paper page's 404 for a paper called "{id}/upvote". web/guard.py builds Allow from the
    same regexes. No arXiv id ends in "/", so a path that does is left too, and the router's
    trailing-slash redirect takes it (/papers/new/ to /papers/new, not a paper called "new/")."""

    def __init__(self, path: str, endpoint, *, leave: str, **kwargs):
        super().__init__(path, endpoint, **kwargs)
        self.path_regex = re.compile(f"^(?!(?:{leave})$)(?!.*/$)" + self.path_regex.pattern.removeprefix("^"))


# The routes under a paper's path, each of which the catch-all page routes leave alone.
PAPER_ACTIONS = r"/papers/.+/(?:upvote|comments|save|state)"
API_PAPER_ACTIONS = r"/api/papers/(?:submit|.+/upvote)"


def route_table() -> list[BaseRoute]:
    get, post = ["GET"], ["POST"]
    return [
        Route("/", lists.home, methods=get, name="home"),
        Route("/healthz", healthz, methods=get),
        Route("/robots.txt", robots, methods=get),
        Route("/favicon.ico", favicon, methods=get),
        # lists
        Route("/papers", papers_index, methods=get),
        # citation downloads (web/exports.py), before the pages whose paths they extend
        Route("/papers/date/{day}.bib", exports.day_citation, methods=get),
        Route("/papers/date/{day}.ris", exports.day_citation, methods=get),
        Route("/papers/date/{day}.csl.json", exports.day_citation, methods=get),
        Route("/papers/search.bib", exports.search_citation, methods=get),
        Route("/papers/search.ris", exports.search_citation, methods=get),
        Route("/papers/search.csl.json", exports.search_citation, methods=get),
        Route("/papers/date", lists.latest_period, methods=get),
        Route("/papers/week", lists.latest_period, methods=get),
        Route("/papers/month", lists.latest_period, methods=get),
        Route("/papers/date/{day}", lists.day_page, methods=get, name="day"),
        Route("/papers/week/{week}", lists.week_page, methods=get, name="week"),
        Route("/papers/month/{month}", lists.month_page, methods=get, name="month"),
        Route("/papers/trending", lists.trending_page, methods=get, name="trending"),
        Route("/papers/new", arrivals.new_page, methods=get, name="new"),
        Route("/papers/new/{day}", arrivals.new_page, methods=get, name="new_day"),
        Route("/papers/search", search.search_page, methods=get, name="search"),
        Route("/orgs/{name}", lists.org_page, methods=get, name="org"),
        Route("/authors/{name:path}", lists.author_page, methods=get, name="author"),
        # API
        Route("/api", api.api_docs_page, methods=get, name="api_docs"),
        Route("/api/daily_papers", api.daily_papers, methods=get),
        Route("/api/papers/search", api.search, methods=get),
        Route("/api/papers/new", arrivals.api_new, methods=get),
        CatchAll("/api/papers/{arxiv_id:path}", api.paper, methods=get, leave=API_PAPER_ACTIONS),
        Route("/openapi.json", api.openapi, methods=get),
        # feeds, each as .xml (RSS), .atom and .json (JSON Feed): web/feeds.py
        Route("/feeds", feeds.feeds_index, methods=get),
        *(Route(path, feeds.conventional_feed, methods=get) for path in feeds.CONVENTIONAL_FEEDS),
        *feed_routes("/feeds/daily", feeds.daily),
        *feed_routes("/feeds/trending", feeds.trending),
        *feed_routes("/feeds/search", feeds.search),
        *feed_routes("/feeds/new", arrivals.feed),
        *feed_routes("/feeds/date/{day}", feeds.day),
        *feed_routes("/feeds/week/{week}", feeds.period),
        *feed_routes("/feeds/month/{month}", feeds.period),
        *feed_routes("/feeds/orgs/{name}", feeds.organization),
        *feed_routes("/feeds/categories/{cat}", feeds.category),
        *feed_routes("/feeds/authors/{name:path}", feeds.author),  # a name may hold a "/"
        # saved searches, a member's feeds (web/saved.py)
        *feed_routes("/feeds/saved/{key}", saved.saved_feed),
        *feed_routes("/feeds/for-you/{token}", saved.foryou_feed),
        Route("/feeds.opml", saved.opml, methods=get),
        Route("/saved-searches", saved.saved_page, methods=get, name="saved_searches"),
        Route("/saved-searches", saved.save, methods=post),
        Route("/saved-searches/{sid}", saved.saved_update, methods=post),
        Route("/saved-searches/{sid}/delete", saved.saved_delete, methods=post),
        Route("/settings/feeds", saved.feeds_page, methods=get),
        Route("/settings/feeds/for-you", saved.foryou_token, methods=post),
        Route("/api/saved-searches", saved_api.list_saved, methods=get),
        Route("/api/saved-searches", saved_api.create_saved, methods=post),
        Route("/api/saved-searches/{sid}", saved_api.get_saved, methods=get),
        Route("/api/saved-searches/{sid}", saved_api.update_saved, methods=["PATCH"]),
        Route("/api/saved-searches/{sid}", saved_api.delete_saved, methods=["DELETE"]),
        Route("/api/saved-searches/{sid}/papers", saved_api.saved_papers, methods=get),
        Mount("/static", app=CachedStatic(directory=str(STATIC)), name="static"),
        # accounts
        Route("/signup", accounts.signup_page, methods=get),
        Route("/signup", accounts.signup, methods=post),
        Route("/login", accounts.login_page, methods=get),
        Route("/login", accounts.login, methods=post),
        Route("/logout", accounts.logout, methods=post),
        Route("/verify", accounts.verify_page, methods=get),
        Route("/verify", accounts.verify, methods=post),
        Route("/verify/resend", accounts.verify_resend, methods=post),
        Route("/reset", accounts.reset_page, methods=get),
        Route("/reset", accounts.reset, methods=post),
        Route("/reset/confirm", accounts.reset_confirm_page, methods=get),
        Route("/reset/confirm", accounts.reset_confirm, methods=post),
        Route("/settings", accounts.settings_page, methods=get),
        Route("/settings/profile", accounts.settings_profile, methods=post),
        Route("/settings/password", accounts.settings_password, methods=post),
        Route("/settings/tokens", accounts.token_create, methods=post),
        Route("/settings/tokens/{token_id}/revoke", accounts.token_revoke, methods=post),
        # a member's data and account (web/account_data.py)
        Route("/settings/export.json", account_data.export, methods=get),
        Route("/api/account/export", account_data.api_export, methods=get),
        Route("/settings/email", account_data.email_change, methods=post),
        Route("/settings/email/confirm", account_data.email_confirm_page, methods=get),
        Route("/settings/email/confirm", account_data.email_confirm, methods=post),
        Route("/settings/delete", account_data.delete_page, methods=get),
        Route("/settings/delete", account_data.delete, methods=post),
        Route("/u/{name}", accounts.profile, methods=get),
        # submissions, upvotes, comments
        Route("/papers/submit", submissions.submit_page, methods=get),
        Route("/papers/submit", submissions.submit, methods=post),
        Route("/api/papers/submit", submissions.api_submit, methods=post),
        Route("/papers/top/{period}", curation.top_period, methods=get),
        Route("/api/papers/{arxiv_id:path}/upvote", votes.api_upvote, methods=post),
        Route("/papers/{arxiv_id:path}/upvote", votes.upvote, methods=post),
        Route("/papers/{arxiv_id:path}/comments", comments.comment_add, methods=post),
        Route("/comments/{comment_id}", comments.comment_page, methods=get),
        Route("/comments/{comment_id}/edit", comments.comment_edit, methods=post),
        Route("/comments/{comment_id}/delete", comments.comment_delete_page, methods=get),
        Route("/comments/{comment_id}/delete", comments.comment_delete, methods=post),
        Route("/comments/{comment_id}/hide", comments.comment_hide, methods=post),
        Route("/comments/{comment_id}/unhide", comments.comment_unhide, methods=post),
        # curators
        Route("/curate", curation.curate_page, methods=get),
        Route("/curate/log", curation.curate_log, methods=get),
        Route("/curate/remove", curation.curate_remove_page, methods=get),
        # the arrivals inbox, its listing rules, and the undo of a rule's addition (web/inbox.py)
        Route("/curate/inbox", inbox.inbox_page, methods=get),
        Route("/curate/inbox/decide", inbox.inbox_decide, methods=post),
        Route("/curate/inbox/undo", inbox.inbox_undo, methods=post),
        Route("/curate/inbox/{day}", inbox.inbox_page, methods=get),
        Route("/curate/rules", inbox.rules_page, methods=get),
        Route("/curate/rules/add", inbox.rule_add, methods=post),
        Route("/curate/rules/run", inbox.rules_run, methods=post),
        Route("/curate/rules/{rule_id}/delete", inbox.rule_delete, methods=post),
        Route("/curate/log/{action_id}/undo", inbox.log_undo, methods=post),
        Route("/curate/{action}", curation.curate_action, methods=post),
        # subscriptions
        Route("/subscribe", subscriptions.subscribe_page, methods=get, name="subscribe"),
        Route("/subscribe", subscriptions.subscribe_submit, methods=post),
        Route("/subscribe/confirm", subscriptions.confirm_page, methods=get, name="subscribe_confirm"),
        Route("/subscribe/confirm", subscriptions.confirm_submit, methods=post),
        Route("/subscriptions/manage", subscriptions.manage_page, methods=get, name="subscription_manage"),
        Route("/subscriptions/manage", subscriptions.manage_submit, methods=post),
        Route("/unsubscribe/one-click", subscriptions.one_click, methods=post, name="unsubscribe_one_click"),
        Route("/unsubscribe/one-click", subscriptions.one_click_page, methods=get),
        Route("/unsubscribe/alert", saved.alert_one_click, methods=post),
        Route("/unsubscribe/alert", saved.alert_off_page, methods=get),
        Route("/for-you", subscriptions.for_you, methods=get, name="for_you"),
        # follows and "Why is this here" on For you (web/follows.py)
        Route("/for-you/why", follows.why_page, methods=get, name="for_you_why"),
        Route("/for-you/why/upvote", follows.why_upvote, methods=post),
        Route("/for-you/why/topic", follows.why_topic, methods=post),
        Route("/for-you/why/reset", follows.why_reset, methods=post),
        Route("/follows", follows.follows_page, methods=get, name="follows"),
        Route("/follows", follows.follow, methods=post),
        Route("/follows/remove", follows.unfollow, methods=post),
        Route("/api/follows", follows.api_list, methods=get),
        Route("/api/follows", follows.api_add, methods=post),
        Route("/api/follows/{fid}", follows.api_remove, methods=["DELETE"]),
        # a reader's library: collections, reading states (web/library.py; JSON: web/library_api.py)
        Route("/collections", library.collections_page, methods=get, name="collections"),
        Route("/collections", library.collection_create, methods=post),
        Route("/collections/{cid}", library.collection_page, methods=get),
        Route("/collections/{cid}/settings", library.collection_settings, methods=post),
        Route("/collections/{cid}/delete", library.collection_delete, methods=post),
        Route("/collections/{cid}/papers", library.collection_add, methods=post),
        Route("/collections/{cid}/papers/remove", library.collection_remove, methods=post),
        Route("/collections/{cid}/note", library.note_page, methods=get),
        Route("/collections/{cid}/note", library.note_save, methods=post),
        Route("/collections/{cid}/members", library.member_add, methods=post),
        Route("/collections/{cid}/members/remove", library.member_remove, methods=post),
        Route("/collections/{cid}/import", library.import_page, methods=get),
        Route("/collections/{cid}/import", library.import_file, methods=post),
        Route("/collections/{cid}/export.bib", library.export, methods=get),
        Route("/collections/{cid}/export.ris", library.export, methods=get),
        Route("/collections/{cid}/export.csl.json", library.export, methods=get),
        Route("/c/{ref}", library.public_page, methods=get, name="public_collection"),
        *feed_routes("/c/{ref}/feed", library.public_feed),
        Route("/reading", library.reading_page, methods=get, name="reading"),
        Route("/papers/{arxiv_id:path}/save", library.save_page, methods=get),
        Route("/papers/{arxiv_id:path}/save", library.save, methods=post),
        Route("/papers/{arxiv_id:path}/state", library.state, methods=post),
        Route("/api/collections", library_api.list_collections, methods=get),
        Route("/api/collections", library_api.create_collection, methods=post),
        Route("/api/collections/{cid}", library_api.get_collection, methods=get),
        Route("/api/collections/{cid}", library_api.update_collection, methods=["PATCH"]),
        Route("/api/collections/{cid}", library_api.delete_collection, methods=["DELETE"]),
        Route("/api/collections/{cid}/papers/{arxiv_id:path}", library_api.put_paper, methods=["PUT"]),
        Route("/api/collections/{cid}/papers/{arxiv_id:path}", library_api.delete_paper, methods=["DELETE"]),
        Route("/api/collections/{cid}/notes/{arxiv_id:path}", library_api.put_note, methods=["PUT"]),
        Route("/api/collections/{cid}/members/{name}", library_api.put_member, methods=["PUT"]),
        Route("/api/collections/{cid}/members/{name}", library_api.delete_member, methods=["DELETE"]),
        Route("/api/collections/{cid}/import", library_api.import_file, methods=post),
        Route("/api/reading", library_api.reading_list, methods=get),
        Route("/api/reading/{arxiv_id:path}", library_api.put_state, methods=["PUT"]),
        Route("/api/reading/{arxiv_id:path}", library_api.delete_state, methods=["DELETE"]),
        # last: old-style ids contain a slash (hep-th/9901001)
        Route("/papers/{arxiv_id:path}.bib", exports.paper_citation, methods=get),
        Route("/papers/{arxiv_id:path}.ris", exports.paper_citation, methods=get),
        Route("/papers/{arxiv_id:path}.csl.json", exports.paper_citation, methods=get),
        CatchAll("/papers/{arxiv_id:path}", paper.paper_page, methods=get, name="paper", leave=PAPER_ACTIONS),
        Route("/abs/{arxiv_id:path}", paper.arxiv_path, methods=get),
        Route("/pdf/{arxiv_id:path}", paper.arxiv_path, methods=get),
    ]


def feed_routes(path: str, handler) -> list[BaseRoute]:
    """A feed's three formats: RSS (.xml), Atom (.atom) and JSON Feed (.json)."""
    return [Route(path + ext, handler, methods=["GET"]) for ext in (".xml", ".atom", ".json")]


def install_template_globals(site, services) -> None:
    """Helpers the shared templates (paper page, upvote box, comments) call."""
    site.env.globals.update(
        render_comment=render_comment,
        upvote_breakdown=breakdown,
        comments_for=services.comments.list,
        feed_alternates=feeds.alternates,
        author_url=lists.author_url,
        author_links=lists.author_links,
        # a card's repeated parts, built in Python (web/cards.py)
        upvote_box=cards.upvote_box,
        paper_actions=cards.paper_actions,
        paper_links=cards.paper_links,
        org_badge=cards.org_badge,
        search_rows=cards.search_rows,
        category_options=cards.category_options,
    )


def build_app(services, *, debug: bool = False) -> Starlette:
    """The ASGI app over services built by dailypapers.app.build_services."""
    settings = services.settings
    site = Site(services, services.papers)
    install_template_globals(site, services)
    csrf = CSRF(services.signing_key, secure=is_https(settings.public_url), exempt=CSRF_EXEMPT)

    def respond(scope, status: int, message: str, headers: dict[str, str]) -> Response:
        request = Request(scope)
        request.scope.setdefault("app", app)
        return errors.error_response(request, status, message, headers)

    def render_reject(scope, status: int, message: str) -> tuple[bytes, bytes]:
        request = Request(scope)
        request.scope.setdefault("app", app)
        response = errors.error_response(request, status, message)
        return bytes(response.body), response.media_type.encode() if response.media_type else b"text/html"

    app = Starlette(
        debug=debug,
        middleware=[Middleware(Guard, respond=respond, limited=RATE_LIMITED,
                               extra_headers=security_headers(is_https(settings.public_url))),
                    Middleware(SecurityMiddleware, csrf=csrf, base_url=settings.public_url,
                               render_reject=render_reject)],
        exception_handlers=errors.exception_handlers(),
    )
    app.router = SegmentRouter(route_table())  # before the first request builds the middleware stack
    app.state.services = services
    app.state.papers = services.papers
    app.state.site = site
    app.state.csrf = csrf
    return app


__all__ = ["build_app", "route_table", "install_template_globals", "CSRF_EXEMPT"]
