"""Handlers for repositories, pull requests, commits and issue comments; the routing table."""

from __future__ import annotations

from . import checks, reviews, shapes
from .protocol import Ctx, GitHubError, Handler, Reply, not_found, too_long
from .state import IssueComment

# GitHub's caps on the diff media type (beyond them: 406, use the files endpoint instead).
_DIFF_MAX_FILES = 300
_FILES_MAX = 3000


def get_user(ctx: Ctx) -> Reply:
    # An installation token (GITHUB_TOKEN) is not a user.
    raise GitHubError(403, "Resource not accessible by integration")


def get_repo(ctx: Ctx) -> Reply:
    return Reply(body=shapes.repo(ctx.api, ctx.repo()))


def get_pull(ctx: Ctx) -> Reply:
    """GET /pulls/{n}; with ``Accept: application/vnd.github.diff`` the diff text."""
    pull = ctx.pull()
    if "diff" not in ctx.accept:
        return Reply(body=shapes.pull(ctx.api, ctx.state, pull))
    if pull.diff_too_large or len(pull.files) > _DIFF_MAX_FILES:
        message = (
            f"Sorry, the diff exceeded the maximum number of files ({_DIFF_MAX_FILES}). Consider "
            "using 'List pull requests files' API or locally cloning the repository instead."
        )
        error = {"resource": "PullRequest", "field": "diff", "code": "too_large"}
        raise GitHubError(406, message, errors=[error])
    return Reply(text=pull.diff, headers={"Content-Type": "text/plain; charset=utf-8"})


def list_files(ctx: Ctx) -> Reply:
    pull = ctx.pull()
    files = list(pull.files.values())[:_FILES_MAX]
    return Reply(items=[shapes.pull_file(ctx.api, pull, f) for f in files])


def get_commit(ctx: Ctx) -> Reply:
    repo, ref = ctx.repo(), ctx.params["ref"]
    sha = ctx.state.resolve(repo, ref)
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}")
    return Reply(body=shapes.commit(ctx.api, repo, sha))


def list_issue_comments(ctx: Ctx) -> Reply:
    pull = ctx.pull("issue_number")
    comments = ctx.state.conversation(pull.repo, pull.number)
    shown = [shapes.issue_comment(ctx.api, c) for c in comments if ctx.updated_since(c.updated_at)]
    return Reply(items=shown)


def create_issue_comment(ctx: Ctx) -> Reply:
    pull = ctx.pull("issue_number")
    # Observed: issue comments report the limit with code "unprocessable" on field "data".
    too_long("IssueComment", ctx.body["body"], code="unprocessable", field="data")
    comment = ctx.state.add_issue_comment(pull.repo, pull.number, ctx.body["body"], ctx.user)
    return Reply(
        201, shapes.issue_comment(ctx.api, comment), location=_issue_comment_url(ctx, comment)
    )


def get_issue_comment(ctx: Ctx) -> Reply:
    return Reply(body=shapes.issue_comment(ctx.api, _issue_comment(ctx)))


def update_issue_comment(ctx: Ctx) -> Reply:
    comment = _issue_comment(ctx)
    too_long("IssueComment", ctx.body["body"], code="unprocessable", field="data")
    comment.body, comment.updated_at = ctx.body["body"], ctx.state.clock.now()
    return Reply(body=shapes.issue_comment(ctx.api, comment))


def delete_issue_comment(ctx: Ctx) -> Reply:
    del ctx.state.issue_comments[_issue_comment(ctx).id]
    return Reply(204)


def _issue_comment(ctx: Ctx) -> IssueComment:
    comment = ctx.state.issue_comments.get(ctx.id("comment_id"))
    if comment is None or comment.repo is not ctx.repo():
        raise not_found()
    return comment


def _issue_comment_url(ctx: Ctx, comment: IssueComment) -> str:
    return f"{ctx.api}/repos/{comment.repo.full_name}/issues/comments/{comment.id}"


HANDLERS: dict[str, Handler] = {
    "users/get-authenticated": get_user,
    "repos/get": get_repo,
    "repos/get-commit": get_commit,
    "pulls/get": get_pull,
    "pulls/list-files": list_files,
    "issues/list-comments": list_issue_comments,
    "issues/create-comment": create_issue_comment,
    "issues/get-comment": get_issue_comment,
    "issues/update-comment": update_issue_comment,
    "issues/delete-comment": delete_issue_comment,
    **reviews.HANDLERS,
    **checks.HANDLERS,
}
