"""The summary comment: exactly one per pull request, created once and edited in place.

The bot finds its comment by the hidden ``<!-- escape-guard:summary -->`` marker. A body that
did not change is not sent again; stray copies (two runs racing) are deleted.
"""

from __future__ import annotations

from collections.abc import Callable

from escape_guard.model import Report
from escape_guard.publish.client import Api
from escape_guard.publish.fingerprints import SUMMARY, has_marker, marker
from escape_guard.publish.reviewbody import link
from escape_guard.render.links import Links
from escape_guard.render.markdown import MAX_CHARS, render
from escape_guard.render.mdsafe import fenced, shorten

FAILURE_HEADLINE = "escape-guard could not compare the revisions"
_FAILURE_LINES = 200


def summary_body(
    report: Report, *, run_url: str = "", limit: int = MAX_CHARS, links: Links | None = None
) -> str:
    """The marker, the rendered report and the run link, within LIMIT characters."""
    head, tail = marker(SUMMARY) + "\n\n", _tail(run_url)
    body = render(report, max_chars=limit - len(head) - len(tail), links=links)
    return head + body + tail


def failure_body(message: str, *, run_url: str = "", limit: int = MAX_CHARS) -> str:
    """What the summary says when the run could not compare (a build failure, say)."""
    head = f"{marker(SUMMARY)}\n\n### {FAILURE_HEADLINE}\n\n"
    tail = "\nNo escapes were compared in this run; the check fails.\n" + _tail(run_url)
    return head + failure_block(message, limit - len(head) - len(tail) - 1) + "\n" + tail


def failure_block(message: str, limit: int) -> str:
    """MESSAGE as a code block of at most LIMIT characters (the compiler's output, say)."""
    lines = message.splitlines() or [""]
    if len(lines) > _FAILURE_LINES:
        lines = [*lines[:_FAILURE_LINES], f"… and {len(lines) - _FAILURE_LINES} more lines"]
    text, room = "\n".join(lines), limit - 8
    block = fenced([shorten(text, room)])
    while len(block) > limit and room > 0:
        # The fence grows with the backticks inside: cut more until the block fits.
        room -= len(block) - limit
        block = fenced([shorten(text, room)])
    return block


def comments_path(repo_path: str, number: int) -> str:
    """The pull request's conversation: where the summary comment is."""
    return f"{repo_path}/issues/{number}/comments"


def publish_summary(
    api: Api, repo_path: str, number: int, body: str, *, log: Callable[[str], None]
) -> int:
    """Create or edit the one summary comment; its id."""
    path = comments_path(repo_path, number)
    ours = [c for c in api.get_list(path) if has_marker(str(c.get("body") or ""), SUMMARY)]
    if not ours:
        comment_id = int(api.post(path, {"body": body})["id"])
        log(f"escape-guard: created the summary comment {comment_id}")
        return comment_id
    first, *strays = ours
    comment_id = int(first["id"])
    if first.get("body") != body:
        api.patch(f"{repo_path}/issues/comments/{comment_id}", {"body": body})
        log(f"escape-guard: updated the summary comment {comment_id}")
    for stray in strays:
        api.delete(f"{repo_path}/issues/comments/{int(stray['id'])}")
    return comment_id


def _tail(run_url: str) -> str:
    shown = link(run_url)
    return f"\n{shown}\n" if shown else ""
