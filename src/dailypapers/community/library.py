"""A reader's library: collections (reading lists) and reading states.

Collections. A member keeps any number of collections (up to MAX_COLLECTIONS). Each is:

* **private**: its owner alone sees it;
* **shared**: its owner and its members see it: editors add and remove papers, viewers read
  (a lab's journal club: the organizer owns it, the lab are editors);
* **public**: anyone reads it at ``/c/<slug or id>`` and in its feed; members keep their roles.

Only the owner renames, describes, deletes, changes the visibility and manages members. Making a
shared collection private again hides it from its members without forgetting them. Every member
may keep a private note on each paper; nobody else ever reads it (not the owner, not the public
page, not the export).

Permissions are checked here, once, for the pages and the API alike. A collection the reader may
not see is NotFound, exactly like one that does not exist (no probing of ids); one they may see
but not change is Forbidden.

Reading states: "to read", "read" and "hidden" (not interested), one per member and paper. Hidden
papers leave that member's lists and search results (web/personal.py drops them from the shared
cached pages), For you and digests (digests/foryou.py, where they are also a negative).

Imports (.bib or RIS): the arXiv ids found in the file are matched against the store; the
others are fetched from arXiv (the submission path's client, at most MAX_IMPORT_FETCH per import)
and stored. Entries without an arXiv id, ids arXiv does not know and lookups that failed are all
reported, never dropped silently.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dailypapers import citations
from dailypapers.citations import ImportedEntry
from dailypapers.clock import utcnow
from dailypapers.community.accounts import require_member
from dailypapers.errors import Forbidden, Invalid, NotFound
from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.ingest.announce import stamp
from dailypapers.ingest.arxiv_api import ArxivError, ArxivTimeout
from dailypapers.models import (
    MEMBER_ROLES,
    READING_STATES,
    VISIBILITIES,
    CollectedPaper,
    Collection,
    CollectionMember,
    ReadingState,
    StoredPaper,
    User,
)
from dailypapers.storage import Conflict, LibraryServiceStore

NAME_CHARS = 100
DESCRIPTION_CHARS = 2000
NOTE_CHARS = 5000
MAX_COLLECTIONS = 200  # per member
MAX_PAPERS = 5000  # per collection
MAX_MEMBERS = 100  # per collection, besides its owner
MAX_IMPORT_FETCH = 100  # unknown ids looked up on arXiv per import: the member waits for them
READING_PAGE = 100
# A visit more than this after the previous one starts a new sitting: the papers listed since the
# sitting before are "new", and stay marked while the member reloads within the sitting.
VISIT_GAP = dt.timedelta(minutes=30)
LIST_KINDS = ("daily", "week", "month", "trending")
STATE_LABELS = {"to_read": "To read", "read": "Read", "hidden": "Not interested"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")

EDIT = ("owner", "editor")


@dataclass
class CollectionView:
    """A collection as one reader sees it: their role, the papers (with their own notes) and members."""

    collection: Collection
    role: str | None  # "owner", "editor", "viewer"; None: a visitor of a public collection
    papers: list[CollectedPaper]
    members: list[CollectionMember] = field(default_factory=list)

    @property
    def can_edit(self) -> bool:
        return self.role in EDIT

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


@dataclass
class ImportReport:
    """What an import did with every entry of the file."""

    collection: Collection
    entries: int  # entries in the file
    added: list[str] = field(default_factory=list)  # new in the collection, in the file's order
    already: list[str] = field(default_factory=list)  # were in it before
    fetched: list[str] = field(default_factory=list)  # looked up on arXiv and stored (and added)
    not_found: list[tuple[str, str]] = field(default_factory=list)  # (arXiv id, why it was not added)
    without_id: list[ImportedEntry] = field(default_factory=list)  # entries naming no arXiv id
    problems: list[str] = field(default_factory=list)  # parts of the file that are not entries

    @property
    def reported(self) -> int:
        """Entries and ids the reader must look at: nothing was added for them."""
        return len(self.not_found) + len(self.without_id) + len(self.problems)


@dataclass
class SaveChoice:
    """A paper and the collections the member may put it in (``holds``: it is there already)."""

    paper: StoredPaper
    collections: list[tuple[Collection, bool]]
    state: str | None


def parse_paper_id(raw: str) -> str:
    try:
        return parse_arxiv_id((raw or "").strip()[:300]).id
    except BadArxivId:
        raise Invalid(f"{(raw or '')[:80]!r} is not an arXiv id or arXiv URL.", field="arxiv_id") from None


def check_state(state: str | None) -> str | None:
    if state in (None, "", "none", "clear"):
        return None
    if state not in READING_STATES:
        raise Invalid(f"state must be one of {', '.join(READING_STATES)} (or empty, to clear it)", field="state")
    return state


class LibraryService:
    def __init__(self, store: LibraryServiceStore, settings, arxiv=None, *,
                 clock: Callable[[], dt.datetime] | None = None):
        self.store = store
        self.settings = settings
        self.arxiv = arxiv  # ingest.arxiv_api.ArxivClient (None: imports match the store only)
        self.clock = clock or utcnow

    def now(self) -> dt.datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)

    # -- who may do what ---------------------------------------------------------------------
    def role_of(self, user: User | None, c: Collection) -> str | None:
        """owner, editor, viewer or None. Members lose access (not their role) while it is private."""
        if user is None:
            return None
        if user.id == c.owner_id:
            return "owner"
        if c.visibility == "private":
            return None
        return self.store.collection_role(c.id, user.id)

    def _open(self, user: User | None, collection_id: int, need: str = "read") -> tuple[Collection, str | None]:
        c = self.store.get_collection(collection_id)
        role = self.role_of(user, c) if c is not None else None
        if c is None or (role is None and c.visibility != "public"):
            raise NotFound("No such collection (or it is not shared with you).")
        if need == "edit" and role not in EDIT:
            raise Forbidden("Only the collection's owner and editors can change its papers.")
        if need == "own" and role != "owner":
            raise Forbidden("Only the collection's owner can do that.")
        return c, role

    def _member(self, user: User | None, what: str = "keep collections") -> User:
        return require_member(user, what=what)

    # -- reading ---------------------------------------------------------------------------------
    def mine(self, user: User | None) -> list[Collection]:
        """The member's own collections and the ones shared with them, most recently changed first."""
        user = self._member(user)
        return [c for c in self.store.member_collections(user.id) if c.role == "owner" or c.visibility != "private"]

    def view(self, user: User | None, collection_id: int, *, light: bool = False) -> CollectionView:
        """light: papers without their abstracts (a page of titles; the API and feeds want them whole)."""
        c, role = self._open(user, collection_id)
        papers = self.store.collection_papers(c.id, user.id if user is not None and role else None, light=light)
        members = self.store.collection_members(c.id) if role else []
        return CollectionView(c, role, papers, members)

    def find_public(self, ref: str) -> Collection:
        """A public collection by slug or id (/c/<ref>); anything else is NotFound."""
        c = self.store.get_collection(int(ref)) if ref.isascii() and ref.isdigit() and len(ref) < 13 else None
        if c is None:
            c = self.store.collection_by_slug(ref.lower()) if _SLUG.match(ref.lower()) else None
        if c is None or c.visibility != "public":
            raise NotFound("No such public collection.")
        return c

    def public(self, ref: str, *, light: bool = False) -> CollectionView:
        """What anyone sees of a public collection: its papers, no notes, no member list."""
        c = self.find_public(ref)
        return CollectionView(c, None, self.store.collection_papers(c.id, None, light=light))

    def export(self, user: User | None, collection_id: int, fmt: str) -> citations.Export:
        """The whole collection as BibTeX, RIS or CSL-JSON, in the page's order (notes never go out)."""
        citations.check_format(fmt)
        c, _ = self._open(user, collection_id)
        papers = [cp.paper for cp in self.store.collection_papers(c.id, None)]
        return citations.export(papers, fmt, c.slug or c.name)

    def choices(self, user: User | None, raw_id: str) -> SaveChoice:
        """The "save to a collection" menu for one paper: the collections the member may add to."""
        user = self._member(user)
        paper = self._paper(raw_id)
        holding = self.store.collections_holding(user.id, paper.arxiv_id)
        usable = [c for c in self.mine(user) if c.role in EDIT]
        state = self.store.reading_states(user.id, [paper.arxiv_id]).get(paper.arxiv_id)
        return SaveChoice(paper, [(c, c.id in holding) for c in usable], state)

    def _paper(self, raw_id: str) -> StoredPaper:
        arxiv_id = parse_paper_id(raw_id)
        paper = self.store.get_paper(arxiv_id)
        if paper is None:
            raise NotFound(f"We do not have {arxiv_id}: submit it first, or import it into a collection.")
        return paper

    # -- collections ----------------------------------------------------------------------------
    @staticmethod
    def _text(value: str | None, limit: int, what: str, *, required: bool = False) -> str:
        text = " ".join((value or "").split()) if what == "name" else (value or "").strip()
        text = text.replace("\x00", "")
        if required and not text:
            raise Invalid(f"Give the collection a {what}.", field=what)
        if len(text) > limit:
            raise Invalid(f"The {what} is too long (at most {limit} characters).", field=what)
        return text

    @staticmethod
    def _visibility(value: str | None) -> str:
        value = (value or "private").strip().lower()
        if value not in VISIBILITIES:
            raise Invalid(f"visibility must be one of {', '.join(VISIBILITIES)}", field="visibility")
        return value

    @staticmethod
    def _slug(value: str | None) -> str | None:
        slug = (value or "").strip().lower()
        if not slug:
            return None
        if not _SLUG.match(slug) or slug.isdigit():
            raise Invalid("The address must be 3-60 lower-case letters, digits and dashes (not only digits).",
                          field="slug")
        return slug

    def create(self, user: User | None, name: str, description: str = "", visibility: str = "private") -> Collection:
        user = self._member(user)
        name = self._text(name, NAME_CHARS, "name", required=True)
        description = self._text(description, DESCRIPTION_CHARS, "description")
        owned = sum(1 for c in self.store.member_collections(user.id) if c.role == "owner")
        if owned >= MAX_COLLECTIONS:
            raise Invalid(f"You have {MAX_COLLECTIONS} collections, the most one member can keep.")
        return self.store.create_collection(user.id, name, description, self._visibility(visibility), self.now())

    def update(self, user: User | None, collection_id: int, *, name: str | None = None,
               description: str | None = None, visibility: str | None = None, slug: str | None = None) -> Collection:
        """Rename, describe, change the visibility or the public address (None keeps a value; an
        empty slug removes the address)."""
        user = self._member(user)
        c, _ = self._open(user, collection_id, "own")
        new_name = c.name if name is None else self._text(name, NAME_CHARS, "name", required=True)
        new_desc = c.description if description is None else self._text(description, DESCRIPTION_CHARS,
                                                                         "description")
        new_vis = c.visibility if visibility is None else self._visibility(visibility)
        new_slug = c.slug if slug is None else self._slug(slug)
        try:
            self.store.update_collection(c.id, name=new_name, description=new_desc, visibility=new_vis,
                                         slug=new_slug, at=self.now())
        except Conflict:
            raise Invalid(f"The address /c/{new_slug} is taken; choose another.", field="slug") from None
        return self._open(user, c.id, "own")[0]

    def delete(self, user: User | None, collection_id: int) -> Collection:
        user = self._member(user)
        c, _ = self._open(user, collection_id, "own")
        self.store.delete_collection(c.id)
        return c

    # -- papers and notes -------------------------------------------------------------------------
    def add_paper(self, user: User | None, collection_id: int, raw_id: str) -> tuple[Collection, StoredPaper, bool]:
        """(collection, paper, added): False when it was there already. A paper we do not hold
        yet is fetched from arXiv, as an import would."""
        user = self._member(user)
        c, role = self._open(user, collection_id, "edit")
        arxiv_id = parse_paper_id(raw_id)
        if self.store.get_paper(arxiv_id) is None:
            _, failed = self._fetch([arxiv_id])
            if failed:
                raise Invalid(failed[0][1], field="arxiv_id")
        if c.paper_count >= MAX_PAPERS:
            raise Invalid(f"A collection holds at most {MAX_PAPERS} papers.")
        added = self.store.add_to_collection(c.id, [arxiv_id], user.id, self.now())
        paper = self.store.get_paper(arxiv_id)
        assert paper is not None  # just stored, and papers are never deleted
        return self._reread(c, role), paper, bool(added)

    def save_new(self, user: User | None, name: str, raw_id: str,
                 visibility: str = "private") -> tuple[Collection, StoredPaper]:
        """Create a collection with this paper in it (the "Save" menu's last line)."""
        paper = self._paper(raw_id)
        c = self.create(user, name, visibility=visibility)
        self.store.add_to_collection(c.id, [paper.arxiv_id], c.owner_id, self.now())
        return self._reread(c, "owner"), paper

    def remove_paper(self, user: User | None, collection_id: int, raw_id: str) -> tuple[Collection, bool]:
        user = self._member(user)
        c, role = self._open(user, collection_id, "edit")
        gone = self.store.remove_from_collection(c.id, parse_paper_id(raw_id), self.now())
        return self._reread(c, role), gone

    def _reread(self, c: Collection, role: str | None) -> Collection:
        """The collection as it is after a change (its count), with the reader's role."""
        now = self.store.get_collection(c.id) or c
        now.role = role
        return now

    def set_note(self, user: User | None, collection_id: int, raw_id: str, text: str | None) -> Collection:
        """The member's own note on a paper of a collection they can see (viewers too); empty clears it."""
        user = self._member(user)
        c, role = self._open(user, collection_id)
        if role is None:  # a visitor of a public collection keeps no notes in it
            raise Forbidden("Only the collection's members can keep notes in it.")
        body = self._text(text, NOTE_CHARS, "note") or None
        if not self.store.set_collection_note(c.id, parse_paper_id(raw_id), user.id, body, self.now()):
            raise NotFound("That paper is not in this collection.")
        return c

    def note(self, user: User | None, collection_id: int, raw_id: str) -> tuple[Collection, CollectedPaper]:
        """One paper of the collection with the member's own note (the note form)."""
        user = self._member(user)
        c, role = self._open(user, collection_id)
        if role is None:
            raise Forbidden("Only the collection's members can keep notes in it.")
        arxiv_id = parse_paper_id(raw_id)
        for cp in self.store.collection_papers(c.id, user.id):
            if cp.paper.arxiv_id == arxiv_id:
                return c, cp
        raise NotFound("That paper is not in this collection.")

    # -- members ------------------------------------------------------------------------------------
    def add_member(self, user: User | None, collection_id: int, name: str, role: str) -> CollectionMember:
        """Share with a member by their user name (or change their role)."""
        user = self._member(user)
        c, _ = self._open(user, collection_id, "own")
        role = (role or "").strip().lower()
        if role not in MEMBER_ROLES:
            raise Invalid(f"role must be one of {', '.join(MEMBER_ROLES)}", field="role")
        other = self.store.user_by_name((name or "").strip().removeprefix("@")[:100])
        if other is None or other.disabled:
            raise Invalid(f"There is no member called {(name or '').strip()[:60]!r}.", field="name")
        if other.id == c.owner_id:
            raise Invalid("The owner is always in the collection.", field="name")
        members = self.store.collection_members(c.id)
        if len(members) >= MAX_MEMBERS and all(m.user_id != other.id for m in members):
            raise Invalid(f"A collection is shared with at most {MAX_MEMBERS} members.")
        now = self.now()
        self.store.set_collection_member(c.id, other.id, role, now)
        if c.visibility == "private":  # sharing a private collection is what "shared" means
            self.store.update_collection(c.id, name=c.name, description=c.description, visibility="shared",
                                         slug=c.slug, at=now)
        return CollectionMember(other.id, other.name, role, now)

    def remove_member(self, user: User | None, collection_id: int, name: str) -> Collection:
        """The owner removes a member (by user name), or a member leaves."""
        user = self._member(user)
        c, role = self._open(user, collection_id)
        other = self.store.user_by_name((name or "").strip().removeprefix("@")[:100])
        if other is None or (role != "owner" and other.id != user.id):
            # a member may only take themselves out; anyone else's name is not theirs to probe
            if role != "owner":
                raise Forbidden("Only the collection's owner can remove its members.")
            raise NotFound("That member is not in this collection.")
        if not self.store.remove_collection_member(c.id, other.id):
            raise NotFound("That member is not in this collection.")
        return c

    # -- import ---------------------------------------------------------------------------------
    def import_file(self, user: User | None, collection_id: int, text: str) -> ImportReport:
        """Add the papers of a .bib or RIS file; report everything that could not be added."""
        user = self._member(user)
        c, _ = self._open(user, collection_id, "edit")
        parsed = citations.parse(text)
        report = ImportReport(c, len(parsed.entries), without_id=parsed.without_id, problems=list(parsed.problems))
        ids = parsed.ids
        known = self.store.get_papers(ids)
        fetched, failed = self._fetch([i for i in ids if i not in known])
        report.fetched = fetched
        report.not_found = failed
        found = set(known) | set(fetched)
        wanted = [i for i in ids if i in found]
        if c.paper_count + len(wanted) > MAX_PAPERS:  # rare: only then read what is there
            present = {cp.paper.arxiv_id for cp in self.store.collection_papers(c.id)}
            new = [i for i in wanted if i not in present]
            over = set(new[max(MAX_PAPERS - len(present), 0):])
            report.not_found += [(i, f"the collection is full ({MAX_PAPERS} papers)") for i in new if i in over]
            wanted = [i for i in wanted if i not in over]
        # newest first on the page: adding in reverse shows the papers in the file's order
        added = set(self.store.add_to_collection(c.id, list(reversed(wanted)), user.id, self.now()))
        report.added = [i for i in wanted if i in added]
        report.already = [i for i in wanted if i not in added]
        report.collection = self.store.get_collection(c.id) or c
        return report

    def _fetch(self, ids: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Look ids up on arXiv and store what it has: (stored ids, [(id, why not)])."""
        if not ids:
            return [], []
        if self.arxiv is None or not hasattr(self.arxiv, "fetch"):
            return [], [(i, "we do not have it, and looking papers up on arXiv is not configured here") for i in ids]
        batch, later = list(ids[:MAX_IMPORT_FETCH]), list(ids[MAX_IMPORT_FETCH:])
        failed = [(i, f"not looked up: at most {MAX_IMPORT_FETCH} new papers are fetched per import; "
                      "import the file again for the rest") for i in later]
        try:
            result = self.arxiv.fetch(batch)
        except ArxivTimeout:
            return [], [(i, "arXiv did not answer in time; try again") for i in batch] + failed
        except ArxivError:
            return [], [(i, "arXiv is not answering properly; try again in a few minutes") for i in batch] + failed
        papers = [stamp(p, self.settings.holidays) for p in result.papers]
        if papers:
            self.store.ingest_batch(papers)
        got = {p.arxiv_id for p in papers}
        stored = [i for i in batch if i in got]
        missing = set(result.missing)
        for i in batch:
            if i in got:
                continue
            reason = next((r for ref, r in result.rejected if ref == i), None)
            failed.append((i, f"arXiv has no paper {i}" if i in missing or reason is None else f"arXiv: {reason}"))
        return stored, failed

    # -- reading states ---------------------------------------------------------------------------
    def set_state(self, user: User | None, raw_id: str, state: str | None) -> tuple[str, str | None]:
        """Set (or clear, with None) the member's state of a paper: (arxiv id, state now)."""
        user = self._member(user, "mark papers")
        state = check_state(state)
        arxiv_id = parse_paper_id(raw_id)
        if not self.store.set_reading_state(user.id, arxiv_id, state, self.now()):
            raise NotFound(f"no paper {arxiv_id} here")
        return arxiv_id, state

    def toggle_state(self, user: User | None, raw_id: str, state: str | None) -> tuple[str, str | None]:
        """A state button: sets the state, or clears it when the paper is in that state already."""
        user = self._member(user, "mark papers")
        state = check_state(state)
        arxiv_id = parse_paper_id(raw_id)
        if state is not None and self.store.reading_states(user.id, [arxiv_id]).get(arxiv_id) == state:
            state = None
        return self.set_state(user, arxiv_id, state)

    def states(self, user: User | None, arxiv_ids: Sequence[str]) -> dict[str, str]:
        if user is None or not arxiv_ids:
            return {}
        return self.store.reading_states(user.id, list(arxiv_ids))

    def reading(self, user: User | None, state: str, page: int = 1,
                per_page: int = READING_PAGE) -> tuple[list[tuple[ReadingState, StoredPaper]], bool]:
        """One page of the member's papers in a state, most recently marked first; (items, more)."""
        user = self._member(user, "keep a reading list")
        checked = check_state(state)
        if checked is None:
            raise Invalid("state must be one of " + ", ".join(READING_STATES), field="state")
        items = self.store.reading_list(user.id, checked, per_page + 1, (max(page, 1) - 1) * per_page)
        return items[:per_page], len(items) > per_page

    def counts(self, user: User | None) -> dict[str, int]:
        user = self._member(user, "keep a reading list")
        found = self.store.count_reading_states(user.id)
        return {s: found.get(s, 0) for s in READING_STATES}

    def visit(self, user: User | None, kind: str) -> dt.datetime | None:
        """Record a member's visit to a list; papers listed after the returned time are new to them."""
        if user is None or kind not in LIST_KINDS:
            return None
        return self.store.record_visit(user.id, kind, self.now(), VISIT_GAP)


__all__ = [
    "LibraryService", "CollectionView", "ImportReport", "SaveChoice", "parse_paper_id", "check_state",
    "LIST_KINDS", "STATE_LABELS", "MAX_PAPERS", "MAX_COLLECTIONS", "MAX_IMPORT_FETCH", "VISIT_GAP",
]
