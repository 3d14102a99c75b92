"""The pull-request review: one per run at most, and none when it would say nothing new.

1. Read the bot's earlier inline comments (``GET /pulls/{n}/comments``) and reviews: an
   escape whose fingerprint was commented or listed before is not said again.
2. Comments whose escape is gone are deleted, or, when someone replied, marked resolved.
3. The rest are checked against the diff's hunks (``GET /pulls/{n}/files``): comments go on
   commentable lines up to the limit, everything else is listed in the body.
4. One review, event COMMENT, on the head commit. If GitHub still rejects a comment (422),
   the review is sent again once with everything in its body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from escape_guard.fingerprints import fingerprinted
from escape_guard.model import Finding, Report, Status
from escape_guard.publish import hunks
from escape_guard.publish.client import Api, ApiFailure
from escape_guard.publish.fingerprints import FINDING, RESOLVED, REVIEW, markers
from escape_guard.publish.reviewbody import Item, Section, comment_body, resolved_body, review_body

_OUTSIDE = "not on a line of this diff"
_REJECTED = "on lines GitHub did not accept comments on"


class ReviewResult(NamedTuple):
    review_id: int | None  # None: nothing new to say
    inline_comments: int
    deleted: int
    resolved: int
    # Every finding with an inline comment of the bot's on the pull request after this run
    # (posted now or earlier): other surfaces of the Files tab need not show it again.
    commented: frozenset[Finding] = frozenset()


class ReviewOptions(NamedTuple):
    head_sha: str
    max_inline: int = 20
    include_indirect: bool = False
    run_url: str = ""


class Plan(NamedTuple):
    inline: list[Item]
    sections: list[Section]
    praise: list[Item]


class _Thread(NamedTuple):
    """One of the bot's inline comments (the first comment of its thread)."""

    id: int
    fingerprint: str
    body: str
    active: bool  # False once marked resolved


def publish_review(
    api: Api,
    repo_path: str,
    number: int,
    report: Report,
    options: ReviewOptions,
    *,
    log: Callable[[str], None],
) -> ReviewResult:
    """Tidy the bot's earlier comments, then post what is new, if anything."""
    return _Review(api, repo_path, number, options, log).run(report)


def pull_lists(repo_path: str, number: int) -> list[str]:
    """What a review run reads of the pull request: its comments, reviews and files."""
    pull_path = f"{repo_path}/pulls/{number}"
    return [f"{pull_path}/{name}" for name in ("comments", "reviews", "files")]


def plan_comments(
    fresh: Sequence[Item], praise: Sequence[Item], lines: hunks.Commentable, *, max_inline: int
) -> Plan:
    """Which findings go inline and which are listed in the body, and why."""
    placeable = [
        (fp, f) for fp, f in fresh if hunks.can_comment(lines, f.record.path, f.anchor_line)
    ]
    placed = {fp for fp, _ in placeable}
    outside = [(fp, f) for fp, f in fresh if fp not in placed]
    inline, over = placeable[:max_inline], placeable[max_inline:]
    noun = "inline comment" if max_inline == 1 else "inline comments"
    beyond = f"beyond the limit of {max_inline} {noun}"
    return Plan(inline, [Section(_OUTSIDE, outside), Section(beyond, over)], list(praise))


