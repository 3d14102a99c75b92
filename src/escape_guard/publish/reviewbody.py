"""The text of the review: its inline comments, its body, and a comment once resolved.

Pure functions over fingerprinted findings; ``review`` decides what to say and sends it.
Every body stays within GitHub's 65,536 characters: lists that do not fit end with
"… and N more".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from escape_guard.model import Finding, Report, Status
from escape_guard.publish.fingerprints import FINDING, RESOLVED, REVIEW, marker, without_markers
from escape_guard.render.markdown import (
    MAX_CHARS,
    fixed_heading,
    headline,
    inline_comment,
    list_item,
)
from escape_guard.render.mdsafe import code_span, details, shorten
from escape_guard.suppress import DIRECTIVE

Item = tuple[str, Finding]  # (fingerprint, finding)
_MARKER_BUDGET = 40_000  # ~3,600 fingerprints; escapes beyond them are listed again later


class Section(NamedTuple):
    """A list in the review body: why its findings are listed rather than commented."""

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
    """The review's body: the headline, what is commented inline, the listed findings."""
    parts = [s for s in sections if s.items]
    if praise:
        parts.append(Section(fixed_heading(report), praise))
    listed = [fp for section in parts for fp, _ in section.items]
    tail = "\n\n".join(p for p in (_accepted(report), link(run_url), _review_marker(listed)) if p)
    return _fit(_opening(report, inline), parts, tail + "\n", limit)


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


def _accepted(report: Report) -> str:
    count = len(report.accepted)
    if not count:
        return ""
    noun = "escape is" if count == 1 else "escapes are"
    return f"{count} accepted heap {noun} listed in the summary comment ({code_span(DIRECTIVE)})."


def _review_marker(fingerprints: Sequence[str]) -> str:
    kept: list[str] = []
    size = len(marker(REVIEW))
    for fp in fingerprints:
        size += len(fp) + 1
        if size > _MARKER_BUDGET:
            break
        kept.append(fp)
    return marker(REVIEW, kept)


def _item(item: Item) -> str:
    _, finding = item
    text = list_item(finding)
    if finding.status is Status.INDIRECT:
        return "- *Indirect:* " + text.removeprefix("- ")
    return text


def _fit(opening: str, sections: Sequence[Section], tail: str, limit: int) -> str:
    """Show as many items as fit, in order; a section cut short ends "… and N more"."""
    rendered = [[_item(i) for i in s.items] for s in sections]
    shown = [0] * len(sections)
    # With nothing shown every section says "… and N more" at its longest; each item
    # shown costs its length and a newline, so the estimate never undershoots.
    budget = limit - len(_join(opening, sections, rendered, shown, tail))
    for index, items in enumerate(rendered):
        for text in items:
            if len(text) + 1 > budget:
                return _join(opening, sections, rendered, shown, tail)
            budget -= len(text) + 1
            shown[index] += 1
    return _join(opening, sections, rendered, shown, tail)


def _join(
    opening: str,
    sections: Sequence[Section],
    rendered: list[list[str]],
    shown: list[int],
    tail: str,
) -> str:
    blocks = [opening]
    for section, items, count in zip(sections, rendered, shown, strict=True):
        lines = items[:count]
        if count < len(items):
            lines.append(f"- … and {len(items) - count} more")
        blocks.append(section.heading + "\n\n" + "\n".join(lines))
    return "\n\n".join([*blocks, tail])
