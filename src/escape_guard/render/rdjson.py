"""reviewdog's Diagnostic JSON (rdjson), to pipe into ``reviewdog -f=rdjson``.

One ``DiagnosticResult`` of reviewdog's Diagnostic Format (``proto/rdf/reviewdog.proto`` in
reviewdog's repository). Its diagnostics are the findings the action's check run annotates:
new escapes, which fail the check, are ``ERROR``s (reviewdog's ``-fail-level=error`` fails on
them alone); indirect ones, caused by a change elsewhere and not failing, are ``INFO``. Fixed
and accepted findings are not diagnostics, and neither are findings outside the repository,
which have no line to be shown on.

A diagnostic sits where the action's inline comment goes: on the changed line that introduces
the escape (``Finding.anchor_line``), so that reviewdog's default ``-filter-mode=added`` keeps
a ``moved to heap`` the compiler reports at an unchanged declaration. Paths are relative to the
repository root. Columns are the compiler's, 1-based in UTF-8 bytes as reviewdog counts them,
and given only when the diagnostic is on the record's own line.
"""

from __future__ import annotations

import json
from typing import Any

from escape_guard.model import Finding, Report, Status
from escape_guard.render.findings import HOME_URL, WHY_URL, message, on_lines, rule

SOURCE = {"name": "escape-guard", "url": HOME_URL}
ERROR, INFO = "ERROR", "INFO"


def render(report: Report) -> str:
    """The report as an rdjson ``DiagnosticResult``, indented JSON ending with a newline."""
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def to_dict(report: Report) -> dict[str, Any]:
    """The ``DiagnosticResult`` as JSON-ready data."""
    diagnostics = [_diagnostic(finding) for finding in on_lines(report)]
    failing = any(d["severity"] == ERROR for d in diagnostics)
    return {"source": SOURCE, "severity": ERROR if failing else INFO, "diagnostics": diagnostics}


def _diagnostic(finding: Finding) -> dict[str, Any]:
    record = finding.record
    return {
        "message": message(finding),
        "location": {"path": record.path, "range": {"start": _start(finding)}},
        "severity": INFO if finding.status is Status.INDIRECT else ERROR,
        "source": SOURCE,
        "code": {"value": rule(finding), "url": WHY_URL},
        "original_output": f"{record.path}:{record.line}:{record.column}: {record.message}",
    }


def _start(finding: Finding) -> dict[str, int]:
    record = finding.record
    start = {"line": finding.anchor_line}
    if finding.anchor_line == record.line and record.column >= 1:
        start["column"] = record.column
    return start
