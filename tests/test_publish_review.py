"""The pull-request review against the fake GitHub, over HTTP, with diffs from real git."""

from __future__ import annotations

from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from escape_guard.fingerprints import fingerprinted
from escape_guard.model import Kind, Status
from escape_guard.publish.fingerprints import FINDING, REVIEW, markers
from escape_guard.render.markdown import inline_comment
from tests.factories import GRAB_EXPLANATION, finding
from tests.fakegithub import FakeGitHub
from tests.publish_support import (
    NUMBER,
    REPO,
    History,
    grab_escape,
    head_main,
    head_report,
    live_links,
    print_escape,
    run,
    text,
    writes,
)


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "repo")


def open_pull(server: FakeGitHub, history: History, **head: bool | int) -> str:
    sha, diff = history.push({"app/main.go": text(head_main(**head))})
    server.add_pull(REPO, NUMBER, history.base, sha, "main", "feature", diff)
    return sha


def push(server: FakeGitHub, history: History, **head: bool | int) -> str:
    sha, diff = history.push({"app/main.go": text(head_main(**head))})
    server.update_pull(REPO, NUMBER, head_sha=sha, diff=diff)
    return sha


def reviews(server: FakeGitHub) -> list[str]:
    return [r.body for r in server.reviews(REPO, NUMBER)]


