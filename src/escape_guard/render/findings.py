"""What the machine-readable formats say about one finding: its rule and its sentence.

SARIF, reviewdog's rdjson and GitLab Code Quality name the same two rules and word a
finding as the inline comment of the action does::

    New heap allocation in grab: `v` is moved to the heap. The address of `v` is stored …

``on_lines`` picks what the review-tool formats show, the findings the action's check run
annotates: new and indirect escapes on a line of a repository file, placed where the change
introduces them (``Finding.anchor_line``).
"""

from __future__ import annotations

from escape_guard.model import Finding, Kind, Report, Status, sort_findings
from escape_guard.records.hints import hint, subject

# The project's home page; update it together with the README when it moves.
HOME_URL = "https://github.com/escape-guard/escape-guard"
WHY_URL = "https://go.dev/doc/faq#stack_or_heap"
NEW_RULE, INDIRECT_RULE = "new-heap-escape", "indirect-heap-escape"


def rule(finding: Finding) -> str:
    """``indirect-heap-escape`` for an indirect finding, else ``new-heap-escape``."""
    return INDIRECT_RULE if finding.status is Status.INDIRECT else NEW_RULE


def message(finding: Finding, *, explained: bool = True) -> str:
    """The finding in a sentence and its hint; then the compiler's explanation if ``explained``."""
    record = finding.record
    where = f" in {record.function}" if record.function else ""
    if not record.expression:
        what = f"the compiler reports `{record.message}`."
    elif record.kind is Kind.MOVED:
        what = f"{subject(record, finding.source)} is moved to the heap."
    else:
        what = f"{subject(record, finding.source)} escapes to the heap."
    indirect = finding.status is Status.INDIRECT
    title = "Heap allocation caused elsewhere" if indirect else "New heap allocation"
    parts = (f"{title}{where}: {what}", hint(record), heat_sentence(finding))
    text = " ".join(part for part in parts if part)
    if explained and record.explanation:
        text += "\n\nCompiler's explanation:\n" + "\n".join(record.explanation)
    return text


def heat_sentence(finding: Finding) -> str:
    """``Heat: in `(*T).f`, 12.4% of CPU samples (cumulative), 3.1% flat.``; "" without one."""
    if finding.heat is None:
        return ""
    return f"Heat: {finding.heat.sentence(finding.record.function)}."


def on_lines(report: Report) -> list[Finding]:
    """The new and indirect findings on a line of a repository file, in presentation order."""
    found = sort_findings(report.with_status(Status.NEW, Status.INDIRECT))
    return [f for f in found if f.record.in_repo and f.record.path and f.anchor_line > 0]
