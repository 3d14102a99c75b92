"""FakeGitHub: a stateful GitHub REST server on 127.0.0.1 for tests, driven over real HTTP.

    with FakeGitHub() as gh:
        gh.add_pull("octo/app", 7, base_sha, head_sha, "main", "feature", diff_text)
        client = github.Github(auth=github.Auth.Token("t"), base_url=gh.url)
        ...
        assert gh.violations == []

Request bodies are checked against GitHub's OpenAPI description (the subset in
tests/fixtures/github/openapi-subset.json); responses are checked too, to keep the fake honest.
"""

from __future__ import annotations

import functools
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from . import diffs, reviews
from .dispatch import Dispatcher, Failure, Request, Violation
from .spec import Spec
from .state import BOT, CheckRun, IssueComment, Pull, Repo, Review, ReviewComment, State, person

SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID "
    "0000:0000:0000000:0000000:00000000."
)

_SPEC: Spec | None = None


def _spec() -> Spec:
    global _SPEC  # noqa: PLW0603 - parse the subset once per test session
    if _SPEC is None:
        _SPEC = Spec()
    return _SPEC


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as GitHub; every answer has Content-Length
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    dispatcher: Dispatcher

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        answer = self.dispatcher.handle(self.command, self.path, dict(self.headers.items()), raw)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeGitHub:
    """A GitHub REST API for tests: start it (``with``), point a client at ``.url``.

    ``read_only``: every write answers 403 "Resource not accessible by integration", as
    GITHUB_TOKEN does on a pull request from a fork. ``tokens``: accepted tokens (default:
    any). ``api_prefix``: serve under a path such as "/api/v3" (GitHub Enterprise Server).
    ``check_responses``: fail on close if a response departed from GitHub's schema.
    """

    def __init__(
        self,
        *,
        read_only: bool = False,
        tokens: set[str] | None = None,
        api_prefix: str = "",
        check_responses: bool = True,
    ) -> None:
        self.state = State()
        self._dispatch = Dispatcher(self.state, _spec(), read_only=read_only, tokens=tokens)
        self._dispatch.prefix = api_prefix.rstrip("/")
        self._check_responses = check_responses
        handler = type("Handler", (_Handler,), {"dispatcher": self._dispatch})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}{self._dispatch.prefix}"
        self._dispatch.api = self.url
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Serve in a background thread."""
        if self._thread is None:
            # A short poll interval: shutdown() waits for the next poll.
            serve = functools.partial(self._httpd.serve_forever, poll_interval=0.02)
            self._thread = threading.Thread(target=serve, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if kind is None:
            self.check()

    def check(self) -> None:
        """Raise if the fake itself failed or answered outside GitHub's documented shapes."""
        problems = list(self._dispatch.log.internal_errors)
        if self._check_responses:
            problems += self._dispatch.log.shape_problems
        if problems:
            raise AssertionError("fake GitHub misbehaved:\n" + "\n".join(problems))

    # -- what tests assert on ----------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """Every request, in order, with its answer's status."""
        return self._dispatch.log.requests

    @property
    def violations(self) -> list[Violation]:
        """Requests a correct client never sends: schema errors, undocumented keys, unknown
        endpoints, missing auth, bodies over GitHub's limits."""
        return self._dispatch.log.violations

    @property
    def rejections(self) -> list[Violation]:
        """Every error the fake answered by GitHub's rules (injected failures excluded)."""
        return self._dispatch.log.rejections

    @property
    def tokens(self) -> list[str]:
        """The distinct tokens clients sent, in order of first use."""
        return self._dispatch.log.tokens

    @property
    def latency(self) -> float:
        """Seconds every answer takes (0: at once); GitHub's take 100-300 ms."""
        return self._dispatch.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._dispatch.latency = seconds

    @property
    def read_only(self) -> bool:
        return self._dispatch.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._dispatch.read_only = value

    def pull(self, owner_repo: str, number: int) -> Pull:
        return self.state.pulls[(owner_repo, number)]

    def reviews(self, owner_repo: str, number: int) -> list[Review]:
        return self.state.pull_reviews(self.pull(owner_repo, number))

    def review_comments(self, owner_repo: str, number: int) -> list[ReviewComment]:
        return self.state.pull_comments(self.pull(owner_repo, number))

    def issue_comments(self, owner_repo: str, number: int) -> list[IssueComment]:
        return self.state.conversation(self.state.repos[owner_repo], number)

    def check_runs(self, owner_repo: str | None = None) -> list[CheckRun]:
        runs = self.state.check_runs.values()
        return [r for r in runs if owner_repo is None or r.repo.full_name == owner_repo]

    # -- setting the scene -------------------------------------------------------------------

    def add_repo(
        self, owner_repo: str, *, private: bool = False, default_branch: str = "main"
    ) -> Repo:
        with self._dispatch.lock:
            repo = self.state.repo(owner_repo, private=private)
            repo.default_branch = default_branch
            return repo

    def add_commit(self, owner_repo: str, sha: str) -> None:
        """Make SHA known (check runs and GET /commits/{sha} need a known commit)."""
        with self._dispatch.lock:
            self.state.repo(owner_repo).known_commits.add(sha)

    def add_pull(  # noqa: PLR0917 - positional like the pull request's own fields
        self,
        owner_repo: str,
        number: int,
        base_sha: str,
        head_sha: str,
        base_ref: str,
        head_ref: str,
        diff: str,
        *,
        head_repo: str | None = None,
        title: str = "Change things",
        author: str = "octocat",
        diff_too_large: bool = False,
    ) -> Pull:
        """Register a pull request; DIFF is ``git diff base...head`` text. ``head_repo``
        names a fork (created on first use) for pull requests from forks."""
        with self._dispatch.lock:
            repo = self.state.repo(owner_repo)
            head = repo if head_repo is None else self.state.repo(head_repo, parent=repo)
            pull = Pull(
                repo=repo,
                number=number,
                id=self.state.new_id(),
                base_sha=base_sha,
                head_sha=head_sha,
                base_ref=base_ref,
                head_ref=head_ref,
                head_repo=head,
                diff=diff,
                files=diffs.parse(diff),
                user=person(author),
                title=title,
                created_at=self.state.clock.now(),
                diff_too_large=diff_too_large,
            )
            self.state.pulls[(owner_repo, number)] = pull
            return pull

    def update_pull(self, owner_repo: str, number: int, *, head_sha: str, diff: str) -> Pull:
        """A push to the pull request (``synchronize``): new head, new diff."""
        with self._dispatch.lock:
            pull = self.pull(owner_repo, number)
            pull.head_history.append(pull.head_sha)
            pull.head_sha, pull.diff, pull.files = head_sha, diff, diffs.parse(diff)
            return pull

    def add_reply(self, comment_id: int, body: str, *, login: str = "octocat") -> ReviewComment:
        """A person replies in the thread of review comment COMMENT_ID."""
        with self._dispatch.lock:
            parent = self.state.review_comments[comment_id]
            return reviews.reply_to(self.state, parent, body, person(login))

    def add_issue_comment(
        self, owner_repo: str, number: int, body: str, *, login: str = "octocat"
    ) -> IssueComment:
        """A person comments in the pull request's conversation."""
        with self._dispatch.lock:
            repo = self.state.repos[owner_repo]
            return self.state.add_issue_comment(repo, number, body, person(login))

    # -- failure injection -------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> Failure:
        """Answer the next TIMES requests METHOD /path (``re.search``) with STATUS instead;
        ``times=None`` for every one. The default body is GitHub's error document."""
        failure = Failure(
            method.upper(), re.compile(path_regex), status, times, headers or {}, body
        )
        with self._dispatch.lock:
            self._dispatch.failures.append(failure)
        return failure

    def secondary_rate_limit(
        self, method: str, path_regex: str, *, retry_after: int = 1, times: int | None = 1
    ) -> Failure:
        """GitHub's secondary rate limit: 403, ``Retry-After``, and its message."""
        body = {
            "message": SECONDARY_RATE_LIMIT_MESSAGE,
            "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": "403",
        }
        headers = {"Retry-After": str(retry_after), "X-RateLimit-Remaining": "4000"}
        return self.fail(method, path_regex, 403, times=times, headers=headers, body=body)


__all__ = ["BOT", "SECONDARY_RATE_LIMIT_MESSAGE", "Failure", "FakeGitHub", "Request", "Violation"]
