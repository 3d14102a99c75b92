"""Publishing a report to GitHub: the review, the summary comment and the check run, in turn.

A read-only token (a pull request from a fork) is not an error: the first refused write
stops all writing and the outcome says how to get comments on fork pull requests. Other
failures do not stop the remaining publishers, so the check run still concludes; the first
one is raised afterwards as a ``GitHubError``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from escape_guard.errors import GitHubError
from escape_guard.model import Finding, Report
from escape_guard.publish import checks
from escape_guard.publish.client import Api, ApiFailure
from escape_guard.publish.review import ReviewOptions, publish_review, pull_lists
from escape_guard.publish.summary import comments_path, failure_body, publish_summary, summary_body
from escape_guard.render.links import links

_T = TypeVar("_T")

READ_ONLY = (
    "The GitHub token is read-only (403 Resource not accessible by integration), as it is for "
    "pull requests from forks, so nothing was posted. The report is in the job summary and "
    "the annotations."
)
FORK_PATTERN = (
    "To review pull requests from forks, split the job in two workflows: "
    "examples/workflows/fork-safe-build.yml (on pull_request: builds with a read-only token "
    "and uploads the JSON report as an artifact) and examples/workflows/fork-safe-comment.yml "
    "(on workflow_run: posts that report with pull-requests: write and checks: write, without "
    "building untrusted code)."
)
CHECKS_PERMISSION = (
    "No check run: the token may not create one (403 Resource not accessible by integration). "
    "Give the job `permissions: checks: write`; the job's own status still reports the result."
)
CHECKS_OR_READ_ONLY = (
    "No check run: the token may not create one (403 Resource not accessible by integration): "
    "the job lacks `permissions: checks: write`, or the token is read-only, as it is for pull "
    "requests from forks. The report is in the job summary and the annotations."
)
UNAUTHENTICATED = "No GitHub token was given, so nothing was posted: set the github-token input."


class Target(NamedTuple):
    api_url: str  # GITHUB_API_URL, e.g. https://api.github.com or https://ghe.example/api/v3
    token: str
    repository: str  # "owner/name"
    head_sha: str
    pull_number: int | None  # None for push, merge_group, workflow_dispatch: check run only
    run_url: str = ""  # link to the workflow run, shown in bodies
    server_url: str = ""  # GITHUB_SERVER_URL, where positions link to ("": github.com)


class Options(NamedTuple):
    comment: str = "review"  # review | summary | off
    max_inline_comments: int = 20
    include_indirect: bool = False
    fail_on: str = "new"  # new | indirect | none: decides the check run's conclusion
    check_run: bool = True


class Outcome(NamedTuple):
    read_only: bool  # the token could not write (fork PR): nothing posted
    review_id: int | None
    inline_comments: int
    summary_comment_id: int | None
    check_run_id: int | None
    messages: tuple[str, ...]  # things to print in the log (warnings, fork guidance)
    commented: frozenset[Finding] = frozenset()  # findings with an inline comment


def publish(
    report: Report,
    target: Target,
    options: Options,
    *,
    log: Callable[[str], None],
    api: Api | None = None,
) -> Outcome:
    """Post the review, the summary comment and the check run that OPTIONS ask for, with
    API (one that may hold ``reads`` read ahead) or a client of its own."""
    run = _Run(target, log, api)
    found = links(target.server_url, target.repository)
    number = target.pull_number if options.comment != "off" else None
    if number is not None and options.comment == "review":
        review = ReviewOptions(
            target.head_sha, options.max_inline_comments, options.include_indirect, target.run_url
        )
        done = run.pull_write(
            lambda: publish_review(run.api, run.repo_path, number, report, review, log=log)
        )
        if done is not None:
            run.review_id, run.inline_comments = done.review_id, done.inline_comments
            run.commented = done.commented
    if number is not None:
        run.summary(number, summary_body(report, run_url=target.run_url, links=found))
    if options.check_run:
        output = checks.report_output(report, options.fail_on, links=found, skip=run.commented)
        run.check(output)
    return run.finish()


def publish_failure(
    message: str,
    target: Target,
    options: Options,
    *,
    log: Callable[[str], None],
    api: Api | None = None,
) -> Outcome:
    """A run that could not compare: the summary comment says so, the check run fails."""
    run = _Run(target, log, api)
    number = target.pull_number if options.comment != "off" else None
    if number is not None:
        run.summary(number, failure_body(message, run_url=target.run_url))
    if options.check_run:
        run.check(checks.failure_output(message))
    return run.finish()


def reads(target: Target, options: Options) -> list[str]:
    """The lists ``publish`` reads from the pull request, to read ahead while it compiles;
    none without a token (nothing is posted) or a pull request."""
    number = target.pull_number if options.comment != "off" else None
    if number is None or not target.token:
        return []
    repo_path = _repo_path(target.repository)
    review = pull_lists(repo_path, number) if options.comment == "review" else []
    return [*review, comments_path(repo_path, number)]


class _Run:
    """One publishing run: the client, what was posted, and what went wrong."""

    def __init__(self, target: Target, log: Callable[[str], None], api: Api | None) -> None:
        self.target, self.log = target, log
        self.repo_path = _repo_path(target.repository)
        self.messages: list[str] = []
        self.failures: list[str] = []
        self.read_only = False
        self.stopped = not target.token  # no more writes: no token, or a read-only one
        if self.stopped:
            self.messages.append(UNAUTHENTICATED)
        self.api = api or Api(target.api_url, target.token)
        self.review_id: int | None = None
        self.inline_comments = 0
        self.summary_id: int | None = None
        self.check_id: int | None = None
        self.commented: frozenset[Finding] = frozenset()

    def pull_write(self, action: Callable[[], _T]) -> _T | None:
        """Run one publisher on the pull request; a refused write makes the run read-only."""
        if self.stopped:
            return None
        try:
            result = action()
        except ApiFailure as failure:
            if failure.read_only:
                self._refused(READ_ONLY, FORK_PATTERN)
            else:
                self._failed(failure)
            return None
        return result

    def summary(self, number: int, body: str) -> None:
        """Post or update the pull request's summary comment."""
        self.summary_id = self.pull_write(
            lambda: publish_summary(self.api, self.repo_path, number, body, log=self.log)
        )

    def check(self, output: checks.CheckOutput) -> None:
        if self.stopped:
            return
        try:
            self.check_id = checks.publish_check(
                self.api,
                self.repo_path,
                self.target.head_sha,
                output,
                details_url=self.target.run_url,
                log=self.log,
            )
        except ApiFailure as failure:
            if not failure.read_only:
                self._failed(failure)
            elif self.api.writes or self.target.pull_number is None:
                # Other writes went through: only the checks permission is missing.
                self.messages.append(CHECKS_PERMISSION)
            else:
                self._refused(CHECKS_OR_READ_ONLY, FORK_PATTERN)

    def finish(self) -> Outcome:
        self.api.close()
        if self.failures:
            for message in self.messages:
                self.log(message)
            more = len(self.failures) - 1
            extra = f" (and {more} more failed request{'s' if more > 1 else ''})" if more else ""
            raise GitHubError(f"GitHub API failed: {self.failures[0]}{extra}")
        return Outcome(
            self.read_only,
            self.review_id,
            self.inline_comments,
            self.summary_id,
            self.check_id,
            tuple(self.messages),
            self.commented,
        )

    def _refused(self, *messages: str) -> None:
        self.read_only = self.stopped = True
        self.messages.extend(messages)

    def _failed(self, failure: ApiFailure) -> None:
        self.log(f"escape-guard: {failure.message}")
        self.failures.append(failure.message)


def _repo_path(repository: str) -> str:
    owner, _, name = repository.strip().partition("/")
    if not owner or not name or "/" in name:
        raise GitHubError(f"GITHUB_REPOSITORY must be owner/name, got {repository!r}")
    return f"/repos/{urllib.parse.quote(owner, safe='')}/{urllib.parse.quote(name, safe='')}"
