"""What handlers receive and return, and GitHub's error bodies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .state import BOT, Pull, Repo, State, User

# GitHub's limit on comment, review and issue-comment bodies.
BODY_LIMIT = 65536


class GitHubError(Exception):
    """An error answer. ``violation``: a correct client never causes it (a documented limit)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        violation: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.violation = violation


def error_body(
    status: int, message: str, doc: str, errors: list[Any] | None = None
) -> dict[str, Any]:
    """GitHub's error document (since 2024 it repeats the status as a string)."""
    body: dict[str, Any] = {"message": message}
    if errors is not None:
        body["errors"] = errors
    return body | {"documentation_url": doc, "status": str(status)}


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def unprocessable(*sentences: str) -> GitHubError:
    """The 422 GitHub gives for a review it cannot anchor: one Rails-style sentence."""
    return GitHubError(422, "Unprocessable Entity", errors=[to_sentence(list(sentences))])


def to_sentence(parts: list[str]) -> str:
    """Join like Rails' Array#to_sentence: "a", "a and b", "a, b, and c"."""
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def too_long(
    resource: str, value: str | None, *, code: str = "custom", field: str = "body"
) -> None:
    """422 when a body is over GitHub's 65536-character limit."""
    if value is not None and len(value) > BODY_LIMIT:
        message = f"Body is too long (maximum is {BODY_LIMIT} characters)"
        error = {"resource": resource, "code": code, "field": field, "message": message}
        raise GitHubError(422, "Validation Failed", errors=[error], violation=True)


@dataclass
class Ctx:
    """One request as a handler sees it."""

    state: State
    api: str  # the API base URL, for the url fields of responses
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    accept: str
    user: User = BOT

    def repo(self) -> Repo:
        repo = self.state.repos.get(f"{self.params['owner']}/{self.params['repo']}")
        if repo is None:
            raise not_found()
        return repo

    def pull(self, key: str = "pull_number") -> Pull:
        pull = self.state.pulls.get((self.repo().full_name, _int(self.params[key])))
        if pull is None:
            raise not_found()
        return pull

    def id(self, key: str) -> int:
        return _int(self.params[key])

    def updated_since(self, stamp: str) -> bool:
        """Whether a record updated at STAMP passes the ``since`` query parameter."""
        since = self.query.get("since")
        return since is None or _time(stamp) >= _time(since)


def _time(stamp: str) -> datetime:
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        raise GitHubError(422, f"Invalid time: {stamp}") from None


def _int(text: str) -> int:
    if not text.isdigit():
        raise not_found()
    return int(text)


@dataclass
class Reply:
    """A handler's answer. ``items`` makes it a paginated list (``wrap``: its key in an object)."""

    status: int = 200
    body: Any = None
    items: list[Any] | None = None
    wrap: str | None = None
    text: str | None = None  # a non-JSON body (the diff media type)
    location: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Ctx], Reply]