def test_one_new_escape_is_one_review_with_one_comment_on_the_changed_line(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    escape = grab_escape(explanation=GRAB_EXPLANATION)
    outcome = run(server, head_report(escape, head_sha=head), head)

    (review,) = server.reviews(REPO, NUMBER)
    (comment,) = server.review_comments(REPO, NUMBER)
    assert (review.state, review.commit_id) == ("COMMENTED", head)
    # Reported at v's declaration (line 8); the comment goes on the added line that
    # takes its address (line 9), the one the author changed.
    assert (comment.path, comment.line, comment.side, comment.commit_id) == (
        "app/main.go",
        9,
        "RIGHT",
        head,
    )
    assert comment.body.startswith(inline_comment(escape))
    ((fp, _),) = fingerprinted([escape])
    assert markers(comment.body, FINDING) == [fp]
    assert "1 heap escape is commented on its line." in review.body
    assert (outcome.review_id, outcome.inline_comments, outcome.read_only) == (review.id, 1, False)
    (post,) = [r for r in server.requests if r.path.endswith("/reviews") and r.method == "POST"]
    assert (post.body["event"], post.body["commit_id"]) == ("COMMENT", head)


def test_rerun_with_the_same_report_posts_no_review_and_no_duplicate(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    rep = head_report(grab_escape(), print_escape(), head_sha=head)
    first = run(server, rep, head)
    since = len(server.requests)
    log: list[str] = []
    second = run(server, rep, head, log=log)

    assert len(server.reviews(REPO, NUMBER)) == 1
    assert len(server.review_comments(REPO, NUMBER)) == 2
    assert (second.review_id, second.inline_comments) == (None, 0)
    assert second.summary_comment_id == first.summary_comment_id
    assert "escape-guard: the review has nothing new to say; no review posted" in log
    posts = [path for method, path, _ in writes(server, since) if method == "POST"]
    assert posts == [f"/repos/{REPO}/check-runs"]  # a new check run per run, nothing else


def test_a_line_shift_keeps_the_fingerprint(server: FakeGitHub, history: History) -> None:
    head = open_pull(server, history)
    run(server, head_report(grab_escape(), head_sha=head), head)
    moved = push(server, history, shift=2)
    run(server, head_report(grab_escape(line=10, anchor=11), head_sha=moved), moved)

    assert len(server.reviews(REPO, NUMBER)) == 1
    (comment,) = server.review_comments(REPO, NUMBER)
    assert comment.line == 9  # not re-posted on 11: the comment from the first run stands


def test_an_escape_gone_after_a_push_loses_its_comment(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    run(server, head_report(grab_escape(), print_escape(), head_sha=head), head)
    grab_comment = next(c for c in server.review_comments(REPO, NUMBER) if c.line == 9)
    fixed = push(server, history, grab=False)
    since = len(server.requests)
    outcome = run(server, head_report(print_escape(), head_sha=fixed), fixed)

    remaining = server.review_comments(REPO, NUMBER)
    assert [c.line for c in remaining] == [33]
    assert grab_comment.id not in {c.id for c in remaining}
    assert ("DELETE", f"/repos/{REPO}/pulls/comments/{grab_comment.id}", 204) in writes(
        server, since
    )
    assert outcome.review_id is None  # nothing new to say
    (summary,) = server.issue_comments(REPO, NUMBER)
    assert "### 1 new heap escape" in summary.body


def test_an_escape_gone_with_a_reply_is_marked_resolved(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    run(server, head_report(grab_escape(), head_sha=head), head)
    (bot,) = server.review_comments(REPO, NUMBER)
    reply = server.add_reply(bot.id, "why does this escape, @octocat?")
    fixed = push(server, history, grab=False)
    run(server, head_report(head_sha=fixed), fixed)

    comments = {c.id: c for c in server.review_comments(REPO, NUMBER)}
    assert set(comments) == {bot.id, reply.id}
    edited = comments[bot.id].body
    assert edited.startswith(f"✅ **Resolved** in `{fixed[:7]}`: this heap allocation is gone.")
    assert "<details><summary>Earlier comment</summary>" in edited
    assert "**New heap allocation** in `grab`" in edited  # the old text, folded
    assert markers(edited, FINDING) == []
    assert comments[reply.id].body == "why does this escape, @octocat?"

    again = run(server, head_report(head_sha=fixed), fixed)  # resolved once, not every run
    assert comments[bot.id].updated_at == server.review_comments(REPO, NUMBER)[0].updated_at
    assert again.review_id is None


def test_a_resolved_escape_that_comes_back_is_commented_again(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    run(server, head_report(grab_escape(), head_sha=head), head)
    (first,) = server.review_comments(REPO, NUMBER)
    server.add_reply(first.id, "ok")
    fixed = push(server, history, grab=False)
    run(server, head_report(head_sha=fixed), fixed)
    back = push(server, history)
    run(server, head_report(grab_escape(), head_sha=back), back)

    roots = [c for c in server.review_comments(REPO, NUMBER) if c.in_reply_to_id is None]
    assert [c.id == first.id for c in roots] == [True, False]
    assert markers(roots[1].body, FINDING) and roots[1].commit_id == back
    assert len(server.reviews(REPO, NUMBER)) == 3  # two by the bot, one holding the reply


def test_an_escape_outside_the_hunks_is_counted_in_the_body(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    outside = print_escape(line=20, function="main", expression="x", source="// filler 20")
    outcome = run(server, head_report(print_escape(), outside, head_sha=head), head)

    (comment,) = server.review_comments(REPO, NUMBER)
    assert comment.line == 33
    (body,) = reviews(server)
    # The summary comment lists every finding; the review says where, without a second list.
    assert (
        "1 heap escape is not on a line of this diff, so not commented inline: see the summary "
        "comment and the job summary."
    ) in body
    assert "app/main.go:20" not in body
    assert outcome.inline_comments == 1
    ((fp, _),) = fingerprinted([outside])
    assert markers(body, REVIEW) == [fp]

    run(server, head_report(print_escape(), outside, head_sha=head), head)
    assert len(reviews(server)) == 1  # a listed escape is not listed again


def test_comments_beyond_the_limit_are_counted_in_the_body(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    outcome = run(
        server,
        head_report(grab_escape(), print_escape(), head_sha=head),
        head,
        max_inline_comments=1,
    )
    assert [c.line for c in server.review_comments(REPO, NUMBER)] == [9]
    (body,) = reviews(server)
    assert (
        "1 heap escape is beyond the limit of 1 inline comment, so not commented inline: see "
        "the summary comment and the job summary."
    ) in body
    assert "printIt" not in body
    assert outcome.inline_comments == 1


def test_a_refused_review_is_sent_again_without_inline_comments(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    refusal = {
        "message": "Unprocessable Entity",
        "errors": ["Pull request review thread line must be part of the diff"],
        "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
        "status": "422",
    }
    server.fail("POST", rf"/pulls/{NUMBER}/reviews$", 422, body=refusal)
    log: list[str] = []
    outcome = run(server, head_report(grab_escape(), print_escape(), head_sha=head), head, log=log)

    posts = [r for r in server.requests if r.method == "POST" and r.path.endswith("/reviews")]
    assert [(len(p.body["comments"]), p.status) for p in posts] == [(2, 422), (0, 200)]
    assert server.review_comments(REPO, NUMBER) == []
    (body,) = reviews(server)
    assert (
        "2 heap escapes are on lines GitHub did not accept comments on, so not commented "
        "inline: see the summary comment and the job summary."
    ) in body
    assert "grab" not in body and "printIt" not in body
    assert (outcome.review_id, outcome.inline_comments) == (server.reviews(REPO, NUMBER)[0].id, 0)
    assert any("line must be part of the diff" in line for line in log)


def test_identical_escapes_get_one_comment_each(server: FakeGitHub, history: History) -> None:
    lines = head_main()
    lines[32:33] = ["\tfmt.Println(n)", "\tfmt.Println(n)"]
    sha, diff = history.push({"app/main.go": text(lines)})
    server.add_pull(REPO, NUMBER, history.base, sha, "main", "feature", diff)
    rep = head_report(print_escape(line=33), print_escape(line=34), head_sha=sha)
    run(server, rep, sha)
    run(server, rep, sha)

    comments = server.review_comments(REPO, NUMBER)
    assert sorted(c.line for c in comments) == [33, 34]
    fps = {markers(c.body, FINDING)[0] for c in comments}
    assert len(fps) == 2 and any(fp.endswith(".1") for fp in fps)


def test_indirect_escapes_are_commented_only_when_asked(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    # Line 11 did not change but is context in the first hunk.
    indirect = finding(status=Status.INDIRECT, line=11, function="grab", expression="w")
    run(server, head_report(grab_escape(), indirect, head_sha=head), head)
    assert [c.line for c in server.review_comments(REPO, NUMBER)] == [9]

    run(server, head_report(grab_escape(), indirect, head_sha=head), head, include_indirect=True)
    comments = {c.line: c.body for c in server.review_comments(REPO, NUMBER)}
    assert sorted(comments) == [9, 11]
    assert comments[11].startswith("**Heap allocation caused elsewhere** in `grab`")

    run(server, head_report(grab_escape(), indirect, head_sha=head), head)  # option off again
    assert [c.line for c in server.review_comments(REPO, NUMBER)] == [9]


def test_fixed_escapes_are_praised_once(server: FakeGitHub, history: History) -> None:
    head = open_pull(server, history)
    gone = finding(status=Status.FIXED, line=9, function="grab", expression="old")
    run(server, head_report(gone, head_sha=head), head)
    run(server, head_report(gone, head_sha=head), head)

    (body,) = reviews(server)
    assert body.startswith("**escape-guard** · No new heap escapes, 1 fixed 🎉\n")
    assert "1 fixed heap escape: see the summary comment and the job summary." in body
    assert "`old`" not in body
    assert server.review_comments(REPO, NUMBER) == []


def test_comment_off_and_summary_post_no_review(server: FakeGitHub, history: History) -> None:
    head = open_pull(server, history)
    run(server, head_report(grab_escape(), head_sha=head), head, comment="summary")
    assert reviews(server) == [] and len(server.issue_comments(REPO, NUMBER)) == 1
    run(server, head_report(grab_escape(), head_sha=head), head, comment="off")
    assert reviews(server) == [] and len(server.issue_comments(REPO, NUMBER)) == 1


def test_review_bodies_mention_no_one(server: FakeGitHub, history: History) -> None:
    head = open_pull(server, history)
    evil = "@octocat #12 <b>x</b> `y`"
    hostile = [
        grab_escape(expression=evil, function=evil, source=evil),
        print_escape(line=20, expression=evil, source=evil),
        finding(status=Status.ACCEPTED, reason="ask @admin about #3", expression=evil),
        finding(status=Status.FIXED, kind=Kind.ESCAPE, expression=evil),
    ]
    run(server, head_report(*hostile, head_sha=head), head)

    bodies = reviews(server) + [c.body for c in server.review_comments(REPO, NUMBER)]
    assert len(bodies) == 2
    for body in bodies:
        assert live_links(body) == [], body


def test_a_file_without_a_patch_gets_no_inline_comment(
    server: FakeGitHub, history: History
) -> None:
    # A pure rename has no patch in GET /pulls/{n}/files, like a file too large to show.
    history.repo.git("checkout", "--quiet", "--detach", history.base)
    history.repo.mv("app/main.go", "app/grab.go")
    sha = history.repo.commit(message="rename")
    diff = history.repo.git("diff", "--find-renames", f"{history.base}...{sha}") + "\n"
    server.add_pull(REPO, NUMBER, history.base, sha, "main", "feature", diff)
    indirect = finding(status=Status.INDIRECT, path="app/grab.go", line=9, expression="v")
    outcome = run(server, head_report(indirect, head_sha=sha), sha, include_indirect=True)

    files = [r for r in server.requests if r.path.endswith("/files")]
    assert len(files) == 1
    assert server.review_comments(REPO, NUMBER) == []
    (body,) = reviews(server)
    assert "1 heap escape is not on a line of this diff" in body
    assert outcome.inline_comments == 0
    assert [r.status for r in server.requests if r.method == "POST"] == [200, 201, 201]


def test_the_review_says_where_the_lists_are_and_repeats_none(
    server: FakeGitHub, history: History
) -> None:
    head = open_pull(server, history)
    indirect = finding(status=Status.INDIRECT, line=20, function="main", expression="w")
    fixed = finding(status=Status.FIXED, line=9, function="grab", expression="old")
    run(server, head_report(grab_escape(), indirect, fixed, head_sha=head), head)

    (body,) = reviews(server)
    assert body.startswith("**escape-guard** · 1 new heap escape, 1 indirect, 1 fixed\n")
    assert "1 heap escape is commented on its line." in body
    assert (
        "1 indirect heap escape (caused by changes elsewhere; not failing): see the summary "
        "comment and the job summary."
    ) in body
    assert "1 fixed heap escape: see the summary comment and the job summary." in body
    assert "🎉" not in body  # new escapes fail this run
    (summary,) = server.issue_comments(REPO, NUMBER)
    for listed in ("`app/main.go:20:2`", "`app/main.go:9:2`"):
        assert listed in summary.body and listed not in body
    for options in (Options.CMARK_OPT_HARDBREAKS, Options.CMARK_OPT_DEFAULT):
        html = cmarkgfm.github_flavored_markdown_to_html(body, options=options)
        assert "<li>" not in html and html.count("<p>") == 5
