"""The fake GitHub server, driven by the real PyGithub client over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import github
import pytest
import requests
from github.PullRequest import PullRequest

from tests.fakegithub import BOT, SECONDARY_RATE_LIMIT_MESSAGE, FakeGitHub, make_data

REPO = "octo-org/app"
BASE, HEAD = "1" * 40, "2" * 40
FIXTURES = Path(__file__).parent / "fixtures"

# Hunks: main.go RIGHT 1-5 (added 2 and 5; LEFT 4 removed) and RIGHT 21-24 (added 23);
# new.go is new (RIGHT 1-3).
DIFF = """\
diff --git a/app/main.go b/app/main.go
index 1111111..2222222 100644
--- a/app/main.go
+++ b/app/main.go
@@ -1,4 +1,5 @@
 package main
+import "fmt"
\x20
 func main() {
-\tprintln(1)
+\tfmt.Println(1)
@@ -20,3 +21,4 @@ func other() {
 \ta := 1
 \tb := 2
+\tsink = &a
 }
diff --git a/app/new.go b/app/new.go
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/app/new.go
@@ -0,0 +1,3 @@
+package main
+
+var sink *int
"""


@pytest.fixture
def server() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(REPO, 7, BASE, HEAD, "main", "feature", DIFF)
        yield fake


def client(server: FakeGitHub, **kwargs: Any) -> github.Github:
    # PyGithub waits 0.25 s between requests and 1 s between writes unless told otherwise.
    pace = {"seconds_between_requests": 0, "seconds_between_writes": 0}
    return github.Github(auth=github.Auth.Token("t0ken"), base_url=server.url, **pace, **kwargs)


def pull(server: FakeGitHub) -> PullRequest:
    return client(server).get_repo(REPO).get_pull(7)


def comment(line: int, body: str = "escapes", **extra: Any) -> dict[str, Any]:
    return {"path": "app/main.go", "line": line, "side": "RIGHT", "body": body, **extra}


def raw_get(server: FakeGitHub, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        server.url + path, headers={"Authorization": "token t", **headers}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_review_with_inline_comments_reads_back(server: FakeGitHub) -> None:
    pr = pull(server)
    review = pr.create_review(
        commit=pr.base.repo.get_commit(HEAD),
        body="escape-guard found 2 new heap escapes",
        event="COMMENT",
        comments=[comment(2), comment(23, side="RIGHT"), comment(4, side="LEFT", body="removed")],
    )
    assert (review.state, review.user.login, review.commit_id) == ("COMMENTED", BOT.login, HEAD)
    got = sorted(pr.get_review_comments(), key=lambda c: c.id)
    assert [(c.path, c.line, c.side, c.original_line) for c in got] == [
        ("app/main.go", 2, "RIGHT", 2),
        ("app/main.go", 23, "RIGHT", 23),
        ("app/main.go", 4, "LEFT", 4),
    ]
    first = got[0]
    assert first.pull_request_review_id == review.id
    assert first.commit_id == first.original_commit_id == HEAD
    assert first.in_reply_to_id is None
    assert first.user.login == "github-actions[bot]"
    assert (first.user.type, first.user.id) == ("Bot", 41898282)
    assert first.diff_hunk == '@@ -1,4 +1,5 @@\n package main\n+import "fmt"'
    assert first.html_url.endswith(f"/{REPO}/pull/7#discussion_r{first.id}")
    assert first.created_at.tzinfo is not None
    assert [r.id for r in pr.get_reviews()] == [review.id]
    assert [c.id for c in server.review_comments(REPO, 7)] == [c.id for c in got]
    assert server.violations == []


def test_pull_request_and_files_have_real_shapes(server: FakeGitHub) -> None:
    pr = pull(server)
    assert (pr.number, pr.base.sha, pr.head.sha, pr.base.ref, pr.head.ref) == (
        7,
        BASE,
        HEAD,
        "main",
        "feature",
    )
    assert pr.head.repo.full_name == pr.base.repo.full_name == REPO
    files = {f.filename: f for f in pr.get_files()}
    assert files["app/main.go"].status == "modified"
    assert (files["app/main.go"].additions, files["app/main.go"].deletions) == (3, 1)
    assert files["app/new.go"].status == "added"
    assert files["app/new.go"].patch.startswith("@@ -0,0 +1,3 @@")
    assert (pr.additions, pr.deletions, pr.changed_files) == (6, 1, 2)


def test_fork_pull_request_has_the_fork_as_head_repo(server: FakeGitHub) -> None:
    server.add_pull(REPO, 8, BASE, "3" * 40, "main", "patch-1", DIFF, head_repo="forker/app")
    pr = client(server).get_repo(REPO).get_pull(8)
    assert pr.head.repo.full_name == "forker/app"
    assert pr.head.repo.fork is True
    assert pr.head.label == "forker:patch-1"
    assert pr.base.repo.full_name == REPO


@pytest.mark.parametrize(
    ("bad", "sentence"),
    [
        (comment(10), "Pull request review thread line must be part of the diff"),
        (comment(6), "Pull request review thread line must be part of the diff"),  # between hunks
        (
            comment(3, side="LEFT"),
            "Pull request review thread line must be part of the diff",
        ),  # context
        ({**comment(2), "path": "app/other.go"}, "Pull request review thread path is invalid"),
        (
            comment(5, start_line=21),
            "Pull request review thread start line must precede the end line.",
        ),
        (
            comment(23, start_line=3),
            "Pull request review thread start line must be part of the same hunk",
        ),
    ],
)
def test_review_comment_outside_the_diff_rejects_the_whole_review(
    server: FakeGitHub, bad: dict[str, Any], sentence: str
) -> None:
    pr = pull(server)
    with pytest.raises(github.GithubException) as caught:
        pr.create_review(body="two findings", event="COMMENT", comments=[comment(2), bad])
    assert caught.value.status == 422
    assert caught.value.data["message"] == "Unprocessable Entity"
    assert caught.value.data["errors"][0].startswith(sentence)
    assert caught.value.data["documentation_url"].endswith("#create-a-review-for-a-pull-request")
    assert server.reviews(REPO, 7) == []
    assert server.review_comments(REPO, 7) == []
    assert server.violations == []  # GitHub's rule, not a malformed request
    assert [r.kind for r in server.rejections] == ["rejected"]


def test_line_outside_diff_message_matches_github(server: FakeGitHub) -> None:
    with pytest.raises(github.GithubException) as caught:
        pull(server).create_review(body="x", event="COMMENT", comments=[comment(10)])
    assert caught.value.data["errors"] == [
        "Pull request review thread line must be part of the diff and "
        "Pull request review thread diff hunk can't be blank"
    ]
    assert caught.value.data["status"] == "422"


def test_multi_line_comment_inside_one_hunk_is_accepted(server: FakeGitHub) -> None:
    pull(server).create_review(body="x", event="COMMENT", comments=[comment(5, start_line=1)])
    (stored,) = server.review_comments(REPO, 7)
    assert (stored.start_line, stored.line) == (1, 5)


def test_legacy_position_anchors_like_github(server: FakeGitHub) -> None:
    pr = pull(server)
    by_position = {"path": "app/main.go", "position": 8, "body": "first line of hunk 2"}
    pr.create_review(body="x", event="COMMENT", comments=[by_position])
    (stored,) = server.review_comments(REPO, 7)
    assert (stored.line, stored.side, stored.position) == (21, "RIGHT", 8)
    header = {"path": "app/main.go", "position": 7, "body": "the second @@ line"}
    with pytest.raises(github.GithubException) as caught:
        pr.create_review(body="x", event="COMMENT", comments=[header])
    assert caught.value.status == 422


def test_invalid_body_is_a_422_and_a_violation(server: FakeGitHub) -> None:
    with pytest.raises(github.GithubException) as caught:
        pull(server).create_review(body="x", event="COMMENT", comments=[comment(2, side="MIDDLE")])
    assert caught.value.status == 422
    assert caught.value.data["message"].startswith("Invalid request.\n\n")
    assert '"MIDDLE"' in caught.value.data["message"]
    assert [(v.operation, v.kind) for v in server.violations] == [("pulls/create-review", "schema")]
    assert server.reviews(REPO, 7) == []


def test_undocumented_key_is_recorded_but_accepted(server: FakeGitHub) -> None:
    pull(server).create_review(body="x", event="COMMENT", comments=[comment(2, severity="high")])
    assert [(v.kind, v.message) for v in server.violations] == [
        ("unknown-key", '"comments/0/severity" is not a documented key.')
    ]
    assert len(server.review_comments(REPO, 7)) == 1


@pytest.mark.parametrize("where", ["review", "comment", "issue"])
def test_body_over_65536_characters_is_rejected(server: FakeGitHub, where: str) -> None:
    pr, long = pull(server), "x" * 65537
    with pytest.raises(github.GithubException) as caught:
        if where == "review":
            pr.create_review(body=long, event="COMMENT")
        elif where == "comment":
            pr.create_review(body="ok", event="COMMENT", comments=[comment(2, body=long)])
        else:
            pr.create_issue_comment(long)
    assert caught.value.status == 422
    assert caught.value.data["message"] == "Validation Failed"
    assert "is too long (maximum is 65536 characters)" in caught.value.data["errors"][0]["message"]
    assert [v.kind for v in server.violations] == ["rejected"]
    pr.create_issue_comment("x" * 65536)  # the limit itself is fine


def test_read_only_token_cannot_write(server: FakeGitHub) -> None:
    server.read_only = True
    pr = pull(server)  # reads still work
    for write in (
        lambda: pr.create_issue_comment("summary"),
        lambda: pr.create_review(body="x", event="COMMENT", comments=[comment(2)]),
        lambda: pr.base.repo.create_check_run(name="escape-guard", head_sha=HEAD),
    ):
        with pytest.raises(github.GithubException) as caught:
            write()
        assert caught.value.status == 403
        assert caught.value.data["message"] == "Resource not accessible by integration"
    assert server.issue_comments(REPO, 7) == []
    assert server.reviews(REPO, 7) == []
    assert server.check_runs() == []


def test_read_only_constructor_flag() -> None:
    with FakeGitHub(read_only=True) as fake:
        fake.add_pull(REPO, 7, BASE, HEAD, "main", "feature", DIFF)
        with pytest.raises(github.GithubException) as caught:
            pull(fake).create_issue_comment("summary")
        assert caught.value.status == 403


def test_get_user_is_forbidden_for_installation_tokens(server: FakeGitHub) -> None:
    with pytest.raises(github.GithubException) as caught:
        _ = client(server).get_user().login
    assert caught.value.status == 403
    assert caught.value.data == {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
        "status": "403",
    }


def test_injected_502_twice_then_success(server: FakeGitHub) -> None:
    failure = server.fail("POST", r"/issues/\d+/comments$", 502, times=2)
    created = pull(server).create_issue_comment("summary")  # PyGithub's default retry
    posts = [r.status for r in server.requests if r.method == "POST"]
    assert posts == [502, 502, 201]
    assert failure.hits == 2
    assert [c.id for c in server.issue_comments(REPO, 7)] == [created.id]


def test_failure_forever_exhausts_the_client_retries(server: FakeGitHub) -> None:
    server.fail("POST", r"/check-runs$", 503, times=None)
    repo = client(server, retry=github.GithubRetry(total=2)).get_repo(REPO)
    # Exhausted retries surface as requests' RetryError, not as a GithubException.
    with pytest.raises(requests.exceptions.RetryError):
        repo.create_check_run(name="c", head_sha=HEAD)
    assert [r.status for r in server.requests if r.method == "POST"] == [503, 503, 503]
    assert server.check_runs() == []


def test_pygithub_does_not_retry_patch(server: FakeGitHub) -> None:
    # GithubRetry retries urllib3's idempotent methods plus GET and POST: not PATCH.
    run = client(server).get_repo(REPO).create_check_run(name="c", head_sha=HEAD)
    server.fail("PATCH", r"/check-runs/", 503, times=None)
    with pytest.raises(github.GithubException):
        run.edit(conclusion="success")
    assert [r.status for r in server.requests if r.method == "PATCH"] == [503]
    assert server.check_runs()[0].status == "queued"


def test_injected_failure_without_retry_surfaces(server: FakeGitHub) -> None:
    server.fail("GET", r"/pulls/7$", 502, body={"message": "Server Error"})
    with pytest.raises(github.GithubException) as caught:
        client(server, retry=None).get_repo(REPO).get_pull(7)
    assert (caught.value.status, caught.value.data) == (502, {"message": "Server Error"})


def test_secondary_rate_limit_is_retried_after_retry_after(server: FakeGitHub) -> None:
    server.secondary_rate_limit("POST", r"/reviews$", retry_after=1)
    pull(server).create_review(body="x", event="COMMENT", comments=[comment(2)])
    statuses = [r.status for r in server.requests if r.method == "POST"]
    assert statuses == [403, 200]
    assert len(server.reviews(REPO, 7)) == 1
    assert SECONDARY_RATE_LIMIT_MESSAGE.startswith("You have exceeded a secondary rate limit")


def test_pagination_over_more_than_30_items(server: FakeGitHub) -> None:
    for number in range(35):
        server.add_issue_comment(REPO, 7, f"comment {number}")
    comments = list(pull(server).get_issue_comments())
    assert [c.body for c in comments] == [f"comment {n}" for n in range(35)]
    pages = [
        r.query.get("page", "1") for r in server.requests if r.path.endswith("/issues/7/comments")
    ]
    assert pages == ["1", "2"]


def test_link_header_has_github_rels(server: FakeGitHub) -> None:
    for number in range(25):
        server.add_issue_comment(REPO, 7, f"comment {number}")
    status, headers, body = raw_get(server, f"/repos/{REPO}/issues/7/comments?per_page=10&page=2")
    assert status == 200
    assert len(json.loads(body)) == 10
    base = f"{server.url}/repos/{REPO}/issues/7/comments"
    assert headers["Link"] == (
        f'<{base}?per_page=10&page=1>; rel="prev", <{base}?per_page=10&page=3>; rel="next", '
        f'<{base}?per_page=10&page=3>; rel="last", <{base}?per_page=10&page=1>; rel="first"'
    )
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(headers["X-RateLimit-Remaining"]) < int(headers["X-RateLimit-Limit"])


def test_check_run_create_and_update_accumulate_annotations(server: FakeGitHub) -> None:
    repo = client(server).get_repo(REPO)

    def note(line: int) -> dict[str, Any]:
        return {
            "path": "app/main.go",
            "start_line": line,
            "end_line": line,
            "annotation_level": "failure",
            "message": f"escape at {line}",
        }

    run = repo.create_check_run(
        name="escape-guard",
        head_sha=HEAD,
        status="in_progress",
        output={
            "title": "Building",
            "summary": "building",
            "annotations": [note(n) for n in range(1, 51)],
        },
    )
    assert (run.status, run.conclusion) == ("in_progress", None)
    run.edit(
        conclusion="failure",
        output={"title": "2 new escapes", "summary": "done", "annotations": [note(60)]},
    )
    assert (run.status, run.conclusion, run.output.title) == (
        "completed",
        "failure",
        "2 new escapes",
    )
    assert run.completed_at is not None
    assert run.output.annotations_count == 51
    assert [a.start_line for a in run.get_annotations()] == [*range(1, 51), 60]
    (listed,) = repo.get_commit(HEAD).get_check_runs()
    assert (listed.id, listed.name, listed.output.summary) == (run.id, "escape-guard", "done")
    assert [p.number for p in listed.pull_requests] == [7]
    assert server.violations == []


def test_check_run_limits(server: FakeGitHub) -> None:
    repo = client(server).get_repo(REPO)
    note = {
        "path": "a.go",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "notice",
        "message": "m",
    }
    with pytest.raises(github.GithubException) as caught:
        repo.create_check_run(
            name="c",
            head_sha=HEAD,
            output={"title": "t", "summary": "s", "annotations": [note] * 51},
        )
    assert caught.value.status == 422
    with pytest.raises(github.GithubException) as caught:
        repo.create_check_run(
            name="c", head_sha=HEAD, output={"title": "t", "summary": "s" * 65536}
        )
    assert (
        caught.value.data["message"]
        == "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied."
    )
    with pytest.raises(
        github.GithubException
    ) as caught:  # under the character cap, over the byte cap
        repo.create_check_run(
            name="c", head_sha=HEAD, output={"title": "t", "summary": "é" * 40000}
        )
    assert (
        caught.value.data["errors"][0]["message"] == "summary exceeds a maximum bytesize of 65535"
    )
    with pytest.raises(github.GithubException) as caught:
        repo.create_check_run(name="c", head_sha="f" * 40)
    assert caught.value.data["message"] == f"No commit found for SHA: {'f' * 40}"
    assert server.check_runs() == []
    assert len(server.violations) == 3


def test_list_check_runs_filters_latest_per_name(server: FakeGitHub) -> None:
    repo = client(server).get_repo(REPO)
    first = repo.create_check_run(name="escape-guard", head_sha=HEAD, conclusion="failure")
    second = repo.create_check_run(name="escape-guard", head_sha=HEAD, conclusion="success")
    commit = repo.get_commit(HEAD)
    assert [r.id for r in commit.get_check_runs()] == [second.id]
    assert [r.id for r in commit.get_check_runs(filter="all")] == [second.id, first.id]
    assert [r.id for r in commit.get_check_runs(check_name="other")] == []


def test_check_runs_and_commits_by_branch_name(server: FakeGitHub) -> None:
    repo = client(server).get_repo(REPO)
    run = repo.create_check_run(name="escape-guard", head_sha=HEAD, status="in_progress")
    assert repo.get_commit("feature").sha == HEAD
    assert repo.get_commit("main").sha == BASE
    assert [r.id for r in repo.get_commit("feature").get_check_runs()] == [run.id]
    status, _, body = raw_get(server, f"/repos/{REPO}/commits/heads/feature/check-runs")
    assert (status, json.loads(body)["total_count"]) == (200, 1)


def test_since_filters_comments_by_update_time(server: FakeGitHub) -> None:
    old = server.add_issue_comment(REPO, 7, "old")
    new = server.add_issue_comment(REPO, 7, "new")
    status, _, body = raw_get(server, f"/repos/{REPO}/issues/7/comments?since={new.updated_at}")
    assert (status, [c["id"] for c in json.loads(body)]) == (200, [new.id])
    assert old.updated_at < new.updated_at


def test_issue_comment_is_edited_in_place(server: FakeGitHub) -> None:
    pr = pull(server)
    created = pr.create_issue_comment("<!-- escape-guard -->\n1 new escape")
    pr.get_issue_comment(created.id).edit("<!-- escape-guard -->\nno new escapes")
    (only,) = pr.get_issue_comments()
    assert (only.id, only.body) == (created.id, "<!-- escape-guard -->\nno new escapes")
    assert only.updated_at > only.created_at
    assert only.user.login == "github-actions[bot]"
    only.delete()
    assert server.issue_comments(REPO, 7) == []


def test_human_reply_shows_in_the_thread(server: FakeGitHub) -> None:
    pr = pull(server)
    pr.create_review(body="x", event="COMMENT", comments=[comment(23)])
    (bot_comment,) = server.review_comments(REPO, 7)
    reply = server.add_reply(bot_comment.id, "this one is on purpose")
    got = {c.id: c for c in pr.get_review_comments()}
    assert got[reply.id].in_reply_to_id == bot_comment.id
    assert (got[reply.id].user.login, got[reply.id].user.type) == ("octocat", "User")
    assert (got[reply.id].path, got[reply.id].line) == ("app/main.go", 23)
    bot_reply = pr.create_review_comment_reply(bot_comment.id, "noted")
    assert bot_reply.in_reply_to_id == bot_comment.id


def test_review_comment_edit_and_delete(server: FakeGitHub) -> None:
    pr = pull(server)
    pr.create_review(body="x", event="COMMENT", comments=[comment(2), comment(5)])
    first, second = pr.get_review_comments()
    first.edit("updated")
    second.delete()
    assert [(c.id, c.body) for c in pr.get_review_comments()] == [(first.id, "updated")]


def test_comments_become_outdated_when_their_line_leaves_the_diff(server: FakeGitHub) -> None:
    pr = pull(server)
    pr.create_review(body="x", event="COMMENT", comments=[comment(2), comment(23)])
    kept_diff = DIFF.split("@@ -20,3", maxsplit=1)[0]  # the push drops the second hunk
    server.update_pull(REPO, 7, head_sha="4" * 40, diff=kept_diff)
    by_line = {c.original_line: c for c in pull(server).get_review_comments()}
    assert (by_line[2].line, by_line[2].commit_id) == (2, "4" * 40)
    assert (by_line[23].line, by_line[23].commit_id) == (None, HEAD)


def test_unknown_commit_id_is_rejected(server: FakeGitHub) -> None:
    pr = pull(server)
    server.add_commit(REPO, "9" * 40)
    with pytest.raises(github.GithubException) as caught:
        pr.create_review(commit=pr.base.repo.get_commit("9" * 40), body="x", event="COMMENT")
    assert caught.value.data["errors"] == ["The commitOID is not part of the pull request"]


def test_authentication_is_required_and_tokens_are_recorded(server: FakeGitHub) -> None:
    status, _, body = raw_get(server, f"/repos/{REPO}", Authorization="")
    assert (status, json.loads(body)["message"]) == (401, "Requires authentication")
    client(server).get_repo(REPO)
    request = urllib.request.Request(
        f"{server.url}/repos/{REPO}", headers={"Authorization": "Bearer other"}
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    assert server.tokens == ["t0ken", "other"]
    assert all("t0ken" not in str(r.headers) for r in server.requests)
    assert [v.kind for v in server.violations] == ["rejected"]


def test_unknown_endpoint_is_a_404_violation(server: FakeGitHub) -> None:
    status, _, _ = raw_get(server, f"/repos/{REPO}/pulls/7/commits")
    assert status == 404
    assert [(v.kind, v.path) for v in server.violations] == [
        ("unknown-operation", f"/repos/{REPO}/pulls/7/commits")
    ]


def test_diff_media_type(server: FakeGitHub) -> None:
    status, headers, body = raw_get(
        server, f"/repos/{REPO}/pulls/7", Accept="application/vnd.github.diff"
    )
    assert (status, body.decode()) == (200, DIFF)
    assert headers["Content-Type"].startswith("text/plain")
    server.add_pull(REPO, 9, BASE, HEAD, "main", "huge", DIFF, diff_too_large=True)
    status, _, body = raw_get(
        server, f"/repos/{REPO}/pulls/9", Accept="application/vnd.github.diff"
    )
    assert status == 406
    assert json.loads(body)["errors"] == [
        {"resource": "PullRequest", "field": "diff", "code": "too_large"}
    ]


def test_enterprise_style_api_prefix() -> None:
    with FakeGitHub(api_prefix="/api/v3") as fake:
        fake.add_pull(REPO, 7, BASE, HEAD, "main", "feature", DIFF)
        assert fake.url.endswith("/api/v3")
        pr = pull(fake)
        assert pr.url == f"{fake.url}/repos/{REPO}/pulls/7"
        assert fake.requests[-1].path == f"/repos/{REPO}/pulls/7"


def test_rate_limit_endpoint(server: FakeGitHub) -> None:
    core = client(server).get_rate_limit().resources.core
    assert (core.limit, core.remaining) == (5000, 5000)


def test_pending_review_and_approval_rules(server: FakeGitHub) -> None:
    pr = pull(server)
    pending = pr.create_review(body="draft")
    assert pending.state == "PENDING"
    with pytest.raises(github.GithubException) as caught:
        pr.create_review(body="another draft")
    assert caught.value.data["errors"] == ["User can only have one pending review per pull request"]
    with pytest.raises(github.GithubException) as caught:
        pr.create_review(event="APPROVE")
    assert caught.value.data["errors"] == [
        "GitHub Actions is not permitted to approve pull requests."
    ]


# -- the committed reference data -------------------------------------------------------------


def test_openapi_subset_records_its_source_and_operations() -> None:
    subset = json.loads((FIXTURES / "github" / "openapi-subset.json").read_text())
    assert subset["source"]["package"] == "@octokit/openapi"
    assert subset["source"]["version"] == "23.0.2"
    listed = {(op["method"], op["path"]) for op in subset["operations"].values()}
    assert listed == set(make_data.OPERATIONS)
    review = subset["operations"]["pulls/create-review"]
    assert set(review["responses"]) == {"200", "403", "422"}
    side = review["request_body"]["schema"]["properties"]["comments"]["items"]["properties"]["side"]
    assert side["enum"] == ["LEFT", "RIGHT"]


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("pull_request.opened.json", ["number", "pull_request.head.sha", "pull_request.base.sha"]),
        ("pull_request.synchronize.json", ["before", "after", "pull_request.head.ref"]),
        (
            "pull_request_target.opened.json",
            ["pull_request.head.repo.full_name", "pull_request.base.repo.full_name"],
        ),
        ("pull_request_target.synchronize.json", ["before", "after"]),
        ("pull_request.opened.fork.json", ["pull_request.head.repo.fork"]),
        ("push.json", ["ref", "before", "after", "repository.full_name"]),
        ("workflow_dispatch.json", ["inputs", "ref", "repository.full_name"]),
        (
            "merge_group.checks_requested.json",
            ["merge_group.base_sha", "merge_group.head_sha", "merge_group.base_ref"],
        ),
    ],
)
def test_event_fixtures_keep_what_a_bot_reads(name: str, fields: list[str]) -> None:
    payload = json.loads((FIXTURES / "events" / name).read_text())
    assert "repository" in payload
    for dotted in fields:
        value: Any = payload
        for key in dotted.split("."):
            value = value[key]
        assert value is not None, dotted


def test_fork_events_come_from_another_repository() -> None:
    payload = json.loads((FIXTURES / "events" / "pull_request_target.opened.json").read_text())
    head, base = payload["pull_request"]["head"]["repo"], payload["pull_request"]["base"]["repo"]
    assert head["full_name"] != base["full_name"]
    assert (head["fork"], base["fork"]) == (True, False)
    sources = json.loads((FIXTURES / "events" / "SOURCES.json").read_text())
    assert sources["package"] == "@octokit/webhooks-examples"
    assert set(sources["files"]) == {p.name for p in (FIXTURES / "events").glob("*.json")} - {
        "SOURCES.json"
    }


@pytest.mark.skipif(
    not (make_data.NODE_MODULES / make_data.OPENAPI_PACKAGE).is_dir(),
    reason="npm packages not installed",
)
def test_committed_data_matches_the_npm_packages() -> None:
    subset = json.loads((FIXTURES / "github" / "openapi-subset.json").read_text())
    assert make_data.build_subset(make_data.NODE_MODULES) == subset
    for name, payload in make_data.build_events(make_data.NODE_MODULES).items():
        assert json.loads((FIXTURES / "events" / name).read_text()) == payload, name
