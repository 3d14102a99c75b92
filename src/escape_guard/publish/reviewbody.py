"""The text of the review: its inline comments, its body, and a comment once resolved.

Pure functions over fingerprinted findings; ``review`` decides what to say and sends it.
The body lists no findings: the summary comment holds the lists, and the body says how many
of which kind are there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from escape_guard.judgement.suppress import DIRECTIVE
from escape_guard.model import Finding, Report
from escape_guard.publish.fingerprints import FINDING, RESOLVED, REVIEW, marker, without_markers
from escape_guard.render.markdown import MAX_CHARS, headline, inline_comment
from escape_guard.render.mdsafe import code_span, details, shorten

Item = tuple[str, Finding]  # (fingerprint, finding)
LISTED = "the summary comment and the job summary"
_MARKER_BUDGET = 40_000  # ~3,600 fingerprints; escapes beyond them are listed again later


class Section(NamedTuple):
    """Findings not commented inline, and why ("not on a line of this diff")."""

    heading: str
    items: Sequence[Item]


def comment_body(fingerprint: str, finding: Finding) -> str:
    """An inline comment: the renderer's text and the hidden fingerprint."""
    tag = marker(FINDING, [fingerprint])
    return shorten(inline_comment(finding), MAX_CHARS - len(tag) - 2) + "\n" + tag + "\n"


def resolved_body(fingerprint: str, old_body: str, head_sha: str) -> str:
    """An inline comment whose escape is gone: said so on top, the old text folded."""
    tag = marker(RESOLVED, [fingerprint])
    head = f"✅ **Resolved** in {code_span(head_sha[:7])}: this heap allocation is gone."
    old = without_markers(old_body).strip()
    room = MAX_CHARS - len(head) - len(details("Earlier comment", "")) - len(tag) - 8
    return f"{head}\n\n{details('Earlier comment', shorten(old, room))}\n\n{tag}\n"


def review_body(
    report: Report,
    *,
    inline: int,
    sections: Sequence[Section],
    praise: Sequence[Item],
    run_url: str = "",
    limit: int = MAX_CHARS,
) -> str:
    """The review's body: the headline, what is commented inline, and where the rest is.

    The summary comment (and the job summary) list every finding, so the body does not list
    them again: it says how many are where. Its marker still names the findings it speaks
    of, so a re-run does not post the same review again.
    """
    parts = [s for s in sections if s.items]
    lines = [_opening(report, inline), *(_elsewhere(len(s.items), s.heading) for s in parts)]
    lines.extend(line for line in (_indirect(report), _fixed(report, praise)) if line)
    listed = [fp for section in parts for fp, _ in section.items] + [fp for fp, _ in praise]
    tail = [p for p in (_accepted(report), link(run_url)) if p]
    body = "\n\n".join([*lines, *tail]) + "\n\n"
    return body + _review_marker(listed, limit - len(body) - 1) + "\n"


def link(run_url: str) -> str:
    """``[Workflow run](<url>)``, or nothing for a URL that is not plain http(s)."""
    url = run_url.strip()
    if not url.startswith(("https://", "http://")) or any(c in url for c in "<> \n\t"):
        return ""
    return f"[Workflow run](<{url}>)"


def _opening(report: Report, inline: int) -> str:
    lines = [f"**escape-guard** · {headline(report)}"]
    if inline:
        one = inline == 1
        noun, where = ("heap escape is", "its line") if one else ("heap escapes are", "their lines")
        lines.append(f"{inline} {noun} commented on {where}.")
    return "\n\n".join(lines)


def _elsewhere(count: int, why: str) -> str:
    noun = "heap escape is" if count == 1 else "heap escapes are"
    return f"{count} {noun} {why}, so not commented inline: see {LISTED}."


def _indirect(report: Report) -> str:
    count = len(report.indirect)
    if not count:
        return ""
    noun = "heap escape" if count == 1 else "heap escapes"
    return f"{count} indirect {noun} (caused by changes elsewhere; not failing): see {LISTED}."


def _fixed(report: Report, praise: Sequence[Item]) -> str:
    if not praise:
        return ""
    count = len(report.fixed)
    noun = "heap escape" if count == 1 else "heap escapes"
    return f"{count} fixed {noun}: see {LISTED}."  # the headline celebrates, when it may


def _accepted(report: Report) -> str:
    count = len(report.accepted)
    if not count:
        return ""
    noun = "escape is" if count == 1 else "escapes are"
    return f"{count} accepted heap {noun} listed in the summary comment ({code_span(DIRECTIVE)})."


def _review_marker(fingerprints: Sequence[str], room: int) -> str:
    kept: list[str] = []
    size = len(marker(REVIEW))
    budget = min(_MARKER_BUDGET, room)
    for fp in fingerprints:
        size += len(fp) + 1
        if size > budget:
            break
        kept.append(fp)
    return marker(REVIEW, kept)
