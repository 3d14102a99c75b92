"""Final verdicts: attributing escapes to the change, then accepting or ignoring them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from escape_guard.config import Config
from escape_guard.diffmap import LineMap
from escape_guard.judgement.suppress import DIRECTIVE, misspelled, suppression
from escape_guard.model import EscapeRecord, Finding, Status
from escape_guard.sources import SourceCache


def attribute(
    finding: Finding, linemap: LineMap, head: SourceCache, base: SourceCache | None = None
) -> Finding:
    """Blame an escape on an unchanged line on the change in its own function.

    The compiler reports ``moved to heap: x`` at x's declaration; when that line is
    unchanged but an added line of the same function takes x's address, that change
    is what makes x escape: the finding is new, anchored on the added line. The
    evidence is the -m=2 flow when there is one, else the variable's name on an
    added line of the function. Without evidence the finding stays indirect.

    The mirror, with ``base``: an escape gone from an unchanged declaration is fixed
    when a removed or edited line of its function (in the base) named it (``sink = &x``
    deleted); without evidence it stays gone from an unchanged line, not fixed.
    """
    record = finding.record
    if finding.status is Status.INDIRECT_FIXED and base is not None and record.function:
        function = _top_level(record.function)
        lines = base.read(record.path)
        removed = [
            line
            for line in range(1, len(lines) + 1)
            if linemap.new_line(record.path, line) is None
            and base.function_at(record.path, line) == function
        ]
        fixed = _cause(record, removed, lines)
        return finding._replace(status=Status.FIXED) if fixed else finding
    if finding.status is not Status.INDIRECT or not record.function:
        return finding
    function = _top_level(record.function)
    added = [
        line
        for line in sorted(linemap.added_lines(record.path))
        if head.function_at(record.path, line) == function
    ]
    cause = _cause(record, added, head.read(record.path))
    return finding._replace(status=Status.NEW, anchor=cause) if cause else finding


def _top_level(function: str) -> str:
    # -m=2 names closures after the compiler ("Keep.func#"); the source index knows "Keep".
    return function.split(".func", 1)[0]


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")


def _cause(record: EscapeRecord, added: Sequence[int], lines: Sequence[str]) -> int:
    if record.explanation:
        for step in record.explanation:
            _, sep, position = step.rpartition(" at ")
            path, _, rest = position.partition(":")
            line = rest.split(":", 1)[0]
            if sep and path == record.path and line.isdigit() and int(line) in added:
                return int(line)
        return 0
    if not _IDENTIFIER.match(record.expression):
        return 0
    word = re.compile(rf"\b{re.escape(record.expression)}\b")
    for number in added:
        if 0 < number <= len(lines) and word.search(lines[number - 1].split("//", 1)[0]):
            return number
    return 0


def verdict(finding: Finding, config: Config, head: SourceCache, base: SourceCache) -> Finding:
    record = finding.record
    from_base = finding.status in (Status.FIXED, Status.INDIRECT_FIXED)
    lines = (base if from_base else head).read(record.path)
    source = lines[record.line - 1].strip() if 0 < record.line <= len(lines) else ""
    finding = finding._replace(source=source)
    if finding.status not in (Status.NEW, Status.INDIRECT):
        return finding
    ignored = config.ignores(record)
    if ignored:
        return finding._replace(status=Status.IGNORED, reason=ignored)
    reason = suppression(lines, record.line)
    if reason is not None:
        return finding._replace(
            status=Status.ACCEPTED, reason=reason or "//escape-guard:ignore comment"
        )
    accepted = config.accepts(record)
    if accepted:
        return finding._replace(status=Status.ACCEPTED, reason=accepted)
    return finding


def directive_notes(findings: Iterable[Finding], head: SourceCache) -> list[str]:
    """A note for each near-miss directive that left a new or indirect escape unaccepted."""
    notes = []
    for finding in findings:
        record = finding.record
        if finding.status not in (Status.NEW, Status.INDIRECT):
            continue
        wrong = misspelled(head.read(record.path), record.line)
        if wrong:
            notes.append(
                f'{record.path}:{record.line}: "{wrong}" is not escape-guard\'s directive, so '
                f"the escape there is not accepted: write {DIRECTIVE}"
            )
    return list(dict.fromkeys(notes))
