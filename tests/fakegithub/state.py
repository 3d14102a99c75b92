"""The fake's data: repositories, pull requests, reviews, comments and check runs."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import diffs


@dataclass(frozen=True)
class User:
    """An account: the bot that owns the token, or a person."""

    login: str
    id: int
    type: str = "User"  # "User", "Bot" or "Organization"

    @property
    def node_id(self) -> str:
        kind = {"Bot": "04:Bot", "Organization": "12:Organization"}.get(self.type, "04:User")
        return base64.b64encode(f"{kind}{self.id}".encode()).decode()


# The account a workflow's GITHUB_TOKEN acts as.
BOT = User("github-actions[bot]", 41898282, "Bot")


@dataclass
class Repo:
    """A repository; forks have ``parent``."""

    owner: User
    name: str
    id: int
    private: bool = False
    default_branch: str = "main"
    parent: Repo | None = None
    known_commits: set[str] = field(default_factory=set)  # SHAs added by the test

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class Pull:
    """A pull request whose diff (base...head) the test supplies."""

    repo: Repo
    number: int
    id: int
    base_sha: str
    head_sha: str
    base_ref: str
    head_ref: str
    head_repo: Repo
    diff: str
    files: dict[str, diffs.FileDiff]
    user: User
    title: str
    created_at: str
    head_history: list[str] = field(default_factory=list)  # earlier head SHAs, oldest first
    diff_too_large: bool = False


@dataclass
class Review:
    """A submitted (or pending) pull-request review."""

    id: int
    pull: Pull
    user: User
    body: str
    state: str  # COMMENTED, APPROVED, CHANGES_REQUESTED, PENDING
    commit_id: str
    submitted_at: str | None


@dataclass
class ReviewComment:
    """An inline comment; replies share their thread's anchor and have ``in_reply_to_id``."""

    id: int
    pull: Pull
    review_id: int
    user: User
    body: str
    path: str
    line: int | None
    side: str | None
    start_line: int | None
    start_side: str | None
    position: int | None
    diff_hunk: str
    commit_id: str
    created_at: str
    updated_at: str
    in_reply_to_id: int | None = None
    subject_type: str = "line"


@dataclass
class IssueComment:
    """A comment in a pull request's conversation."""

    id: int
    repo: Repo
    number: int
    user: User
    body: str
    created_at: str
    updated_at: str


@dataclass
class CheckRun:
    """A check run with the annotations accumulated over its create and update requests."""

    id: int
    repo: Repo
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: str | None
    completed_at: str | None
    external_id: str | None
    details_url: str | None
    check_suite_id: int
    output: dict[str, Any] = field(default_factory=dict)  # title, summary, text
    annotations: list[dict[str, Any]] = field(default_factory=list)


class Clock:
    """Deterministic timestamps: every call is one second after the previous one."""

    def __init__(self, start: datetime = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) -> None:
        self._now = start

    def now(self) -> str:
        self._now += timedelta(seconds=1)
        return self._now.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class State:
    """Everything the fake server stores; the server serializes access to it."""

    repos: dict[str, Repo] = field(default_factory=dict)
    pulls: dict[tuple[str, int], Pull] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    issue_comments: dict[int, IssueComment] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)
    # One sequence for every kind, so an id of one kind is never a valid id of another.
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_800_000_001))

    def new_id(self) -> int:
        return next(self._ids)

    def repo(self, full_name: str, *, private: bool = False, parent: Repo | None = None) -> Repo:
        """The repository FULL_NAME, created on first use."""
        if full_name not in self.repos:
            owner, name = full_name.split("/")
            user = person(owner)
            self.repos[full_name] = Repo(user, name, self.new_id(), private, parent=parent)
        return self.repos[full_name]

    def commits(self, repo: Repo) -> set[str]:
        """Every commit SHA the fake knows in REPO (pull bases, heads and their history)."""
        shas = set(repo.known_commits)
        for pull in self.pulls.values():
            if pull.repo is repo or pull.head_repo is repo:
                shas |= {pull.base_sha, pull.head_sha, *pull.head_history}
        return shas

    def resolve(self, repo: Repo, ref: str) -> str | None:
        """The SHA REF names in REPO: a known SHA, or a pull request's branch (``heads/`` too)."""
        if ref in self.commits(repo):
            return ref
        branch = ref.removeprefix("refs/").removeprefix("heads/")
        for pull in self.pulls.values():
            if pull.head_repo is repo and pull.head_ref == branch:
                return pull.head_sha
            if pull.repo is repo and pull.base_ref == branch:
                return pull.base_sha
        return None

    def pull_comments(self, pull: Pull) -> list[ReviewComment]:
        return [c for c in self.review_comments.values() if c.pull is pull]

    def pull_reviews(self, pull: Pull) -> list[Review]:
        return [r for r in self.reviews.values() if r.pull is pull]

    def add_issue_comment(self, repo: Repo, number: int, body: str, user: User) -> IssueComment:
        now = self.clock.now()
        comment = IssueComment(self.new_id(), repo, number, user, body, now, now)
        self.issue_comments[comment.id] = comment
        return comment

    def conversation(self, repo: Repo, number: int) -> list[IssueComment]:
        return [c for c in self.issue_comments.values() if c.repo is repo and c.number == number]


def person(login: str) -> User:
    """A person's account; the id is stable per login (octocat's is the real one)."""
    if login == "octocat":
        return User(login, 583231)
    return User(
        login, 10_000_000 + int.from_bytes(login.encode()[:8].ljust(8, b"\0"), "big") % 80_000_000
    )


def node_id(prefix: str, number: int) -> str:
    """A GraphQL global id in GitHub's current ``PREFIX_kwDO...`` style."""
    return (
        f"{prefix}_kwDO{base64.urlsafe_b64encode(number.to_bytes(8, 'big')).decode().rstrip('=')}"
    )