class _Review:
    """One review run on one pull request."""

    def __init__(
        self,
        api: Api,
        repo_path: str,
        number: int,
        options: ReviewOptions,
        log: Callable[[str], None],
    ) -> None:
        self.api, self.repo_path, self.options, self.log = api, repo_path, options, log
        self.pull_path = f"{repo_path}/pulls/{number}"
        self.comments, self.reviews, self.files = pull_lists(repo_path, number)

    def run(self, report: Report) -> ReviewResult:
        statuses = (Status.NEW, Status.INDIRECT) if self.options.include_indirect else (Status.NEW,)
        current = fingerprinted(report.with_status(*statuses))
        comments = list(self.api.get_list(self.comments))
        threads = _threads(comments)
        deleted, resolved = self._tidy(threads, _replied(comments), {fp for fp, _ in current})
        said = {t.fingerprint for t in threads if t.active}
        earlier = frozenset(f for fp, f in current if fp in said)
        said |= _listed(self.api.get_list(self.reviews))
        fresh = [(fp, f) for fp, f in current if fp not in said]
        praise = [(fp, f) for fp, f in fingerprinted(report.fixed) if fp not in said]
        if not fresh and not praise:
            self.log("escape-guard: the review has nothing new to say; no review posted")
            return ReviewResult(None, 0, deleted, resolved, earlier)
        lines = hunks.commentable(self.api.get_list(self.files))
        plan = plan_comments(fresh, praise, lines, max_inline=self.options.max_inline)
        review_id, inline = self._post(report, plan)
        self.log(f"escape-guard: posted review {review_id} with {inline} inline comment(s)")
        posted = frozenset(f for _, f in plan.inline) if inline else frozenset()
        return ReviewResult(review_id, inline, deleted, resolved, earlier | posted)

    def _tidy(
        self, threads: Sequence[_Thread], replied: set[int], current: set[str]
    ) -> tuple[int, int]:
        """Delete the bot's comments on escapes that are gone; mark threads with replies."""
        deleted = resolved = 0
        for thread in threads:
            if not thread.active or thread.fingerprint in current:
                continue
            path = f"{self.repo_path}/pulls/comments/{thread.id}"
            if thread.id in replied:
                body = resolved_body(thread.fingerprint, thread.body, self.options.head_sha)
                self.api.patch(path, {"body": body})
                resolved += 1
            else:
                _delete(self.api, path)
                deleted += 1
        return deleted, resolved

    def _post(self, report: Report, plan: Plan) -> tuple[int, int]:
        try:
            return self._create(report, plan), len(plan.inline)
        except ApiFailure as failure:
            if failure.status != 422 or not plan.inline:
                raise
            self.log(
                f"escape-guard: GitHub refused the inline comments ({failure.message}); "
                "posting them in the review body instead"
            )
        body_only = Plan([], [Section(_REJECTED, plan.inline), *plan.sections], plan.praise)
        return self._create(report, body_only), 0

    def _create(self, report: Report, plan: Plan) -> int:
        body = review_body(
            report,
            inline=len(plan.inline),
            sections=plan.sections,
            praise=plan.praise,
            run_url=self.options.run_url,
        )
        comments = [
            {
                "path": f.record.path,
                "line": f.anchor_line,
                "side": "RIGHT",
                "body": comment_body(fp, f),
            }
            for fp, f in plan.inline
        ]
        request = {
            "commit_id": self.options.head_sha,
            "event": "COMMENT",
            "body": body,
            "comments": comments,
        }
        return int(self.api.post(f"{self.pull_path}/reviews", request)["id"])


def _threads(comments: Iterable[dict[str, Any]]) -> list[_Thread]:
    threads = []
    for comment in comments:
        body = str(comment.get("body") or "")
        if comment.get("in_reply_to_id"):
            continue  # the bot never replies; a reply quoting a marker is someone else's
        for kind, active in ((FINDING, True), (RESOLVED, False)):
            found = markers(body, kind)
            if found:
                threads.append(_Thread(int(comment["id"]), found[0], body, active))
                break
    return threads


def _replied(comments: Iterable[dict[str, Any]]) -> set[int]:
    return {int(c["in_reply_to_id"]) for c in comments if c.get("in_reply_to_id")}


def _delete(api: Api, path: str) -> None:
    try:
        api.delete(path)
    except ApiFailure as failure:
        if failure.status != 404:  # already gone: someone deleted it meanwhile
            raise


def _listed(reviews: Iterable[dict[str, Any]]) -> set[str]:
    """Fingerprints the bot's earlier reviews listed in their bodies."""
    return {fp for review in reviews for fp in markers(str(review.get("body") or ""), REVIEW)}
