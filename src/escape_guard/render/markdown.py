"""GitHub-flavoured Markdown: the pull-request summary and the inline comments.

``render`` writes the summary a review body or a job summary shows;
``inline_comment`` the comment on one finding's line. Everything taken from
the code or the compiler goes through ``mdsafe``, so it cannot inject HTML,
close a block early or mention anyone. ``render`` keeps within GitHub's body
limit by showing fewer findings and saying how many it left out; every list keeps
a share of the room. Line breaks that matter are hard breaks (``BREAK``), so a
body reads the same where single newlines are breaks (comments) and where they are
not (the job summary, check runs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from escape_guard.judgement.suppress import DIRECTIVE
from escape_guard.model import (
    INDIRECT_FIXED_TITLE,
    EscapeRecord,
    Finding,
    Kind,
    Report,
    Revision,
    Status,
    by_heat,
)
from escape_guard.records.hints import hint
from escape_guard.records.hints import subject as escaping
from escape_guard.render.links import Links, position_url
from escape_guard.render.mdsafe import code_span, details, fenced, shorten, text

# A hard line break that renders the same with and without "single newlines are breaks"
# (comments have them, the job summary and check runs do not): a backslash before the newline.
BREAK = "\\\n"
MAX_CHARS = 65536  # GitHub's limit on issue, pull-request and review comment bodies
WHY_URL = "https://go.dev/doc/faq#stack_or_heap"
_MAX_EXPLANATION_LINES = 60
_MAX_CODE = 200  # longest code span shown; minified sources can have huge lines
_SHOWN_PACKAGES = 5

_TITLES = {
    Status.NEW: "New heap allocation",
    Status.INDIRECT: "Heap allocation caused elsewhere",
    Status.FIXED: "Fixed heap allocation",
    Status.ACCEPTED: "Accepted heap allocation",
}
_INDIRECT_NOTE = (
    "This line did not change: a change elsewhere in this pull request (in a function it "
    "calls, for example) makes it escape now. It does not fail the check."
)
_INDIRECT_INTRO = (
    "These lines did not change: a change elsewhere in this pull request (in a function they "
    "call, for example) makes them escape now. They do not fail the check."
)
_ROWS = (
    (Status.NEW, "New"),
    (Status.INDIRECT, "Indirect (not failing)"),
    (Status.FIXED, "Fixed"),
    (Status.INDIRECT_FIXED, f"{INDIRECT_FIXED_TITLE} (not counted as fixed)"),
    (Status.ACCEPTED, "Accepted"),
    (Status.UNCHANGED, "Unchanged"),
)


class _List(NamedTuple):
    """A list section that can be cut short: head, the items shown, "… and N more", tail."""

    head: str
    items: list[str]
    tail: str = ""
    priority: int = 0  # lists with lower numbers get room first when the body is too long

    def block(self, shown: int) -> str:
        if not self.items:
            return ""
        lines = self.items[:shown]
        if shown < len(self.items):
            lines = [*lines, _more(len(self.items) - shown)]
        return self.head + "\n".join(lines) + self.tail


_Part = str | _List


def render(report: Report, *, max_chars: int = MAX_CHARS, links: Links | None = None) -> str:
    """The pull-request summary, at most ``max_chars`` characters long.

    With ``links`` (a repository on a GitHub server) every position links to its line.
    """
    parts = _parts(report, links)
    lists = [p for p in parts if isinstance(p, _List)]
    full = {id(p): len(p.items) for p in lists}
    body = _join(parts, full)
    if len(body) <= max_chars:
        return body
    return _fit(parts, lists, max_chars)


def headline(report: Report) -> str:
    """``1 new heap escape, 2 fixed``, ``No new heap escapes, 2 fixed 🎉`` and the like.

    A run with new escapes fails: it gets no celebration, whatever it fixed.
    """
    new, indirect, fixed = len(report.new), len(report.indirect), len(report.fixed)
    parts = [_count(new, "new heap escape") if new else "No new heap escapes"]
    if indirect:
        parts.append(f"{indirect} indirect")
    if fixed:
        parts.append(f"{fixed} fixed" + ("" if new else " 🎉"))
    return ", ".join(parts)


def inline_comment(finding: Finding) -> str:
    """The review comment for ``finding``'s line: what, why, the compiler's flow, what to do."""
    record = finding.record
    title = _TITLES.get(finding.status, "Heap allocation")
    first = f"**{title}**{_in(record)}: {_what(finding)}"
    why = hint(record, code=code_span) if finding.status is not Status.FIXED else ""
    blocks = [BREAK.join(line for line in (first, why, _heat(finding)) if line)]
    if finding.status is Status.INDIRECT:
        blocks.append(_INDIRECT_NOTE)
    if record.explanation and finding.status is not Status.FIXED:
        blocks.append(details("Compiler's explanation", _explanation(record.explanation)))
    blocks.append(_advice(finding))
    return "\n\n".join(blocks) + "\n"


def _advice(finding: Finding) -> str:
    if finding.status is Status.ACCEPTED:
        return f"Accepted: {_reason(finding)}."
    if finding.status is Status.FIXED:
        return "Nice work: one allocation fewer."
    return (
        f"Accept it with {code_span(DIRECTIVE)} on this line (a reason after it helps "
        f"reviewers), or see [why heap allocations cost]({WHY_URL})."
    )


def _reason(finding: Finding) -> str:
    reason = finding.reason.strip().rstrip(".")
    return text(reason) if reason else "no reason given"


def _explanation(lines: Sequence[str]) -> str:
    shown = list(lines[:_MAX_EXPLANATION_LINES])
    if len(lines) > len(shown):
        shown.append(f"… and {len(lines) - len(shown)} more lines")
    return fenced(shown)


def _parts(report: Report, links: Links | None) -> list[_Part]:
    def items(findings: list[Finding]) -> list[str]:
        return [_item(f, position_url(links, report, f), report) for f in by_heat(findings)]

    indirect = _count(len(report.indirect), "indirect heap escape") + " (not failing)"
    opening, closing = details(indirect, "\x00").split("\x00")
    return [
        f"### {headline(report)}",
        _table(report),
        _List("**New** — these fail the check:\n\n", items(report.new), priority=1),
        _List(f"{opening}{_INDIRECT_INTRO}\n\n", items(report.indirect), closing, priority=4),
        _List(f"{_fixed_heading(report)}\n\n", items(report.fixed), priority=3),
        _List("**Accepted:**\n\n", items(report.accepted), priority=2),
        _List("**Notes:**\n\n", [f"- {text(note)}" for note in report.notes], priority=0),
        _provenance(report),
        _timings(report),
    ]


def _fixed_heading(report: Report) -> str:
    """The heading of the fixed list; celebrating only when nothing new fails the run."""
    cheer = "" if report.new else " 🎉"
    return f"**Fixed**{cheer} — these no longer allocate:"


def _item(finding: Finding, url: str = "", report: Report | None = None) -> str:
    record = finding.record
    where = _code(f"{record.path or '<autogenerated>'}:{record.line}:{record.column}")
    if url:
        where = f"[{where}]({url})"
    lines = [f"- {where}{_in(record)}{_platforms(finding)}: {_what(finding)}"]
    if finding.source:
        lines.append("  " + _code(finding.source))
    if finding.heat:
        cold = report is not None and report.below_min_heat(finding)
        below = f" Below `--min-heat` {report.min_heat:g}%: not failing." if cold and report else ""
        lines.append(f"  {_heat(finding)}{below}")
    if finding.status is Status.ACCEPTED:
        lines.append(f"  Accepted: {_reason(finding)}.")
    elif finding.status is not Status.FIXED:
        why = hint(record, code=_code)
        lines.extend(["  " + why] if why else [])
    item = BREAK.join(lines)
    if record.explanation and finding.status in (Status.NEW, Status.INDIRECT):
        folded = details("Compiler's explanation", _explanation(record.explanation))
        # Indented into the list item; the blank line after it ends the HTML block.
        item += "\n\n" + "\n".join(f"  {line}" if line else "" for line in folded.split("\n"))
        item += "\n"
    return item


def _heat(finding: Finding) -> str:
    """``🔥 In `(*Encoder).encode`, 12.4% of CPU samples (cumulative), 3.1% flat.``"""
    heat = finding.heat
    if heat is None:
        return ""
    said = heat.sentence(finding.record.function)
    return f"🔥 {said[0].upper()}{said[1:]} (`{text(heat.profile)}`)."


def _what(finding: Finding) -> str:
    record, status = finding.record, finding.status
    if not record.expression:
        return f"the compiler reports {_code(record.message)}."
    subject = escaping(record, finding.source, code=_code)
    if status is Status.FIXED:
        return f"{subject} no longer escapes to the heap."
    if record.kind is Kind.MOVED:
        return f"{subject} is moved to the heap."
    return f"{subject} escapes to the heap."


def _in(record: EscapeRecord) -> str:
    return f" in {_code(record.function)}" if record.function else ""


def _platforms(finding: Finding) -> str:
    """Where the finding holds, when several platforms were built and it does not on all."""
    if not finding.platforms:
        return ""
    return f" (on {', '.join(_code(p) for p in finding.platforms)} only)"


def _code(value: str) -> str:
    return code_span(shorten(value, _MAX_CODE))


def _table(report: Report) -> str:
    if not report.findings:
        return ""
    rows = ["| | Escapes to heap | Moved to heap | Total |", "| :-- | --: | --: | --: |"]
    for status, label in _ROWS:
        found = report.with_status(status)
        if found or status is Status.NEW:
            escapes = sum(f.record.kind is Kind.ESCAPE for f in found)
            moved = sum(f.record.kind is Kind.MOVED for f in found)
            rows.append(f"| {label} | {escapes} | {moved} | {len(found)} |")
    return "\n".join(rows)


def _provenance(report: Report) -> str:
    parts = []
    if report.go_version:
        parts.append(f"Go {_code(report.go_version)}")
    if report.packages:
        shown = ", ".join(_code(p) for p in report.packages[:_SHOWN_PACKAGES])
        rest = len(report.packages) - _SHOWN_PACKAGES
        parts.append(f"packages {shown}" + (f" and {rest} more" if rest > 0 else ""))
    if report.platforms:
        parts.append("for " + ", ".join(_code(p) for p in report.platforms))
    parts.append(f"base {_rev(report.base)}")
    parts.append(f"merge base {_code(report.merge_base[:7])}")
    parts.append(f"head {_rev(report.head)}")
    return "Built with " + " · ".join(parts)


def _rev(revision: Revision) -> str:
    ref, sha, short = revision.ref, revision.sha, revision.sha[:7]
    if revision.on:
        return f"the working tree (uncommitted changes on top of {_code(revision.on[:7])})"
    if not ref or ref in (sha, short):
        return _code(short)
    return f"{_code(ref)} {_code(short)}"


def _timings(report: Report) -> str:
    if not report.timings:
        return ""
    phases = [f"{text(phase)} {_seconds(s)}" for phase, s in report.timings]
    total = sum(s for _, s in report.timings)
    return "Timings: " + " · ".join([*phases, f"total {_seconds(total)}"])


def _seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _more(n: int) -> str:
    return f"- … and {n} more"


def _join(parts: list[_Part], shown: dict[int, int]) -> str:
    blocks = [p.block(shown[id(p)]) if isinstance(p, _List) else p for p in parts]
    return "\n\n".join(b for b in blocks if b) + "\n"


def render_bytes(report: Report, *, max_bytes: int, links: Links | None = None) -> str:
    """``render`` within MAX_BYTES of UTF-8 (check runs and job summaries count bytes)."""
    return within_bytes(lambda chars: render(report, max_chars=chars, links=links), max_bytes)


def within_bytes(render_at: Callable[[int], str], limit: int) -> str:
    """Render with fewer characters until the UTF-8 text fits in LIMIT bytes."""
    chars = limit
    body = render_at(chars)
    while (size := len(body.encode())) > limit and chars > 0:
        # Scale by the bytes per character seen so far: close to the limit in a step or two.
        chars = min(chars - 1, chars * limit // size)
        body = render_at(chars)
    return body


def _fit(parts: list[_Part], lists: list[_List], max_chars: int) -> str:
    """Show as many items as fit; a list cut short ends "… and N more".

    The notes come first, whole. Then every list gets a fair share of the room (a short list
    all it needs, the long ones equal parts of the rest), so a long list of new escapes
    cannot squeeze the fixed ones out; room a list leaves unused goes by priority.
    """
    shown = {id(p): 0 for p in lists}
    # With no item shown, every non-empty list still says "… and N more" at full
    # length; each item shown costs its length plus a newline and can only
    # shorten that line, so the estimate never falls below the real size.
    budget = max_chars - len(_join(parts, shown))
    for part in (p for p in lists if p.priority == 0):
        budget -= _take(part, shown, budget)
    rest = sorted((p for p in lists if p.priority > 0), key=lambda p: p.priority)
    by_need = sorted(rest, key=lambda p: sum(len(item) + 1 for item in p.items))
    for index, part in enumerate(by_need):
        budget -= _take(part, shown, budget // (len(by_need) - index))
    for part in rest:
        budget -= _take(part, shown, budget)
    body = _join(parts, shown)
    if budget < 0 or len(body) > max_chars:
        return _too_long(parts, max_chars)
    return body


def _take(part: _List, shown: dict[int, int], allowance: int) -> int:
    """Show more of PART's items, in order, within ALLOWANCE characters; the room used."""
    used = 0
    for item in part.items[shown[id(part)] :]:
        if used + len(item) + 1 > allowance:
            break  # later items stay hidden too, so "… and N more" means the rest
        used += len(item) + 1
        shown[id(part)] += 1
    return used


def _too_long(parts: list[_Part], max_chars: int) -> str:
    first = parts[0] if isinstance(parts[0], str) else ""
    return shorten(f"{first}\n\nThe report is too long to show here.\n", max_chars)
