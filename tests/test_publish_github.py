"""Retries, read-only tokens, failures and secrets: publishing when GitHub is not cooperative."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options as CmarkOptions

from escape_guard.errors import ExitCode, GitHubError
from escape_guard.model import Status
from escape_guard.publish import Options, Target, publish, publish_failure
from escape_guard.publish.client import Settings, settings_from_env
from escape_guard.publish.github import CHECKS_PERMISSION
from tests.factories import GRAB_EXPLANATION, MERGE_BASE_SHA, finding
from tests.fakegithub import SECONDARY_RATE_LIMIT_MESSAGE, FakeGitHub
from tests.publish_support import (
    NUMBER,
    REPO,
    TOKEN,
    History,
    grab_escape,
    head_main,
    head_report,
    print_escape,
    run,
    serve,
    target,
    text,
    writes,
)
from tests.test_render_markdown import Page

REVIEWS = rf"/pulls/{NUMBER}/reviews$"
NOT_ACCESSIBLE = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run",
    "status": "403",
}


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "repo")


def open_pull(server: FakeGitHub, history: History, **fork: str) -> str:
    sha, diff = history.push({"app/main.go": text(head_main())})
    server.add_pull(REPO, NUMBER, history.base, sha, "main", "feature", diff, **fork)
    return sha


def statuses(server: FakeGitHub, method: str, pattern: str) -> list[int]:
    return [r.status for r in server.requests if r.method == method and r.path.endswith(pattern)]


def test_server_errors_are_retried(server: FakeGitHub, history: History) -> None:
    head = open_pull(server, history)
    server.fail("POST", REVIEWS, 502, times=2)
    server.fail("GET", r"/pulls/7/files$", 503)
    outcome = run(server, head_report(grab_escape(), head_sha=head), head)
    assert statuses(server, "POST", "/reviews") == [502, 502, 200]
    assert statuses(server, "GET", "/files") == [503, 200]
    assert len(server.reviews(REPO, NUMBER)) == 1
    assert outcome.inline_comments == 1


def test_edits_are_retried_too(server: FakeGitHub, history: History) -> None:
    head = open_pull(server, history)
    first = run(server, head_report(grab_escape(), head_sha=head), head)
    server.fail("PATCH", r"/issues/comments/\d+$", 500)
    server.fail("PATCH", r"/check-runs/\d+$", 502)
    # 20 go inline; the other 60 are more annotations than the check run's create takes.
    escapes = [grab_escape(expression=f"v{i}") for i in range(80)]
    run(server, head_report(*escapes, head_sha=head), head)
    assert statuses(server, "PATCH", f"/issues/comments/{first.summary_comment_id}") == [500, 200]
    assert [s for s in statuses(server, "PATCH", "") if s != 200] == [500, 502]


def test_a_secondary_rate_limit_waits_for_retry_after(server: FakeGitHub, history: History) -> None:
    head = open_pull(server, history)
    server.secondary_rate_limit("POST", REVIEWS, retry_after=1)
    start = time.monotonic()
    run(server, head_report(grab_escape(), head_sha=head), head)
    assert time.monotonic() - start >= 1.0  # Retry-After is honoured even with no backoff
    assert statuses(server, "POST", "/reviews") == [403, 200]
    assert len(server.reviews(REPO, NUMBER)) == 1


def test_a_secondary_rate_limit_without_retry_after_is_retried(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    body = {
        "message": SECONDARY_RATE_LIMIT_MESSAGE,
        "documentation_url": "https://docs.github.com/rest",
        "status": "403",
    }
    server.fail("POST", r"/issues/7/comments$", 403, body=body)
    outcome = run(server, head_report(grab_escape(), head_sha=head), head)
    assert statuses(server, "POST", "/issues/7/comments") == [403, 201]
    assert outcome.summary_comment_id is not None


def test_a_lasting_rate_limit_gives_up_after_five_attempts(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    body = {"message": SECONDARY_RATE_LIMIT_MESSAGE, "status": "403"}
    server.fail("POST", r"/check-runs$", 403, body=body, times=100)
    with pytest.raises(GitHubError) as caught:
        run(server, head_report(head_sha=head), head, pull_number=None)
    assert statuses(server, "POST", "/check-runs") == [403] * 5
    assert caught.value.message == (
        f"GitHub API failed: POST /repos/{REPO}/check-runs: 403 Forbidden (after 5 attempts)"
    )


def test_a_lasting_failure_is_one_github_error_after_the_others_ran(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    server.fail("POST", REVIEWS, 500, times=100)
    log: list[str] = []
    with pytest.raises(GitHubError) as caught:
        run(server, head_report(grab_escape(), head_sha=head), head, log=log)
    assert statuses(server, "POST", "/reviews") == [500] * 5  # bounded attempts
    assert caught.value.message == (
        f"GitHub API failed: POST /repos/{REPO}/pulls/{NUMBER}/reviews: "
        "500 Internal Server Error (after 5 attempts)"
    )
    assert caught.value.exit_code is ExitCode.GITHUB
    # The summary and the check run were still posted: the check does not stay pending.
    assert len(server.issue_comments(REPO, NUMBER)) == 1
    assert [c.conclusion for c in server.check_runs(REPO)] == ["failure"]
    assert any("500 Internal Server Error" in line for line in log)


def test_a_refused_token_never_shows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    history = History(tmp_path / "repo")
    with FakeGitHub(tokens={"another"}) as server:
        monkeypatch.setenv("ESCAPE_GUARD_RETRY_BACKOFF", "0")
        head = open_pull(server, history)
        log: list[str] = []
        with pytest.raises(GitHubError) as caught:
            run(server, head_report(grab_escape(), head_sha=head), head, log=log)
        assert server.tokens == [TOKEN]
        assert server.violations == []
    assert "401 Bad credentials" in caught.value.message
    assert "\n" not in caught.value.message
    for shown in (caught.value.message, *log, repr(caught.value)):
        assert TOKEN not in shown


def test_an_unreachable_api_is_a_github_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESCAPE_GUARD_RETRY_BACKOFF", "0")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = f"http://127.0.0.1:{port}"
    unreachable = Target(api, TOKEN, REPO, "a" * 40, None)
    with pytest.raises(GitHubError) as caught:
        publish_failure("x", unreachable, Options(comment="off"), log=[].append)
    assert caught.value.message.startswith(
        f"GitHub API failed: POST /repos/{REPO}/check-runs: could not reach {api}: "
    )
    assert TOKEN not in caught.value.message


def test_a_read_only_token_posts_nothing_and_explains(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    history = History(tmp_path / "repo")
    with FakeGitHub(read_only=True) as server:
        monkeypatch.setenv("ESCAPE_GUARD_RETRY_BACKOFF", "0")
        head = open_pull(server, history, head_repo="forker/app")
        outcome = run(server, head_report(grab_escape(), head_sha=head), head)
        assert writes(server) == [("POST", f"/repos/{REPO}/pulls/{NUMBER}/reviews", 403)]
        assert server.violations == []
        failed = publish_failure("build failed", target(server, head), Options(), log=[].append)
    assert outcome.read_only and failed.read_only
    assert (outcome.review_id, outcome.summary_comment_id, outcome.check_run_id) == (None,) * 3
    guidance = " ".join(outcome.messages)
    assert "read-only" in guidance and "job summary" in guidance
    assert "examples/workflows/fork-safe-build.yml" in guidance
    assert "examples/workflows/fork-safe-comment.yml" in guidance
    assert "workflow_run" in guidance and "artifact" in guidance


def test_a_missing_checks_permission_only_skips_the_check_run(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    server.fail("POST", r"/check-runs$", 403, body=NOT_ACCESSIBLE)
    outcome = run(server, head_report(grab_escape(), head_sha=head), head)
    assert not outcome.read_only
    assert outcome.messages == (CHECKS_PERMISSION,)
    assert outcome.review_id is not None and outcome.summary_comment_id is not None
    assert outcome.check_run_id is None


def test_a_refused_check_run_with_comments_off_is_read_only(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    server.fail("POST", r"/check-runs$", 403, body=NOT_ACCESSIBLE)
    outcome = run(server, head_report(grab_escape(), head_sha=head), head, comment="off")
    assert outcome.read_only
    said = " ".join(outcome.messages)
    assert "checks: write" in said and "fork-safe-comment.yml" in said


def test_no_token_posts_nothing(server: FakeGitHub, history: History) -> None:
    head = open_pull(server, history)
    outcome = run(server, head_report(grab_escape(), head_sha=head), head, token="")
    assert server.requests == []
    assert outcome.messages == (
        "No GitHub token was given, so nothing was posted: set the github-token input.",
    )


def test_github_enterprise_api_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    history = History(tmp_path / "repo")
    for server in serve(monkeypatch, api_prefix="/api/v3"):
        head = open_pull(server, history)
        outcome = run(server, head_report(grab_escape(), head_sha=head), head)
        assert server.url.endswith("/api/v3")
        assert outcome.inline_comments == 1 and outcome.check_run_id is not None


def test_a_bad_repository_name_is_a_github_error(server: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match="GITHUB_REPOSITORY must be owner/name"):
        publish(
            head_report(head_sha="a" * 40),
            target(server, "a" * 40, repository="app"),
            Options(),
            log=[].append,
        )


@pytest.mark.parametrize(
    ("value", "backoff"), [("", 1.0), ("0", 0.0), ("0.25", 0.25), ("-3", 0.0), ("soon", 1.0)]
)
def test_the_backoff_comes_from_the_environment(value: str, backoff: float) -> None:
    assert settings_from_env({"ESCAPE_GUARD_RETRY_BACKOFF": value}) == Settings(backoff=backoff)


@pytest.mark.parametrize("hardbreaks", [True, False], ids=["comment-rendering", "plain-rendering"])
def test_every_posted_body_reads_right_with_and_without_hard_breaks(
    server: FakeGitHub, history: History, hardbreaks: bool
) -> None:
    head = open_pull(server, history)
    findings = [
        grab_escape(explanation=GRAB_EXPLANATION),
        print_escape(line=20, function="main", expression="x", source="// filler 20"),
        finding(status=Status.INDIRECT, line=11, expression="w", explanation=GRAB_EXPLANATION),
        finding(status=Status.FIXED, line=9, expression="old", source="_ = old"),
        finding(status=Status.ACCEPTED, line=33, expression="n", reason="measured"),
    ]
    ghes = "https://ghe.example.com"
    rep = head_report(*findings, head_sha=head)
    publish(rep, target(server, head, server_url=ghes), Options(), log=[].append)

    (summary,) = server.issue_comments(REPO, NUMBER)
    (review,) = server.reviews(REPO, NUMBER)
    (check,) = server.check_runs(REPO)
    inline = [c.body for c in server.review_comments(REPO, NUMBER)]
    hard = CmarkOptions.CMARK_OPT_HARDBREAKS if hardbreaks else 0
    options = CmarkOptions.CMARK_OPT_UNSAFE | hard
    listed = (summary.body, check.output["summary"])
    for body in (*listed, review.body, *inline):
        html = cmarkgfm.github_flavored_markdown_to_html(body, options=options)
        page = Page(html)
        assert page.stack == [], body
        assert "\\" not in "".join(page.prose), body  # no break marker shows as text
    for body in listed:
        html = cmarkgfm.github_flavored_markdown_to_html(body, options=options)
        # Each list item's source line starts a line of its own, in either rendering.
        for source in ("v := 1", "_ = old"):
            assert f"<br />\n<code>{source}</code>" in html
        blob = f"{ghes}/{REPO}/blob"
        assert f'href="{blob}/{head}/app/main.go#L8"' in html
        assert f'href="{blob}/{MERGE_BASE_SHA}/app/main.go#L9"' in html  # fixed: merge base
        positions = re.findall(r'<a href="([^"]*)"><code>app/main\.go:\d+:\d+</code></a>', html)
        assert len(positions) == 5  # new, new, indirect, fixed, accepted: every one links
    assert "blob/" not in review.body  # it lists no positions, so it has none to link
