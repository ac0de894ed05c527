"""Member profiles (/u/{name}): the member, and the submissions and upvotes they chose to show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dailypapers.errors import NotFound
from dailypapers.models import Listing, StoredPaper, User

PROFILE_LIST = 100  # papers shown per list


class ProfileStore(Protocol):
    def user_by_name(self, name: str) -> User | None: ...
    def user_submissions(self, user_id: int, limit: int = 100) -> list[tuple[Listing, StoredPaper]]: ...
    def user_upvotes(self, user_id: int, limit: int = 100) -> list[StoredPaper]: ...


@dataclass
class Profile:
    user: User
    own: bool  # the viewer is this member
    submissions: list[tuple[Listing, StoredPaper]] | None  # None: hidden from this viewer
    upvotes: list[StoredPaper] | None


class ProfileService:
    def __init__(self, store: ProfileStore):
        self.store = store

    def profile(self, name: str, viewer: User | None) -> Profile:
        """A member's page; the lists they hide are None, except to themselves."""
        user = self.store.user_by_name(name)
        if user is None or user.disabled:
            raise NotFound(f"no member called {name!r}")
        own = viewer is not None and viewer.id == user.id
        subs = self.store.user_submissions(user.id, PROFILE_LIST) if (user.show_submissions or own) else None
        ups = self.store.user_upvotes(user.id, PROFILE_LIST) if (user.show_upvotes or own) else None
        return Profile(user, own, subs, ups)


__all__ = ["Profile", "ProfileService", "ProfileStore"]
