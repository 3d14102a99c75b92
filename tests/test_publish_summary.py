"""The one summary comment per pull request, and failed runs, against the fake GitHub."""

from __future__ import annotations

from escape_guard.model import Kind, Status
from escape_guard.publish import Options, publish_failure
from escape_guard.publish.summary import failure_body, summary_body
from escape_guard.render.markdown import MAX_CHARS
from tests.factories import finding
from tests.fakegithub import FakeGitHub
from tests.publish_support import (
    NUMBER,
    REPO,
    RUN_URL,
    grab_escape,
    head_report,
    live_links,
    print_escape,
    run,
    target,
    writes,
)

MARKER = "<!-- escape-guard:summary -->"


def test_the_summary_is_created_once_and_edited_in_place(server: FakeGitHub, head: str) -> None:
    first = run(server, head_report(grab_escape(), print_escape(), head_sha=head), head)
    (created,) = server.issue_comments(REPO, NUMBER)
    assert created.id == first.summary_comment_id
    assert created.body.startswith(MARKER + "\n\n### 2 new heap escapes")
    assert created.body.endswith(f"[Workflow run](<{RUN_URL}>)\n")

    since = len(server.requests)
    rerun = RUN_URL.replace("/42", "/43")
    second = run(server, head_report(print_escape(), head_sha=head), head, run_url=rerun)
    (edited,) = server.issue_comments(REPO, NUMBER)
    assert edited.id == created.id == second.summary_comment_id
    assert edited.body.startswith(MARKER + "\n\n### 1 new heap escape")
    assert rerun in edited.body
    path = f"/repos/{REPO}/issues/comments/{created.id}"
    issue_writes = [w for w in writes(server, since) if "/issues/" in w[1]]
    assert issue_writes == [("PATCH", path, 200)]


def test_an_unchanged_summary_is_not_sent_again(server: FakeGitHub, head: str) -> None:
    rep = head_report(grab_escape(), head_sha=head)
    run(server, rep, head)
    since = len(server.requests)
    run(server, rep, head)
    assert [w for w in writes(server, since) if "/issues/" in w[1]] == []


def test_the_bot_finds_its_summary_among_other_comments(server: FakeGitHub, head: str) -> None:
    for n in range(120):  # four pages at 30, two at 100: the bot reads them all
        server.add_issue_comment(REPO, NUMBER, f"comment {n} by a person")
    first = run(server, head_report(grab_escape(), head_sha=head), head)
    for n in range(5):
        server.add_issue_comment(REPO, NUMBER, f"later comment {n}")
    second = run(server, head_report(head_sha=head), head)

    ours = [c for c in server.issue_comments(REPO, NUMBER) if MARKER in c.body]
    assert [c.id for c in ours] == [first.summary_comment_id] == [second.summary_comment_id]
    assert len(server.issue_comments(REPO, NUMBER)) == 126
    pages = [
        r.query.get("page", "1")
        for r in server.requests
        if r.path.endswith("/issues/7/comments") and r.method == "GET"
    ]
    assert pages == ["1", "2", "1", "2"]


def test_a_stray_second_summary_is_removed(server: FakeGitHub, head: str) -> None:
    server.add_issue_comment(REPO, NUMBER, MARKER + "\nolder")
    server.add_issue_comment(REPO, NUMBER, MARKER + "\nracing copy")
    outcome = run(server, head_report(head_sha=head), head)
    (only,) = server.issue_comments(REPO, NUMBER)
    assert only.id == outcome.summary_comment_id
    assert "### No new heap escapes" in only.body


def test_a_huge_report_fits_every_body(server: FakeGitHub, head: str) -> None:
    escapes = [
        finding(
            line=9, expression=f"value{i}", function=f"f{i}", kind=Kind.ESCAPE, source="x" * 150
        )
        for i in range(3000)
    ]
    fixed = [finding(status=Status.FIXED, expression=f"old{i}", line=9) for i in range(500)]
    outcome = run(server, head_report(*escapes, *fixed, head_sha=head), head)

    (summary,) = server.issue_comments(REPO, NUMBER)
    (review,) = server.reviews(REPO, NUMBER)
    comments = server.review_comments(REPO, NUMBER)
    assert len(comments) == outcome.inline_comments == 20
    for body in (summary.body, review.body, *(c.body for c in comments)):
        assert len(body) <= MAX_CHARS
    assert len(summary.body) > MAX_CHARS - 2000  # filled, not truncated early
    assert "- … and " in summary.body and " more" in summary.body
    # Both lists keep a share of the summary: the fixed one is not squeezed out.
    assert "`old0` no longer escapes" in summary.body and "`value0` escapes" in summary.body
    assert "2980 heap escapes are beyond the limit of 20 inline comments" in review.body
    assert "500 fixed heap escapes: see the summary comment" in review.body

    again = run(server, head_report(*escapes, *fixed, head_sha=head), head)
    assert again.review_id is None  # every escape listed or counted is remembered


def test_a_failed_run_says_so_in_the_summary_and_fails_the_check(
    server: FakeGitHub, head: str
) -> None:
    run(server, head_report(grab_escape(), head_sha=head), head)
    message = "head revision does not build:\n./main.go:9:2: undefined: sinkInt\n```"
    outcome = publish_failure(message, target(server, head), Options(), log=[].append)

    (summary,) = server.issue_comments(REPO, NUMBER)
    assert summary.id == outcome.summary_comment_id
    assert "### escape-guard could not compare the revisions" in summary.body
    assert "./main.go:9:2: undefined: sinkInt" in summary.body
    assert "````\n" in summary.body  # the fence outgrows the backticks in the message
    latest = server.check_runs(REPO)[-1]
    assert (latest.id, latest.status, latest.conclusion) == (
        outcome.check_run_id,
        "completed",
        "failure",
    )
    assert latest.output["title"] == "escape-guard could not compare the revisions"
    assert "undefined: sinkInt" in latest.output["summary"]
    assert len(server.reviews(REPO, NUMBER)) == 1  # no review for a failed run


def test_a_failure_without_a_pull_request_still_concludes_the_check(
    server: FakeGitHub, head: str
) -> None:
    outcome = publish_failure(
        "no base", target(server, head, pull_number=None), Options(), log=[].append
    )
    assert server.issue_comments(REPO, NUMBER) == []
    (check,) = server.check_runs(REPO)
    assert (check.id, check.conclusion) == (outcome.check_run_id, "failure")


def test_summary_bodies_stay_within_the_limit() -> None:
    rep = head_report(*[print_escape(expression=f"v{i}") for i in range(4000)], head_sha="a" * 40)
    body = summary_body(rep, run_url=RUN_URL)
    assert len(body) <= MAX_CHARS
    assert body.startswith(MARKER)
    assert body.endswith(f"[Workflow run](<{RUN_URL}>)\n")
    assert "- … and " in body
    long_failure = failure_body("`" * 10 + "x" * 100_000, run_url=RUN_URL)
    assert len(long_failure) <= MAX_CHARS
    assert long_failure.count("`" * 11) == 2


def test_summary_bodies_mention_no_one(server: FakeGitHub, head: str) -> None:
    evil = "@octocat fixes #12"
    rep = head_report(
        grab_escape(expression=evil, function=evil, source=evil),
        finding(status=Status.ACCEPTED, reason=evil),
        head_sha=head,
        notes=[evil],
    )
    run(server, rep, head)
    publish_failure(evil, target(server, head), Options(), log=[].append)
    bodies = [c.body for c in server.issue_comments(REPO, NUMBER)]
    bodies.append(summary_body(rep))
    assert len(bodies) == 2
    for body in bodies:
        assert live_links(body) == [], body
