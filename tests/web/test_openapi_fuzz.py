"""Schemathesis against /openapi.json, in-process over ASGI: every operation, with generated valid
(positive) and invalid (negative) input, every check Schemathesis has switched on (no 5xx, status
codes, content types, headers and bodies as documented, invalid input refused, valid input
accepted, authentication not ignored). At least 1,000 cases; the rate limits are raised in the
settings for the run. Authenticated operations use a member's API token.

Generation is derandomized, so a run in CI tries the same cases every time; a failure names the
case with a curl line to replay it."""

from __future__ import annotations

import collections

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.openapi.checks import RejectedPositiveData
from webapp import make_app

from dailypapers.days import parse_week
from dailypapers.errors import Invalid

EXAMPLES = 25  # per operation and mode: about 1,100 cases in all
MIN_CASES = 1000
UNLIMITED = "1000000/60"
RATES = {f"rate_{name}": UNLIMITED for name in ("login", "login_account", "signup", "reset", "submit", "comment",
                                                "vote", "search", "export", "list", "subscribe")}

pytestmark = pytest.mark.sqlite_only  # the store tests and test_backends.py cover PostgreSQL


@pytest.fixture()
def api(fresh_data_dir):
    # no arXiv client: submitting a paper this site lacks is the service's 400, never a lookup
    app, services = make_app(fresh_data_dir, arxiv=False, **RATES)
    member = services.accounts.create_user("fuzz@example.org", "fuzz", "correct horse battery staple",
                                           verified=True, check_strength=False)
    _, token = services.accounts.create_api_token(member, "schemathesis")
    # the token goes on every operation whose security names the bearer scheme, so Schemathesis
    # knows it was sent and also tries each such operation without it
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearer": {"bearer": token}}}})
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    services.store.close()


# Rules on content that JSON Schema cannot state, each in its operation's description or error
# message: only here may input that the schema allows get a 400 (every other check still runs).
CONTENT_RULES = {
    "POST /api/collections": "a name of only spaces is refused",
    "PATCH /api/collections/{id}": "the slug rule (not only digits) and a name of only spaces",
    "POST /api/collections/{id}/import": "the body must be a .bib or RIS file",
    "POST /api/saved-searches": "the search's own parameters are checked as /papers/search checks them",
    "POST /api/follows": "an organization is named as in its /orgs/ address",
    "GET /feeds/search.xml": "a q of only spaces is refused",
    "POST /api/papers/submit": "the paper must be on arXiv, recent and not on today's list yet",
}


def names_a_missing_week(case) -> bool:
    """The one rule the document states in words only: W53 exists only in some years."""
    week = (case.query or {}).get("week")
    if not isinstance(week, str) or not week.endswith("-W53"):
        return False
    try:
        parse_week(week)
    except Invalid:
        return True
    return False


def fuzz(operation, mode: GenerationMode, counted: collections.Counter) -> None:
    """EXAMPLES generated cases of one operation, each sent and checked; raises the first failure."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        if mode is GenerationMode.POSITIVE:
            assume(not names_a_missing_week(case))
        counted[operation.label] += 1
        response = case.call()
        try:
            case.validate_response(response)
        except FailureGroup as group:
            left = [f for f in group.exceptions if not (
                isinstance(f, RejectedPositiveData) and response.status_code == 400
                and operation.label in CONTENT_RULES)]
            if left:
                raise FailureGroup(left, str(group)) from None

    run()


def test_the_api_keeps_to_its_openapi_document(api):
    counted: collections.Counter[str] = collections.Counter()
    failures = []
    for result in api.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, counted)
            except Unsatisfiable:
                pass  # nothing in this operation can be made invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as e:  # noqa: B036 (Schemathesis raises a group)
                failures.append(f"{operation.label} ({mode.value}):\n{e}")
    print(f"schemathesis: {sum(counted.values())} cases over {len(counted)} operations")
    assert not failures, "\n\n".join(failures)
    assert sum(counted.values()) >= MIN_CASES, counted
    assert len(counted) >= 20  # every operation ran
