"""GitLab's Code Quality report, for ``artifacts: reports: codequality:``.

A JSON array of issues in the subset of the Code Climate spec that GitLab reads
(https://docs.gitlab.com/ci/testing/code_quality/): ``description``, ``check_name``,
``fingerprint``, ``severity`` and ``location`` (``path``, ``lines.begin``). The issues are the
findings the action's check run annotates: new escapes are ``major``, indirect ones (caused by
a change elsewhere, not failing) ``info``. Fixed and accepted findings are not issues, nor are
findings outside the repository.

An issue's line is where the change introduces the escape (``Finding.anchor_line``), its path
relative to the repository root. GitLab tells issues apart between pipelines by fingerprint:
``escape_guard.fingerprints`` hashes a finding's status and identity, never its line, so an
issue keeps its fingerprint when code above it moves, and identical escapes get ``.1``,
``.2`` … in line order.
"""

from __future__ import annotations

import json
from typing import Any

from escape_guard.fingerprints import fingerprinted
from escape_guard.model import Finding, Report, Status
from escape_guard.render.findings import message, on_lines, rule


def render(report: Report) -> str:
    """The report as a Code Quality JSON array, indented, ending with a newline."""
    return json.dumps(to_list(report), indent=2, ensure_ascii=False) + "\n"


def to_list(report: Report) -> list[dict[str, Any]]:
    """The Code Quality issues as JSON-ready data."""
    return [_issue(finding, key) for key, finding in fingerprinted(on_lines(report))]


def _issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "description": message(finding, explained=False),
        "check_name": rule(finding),
        "fingerprint": fingerprint,
        "severity": "info" if finding.status is Status.INDIRECT else "major",
        "location": {"path": finding.record.path, "lines": {"begin": finding.anchor_line}},
    }
