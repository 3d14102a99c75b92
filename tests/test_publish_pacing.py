"""Pacing and reading ahead: what the client waits for, and what it reads before the report."""

from __future__ import annotations

import itertools
import threading

import pytest

from escape_guard.errors import GitHubError
from escape_guard.publish import Options, publish, reads
from escape_guard.publish.client import UNPACED_WRITES, Api, Settings
from tests.fakegithub import FakeGitHub
from tests.publish_support import NUMBER, REPO, TOKEN, grab_escape, head_report, target

PAUSE = 0.3
COMMENTS = f"/repos/{REPO}/issues/{NUMBER}/comments"


def test_reads_go_out_at_once_and_writes_after_the_fifth_a_backoff_apart(
    server: FakeGitHub, head: str
) -> None:
    api = Api(server.url, TOKEN, Settings(backoff=PAUSE))
    for _ in range(4):
        api.get(f"/repos/{REPO}/pulls/{NUMBER}")
    for i in range(UNPACED_WRITES + 3):
        api.post(COMMENTS, {"body": f"comment {i}"})
    api.close()
    sent = server.requests
    gets = [r for r in sent if r.method == "GET"]
    posts = [r for r in sent if r.method == "POST"]
    assert all(b.at - a.answered < PAUSE / 3 for a, b in itertools.pairwise(gets))
    gaps = [b.at - a.answered for a, b in itertools.pairwise(posts)]
    assert all(gap < PAUSE / 3 for gap in gaps[: UNPACED_WRITES - 1])
    assert all(gap >= PAUSE * 0.95 for gap in gaps[UNPACED_WRITES - 1 :])
    assert len(api.stats.pauses) == 3
    assert len(api.stats.requests) == len(sent)


def test_what_was_read_ahead_answers_the_publisher(server: FakeGitHub, head: str) -> None:
    report = head_report(grab_escape(), head_sha=head)
    goal = target(server, head)
    api = Api(server.url, TOKEN)
    api.read_ahead(reads(goal, Options()))
    read = len(server.requests)
    assert [r.path.rpartition("/")[2] for r in server.requests] == [
        "comments",
        "reviews",
        "files",
        "comments",
    ]
    outcome = publish(report, goal, Options(), log=[].append, api=api)
    assert [r.method for r in server.requests[read:]] == ["POST", "POST", "POST"]
    assert outcome.inline_comments == 1
    assert len(server.reviews(REPO, NUMBER)) == 1
    assert server.check_runs(REPO)[-1].conclusion == "failure"


def test_a_read_ahead_that_failed_fails_where_it_is_used(server: FakeGitHub, head: str) -> None:
    server.fail("GET", r"/pulls/7/files$", 404)
    goal = target(server, head)
    api = Api(server.url, TOKEN)
    api.read_ahead(reads(goal, Options()))
    with pytest.raises(GitHubError, match=r"GET /repos/octo-org/app/pulls/7/files: 404"):
        publish(head_report(grab_escape(), head_sha=head), goal, Options(), log=[].append, api=api)
    # Not read again; the summary comment and the check run went out all the same.
    assert len([r for r in server.requests if r.path.endswith("/files")]) == 1
    assert len(server.issue_comments(REPO, NUMBER)) == 1
    assert server.check_runs(REPO)[-1].conclusion == "failure"


@pytest.mark.parametrize(
    ("comment", "lists"),
    [("review", ["comments", "reviews", "files", "comments"]), ("summary", ["comments"])],
)
def test_what_is_read_ahead_follows_the_comment_input(
    server: FakeGitHub, head: str, comment: str, lists: list[str]
) -> None:
    goal = target(server, head)
    assert [p.rpartition("/")[2] for p in reads(goal, Options(comment=comment))] == lists
    assert reads(goal, Options(comment="off")) == []
    assert reads(goal._replace(pull_number=None), Options()) == []
    assert reads(goal._replace(token=""), Options()) == []


def test_the_fake_server_sees_concurrent_requests() -> None:
    with FakeGitHub() as server:
        server.add_repo(REPO)
        server.latency = 0.2
        apis = [Api(server.url, TOKEN, Settings(backoff=0)) for _ in range(2)]
        threads = [threading.Thread(target=a.get, args=(f"/repos/{REPO}",)) for a in apis]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [v.kind for v in server.violations] == ["concurrent"]
        server.violations.clear()
