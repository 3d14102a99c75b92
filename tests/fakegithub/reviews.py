"""Pull-request reviews and review comments, with GitHub's anchoring rules."""

from __future__ import annotations

from typing import Any

from . import diffs, shapes
from .protocol import Ctx, GitHubError, Handler, Reply, not_found, too_long, unprocessable
from .state import Pull, Review, ReviewComment, State

_STATES = {"COMMENT": "COMMENTED", "APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}
_THREAD = "Pull request review thread"
_NO_HUNK = f"{_THREAD} diff hunk can't be blank"
_SAME_HUNK = f"{_THREAD} start line must be part of the same hunk as the line."


def _anchor(
    pull: Pull, comment: dict[str, Any]
) -> tuple[diffs.FileDiff, diffs.DiffLine, int | None]:
    """The file, end line and start line a comment anchors to, or GitHub's 422."""
    file = pull.files.get(comment["path"])
    if file is None:
        raise unprocessable(f"{_THREAD} path is invalid", _NO_HUNK)
    if "line" not in comment and "position" in comment:
        found = file.at_position(comment["position"])
        if found is None:
            raise unprocessable(f"{_THREAD} position is invalid", _NO_HUNK)
        return file, found, None
    end = (
        file.find(comment["line"], comment.get("side", diffs.RIGHT)) if "line" in comment else None
    )
    start_line = comment.get("start_line")
    if end is None:
        sentences = [f"{_THREAD} line must be part of the diff"]
        if start_line is not None:
            sentences.append(_SAME_HUNK)
        raise unprocessable(*sentences, _NO_HUNK)
    if start_line is not None:
        _check_start(file, end, start_line, comment.get("start_side", end.side))
    return file, end, start_line


def _check_start(file: diffs.FileDiff, end: diffs.DiffLine, start_line: int, side: str) -> None:
    if start_line >= end.line:
        raise unprocessable(f"{_THREAD} start line must precede the end line.")
    start = file.find(start_line, side)
    if start is None or start.hunk != end.hunk:
        raise unprocessable(_SAME_HUNK)


def _commit(pull: Pull, commit_id: str | None) -> str:
    if commit_id is None:
        return pull.head_sha
    if commit_id != pull.head_sha and commit_id not in pull.head_history:
        raise GitHubError(
            422, "Unprocessable Entity", errors=["The commitOID is not part of the pull request"]
        )
    return commit_id


def _new_comment(
    ctx: Ctx, pull: Pull, review_id: int, raw: dict[str, Any], commit: str
) -> ReviewComment:
    file, end, start_line = _anchor(pull, raw)
    now = ctx.state.clock.now()
    return ReviewComment(
        id=ctx.state.new_id(),
        pull=pull,
        review_id=review_id,
        user=ctx.user,
        body=raw["body"],
        path=file.path,
        line=end.line,
        side=end.side,
        start_line=start_line,
        start_side=raw.get("start_side", end.side) if start_line is not None else None,
        position=end.position,
        diff_hunk=file.diff_hunk(end),
        commit_id=commit,
        created_at=now,
        updated_at=now,
    )


def create_review(ctx: Ctx) -> Reply:
    """POST /pulls/{n}/reviews: all comments anchor, or the whole review is rejected."""
    pull, body = ctx.pull(), ctx.body or {}
    event = body.get("event")
    if event == "APPROVE":
        raise GitHubError(
            422,
            "Unprocessable Entity",
            errors=["GitHub Actions is not permitted to approve pull requests."],
        )
    text, raw_comments = body.get("body") or "", body.get("comments") or []
    if event in ("COMMENT", "REQUEST_CHANGES") and not text and not raw_comments:
        raise GitHubError(422, "Unprocessable Entity", errors=["Review body can't be blank"])
    too_long("PullRequestReview", text)
    for raw in raw_comments:
        too_long("PullRequestReviewComment", raw.get("body"))
    if event is None and any(
        r.state == "PENDING" and r.user == ctx.user for r in ctx.state.pull_reviews(pull)
    ):
        raise GitHubError(
            422,
            "Unprocessable Entity",
            errors=["User can only have one pending review per pull request"],
        )
    commit = _commit(pull, body.get("commit_id"))
    review_id = ctx.state.new_id()
    comments = [_new_comment(ctx, pull, review_id, raw, commit) for raw in raw_comments]
    submitted = None if event is None else ctx.state.clock.now()
    review = Review(
        review_id, pull, ctx.user, text, _STATES.get(event or "", "PENDING"), commit, submitted
    )
    ctx.state.reviews[review.id] = review
    ctx.state.review_comments.update((c.id, c) for c in comments)
    return Reply(200, shapes.review(ctx.api, review))


def list_reviews(ctx: Ctx) -> Reply:
    pull = ctx.pull()
    return Reply(items=[shapes.review(ctx.api, r) for r in ctx.state.pull_reviews(pull)])


def get_review(ctx: Ctx) -> Reply:
    return Reply(body=shapes.review(ctx.api, _review(ctx)))


def list_comments_for_review(ctx: Ctx) -> Reply:
    review = _review(ctx)
    comments = [c for c in ctx.state.pull_comments(review.pull) if c.review_id == review.id]
    return Reply(items=[_comment_json(ctx, c) for c in comments])


def _review(ctx: Ctx) -> Review:
    review = ctx.state.reviews.get(ctx.id("review_id"))
    if review is None or review.pull is not ctx.pull():
        raise not_found()
    return review


def list_review_comments(ctx: Ctx) -> Reply:
    """GET /pulls/{n}/comments with ``sort``, ``direction`` and ``since``."""
    comments = [c for c in ctx.state.pull_comments(ctx.pull()) if ctx.updated_since(c.updated_at)]
    updated = ctx.query.get("sort") == "updated"
    descending = ctx.query.get("direction") == "desc"
    comments.sort(
        key=lambda c: (c.updated_at if updated else c.created_at, c.id), reverse=descending
    )
    return Reply(items=[_comment_json(ctx, c) for c in comments])


def get_review_comment(ctx: Ctx) -> Reply:
    return Reply(body=_comment_json(ctx, _own_comment(ctx)))


def update_review_comment(ctx: Ctx) -> Reply:
    comment = _own_comment(ctx)
    too_long("PullRequestReviewComment", ctx.body["body"])
    comment.body, comment.updated_at = ctx.body["body"], ctx.state.clock.now()
    return Reply(body=_comment_json(ctx, comment))


def delete_review_comment(ctx: Ctx) -> Reply:
    del ctx.state.review_comments[_own_comment(ctx).id]
    return Reply(204)


def create_reply(ctx: Ctx) -> Reply:
    """POST /pulls/{n}/comments/{id}/replies: a reply joins the thread of its root comment."""
    pull = ctx.pull()
    parent = ctx.state.review_comments.get(ctx.id("comment_id"))
    if parent is None or parent.pull is not pull:
        raise not_found()
    reply = reply_to(ctx.state, parent, ctx.body["body"], ctx.user)
    return Reply(
        201,
        _comment_json(ctx, reply),
        location=f"{ctx.api}/repos/{pull.repo.full_name}/pulls/comments/{reply.id}",
    )


def create_review_comment(ctx: Ctx) -> Reply:
    """POST /pulls/{n}/comments: one comment, in a review of its own (or a reply)."""
    pull, body = ctx.pull(), ctx.body
    too_long("PullRequestReviewComment", body["body"])
    if "in_reply_to" in body:
        parent = ctx.state.review_comments.get(body["in_reply_to"])
        if parent is None or parent.pull is not pull:
            raise not_found()
        comment = reply_to(ctx.state, parent, body["body"], ctx.user)
    else:
        commit = _commit(pull, body["commit_id"])
        review = Review(
            ctx.state.new_id(), pull, ctx.user, "", "COMMENTED", commit, ctx.state.clock.now()
        )
        comment = _new_comment(ctx, pull, review.id, body, commit)
        ctx.state.reviews[review.id] = review
        ctx.state.review_comments[comment.id] = comment
    return Reply(
        201,
        _comment_json(ctx, comment),
        location=f"{ctx.api}/repos/{pull.repo.full_name}/pulls/comments/{comment.id}",
    )


def reply_to(state: State, parent: ReviewComment, body: str, user: Any) -> ReviewComment:
    """Store a reply to PARENT's thread (a reply to a reply joins the same thread)."""
    root = state.review_comments.get(parent.in_reply_to_id or parent.id, parent)
    now = state.clock.now()
    review = Review(state.new_id(), root.pull, user, "", "COMMENTED", root.pull.head_sha, now)
    state.reviews[review.id] = review
    reply = ReviewComment(
        id=state.new_id(),
        pull=root.pull,
        review_id=review.id,
        user=user,
        body=body,
        path=root.path,
        line=root.line,
        side=root.side,
        start_line=root.start_line,
        start_side=root.start_side,
        position=root.position,
        diff_hunk=root.diff_hunk,
        commit_id=root.commit_id,
        created_at=now,
        updated_at=now,
        in_reply_to_id=root.id,
    )
    state.review_comments[reply.id] = reply
    return reply


def _own_comment(ctx: Ctx) -> ReviewComment:
    comment = ctx.state.review_comments.get(ctx.id("comment_id"))
    if comment is None or comment.pull.repo is not ctx.repo():
        raise not_found()
    return comment


def _comment_json(ctx: Ctx, comment: ReviewComment) -> dict[str, Any]:
    return shapes.review_comment(ctx.api, comment, outdated=is_outdated(comment))


def is_outdated(comment: ReviewComment) -> bool:
    """Outdated: made on an earlier head, and its anchor is no longer in the current diff.

    GitHub decides by whether the hunk's text changed; the fake has no file contents, so
    it uses the anchor's presence in the diff instead.
    """
    if comment.commit_id == comment.pull.head_sha or comment.line is None:
        return False
    file = comment.pull.files.get(comment.path)
    return file is None or file.find(comment.line, comment.side or diffs.RIGHT) is None


HANDLERS: dict[str, Handler] = {
    "pulls/create-review": create_review,
    "pulls/list-reviews": list_reviews,
    "pulls/get-review": get_review,
    "pulls/list-comments-for-review": list_comments_for_review,
    "pulls/list-review-comments": list_review_comments,
    "pulls/get-review-comment": get_review_comment,
    "pulls/update-review-comment": update_review_comment,
    "pulls/delete-review-comment": delete_review_comment,
    "pulls/create-reply-for-review-comment": create_reply,
    "pulls/create-review-comment": create_review_comment,
}
