"""The daily arrivals of the instance's field: ranked, triaged, and listed by people and rules.

Scores are computed by jobs (`dailypapers arrivals train | score`, arrivals/scoring.py), stored
beside the papers, and read by every web node: pages never train or rank, nor load the ranker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dailypapers import days
from dailypapers.arrivals.history import MIN_POSITIVES
from dailypapers.clock import utcnow
from dailypapers.community.accounts import require_curator
from dailypapers.config import Settings
from dailypapers.errors import Invalid, NotFound
from dailypapers.models import ArrivalEntry, ArrivalRule, Listing, User
from dailypapers.storage import ArrivalsStore

PER_PAGE = 50
SORTS = ("interest", "upvotes", "newest")
ACTIONS = {"add": "added", "pin": "pinned", "skip": "skipped"}
MAX_TOP_K = 100
MODEL_STATE = "arrivals.model"
MAX_DAYS_SKIPPED = 60  # how far day links look past days with no arrivals in the field

# Given a saved search and the ids of a day's arrivals, the ids the search matches.
Matcher = Callable[[str, Sequence[str]], set[str]]


@dataclass(frozen=True)
class ModelInfo:
    """What ranks the arrivals now, as pages and `dailypapers arrivals status` describe it."""

    kind: str  # "trained" or "seed" (no history yet)
    today: dt.date
    trained_at: dt.datetime
    arrivals: int
    picks: int
    positives: int
    seconds: float

    @property
    def note(self) -> str:
        if self.kind == "seed":
            return (f"Ranked by closeness to papers Hugging Face's community picked: this site has "
                    f"{self.positives} of its own picks among its arrivals so far, too few to learn from "
                    f"(at least {MIN_POSITIVES} are needed).")
        return (f"Ranked by a model trained on {self.arrivals:,} arrivals and {self.picks:,} listed papers "
                f"of this site ({self.trained_at:%Y-%m-%d %H:%M} UTC).")

    def as_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["today"] = self.today.isoformat()
        d["trained_at"] = self.trained_at.isoformat()
        return d

    @classmethod
    def from_json(cls, text: str) -> ModelInfo:
        d = json.loads(text)
        d["today"] = dt.date.fromisoformat(d["today"])
        d["trained_at"] = dt.datetime.fromisoformat(d["trained_at"])
        return cls(**d)


@dataclass
class ArrivalDay:
    """One day's arrivals in the instance's field, as a page shows them."""

    day: dt.date | None
    entries: list[ArrivalEntry]  # this page of them
    total: int  # in the field (after the category filter)
    previous: dt.date | None
    next: dt.date | None
    categories: list[tuple[str, int]]  # the filter's choices, with counts
    model: ModelInfo | None
    unscored: int
    page: int = 1
    per_page: int = PER_PAGE
    sort: str = "interest"
    category: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def undecided(self) -> int:
        return sum(1 for e in self.entries if e.decision is None and e.listed_on is None)


def _sort(entries: list[ArrivalEntry], sort: str) -> list[ArrivalEntry]:
    if sort == "upvotes":
        return sorted(entries, key=lambda e: (-e.paper.upvotes, -(e.score or -1e9), e.paper.arxiv_id))
    if sort == "newest":
        return sorted(entries, key=lambda e: e.paper.arxiv_id, reverse=True)
    return entries  # the store's order: best score first, unscored last


class ArrivalService:
    def __init__(self, store: ArrivalsStore, settings: Settings, *, clock: Callable[[], dt.datetime] | None = None,
                 matcher: Matcher | None = None):
        self.store = store
        self.settings = settings
        self.clock = clock or utcnow
        self.matcher = matcher

    # -- reading ------------------------------------------------------------
    def today(self) -> dt.date:
        return days.list_day(self.clock(), self.settings.day_rollover, self.settings.timezone)

    def latest_day(self) -> dt.date | None:
        """The newest announcement day up to today with arrivals in the field (arXiv's list for
        tomorrow is out the evening before)."""
        day = self.store.latest_arrival_day(self.today() + dt.timedelta(days=1))
        if day is None or self._has_field(day):
            return day
        return self._neighbour(day, -1)

    def _has_field(self, day: dt.date) -> bool:
        return not self.settings.category_list or bool(self._field_day(day))

    def _neighbour(self, day: dt.date, step: int) -> dt.date | None:
        """The nearest day before (step -1) or after (+1) `day` with arrivals in the field; days
        holding only papers from elsewhere (Hugging Face's lists, say) are passed over."""
        for _ in range(MAX_DAYS_SKIPPED):
            found = self.store.arrival_day_neighbours(day)[0 if step < 0 else 1]
            if found is None or self._has_field(found):
                return found
            day = found
        return None

    def model_info(self) -> ModelInfo | None:
        saved = self.store.get_state(MODEL_STATE)
        return ModelInfo.from_json(saved) if saved else None

    def in_field(self, entry: ArrivalEntry) -> bool:
        return self.settings.in_field(entry.paper.categories)

    def _field_day(self, day: dt.date) -> list[ArrivalEntry]:
        return [e for e in self.store.arrivals_on(day) if self.in_field(e)]

    def view(self, day: dt.date | None = None, *, category: str | None = None, sort: str = "interest",
             page: int = 1, per_page: int = PER_PAGE) -> ArrivalDay:
        """A day's arrivals in the field (the latest day by default), filtered, sorted and paged."""
        if sort not in SORTS:
            raise Invalid(f"Unknown sort {sort!r}: use one of {', '.join(SORTS)}.", field="sort")
        if page < 1:
            raise Invalid("The page number must be 1 or more.", field="page")
        day = day or self.latest_day()
        if day is None:
            return ArrivalDay(None, [], 0, None, None, [], self.model_info(), 0, page, per_page, sort, category)
        entries = self._field_day(day)
        counts: dict[str, int] = {}
        for e in entries:
            for c in dict.fromkeys(e.paper.categories):
                counts[c] = counts.get(c, 0) + 1
        field = self.settings.category_list
        choices = sorted(((c, n) for c, n in counts.items() if not field or c in field or c.split(".")[0] in field),
                         key=lambda cn: (-cn[1], cn[0]))
        if category:
            entries = [e for e in entries if category in e.paper.categories]
        unscored = sum(1 for e in entries if e.score is None)
        entries = _sort(entries, sort)
        previous, following = self._neighbour(day, -1), self._neighbour(day, 1)
        start = (page - 1) * per_page
        return ArrivalDay(day, entries[start:start + per_page], len(entries), previous, following, choices,
                          self.model_info(), unscored, page, per_page, sort, category)

    # -- the curator's inbox ------------------------------------------------
    def inbox(self, curator: User | None, day: dt.date | None = None) -> ArrivalDay:
        """Every arrival of the day in the field, best first, for triage."""
        require_curator(curator)
        return self.view(day, per_page=10_000)

    def entry(self, curator: User | None, arxiv_id: str) -> ArrivalEntry:
        """One arrival with its decision now: the inbox redraws a row from it after an undo."""
        require_curator(curator)
        found = self.store.arrival_entry(arxiv_id)
        if found is None:
            raise NotFound(f"{arxiv_id} is not an arrival")
        return found

    def decide(self, curator: User | None, day: dt.date, arxiv_id: str, action: str) -> ArrivalEntry:
        """add, pin or skip one arrival of `day` (an added paper may still be pinned)."""
        curator = require_curator(curator)
        decision = ACTIONS.get(action)
        if decision is None:
            raise Invalid(f"Unknown action {action!r}: use add, pin or skip.", field="action")
        entry = self.store.arrival_entry(arxiv_id)
        if entry is None or entry.day != day:
            raise NotFound(f"{arxiv_id} is not an arrival of {day:%Y-%m-%d}")
        now = self.clock()
        listing = Listing(arxiv_id=arxiv_id, day=day, submitted_by=curator.name, submitted_at=now, source="curator")
        outcome = self.store.decide_arrival(day, arxiv_id, decision, actor_id=curator.id, listing=listing, at=now)
        if outcome == "decided":
            if entry.decision == "removed":  # z cannot bring back what a curator took off a list
                raise Invalid(f"{arxiv_id} was taken off the list by a curator: add it again from the "
                              f"curator's list page if it belongs there.")
            raise Invalid(f"{arxiv_id} is {entry.decision} already: undo that first (z).")
        if outcome == "listed":
            raise Invalid(f"{arxiv_id} is on the list of {entry.listed_on or day:%Y-%m-%d} already.")
        if outcome == "hidden":
            raise Invalid(f"{arxiv_id} is on the list of {day:%Y-%m-%d} already, hidden by a curator: show it "
                          f"again from the curator's page of that day.")
        found = self.store.arrival_entry(arxiv_id)
        assert found is not None  # it was an arrival a moment ago, and papers are never deleted
        return found

    def undo(self, curator: User | None, day: dt.date) -> tuple[str, str]:
        """Take back the curator's newest decision on `day`: (arxiv id, the decision undone)."""
        curator = require_curator(curator)
        undone = self.store.undo_decision(day, curator.id, self.clock())
        if undone is None:
            raise Invalid(f"Nothing to undo on {day:%Y-%m-%d}.")
        return undone

    # -- rules --------------------------------------------------------------
    def rules(self, curator: User | None) -> list[ArrivalRule]:
        require_curator(curator)
        return self.store.arrival_rules()

    def add_rule(self, curator: User | None, kind: str, *, top_k: int | None = None,
                 query: str | None = None) -> ArrivalRule:
        curator = require_curator(curator)
        if kind == "top":
            if top_k is None or not 1 <= top_k <= MAX_TOP_K:
                raise Invalid(f"K must be a whole number from 1 to {MAX_TOP_K}.", field="top_k")
            query = None
        elif kind == "search":
            query = (query or "").strip()
            if not query:
                raise Invalid("Type the search whose matches should be listed.", field="query")
            if len(query) > 250:
                raise Invalid("The search is too long (at most 250 characters).", field="query")
            if self.matcher is None:
                raise Invalid("Search is not available on this site, so search rules cannot run.", field="query")
            top_k = None
        else:
            raise Invalid(f"Unknown kind of rule {kind!r}: use top or search.", field="kind")
        return self.store.add_arrival_rule(kind, top_k, query, actor_id=curator.id, at=self.clock())

    def delete_rule(self, curator: User | None, rule_id: int) -> None:
        curator = require_curator(curator)
        if not self.store.delete_arrival_rule(rule_id, actor_id=curator.id, at=self.clock()):
            raise NotFound(f"There is no rule #{rule_id}.")

    def undo_rule_action(self, curator: User | None, action_id: int) -> None:
        """Take a paper a rule listed back off that list; no rule lists it again."""
        curator = require_curator(curator)
        outcome = self.store.undo_rule_action(action_id, curator.id, self.clock())
        if outcome is None:
            raise NotFound(f"Log entry #{action_id} is not a paper a rule listed.")
        if outcome == "gone":
            raise Invalid("That paper is no longer on that list.")

    def apply_rules(self, day: dt.date) -> list[tuple[str, str]]:
        """List the arrivals of `day` that the rules pick; returns (arxiv id, rule) for each."""
        rules = self.store.arrival_rules()
        if not rules:
            return []
        entries = self._field_day(day)
        open_ids = {e.paper.arxiv_id for e in entries if e.decision is None and e.listed_on is None}
        done: list[tuple[str, str]] = []
        for rule in rules:
            if rule.kind == "top":
                scored = [e for e in entries if e.score is not None]
                chosen = [e.paper.arxiv_id for e in scored[: rule.top_k or 0]]
            elif self.matcher is not None and rule.query:
                matched = self.matcher(rule.query, [e.paper.arxiv_id for e in entries])
                chosen = [e.paper.arxiv_id for e in entries if e.paper.arxiv_id in matched]
            else:
                continue
            for arxiv_id in chosen:
                if arxiv_id not in open_ids:
                    continue
                listing = Listing(arxiv_id=arxiv_id, day=day, submitted_at=self.clock(), source="rule")
                if self.store.decide_arrival(day, arxiv_id, "added", actor_id=None, rule=rule.label,
                                             listing=listing, at=self.clock()) == "done":
                    open_ids.discard(arxiv_id)
                    done.append((arxiv_id, rule.label))
        return done

    # -- members' upvotes ---------------------------------------------------
    def votes_rule(self) -> str:
        n = self.settings.arrival_list_votes
        return f"{n} member upvote{'s' if n != 1 else ''}"

    def member_voted(self, arxiv_id: str, votes: int) -> bool:
        """After a vote: an arrival with enough member upvotes joins its day's list. True if it did.

        A curator's skip does not stop the members; a curator taking the paper off the list does."""
        needed = self.settings.arrival_list_votes
        if needed <= 0 or votes < needed:
            return False
        entry = self.store.arrival_entry(arxiv_id)
        if entry is None or entry.listed_on is not None or not self.in_field(entry):
            return False
        if entry.decision in ("added", "pinned", "removed"):
            return False
        now = self.clock()
        listing = Listing(arxiv_id=arxiv_id, day=entry.day, submitted_at=now, source="rule")
        return self.store.decide_arrival(entry.day, arxiv_id, "added", actor_id=None, rule=self.votes_rule(),
                                         listing=listing, at=now, over_skip=True) == "done"


__all__ = ["ArrivalDay", "ArrivalService", "ModelInfo"]
